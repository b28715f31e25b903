//! Entry point for the `milter_frame` fuzz target and its regression
//! replay: the packet decoder fed in uneven pieces, and every decoded
//! command through the session state machine, as the connection task does.

use super::frame::FrameDecoder;
use super::session::{Session, Step};

const MAX_FRAME: u32 = 64 * 1024;
const MAX_MESSAGE: u64 = 16 * 1024;

/// Runs one MTA conversation; the first byte sets the read size and mode.
pub fn frames(data: &[u8]) {
    let Some((&first, input)) = data.split_first() else { return };
    let chunk = 1 + usize::from(first & 0x3f);
    let mut decoder = FrameDecoder::new(MAX_FRAME);
    let mut session = Session::new(first & 0x40 != 0, MAX_MESSAGE);
    for piece in input.chunks(chunk) {
        decoder.push(piece);
        loop {
            match decoder.next_command() {
                Ok(Some(command)) => match session.handle(command) {
                    Step::Reply(_) => {}
                    Step::EndOfMessage(collected) => {
                        if collected.message.is_some() {
                            assert!(collected.size <= MAX_MESSAGE, "kept a message over the limit");
                        }
                        assert!(!session.in_transaction());
                    }
                    Step::Close | Step::Refuse(_) => return,
                },
                Ok(None) => break,
                // Every framing error ends the connection.
                Err(_) => return,
            }
        }
        assert!(decoder.buffer_mut().len() <= MAX_FRAME as usize + 4 + chunk);
    }
}
