//! The audit log on disk: what is written, and that `verify` finds every
//! kind of damage at the right file and line.

mod audit_support;

use std::path::{Path, PathBuf};

use audit_support::*;
use courtesy::audit::chain::Algorithm;
use courtesy::audit::read;
use courtesy::audit::record::{Record, RecordBody};
use courtesy::audit::verify::{BreakKind, ChainReport, VerifyOptions, verify_chain};
use courtesy::audit::{AuditLog, DiffMode};
use courtesy::engine::Disposition;
use proptest::prelude::*;

fn verify_dir(dir: &Path, key: Option<Algorithm>) -> Vec<ChainReport> {
    let groups = read::collect(&[dir.to_path_buf()]).unwrap();
    let options = VerifyOptions { key, partial: false };
    groups
        .iter()
        .map(|(instance, files)| verify_chain(instance, files, &options).unwrap())
        .collect()
}

fn single(dir: &Path) -> ChainReport {
    let mut reports = verify_dir(dir, None);
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

fn records(path: &Path) -> Vec<Record> {
    let data = std::fs::read(path).unwrap();
    read::lines(&data).0.iter().map(|l| read::parse_record(l.bytes).unwrap().0).collect()
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

fn problem_at(report: &ChainReport) -> (BreakKind, String, usize) {
    let p = report.problem.as_ref().expect("a problem");
    (p.kind, p.file.file_name().unwrap().to_string_lossy().into_owned(), p.line)
}

#[test]
fn every_auditable_outcome_gets_a_record_and_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let files = files(dir.path());
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0].file_name().unwrap().to_string_lossy(),
        "courtesy-relay-2026-11-23-1.jsonl"
    );
    let records = records(&files[0]);
    let kinds: Vec<&str> = records.iter().map(|r| r.body.kind()).collect();
    assert_eq!(kinds, ["start", "message", "verdict", "message", "verdict", "message", "verdict"]);
    assert!(matches!(&records[0].body, RecordBody::Start { alg } if alg == "sha256"));
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record.seq, i as u64);
        assert_eq!(record.instance, "relay");
    }
    assert_eq!(records[1].time, "2026-11-23T09:30:00Z");
    let RecordBody::Message(rewritten) = &records[1].body else { panic!("message") };
    assert_eq!(rewritten.disposition, "rewritten");
    assert_eq!(rewritten.message_id.as_deref(), Some("<m1@firm.example>"));
    assert_eq!(rewritten.rcpt_to, ["client@customer.example"]);
    assert_eq!(rewritten.sender.as_ref().unwrap().id, "incasso");
    assert_eq!(rewritten.rules, ["salutation", "team_signature"]);
    assert_eq!(rewritten.classification.signals[0].effect, "team_signature");
    assert_eq!(rewritten.policy.revision.as_deref(), Some("2026-11 rev 3"));
    assert_ne!(rewritten.sha256_before, rewritten.sha256_after);
    let diff = rewritten.changes[0].diff.as_deref().unwrap();
    assert!(diff.contains("+Dear Ms Jansen,\n"), "{diff}");
    assert!(diff.contains("-Team Incasso\n"), "{diff}");
    let RecordBody::Message(observed) = &records[3].body else { panic!("message") };
    assert_eq!(observed.disposition, "observed");
    assert_eq!(observed.sha256_before, observed.sha256_after, "observe forwards the original");
    assert!(observed.sha256_proposed.is_some());
    let RecordBody::Message(skipped) = &records[5].body else { panic!("message") };
    assert_eq!(skipped.disposition, "skipped");
    let skip = skipped.skip.as_ref().unwrap();
    assert_eq!(
        (skip.reason.as_str(), skip.detail.as_deref()),
        ("signed", Some("multipart/signed"))
    );
    assert!(skipped.changes.is_empty());
    assert!(matches!(records[6].body, RecordBody::Verdict { message_seq: 5, code: 250, .. }));
    let report = single(dir.path());
    assert_eq!(report.problem, None);
    assert_eq!(report.records, 7);
}

#[test]
fn diff_modes_fragments_and_none_keep_less_text() {
    for (mode, has_diff, has_fragments) in
        [(DiffMode::Fragments, false, true), (DiffMode::None, false, false)]
    {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path());
        config.diff = mode;
        let log = AuditLog::open(&config, "relay").unwrap();
        record(&log, Disposition::Rewritten, &policy());
        let records = records(&files(dir.path())[0]);
        let RecordBody::Message(m) = &records[1].body else { panic!("message") };
        let change = &m.changes[0];
        assert_eq!(change.diff.is_some(), has_diff);
        assert_eq!(change.inserted.is_some(), has_fragments);
        if has_fragments {
            assert_eq!(change.removed.as_deref().unwrap(), ["Team Incasso"]);
        }
        let raw = std::fs::read_to_string(&files(dir.path())[0]).unwrap();
        assert!(!raw.contains("We received your payment"), "{mode:?} keeps the context");
    }
}

#[test]
fn an_edited_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let file = &files(dir.path())[0];
    let mut lines = lines_of(file);
    lines[3] = lines[3].replace("client@customer.example", "other@customer.example");
    write_lines(file, &lines);
    let (kind, name, line) = problem_at(&single(dir.path()));
    assert_eq!(
        (kind, name.as_str(), line),
        (BreakKind::Edited, "courtesy-relay-2026-11-23-1.jsonl", 4)
    );
}

#[test]
fn an_edited_record_with_a_fresh_plain_hash_is_named() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let file = &files(dir.path())[0];
    let mut lines = lines_of(file);
    // Re-seal the edited line as a forger without a key would.
    let edited = lines[3].replace("client@customer.example", "other@customer.example");
    let (body, _) = courtesy::audit::chain::split(edited.as_bytes()).unwrap();
    let (line, _) = Algorithm::Sha256.seal(&body);
    lines[3] = String::from_utf8(line).unwrap().trim_end().to_string();
    write_lines(file, &lines);
    let (kind, _, line) = problem_at(&single(dir.path()));
    assert_eq!((kind, line), (BreakKind::Edited, 4));
}

#[test]
fn a_removed_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let file = &files(dir.path())[0];
    let mut lines = lines_of(file);
    lines.remove(2);
    write_lines(file, &lines);
    let report = single(dir.path());
    let (kind, _, line) = problem_at(&report);
    assert_eq!((kind, line), (BreakKind::Removed, 3));
    assert!(report.problem.unwrap().detail.contains("seq 2..2 missing"));
}

#[test]
fn a_reordered_pair_is_named() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let file = &files(dir.path())[0];
    let mut lines = lines_of(file);
    lines.swap(3, 4);
    write_lines(file, &lines);
    let (kind, _, line) = problem_at(&single(dir.path()));
    assert_eq!((kind, line), (BreakKind::Reordered, 4));
}

#[test]
fn a_file_cut_mid_line_is_reported_as_torn_not_tampered() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let file = &files(dir.path())[0];
    let data = std::fs::read(file).unwrap();
    std::fs::write(file, &data[..data.len() - 40]).unwrap();
    let report = single(dir.path());
    let (kind, _, line) = problem_at(&report);
    assert_eq!((kind, line), (BreakKind::Torn, 7));
    assert_eq!(report.records, 6);
}

#[test]
fn a_torn_tail_is_sealed_on_restart_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    sample_log(dir.path(), &clock);
    let file = files(dir.path())[0].clone();
    let data = std::fs::read(&file).unwrap();
    let cut = data.len() - 40;
    std::fs::write(&file, &data[..cut]).unwrap();

    let log =
        AuditLog::open_with_clock(&config(dir.path()), "relay", Box::new(clock.clone())).unwrap();
    record(&log, Disposition::Rewritten, &policy());
    drop(log);

    assert_eq!(std::fs::read(&file).unwrap().len(), cut, "the torn bytes stay as evidence");
    let second = &files(dir.path())[1];
    let records = records(second);
    let RecordBody::Recovery { file: torn, intact_bytes, discarded_bytes } = &records[0].body
    else {
        panic!("recovery first, got {:?}", records[0].body);
    };
    assert_eq!(torn, "courtesy-relay-2026-11-23-1.jsonl");
    let intact = data[..cut].iter().rposition(|b| *b == b'\n').unwrap() as u64 + 1;
    assert_eq!((*intact_bytes, *discarded_bytes), (intact, cut as u64 - intact));
    assert_eq!(records[0].seq, 6, "chains to the last intact record, seq 5");
    let report = single(dir.path());
    assert_eq!(report.problem, None, "{report:?}");
    assert_eq!(report.notes.len(), 1, "{report:?}");
    assert_eq!(report.records, 9);
}

#[test]
fn restart_appends_to_an_intact_newest_file() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    sample_log(dir.path(), &clock);
    let log =
        AuditLog::open_with_clock(&config(dir.path()), "relay", Box::new(clock.clone())).unwrap();
    assert_eq!(log.next_seq(), 7);
    record(&log, Disposition::Observed, &policy());
    assert_eq!(files(dir.path()).len(), 1);
    assert_eq!(single(dir.path()).records, 9);
}

#[test]
fn rotation_by_size_keeps_the_chain_and_a_cut_file_shows() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.rotate_bytes = 3000;
    let log = AuditLog::open(&config, "relay").unwrap();
    for _ in 0..6 {
        record(&log, Disposition::Rewritten, &policy());
    }
    let all = files(dir.path());
    assert!(all.len() >= 3, "{all:?}");
    for file in &all {
        let len = std::fs::metadata(file).unwrap().len();
        let lines = lines_of(file).len();
        assert!(len <= 3000 || lines == 1, "{} has {len} bytes", file.display());
    }
    assert_eq!(single(dir.path()).problem, None);

    // Dropping the last record of a middle file breaks the chain at the next file's first line.
    let middle = &all[1];
    let mut lines = lines_of(middle);
    lines.pop();
    write_lines(middle, &lines);
    let (kind, name, line) = problem_at(&single(dir.path()));
    assert_eq!(kind, BreakKind::Removed);
    assert_eq!((name.as_str(), line), (all[2].file_name().unwrap().to_str().unwrap(), 1));
}

#[test]
fn rotation_by_day_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let log =
        AuditLog::open_with_clock(&config(dir.path()), "relay", Box::new(clock.clone())).unwrap();
    record(&log, Disposition::Rewritten, &policy());
    clock.advance(time::Duration::hours(20));
    record(&log, Disposition::Skipped, &policy());
    clock.advance(time::Duration::days(2));
    record(&log, Disposition::Observed, &policy());
    let names: Vec<String> = files(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "courtesy-relay-2026-11-23-1.jsonl",
            "courtesy-relay-2026-11-24-1.jsonl",
            "courtesy-relay-2026-11-26-1.jsonl"
        ]
    );
    let next = records(&files(dir.path())[1]);
    let previous = lines_of(&files(dir.path())[0]);
    let last_hash = read::parse_record(previous.last().unwrap().as_bytes()).unwrap().1;
    assert_eq!(next[0].prev, last_hash, "a new file chains to the last record of the previous");
    let report = single(dir.path());
    assert_eq!((report.problem, report.records, report.files), (None, 7, 3));
}

#[test]
fn hmac_chain_needs_the_right_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("audit.key");
    std::fs::write(&key, "9f1c0e7d8b2a4c6e8f0a1b3c5d7e9f11\n").unwrap();
    let wrong = keys.path().join("wrong.key");
    std::fs::write(&wrong, "0000000000000000000000000000000000\n").unwrap();
    let mut config = config(dir.path());
    config.key_file = Some(key.clone());
    let log = AuditLog::open(&config, "relay").unwrap();
    record(&log, Disposition::Rewritten, &policy());
    drop(log);

    let alg = |p: &PathBuf| Some(Algorithm::from_key_file(p).unwrap());
    let good = verify_dir(dir.path(), alg(&key)).remove(0);
    assert_eq!((good.problem, good.alg.as_str()), (None, "hmac-sha256"));
    let bad = verify_dir(dir.path(), alg(&wrong)).remove(0);
    assert_eq!(problem_at(&bad).0, BreakKind::WrongKey);
    let none = verify_dir(dir.path(), None).remove(0);
    assert_eq!(problem_at(&none).0, BreakKind::KeyNeeded);

    // Reopening with another key must not quietly start a second chain.
    config.key_file = Some(wrong);
    assert!(AuditLog::open(&config, "relay").is_err());
}

#[test]
fn a_plain_chain_fails_when_a_key_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("k");
    std::fs::write(&key, "9f1c0e7d8b2a4c6e8f0a1b3c5d7e9f11").unwrap();
    let report = verify_dir(dir.path(), Some(Algorithm::from_key_file(&key).unwrap())).remove(0);
    assert_eq!(problem_at(&report).0, BreakKind::WrongAlgorithm);
}

#[test]
fn two_instances_in_one_directory_verify_independently() {
    let dir = tempfile::tempdir().unwrap();
    let a = AuditLog::open(&config(dir.path()), "relay-a").unwrap();
    let b = AuditLog::open(&config(dir.path()), "milter").unwrap();
    for _ in 0..3 {
        record(&a, Disposition::Rewritten, &policy());
        record(&b, Disposition::Observed, &policy());
    }
    drop((a, b));
    let reports = verify_dir(dir.path(), None);
    let summary: Vec<(&str, u64, bool)> =
        reports.iter().map(|r| (r.instance.as_str(), r.records, r.problem.is_none())).collect();
    assert_eq!(summary, [("milter", 7, true), ("relay-a", 7, true)]);

    let milter = files(dir.path()).into_iter().find(|p| p.to_string_lossy().contains("milter"));
    let milter = milter.unwrap();
    let mut lines = lines_of(&milter);
    lines.remove(5);
    write_lines(&milter, &lines);
    let reports = verify_dir(dir.path(), None);
    assert_eq!(problem_at(&reports[0]).0, BreakKind::Removed);
    assert_eq!(reports[1].problem, None, "the other chain is unaffected");
}

#[test]
fn concurrent_writers_keep_one_gapless_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::sync::Arc::new(AuditLog::open(&config(dir.path()), "relay").unwrap());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let log = log.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    record(&log, Disposition::Rewritten, &policy());
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let report = single(dir.path());
    assert_eq!((report.problem, report.records), (None, 81));
}

#[test]
fn bad_instance_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(AuditLog::open(&config(dir.path()), "../escape").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any single changed byte anywhere in the log is caught.
    #[test]
    fn any_one_byte_change_is_detected(position in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let dir = tempfile::tempdir().unwrap();
        sample_log(dir.path(), &ManualClock::new());
        let file = &files(dir.path())[0];
        let mut data = std::fs::read(file).unwrap();
        let at = position.index(data.len());
        data[at] = data[at].wrapping_add(delta);
        std::fs::write(file, &data).unwrap();
        let report = single(dir.path());
        prop_assert!(report.problem.is_some(), "byte {} changed by {}: {:?}", at, delta, report);
    }
}
