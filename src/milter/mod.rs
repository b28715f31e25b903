//! The engine behind the milter protocol, for Postfix and Sendmail 8.14+.
//!
//! The MTA keeps the message and its queue; courtesy only sees the
//! envelope, the headers and the body, runs the same engine as the relay
//! at the end of the message, and answers with header and body
//! modifications and `continue`. Mail it does not rewrite gets `continue`
//! and nothing else, so the MTA delivers it byte for byte.
//!
//! The protocol's message types and their wire encoding come from
//! `miltr-common` (MIT). The connection loop is our own rather than
//! `miltr-server`'s, because that loop answers every header and body chunk
//! even when the MTA was told to expect no reply, and has no read timeout,
//! packet limit or drain. indymilter, the most complete Rust milter, is
//! GPL-3.0: linking it would make courtesy a GPL work (see docs/MILTER.md).
//!
//! - [`frame`]: packet framing with a size limit (sans-IO).
//! - [`negotiate`]: events, no-reply flags, actions and macros agreed with the MTA.
//! - [`session`]: one conversation as a state machine (sans-IO).
//! - [`message`]: headers and body → message bytes; rewrite → modifications.
//! - [`server`]: listener, accept loop, permits, reload and drain.
//! - `connection`, `process`: the task per MTA connection and the end-of-message work.

mod connection;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod message;
pub mod negotiate;
mod process;
pub mod server;
pub mod session;

pub use server::{Listener, Milter, MilterError, MilterSettings, serve};
