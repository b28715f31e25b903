//! Writes, verifies and reports the hash-chained audit log.
