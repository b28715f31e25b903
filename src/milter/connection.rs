//! The tokio task around one MTA connection: read packets with a time
//! limit, feed the session, write its replies, and run the end-of-message
//! work when the session asks for it. Between messages it also watches for
//! the drain signal; in the middle of a message it does not, so a message
//! that has started is finished.

use std::sync::Arc;

use miltr_common::encoding::ServerMessage;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::watch;

use super::frame::{self, FrameDecoder};
use super::process;
use super::server::{Milter, MilterSettings};
use super::session::{Session, Step};
use crate::config::Mode;

/// An accepted MTA connection.
#[derive(Debug)]
pub(super) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// Serves one connection until the MTA quits, an error, a timeout or the drain.
pub(super) async fn handle(
    milter: &Milter,
    settings: Arc<MilterSettings>,
    stream: Stream,
    drain: watch::Receiver<bool>,
) {
    let result = match stream {
        Stream::Tcp(s) => run(milter, &settings, s, drain).await,
        Stream::Unix(s) => run(milter, &settings, s, drain).await,
    };
    match result {
        Ok(()) => tracing::debug!("milter connection closed"),
        Err(reason) => tracing::info!("milter connection ended: {reason}"),
    }
}

/// Acknowledges received packets at once instead of after the kernel's
/// delayed-ACK timer.
///
/// With the no-reply protocol flags, the MTA writes one small packet after
/// another (macros, MAIL, RCPT, each header, the body) without waiting for
/// an answer. Postfix leaves Nagle's algorithm on, so each of its writes
/// waits for the ACK of the previous one, and a receiver that has nothing
/// to send delays that ACK by up to 40 ms: measured, about 40 ms per
/// message. Quick-ACK mode is not sticky on Linux, hence after every read.
trait AckAtOnce {
    fn ack_at_once(&self) {}
}

impl AckAtOnce for TcpStream {
    fn ack_at_once(&self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Err(e) = socket2::SockRef::from(self).set_tcp_quickack(true) {
            tracing::debug!("TCP_QUICKACK: {e}");
        }
    }
}

/// A unix socket has no ACKs to delay.
impl AckAtOnce for UnixStream {}

async fn run<S: AsyncRead + AsyncWrite + AckAtOnce + Unpin>(
    milter: &Milter,
    settings: &Arc<MilterSettings>,
    mut stream: S,
    mut drain: watch::Receiver<bool>,
) -> Result<(), String> {
    let observe = settings.config.mode == Mode::Observe;
    let mut session = Session::new(observe, settings.milter.max_message_size);
    let mut decoder = FrameDecoder::new(settings.milter.max_frame_size);
    let mut out = Vec::with_capacity(256);
    loop {
        while let Some(command) = decoder.next_command().map_err(|e| e.to_string())? {
            let replies = match session.handle(command) {
                Step::Reply(replies) => replies,
                Step::EndOfMessage(collected) => {
                    let agreement = session.agreement();
                    process::end_of_message(milter, settings, agreement, collected).await
                }
                Step::Close => return Ok(()),
                Step::Refuse(reason) => {
                    tracing::error!("refusing the MTA: {reason}");
                    return Err(reason.to_string());
                }
            };
            write(&mut stream, &mut out, &replies).await?;
        }
        let read = tokio::time::timeout(
            settings.milter.read_timeout,
            stream.read_buf(decoder.buffer_mut()),
        );
        let n = if session.in_transaction() {
            read.await
        } else {
            // Bytes already waiting win over the drain, so a message whose
            // first packet has arrived is still served.
            tokio::select! {
                biased;
                n = read => n,
                _ = drain.wait_for(|d| *d) => return Err("draining".into()),
            }
        };
        match n {
            Err(_) => return Err("no packet from the MTA within milter.read_timeout".into()),
            Ok(Err(e)) => return Err(format!("read failed: {e}")),
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(_)) => stream.ack_at_once(),
        }
    }
}

async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    out: &mut Vec<u8>,
    replies: &[ServerMessage],
) -> Result<(), String> {
    if replies.is_empty() {
        return Ok(());
    }
    out.clear();
    for reply in replies {
        frame::encode(reply, out);
    }
    stream.write_all(out).await.map_err(|e| format!("write failed: {e}"))?;
    stream.flush().await.map_err(|e| format!("write failed: {e}"))
}
