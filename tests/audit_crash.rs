//! The audit log survives a crash of the relay.
//!
//! The real binary serves a burst of auto-replies from several clients and
//! is killed with SIGKILL in the middle of it. Every message a client got
//! 250 for must have its audit record (the record is fsynced before the
//! message goes upstream), and `courtesy audit verify` must call the damage
//! a crash, never tampering. After a restart the relay seals the torn tail
//! with a recovery record and the chain verifies cleanly again.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Script, upstream};

const BIN: &str = env!("CARGO_BIN_EXE_courtesy");
const CLIENTS: usize = 4;

/// A free loopback port: bound, read and released. Another process could
/// take it in between; on a test machine that is rare enough.
fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn write_config(dir: &Path, listen: SocketAddr, upstream: SocketAddr) -> PathBuf {
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/example.yaml");
    let config = format!(
        "instance: crash-test\n\
         policy: {policy}\n\
         audit:\n  dir: {audit}\n  on_failure: tempfail\n\
         smtp:\n  listen: [\"{listen}\"]\n  allowed_networks: [127.0.0.0/8]\n\
         \x20 upstream:\n    url: smtp://{upstream}\n    starttls: off\n",
        audit = dir.join("audit").display(),
    );
    let path = dir.join("courtesy.yaml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Starts `courtesy serve` and waits until it accepts connections.
fn spawn_relay(config: &Path, listen: SocketAddr) -> Child {
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("courtesy starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(listen).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("courtesy exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "courtesy did not listen within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The Gmail vacation reply from the golden set, with its own Message-ID.
fn auto_reply(id: &str) -> Vec<u8> {
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/gmail-vacation-en.eml"
    ))
    .unwrap();
    let replaced = original.replace("<CAJq3vR+vac1@mail.gmail.com>", &format!("<{id}>"));
    assert_ne!(replaced, original, "the fixture's Message-ID moved");
    replaced.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

/// Message-IDs of the `message` records in an instance's audit files.
fn audited_ids(audit: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for entry in std::fs::read_dir(audit).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        for line in data.split(|b| *b == b'\n') {
            // A torn last line is not JSON; verify reports it separately.
            let Ok(record) = serde_json::from_slice::<serde_json::Value>(line) else { continue };
            if record["kind"] == "message"
                && let Some(id) = record["message_id"].as_str()
            {
                ids.insert(id.trim_matches(['<', '>']).to_string());
            }
        }
    }
    ids
}

fn verify(audit: &Path) -> (i32, String) {
    let out = Command::new(BIN).args(["audit", "verify"]).arg(audit).output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_accepted_message_is_audited_after_sigkill() {
    let up = upstream(Script::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let config = write_config(dir.path(), listen, up.addr);
    let audit = dir.path().join("audit");
    let mut relay = spawn_relay(&config, listen);

    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for client_no in 0..CLIENTS {
        let accepted = accepted.clone();
        clients.push(tokio::spawn(async move {
            // Each client sends until the relay dies under it.
            for n in 0.. {
                let Ok(Ok(mut conn)) = tokio::time::timeout(
                    Duration::from_secs(10),
                    lettre::transport::smtp::client::AsyncSmtpConnection::connect_tokio1(
                        listen,
                        Some(Duration::from_secs(10)),
                        &lettre::transport::smtp::extension::ClientId::Domain("client.test".into()),
                        None,
                        None,
                    ),
                )
                .await
                else {
                    return;
                };
                let id = format!("crash-{client_no}-{n}@test.example");
                let sent = common::send(
                    &mut conn,
                    "sophie@hoekstra-advies.nl",
                    &["john.smith@example.co.uk"],
                    &auto_reply(&id),
                )
                .await;
                match sent {
                    Ok(250) => accepted.lock().unwrap().push(id),
                    // Killed mid-transaction: the client saw no 250 and would retry.
                    _ => return,
                }
            }
        }));
    }

    // Let the burst run until a good number of messages went through, then kill.
    let deadline = Instant::now() + Duration::from_secs(60);
    while accepted.lock().unwrap().len() < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.kill().unwrap();
    relay.wait().unwrap();
    for client in clients {
        tokio::time::timeout(Duration::from_secs(30), client).await.expect("clients stop").unwrap();
    }

    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() >= 40, "only {} messages were accepted before the kill", accepted.len());
    let audited = audited_ids(&audit);
    let missing: Vec<_> = accepted.iter().filter(|id| !audited.contains(*id)).collect();
    assert!(missing.is_empty(), "accepted without an audit record: {missing:?}");
    // What arrived upstream was rewritten: the engine ran on each of them.
    for message in up.messages() {
        let text = String::from_utf8_lossy(&message.data);
        assert!(text.contains("X-Courtesy:"), "a message went upstream unrewritten");
    }

    // Straight after the kill: intact, or a torn last line named as a crash.
    let (code, report) = verify(&audit);
    assert!(
        code == 0 || (code == 1 && report.contains("torn last line") && !report.contains("edited")),
        "verify after SIGKILL: exit {code}\n{report}"
    );

    // A restart seals any torn tail; the chain then verifies without findings.
    let mut relay = spawn_relay(&config, listen);
    let mut conn = common::client(listen).await;
    let after = "after-restart@test.example";
    let reply = common::send(
        &mut conn,
        "sophie@hoekstra-advies.nl",
        &["john.smith@example.co.uk"],
        &auto_reply(after),
    )
    .await;
    assert_eq!(reply, Ok(250));
    drop(conn);
    // SIGTERM: a graceful stop.
    Command::new("kill").arg(relay.id().to_string()).status().unwrap();
    let stopped = Instant::now();
    while relay.try_wait().unwrap().is_none() {
        assert!(stopped.elapsed() < Duration::from_secs(30), "courtesy ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(audited_ids(&audit).contains(after));
    let (code, report) = verify(&audit);
    assert_eq!(code, 0, "verify after restart:\n{report}");
}
