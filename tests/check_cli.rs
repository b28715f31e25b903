//! `courtesy check` as a user runs it: the real binary on real files,
//! asserting exit codes and what is printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courtesy"))
        .arg("check")
        .args(files)
        .current_dir(root())
        .output()
        .expect("run courtesy")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The snapshot a shipped policy is checked against, as CI does: a policy
/// whose people come from the directory has `NAME.snapshot.json` beside it.
fn shipped_snapshot(policy: &Path) -> Option<PathBuf> {
    let snapshot = policy.with_extension("snapshot.json");
    root().join(&snapshot).is_file().then_some(snapshot)
}

#[test]
fn every_shipped_policy_passes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "policies/ should hold the example policies");
    let relative: Vec<PathBuf> =
        files.iter().map(|p| p.strip_prefix(root()).unwrap().to_owned()).collect();
    let (with_directory, plain): (Vec<&PathBuf>, Vec<&PathBuf>) =
        relative.iter().partition(|p| shipped_snapshot(p).is_some());
    assert!(
        with_directory.iter().any(|p| p.ends_with("directory-example.yaml")),
        "the directory example is checked against its snapshot"
    );
    let refs: Vec<&Path> = plain.iter().map(|p| p.as_path()).collect();
    let out = check(&refs);
    let mut text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for policy in with_directory {
        let snapshot = shipped_snapshot(policy).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_courtesy"))
            .arg("check")
            .arg("--directory-snapshot")
            .arg(&snapshot)
            .arg(policy)
            .current_dir(root())
            .output()
            .expect("run courtesy");
        let checked = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{checked}");
        assert!(
            checked.starts_with(&format!("directory: snapshot {}, taken ", snapshot.display())),
            "{checked}"
        );
        text.push_str(&checked);
    }
    assert!(
        text.contains("policies/example.yaml: ok (12 people, 3 teams, 2 dossiers)\n"),
        "{text}"
    );
    for f in &relative {
        assert!(text.contains(&format!("{}: ok (", f.display())), "{text}");
    }
    assert!(!text.contains("warning"), "shipped policies should have no warnings:\n{text}");
}

#[test]
fn errors_are_shown_with_source_line_caret_and_hint() {
    let out = check(&[Path::new("tests/policies/broken.yaml")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let expected = "\
tests/policies/broken.yaml:11:17: error: substitute `nadja` is not the id of a person
   |
11 |     substitute: nadja
   |                 ^^^^^
  help: did you mean `nadia`?

tests/policies/broken.yaml:14:12: error: address `maarten@hoekstra-advies.nl` is already used by person `maarten`
   |
14 |     email: maarten@hoekstra-advies.nl
   |            ^^^^^^^^^^^^^^^^^^^^^^^^^^
  help: see line 9; each address may belong to one person or team

tests/policies/broken.yaml: invalid (2 errors)
";
    assert_eq!(text, expected);
}

#[test]
fn unknown_key_gets_a_did_you_mean() {
    let out = check(&[Path::new("tests/policies/typo.yaml")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("tests/policies/typo.yaml:4:3: error: unknown key `domians`\n"),
        "{text}"
    );
    assert!(text.contains("  help: did you mean `domains`?"), "{text}");
}

#[test]
fn warnings_alone_still_pass() {
    let out = check(&[Path::new("tests/policies/warnings.yaml")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("warning: person `maarten` has no `substitute`"), "{text}");
    assert!(
        text.ends_with(
            "tests/policies/warnings.yaml: ok with 3 warnings (1 person, 0 teams, 0 dossiers)\n"
        ),
        "{text}"
    );
}

#[test]
fn unreadable_file_exits_2_and_other_files_are_still_checked() {
    let out = check(&[
        Path::new("tests/policies/does-not-exist.yaml"),
        Path::new("tests/policies/broken.yaml"),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.starts_with("tests/policies/does-not-exist.yaml: error: cannot read file:"),
        "{text}"
    );
    assert!(text.contains("tests/policies/broken.yaml: invalid (2 errors)"), "{text}");
}

#[test]
fn no_files_is_a_usage_error() {
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FILE"));
}
