//! The service configuration shared by the relay and the milter.
//!
//! One YAML file holds everything a running courtesy needs besides the
//! policy: which policy file, how to treat engine failures, where the audit
//! log lives, the admin address, and one section per front end (`smtp:` for
//! the relay, `milter:` for the milter). Unknown keys are errors with
//! `line:column`, because a misspelt limit that silently falls back to its
//! default is worse than a refusal to start. The reference is
//! `docs/CONFIGURATION.md`; every default is declared here, next to its key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use crate::audit::AuditConfig;

mod smtp;
#[cfg(test)]
mod tests;

pub use smtp::{
    AuthConfig, Limits, SmtpConfig, StartTls, TlsFiles, UpstreamConfig, UpstreamTarget,
};

/// Errors reading or validating the service configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// YAML syntax, an unknown key, a wrong type; the text carries `line:column`.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message with the location.
        message: String,
    },
    /// A value that parses but cannot work.
    #[error("{path}: {key}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key path, e.g. `smtp.limits.max_message_size`.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// What the gateway does with mail it would rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Rewrite as the policy says (default).
    #[default]
    Rewrite,
    /// Decide and audit, but always forward the original bytes.
    Observe,
}

/// What happens to a message when the engine fails, panics or times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineFailureAction {
    /// Forward the original bytes unchanged (default): mail is never held up by courtesy.
    #[default]
    Pass,
    /// Answer 451 so the client retries later.
    Tempfail,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (default).
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// The whole service configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Instance name, written into trace headers and audit records. Default `courtesy`.
    #[serde(default = "default_instance")]
    pub instance: String,
    /// Policy file. Default: none, which uses the built-in example policy.
    #[serde(default)]
    pub policy: Option<PathBuf>,
    /// `rewrite` (default) or `observe`.
    #[serde(default)]
    pub mode: Mode,
    /// `pass` (default) or `tempfail`.
    #[serde(default)]
    pub engine_failure: EngineFailureAction,
    /// Longest the engine may work on one message. Default `10s`.
    #[serde(default = "default_engine_timeout", with = "duration")]
    pub engine_timeout: Duration,
    /// Address of the HTTP server with `/metrics` and `/healthz`. Default: none (off).
    #[serde(default)]
    pub admin: Option<SocketAddr>,
    /// Audit log. Default: none (no audit records).
    #[serde(default)]
    pub audit: Option<AuditConfig>,
    /// `human` (default) or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// How often the policy file's modification time is checked. Default `2s`; `0s` turns it off.
    #[serde(default = "default_policy_poll", with = "duration")]
    pub policy_poll: Duration,
    /// Longest a draining server waits for transactions in flight on SIGTERM. Default `30s`.
    #[serde(default = "default_grace", with = "duration")]
    pub shutdown_grace: Duration,
    /// The SMTP relay (`courtesy serve`).
    #[serde(default)]
    pub smtp: SmtpConfig,
    /// The milter (`courtesy milter`).
    #[serde(default)]
    pub milter: Option<MilterConfig>,
    /// The management console on the admin address. Default: off.
    #[serde(default)]
    pub console: Option<crate::console::config::ConsoleConfig>,
    /// People from LDAP or CSV exports (`docs/DIRECTORY.md`). Default: none.
    #[serde(default)]
    pub directory: Option<crate::directory::DirectoryConfig>,
    /// DKIM re-signing and ARC sealing of rewritten mail (`docs/DKIM.md`).
    /// Default: none, and DKIM-signed mail is then never rewritten. Keys are
    /// loaded and checked when the service starts or reloads.
    #[serde(default)]
    pub dkim: Option<crate::dkim::DkimConfig>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            instance: default_instance(),
            policy: None,
            mode: Mode::default(),
            engine_failure: EngineFailureAction::default(),
            engine_timeout: default_engine_timeout(),
            admin: None,
            audit: None,
            log_format: LogFormat::default(),
            policy_poll: default_policy_poll(),
            shutdown_grace: default_grace(),
            smtp: SmtpConfig::default(),
            milter: None,
            console: None,
            directory: None,
            dkim: None,
        }
    }
}

/// The `milter:` section (`courtesy milter`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilterConfig {
    /// Socket in Postfix notation: `inet:HOST:PORT` or `unix:/path`.
    /// Default `inet:127.0.0.1:8891`.
    #[serde(default = "default_milter_listen")]
    pub listen: String,
    /// Largest message the milter collects and rewrites, in bytes. A larger
    /// message is let through unchanged (the MTA enforces its own size
    /// limit). Default `52428800` (50 MiB).
    #[serde(default = "default_max_message")]
    pub max_message_size: u64,
    /// Largest single milter packet accepted from the MTA. Postfix sends
    /// body chunks of at most 64 KiB and headers up to `header_size_limit`
    /// (100 KiB). Default `1048576` (1 MiB).
    #[serde(default = "default_max_frame")]
    pub max_frame_size: u32,
    /// Simultaneous MTA connections; more are closed at once, and the MTA
    /// applies its `milter_default_action`. Default 100.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Wait for the MTA's next packet. Postfix keeps a milter connection
    /// open for a whole SMTP session, so this must exceed its
    /// `smtpd_timeout` (300 s). Default `10m`.
    #[serde(default = "default_milter_read_timeout", with = "duration")]
    pub read_timeout: Duration,
}

impl Default for MilterConfig {
    fn default() -> Self {
        MilterConfig {
            listen: default_milter_listen(),
            max_message_size: default_max_message(),
            max_frame_size: default_max_frame(),
            max_connections: default_max_connections(),
            read_timeout: default_milter_read_timeout(),
        }
    }
}

/// Where the milter listens, parsed from [`MilterConfig::listen`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilterSocket {
    /// `inet:HOST:PORT`; `HOST` may be a bracketed IPv6 address.
    Inet(SocketAddr),
    /// `unix:/path` (also `local:/path`, as Sendmail writes it).
    Unix(PathBuf),
}

impl MilterConfig {
    /// Parses [`MilterConfig::listen`].
    pub fn socket(&self) -> Result<MilterSocket, String> {
        let text = self.listen.trim();
        if let Some(path) = text.strip_prefix("unix:").or_else(|| text.strip_prefix("local:")) {
            if path.is_empty() {
                return Err("`unix:` needs a path, e.g. `unix:/run/courtesy/milter.sock`".into());
            }
            return Ok(MilterSocket::Unix(PathBuf::from(path)));
        }
        let Some(rest) = text.strip_prefix("inet:").or_else(|| text.strip_prefix("inet6:")) else {
            return Err(format!(
                "`{text}` is neither `inet:HOST:PORT` nor `unix:/path` (e.g. `inet:127.0.0.1:8891`)"
            ));
        };
        // Sendmail writes `inet:PORT@HOST`; accept it too.
        let rest = match rest.split_once('@') {
            Some((port, host)) if host.contains(':') => format!("[{host}]:{port}"),
            Some((port, host)) => format!("{host}:{port}"),
            None => rest.to_string(),
        };
        let rest = match rest.strip_prefix("localhost:") {
            Some(port) => format!("127.0.0.1:{port}"),
            None => rest,
        };
        rest.parse::<SocketAddr>()
            .map(MilterSocket::Inet)
            .map_err(|_| format!("`{rest}` is not an address and port such as `127.0.0.1:8891`"))
    }
}

/// Environment variable that overrides `instance` (Kubernetes sets it to the pod name).
pub const INSTANCE_ENV: &str = "COURTESY_INSTANCE";

fn default_instance() -> String {
    "courtesy".into()
}
fn default_engine_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_policy_poll() -> Duration {
    Duration::from_secs(2)
}
fn default_grace() -> Duration {
    Duration::from_secs(30)
}
fn default_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([127, 0, 0, 1], 2525))]
}
fn default_networks() -> Vec<IpNet> {
    vec!["127.0.0.0/8".parse().expect("literal"), "::1/128".parse().expect("literal")]
}
fn default_upstream_url() -> String {
    "dir:./outbox".into()
}
fn default_auth_failures() -> u32 {
    3
}
fn default_auth_failures_per_ip() -> u32 {
    10
}
fn default_auth_window() -> Duration {
    Duration::from_secs(15 * 60)
}
fn default_auth_delay() -> Duration {
    Duration::from_secs(1)
}
fn default_max_message() -> u64 {
    50 * 1024 * 1024
}
fn default_milter_listen() -> String {
    "inet:127.0.0.1:8891".into()
}
fn default_max_frame() -> u32 {
    1024 * 1024
}
fn default_milter_read_timeout() -> Duration {
    Duration::from_secs(600)
}
fn default_max_connections() -> usize {
    100
}
fn default_max_recipients() -> usize {
    1000
}
fn default_max_data_line() -> usize {
    65536
}
fn default_command_timeout() -> Duration {
    Duration::from_secs(300)
}
fn default_data_timeout() -> Duration {
    Duration::from_secs(180)
}
fn default_min_data_rate() -> u64 {
    500
}
fn default_upstream_timeout() -> Duration {
    Duration::from_secs(120)
}
fn default_upstream_data_timeout() -> Duration {
    Duration::from_secs(600)
}

impl ServiceConfig {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<ServiceConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let mut config = Self::parse(&text, path)?;
        config.instance_from(std::env::var(INSTANCE_ENV).ok().as_deref(), path)?;
        Ok(config)
    }

    /// Replaces the instance name with the value of [`INSTANCE_ENV`] when it
    /// is set and not empty. Replicas of one deployment share a config file
    /// but each needs a name of its own: its audit chain and trace header.
    pub fn instance_from(&mut self, value: Option<&str>, path: &Path) -> Result<(), ConfigError> {
        if let Some(name) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.instance = name.to_string();
            self.validate(path)?;
        }
        Ok(())
    }

    /// Parses and validates configuration text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<ServiceConfig, ConfigError> {
        let config: ServiceConfig = if text.trim().is_empty() {
            ServiceConfig::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?
        };
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        if self.instance.is_empty()
            || !self.instance.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(invalid(
                "instance",
                "use letters, digits, `-`, `_` and `.` only (it goes into mail headers)".into(),
            ));
        }
        if self.smtp.listen.is_empty() {
            return Err(invalid("smtp.listen", "give at least one address".into()));
        }
        self.smtp.upstream.target().map_err(|m| invalid("smtp.upstream.url", m))?;
        let l = &self.smtp.limits;
        if l.max_message_size < 1024 {
            return Err(invalid("smtp.limits.max_message_size", "must be at least 1024".into()));
        }
        if l.max_connections == 0 {
            return Err(invalid("smtp.limits.max_connections", "must be at least 1".into()));
        }
        if l.max_recipients == 0 {
            return Err(invalid("smtp.limits.max_recipients", "must be at least 1".into()));
        }
        if l.max_data_line < 1000 {
            return Err(invalid(
                "smtp.limits.max_data_line",
                "must be at least 1000 (RFC 5321)".into(),
            ));
        }
        for (key, d) in [
            ("smtp.limits.command_timeout", l.command_timeout),
            ("smtp.limits.data_timeout", l.data_timeout),
            ("smtp.limits.upstream_timeout", l.upstream_timeout),
            ("smtp.limits.upstream_data_timeout", l.upstream_data_timeout),
            ("engine_timeout", self.engine_timeout),
        ] {
            if d.is_zero() {
                return Err(invalid(key, "must be longer than 0s".into()));
            }
        }
        if let Some(milter) = &self.milter {
            milter.socket().map_err(|m| invalid("milter.listen", m))?;
            if milter.max_message_size < 1024 {
                return Err(invalid("milter.max_message_size", "must be at least 1024".into()));
            }
            if milter.max_frame_size < 65_536 + 1 {
                return Err(invalid(
                    "milter.max_frame_size",
                    "must be more than 65536 (the MTA sends body chunks of up to 64 KiB)".into(),
                ));
            }
            if milter.max_connections == 0 {
                return Err(invalid("milter.max_connections", "must be at least 1".into()));
            }
            if milter.read_timeout.is_zero() {
                return Err(invalid("milter.read_timeout", "must be longer than 0s".into()));
            }
        }
        if let Some(directory) = &self.directory {
            directory.validate().map_err(|e| invalid("directory", e.0))?;
        }
        if let Some(auth) = &self.smtp.auth
            && self.smtp.tls.is_none()
        {
            let _ = auth;
            return Err(invalid(
                "smtp.auth",
                "AUTH is only offered after STARTTLS: configure `smtp.tls` as well".into(),
            ));
        }
        Ok(())
    }

    /// The `milter:` section, or its defaults when the file has none.
    pub fn milter(&self) -> MilterConfig {
        self.milter.clone().unwrap_or_default()
    }

    /// The name used in the SMTP greeting.
    pub fn hostname(&self) -> &str {
        self.smtp.hostname.as_deref().unwrap_or(&self.instance)
    }
}

/// Durations written as `250ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
pub mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    /// Parses the textual form.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration such as `30s` or `5m`"))?;
        let d = match unit.trim() {
            "" | "s" => Duration::from_secs(n),
            "ms" => Duration::from_millis(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            other => return Err(format!("unknown unit `{other}`: use ms, s, m or h")),
        };
        Ok(d)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }

    /// serde `with` entry point.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Seconds(n) => Ok(Duration::from_secs(n)),
            Raw::Text(t) => parse(&t).map_err(serde::de::Error::custom),
        }
    }
}
