//! The two conversions between the milter's view of a message and the
//! engine's: headers and body chunks → message bytes, and a rewrite →
//! modification actions.
//!
//! The MTA hands headers one by one, without line ends, with folded lines
//! joined by a bare LF, and the body with CRLF line ends. The engine wants
//! one message, so the headers are joined with CRLF, then a blank line and
//! the body. Going back, header values are sent with LF folds (what
//! `smfi_addheader` expects) and the new body with CRLF line ends, in
//! packets of at most 65535 bytes: one larger replace-body packet makes
//! Postfix drop the connection in the middle of the end-of-message replies.

use miltr_common::modifications::ModificationAction;
use miltr_common::modifications::body::ReplaceBody;
use miltr_common::modifications::headers::{AddHeader, ChangeHeader, InsertHeader};

use crate::dkim::HeaderEdit;
use crate::rewrite::{HeaderChange, Rewritten};

/// Largest body piece in one replace-body packet (libmilter's `MILTER_CHUNK_SIZE`).
pub const BODY_CHUNK: usize = 65535;

/// Builds the message bytes from the received headers and body.
/// `leading_space`: the values were sent with the space after the colon.
pub fn assemble(headers: &[(Vec<u8>, Vec<u8>)], body: &[u8], leading_space: bool) -> Vec<u8> {
    let size = headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>() + body.len() + 2;
    let mut out = Vec::with_capacity(size);
    for (name, value) in headers {
        out.extend_from_slice(name);
        out.push(b':');
        if !leading_space {
            out.push(b' ');
        }
        push_crlf(&mut out, value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    push_crlf(&mut out, body);
    out
}

/// The modification actions that turn the received message into `rewritten`.
pub fn modifications(rewritten: &Rewritten, leading_space: bool) -> Vec<ModificationAction> {
    let mut actions = Vec::new();
    let space = if leading_space { " " } else { "" };
    for change in &rewritten.header_changes {
        match change {
            HeaderChange::Add { name, value } => {
                let value = format!("{space}{}", lf_folds(value));
                actions.push(AddHeader::new(name.as_bytes(), value.as_bytes()).into());
            }
            HeaderChange::Change { name, index, value } => {
                let value = format!("{space}{}", lf_folds(value));
                let index = u32::try_from(*index).unwrap_or(u32::MAX);
                actions.push(ChangeHeader::new(index, name.as_bytes(), value.as_bytes()).into());
            }
        }
    }
    let body = rewritten.message.get(rewritten.body_start..).unwrap_or_default();
    let mut crlf = Vec::with_capacity(body.len() + body.len() / 64);
    push_crlf(&mut crlf, body);
    for chunk in crlf.chunks(BODY_CHUNK) {
        actions.push(ReplaceBody::new(chunk).into());
    }
    actions
}

/// The DKIM step's header edits as milter actions, in the order given: a
/// removal is a change to an empty value (what `smfi_chgheader` defines as
/// delete), a new header is inserted at index 0, above every other one.
pub fn header_edits(edits: &[HeaderEdit], leading_space: bool) -> Vec<ModificationAction> {
    let space = if leading_space { " " } else { "" };
    edits
        .iter()
        .map(|edit| match edit {
            HeaderEdit::Remove { name, index } => {
                let index = u32::try_from(*index).unwrap_or(u32::MAX);
                ChangeHeader::new(index, name.as_bytes(), b"").into()
            }
            HeaderEdit::Prepend { name, value } => {
                let value = format!("{space}{}", lf_folds(value));
                InsertHeader::new(0, name.as_bytes(), value.as_bytes()).into()
            }
        })
        .collect()
}

/// Appends `bytes` with every line end as CRLF (bare LF and CRLF alike).
/// Appends `bytes` with every bare LF made CRLF. The body is most of the
/// message and nearly always CRLF already, so the lines are found with
/// `memchr` and copied whole.
fn push_crlf(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut copied = 0;
    for lf in memchr::memchr_iter(b'\n', bytes) {
        let after_cr = lf > 0 && bytes[lf - 1] == b'\r';
        if !after_cr {
            out.extend_from_slice(&bytes[copied..lf]);
            out.extend_from_slice(b"\r\n");
            copied = lf + 1;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
}

fn lf_folds(value: &str) -> String {
    value.replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn crlf_conversion_matches_a_byte_at_a_time_reading(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'\r', b'\n', b'a']),
                0..64,
            ),
        ) {
            let mut expected = Vec::new();
            let mut previous = 0u8;
            for &b in &bytes {
                if b == b'\n' && previous != b'\r' {
                    expected.push(b'\r');
                }
                expected.push(b);
                previous = b;
            }
            let mut got = Vec::new();
            push_crlf(&mut got, &bytes);
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn assembles_with_crlf_and_folds() {
        let headers = vec![
            (b"Subject".to_vec(), b" hello".to_vec()),
            (b"Content-Type".to_vec(), b" text/plain;\n\tcharset=utf-8".to_vec()),
        ];
        let message = assemble(&headers, b"a\r\nb\n", true);
        assert_eq!(
            message,
            b"Subject: hello\r\nContent-Type: text/plain;\r\n\tcharset=utf-8\r\n\r\na\r\nb\r\n"
        );
        let without = assemble(&[(b"X".to_vec(), b"y".to_vec())], b"", false);
        assert_eq!(without, b"X: y\r\n\r\n");
    }

    #[test]
    fn body_is_sent_in_chunks_of_at_most_65535_bytes() {
        let mut message = b"X: y\r\n\r\n".to_vec();
        let body_start = message.len();
        message.extend(std::iter::repeat_n(b'a', 200_000));
        let rewritten = Rewritten {
            message,
            body_start,
            header_changes: vec![
                HeaderChange::Add { name: "X-Courtesy".into(), value: "rewritten".into() },
                HeaderChange::Change {
                    name: "Content-Type".into(),
                    index: 1,
                    value: "text/plain;\r\n charset=utf-8".into(),
                },
            ],
            parts: Vec::new(),
        };
        let actions = modifications(&rewritten, true);
        let bodies: Vec<usize> = actions
            .iter()
            .filter_map(|a| match a {
                ModificationAction::ReplaceBody(b) => Some(b.body().len()),
                _ => None,
            })
            .collect();
        assert_eq!(bodies, vec![65535, 65535, 65535, 3395]);
        match &actions[1] {
            ModificationAction::ChangeHeader(c) => {
                assert_eq!(c.value(), " text/plain;\n charset=utf-8");
                assert_eq!(c.index(), 1);
            }
            other => panic!("expected a header change, got {other:?}"),
        }
        assert!(
            matches!(&actions[0], ModificationAction::AddHeader(a) if a.value() == " rewritten")
        );
    }
}
