//! The milter over loopback with an MTA-side client: negotiation, rewrite
//! of an auto-reply, byte-identical pass-through, signed mail, engine
//! failure, observe mode, size limit, and the audit records it writes.

mod milter_support;

use std::time::Duration;

use milter_support::*;

const SENDER: &str = "maarten@hoekstra-advies.nl";
const RCPT: &str = "piet@bakkerij-degroot.nl";

#[tokio::test]
async fn negotiates_only_what_it_needs() {
    let m = start(config).await;
    let (mta, reply) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    let Some(Reply::Negotiate { version, actions, protocol }) = reply else {
        panic!("expected a negotiation reply, got {reply:?}")
    };
    assert_eq!(version, 6);
    assert_eq!(actions, ADDHDRS | CHGHDRS | CHGBODY);
    // No connect, helo, data or unknown events; no replies to MAIL, RCPT,
    // headers, end of headers and body; header values with leading space.
    assert_eq!(
        protocol,
        0x01 | 0x02 | 0x100 | 0x200 | 0x4000 | 0x8000 | 0x80 | 0x4_0000 | 0x8_0000 | 0x10_0000
    );
    mta.quit().await;
    m.stop().await;
}

#[tokio::test]
async fn refuses_an_mta_that_cannot_replace_the_body() {
    let m = start(config).await;
    let (_mta, reply) = Mta::connect(m.addr, ADDHDRS | CHGHDRS, POSTFIX_PROTOCOL).await;
    assert_eq!(reply, None, "the milter should close the connection");
    m.stop().await;
}

#[tokio::test]
async fn rewrites_an_outlook_auto_reply_like_the_golden_file() {
    let m = start(config).await;
    let original = golden("outlook-oof-nl-windows1252.eml");
    let expected = golden("outlook-oof-nl-windows1252.expected.eml");
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    let end = mta.message(SENDER, &[RCPT], &original).await;
    assert_eq!(end.last, Some(Reply::Continue));
    assert!(
        end.modifications.iter().any(|r| matches!(r, Reply::AddHeader { name, value }
            if name == "X-Courtesy" && value.contains("rewritten by courtesy"))),
        "no X-Courtesy header added: {:?}",
        end.modifications
    );
    let body = end.body_replaced().expect("the body is replaced");
    assert!(body == body_of(&expected), "replaced body differs from the golden body");
    for m in &end.modifications {
        if let Reply::ReplaceBody(chunk) = m {
            assert!(chunk.len() <= 65535);
        }
    }
    // Applied as the MTA applies them, the changes give the golden message.
    let delivered = apply(&original, &end, true);
    assert!(delivered == to_crlf(&expected), "delivered message differs from the golden file");
    mta.quit().await;

    let lines = m.audit_lines();
    assert!(
        lines.iter().any(|l| l.contains("\"kind\":\"message\"") && l.contains(SENDER)),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains("milter: continue with changes")), "{lines:?}");
    let metrics = m.milter.metrics().render();
    assert!(metrics.contains("courtesy_messages_total{disposition=\"rewritten\"} 1"), "{metrics}");
    m.stop().await;
}

#[tokio::test]
async fn the_same_without_no_reply_flags_and_without_leading_space() {
    let m = start(config).await;
    let original = golden("outlook-oof-nl-windows1252.eml");
    let expected = golden("outlook-oof-nl-windows1252.expected.eml");
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, 0).await;
    assert_eq!(mta.protocol, 0);
    let end = mta.message(SENDER, &[RCPT], &original).await;
    assert!(apply(&original, &end, false) == to_crlf(&expected));
    mta.quit().await;
    m.stop().await;
}

#[tokio::test]
async fn ordinary_mail_gets_continue_and_no_modifications() {
    let m = start(config).await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    // Several messages over one connection, as Postfix sends them.
    for _ in 0..3 {
        let end = mta.message(SENDER, &[RCPT], &golden("passthrough-human-reply.eml")).await;
        assert_eq!(end.modifications, vec![], "pass-through mail must not be modified");
        assert_eq!(end.last, Some(Reply::Continue));
    }
    mta.quit().await;
    assert!(m.audit_lines().iter().all(|l| !l.contains("\"kind\":\"message\"")));
    m.stop().await;
}

#[tokio::test]
async fn signed_mail_is_skipped_unchanged_and_audited() {
    let m = start(config).await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    let end = mta.message(SENDER, &[RCPT], &golden("signed-skipped-nl.eml")).await;
    assert_eq!(end.modifications, vec![]);
    assert_eq!(end.last, Some(Reply::Continue));
    mta.quit().await;
    let lines = m.audit_lines();
    assert!(lines.iter().any(|l| l.contains("milter: continue unchanged")), "{lines:?}");
    m.stop().await;
}

#[tokio::test]
async fn engine_timeout_passes_mail_unchanged_by_default() {
    let m = start(|dir| {
        let mut c = config(dir);
        // Set in code: the file format refuses 0s, so this cannot be configured by accident.
        c.engine_timeout = Duration::ZERO;
        c
    })
    .await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    let end = mta.message(SENDER, &[RCPT], &golden("outlook-oof-nl-windows1252.eml")).await;
    assert_eq!(end.modifications, vec![]);
    assert_eq!(end.last, Some(Reply::Continue));
    mta.quit().await;
    let metrics = m.milter.metrics().render();
    assert!(metrics.contains("courtesy_messages_total{disposition=\"failed\"} 1"), "{metrics}");
    assert!(m.audit_lines().iter().any(|l| l.contains("engine timed out")));
    m.stop().await;
}

#[tokio::test]
async fn engine_timeout_tempfails_when_configured() {
    let m = start(|dir| {
        let mut c = config(dir);
        c.engine_timeout = Duration::ZERO;
        c.engine_failure = courtesy::config::EngineFailureAction::Tempfail;
        c
    })
    .await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    let end = mta.message(SENDER, &[RCPT], &golden("outlook-oof-nl-windows1252.eml")).await;
    assert_eq!(end.modifications, vec![]);
    assert_eq!(end.last, Some(Reply::Tempfail));
    mta.quit().await;
    assert!(m.audit_lines().iter().any(|l| l.contains("milter: tempfail")));
    m.stop().await;
}

#[tokio::test]
async fn observe_mode_asks_for_no_rights_and_changes_nothing() {
    let m = start(|dir| {
        let mut c = config(dir);
        c.mode = courtesy::config::Mode::Observe;
        c
    })
    .await;
    // Observe mode works even with an MTA that grants no modifications.
    let (mut mta, reply) = Mta::connect(m.addr, 0, POSTFIX_PROTOCOL).await;
    assert!(matches!(reply, Some(Reply::Negotiate { actions: 0, .. })), "{reply:?}");
    let end = mta.message(SENDER, &[RCPT], &golden("outlook-oof-nl-windows1252.eml")).await;
    assert_eq!(end.modifications, vec![]);
    assert_eq!(end.last, Some(Reply::Continue));
    mta.quit().await;
    let metrics = m.milter.metrics().render();
    assert!(metrics.contains("courtesy_messages_total{disposition=\"observed\"} 1"), "{metrics}");
    m.stop().await;
}

#[tokio::test]
async fn messages_over_the_size_limit_pass_unchanged() {
    let m = start(|dir| {
        let mut c = config(dir);
        if let Some(milter) = c.milter.as_mut() {
            milter.max_message_size = 2048;
        }
        c
    })
    .await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    let end = mta.message(SENDER, &[RCPT], &golden("outlook-oof-nl-windows1252.eml")).await;
    assert_eq!(end.modifications, vec![]);
    assert_eq!(end.last, Some(Reply::Continue));
    mta.quit().await;
    assert!(m.milter.metrics().render().contains("disposition=\"too_big\"} 1"));
    m.stop().await;
}

#[tokio::test]
async fn drain_waits_for_a_message_in_progress() {
    let m = start(config).await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    mta.send(b'M', b"<maarten@hoekstra-advies.nl>\0").await;
    // Let the milter read MAIL before the drain starts.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = m.addr;
    let milter = m.milter.clone();
    let stopping = tokio::spawn(m.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!milter.healthy().load(std::sync::atomic::Ordering::Relaxed));
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "listener still open");
    // The message that had started still gets its answer.
    mta.send(b'R', b"<piet@bakkerij-degroot.nl>\0").await;
    mta.send(b'L', b"Subject\0 hi\0").await;
    mta.send(b'N', b"").await;
    mta.send(b'B', b"hello\r\n").await;
    mta.send(b'E', b"").await;
    assert_eq!(mta.read().await, Some(Reply::Continue));
    mta.send(b'A', b"").await;
    // Idle again: the milter closes the connection and the drain ends.
    assert_eq!(mta.read().await, None);
    tokio::time::timeout(Duration::from_secs(10), stopping).await.unwrap().unwrap();
}

#[tokio::test]
async fn serves_a_unix_socket_and_removes_it_on_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("milter.sock");
    // A stale socket file from an earlier run is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let mut config = config(dir.path());
    config.milter = Some(courtesy::config::MilterConfig {
        listen: format!("unix:{}", path.display()),
        ..Default::default()
    });
    let listener = courtesy::milter::Listener::bind(&config.milter()).await.unwrap();
    let milter = courtesy::milter::Milter::new(config, None).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(courtesy::milter::serve(milter, listener, async {
        let _ = stop_rx.await;
    }));

    let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
    let mut packet = 13u32.to_be_bytes().to_vec();
    packet.push(b'O');
    packet.extend(6u32.to_be_bytes());
    packet.extend(ALL_ACTIONS.to_be_bytes());
    packet.extend(0u32.to_be_bytes());
    stream.write_all(&packet).await.unwrap();
    let mut head = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head[4], b'O', "negotiation reply over the Unix socket");
    drop(stream);

    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert!(!path.exists(), "socket file left behind");
}
