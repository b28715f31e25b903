//! The `smtp:` section: listeners, TLS, who may relay, the upstream, AUTH and limits of `courtesy serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::*;

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
    /// Slowest accepted DATA transfer, in bytes per second; 0 turns the
    /// check off. DATA must end within `data_timeout` plus one second per
    /// this many bytes received, so a client trickling a byte now and then
    /// cannot hold a connection for hours. Default `500` (as Postfix's
    /// `smtpd_min_data_rate`).
    #[serde(default = "default_min_data_rate")]
    pub min_data_rate: u64,
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
            min_data_rate: default_min_data_rate(),
            upstream_timeout: default_upstream_timeout(),
            upstream_data_timeout: default_upstream_data_timeout(),
        }
    }
}
