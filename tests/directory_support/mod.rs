//! A real OpenLDAP server for the directory tests: `slapd` on 127.0.0.1
//! with a throw-away configuration and database (tests/directory/), killed
//! when dropped. Without slapd installed, [`Slapd::start`] says so and
//! returns `None`, and the test passes without checking anything.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use courtesy::directory::config::{FieldMap, LdapConfig, LdapSchema};

pub const BULK_PEOPLE: usize = 120;
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/directory");

pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A running slapd; killed and reaped on drop.
pub struct Slapd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
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
    pub fn start() -> Option<Slapd> {
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

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub fn source_config(&self, page_size: u32) -> LdapConfig {
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

    pub async fn delete(&self, dn: &str) {
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

pub fn bulk_people() -> String {
    (1..=BULK_PEOPLE)
        .map(|n| {
            format!(
                "\ndn: cn=Medewerker {n:03},ou=people,dc=firm,dc=test\nobjectClass: inetOrgPerson\nobjectClass: courtesyTestADPerson\ncn: Medewerker {n:03}\nsn: {n:03}\ndisplayName: Medewerker {n:03}\nsAMAccountName: mw{n:03}\nmail: mw{n:03}@firm.test\ntelephoneNumber: +31 20 555 1{n:03}\n"
            )
        })
        .collect()
}

pub fn timeout() -> Duration {
    Duration::from_secs(10)
}
