//! `courtesy audit verify|show|report` as an administrator runs them.

mod audit_support;

use std::path::Path;
use std::process::{Command, Output};

use audit_support::*;

fn courtesy(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courtesy"))
        .arg("audit")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run courtesy")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn verify_exit_codes_say_intact_broken_or_usage() {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("audit");
    sample_log(&log_dir, &ManualClock::new());

    // Default path is ./audit.
    let ok = courtesy(&["verify"], dir.path());
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(stdout(&ok).contains("relay: intact: 7 records (seq 0..6) in 1 file(s), sha256"));

    let file = &files(&log_dir)[0];
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, text.replacen("\"code\":250", "\"code\":550", 1)).unwrap();
    let broken = courtesy(&["verify", log_dir.to_str().unwrap()], dir.path());
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    let out = stdout(&broken);
    assert!(out.contains("courtesy-relay-2026-11-23-1.jsonl:3: edited record"), "{out}");

    let missing = courtesy(&["verify", "no-such-dir"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    let bad_flag = courtesy(&["verify", "--no-such-flag"], dir.path());
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn show_lists_and_filters_messages() {
    let dir = tempfile::tempdir().unwrap();
    sample_log(dir.path(), &ManualClock::new());
    let path = dir.path().to_str().unwrap();

    let all = courtesy(&["show", path], dir.path());
    assert_eq!(all.status.code(), Some(0), "{all:?}");
    let lines: Vec<String> = stdout(&all).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0],
        "2026-11-23T09:30:00Z  incasso@firm.example  team:incasso  salutation,team_signature  \
         rewritten  250 2.0.0 Ok: queued as 4XyZ"
    );
    assert!(lines[2].contains("skipped(signed)"), "{}", lines[2]);

    let by_rule = courtesy(&["show", "--rule", "salutation", path], dir.path());
    assert_eq!(stdout(&by_rule).lines().count(), 2);
    let by_time = courtesy(&["show", "--since", "2026-11-23T09:40:00Z", path], dir.path());
    assert_eq!(stdout(&by_time).lines().count(), 1);
    let by_sender = courtesy(&["show", "--sender", "nobody", path], dir.path());
    assert_eq!(stdout(&by_sender).lines().count(), 0);

    let json = courtesy(&["show", "--json", "--until", "2026-11-23T09:31:00Z", path], dir.path());
    let records: Vec<serde_json::Value> =
        stdout(&json).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 2, "message and its verdict");
    assert_eq!(records[0]["kind"], "message");
    assert_eq!(records[1]["kind"], "verdict");
    assert_eq!(records[1]["message_seq"], records[0]["seq"]);
    assert!(records[0]["hash"].is_string());

    let bad_time = courtesy(&["show", "--since", "last week", path], dir.path());
    assert_eq!(bad_time.status.code(), Some(2));
}

#[test]
fn report_writes_html_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    sample_log(&logs, &ManualClock::new());
    let html = dir.path().join("report.html");
    let csv = dir.path().join("report.csv");
    let out = courtesy(
        &[
            "report",
            "--html",
            html.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            logs.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script"), "no scripts");
    assert!(!page.contains("http://") && !page.contains("https://"), "no external assets");
    assert!(page.contains("Team Incasso (team incasso)"));
    assert!(page.contains("<span class=\"ch\">Dear Ms Jansen,</span>"), "highlighted insertion");
    assert!(page.contains("&lt;m1@firm.example&gt;"), "Message-ID is escaped");

    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][column("disposition")], "rewritten");
    assert_eq!(&rows[0][column("rules")], "salutation;team_signature");
    assert_eq!(&rows[2][column("skip_reason")], "signed");
    assert_eq!(&rows[1][column("verdict_code")], "250");

    let neither = courtesy(&["report", logs.to_str().unwrap()], dir.path());
    assert_eq!(neither.status.code(), Some(2), "an output is required");
}
