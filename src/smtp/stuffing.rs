//! Dot-stuffing for the upstream's DATA phase (RFC 5321 §4.5.2), written as
//! one `Display` so the finished bytes can go out in a single write.
//!
//! The SMTP client library stuffs a message byte by byte into a second
//! buffer; on a 100 KB message that loop was the relay's hottest function.
//! Here the lines that need a dot are found with `memchr` and everything
//! between them is copied whole.

use std::fmt;

/// A message body (without its final CRLF), dot-stuffed and followed by the
/// end-of-data marker `CRLF.CRLF` when displayed.
///
/// A dot is added at the start of the body and after every LF, bare or
/// not: the relay only forwards CRLF text, and stuffing after a bare LF as
/// well means no next hop, however lenient about line ends, can read an
/// end marker inside the message.
pub struct Stuffed<'a>(pub &'a str);

impl fmt::Display for Stuffed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = self.0;
        let bytes = body.as_bytes();
        if bytes.first() == Some(&b'.') {
            f.write_str(".")?;
        }
        let mut copied = 0;
        for lf in memchr::memchr_iter(b'\n', bytes) {
            if bytes.get(lf + 1) == Some(&b'.') {
                // Both cuts sit next to ASCII bytes, so they are char boundaries.
                f.write_str(&body[copied..=lf])?;
                f.write_str(".")?;
                copied = lf + 1;
            }
        }
        f.write_str(&body[copied..])?;
        f.write_str("\r\n.\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::data::DataReceiver;

    fn stuffed(body: &str) -> String {
        Stuffed(body).to_string()
    }

    #[test]
    fn dots_at_line_starts_are_doubled_and_the_marker_follows() {
        assert_eq!(stuffed("a\r\n.b\r\n..c"), "a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(stuffed(".first"), "..first\r\n.\r\n");
        assert_eq!(stuffed("no dots. at all."), "no dots. at all.\r\n.\r\n");
        assert_eq!(stuffed(""), "\r\n.\r\n");
        assert_eq!(stuffed("x\r\n."), "x\r\n..\r\n.\r\n");
    }

    #[test]
    fn a_bare_lf_before_a_dot_is_stuffed_too() {
        assert_eq!(stuffed("a\n.\r\nb"), "a\n..\r\nb\r\n.\r\n");
    }

    #[test]
    fn multibyte_text_around_the_dots_survives() {
        assert_eq!(stuffed("é\r\n.ü\r\n€"), "é\r\n..ü\r\n€\r\n.\r\n");
    }

    /// What the relay sends, read back by its own receiver, is the message.
    #[test]
    fn the_receiver_undoes_the_stuffing() {
        let bodies = [
            "Subject: x\r\n\r\n.\r\n..\r\n...\r\n",
            ".\r\n",
            "a\r\n.\r\n.b\r\n",
            "plain\r\n",
            "\r\n",
        ];
        for message in bodies {
            let body = message.strip_suffix("\r\n").unwrap();
            let wire = stuffed(body);
            let mut back = Vec::new();
            let progress = DataReceiver::new(1 << 20, 1000).feed(wire.as_bytes(), &mut back);
            assert!(progress.done, "{message:?}");
            assert_eq!(progress.consumed, wire.len(), "{message:?}");
            assert_eq!(back, message.as_bytes(), "{message:?}");
        }
    }
}
