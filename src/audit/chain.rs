//! The chain hash.
//!
//! A record's hash is computed over its exact bytes as written, not over a
//! re-serialization: the writer serializes the record (ending in
//! `"prev":"…"}`), hashes those bytes, and appends the hash as the last key.
//! A verifier therefore needs no canonical JSON: it cuts the fixed-length
//! `,"hash":"<64 hex>"` off the line and hashes what is left. Canonical JSON
//! was rejected because escaping rules differ between JSON libraries, which
//! would make third-party verification fragile.

use std::path::Path;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::AuditError;

/// `prev` of the first record in a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The bytes between the record body and its closing brace.
const HASH_KEY: &[u8] = b",\"hash\":\"";
/// Length of the hash suffix: `,"hash":"` + 64 hex digits + `"}`.
pub const SUFFIX_LEN: usize = HASH_KEY.len() + 64 + 2;

/// Shortest key accepted; shorter secrets are guessable.
const MIN_KEY_LEN: usize = 16;

/// How records are chained.
#[derive(Clone, PartialEq, Eq)]
pub enum Algorithm {
    /// Plain SHA-256: detects accidental and careless changes.
    Sha256,
    /// HMAC-SHA256 with a secret key: without the key nobody can write a
    /// record that verifies, even with write access to the log.
    HmacSha256(Vec<u8>),
}

impl std::fmt::Debug for Algorithm {
    // The key must never end up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Algorithm {
    /// The name written into the chain's start record.
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::HmacSha256(_) => "hmac-sha256",
        }
    }

    /// Reads a key file. The key is the file's bytes without trailing
    /// whitespace, so `echo secret > key` and an editor's final newline
    /// give the same key.
    pub fn from_key_file(path: &Path) -> Result<Algorithm, AuditError> {
        let key_error = |reason: String| AuditError::Key { path: path.to_path_buf(), reason };
        let mut key = std::fs::read(path).map_err(|e| key_error(e.to_string()))?;
        while key.last().is_some_and(|b| b.is_ascii_whitespace()) {
            key.pop();
        }
        if key.len() < MIN_KEY_LEN {
            return Err(key_error(format!(
                "the key has {} bytes; use at least {MIN_KEY_LEN} (e.g. `openssl rand -hex 32`)",
                key.len()
            )));
        }
        Ok(Algorithm::HmacSha256(key))
    }

    /// Lower-case hex hash of a record body.
    pub fn hash(&self, body: &[u8]) -> String {
        match self {
            Algorithm::Sha256 => hex::encode(Sha256::digest(body)),
            Algorithm::HmacSha256(key) => {
                // new_from_slice only fails for fixed-size-key MACs; HMAC takes any length.
                let Ok(mut mac) = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
                    return String::new();
                };
                mac.update(body);
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }

    /// The full line for a serialized record body (which ends in `}`),
    /// newline included, and its hash.
    pub fn seal(&self, body: &[u8]) -> (Vec<u8>, String) {
        let hash = self.hash(body);
        let mut line = Vec::with_capacity(body.len() + SUFFIX_LEN);
        line.extend_from_slice(&body[..body.len().saturating_sub(1)]);
        line.extend_from_slice(HASH_KEY);
        line.extend_from_slice(hash.as_bytes());
        line.extend_from_slice(b"\"}\n");
        (line, hash)
    }
}

/// Splits a line (without newline) into the hashed body and the stored
/// hash; `None` when the line does not end in a well-formed hash key.
pub fn split(line: &[u8]) -> Option<(Vec<u8>, &str)> {
    if line.len() < SUFFIX_LEN + 2 || !line.ends_with(b"\"}") {
        return None;
    }
    let cut = line.len() - SUFFIX_LEN;
    let suffix = &line[cut..];
    if !suffix.starts_with(HASH_KEY) {
        return None;
    }
    let hash = std::str::from_utf8(&suffix[HASH_KEY.len()..HASH_KEY.len() + 64]).ok()?;
    if !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut body = line[..cut].to_vec();
    body.push(b'}');
    Some((body, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_split_gives_back_body_and_hash() {
        let body = br#"{"seq":0,"prev":"00"}"#;
        let (line, hash) = Algorithm::Sha256.seal(body);
        assert!(line.ends_with(b"\"}\n"));
        let (back, stored) = split(&line[..line.len() - 1]).unwrap();
        assert_eq!(back, body);
        assert_eq!(stored, hash);
        assert_eq!(hash, hex::encode(Sha256::digest(body)));
    }

    #[test]
    fn hmac_depends_on_the_key() {
        let a = Algorithm::HmacSha256(b"0123456789abcdef".to_vec()).hash(b"x");
        let b = Algorithm::HmacSha256(b"0123456789abcdeg".to_vec()).hash(b"x");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        // RFC 4231 test case 2.
        let rfc = Algorithm::HmacSha256(b"Jefe".to_vec()).hash(b"what do ya want for nothing?");
        assert_eq!(rfc, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn split_rejects_lines_without_hash() {
        assert!(split(br#"{"seq":0}"#).is_none());
        let mut line = Algorithm::Sha256.seal(br#"{"a":1}"#).0;
        line.pop();
        let at = line.len() - 5;
        line[at] = b'X';
        assert!(split(&line).is_none());
    }

    #[test]
    fn short_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "short\n").unwrap();
        assert!(matches!(Algorithm::from_key_file(&path), Err(AuditError::Key { .. })));
        std::fs::write(&path, "0123456789abcdef0123\n").unwrap();
        assert_eq!(
            Algorithm::from_key_file(&path).unwrap(),
            Algorithm::HmacSha256(b"0123456789abcdef0123".to_vec())
        );
    }
}
