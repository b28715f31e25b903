//! Failed AUTH attempts per client address, across connections: the
//! per-connection limit alone lets a brute forcer simply reconnect.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; beyond this the oldest windows are forgotten
/// first, so a spray from many addresses cannot grow memory without bound.
const MAX_TRACKED: usize = 65_536;

/// Counts failures per address within a sliding window.
#[derive(Debug, Default)]
pub struct AuthLimiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl AuthLimiter {
    /// Whether `ip` has used up `max` failures in the `window`.
    pub fn blocked(&self, ip: IpAddr, max: u32, window: Duration) -> bool {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip.to_canonical()).is_some_and(|(n, since)| *n >= max && since.elapsed() < window)
    }

    /// Records one failure; returns the count in the current window.
    pub fn fail(&self, ip: IpAddr, window: Duration) -> u32 {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| since.elapsed() < window);
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let entry = map.entry(ip.to_canonical()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        entry.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_and_forgets_after_the_window() {
        let l = AuthLimiter::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "::ffff:192.0.2.8".parse().unwrap();
        let hour = Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(!l.blocked(ip, 3, hour));
            l.fail(ip, hour);
        }
        assert!(l.blocked(ip, 3, hour));
        assert!(!l.blocked(other, 3, hour));
        // A zero window has always expired.
        assert!(!l.blocked(ip, 3, Duration::ZERO));
        assert_eq!(l.fail(ip, Duration::ZERO), 1);
    }
}
