//! The DKIM parts of the command line: `courtesy check --config` saying
//! what happens to signed mail, and `courtesy dkim sign` / `verify` with
//! records from `courtesy dkim keygen`.

mod dkim_support;

use std::path::Path;
use std::process::{Command, Output};

use courtesy::dkim::KeyAlgorithm;
use dkim_support::*;

fn courtesy(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courtesy"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run courtesy")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn policy() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/example.yaml").display().to_string()
}

#[test]
fn check_says_plainly_that_signed_mail_is_skipped_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("courtesy.yaml");
    std::fs::write(&config, format!("policy: {}\n", policy())).unwrap();
    let out = courtesy(&["check", "--config", config.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("DKIM-signed mail is NOT rewritten, because no key is configured"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_fails_on_a_missing_key_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("courtesy.yaml");
    let key = dir.path().join("gone.key");
    std::fs::write(
        &config,
        format!(
            "policy: {}\ndkim:\n  domains:\n    {DOMAIN}:\n      selector: s1\n      key: {}\n",
            policy(),
            key.display()
        ),
    )
    .unwrap();
    let out = courtesy(&["check", "--config", config.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("dkim: error: DKIM key {} does not exist", key.display()))
    );
}

#[test]
fn check_states_what_happens_with_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = write_key(dir.path(), KeyAlgorithm::Ed25519);
    let config = dir.path().join("courtesy.yaml");
    std::fs::write(
        &config,
        format!(
            "policy: {}\ndkim:\n  domains:\n    {DOMAIN}:\n      selector: {SELECTOR}\n      key: {}\n",
            policy(),
            key.display()
        ),
    )
    .unwrap();
    let out = courtesy(&["check", "--config", config.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("mail DKIM-signed by {DOMAIN} is rewritten and re-signed")),
        "{}",
        text(&out)
    );
}

#[test]
fn keygen_sign_and_verify_agree_and_a_changed_body_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = courtesy(
        &["dkim", "keygen", "--domain", DOMAIN, "--selector", "t1", "--algorithm", "ed25519"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let key = format!("{DOMAIN}.t1.key");
    let record = format!("{DOMAIN}.t1.txt");
    std::fs::write(dir.path().join("m.eml"), AUTO_REPLY).unwrap();
    let out = courtesy(
        &["dkim", "sign", "--key", &key, "--domain", DOMAIN, "--selector", "t1", "m.eml"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(dir.path().join("signed.eml"), &out.stdout).unwrap();
    let out = courtesy(&["dkim", "verify", "--records", &record, "signed.eml"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("pass d={DOMAIN} s=t1\n"));

    let tampered = String::from_utf8_lossy(&std::fs::read(dir.path().join("signed.eml")).unwrap())
        .replace("maandag", "dinsdag");
    std::fs::write(dir.path().join("tampered.eml"), tampered).unwrap();
    let out = courtesy(&["dkim", "verify", "--records", &record, "tampered.eml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // mail-auth calls a body hash mismatch `neutral`; either way not a pass.
    let verdict = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!verdict.starts_with("pass") && verdict.contains("body hash"), "{verdict}");

    let out = courtesy(&["dkim", "verify", "--records", &record, "m.eml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "an unsigned message must not pass");
}
