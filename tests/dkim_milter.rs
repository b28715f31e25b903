//! DKIM through the real milter: the MTA side (tests/milter_support)
//! sends a signed message as Postfix does and applies the replies as
//! Postfix would; the result must verify with courtesy's published key.

mod dkim_support;
mod milter_support;

use courtesy::dkim::{KeyAlgorithm, OnSigned};
use dkim_support::*;
use milter_support::*;

async fn resign_through_milter(algorithm: KeyAlgorithm, protocol: u32) {
    let m = start(|dir| {
        let mut config = config(dir);
        config.dkim = Some(dkim_config(dir, algorithm, OnSigned::Resign));
        config
    })
    .await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, protocol).await;
    let leading_space = protocol & 0x0010_0000 != 0;
    let signed = signed_by_mx(AUTO_REPLY, algorithm);
    let end = mta.message("", &["klant@customer.example"], &signed).await;
    assert_eq!(end.last, Some(Reply::Continue));
    // The old signature is deleted by an empty change, the new one inserted on top.
    assert!(
        end.modifications.iter().any(|r| matches!(r,
            Reply::ChangeHeader { index: 1, name, value } if name == "DKIM-Signature" && value.is_empty())),
        "{:?}",
        end.modifications
    );
    assert!(
        end.modifications.iter().any(|r| matches!(r,
            Reply::InsertHeader { index: 0, name, .. } if name == "DKIM-Signature")),
        "{:?}",
        end.modifications
    );
    let delivered = apply(&signed, &end, leading_space);
    let text = String::from_utf8_lossy(&delivered);
    assert!(text.contains("Beste Klaas Klant,"), "not rewritten:\n{text}");
    assert!(text.starts_with("DKIM-Signature:"), "new signature not on top:\n{text}");
    let after = verdicts(&delivered, algorithm).await;
    assert_eq!(after.len(), 1, "{after:?}\n{text}");
    assert_eq!((after[0].domain.as_str(), after[0].selector.as_str()), (DOMAIN, SELECTOR));
    assert!(after[0].passed(), "{after:?}\n{text}");
    mta.quit().await;
    let lines = m.audit_lines();
    let record = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["kind"] == "message")
        .expect("message record");
    assert_eq!(record["dkim"]["action"], "resigned", "{record}");
    assert_eq!(record["dkim"]["signed"][0]["selector"], SELECTOR, "{record}");
    m.stop().await;
}

#[tokio::test]
async fn rsa_header_edits_yield_a_message_that_verifies() {
    resign_through_milter(KeyAlgorithm::Rsa, POSTFIX_PROTOCOL).await;
}

#[tokio::test]
async fn ed25519_header_edits_yield_a_message_that_verifies_without_leading_space() {
    resign_through_milter(KeyAlgorithm::Ed25519, POSTFIX_PROTOCOL & !0x0010_0000).await;
}

#[tokio::test]
async fn skip_sends_no_modifications_and_records_the_reason() {
    let m = start(|dir| {
        let mut config = config(dir);
        config.dkim = Some(dkim_config(dir, KeyAlgorithm::Ed25519, OnSigned::Skip));
        config
    })
    .await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    let signed = signed_by_mx(AUTO_REPLY, KeyAlgorithm::Ed25519);
    let end = mta.message("", &["klant@customer.example"], &signed).await;
    assert_eq!(end.last, Some(Reply::Continue));
    assert_eq!(end.modifications, vec![], "a skipped message was modified");
    mta.quit().await;
    let record = m
        .audit_lines()
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["kind"] == "message")
        .expect("message record");
    assert_eq!(record["skip"]["reason"], "signed", "{record}");
    assert_eq!(record["dkim"]["action"], "skipped", "{record}");
    m.stop().await;
}
