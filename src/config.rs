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

/// The `smtp:` section: the before-queue relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Addresses to listen on. Default `[127.0.0.1:2525]`.
    #[serde(default = "default_listen")]
    pub listen: Vec<SocketAddr>,
    /// Name in the greeting and EHLO reply. Default: the instance name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Certificate and key for STARTTLS. Default: none (STARTTLS not offered).
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// Client networks allowed to relay. Default `[127.0.0.0/8, ::1/128]`.
    #[serde(default = "default_networks")]
    pub allowed_networks: Vec<IpNet>,
    /// Where accepted mail goes.
    #[serde(default)]
    pub upstream: UpstreamConfig,
    /// SMTP AUTH. Default: none (not offered).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// Sizes, counts and timeouts.
    #[serde(default)]
    pub limits: Limits,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            listen: default_listen(),
            hostname: None,
            tls: None,
            allowed_networks: default_networks(),
            upstream: UpstreamConfig::default(),
            auth: None,
            limits: Limits::default(),
        }
    }
}

/// PEM files for a TLS server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How the relay talks TLS to an SMTP upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartTls {
    /// Refuse to send if the upstream does not offer STARTTLS.
    Required,
    /// Use STARTTLS when offered (default).
    #[default]
    Opportunistic,
    /// Never use STARTTLS.
    Off,
}

/// The `smtp.upstream` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// `smtp://host:port` or `dir:PATH`. Default `dir:./outbox`.
    #[serde(default = "default_upstream_url")]
    pub url: String,
    /// `required`, `opportunistic` (default) or `off`.
    #[serde(default)]
    pub starttls: StartTls,
    /// Extra CA certificate (PEM) to trust for the upstream, e.g. a private CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name the relay gives in its EHLO to the upstream. Default: the SMTP hostname.
    #[serde(default)]
    pub helo_name: Option<String>,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            url: default_upstream_url(),
            starttls: StartTls::default(),
            ca_file: None,
            helo_name: None,
        }
    }
}

/// A parsed upstream URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamTarget {
    /// An SMTP server.
    Smtp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// An outbox directory, one `.eml` per message.
    Dir(PathBuf),
}

impl UpstreamConfig {
    /// Parses [`UpstreamConfig::url`].
    pub fn target(&self) -> Result<UpstreamTarget, String> {
        if let Some(path) = self.url.strip_prefix("dir:") {
            if path.is_empty() {
                return Err("`dir:` needs a directory, e.g. `dir:./outbox`".into());
            }
            return Ok(UpstreamTarget::Dir(PathBuf::from(path)));
        }
        let Some(rest) = self.url.strip_prefix("smtp://") else {
            return Err(format!("`{}` is neither `smtp://host:port` nor `dir:PATH`", self.url));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let Some((host, after)) = bracketed.split_once(']') else {
                return Err("unclosed `[` in the upstream URL".into());
            };
            (host, after.strip_prefix(':'))
        } else {
            match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        let port = match port {
            None => 25,
            Some(p) => p.parse::<u16>().map_err(|_| format!("`{p}` is not a port number"))?,
        };
        if host.is_empty() {
            return Err("the upstream URL has no host".into());
        }
        Ok(UpstreamTarget::Smtp { host: host.to_string(), port })
    }
}

/// The `smtp.auth` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// File of `user:argon2-hash` lines (PHC strings as `argon2` prints them).
    pub users_file: PathBuf,
    /// Whether clients from `allowed_networks` must authenticate too. Default `false`.
    #[serde(default)]
    pub required: bool,
    /// Failed attempts per connection before it is closed. Default 3.
    #[serde(default = "default_auth_failures")]
    pub max_failures: u32,
    /// Pause before answering a failed attempt. Default `1s`.
    #[serde(default = "default_auth_delay", with = "duration")]
    pub failure_delay: Duration,
    /// Failed attempts from one client address, over all its connections,
    /// within `failure_window` before AUTH is refused with `421`. Default 10.
    #[serde(default = "default_auth_failures_per_ip")]
    pub max_failures_per_ip: u32,
    /// How long failures from an address are remembered. Default `15m`.
    #[serde(default = "default_auth_window", with = "duration")]
    pub failure_window: Duration,
}

/// The `smtp.limits` section. Every limit has a default fit for a small firm.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest message in bytes, advertised as SIZE. Default `52428800` (50 MiB).
    #[serde(default = "default_max_message")]
    pub max_message_size: u64,
    /// Simultaneous client connections; more get `421 4.7.0`. Default 100.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Recipients per message. Default 1000.
    #[serde(default = "default_max_recipients")]
    pub max_recipients: usize,
    /// Longest line inside DATA in bytes, CRLF included (RFC 5321 says 1000;
    /// real mail breaks it). Default 65536.
    #[serde(default = "default_max_data_line")]
    pub max_data_line: usize,
    /// Wait for the next command (RFC 5321 §4.5.3.2: 5 minutes). Default `5m`.
    #[serde(default = "default_command_timeout", with = "duration")]
    pub command_timeout: Duration,
    /// Wait for the next chunk of DATA (RFC 5321: 3 minutes). Default `3m`.
    #[serde(default = "default_data_timeout", with = "duration")]
    pub data_timeout: Duration,
    /// Wait for an upstream reply, and to connect to it. Default `2m`.
    #[serde(default = "default_upstream_timeout", with = "duration")]
    pub upstream_timeout: Duration,
    /// Wait for the upstream's reply to the end of DATA (RFC 5321: 10 minutes). Default `10m`.
    #[serde(default = "default_upstream_data_timeout", with = "duration")]
    pub upstream_data_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: default_max_message(),
            max_connections: default_max_connections(),
            max_recipients: default_max_recipients(),
            max_data_line: default_max_data_line(),
            command_timeout: default_command_timeout(),
            data_timeout: default_data_timeout(),
            upstream_timeout: default_upstream_timeout(),
            upstream_data_timeout: default_upstream_data_timeout(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServiceConfig, ConfigError> {
        ServiceConfig::parse(text, Path::new("test.yaml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.smtp.listen, default_listen());
        assert_eq!(c.smtp.upstream.target().unwrap(), UpstreamTarget::Dir("./outbox".into()));
        assert_eq!(c.mode, Mode::Rewrite);
        assert_eq!(c.engine_failure, EngineFailureAction::Pass);
    }

    #[test]
    fn full_example_parses() {
        let text = "instance: gw1\nmode: observe\nengine_failure: tempfail\nadmin: 127.0.0.1:9187\n\
            log_format: json\nsmtp:\n  listen: [\"127.0.0.1:10025\", \"[::1]:10025\"]\n  \
            allowed_networks: [10.0.0.0/8]\n  upstream:\n    url: smtp://mail.example.com:25\n    \
            starttls: required\n  limits:\n    max_message_size: 1048576\n    command_timeout: 30s\n    \
            upstream_timeout: 500ms\n";
        let c = parse(text).unwrap();
        assert_eq!(c.instance, "gw1");
        assert_eq!(c.mode, Mode::Observe);
        assert_eq!(c.smtp.listen.len(), 2);
        assert_eq!(c.smtp.limits.command_timeout, Duration::from_secs(30));
        assert_eq!(c.smtp.limits.upstream_timeout, Duration::from_millis(500));
        assert_eq!(
            c.smtp.upstream.target().unwrap(),
            UpstreamTarget::Smtp { host: "mail.example.com".into(), port: 25 }
        );
    }

    #[test]
    fn unknown_key_is_an_error_with_location() {
        let err = parse("smtp:\n  limits:\n    max_mesage_size: 10\n").unwrap_err().to_string();
        assert!(err.contains("max_mesage_size"), "{err}");
        assert!(err.contains("3:"), "no line in: {err}");
    }

    #[test]
    fn dkim_section_parses_and_misspelt_keys_are_located() {
        let config = parse(
            "dkim:\n  domains:\n    firm.example:\n      selector: s1\n      key: /k\n      on_signed: keep\n",
        )
        .expect("valid");
        let dkim = config.dkim.expect("dkim section");
        let domain = &dkim.domains["firm.example"];
        assert_eq!(domain.on_signed, Some(crate::dkim::OnSigned::Keep));
        assert!(parse("").expect("empty").dkim.is_none());
        let err =
            parse("dkim:\n  domains:\n    a.nl:\n      on_sigend: skip\n").unwrap_err().to_string();
        assert!(err.contains("on_sigend") && err.contains("4:"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = parse("smtp:\n  upstream:\n    url: ftp://x\n").unwrap_err().to_string();
        assert!(err.contains("smtp.upstream.url"), "{err}");
        let err = parse("smtp:\n  limits:\n    max_data_line: 80\n").unwrap_err().to_string();
        assert!(err.contains("max_data_line"), "{err}");
        let err = parse("engine_timeout: 5x\n").unwrap_err().to_string();
        assert!(err.contains("unknown unit"), "{err}");
    }

    #[test]
    fn milter_section_defaults_and_sockets() {
        let c = parse("").unwrap();
        assert_eq!(
            c.milter().socket().unwrap(),
            MilterSocket::Inet("127.0.0.1:8891".parse().unwrap())
        );
        let c = parse("milter:\n  listen: unix:/run/c/m.sock\n  read_timeout: 30s\n").unwrap();
        let m = c.milter();
        assert_eq!(m.socket().unwrap(), MilterSocket::Unix("/run/c/m.sock".into()));
        assert_eq!(m.read_timeout, Duration::from_secs(30));
        assert_eq!(m.max_message_size, default_max_message());
        let s = |l: &str| MilterConfig { listen: l.into(), ..Default::default() }.socket();
        assert_eq!(
            s("inet:[::1]:8891").unwrap(),
            MilterSocket::Inet("[::1]:8891".parse().unwrap())
        );
        assert_eq!(
            s("inet:8891@127.0.0.1").unwrap(),
            MilterSocket::Inet("127.0.0.1:8891".parse().unwrap())
        );
        assert_eq!(
            s("inet:localhost:25").unwrap(),
            MilterSocket::Inet("127.0.0.1:25".parse().unwrap())
        );
        let err = parse("milter:\n  listen: tcp:1.2.3.4:5\n").unwrap_err().to_string();
        assert!(err.contains("milter.listen"), "{err}");
        let err = parse("milter:\n  max_frame_size: 100\n").unwrap_err().to_string();
        assert!(err.contains("milter.max_frame_size"), "{err}");
    }

    #[test]
    fn upstream_urls() {
        let t = |u: &str| UpstreamConfig { url: u.into(), ..Default::default() }.target();
        assert_eq!(
            t("smtp://[::1]:2526").unwrap(),
            UpstreamTarget::Smtp { host: "::1".into(), port: 2526 }
        );
        assert_eq!(t("smtp://mx").unwrap(), UpstreamTarget::Smtp { host: "mx".into(), port: 25 });
        assert!(t("smtp://:25").is_err());
        assert!(t("dir:").is_err());
    }
}

#[cfg(test)]
mod deploy_example {
    /// The commented example in `deploy/` must stay loadable.
    #[test]
    fn deploy_example_parses() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/courtesy.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let config = super::ServiceConfig::parse(&text, &path).unwrap();
        assert_eq!(config.smtp.listen[0].port(), 10025);
        assert!(config.audit.is_some());
    }

    #[test]
    fn instance_comes_from_the_environment_when_set() {
        let path = std::path::Path::new("courtesy.yaml");
        let mut c = crate::config::ServiceConfig::parse("instance: shared\n", path).unwrap();
        c.instance_from(None, path).unwrap();
        assert_eq!(c.instance, "shared");
        c.instance_from(Some("  "), path).unwrap();
        assert_eq!(c.instance, "shared");
        c.instance_from(Some("courtesy-1"), path).unwrap();
        assert_eq!(c.instance, "courtesy-1");
        assert!(c.instance_from(Some("bad name/../x"), path).is_err());
    }
}
