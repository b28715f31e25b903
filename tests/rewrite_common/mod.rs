//! Helpers shared by the rewrite tests.
#![allow(dead_code)]

use courtesy::plan::{Plan, TextEdit};
use courtesy::rewrite::{HeaderChange, Rewritten, rewrite};
use mail_parser::MessageParser;

pub fn plan(edits: Vec<TextEdit>) -> Plan {
    let mut rules: Vec<String> = Vec::new();
    for e in &edits {
        if !rules.iter().any(|r| r == e.rule()) {
            rules.push(e.rule().to_string());
        }
    }
    Plan { rules, edits }
}

pub fn prepend(rule: &str, text: &str, html: &str) -> TextEdit {
    TextEdit::Prepend { rule: rule.into(), text: text.into(), html: html.into() }
}
pub fn replace(rule: &str, find: &str, text: &str, html: &str) -> TextEdit {
    TextEdit::Replace { rule: rule.into(), find: find.into(), text: text.into(), html: html.into() }
}
pub fn insert_after(rule: &str, anchor: &str, text: &str, html: &str) -> TextEdit {
    TextEdit::InsertAfter {
        rule: rule.into(),
        anchor: anchor.into(),
        text: text.into(),
        html: html.into(),
    }
}
pub fn append(rule: &str, text: &str, html: &str) -> TextEdit {
    TextEdit::Append { rule: rule.into(), text: text.into(), html: html.into() }
}

/// Rewrites and checks the invariants every result must keep.
pub fn run(raw: &[u8], plan: &Plan) -> Option<Rewritten> {
    let message = MessageParser::default().parse(raw).expect("input parses");
    let out = rewrite(raw, &message, plan, "rewritten by courtesy; rules=test").expect("rewrite");
    if let Some(r) = &out {
        check_invariants(raw, &message, r);
    }
    out
}

/// The milter view (header changes + new body) equals the relay view, the
/// result re-parses with the same parts, and non-text parts are identical.
pub fn check_invariants(raw: &[u8], before: &mail_parser::Message<'_>, r: &Rewritten) {
    assert_eq!(
        milter_view(raw, before, r),
        r.message,
        "header_changes/body_start disagree with message"
    );
    let after = MessageParser::default().parse(&r.message[..]).expect("rewritten message parses");
    assert_eq!(after.parts.len(), before.parts.len(), "part count changed");
    for (a, b) in before.parts.iter().zip(&after.parts) {
        let is_text =
            matches!(a.body, mail_parser::PartType::Text(_) | mail_parser::PartType::Html(_));
        if !is_text {
            assert_eq!(a.contents(), b.contents(), "non-text part changed");
        }
    }
    let bare = |m: &[u8]| {
        m.iter().enumerate().filter(|(j, c)| **c == b'\n' && (*j == 0 || m[j - 1] != b'\r')).count()
    };
    let crlf = |m: &[u8]| m.windows(2).filter(|w| w == b"\r\n").count();
    if crlf(raw) > 0 {
        assert!(bare(&r.message) <= bare(raw), "rewrite introduced bare LF");
    } else {
        assert_eq!(crlf(&r.message), 0, "rewrite introduced CRLF into an LF message");
    }
}

/// Applies `header_changes` to the original header block the way a milter
/// would and appends `message[body_start..]`.
fn milter_view(raw: &[u8], message: &mail_parser::Message<'_>, r: &Rewritten) -> Vec<u8> {
    let root = &message.parts[0];
    let eol: &[u8] =
        if raw[..root.offset_body as usize].ends_with(b"\r\n") { b"\r\n" } else { b"\n" };
    let mut lines: Vec<(String, Vec<u8>)> = root
        .headers
        .iter()
        .map(|h| {
            let name =
                String::from_utf8_lossy(&raw[h.offset_field as usize..h.offset_start as usize - 1])
                    .to_string();
            (name, raw[h.offset_field as usize..h.offset_end as usize].to_vec())
        })
        .collect();
    for change in &r.header_changes {
        match change {
            HeaderChange::Add { name, value } => {
                let mut line = format!("{name}: {value}").into_bytes();
                line.extend_from_slice(eol);
                lines.push((name.clone(), line));
            }
            HeaderChange::Change { name, index, value } => {
                let slot = lines
                    .iter_mut()
                    .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                    .nth(index - 1)
                    .expect("changed header exists");
                let mut line = format!("{}: {value}", slot.0.trim()).into_bytes();
                line.extend_from_slice(eol);
                slot.1 = line;
            }
        }
    }
    let mut out: Vec<u8> = lines.into_iter().flat_map(|(_, l)| l).collect();
    out.extend_from_slice(eol);
    out.extend_from_slice(&r.message[r.body_start..]);
    out
}

pub fn lf_to_crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
