//! `courtesy directory show` end to end, with a CSV source (no server needed).

use std::path::Path;
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/directory");

fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let config = dir.join("courtesy.yaml");
    std::fs::write(
        &config,
        format!(
            "# other sections belong to the service and are ignored here\nrelay:\n  listen: 127.0.0.1:2525\ndirectory:\n  state_dir: {}\n  sources:\n    - kind: csv\n      file: {FIXTURES}/ad-export.csv\n",
            dir.join("state").display()
        ),
    )
    .expect("config");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\npeople:\n  - id: jdevries\n    mobile: \"+31 6 1111 2222\"\n    substitute: famrani\n  - id: gone\n    phone: \"+31 20 000 0000\"\n",
    )
    .expect("policy");
    (config, policy)
}

fn courtesy(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_courtesy")).args(args).output().expect("runs")
}

#[test]
fn show_json_gives_provenance_per_field_and_issues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, policy) = setup(dir.path());
    let out = courtesy(&[
        "directory".as_ref(),
        "show".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--policy".as_ref(),
        policy.as_os_str(),
        "--json".as_ref(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["live"], true);
    let people = value["people"].as_array().expect("people");
    assert_eq!(people.len(), 3);
    let jan = people.iter().find(|p| p["id"] == "jdevries").expect("jan");
    let csv_label = format!("directory:csv:{FIXTURES}/ad-export.csv");
    assert_eq!(jan["name"]["from"], csv_label.as_str());
    assert_eq!(jan["phone"]["from"], csv_label.as_str());
    assert_eq!(jan["mobile"], serde_json::json!({"value": "+31 6 1111 2222", "from": "policy"}));
    assert_eq!(jan["substitute"]["value"], "famrani");
    let issues = value["issues"].as_array().expect("issues");
    assert!(
        issues.iter().any(|i| i["kind"] == "missing_from_directory" && i["id"] == "gone"),
        "{issues:?}"
    );
    assert!(
        value["source_warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("svc-scan")))
    );
    // Looking must not write the service's state.
    assert!(!dir.path().join("state").exists());
}

#[test]
fn show_text_lists_fields_with_their_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, policy) = setup(dir.path());
    let out = courtesy(&[
        "directory".as_ref(),
        "show".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--policy".as_ref(),
        policy.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("3 people (read now"), "{text}");
    let mobile = text.lines().find(|l| l.contains("+31 6 1111 2222")).expect("mobile line");
    assert!(
        mobile.trim_start().starts_with("mobile") && mobile.trim_end().ends_with("policy"),
        "{mobile}"
    );
    assert!(text.contains("gone is not in the directory"), "{text}");
}

#[test]
fn cached_without_snapshot_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, _) = setup(dir.path());
    let out = courtesy(&[
        "directory".as_ref(),
        "show".as_ref(),
        "--cached".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no saved snapshot"), "{err}");
}
