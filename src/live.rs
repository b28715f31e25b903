//! The settings a running service hands to each new session, swapped whole
//! on reload, with the outcome of the last reload kept for the console.
//!
//! Sessions take an `Arc` at their start and keep it to the end, so a
//! reload never changes the rules in the middle of a message. A failed
//! reload leaves the running settings in force: an administrator's typo
//! must not take the gateway down or empty its policy.

use std::fmt::Display;
use std::sync::{Arc, Mutex, RwLock};

use crate::metrics::Metrics;

/// Settings in force plus why the last attempt to replace them failed.
#[derive(Debug)]
pub struct Live<S> {
    current: RwLock<Arc<S>>,
    last_error: Mutex<Option<String>>,
}

impl<S> Live<S> {
    /// Starts with the settings built at startup.
    pub fn new(initial: S) -> Live<S> {
        Live { current: RwLock::new(Arc::new(initial)), last_error: Mutex::new(None) }
    }

    /// The settings new sessions start with.
    pub fn get(&self) -> Arc<S> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Why the last reload (or rebuild) failed, as it was logged; `None`
    /// once a later one succeeded.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `built` in force, or keeps the running settings and remembers
    /// the error. Either way the reload metric counts it and the log says
    /// `what` happened.
    pub fn replace<E: Display>(
        &self,
        built: Result<S, E>,
        what: &str,
        metrics: &Metrics,
    ) -> Result<(), E> {
        let mut last_error = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        match built {
            Ok(settings) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(settings);
                *last_error = None;
                metrics.reload(true);
                tracing::info!("{what}: done");
                Ok(())
            }
            Err(e) => {
                *last_error = Some(e.to_string());
                metrics.reload(false);
                tracing::error!("{what} failed, keeping the running policy: {e}");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_replacement_keeps_the_running_settings_and_says_why() {
        let metrics = Metrics::new();
        let live = Live::new(1);
        let running = live.get();
        assert!(
            live.replace(Err::<i32, _>("policy.yaml:3:5: unknown key"), "reload", &metrics)
                .is_err()
        );
        assert!(Arc::ptr_eq(&running, &live.get()));
        assert_eq!(live.last_error().as_deref(), Some("policy.yaml:3:5: unknown key"));

        live.replace(Ok::<_, String>(2), "reload", &metrics).unwrap();
        assert_eq!(*live.get(), 2);
        assert_eq!(live.last_error(), None);
        let rendered = metrics.render();
        assert!(
            rendered.contains("result=\"failed\"} 1") && rendered.contains("result=\"ok\"} 1"),
            "{rendered}"
        );
    }
}
