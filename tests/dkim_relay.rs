//! DKIM through the real relay: a message signed by the firm's mail server
//! goes through courtesy on 127.0.0.1 to a recording upstream, and what
//! arrives is verified offline with the published keys.

mod common;
mod dkim_support;

use std::path::Path;

use common::*;
use courtesy::config::ServiceConfig;
use courtesy::dkim::{KeyAlgorithm, OnSigned};
use dkim_support::*;

fn relay_config(upstream: std::net::SocketAddr, dir: &Path) -> ServiceConfig {
    let mut config = config_for(upstream);
    config.policy = Some(std::path::PathBuf::from("policies/example.yaml"));
    config.audit = Some(courtesy::audit::AuditConfig::in_dir(dir.join("audit")));
    config
}

/// Sends `data` through a relay built from `config`; returns what the
/// upstream received and the relay's audit message records.
async fn through_relay(
    build: impl FnOnce(std::net::SocketAddr, &Path) -> ServiceConfig,
    data: &[u8],
) -> (Vec<u8>, Vec<serde_json::Value>) {
    let up = upstream(Script::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = build(up.addr, dir.path());
    let audit_dir = dir.path().join("audit");
    let relay = start_relay_in(config, dir).await;
    let mut c = client(relay.addr).await;
    let code = send(&mut c, "", &["klant@customer.example"], data).await;
    assert_eq!(code, Ok(250));
    let got = up.messages();
    assert_eq!(got.len(), 1);
    let records = audit_messages(&audit_dir);
    relay.stop().await;
    (got[0].data.clone(), records)
}

async fn resign_round_trip(algorithm: KeyAlgorithm) {
    let signed = signed_by_mx(AUTO_REPLY, algorithm);
    let before = verdicts(&signed, algorithm).await;
    assert!(before.iter().all(|v| v.passed()), "test message does not verify: {before:?}");
    let (delivered, records) = through_relay(
        |up, dir| {
            let mut config = relay_config(up, dir);
            config.dkim = Some(dkim_config(dir, algorithm, OnSigned::Resign));
            config
        },
        &signed,
    )
    .await;
    let text = String::from_utf8_lossy(&delivered);
    assert!(text.contains("X-Courtesy: rewritten by"), "not rewritten:\n{text}");
    assert!(text.contains("Beste Klaas Klant,"), "no salutation:\n{text}");
    let after = verdicts(&delivered, algorithm).await;
    assert_eq!(after.len(), 1, "exactly courtesy's signature expected: {after:?}\n{text}");
    assert_eq!((after[0].domain.as_str(), after[0].selector.as_str()), (DOMAIN, SELECTOR));
    assert!(after[0].passed(), "{after:?}\n{text}");
    assert!(!text.contains("s=mx"), "the broken signature is still there:\n{text}");
    assert_eq!(records.len(), 1);
    let dkim = &records[0]["dkim"];
    assert_eq!(dkim["action"], "resigned", "{}", records[0]);
    assert_eq!(dkim["signed"][0]["domain"], DOMAIN);
    assert_eq!(dkim["signed"][0]["selector"], SELECTOR);
    assert_eq!(records[0]["disposition"], "rewritten");
    // The audit record names the bytes that really left.
    assert_eq!(records[0]["sha256_after"], courtesy::audit::record::sha256_hex(&delivered));
}

#[tokio::test]
async fn rsa_resigned_message_verifies_and_the_old_signature_is_gone() {
    resign_round_trip(KeyAlgorithm::Rsa).await;
}

#[tokio::test]
async fn ed25519_resigned_message_verifies_and_the_old_signature_is_gone() {
    resign_round_trip(KeyAlgorithm::Ed25519).await;
}

#[tokio::test]
async fn skip_forwards_byte_identical_and_records_the_reason() {
    let signed = signed_by_mx(AUTO_REPLY, KeyAlgorithm::Rsa);
    let (delivered, records) = through_relay(
        |up, dir| {
            let mut config = relay_config(up, dir);
            config.dkim = Some(dkim_config(dir, KeyAlgorithm::Rsa, OnSigned::Skip));
            config
        },
        &signed,
    )
    .await;
    assert!(delivered == signed, "a skipped message changed in transit");
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["disposition"], "skipped", "{record}");
    assert_eq!(record["skip"]["reason"], "signed", "{record}");
    let detail = record["skip"]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(DOMAIN) && detail.contains("on_signed is skip"), "{record}");
    assert_eq!(record["dkim"]["action"], "skipped", "{record}");
    assert_eq!(record["sha256_before"], record["sha256_after"]);
    assert!(verdicts(&delivered, KeyAlgorithm::Rsa).await.iter().all(|v| v.passed()));
}

#[tokio::test]
async fn without_a_dkim_section_signed_mail_is_skipped() {
    let signed = signed_by_mx(AUTO_REPLY, KeyAlgorithm::Ed25519);
    let (delivered, records) = through_relay(relay_config, &signed).await;
    assert!(delivered == signed, "signed mail changed without a key configured");
    assert_eq!(records[0]["skip"]["reason"], "signed", "{}", records[0]);
    let detail = records[0]["skip"]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("on_foreign_signed: skip"), "{}", records[0]);
    // Unsigned mail is still rewritten.
    let (delivered, _) = through_relay(relay_config, AUTO_REPLY.as_bytes()).await;
    assert!(String::from_utf8_lossy(&delivered).contains("X-Courtesy: rewritten by"));
}

#[tokio::test]
async fn keep_rewrites_and_leaves_the_old_signature() {
    let signed = signed_by_mx(AUTO_REPLY, KeyAlgorithm::Rsa);
    let (delivered, records) = through_relay(
        |up, dir| {
            let mut config = relay_config(up, dir);
            config.dkim = Some(dkim_config(dir, KeyAlgorithm::Rsa, OnSigned::Keep));
            config
        },
        &signed,
    )
    .await;
    let text = String::from_utf8_lossy(&delivered);
    assert!(text.contains("X-Courtesy: rewritten by"), "not rewritten:\n{text}");
    let old_header = String::from_utf8_lossy(&signed[..signed.len() - AUTO_REPLY.len()]);
    assert!(text.starts_with(old_header.as_ref()), "old header not kept as it was:\n{text}");
    let after = verdicts(&delivered, KeyAlgorithm::Rsa).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].selector, "mx");
    assert!(!after[0].passed(), "the kept signature cannot still pass: {after:?}");
    assert_eq!(records[0]["dkim"]["action"], "kept", "{}", records[0]);
}

/// Two courtesy relays with the same instance name in series (the
/// Microsoft 365 loop without its transport rule): the second sees its own
/// trace header and forwards the message as it came.
#[tokio::test]
async fn two_relays_in_series_rewrite_once_and_the_signature_still_verifies() {
    let algorithm = KeyAlgorithm::Rsa;
    let up = upstream(Script::default()).await;
    let second_dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(up.addr, second_dir.path());
    config.dkim = Some(dkim_config(second_dir.path(), algorithm, OnSigned::Resign));
    let second_audit = second_dir.path().join("audit");
    let second = start_relay_in(config, second_dir).await;

    let first_dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(second.addr, first_dir.path());
    config.dkim = Some(dkim_config(first_dir.path(), algorithm, OnSigned::Resign));
    let first_audit = first_dir.path().join("audit");
    let first = start_relay_in(config, first_dir).await;

    let signed = signed_by_mx(AUTO_REPLY, algorithm);
    let mut c = client(first.addr).await;
    assert_eq!(send(&mut c, "", &["klant@customer.example"], &signed).await, Ok(250));
    let got = up.messages();
    assert_eq!(got.len(), 1);
    let delivered = &got[0].data;
    let text = String::from_utf8_lossy(delivered);
    assert_eq!(count(delivered, "\nX-Courtesy: "), 1, "{text}");
    assert_eq!(count(delivered, "Beste Klaas Klant,"), 1, "rewritten twice:\n{text}");
    let after = verdicts(delivered, algorithm).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].passed() && after[0].selector == SELECTOR, "{after:?}");

    let firsts = audit_messages(&first_audit);
    assert_eq!(firsts[0]["disposition"], "rewritten");
    let seconds = audit_messages(&second_audit);
    assert_eq!(seconds.len(), 1);
    assert_eq!(seconds[0]["skip"]["reason"], "already_processed", "{}", seconds[0]);
    assert_eq!(seconds[0]["sha256_before"], seconds[0]["sha256_after"]);
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn a_missing_key_stops_the_relay_from_starting_with_a_clear_error() {
    let mut config = config_for(dead_port().await);
    let dir = tempfile::tempdir().unwrap();
    let mut dkim = dkim_config(dir.path(), KeyAlgorithm::Ed25519, OnSigned::Resign);
    let missing = dir.path().join("absent.key");
    dkim.domains.get_mut(DOMAIN).unwrap().key = Some(missing.clone());
    config.dkim = Some(dkim);
    let error = courtesy::smtp::Relay::new(config, None).unwrap_err().to_string();
    assert!(error.starts_with("dkim: "), "{error}");
    assert!(error.contains(&missing.display().to_string()), "{error}");
    assert!(error.contains("courtesy dkim keygen"), "{error}");
}

async fn send_one(relay: &RelayUnderTest, up: &Upstream, data: &[u8]) -> Vec<u8> {
    let mut c = client(relay.addr).await;
    assert_eq!(send(&mut c, "", &["klant@customer.example"], data).await, Ok(250));
    up.messages().last().expect("arrived").data.clone()
}

#[tokio::test]
async fn reload_rereads_the_keys_and_keeps_the_running_ones_when_a_key_breaks() {
    let algorithm = KeyAlgorithm::Rsa;
    let up = upstream(Script::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(up.addr, dir.path());
    let dkim = dkim_config(dir.path(), algorithm, OnSigned::Resign);
    let key_path = dkim.domains[DOMAIN].key.clone().unwrap();
    config.dkim = Some(dkim);
    let relay = start_relay_in(config, dir).await;
    let signed = signed_by_mx(AUTO_REPLY, algorithm);

    std::fs::write(&key_path, "not a key").unwrap();
    let error = relay.relay.reload().unwrap_err().to_string();
    assert!(error.starts_with("dkim: ") && error.contains("not usable"), "{error}");
    let delivered = send_one(&relay, &up, &signed).await;
    let after = verdicts(&delivered, algorithm).await;
    assert!(after.len() == 1 && after[0].passed(), "running key lost: {after:?}");

    // Another key under the same selector: the next message is signed with it.
    let (mx, _) = key_pairs(algorithm);
    std::fs::write(&key_path, &mx.pem).unwrap();
    relay.relay.reload().expect("valid key reloads");
    let delivered = send_one(&relay, &up, &signed).await;
    let after = verdicts(&delivered, algorithm).await;
    assert!(after.len() == 1 && !after[0].passed(), "old key still in use: {after:?}");
    let mut rotated = courtesy::dkim::verify::KeyTable::new();
    rotated.insert(SELECTOR, DOMAIN, &mx.record).unwrap();
    let after = courtesy::dkim::verify::verify_dkim(&delivered, &rotated).await.unwrap();
    assert!(after.len() == 1 && after[0].passed(), "{after:?}");
    relay.stop().await;
}

#[tokio::test]
async fn arc_sealed_rewrite_validates_and_dkim_still_passes() {
    let algorithm = KeyAlgorithm::Rsa;
    let signed = signed_by_mx(AUTO_REPLY, algorithm);
    let (delivered, records) = through_relay(
        |up, dir| {
            let mut config = relay_config(up, dir);
            let mut dkim = dkim_config(dir, algorithm, OnSigned::Resign);
            dkim.arc = Some(courtesy::dkim::ArcConfig {
                enabled: true,
                domain: DOMAIN.to_string(),
                selector: "arc".to_string(),
                key: write_key(dir, algorithm),
                authserv_id: "gw.hoekstra-advies.nl".to_string(),
            });
            config.dkim = Some(dkim);
            config
        },
        &signed,
    )
    .await;
    let mut table = key_table(algorithm);
    table.insert("arc", DOMAIN, &key_pairs(algorithm).1.record).unwrap();
    let arc = courtesy::dkim::verify::verify_arc(&delivered, &table).await.unwrap();
    assert!(arc.passed(), "{arc:?}\n{}", String::from_utf8_lossy(&delivered));
    let dkim = courtesy::dkim::verify::verify_dkim(&delivered, &table).await.unwrap();
    assert!(dkim.len() == 1 && dkim[0].passed(), "{dkim:?}");
    let notes = records[0]["dkim"]["notes"].to_string();
    assert!(notes.contains("ARC-sealed as hoekstra-advies.nl"), "{notes}");
}
