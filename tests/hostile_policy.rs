//! A policy file is trusted configuration, but its values reach customers'
//! mail: they must not be able to add headers, break the MIME structure or
//! inject markup, and a broken or hostile file must be refused, not hang.

use std::path::Path;

use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy;

fn example_yaml() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/example.yaml");
    std::fs::read_to_string(path).unwrap()
}

fn vacation_reply(to_header: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/gmail-vacation-en.eml");
    let raw = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
    raw.replacen("To: John Smith <john.smith@example.co.uk>", to_header, 1).into_bytes()
}

/// "file:line:column: message" of each error.
fn errors(text: &str) -> Vec<(String, Option<String>)> {
    match policy::load_str(text, "p.yaml") {
        Ok(_) => panic!("policy unexpectedly valid"),
        Err(e) => e
            .errors()
            .map(|d| (format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message), d.hint.clone()))
            .collect(),
    }
}

fn headers_of(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message).replace("\r\n", "\n");
    let head = &text[..text.find("\n\n").expect("header end")];
    head.split('\n')
        .filter(|l| !l.starts_with([' ', '\t']))
        .map(|l| l.split(':').next().unwrap().to_ascii_lowercase())
        .collect()
}

#[test]
fn policy_values_with_line_breaks_are_refused_with_their_position() {
    for (from, to) in [
        (
            "name: Hoekstra Belastingadviseurs ",
            r#"name: "Evil\r\nBcc: thief@attacker.example\r\n\r\n--b\r\nContent-Type: text/html" "#,
        ),
        ("phone: \"+31 30 555 0100\"", "phone: \"+31 30 555 0100\\nX-Injected: 1\""),
        ("name: Nadia el Amrani", "name: \"Nadia\\rBcc: x@attacker.example\""),
    ] {
        let yaml = example_yaml().replacen(from, to, 1);
        assert_ne!(yaml, example_yaml(), "the example policy changed shape: {from}");
        let line = yaml.lines().position(|l| l.contains(to.trim())).unwrap() + 1;
        let errs = errors(&yaml);
        assert!(errs[0].0.starts_with(&format!("p.yaml:{line}:")), "{errs:?}");
        assert!(errs[0].0.contains("line break"), "{errs:?}");
    }
}

#[test]
fn html_in_policy_values_and_recipient_names_is_escaped() {
    let yaml = example_yaml().replacen(
        "name: Hoekstra Belastingadviseurs ",
        "name: \"<script>alert(1)</script> & Co\" ",
        1,
    );
    let loaded = policy::load_str(&yaml, "p.yaml").expect("markup is allowed as text");
    let input =
        vacation_reply("To: \"<img src=x onerror=alert(1)> Smith\" <john.smith@example.co.uk>");
    let envelope = Envelope::new("sophie@hoekstra-advies.nl", ["john.smith@example.co.uk"]);
    let outcome = engine::process(&input, &envelope, &loaded.policy, &EngineOptions::default());
    assert_eq!(outcome.disposition, Disposition::Rewritten);
    let output = outcome.output(&input).to_vec();
    let mut expected = headers_of(&input);
    expected.push("x-courtesy".into());
    let mut got = headers_of(&output);
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "a value added or removed a header");
    let parsed = mail_parser::MessageParser::default().parse(&output).unwrap();
    assert_eq!(parsed.parts.len(), 3, "the MIME structure changed");
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;") && html.contains("&amp; Co"), "{html}");
    assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
    assert!(
        !html.contains("<img") && html.contains("&lt;img"),
        "recipient name not escaped: {html}"
    );
    // The plain text part says it as written.
    let text = parsed.body_text(0).unwrap();
    assert!(text.contains("<script>alert(1)</script> & Co"), "{text}");
}

#[test]
fn catastrophic_looking_regexes_run_in_linear_time() {
    // Patterns that backtrack exponentially in engines without a linear
    // guarantee; the regex crate runs them in time linear in the input.
    let yaml = example_yaml().replacen(
        "phrases:\n",
        "phrases:\n  - id: evil1\n    find: '(a+)+$'\n    replace: x\n  - id: evil2\n    find: '(a|aa)*b'\n    replace: x\n  - id: evil3\n    find: '(\\w+\\s?)+!'\n    replace: x\n",
        1,
    );
    let loaded = policy::load_str(&yaml, "p.yaml").expect("the patterns are valid");
    let body = format!("{}X\r\n", "a".repeat(200_000));
    let input = vacation_reply("To: John Smith <john.smith@example.co.uk>");
    let input = String::from_utf8(input).unwrap().replacen(
        "Best regards,",
        &format!("{body}Best regards,"),
        1,
    );
    let envelope = Envelope::new("sophie@hoekstra-advies.nl", ["john.smith@example.co.uk"]);
    let outcome =
        engine::process(input.as_bytes(), &envelope, &loaded.policy, &EngineOptions::default());
    // It finishes (with an exponential engine this would not within the test run).
    assert_eq!(outcome.disposition, Disposition::Rewritten);
}

#[test]
fn a_huge_regex_is_refused_with_its_position() {
    let yaml = example_yaml().replacen(
        "phrases:\n",
        "phrases:\n  - id: huge\n    find: '(?:\\w{100}){100}'\n    replace: x\n",
        1,
    );
    let line = yaml.lines().position(|l| l.contains("id: huge")).unwrap() + 2;
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, format!("p.yaml:{line}:11: `find` pattern is too large once compiled"));
    assert!(errs[0].1.is_some(), "no hint how to fix it");
}

#[test]
fn a_yaml_bomb_is_refused_with_a_clear_error() {
    let mut text =
        String::from("version: 1\norganisation:\n  name: x\n  domains: &d [a.nl]\npeople:\n");
    for i in 0..5000 {
        text.push_str(&format!("  - {{id: p{i}, name: P, email: p{i}@a.nl, aliases: *d}}\n"));
    }
    let errs = errors(&text);
    let (e, hint) = &errs[0];
    assert!(e.starts_with("p.yaml:") && e.contains("too many aliases"), "{e}");
    assert!(hint.as_deref().unwrap_or("").contains("YAML bomb"), "{hint:?}");
    // The classic form: nine levels of nine aliases each.
    let mut text = String::from("version: 1\nrevision: &a0 lol\n");
    for i in 1..10 {
        text.push_str(&format!(
            "revision{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(", ")
        ));
    }
    let errs = errors(&text);
    assert!(errs[0].0.starts_with("p.yaml:"), "{errs:?}");
}

#[test]
fn deep_nesting_is_refused_with_a_clear_error() {
    let text = format!("version: 1\nrevision: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let errs = errors(&text);
    assert_eq!(errs[0].0, "p.yaml:2:27: the file is nested more than 16 levels deep");
    let text = format!("version: 1\nrevision: {}1{}\n", "{a: ".repeat(5_000), "}".repeat(5_000));
    let errs = errors(&text);
    assert!(errs[0].0.ends_with("nested more than 16 levels deep"), "{errs:?}");
}
