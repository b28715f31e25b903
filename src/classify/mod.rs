//! Decides whether a message is an automatic reply and whether its new text
//! ends in an anonymous team signature, and records the signals that say why.
//!
//! Detection is explainable on purpose: every verdict carries the headers and
//! phrases that led to it, so a preview or an audit record can say "because
//! `auto_submitted_header`" instead of "because the model said so".

//!
//! # Order of work
//! Cheap checks run first: one pass over the top-level headers, one over the
//! MIME part list, and the subject. The new text is extracted only when it
//! is needed (the message is or may be an auto-reply, or it comes from one
//! of our own addresses and may carry a team sign-off); the language is
//! told only for mail that will be rewritten, from cheap signals when they
//! agree and from lingua otherwise. Everything else gets the policy's default
//! language and an empty new text, which costs nothing downstream because
//! nothing is planned for it.
//!
//! The auto-reply scoring rule and the vetoes are documented in
//! `autoreply.rs`; the sign-off rules in `signoff.rs`.

mod autoreply;
mod body;
mod fold;
mod headers;
pub(crate) mod language;
mod newtext;
pub mod quote;
mod signoff;
mod structure;
mod subject;

use crate::policy::{Language, Policy, TeamIdx};

/// What a signal pushes the verdict towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Evidence that the message is an automatic reply.
    AutoReply,
    /// Evidence that it is something else that must not be touched
    /// (delivery report, read receipt, list or bulk mail, calendar reply).
    NotAutoReply,
    /// Evidence of an anonymous team signature.
    TeamSignature,
    /// Evidence that the message must not be altered at all (signed, encrypted, TNEF).
    Skip,
}

/// One piece of evidence behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signal {
    /// Snake-case name that reads well after "because", e.g. `auto_submitted_header`.
    pub name: String,
    /// What was seen, e.g. `Auto-Submitted: auto-replied` or the matched phrase.
    pub evidence: String,
    /// Which way it pushes.
    pub effect: Effect,
}

/// Why a message is left exactly as it is, whatever else was detected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum SkipReason {
    /// multipart/signed or a DKIM policy that forbids changing signed mail.
    Signed(String),
    /// multipart/encrypted or application/pkcs7-mime.
    Encrypted(String),
    /// application/ms-tnef (winmail.dat): Outlook would show the TNEF copy, not ours.
    Tnef,
    /// The message already carries this instance's trace header.
    AlreadyProcessed(String),
    /// The bytes do not parse as a message we can safely change.
    Unparseable(String),
    /// The engine failed or ran out of time; the original is forwarded.
    EngineFailure(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Signed(d) => write!(f, "signed message ({d})"),
            SkipReason::Encrypted(d) => write!(f, "encrypted message ({d})"),
            SkipReason::Tnef => f.write_str("TNEF (winmail.dat) message"),
            SkipReason::AlreadyProcessed(d) => write!(f, "already processed ({d})"),
            SkipReason::Unparseable(d) => write!(f, "unparseable message ({d})"),
            SkipReason::EngineFailure(d) => write!(f, "engine failure ({d})"),
        }
    }
}

/// An anonymous sign-off found at the end of the new text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignOff {
    /// The sign-off exactly as it appears in the plain new text (one or more
    /// lines, without trailing newline), e.g. `Team Incasso` or
    /// `Met vriendelijke groet,\nHet hoofd van het kantoor` minus the closing
    /// phrase: only the anonymous name line(s) that should be replaced.
    pub text: String,
    /// The team it names or sends from, if the policy knows it.
    #[serde(skip)]
    pub team: Option<TeamIdx>,
    /// The closing phrase line above the name, exactly as in the new text
    /// (`Met vriendelijke groet,`), when there is one. When a team address
    /// signs with a closing phrase and no name at all, `text` is this line
    /// too: there is no name line to replace, so the closing is the span.
    pub closing: Option<String>,
}

/// The text a person actually wrote in this message, above any quoted history.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NewText {
    /// The new text as plain text (from text/plain, or extracted from
    /// text/html when there is no plain part), with `\n` line ends.
    pub text: String,
    /// Whether quoted history follows the new text.
    pub has_quoted_history: bool,
    /// Only the start of a very long HTML body was read and no history was
    /// found in it, so `text` may end in the middle of what was written.
    pub truncated: bool,
}

/// The verdict on one message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Classification {
    /// An automatic reply (out-of-office, autoresponder).
    pub auto_reply: bool,
    /// The new text ends in an anonymous team signature.
    pub team_signature: bool,
    /// Language of the new text (policy default when it cannot be told).
    pub language: Language,
    /// Evidence, in the order it was found.
    pub signals: Vec<Signal>,
    /// Set when the message must not be altered.
    pub skipped: Option<SkipReason>,
    /// The new text that plan and rewrite work on.
    #[serde(skip)]
    pub new_text: NewText,
    /// The anonymous sign-off, when `team_signature` is true.
    pub sign_off: Option<SignOff>,
}

impl Classification {
    /// A verdict that touches nothing: used for skipped and unparseable mail.
    pub fn untouched(language: Language, skipped: Option<SkipReason>) -> Self {
        Classification {
            auto_reply: false,
            team_signature: false,
            language,
            signals: Vec::new(),
            skipped,
            new_text: NewText::default(),
            sign_off: None,
        }
    }
}

/// Loads the detection models that are otherwise built on first use, so a
/// long-running service does not pay for it inside the first message.
pub fn warm_up() {
    language::warm_up();
}

/// Classifies a parsed message for a sender.
///
/// `sender` is the envelope sender (or `From:` when the envelope is empty);
/// the policy decides whether it is a person or a team of ours.
pub fn classify(
    message: &mail_parser::Message<'_>,
    sender: &str,
    policy: &Policy,
) -> Classification {
    let header_facts = headers::HeaderFacts::collect(message);
    let structure_facts = structure::StructureFacts::collect(message);
    let subject = message.subject();
    let from = message.from().and_then(|f| f.first());
    let from = autoreply::FromFacts {
        address: from.and_then(|a| a.address()).map(str::trim).filter(|a| !a.is_empty()),
    };

    let mut signals = Vec::new();
    let skipped = skip_reason(&structure_facts, &mut signals);

    let mut verdict = autoreply::assess(&header_facts, &structure_facts, subject, &from);
    let ours = policy.is_our_address(sender) || policy.sender(sender).is_some();
    let undecided = verdict.vetoes.is_empty() && verdict.score() > 0;
    let mut new_text = None;
    if undecided && !verdict.is_auto_reply() {
        let text = newtext::extract(message);
        verdict.consider_body(&text.text);
        new_text = Some(text);
    }
    verdict.finish(&header_facts);
    let auto_reply = verdict.is_auto_reply();

    let new_text = match new_text {
        Some(text) => text,
        None if auto_reply || (ours && verdict.vetoes.is_empty()) => newtext::extract(message),
        None => NewText::default(),
    };
    // Machine-made and list mail is never re-signed, whoever sent it; and
    // the end of a cut-off text is not a sign-off.
    let sign_off = if ours && verdict.vetoes.is_empty() && !new_text.truncated {
        signoff::find(&new_text.text, sender, policy)
    } else {
        None
    };
    let team_signature = sign_off.is_some();

    signals.extend(verdict.positives.into_iter().map(|s| s.signal));
    signals.extend(verdict.vetoes);
    if let Some(sign_off) = &sign_off {
        let team = sign_off.team.and_then(|i| policy.teams.get(i)).map(|t| t.name.as_str());
        signals.push(Signal {
            name: "anonymous_sign_off".into(),
            evidence: match team {
                Some(team) => format!("\"{}\" (team {team})", sign_off.text),
                None => format!("\"{}\"", sign_off.text),
            },
            effect: Effect::TeamSignature,
        });
    }

    let language = if auto_reply || team_signature {
        let hints = language::Hints {
            declared: mail_parser::MimeHeaders::content_language(message)
                .as_text_list()
                .and_then(|tags| tags.first())
                .and_then(|tag| language::declared(tag)),
            subject: verdict.subject.as_ref().and_then(|s| s.language),
            usual: Some(policy.default_language),
        };
        language::detect_with_hints(&new_text.text, hints)
            .or_else(|| verdict.subject.as_ref().and_then(|s| s.language))
            .or_else(|| subject.and_then(language::detect))
            .unwrap_or(policy.default_language)
    } else {
        policy.default_language
    };

    Classification { auto_reply, team_signature, language, signals, skipped, new_text, sign_off }
}

/// Why the message must stay byte-identical, with a `Skip` signal for it.
fn skip_reason(facts: &structure::StructureFacts, signals: &mut Vec<Signal>) -> Option<SkipReason> {
    let mut skip = |name: &str, evidence: String| {
        signals.push(Signal { name: name.into(), evidence, effect: Effect::Skip });
    };
    if let Some(protocol) = &facts.encrypted {
        skip("encrypted_message", format!("multipart/encrypted; protocol={protocol}"));
        return Some(SkipReason::Encrypted(format!("multipart/encrypted {protocol}")));
    }
    if let Some(kind) = &facts.pkcs7 {
        let signed = kind.eq_ignore_ascii_case("signed-data");
        let evidence = format!("application/pkcs7-mime; smime-type={kind}");
        if signed {
            skip("signed_message", evidence.clone());
            return Some(SkipReason::Signed(evidence));
        }
        skip("encrypted_message", evidence.clone());
        return Some(SkipReason::Encrypted(evidence));
    }
    if let Some(protocol) = &facts.signed {
        skip("signed_message", format!("multipart/signed; protocol={protocol}"));
        return Some(SkipReason::Signed(format!("multipart/signed {protocol}")));
    }
    if facts.tnef {
        skip("tnef_attachment", "application/ms-tnef (winmail.dat)".into());
        return Some(SkipReason::Tnef);
    }
    None
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
#[path = "tests.rs"]
mod tests;
