//! The `dkim:` section of the service configuration.
//!
//! Raw serde structs with `deny_unknown_fields`: a misspelt `on_signed` must
//! not silently turn re-signing off. [`crate::dkim::Signer::from_config`]
//! validates them as a whole and loads the keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// DKIM and ARC settings.
///
/// ```yaml
/// dkim:
///   domains:
///     hoekstra-advies.nl:
///       selector: courtesy2026
///       key: /etc/courtesy/dkim/hoekstra-advies.nl.courtesy2026.key
///       on_signed: resign
///   arc:
///     enabled: true
///     domain: hoekstra-advies.nl
///     selector: arc2026
///     key: /etc/courtesy/dkim/hoekstra-advies.nl.arc2026.key
///     authserv_id: courtesy.hoekstra-advies.nl
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimConfig {
    /// The organisation's signing domains, by `d=` value (case-insensitive).
    ///
    /// ### Default
    /// None: every DKIM-signed message is then left alone (`skip`).
    #[serde(default)]
    pub domains: BTreeMap<String, DomainConfig>,
    /// What to do with mail signed by a domain that is not listed in
    /// `domains` (a mailing service, a tenant's `onmicrosoft.com` domain).
    ///
    /// ### Default
    /// `skip`: courtesy cannot repair a signature it holds no key for.
    /// `keep` is right only when a later hop signs again.
    #[serde(default = "OnSigned::skip")]
    pub on_foreign_signed: OnSigned,
    /// Optional ARC sealing of rewritten mail (RFC 8617).
    #[serde(default)]
    pub arc: Option<ArcConfig>,
}

impl Default for DkimConfig {
    /// No domains, foreign signatures skipped, no ARC: signed mail is never altered.
    fn default() -> Self {
        DkimConfig { domains: BTreeMap::new(), on_foreign_signed: OnSigned::Skip, arc: None }
    }
}

/// One of the organisation's signing domains.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    /// DNS selector of courtesy's key (`<selector>._domainkey.<domain>`).
    /// Required with `key`.
    #[serde(default)]
    pub selector: Option<String>,
    /// PEM file with the private key: RSA (2048 bits or more, PKCS#1 or
    /// PKCS#8) or Ed25519 (PKCS#8). Must be readable by courtesy only.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// The key's algorithm, checked against the file when given.
    ///
    /// ### Default
    /// Whatever the key file holds.
    #[serde(default)]
    pub algorithm: Option<KeyAlgorithm>,
    /// What to do when courtesy rewrites mail this domain signed.
    ///
    /// ### Default
    /// `resign` when a key is configured, `skip` otherwise.
    #[serde(default)]
    pub on_signed: Option<OnSigned>,
}

/// What to do when a rewrite would break a DKIM signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnSigned {
    /// Remove the signatures the rewrite broke and sign the new message with
    /// courtesy's key for the domain. Needs `key` and `selector`.
    Resign,
    /// Rewrite and leave the broken signature; only for setups where a later
    /// hop (Exchange Online, a signing MTA) signs again.
    Keep,
    /// Do not rewrite signed mail; the message is recorded as skipped.
    Skip,
}

impl OnSigned {
    fn skip() -> Self {
        OnSigned::Skip
    }

    /// The setting's name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            OnSigned::Resign => "resign",
            OnSigned::Keep => "keep",
            OnSigned::Skip => "skip",
        }
    }
}

/// Signing algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    /// `rsa-sha256`.
    Rsa,
    /// `ed25519-sha256` (RFC 8463).
    Ed25519,
}

impl KeyAlgorithm {
    /// The `k=` value of the DNS record.
    pub fn dns_name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "rsa",
            KeyAlgorithm::Ed25519 => "ed25519",
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.dns_name())
    }
}

/// ARC sealing of rewritten mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcConfig {
    /// Seal rewritten mail.
    ///
    /// ### Default
    /// `false`.
    #[serde(default)]
    pub enabled: bool,
    /// `d=` of the seal.
    pub domain: String,
    /// Selector of the sealing key.
    pub selector: String,
    /// PEM file of the sealing key (same rules as a DKIM key). ARC requires
    /// RSA in practice: receivers do not accept Ed25519 seals yet.
    pub key: PathBuf,
    /// The authserv-id written into `ARC-Authentication-Results`, usually
    /// the gateway's host name.
    pub authserv_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_section() {
        let yaml = r#"
domains:
  hoekstra-advies.nl:
    selector: c1
    key: /etc/courtesy/c1.key
    algorithm: ed25519
    on_signed: keep
  example.org: {}
on_foreign_signed: keep
arc:
  enabled: true
  domain: hoekstra-advies.nl
  selector: arc1
  key: /etc/courtesy/arc.key
  authserv_id: gw.hoekstra-advies.nl
"#;
        let config: DkimConfig = serde_saphyr::from_str(yaml).expect("valid section");
        let domain = &config.domains["hoekstra-advies.nl"];
        assert_eq!(domain.on_signed, Some(OnSigned::Keep));
        assert_eq!(domain.algorithm, Some(KeyAlgorithm::Ed25519));
        assert_eq!(config.domains["example.org"], DomainConfig::default());
        assert_eq!(config.on_foreign_signed, OnSigned::Keep);
        assert!(config.arc.as_ref().is_some_and(|a| a.enabled));
    }

    #[test]
    fn rejects_unknown_keys() {
        let yaml = "domains:\n  a.nl:\n    on_sigend: keep\n";
        let error = serde_saphyr::from_str::<DkimConfig>(yaml).unwrap_err().to_string();
        assert!(error.contains("on_sigend"), "{error}");
    }

    #[test]
    fn foreign_signatures_default_to_skip() {
        let config: DkimConfig = serde_saphyr::from_str("domains: {}\n").expect("valid");
        assert_eq!(config.on_foreign_signed, OnSigned::Skip);
        assert!(config.arc.is_none());
    }
}
