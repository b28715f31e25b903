//! Keeps the directory snapshot fresh without ever losing it.
//!
//! A refresh reads every source, each bounded by the timeout. Only when all
//! of them deliver people does the new snapshot replace the old one, is
//! saved to disk and is published to subscribers. A failed refresh (server
//! down, bad password, unreadable export, a source returning nobody) keeps
//! the last good snapshot, counts the failure in [`RefreshStatus`] and logs
//! one line: the people list is never emptied by a refresh. At start the
//! snapshot saved by the previous run is loaded, so a restart while the
//! directory is down still knows everyone.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::snapshot::SnapshotError;
use super::{DirectoryConfig, DirectoryPerson, Snapshot, Source, SourceError, sources_from_config};

/// Health of the refresher, for `/metrics`, `/healthz` and `directory show`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RefreshStatus {
    /// When the last refresh succeeded (this process), if ever.
    #[serde(with = "crate::directory::snapshot::rfc3339::option")]
    pub last_ok: Option<OffsetDateTime>,
    /// The last failure's message, cleared by the next success.
    pub last_error: Option<String>,
    /// Failed refreshes since the last success; 0 when healthy.
    pub consecutive_failures: u32,
    /// When the snapshot in use was taken (possibly by a previous run).
    #[serde(with = "crate::directory::snapshot::rfc3339::option")]
    pub snapshot_taken_at: Option<OffsetDateTime>,
    /// Records in the snapshot in use.
    pub people: usize,
    /// Entries the sources left out in the last successful refresh, and why.
    pub warnings: Vec<String>,
}

/// Why a refresh failed; the last good snapshot stays in use.
#[derive(Debug, thiserror::Error)]
#[error("directory refresh failed: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct RefreshError(pub Vec<SourceError>);

/// Owns the sources, the current snapshot and the status.
pub struct Refresher {
    sources: Vec<Box<dyn Source>>,
    timeout: Duration,
    interval: Duration,
    state_dir: PathBuf,
    current: watch::Sender<Option<Arc<Snapshot>>>,
    status: Mutex<RefreshStatus>,
}

impl Refresher {
    /// A refresher over explicit sources (tests use their own).
    pub fn new(
        sources: Vec<Box<dyn Source>>,
        timeout: Duration,
        interval: Duration,
        state_dir: PathBuf,
    ) -> Refresher {
        Refresher {
            sources,
            timeout,
            interval,
            state_dir,
            current: watch::Sender::new(None),
            status: Mutex::new(RefreshStatus::default()),
        }
    }

    /// A refresher for the configured sources.
    pub fn from_config(config: &DirectoryConfig) -> Refresher {
        Refresher::new(
            sources_from_config(config),
            config.timeout,
            config.refresh_interval,
            config.state_dir.clone(),
        )
    }

    /// Loads the snapshot the previous run saved and makes it current, if
    /// there is one and nothing newer is in use. A corrupt file is an error
    /// for the caller to log; it is not deleted, so it can be inspected.
    pub fn load_saved(&self) -> Result<Option<Arc<Snapshot>>, SnapshotError> {
        let Some(saved) = Snapshot::load(&self.state_dir)? else {
            return Ok(None);
        };
        let saved = Arc::new(saved);
        let mut used = false;
        self.current.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(saved.clone());
                used = true;
            }
            used
        });
        if used {
            let mut status = self.lock_status();
            status.snapshot_taken_at = Some(saved.taken_at);
            status.people = saved.people.len();
        }
        Ok(Some(saved))
    }

    /// The snapshot in use, if any refresh or saved snapshot gave one.
    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.borrow().clone()
    }

    /// Notifies on every new snapshot; the policy reloader re-merges then.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.current.subscribe()
    }

    /// A copy of the current status.
    pub fn status(&self) -> RefreshStatus {
        self.lock_status().clone()
    }

    /// The refresh interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, RefreshStatus> {
        // The status is plain data: a panic elsewhere cannot leave it half-written.
        self.status.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads all sources once. On success the new snapshot is current,
    /// saved and published; on failure nothing changes but the status.
    pub async fn refresh(&self) -> Result<Arc<Snapshot>, RefreshError> {
        let fetched = fetch_all(&self.sources, self.timeout).await;
        let now = OffsetDateTime::now_utc();
        let (people, warnings) = match fetched {
            Ok(fetched) => fetched,
            Err(error) => {
                let mut status = self.lock_status();
                status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                status.last_error = Some(error.to_string());
                tracing::warn!(
                    error = %error,
                    consecutive_failures = status.consecutive_failures,
                    kept_people = status.people,
                    "directory refresh failed; keeping the last good snapshot"
                );
                return Err(error);
            }
        };
        let snapshot = Arc::new(Snapshot { taken_at: now, people });
        if let Some(old) = self.current() {
            let diff = old.diff(&snapshot);
            if !diff.added.is_empty() || !diff.removed.is_empty() {
                tracing::info!(added = ?diff.added, removed = ?diff.removed, "directory people changed");
            }
        }
        if let Err(e) = snapshot.save(&self.state_dir) {
            // The refresh itself worked; only a restart during an outage
            // would miss this snapshot, so this is a warning, not a failure.
            tracing::warn!(error = %e, "cannot save the directory snapshot");
        }
        {
            let mut status = self.lock_status();
            status.last_ok = Some(now);
            status.last_error = None;
            status.consecutive_failures = 0;
            status.snapshot_taken_at = Some(now);
            status.people = snapshot.people.len();
            status.warnings = warnings;
        }
        self.current.send_replace(Some(snapshot.clone()));
        tracing::info!(people = snapshot.people.len(), "directory refreshed");
        Ok(snapshot)
    }

    /// Refreshes now and then every interval until `shutdown` fires. A slow
    /// refresh delays the next tick instead of piling up.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        // The error is logged and in the status already.
                        _ = self.refresh() => {}
                    }
                }
            }
        }
    }
}

/// Reads every source once, each bounded by `timeout`: all their people
/// and warnings, or every source's error. Nothing is saved or published;
/// `courtesy directory show` uses this to look without touching the state.
pub async fn fetch_all(
    sources: &[Box<dyn Source>],
    timeout: Duration,
) -> Result<(Vec<DirectoryPerson>, Vec<String>), RefreshError> {
    let mut people = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for source in sources {
        let label = source.label().to_string();
        match tokio::time::timeout(timeout, source.fetch()).await {
            Ok(Ok(data)) if data.people.is_empty() => {
                errors.push(SourceError::Empty { source_label: label })
            }
            Ok(Ok(data)) => {
                people.extend(data.people);
                warnings.extend(data.warnings);
            }
            Ok(Err(e)) => errors.push(e),
            Err(_) => errors.push(SourceError::Timeout { source_label: label, timeout }),
        }
    }
    if errors.is_empty() { Ok((people, warnings)) } else { Err(RefreshError(errors)) }
}

#[cfg(test)]
mod tests;
