//! Applies a plan to every text/plain and text/html part of the new message
//! and splices the re-encoded parts into the original bytes, so that other
//! parts, attachments, quoted history and headers stay byte-identical.
//!
//! - [`parts`] picks the text parts and refuses signed, encrypted and TNEF mail.
//! - [`transfer`] and [`charset`] decode a part and encode it again, falling
//!   back to quoted-printable and UTF-8 only when the new text needs it.
//! - [`text`] and [`html`] apply the plan's edits to the new text only.
//! - [`splice`] puts the new bodies, part headers and the trace header into
//!   the original bytes.

mod charset;
mod entities;
#[doc(hidden)]
pub mod fuzzing;
mod html;
mod matcher;
mod parts;
mod splice;
mod text;
mod transfer;

use crate::plan::Plan;
use charset::Charset;
use mail_parser::{MessagePart, MimeHeaders};
use parts::Kind;
use splice::{Edit, HeaderEdits};
use transfer::Transfer;

/// What happened to one text part.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartChange {
    /// MIME part id as mail-parser numbers them (0 is the root).
    pub part: usize,
    /// `text/plain` or `text/html`.
    pub content_type: String,
    /// Charset before and after (they differ when the new text needed UTF-8).
    pub charset_before: String,
    /// Charset after rewriting.
    pub charset_after: String,
    /// Transfer encoding after rewriting.
    pub transfer_encoding: String,
    /// Decoded text before.
    pub before: String,
    /// Decoded text after.
    pub after: String,
    /// Rules whose edits took effect in this part.
    pub rules: Vec<String>,
    /// Rules with an edit that could not be placed in this part (its span
    /// or anchor was not found in the new text, or it overlapped another).
    pub unapplied: Vec<String>,
}

/// One change to the top-level header block, for the milter, which cannot
/// replace headers wholesale.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum HeaderChange {
    /// Add a header at the end of the header block.
    Add {
        /// Header name.
        name: String,
        /// Value, already folded if needed, without trailing CRLF.
        value: String,
    },
    /// Replace the value of the `index`-th (1-based) occurrence of a header.
    Change {
        /// Header name.
        name: String,
        /// 1-based occurrence among headers of that name.
        index: usize,
        /// New value.
        value: String,
    },
}

/// A rewritten message in both forms the forwarders need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The whole new message (for the relay and `preview --output`).
    pub message: Vec<u8>,
    /// Offset in `message` where the body starts (after the blank line).
    pub body_start: usize,
    /// The header changes relative to the original (for the milter).
    pub header_changes: Vec<HeaderChange>,
    /// Per text part, what changed.
    pub parts: Vec<PartChange>,
}

/// Errors that stop a rewrite; the engine then forwards the original.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// The MIME structure is not one we can splice safely.
    #[error("cannot rewrite this MIME structure: {0}")]
    Structure(String),
    /// The HTML rewriter refused the input.
    #[error("HTML rewriting failed: {0}")]
    Html(String),
}

/// Applies `plan` to `raw` (already parsed as `message`) and adds the trace
/// header `X-Courtesy: <trace>`. Returns `Ok(None)` when no edit took effect
/// in any part (the caller then forwards the original bytes).
///
/// Runs in time linear in the message size; attachments are copied once,
/// into the new message.
pub fn rewrite(
    raw: &[u8],
    message: &mail_parser::Message<'_>,
    plan: &Plan,
    trace: &str,
) -> Result<Option<Rewritten>, RewriteError> {
    if plan.is_empty() {
        return Ok(None);
    }
    let Some(root) = message.parts.first() else {
        return Err(RewriteError::Structure("no parts".into()));
    };
    if message.raw_message.as_ref() != raw || root.offset_body as usize > raw.len() {
        return Err(RewriteError::Structure("parsed message does not match its bytes".into()));
    }
    let targets = parts::targets(message)?;
    let eol = line_ending(&raw[..root.offset_body as usize]);

    let mut edits = Vec::new();
    let mut header_changes = Vec::new();
    let mut changed = Vec::new();
    for target in targets {
        let part = &message.parts[target.id];
        let Some(outcome) = rewrite_part(raw, part, target, plan, eol)? else { continue };
        edits.extend(outcome.headers.edits);
        edits.push(outcome.body);
        if target.id == 0 {
            header_changes.extend(outcome.headers.changes);
        }
        changed.push(outcome.change);
    }
    if changed.is_empty() {
        return Ok(None);
    }

    let mut trace_edit = HeaderEdits::default();
    trace_edit.add(
        splice::header_end(raw, root)?,
        crate::engine::TRACE_HEADER,
        &splice::trace_value(trace),
        eol,
    );
    edits.extend(trace_edit.edits);
    header_changes.extend(trace_edit.changes);

    let header_delta: isize = edits
        .iter()
        .filter(|e| e.start < root.offset_body as usize)
        .map(|e| e.bytes.len() as isize - (e.end - e.start) as isize)
        .sum();
    let body_start = (root.offset_body as isize + header_delta) as usize;
    let message = splice::assemble(raw, edits)?;
    Ok(Some(Rewritten { message, body_start, header_changes, parts: changed }))
}

struct PartOutcome {
    body: Edit,
    headers: HeaderEdits,
    change: PartChange,
}

/// Rewrites one text part; `None` when the part cannot be decoded safely
/// (unknown transfer encoding or charset) or no edit took effect in it.
fn rewrite_part(
    raw: &[u8],
    part: &MessagePart<'_>,
    target: parts::Target,
    plan: &Plan,
    message_eol: &str,
) -> Result<Option<PartOutcome>, RewriteError> {
    let (body_start, body_end) = (part.offset_body as usize, part.offset_end as usize);
    let Some(body_raw) = raw.get(body_start..body_end) else {
        return Err(RewriteError::Structure(format!(
            "part {} lies outside the message",
            target.id
        )));
    };
    let Some(transfer) = Transfer::from_header(part.content_transfer_encoding()) else {
        return Ok(None);
    };
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    let Some(charset) = Charset::from_label(label) else { return Ok(None) };
    let Some(decoded) = transfer::decode(body_raw, transfer) else { return Ok(None) };
    let before = charset.decode(&decoded.bytes);
    let eol = if body_raw.contains(&b'\n') { line_ending(body_raw) } else { message_eol };

    let applied = match target.kind {
        Kind::Plain => text::apply(&before, &plan.edits),
        Kind::Html => html::apply(&before, &plan.edits)?,
    };
    if applied.applied.is_empty() {
        if !applied.unapplied.is_empty() {
            tracing::debug!(part = target.id, "no edit of the plan could be placed in this part");
        }
        return Ok(None);
    }
    let mut after = applied.text;

    let charset_before = label.unwrap_or("us-ascii").to_string();
    let (bytes, charset_after) = match charset.encode(&after) {
        Some(bytes) => (bytes, None),
        None => {
            if target.kind == Kind::Html {
                after = html::declare_utf8(&after)?;
            }
            (after.clone().into_bytes(), Some("utf-8"))
        }
    };
    let transfer_after = match transfer {
        Transfer::SevenBit if !transfer::fits_unencoded(&bytes, true) => Transfer::QuotedPrintable,
        Transfer::EightBit if !transfer::fits_unencoded(&bytes, false) => Transfer::QuotedPrintable,
        same => same,
    };

    let root = target.id == 0;
    let mut headers = HeaderEdits::default();
    if let Some(new_charset) = charset_after {
        headers.set_charset(raw, part, target.kind.mime(), new_charset, root, eol)?;
    }
    if transfer_after != transfer {
        headers.set_transfer(raw, part, transfer_after.as_str(), eol)?;
    }
    let body = if transfer_after == transfer && charset_after.is_none() {
        transfer::splice_body(body_raw, &decoded, &bytes, transfer, eol)
    } else {
        transfer::encode(&bytes, transfer_after, eol, body_raw.ends_with(b"\n"))
    };

    let rules_of = |indexes: &[usize]| {
        let mut rules: Vec<String> = Vec::new();
        for edit in indexes.iter().filter_map(|i| plan.edits.get(*i)) {
            if !rules.iter().any(|r| r == edit.rule()) {
                rules.push(edit.rule().to_string());
            }
        }
        rules
    };
    let change = PartChange {
        part: target.id,
        content_type: target.kind.mime().to_string(),
        charset_after: charset_after.map_or_else(|| charset_before.clone(), str::to_string),
        charset_before,
        transfer_encoding: transfer_after.as_str().to_string(),
        before,
        after,
        rules: rules_of(&applied.applied),
        unapplied: rules_of(&applied.unapplied),
    };
    Ok(Some(PartOutcome {
        body: Edit { start: body_start, end: body_end, bytes: body },
        headers,
        change,
    }))
}

/// CRLF when the first line ends in CRLF, else LF.
fn line_ending(bytes: &[u8]) -> &'static str {
    match bytes.iter().position(|b| *b == b'\n') {
        Some(i) if i > 0 && bytes[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Edits at text positions, applied to a string in one pass. Replacements
/// may not overlap, and nothing may be inserted inside a replaced span.
#[derive(Debug, Default)]
pub(crate) struct Splices {
    items: Vec<(usize, usize, String)>,
}

impl Splices {
    pub(crate) fn insert(&mut self, at: usize, text: String) -> bool {
        if self.items.iter().any(|(s, e, _)| *s < at && at < *e) {
            return false;
        }
        self.items.push((at, at, text));
        true
    }

    pub(crate) fn replace(&mut self, start: usize, end: usize, text: String) -> bool {
        self.replace_many(&[(start, end)], &text)
    }

    /// Replaces the first range with `text` and deletes the others.
    pub(crate) fn replace_many(&mut self, ranges: &[(usize, usize)], text: &str) -> bool {
        let clash = |start: usize, end: usize| {
            self.items.iter().any(|(s, e, _)| {
                if s == e { start < *s && *s < end } else { start < *e && *s < end }
            })
        };
        if ranges.is_empty() || ranges.iter().any(|(s, e)| s >= e || clash(*s, *e)) {
            return false;
        }
        for (i, (s, e)) in ranges.iter().enumerate() {
            self.items.push((*s, *e, if i == 0 { text.to_string() } else { String::new() }));
        }
        true
    }

    pub(crate) fn apply(mut self, source: &str) -> String {
        self.items.sort_by_key(|(s, e, _)| (*s, s != e));
        let mut out = String::with_capacity(
            source.len() + self.items.iter().map(|i| i.2.len()).sum::<usize>(),
        );
        let mut pos = 0;
        for (s, e, text) in &self.items {
            if *s > pos {
                out.push_str(&source[pos..*s]);
            }
            out.push_str(text);
            pos = pos.max(*e);
        }
        out.push_str(&source[pos..]);
        out
    }
}
