//! Access control, limits, timeouts, pipelining and shutdown, over real sockets.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn raw(
    addr: std::net::SocketAddr,
) -> (BufReader<tokio::net::tcp::OwnedReadHalf>, tokio::net::tcp::OwnedWriteHalf, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (r, w) = stream.into_split();
    let mut r = BufReader::new(r);
    let greeting = read_reply(&mut r).await;
    (r, w, greeting)
}

#[tokio::test]
async fn client_outside_allowed_networks_is_refused() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.allowed_networks = vec!["10.0.0.0/8".parse().unwrap()];
    let relay = start_relay(config).await;
    let (_r, _w, greeting) = raw(relay.addr).await;
    assert!(greeting.starts_with("554 5.7.1"), "{greeting}");
    assert!(relay.relay.metrics().render().contains("result=\"refused_network\"} 1"));
    relay.stop().await;
}

#[tokio::test]
async fn oversize_is_refused_at_mail_and_at_data() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.max_message_size = 10_000;
    let relay = start_relay(config).await;
    let mut c = client(relay.addr).await;
    let err = c.command("MAIL FROM:<a@firm.example> SIZE=10001\r\n").await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(552));
    assert!(err.to_string().contains("5.3.4"));
    let big = message("big", &format!("{}\r\n", "x".repeat(998)).repeat(20));
    let result = send(&mut c, "a@firm.example", &["b@customer.example"], &big).await;
    assert_eq!(result.unwrap_err().0, 552);
    assert!(up.messages().is_empty());
    // The session is still usable.
    assert_eq!(
        send(&mut c, "a@firm.example", &["b@customer.example"], &message("s", "s\r\n")).await,
        Ok(250)
    );
    relay.stop().await;
}

#[tokio::test]
async fn connection_limit_answers_421() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.max_connections = 2;
    let relay = start_relay(config).await;
    let (_r1, _w1, g1) = raw(relay.addr).await;
    let (_r2, _w2, g2) = raw(relay.addr).await;
    assert!(g1.starts_with("220") && g2.starts_with("220"));
    let (_r3, _w3, g3) = raw(relay.addr).await;
    assert!(g3.starts_with("421 4.7.0"), "{g3}");
    drop((_r1, _w1));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_r4, _w4, g4) = raw(relay.addr).await;
    assert!(g4.starts_with("220"), "permit not returned: {g4}");
    relay.stop().await;
}

#[tokio::test]
async fn idle_client_is_dropped_with_421() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.command_timeout = Duration::from_millis(300);
    let relay = start_relay(config).await;
    let (mut r, _w, _) = raw(relay.addr).await;
    let started = std::time::Instant::now();
    let reply = read_reply(&mut r).await;
    assert!(reply.starts_with("421 4.4.2"), "{reply}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(read_reply(&mut r).await, "", "connection not closed");
    relay.stop().await;
}

#[tokio::test]
async fn long_command_line_gets_500() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut r, mut w, _) = raw(relay.addr).await;
    let long = format!("EHLO {}\r\n", "a".repeat(1200));
    w.write_all(long.as_bytes()).await.unwrap();
    let reply = read_reply(&mut r).await;
    assert!(reply.starts_with("500 5.5.2"), "{reply}");
    w.write_all(b"NOOP\r\n").await.unwrap();
    assert!(read_reply(&mut r).await.starts_with("250"));
    relay.stop().await;
}

#[tokio::test]
async fn pipelined_transaction_in_one_write() {
    let up =
        upstream(Script { reject_rcpt: vec!["no@customer.example".into()], ..Default::default() })
            .await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut r, mut w, _) = raw(relay.addr).await;
    w.write_all(
        b"EHLO c\r\nMAIL FROM:<a@firm.example>\r\nRCPT TO:<no@customer.example>\r\n\
          RCPT TO:<b@customer.example>\r\nDATA\r\n",
    )
    .await
    .unwrap();
    let ehlo = read_reply(&mut r).await;
    assert!(
        ehlo.contains("PIPELINING") && ehlo.contains("SIZE") && ehlo.contains("SMTPUTF8"),
        "{ehlo}"
    );
    assert!(read_reply(&mut r).await.starts_with("250"));
    assert!(read_reply(&mut r).await.starts_with("550 5.1.1"));
    assert!(read_reply(&mut r).await.starts_with("250"));
    assert!(read_reply(&mut r).await.starts_with("354"));
    w.write_all(b"Subject: p\r\n\r\n..dot\r\n.\r\nQUIT\r\n").await.unwrap();
    assert!(read_reply(&mut r).await.starts_with("250"));
    assert!(read_reply(&mut r).await.starts_with("221"));
    assert_eq!(up.messages()[0].data, b"Subject: p\r\n\r\n.dot\r\n");
    relay.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_transaction_finish_and_turns_idle_sessions_away() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let (mut idle_r, _idle_w, _) = raw(relay.addr).await;
    let (mut r, mut w, _) = raw(relay.addr).await;
    w.write_all(b"EHLO c\r\nMAIL FROM:<a@firm.example>\r\n").await.unwrap();
    read_reply(&mut r).await;
    assert!(read_reply(&mut r).await.starts_with("250"));
    let addr = relay.addr;
    let stopping = tokio::spawn(relay.stop());
    let idle = read_reply(&mut idle_r).await;
    assert!(idle.starts_with("421 4.3.0"), "{idle}");
    // New connections are no longer accepted.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    // The open transaction completes.
    w.write_all(b"RCPT TO:<b@customer.example>\r\nDATA\r\n").await.unwrap();
    assert!(read_reply(&mut r).await.starts_with("250"));
    assert!(read_reply(&mut r).await.starts_with("354"));
    w.write_all(b"Subject: late\r\n\r\nx\r\n.\r\n").await.unwrap();
    assert!(read_reply(&mut r).await.starts_with("250"));
    assert!(read_reply(&mut r).await.starts_with("421 4.3.0"));
    tokio::time::timeout(Duration::from_secs(10), stopping).await.unwrap().unwrap();
    assert_eq!(up.messages().len(), 1);
}

/// The smallest policy the loader accepts: the fixed core keys.
const MINIMAL_POLICY: &str = "version: 1\norganisation:\n  name: Firm\n  domains: [firm.example]\n";

#[tokio::test]
async fn policy_reload_failure_keeps_the_old_policy() {
    let up = upstream(Script::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, MINIMAL_POLICY).unwrap();
    let mut config = config_for(up.addr);
    config.policy = Some(policy.clone());
    let relay = start_relay_in(config, dir).await;
    let before = relay.relay.settings();
    std::fs::write(&policy, "version: [unclosed\n").unwrap();
    assert!(relay.relay.reload().is_err());
    assert!(std::sync::Arc::ptr_eq(&before.policy, &relay.relay.settings().policy));
    // The console shows why, with the file and position `courtesy check` would name.
    let why = relay.relay.last_reload_error().expect("the failure is kept for the console");
    assert!(why.contains("policy.yaml:1:"), "{why}");
    std::fs::write(&policy, MINIMAL_POLICY).unwrap();
    relay.relay.reload().unwrap();
    assert_eq!(relay.relay.last_reload_error(), None);
    assert!(!std::sync::Arc::ptr_eq(&before.policy, &relay.relay.settings().policy));
    let metrics = relay.relay.metrics().render();
    assert!(
        metrics.contains("result=\"failed\"} 1") && metrics.contains("result=\"ok\"} 1"),
        "{metrics}"
    );
    relay.stop().await;
}
