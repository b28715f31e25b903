//! The audit record schema: one JSON object per line.
//!
//! The field order of the serialized structs is the order in the file; the
//! chain hash is appended by [`super::chain`] as the last key, so a record's
//! hashed bytes are exactly the line minus that key (see `docs/AUDIT.md`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{DiffMode, MessageEntry, Verdict};
use crate::engine::Disposition;

/// Version of the record format, written into every record as `v`.
pub const FORMAT_VERSION: u32 = 1;

/// One line of the audit log, without its `hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Format version ([`FORMAT_VERSION`]).
    pub v: u32,
    /// Position in the instance's chain, starting at 0, without gaps.
    pub seq: u64,
    /// When the record was written, RFC 3339 in UTC.
    pub time: String,
    /// The instance whose chain this is.
    pub instance: String,
    /// What the record is about; its `kind` key says which.
    #[serde(flatten)]
    pub body: RecordBody,
    /// Hash of the previous record of the chain; 64 zeros for the first.
    pub prev: String,
}

/// The kinds of record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordBody {
    /// First record of a chain: names the hash algorithm of the whole chain.
    Start {
        /// `sha256` or `hmac-sha256`.
        alg: String,
    },
    /// The decision about one message.
    Message(Box<MessageRecord>),
    /// The upstream's final answer for the message record `message_seq`.
    Verdict {
        /// Sequence number of the message record this answers.
        message_seq: u64,
        /// SMTP reply code; 0 when the upstream could not be reached.
        code: u16,
        /// Reply text or local error.
        text: String,
    },
    /// Written on startup after a crash left an incomplete last line: the
    /// chain continues from the last intact record, and this says what was
    /// left behind.
    Recovery {
        /// File name (no directory) holding the torn tail.
        file: String,
        /// Length of that file's intact part; the torn bytes start here.
        intact_bytes: u64,
        /// How many bytes after that were discarded.
        discarded_bytes: u64,
    },
}

/// The decision about one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The `Message-ID` header, if any.
    pub message_id: Option<String>,
    /// Envelope sender; empty for `<>`.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_to: Vec<String>,
    /// The person or team the policy matched.
    pub sender: Option<SenderRecord>,
    /// Detection verdict and evidence.
    pub classification: ClassificationRecord,
    /// Rules that fired, in order.
    pub rules: Vec<String>,
    /// `rewritten`, `observed` or `skipped`.
    pub disposition: String,
    /// Why the message was left alone, when it was skipped.
    pub skip: Option<SkipRecord>,
    /// What happened to the message's DKIM signatures; absent when it had
    /// none and nothing was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim: Option<DkimRecord>,
    /// Hex SHA-256 of the message as received.
    pub sha256_before: String,
    /// Hex SHA-256 of the message as forwarded.
    pub sha256_after: String,
    /// Hex SHA-256 of the rewrite that observe mode did not forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_proposed: Option<String>,
    /// How much text the `changes` keep.
    pub diff_mode: DiffMode,
    /// What changed per text part.
    pub changes: Vec<ChangeRecord>,
    /// The policy in force.
    pub policy: PolicyRecord,
}

/// The person or team from the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderRecord {
    /// `person` or `team`.
    pub kind: String,
    /// Policy id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The classification with its signals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassificationRecord {
    /// Recognised as an automatic reply.
    pub auto_reply: bool,
    /// Recognised as ending in an anonymous team signature.
    pub team_signature: bool,
    /// Language code of the new text.
    pub language: String,
    /// Evidence in the order it was found.
    pub signals: Vec<SignalRecord>,
    /// The anonymous sign-off that was found.
    pub sign_off: Option<String>,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// Signal name, e.g. `auto_submitted_header`.
    pub name: String,
    /// What was seen.
    pub evidence: String,
    /// `auto_reply`, `not_auto_reply`, `team_signature` or `skip`.
    pub effect: String,
}

/// Why a message was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipRecord {
    /// Snake-case reason, e.g. `signed`.
    pub reason: String,
    /// Details, when the reason has any.
    pub detail: Option<String>,
}

/// What courtesy did about DKIM signatures (`docs/DKIM.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimRecord {
    /// `resigned` (broken signatures replaced by courtesy's), `kept` (left
    /// broken for a later hop), `skipped` (not rewritten because of a
    /// signature) or `unsigned` (no signature to deal with; notes say
    /// whether the message was ARC-sealed).
    pub action: String,
    /// The signatures courtesy added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signed: Vec<SignedByRecord>,
    /// Plain-language account, one line per step.
    pub notes: Vec<String>,
}

/// A signing domain and selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedByRecord {
    /// `d=`.
    pub domain: String,
    /// `s=`.
    pub selector: String,
}

/// What happened to one text part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// MIME part id.
    pub part: usize,
    /// `text/plain` or `text/html`.
    pub content_type: String,
    /// Charset before.
    pub charset_before: String,
    /// Charset after.
    pub charset_after: String,
    /// Transfer encoding after.
    pub transfer_encoding: String,
    /// Rules whose edits took effect here.
    pub rules: Vec<String>,
    /// Unified diff of the decoded text (diff mode `unified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Removed lines, grouped into runs (diff mode `fragments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Vec<String>>,
    /// Inserted lines, grouped into runs (diff mode `fragments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inserted: Option<Vec<String>>,
}

/// The policy in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// Where it was loaded from.
    pub path: String,
    /// Hex SHA-256 of the policy file.
    pub sha256: String,
    /// The managers' revision label.
    pub revision: Option<String>,
    /// Schema version.
    pub version: u32,
}

/// Lines of context around each change in a unified diff.
const DIFF_CONTEXT: usize = 3;

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The snake-case name of a disposition, as the engine serializes it.
pub fn disposition_name(disposition: Disposition) -> String {
    serde_name(&disposition).unwrap_or_else(|| format!("{disposition:?}").to_lowercase())
}

/// The string a unit enum variant serializes to.
fn serde_name<T: Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

impl MessageRecord {
    /// Builds the record body for a message from what the forwarder knows.
    pub fn from_entry(entry: &MessageEntry<'_>, diff_mode: DiffMode) -> MessageRecord {
        let outcome = entry.outcome;
        let classification = &outcome.classification;
        let output = outcome.output(entry.original);
        let proposed = match (outcome.disposition, &outcome.rewritten) {
            (Disposition::Observed, Some(r)) => Some(sha256_hex(&r.message)),
            _ => None,
        };
        let changes = outcome
            .rewritten
            .iter()
            .flat_map(|r| r.parts.iter())
            .map(|part| {
                let mut change = ChangeRecord {
                    part: part.part,
                    content_type: part.content_type.clone(),
                    charset_before: part.charset_before.clone(),
                    charset_after: part.charset_after.clone(),
                    transfer_encoding: part.transfer_encoding.clone(),
                    rules: part.rules.clone(),
                    diff: None,
                    removed: None,
                    inserted: None,
                };
                match diff_mode {
                    DiffMode::Unified => {
                        change.diff = Some(unified_diff(&part.before, &part.after))
                    }
                    DiffMode::Fragments => {
                        let (removed, inserted) = fragments(&part.before, &part.after);
                        change.removed = Some(removed);
                        change.inserted = Some(inserted);
                    }
                    DiffMode::None => {}
                }
                change
            })
            .collect();
        MessageRecord {
            message_id: entry.message_id.map(str::to_string),
            mail_from: entry.envelope.mail_from.clone(),
            rcpt_to: entry.envelope.rcpt_to.clone(),
            sender: outcome.sender.as_ref().map(|s| SenderRecord {
                kind: s.kind.to_string(),
                id: s.id.clone(),
                name: s.name.clone(),
            }),
            classification: ClassificationRecord {
                auto_reply: classification.auto_reply,
                team_signature: classification.team_signature,
                language: classification.language.code().to_string(),
                signals: classification
                    .signals
                    .iter()
                    .map(|s| SignalRecord {
                        name: s.name.clone(),
                        evidence: s.evidence.clone(),
                        effect: serde_name(&s.effect).unwrap_or_default(),
                    })
                    .collect(),
                sign_off: classification.sign_off.as_ref().map(|s| s.text.clone()),
            },
            rules: outcome.rules.clone(),
            disposition: disposition_name(outcome.disposition),
            skip: outcome.skipped().map(|reason| {
                let value = serde_json::to_value(reason).unwrap_or_default();
                SkipRecord {
                    reason: value
                        .get("reason")
                        .and_then(|r| r.as_str())
                        .map(str::to_string)
                        .unwrap_or_else(|| reason.to_string()),
                    detail: value.get("detail").and_then(|d| d.as_str()).map(str::to_string),
                }
            }),
            dkim: entry.dkim.cloned(),
            sha256_before: sha256_hex(entry.original),
            sha256_after: sha256_hex(output),
            sha256_proposed: proposed,
            diff_mode,
            changes,
            policy: PolicyRecord {
                path: entry.policy.source.path.clone(),
                sha256: entry.policy.source.sha256.clone(),
                revision: entry.policy.revision.clone(),
                version: entry.policy.version,
            },
        }
    }
}

impl RecordBody {
    /// The body of a verdict record.
    pub fn verdict(message_seq: u64, verdict: &Verdict) -> RecordBody {
        RecordBody::Verdict { message_seq, code: verdict.code, text: verdict.text.clone() }
    }

    /// The `kind` value this body serializes with.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordBody::Start { .. } => "start",
            RecordBody::Message(_) => "message",
            RecordBody::Verdict { .. } => "verdict",
            RecordBody::Recovery { .. } => "recovery",
        }
    }
}

/// A unified diff of two texts, with file headers `before` and `after`.
pub fn unified_diff(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(DIFF_CONTEXT)
        .header("before", "after")
        .to_string()
}

/// The removed and the inserted lines, each run of adjacent lines joined
/// into one fragment: enough to see what courtesy added without keeping the
/// rest of the correspondence.
pub fn fragments(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    use similar::ChangeTag;
    let diff = similar::TextDiff::from_lines(before, after);
    let (mut removed, mut inserted) = (Vec::new(), Vec::new());
    let mut run: Option<(ChangeTag, String)> = None;
    let mut flush = |run: &mut Option<(ChangeTag, String)>| {
        if let Some((tag, text)) = run.take() {
            let text = text.trim_end_matches('\n').to_string();
            if tag == ChangeTag::Delete { removed.push(text) } else { inserted.push(text) }
        }
    };
    for change in diff.iter_all_changes() {
        let tag = change.tag();
        if tag == ChangeTag::Equal {
            flush(&mut run);
            continue;
        }
        match &mut run {
            Some((t, text)) if *t == tag => text.push_str(change.value()),
            _ => {
                flush(&mut run);
                run = Some((tag, change.value().to_string()));
            }
        }
    }
    flush(&mut run);
    (removed, inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_keep_only_changed_runs() {
        let before = "Hello\nI am away.\nTeam Incasso\n";
        let after = "Dear Ms Jansen,\nHello\nI am away.\nAnna de Vries\nBram Smit\n";
        let (removed, inserted) = fragments(before, after);
        assert_eq!(removed, vec!["Team Incasso"]);
        assert_eq!(inserted, vec!["Dear Ms Jansen,", "Anna de Vries\nBram Smit"]);
    }

    #[test]
    fn unified_diff_has_headers_and_hunks() {
        let diff = unified_diff("a\nb\n", "a\nc\n");
        assert!(diff.starts_with("--- before\n+++ after\n@@"), "{diff}");
        assert!(diff.contains("-b\n+c\n"), "{diff}");
    }

    #[test]
    fn records_round_trip_with_kind_tag() {
        let record = Record {
            v: FORMAT_VERSION,
            seq: 3,
            time: "2026-11-23T10:00:00Z".into(),
            instance: "relay".into(),
            body: RecordBody::Verdict { message_seq: 2, code: 250, text: "2.0.0 Ok".into() },
            prev: "0".repeat(64),
        };
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(r#""kind":"verdict""#), "{json}");
        assert!(json.ends_with(&format!(r#""prev":"{}"}}"#, "0".repeat(64))), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
    }
}
