//! The `console:` section of the service configuration, for `courtesy
//! serve` and `courtesy milter` serving the console on their admin address
//! (and for `courtesy console --config`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How many rewrites the rewrites page lists when the configuration says nothing.
pub const DEFAULT_REWRITES_SHOWN: usize = 50;

/// The `console:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Serve the console on the admin address. Default false.
    #[serde(default)]
    pub enabled: bool,
    /// `user:argon2-PHC-hash` lines, the same format as `smtp.auth.users_file`.
    /// Required when the console listens on anything but loopback.
    #[serde(default)]
    pub users_file: Option<PathBuf>,
    /// Mark the session cookie `Secure`: set this when a TLS proxy fronts the console.
    #[serde(default)]
    pub secure_cookies: bool,
    /// Length of the list on the rewrites page. Default 50.
    #[serde(default = "default_rewrites_shown")]
    pub rewrites_shown: usize,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            enabled: false,
            users_file: None,
            secure_cookies: false,
            rewrites_shown: DEFAULT_REWRITES_SHOWN,
        }
    }
}

fn default_rewrites_shown() -> usize {
    DEFAULT_REWRITES_SHOWN
}

impl ConsoleConfig {
    /// Refuses a console that anyone on the network could open without a
    /// password: off loopback a users file is required.
    pub fn check_listen(&self, addr: SocketAddr) -> Result<(), String> {
        if addr.ip().is_loopback() || self.users_file.is_some() {
            Ok(())
        } else {
            Err(format!(
                "the console on {addr} would be reachable from the network without a login: \
                 set `console.users_file` (user:argon2-hash lines) or listen on 127.0.0.1"
            ))
        }
    }
}

/// Reads only the `console:` section of a service configuration file,
/// ignoring the other sections (the service parses those itself).
pub fn from_service_config(text: &str) -> Result<Option<ConsoleConfig>, String> {
    #[derive(Deserialize)]
    struct Only {
        #[serde(default)]
        console: Option<ConsoleConfig>,
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_saphyr::from_str::<Only>(text).map(|o| o.console).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_parses_with_defaults_and_rejects_typos() {
        let text =
            "instance: gw\nconsole:\n  enabled: true\n  users_file: /etc/courtesy/console-users\n";
        let c = from_service_config(text).unwrap().unwrap();
        assert!(c.enabled);
        assert_eq!(c.rewrites_shown, DEFAULT_REWRITES_SHOWN);
        assert!(!c.secure_cookies);
        let err = from_service_config("console:\n  enable: true\n").unwrap_err();
        assert!(err.contains("enable"), "{err}");
        assert_eq!(from_service_config("instance: gw\n").unwrap(), None);
    }

    #[test]
    fn network_listen_needs_users() {
        let open = ConsoleConfig::default();
        assert!(open.check_listen("127.0.0.1:8025".parse().unwrap()).is_ok());
        assert!(open.check_listen("[::1]:8025".parse().unwrap()).is_ok());
        assert!(open.check_listen("0.0.0.0:8025".parse().unwrap()).is_err());
        let locked = ConsoleConfig { users_file: Some("u".into()), ..ConsoleConfig::default() };
        assert!(locked.check_listen("0.0.0.0:8025".parse().unwrap()).is_ok());
    }
}
