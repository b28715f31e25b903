//! Properties of the engine over generated, real-shaped messages:
//! - mail that is not rewritten leaves byte-identical;
//! - a rewritten message still parses, with the same parts, the same
//!   attachment bytes and the same headers apart from the trace header and
//!   the content headers of a single-part message;
//! - rewriting the result again (as a second gateway would) changes nothing.

use std::sync::LazyLock;

use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy::{self, Policy};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use proptest::prelude::*;

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    policy::load_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/example.yaml"
    )))
    .expect("example policy")
    .policy
});

const SENDERS: &[&str] = &[
    "Maarten Hoekstra <maarten@hoekstra-advies.nl>",
    "Team Incasso <incasso@hoekstra-advies.nl>",
    "Onbekend <iemand@hoekstra-advies.nl>",
    "Extern <someone@example.org>",
];
const SUBJECTS: &[&str] = &[
    "Automatisch antwoord: Jaarstukken",
    "Out of Office: figures",
    "Abwesenheitsnotiz: Termin",
    "Réponse automatique : dossier",
    "Re: Jaarstukken",
    "Factuur november",
];
const SENTENCES: &[&str] = &[
    "Ik ben afwezig tot en met 10 november.",
    "Voor dringende zaken kunt u contact opnemen met een van mijn collega's.",
    "U ontvangt binnen 10 dagen een reactie.",
    "Ik ben afwezig op dinsdag en donderdag in de oneven weken.",
    "I am out of the office until Monday.",
    "For urgent matters please contact one of my colleagues.",
    "I will reply within two weeks.",
    "De stukken zijn in goede orde ontvangen.",
    "Wij nemen zo snel mogelijk contact met u op.",
    ".Een regel die met een punt begint.",
    "Prijs: € 1.250,- inclusief btw, café geopend.",
];
const CLOSINGS: &[&str] = &[
    "Met vriendelijke groet,\nMaarten Hoekstra",
    "Met vriendelijke groet,\nTeam Incasso",
    "Kind regards,\nThe management",
    "",
];

#[derive(Debug, Clone)]
struct Shape {
    sender: usize,
    subject: usize,
    auto_submitted: bool,
    sentences: Vec<usize>,
    closing: usize,
    quoted: bool,
    structure: u8,
    encoding: u8,
    crlf: bool,
}

fn shapes() -> impl Strategy<Value = Shape> {
    (
        0..SENDERS.len(),
        0..SUBJECTS.len(),
        any::<bool>(),
        prop::collection::vec(0..SENTENCES.len(), 1..6),
        0..CLOSINGS.len(),
        any::<bool>(),
        0u8..3,
        0u8..3,
        any::<bool>(),
    )
        .prop_map(
            |(
                sender,
                subject,
                auto_submitted,
                sentences,
                closing,
                quoted,
                structure,
                encoding,
                crlf,
            )| Shape {
                sender,
                subject,
                auto_submitted,
                sentences,
                closing,
                quoted,
                structure,
                encoding,
                crlf,
            },
        )
}

fn encode_text(text: &str, encoding: u8) -> (String, String, &'static str) {
    match encoding {
        0 => ("utf-8".into(), text.to_string(), "8bit"),
        1 => {
            // Line by line, so hard line breaks stay line breaks; soft breaks
            // come out as CRLF and are written as LF like the rest of the
            // message (the CRLF variant converts all of it at the end).
            let qp = text
                .split('\n')
                .map(|line| {
                    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(line);
                    String::from_utf8(quoted_printable::encode(&*bytes))
                        .expect("qp is ascii")
                        .replace("\r\n", "\n")
                })
                .collect::<Vec<_>>()
                .join("\n");
            ("windows-1252".into(), qp, "quoted-printable")
        }
        _ => {
            use base64::Engine as _;
            let b = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            let lines: Vec<&str> =
                b.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
            ("utf-8".into(), lines.join("\n") + "\n", "base64")
        }
    }
}

fn build(shape: &Shape) -> Vec<u8> {
    let mut body = shape.sentences.iter().map(|&i| SENTENCES[i]).collect::<Vec<_>>().join(" ");
    if !CLOSINGS[shape.closing].is_empty() {
        body.push_str("\n\n");
        body.push_str(CLOSINGS[shape.closing]);
    }
    body.push('\n');
    if shape.quoted {
        body.push_str("\nOp 3 nov. 2025 schreef Piet de Groot <piet@voorbeeld.nl>:\n> Hoe staat het ervoor?\n> Team Incasso\n");
    }
    let html = format!(
        "<html><body>{}</body></html>\n",
        body.split("\n\n")
            .map(|p| format!(
                "<p>{}</p>",
                p.replace('&', "&amp;").replace('<', "&lt;").replace('\n', "<br>")
            ))
            .collect::<String>()
    );
    let (charset, plain, cte) = encode_text(&body, shape.encoding);
    let (hcharset, html_enc, hcte) = encode_text(&html, shape.encoding);
    let mut msg = format!(
        "From: {}\nTo: \"de Groot, Piet\" <piet@bakkerij-degroot.nl>\nSubject: {}\nDate: Mon, 3 Nov 2025 09:00:00 +0100\nMessage-ID: <p@hoekstra-advies.nl>\n{}MIME-Version: 1.0\n",
        SENDERS[shape.sender],
        SUBJECTS[shape.subject],
        if shape.auto_submitted { "Auto-Submitted: auto-replied\n" } else { "" }
    );
    match shape.structure {
        0 => msg.push_str(&format!("Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n{plain}")),
        1 => msg.push_str(&format!(
            "Content-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n{plain}\n--alt\nContent-Type: text/html; charset={hcharset}\nContent-Transfer-Encoding: {hcte}\n\n{html_enc}\n--alt--\n"
        )),
        _ => msg.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"mix\"\n\n--mix\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n{plain}\n--mix\nContent-Type: application/octet-stream; name=\"a.bin\"\nContent-Disposition: attachment; filename=\"a.bin\"\nContent-Transfer-Encoding: base64\n\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n--mix--\n"
        )),
    }
    if shape.crlf { msg.replace('\n', "\r\n").into_bytes() } else { msg.into_bytes() }
}

fn attachments(raw: &[u8]) -> Vec<Vec<u8>> {
    let message = MessageParser::default().parse(raw).expect("parses");
    message
        .parts
        .iter()
        .filter(|p| {
            matches!(p.body, PartType::Binary(_) | PartType::InlineBinary(_))
                || p.attachment_name().is_some()
        })
        .map(|p| p.contents().to_vec())
        .collect()
}

fn headers_without_trace(raw: &[u8]) -> Vec<(String, String)> {
    let message = MessageParser::default().parse(raw).expect("parses");
    let single_part = message.parts.len() == 1;
    message.parts[0]
        .headers
        .iter()
        .filter(|h| {
            let name = h.name().to_ascii_lowercase();
            name != "x-courtesy"
                && !(single_part && (name == "content-type" || name == "content-transfer-encoding"))
        })
        .map(|h| {
            let start = h.offset_field as usize;
            let end = h.offset_end as usize;
            (h.name().to_string(), String::from_utf8_lossy(&raw[start..end]).into_owned())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_keeps_messages_valid(shape in shapes()) {
        let raw = build(&shape);
        let envelope = Envelope::new("", ["piet@bakkerij-degroot.nl"]);
        let options = EngineOptions::default();
        let outcome = engine::process(&raw, &envelope, &POLICY, &options);
        let output = outcome.output(&raw);
        if outcome.disposition != Disposition::Rewritten {
            prop_assert_eq!(output, raw.as_slice());
            return Ok(());
        }
        let before = MessageParser::default().parse(&raw).expect("input parses");
        let after = MessageParser::default().parse(output);
        prop_assert!(after.is_some(), "rewritten message does not parse");
        let after = after.unwrap();
        prop_assert_eq!(before.parts.len(), after.parts.len());
        prop_assert_eq!(attachments(&raw), attachments(output));
        prop_assert_eq!(headers_without_trace(&raw), headers_without_trace(output));
        prop_assert!(after.header_values("X-Courtesy").count() == 1);

        // A second gateway with another name finds nothing left to change.
        let second = EngineOptions { instance: "second".into(), ..EngineOptions::default() };
        let again = engine::process(output, &envelope, &POLICY, &second);
        prop_assert!(
            again.disposition != Disposition::Rewritten,
            "rewritten twice: rules {:?} after {:?}\nfirst output:\n{}",
            again.rules,
            outcome.rules,
            String::from_utf8_lossy(output)
        );
    }
}
