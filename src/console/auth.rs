//! Logins for a console reachable from the network: the relay's AUTH users
//! file (argon2 hashes), server-side sessions with an idle and an absolute
//! lifetime, and a limit on failed logins per client address and per user
//! name.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::smtp::auth::Users;

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// A session ends this long after login, however busy.
pub const MAX_SESSION_AGE: Duration = Duration::from_secs(12 * 60 * 60);
/// Failed logins allowed per client address and per user name in [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window over which failures count.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// More sessions than this and the oldest are dropped: memory stays bounded
/// whatever a client does.
const MAX_SESSIONS: usize = 1024;
/// Bound on the failure table for the same reason.
const MAX_TRACKED: usize = 10_000;

struct Session {
    user: String,
    created: Instant,
    last_seen: Instant,
}

/// Users, their sessions and the login limiter.
pub struct Login {
    users: Users,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").finish_non_exhaustive()
    }
}

impl Login {
    /// Logins checked against `users`.
    pub fn new(users: Users) -> Login {
        Login { users, sessions: Mutex::default(), failures: Mutex::default() }
    }

    /// The user a live session belongs to; refreshes its idle timer.
    pub fn user(&self, session: &str) -> Option<String> {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let live = sessions.get(session).is_some_and(|s| alive(s, now));
        if !live {
            sessions.remove(session);
            return None;
        }
        let s = sessions.get_mut(session)?;
        s.last_seen = now;
        Some(s.user.clone())
    }

    /// Starts a session for `user` under the new id `session`.
    pub fn start(&self, session: String, user: &str) {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| alive(s, now));
        while sessions.len() >= MAX_SESSIONS {
            let oldest = sessions.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => sessions.remove(&k),
                None => break,
            };
        }
        sessions.insert(session, Session { user: user.to_string(), created: now, last_seen: now });
    }

    /// Ends a session.
    pub fn end(&self, session: &str) {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(session);
    }

    /// How long until a login from `peer` for `user` is allowed again, if it is not now.
    pub fn throttled(&self, peer: Option<IpAddr>, user: &str) -> Option<Duration> {
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys(peer, user)
            .iter()
            .filter_map(|k| failures.get(k))
            .filter_map(|times| {
                let recent: Vec<&Instant> =
                    times.iter().filter(|t| now.duration_since(**t) < FAILURE_WINDOW).collect();
                (recent.len() >= MAX_FAILURES)
                    .then(|| FAILURE_WINDOW.saturating_sub(now.duration_since(*recent[0])))
            })
            .max()
    }

    /// Checks a password (slow on purpose: run it on a blocking thread) and
    /// records a failure against the client and the user name.
    pub fn verify(&self, peer: Option<IpAddr>, user: &str, password: &str) -> bool {
        if self.users.verify(user, password) {
            self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&format!("user:{user}"));
            return true;
        }
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, times| {
                times.back().is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
            });
        }
        for key in keys(peer, user) {
            let times = failures.entry(key).or_default();
            times.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            times.push_back(now);
        }
        false
    }
}

fn alive(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last_seen) < IDLE_TIMEOUT
        && now.duration_since(s.created) < MAX_SESSION_AGE
}

/// A user name is capped before it becomes a key, so long names cannot grow the table.
fn keys(peer: Option<IpAddr>, user: &str) -> Vec<String> {
    let user: String = user.chars().take(128).collect();
    let mut keys = vec![format!("user:{user}")];
    keys.push(match peer {
        Some(ip) => format!("ip:{}", ip.to_canonical()),
        None => "ip:unknown".to_string(),
    });
    keys
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, SaltString};

    use super::*;

    fn login() -> Login {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let hash = argon2::Argon2::default().hash_password(b"geheim", &salt).unwrap();
        Login::new(Users::parse(&format!("anna:{hash}\n"), "users").unwrap())
    }

    #[test]
    fn sessions_start_resolve_and_end() {
        let l = login();
        assert_eq!(l.user("s1"), None);
        l.start("s1".into(), "anna");
        assert_eq!(l.user("s1").as_deref(), Some("anna"));
        l.end("s1");
        assert_eq!(l.user("s1"), None);
    }

    #[test]
    fn failures_throttle_per_user_and_address() {
        let l = login();
        let peer: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(l.verify(Some(peer), "anna", "geheim"));
        for _ in 0..MAX_FAILURES {
            assert!(l.throttled(Some(peer), "anna").is_none());
            assert!(!l.verify(Some(peer), "anna", "fout"));
        }
        assert!(l.throttled(Some(peer), "anna").is_some());
        // Another user from the same address is throttled too (address key) ...
        assert!(l.throttled(Some(peer), "bob").is_some());
        // ... and the same user from elsewhere (user key).
        assert!(l.throttled(Some("192.0.2.8".parse().unwrap()), "anna").is_some());
        assert!(l.throttled(Some("192.0.2.8".parse().unwrap()), "bob").is_none());
    }
}
