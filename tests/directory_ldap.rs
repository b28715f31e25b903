//! The directory against a real OpenLDAP server: paged results over more
//! entries than the server's size limit, Active Directory attribute
//! mapping, the merge with a policy, a person leaving, and an outage.
//!
//! Each test starts its own `slapd` on 127.0.0.1 with a throw-away
//! configuration and database, and kills it at the end. Without slapd
//! installed (Debian: `apt-get install slapd ldap-utils`) the tests print
//! why and pass without checking anything.

mod directory_support;

use std::time::Duration;

use courtesy::directory::config::{FieldMap, LdapConfig, Names};
use courtesy::directory::ldap::LdapSource;
use courtesy::directory::{
    MergeIssue, PolicyPersonInput, Provenance, Refresher, Source, SourceError, merge,
};
use directory_support::{BULK_PEOPLE, Slapd, timeout};

#[tokio::test]
async fn paged_search_maps_active_directory_attributes_and_merges_with_policy() {
    let Some(server) = Slapd::start() else { return };
    let source = LdapSource::new(server.source_config(50), timeout());
    let data = tokio::time::timeout(Duration::from_secs(30), source.fetch())
        .await
        .expect("bounded")
        .expect("fetch");

    // 120 generated + Jan, Fatima, Kees; the entry without mail is left out with a reason.
    assert_eq!(data.people.len(), BULK_PEOPLE + 3);
    assert_eq!(data.warnings.len(), 1, "{:?}", data.warnings);
    assert!(data.warnings[0].contains("cn=Shared Mailbox"), "{:?}", data.warnings);
    let jan = data.people.iter().find(|p| p.id == "jdevries").expect("jan");
    assert_eq!(jan.name, "Jan de Vries");
    assert_eq!(jan.email, "jan.devries@firm.test");
    assert_eq!(jan.aliases, vec!["incasso-jan@firm.test", "jdv@firm.test"]);
    assert_eq!(jan.phone.as_deref(), Some("+31 20 555 0101"));
    assert_eq!(jan.department.as_deref(), Some("Incasso"));
    assert_eq!(jan.source, "directory:ldap");

    // Without paging the server's size limit (100) cuts the search off:
    // this is why paging is on by default.
    let unpaged = LdapSource::new(server.source_config(0), timeout());
    match unpaged.fetch().await {
        Err(SourceError::Ldap { message, .. }) => assert!(message.contains("rc=4"), "{message}"),
        other => panic!("expected a size-limit error, got {other:?}"),
    }

    // The refresher, a policy override, and a person who leaves.
    let state = tempfile::tempdir().expect("state dir");
    let refresher = Refresher::new(
        vec![Box::new(source)],
        timeout(),
        Duration::from_secs(60),
        state.path().into(),
    );
    let first = refresher.refresh().await.expect("refresh");
    let policy = vec![
        PolicyPersonInput {
            id: "jdevries".into(),
            mobile: Some("+31 6 1111 2222".into()),
            substitute: Some("famrani".into()),
            ..PolicyPersonInput::default()
        },
        PolicyPersonInput {
            id: "kbakker".into(),
            phone: Some("+31 20 555 9999".into()),
            ..PolicyPersonInput::default()
        },
    ];
    let merged = merge(&first, &policy);
    assert_eq!(merged.people.len(), BULK_PEOPLE + 3);
    let jan = &merged.people[merged.resolve("jdevries").expect("jan")];
    assert_eq!(
        jan.mobile.as_ref().map(|m| (m.value.as_str(), &m.from)),
        Some(("+31 6 1111 2222", &Provenance::Policy))
    );
    assert_eq!(jan.phone.as_ref().map(|m| m.from.to_string()).as_deref(), Some("directory:ldap"));
    assert_eq!(merged.by_address("JDV@firm.test"), merged.resolve("jdevries"));
    let kees = &merged.people[merged.resolve("kbakker").expect("kees")];
    assert_eq!(
        kees.phone.as_ref().map(|p| (p.value.as_str(), &p.from)),
        Some(("+31 20 555 9999", &Provenance::Policy))
    );
    let (people, dangling) = merged.to_people();
    assert!(dangling.is_empty());
    assert_eq!(
        people[merged.resolve("jdevries").expect("jan")].substitute,
        merged.resolve("famrani")
    );
    assert!(!merged.issues.iter().any(|i| matches!(i, MergeIssue::MissingFromDirectory { .. })));

    server.delete("cn=Kees Bakker,ou=people,dc=firm,dc=test").await;
    let second = refresher.refresh().await.expect("refresh after delete");
    assert_eq!(first.diff(&second).removed, vec!["kbakker"]);
    let merged = merge(&second, &policy);
    assert!(merged.resolve("kbakker").is_none());
    assert!(
        merged.issues.contains(&MergeIssue::MissingFromDirectory { id: "kbakker".into() }),
        "{:?}",
        merged.issues
    );
}

#[tokio::test]
async fn outage_keeps_last_snapshot_and_a_restart_loads_it_from_disk() {
    let Some(server) = Slapd::start() else { return };
    let state = tempfile::tempdir().expect("state dir");
    let mut config = server.source_config(50);
    // The server's folder goes with it; the password must outlive it.
    let password_file = state.path().join("bind-password");
    std::fs::copy(config.password_file.as_ref().expect("set"), &password_file).expect("copy");
    config.password_file = Some(password_file);
    let make = |config: &LdapConfig| {
        Refresher::new(
            vec![Box::new(LdapSource::new(config.clone(), Duration::from_secs(3)))],
            Duration::from_secs(5),
            Duration::from_secs(60),
            state.path().into(),
        )
    };
    let running = make(&config);
    running.refresh().await.expect("directory up");
    let before = running.current().expect("snapshot");

    drop(server); // the directory goes down
    let err = running.refresh().await.expect_err("directory down");
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert_eq!(running.current().expect("kept").people, before.people);
    let status = running.status();
    assert_eq!(status.consecutive_failures, 1);
    assert!(status.last_error.is_some());
    assert_eq!(status.people, BULK_PEOPLE + 3);

    // Restart while the directory is still down.
    let restarted = make(&config);
    restarted.load_saved().expect("readable").expect("saved snapshot");
    restarted.refresh().await.expect_err("still down");
    let loaded = restarted.current().expect("from disk");
    assert_eq!(loaded.people, before.people);
    assert_eq!(loaded.taken_at, before.taken_at);
    let merged = merge(&loaded, &[]);
    assert!(merged.resolve("jdevries").is_some());
}

#[tokio::test]
async fn wrong_password_is_a_clear_error() {
    let Some(server) = Slapd::start() else { return };
    let config = server.source_config(50);
    std::fs::write(config.password_file.as_ref().expect("set"), "wrong\n").expect("write");
    let err = LdapSource::new(config, timeout()).fetch().await.expect_err("bind fails");
    let message = err.to_string();
    assert!(message.contains("bind as cn=courtesy"), "{message}");
    assert!(message.contains("rc=49"), "{message}");
}

#[test]
fn names_accepts_one_or_many() {
    let map: FieldMap =
        serde_json::from_str(r#"{"name": ["displayName", "cn"], "id": "uid"}"#).expect("parses");
    assert_eq!(map.name, Some(Names::Many(vec!["displayName".into(), "cn".into()])));
    assert_eq!(map.id, Some(Names::One("uid".into())));
}
