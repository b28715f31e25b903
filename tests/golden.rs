//! Golden rewrites: every `tests/golden/NAME.eml` must turn into
//! `NAME.expected.eml` (and the preview summary into `NAME.expected.json`)
//! with `policies/example.yaml`, in both LF and CRLF line endings.
//!
//! On a mismatch the actual output is written next to the expectation as
//! `NAME.actual.eml` and a diff is printed. `COURTESY_BLESS=1` rewrites the
//! expectations on purpose.

use std::path::{Path, PathBuf};

use courtesy::cli::preview::summary;
use courtesy::engine::{self, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn envelope_of(raw: &[u8]) -> Envelope {
    let headers = mail_parser::MessageParser::default().parse_headers(raw).expect("headers");
    let address = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|a| a.address()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    Envelope {
        mail_from: address(headers.from()).into_iter().next().unwrap_or_default(),
        rcpt_to: address(headers.to()),
    }
}

fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let lf = to_lf(bytes);
    let mut out = Vec::with_capacity(lf.len() + lf.len() / 40);
    for &b in &lf {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".eml") && !name.contains(".expected.") && !name.contains(".actual.")
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn golden_rewrites() {
    let loaded =
        policy::load_file(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/example.yaml")))
            .expect("the example policy loads");
    let cases = cases();
    assert!(cases.len() >= 8, "the golden folder lost its cases: {cases:?}");
    let bless = std::env::var_os("COURTESY_BLESS").is_some();
    let mut failures = Vec::new();

    for input in &cases {
        let raw = std::fs::read(input).expect("readable case");
        let envelope = envelope_of(&raw);
        let outcome = engine::process(&raw, &envelope, &loaded.policy, &EngineOptions::default());
        let output = outcome.output(&raw).to_vec();
        let mut json = summary(&outcome);
        if let Some(object) = json.as_object_mut() {
            // Parts carry the whole decoded text; the .eml already pins it.
            object.remove("parts");
        }
        let json = serde_json::to_string_pretty(&json).expect("json") + "\n";

        let expected_eml = input.with_extension("expected.eml");
        let expected_json = input.with_extension("expected.json");
        if bless || !expected_eml.exists() {
            std::fs::write(&expected_eml, &output).expect("write expectation");
            std::fs::write(&expected_json, &json).expect("write expectation");
            continue;
        }
        let want = std::fs::read(&expected_eml).expect("expected eml");
        let want_json = std::fs::read_to_string(&expected_json).expect("expected json");
        if output != want {
            let actual = input.with_extension("actual.eml");
            std::fs::write(&actual, &output).expect("write actual");
            let diff = similar::TextDiff::from_lines(
                String::from_utf8_lossy(&want).into_owned(),
                String::from_utf8_lossy(&output).into_owned(),
            )
            .unified_diff()
            .header("expected", "actual")
            .to_string();
            failures.push(format!(
                "{}: output differs, see {}\n{diff}",
                input.display(),
                actual.display()
            ));
        }
        if json != want_json {
            failures.push(format!(
                "{}: summary differs\nexpected {want_json}\nactual {json}",
                input.display()
            ));
        }

        // The other line ending must give the same result in that line ending.
        let crlf_input = raw.windows(2).any(|w| w == b"\r\n");
        let (variant, want_variant) =
            if crlf_input { (to_lf(&raw), to_lf(&want)) } else { (to_crlf(&raw), to_crlf(&want)) };
        let outcome =
            engine::process(&variant, &envelope, &loaded.policy, &EngineOptions::default());
        if outcome.output(&variant) != want_variant.as_slice() {
            failures.push(format!(
                "{}: the {} variant does not match the expectation",
                input.display(),
                if crlf_input { "LF" } else { "CRLF" }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
