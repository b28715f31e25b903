//! Turns a classification and the house policy into the text changes to
//! make: a salutation, the named substitute, help for all questions, the
//! policy's response-time promise, who helps on part-time days, and named
//! team members instead of an anonymous sign-off.
//!
//! A plan speaks about the *text* of the message, not about MIME: the same
//! edits are applied to the text/plain and the text/html part by `rewrite`,
//! each rendered twice (plain and HTML-escaped) from the policy's templates.

use crate::classify::Classification;
use crate::envelope::Envelope;
use crate::policy::Policy;

/// One change to the new text of a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TextEdit {
    /// Insert a paragraph before the first line of the new text.
    Prepend {
        /// Rule that asked for it.
        rule: String,
        /// Plain-text rendering (no trailing newline).
        text: String,
        /// HTML rendering (escaped, inline markup only).
        html: String,
    },
    /// Replace a literal span of the new text. `find` is the span exactly as
    /// it appears in [`crate::classify::NewText::text`]; in HTML it is matched
    /// after entity decoding, with any run of whitespace matching any other.
    Replace {
        /// Rule that asked for it.
        rule: String,
        /// The span to replace.
        find: String,
        /// Plain-text replacement.
        text: String,
        /// HTML replacement (escaped).
        html: String,
    },
    /// Insert a paragraph directly after the paragraph that contains `anchor`.
    InsertAfter {
        /// Rule that asked for it.
        rule: String,
        /// A literal span of the new text, as for `Replace::find`.
        anchor: String,
        /// Plain-text rendering.
        text: String,
        /// HTML rendering.
        html: String,
    },
    /// Insert a paragraph at the end of the new text, above any sign-off
    /// found by classify and above the quoted history.
    Append {
        /// Rule that asked for it.
        rule: String,
        /// Plain-text rendering.
        text: String,
        /// HTML rendering.
        html: String,
    },
}

impl TextEdit {
    /// The rule this edit belongs to.
    pub fn rule(&self) -> &str {
        match self {
            TextEdit::Prepend { rule, .. }
            | TextEdit::Replace { rule, .. }
            | TextEdit::InsertAfter { rule, .. }
            | TextEdit::Append { rule, .. } => rule,
        }
    }
}

/// The changes decided for one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// Rule ids in the order they fired (e.g. `salutation`, `substitute`, `phrase:urgent`).
    pub rules: Vec<String>,
    /// The edits, in the order they should be applied.
    pub edits: Vec<TextEdit>,
}

impl Plan {
    /// A plan with nothing to do.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }
}

/// Errors while planning: only a policy template that fails at render time.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A template could not be rendered with the message's values.
    #[error("template {name} failed to render: {source}")]
    Template {
        /// Template name, e.g. `nl/substitute.txt`.
        name: String,
        /// The template engine's error.
        source: minijinja::Error,
    },
}

/// Decides the edits for a classified message.
pub fn plan(
    classification: &Classification,
    message: &mail_parser::Message<'_>,
    envelope: &Envelope,
    policy: &Policy,
) -> Result<Plan, PlanError> {
    let _ = (classification, message, envelope, policy);
    Ok(Plan::default())
}
