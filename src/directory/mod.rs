//! People from the firm's directory: LDAP / Active Directory and CSV exports.
//!
//! The directory is where people already live, so managers should not have
//! to copy names, addresses and phone numbers into the house policy. The
//! flow is: [`config`] names the sources; each source ([`ldap`], [`csv`])
//! fetches [`DirectoryPerson`]s; the [`refresh`] task combines them into a
//! [`Snapshot`] and keeps the last good one on disk ([`snapshot`]); finally
//! [`merge`] lays the policy's own `people` entries over the snapshot, with
//! the provenance of every field.
//!
//! The sources live in the service configuration, not in the policy: a
//! bind password is a secret of the admin, while managers only need to see
//! which people exist and where each field comes from (`courtesy directory
//! show`). See `docs/DIRECTORY.md`.

pub mod config;
pub mod csv;
pub mod ldap;
pub mod merge;
pub mod refresh;
pub mod service;
pub mod snapshot;

use std::time::Duration;

pub use config::{DirectoryConfig, SourceConfig};
pub use merge::{
    MergeIssue, MergedPeople, MergedPerson, PolicyPersonInput, Provenance, Sourced, merge,
};
pub use refresh::{RefreshStatus, Refresher};
pub use snapshot::{Snapshot, SnapshotDiff};

/// One person as a directory source describes them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectoryPerson {
    /// Stable id: `sAMAccountName`, `uid` or the user principal name.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Primary e-mail address, lower-case.
    pub email: String,
    /// Further addresses, lower-case, without the primary one.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Direct (office) phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Mobile number.
    #[serde(default)]
    pub mobile: Option<String>,
    /// Department, for display only.
    #[serde(default)]
    pub department: Option<String>,
    /// The source label this record came from (`directory:ldap`,
    /// `directory:csv:FILE`), kept so every merged field can say where it
    /// came from.
    pub source: String,
}

/// What one source returned: its people plus the rows or entries it had to
/// leave out, so an admin can see why someone is missing.
#[derive(Debug, Clone, Default)]
pub struct SourceData {
    /// The people, in the order the source listed them.
    pub people: Vec<DirectoryPerson>,
    /// One line per skipped entry (no id, no address, disabled account…).
    pub warnings: Vec<String>,
}

/// Why a source could not deliver its people.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file the source needs (CSV export, password file, CA file) could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV export lacks a column the mapping needs.
    #[error("{file}: column \"{column}\" is missing (the header has: {found})")]
    MissingColumn {
        /// The CSV file.
        file: String,
        /// The column that was looked for (alternatives joined with " or ").
        column: String,
        /// The columns the header does have.
        found: String,
    },
    /// The CSV export is malformed.
    #[error("{file}: {message}")]
    Csv {
        /// The CSV file.
        file: String,
        /// What the CSV reader reported, with the line.
        message: String,
    },
    /// The LDAP server could not be reached, refused the bind or the search.
    #[error("{url}: {message}")]
    Ldap {
        /// The server URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The TLS settings of an LDAP source are unusable.
    #[error("{url}: TLS: {message}")]
    Tls {
        /// The server URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The source answered, but with nobody: treated as a failure so a
    /// broken filter or an emptied export never wipes the people list.
    #[error("{source_label} returned no people; keeping the last good snapshot")]
    Empty {
        /// Which source.
        source_label: String,
    },
    /// The source took longer than the configured timeout.
    #[error("{source_label} did not answer within {timeout:?}")]
    Timeout {
        /// Which source.
        source_label: String,
        /// The timeout that expired.
        timeout: Duration,
    },
}

/// A place people come from. Implemented by [`ldap::LdapSource`] and
/// [`csv::CsvSource`]; tests plug in their own.
///
/// `fetch` must not modify anything and may be called again after an error;
/// the refresher bounds it with the configured timeout and drops it on expiry.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// The provenance label of this source (`directory:ldap`, `directory:csv:FILE`).
    fn label(&self) -> &str;
    /// Reads all people from the source.
    async fn fetch(&self) -> Result<SourceData, SourceError>;
}

/// Builds the configured sources, in configuration order (which is also
/// their precedence when the same person appears in more than one).
pub fn sources_from_config(config: &DirectoryConfig) -> Vec<Box<dyn Source>> {
    config
        .sources
        .iter()
        .map(|source| -> Box<dyn Source> {
            match source {
                SourceConfig::Ldap(c) => Box::new(ldap::LdapSource::new(c.clone(), config.timeout)),
                SourceConfig::Csv(c) => Box::new(csv::CsvSource::new(c.clone())),
            }
        })
        .collect()
}

/// Lower-cases and trims an address; `None` for anything that is not one.
pub(crate) fn normalise_address(raw: &str) -> Option<String> {
    let address = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || address.chars().any(char::is_whitespace) {
        return None;
    }
    Some(address.to_lowercase())
}

/// Trims a field and turns empty into `None`.
pub(crate) fn non_empty(raw: &str) -> Option<String> {
    let value = raw.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// Splits a proxy-address value into addresses.
///
/// Exchange keeps one address per value with a type prefix: `SMTP:` marks
/// the primary address, `smtp:` a secondary one, and other types (`X500:`,
/// `SIP:`, `SPO:`) are not mail addresses. CSV exports pack the values into
/// one cell, joined with `+` (Microsoft 365 admin centre) or `;` (our
/// PowerShell recipe). A `+` inside an address (`jan+offers@…`) is kept: a
/// `+` only separates when a `type:` follows it.
///
/// Returns the primary address (if an `SMTP:` value is present) and the
/// secondary ones, all lower-case.
pub(crate) fn split_proxy_addresses<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> (Option<String>, Vec<String>) {
    let mut primary = None;
    let mut others = Vec::new();
    for value in values {
        for piece in value.split([';', '\n', '\r', '\t', ' ']) {
            for item in split_plus_before_prefix(piece) {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                let (kind, address) = match item.split_once(':') {
                    Some((kind, rest)) if !kind.contains('@') => (Some(kind), rest),
                    _ => (None, item),
                };
                let Some(address) = normalise_address(address) else {
                    continue;
                };
                match kind {
                    Some("SMTP") if primary.is_none() => primary = Some(address),
                    Some(k) if k.eq_ignore_ascii_case("smtp") => others.push(address),
                    // A bare address in an alias column is what the admin meant.
                    None => others.push(address),
                    Some(_) => {}
                }
            }
        }
    }
    (primary, others)
}

fn split_plus_before_prefix(piece: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, _) in piece.match_indices('+') {
        let rest = &piece[i + 1..];
        let is_prefix = rest.split_once(':').is_some_and(|(kind, _)| {
            !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if is_prefix {
            parts.push(&piece[start..i]);
            start = i + 1;
        }
    }
    parts.push(&piece[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_addresses_keep_primary_and_smtp_only() {
        let (primary, others) = split_proxy_addresses([
            "SMTP:Jan.deVries@Firm.nl",
            "smtp:jdv@firm.nl",
            "X500:/o=ExchangeLabs/ou=Exchange",
            "SIP:jan@firm.nl",
        ]);
        assert_eq!(primary.as_deref(), Some("jan.devries@firm.nl"));
        assert_eq!(others, vec!["jdv@firm.nl"]);
    }

    #[test]
    fn proxy_addresses_joined_with_plus_keep_subaddresses() {
        let (primary, others) =
            split_proxy_addresses(["SMTP:jan+offers@firm.nl+smtp:jdv@firm.nl+SPO:SPO_x@SPO_y"]);
        assert_eq!(primary.as_deref(), Some("jan+offers@firm.nl"));
        assert_eq!(others, vec!["jdv@firm.nl"]);
    }

    #[test]
    fn proxy_addresses_joined_with_semicolons() {
        let (primary, others) = split_proxy_addresses(["smtp:a@x.nl;SMTP:b@x.nl; smtp:c@x.nl"]);
        assert_eq!(primary.as_deref(), Some("b@x.nl"));
        assert_eq!(others, vec!["a@x.nl", "c@x.nl"]);
    }

    #[test]
    fn addresses_are_normalised_or_refused() {
        assert_eq!(normalise_address(" <A@B.nl> ").as_deref(), Some("a@b.nl"));
        assert_eq!(normalise_address("no-at-sign"), None);
        assert_eq!(normalise_address("@b.nl"), None);
        assert_eq!(normalise_address("a b@c.nl"), None);
    }
}
