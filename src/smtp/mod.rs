//! The before-queue SMTP relay: sessions, limits, TLS and the upstream in lockstep.
