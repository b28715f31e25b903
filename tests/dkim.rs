//! DKIM re-signing end to end: a message signed by the "upstream" signer
//! (mail-auth, with its own key), rewritten as the engine would, finished by
//! courtesy's `Signer`, and verified offline against the published records.

mod dkim_support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;

use base64::Engine;
use courtesy::dkim::verify::{KeyTable, Verdict, verify_arc, verify_dkim};
use courtesy::dkim::{
    ArcConfig, DkimConfig, DomainConfig, HeaderEdit, KeyAlgorithm, OnSigned, SignedDecision,
    Signer, keys,
};
use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy::{self, Language, Policy};
use dkim_support::signing_key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

const DOMAIN: &str = "hoekstra-advies.nl";

const ORIGINAL: &str = "From: Team Incasso <incasso@hoekstra-advies.nl>\r\n\
To: Jan Jansen <jan@example.com>\r\n\
Subject: Automatisch antwoord: factuur 2026-118\r\n\
Date: Mon, 23 Nov 2026 09:14:00 +0100\r\n\
Message-ID: <oof-118@hoekstra-advies.nl>\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Ik ben afwezig.\r\n\
\r\n\
Team Incasso\r\n";

/// A key pair as the tests use it: the PEM on disk and the DNS record.
struct TestKey {
    pem: String,
    record: String,
}

fn test_key(algorithm: KeyAlgorithm) -> TestKey {
    let generated = keys::generate(algorithm, 2048).expect("generate key");
    let record = keys::dns_record(algorithm, &generated.public_key);
    TestKey { pem: generated.private_pem, record }
}

/// Keys are expensive to make in a debug build; each kind is made once.
fn keys_for(algorithm: KeyAlgorithm) -> &'static (TestKey, TestKey) {
    use std::sync::OnceLock;
    static RSA: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    static ED: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    let cell = match algorithm {
        KeyAlgorithm::Rsa => &RSA,
        KeyAlgorithm::Ed25519 => &ED,
    };
    // (upstream MTA's key, courtesy's key)
    cell.get_or_init(|| (test_key(algorithm), test_key(algorithm)))
}

/// What the firm's mail server did before courtesy saw the message.
fn upstream_sign(message: &str, pem: &str) -> Vec<u8> {
    let signature = DkimSigner::from_key(signing_key(pem))
        .domain(DOMAIN)
        .selector("mx")
        .headers(["From", "To", "Subject", "Date", "Message-ID", "Content-Type"])
        .sign(message.as_bytes())
        .expect("upstream signature");
    [signature.to_header().as_bytes(), message.as_bytes()].concat()
}

/// What the engine does to the message: new body text, trace header last.
fn rewrite_like_the_engine(signed: &[u8], instance: &str) -> Vec<u8> {
    let text = String::from_utf8(signed.to_vec()).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("header block");
    let body = body.replace(
        "Ik ben afwezig.",
        "Beste heer Jansen,\r\n\r\nIk ben afwezig tot 30 november. Voor vragen kunt u terecht bij Petra de Vries, 020 123 4567.",
    );
    format!(
        "{head}\r\nX-Courtesy: rewritten by {instance}; rules=salutation,substitute\r\n\r\n{body}"
    )
    .into_bytes()
}

struct Setup {
    _dir: tempfile::TempDir,
    key_table: KeyTable,
    config: DkimConfig,
}

fn setup(algorithm: KeyAlgorithm, on_signed: OnSigned, arc: bool) -> Setup {
    let (upstream, ours) = keys_for(algorithm);
    let dir = tempfile::tempdir().expect("tempdir");
    let key_path = write_private(dir.path(), "courtesy.key", &ours.pem);
    let mut domains = BTreeMap::new();
    domains.insert(
        DOMAIN.to_string(),
        DomainConfig {
            selector: Some("courtesy".to_string()),
            key: Some(key_path.clone()),
            algorithm: Some(algorithm),
            on_signed: Some(on_signed),
        },
    );
    let arc = arc.then(|| ArcConfig {
        enabled: true,
        domain: DOMAIN.to_string(),
        selector: "arc".to_string(),
        key: key_path,
        authserv_id: "gw.hoekstra-advies.nl".to_string(),
    });
    let mut key_table = KeyTable::new();
    key_table.insert("mx", DOMAIN, &upstream.record).expect("upstream record");
    key_table.insert("courtesy", DOMAIN, &ours.record).expect("our record");
    key_table.insert("arc", DOMAIN, &ours.record).expect("arc record");
    Setup {
        _dir: dir,
        key_table,
        config: DkimConfig { domains, on_foreign_signed: OnSigned::Skip, arc },
    }
}

fn write_private(dir: &Path, name: &str, pem: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).expect("write key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    path
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

fn verdicts(message: &[u8], table: &KeyTable) -> Vec<Verdict> {
    block_on(verify_dkim(message, table)).expect("verify")
}

/// mail-auth reports a body hash mismatch as `neutral` (RFC 6376 leaves the
/// word to the verifier); either way it is not a pass, and the detail says why.
fn body_hash_failed(verdict: &Verdict) -> bool {
    !verdict.passed() && verdict.detail.as_deref().is_some_and(|d| d.contains("body hash"))
}

fn resign_round_trip(algorithm: KeyAlgorithm) {
    let setup = setup(algorithm, OnSigned::Resign, false);
    let signer = Signer::from_config(&setup.config).expect("signer");
    let original = upstream_sign(ORIGINAL, &keys_for(algorithm).0.pem);
    let before = verdicts(&original, &setup.key_table);
    assert!(before.len() == 1 && before[0].passed(), "upstream signature must verify: {before:?}");

    assert!(matches!(signer.decide(&original), SignedDecision::Rewrite { resign: true, .. }));
    let rewritten = rewrite_like_the_engine(&original, "gw-a");
    let broken = verdicts(&rewritten, &setup.key_table);
    assert!(body_hash_failed(&broken[0]), "the rewrite must break the old signature: {broken:?}");

    let finished = signer.finish(&rewritten, &original).expect("finish");
    let after = verdicts(&finished, &setup.key_table);
    assert_eq!(after.len(), 1, "exactly one signature after re-signing: {after:?}");
    assert!(after[0].passed(), "{after:?}");
    assert_eq!((after[0].domain.as_str(), after[0].selector.as_str()), (DOMAIN, "courtesy"));
    let text = String::from_utf8_lossy(&finished);
    assert!(!text.contains("s=mx"), "the old signature is gone");
    assert!(text.contains("c=relaxed/relaxed"));
    let wanted = match algorithm {
        KeyAlgorithm::Rsa => "a=rsa-sha256",
        KeyAlgorithm::Ed25519 => "a=ed25519-sha256",
    };
    assert!(text.contains(wanted), "{text}");
    let parsed = mail_auth::AuthenticatedMessage::parse(&finished).expect("parse");
    let signed = &parsed.dkim_headers[0].header.h;
    assert!(
        signed.iter().any(|n| n.eq_ignore_ascii_case("x-courtesy")),
        "the loop guard header is signed: {signed:?}"
    );

    // The milter form describes the same change.
    let finish = signer.finish_changes(&rewritten, &original).expect("changes");
    assert_eq!(
        finish.edits.first(),
        Some(&HeaderEdit::Remove { name: "DKIM-Signature".to_string(), index: 1 })
    );
    let applied = apply_edits(&rewritten, &finish.edits);
    let milter = verdicts(&applied, &setup.key_table);
    assert!(milter.len() == 1 && milter[0].passed(), "{milter:?}");
}

#[test]
fn resign_rsa_verifies_and_removes_the_old_signature() {
    resign_round_trip(KeyAlgorithm::Rsa);
}

#[test]
fn resign_ed25519_verifies_and_removes_the_old_signature() {
    resign_round_trip(KeyAlgorithm::Ed25519);
}

#[test]
fn skip_leaves_the_message_alone_and_says_why() {
    let mut setup = setup(KeyAlgorithm::Ed25519, OnSigned::Skip, false);
    setup.config.domains.get_mut(DOMAIN).expect("domain").key = None;
    setup.config.domains.get_mut(DOMAIN).expect("domain").on_signed = None;
    let signer = Signer::from_config(&setup.config).expect("signer");
    assert!(signer.notices().iter().any(|n| n.text.contains("no DKIM key is configured")));
    let original = upstream_sign(ORIGINAL, &keys_for(KeyAlgorithm::Ed25519).0.pem);

    let decision = signer.decide(&original);
    let SignedDecision::Skip { reason, signatures } = &decision else {
        panic!("expected skip: {decision:?}")
    };
    assert!(reason.contains(DOMAIN) && reason.contains("skip"), "{reason}");
    assert_eq!(signatures[0].selector, "mx");
    assert!(decision.skip_reason().expect("reason").to_string().starts_with("signed message"));
    // A forwarder that rewrote anyway gets an error, never a broken message.
    let rewritten = rewrite_like_the_engine(&original, "gw-a");
    assert!(signer.finish(&rewritten, &original).is_err());
    // What is forwarded is the original, which still verifies.
    let verdict = verdicts(&original, &setup.key_table);
    assert!(verdict[0].passed(), "{verdict:?}");
}

#[test]
fn keep_leaves_the_old_signature_which_then_fails() {
    let setup = setup(KeyAlgorithm::Ed25519, OnSigned::Keep, false);
    let signer = Signer::from_config(&setup.config).expect("signer");
    let original = upstream_sign(ORIGINAL, &keys_for(KeyAlgorithm::Ed25519).0.pem);
    assert!(matches!(signer.decide(&original), SignedDecision::Rewrite { resign: false, .. }));
    let rewritten = rewrite_like_the_engine(&original, "gw-a");
    let finish = signer.finish_changes(&rewritten, &original).expect("changes");
    assert!(finish.edits.is_empty(), "{:?}", finish.edits);
    let finished = signer.finish(&rewritten, &original).expect("finish");
    assert_eq!(finished, rewritten);
    let verdict = verdicts(&finished, &setup.key_table);
    assert_eq!(verdict.len(), 1);
    assert_eq!(verdict[0].selector, "mx");
    assert!(body_hash_failed(&verdict[0]), "{verdict:?}");
}

#[test]
fn arc_seal_validates_and_dkim_still_passes() {
    let setup = setup(KeyAlgorithm::Rsa, OnSigned::Resign, true);
    let signer = Signer::from_config(&setup.config).expect("signer");
    let original = upstream_sign(ORIGINAL, &keys_for(KeyAlgorithm::Rsa).0.pem);
    let rewritten = rewrite_like_the_engine(&original, "gw-a");
    let finished = signer.finish(&rewritten, &original).expect("finish");
    let text = String::from_utf8_lossy(&finished);
    assert!(text.starts_with("ARC-Seal: i=1;"), "{text}");
    let arc = block_on(verify_arc(&finished, &setup.key_table)).expect("verify arc");
    assert!(arc.passed(), "{arc:?}");
    let dkim = verdicts(&finished, &setup.key_table);
    assert!(dkim.len() == 1 && dkim[0].passed(), "{dkim:?}");

    // The milter edits put the same headers in the same order.
    let finish = signer.finish_changes(&rewritten, &original).expect("changes");
    let applied = apply_edits(&rewritten, &finish.edits);
    let arc = block_on(verify_arc(&applied, &setup.key_table)).expect("verify arc");
    assert!(arc.passed(), "{arc:?}");

    // A second sealer would need to validate the chain over DNS: it declines.
    let again = signer.finish_changes(&finished, &finished).expect("changes");
    assert!(again.notes.iter().any(|n| n.contains("not ARC-sealed")), "{:?}", again.notes);
}

fn minimal_policy() -> Policy {
    Policy {
        version: 1,
        revision: None,
        source: policy::PolicySource::default(),
        organisation: policy::Organisation {
            name: "Hoekstra Advies".to_string(),
            domains: vec![DOMAIN.to_string()],
            ..Default::default()
        },
        default_language: Language::Nl,
        response_time: BTreeMap::new(),
        max_response_days: 2,
        people: Vec::new(),
        teams: Vec::new(),
        dossiers: Vec::new(),
        phrase_rules: Vec::new(),
        actions: policy::Actions::default(),
        templates: minijinja::Environment::new(),
        by_address: HashMap::new(),
    }
}

/// The Microsoft 365 loop: the tenant sends the message to courtesy, courtesy
/// sends it back, and the transport rule may hand it over once more. The
/// second pass must neither rewrite nor sign again.
#[test]
fn loop_second_pass_is_not_rewritten_and_verifies_once() {
    let setup = setup(KeyAlgorithm::Ed25519, OnSigned::Resign, false);
    let signer = Signer::from_config(&setup.config).expect("signer");
    let original = upstream_sign(ORIGINAL, &keys_for(KeyAlgorithm::Ed25519).0.pem);
    let first =
        signer.finish(&rewrite_like_the_engine(&original, "gw-a"), &original).expect("finish");

    let policy = minimal_policy();
    let envelope = Envelope::new("incasso@hoekstra-advies.nl", ["jan@example.com"]);
    let options = EngineOptions { observe_only: false, instance: "gw-a".to_string() };
    let outcome = engine::process(&first, &envelope, &policy, &options);
    assert_ne!(outcome.disposition, Disposition::Rewritten);
    assert!(
        matches!(outcome.skipped(), Some(courtesy::classify::SkipReason::AlreadyProcessed(_))),
        "{:?}",
        outcome.skipped()
    );
    let forwarded = outcome.output(&first);
    assert_eq!(forwarded, first.as_slice(), "the second pass forwards the bytes unchanged");
    // The forwarder only finishes rewritten mail; nothing was signed again.
    let verdict = verdicts(forwarded, &setup.key_table);
    assert_eq!(verdict.len(), 1, "{verdict:?}");
    assert!(verdict[0].passed(), "{verdict:?}");
    let trace_headers =
        String::from_utf8_lossy(forwarded).lines().filter(|l| l.starts_with("X-Courtesy:")).count();
    assert_eq!(trace_headers, 1);
}

#[test]
fn short_and_world_readable_keys_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let short = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("short key");
    let pem = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&short, rsa::pkcs8::LineEnding::LF)
        .expect("pem");
    let path = write_private(dir.path(), "short.key", &pem);
    let error = keys::load(&path).unwrap_err().to_string();
    assert!(error.contains("1024-bit") && error.contains("2048"), "{error}");

    let (_, ours) = keys_for(KeyAlgorithm::Ed25519);
    let open = dir.path().join("open.key");
    std::fs::write(&open, &ours.pem).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let loaded = keys::load(&open).expect("still usable");
        assert!(loaded.warnings.iter().any(|w| w.contains("chmod 600")), "{:?}", loaded.warnings);
    }
}

fn keygen(algorithm: &str) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_courtesy"))
        .args(["dkim", "keygen", "--domain", DOMAIN, "--selector", "s2026", "--algorithm"])
        .arg(algorithm)
        .arg("--out-dir")
        .arg(dir.path())
        .output()
        .expect("run courtesy");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (String::from_utf8(output.stdout).expect("utf-8"), dir)
}

fn published_key(line: &str) -> Vec<u8> {
    assert!(line.starts_with("s2026._domainkey.hoekstra-advies.nl IN TXT \""), "{line}");
    let strings: Vec<&str> = line.trim_end().split('"').skip(1).step_by(2).collect();
    assert!(strings.iter().all(|s| s.len() <= 255), "{line}");
    let record = strings.concat();
    let p = record.split("p=").nth(1).expect("p= tag");
    base64::engine::general_purpose::STANDARD.decode(p).expect("base64")
}

#[test]
fn keygen_rsa_prints_the_public_key_of_the_written_private_key() {
    let (stdout, dir) = keygen("rsa");
    assert!(stdout.contains("v=DKIM1; k=rsa; p="), "{stdout}");
    let key_path = dir.path().join("hoekstra-advies.nl.s2026.key");
    let loaded = keys::load(&key_path).expect("written key loads");
    assert_eq!(loaded.bits, Some(2048));
    assert_eq!(published_key(&stdout), loaded.public_key);
    let pem = std::fs::read_to_string(&key_path).expect("read");
    let private = rsa::pkcs8::DecodePrivateKey::from_pkcs8_pem(&pem).expect("pkcs8");
    let public = rsa::pkcs8::EncodePublicKey::to_public_key_der(
        &rsa::RsaPrivateKey::to_public_key(&private),
    )
    .expect("spki");
    assert_eq!(published_key(&stdout), public.as_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Running it again must not overwrite the key.
    let again = Command::new(env!("CARGO_BIN_EXE_courtesy"))
        .args(["dkim", "keygen", "--domain", DOMAIN, "--selector", "s2026", "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("run courtesy");
    assert!(!again.status.success());
}

#[test]
fn keygen_ed25519_prints_the_public_key_of_the_written_private_key() {
    let (stdout, dir) = keygen("ed25519");
    assert!(stdout.contains("v=DKIM1; k=ed25519; p="), "{stdout}");
    let loaded = keys::load(&dir.path().join("hoekstra-advies.nl.s2026.key")).expect("loads");
    assert_eq!(loaded.algorithm, KeyAlgorithm::Ed25519);
    assert_eq!(published_key(&stdout), loaded.public_key);
}

/// Applies milter edits the way Postfix does.
fn apply_edits(message: &[u8], edits: &[HeaderEdit]) -> Vec<u8> {
    let text = String::from_utf8(message.to_vec()).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("header block");
    let mut fields: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = fields.last_mut().expect("continuation follows a field");
            last.push_str("\r\n");
            last.push_str(line);
        } else {
            fields.push(line.to_string());
        }
    }
    for edit in edits {
        match edit {
            HeaderEdit::Remove { name, index } => {
                let position = fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| {
                        f.split_once(':').is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
                    })
                    .nth(index - 1)
                    .map(|(i, _)| i)
                    .expect("header to remove exists");
                fields.remove(position);
            }
            HeaderEdit::Prepend { name, value } => fields.insert(0, format!("{name}: {value}")),
        }
    }
    format!("{}\r\n\r\n{body}", fields.join("\r\n")).into_bytes()
}
