//! A milter that does nothing: it agrees the same protocol as `courtesy
//! milter` (events, no-reply flags, quick ACKs) and answers `continue` at
//! the end of every message without looking at it.
//!
//! `bench/relay.sh` puts it in a Postfix's `smtpd_milters` beside the one
//! with courtesy, so the cost of the milter protocol itself (Postfix's side
//! of it included) is measured apart from courtesy's own work.
//!
//!     cargo run --release --example null_milter -- 127.0.0.1:PORT

use courtesy::milter::frame::{FrameDecoder, encode};
use courtesy::milter::negotiate::{Agreement, negotiate};
use miltr_common::actions::{Action, Continue};
use miltr_common::decoding::ClientCommand;
use miltr_common::encoding::ServerMessage;
use miltr_common::optneg::Protocol;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8899".to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("null milter on {addr}");
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                if let Err(e) = serve(stream).await {
                    eprintln!("connection ended: {e}");
                }
            });
        }
    })
}

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut decoder = FrameDecoder::new(1 << 20);
    let mut agreement: Option<Agreement> = None;
    let mut out = Vec::new();
    loop {
        while let Some(command) = decoder.next_command().map_err(std::io::Error::other)? {
            let no_reply_for = |flag| agreement.is_some_and(|a| a.no_reply(flag));
            let reply = match command {
                ClientCommand::OptNeg(theirs) => {
                    let (ours, agreed) =
                        negotiate(&theirs, false).map_err(std::io::Error::other)?;
                    agreement = Some(agreed);
                    Some(ServerMessage::Optneg(ours))
                }
                ClientCommand::Quit(_) => return Ok(()),
                ClientCommand::Macro(_) | ClientCommand::Abort(_) | ClientCommand::QuitNc(_) => {
                    None
                }
                ClientCommand::Mail(_) if no_reply_for(Protocol::NR_MAIL) => None,
                ClientCommand::Recipient(_) if no_reply_for(Protocol::NR_RECIPIENT) => None,
                ClientCommand::Header(_) if no_reply_for(Protocol::NR_HEADER) => None,
                ClientCommand::EndOfHeader(_) if no_reply_for(Protocol::NR_END_OF_HEADER) => None,
                ClientCommand::Body(_) if no_reply_for(Protocol::NR_BODY) => None,
                _ => Some(ServerMessage::Action(Action::Continue(Continue))),
            };
            if let Some(reply) = reply {
                out.clear();
                encode(&reply, &mut out);
                stream.write_all(&out).await?;
            }
        }
        if stream.read_buf(decoder.buffer_mut()).await? == 0 {
            return Ok(());
        }
        // As courtesy does: Postfix's small packets must not wait for a delayed ACK.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let _ = socket2::SockRef::from(&stream).set_tcp_quickack(true);
    }
}
