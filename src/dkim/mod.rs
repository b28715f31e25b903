//! Keeps mail authentic after a rewrite.
//!
//! A rewritten body breaks every DKIM signature made before courtesy saw the
//! message. For the organisation's own domains the `dkim:` configuration
//! decides what happens: `resign` (remove the signatures the rewrite broke
//! and sign the new message with courtesy's key), `keep` (a later hop signs
//! again) or `skip` (do not rewrite signed mail). Optionally the rewritten
//! message is ARC-sealed (RFC 8617).
//!
//! The forwarders call, per message: [`Signer::decide`] before the engine
//! (a `Skip` is recorded as skipped with its reason), then, when the engine
//! rewrote the message, [`Signer::finish`] (relay: new bytes) or
//! [`Signer::finish_changes`] (milter: header edits). All of it is pure: no
//! DNS, no clock beyond the signature timestamp. Keys are read once, in
//! [`Signer::from_config`].
//!
//! Signing, canonicalisation and verification are mail-auth's; this module
//! only decides what to sign and splices headers.

pub mod apply;
mod arc;
pub mod config;
mod headers;
pub mod keys;
mod sign;
pub mod verify;

use std::path::PathBuf;

pub use config::{ArcConfig, DkimConfig, DomainConfig, KeyAlgorithm, OnSigned};
pub use sign::{Finish, HeaderEdit, Notice, Signer};

use crate::classify::SkipReason;

/// Headers courtesy signs when it re-signs, in this order, when present.
/// `X-Courtesy` is among them so that the loop guard cannot be stripped or
/// forged without breaking the signature.
pub const SIGNED_HEADERS: [&str; 18] = [
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Language",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "List-Unsubscribe",
    crate::engine::TRACE_HEADER,
];

/// One DKIM signature found in a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FoundSignature {
    /// 1-based position among the message's `DKIM-Signature` headers.
    pub index: usize,
    /// `d=`, lower-case.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// Whether `d=` is one of the configured domains.
    pub own: bool,
    /// What the configuration says to do when a rewrite breaks it.
    pub on_signed: OnSigned,
}

/// Whether the engine may rewrite a message, given its DKIM signatures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum SignedDecision {
    /// Rewriting is allowed; `resign` says whether [`Signer::finish`] will
    /// replace broken signatures with courtesy's own.
    Rewrite {
        /// A configured domain's signature will be replaced.
        resign: bool,
        /// Every signature found.
        signatures: Vec<FoundSignature>,
    },
    /// Leave the message exactly as it is.
    Skip {
        /// Plain-language reason for the audit record.
        reason: String,
        /// Every signature found.
        signatures: Vec<FoundSignature>,
    },
}

impl SignedDecision {
    /// The engine's skip reason, when the message must not be rewritten.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            SignedDecision::Skip { reason, .. } => Some(SkipReason::Signed(reason.clone())),
            SignedDecision::Rewrite { .. } => None,
        }
    }

    /// The signatures found in the message.
    pub fn signatures(&self) -> &[FoundSignature] {
        match self {
            SignedDecision::Rewrite { signatures, .. }
            | SignedDecision::Skip { signatures, .. } => signatures,
        }
    }
}

/// Errors of key loading, configuration and signing.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    /// The key file does not exist.
    #[error("DKIM key {path} does not exist; create one with `courtesy dkim keygen`")]
    KeyMissing {
        /// The configured path.
        path: PathBuf,
    },
    /// The key file exists but cannot be read.
    #[error("cannot read DKIM key {path}: {source}")]
    KeyUnreadable {
        /// The configured path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no usable private key.
    #[error("DKIM key {path} is not usable: {reason}")]
    KeyInvalid {
        /// The configured path.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// An RSA key below the minimum size.
    #[error(
        "DKIM key {path} is a {bits}-bit RSA key; at least {min} bits are required (generate a new one with `courtesy dkim keygen`)",
        min = keys::MIN_RSA_BITS
    )]
    KeyTooShort {
        /// The configured path.
        path: PathBuf,
        /// Its modulus size.
        bits: usize,
    },
    /// A new key pair could not be made.
    #[error("cannot generate a DKIM key: {0}")]
    KeyGeneration(String),
    /// A key file could not be written.
    #[error("cannot write {path}: {source}")]
    KeyWrite {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The `dkim:` section is inconsistent.
    #[error("dkim configuration: {0}")]
    Config(String),
    /// The message has no header block to sign.
    #[error("cannot sign: the message has no header block")]
    Unparseable,
    /// A broken signature whose setting is `skip`; the caller forwards the original.
    #[error("the rewrite would break a DKIM signature: {0}")]
    MustSkip(String),
    /// mail-auth refused to sign or seal.
    #[error("cannot {what} for {domain}: {reason}")]
    Sign {
        /// `sign` or `seal`.
        what: &'static str,
        /// The signing domain.
        domain: String,
        /// mail-auth's error.
        reason: String,
    },
    /// A DNS record given to the offline verifier does not parse.
    #[error("invalid DKIM DNS record for {name}: {reason}")]
    Record {
        /// `selector._domainkey.domain`.
        name: String,
        /// The parse error.
        reason: String,
    },
}
