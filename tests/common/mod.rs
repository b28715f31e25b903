//! Shared helpers for the relay tests: a small real SMTP server that plays
//! the upstream (records what it receives, can be scripted to refuse), the
//! relay started on 127.0.0.1:0, and test certificates.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use courtesy::config::ServiceConfig;
use courtesy::smtp::Relay;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One message as the upstream received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub from: String,
    pub rcpt: Vec<String>,
    /// Message bytes after dot-unstuffing, including the final CRLF.
    pub data: Vec<u8>,
}

/// How the test upstream behaves.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Recipients refused with `550 5.1.1`.
    pub reject_rcpt: Vec<String>,
    /// Reply to the end of DATA instead of 250 (the message is not recorded then).
    pub data_reply: Option<(u16, String)>,
    /// Never answer the end of DATA.
    pub stall_data: bool,
    /// Refuse the DATA command itself with this reply.
    pub refuse_data_command: Option<(u16, String)>,
    /// Give up on a message that does not start within this time after
    /// 354: answer 421 and close, as Postfix does when its timeout runs out.
    pub data_wait_limit: Option<Duration>,
    /// Offer STARTTLS with this certificate.
    pub tls: Option<TestCert>,
}

/// A self-signed certificate for `localhost`, as PEM.
#[derive(Debug, Clone)]
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn test_cert() -> TestCert {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    TestCert { cert_pem: ck.cert.pem(), key_pem: ck.signing_key.serialize_pem() }
}

/// The test upstream.
pub struct Upstream {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Sessions seen (a kept-open upstream session counts once).
    pub sessions: Arc<Mutex<usize>>,
    /// Whether the last session was encrypted.
    pub tls_used: Arc<Mutex<bool>>,
    session_tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    task: JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
        self.kill_sessions();
    }
}

impl Upstream {
    /// Closes every open session, as an upstream restart or its idle timeout would.
    pub fn kill_sessions(&self) {
        for task in self.session_tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A port on which nothing listens.
pub async fn dead_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

pub async fn upstream(script: Script) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sessions = Arc::new(Mutex::new(0));
    let tls_used = Arc::new(Mutex::new(false));
    let session_tasks = Arc::new(Mutex::new(Vec::new()));
    let (r, s, t, st) =
        (received.clone(), sessions.clone(), tls_used.clone(), session_tasks.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            *s.lock().unwrap() += 1;
            let (r, script, t) = (r.clone(), script.clone(), t.clone());
            let session = tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let _ = serve_upstream(stream, script, r, t).await;
            });
            st.lock().unwrap().push(session.abort_handle());
        }
    });
    Upstream { addr, received, sessions, tls_used, session_tasks, task }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn serve_upstream(
    stream: TcpStream,
    script: Script,
    received: Arc<Mutex<Vec<Received>>>,
    tls_used: Arc<Mutex<bool>>,
) -> std::io::Result<()> {
    let mut io: BufReader<Box<dyn Io>> = BufReader::new(Box::new(stream));
    io.get_mut().write_all(b"220 upstream.test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut rcpt = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if io.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = text.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let tls = if script.tls.is_some() { "250-STARTTLS\r\n" } else { "" };
            format!(
                "250-upstream.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n{tls}250 SIZE 100000000\r\n"
            )
        } else if upper == "STARTTLS" {
            let cert = script.tls.clone().expect("STARTTLS only offered with a cert");
            io.get_mut().write_all(b"220 2.0.0 go ahead\r\n").await?;
            let acceptor = acceptor(&cert);
            let inner = io.into_inner();
            let tls = acceptor.accept(inner).await?;
            *tls_used.lock().unwrap() = true;
            io = BufReader::new(Box::new(tls));
            continue;
        } else if upper.starts_with("MAIL FROM:") {
            from = text[10..].trim().trim_start_matches('<').split('>').next().unwrap_or("").into();
            rcpt.clear();
            "250 2.1.0 sender ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let to: String =
                text[8..].trim().trim_start_matches('<').split('>').next().unwrap_or("").into();
            if script.reject_rcpt.contains(&to) {
                format!("550 5.1.1 <{to}>: user unknown\r\n")
            } else {
                rcpt.push(to);
                "250 2.1.5 recipient ok\r\n".into()
            }
        } else if upper == "DATA" {
            if let Some((code, text)) = &script.refuse_data_command {
                io.get_mut().write_all(format!("{code} {text}\r\n").as_bytes()).await?;
                continue;
            }
            io.get_mut().write_all(b"354 go ahead\r\n").await?;
            let mut data = Vec::new();
            loop {
                line.clear();
                let read = io.read_until(b'\n', &mut line);
                let n = match script.data_wait_limit.filter(|_| data.is_empty()) {
                    Some(limit) => match tokio::time::timeout(limit, read).await {
                        Ok(n) => n?,
                        Err(_) => {
                            let notice = b"421 4.4.2 upstream.test Error: timeout exceeded\r\n";
                            io.get_mut().write_all(notice).await?;
                            return Ok(());
                        }
                    },
                    None => read.await?,
                };
                if n == 0 {
                    return Ok(());
                }
                if line == b".\r\n" {
                    break;
                }
                let l = if line.starts_with(b".") { &line[1..] } else { &line[..] };
                data.extend_from_slice(l);
            }
            if script.stall_data {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            match &script.data_reply {
                Some((code, text)) => format!("{code} {text}\r\n"),
                None => {
                    received.lock().unwrap().push(Received {
                        from: std::mem::take(&mut from),
                        rcpt: std::mem::take(&mut rcpt),
                        data,
                    });
                    "250 2.0.0 queued as TEST\r\n".into()
                }
            }
        } else if upper == "RSET" {
            from.clear();
            rcpt.clear();
            "250 2.0.0 ok\r\n".into()
        } else if upper == "QUIT" {
            io.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else if upper == "NOOP" {
            "250 2.0.0 ok\r\n".into()
        } else {
            "502 5.5.2 not implemented\r\n".into()
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}

fn acceptor(cert: &TestCert) -> tokio_rustls::TlsAcceptor {
    let certs: Vec<_> =
        rustls_pemfile::certs(&mut cert.cert_pem.as_bytes()).collect::<Result<_, _>>().unwrap();
    let key = rustls_pemfile::private_key(&mut cert.key_pem.as_bytes()).unwrap().unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// The relay under test; stops (and waits for the drain) when dropped or on `stop()`.
pub struct RelayUnderTest {
    pub addr: SocketAddr,
    pub relay: Arc<Relay>,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RelayUnderTest {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
        }
    }

    /// Writes a file into the test's temporary directory.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for RelayUnderTest {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A configuration relaying to `upstream` with short timeouts for tests.
pub fn config_for(upstream: SocketAddr) -> ServiceConfig {
    let mut config = ServiceConfig::default();
    config.smtp.upstream.url = format!("smtp://{upstream}");
    config.smtp.upstream.starttls = courtesy::config::StartTls::Off;
    config.smtp.limits.upstream_timeout = Duration::from_secs(5);
    config.smtp.limits.upstream_data_timeout = Duration::from_secs(5);
    config.shutdown_grace = Duration::from_secs(5);
    config.policy_poll = Duration::ZERO;
    config
}

pub async fn start_relay(config: ServiceConfig) -> RelayUnderTest {
    let dir = tempfile::tempdir().unwrap();
    start_relay_in(config, dir).await
}

pub async fn start_relay_in(config: ServiceConfig, dir: tempfile::TempDir) -> RelayUnderTest {
    // The production backlog: tokio's default of 128 overflows when a test
    // opens hundreds of connections at once, and the overflowing clients
    // then wait for a greeting that never comes.
    let listener = courtesy::listen::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let relay = Relay::new(config, None).expect("relay builds");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let r = relay.clone();
    let task = tokio::spawn(async move {
        courtesy::smtp::serve(r, vec![listener], async {
            let _ = stop_rx.await;
        })
        .await
        .unwrap();
    });
    RelayUnderTest { addr, relay, dir, stop: Some(stop_tx), task: Some(task) }
}

/// A lettre connection to the relay, EHLO done.
pub async fn client(addr: SocketAddr) -> lettre::transport::smtp::client::AsyncSmtpConnection {
    lettre::transport::smtp::client::AsyncSmtpConnection::connect_tokio1(
        addr,
        Some(Duration::from_secs(5)),
        &lettre::transport::smtp::extension::ClientId::Domain("client.test".into()),
        None,
        None,
    )
    .await
    .expect("connect to relay")
}

/// Reads a reply (possibly multi-line) from a raw socket; returns the whole text.
pub async fn read_reply<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut line))
            .await
            .expect("reply in time")
            .unwrap();
        if n == 0 {
            return all;
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return all;
        }
    }
}

/// A plain message with the given body.
pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Ann <ann@firm.example>\r\nTo: Bob <bob@customer.example>\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@firm.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n\r\n{body}"
    )
    .into_bytes()
}

/// Sends a whole message through `conn` command by command; returns the final reply code.
pub async fn send(
    conn: &mut lettre::transport::smtp::client::AsyncSmtpConnection,
    from: &str,
    to: &[&str],
    data: &[u8],
) -> Result<u16, (u16, String)> {
    let code = |r: lettre::transport::smtp::response::Response| u16::from(r.code());
    let err =
        |e: lettre::transport::smtp::Error| (e.status().map(u16::from).unwrap_or(0), e.to_string());
    conn.command(format!("MAIL FROM:<{from}>\r\n")).await.map_err(err)?;
    for t in to {
        conn.command(format!("RCPT TO:<{t}>\r\n")).await.map_err(err)?;
    }
    conn.command("DATA\r\n").await.map_err(err)?;
    let body = data.strip_suffix(b"\r\n").unwrap_or(data);
    conn.message(body).await.map(code).map_err(err)
}
