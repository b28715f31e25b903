//! A copy of a large message with the bodies of its non-text leaf parts
//! left out, for classification and planning.
//!
//! mail-parser decodes every part while it parses, at about fifty
//! instructions per byte of base64, and courtesy never reads an attachment's
//! content: detection needs the headers, the MIME types and the text parts.
//! So for a message with big attachments the engine parses this copy and
//! parses the original only when it really rewrites it (the splice needs the
//! original offsets).
//!
//! The walk mirrors mail-parser's own: header blocks are read with its
//! `MessageStream::parse_headers` and its end-of-multipart rule, and a part
//! ends at the first `--boundary` of the innermost multipart after its body,
//! which is where every one of mail-parser's body decoders stops. Only the
//! search for that boundary is faster (SIMD `memmem` instead of a byte loop).
//! Anything the walk does not model (nested message/rfc822, a digest,
//! a missing closing boundary) gives up, and the engine parses the original.

use std::ops::Range;

use mail_parser::parsers::MessageStream;
use mail_parser::{GetHeader, HeaderName, MessageParser};

/// Below this many bytes of attachment bodies the copy costs more than the
/// decoding it saves.
pub(crate) const MIN_ELIDED_BYTES: usize = 64 * 1024;

/// Multipart nesting deeper than this is left to mail-parser.
const MAX_DEPTH: usize = 16;

/// The message without the bodies of its non-text leaf parts, or `None`
/// when it has fewer than `min_elided` such bytes or a structure the walk
/// does not model.
pub(crate) fn elide_attachments(raw: &[u8], min_elided: usize) -> Option<Vec<u8>> {
    if raw.len() < min_elided {
        return None;
    }
    let ranges = attachment_bodies(raw)?;
    let elided: usize = ranges.iter().map(|r| r.len()).sum();
    if elided == 0 || elided < min_elided {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len() - elided);
    let mut at = 0;
    for range in ranges {
        out.extend_from_slice(&raw[at..range.start]);
        at = range.end;
    }
    out.extend_from_slice(&raw[at..]);
    Some(out)
}

/// One open multipart: its delimiter (`--` + boundary) and whether it is a
/// digest (whose untyped parts are messages).
struct Open {
    delimiter: Vec<u8>,
    digest: bool,
}

/// Byte ranges of the bodies to leave out: from the end of a part's header
/// block to the line break before the delimiter that ends it.
fn attachment_bodies(raw: &[u8]) -> Option<Vec<Range<usize>>> {
    let parser = MessageParser::default();
    let mut stream = MessageStream::new(raw);
    let mut open: Vec<Open> = Vec::new();
    let mut ranges = Vec::new();
    loop {
        let mut headers = Vec::new();
        if !stream.parse_headers(&parser, &mut headers) {
            break;
        }
        let body = stream.offset();
        let content_type =
            headers.header_value(&HeaderName::ContentType).and_then(|v| v.as_content_type());
        let ctype = content_type.map(|ct| ct.ctype());
        let is = |name: &str| ctype.is_some_and(|t| t.eq_ignore_ascii_case(name));

        if is("multipart")
            && let Some(boundary) = content_type.and_then(|ct| ct.attribute("boundary"))
        {
            let delimiter = [b"--", boundary.as_bytes()].concat();
            let Some(found) = find(raw, body, &delimiter) else {
                // mail-parser reads it as one text part: nothing to leave out.
                return None;
            };
            if open.len() == MAX_DEPTH {
                return None;
            }
            stream.skip_bytes(found + delimiter.len() - stream.offset());
            stream.skip_crlf();
            let digest = content_type
                .and_then(|ct| ct.subtype())
                .is_some_and(|s| s.eq_ignore_ascii_case("digest"));
            open.push(Open { delimiter, digest });
            continue;
        }
        if is("message") || (ctype.is_none() && open.last().is_some_and(|o| o.digest)) {
            // mail-parser parses an attached message in place, sharing the
            // enclosing boundary; not worth modelling.
            return None;
        }
        let Some(innermost) = open.last() else {
            // A single-part message: its body runs to the end.
            break;
        };
        let end = find(raw, body, &innermost.delimiter)?;
        let elidable = ctype.is_some() && !is("text") && !is("multipart");
        if elidable && end > body && raw[end - 1] == b'\n' {
            let line_break = if end >= 2 && raw[end - 2] == b'\r' { end - 2 } else { end - 1 };
            if line_break > body {
                ranges.push(body..line_break);
            }
        }
        stream.skip_bytes(end + innermost.delimiter.len() - stream.offset());

        // After each delimiter: either the next part's headers, or the end
        // of this multipart, after which the parent's next delimiter is sought.
        loop {
            if !stream.is_multipart_end() {
                break;
            }
            open.pop();
            let Some(parent) = open.last() else {
                return Some(ranges);
            };
            let next = find(raw, stream.offset(), &parent.delimiter)?;
            stream.skip_bytes(next + parent.delimiter.len() - stream.offset());
        }
    }
    // Headers ran out inside an open multipart: mail-parser recovers from
    // that in ways the walk does not model.
    open.is_empty().then_some(ranges)
}

/// The offset of the first `needle` in `raw` at or after `from`.
fn find(raw: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(raw.get(from..)?, needle).map(|at| from + at)
}

#[cfg(test)]
#[path = "elide_tests.rs"]
mod tests;
