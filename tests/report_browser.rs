//! Renders the compliance report in headless Chromium: the page must load
//! as a real browser sees it, show the totals, and keep hostile text inert.
//! Skips (with a message) where Chromium is not installed; CI installs it.

mod audit_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use audit_support::*;
use courtesy::audit::report;
use courtesy::audit::{AuditLog, AuditSink, MessageEntry, Verdict, query, read};
use courtesy::engine::Disposition;

const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs the browser with a deadline, so a hung browser fails the test
/// instead of hanging it.
fn run_bounded(mut command: Command) -> Output {
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            return child.wait_with_output().expect("chromium output");
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let output = child.wait_with_output().expect("chromium output");
            panic!("chromium did not finish in {BROWSER_TIMEOUT:?}: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn browser(chromium: &Path, profile: &Path, extra: &[String], url: &str) -> Output {
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command.args(extra).arg(url);
    run_bounded(command)
}

/// A log with four messages on two days, one of them with hostile text.
fn write_log(dir: &Path) {
    let clock = ManualClock::new();
    sample_log(dir, &clock);
    clock.advance(time::Duration::days(1));
    let log = AuditLog::open_with_clock(&config(dir), "relay", Box::new(clock.clone())).unwrap();
    let mut outcome = outcome(Disposition::Rewritten);
    outcome.rules.push("phrase:urgent".into());
    let envelope = courtesy::envelope::Envelope::new(
        "anna@firm.example",
        ["<script>alert(1)</script>@customer.example"],
    );
    let policy = policy();
    let entry = MessageEntry {
        message_id: Some("<x\"><script>alert('id')</script>@evil>"),
        envelope: &envelope,
        outcome: &outcome,
        original: ORIGINAL,
        policy: &policy,
        dkim: None,
    };
    let seq = log.record_message(&entry).unwrap();
    log.record_verdict(seq, &Verdict { code: 451, text: "4.3.0 upstream busy".into() }).unwrap();
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!("skipping report_renders_in_headless_chromium: chromium is not installed");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let logs = work.path().join("audit");
    write_log(&logs);
    let groups = read::collect(&[logs]).unwrap();
    let loaded = query::load(&groups).unwrap();
    assert_eq!(loaded.messages.len(), 4);
    let data = report::build(&loaded.messages, "all records", "2026-11-25T08:00:00Z");
    let html = report::render_html(&data).unwrap();

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let page = artifacts.join("audit-report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());

    let shot = artifacts.join("audit-report.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    let output = browser(
        &chromium,
        profile.path(),
        &[format!("--screenshot={}", shot.display()), "--window-size=1280,2000".into()],
        &url,
    );
    assert!(output.status.success(), "chromium failed: {output:?}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 20_000, "screenshot suspiciously small: {} bytes", png.len());

    let profile = tempfile::tempdir().unwrap();
    let dom = browser(&chromium, profile.path(), &["--dump-dom".into()], &url);
    assert!(dom.status.success(), "chromium failed: {dom:?}");
    let dom = String::from_utf8_lossy(&dom.stdout);
    std::fs::write(artifacts.join("audit-report.dom.html"), dom.as_bytes()).unwrap();
    for expected in [
        r#"<div class="card" id="total-messages"><b>4</b>messages</div>"#,
        r#"<div class="card" id="total-rewritten"><b>2</b>rewritten</div>"#,
        r#"<div class="card" id="total-observed"><b>1</b>observed (not changed)</div>"#,
        r#"<div class="card" id="total-skipped"><b>1</b>skipped</div>"#,
        r#"<tr><td>2026-11-23</td><td class="n">3</td><td class="n">1</td><td class="n">1</td><td class="n">1</td></tr>"#,
        r#"<tr><td>2026-11-24</td><td class="n">1</td><td class="n">1</td><td class="n">0</td><td class="n">0</td></tr>"#,
        r#"<tr><td>phrase:urgent</td><td class="n">1</td>"#,
        r#"<tr><td>salutation</td><td class="n">3</td><td class="n">2</td><td class="n">1</td>"#,
        "451 4.3.0 upstream busy",
    ] {
        assert!(dom.contains(expected), "DOM lacks {expected}");
    }
    assert!(!dom.contains("<script"), "hostile text became markup");
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;@customer.example"));
    eprintln!("screenshot: {} ({} bytes)", shot.display(), png.len());
}
