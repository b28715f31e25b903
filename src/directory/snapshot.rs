//! The people the directory had at one moment, and their copy on disk.
//!
//! The last good snapshot is saved as JSON in the state directory so that a
//! restart while the directory is down starts with yesterday's people
//! rather than none. It is written to a temporary file in the same
//! directory, flushed and renamed over the old one: a crash mid-write
//! leaves the previous snapshot intact.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::DirectoryPerson;

/// File name of the snapshot inside the state directory.
pub const SNAPSHOT_FILE: &str = "directory-snapshot.json";

/// All people from all sources at one moment, in source order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// When the sources were read.
    #[serde(with = "rfc3339")]
    pub taken_at: OffsetDateTime,
    /// Every record every source returned, duplicates included: the merge
    /// decides precedence and reports duplicates, with provenance.
    pub people: Vec<DirectoryPerson>,
}

/// Who appeared and who disappeared between two snapshots (by id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotDiff {
    /// Ids only in the newer snapshot.
    pub added: Vec<String>,
    /// Ids only in the older snapshot.
    pub removed: Vec<String>,
}

/// Why a saved snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading, writing or renaming failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a snapshot.
    #[error("{path}: not a directory snapshot: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}

impl Snapshot {
    /// The path of the snapshot file in a state directory.
    pub fn path_in(state_dir: &Path) -> PathBuf {
        state_dir.join(SNAPSHOT_FILE)
    }

    /// Reads the snapshot saved in `state_dir`; `Ok(None)` if there is none yet.
    pub fn load(state_dir: &Path) -> Result<Option<Snapshot>, SnapshotError> {
        let path = Snapshot::path_in(state_dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SnapshotError::Io { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| SnapshotError::Format { path, source })
    }

    /// Reads a snapshot file by its own path (a copy kept for `courtesy
    /// check --directory-snapshot`, or the example next to a policy).
    pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
        let bytes = std::fs::read(path)
            .map_err(|source| SnapshotError::Io { path: path.to_path_buf(), source })?;
        serde_json::from_slice(&bytes)
            .map_err(|source| SnapshotError::Format { path: path.to_path_buf(), source })
    }

    /// Saves the snapshot atomically in `state_dir` (created if missing).
    pub fn save(&self, state_dir: &Path) -> Result<(), SnapshotError> {
        let path = Snapshot::path_in(state_dir);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SnapshotError::Io { path, source }
        };
        std::fs::create_dir_all(state_dir).map_err(io(state_dir))?;
        let tmp = state_dir.join(format!(".{SNAPSHOT_FILE}.{}.tmp", std::process::id()));
        let json = serde_json::to_vec_pretty(self)
            .map_err(|source| SnapshotError::Format { path: path.clone(), source })?;
        let written = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()
        })();
        if let Err(source) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(SnapshotError::Io { path: tmp, source });
        }
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        // Make the rename itself durable; not every platform can open a
        // directory, and the data is already safe, so failures are ignored.
        if let Ok(dir) = std::fs::File::open(state_dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Who is new in `newer` and who is gone from it.
    pub fn diff(&self, newer: &Snapshot) -> SnapshotDiff {
        let old: BTreeSet<&str> = self.people.iter().map(|p| p.id.as_str()).collect();
        let new: BTreeSet<&str> = newer.people.iter().map(|p| p.id.as_str()).collect();
        SnapshotDiff {
            added: new.difference(&old).map(|s| s.to_string()).collect(),
            removed: old.difference(&new).map(|s| s.to_string()).collect(),
        }
    }
}

pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }

    /// The same for `Option<OffsetDateTime>`, `null` when absent.
    pub mod option {
        use serde::Serializer;
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str) -> DirectoryPerson {
        DirectoryPerson {
            id: id.into(),
            name: format!("Person {id}"),
            email: format!("{id}@firm.nl"),
            aliases: vec![],
            phone: None,
            mobile: None,
            department: None,
            source: "directory:ldap".into(),
        }
    }

    #[test]
    fn save_then_load_round_trips_and_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Snapshot::load(dir.path()).expect("no file is fine"), None);
        let first = Snapshot {
            taken_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid"),
            people: vec![person("a"), person("b")],
        };
        first.save(dir.path()).expect("saves");
        let second = Snapshot { people: vec![person("b"), person("c")], ..first.clone() };
        second.save(dir.path()).expect("saves again");
        assert_eq!(Snapshot::load(dir.path()).expect("loads"), Some(second.clone()));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("lists")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let diff = first.diff(&second);
        assert_eq!(diff.added, vec!["c"]);
        assert_eq!(diff.removed, vec!["a"]);
    }

    #[test]
    fn corrupt_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(Snapshot::path_in(dir.path()), b"{not json").expect("writes");
        let err = Snapshot::load(dir.path()).expect_err("corrupt").to_string();
        assert!(err.contains(SNAPSHOT_FILE), "{err}");
    }
}
