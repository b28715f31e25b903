//! The outbox directory upstream (`dir:PATH`): one `.eml` per accepted
//! message, so a newcomer can try courtesy with swaks and no mail server.
//!
//! Each file is written to a hidden temporary name, fsynced, then renamed
//! into place (and the directory fsynced), so a reader never sees half a
//! message and a 250 means the message is on disk. The `.eml` holds exactly
//! the forwarded bytes; the envelope goes into a `.json` file of the same
//! name, written first, so a finished `.eml` means both exist.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::reply::{Failure, Reply};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A session with the outbox.
pub struct DirUpstream {
    dir: PathBuf,
    from: String,
    rcpt: Vec<String>,
}

impl DirUpstream {
    /// An outbox in `dir` (created when the configuration was loaded).
    pub fn new(dir: PathBuf) -> DirUpstream {
        DirUpstream { dir, from: String::new(), rcpt: Vec::new() }
    }

    pub(super) fn mail(&mut self, from: &str) -> Reply {
        self.from = from.to_string();
        self.rcpt.clear();
        Reply::new(250, "2.1.0 OK")
    }

    pub(super) fn rcpt(&mut self, to: &str) -> Reply {
        self.rcpt.push(to.to_string());
        Reply::new(250, "2.1.5 OK")
    }

    pub(super) fn rset(&mut self) {
        self.from.clear();
        self.rcpt.clear();
    }

    pub(super) async fn data(&mut self, message: &[u8]) -> Result<Reply, Failure> {
        let dir = self.dir.clone();
        let message = message.to_vec();
        let envelope = serde_json::json!({ "mail_from": self.from, "rcpt_to": self.rcpt });
        self.rset();
        let written = tokio::task::spawn_blocking(move || write_message(&dir, &message, &envelope))
            .await
            .map_err(|_| Failure::LocalDelivery)?;
        match written {
            Ok(name) => Ok(Reply::new(250, format!("2.0.0 OK queued as {name}"))),
            Err(e) => {
                tracing::error!(error = %e, "cannot write to the outbox");
                Err(Failure::LocalDelivery)
            }
        }
    }
}

/// Writes `NAME.eml` (the message) and `NAME.json` (the envelope) atomically.
pub fn write_message(
    dir: &Path,
    message: &[u8],
    envelope: &serde_json::Value,
) -> std::io::Result<String> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let name = format!(
        "{}.{:06}.{}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let envelope = serde_json::to_vec_pretty(envelope).map_err(std::io::Error::other)?;
    // The envelope first: a finished `.eml` is the signal that both exist.
    write_atomic(dir, &format!("{name}.json"), &envelope)?;
    write_atomic(dir, &format!("{name}.eml"), message)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(name)
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_message_and_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let mut up = DirUpstream::new(dir.path().to_path_buf());
        up.mail("a@b");
        up.rcpt("c@d");
        let reply = up.data(b"Subject: x\r\n\r\n.body\r\n").await.unwrap();
        assert_eq!(reply.code, 250);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        let eml = names.iter().find(|n| n.ends_with(".eml")).unwrap();
        assert_eq!(std::fs::read(dir.path().join(eml)).unwrap(), b"Subject: x\r\n\r\n.body\r\n");
        let json = names.iter().find(|n| n.ends_with(".json")).unwrap();
        let env: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(json)).unwrap()).unwrap();
        assert_eq!(env["rcpt_to"][0], "c@d");
    }

    #[tokio::test]
    async fn unwritable_outbox_is_a_temporary_failure() {
        let mut up = DirUpstream::new(PathBuf::from("/nonexistent/courtesy-outbox"));
        up.mail("a@b");
        up.rcpt("c@d");
        assert_eq!(up.data(b"x\r\n").await, Err(Failure::LocalDelivery));
    }
}
