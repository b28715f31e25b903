//! ARC sealing (RFC 8617) of rewritten mail.
//!
//! courtesy seals only messages without an ARC chain: extending a chain
//! means stating whether it validated (`cv=pass|fail`), which needs the
//! previous sealers' keys from DNS, and the signer stays pure. A message that
//! already carries a chain is forwarded without a new set and the reason is
//! noted. The `ARC-Authentication-Results` of a first set says `none`: courtesy
//! checks no signatures, it only vouches that it changed the message.

use mail_auth::common::crypto::DkimKey;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, Done};
use mail_auth::{ArcOutput, AuthenticatedMessage, AuthenticationResults};

use super::config::ArcConfig;
use super::{DkimError, SIGNED_HEADERS, keys};

/// Headers the ARC-Message-Signature covers: the DKIM set plus the
/// signatures, so a later DMARC evaluator can see what courtesy signed.
fn sealed_headers() -> Vec<&'static str> {
    let mut headers: Vec<&str> = SIGNED_HEADERS.to_vec();
    headers.push("DKIM-Signature");
    headers
}

pub(crate) struct Sealer {
    sealer: mail_auth::arc::ArcSealer<DkimKey, Done>,
    domain: String,
    authserv_id: String,
}

impl Sealer {
    pub fn from_config(config: &ArcConfig) -> Result<(Sealer, Vec<String>), DkimError> {
        let missing = |what: &str| DkimError::Config(format!("arc: {what} is required"));
        if config.domain.trim().is_empty() {
            return Err(missing("domain"));
        }
        if config.selector.trim().is_empty() {
            return Err(missing("selector"));
        }
        if config.authserv_id.trim().is_empty() || config.authserv_id.contains(';') {
            return Err(DkimError::Config(
                "arc: authserv_id must be a host name such as gw.example.nl".to_string(),
            ));
        }
        let loaded = keys::load(&config.key)?;
        let domain = config.domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let sealer = mail_auth::arc::ArcSealer::<DkimKey>::from_key(loaded.key)
            .domain(domain.clone())
            .selector(config.selector.trim().to_string())
            .headers(sealed_headers())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        Ok((
            Sealer { sealer, domain, authserv_id: config.authserv_id.trim().to_string() },
            loaded.warnings,
        ))
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The three ARC headers (CRLF line ends) for `message`, or `None` when
    /// the message already has a chain.
    pub fn seal(&self, message: &[u8]) -> Result<Option<String>, DkimError> {
        let failed =
            |reason: String| DkimError::Sign { what: "seal", domain: self.domain.clone(), reason };
        let parsed = AuthenticatedMessage::parse(message)
            .ok_or_else(|| failed("unparseable message".into()))?;
        if !parsed.as_headers.is_empty() || !parsed.ams_headers.is_empty() {
            return Ok(None);
        }
        let results = AuthenticationResults::new(&self.authserv_id);
        let set = self
            .sealer
            .seal(&parsed, &results, &ArcOutput::default())
            .map_err(|e| failed(e.to_string()))?;
        Ok(Some(set.to_header()))
    }
}
