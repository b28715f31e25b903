//! The directory against a real OpenLDAP server: paged results over more
//! entries than the server's size limit, Active Directory attribute
//! mapping, the merge with a policy, a person leaving, and an outage.
//!
//! Each test starts its own `slapd` on 127.0.0.1 with a throw-away
//! configuration and database, and kills it at the end. Without slapd
//! installed (Debian: `apt-get install slapd ldap-utils`) the tests print
//! why and pass without checking anything.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use courtesy::directory::config::{FieldMap, LdapConfig, LdapSchema, Names};
use courtesy::directory::ldap::LdapSource;
use courtesy::directory::{
    MergeIssue, PolicyPersonInput, Provenance, Refresher, Source, SourceError, merge,
};

const BULK_PEOPLE: usize = 120;
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/directory");

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A running slapd; killed and reaped on drop.
struct Slapd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Slapd {
    /// Starts slapd with the fixture config and the seed plus generated
    /// people; `None` (after printing why) when slapd is not installed.
    fn start() -> Option<Slapd> {
        let (Some(slapd), Some(slapadd)) = (find_program("slapd"), find_program("slapadd")) else {
            eprintln!(
                "SKIPPED: slapd/slapadd not installed (apt-get install slapd ldap-utils); the LDAP integration test did not run"
            );
            return None;
        };
        let mut dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("db")).expect("db dir");
        let conf = std::fs::read_to_string(Path::new(FIXTURES).join("slapd.conf.in"))
            .expect("fixture config")
            .replace("@DIR@", &dir.path().display().to_string());
        let conf_path = dir.path().join("slapd.conf");
        std::fs::write(&conf_path, conf).expect("write config");
        let mut seed =
            std::fs::read_to_string(Path::new(FIXTURES).join("seed.ldif")).expect("seed");
        seed.push_str(&bulk_people());
        let seed_path = dir.path().join("seed.ldif");
        std::fs::write(&seed_path, seed).expect("write seed");
        let loaded = Command::new(slapadd)
            .arg("-f")
            .arg(&conf_path)
            .arg("-l")
            .arg(&seed_path)
            .output()
            .expect("run slapadd");
        assert!(
            loaded.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&loaded.stderr)
        );

        // A free port can be taken between probing and binding: retry.
        for _ in 0..5 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .expect("probe port")
                .port();
            let child = Command::new(&slapd)
                .arg("-f")
                .arg(&conf_path)
                .arg("-h")
                .arg(format!("ldap://127.0.0.1:{port}/"))
                // Stay in the foreground so the test owns the process.
                .arg("-d")
                .arg("0")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn slapd");
            let mut server = Slapd { child, port, dir };
            if server.wait_ready() {
                return Some(server);
            }
            dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
            drop(server);
        }
        panic!("slapd did not start on 127.0.0.1 after 5 attempts");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    fn source_config(&self, page_size: u32) -> LdapConfig {
        let password_file = self.dir.path().join("bind-password");
        std::fs::write(&password_file, "bind-secret\n").expect("password file");
        LdapConfig {
            name: None,
            url: self.url(),
            starttls: false,
            ca_file: None,
            bind_dn: Some("cn=courtesy,ou=service,dc=firm,dc=test".into()),
            password_file: Some(password_file),
            base_dn: "ou=people,dc=firm,dc=test".into(),
            // AD's default filter needs objectCategory and userAccountControl,
            // which this server does not have.
            filter: Some("(objectClass=courtesyTestADPerson)".into()),
            schema: LdapSchema::ActiveDirectory,
            attributes: FieldMap::default(),
            page_size,
        }
    }

    async fn delete(&self, dn: &str) {
        let (conn, mut ldap) = ldap3::LdapConnAsync::new(&self.url()).await.expect("connect");
        ldap3::drive!(conn);
        ldap.simple_bind("cn=admin,dc=firm,dc=test", "admin-secret")
            .await
            .and_then(|r| r.success())
            .expect("admin bind");
        ldap.delete(dn).await.and_then(|r| r.success()).expect("delete");
        ldap.unbind().await.expect("unbind");
    }
}

fn bulk_people() -> String {
    (1..=BULK_PEOPLE)
        .map(|n| {
            format!(
                "\ndn: cn=Medewerker {n:03},ou=people,dc=firm,dc=test\nobjectClass: inetOrgPerson\nobjectClass: courtesyTestADPerson\ncn: Medewerker {n:03}\nsn: {n:03}\ndisplayName: Medewerker {n:03}\nsAMAccountName: mw{n:03}\nmail: mw{n:03}@firm.test\ntelephoneNumber: +31 20 555 1{n:03}\n"
            )
        })
        .collect()
}

fn timeout() -> Duration {
    Duration::from_secs(10)
}

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
