//! Replays every input a fuzz target once crashed on (fuzz/regressions/<target>/)
//! through the same entry point the target uses, so a fixed crash stays fixed.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy::{self, Policy};

static POLICY: LazyLock<Policy> = LazyLock::new(|| policy::example().policy);

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

/// Runs `f` on each input, naming the file that fails.
fn replay(target: &str, f: impl Fn(&[u8])) -> usize {
    let all = inputs(target);
    for (path, data) in &all {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(data))).is_err() {
            panic!("{} panics again", path.display());
        }
    }
    all.len()
}

#[test]
fn engine_regressions() {
    let n = replay("engine", |data| {
        let envelope = Envelope::new("maarten@hoekstra-advies.nl", ["piet@bakkerij-degroot.nl"]);
        let outcome = engine::process(data, &envelope, &POLICY, &EngineOptions::default());
        if outcome.disposition == Disposition::Rewritten {
            let output = outcome.output(data);
            assert!(mail_parser::MessageParser::default().parse(output).is_some());
        } else {
            assert_eq!(outcome.output(data), data);
        }
    });
    assert!(n > 0, "the engine has known crashers to replay");
}

#[test]
fn policy_load_regressions() {
    replay("policy_load", |data| {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = courtesy::policy::load_str(text, "fuzz.yaml");
        }
    });
}

#[test]
fn smtp_session_regressions() {
    replay("smtp_session", courtesy::smtp::fuzzing::session);
}

#[test]
fn milter_frame_regressions() {
    replay("milter_frame", courtesy::milter::fuzzing::frames);
}

#[test]
fn html_scan_regressions() {
    replay("html_scan", courtesy::rewrite::fuzzing::html_scan);
}
