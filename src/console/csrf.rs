//! CSRF tokens bound to the visitor's session cookie: the token is an HMAC
//! of the session id under a secret that lives only in this process, so no
//! token table is kept and a token from another session (or from before a
//! restart) does not verify.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Domain separation: the same secret must never sign anything else the same way.
const LABEL: &[u8] = b"courtesy-console-csrf\0";

/// The token forms of this session carry.
pub fn token(secret: &[u8; 32], session: &str) -> String {
    hex::encode(mac(secret, session).finalize().into_bytes())
}

/// Whether `presented` is this session's token (constant-time comparison).
pub fn verify(secret: &[u8; 32], session: &str, presented: &str) -> bool {
    let Ok(bytes) = hex::decode(presented.trim()) else { return false };
    mac(secret, session).verify_slice(&bytes).is_ok()
}

fn mac(secret: &[u8; 32], session: &str) -> HmacSha256 {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(LABEL);
    mac.update(session.as_bytes());
    mac
}

/// 32 random bytes from the operating system, hex-encoded.
pub fn random_token() -> Result<String, getrandom::Error> {
    Ok(hex::encode(random_bytes()?))
}

/// 32 random bytes from the operating system.
pub fn random_bytes() -> Result<[u8; 32], getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_session_and_secret() {
        let secret = [7u8; 32];
        let t = token(&secret, "abc");
        assert_eq!(t.len(), 64);
        assert!(verify(&secret, "abc", &t));
        assert!(!verify(&secret, "abd", &t));
        assert!(!verify(&[8u8; 32], "abc", &t));
        assert!(!verify(&secret, "abc", ""));
        assert!(!verify(&secret, "abc", "not hex"));
        assert!(!verify(&secret, "abc", &t[..62]));
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token().unwrap(), random_token().unwrap());
    }
}
