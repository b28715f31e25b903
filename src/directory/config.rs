//! The `directory:` section of the service configuration.
//!
//! It lives in the admin's service configuration, not in the house policy:
//! it holds connection details and the path of a bind password, which
//! managers who edit the policy should neither see nor be able to break.
//! Managers see the result through `courtesy directory show`.
//!
//! Unknown keys are errors here: a misspelt `page_size` or attribute name
//! would otherwise silently fall back to a default.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default time between two refreshes (15 minutes).
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Default bound on one source's fetch, connection included (30 seconds).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default LDAP page size (RFC 2696). Active Directory's own limit is 1000.
pub const DEFAULT_PAGE_SIZE: u32 = 500;
/// Default directory for the last good snapshot.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/courtesy";

/// The `directory:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// Where people come from, in order of precedence: when two sources
    /// describe the same person, the earlier one wins each field it has.
    pub sources: Vec<SourceConfig>,
    /// Time between refreshes. Default 15 minutes (`15m`); at least 10 seconds.
    #[serde(default = "default_interval", deserialize_with = "de_duration")]
    pub refresh_interval: Duration,
    /// Bound on one source's fetch. Default 30 seconds (`30s`).
    #[serde(default = "default_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// Directory of `directory-snapshot.json`, the last good snapshot that a
    /// restart falls back on while the directory is down. Default `/var/lib/courtesy`.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
}

fn default_interval() -> Duration {
    DEFAULT_REFRESH_INTERVAL
}
fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}
fn default_state_dir() -> PathBuf {
    PathBuf::from(DEFAULT_STATE_DIR)
}

/// One source of people.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceConfig {
    /// An LDAP server (Active Directory, OpenLDAP, 389-ds…).
    Ldap(LdapConfig),
    /// A CSV export from Active Directory or Entra ID.
    Csv(CsvConfig),
}

/// The attribute set a directory uses for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LdapSchema {
    /// Active Directory: `sAMAccountName`, `displayName`, `mail`,
    /// `telephoneNumber`, `mobile`, `department`, `proxyAddresses`.
    #[default]
    ActiveDirectory,
    /// OpenLDAP with `inetOrgPerson`: `uid`, `displayName` or `cn`, `mail`,
    /// `telephoneNumber`, `mobile`, `departmentNumber`.
    Openldap,
}

/// An attribute or column name, or several tried in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Names {
    /// One name.
    One(String),
    /// Names tried in order; the first with a value wins.
    Many(Vec<String>),
}

impl Names {
    /// The names in order.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

/// Overrides of the attribute (LDAP) or column (CSV) that fills each field.
/// Anything left out keeps the schema's or format's default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// Stable id.
    pub id: Option<Names>,
    /// Display name.
    pub name: Option<Names>,
    /// Primary address.
    pub email: Option<Names>,
    /// Further addresses; `smtp:`/`SMTP:` prefixed values are understood.
    pub aliases: Option<Names>,
    /// Office phone.
    pub phone: Option<Names>,
    /// Mobile phone.
    pub mobile: Option<Names>,
    /// Department.
    pub department: Option<Names>,
}

/// An LDAP source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// Optional short name, shown as `directory:ldap:NAME`; needed only to
    /// tell two LDAP sources apart.
    #[serde(default)]
    pub name: Option<String>,
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS. Default false.
    #[serde(default)]
    pub starttls: bool,
    /// PEM file with the CA that signed the server's certificate (typical for
    /// an internal AD CA). Default: the system's trusted roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// DN (or `user@domain` for AD) to bind as. Default: anonymous bind.
    #[serde(default)]
    pub bind_dn: Option<String>,
    /// File holding the bind password (trailing newline ignored); read at
    /// every refresh, so a rotated password needs no restart. Keep it `0600`.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Where people are searched (subtree).
    pub base_dn: String,
    /// Search filter. Default per schema: for AD, enabled user accounts with
    /// a mailbox; for OpenLDAP, `inetOrgPerson` entries with `mail`.
    #[serde(default)]
    pub filter: Option<String>,
    /// Attribute set. Default `active_directory`.
    #[serde(default)]
    pub schema: LdapSchema,
    /// Attribute overrides.
    #[serde(default)]
    pub attributes: FieldMap,
    /// Paged-results page size (RFC 2696). Default 500; 0 turns paging off.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

fn default_page_size() -> u32 {
    DEFAULT_PAGE_SIZE
}

impl LdapConfig {
    /// The provenance label: `directory:ldap` or `directory:ldap:NAME`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("directory:ldap:{name}"),
            None => "directory:ldap".to_string(),
        }
    }
}

/// Which program wrote a CSV export; decides the default column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvFormat {
    /// PowerShell `Get-ADUser … | Export-Csv` (columns `SamAccountName`,
    /// `DisplayName`, `EmailAddress`, `OfficePhone`, `MobilePhone`,
    /// `Department`, `ProxyAddresses`).
    #[default]
    ActiveDirectory,
    /// Entra admin centre "Download users" (`userPrincipalName`, `mail`,
    /// `telephoneNumber`, `mobile`…) and Microsoft 365 admin centre "Export
    /// users" (`User principal name`, `Display name`, `Phone number`,
    /// `Mobile Phone`, `Proxy addresses`…).
    Entra,
}

/// A CSV source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    /// The export, read again at every refresh.
    pub file: PathBuf,
    /// Who wrote it. Default `active_directory`.
    #[serde(default)]
    pub format: CsvFormat,
    /// Column overrides; a column named here must exist.
    #[serde(default)]
    pub columns: FieldMap,
    /// Field delimiter, one ASCII character. Default `,` (Excel in some
    /// locales saves with `;`).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
}

fn default_delimiter() -> char {
    ','
}

impl CsvConfig {
    /// The provenance label: `directory:csv:FILE`.
    pub fn label(&self) -> String {
        format!("directory:csv:{}", self.file.display())
    }
}

/// Reads `90`, `90s`, `15m`, `2h` or `1d`.
fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Seconds(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

/// Parses `90`, `90s`, `15m`, `2h`, `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration (write e.g. 30s, 15m, 2h)"))?;
    let factor = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("unknown unit \"{other}\" in \"{text}\" (use s, m, h or d)")),
    };
    n.checked_mul(factor).map(Duration::from_secs).ok_or_else(|| format!("\"{text}\" is too long"))
}

/// Problems found by [`DirectoryConfig::validate`].
#[derive(Debug, thiserror::Error)]
#[error("directory: {0}")]
pub struct ConfigError(pub String);

impl DirectoryConfig {
    /// Range checks that serde cannot express; all problems in one message.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.sources.is_empty() {
            problems.push("sources: name at least one source".to_string());
        }
        if self.refresh_interval < Duration::from_secs(10) {
            problems.push("refresh_interval: must be at least 10s".to_string());
        }
        if self.timeout.is_zero() || self.timeout > self.refresh_interval {
            problems.push("timeout: must be above 0 and at most refresh_interval".to_string());
        }
        let mut labels = std::collections::HashSet::new();
        for (i, source) in self.sources.iter().enumerate() {
            let label = match source {
                SourceConfig::Ldap(l) => {
                    if !(l.url.starts_with("ldap://") || l.url.starts_with("ldaps://")) {
                        problems.push(format!("sources[{i}].url: use ldap:// or ldaps://"));
                    }
                    if l.starttls && l.url.starts_with("ldaps://") {
                        problems.push(format!(
                            "sources[{i}].starttls: ldaps:// is already TLS; use ldap:// with starttls"
                        ));
                    }
                    if l.bind_dn.is_some() != l.password_file.is_some() {
                        problems
                            .push(format!("sources[{i}]: bind_dn and password_file go together"));
                    }
                    if i32::try_from(l.page_size).is_err() {
                        problems.push(format!("sources[{i}].page_size: too large"));
                    }
                    l.label()
                }
                SourceConfig::Csv(c) => {
                    if !c.delimiter.is_ascii() {
                        problems
                            .push(format!("sources[{i}].delimiter: must be one ASCII character"));
                    }
                    c.label()
                }
            };
            if !labels.insert(label.clone()) {
                problems.push(format!(
                    "sources[{i}]: {label} is listed twice (give LDAP sources a name)"
                ));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError(problems.join("; "))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<DirectoryConfig, serde_saphyr::Error> {
        serde_saphyr::from_str(yaml)
    }

    #[test]
    fn full_section_parses_with_defaults() {
        let config = parse(
            "sources:\n  - kind: ldap\n    url: ldaps://dc1.firm.local\n    base_dn: DC=firm,DC=local\n    bind_dn: CN=courtesy,DC=firm,DC=local\n    password_file: /etc/courtesy/ldap-password\n  - kind: csv\n    file: people.csv\n    format: entra\nrefresh_interval: 5m\n",
        )
        .expect("parses");
        assert_eq!(config.refresh_interval, Duration::from_secs(300));
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        match &config.sources[0] {
            SourceConfig::Ldap(l) => {
                assert_eq!(l.schema, LdapSchema::ActiveDirectory);
                assert_eq!(l.page_size, 500);
                assert_eq!(l.label(), "directory:ldap");
            }
            other => panic!("expected ldap, got {other:?}"),
        }
        match &config.sources[1] {
            SourceConfig::Csv(c) => assert_eq!(c.format, CsvFormat::Entra),
            other => panic!("expected csv, got {other:?}"),
        }
        config.validate().expect("valid");
    }

    #[test]
    fn misspelt_key_is_an_error() {
        let err = parse("sources:\n  - kind: csv\n    file: a.csv\n    colums: {}\n")
            .expect_err("unknown key");
        assert!(err.to_string().contains("colums"), "{err}");
    }

    #[test]
    fn validation_reports_all_problems() {
        let config = parse(
            "sources:\n  - kind: ldap\n    url: http://x\n    base_dn: o=x\n    bind_dn: cn=a\nrefresh_interval: 5\n",
        )
        .expect("parses");
        let err = config.validate().expect_err("invalid").to_string();
        assert!(err.contains("ldap:// or ldaps://"), "{err}");
        assert!(err.contains("password_file"), "{err}");
        assert!(err.contains("refresh_interval"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("m").is_err());
    }
}
