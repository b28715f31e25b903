//! Auto-reply detection on the real messages in `tests/corpus/` (see its
//! SOURCES.md): no false positive and no miss.

use std::path::{Path, PathBuf};

use courtesy::classify::{Classification, Effect, classify};
use courtesy::policy::{Actions, Language, Organisation, Policy, PolicySource};

fn policy() -> Policy {
    Policy {
        version: 1,
        revision: None,
        source: PolicySource::default(),
        organisation: Organisation {
            name: "Voorbeeld B.V.".into(),
            domains: vec!["voorbeeld.nl".into()],
            ..Organisation::default()
        },
        default_language: Language::Nl,
        response_time: Default::default(),
        max_response_days: 2,
        people: Vec::new(),
        teams: Vec::new(),
        dossiers: Vec::new(),
        phrase_rules: Vec::new(),
        actions: Actions::default(),
        templates: minijinja::Environment::new(),
        by_address: Default::default(),
    }
}

fn corpus(label: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(label);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no messages", dir.display());
    files
}

/// Classifies a stored message the way the engine would see it: without the
/// mbox `From ` line, with the `From:` address as sender.
fn classify_file(path: &Path) -> Classification {
    let raw = std::fs::read(path).unwrap();
    let raw = match raw.strip_prefix(b"From ") {
        Some(_) => &raw[raw.iter().position(|&b| b == b'\n').map_or(raw.len(), |i| i + 1)..],
        None => &raw[..],
    };
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .unwrap_or_else(|| panic!("{} does not parse", path.display()));
    let sender = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_string();
    classify(&message, &sender, &policy())
}

#[test]
fn every_stored_auto_reply_is_detected_with_a_reason() {
    let mut misses = Vec::new();
    for path in corpus("autoreply") {
        let c = classify_file(&path);
        if !c.auto_reply {
            misses.push(format!("{}: {:?}", path.display(), c.signals));
        }
        assert!(
            c.signals.iter().any(|s| s.effect == Effect::AutoReply),
            "{} has no auto-reply signal",
            path.display()
        );
    }
    assert!(misses.is_empty(), "missed auto-replies:\n{}", misses.join("\n"));
}

#[test]
fn no_stored_look_alike_is_taken_for_an_auto_reply() {
    let mut false_positives = Vec::new();
    for path in corpus("not-autoreply") {
        let c = classify_file(&path);
        if c.auto_reply {
            false_positives.push(format!("{}: {:?}", path.display(), c.signals));
        }
        assert!(!c.team_signature, "{}: mail from outside is never re-signed", path.display());
    }
    assert!(false_positives.is_empty(), "false positives:\n{}", false_positives.join("\n"));
}

#[test]
fn reports_and_lists_carry_their_veto() {
    let veto = |file: &str| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/not-autoreply").join(file);
        classify_file(&path)
            .signals
            .into_iter()
            .filter(|s| s.effect == Effect::NotAutoReply)
            .map(|s| s.name)
            .collect::<Vec<_>>()
    };
    assert!(veto("dsn-office365-ndr-undeliverable-en-01.eml").contains(&"delivery_report".into()));
    assert!(veto("mdn-rfc3798-example-displayed-en-01.eml").contains(&"read_receipt".into()));
    assert!(veto("list-ietf-cfrg-reply-precedence-list-01.eml").contains(&"mailing_list".into()));
    assert!(
        veto("calendar-invitation-google-auto-generated-01.eml")
            .contains(&"calendar_message".into())
    );
}
