//! Property: whatever the structure, charset, transfer encoding, line
//! ending and plan, a rewritten message parses again with the same parts,
//! identical attachments, and text parts that decode to what was reported.

mod rewrite_common;

use base64::Engine as _;
use mail_parser::MessageParser;
use proptest::prelude::*;
use rewrite_common::*;

const WORDS: &[&str] =
    &["Ik", "ben", "afwezig", "café", "Team", "Incasso", "vragen", "één", "tot", "maandag."];
const INSERTS: &[&str] =
    &["Beste Ann,", "Łukasz helpt u.", "Tot één uur.", "Call Piet on 010 123."];

fn encode_text(text: &str, charset: &str, cte: &str, eol: &str) -> Vec<u8> {
    let text = text.replace('\n', eol);
    let bytes: Vec<u8> = match charset {
        "iso-8859-1" => text.chars().map(|c| c as u32 as u8).collect(),
        "windows-1252" => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
        _ => text.into_bytes(),
    };
    match cte {
        "quoted-printable" => {
            quoted_printable::encode_to_str(&bytes).replace("\r\n", eol).into_bytes()
        }
        "base64" => {
            let b = base64::engine::general_purpose::STANDARD.encode(&bytes);
            b.as_bytes().chunks(76).collect::<Vec<_>>().join(eol.as_bytes())
        }
        _ => bytes,
    }
}

fn part(ctype: &str, text: &str, charset: &str, cte: &str, eol: &str) -> Vec<u8> {
    let mut out = format!(
        "Content-Type: {ctype}; charset={charset}{eol}Content-Transfer-Encoding: {cte}{eol}{eol}"
    )
    .into_bytes();
    out.extend(encode_text(text, charset, cte, eol));
    out
}

fn edit_strategy() -> impl Strategy<Value = courtesy::plan::TextEdit> {
    (0..4usize, 0..WORDS.len(), 0..INSERTS.len()).prop_map(|(kind, w, i)| {
        let (word, text) = (WORDS[w], INSERTS[i]);
        match kind {
            0 => prepend("p", text, text),
            1 => append("a", text, text),
            2 => replace("r", word, text, text),
            _ => insert_after("i", word, text, text),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn rewritten_messages_stay_valid(
        lines in prop::collection::vec(prop::collection::vec(0..WORDS.len(), 0..8), 1..6),
        history in any::<bool>(),
        crlf in any::<bool>(),
        shape in 0..4usize,
        charset in prop::sample::select(vec!["utf-8", "iso-8859-1", "windows-1252", "us-ascii"]),
        cte in prop::sample::select(vec!["7bit", "8bit", "quoted-printable", "base64"]),
        edits in prop::collection::vec(edit_strategy(), 1..4),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text: String = lines.iter().map(|l| l.iter().map(|w| WORDS[*w]).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n");
        text.push('\n');
        if history {
            text.push_str("\nOn Mon, Ann wrote:\n> Team Incasso café\n");
        }
        if charset == "us-ascii" {
            text = text.replace(['é', 'ë'], "e");
        }
        let cte = if cte == "7bit" && !text.is_ascii() { "quoted-printable" } else { cte };
        let html = format!("<html><body><div>{}</div>{}</body></html>", text.lines().take_while(|l| !l.starts_with("On Mon")).collect::<Vec<_>>().join("<br>"), if history { "<blockquote>Team Incasso</blockquote>" } else { "" });
        let mut raw = format!("From: a@example.com{eol}Subject: away{eol}MIME-Version: 1.0{eol}").into_bytes();
        let b = |s: &str| format!("{eol}--{s}{eol}").into_bytes();
        match shape {
            0 => raw.extend(part("text/plain", &text, charset, cte, eol)),
            1 => raw.extend(part("text/html", &html, charset, cte, eol)),
            _ => {
                let outer = if shape == 2 { "alternative" } else { "mixed" };
                raw.extend(format!("Content-Type: multipart/{outer}; boundary=\"OUT\"{eol}{eol}").into_bytes());
                raw.extend(format!("--OUT{eol}").into_bytes());
                raw.extend(part("text/plain", &text, charset, cte, eol));
                if shape == 2 {
                    raw.extend(b("OUT"));
                    raw.extend(part("text/html", &html, charset, cte, eol));
                } else {
                    raw.extend(b("OUT"));
                    raw.extend(format!("Content-Type: application/octet-stream{eol}Content-Disposition: attachment; filename=\"x.bin\"{eol}Content-Transfer-Encoding: base64{eol}{eol}AAECAwQFBgcICQ=={eol}").into_bytes());
                }
                raw.extend(format!("{eol}--OUT--{eol}").into_bytes());
            }
        }
        raw.extend(eol.as_bytes());

        if let Some(r) = run(&raw, &plan(edits)) {
            let m = MessageParser::default().parse(&r.message[..]).unwrap();
            for change in &r.parts {
                prop_assert!(!change.rules.is_empty());
                let decoded = m.parts[change.part].text_contents().unwrap();
                prop_assert_eq!(decoded.replace("\r\n", "\n"), change.after.replace("\r\n", "\n"));
            }
        }
    }
}
