//! The file-backed audit log: append, fsync, rotate, resume after a crash.
//!
//! Every record is one `write` of the whole line (newline included) to a
//! file opened for appending, followed by `fsync`, before the call returns.
//! A crash can therefore leave at most one incomplete line at the end of the
//! newest file; [`AuditLog::open`] finds it, leaves it in place as evidence,
//! starts a new file chained to the last intact record, and writes a
//! `recovery` record naming the torn bytes.
//!
//! A std `Mutex` (not tokio's) guards the state: the critical section is
//! blocking file I/O that async callers already move to a blocking thread.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::{Date, OffsetDateTime, UtcOffset};

use super::chain::{self, Algorithm};
use super::files::{self, LogName};
use super::read;
use super::record::{FORMAT_VERSION, MessageRecord, Record, RecordBody};
use super::{AuditConfig, AuditError, AuditSink, DiffMode, MessageEntry, Verdict};

/// Where the log gets the time from; tests inject a fixed or stepping clock.
pub trait Clock: Send + Sync {
    /// The current time (any offset; the log converts to UTC).
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// An instance's append-only, hash-chained log in a directory.
pub struct AuditLog {
    dir: PathBuf,
    instance: String,
    alg: Algorithm,
    diff: DiffMode,
    rotate_daily: bool,
    rotate_bytes: u64,
    clock: Box<dyn Clock>,
    state: Mutex<State>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("instance", &self.instance)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

struct State {
    current: Option<Current>,
    /// Name of the newest file, which the next file's name must sort after.
    last: Option<LogName>,
    next_seq: u64,
    prev: String,
    /// A torn tail that still needs its `recovery` record.
    pending_recovery: Option<(LogName, u64)>,
}

struct Current {
    file: File,
    name: LogName,
    len: u64,
}

/// Where an existing chain stands, from its files.
struct Resume {
    next_seq: u64,
    prev: String,
    /// The newest file, when new records can be appended to it.
    append_to: Option<(LogName, u64)>,
    last: Option<LogName>,
    torn: Option<(LogName, u64)>,
}

impl AuditLog {
    /// Opens (or starts) the log of `instance` with the system clock.
    pub fn open(config: &AuditConfig, instance: &str) -> Result<AuditLog, AuditError> {
        AuditLog::open_with_clock(config, instance, Box::new(SystemClock))
    }

    /// Opens the log with the given clock.
    pub fn open_with_clock(
        config: &AuditConfig,
        instance: &str,
        clock: Box<dyn Clock>,
    ) -> Result<AuditLog, AuditError> {
        if !files::valid_instance(instance) {
            return Err(AuditError::Instance(instance.to_string()));
        }
        let alg = match &config.key_file {
            Some(path) => Algorithm::from_key_file(path)?,
            None => Algorithm::Sha256,
        };
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let resume = resume(&dir, instance, &alg)?;
        let log = AuditLog {
            dir,
            instance: instance.to_string(),
            alg,
            diff: config.diff,
            rotate_daily: config.rotate_daily,
            rotate_bytes: config.rotate_bytes,
            clock,
            state: Mutex::new(State {
                current: None,
                last: resume.last,
                next_seq: resume.next_seq,
                prev: resume.prev,
                pending_recovery: resume.torn,
            }),
        };
        let mut state = log.lock();
        if let Some((name, len)) = resume.append_to {
            let path = log.dir.join(name.file_name());
            let file = open_file(&path, false)?;
            state.current = Some(Current { file, name, len });
        }
        if state.next_seq == 0 {
            let alg = log.alg.name().to_string();
            log.append(&mut state, RecordBody::Start { alg })?;
        }
        log.write_pending_recovery(&mut state)?;
        drop(state);
        Ok(log)
    }

    /// The file the next record goes to, if one is open.
    pub fn current_file(&self) -> Option<PathBuf> {
        self.lock().current.as_ref().map(|c| self.dir.join(c.name.file_name()))
    }

    /// The sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.lock().next_seq
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is only changed after a successful write, so it is
        // consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_pending_recovery(&self, state: &mut State) -> Result<(), AuditError> {
        if let Some((name, intact)) = state.pending_recovery.take() {
            let size = std::fs::metadata(self.dir.join(name.file_name())).map(|m| m.len());
            let body = RecordBody::Recovery {
                file: name.file_name(),
                intact_bytes: intact,
                discarded_bytes: size.unwrap_or(intact).saturating_sub(intact),
            };
            // The torn file must never be appended to again.
            if state.current.as_ref().is_some_and(|c| c.name == name) {
                state.current = None;
            }
            if let Err(error) = self.append(state, body) {
                state.pending_recovery = Some((name, intact));
                return Err(error);
            }
        }
        Ok(())
    }

    fn append(&self, state: &mut State, body: RecordBody) -> Result<u64, AuditError> {
        let now = self.clock.now().to_offset(UtcOffset::UTC);
        let record = Record {
            v: FORMAT_VERSION,
            seq: state.next_seq,
            time: timestamp(now),
            instance: self.instance.clone(),
            body,
            prev: state.prev.clone(),
        };
        let json = serde_json::to_vec(&record)
            .map_err(|e| io_error(&self.dir, std::io::Error::other(e)))?;
        let (line, hash) = self.alg.seal(&json);
        self.ensure_file(state, now.date(), line.len() as u64)?;
        let Some(current) = state.current.as_mut() else {
            return Err(io_error(&self.dir, std::io::Error::other("no open log file")));
        };
        let path = self.dir.join(current.name.file_name());
        let written = current.file.write_all(&line).and_then(|()| current.file.sync_data());
        if let Err(error) = written {
            // Cut off whatever part of the line reached the file; if that
            // fails too, the next file starts with a recovery record.
            let intact = current.len;
            let restored = current.file.set_len(intact).and_then(|()| current.file.sync_all());
            if restored.is_err() {
                state.pending_recovery = Some((current.name.clone(), intact));
            }
            state.current = None;
            return Err(io_error(&path, error));
        }
        current.len += line.len() as u64;
        state.prev = hash;
        state.next_seq += 1;
        Ok(record.seq)
    }

    /// Makes sure a file is open that may take `line_len` more bytes today.
    fn ensure_file(&self, state: &mut State, today: Date, line_len: u64) -> Result<(), AuditError> {
        if let Some(current) = &state.current {
            let new_day = self.rotate_daily && today > current.name.date;
            let full = current.len > 0 && current.len + line_len > self.rotate_bytes;
            if !new_day && !full {
                return Ok(());
            }
        }
        // A clock that went back must not produce a name sorting before the
        // newest file: stay on that file's date and count up.
        let name = match &state.last {
            Some(last) if last.date >= today => {
                LogName { instance: self.instance.clone(), date: last.date, n: last.n + 1 }
            }
            _ => LogName { instance: self.instance.clone(), date: today, n: 1 },
        };
        let path = self.dir.join(name.file_name());
        let file = open_file(&path, true)?;
        // Make the new directory entry durable before records depend on it.
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| io_error(&self.dir, e))?;
        state.last = Some(name.clone());
        state.current = Some(Current { file, name, len: 0 });
        Ok(())
    }
}

impl AuditSink for AuditLog {
    fn record_message(&self, entry: &MessageEntry<'_>) -> Result<u64, AuditError> {
        let body = RecordBody::Message(Box::new(MessageRecord::from_entry(entry, self.diff)));
        let mut state = self.lock();
        self.write_pending_recovery(&mut state)?;
        self.append(&mut state, body)
    }

    fn record_verdict(&self, message_seq: u64, verdict: &Verdict) -> Result<u64, AuditError> {
        let mut state = self.lock();
        self.write_pending_recovery(&mut state)?;
        self.append(&mut state, RecordBody::verdict(message_seq, verdict))
    }
}

/// RFC 3339 in UTC with millisecond precision.
fn timestamp(now: OffsetDateTime) -> String {
    let millis = now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(now);
    millis
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

fn open_file(path: &Path, create_new: bool) -> Result<File, AuditError> {
    let mut options = OpenOptions::new();
    options.append(true);
    if create_new {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        // The log holds addresses and message text: not world-readable.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o640);
    }
    options.open(path).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, source: std::io::Error) -> AuditError {
    AuditError::Io { path: path.to_path_buf(), source }
}

/// Finds where the instance's chain stands: the last record that verifies
/// in the newest file that has one, and any torn tail behind it.
fn resume(dir: &Path, instance: &str, alg: &Algorithm) -> Result<Resume, AuditError> {
    let listed = files::list(dir).map_err(|e| io_error(dir, e))?;
    let ours: Vec<LogName> =
        listed.into_iter().map(|(name, _)| name).filter(|n| n.instance == instance).collect();
    let mut resume = Resume {
        next_seq: 0,
        prev: chain::GENESIS.to_string(),
        append_to: None,
        last: ours.last().cloned(),
        torn: None,
    };
    for (index, name) in ours.iter().enumerate().rev() {
        let path = dir.join(name.file_name());
        let data = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
        let (lines, _) = read::lines(&data);
        let last_good = lines.iter().rev().find_map(|line| {
            read::check_line(line.bytes, alg)
                .ok()
                .filter(|(record, _)| record.instance == instance)
                .map(|(record, hash)| (line.offset + line.bytes.len() as u64 + 1, record, hash))
        });
        if last_good.is_none() && lines.iter().any(|l| read::parse_record(l.bytes).is_ok()) {
            // Records that parse but none that verify: another key (or
            // none) wrote them. Starting a new chain here would hide that.
            return Err(AuditError::Key {
                path: path.clone(),
                reason: format!(
                    "the existing records do not verify with this {} chain; \
                     use the key they were written with",
                    alg.name()
                ),
            });
        }
        let intact = last_good.as_ref().map_or(0, |(end, _, _)| *end);
        if intact < data.len() as u64 && resume.torn.is_none() {
            resume.torn = Some((name.clone(), intact));
        }
        if let Some((end, record, hash)) = last_good {
            resume.next_seq = record.seq + 1;
            resume.prev = hash;
            if index + 1 == ours.len() && end == data.len() as u64 {
                resume.append_to = Some((name.clone(), end));
            }
            return Ok(resume);
        }
    }
    Ok(resume)
}
