//! Offline DKIM and ARC verification against DNS records given up front.
//!
//! Used by the tests and for checking a gateway's own output before its
//! records are published. Nothing is ever sent to a name server: the
//! resolver has none configured, and every lookup is answered from the
//! [`KeyTable`] or fails as "record not found".

use std::collections::HashMap;
use std::hash::Hash;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, MX, MessageAuthenticator, Parameters, RecordSet,
    ResolverCache, Txt,
};

use super::DkimError;

/// DKIM public-key records by `selector._domainkey.domain`.
#[derive(Clone, Default)]
pub struct KeyTable {
    records: HashMap<Box<str>, Txt>,
}

impl std::fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTable").field("names", &self.records.keys().collect::<Vec<_>>()).finish()
    }
}

impl KeyTable {
    /// An empty table.
    pub fn new() -> KeyTable {
        KeyTable::default()
    }

    /// Adds the TXT record `record` (`v=DKIM1; k=...; p=...`) as published
    /// at `selector._domainkey.domain`.
    pub fn insert(&mut self, selector: &str, domain: &str, record: &str) -> Result<(), DkimError> {
        let name = format!("{selector}._domainkey.{}", domain.trim_end_matches('.'));
        let key = DomainKey::parse(record.as_bytes())
            .map_err(|e| DkimError::Record { name: name.clone(), reason: e.to_string() })?;
        self.records.insert(format!("{name}.").to_ascii_lowercase().into(), Txt::from(key));
        Ok(())
    }
}

impl KeyTable {
    /// Adds every record of zone-file text as `courtesy dkim keygen` writes
    /// it: `selector._domainkey.domain [TTL] [IN] TXT "part" "part"...`, one
    /// record per line; empty lines and `;` comments are ignored. Returns how
    /// many records were added.
    pub fn insert_zone_text(&mut self, text: &str) -> Result<usize, DkimError> {
        let mut added = 0;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            let bad = |reason: &str| DkimError::Record {
                name: line.split_whitespace().next().unwrap_or_default().to_string(),
                reason: reason.to_string(),
            };
            let name = line.split_whitespace().next().unwrap_or_default().trim_end_matches('.');
            let (selector, domain) =
                name.split_once("._domainkey.").ok_or_else(|| bad("not a _domainkey name"))?;
            let txt = line.find(" TXT ").ok_or_else(|| bad("no TXT record on this line"))?;
            let quoted: Vec<&str> = line[txt..].split('"').skip(1).step_by(2).collect();
            if quoted.is_empty() {
                return Err(bad("the TXT value is not in double quotes"));
            }
            self.insert(selector, domain, &quoted.concat())?;
            added += 1;
        }
        Ok(added)
    }
}

impl ResolverCache<Box<str>, Txt> for KeyTable {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.records.get(name).cloned()
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    // Answers never come from a name server, so there is nothing to keep.
    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// `d=`, or empty for a signature too broken to name one.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// `pass`, `fail`, `neutral`, `permerror`, `temperror` or `none`.
    pub result: String,
    /// Why, when it did not pass.
    pub detail: Option<String>,
}

impl Verdict {
    /// Whether the signature verified.
    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

fn authenticator() -> Result<MessageAuthenticator, DkimError> {
    MessageAuthenticator::new(
        ResolverConfig::from_parts(None, vec![], vec![]),
        ResolverOpts::default(),
    )
    .map_err(|e| DkimError::Config(format!("offline resolver: {e}")))
}

fn verdict(result: &DkimResult, domain: &str, selector: &str) -> Verdict {
    let (name, detail) = match result {
        DkimResult::Pass => ("pass", None),
        DkimResult::Neutral(e) => ("neutral", Some(e.to_string())),
        DkimResult::Fail(e) => ("fail", Some(e.to_string())),
        DkimResult::PermError(e) => ("permerror", Some(e.to_string())),
        DkimResult::TempError(e) => ("temperror", Some(e.to_string())),
        DkimResult::None => ("none", None),
    };
    Verdict {
        domain: domain.to_string(),
        selector: selector.to_string(),
        result: name.to_string(),
        detail,
    }
}

type NoCache<V> = mail_auth::common::cache::NoCache<Box<str>, V>;
type Params<'x> = Parameters<
    'x,
    &'x AuthenticatedMessage<'x>,
    KeyTable,
    NoCache<RecordSet<MX>>,
    NoCache<RecordSet<std::net::Ipv4Addr>>,
    NoCache<RecordSet<std::net::Ipv6Addr>>,
    mail_auth::common::cache::NoCache<std::net::IpAddr, RecordSet<Box<str>>>,
>;

/// Verifies every `DKIM-Signature` of `raw`, in header order.
pub async fn verify_dkim(raw: &[u8], keys: &KeyTable) -> Result<Vec<Verdict>, DkimError> {
    let message = AuthenticatedMessage::parse(raw).ok_or(DkimError::Unparseable)?;
    let authenticator = authenticator()?;
    let params: Params<'_> = Parameters::new(&message).with_txt_cache(keys);
    let outputs = authenticator.verify_dkim(params).await;
    Ok(outputs
        .iter()
        .map(|o| {
            let (d, s) = o.signature().map_or(("", ""), |s| (s.d.as_str(), s.s.as_str()));
            verdict(o.result(), d, s)
        })
        .collect())
}

/// Verifies the ARC chain of `raw`; `none` when it has none.
pub async fn verify_arc(raw: &[u8], keys: &KeyTable) -> Result<Verdict, DkimError> {
    let message = AuthenticatedMessage::parse(raw).ok_or(DkimError::Unparseable)?;
    let authenticator = authenticator()?;
    let params: Params<'_> = Parameters::new(&message).with_txt_cache(keys);
    let output = authenticator.verify_arc(params).await;
    let last = output.sets().last();
    let (d, s) = last.map_or((String::new(), String::new()), |set| {
        (set.seal.header.d.clone(), set.seal.header.s.clone())
    });
    Ok(verdict(output.result(), &d, &s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_zone_lines_as_keygen_writes_them() {
        let key = crate::dkim::keys::generate(crate::dkim::KeyAlgorithm::Ed25519, 0).expect("key");
        let record = crate::dkim::keys::dns_record(key.algorithm, &key.public_key);
        let line = crate::dkim::keys::dns_zone_line("a.example", "s1", &record);
        let mut table = KeyTable::new();
        let text = format!("; published 2026-12-01\n\n{line}\n");
        assert_eq!(table.insert_zone_text(&text).expect("valid"), 1);
        assert!(table.get("s1._domainkey.a.example.").is_some());
        assert!(table.insert_zone_text("s1._domainkey.a.example IN TXT v=DKIM1").is_err());
        assert!(table.insert_zone_text("www.a.example IN TXT \"x\"").is_err());
    }
}
