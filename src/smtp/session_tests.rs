use base64::Engine as _;

use super::*;

fn config() -> SessionConfig {
    SessionConfig {
        hostname: "relay.test".into(),
        max_message_size: 1000,
        max_recipients: 2,
        tls_available: true,
        auth_available: true,
        auth_required: false,
    }
}

fn code(action: &Action) -> u16 {
    match action {
        Action::Reply(r) | Action::Close(r) => r.code,
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[test]
fn ehlo_advertises_extensions() {
    let mut s = Session::new(config());
    let Action::Reply(r) = s.command(b"EHLO c", false) else { panic!() };
    let text = String::from_utf8(r.to_bytes()).unwrap();
    for ext in
        ["PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS"]
    {
        assert!(text.contains(ext), "{ext} missing in {text}");
    }
    assert!(!text.contains("AUTH"), "AUTH offered before TLS: {text}");
}

#[test]
fn transaction_order() {
    let mut s = Session::new(config());
    assert_eq!(code(&s.command(b"MAIL FROM:<a@b>", false)), 503);
    s.command(b"EHLO c", false);
    assert_eq!(code(&s.command(b"RCPT TO:<a@b>", false)), 503);
    assert_eq!(code(&s.command(b"DATA", false)), 503);
    assert_eq!(
        s.command(b"MAIL FROM:<a@b> SIZE=10", false),
        Action::Mail {
            from: "a@b".into(),
            params: MailParams { size: Some(10), ..Default::default() }
        }
    );
    s.mail_result(true);
    assert_eq!(code(&s.command(b"MAIL FROM:<a@b>", false)), 503);
    assert_eq!(code(&s.command(b"DATA", false)), 554);
    assert_eq!(s.command(b"RCPT TO:<x@y>", false), Action::Rcpt { to: "x@y".into() });
    s.rcpt_result(false);
    assert_eq!(code(&s.command(b"DATA", false)), 554);
    s.command(b"RCPT TO:<x@y>", false);
    s.rcpt_result(true);
    s.command(b"RCPT TO:<z@y>", false);
    s.rcpt_result(true);
    assert_eq!(code(&s.command(b"RCPT TO:<w@y>", false)), 452);
    assert_eq!(s.command(b"DATA", false), Action::Data);
    s.data_done();
    assert!(!s.in_transaction());
    assert!(matches!(s.command(b"MAIL FROM:<>", false), Action::Mail { .. }));
}

#[test]
fn upstream_refusing_mail_leaves_no_transaction() {
    let mut s = Session::new(config());
    s.command(b"EHLO c", false);
    s.command(b"MAIL FROM:<a@b>", false);
    s.mail_result(false);
    assert_eq!(code(&s.command(b"RCPT TO:<x@y>", false)), 503);
}

#[test]
fn size_and_line_limits() {
    let mut s = Session::new(config());
    s.command(b"EHLO c", false);
    assert_eq!(code(&s.command(b"MAIL FROM:<a@b> SIZE=1001", false)), 552);
    assert_eq!(code(&s.command(b"NOOP", true)), 500);
    assert_eq!(code(&s.command(b"MAIL FROM:<a@b> X=1", false)), 555);
    let mut helo = Session::new(config());
    helo.command(b"HELO c", false);
    assert_eq!(code(&helo.command(b"MAIL FROM:<a@b> SMTPUTF8", false)), 555);
}

#[test]
fn rset_and_quit() {
    let mut s = Session::new(config());
    s.command(b"EHLO c", false);
    s.command(b"MAIL FROM:<a@b>", false);
    s.mail_result(true);
    assert_eq!(s.command(b"RSET", false), Action::Rset);
    assert!(!s.in_transaction());
    assert!(matches!(s.command(b"QUIT", false), Action::Close(r) if r.code == 221));
}

#[test]
fn starttls_resets_and_enables_auth() {
    let mut s = Session::new(config());
    assert_eq!(code(&s.command(b"AUTH PLAIN", false)), 503);
    s.command(b"EHLO c", false);
    assert_eq!(code(&s.command(b"AUTH PLAIN AGEAYg==", false)), 503);
    assert_eq!(s.command(b"STARTTLS", false), Action::StartTls);
    s.tls_started();
    assert_eq!(code(&s.command(b"MAIL FROM:<a@b>", false)), 503, "EHLO needed again");
    let Action::Reply(r) = s.command(b"EHLO c", false) else { panic!() };
    let text = String::from_utf8(r.to_bytes()).unwrap();
    assert!(text.contains("AUTH PLAIN LOGIN") && !text.contains("STARTTLS"), "{text}");
    assert_eq!(code(&s.command(b"STARTTLS", false)), 502);
}

#[test]
fn auth_plain_and_login() {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut s = Session::new(config());
    s.tls_started();
    s.command(b"EHLO c", false);
    let line = format!("AUTH PLAIN {}", b64("\0ann\0secret"));
    assert_eq!(
        s.command(line.as_bytes(), false),
        Action::Authenticate { user: "ann".into(), password: "secret".into() }
    );
    assert_eq!(s.auth_result("ann", false).code, 535);
    assert_eq!(code(&s.command(b"AUTH LOGIN", false)), 334);
    assert_eq!(code(&s.command(b64("bob").as_bytes(), false)), 334);
    assert_eq!(
        s.command(b64("pw").as_bytes(), false),
        Action::Authenticate { user: "bob".into(), password: "pw".into() }
    );
    assert_eq!(s.auth_result("bob", true).code, 235);
    assert_eq!(s.user(), Some("bob"));
    assert_eq!(code(&s.command(b"AUTH LOGIN", false)), 503);
    assert_eq!(code(&s.command(b"AUTH PLAIN !!!", false)), 503);
}

#[test]
fn auth_required_blocks_mail() {
    let mut s = Session::new(SessionConfig { auth_required: true, ..config() });
    s.command(b"EHLO c", false);
    assert_eq!(code(&s.command(b"MAIL FROM:<a@b>", false)), 530);
    let mut s = Session::new(config());
    s.tls_started();
    s.command(b"EHLO c", false);
    assert_eq!(code(&s.command(b"AUTH CRAM-MD5", false)), 504);
    assert_eq!(code(&s.command(b"AUTH PLAIN", false)), 334);
    assert_eq!(code(&s.command(b"*", false)), 501);
}
