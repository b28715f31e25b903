//! The directory inside a running service (the relay, the milter).
//!
//! At start the snapshot the previous run saved is loaded, so a restart
//! while the directory is down still knows everyone; only on the very
//! first start, with nothing saved, are the sources read before the policy
//! is built. Then [`run`] refreshes every `refresh_interval` and calls back
//! on every new snapshot, so the service can rebuild its policy and swap it
//! in the way a policy reload does (an invalid result keeps the previous
//! policy). Its health goes to the metrics after every attempt.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::{DirectoryConfig, Refresher, Snapshot};
use crate::metrics::Metrics;

/// Builds the refresher for a service and loads the saved snapshot; a
/// missing or unreadable one is logged, not fatal (the first refresh
/// replaces it).
pub fn attach(config: &DirectoryConfig) -> Arc<Refresher> {
    let refresher = Arc::new(Refresher::from_config(config));
    match refresher.load_saved() {
        Ok(Some(saved)) => tracing::info!(
            people = saved.people.len(),
            taken_at = %saved.taken_at,
            "directory: loaded the saved snapshot"
        ),
        Ok(None) => tracing::info!(
            state_dir = %config.state_dir.display(),
            "directory: no saved snapshot yet"
        ),
        Err(e) => tracing::error!(error = %e, "directory: cannot load the saved snapshot"),
    }
    refresher
}

/// On a first start (nothing saved), reads the sources once so the policy
/// can be built with the directory's people; the snapshot is saved for the
/// next start. Does nothing when a snapshot is saved already.
pub async fn prepare(config: &DirectoryConfig) {
    if matches!(Snapshot::load(&config.state_dir), Ok(Some(_))) {
        return;
    }
    tracing::info!("directory: no saved snapshot, reading the sources before start");
    // A failure is logged by the refresher; the policy then reports whom it misses.
    let _ = Refresher::from_config(config).refresh().await;
}

/// The snapshot to build a policy with when the directory is configured:
/// the saved one, or an empty one when there is none (the policy then
/// reports every entry the directory should have provided).
pub fn saved_or_empty(config: &DirectoryConfig) -> Snapshot {
    match Snapshot::load(&config.state_dir) {
        Ok(Some(saved)) => saved,
        Ok(None) => empty(),
        Err(e) => {
            tracing::error!(error = %e, "directory: cannot load the saved snapshot");
            empty()
        }
    }
}

/// A snapshot with nobody in it.
pub fn empty() -> Snapshot {
    Snapshot { taken_at: OffsetDateTime::UNIX_EPOCH, people: Vec::new() }
}

/// Refreshes now and every interval until `shutdown`, updates the metrics
/// after each attempt, and calls `on_snapshot` for every new snapshot,
/// including one that a caller's own [`Refresher::refresh`] produced.
pub async fn run(
    refresher: Arc<Refresher>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    on_snapshot: impl Fn(Arc<Snapshot>) + Send + 'static,
) {
    let mut updates = refresher.subscribe();
    let mut ticks = tokio::time::interval(refresher.interval());
    // A slow refresh delays the next one instead of piling them up.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    metrics.directory(&refresher.status());
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    // A failure is logged and counted in the status.
                    _ = refresher.refresh() => {}
                }
                metrics.directory(&refresher.status());
            }
            changed = updates.changed() => {
                if changed.is_err() {
                    return;
                }
                let snapshot = updates.borrow_and_update().clone();
                metrics.directory(&refresher.status());
                if let Some(snapshot) = snapshot {
                    on_snapshot(snapshot);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::directory::{DirectoryPerson, Source, SourceData, SourceError};

    struct Fixed(Vec<DirectoryPerson>);

    #[async_trait::async_trait]
    impl Source for Fixed {
        fn label(&self) -> &str {
            "directory:test"
        }
        async fn fetch(&self) -> Result<SourceData, SourceError> {
            Ok(SourceData { people: self.0.clone(), warnings: Vec::new() })
        }
    }

    #[tokio::test]
    async fn every_new_snapshot_is_handed_on_and_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let person = DirectoryPerson {
            id: "jdevries".into(),
            name: "Jan de Vries".into(),
            email: "jan.devries@firm.nl".into(),
            aliases: vec![],
            phone: None,
            mobile: None,
            department: None,
            source: "directory:test".into(),
        };
        let refresher = Arc::new(Refresher::new(
            vec![Box::new(Fixed(vec![person]))],
            Duration::from_secs(5),
            Duration::from_secs(3600),
            dir.path().to_path_buf(),
        ));
        let metrics = Metrics::new();
        let shutdown = CancellationToken::new();
        let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(run(
            refresher.clone(),
            metrics.clone(),
            shutdown.clone(),
            move |snapshot| {
                let _ = seen_tx.send(snapshot.people.len());
            },
        ));
        // The first tick refreshes at once.
        let first = tokio::time::timeout(Duration::from_secs(5), seen_rx.recv()).await;
        assert_eq!(first.expect("in time"), Some(1));
        // A refresh from outside the loop is handed on as well.
        refresher.refresh().await.expect("refreshes");
        let second = tokio::time::timeout(Duration::from_secs(5), seen_rx.recv()).await;
        assert_eq!(second.expect("in time"), Some(1));
        let text = metrics.render();
        assert!(text.contains("courtesy_directory_refresh_failures 0"), "{text}");
        assert!(text.contains("courtesy_directory_people 1"), "{text}");
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("stops").expect("no panic");
        assert_eq!(saved_or_empty_in(dir.path()).people.len(), 1, "saved for the next start");
    }

    fn saved_or_empty_in(dir: &std::path::Path) -> Snapshot {
        Snapshot::load(dir).ok().flatten().unwrap_or_else(empty)
    }
}
