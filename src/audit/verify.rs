//! Checks an instance's chain across its files and names the first break.
//!
//! The checks, in order, for every complete line: it is a record ending in a
//! hash key; the hash matches the bytes; it belongs to the instance; its
//! `seq` is one more than the previous record's; its `prev` is the previous
//! record's hash. Which check fails tells the kind of break, so that an
//! administrator can tell a crash (torn last line) from an edit.

use std::collections::HashMap;
use std::path::PathBuf;

use super::chain::{self, Algorithm};
use super::read::{self, LineFault, LogFile};
use super::record::RecordBody;

/// What kind of break was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// A record's bytes no longer match its hash, or a record was replaced.
    Edited,
    /// Records are missing between two others.
    Removed,
    /// Records are out of order.
    Reordered,
    /// The newest file ends in an incomplete line: a crash during a write,
    /// not tampering. Restarting courtesy seals it with a recovery record.
    Torn,
    /// An older file ends in an incomplete line that no recovery record
    /// accounts for: it was cut short after the chain moved on.
    Truncated,
    /// The first records of the chain are missing.
    MissingStart,
    /// The HMAC key does not match the chain.
    WrongKey,
    /// The chain's algorithm is not the one expected (a key was given for a
    /// plain chain).
    WrongAlgorithm,
    /// The chain is an HMAC chain and no key was given.
    KeyNeeded,
    /// A record names another instance than its file.
    WrongInstance,
}

impl BreakKind {
    /// Short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            BreakKind::Edited => "edited record",
            BreakKind::Removed => "removed record",
            BreakKind::Reordered => "reordered records",
            BreakKind::Torn => "torn last line (crash during write, not tampering)",
            BreakKind::Truncated => "truncated file",
            BreakKind::MissingStart => "missing start of chain",
            BreakKind::WrongKey => "wrong HMAC key",
            BreakKind::WrongAlgorithm => "unexpected chain algorithm",
            BreakKind::KeyNeeded => "HMAC key needed",
            BreakKind::WrongInstance => "record of another instance",
        }
    }
}

/// The first break in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File holding the broken record.
    pub file: PathBuf,
    /// 1-based line number in that file.
    pub line: usize,
    /// What kind of break.
    pub kind: BreakKind,
    /// Explanation for the reader.
    pub detail: String,
}

/// The result of checking one instance's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The instance.
    pub instance: String,
    /// How many files were read.
    pub files: usize,
    /// How many records verified before the first break (or in all).
    pub records: u64,
    /// The algorithm the chain uses.
    pub alg: String,
    /// Sequence number of the first and last verified record.
    pub seq_range: Option<(u64, u64)>,
    /// Torn tails that recovery records account for.
    pub notes: Vec<String>,
    /// The first break, if any.
    pub problem: Option<Problem>,
}

/// How to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The HMAC key, for keyed chains.
    pub key: Option<Algorithm>,
    /// Accept a chain whose first files were archived away: trust the first
    /// record present instead of requiring the start record.
    pub partial: bool,
}

/// Where the previous record was, for reports that name it.
struct Previous {
    seq: u64,
    hash: String,
    file: PathBuf,
    line: usize,
}

/// Verifies one instance's files (in chain order).
pub fn verify_chain(
    instance: &str,
    files: &[LogFile],
    options: &VerifyOptions,
) -> std::io::Result<ChainReport> {
    let mut contents = Vec::with_capacity(files.len());
    for file in files {
        contents.push(std::fs::read(&file.path)?);
    }
    let recoveries = recoveries(&contents);
    let mut report = ChainReport {
        instance: instance.to_string(),
        files: files.len(),
        records: 0,
        alg: String::new(),
        seq_range: None,
        notes: Vec::new(),
        problem: None,
    };
    let alg = match chain_algorithm(&contents, options) {
        Ok(alg) => alg,
        Err((kind, detail)) => {
            let file = files.first().map(|f| f.path.clone()).unwrap_or_default();
            report.problem = Some(Problem { file, line: 1, kind, detail });
            return Ok(report);
        }
    };
    report.alg = alg.name().to_string();
    let mut previous: Option<Previous> = None;
    for (file, data) in files.iter().zip(&contents) {
        let file_name = file.name.file_name();
        let (lines, torn) = read::lines(data);
        let mut sealed = false;
        for (index, line) in lines.iter().enumerate() {
            let problem = |kind, detail: String| {
                Some(Problem { file: file.path.clone(), line: line.number, kind, detail })
            };
            let (record, hash) = match read::check_line(line.bytes, &alg) {
                Ok(ok) => ok,
                Err(fault) => {
                    if let Some(seq) = recoveries.get(&(file_name.clone(), line.offset)) {
                        report.notes.push(sealed_note(&file_name, line.offset, data, *seq));
                        sealed = true;
                        break;
                    }
                    let next_fails = lines
                        .get(index + 1)
                        .is_none_or(|next| read::check_line(next.bytes, &alg).is_err());
                    report.problem = match fault {
                        LineFault::HashMismatch
                            if previous.is_none()
                                && next_fails
                                && matches!(alg, Algorithm::HmacSha256(_)) =>
                        {
                            problem(
                                BreakKind::WrongKey,
                                "records do not verify with this key".into(),
                            )
                        }
                        LineFault::HashMismatch => problem(
                            BreakKind::Edited,
                            "the record's hash does not match its contents".into(),
                        ),
                        LineFault::NotARecord(why) => {
                            problem(BreakKind::Edited, format!("not a valid record: {why}"))
                        }
                    };
                    return Ok(report);
                }
            };
            if record.instance != instance {
                report.problem = problem(
                    BreakKind::WrongInstance,
                    format!("record of instance {:?} in a file of {instance:?}", record.instance),
                );
                return Ok(report);
            }
            let seq = record.seq;
            let is_start = matches!(record.body, RecordBody::Start { .. });
            let fault = match &previous {
                None if is_start && seq == 0 && record.prev == chain::GENESIS => None,
                None if options.partial => {
                    report.notes.push(format!("chain checked from seq {seq} on (--partial)"));
                    None
                }
                None => Some((
                    BreakKind::MissingStart,
                    format!("the first record present is seq {seq}, not the start record seq 0"),
                )),
                Some(prev) if seq == prev.seq + 1 && is_start => {
                    Some((BreakKind::Edited, "a start record in the middle of the chain".into()))
                }
                Some(prev) if seq == prev.seq + 1 && record.prev != prev.hash => {
                    // The line verifies on its own, so the one before it is
                    // what changed (rewritten with a fresh plain hash).
                    report.problem = Some(Problem {
                        file: prev.file.clone(),
                        line: prev.line,
                        kind: BreakKind::Edited,
                        detail: format!(
                            "seq {} was changed: the next record (seq {seq}) chains to another hash",
                            prev.seq
                        ),
                    });
                    return Ok(report);
                }
                Some(prev) if seq == prev.seq + 1 => None,
                Some(prev) if seq > prev.seq + 1 => {
                    let expected = prev.seq + 1;
                    let later = lines[index + 1..]
                        .iter()
                        .any(|l| read::parse_record(l.bytes).is_ok_and(|(r, _)| r.seq == expected));
                    if later {
                        Some((
                            BreakKind::Reordered,
                            format!("seq {seq} comes before seq {expected}"),
                        ))
                    } else {
                        Some((
                            BreakKind::Removed,
                            format!(
                                "seq {expected}..{} missing before this record (seq {seq})",
                                seq - 1
                            ),
                        ))
                    }
                }
                Some(prev) => {
                    Some((BreakKind::Reordered, format!("seq {seq} comes after seq {}", prev.seq)))
                }
            };
            if let Some((kind, detail)) = fault {
                report.problem = problem(kind, detail);
                return Ok(report);
            }
            report.records += 1;
            report.seq_range = Some((report.seq_range.map_or(seq, |(first, _)| first), seq));
            previous = Some(Previous { seq, hash, file: file.path.clone(), line: line.number });
        }
        if let (Some(offset), false) = (torn, sealed) {
            if let Some(seq) = recoveries.get(&(file_name.clone(), offset)) {
                report.notes.push(sealed_note(&file_name, offset, data, *seq));
                continue;
            }
            let is_last = std::ptr::eq(file, files.last().unwrap_or(file));
            let bytes = data.len() as u64 - offset;
            let (kind, detail) = if is_last {
                (
                    BreakKind::Torn,
                    format!(
                        "the last line is incomplete ({bytes} bytes, no newline): a write was cut \
                         off by a crash; courtesy seals it with a recovery record when it starts"
                    ),
                )
            } else {
                (
                    BreakKind::Truncated,
                    format!(
                        "the file ends in an incomplete line ({bytes} bytes) and the chain goes \
                         on in a later file without a recovery record"
                    ),
                )
            };
            report.problem =
                Some(Problem { file: file.path.clone(), line: lines.len() + 1, kind, detail });
            return Ok(report);
        }
    }
    Ok(report)
}

fn sealed_note(file: &str, offset: u64, data: &[u8], seq: u64) -> String {
    let bytes = data.len() as u64 - offset;
    format!(
        "{file}: {bytes} bytes after byte {offset} left by a crash; sealed by recovery record seq {seq}"
    )
}

/// Recovery records name the torn bytes they account for. The writer puts
/// them at the start of a new file (after the start record at most), so
/// only the first lines of each file need to be looked at.
fn recoveries(contents: &[Vec<u8>]) -> HashMap<(String, u64), u64> {
    let mut found = HashMap::new();
    for data in contents {
        for line in read::lines(data).0.iter().take(2) {
            if let Ok((record, _)) = read::parse_record(line.bytes)
                && let RecordBody::Recovery { file, intact_bytes, .. } = record.body
            {
                found.insert((file, intact_bytes), record.seq);
            }
        }
    }
    found
}

/// The algorithm to check with: the one the start record names, which must
/// agree with whether a key was given.
fn chain_algorithm(
    contents: &[Vec<u8>],
    options: &VerifyOptions,
) -> Result<Algorithm, (BreakKind, String)> {
    let named = contents
        .iter()
        .flat_map(|data| read::lines(data).0.into_iter().take(2).collect::<Vec<_>>())
        .filter_map(|line| read::parse_record(line.bytes).ok())
        .find_map(|(record, _)| match record.body {
            RecordBody::Start { alg } if record.seq == 0 => Some(alg),
            _ => None,
        });
    let keyed = options.key.is_some();
    match (named.as_deref(), &options.key) {
        (Some("hmac-sha256") | None, Some(key)) => Ok(key.clone()),
        (Some("hmac-sha256"), None) => Err((
            BreakKind::KeyNeeded,
            "the chain is keyed (hmac-sha256): pass the key file with --key".into(),
        )),
        (Some("sha256") | None, None) => Ok(Algorithm::Sha256),
        (Some(other), _) => Err((
            if keyed && other == "sha256" { BreakKind::WrongAlgorithm } else { BreakKind::Edited },
            format!(
                "the start record names algorithm {other:?}{}",
                if keyed {
                    " but a key was given: a keyed chain may have been replaced"
                } else {
                    ""
                }
            ),
        )),
    }
}
