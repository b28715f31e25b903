//! Writes, verifies and reports the hash-chained audit log.
//!
//! The relay and the milter see the log only through [`AuditSink`], so their
//! tests can use an in-memory sink and the file format stays this module's
//! business.
//!
//! - [`record`]: the record schema (one JSON object per line).
//! - [`chain`]: the chain hash (SHA-256 or HMAC-SHA256 over each line's bytes).
//! - [`writer`]: appends with fsync, rotates by day and size, resumes after a crash.
//! - [`verify`]: checks a chain across files and names the first break.
//! - [`query`]: reads records back for `courtesy audit show`.
//! - [`report`]: the compliance report (HTML and CSV).
//!
//! The format and the hash are specified in `docs/AUDIT.md`.

pub mod chain;
pub mod files;
pub mod query;
pub mod read;
pub mod record;
pub mod report;
pub mod sidebyside;
pub mod verify;
pub mod writer;

pub use writer::{AuditLog, Clock, SystemClock};

use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::Outcome;
use crate::envelope::Envelope;
use crate::policy::Policy;

/// How much of the text an audit record keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffMode {
    /// A unified diff of each rewritten part (default).
    #[default]
    Unified,
    /// Only the inserted and removed fragments.
    Fragments,
    /// No text at all: hashes, rules and signals only.
    None,
}

/// What the gateway does when the audit record cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnAuditFailure {
    /// Answer 451 and do not forward (default): compliance never misses a rewrite.
    #[default]
    Tempfail,
    /// Forward anyway and log the failure.
    Pass,
}

/// The `audit:` section of the service configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Directory holding the log files (one chain per instance).
    pub dir: PathBuf,
    /// Optional file with a secret key; turns the hash chain into an HMAC chain.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// How much text to keep.
    #[serde(default)]
    pub diff: DiffMode,
    /// Rotate daily (default true).
    #[serde(default = "default_true")]
    pub rotate_daily: bool,
    /// Rotate when a file passes this many bytes (default 64 MiB).
    #[serde(default = "default_rotate_bytes")]
    pub rotate_bytes: u64,
    /// What to do when a record cannot be written.
    #[serde(default)]
    pub on_failure: OnAuditFailure,
}

impl AuditConfig {
    /// A log in `dir` with every other setting at the default a
    /// configuration file gets when it names only `dir`.
    pub fn in_dir(dir: PathBuf) -> AuditConfig {
        AuditConfig {
            dir,
            key_file: None,
            diff: DiffMode::default(),
            rotate_daily: default_true(),
            rotate_bytes: default_rotate_bytes(),
            on_failure: OnAuditFailure::default(),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_rotate_bytes() -> u64 {
    64 * 1024 * 1024
}

/// One message's decision, as the forwarder hands it to the audit log before forwarding.
#[derive(Debug, Clone, Copy)]
pub struct MessageEntry<'a> {
    /// The `Message-ID` header, if the message has one.
    pub message_id: Option<&'a str>,
    /// Envelope sender and recipients.
    pub envelope: &'a Envelope,
    /// What the engine decided.
    pub outcome: &'a Outcome,
    /// The message as received.
    pub original: &'a [u8],
    /// The policy in force.
    pub policy: &'a Policy,
    /// What was done about DKIM signatures, when there was anything to do.
    pub dkim: Option<&'a record::DkimRecord>,
}

/// The upstream's final answer for a message recorded earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// SMTP reply code (e.g. 250, 451, 550); 0 when the connection failed.
    pub code: u16,
    /// Reply text as the upstream sent it, or the local error.
    pub text: String,
}

/// Errors writing or opening the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The file system refused.
    #[error("audit log {path}: {source}")]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file is missing, unreadable or empty.
    #[error("audit key file {path}: {reason}")]
    Key {
        /// Key file path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The instance name cannot be used in a file name.
    #[error(
        "instance name {0:?} cannot name audit files: use 1 to 64 letters, digits, '.', '_' or '-'"
    )]
    Instance(String),
}

/// Where forwarders write audit records. Implementations must be safe to
/// call from many sessions at once; calls block until the record is on disk
/// (fsync), so async callers run them on a blocking thread.
pub trait AuditSink: Send + Sync {
    /// Writes the decision record and returns its sequence number. Only
    /// called for outcomes where [`Outcome::is_auditable`] is true.
    fn record_message(&self, entry: &MessageEntry<'_>) -> Result<u64, AuditError>;
    /// Writes the upstream's verdict for the record `message_seq`.
    fn record_verdict(&self, message_seq: u64, verdict: &Verdict) -> Result<u64, AuditError>;
}

/// Opens the file-backed audit log for an instance.
///
/// Resumes the instance's chain from its newest file; a crash's torn last
/// line is left in place and sealed by a `recovery` record in a new file.
pub fn open(config: &AuditConfig, instance: &str) -> Result<Arc<dyn AuditSink>, AuditError> {
    Ok(Arc::new(AuditLog::open(config, instance)?))
}
