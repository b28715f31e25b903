//! Content-Transfer-Encoding of the parts we rewrite: decode, re-encode, and
//! keep the untouched lines of a part as the original bytes.
//!
//! Quoted-printable is decoded by hand rather than with a library because the
//! splice needs to know which raw byte each decoded hard line break came from:
//! lines before the first edit and after the last one (the quoted history)
//! are then copied byte for byte instead of being re-encoded.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The transfer encodings a text part can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transfer {
    /// No header, `7bit`: ASCII lines of at most 998 octets.
    SevenBit,
    /// `8bit` or `binary`: raw octets.
    EightBit,
    QuotedPrintable,
    Base64,
}

impl Transfer {
    /// Parses a Content-Transfer-Encoding value; `None` for encodings we do
    /// not re-encode (x-uuencode and friends), whose parts are left alone.
    pub(crate) fn from_header(value: Option<&str>) -> Option<Transfer> {
        let Some(value) = value else { return Some(Transfer::SevenBit) };
        let value = value.trim();
        if value.eq_ignore_ascii_case("7bit") || value.is_empty() {
            Some(Transfer::SevenBit)
        } else if value.eq_ignore_ascii_case("8bit") || value.eq_ignore_ascii_case("binary") {
            Some(Transfer::EightBit)
        } else if value.eq_ignore_ascii_case("quoted-printable") {
            Some(Transfer::QuotedPrintable)
        } else if value.eq_ignore_ascii_case("base64") {
            Some(Transfer::Base64)
        } else {
            None
        }
    }

    /// The header value we write.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Transfer::SevenBit => "7bit",
            Transfer::EightBit => "8bit",
            Transfer::QuotedPrintable => "quoted-printable",
            Transfer::Base64 => "base64",
        }
    }
}

/// A transfer-decoded body with the positions where raw and decoded bytes
/// line up (both at the start of a line), in increasing order.
pub(crate) struct Decoded {
    pub(crate) bytes: Vec<u8>,
    /// `(decoded offset, raw offset)` pairs; always starts with `(0, 0)`.
    /// Empty for base64, where only the whole body can be re-encoded.
    pub(crate) anchors: Vec<(usize, usize)>,
}

/// Longest line (without its line break) SMTP allows in 7bit/8bit bodies.
const MAX_LINE: usize = 998;
/// Longest encoded line for quoted-printable and base64 (RFC 2045).
const MAX_ENCODED: usize = 76;

pub(crate) fn decode(raw: &[u8], transfer: Transfer) -> Option<Decoded> {
    match transfer {
        Transfer::SevenBit | Transfer::EightBit => {
            let mut anchors = vec![(0, 0)];
            for (i, b) in raw.iter().enumerate() {
                if *b == b'\n' {
                    anchors.push((i + 1, i + 1));
                }
            }
            Some(Decoded { bytes: raw.to_vec(), anchors })
        }
        Transfer::QuotedPrintable => Some(decode_qp(raw)),
        Transfer::Base64 => {
            let compact: Vec<u8> =
                raw.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            let engine = GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                GeneralPurposeConfig::new()
                    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
                    .with_decode_allow_trailing_bits(true),
            );
            let bytes = engine.decode(compact).ok()?;
            Some(Decoded { bytes, anchors: Vec::new() })
        }
    }
}

/// Lenient quoted-printable decoding: malformed `=` sequences are kept as
/// they are, trailing whitespace is dropped (RFC 2045 6.7 rule 3), and hard
/// line breaks keep the raw line ending so CRLF and LF bodies round-trip.
fn decode_qp(raw: &[u8]) -> Decoded {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut anchors = vec![(0, 0)];
    let mut offset = 0;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        offset += line.len();
        let (content, eol) = split_eol(line);
        let content = trim_end_ws(content);
        let (content, soft) = match content.split_last() {
            Some((b'=', rest)) => (rest, true),
            _ => (content, false),
        };
        let mut i = 0;
        while i < content.len() {
            // Everything up to the next `=` is literal.
            let run = memchr::memchr(b'=', &content[i..]).unwrap_or(content.len() - i);
            bytes.extend_from_slice(&content[i..i + run]);
            i += run;
            if i == content.len() {
                break;
            }
            if let (Some(h), Some(l)) =
                (content.get(i + 1).and_then(hex), content.get(i + 2).and_then(hex))
            {
                bytes.push(h << 4 | l);
                i += 3;
            } else {
                bytes.push(b'=');
                i += 1;
            }
        }
        if !soft {
            bytes.extend_from_slice(eol);
            if !eol.is_empty() {
                anchors.push((bytes.len(), offset));
            }
        }
    }
    Decoded { bytes, anchors }
}

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn split_eol(line: &[u8]) -> (&[u8], &[u8]) {
    if line.ends_with(b"\r\n") {
        line.split_at(line.len() - 2)
    } else if line.ends_with(b"\n") {
        line.split_at(line.len() - 1)
    } else {
        (line, &[])
    }
}

fn trim_end_ws(mut s: &[u8]) -> &[u8] {
    while let Some((b' ' | b'\t', rest)) = s.split_last() {
        s = rest;
    }
    s
}

/// Whether `bytes` can go out as it is under 7bit (`ascii_only`) or 8bit.
pub(crate) fn fits_unencoded(bytes: &[u8], ascii_only: bool) -> bool {
    if ascii_only && !bytes.is_ascii() {
        return false;
    }
    bytes.split(|b| *b == b'\n').all(|line| line.len() <= MAX_LINE + 1 && !line.contains(&0))
}

/// Encodes `bytes` (whose lines end in CRLF or LF) with `transfer`, writing
/// `eol` as the line ending. `final_eol` adds a line break after base64,
/// whose decoded bytes say nothing about the raw body's last line.
pub(crate) fn encode(bytes: &[u8], transfer: Transfer, eol: &str, final_eol: bool) -> Vec<u8> {
    match transfer {
        Transfer::SevenBit | Transfer::EightBit => bytes.to_vec(),
        Transfer::QuotedPrintable => encode_qp(bytes, eol),
        Transfer::Base64 => {
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            let mut out = Vec::with_capacity(text.len() + text.len() / MAX_ENCODED * eol.len() + 2);
            for (i, chunk) in text.as_bytes().chunks(MAX_ENCODED).enumerate() {
                if i > 0 {
                    out.extend_from_slice(eol.as_bytes());
                }
                out.extend_from_slice(chunk);
            }
            if final_eol {
                out.extend_from_slice(eol.as_bytes());
            }
            out
        }
    }
}

fn encode_qp(bytes: &[u8], eol: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    let mut lines = bytes.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        let line = if !last { line.strip_suffix(b"\r").unwrap_or(line) } else { line };
        let mut width = 0;
        for (i, &b) in line.iter().enumerate() {
            let at_end = i + 1 == line.len();
            let literal = matches!(b, 33..=60 | 62..=126) || (matches!(b, b' ' | b'\t') && !at_end);
            let len = if literal { 1 } else { 3 };
            // Room for the soft break `=` unless this is the line's last token.
            let limit = if at_end { MAX_ENCODED } else { MAX_ENCODED - 1 };
            if width + len > limit {
                out.push(b'=');
                out.extend_from_slice(eol.as_bytes());
                width = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.push(b'=');
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
            }
            width += len;
        }
        if !last {
            out.extend_from_slice(eol.as_bytes());
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Builds the new raw body: the lines shared with the original at the start
/// and at the end are copied from `raw`, only the lines in between are
/// encoded. With no usable anchors (base64) the whole body is encoded.
pub(crate) fn splice_body(
    raw: &[u8],
    old: &Decoded,
    new: &[u8],
    transfer: Transfer,
    eol: &str,
) -> Vec<u8> {
    let final_eol = raw.ends_with(b"\n");
    if old.anchors.is_empty() {
        return encode(new, transfer, eol, final_eol);
    }
    let old_bytes = &old.bytes;
    let prefix = common_prefix(old_bytes, new);
    let max_suffix = old_bytes.len().min(new.len()) - prefix;
    let suffix = common_suffix(&old_bytes[prefix..], &new[prefix..]).min(max_suffix);
    // Last anchor inside the common prefix, first anchor whose preceding
    // line break is inside the common suffix (so the middle ends a line).
    let head = old.anchors.iter().rev().find(|(d, _)| *d <= prefix).copied().unwrap_or((0, 0));
    let tail =
        old.anchors.iter().find(|(d, _)| *d > head.0 && *d > old_bytes.len() - suffix).copied();
    // Without a line start in the shared tail, everything after `head` is new.
    let (tail_dec, tail_raw) = tail.unwrap_or((old_bytes.len(), raw.len()));
    let kept_tail = old_bytes.len() - tail_dec;
    let middle_end = new.len() - kept_tail;
    if middle_end < head.0 {
        return encode(new, transfer, eol, final_eol);
    }
    let mut out = Vec::with_capacity(raw.len() + (middle_end - head.0) * 2);
    out.extend_from_slice(&raw[..head.1]);
    out.extend_from_slice(&encode(&new[head.0..middle_end], transfer, eol, false));
    out.extend_from_slice(&raw[tail_raw..]);
    out
}

/// Blocks compared as slices (a memcmp) before the bytes of the first one
/// that differs.
const BLOCK: usize = 32;

/// Length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut same = 0;
    for (x, y) in a.chunks_exact(BLOCK).zip(b.chunks_exact(BLOCK)) {
        if x != y {
            break;
        }
        same += BLOCK;
    }
    same + a[same..].iter().zip(&b[same..]).take_while(|(x, y)| x == y).count()
}

/// Length of the longest common suffix of `a` and `b`.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let mut same = 0;
    for (x, y) in a.rchunks_exact(BLOCK).zip(b.rchunks_exact(BLOCK)) {
        if x != y {
            break;
        }
        same += BLOCK;
    }
    let (a, b) = (&a[..a.len() - same], &b[..b.len() - same]);
    same + a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qp_round_trips_and_wraps() {
        let text = "Beste klant, één ding: ".repeat(10) + "\r\nTot ziens=\r\n";
        let encoded = encode(text.as_bytes(), Transfer::QuotedPrintable, "\r\n", false);
        for line in encoded.split(|b| *b == b'\n') {
            assert!(line.len() <= 77, "line too long: {:?}", String::from_utf8_lossy(line));
        }
        assert_eq!(decode_qp(&encoded).bytes, text.as_bytes());
    }

    #[test]
    fn qp_trailing_space_is_encoded() {
        assert_eq!(encode(b"a \nb\t", Transfer::QuotedPrintable, "\n", false), b"a=20\nb=09");
    }

    #[test]
    fn qp_decode_records_hard_breaks_only() {
        let decoded = decode_qp(b"ab=\r\ncd\r\nef=3D\r\n");
        assert_eq!(decoded.bytes, b"abcd\r\nef=\r\n");
        assert_eq!(decoded.anchors, vec![(0, 0), (6, 9), (11, 16)]);
    }

    #[test]
    fn splice_keeps_unchanged_qp_lines() {
        let raw = b"Hello=\r\n world\r\nmiddle\r\n> caf=E9 =\r\nquoted\r\n";
        let old = decode(raw, Transfer::QuotedPrintable).unwrap();
        let mut new = old.bytes.clone();
        new.splice(13..13, b"NEW ".iter().copied());
        let out = splice_body(raw, &old, &new, Transfer::QuotedPrintable, "\r\n");
        assert_eq!(decode_qp(&out).bytes, new);
        assert!(out.starts_with(b"Hello=\r\n world\r\n"));
        assert!(out.ends_with(b"> caf=E9 =\r\nquoted\r\n"));
    }

    #[test]
    fn common_ends_match_a_byte_by_byte_count() {
        let base: Vec<u8> = (0..200u32).map(|i| (i * 7 % 13) as u8).collect();
        for cut in [0, 1, 31, 32, 33, 64, 100, 199, 200] {
            for len in [0, 1, 5, 40, 70] {
                let mut other = base.clone();
                other.splice(cut..cut, std::iter::repeat_n(99u8, len));
                let prefix = base.iter().zip(&other).take_while(|(a, b)| a == b).count();
                let suffix =
                    base.iter().rev().zip(other.iter().rev()).take_while(|(a, b)| a == b).count();
                assert_eq!(common_prefix(&base, &other), prefix, "{cut} {len}");
                assert_eq!(common_suffix(&base, &other), suffix, "{cut} {len}");
            }
        }
    }

    #[test]
    fn base64_lines_are_76() {
        let out = encode(&[7u8; 200], Transfer::Base64, "\n", true);
        let lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
        assert_eq!(lines[0].len(), 76);
        assert_eq!(lines.last().unwrap().len(), 0);
        assert_eq!(decode(&out, Transfer::Base64).unwrap().bytes, vec![7u8; 200]);
    }

    #[test]
    fn unencoded_limits() {
        assert!(fits_unencoded(b"abc\r\ndef", true));
        assert!(!fits_unencoded("é".as_bytes(), true));
        assert!(fits_unencoded("é".as_bytes(), false));
        assert!(!fits_unencoded(&[b'a'; 1200], false));
    }
}
