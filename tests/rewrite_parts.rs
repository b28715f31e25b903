//! Rewrites of real-shaped messages: charsets, transfer encodings, line
//! endings, attachments, quoted history and top-level header changes.

mod rewrite_common;

use courtesy::rewrite::{HeaderChange, RewriteError, rewrite};
use mail_parser::{MessageParser, MimeHeaders};
use rewrite_common::*;

const OUTLOOK: &str = "From: Incasso <incasso@example.com>\n\
To: ann@example.org\n\
Subject: Automatisch antwoord: factuur\n\
MIME-Version: 1.0\n\
Content-Type: multipart/alternative; boundary=\"_000_AM0PR\"\n\
\n\
--_000_AM0PR\n\
Content-Type: text/plain; charset=\"windows-1252\"\n\
Content-Transfer-Encoding: quoted-printable\n\
\n\
Ik ben afwezig tot maandag. Voor urgente vragen kunt u bellen.\n\
\n\
Team Incasso\n\
\n\
-----Original Message-----\n\
From: Ann <ann@example.org>\n\
Caf=E9 ok?\n\
\n\
--_000_AM0PR\n\
Content-Type: text/html; charset=\"windows-1252\"\n\
Content-Transfer-Encoding: quoted-printable\n\
\n\
<html><head><meta http-equiv=3D\"Content-Type\" content=3D\"text/html; charse=\n\
t=3Dwindows-1252\"><style>p.MsoNormal {margin:0cm;}</style></head>\n\
<body lang=3D\"NL\"><div class=3D\"WordSection1\">\n\
<p class=3D\"MsoNormal\"><span style=3D\"font-size:11.0pt\">Ik ben afwezig t=\n\
ot maandag. Voor <b>urgente</b> vragen kunt u&nbsp;bellen.</span></p>\n\
<p class=3D\"MsoNormal\"><span>&nbsp;</span></p>\n\
<p class=3D\"MsoNormal\"><span>Team Incasso</span></p>\n\
</div>\n\
<div id=3D\"divRplyFwdMsg\"><p>From: Ann</p><p>Caf=E9 ok? Team Incasso</p></di=\n\
v>\n\
</body></html>\n\
\n\
--_000_AM0PR--\n";

fn outlook_plan() -> courtesy::plan::Plan {
    plan(vec![
        prepend("salutation", "Beste Ann,", "Beste Ann,"),
        replace("phrase:urgent", "urgente vragen", "alle vragen", "alle vragen"),
        insert_after(
            "substitute",
            "kunt u bellen.",
            "Mijn collega Łukasz helpt u graag.",
            "Mijn collega Łukasz helpt u graag.",
        ),
        replace("team", "Team Incasso", "Piet en Łukasz", "Piet en Łukasz"),
    ])
}

fn text_of(raw: &[u8], id: usize) -> String {
    let m = MessageParser::default().parse(raw).unwrap();
    m.parts[id].text_contents().unwrap().to_string()
}

#[test]
fn outlook_windows_1252_falls_back_to_utf8() {
    for raw in [OUTLOOK.as_bytes().to_vec(), lf_to_crlf(OUTLOOK)] {
        let r = run(&raw, &outlook_plan()).expect("rewritten");
        // Only the trace header changes at the top level of a multipart.
        assert_eq!(r.header_changes.len(), 1);
        assert!(
            matches!(&r.header_changes[0], HeaderChange::Add { name, .. } if name == "X-Courtesy")
        );

        let plain = text_of(&r.message, 1);
        assert!(plain.starts_with("Beste Ann,"), "{plain}");
        assert!(plain.contains("alle vragen kunt u bellen."));
        assert!(plain.contains("Mijn collega Łukasz helpt u graag."));
        assert!(
            plain.contains("Piet en Łukasz\r\n\r\n-----Original")
                || plain.contains("Piet en Łukasz\n\n-----Original")
        );
        assert!(plain.ends_with("Café ok?\n") || plain.ends_with("Café ok?\r\n"));

        let html = text_of(&r.message, 2);
        assert!(html.contains("<p>Beste Ann,</p><p class=\"MsoNormal\">"), "{html}");
        assert!(
            html.contains(
                "Voor <b>alle vragen</b> kunt u&nbsp;bellen.</span></p><p>Mijn collega Łukasz"
            ),
            "{html}"
        );
        assert!(html.contains("<span>Piet en Łukasz</span>"));
        assert!(html.contains("<p>Café ok? Team Incasso</p>"), "history untouched");
        assert!(html.contains("charset=utf-8\">"), "meta charset follows the part: {html}");

        let m = MessageParser::default().parse(&r.message[..]).unwrap();
        for id in [1, 2] {
            assert_eq!(m.parts[id].content_type().unwrap().attribute("charset"), Some("utf-8"));
        }
        assert_eq!(r.parts.len(), 2);
        assert_eq!(r.parts[0].charset_before, "windows-1252");
        assert_eq!(r.parts[0].charset_after, "utf-8");
        assert_eq!(r.parts[0].rules, vec!["salutation", "phrase:urgent", "substitute", "team"]);
        for line in r.message.split(|b| *b == b'\n') {
            assert!(line.len() <= 77, "QP line too long");
        }
    }
}

#[test]
fn outlook_edit_that_fits_keeps_windows_1252_and_history_bytes() {
    let raw = lf_to_crlf(OUTLOOK);
    let r =
        run(&raw, &plan(vec![prepend("salutation", "Beste Anné,", "Beste Ann&eacute;,")])).unwrap();
    let m = MessageParser::default().parse(&r.message[..]).unwrap();
    assert_eq!(m.parts[1].content_type().unwrap().attribute("charset"), Some("windows-1252"));
    assert!(find(&r.message, b"Beste Ann=E9,\r\n\r\nIk ben").is_some());
    // Quoted history keeps its raw QP bytes in both parts.
    assert!(
        find(
            &r.message,
            b"-----Original Message-----\r\nFrom: Ann <ann@example.org>\r\nCaf=E9 ok?\r\n"
        )
        .is_some()
    );
    assert!(find(&r.message, b"<div id=3D\"divRplyFwdMsg\"><p>From: Ann</p><p>Caf=E9 ok? Team Incasso</p></di=\r\nv>").is_some());
    // The HTML head is outside the edited lines and keeps its bytes.
    assert!(find(&r.message, b"charse=\r\nt=3Dwindows-1252").is_some());
}

#[test]
fn iso_8859_1_eight_bit_stays_latin1() {
    let raw = b"From: a@example.com\r\nSubject: afwezig\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nIk ben afwezig, caf\xe9 gesloten.\r\n\r\nTeam\r\n".to_vec();
    let r =
        run(&raw, &plan(vec![append("promise", "U krijgt binnen één dag antwoord.", "")])).unwrap();
    assert_eq!(r.header_changes.len(), 1, "{:?}", r.header_changes);
    assert!(find(&r.message, b"Team\r\n\r\nU krijgt binnen \xe9\xe9n dag antwoord.\r\n").is_some());
    assert_eq!(r.parts[0].charset_after, "ISO-8859-1");
    assert_eq!(r.parts[0].transfer_encoding, "8bit");
}

#[test]
fn seven_bit_plain_switches_to_qp_and_utf8_at_top_level() {
    for raw in [
        "From: a@example.com\nSubject: away\nContent-Type: text/plain\n\nI am away.\n\n> old text\n".as_bytes().to_vec(),
        lf_to_crlf("From: a@example.com\nSubject: away\nContent-Type: text/plain\n\nI am away.\n\n> old text\n"),
    ] {
        let r = run(&raw, &plan(vec![insert_after("nl", "I am away.", "Tot één uur.", "")])).unwrap();
        let changes: Vec<(&str, &str)> = r
            .header_changes
            .iter()
            .map(|c| match c {
                HeaderChange::Change { name, value, .. } => (name.as_str(), value.as_str()),
                HeaderChange::Add { name, value } => (name.as_str(), value.as_str()),
            })
            .collect();
        assert_eq!(
            changes,
            vec![
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "quoted-printable"),
                ("X-Courtesy", "rewritten by courtesy; rules=test"),
            ]
        );
        assert_eq!(text_of(&r.message, 0).replace("\r\n", "\n"), "I am away.\n\nTot één uur.\n\n> old text\n");
        assert!(find(&r.message, b"Tot =C3=A9=C3=A9n uur.").is_some());
        assert!(r.message[r.body_start..].starts_with(b"I am away."));
    }
}

#[test]
fn message_without_mime_headers_gets_them() {
    let raw = b"From: a@example.com\nSubject: away\n\nI am away.\n";
    let r = run(raw, &plan(vec![append("r", "Tot één uur.", "")])).unwrap();
    let names: Vec<String> = r
        .header_changes
        .iter()
        .map(|c| match c {
            HeaderChange::Add { name, .. } | HeaderChange::Change { name, .. } => name.clone(),
        })
        .collect();
    assert_eq!(
        names,
        vec!["MIME-Version", "Content-Type", "Content-Transfer-Encoding", "X-Courtesy"]
    );
}

#[test]
fn utf8_base64_html_only_appends_before_gmail_quote() {
    use base64::Engine as _;
    let html = "<div dir=\"ltr\">Ik ben er niet.<br></div><br><div class=\"gmail_quote\"><div>Op ma schreef Ann:</div><blockquote>vraag</blockquote></div>\n";
    let b64 = base64::engine::general_purpose::STANDARD.encode(html);
    let lines: Vec<&str> =
        b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let raw = format!(
        "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        lines.join("\r\n")
    );
    let r =
        run(raw.as_bytes(), &plan(vec![append("promise", "", "Binnen &eacute;&eacute;n dag.")]))
            .unwrap();
    let out = text_of(&r.message, 0);
    assert_eq!(
        out,
        "<div dir=\"ltr\">Ik ben er niet.<br></div><br><p>Binnen &eacute;&eacute;n dag.</p><div class=\"gmail_quote\"><div>Op ma schreef Ann:</div><blockquote>vraag</blockquote></div>\n"
    );
    let body = &r.message[r.body_start..];
    assert!(body.split(|b| *b == b'\n').all(|l| l.len() <= 77));
    assert_eq!(r.header_changes.len(), 1);
}

#[test]
fn attachment_stays_byte_identical() {
    let pdf = "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\r\nZT4+CnN0cmVhbQp4nCvkMlAwUDC1NNUzMVGwMDHSszRSKErlCtfiAgBFIwUeCmVuZHN0cmVhbQ==";
    let raw = format!(
        "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAway.\r\n--b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n--b1\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment\r\n\r\nAway. Not me.\r\n--b1--\r\n"
    );
    let r =
        run(raw.as_bytes(), &plan(vec![replace("r", "Away.", "Away until Monday.", "")])).unwrap();
    let tail = &raw[raw.find("--b1\r\nContent-Type: application/pdf").unwrap()..];
    assert!(r.message.ends_with(tail.as_bytes()), "everything after the text part is identical");
    assert_eq!(r.parts.len(), 1);
}

#[test]
fn plain_quoted_history_keeps_bytes() {
    let raw = b"From: a@example.com\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nHallo,\n\nAfwezig.\n\nOp maandag schreef Ann:\n> Caf=C3=A9 =\n> lang\n> Team Incasso\n";
    let r = run(
        raw,
        &plan(vec![replace("team", "Team Incasso", "x", ""), prepend("s", "Beste Ann,", "")]),
    )
    .unwrap();
    assert!(
        r.message
            .ends_with(b"\n\nOp maandag schreef Ann:\n> Caf=C3=A9 =\n> lang\n> Team Incasso\n")
    );
    assert_eq!(r.parts[0].rules, vec!["s"]);
    assert_eq!(r.parts[0].unapplied, vec!["team"]);
}

#[test]
fn html_span_across_inline_elements_and_entities() {
    let raw = b"From: a@example.com\nContent-Type: text/html; charset=utf-8\n\n<p>Voor <b>urgente</b>\n  vragen &amp; klachten: bel.</p><blockquote>urgente vragen</blockquote>\n";
    let r = run(
        raw,
        &plan(vec![replace("u", "urgente vragen & klachten", "x", "alle vragen &amp; klachten")]),
    )
    .unwrap();
    assert_eq!(
        text_of(&r.message, 0),
        "<p>Voor <b>alle vragen &amp; klachten</b>: bel.</p><blockquote>urgente vragen</blockquote>\n"
    );
}

#[test]
fn nothing_applies_gives_none() {
    let raw = b"From: a@example.com\n\nHello\n";
    assert!(run(raw, &plan(vec![replace("r", "absent", "x", "x")])).is_none());
    assert!(run(raw, &plan(vec![])).is_none());
}

#[test]
fn signed_mail_is_refused() {
    let raw = b"From: a@example.com\nContent-Type: multipart/signed; boundary=s; protocol=\"application/pgp-signature\"\n\n--s\nContent-Type: text/plain\n\nAway.\n--s\nContent-Type: application/pgp-signature\n\nsig\n--s--\n";
    let message = MessageParser::default().parse(&raw[..]).unwrap();
    let result = rewrite(raw, &message, &plan(vec![prepend("s", "Hi", "Hi")]), "t");
    assert!(matches!(result, Err(RewriteError::Structure(_))));
}

#[test]
fn forwarded_message_is_not_rewritten() {
    let raw = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nSee below.\n--m\nContent-Type: message/rfc822\n\nFrom: b@example.com\nSubject: fw\n\nSee below too.\n--m--\n";
    let r = run(raw, &plan(vec![append("r", "Thanks.", "")])).unwrap();
    assert_eq!(r.parts.len(), 1);
    assert!(find(&r.message, b"Subject: fw\n\nSee below too.\n--m--\n").is_some());
}
