use std::path::{Path, PathBuf};

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::*;
use crate::policy::Policy;

const BASE64_LINE: &str =
    "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+\r\n";

fn base64_body(lines: usize) -> String {
    BASE64_LINE.repeat(lines)
}

fn with_attachment(text: &str, lines: usize) -> String {
    format!(
        "From: Ann <ann@voorbeeld.nl>\r\nTo: bob@example.org\r\nSubject: scans\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n--outer\r\n\
         Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
         {text}\r\n--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{text}</p>\r\n--inner--\r\n\
         \r\n--outer\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"a.pdf\"\r\n\r\n{body}--outer\r\n\
         Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n--outer--\r\nepilogue\r\n",
        body = base64_body(lines)
    )
}

/// What classification can see of a parsed message: every part's headers
/// (names and values, not offsets), its kind, its text, and the body lists.
fn visible(message: &Message<'_>) -> String {
    let mut out = format!(
        "text {:?} html {:?} attachments {:?}\n",
        message.text_body, message.html_body, message.attachments
    );
    for (i, part) in message.parts.iter().enumerate() {
        let headers: Vec<_> = part.headers.iter().map(|h| (&h.name, &h.value)).collect();
        let body = match &part.body {
            PartType::Text(t) => format!("text {t:?}"),
            PartType::Html(t) => format!("html {t:?}"),
            PartType::Binary(_) => "binary".into(),
            PartType::InlineBinary(_) => "inline binary".into(),
            PartType::Message(_) => "message".into(),
            PartType::Multipart(ids) => format!("multipart {ids:?}"),
        };
        let ct =
            part.content_type().map(|c| (c.ctype().to_string(), c.subtype().map(str::to_string)));
        out.push_str(&format!("{i}: {ct:?} {body} {headers:?}\n"));
    }
    out
}

fn example_policy() -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/example.yaml");
    crate::policy::load_file(&path).expect("example policy").policy
}

/// When `raw` is elided at all, the copy parses to the same visible
/// structure and classifies the same, for its `From:` and for a policy person.
fn assert_equivalent(raw: &[u8], policy: &Policy) -> bool {
    let Some(copy) = elide_attachments(raw, 0) else { return false };
    assert!(copy.len() < raw.len());
    let parser = MessageParser::default();
    let full = parser.parse(raw).expect("original parses");
    let elided = parser.parse(&copy).expect("copy parses");
    assert_eq!(visible(&full), visible(&elided), "{}", String::from_utf8_lossy(raw));
    let from = full.from().and_then(|f| f.first()).and_then(|a| a.address()).unwrap_or_default();
    let person = policy.people.first().map(|p| p.email.clone()).unwrap_or_default();
    for sender in [from, person.as_str()] {
        assert_eq!(
            crate::classify::classify(&full, sender, policy),
            crate::classify::classify(&elided, sender, policy),
            "{sender}"
        );
    }
    true
}

#[test]
fn leaves_out_attachment_bodies_and_keeps_text() {
    let raw = with_attachment("Ik ben afwezig tot maandag.", 200);
    let copy = elide_attachments(raw.as_bytes(), 0).expect("elided");
    let copy = String::from_utf8(copy).unwrap();
    assert!(!copy.contains("JVBER"), "{copy}");
    assert!(copy.contains("Ik ben afwezig tot maandag."));
    assert!(
        copy.contains("Content-Disposition: attachment; filename=\"a.pdf\"\r\n\r\n\r\n--outer\r\n")
    );
    assert!(copy.ends_with("--outer--\r\nepilogue\r\n"));
    assert!(assert_equivalent(raw.as_bytes(), &example_policy()));
}

#[test]
fn small_attachments_are_not_worth_a_copy() {
    let raw = with_attachment("Tot maandag.", 2);
    assert!(elide_attachments(raw.as_bytes(), MIN_ELIDED_BYTES).is_none());
    assert!(elide_attachments(raw.as_bytes(), 0).is_some());
}

#[test]
fn gives_up_on_what_it_does_not_model() {
    let single = "From: a@x\r\nContent-Type: application/pdf\r\n\r\nJVBERi0x\r\n";
    assert!(elide_attachments(single.as_bytes(), 0).is_none());
    let unclosed = with_attachment("x", 3).replace("--outer--\r\nepilogue\r\n", "");
    let unclosed =
        unclosed.replace("\r\n--outer\r\nContent-Type: image/png", "\r\nContent-Type: image/png");
    assert!(elide_attachments(unclosed.as_bytes(), 0).is_none());
    let forwarded = "From: a@x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
                     Content-Type: text/plain\r\n\r\nzie onder\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n\
                     From: c@y\r\nContent-Type: application/pdf\r\n\r\nJVBERi0x\r\n--b--\r\n";
    assert!(elide_attachments(forwarded.as_bytes(), 0).is_none());
    let digest = "From: a@x\r\nContent-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\n\
                  From: c@y\r\n\r\nhi\r\n--b--\r\n";
    assert!(elide_attachments(digest.as_bytes(), 0).is_none());
}

#[test]
fn odd_delimiters_parse_as_mail_parser_reads_them() {
    let policy = example_policy();
    let cases = [
        // A longer boundary that starts with the real one, inside a body.
        with_attachment("x", 3).replace(
            "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            "Content-Type: application/octet-stream\r\n\r\nabc\r\n--outerwear\r\n",
        ),
        // A delimiter in the middle of a line, and LF line ends.
        with_attachment("x", 3).replace(
            "--outer\r\nContent-Type: image/png",
            "tail--outer\r\nContent-Type: image/png",
        ),
        with_attachment("x", 3).replace("\r\n", "\n"),
        // Upper-case types, transport padding after a delimiter.
        with_attachment("x", 3)
            .replace("application/pdf", "APPLICATION/PDF")
            .replace("--outer\r\n", "--outer  \r\n"),
        // Text parts in odd places and an attachment with a text type.
        with_attachment("x", 3).replace("image/png", "text/calendar; method=REPLY"),
    ];
    for raw in &cases {
        assert_equivalent(raw.as_bytes(), &policy);
    }
}

fn eml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            eml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

#[test]
fn every_test_message_classifies_the_same_without_attachment_bodies() {
    let policy = example_policy();
    let mut files = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    eml_files(&root, &mut files);
    assert!(files.len() > 20, "{}", files.len());
    let mut elided = 0;
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        if assert_equivalent(&raw, &policy) {
            elided += 1;
        }
    }
    assert!(elided > 0, "no test message has an attachment to leave out");
}
