//! One client connection: reads with timeouts, feeds the session state
//! machine, performs what it asks (upstream, TLS, AUTH), writes replies.
//!
//! Replies are collected in one buffer and written when the client's input
//! is drained (RFC 2920 PIPELINING), and always before waiting on the
//! client (354, TLS). Together with TCP_NODELAY this avoids the Nagle and
//! delayed-ACK stall of about 40 ms per message that small writes cause.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::data::DataReceiver;
use super::deliver;
use super::reply::{Failure, Reply};
use super::server::{Relay, Settings};
use super::session::{Action, MAX_COMMAND_LINE, Session, SessionConfig};
use crate::envelope::Envelope;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

const READ_CHUNK: usize = 64 * 1024;

/// Writes a one-line refusal and closes.
pub(super) async fn refuse(mut stream: TcpStream, reply: &str) {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

struct Conn {
    io: Box<dyn Io>,
    input: Vec<u8>,
    pos: usize,
    output: Vec<u8>,
    closed: bool,
    /// A client that stops reading must not pin the task on a full socket.
    write_timeout: Duration,
}

enum Read {
    Data,
    Eof,
    Timeout,
    Drain,
}

impl Conn {
    fn pending(&self) -> &[u8] {
        &self.input[self.pos..]
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.output.is_empty() {
            tokio::time::timeout(self.write_timeout, self.io.write_all(&self.output))
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
            self.output.clear();
        }
        Ok(())
    }

    fn push(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
    }

    /// Reads more input until `deadline`; while `drain` is watched, a
    /// shutdown interrupts the wait.
    async fn read(&mut self, deadline: Instant, drain: Option<&mut watch::Receiver<bool>>) -> Read {
        if self.pos > 0 && self.pos == self.input.len() {
            self.input.clear();
            self.pos = 0;
        } else if self.pos > READ_CHUNK {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        self.input.reserve(READ_CHUNK);
        let read = tokio::time::timeout_at(deadline, self.io.read_buf(&mut self.input));
        let result = match drain {
            Some(drain) => tokio::select! {
                r = read => r,
                _ = drain.wait_for(|d| *d) => return Read::Drain,
            },
            None => read.await,
        };
        match result {
            Err(_) => Read::Timeout,
            Ok(Ok(0)) | Ok(Err(_)) => Read::Eof,
            Ok(Ok(_)) => Read::Data,
        }
    }

    /// The next command line, without CRLF; `(line, too_long)`.
    fn next_line(&mut self) -> Option<(Vec<u8>, bool)> {
        let pending = self.pending();
        match pending.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let mut line = &pending[..i];
                if let Some(l) = line.strip_suffix(b"\r") {
                    line = l;
                }
                let result = (line.to_vec(), i + 1 > MAX_COMMAND_LINE);
                self.pos += i + 1;
                Some(result)
            }
            None => None,
        }
    }
}

/// Runs one client session to its end.
pub(super) async fn handle(
    relay: Arc<Relay>,
    settings: Arc<Settings>,
    stream: TcpStream,
    peer: SocketAddr,
    must_authenticate: bool,
    mut drain: watch::Receiver<bool>,
) {
    let config = &settings.config;
    let limits = &config.smtp.limits;
    let mut session = Session::new(SessionConfig {
        hostname: config.hostname().to_string(),
        max_message_size: limits.max_message_size,
        max_recipients: limits.max_recipients,
        tls_available: settings.tls.is_some(),
        auth_available: settings.users.is_some(),
        auth_required: must_authenticate || config.smtp.auth.as_ref().is_some_and(|a| a.required),
    });
    let mut conn = Conn {
        io: Box::new(stream),
        input: Vec::with_capacity(READ_CHUNK),
        pos: 0,
        output: Vec::with_capacity(4096),
        closed: false,
        write_timeout: limits.command_timeout,
    };
    tracing::debug!(%peer, "connected");
    conn.push(&session.greeting());
    let mut upstream = settings.upstream.session();
    let mut envelope = Envelope::default();
    let mut message = Vec::new();
    let mut auth_failures = 0u32;
    let mut skipping_long_line = false;
    // The whole command must arrive within the timeout, not each read: a
    // client sending one byte at a time would otherwise hold the
    // connection forever (slowloris).
    let mut command_deadline = Instant::now() + limits.command_timeout;

    while !conn.closed {
        let Some((line, too_long)) = conn.next_line() else {
            // No complete command buffered: this is the moment to flush.
            if conn.flush().await.is_err() {
                break;
            }
            if conn.pending().len() > MAX_COMMAND_LINE {
                // A line without end: drop what we have, answer once it ends.
                conn.pos = conn.input.len();
                skipping_long_line = true;
            }
            let watch_drain = if session.in_transaction() { None } else { Some(&mut drain) };
            match conn.read(command_deadline, watch_drain).await {
                Read::Data => continue,
                Read::Eof => break,
                Read::Timeout => {
                    tracing::info!("client idle too long, closing");
                    conn.push(&Reply::new(421, "4.4.2 Idle timeout, closing connection"));
                    break;
                }
                Read::Drain => {
                    conn.push(&Failure::ShuttingDown.reply());
                    break;
                }
            }
        };
        // Taken unconditionally: a line both cut here and over-long at its
        // end must not leave the flag set for the next command.
        let skipped = std::mem::take(&mut skipping_long_line);
        let too_long = too_long || skipped;
        match session.command(&line, too_long) {
            Action::Reply(r) => conn.push(&r),
            Action::Close(r) => {
                conn.push(&r);
                conn.closed = true;
            }
            Action::Rset => {
                upstream.rset().await;
                envelope = Envelope::default();
                conn.push(&Reply::new(250, "2.0.0 OK"));
            }
            Action::Mail { from, params } => {
                let reply = upstream_step(&relay, "mail", upstream.mail(&from, &params).await);
                session.mail_result(reply.is_positive());
                if reply.is_positive() {
                    envelope = Envelope { mail_from: from, rcpt_to: Vec::new() };
                }
                log_refusal("MAIL", &reply);
                conn.push(&reply);
            }
            Action::Rcpt { to } => {
                let reply = upstream_step(&relay, "rcpt", upstream.rcpt(&to).await);
                session.rcpt_result(reply.is_positive());
                if reply.is_positive() {
                    envelope.rcpt_to.push(to);
                }
                log_refusal("RCPT", &reply);
                conn.push(&reply);
            }
            Action::Data => {
                // The upstream's own answer to DATA, so a refusal there
                // reaches the client before it sends the message.
                let go = data_go_ahead(&relay, upstream.data_start().await);
                if go.code != 354 {
                    log_refusal("DATA", &go);
                    session.data_done();
                    envelope = Envelope::default();
                    conn.push(&go);
                    command_deadline = Instant::now() + limits.command_timeout;
                    continue;
                }
                conn.push(&Reply::new(354, "Start mail input; end with <CRLF>.<CRLF>"));
                if conn.flush().await.is_err() {
                    upstream.rset().await;
                    break;
                }
                message.clear();
                let max_size = usize::try_from(limits.max_message_size).unwrap_or(usize::MAX);
                let mut receiver = DataReceiver::new(max_size, limits.max_data_line);
                let mut rate = DataDeadline::new(Instant::now(), limits);
                let complete = loop {
                    let progress = receiver.feed(&conn.input[conn.pos..], &mut message);
                    conn.pos += progress.consumed;
                    rate.received(progress.consumed);
                    if progress.done {
                        break true;
                    }
                    match conn.read(rate.next_read_deadline(Instant::now()), None).await {
                        Read::Data => {}
                        Read::Timeout => {
                            conn.push(&Reply::new(
                                421,
                                "4.4.2 Timeout during DATA, closing connection",
                            ));
                            break false;
                        }
                        _ => break false,
                    }
                };
                if !complete {
                    // No final reply was given, so the client still owns the message.
                    upstream.rset().await;
                    break;
                }
                let reply = deliver::deliver(
                    &relay,
                    &settings,
                    &mut upstream,
                    &envelope,
                    &mut message,
                    receiver.error(),
                )
                .await;
                session.data_done();
                envelope = Envelope::default();
                conn.push(&reply);
            }
            Action::StartTls => {
                let Some(acceptor) = settings.tls.clone() else {
                    conn.push(&Reply::new(502, "5.5.1 STARTTLS not available"));
                    continue;
                };
                conn.push(&Reply::new(220, "2.0.0 Ready to start TLS"));
                if conn.flush().await.is_err() {
                    break;
                }
                // Anything pipelined after STARTTLS is plaintext injection (RFC 3207 §5).
                conn.input.clear();
                conn.pos = 0;
                let io = std::mem::replace(
                    &mut conn.io,
                    Box::new(tokio::io::join(tokio::io::empty(), tokio::io::sink())),
                );
                match tokio::time::timeout(limits.command_timeout, acceptor.accept(io)).await {
                    Ok(Ok(tls)) => {
                        conn.io = Box::new(tls);
                        session.tls_started();
                        envelope = Envelope::default();
                    }
                    Ok(Err(e)) => {
                        tracing::info!(error = %e, "TLS handshake failed");
                        break;
                    }
                    Err(_) => break,
                }
            }
            Action::Authenticate { user, password } => {
                let auth = config.smtp.auth.as_ref();
                if auth.is_some_and(|a| {
                    relay.auth_limiter.blocked(peer.ip(), a.max_failures_per_ip, a.failure_window)
                }) {
                    // Refused before the password is checked, so guessing stops here.
                    tracing::warn!(%user, "AUTH refused: too many failures from this address");
                    conn.push(&Reply::new(
                        421,
                        "4.7.0 Too many failed attempts from your address, try again later",
                    ));
                    break;
                }
                let users = settings.users.clone();
                let u = user.clone();
                let ok = tokio::task::spawn_blocking(move || {
                    users.is_some_and(|users| users.verify(&u, &password))
                })
                .await
                .unwrap_or(false);
                let reply = session.auth_result(&user, ok);
                if ok {
                    tracing::info!(%user, "authenticated");
                } else {
                    auth_failures += 1;
                    let from_ip =
                        auth.map_or(0, |a| relay.auth_limiter.fail(peer.ip(), a.failure_window));
                    tracing::warn!(
                        %user,
                        failures = auth_failures,
                        from_address = from_ip,
                        "authentication failed"
                    );
                    if let Some(delay) = auth.map(|a| a.failure_delay) {
                        tokio::time::sleep(delay).await;
                    }
                    if auth.is_some_and(|a| auth_failures >= a.max_failures) {
                        conn.push(&Reply::new(
                            421,
                            "4.7.0 Too many failed attempts, closing connection",
                        ));
                        break;
                    }
                }
                conn.push(&reply);
            }
        }
        // The clock for the next command starts once this one is answered,
        // not while the upstream or the engine was working.
        command_deadline = Instant::now() + limits.command_timeout;
    }
    let _ = conn.flush().await;
    let _ = conn.io.shutdown().await;
    upstream.quit().await;
    tracing::debug!("disconnected");
}

/// The client's answer to DATA from the upstream's: its 354, or a refusal.
fn data_go_ahead(relay: &Relay, result: Result<Reply, Failure>) -> Reply {
    match result {
        Ok(reply) if reply.code == 354 => {
            relay.metrics().upstream("data_start", reply.class().label());
            reply
        }
        // A 2xx to DATA is outside the protocol: counted as the reply it
        // was, answered as the mapping says (451).
        Ok(reply) if reply.is_positive() => {
            relay.metrics().upstream("data_start", reply.class().label());
            Failure::Upstream(reply).reply()
        }
        other => upstream_step(relay, "data_start", other),
    }
}

/// Counts the upstream's answer and turns a failure into the client's reply.
fn upstream_step(relay: &Relay, command: &'static str, result: Result<Reply, Failure>) -> Reply {
    match result {
        Ok(reply) => {
            relay.metrics().upstream(command, reply.class().label());
            // Only a 2xx accepts; anything else goes through the one mapping.
            if (200..300).contains(&reply.code) { reply } else { Failure::Upstream(reply).reply() }
        }
        Err(failure) => {
            relay.metrics().upstream(command, "none");
            tracing::warn!(?failure, command, "upstream failed");
            failure.reply()
        }
    }
}

fn log_refusal(command: &str, reply: &Reply) {
    if !reply.is_positive() {
        tracing::info!(command, code = reply.code, text = %reply.text(), "refused");
    }
}

/// How long a DATA transfer may take: each read waits at most
/// `data_timeout`, and the whole transfer must end by `data_timeout` after
/// its start plus one second per `min_data_rate` bytes received (Postfix's
/// `smtpd_min_data_rate` model). A fast sender earns time for later; a
/// client that trickles bytes runs out of it.
#[derive(Debug)]
struct DataDeadline {
    overall: Option<Instant>,
    per_read: Duration,
    min_rate: u64,
}

impl DataDeadline {
    fn new(start: Instant, limits: &crate::config::Limits) -> DataDeadline {
        DataDeadline {
            overall: (limits.min_data_rate > 0).then_some(start + limits.data_timeout),
            per_read: limits.data_timeout,
            min_rate: limits.min_data_rate,
        }
    }

    fn received(&mut self, bytes: usize) {
        if let Some(overall) = &mut self.overall {
            let nanos = (bytes as u128 * 1_000_000_000) / u128::from(self.min_rate);
            *overall += Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        }
    }

    fn next_read_deadline(&self, now: Instant) -> Instant {
        let idle = now + self.per_read;
        self.overall.map_or(idle, |overall| overall.min(idle))
    }
}

#[cfg(test)]
mod data_deadline_tests {
    use super::*;

    fn limits(timeout: u64, rate: u64) -> crate::config::Limits {
        crate::config::Limits {
            data_timeout: Duration::from_secs(timeout),
            min_data_rate: rate,
            ..Default::default()
        }
    }

    #[test]
    fn bytes_received_extend_the_overall_deadline() {
        let start = Instant::now();
        let mut d = DataDeadline::new(start, &limits(10, 500));
        assert_eq!(d.next_read_deadline(start), start + Duration::from_secs(10));
        d.received(1000);
        // 1,000 bytes at 500 B/s earn two seconds, but one read still waits at most 10 s.
        assert_eq!(d.next_read_deadline(start), start + Duration::from_secs(10));
        assert_eq!(
            d.next_read_deadline(start + Duration::from_secs(5)),
            start + Duration::from_secs(12)
        );
    }

    #[test]
    fn a_trickle_runs_out_of_time() {
        let start = Instant::now();
        let mut d = DataDeadline::new(start, &limits(10, 500));
        // One byte a second for 11 seconds earns 22 ms: the deadline passes.
        d.received(11);
        let later = start + Duration::from_secs(11);
        assert!(d.next_read_deadline(later) < later);
    }

    #[test]
    fn rate_zero_keeps_only_the_per_read_timeout() {
        let start = Instant::now();
        let d = DataDeadline::new(start, &limits(10, 0));
        let later = start + Duration::from_secs(3600);
        assert_eq!(d.next_read_deadline(later), later + Duration::from_secs(10));
    }
}
