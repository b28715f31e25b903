//! Private keys: loading PEM files with the checks an admin needs (missing,
//! unreadable, readable by others, too short), generating new key pairs and
//! the DNS TXT record that publishes the public half.
//!
//! Signing itself uses ring through mail-auth; the `rsa` crate is only used
//! here, to generate RSA keys (ring cannot) and to read a key's size.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use mail_auth::common::crypto::{DkimKey, Ed25519Key, RsaKey, Sha256};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::der::pem::LineEnding;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

use super::DkimError;
use super::config::KeyAlgorithm;

/// Smallest RSA key accepted: RFC 8301 forbids signing with less than 1024
/// bits and large receivers treat anything under 2048 as weak.
pub const MIN_RSA_BITS: usize = 2048;

/// A private key ready to sign, with what is known about it.
pub struct LoadedKey {
    /// The algorithm the file holds.
    pub algorithm: KeyAlgorithm,
    /// RSA modulus size; `None` for Ed25519.
    pub bits: Option<usize>,
    /// The signing key.
    pub key: DkimKey,
    /// The `p=` bytes of the matching DNS record.
    pub public_key: Vec<u8>,
    /// Things an admin should fix that do not stop signing.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("algorithm", &self.algorithm)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

/// Loads a PEM private key (RSA PKCS#1 or PKCS#8, Ed25519 PKCS#8).
pub fn load(path: &Path) -> Result<LoadedKey, DkimError> {
    let metadata = fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => DkimError::KeyMissing { path: path.to_path_buf() },
        _ => DkimError::KeyUnreadable { path: path.to_path_buf(), source },
    })?;
    let mut warnings = Vec::new();
    if let Some(mode) = unix_mode(&metadata)
        && mode & 0o007 != 0
    {
        warnings.push(format!(
            "DKIM key {} can be read by every user on this host (mode {:o}); run `chmod 600` on it",
            path.display(),
            mode & 0o777
        ));
    }
    let pem = fs::read(path)
        .map_err(|source| DkimError::KeyUnreadable { path: path.to_path_buf(), source })?;
    let mut loaded = parse_pem(&pem).map_err(|problem| match problem {
        KeyProblem::TooShort(bits) => DkimError::KeyTooShort { path: path.to_path_buf(), bits },
        KeyProblem::Invalid(reason) => DkimError::KeyInvalid { path: path.to_path_buf(), reason },
    })?;
    loaded.warnings.append(&mut warnings);
    Ok(loaded)
}

/// Why PEM text did not give a usable signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// Not a private key courtesy can sign with; says what was found instead.
    Invalid(String),
    /// An RSA key shorter than [`MIN_RSA_BITS`], with its size.
    TooShort(usize),
}

impl From<String> for KeyProblem {
    fn from(reason: String) -> Self {
        KeyProblem::Invalid(reason)
    }
}

/// Parses PEM text into a signing key.
pub fn parse_pem(pem: &[u8]) -> Result<LoadedKey, KeyProblem> {
    let der = PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| format!("no PEM private key found ({e})"))?;
    match der {
        PrivateKeyDer::Pkcs8(pkcs8) => {
            let bytes = pkcs8.secret_pkcs8_der();
            // OpenSSL writes Ed25519 keys as PKCS#8 v1 (no public key inside),
            // which ring only accepts through the "maybe unchecked" door.
            if let Ok(key) = Ed25519Key::from_pkcs8_maybe_unchecked_der(bytes) {
                let public_key = key.public_key();
                return Ok(LoadedKey {
                    algorithm: KeyAlgorithm::Ed25519,
                    bits: None,
                    key: DkimKey::Ed25519(key),
                    public_key,
                    warnings: Vec::new(),
                });
            }
            let rsa = rsa::RsaPrivateKey::from_pkcs8_der(bytes)
                .map_err(|e| format!("PKCS#8 key is neither Ed25519 nor RSA ({e})"))?;
            rsa_key(&rsa, PrivateKeyDer::Pkcs8(pkcs8.clone_key()))
        }
        PrivateKeyDer::Pkcs1(pkcs1) => {
            let rsa = rsa::RsaPrivateKey::from_pkcs1_der(pkcs1.secret_pkcs1_der())
                .map_err(|e| format!("invalid RSA key ({e})"))?;
            rsa_key(&rsa, PrivateKeyDer::Pkcs1(pkcs1.clone_key()))
        }
        PrivateKeyDer::Sec1(_) => {
            Err(KeyProblem::Invalid("an EC (SEC1) key; DKIM needs RSA or Ed25519".to_string()))
        }
        _ => Err(KeyProblem::Invalid(
            "an unsupported key format; DKIM needs RSA or Ed25519".to_string(),
        )),
    }
}

fn rsa_key(rsa: &rsa::RsaPrivateKey, der: PrivateKeyDer<'_>) -> Result<LoadedKey, KeyProblem> {
    let bits = rsa.size() * 8;
    // Checked before ring sees the key: ring refuses short keys with a
    // message that does not say why, and the admin needs the size.
    if bits < MIN_RSA_BITS {
        return Err(KeyProblem::TooShort(bits));
    }
    let public_key = rsa
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| format!("cannot encode the public key ({e})"))?
        .into_vec();
    let key = RsaKey::<Sha256>::from_key_der(der).map_err(|e| format!("RSA key rejected ({e})"))?;
    Ok(LoadedKey {
        algorithm: KeyAlgorithm::Rsa,
        bits: Some(bits),
        key: DkimKey::Rsa(key),
        public_key,
        warnings: Vec::new(),
    })
}

#[cfg(unix)]
fn unix_mode(metadata: &fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode())
}

#[cfg(not(unix))]
fn unix_mode(_: &fs::Metadata) -> Option<u32> {
    None
}

/// A freshly generated key pair.
pub struct GeneratedKey {
    /// The algorithm.
    pub algorithm: KeyAlgorithm,
    /// The private key as PKCS#8 PEM.
    pub private_pem: String,
    /// The `p=` bytes: SubjectPublicKeyInfo DER for RSA, the raw 32-byte key for Ed25519 (RFC 8463).
    pub public_key: Vec<u8>,
}

/// Generates a key pair. `bits` applies to RSA only and must be at least
/// [`MIN_RSA_BITS`].
pub fn generate(algorithm: KeyAlgorithm, bits: usize) -> Result<GeneratedKey, DkimError> {
    let failed = |e: &dyn std::fmt::Display| DkimError::KeyGeneration(e.to_string());
    match algorithm {
        KeyAlgorithm::Rsa => {
            if !(MIN_RSA_BITS..=8192).contains(&bits) {
                return Err(DkimError::KeyGeneration(format!(
                    "RSA keys must have {MIN_RSA_BITS} to 8192 bits, not {bits}"
                )));
            }
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
                .map_err(|e| failed(&e))?;
            let private_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| failed(&e))?;
            let public_key =
                key.to_public_key().to_public_key_der().map_err(|e| failed(&e))?.into_vec();
            Ok(GeneratedKey { algorithm, private_pem: private_pem.to_string(), public_key })
        }
        KeyAlgorithm::Ed25519 => {
            let der = Ed25519Key::generate_pkcs8().map_err(|e| failed(&e))?;
            let key = Ed25519Key::from_pkcs8_der(&der).map_err(|e| failed(&e))?;
            let private_pem =
                rsa::pkcs8::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &der)
                    .map_err(|e| failed(&e))?;
            Ok(GeneratedKey { algorithm, private_pem, public_key: key.public_key() })
        }
    }
}

/// The TXT record value: `v=DKIM1; k=rsa; p=...`.
pub fn dns_record(algorithm: KeyAlgorithm, public_key: &[u8]) -> String {
    let p = base64::engine::general_purpose::STANDARD.encode(public_key);
    format!("v=DKIM1; k={}; p={p}", algorithm.dns_name())
}

/// The zone-file line that publishes `record`: one TXT string may hold at
/// most 255 bytes, so longer records (every RSA key) are split into several
/// quoted strings, which resolvers join without a separator.
pub fn dns_zone_line(domain: &str, selector: &str, record: &str) -> String {
    let strings: Vec<String> = record
        .as_bytes()
        .chunks(255)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
        .collect();
    format!("{selector}._domainkey.{domain} IN TXT {}", strings.join(" "))
}

/// Where [`write_files`] put the key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    /// The private key, mode 0600.
    pub private_key: PathBuf,
    /// The zone-file line to publish.
    pub dns_record: PathBuf,
}

/// Writes `<dir>/<domain>.<selector>.key` (mode 0600, never overwritten) and
/// `<dir>/<domain>.<selector>.txt` with the zone-file line.
pub fn write_files(
    dir: &Path,
    domain: &str,
    selector: &str,
    key: &GeneratedKey,
) -> Result<KeyFiles, DkimError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DkimError::KeyWrite { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let private_key = dir.join(format!("{domain}.{selector}.key"));
    let dns_record = dir.join(format!("{domain}.{selector}.txt"));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&private_key).map_err(io(&private_key))?;
    file.write_all(key.private_pem.as_bytes()).map_err(io(&private_key))?;
    file.sync_all().map_err(io(&private_key))?;
    let line = dns_zone_line(domain, selector, &dns_record_text(key));
    fs::write(&dns_record, format!("{line}\n")).map_err(io(&dns_record))?;
    Ok(KeyFiles { private_key, dns_record })
}

fn dns_record_text(key: &GeneratedKey) -> String {
    dns_record(key.algorithm, &key.public_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_round_trip() {
        let generated = generate(KeyAlgorithm::Ed25519, 0).expect("generate");
        let loaded = parse_pem(generated.private_pem.as_bytes()).expect("parse");
        assert_eq!(loaded.algorithm, KeyAlgorithm::Ed25519);
        assert_eq!(loaded.public_key, generated.public_key);
        assert_eq!(loaded.public_key.len(), 32);
    }

    #[test]
    fn zone_line_splits_into_255_byte_strings() {
        let record = format!("v=DKIM1; k=rsa; p={}", "A".repeat(400));
        let line = dns_zone_line("hoekstra-advies.nl", "s1", &record);
        assert!(line.starts_with("s1._domainkey.hoekstra-advies.nl IN TXT \""));
        let strings: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        assert_eq!(strings.len(), 2);
        assert_eq!(strings[0].len(), 255);
        assert_eq!(strings.concat(), record);
    }

    #[test]
    fn rejects_garbage_and_ec_keys() {
        let Err(KeyProblem::Invalid(error)) = parse_pem(b"not a key") else {
            panic!("garbage accepted")
        };
        assert!(error.contains("no PEM private key"), "{error}");
        let ec = rcgen::KeyPair::generate().expect("ec key").serialize_pem();
        let Err(KeyProblem::Invalid(error)) = parse_pem(ec.as_bytes()) else {
            panic!("EC key accepted")
        };
        assert!(error.contains("neither Ed25519 nor RSA") || error.contains("EC"), "{error}");
    }

    #[test]
    fn refuses_weak_rsa_sizes_when_generating() {
        assert!(matches!(generate(KeyAlgorithm::Rsa, 1024), Err(DkimError::KeyGeneration(_))));
    }
}
