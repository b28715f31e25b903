//! The Python verifier in docs/AUDIT.md agrees with courtesy: a third
//! party can check the chain from the documentation alone. Skips where
//! python3 is not installed.

mod audit_support;

use std::path::Path;
use std::process::Command;

use audit_support::*;

fn documented_verifier() -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/AUDIT.md"))
        .expect("docs/AUDIT.md");
    let start = doc.find("<!-- verify.py begin -->").expect("begin marker");
    let end = doc.find("<!-- verify.py end -->").expect("end marker");
    let block = &doc[start..end];
    let code_start = block.find("```python\n").expect("python block") + "```python\n".len();
    let code_end = block.rfind("```").expect("end of block");
    block[code_start..code_end].to_string()
}

fn python(script: &Path, dir: &Path, key: Option<&Path>) -> Option<String> {
    let mut command = Command::new("python3");
    command.arg(script).arg(dir).arg("relay");
    if let Some(key) = key {
        command.arg(key);
    }
    let output = command.output().ok()?;
    assert!(output.status.success(), "{output:?}");
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[test]
fn documented_python_verifier_checks_plain_and_keyed_chains() {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("verify.py");
    std::fs::write(&script, documented_verifier()).unwrap();
    let logs = work.path().join("audit");
    sample_log(&logs, &ManualClock::new());
    let Some(result) = python(&script, &logs, None) else {
        eprintln!("skipping: python3 is not installed");
        return;
    };
    assert_eq!(result, "intact up to seq 6");

    let file = &files(&logs)[0];
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, text.replacen("Team Incasso", "Team Incass0", 1)).unwrap();
    let result = python(&script, &logs, None).unwrap();
    assert!(result.ends_with("-1.jsonl:2: hash mismatch"), "{result}");

    let keyed = work.path().join("keyed");
    let key = work.path().join("audit.key");
    std::fs::write(&key, "9f1c0e7d8b2a4c6e8f0a1b3c5d7e9f11\n").unwrap();
    let mut config = config(&keyed);
    config.key_file = Some(key.clone());
    let log = courtesy::audit::AuditLog::open(&config, "relay").unwrap();
    record(&log, courtesy::engine::Disposition::Rewritten, &policy());
    drop(log);
    assert_eq!(python(&script, &keyed, Some(&key)).unwrap(), "intact up to seq 2");
    assert!(python(&script, &keyed, None).unwrap().ends_with(":1: hash mismatch"));
}
