//! The next hop, driven in lockstep with the client: MAIL, each RCPT and
//! the end of DATA are relayed one at a time, and the client gets the
//! upstream's own verdict for each (Postfix `smtpd_proxy_filter` semantics).
//!
//! The SMTP upstream uses lettre's `AsyncSmtpConnection` command by command
//! (`send()` would hide the per-recipient verdicts). lettre returns a 4xx
//! or 5xx reply as `Err`; [`from_lettre`] turns it back into the exact code
//! and text. One upstream session lives as long as the client's session, so
//! a busy client pays the connection set-up once, not per message.
//!
//! DATA goes upstream when the client sends it, and the client gets the
//! upstream's 354 (or its refusal): the message itself still goes up only
//! once it is complete and processed, but the round trip for DATA is no
//! longer added to every message. Until the message follows, the upstream
//! waits in its DATA phase; if it gave up meanwhile (its timeout ran out
//! while a slow client was sending), the relay sees that before sending a
//! byte and opens the transaction again on a fresh connection. A message
//! that is not sent after all (too big, the client vanished) is abandoned
//! by closing the connection, since nothing but the end marker ends DATA.

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;

use super::command::MailParams;
use super::dir_upstream::DirUpstream;
use super::reply::{Failure, Reply};
use super::stuffing::Stuffed;
use crate::config::{StartTls, UpstreamConfig, UpstreamTarget};

/// Errors preparing the upstream from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Bad URL.
    #[error("smtp.upstream.url: {0}")]
    Url(String),
    /// The CA file cannot be used.
    #[error("smtp.upstream.ca_file {path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The outbox directory cannot be created.
    #[error("outbox directory {path}: {source}")]
    Outbox {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Everything needed to open upstream sessions; built once per configuration.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    target: UpstreamTarget,
    starttls: StartTls,
    ca: Option<Vec<u8>>,
    helo: ClientId,
    timeout: Duration,
    data_timeout: Duration,
}

impl UpstreamSettings {
    /// Reads the configuration (and the CA file) and prepares the outbox.
    pub fn new(
        config: &UpstreamConfig,
        hostname: &str,
        timeout: Duration,
        data_timeout: Duration,
    ) -> Result<UpstreamSettings, UpstreamError> {
        let target = config.target().map_err(UpstreamError::Url)?;
        if let UpstreamTarget::Dir(dir) = &target {
            std::fs::create_dir_all(dir).map_err(|source| UpstreamError::Outbox {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let ca = match &config.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| UpstreamError::Ca {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                Certificate::from_pem(&pem).map_err(|e| UpstreamError::Ca {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                Some(pem)
            }
            None => None,
        };
        let helo =
            ClientId::Domain(config.helo_name.clone().unwrap_or_else(|| hostname.to_string()));
        Ok(UpstreamSettings { target, starttls: config.starttls, ca, helo, timeout, data_timeout })
    }

    /// A new, not yet connected upstream session.
    pub fn session(self: &Arc<Self>) -> Upstream {
        match &self.target {
            UpstreamTarget::Dir(dir) => Upstream::Dir(DirUpstream::new(dir.clone())),
            UpstreamTarget::Smtp { .. } => Upstream::Smtp(SmtpUpstream {
                settings: Arc::clone(self),
                conn: None,
                probe: None,
                in_transaction: false,
                data_open: false,
                replay: Vec::new(),
            }),
        }
    }

    fn tls_parameters(&self, host: &str) -> Result<TlsParameters, lettre::transport::smtp::Error> {
        let mut builder = TlsParameters::builder(host.to_string());
        if let Some(pem) = &self.ca {
            builder = builder.add_root_certificate(Certificate::from_pem(pem)?);
        }
        builder.build_rustls()
    }
}

/// One upstream session.
pub enum Upstream {
    /// An SMTP server.
    Smtp(SmtpUpstream),
    /// The outbox directory.
    Dir(DirUpstream),
}

impl Upstream {
    /// Opens a transaction (connecting first if needed).
    pub async fn mail(&mut self, from: &str, params: &MailParams) -> Result<Reply, Failure> {
        match self {
            Upstream::Smtp(s) => s.mail(from, params).await,
            Upstream::Dir(d) => Ok(d.mail(from)),
        }
    }

    /// Relays one recipient.
    pub async fn rcpt(&mut self, to: &str) -> Result<Reply, Failure> {
        match self {
            Upstream::Smtp(s) => s.rcpt(to).await,
            Upstream::Dir(d) => Ok(d.rcpt(to)),
        }
    }

    /// Starts DATA upstream; 354 means the upstream waits for the message.
    pub async fn data_start(&mut self) -> Result<Reply, Failure> {
        match self {
            Upstream::Smtp(s) => s.data_start().await,
            Upstream::Dir(_) => Ok(Reply::new(354, "Start mail input; end with <CRLF>.<CRLF>")),
        }
    }

    /// Sends the message (starting DATA first if [`Upstream::data_start`]
    /// was not called) and returns the upstream's final verdict.
    pub async fn data(&mut self, message: &[u8]) -> Result<Reply, Failure> {
        match self {
            Upstream::Smtp(s) => s.data(message).await,
            Upstream::Dir(d) => d.data(message).await,
        }
    }

    /// Abandons the open transaction, if any (closing the connection when
    /// the upstream is already waiting for the message).
    pub async fn rset(&mut self) {
        match self {
            Upstream::Smtp(s) => s.rset().await,
            Upstream::Dir(d) => d.rset(),
        }
    }

    /// Ends the session politely.
    pub async fn quit(&mut self) {
        if let Upstream::Smtp(s) = self {
            s.quit().await;
        }
    }
}

/// Largest message sent as one stuffed copy. Above it the copy would
/// double what an in-flight message costs in memory (measured: 2.05× the
/// size of a 10 MiB message, against 1.40× in pieces), while the time the
/// byte-by-byte stuffing takes matters less next to the transfer itself.
const ONE_WRITE_LIMIT: usize = 1024 * 1024;

/// Bytes of a large or non-UTF-8 message lettre dot-stuffs and writes at a time.
const DATA_PIECE: usize = 64 * 1024;

/// A session with an SMTP upstream.
pub struct SmtpUpstream {
    settings: Arc<UpstreamSettings>,
    // Boxed: the connection with its buffers is large, the outbox variant tiny.
    conn: Option<Box<AsyncSmtpConnection>>,
    /// A second handle on the connection's socket, to see whether the
    /// upstream hung up while it waited for the message; lettre does not
    /// expose its stream. Dropped together with `conn`, or the socket would
    /// stay open.
    probe: Option<std::net::TcpStream>,
    in_transaction: bool,
    /// DATA was accepted (354) and the message has not been sent yet.
    data_open: bool,
    /// MAIL and the accepted RCPT commands of the open transaction, to open
    /// it again if the upstream gave up waiting for the message.
    replay: Vec<String>,
}

impl SmtpUpstream {
    async fn connect(&mut self) -> Result<(), Failure> {
        let UpstreamTarget::Smtp { host, port } = &self.settings.target else {
            return Err(Failure::UpstreamUnreachable);
        };
        let s = &self.settings;
        let connect = async {
            // Our own socket, so TCP_NODELAY can be set: lettre writes the
            // message and the final dot separately, and with Nagle on the
            // second write waits for a delayed ACK (about 40 ms per message).
            let tcp = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|_| Failure::UpstreamUnreachable)?;
            let _ = tcp.set_nodelay(true);
            let (tcp, probe) = with_probe(tcp).map_err(|_| Failure::UpstreamUnreachable)?;
            let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &s.helo)
                .await
                .map_err(failure_from)?;
            if s.starttls != StartTls::Off && conn.can_starttls() {
                let params = s.tls_parameters(host).map_err(failure_from)?;
                conn.starttls(params, &s.helo).await.map_err(failure_from)?;
            }
            Ok::<_, Failure>((conn, probe))
        };
        let conn = match tokio::time::timeout(s.timeout, connect).await {
            Err(_) => {
                tracing::warn!(upstream = %host, "upstream connect timed out");
                return Err(Failure::UpstreamTimeout);
            }
            Ok(Err(failure)) => {
                tracing::warn!(upstream = %host, ?failure, "upstream connect failed");
                return Err(failure);
            }
            Ok(Ok(connected)) => connected,
        };
        let (conn, probe) = conn;
        if s.starttls == StartTls::Required && !conn.is_encrypted() {
            tracing::warn!(upstream = %host, "upstream offers no STARTTLS but it is required");
            let mut conn = conn;
            conn.abort().await;
            return Err(Failure::UpstreamNoTls);
        }
        self.conn = Some(Box::new(conn));
        self.probe = Some(probe);
        Ok(())
    }

    /// Runs one command; a broken or timed-out connection is dropped so the
    /// next transaction reconnects.
    async fn command(&mut self, line: String, timeout: Duration) -> Result<Reply, Failure> {
        let Some(conn) = self.conn.as_mut() else { return Err(Failure::UpstreamUnreachable) };
        match tokio::time::timeout(timeout, conn.command(line)).await {
            Err(_) => {
                self.drop_connection();
                Err(Failure::UpstreamTimeout)
            }
            Ok(result) => self.settle(result),
        }
    }

    fn settle(
        &mut self,
        result: Result<Response, lettre::transport::smtp::Error>,
    ) -> Result<Reply, Failure> {
        match from_lettre(result) {
            Ok(reply) => Ok(reply),
            Err(Failure::Upstream(reply)) => {
                if reply.code == 421 {
                    // The upstream is closing this session.
                    self.drop_connection();
                }
                Ok(reply)
            }
            Err(other) => {
                self.drop_connection();
                Err(other)
            }
        }
    }

    fn drop_connection(&mut self) {
        self.conn = None;
        self.probe = None;
        self.in_transaction = false;
        self.data_open = false;
    }

    /// Whether the upstream said something or hung up while it was waiting
    /// for the message: a server in its DATA phase only speaks after the
    /// end marker, so anything readable now is a timeout notice, a close
    /// or a reset.
    fn gave_up_waiting(&self) -> bool {
        let Some(probe) = &self.probe else { return true };
        !matches!(probe.peek(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    async fn mail(&mut self, from: &str, params: &MailParams) -> Result<Reply, Failure> {
        if self.in_transaction || self.data_open {
            self.rset().await;
        }
        self.replay.clear();
        let reused = self.conn.as_ref().is_some_and(|c| !c.has_broken());
        if !reused {
            self.connect().await?;
        }
        let line = mail_line(from, params);
        let mut result = self.command(line.clone(), self.settings.timeout).await;
        if reused && (matches!(result, Err(Failure::UpstreamUnreachable)) || is_421(&result)) {
            // The kept-open session died while idle (upstream timeout or
            // restart): one fresh connection before giving up.
            self.drop_connection();
            self.connect().await?;
            result = self.command(line, self.settings.timeout).await;
        }
        if result.as_ref().is_ok_and(Reply::is_positive) {
            self.in_transaction = true;
            self.replay.push(mail_line(from, params));
        }
        result
    }

    async fn rcpt(&mut self, to: &str) -> Result<Reply, Failure> {
        let line = format!("RCPT TO:<{to}>\r\n");
        let result = self.command(line.clone(), self.settings.timeout).await;
        if result.as_ref().is_ok_and(Reply::is_positive) {
            self.replay.push(line);
        }
        result
    }

    async fn data_start(&mut self) -> Result<Reply, Failure> {
        let go = self.command("DATA\r\n".to_string(), self.settings.timeout).await?;
        // Anything but 354 leaves the upstream's transaction as it was; the
        // next MAIL starts with RSET (in_transaction stays set).
        self.data_open = go.code == 354;
        Ok(go)
    }

    /// Opens the transaction again on a fresh connection after the upstream
    /// gave up waiting for the message. Nothing of the message was sent, so
    /// this cannot deliver it twice; if the upstream now answers any step
    /// differently, the client gets a temporary failure and tries again.
    async fn reopen(&mut self) -> Result<(), Failure> {
        tracing::info!("upstream closed the waiting DATA phase; opening the transaction again");
        let replay = std::mem::take(&mut self.replay);
        self.drop_connection();
        self.connect().await?;
        for line in &replay {
            let reply = self.command(line.clone(), self.settings.timeout).await?;
            if !reply.is_positive() {
                self.drop_connection();
                return Err(Failure::UpstreamUnreachable);
            }
            self.in_transaction = true;
        }
        self.replay = replay;
        match self.data_start().await? {
            go if go.code == 354 => Ok(()),
            _ => {
                self.drop_connection();
                Err(Failure::UpstreamUnreachable)
            }
        }
    }

    async fn data(&mut self, message: &[u8]) -> Result<Reply, Failure> {
        if !self.data_open {
            let go = self.data_start().await?;
            if go.code != 354 {
                return Ok(go);
            }
        } else if self.gave_up_waiting() {
            self.reopen().await?;
        }
        self.data_open = false;
        // The marker's CRLF.CRLF begins with the message's own final CRLF.
        let body = message.strip_suffix(b"\r\n").unwrap_or(message);
        let Some(conn) = self.conn.as_mut() else { return Err(Failure::UpstreamUnreachable) };
        let timeout = self.settings.data_timeout;
        let text = std::str::from_utf8(body).ok().filter(|_| body.len() <= ONE_WRITE_LIMIT);
        let sent = match text {
            // lettre writes a command's text as it is, in one write: the
            // stuffed message with its end marker is such a text.
            Some(text) => tokio::time::timeout(timeout, conn.command(Stuffed(text))).await,
            // Large messages, and 8-bit mail that is not UTF-8, take
            // lettre's own, slower, byte-by-byte stuffing a piece at a time,
            // so the second copy stays one piece long instead of the whole
            // message.
            None => tokio::time::timeout(timeout, conn.message_iter(body.chunks(DATA_PIECE))).await,
        };
        let result = match sent {
            Err(_) => {
                self.drop_connection();
                return Err(Failure::UpstreamTimeout);
            }
            Ok(result) => self.settle(result),
        };
        self.in_transaction = false;
        self.replay.clear();
        result
    }

    async fn rset(&mut self) {
        self.replay.clear();
        if self.data_open {
            // Whatever would follow DATA now would be read as the message.
            self.drop_connection();
            return;
        }
        if self.in_transaction && self.conn.is_some() {
            let result = self.command("RSET\r\n".to_string(), self.settings.timeout).await;
            if !result.is_ok_and(|r| r.is_positive()) {
                self.drop_connection();
            }
        }
        self.in_transaction = false;
    }

    async fn quit(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.quit()).await;
        }
    }
}

/// Splits off a second handle on the socket for [`SmtpUpstream::gave_up_waiting`].
/// The duplicate shares the non-blocking mode tokio set, so a peek on it
/// never blocks.
fn with_probe(
    tcp: tokio::net::TcpStream,
) -> std::io::Result<(tokio::net::TcpStream, std::net::TcpStream)> {
    let std = tcp.into_std()?;
    let probe = std.try_clone()?;
    Ok((tokio::net::TcpStream::from_std(std)?, probe))
}

fn is_421(result: &Result<Reply, Failure>) -> bool {
    matches!(result, Ok(r) if r.code == 421)
}

/// `MAIL FROM` for the upstream. SIZE is not passed on: the relay enforces
/// its own limit, a rewrite changes the size, and an upstream that does not
/// offer SIZE would reject the parameter; the upstream still judges the
/// real size at the end of DATA.
fn mail_line(from: &str, params: &MailParams) -> String {
    let mut line = format!("MAIL FROM:<{from}>");
    if let Some(body) = &params.body {
        line.push_str(" BODY=");
        line.push_str(body);
    }
    if params.smtputf8 {
        line.push_str(" SMTPUTF8");
    }
    line.push_str("\r\n");
    line
}

/// Turns lettre's result into the upstream's reply (positive or not), or a
/// failure when there was no reply at all.
pub fn from_lettre(
    result: Result<Response, lettre::transport::smtp::Error>,
) -> Result<Reply, Failure> {
    match result {
        Ok(response) => {
            let mut lines: Vec<String> = response.message().map(str::to_string).collect();
            if lines.is_empty() {
                lines.push(String::new());
            }
            Ok(Reply { code: u16::from(response.code()), lines })
        }
        Err(e) => Err(failure_from(e)),
    }
}

fn failure_from(e: lettre::transport::smtp::Error) -> Failure {
    match e.status() {
        Some(code) => {
            let text = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default();
            Failure::Upstream(Reply::new(u16::from(code), text))
        }
        None if e.is_timeout() => Failure::UpstreamTimeout,
        None => Failure::UpstreamUnreachable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_line_forwards_body_and_smtputf8_only() {
        let p = MailParams { size: Some(5), body: Some("8BITMIME".into()), smtputf8: true };
        assert_eq!(mail_line("a@b", &p), "MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8\r\n");
        assert_eq!(mail_line("", &MailParams::default()), "MAIL FROM:<>\r\n");
    }
}
