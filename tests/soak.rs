//! No-loss soak: messages through the real `courtesy serve` binary while the
//! upstream misbehaves at random and courtesy is stopped twice with SIGTERM
//! and killed once with SIGKILL. A client retries everything that did not
//! get 250. Afterwards every message is accounted for:
//!
//! - each one the client got 250 for arrived upstream intact (byte for byte
//!   what the engine makes of it: rewritten or identical) and, when
//!   rewritten, has its audit record with the same hash;
//! - every copy beyond the first is explained by an attempt whose
//!   connection died after the final dot, at the SIGKILL: the window of
//!   RFC 1047 (the next hop said 250, courtesy died before passing it on);
//! - the audit chain verifies.
//!
//! `cargo test --test soak` runs 300 messages; `scripts/soak.sh` runs the
//! long version (`COURTESY_SOAK_MESSAGES=20000`, release build).

#[path = "soak_support/upstream.rs"]
mod upstream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WORKERS: usize = 8;
const FROM_TEAM: &str = "sophie@hoekstra-advies.nl";
const RCPT: &str = "john.smith@example.co.uk";

/// What one attempt to deliver a message ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// courtesy could not be reached (down between restarts).
    NoConnection,
    /// A reply other than 250 (or 220 for the greeting) at some step.
    Refused(u16),
    /// The connection died before the final dot was sent.
    DroppedBefore,
    /// The connection died after the final dot, before a reply: the RFC 1047 window.
    DroppedAfterDot(Instant),
    Delivered,
}

struct Message {
    wire: Vec<u8>,
    id: String,
    /// SHA-256 of what the upstream must receive.
    expected: String,
    rewritten: bool,
}

fn to_crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

fn messages(n: usize) -> Vec<Message> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy = courtesy::policy::load_file(&root.join("policies/example.yaml")).unwrap().policy;
    let vacation =
        to_crlf(&std::fs::read_to_string(root.join("tests/golden/gmail-vacation-en.eml")).unwrap());
    let envelope = Envelope::new(FROM_TEAM, [RCPT]);
    (0..n)
        .map(|i| {
            let id = format!("<soak-{i}@hoekstra-advies.nl>");
            let raw = if i % 3 == 0 {
                vacation.replacen("<CAJq3vR+vac1@mail.gmail.com>", &id, 1)
            } else {
                format!(
                    "From: Sophie Jansen <{FROM_TEAM}>\r\nTo: <{RCPT}>\r\nSubject: figures {i}\r\n\
                     Message-ID: {id}\r\nDate: Tue, 11 Nov 2025 10:02:44 +0100\r\n\r\n\
                     Here are the figures, number {i}.\r\n.leading dot stays\r\n"
                )
            };
            let outcome =
                engine::process(raw.as_bytes(), &envelope, &policy, &EngineOptions::default());
            let expected = upstream::hex(&Sha256::digest(outcome.output(raw.as_bytes())));
            let rewritten = outcome.disposition == Disposition::Rewritten;
            let mut wire = Vec::new();
            for line in raw.split_inclusive("\r\n") {
                if line.starts_with('.') {
                    wire.push(b'.');
                }
                wire.extend_from_slice(line.as_bytes());
            }
            wire.extend_from_slice(b".\r\n");
            Message { wire, id, expected, rewritten }
        })
        .collect()
}

struct Courtesy {
    child: Child,
    config: PathBuf,
    addr: SocketAddr,
    log: PathBuf,
}

impl Courtesy {
    fn spawn(config: &Path, addr: SocketAddr, log: &Path) -> Courtesy {
        let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_courtesy"))
            .args(["serve", "--config"])
            .arg(config)
            .env("COURTESY_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("courtesy starts");
        Courtesy { child, config: config.to_path_buf(), addr, log: log.to_path_buf() }
    }

    async fn wait_ready(&mut self) {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("courtesy exited early ({status}); see {}", self.log.display());
            }
            if let Ok(s) = TcpStream::connect(self.addr).await {
                let mut r = BufReader::new(s);
                let mut l = String::new();
                if r.read_line(&mut l).await.is_ok() && l.starts_with("220") {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("courtesy did not come up; see {}", self.log.display());
    }

    /// Peak resident memory of the running process, in KiB (Linux).
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()));
        status
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0)
    }

    /// SIGTERM and wait for a clean exit, then start again.
    async fn restart(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = tokio::task::block_in_place(|| self.child.wait()).unwrap();
        assert!(status.success(), "SIGTERM must end courtesy cleanly: {status}");
        *self = Courtesy::spawn(&self.config, self.addr, &self.log);
        self.wait_ready().await;
    }

    /// SIGKILL, then start again; returns when it was killed.
    async fn kill_and_restart(&mut self) -> Instant {
        self.child.kill().unwrap();
        let killed = Instant::now();
        let _ = self.child.wait();
        *self = Courtesy::spawn(&self.config, self.addr, &self.log);
        self.wait_ready().await;
        killed
    }
}

impl Drop for Courtesy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<u16> {
    let mut code = None;
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(30), r.read_line(&mut line)).await;
        match n {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
        code = code.or_else(|| line.get(..3).and_then(|c| c.parse().ok()));
        if line.as_bytes().get(3) != Some(&b'-') {
            return code;
        }
    }
}

async fn attempt(addr: SocketAddr, m: &Message) -> Attempt {
    let Ok(Ok(stream)) =
        tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await
    else {
        return Attempt::NoConnection;
    };
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    match reply(&mut r).await {
        Some(220) => {}
        Some(code) => return Attempt::Refused(code),
        None => return Attempt::DroppedBefore,
    }
    let steps: [(Vec<u8>, u16); 4] = [
        (b"EHLO soak.client\r\n".to_vec(), 250),
        (format!("MAIL FROM:<{FROM_TEAM}>\r\n").into_bytes(), 250),
        (format!("RCPT TO:<{RCPT}>\r\n").into_bytes(), 250),
        (b"DATA\r\n".to_vec(), 354),
    ];
    for (command, want) in steps {
        if w.write_all(&command).await.is_err() {
            return Attempt::DroppedBefore;
        }
        match reply(&mut r).await {
            Some(code) if code == want => {}
            Some(code) => return Attempt::Refused(code),
            None => return Attempt::DroppedBefore,
        }
    }
    if w.write_all(&m.wire).await.is_err() {
        return Attempt::DroppedBefore;
    }
    let outcome = match reply(&mut r).await {
        Some(250) => Attempt::Delivered,
        Some(code) => Attempt::Refused(code),
        None => Attempt::DroppedAfterDot(Instant::now()),
    };
    let _ = w.write_all(b"QUIT\r\n").await;
    outcome
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_accounted_for() {
    let n: usize =
        std::env::var("COURTESY_SOAK_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let seed: u64 =
        std::env::var("COURTESY_SOAK_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1047);
    let started = Instant::now();
    let up = upstream::start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let addr = free_port();
    let audit = dir.path().join("audit");
    let config = dir.path().join("courtesy.yaml");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/example.yaml");
    std::fs::write(
        &config,
        format!(
            "policy: {policy:?}\npolicy_poll: 0s\nshutdown_grace: 20s\n\
             audit:\n  dir: {audit:?}\n  on_failure: tempfail\n\
             smtp:\n  listen: [\"{addr}\"]\n  upstream:\n    url: smtp://{}\n    starttls: off\n\
             \x20 limits:\n    max_connections: 64\n    upstream_timeout: 1s\n    upstream_data_timeout: 1s\n",
            up.addr
        ),
    )
    .unwrap();
    let log = dir.path().join("courtesy.log");
    let mut courtesy = Courtesy::spawn(&config, addr, &log);
    courtesy.wait_ready().await;

    let msgs = Arc::new(messages(n));
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let attempts: Arc<Mutex<Vec<Vec<Attempt>>>> = Arc::new(Mutex::new(vec![Vec::new(); n]));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (msgs, next, done, attempts) =
                (Arc::clone(&msgs), Arc::clone(&next), Arc::clone(&done), Arc::clone(&attempts));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= msgs.len() {
                        return;
                    }
                    loop {
                        let a = attempt(addr, &msgs[i]).await;
                        attempts.lock().unwrap()[i].push(a);
                        if a == Attempt::Delivered {
                            break;
                        }
                        assert!(
                            attempts.lock().unwrap()[i].len() < 200,
                            "message {i} never got through"
                        );
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // Two orderly restarts and one crash, while the clients are busy.
    let wait_for = |fraction: usize| {
        let done = Arc::clone(&done);
        async move {
            while done.load(Ordering::Relaxed) < n * fraction / 100 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let mut peak_rss = 0;
    wait_for(25).await;
    peak_rss = peak_rss.max(courtesy.peak_rss_kib());
    courtesy.restart().await;
    wait_for(50).await;
    peak_rss = peak_rss.max(courtesy.peak_rss_kib());
    courtesy.restart().await;
    wait_for(75).await;
    peak_rss = peak_rss.max(courtesy.peak_rss_kib());
    let killed = courtesy.kill_and_restart().await;
    for w in workers {
        w.await.unwrap();
    }
    let elapsed = started.elapsed();
    peak_rss = peak_rss.max(courtesy.peak_rss_kib());
    drop(courtesy);

    // Account for every message.
    let record = up.record.lock().unwrap();
    let mut copies: HashMap<&str, Vec<&str>> = HashMap::new();
    for a in &record.accepted {
        copies.entry(a.message_id.as_str()).or_default().push(a.sha256.as_str());
    }
    let attempts = attempts.lock().unwrap();
    let (mut duplicates, mut kinds) = (0usize, HashMap::<String, usize>::new());
    for (i, m) in msgs.iter().enumerate() {
        let tries = &attempts[i];
        assert_eq!(tries.iter().filter(|a| **a == Attempt::Delivered).count(), 1, "{}", m.id);
        for a in tries {
            let kind = match a {
                Attempt::Refused(c) => format!("{}xx", c / 100),
                other => format!("{other:?}").split('(').next().unwrap().to_string(),
            };
            *kinds.entry(kind).or_default() += 1;
        }
        let got = copies
            .get(m.id.as_str())
            .unwrap_or_else(|| panic!("{} got 250 but never arrived", m.id));
        for sha in got {
            assert_eq!(*sha, m.expected, "{} arrived altered", m.id);
        }
        let window: Vec<_> = tries
            .iter()
            .filter_map(|a| match a {
                Attempt::DroppedAfterDot(at) => Some(*at),
                _ => None,
            })
            .collect();
        let extra = got.len() - 1;
        assert!(
            extra <= window.len(),
            "{}: {extra} duplicates without a dropped final reply",
            m.id
        );
        if extra > 0 {
            // Each dropped final reply of a duplicated message is the crash.
            for at in &window {
                let since = at.saturating_duration_since(killed);
                assert!(
                    *at >= killed && since < Duration::from_secs(5),
                    "{}: drop {since:?} after the kill",
                    m.id
                );
            }
        }
        duplicates += extra;
    }
    assert_eq!(copies.len(), n, "upstream holds messages nobody sent");

    // The audit log: intact chain, and a record for each rewritten message.
    let verify = Command::new(env!("CARGO_BIN_EXE_courtesy"))
        .args(["audit", "verify"])
        .arg(&audit)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    let mut audited: HashMap<String, Vec<String>> = HashMap::new();
    let mut records = 0;
    for file in std::fs::read_dir(&audit).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            records += 1;
            if v["kind"] == "message" {
                let id = v["message_id"].as_str().unwrap_or_default().to_string();
                audited
                    .entry(id)
                    .or_default()
                    .push(v["sha256_after"].as_str().unwrap().to_string());
            }
        }
    }
    let rewritten = msgs.iter().filter(|m| m.rewritten).count();
    for m in msgs.iter().filter(|m| m.rewritten) {
        let shas = audited.get(&m.id).unwrap_or_else(|| panic!("{} has no audit record", m.id));
        assert!(shas.contains(&m.expected), "{}: audit hash differs", m.id);
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    eprintln!(
        "soak: {n} messages ({rewritten} rewritten, {} byte-identical) in {elapsed:.1?}; \
         attempts {kinds:?}; upstream faults {:?}; upstream accepted {} copies, \
         duplicates {duplicates} (all at the SIGKILL); audit records {records}; \
         courtesy peak RSS {} MiB",
        n - rewritten,
        record.faults,
        record.accepted.len(),
        peak_rss / 1024,
    );
}
