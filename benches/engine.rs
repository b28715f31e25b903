//! Engine throughput on realistic messages: pass-through of ordinary mail
//! (5 KB text, 100 KB HTML newsletter, 10 MB attachment) and the two rewrites
//! that matter (an Outlook out-of-office, a team signature above a long
//! quoted thread). Figures go to docs/PERFORMANCE.md.

use std::hint::black_box;
use std::path::Path;

use base64::Engine as _;
use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn plain_5k() -> Vec<u8> {
    let mut body = String::new();
    let sentence = "Hierbij ontvangt u de stukken voor de jaarrekening; wilt u ze controleren en ondertekend terugsturen? ";
    while body.len() < 5 * 1024 {
        body.push_str(sentence);
        if body.len().is_multiple_of(3) {
            body.push('\n');
        }
        body.push('\n');
    }
    format!(
        "From: Maarten Hoekstra <maarten@hoekstra-advies.nl>\r\nTo: Piet de Groot <piet@voorbeeld.nl>\r\n\
         Subject: Jaarrekening 2025\r\nDate: Mon, 17 Nov 2025 10:00:00 +0100\r\nMessage-ID: <b1@hoekstra-advies.nl>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        body.replace('\n', "\r\n")
    )
    .into_bytes()
}

fn newsletter_100k() -> Vec<u8> {
    let mut html = String::from("<html><body><table width=\"600\">");
    while html.len() < 100 * 1024 {
        html.push_str("<tr><td style=\"padding:8px;font-family:Arial\"><h2>Nieuws uit de praktijk</h2><p>De belastingdienst heeft nieuwe regels gepubliceerd voor de aangifte omzetbelasting. Lees <a href=\"https://hoekstra-advies.nl/nieuws\">meer</a>.</p></td></tr>\r\n");
    }
    html.push_str("</table></body></html>\r\n");
    format!(
        "From: Nieuwsbrief <nieuws@hoekstra-advies.nl>\r\nTo: klant@example.nl\r\nSubject: Nieuwsbrief november\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}"
    )
    .into_bytes()
}

fn attachment_10m() -> Vec<u8> {
    let payload: Vec<u8> =
        (0..10 * 1024 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
    let mut lines = String::with_capacity(encoded.len() + encoded.len() / 38);
    for chunk in encoded.as_bytes().chunks(76) {
        lines.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
        lines.push_str("\r\n");
    }
    format!(
        "From: Maarten Hoekstra <maarten@hoekstra-advies.nl>\r\nTo: Piet de Groot <piet@voorbeeld.nl>\r\n\
         Subject: Scans\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBijgaand de scans.\r\n\r\n\
         --b\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{lines}--b--\r\n"
    )
    .into_bytes()
}

fn team_signature_long_thread() -> Vec<u8> {
    let mut quoted = String::new();
    for round in 0..40 {
        quoted.push_str(&format!(
            "> Op {round} nov. 2025 schreef Jan Bakker:\r\n> Kan de betaling in termijnen? Met vriendelijke groet, Team Incasso\r\n>\r\n"
        ));
    }
    format!(
        "From: Team Incasso <incasso@hoekstra-advies.nl>\r\nTo: \"Bakker, Jan\" <jan.bakker@example.nl>\r\n\
         Subject: Re: Betalingsregeling\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Beste heer Bakker,\r\n\r\nUw betalingsregeling is akkoord.\r\n\r\nMet vriendelijke groet,\r\nTeam Incasso\r\n\r\n\
         Op 13 nov. 2025 om 16:02 schreef Jan Bakker <jan.bakker@example.nl>:\r\n{quoted}"
    )
    .into_bytes()
}

/// A 5 KB reply from a shared team address, signed by a named member above
/// the quoted question: ordinary team mail that goes through sign-off
/// detection and must come out unchanged.
fn team_reply_named_5k() -> Vec<u8> {
    let mut body = String::from(
        "Beste mevrouw Jansen,\r\n\r\nDank voor uw vraag over de voorlopige aanslag inkomstenbelasting 2025.\r\n",
    );
    let paragraph = "Wij hebben de gegevens die u stuurde verwerkt in de aangifte. De hypotheekrente en de \
                     giften zijn volledig meegenomen; voor de zorgkosten ontbreekt nog een specificatie van de apotheek.\r\n\r\n";
    while body.len() < 3 * 1024 {
        body.push_str(paragraph);
    }
    body.push_str("Met vriendelijke groet,\r\n\r\nFemke de Vries\r\nTeam Aangifte\r\nHoekstra Belastingadviseurs\r\n\r\n");
    body.push_str("Op 12 nov. 2025 om 09:41 schreef Anna Jansen <anna.jansen@example.nl>:\r\n");
    while body.len() < 5 * 1024 {
        body.push_str(
            "> Kunt u mij laten weten of de zorgkosten nog aftrekbaar zijn dit jaar?\r\n",
        );
    }
    format!(
        "From: Team Aangifte <aangifte@hoekstra-advies.nl>\r\nTo: Anna Jansen <anna.jansen@example.nl>\r\n\
         Subject: Re: Voorlopige aanslag 2025\r\nDate: Thu, 13 Nov 2025 14:20:00 +0100\r\n\
         Message-ID: <t1@hoekstra-advies.nl>\r\nIn-Reply-To: <q1@example.nl>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

fn bench_engine(c: &mut Criterion) {
    let policy =
        policy::load_file(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/example.yaml")))
            .expect("example policy")
            .policy;
    let options = EngineOptions::default();
    let outlook = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/outlook-oof-nl-windows1252.eml"
    ))
    .expect("golden Outlook message");
    let cases: [(&str, Vec<u8>, Envelope); 6] = [
        (
            "passthrough_text_5k",
            plain_5k(),
            Envelope::new("maarten@hoekstra-advies.nl", ["piet@voorbeeld.nl"]),
        ),
        (
            "passthrough_html_100k",
            newsletter_100k(),
            Envelope::new("nieuws@hoekstra-advies.nl", ["klant@example.nl"]),
        ),
        (
            "passthrough_attachment_10m",
            attachment_10m(),
            Envelope::new("maarten@hoekstra-advies.nl", ["piet@voorbeeld.nl"]),
        ),
        (
            "signoff_team_reply_named_5k",
            team_reply_named_5k(),
            Envelope::new("aangifte@hoekstra-advies.nl", ["anna.jansen@example.nl"]),
        ),
        (
            "rewrite_outlook_oof",
            outlook,
            Envelope::new("maarten@hoekstra-advies.nl", ["piet@bakkerij-degroot.nl"]),
        ),
        (
            "rewrite_team_signature_thread",
            team_signature_long_thread(),
            Envelope::new("incasso@hoekstra-advies.nl", ["jan.bakker@example.nl"]),
        ),
    ];
    // The workload must be what its name says: a pass-through that got
    // rewritten (or a rewrite that passed) would measure the wrong path.
    for (name, raw, envelope) in &cases {
        let outcome = engine::process(raw, envelope, &policy, &options);
        let expected = if name.starts_with("rewrite_") {
            Disposition::Rewritten
        } else {
            Disposition::Untouched
        };
        assert_eq!(outcome.disposition, expected, "{name}: {:?}", outcome.classification);
    }
    let mut group = c.benchmark_group("engine");
    for (name, raw, envelope) in &cases {
        group.throughput(Throughput::Bytes(raw.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| engine::process(black_box(raw), envelope, &policy, &options))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
