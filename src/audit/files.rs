//! Names of log files and how they sort.
//!
//! `courtesy-{instance}-{YYYY-MM-DD}-{n}.jsonl`: the date is the UTC day the
//! file was started and `n` counts files within that day from 1. Files of one
//! instance sort into chain order by (date, n), numerically, so `n = 10`
//! follows `n = 9`.

use std::path::{Path, PathBuf};

use time::Date;
use time::macros::format_description;

const PREFIX: &str = "courtesy-";
const SUFFIX: &str = ".jsonl";

/// A parsed log file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogName {
    /// Instance whose chain the file holds.
    pub instance: String,
    /// UTC day the file was started.
    pub date: Date,
    /// Number of the file within that day, from 1.
    pub n: u32,
}

impl LogName {
    /// Parses a file name (without directory); `None` for anything else.
    pub fn parse(name: &str) -> Option<LogName> {
        let stem = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
        let (rest, n) = stem.rsplit_once('-')?;
        let n: u32 = n.parse().ok().filter(|n| *n > 0)?;
        // The date is the fixed-width tail, so instance names may contain dashes.
        let split = rest.len().checked_sub(11)?;
        let (instance, date) = rest.split_at(split);
        let date = date.strip_prefix('-')?;
        if !valid_instance(instance) {
            return None;
        }
        let date = Date::parse(date, format_description!("[year]-[month]-[day]")).ok()?;
        Some(LogName { instance: instance.to_string(), date, n })
    }

    /// The file name (without directory).
    pub fn file_name(&self) -> String {
        let (y, m, d) = (self.date.year(), u8::from(self.date.month()), self.date.day());
        format!("{PREFIX}{}-{y:04}-{m:02}-{d:02}-{}{SUFFIX}", self.instance, self.n)
    }

    /// The key files of one instance sort by.
    pub fn order(&self) -> (Date, u32) {
        (self.date, self.n)
    }
}

/// Whether an instance name is safe inside a file name: 1 to 64 ASCII
/// letters, digits, `.`, `_` or `-`, not starting with `.` or `-`.
pub fn valid_instance(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The log files in `dir`, sorted by instance and chain order.
pub fn list(dir: &Path) -> std::io::Result<Vec<(LogName, PathBuf)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().and_then(LogName::parse) else {
            continue;
        };
        if entry.file_type()?.is_file() {
            files.push((name, entry.path()));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    #[test]
    fn names_round_trip_with_dashes_in_the_instance() {
        let name = LogName {
            instance: "relay-a.2".into(),
            date: Date::from_calendar_date(2026, Month::November, 3).unwrap(),
            n: 12,
        };
        assert_eq!(name.file_name(), "courtesy-relay-a.2-2026-11-03-12.jsonl");
        assert_eq!(LogName::parse(&name.file_name()), Some(name));
    }

    #[test]
    fn foreign_names_are_ignored() {
        for name in [
            "courtesy-relay-2026-11-03.jsonl",
            "courtesy-relay-2026-11-03-0.jsonl",
            "courtesy-relay-2026-13-03-1.jsonl",
            "courtesy--2026-11-03-1.jsonl",
            "other-relay-2026-11-03-1.jsonl",
            "courtesy-relay-2026-11-03-1.jsonl.gz",
        ] {
            assert_eq!(LogName::parse(name), None, "{name}");
        }
    }

    #[test]
    fn file_numbers_sort_numerically() {
        let a = LogName::parse("courtesy-x-2026-11-03-9.jsonl").unwrap();
        let b = LogName::parse("courtesy-x-2026-11-03-10.jsonl").unwrap();
        let c = LogName::parse("courtesy-x-2026-11-04-1.jsonl").unwrap();
        assert!(a < b && b < c);
    }

    #[test]
    fn instance_names_stay_inside_the_directory() {
        assert!(valid_instance("relay_1.eu-west"));
        for bad in ["", "../x", "a/b", ".hidden", "-x", "a b", "é"] {
            assert!(!valid_instance(bad), "{bad}");
        }
    }
}
