//! The client sees the upstream's verdicts; nothing is accepted that the
//! upstream did not accept.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test]
async fn rejected_recipient_is_rejected_to_the_client() {
    let up = upstream(Script {
        reject_rcpt: vec!["gone@customer.example".into()],
        ..Default::default()
    })
    .await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut c = client(relay.addr).await;
    c.command("MAIL FROM:<ann@firm.example>\r\n").await.unwrap();
    let err = c.command("RCPT TO:<gone@customer.example>\r\n").await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(550));
    assert!(err.to_string().contains("5.1.1"), "{err}");
    c.command("RCPT TO:<bob@customer.example>\r\n").await.unwrap();
    c.command("DATA\r\n").await.unwrap();
    let reply = c.message(&message("partial", "hi\r\n")[..]).await.unwrap();
    assert_eq!(u16::from(reply.code()), 250);
    let got = up.messages();
    assert_eq!(got[0].rcpt, vec!["bob@customer.example".to_string()]);
    relay.stop().await;
}

async fn data_refused_with(code: u16, text: &str) {
    let up = upstream(Script { data_reply: Some((code, text.into())), ..Default::default() }).await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut c = client(relay.addr).await;
    let result =
        send(&mut c, "ann@firm.example", &["bob@customer.example"], &message("x", "x\r\n")).await;
    let (got, text_seen) = result.unwrap_err();
    assert_eq!(got, code);
    assert!(text_seen.contains(&text[..5]), "{text_seen}");
    assert!(up.messages().is_empty());
    // The session goes on: the next message gets its own verdict.
    let again =
        send(&mut c, "ann@firm.example", &["bob@customer.example"], &message("y", "y\r\n")).await;
    assert_eq!(again.unwrap_err().0, code);
    relay.stop().await;
}

#[tokio::test]
async fn upstream_550_on_data_reaches_the_client() {
    data_refused_with(550, "5.7.1 content refused").await;
}

#[tokio::test]
async fn upstream_451_on_data_reaches_the_client() {
    data_refused_with(451, "4.3.0 try later").await;
}

#[tokio::test]
async fn upstream_refusing_the_data_command_is_answered_before_the_message() {
    let up = upstream(Script {
        refuse_data_command: Some((554, "5.5.1 Error: no valid recipients".into())),
        ..Default::default()
    })
    .await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut c = client(relay.addr).await;
    c.command("MAIL FROM:<ann@firm.example>\r\n").await.unwrap();
    c.command("RCPT TO:<bob@customer.example>\r\n").await.unwrap();
    let err = c.command("DATA\r\n").await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(554));
    assert!(err.to_string().contains("no valid recipients"), "{err}");
    // The transaction is over on both sides; a new one starts cleanly.
    c.command("RSET\r\n").await.unwrap();
    c.command("MAIL FROM:<ann@firm.example>\r\n").await.unwrap();
    c.command("RCPT TO:<bob@customer.example>\r\n").await.unwrap();
    assert_eq!(c.command("DATA\r\n").await.unwrap_err().status().map(u16::from), Some(554));
    assert!(up.messages().is_empty());
    relay.stop().await;
}

/// The upstream waits in DATA while the client sends; when a slow client
/// outlasts the upstream's timeout, the relay opens the transaction again
/// instead of losing the message.
#[tokio::test]
async fn upstream_giving_up_while_the_client_sends_is_survived() {
    let up = upstream(Script {
        data_wait_limit: Some(Duration::from_millis(200)),
        reject_rcpt: vec!["gone@customer.example".into()],
        ..Default::default()
    })
    .await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut c = client(relay.addr).await;
    c.command("MAIL FROM:<ann@firm.example>\r\n").await.unwrap();
    c.command("RCPT TO:<bob@customer.example>\r\n").await.unwrap();
    assert!(c.command("RCPT TO:<gone@customer.example>\r\n").await.is_err());
    c.command("RCPT TO:<cy@customer.example>\r\n").await.unwrap();
    c.command("DATA\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reply = c.message(&message("slow", "..dot line\r\nrest\r\n")[..]).await.unwrap();
    assert_eq!(u16::from(reply.code()), 250);
    let got = up.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "ann@firm.example");
    assert_eq!(got[0].rcpt, vec!["bob@customer.example", "cy@customer.example"]);
    assert!(String::from_utf8_lossy(&got[0].data).contains("\r\n..dot line\r\n"));
    assert_eq!(*up.sessions.lock().unwrap(), 2, "one fresh connection for the second try");
    relay.stop().await;
}

#[tokio::test]
async fn upstream_down_is_a_temporary_failure() {
    let relay = start_relay(config_for(dead_port().await)).await;
    let mut c = client(relay.addr).await;
    let err = c.command("MAIL FROM:<ann@firm.example>\r\n").await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(451));
    assert!(err.to_string().contains("4.4.1"), "{err}");
    // Nothing was accepted, so there is no transaction to continue.
    let err = c.command("RCPT TO:<bob@customer.example>\r\n").await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(503));
    let metrics = relay.relay.metrics().render();
    assert!(
        metrics.contains("courtesy_upstream_replies_total{command=\"mail\",class=\"none\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("disposition"), "a message was counted: {metrics}");
    relay.stop().await;
}

#[tokio::test]
async fn upstream_stalling_after_data_is_a_temporary_failure() {
    let up = upstream(Script { stall_data: true, ..Default::default() }).await;
    let mut config = config_for(up.addr);
    config.smtp.limits.upstream_data_timeout = Duration::from_millis(500);
    let relay = start_relay(config).await;
    let mut c = client(relay.addr).await;
    let started = std::time::Instant::now();
    let result =
        send(&mut c, "ann@firm.example", &["bob@customer.example"], &message("s", "s\r\n")).await;
    assert_eq!(result.unwrap_err().0, 451);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(up.messages().is_empty());
    relay.stop().await;
}

#[tokio::test]
async fn upstream_closing_the_kept_session_is_survived() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut c = client(relay.addr).await;
    assert_eq!(
        send(&mut c, "a@firm.example", &["b@customer.example"], &message("1", "1\r\n")).await,
        Ok(250)
    );
    // The upstream restarts (or times the idle session out) between messages.
    up.kill_sessions();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        send(&mut c, "a@firm.example", &["b@customer.example"], &message("2", "2\r\n")).await,
        Ok(250)
    );
    assert_eq!(up.messages().len(), 2);
    assert_eq!(*up.sessions.lock().unwrap(), 2);
    relay.stop().await;
}
