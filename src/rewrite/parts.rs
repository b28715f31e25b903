//! Which parts of a message are its text, and which structures forbid any
//! change at all.
//!
//! The text is every inline text/plain and text/html part of the top-level
//! message. Attachments, forwarded messages (message/rfc822 lives in its own
//! parsed `Message`, never in the top-level part list) and the human-readable
//! part of a delivery report stay as they are.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::RewriteError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plain,
    Html,
}

impl Kind {
    pub(crate) fn mime(self) -> &'static str {
        match self {
            Kind::Plain => "text/plain",
            Kind::Html => "text/html",
        }
    }
}

/// A text part to rewrite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub(crate) id: usize,
    pub(crate) kind: Kind,
}

/// Content types whose presence anywhere in the top-level tree means the
/// message must go out exactly as it came: changing any byte would break a
/// signature, and TNEF carries its own copy of the text.
const UNTOUCHABLE: &[(&str, &str)] = &[
    ("multipart", "signed"),
    ("multipart", "encrypted"),
    ("application", "pkcs7-mime"),
    ("application", "x-pkcs7-mime"),
    ("application", "pkcs7-signature"),
    ("application", "x-pkcs7-signature"),
    ("application", "pgp-encrypted"),
    ("application", "pgp-signature"),
    ("application", "ms-tnef"),
    ("application", "vnd.ms-tnef"),
];

pub(crate) fn targets(message: &Message<'_>) -> Result<Vec<Target>, RewriteError> {
    let parts = &message.parts;
    let mut parent = vec![None; parts.len()];
    for (id, part) in parts.iter().enumerate() {
        if let Some((ctype, subtype)) = mime_type(part)
            && UNTOUCHABLE
                .iter()
                .any(|(t, s)| ctype.eq_ignore_ascii_case(t) && subtype.eq_ignore_ascii_case(s))
        {
            return Err(RewriteError::Structure(format!("contains {ctype}/{subtype}")));
        }
        if let PartType::Multipart(children) = &part.body {
            for child in children {
                match parent.get_mut(*child as usize) {
                    Some(slot) if *child as usize > id => *slot = Some(id),
                    _ => return Err(RewriteError::Structure("inconsistent MIME tree".into())),
                }
            }
        }
    }

    let mut ids: Vec<usize> =
        message.text_body.iter().chain(&message.html_body).map(|id| *id as usize).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let Some(part) = parts.get(id) else { continue };
        let kind = match (&part.body, mime_type(part)) {
            (PartType::Text(_), None) => Kind::Plain,
            (PartType::Text(_), Some((t, s)))
                if t.eq_ignore_ascii_case("text") && s.eq_ignore_ascii_case("plain") =>
            {
                Kind::Plain
            }
            (PartType::Html(_), Some((t, s)))
                if t.eq_ignore_ascii_case("text") && s.eq_ignore_ascii_case("html") =>
            {
                Kind::Html
            }
            _ => continue,
        };
        if part.is_encoding_problem || is_attachment(part) || in_report(parts, &parent, id) {
            continue;
        }
        out.push(Target { id, kind });
    }
    Ok(out)
}

fn mime_type<'a>(part: &'a MessagePart<'_>) -> Option<(&'a str, &'a str)> {
    let ct = part.content_type()?;
    Some((ct.ctype(), ct.subtype().unwrap_or("")))
}

fn is_attachment(part: &MessagePart<'_>) -> bool {
    part.content_disposition().is_some_and(|cd| cd.is_attachment())
        || part.attachment_name().is_some()
}

fn in_report(parts: &[MessagePart<'_>], parent: &[Option<usize>], id: usize) -> bool {
    let mut current = parent[id];
    while let Some(p) = current {
        if mime_type(&parts[p]).is_some_and(|(t, s)| {
            t.eq_ignore_ascii_case("multipart") && s.eq_ignore_ascii_case("report")
        }) {
            return true;
        }
        current = parent[p];
    }
    false
}
