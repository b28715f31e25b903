//! STARTTLS on both sides, and AUTH only after STARTTLS.

mod common;

use argon2::password_hash::{PasswordHasher, SaltString};
use common::*;
use courtesy::config::{AuthConfig, StartTls, TlsFiles};
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

fn tls_params(cert: &TestCert) -> TlsParameters {
    TlsParameters::builder("localhost".into())
        .add_root_certificate(Certificate::from_pem(cert.cert_pem.as_bytes()).unwrap())
        .build_rustls()
        .unwrap()
}

#[tokio::test]
async fn starttls_on_both_sides() {
    let upstream_cert = test_cert();
    let up = upstream(Script { tls: Some(upstream_cert.clone()), ..Default::default() }).await;
    let relay_cert = test_cert();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("upstream-ca.pem");
    std::fs::write(&ca, &upstream_cert.cert_pem).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &relay_cert.cert_pem).unwrap();
    std::fs::write(&key, &relay_cert.key_pem).unwrap();
    let mut config = config_for(up.addr);
    config.smtp.upstream.url = format!("smtp://localhost:{}", up.addr.port());
    config.smtp.upstream.starttls = StartTls::Required;
    config.smtp.upstream.ca_file = Some(ca);
    config.smtp.tls = Some(TlsFiles { cert, key });
    let relay = start_relay_in(config, dir).await;

    let mut c = client(relay.addr).await;
    assert!(c.can_starttls());
    c.starttls(tls_params(&relay_cert), &ClientId::Domain("client.test".into())).await.unwrap();
    assert!(c.is_encrypted());
    let data = message("tls", "secret\r\n");
    assert_eq!(send(&mut c, "ann@firm.example", &["bob@customer.example"], &data).await, Ok(250));
    assert_eq!(up.messages()[0].data, data);
    assert!(*up.tls_used.lock().unwrap(), "upstream leg not encrypted");
    relay.stop().await;
}

#[tokio::test]
async fn required_upstream_tls_without_offer_is_451() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.smtp.upstream.starttls = StartTls::Required;
    let relay = start_relay(config).await;
    let mut c = client(relay.addr).await;
    let err = c.command("MAIL FROM:<a@firm.example>\r\n").await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(451));
    relay.stop().await;
}

#[tokio::test]
async fn auth_after_starttls_lets_outside_clients_relay() {
    let up = upstream(Script::default()).await;
    let relay_cert = test_cert();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, users) =
        (dir.path().join("cert.pem"), dir.path().join("key.pem"), dir.path().join("users"));
    std::fs::write(&cert, &relay_cert.cert_pem).unwrap();
    std::fs::write(&key, &relay_cert.key_pem).unwrap();
    let salt = SaltString::encode_b64(b"test-salt-123456").unwrap();
    let hash = argon2::Argon2::default().hash_password(b"pa55word", &salt).unwrap();
    std::fs::write(&users, format!("ann:{hash}\n")).unwrap();
    let mut config = config_for(up.addr);
    config.smtp.tls = Some(TlsFiles { cert, key });
    config.smtp.allowed_networks = vec!["10.0.0.0/8".parse().unwrap()];
    config.smtp.auth = Some(AuthConfig {
        users_file: users,
        required: false,
        max_failures: 3,
        failure_delay: std::time::Duration::from_millis(10),
        max_failures_per_ip: 10,
        failure_window: std::time::Duration::from_secs(900),
    });
    let relay = start_relay_in(config, dir).await;
    let mut c = client(relay.addr).await;
    let err = c.command("MAIL FROM:<a@firm.example>\r\n").await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(530));
    c.starttls(tls_params(&relay_cert), &ClientId::Domain("client.test".into())).await.unwrap();
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let err = c.command(format!("AUTH PLAIN {}\r\n", b64("\0ann\0wrong"))).await.unwrap_err();
    assert_eq!(err.status().map(u16::from), Some(535));
    c.command(format!("AUTH PLAIN {}\r\n", b64("\0ann\0pa55word"))).await.unwrap();
    let data = message("auth", "hi\r\n");
    assert_eq!(send(&mut c, "ann@firm.example", &["bob@customer.example"], &data).await, Ok(250));
    relay.stop().await;
}
