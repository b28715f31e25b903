//! Reading log files back: lines, records, and the files behind a list of
//! paths. Shared by the writer's resume, `verify`, `show` and `report`.

use std::path::{Path, PathBuf};

use super::chain::{self, Algorithm};
use super::files::{self, LogName};
use super::record::Record;

/// One newline-terminated line of a log file.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// The line without its newline.
    pub bytes: &'a [u8],
}

/// A file's complete lines, and where an incomplete last line starts.
pub fn lines(data: &[u8]) -> (Vec<Line<'_>>, Option<u64>) {
    let mut out = Vec::new();
    let mut start = 0usize;
    for (i, byte) in data.iter().enumerate() {
        if *byte == b'\n' {
            out.push(Line { number: out.len() + 1, offset: start as u64, bytes: &data[start..i] });
            start = i + 1;
        }
    }
    let torn = (start < data.len()).then_some(start as u64);
    (out, torn)
}

/// What is wrong with a single line, judged on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFault {
    /// Not a JSON record ending in a hash key.
    NotARecord(String),
    /// The stored hash does not match the bytes.
    HashMismatch,
}

/// Parses a line and checks its own hash with `alg`.
pub fn check_line(line: &[u8], alg: &Algorithm) -> Result<(Record, String), LineFault> {
    let (body, stored) = parse_line(line)?;
    let record = serde_json::from_slice::<Record>(&body)
        .map_err(|e| LineFault::NotARecord(e.to_string()))?;
    if alg.hash(&body) != stored {
        return Err(LineFault::HashMismatch);
    }
    Ok((record, stored))
}

/// Parses a line without checking its hash (for `show` and `report`).
pub fn parse_record(line: &[u8]) -> Result<(Record, String), LineFault> {
    let (body, stored) = parse_line(line)?;
    let record = serde_json::from_slice::<Record>(&body)
        .map_err(|e| LineFault::NotARecord(e.to_string()))?;
    Ok((record, stored))
}

fn parse_line(line: &[u8]) -> Result<(Vec<u8>, String), LineFault> {
    let (body, stored) = chain::split(line)
        .ok_or_else(|| LineFault::NotARecord("no trailing \"hash\" key".into()))?;
    Ok((body, stored.to_string()))
}

/// A log file found under the paths given on the command line.
#[derive(Debug, Clone)]
pub struct LogFile {
    /// Its parsed name.
    pub name: LogName,
    /// Where it is.
    pub path: PathBuf,
}

/// Errors collecting log files; the CLI reports them as usage errors.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A path could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file was named that is not an audit log.
    #[error("{0}: not an audit log file (expected courtesy-INSTANCE-YYYY-MM-DD-N.jsonl)")]
    NotALog(PathBuf),
    /// Nothing to read.
    #[error("no audit log files in {0}")]
    Empty(String),
}

/// The log files in the given files and directories, grouped by instance
/// and in chain order within each instance. A file named twice counts once.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<(String, Vec<LogFile>)>, CollectError> {
    let mut found: Vec<LogFile> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| CollectError::Io { path: path.clone(), source: e })?;
        if meta.is_dir() {
            let listed = files::list(path)
                .map_err(|e| CollectError::Io { path: path.clone(), source: e })?;
            found.extend(listed.into_iter().map(|(name, path)| LogFile { name, path }));
        } else {
            let name = file_name(path)
                .and_then(LogName::parse)
                .ok_or_else(|| CollectError::NotALog(path.clone()))?;
            found.push(LogFile { name, path: path.clone() });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found.dedup_by(|a, b| a.name == b.name);
    if found.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(CollectError::Empty(shown.join(", ")));
    }
    let mut groups: Vec<(String, Vec<LogFile>)> = Vec::new();
    for file in found {
        match groups.last_mut() {
            Some((instance, list)) if *instance == file.name.instance => list.push(file),
            _ => groups.push((file.name.instance.clone(), vec![file])),
        }
    }
    Ok(groups)
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_report_the_torn_tail() {
        let (lines_, torn) = lines(b"a\nbc\nde");
        assert_eq!(lines_.len(), 2);
        assert_eq!(lines_[1].bytes, b"bc");
        assert_eq!(lines_[1].offset, 2);
        assert_eq!(lines_[1].number, 2);
        assert_eq!(torn, Some(5));
        assert_eq!(lines(b"a\n").1, None);
        assert_eq!(lines(b"").1, None);
    }

    #[test]
    fn collect_groups_by_instance_and_orders_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "courtesy-b-2026-01-01-1.jsonl",
            "courtesy-a-2026-01-02-1.jsonl",
            "courtesy-a-2026-01-01-10.jsonl",
            "courtesy-a-2026-01-01-2.jsonl",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let groups = collect(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<(String, Vec<String>)> = groups
            .iter()
            .map(|(i, f)| (i.clone(), f.iter().map(|f| f.name.file_name()).collect()))
            .collect();
        assert_eq!(names[0].0, "a");
        assert_eq!(
            names[0].1,
            [
                "courtesy-a-2026-01-01-2.jsonl",
                "courtesy-a-2026-01-01-10.jsonl",
                "courtesy-a-2026-01-02-1.jsonl"
            ]
        );
        assert_eq!(names[1].0, "b");
        let err = collect(&[dir.path().join("notes.txt")]).unwrap_err();
        assert!(matches!(err, CollectError::NotALog(_)));
    }
}
