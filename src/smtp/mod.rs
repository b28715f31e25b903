//! The before-queue SMTP relay: sessions, limits, TLS and the upstream in lockstep.
//!
//! The relay behaves like a Postfix `smtpd_proxy_filter`: it opens the
//! upstream transaction when the client sends MAIL, relays every RCPT and
//! returns the upstream's verdict, receives the whole message, runs the
//! engine, and answers DATA with the upstream's reply to the (possibly
//! rewritten) message. Nothing is queued: a message is accepted only when
//! the next hop accepted it.
//!
//! - [`command`], [`data`], [`session`]: the sans-IO protocol (bytes in, replies out).
//! - [`connection`]: the tokio task around one session.
//! - [`deliver`]: engine, audit and forward at the end of DATA.
//! - [`upstream`], [`dir_upstream`]: the next hop (SMTP server or outbox directory).
//! - [`reply`]: replies and the one temp-vs-perm decision.
//! - [`server`]: accept loop, connection permits, reload and shutdown.
//! - [`tls`], [`auth`]: STARTTLS and AUTH.

pub mod auth;
mod auth_limit;
pub mod command;
mod connection;
pub mod data;
mod deliver;
pub mod dir_upstream;
#[doc(hidden)]
pub mod fuzzing;
pub mod reply;
pub mod server;
pub mod session;
mod stuffing;
pub mod tls;
pub mod upstream;

pub use server::{Relay, RelayError, Settings, run, serve};
