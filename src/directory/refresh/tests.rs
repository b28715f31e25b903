use std::sync::Mutex as StdMutex;

use super::*;
use crate::directory::{DirectoryPerson, SourceData};

/// A source whose answer the test sets: `None` means "down".
struct Scripted {
    answer: Arc<StdMutex<Option<Vec<DirectoryPerson>>>>,
    delay: Duration,
}

#[async_trait::async_trait]
impl Source for Scripted {
    fn label(&self) -> &str {
        "directory:test"
    }
    async fn fetch(&self) -> Result<SourceData, SourceError> {
        tokio::time::sleep(self.delay).await;
        let answer = self.answer.lock().expect("lock").clone();
        answer.map(|people| SourceData { people, warnings: vec![] }).ok_or_else(|| {
            SourceError::Ldap { url: "ldap://test".into(), message: "connection refused".into() }
        })
    }
}

fn person(id: &str) -> DirectoryPerson {
    DirectoryPerson {
        id: id.into(),
        name: id.into(),
        email: format!("{id}@firm.nl"),
        aliases: vec![],
        phone: None,
        mobile: None,
        department: None,
        source: "directory:test".into(),
    }
}

fn refresher(
    dir: &std::path::Path,
    answer: &Arc<StdMutex<Option<Vec<DirectoryPerson>>>>,
    delay: Duration,
) -> Refresher {
    Refresher::new(
        vec![Box::new(Scripted { answer: answer.clone(), delay })],
        Duration::from_secs(5),
        Duration::from_secs(60),
        dir.to_path_buf(),
    )
}

#[tokio::test]
async fn failure_keeps_last_snapshot_and_restart_loads_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let answer = Arc::new(StdMutex::new(Some(vec![person("a"), person("b")])));
    let first = refresher(dir.path(), &answer, Duration::ZERO);
    first.refresh().await.expect("directory up");

    *answer.lock().expect("lock") = None;
    let err = first.refresh().await.expect_err("directory down");
    assert!(err.to_string().contains("connection refused"), "{err}");
    first.refresh().await.expect_err("still down");
    assert_eq!(first.current().expect("kept").people.len(), 2);
    let status = first.status();
    assert_eq!(status.consecutive_failures, 2);
    assert!(status.last_ok.is_some());
    assert_eq!(status.people, 2);

    // A new process while the directory is still down.
    let second = refresher(dir.path(), &answer, Duration::ZERO);
    assert!(second.current().is_none());
    second.load_saved().expect("readable").expect("saved");
    second.refresh().await.expect_err("down");
    assert_eq!(second.current().expect("from disk").people.len(), 2);
    assert_eq!(second.status().people, 2);
}

#[tokio::test]
async fn empty_answer_never_replaces_people() {
    let dir = tempfile::tempdir().expect("tempdir");
    let answer = Arc::new(StdMutex::new(Some(vec![person("a")])));
    let r = refresher(dir.path(), &answer, Duration::ZERO);
    r.refresh().await.expect("up");
    *answer.lock().expect("lock") = Some(vec![]);
    let err = r.refresh().await.expect_err("empty is a failure");
    assert!(err.to_string().contains("returned no people"), "{err}");
    assert_eq!(r.current().expect("kept").people.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn slow_source_times_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let answer = Arc::new(StdMutex::new(Some(vec![person("a")])));
    let r = refresher(dir.path(), &answer, Duration::from_secs(3600));
    let err = r.refresh().await.expect_err("times out");
    assert!(err.to_string().contains("did not answer within 5s"), "{err}");
    assert!(r.current().is_none());
}

#[tokio::test(start_paused = true)]
async fn run_refreshes_every_interval_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let answer = Arc::new(StdMutex::new(Some(vec![person("a")])));
    let r = Arc::new(refresher(dir.path(), &answer, Duration::ZERO));
    let mut updates = r.subscribe();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(r.clone().run(shutdown.clone()));

    updates.changed().await.expect("first refresh at once");
    assert_eq!(r.current().expect("set").people.len(), 1);
    *answer.lock().expect("lock") = Some(vec![person("a"), person("b")]);
    tokio::time::advance(Duration::from_secs(61)).await;
    updates.changed().await.expect("second refresh after the interval");
    assert_eq!(r.current().expect("set").people.len(), 2);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(1), task).await.expect("stops").expect("no panic");
}
