//! Hostile and broken clients against a real relay on 127.0.0.1: each gets
//! the reply RFC 5321 asks for, and the relay keeps serving everyone else.

mod common;

use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use common::*;
use courtesy::config::{AuthConfig, TlsFiles};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

type Raw = (BufReader<OwnedReadHalf>, OwnedWriteHalf);

async fn raw(addr: std::net::SocketAddr) -> (Raw, String) {
    let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
    let mut r = BufReader::new(r);
    let greeting = read_reply(&mut r).await;
    ((r, w), greeting)
}

/// Sends `command` and returns the reply.
async fn ask(c: &mut Raw, command: &[u8]) -> String {
    c.1.write_all(command).await.unwrap();
    read_reply(&mut c.0).await
}

/// A well-behaved client delivers a message: the relay is still serving.
async fn still_serves(addr: std::net::SocketAddr) {
    let mut c = client(addr).await;
    let data = message("ok", "still here\r\n");
    assert_eq!(send(&mut c, "ann@firm.example", &["bob@customer.example"], &data).await, Ok(250));
}

/// Sends `bytes` (repeated, at most 100) one every 200 ms, running
/// `meanwhile` after each, until the relay says something; returns that.
async fn trickle<F, Fut>(c: &mut Raw, bytes: &[u8], meanwhile: F) -> String
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for b in bytes.iter().cycle().take(100) {
        if c.1.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut buf = [0u8; 256];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::ZERO, c.0.read(&mut buf)).await {
            return String::from_utf8_lossy(&buf[..n]).into_owned();
        }
        meanwhile().await;
    }
    String::new()
}

#[tokio::test]
async fn slowloris_is_cut_off_by_a_whole_command_deadline() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.command_timeout = Duration::from_secs(1);
    let relay = start_relay(config).await;
    let (mut slow, _) = raw(relay.addr).await;
    // One byte every 200 ms never completes a line; each read alone is
    // well within the timeout, the command as a whole is not.
    let reply =
        trickle(&mut slow, b"EHLO slow.example.and.a.very.long.name.that.takes.time", || {
            still_serves(relay.addr)
        })
        .await;
    assert!(reply.starts_with("421 4.4.2"), "slow client not cut off: {reply:?}");
    relay.stop().await;
}

#[tokio::test]
async fn data_trickle_is_cut_off_by_the_minimum_data_rate() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.data_timeout = Duration::from_secs(1);
    config.smtp.limits.min_data_rate = 100;
    let relay = start_relay(config).await;
    let (mut slow, _) = raw(relay.addr).await;
    assert!(ask(&mut slow, b"EHLO slow.example\r\n").await.starts_with("250"));
    assert!(ask(&mut slow, b"MAIL FROM:<ann@firm.example>\r\n").await.starts_with("250"));
    assert!(ask(&mut slow, b"RCPT TO:<bob@customer.example>\r\n").await.starts_with("250"));
    assert!(ask(&mut slow, b"DATA\r\n").await.starts_with("354"));
    // Five bytes a second: every read arrives well within `data_timeout`,
    // but the transfer as a whole falls behind 100 bytes a second.
    let reply = trickle(&mut slow, b"Subject: slow\r\n\r\n", || async {}).await;
    assert!(reply.starts_with("421 4.4.2"), "trickling client not cut off: {reply:?}");
    assert!(up.messages().is_empty(), "the unfinished message went upstream");
    still_serves(relay.addr).await;
    relay.stop().await;
}

#[tokio::test]
async fn client_that_never_reads_is_closed_by_the_write_timeout() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.command_timeout = Duration::from_secs(1);
    let relay = start_relay(config).await;
    let (mut c, _) = raw(relay.addr).await;
    // Replies pile up in both socket buffers until the relay cannot write.
    let flood = b"NOOP\r\n".repeat(10_000);
    let outcome = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if c.1.write_all(&flood).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(outcome.is_ok(), "the relay kept a non-reading client open");
    still_serves(relay.addr).await;
    relay.stop().await;
}

/// Reads one reply with a generous limit: hundreds of sockets on a loaded
/// test machine can take longer than `read_reply` allows; none may hang.
async fn patient_reply(r: &mut BufReader<OwnedReadHalf>) -> String {
    tokio::time::timeout(Duration::from_secs(120), read_reply_untimed(r))
        .await
        .unwrap_or_else(|_| "no reply within 120 s".into())
}

async fn read_reply_untimed(r: &mut BufReader<OwnedReadHalf>) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            return all;
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_connections_at_once_each_get_an_answer() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.max_connections = 200;
    let relay = start_relay(config).await;
    let addr = relay.addr;
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            tokio::spawn(async move {
                let Ok(stream) = TcpStream::connect(addr).await else { return 0 };
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                let greeting = patient_reply(&mut r).await;
                if greeting.starts_with("220") {
                    let _ = w.write_all(b"EHLO c\r\nQUIT\r\n").await;
                    let ehlo = patient_reply(&mut r).await;
                    assert!(ehlo.starts_with("250"), "{ehlo}");
                    assert!(patient_reply(&mut r).await.starts_with("221"));
                }
                greeting.get(..3).and_then(|c| c.parse::<u16>().ok()).unwrap_or(0)
            })
        })
        .collect();
    let mut codes = std::collections::BTreeMap::new();
    for t in tasks {
        *codes.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    // Within the limit: served; beyond: told to come back. Nobody is left hanging.
    assert!(codes.keys().all(|c| *c == 220 || *c == 421), "{codes:?}");
    assert!(codes[&220] >= 200, "{codes:?}");
    still_serves(addr).await;
    relay.stop().await;
}

#[tokio::test]
async fn data_far_beyond_the_size_limit_gets_552_and_the_session_goes_on() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.max_message_size = 1 << 20;
    let relay = start_relay(config).await;
    let (mut c, _) = raw(relay.addr).await;
    ask(&mut c, b"EHLO c\r\n").await;
    assert!(ask(&mut c, b"MAIL FROM:<a@firm.example>\r\n").await.starts_with("250"));
    assert!(ask(&mut c, b"RCPT TO:<b@customer.example>\r\n").await.starts_with("250"));
    assert!(ask(&mut c, b"DATA\r\n").await.starts_with("354"));
    let line = format!("{}\r\n", "x".repeat(998)).into_bytes();
    let block = line.repeat(1024); // 1 MiB
    for _ in 0..32 {
        c.1.write_all(&block).await.unwrap();
    }
    let reply = ask(&mut c, b".\r\n").await;
    assert!(reply.starts_with("552 5.3.4"), "{reply}");
    assert!(ask(&mut c, b"NOOP\r\n").await.starts_with("250"));
    assert!(up.messages().is_empty());
    relay.stop().await;
}

#[tokio::test]
async fn megabyte_lines_get_500_in_commands_and_in_data() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut c, _) = raw(relay.addr).await;
    let mut long = b"EHLO ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 1 << 20));
    long.extend(b"\r\n");
    assert!(ask(&mut c, &long).await.starts_with("500 5.5.2"));
    let e = ask(&mut c, b"EHLO c\r\n").await;
    let m = ask(&mut c, b"MAIL FROM:<a@firm.example>\r\n").await;
    let r = ask(&mut c, b"RCPT TO:<b@customer.example>\r\n").await;
    let d = ask(&mut c, b"DATA\r\n").await;
    assert!(d.starts_with("354"), "{e} {m} {r} {d}");
    let mut data = b"Subject: long\r\n\r\n".to_vec();
    data.extend(std::iter::repeat_n(b'y', 1 << 20));
    data.extend(b"\r\n.\r\n");
    assert!(ask(&mut c, &data).await.starts_with("500 5.5.2"));
    assert!(ask(&mut c, b"NOOP\r\n").await.starts_with("250"));
    assert!(up.messages().is_empty());
    relay.stop().await;
}

#[tokio::test]
async fn nul_bytes_in_commands_are_refused_and_in_data_pass_unchanged() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut c, _) = raw(relay.addr).await;
    assert!(ask(&mut c, b"EHLO c\0evil\r\n").await.starts_with("500 5.5.2"));
    assert!(ask(&mut c, b"\0\0\0\r\n").await.starts_with("500"));
    ask(&mut c, b"EHLO c\r\n").await;
    assert!(ask(&mut c, b"MAIL FROM:<a\0@firm.example>\r\n").await.starts_with("500 5.5.2"));
    ask(&mut c, b"MAIL FROM:<a@firm.example>\r\n").await;
    ask(&mut c, b"RCPT TO:<b@customer.example>\r\n").await;
    ask(&mut c, b"DATA\r\n").await;
    let body = message("nul", "a\0b\r\n");
    let mut wire = body.clone();
    wire.extend(b".\r\n");
    assert!(ask(&mut c, &wire).await.starts_with("250"));
    assert_eq!(up.messages()[0].data, body);
    relay.stop().await;
}

#[tokio::test]
async fn bare_cr_and_bare_lf_in_data_never_end_the_message() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut c, _) = raw(relay.addr).await;
    ask(&mut c, b"EHLO c\r\n").await;
    ask(&mut c, b"MAIL FROM:<a@firm.example>\r\n").await;
    ask(&mut c, b"RCPT TO:<b@customer.example>\r\n").await;
    ask(&mut c, b"DATA\r\n").await;
    // A smuggling attempt: `LF.CRLF` and `CR.CR` followed by a second transaction.
    let body = message("bare", "one\rtwo\nthree\r\n");
    let mut wire = body.clone();
    wire.extend(b"x\n.\r\nMAIL FROM:<evil@x.example>\r\nx\r.\rRCPT TO:<v@x.example>\r\n");
    wire.extend(b".\r\n");
    let reply = ask(&mut c, &wire).await;
    assert!(reply.starts_with("250"), "{reply}");
    let got = up.messages();
    assert_eq!(got.len(), 1, "a smuggled second message got through");
    // RFC 5321 §2.3.8: bare CR and LF are normalised to CRLF, so the next
    // hop cannot misread them either.
    let normalised = message("bare", "one\r\ntwo\r\nthree\r\n");
    let data = &got[0].data;
    assert!(data.starts_with(&normalised), "{:?}", String::from_utf8_lossy(data));
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            assert_eq!(data[i - 1], b'\r', "bare LF at {i}");
        }
        if b == b'\r' {
            assert_eq!(data[i + 1], b'\n', "bare CR at {i}");
        }
    }
    assert!(got[0].data.windows(10).any(|w| w == b"MAIL FROM:"), "smuggled text is data");
    assert_eq!(got[0].from, "a@firm.example");
    relay.stop().await;
}

#[tokio::test]
async fn commands_out_of_order_get_503() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut c, _) = raw(relay.addr).await;
    assert!(ask(&mut c, b"MAIL FROM:<a@firm.example>\r\n").await.starts_with("503"));
    assert!(ask(&mut c, b"RCPT TO:<b@customer.example>\r\n").await.starts_with("503"));
    assert!(ask(&mut c, b"DATA\r\n").await.starts_with("503"));
    assert!(ask(&mut c, b"BDAT 10 LAST\r\n").await.starts_with("500"));
    ask(&mut c, b"EHLO c\r\n").await;
    assert!(ask(&mut c, b"DATA\r\n").await.starts_with("503"));
    assert!(up.messages().is_empty());
    relay.stop().await;
}

#[tokio::test]
async fn commands_pipelined_after_the_data_terminator_are_answered_in_order() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut c, _) = raw(relay.addr).await;
    ask(&mut c, b"EHLO c\r\n").await;
    // RFC 2920: DATA ends a group; everything after it in the same packet
    // is message content until the terminator, then commands again.
    let mut wire = b"MAIL FROM:<a@firm.example>\r\nRCPT TO:<b@customer.example>\r\nDATA\r\n\
                     Subject: p\r\n\r\nQUIT\r\n.\r\nMAIL FROM:<c@firm.example>\r\n\
                     RCPT TO:<d@customer.example>\r\nDATA\r\n"
        .to_vec();
    c.1.write_all(&wire).await.unwrap();
    let mut codes = Vec::new();
    for _ in 0..7 {
        codes.push(read_reply(&mut c.0).await[..3].to_string());
    }
    assert_eq!(codes, ["250", "250", "354", "250", "250", "250", "354"]);
    wire = b"Subject: q\r\n\r\nbody\r\n.\r\nQUIT\r\n".to_vec();
    assert!(ask(&mut c, &wire).await.starts_with("250"));
    assert!(read_reply(&mut c.0).await.starts_with("221"));
    let got = up.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data, b"Subject: p\r\n\r\nQUIT\r\n");
    assert_eq!(got[1].from, "c@firm.example");
    relay.stop().await;
}

struct TlsRelay {
    relay: RelayUnderTest,
    _up: Upstream,
}

/// A relay with STARTTLS and AUTH, where outside clients must authenticate.
async fn tls_relay(auth: impl FnOnce(&mut AuthConfig)) -> TlsRelay {
    let up = upstream(Script::default()).await;
    let cert = test_cert();
    let dir = tempfile::tempdir().unwrap();
    let (c, k, users) =
        (dir.path().join("cert.pem"), dir.path().join("key.pem"), dir.path().join("users"));
    std::fs::write(&c, &cert.cert_pem).unwrap();
    std::fs::write(&k, &cert.key_pem).unwrap();
    let salt = SaltString::encode_b64(b"test-salt-123456").unwrap();
    let hash = argon2::Argon2::default().hash_password(b"right", &salt).unwrap();
    std::fs::write(&users, format!("ann:{hash}\n")).unwrap();
    let mut config = config_for(up.addr);
    config.smtp.tls = Some(TlsFiles { cert: c, key: k });
    let mut a = AuthConfig {
        users_file: users,
        required: true,
        max_failures: 3,
        failure_delay: Duration::from_millis(1),
        max_failures_per_ip: 5,
        failure_window: Duration::from_secs(900),
    };
    auth(&mut a);
    config.smtp.auth = Some(a);
    TlsRelay { relay: start_relay_in(config, dir).await, _up: up }
}

#[tokio::test]
async fn starttls_stripping_gets_530_and_plaintext_after_starttls_is_dropped() {
    let t = tls_relay(|_| {}).await;
    let (mut c, _) = raw(t.relay.addr).await;
    let ehlo = ask(&mut c, b"EHLO c\r\n").await;
    assert!(ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"), "{ehlo}");
    assert!(ask(&mut c, b"MAIL FROM:<a@firm.example>\r\n").await.starts_with("530 5.7.0"));
    assert!(ask(&mut c, b"AUTH PLAIN AGFubgByaWdodA==\r\n").await.starts_with("503"));
    // Injection: commands pipelined behind STARTTLS must not survive the upgrade.
    let reply = ask(&mut c, b"STARTTLS\r\nMAIL FROM:<injected@x.example>\r\n").await;
    assert!(reply.starts_with("220"), "{reply}");
    t.relay.stop().await;
}

#[tokio::test]
async fn tls_handshake_garbage_closes_only_that_connection() {
    let t = tls_relay(|_| {}).await;
    let (mut c, _) = raw(t.relay.addr).await;
    ask(&mut c, b"EHLO c\r\n").await;
    assert!(ask(&mut c, b"STARTTLS\r\n").await.starts_with("220"));
    c.1.write_all(b"\x16\x03\x01\xff\xffGARBAGE-NOT-A-CLIENT-HELLO\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), c.0.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "connection left open after a broken handshake");
    // Others are unaffected (they get the greeting and 530 without AUTH).
    let (mut other, greeting) = raw(t.relay.addr).await;
    assert!(greeting.starts_with("220"));
    assert!(ask(&mut other, b"EHLO c\r\n").await.starts_with("250"));
    t.relay.stop().await;
}

#[tokio::test]
async fn relay_from_a_disallowed_network_is_554() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.allowed_networks = vec!["192.0.2.0/24".parse().unwrap()];
    let relay = start_relay(config).await;
    let (_c, greeting) = raw(relay.addr).await;
    assert!(greeting.starts_with("554 5.7.1"), "{greeting}");
    relay.stop().await;
}

async fn auth_attempt(
    c: &mut lettre::transport::smtp::client::AsyncSmtpConnection,
    password: &str,
) -> u16 {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("\0ann\0{password}"));
    match c.command(format!("AUTH PLAIN {b64}\r\n")).await {
        Ok(r) => u16::from(r.code()),
        Err(e) => e.status().map(u16::from).unwrap_or(0),
    }
}

async fn tls_client(
    addr: std::net::SocketAddr,
    cert_pem: &[u8],
) -> lettre::transport::smtp::client::AsyncSmtpConnection {
    use lettre::transport::smtp::client::{Certificate, TlsParameters};
    use lettre::transport::smtp::extension::ClientId;
    let params = TlsParameters::builder("localhost".into())
        .add_root_certificate(Certificate::from_pem(cert_pem).unwrap())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()
        .unwrap();
    let mut c = client(addr).await;
    c.starttls(params, &ClientId::Domain("client.test".into())).await.unwrap();
    c
}

#[tokio::test]
async fn auth_brute_force_is_limited_per_connection_and_per_address() {
    let t = tls_relay(|_| {}).await;
    let pem = test_cert().cert_pem;
    // Per connection: three failures, then 421 and close.
    let mut c = tls_client(t.relay.addr, pem.as_bytes()).await;
    assert_eq!(auth_attempt(&mut c, "guess1").await, 535);
    assert_eq!(auth_attempt(&mut c, "guess2").await, 535);
    assert_eq!(auth_attempt(&mut c, "guess3").await, 421);
    // Per address: reconnecting does not reset the count. Two more
    // failures reach five; after that even the right password is not checked.
    let mut c = tls_client(t.relay.addr, pem.as_bytes()).await;
    assert_eq!(auth_attempt(&mut c, "guess4").await, 535);
    assert_eq!(auth_attempt(&mut c, "guess5").await, 535);
    assert_eq!(auth_attempt(&mut c, "right").await, 421);
    let mut c = tls_client(t.relay.addr, pem.as_bytes()).await;
    assert_eq!(auth_attempt(&mut c, "right").await, 421);
    t.relay.stop().await;
}

#[tokio::test]
async fn the_right_password_still_works_below_the_address_limit() {
    let t = tls_relay(|a| a.max_failures_per_ip = 100).await;
    let pem = test_cert().cert_pem;
    let mut c = tls_client(t.relay.addr, pem.as_bytes()).await;
    assert_eq!(auth_attempt(&mut c, "wrong").await, 535);
    assert_eq!(auth_attempt(&mut c, "right").await, 235);
    t.relay.stop().await;
}
