//! Keys, signed test mail and offline verification for the DKIM tests of
//! the relay and the milter. Key pairs are generated here, once per
//! algorithm and test binary; the firm's mail server is played by
//! mail-auth signing with its own key (selector `mx`), courtesy signs with
//! another (selector `courtesy`). Both public keys go into a `KeyTable`, so
//! no name server is ever asked.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use courtesy::dkim::verify::{KeyTable, Verdict, verify_dkim};
use courtesy::dkim::{DkimConfig, DomainConfig, KeyAlgorithm, OnSigned, keys};
use mail_auth::common::crypto::{DkimKey, Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

pub const DOMAIN: &str = "hoekstra-advies.nl";
pub const SELECTOR: &str = "courtesy";

/// An automatic reply the example policy rewrites (salutation, substitute).
pub const AUTO_REPLY: &str = "From: Maarten Hoekstra <maarten@hoekstra-advies.nl>\r\n\
To: Klaas Klant <klant@customer.example>\r\n\
Subject: Afwezig: uw vraag\r\n\
Date: Mon, 23 Nov 2026 09:14:00 +0100\r\n\
Message-ID: <ooo-dkim@hoekstra-advies.nl>\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Ik ben afwezig tot maandag. Uw mail wordt niet doorgestuurd.\r\n";

pub struct TestKey {
    pub pem: String,
    pub record: String,
}

/// (the firm's mail server's key, courtesy's key) for `algorithm`.
pub fn key_pairs(algorithm: KeyAlgorithm) -> &'static (TestKey, TestKey) {
    static RSA: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    static ED: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    let cell = match algorithm {
        KeyAlgorithm::Rsa => &RSA,
        KeyAlgorithm::Ed25519 => &ED,
    };
    let make = || {
        let generated = keys::generate(algorithm, 2048).expect("generate key");
        let record = keys::dns_record(algorithm, &generated.public_key);
        TestKey { pem: generated.private_pem, record }
    };
    cell.get_or_init(|| (make(), make()))
}

/// Both public keys as a verifier would find them in DNS.
pub fn key_table(algorithm: KeyAlgorithm) -> KeyTable {
    let (mx, ours) = key_pairs(algorithm);
    let mut table = KeyTable::new();
    table.insert("mx", DOMAIN, &mx.record).expect("mx record");
    table.insert(SELECTOR, DOMAIN, &ours.record).expect("courtesy record");
    table
}

/// A mail-auth signing key from a PEM file as `courtesy dkim keygen` writes it.
pub fn signing_key(pem: &str) -> DkimKey {
    match PrivateKeyDer::from_pem_slice(pem.as_bytes()).expect("pem") {
        PrivateKeyDer::Pkcs8(der) => match Ed25519Key::from_pkcs8_der(der.secret_pkcs8_der()) {
            Ok(key) => DkimKey::Ed25519(key),
            Err(_) => DkimKey::Rsa(
                RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(der)).expect("rsa key"),
            ),
        },
        other => DkimKey::Rsa(RsaKey::<Sha256>::from_key_der(other).expect("rsa key")),
    }
}

/// `message` as the firm's mail server signed it before courtesy.
pub fn signed_by_mx(message: &str, algorithm: KeyAlgorithm) -> Vec<u8> {
    let (mx, _) = key_pairs(algorithm);
    let signature = DkimSigner::from_key(signing_key(&mx.pem))
        .domain(DOMAIN)
        .selector("mx")
        .headers(["From", "To", "Subject", "Date", "Message-ID", "Content-Type"])
        .sign(message.as_bytes())
        .expect("mx signature");
    [signature.to_header().as_bytes(), message.as_bytes()].concat()
}

/// Writes courtesy's private key into `dir` with mode 0600.
pub fn write_key(dir: &Path, algorithm: KeyAlgorithm) -> PathBuf {
    let (_, ours) = key_pairs(algorithm);
    let path = dir.join(format!("{DOMAIN}.{SELECTOR}.{algorithm}.key"));
    std::fs::write(&path, &ours.pem).expect("write key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    path
}

/// A `dkim:` section for the firm's domain with courtesy's key.
pub fn dkim_config(dir: &Path, algorithm: KeyAlgorithm, on_signed: OnSigned) -> DkimConfig {
    let mut domains = BTreeMap::new();
    domains.insert(
        DOMAIN.to_string(),
        DomainConfig {
            selector: Some(SELECTOR.to_string()),
            key: Some(write_key(dir, algorithm)),
            algorithm: Some(algorithm),
            on_signed: Some(on_signed),
        },
    );
    DkimConfig { domains, on_foreign_signed: OnSigned::Skip, arc: None }
}

/// Every DKIM verdict for `message`, in header order.
pub async fn verdicts(message: &[u8], algorithm: KeyAlgorithm) -> Vec<Verdict> {
    verify_dkim(message, &key_table(algorithm)).await.expect("message parses")
}

/// The message audit records (not start or verdict records) in `dir`.
pub fn audit_messages(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).collect(),
        Err(_) => return Vec::new(),
    };
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("audit file")
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
                .collect::<Vec<_>>()
        })
        .filter(|r| r["kind"] == "message")
        .collect()
}

/// How often `needle` occurs in `haystack`.
pub fn count(haystack: &[u8], needle: &str) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle.as_bytes()).count()
}
