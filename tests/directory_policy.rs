//! The directory's people in the policy, end to end against a real
//! OpenLDAP server: the merged people, a policy field winning over the
//! directory, `courtesy check` failing at the reference to someone who left,
//! and replies still rewritten with the last snapshot while the directory
//! is down and after a restart.

mod directory_support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use courtesy::directory::ldap::LdapSource;
use courtesy::directory::{Refresher, Snapshot};
use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy::{self, Policy};
use directory_support::{Slapd, timeout};

const POLICY: &str = "\
version: 1
organisation:
  name: Bakker & de Vries Advocaten
  domains: [firm.test]
  phone: \"+31 20 555 0100\"
people:
  - id: jdevries
    phone: \"+31 20 555 0199\"
    substitute: famrani
teams:
  - id: incasso
    name: Team Incasso
    addresses: [incasso@firm.test]
    members: [jdevries, famrani]
dossiers:
  - customers: [\"@grootklant.nl\"]
    handler: kbakker
";

const OUT_OF_OFFICE: &str = "\
From: Jan de Vries <jan.devries@firm.test>
To: Piet de Groot <piet@klant.nl>
Subject: Automatisch antwoord: Jaarstukken
Auto-Submitted: auto-replied
Date: Mon, 17 Nov 2025 08:30:00 +0100
Message-ID: <oof-directory-1@firm.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Ik ben afwezig tot 1 december.

Met vriendelijke groet,
Jan de Vries
";

/// Where `needle` stands in the policy text, 1-based, as the loader reports it.
fn position_of(needle: &str) -> (usize, usize) {
    POLICY
        .lines()
        .enumerate()
        .find_map(|(i, line)| line.find(needle).map(|c| (i + 1, c + 1)))
        .expect("needle in the policy")
}

fn refresher(server: &Slapd, state: &Path) -> Refresher {
    Refresher::new(
        vec![Box::new(LdapSource::new(server.source_config(50), timeout()))],
        timeout(),
        Duration::from_secs(60),
        state.to_path_buf(),
    )
}

/// The service configuration an admin would write for this server.
fn service_config(server: &Slapd, policy: &Path, state: &Path) -> String {
    let source = server.source_config(50);
    format!(
        "policy: {}\ndirectory:\n  state_dir: {}\n  sources:\n    - kind: ldap\n      url: {}\n      bind_dn: \"{}\"\n      password_file: {}\n      base_dn: \"{}\"\n      filter: \"{}\"\n      page_size: 50\n",
        policy.display(),
        state.display(),
        source.url,
        source.bind_dn.expect("bind dn"),
        source.password_file.expect("password file").display(),
        source.base_dn,
        source.filter.expect("filter"),
    )
}

fn check(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courtesy")).arg("check").args(args).output().expect("run")
}

/// Rewrites the out-of-office with `policy`; the text that goes out.
fn rewrite(policy: &Policy) -> String {
    let raw = OUT_OF_OFFICE.replace('\n', "\r\n").into_bytes();
    let envelope = Envelope::new("jan.devries@firm.test", ["piet@klant.nl"]);
    let outcome = engine::process(&raw, &envelope, policy, &EngineOptions::default());
    assert_eq!(outcome.disposition, Disposition::Rewritten, "{:?}", outcome.classification);
    String::from_utf8_lossy(outcome.output(&raw)).into_owned()
}

#[tokio::test]
async fn directory_people_feed_the_policy_and_someone_leaving_fails_the_check() {
    let Some(server) = Slapd::start() else { return };
    let files = tempfile::tempdir().expect("tempdir");
    let state = files.path().join("state");
    let policy_path = files.path().join("policy.yaml");
    std::fs::write(&policy_path, POLICY).expect("policy");
    let config_path = files.path().join("courtesy.yaml");
    std::fs::write(&config_path, service_config(&server, &policy_path, &state)).expect("config");

    let refresher = refresher(&server, &state);
    let first = refresher.refresh().await.expect("refresh");
    let loaded = policy::load_file_with(&policy_path, Some(&first)).expect("valid");
    let p = &loaded.policy;
    let jan = &p.people[p.person_by_id("jdevries").expect("jan")];
    assert_eq!(jan.name, "Jan de Vries", "from the directory");
    assert_eq!(jan.email, "jan.devries@firm.test", "from the directory");
    assert!(jan.aliases.contains(&"jdv@firm.test".to_string()), "{:?}", jan.aliases);
    assert_eq!(jan.phone.as_deref(), Some("+31 20 555 0199"), "the policy's phone wins");
    let fatima = &p.people[jan.substitute.expect("substitute")];
    assert_eq!(
        (fatima.name.as_str(), fatima.mobile.as_deref()),
        ("Fatima el Amrani", Some("+31 6 5550 0202"))
    );
    assert_eq!(p.people[p.dossiers[0].handler].name, "Kees Bakker");
    assert!(p.people.len() > 100, "every directory person is known: {}", p.people.len());

    // The saved snapshot is what `check --config` uses: no live read.
    let out = check(&[Path::new("--config"), &config_path]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("{}: ok (", policy_path.display())), "{text}");

    server.delete("cn=Kees Bakker,ou=people,dc=firm,dc=test").await;
    let second = refresher.refresh().await.expect("refresh after the delete");
    let (line, column) = position_of("kbakker");
    let errors = policy::load_file_with(&policy_path, Some(&second)).expect_err("kbakker left");
    let e = errors.errors().next().expect("an error");
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (line, column, "handler `kbakker` is neither in this file nor in the directory")
    );
    assert_eq!(errors.errors().count(), 1, "{errors}");

    let out = check(&[Path::new("--config"), &config_path, &policy_path]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let expected = format!(
        "{}:{line}:{column}: error: handler `kbakker` is neither in this file nor in the directory\n",
        policy_path.display()
    );
    assert!(text.contains(&expected), "{text}");
}

#[tokio::test]
async fn replies_keep_the_last_snapshot_while_the_directory_is_down_and_after_a_restart() {
    let Some(server) = Slapd::start() else { return };
    let state = tempfile::tempdir().expect("tempdir");
    let live = refresher(&server, state.path());
    live.refresh().await.expect("refresh");
    let build = |snapshot: &Snapshot| {
        policy::load_str_with(POLICY, "policy.yaml", Some(snapshot)).expect("valid").policy
    };
    let before = rewrite(&build(&live.current().expect("snapshot")));
    assert!(before.contains("Fatima el Amrani"), "{before}");
    assert!(
        before.contains("+31 6 5550 0202"),
        "the substitute's mobile from the directory:\n{before}"
    );

    drop(server);
    let failed = live.refresh().await.expect_err("the server is gone");
    assert!(!failed.to_string().is_empty());
    assert_eq!(live.status().consecutive_failures, 1);
    let during = rewrite(&build(&live.current().expect("the last good snapshot stays")));
    assert_eq!(during, before, "the outage changes nothing");

    // A restart while the directory is still down: the saved snapshot.
    let restarted =
        Refresher::new(Vec::new(), timeout(), Duration::from_secs(60), state.path().into());
    let saved = restarted.load_saved().expect("readable").expect("saved");
    assert_eq!(rewrite(&build(&saved)), before);
}

#[test]
fn an_away_reply_from_a_directory_person_names_the_substitute_with_the_directory_number() {
    // Neither Jan nor Fatima has a name, address or number in the file:
    // the entry only says who stands in for Jan.
    let snapshot: Snapshot = serde_json::from_str(
        r#"{"taken_at": "2026-11-23T09:15:02Z", "people": [
            {"id": "jdevries", "name": "Jan de Vries", "email": "jan.devries@firm.test",
             "phone": "+31 20 555 0101", "source": "directory:ldap"},
            {"id": "famrani", "name": "Fatima el Amrani", "email": "fatima.elamrani@firm.test",
             "mobile": "+31 6 5550 0202", "source": "directory:csv:people.csv"}]}"#,
    )
    .expect("snapshot");
    let text = "version: 1\norganisation:\n  name: Firm\n  domains: [firm.test]\n  phone: \"+31 20 555 0100\"\npeople:\n  - id: jdevries\n    substitute: famrani\n";
    let loaded = policy::load_str_with(text, "policy.yaml", Some(&snapshot)).expect("valid");
    let out = rewrite(&loaded.policy);
    assert!(out.contains("Fatima el Amrani"), "{out}");
    assert!(out.contains("+31 6 5550 0202"), "{out}");
    assert!(!out.contains("+31 20 555 0100"), "the organisation's number is not needed:\n{out}");
}
