//! The [`Signer`]: built once from the configuration, then asked per message
//! whether a rewrite is allowed and, after it, which headers to change.

use std::collections::BTreeMap;

use mail_auth::AuthenticatedMessage;
use mail_auth::common::crypto::{DkimKey, HashAlgorithm};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};

use super::arc::Sealer;
use super::config::{DkimConfig, OnSigned};
use super::headers::{self, Field};
use super::{DkimError, FoundSignature, SIGNED_HEADERS, SignedDecision, keys};

/// Something an admin should read at startup or in `courtesy check`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notice {
    /// A problem to fix (`true`) or a statement of behaviour (`false`).
    pub warning: bool,
    /// The message.
    pub text: String,
}

/// One header change for the milter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum HeaderEdit {
    /// Delete the `index`-th (1-based) header called `name`.
    Remove {
        /// Header name.
        name: String,
        /// 1-based occurrence among headers of that name.
        index: usize,
    },
    /// Insert a header at the top of the header block.
    Prepend {
        /// Header name.
        name: String,
        /// Value, folded with the message's line ends, without the final one.
        value: String,
    },
}

/// The header changes that finish a rewritten message.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Finish {
    /// In the order to apply them: removals first, highest index first, so
    /// that earlier removals do not shift later indices; then the new
    /// headers, each inserted at position 0 (the last one ends up on top).
    pub edits: Vec<HeaderEdit>,
    /// What was done and why, for logs and the audit record.
    pub notes: Vec<String>,
    /// `(domain, selector)` of every signature courtesy added.
    pub resigned: Vec<(String, String)>,
    /// `(domain, selector)` of every broken signature left in place (`keep`).
    pub kept: Vec<(String, String)>,
}

struct Domain {
    on_signed: OnSigned,
    signer: Option<DkimSigner<DkimKey, Done>>,
}

/// DKIM decisions and signing for every configured domain.
pub struct Signer {
    domains: BTreeMap<String, Domain>,
    on_foreign_signed: OnSigned,
    sealer: Option<Sealer>,
    notices: Vec<Notice>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("domains", &self.domains.keys().collect::<Vec<_>>())
            .field("on_foreign_signed", &self.on_foreign_signed)
            .field("arc", &self.sealer.is_some())
            .finish()
    }
}

impl Signer {
    /// Validates the configuration and loads every key. Fails on the first
    /// unusable key; warnings (keys readable by others) and the plain
    /// statement of what happens to signed mail are in [`Signer::notices`].
    pub fn from_config(config: &DkimConfig) -> Result<Signer, DkimError> {
        let mut domains = BTreeMap::new();
        let mut notices = Vec::new();
        for (name, domain) in &config.domains {
            let key_name = normalise_domain(name)?;
            let on_signed = domain.on_signed.unwrap_or(if domain.key.is_some() {
                OnSigned::Resign
            } else {
                OnSigned::Skip
            });
            let signer = match (&domain.key, &domain.selector) {
                (Some(path), Some(selector)) => {
                    check_selector(&key_name, selector)?;
                    let loaded = keys::load(path)?;
                    if let Some(wanted) = domain.algorithm
                        && wanted != loaded.algorithm
                    {
                        return Err(DkimError::Config(format!(
                            "{key_name}: algorithm is {wanted} but {} holds an {} key",
                            path.display(),
                            loaded.algorithm
                        )));
                    }
                    notices.extend(
                        loaded
                            .warnings
                            .iter()
                            .map(|text| Notice { warning: true, text: text.clone() }),
                    );
                    Some(
                        DkimSigner::from_key(loaded.key)
                            .domain(key_name.clone())
                            .selector(selector.clone())
                            .headers(SIGNED_HEADERS)
                            .header_canonicalization(Canonicalization::Relaxed)
                            .body_canonicalization(Canonicalization::Relaxed),
                    )
                }
                (Some(_), None) => {
                    return Err(DkimError::Config(format!(
                        "{key_name}: key is set but selector is missing"
                    )));
                }
                (None, _) => None,
            };
            if on_signed == OnSigned::Resign && signer.is_none() {
                return Err(DkimError::Config(format!(
                    "{key_name}: on_signed: resign needs key and selector"
                )));
            }
            notices.push(Notice { warning: false, text: describe(&key_name, on_signed, &signer) });
            if domains.insert(key_name.clone(), Domain { on_signed, signer }).is_some() {
                return Err(DkimError::Config(format!("{key_name} is listed twice")));
            }
        }
        notices.push(Notice {
            warning: false,
            text: match config.on_foreign_signed {
                OnSigned::Skip => "mail DKIM-signed by any other domain is not rewritten \
                                   (on_foreign_signed: skip)"
                    .to_string(),
                other => format!(
                    "mail DKIM-signed by any other domain is rewritten and its signature left \
                     broken (on_foreign_signed: {})",
                    other.as_str()
                ),
            },
        });
        if config.on_foreign_signed == OnSigned::Resign {
            return Err(DkimError::Config(
                "on_foreign_signed cannot be resign: courtesy holds no key for other domains"
                    .to_string(),
            ));
        }
        let sealer = match &config.arc {
            Some(arc) if arc.enabled => {
                let (sealer, warnings) = Sealer::from_config(arc)?;
                notices.extend(warnings.into_iter().map(|text| Notice { warning: true, text }));
                Some(sealer)
            }
            _ => None,
        };
        Ok(Signer { domains, on_foreign_signed: config.on_foreign_signed, sealer, notices })
    }

    /// Warnings and plain statements for the startup log and `courtesy check`.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Which DKIM signatures `raw` carries and whether the engine may rewrite it.
    pub fn decide(&self, raw: &[u8]) -> SignedDecision {
        let signatures = self.signatures(&headers::fields(raw));
        if let Some(s) = signatures.iter().find(|s| s.on_signed == OnSigned::Skip) {
            return SignedDecision::Skip { reason: skip_reason(s), signatures };
        }
        let resign = signatures.iter().any(|s| s.on_signed == OnSigned::Resign);
        SignedDecision::Rewrite { resign, signatures }
    }

    /// The header edits that finish `rewritten` (the engine's output for
    /// `original`): signatures the rewrite broke are removed and replaced
    /// (`resign`) or left (`keep`); then the ARC seal, when enabled.
    pub fn finish_changes(&self, rewritten: &[u8], original: &[u8]) -> Result<Finish, DkimError> {
        Ok(self.plan(rewritten, original)?.0)
    }

    /// The finished message as bytes, for the relay.
    pub fn finish(&self, rewritten: &[u8], original: &[u8]) -> Result<Vec<u8>, DkimError> {
        Ok(self.plan(rewritten, original)?.1)
    }

    /// Both at once: the header edits and the finished bytes they produce,
    /// from one signing run (a second run would carry another timestamp).
    pub fn finish_both(
        &self,
        rewritten: &[u8],
        original: &[u8],
    ) -> Result<(Finish, Vec<u8>), DkimError> {
        self.plan(rewritten, original)
    }

    fn plan(&self, rewritten: &[u8], original: &[u8]) -> Result<(Finish, Vec<u8>), DkimError> {
        let fields = headers::fields(rewritten);
        if fields.is_empty() {
            return Err(DkimError::Unparseable);
        }
        let eol = headers::line_ending(rewritten);
        let signatures = self.signatures(&fields);
        let broken = broken_signatures(rewritten, original, &fields);
        let mut finish = Finish::default();
        let mut removed = Vec::new();
        let mut resign: Vec<&str> = Vec::new();
        for signature in signatures.iter().filter(|s| broken.contains(&s.index)).rev() {
            match signature.on_signed {
                OnSigned::Skip => return Err(DkimError::MustSkip(skip_reason(signature))),
                OnSigned::Keep => {
                    finish.notes.push(format!(
                        "left the broken DKIM signature of {} (s={}) for a later hop to replace",
                        signature.domain, signature.selector
                    ));
                    finish.kept.push((signature.domain.clone(), signature.selector.clone()));
                }
                OnSigned::Resign => {
                    removed.push(dkim_field(&fields, signature.index).range.clone());
                    finish.edits.push(HeaderEdit::Remove {
                        name: "DKIM-Signature".to_string(),
                        index: signature.index,
                    });
                    if !resign.contains(&signature.domain.as_str()) {
                        resign.push(&signature.domain);
                    }
                }
            }
        }
        let mut message = headers::splice(rewritten, b"", &removed);
        // New headers in their final top-to-bottom order.
        let mut added: Vec<(String, String)> = Vec::new();
        for domain in resign.iter().rev() {
            let Some(signer) = self.domains.get(*domain).and_then(|d| d.signer.as_ref()) else {
                continue;
            };
            let signature = signer.sign(&message).map_err(|e| DkimError::Sign {
                what: "sign",
                domain: domain.to_string(),
                reason: e.to_string(),
            })?;
            let text = headers::with_line_ending(&signature.to_header(), eol);
            message = headers::splice(&message, text.as_bytes(), &[]);
            added.splice(0..0, headers::split_header_text(&text));
            finish.notes.push(format!("re-signed for {domain} (s={})", signature.s));
            finish.resigned.push((domain.to_string(), signature.s.clone()));
        }
        if let Some(sealer) = &self.sealer {
            match sealer.seal(&message)? {
                Some(text) => {
                    let text = headers::with_line_ending(&text, eol);
                    message = headers::splice(&message, text.as_bytes(), &[]);
                    added.splice(0..0, headers::split_header_text(&text));
                    finish.notes.push(format!("ARC-sealed as {}", sealer.domain()));
                }
                None => finish.notes.push(
                    "not ARC-sealed: the message already carries an ARC chain that courtesy \
                     cannot validate without DNS"
                        .to_string(),
                ),
            }
        }
        // Inserted one by one at position 0, so the bottom-most goes first.
        for (name, value) in added.into_iter().rev() {
            finish.edits.push(HeaderEdit::Prepend { name, value });
        }
        Ok((finish, message))
    }

    fn signatures(&self, fields: &[Field<'_>]) -> Vec<FoundSignature> {
        fields
            .iter()
            .filter(|f| f.is("DKIM-Signature"))
            .enumerate()
            .filter_map(|(i, f)| {
                // A signature that does not parse fails for every verifier
                // already; a rewrite cannot make it worse.
                let parsed = mail_auth::dkim::Signature::parse(f.value).ok()?;
                let domain = parsed.d.trim_end_matches('.').to_ascii_lowercase();
                let (own, on_signed) = match self.domains.get(&domain) {
                    Some(d) => (true, d.on_signed),
                    None => (false, self.on_foreign_signed),
                };
                Some(FoundSignature { index: i + 1, domain, selector: parsed.s, own, on_signed })
            })
            .collect()
    }
}

fn dkim_field<'a, 'b>(fields: &'b [Field<'a>], index: usize) -> &'b Field<'a> {
    fields
        .iter()
        .filter(|f| f.is("DKIM-Signature"))
        .nth(index - 1)
        .expect("index comes from the same field list")
}

/// The 1-based indices of the `DKIM-Signature` headers of `rewritten` that
/// no longer match: the body hash differs, or a header they cover changed.
fn broken_signatures(rewritten: &[u8], original: &[u8], fields: &[Field<'_>]) -> Vec<usize> {
    let original_fields = headers::fields(original);
    let body_hashes =
        AuthenticatedMessage::parse(rewritten).map(|m| m.body_hashes).unwrap_or_default();
    let mut broken = Vec::new();
    for (i, field) in fields.iter().filter(|f| f.is("DKIM-Signature")).enumerate() {
        let Ok(signature) = mail_auth::dkim::Signature::parse(field.value) else {
            continue;
        };
        let hash = HashAlgorithm::from(signature.a);
        let body_intact = body_hashes.iter().any(|(c, h, l, bh)| {
            *c == signature.cb && *h == hash && *l == signature.l && *bh == signature.bh
        });
        let headers_intact =
            signature.h.iter().all(|name| values(&original_fields, name) == values(fields, name));
        if !(body_intact && headers_intact) {
            broken.push(i + 1);
        }
    }
    broken
}

fn values<'a>(fields: &[Field<'a>], name: &str) -> Vec<&'a [u8]> {
    fields.iter().filter(|f| f.is(name)).map(|f| f.value).collect()
}

fn skip_reason(signature: &FoundSignature) -> String {
    if signature.own {
        format!(
            "DKIM-signed by {} (s={}) and on_signed is skip for that domain",
            signature.domain, signature.selector
        )
    } else {
        format!(
            "DKIM-signed by {} (s={}), which is not a configured domain (on_foreign_signed: skip)",
            signature.domain, signature.selector
        )
    }
}

fn describe(
    domain: &str,
    on_signed: OnSigned,
    signer: &Option<DkimSigner<DkimKey, Done>>,
) -> String {
    match (on_signed, signer.is_some()) {
        (OnSigned::Resign, _) => {
            format!("mail DKIM-signed by {domain} is rewritten and re-signed with courtesy's key")
        }
        (OnSigned::Keep, _) => format!(
            "mail DKIM-signed by {domain} is rewritten and its signature left broken \
             (on_signed: keep; a later hop must sign again)"
        ),
        (OnSigned::Skip, false) => format!(
            "mail DKIM-signed by {domain} is NOT rewritten: no DKIM key is configured for it \
             (on_signed: skip)"
        ),
        (OnSigned::Skip, true) => {
            format!("mail DKIM-signed by {domain} is NOT rewritten (on_signed: skip)")
        }
    }
}

fn normalise_domain(name: &str) -> Result<String, DkimError> {
    let domain = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(domain)
    } else {
        Err(DkimError::Config(format!("{name:?} is not a domain name (use the A-label form)")))
    }
}

fn check_selector(domain: &str, selector: &str) -> Result<(), DkimError> {
    let valid = !selector.is_empty()
        && selector.split('.').all(|label| {
            !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(DkimError::Config(format!("{domain}: selector {selector:?} is not a DNS label")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::config::DomainConfig;

    fn config(on_signed: Option<OnSigned>) -> DkimConfig {
        let mut config = DkimConfig::default();
        config.domains.insert(
            "Hoekstra-Advies.nl.".to_string(),
            DomainConfig { on_signed, ..Default::default() },
        );
        config
    }

    const SIGNED: &[u8] = b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=hoekstra-advies.nl;\r\n s=mx; h=from:subject; bh=YWJj; b=YWJj\r\nDKIM-Signature: v=1; a=rsa-sha256; d=mailer.example; s=m1;\r\n h=from; bh=YWJj; b=YWJj\r\nFrom: a@hoekstra-advies.nl\r\nSubject: x\r\n\r\nbody\r\n";

    #[test]
    fn without_a_key_signed_mail_is_skipped_and_said_so() {
        let signer = Signer::from_config(&config(None)).expect("valid");
        let decision = signer.decide(SIGNED);
        let SignedDecision::Skip { reason, signatures } = &decision else {
            panic!("expected skip, got {decision:?}")
        };
        assert!(reason.contains("hoekstra-advies.nl"), "{reason}");
        assert_eq!(signatures.len(), 2);
        assert!(signatures[0].own && !signatures[1].own);
        assert!(decision.skip_reason().is_some());
        assert!(
            signer.notices().iter().any(|n| n.text.contains("NOT rewritten: no DKIM key")),
            "{:?}",
            signer.notices()
        );
    }

    #[test]
    fn keep_allows_rewriting_without_resigning() {
        let mut config = config(Some(OnSigned::Keep));
        config.on_foreign_signed = OnSigned::Keep;
        let signer = Signer::from_config(&config).expect("valid");
        assert!(matches!(signer.decide(SIGNED), SignedDecision::Rewrite { resign: false, .. }));
        assert!(matches!(
            signer.decide(b"From: a@b.nl\r\n\r\nx"),
            SignedDecision::Rewrite { resign: false, .. }
        ));
    }

    #[test]
    fn resign_without_key_is_a_config_error() {
        let error = Signer::from_config(&config(Some(OnSigned::Resign))).unwrap_err();
        assert!(error.to_string().contains("needs key and selector"), "{error}");
        let config = DkimConfig { on_foreign_signed: OnSigned::Resign, ..Default::default() };
        assert!(Signer::from_config(&config).is_err());
    }

    #[test]
    fn missing_key_is_named() {
        let mut config = DkimConfig::default();
        config.domains.insert(
            "a.nl".to_string(),
            DomainConfig {
                selector: Some("s".to_string()),
                key: Some("/nonexistent/a.key".into()),
                ..Default::default()
            },
        );
        let error = Signer::from_config(&config).unwrap_err();
        assert!(matches!(error, DkimError::KeyMissing { .. }), "{error}");
        assert!(error.to_string().contains("/nonexistent/a.key"));
    }

    #[test]
    fn rejects_bad_domain_names_and_selectors() {
        assert!(normalise_domain("bad domain.nl").is_err());
        assert!(normalise_domain("-a.nl").is_err());
        assert_eq!(normalise_domain("A.NL.").expect("valid"), "a.nl");
        assert!(check_selector("a.nl", "s 1").is_err());
        assert!(check_selector("a.nl", "2026-01.eu").is_ok());
    }

    #[test]
    fn finish_refuses_to_break_a_skip_signature() {
        let mut config = DkimConfig { on_foreign_signed: OnSigned::Keep, ..Default::default() };
        config.domains.insert(
            "hoekstra-advies.nl".to_string(),
            DomainConfig { on_signed: Some(OnSigned::Skip), ..Default::default() },
        );
        let signer = Signer::from_config(&config).expect("valid");
        let rewritten = [SIGNED.strip_suffix(b"body\r\n").expect("suffix"), b"other\r\n"].concat();
        assert!(matches!(signer.finish(&rewritten, SIGNED), Err(DkimError::MustSkip(_))));
        assert!(matches!(signer.finish(b"", SIGNED), Err(DkimError::Unparseable)));
    }
}
