//! Milter packet framing, without I/O: a 4-byte big-endian length, then
//! that many bytes (a command byte and its data). The decoder refuses a
//! packet over the configured size before buffering it, so a broken or
//! hostile peer cannot make the milter allocate without bound.

use bytes::{Buf, BytesMut};
use miltr_common::decoding::ClientCommand;
use miltr_common::encoding::{ServerMessage, Writable};

/// Errors in the packet stream; every one ends the connection.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// A packet announced more bytes than `milter.max_frame_size`.
    #[error("milter packet of {len} bytes exceeds milter.max_frame_size ({max})")]
    TooBig {
        /// Announced length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// A zero-length packet has no command byte.
    #[error("empty milter packet")]
    Empty,
    /// The command could not be decoded.
    #[error("undecodable milter command: {0}")]
    Command(String),
}

/// Collects bytes from the MTA and yields whole commands.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    max: u32,
}

impl FrameDecoder {
    /// A decoder that accepts packets of up to `max` bytes.
    pub fn new(max: u32) -> Self {
        FrameDecoder { buffer: BytesMut::with_capacity(8192), max }
    }

    /// Space to read into; call [`FrameDecoder::next_command`] after filling it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buffer
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole command, `Ok(None)` when more bytes are needed.
    pub fn next_command(&mut self) -> Result<Option<ClientCommand>, FrameError> {
        let Some(packet) = self.next_packet()? else { return Ok(None) };
        ClientCommand::parse(packet).map(Some).map_err(|e| FrameError::Command(e.to_string()))
    }

    fn next_packet(&mut self) -> Result<Option<BytesMut>, FrameError> {
        if self.buffer.len() < 4 {
            return Ok(None);
        }
        let len =
            u32::from_be_bytes([self.buffer[0], self.buffer[1], self.buffer[2], self.buffer[3]]);
        if len == 0 {
            return Err(FrameError::Empty);
        }
        if len > self.max {
            return Err(FrameError::TooBig { len, max: self.max });
        }
        let total = 4 + len as usize;
        if self.buffer.len() < total {
            self.buffer.reserve(total - self.buffer.len());
            return Ok(None);
        }
        self.buffer.advance(4);
        Ok(Some(self.buffer.split_to(len as usize)))
    }
}

/// Encodes one reply to the MTA as a packet.
pub fn encode(message: &ServerMessage, out: &mut Vec<u8>) {
    let mut data = BytesMut::with_capacity(message.len());
    message.write(&mut data);
    // Replies are built by the milter from bounded pieces (body chunks of
    // at most 65535 bytes), so the length always fits.
    let len = u32::try_from(data.len() + 1).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(message.code());
    out.extend_from_slice(&data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use miltr_common::actions::{Action, Continue};

    fn packet(code: u8, data: &[u8]) -> Vec<u8> {
        let mut p = ((data.len() + 1) as u32).to_be_bytes().to_vec();
        p.push(code);
        p.extend_from_slice(data);
        p
    }

    #[test]
    fn decodes_byte_by_byte_and_in_bulk() {
        let mut stream = packet(b'M', b"<a@b>\0SIZE=10\0");
        stream.extend(packet(b'L', b"Subject\0 hi\0"));
        stream.extend(packet(b'E', b""));
        for chunk in [1, 3, stream.len()] {
            let mut d = FrameDecoder::new(1024);
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece);
                while let Some(c) = d.next_command().unwrap() {
                    got.push(c);
                }
            }
            assert_eq!(got.len(), 3, "chunk size {chunk}");
            assert!(matches!(got[0], ClientCommand::Mail(_)));
            assert!(matches!(got[1], ClientCommand::Header(_)));
            assert!(matches!(got[2], ClientCommand::EndOfBody(_)));
        }
    }

    #[test]
    fn refuses_oversized_empty_and_unknown_packets() {
        let mut d = FrameDecoder::new(16);
        d.push(&[0, 0, 1, 0]);
        assert_eq!(d.next_command().unwrap_err(), FrameError::TooBig { len: 256, max: 16 });
        let mut d = FrameDecoder::new(16);
        d.push(&[0, 0, 0, 0]);
        assert_eq!(d.next_command().unwrap_err(), FrameError::Empty);
        let mut d = FrameDecoder::new(16);
        d.push(&packet(b'~', b""));
        assert!(matches!(d.next_command(), Err(FrameError::Command(_))));
    }

    #[test]
    fn encodes_continue() {
        let mut out = Vec::new();
        encode(&ServerMessage::Action(Action::Continue(Continue)), &mut out);
        assert_eq!(out, vec![0, 0, 0, 1, b'c']);
    }
}
