//! courtesy: an outbound mail gateway that makes automatic replies and
//! anonymous team signatures courteous before they leave the firm.
//!
//! # Layout
//! Mail flows one way: receive (`smtp` | `milter` | `cli`) → `engine`
//! (`classify` → `plan` → `rewrite`) → forward → `audit`.
//!
//! - [`policy`]: loads, validates and indexes the house policy; every error carries `file:line:column`.
//! - [`envelope`]: the SMTP envelope that travels with a message (sender, recipients).
//! - [`classify`]: decides whether a message is an auto-reply and whether its new text ends in an anonymous team signature, with the signals that say why.
//! - [`plan`]: turns a classification and the policy into the text changes to make (salutation, substitute, promises, named team).
//! - [`rewrite`]: applies a plan to every text/plain and text/html part and splices the result into the original bytes.
//! - [`engine`]: the pure function from (message, envelope, policy) to an outcome; the one entry point relay, milter, CLI, tests and fuzzers share.
//! - [`config`]: the service configuration of the relay and the milter.
//! - [`directory`]: people from LDAP / Active Directory and CSV exports, merged with the policy's own people entries.
//! - [`dkim`]: keeps rewritten mail authentic: DKIM re-signing, ARC sealing, key generation.
//! - [`smtp`]: the before-queue SMTP relay with the upstream in lockstep.
//! - [`milter`]: the same engine behind the milter protocol for Postfix and Sendmail.
//! - [`pipeline`]: what relay and milter do alike with a received message: engine with a time limit, metrics, audit, policy-file watch.
//! - [`audit`]: writes, verifies and reports the hash-chained audit log.
//! - [`cli`]: the `courtesy` subcommands that are not servers.
//! - [`console`]: the management console in the browser (policy, preview, rewrites).
//! - [`listen`]: TCP listeners of the relay and the milter, with a backlog for bursts.
//! - [`live`]: the settings in force, swapped whole on reload, and why the last reload failed.
//! - [`metrics`], [`admin`]: Prometheus metrics and the `/metrics`, `/healthz` endpoint of the servers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod audit;
pub mod classify;
pub mod cli;
pub mod config;
pub mod console;
pub mod directory;
pub mod dkim;
pub mod engine;
pub mod envelope;
pub mod listen;
pub mod live;
pub mod metrics;
pub mod milter;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod rewrite;
pub mod smtp;
