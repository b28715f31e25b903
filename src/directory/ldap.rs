//! People from an LDAP directory (Active Directory, OpenLDAP).
//!
//! One fetch is: connect (TLS per URL or StartTLS, with rustls and the ring
//! provider, never OpenSSL), bind with the password read from its file,
//! search the subtree with the Paged Results control (RFC 2696) so that
//! directories with more entries than the server's size limit (AD: 1000)
//! come back whole, map the attributes, unbind.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use super::config::{LdapConfig, LdapSchema, Names};
use super::{
    DirectoryPerson, Source, SourceData, SourceError, non_empty, normalise_address,
    split_proxy_addresses,
};

/// Filter for Active Directory: enabled user accounts that have a mailbox.
pub const AD_FILTER: &str = "(&(objectCategory=person)(objectClass=user)(mail=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))";
/// Filter for OpenLDAP: `inetOrgPerson` entries with an address.
pub const OPENLDAP_FILTER: &str = "(&(objectClass=inetOrgPerson)(mail=*))";

/// The attributes that fill each field, in preference order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMap {
    /// Stable id.
    pub id: Vec<String>,
    /// Display name.
    pub name: Vec<String>,
    /// Primary address.
    pub email: Vec<String>,
    /// Further addresses (multi-valued; `smtp:` prefixes understood).
    pub aliases: Vec<String>,
    /// Office phone.
    pub phone: Vec<String>,
    /// Mobile phone.
    pub mobile: Vec<String>,
    /// Department.
    pub department: Vec<String>,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl AttributeMap {
    /// The defaults of a schema.
    pub fn for_schema(schema: LdapSchema) -> AttributeMap {
        match schema {
            LdapSchema::ActiveDirectory => AttributeMap {
                id: strings(&["sAMAccountName"]),
                name: strings(&["displayName", "cn"]),
                email: strings(&["mail"]),
                aliases: strings(&["proxyAddresses"]),
                phone: strings(&["telephoneNumber"]),
                mobile: strings(&["mobile"]),
                department: strings(&["department"]),
            },
            LdapSchema::Openldap => AttributeMap {
                id: strings(&["uid"]),
                name: strings(&["displayName", "cn"]),
                email: strings(&["mail"]),
                aliases: Vec::new(),
                phone: strings(&["telephoneNumber"]),
                mobile: strings(&["mobile"]),
                department: strings(&["departmentNumber", "ou"]),
            },
        }
    }

    /// The schema's defaults with the configured overrides applied.
    pub fn from_config(config: &LdapConfig) -> AttributeMap {
        let mut map = AttributeMap::for_schema(config.schema);
        let set = |slot: &mut Vec<String>, o: &Option<Names>| {
            if let Some(n) = o {
                *slot = n.to_vec();
            }
        };
        let a = &config.attributes;
        set(&mut map.id, &a.id);
        set(&mut map.name, &a.name);
        set(&mut map.email, &a.email);
        set(&mut map.aliases, &a.aliases);
        set(&mut map.phone, &a.phone);
        set(&mut map.mobile, &a.mobile);
        set(&mut map.department, &a.department);
        map
    }

    /// Every attribute to request.
    pub fn requested(&self) -> Vec<String> {
        let mut all: Vec<String> = [
            &self.id,
            &self.name,
            &self.email,
            &self.aliases,
            &self.phone,
            &self.mobile,
            &self.department,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        all.sort_by_key(|a| a.to_ascii_lowercase());
        all.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        all
    }
}

/// An LDAP server as a source of people.
#[derive(Debug, Clone)]
pub struct LdapSource {
    config: LdapConfig,
    attributes: AttributeMap,
    timeout: Duration,
    label: String,
}

impl LdapSource {
    /// A source; `timeout` bounds the connection and each operation.
    pub fn new(config: LdapConfig, timeout: Duration) -> LdapSource {
        let attributes = AttributeMap::from_config(&config);
        let label = config.label();
        LdapSource { config, attributes, timeout, label }
    }

    fn error(&self, message: impl std::fmt::Display) -> SourceError {
        SourceError::Ldap { url: self.config.url.clone(), message: message.to_string() }
    }

    fn settings(&self) -> Result<LdapConnSettings, SourceError> {
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout)
            .set_starttls(self.config.starttls);
        if self.config.starttls || self.config.url.starts_with("ldaps://") {
            settings = settings.set_config(self.tls_config()?);
        }
        Ok(settings)
    }

    /// A rustls client config on the ring provider, built here rather than
    /// by ldap3, whose default would pick whichever provider rustls finds
    /// and panic if a dependency enables two.
    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, SourceError> {
        let tls = |message: String| SourceError::Tls { url: self.config.url.clone(), message };
        let mut roots = rustls::RootCertStore::empty();
        match &self.config.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|source| SourceError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    let cert = cert.map_err(|e| tls(format!("{}: {e}", path.display())))?;
                    roots.add(cert).map_err(|e| tls(format!("{}: {e}", path.display())))?;
                }
                if roots.is_empty() {
                    return Err(tls(format!("{}: no certificate in the file", path.display())));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for cert in found.certs {
                    // Unparsable system roots are skipped, as browsers do.
                    let _ = roots.add(cert);
                }
                if roots.is_empty() {
                    return Err(tls(
                        "no trusted CA certificates on this system; set ca_file".into()
                    ));
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    fn password(&self) -> Result<Option<String>, SourceError> {
        let Some(path) = &self.config.password_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|source| SourceError::Read { path: path.display().to_string(), source })?;
        Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
    }

    async fn search(&self) -> Result<SourceData, SourceError> {
        let password = self.password()?;
        let (conn, mut ldap) = LdapConnAsync::with_settings(self.settings()?, &self.config.url)
            .await
            .map_err(|e| self.error(format!("cannot connect: {e}")))?;
        ldap3::drive!(conn);

        if let (Some(dn), Some(password)) = (&self.config.bind_dn, &password) {
            ldap.with_timeout(self.timeout)
                .simple_bind(dn, password)
                .await
                .and_then(|r| r.success())
                .map_err(|e| self.error(format!("bind as {dn} failed: {e}")))?;
        }

        let filter = self.config.filter.clone().unwrap_or_else(|| {
            match self.config.schema {
                LdapSchema::ActiveDirectory => AD_FILTER,
                LdapSchema::Openldap => OPENLDAP_FILTER,
            }
            .to_string()
        });
        let mut adapters: Vec<Box<dyn Adapter<_, _>>> = vec![Box::new(EntriesOnly::new())];
        if self.config.page_size > 0 {
            let size = i32::try_from(self.config.page_size).unwrap_or(i32::MAX);
            adapters.push(Box::new(PagedResults::new(size)));
        }
        let mut stream = ldap
            .with_timeout(self.timeout)
            .streaming_search_with(
                adapters,
                &self.config.base_dn,
                Scope::Subtree,
                &filter,
                self.attributes.requested(),
            )
            .await
            .map_err(|e| self.error(format!("search under {} failed: {e}", self.config.base_dn)))?;

        let mut data = SourceData::default();
        while let Some(entry) = stream
            .next()
            .await
            .map_err(|e| self.error(format!("search under {} failed: {e}", self.config.base_dn)))?
        {
            // ldap3 panics on a structurally broken entry; a bad server must
            // fail this refresh, not the task that holds the snapshot.
            match std::panic::catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(entry))) {
                Ok(entry) => match map_entry(&entry, &self.attributes, &self.label) {
                    Ok(person) => data.people.push(person),
                    Err(warning) => data.warnings.push(warning),
                },
                Err(_) => return Err(self.error("the server sent a malformed entry")),
            }
        }
        stream
            .finish()
            .await
            .success()
            .map_err(|e| self.error(format!("search under {} failed: {e}", self.config.base_dn)))?;
        // The data is complete; a failing unbind changes nothing.
        let _ = ldap.unbind().await;
        Ok(data)
    }
}

#[async_trait::async_trait]
impl Source for LdapSource {
    fn label(&self) -> &str {
        &self.label
    }

    async fn fetch(&self) -> Result<SourceData, SourceError> {
        self.search().await
    }
}

fn values<'e>(entry: &'e SearchEntry, names: &[String]) -> impl Iterator<Item = &'e str> {
    names.iter().flat_map(move |name| {
        entry
            .attrs
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.iter().map(String::as_str))
    })
}

fn first(entry: &SearchEntry, names: &[String]) -> Option<String> {
    values(entry, names).find_map(non_empty)
}

/// Maps one entry; `Err` is a warning naming the entry that was left out.
pub fn map_entry(
    entry: &SearchEntry,
    map: &AttributeMap,
    label: &str,
) -> Result<DirectoryPerson, String> {
    let id = first(entry, &map.id)
        .ok_or_else(|| format!("skipped {}: no {}", entry.dn, map.id.join("/")))?;
    let (primary, mut aliases) = split_proxy_addresses(values(entry, &map.aliases));
    let email = values(entry, &map.email)
        .find_map(normalise_address)
        .or(primary)
        .ok_or_else(|| format!("skipped {}: no e-mail address", entry.dn))?;
    let name = first(entry, &map.name).ok_or_else(|| format!("skipped {}: no name", entry.dn))?;
    // Further `mail` values (OpenLDAP allows several) are aliases too.
    aliases.extend(values(entry, &map.email).filter_map(normalise_address));
    aliases.retain(|a| *a != email);
    aliases.sort();
    aliases.dedup();
    Ok(DirectoryPerson {
        id,
        name,
        email,
        aliases,
        phone: first(entry, &map.phone),
        mobile: first(entry, &map.mobile),
        department: first(entry, &map.department),
        source: label.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn entry(attrs: &[(&str, &[&str])]) -> SearchEntry {
        SearchEntry {
            dn: "CN=Jan de Vries,OU=Staff,DC=firm,DC=local".into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect::<HashMap<_, _>>(),
            bin_attrs: HashMap::new(),
        }
    }

    #[test]
    fn active_directory_entry() {
        let map = AttributeMap::for_schema(LdapSchema::ActiveDirectory);
        let e = entry(&[
            ("sAMAccountName", &["jdevries"]),
            ("displayName", &["Jan de Vries"]),
            ("mail", &["Jan.deVries@firm.nl"]),
            (
                "proxyAddresses",
                &[
                    "SMTP:jan.devries@firm.nl",
                    "smtp:jdv@firm.nl",
                    "smtp:j.de.vries@firm.nl",
                    "X500:/o=x",
                ],
            ),
            ("telephoneNumber", &["+31 20 555 0101"]),
        ]);
        let p = map_entry(&e, &map, "directory:ldap").expect("maps");
        assert_eq!(p.id, "jdevries");
        assert_eq!(p.email, "jan.devries@firm.nl");
        assert_eq!(p.aliases, vec!["j.de.vries@firm.nl", "jdv@firm.nl"]);
        assert_eq!(p.phone.as_deref(), Some("+31 20 555 0101"));
        assert_eq!(p.mobile, None);
    }

    #[test]
    fn attribute_names_are_case_insensitive_and_name_falls_back_to_cn() {
        let map = AttributeMap::for_schema(LdapSchema::Openldap);
        let e = entry(&[
            ("UID", &["piet"]),
            ("cn", &["Piet Jansen"]),
            ("mail", &["piet@firm.nl", "p.jansen@firm.nl"]),
        ]);
        let p = map_entry(&e, &map, "directory:ldap").expect("maps");
        assert_eq!(p.name, "Piet Jansen");
        assert_eq!(p.aliases, vec!["p.jansen@firm.nl"]);
    }

    #[test]
    fn entry_without_address_is_a_warning() {
        let map = AttributeMap::for_schema(LdapSchema::ActiveDirectory);
        let e = entry(&[("sAMAccountName", &["svc"]), ("displayName", &["Service"])]);
        let warning = map_entry(&e, &map, "l").expect_err("no address");
        assert!(warning.contains("CN=Jan de Vries"), "{warning}");
    }

    #[test]
    fn requested_attributes_are_unique() {
        let map = AttributeMap::for_schema(LdapSchema::Openldap);
        let attrs = map.requested();
        assert_eq!(attrs.iter().filter(|a| a.as_str() == "cn").count(), 1);
    }
}
