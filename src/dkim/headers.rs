//! Finds header fields in the top-level header block by byte range, so that
//! signatures can be removed and new headers prepended without touching any
//! other byte. This only splits fields; canonicalisation is left to mail-auth.

use std::ops::Range;

/// One header field of the top-level header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    /// The name as written, without the colon.
    pub name: &'a str,
    /// The raw value after the colon, including folding, without the final line end.
    pub value: &'a [u8],
    /// The whole field including its final line end.
    pub range: Range<usize>,
}

impl Field<'_> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// The fields of the header block, in order. Stops at the blank line that
/// ends the block (or at the end of the input); a line without a colon ends
/// the block too, as no body can be told apart from it safely.
pub(crate) fn fields(raw: &[u8]) -> Vec<Field<'_>> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let line_end = line_end(raw, pos);
        let line = &raw[pos..line_end];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // A continuation line with no field before it: not a header block.
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            break;
        };
        let mut end = line_end;
        while end < raw.len() && matches!(raw[end], b' ' | b'\t') {
            end = line_end_at(raw, end);
        }
        let Ok(name) = std::str::from_utf8(&line[..colon]) else {
            break;
        };
        let value_end = trim_line_end(raw, pos + colon + 1, end);
        fields.push(Field {
            name: name.trim_end(),
            value: &raw[pos + colon + 1..value_end],
            range: pos..end,
        });
        pos = end;
    }
    fields
}

/// `\r\n` when the header block's first line ends that way, else `\n`.
pub(crate) fn line_ending(raw: &[u8]) -> &'static str {
    match raw.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && raw[i - 1] == b'\r' => "\r\n",
        Some(_) => "\n",
        None => "\r\n",
    }
}

/// `raw` with the byte ranges removed and `prepend` written before the first byte.
pub(crate) fn splice(raw: &[u8], prepend: &[u8], remove: &[Range<usize>]) -> Vec<u8> {
    let mut sorted: Vec<&Range<usize>> = remove.iter().collect();
    sorted.sort_by_key(|r| r.start);
    let mut out = Vec::with_capacity(raw.len() + prepend.len());
    out.extend_from_slice(prepend);
    let mut pos = 0;
    for range in sorted {
        if range.start >= pos {
            out.extend_from_slice(&raw[pos..range.start]);
        }
        pos = pos.max(range.end);
    }
    out.extend_from_slice(&raw[pos.min(raw.len())..]);
    out
}

/// Converts the CRLF line ends mail-auth writes into `eol`.
pub(crate) fn with_line_ending(header: &str, eol: &str) -> String {
    if eol == "\r\n" { header.to_string() } else { header.replace("\r\n", eol) }
}

/// Splits complete header text (`Name: value\r\n` one or more times) into
/// name and value pairs, the value without the final line end.
pub(crate) fn split_header_text(text: &str) -> Vec<(String, String)> {
    fields(text.as_bytes())
        .into_iter()
        .map(|f| (f.name.to_string(), String::from_utf8_lossy(f.value).trim_start().to_string()))
        .collect()
}

fn line_end(raw: &[u8], from: usize) -> usize {
    raw[from..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| from + i + 1)
}

fn line_end_at(raw: &[u8], from: usize) -> usize {
    line_end(raw, from)
}

fn trim_line_end(raw: &[u8], start: usize, end: usize) -> usize {
    let mut end = end;
    if end > start && raw[end - 1] == b'\n' {
        end -= 1;
        if end > start && raw[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"DKIM-Signature: v=1; d=a.nl;\r\n\tb=abc\r\nFrom: a@a.nl\r\nSubject: x\r\n\r\nbody: not a header\r\n";

    #[test]
    fn splits_folded_fields() {
        let f = fields(MESSAGE);
        assert_eq!(f.len(), 3);
        assert!(f[0].is("dkim-signature"));
        assert_eq!(f[0].value, b" v=1; d=a.nl;\r\n\tb=abc");
        assert_eq!(&MESSAGE[f[0].range.clone()], b"DKIM-Signature: v=1; d=a.nl;\r\n\tb=abc\r\n");
        assert_eq!(f[2].name, "Subject");
    }

    #[test]
    fn removes_and_prepends() {
        let f = fields(MESSAGE);
        let out = splice(MESSAGE, b"X-New: 1\r\n", &[f[0].range.clone()]);
        assert_eq!(out, b"X-New: 1\r\nFrom: a@a.nl\r\nSubject: x\r\n\r\nbody: not a header\r\n");
    }

    #[test]
    fn tells_line_endings() {
        assert_eq!(line_ending(b"A: b\nC: d\n\n"), "\n");
        assert_eq!(line_ending(MESSAGE), "\r\n");
        assert_eq!(with_line_ending("A: b\r\n\tc\r\n", "\n"), "A: b\n\tc\n");
    }

    #[test]
    fn garbage_yields_no_fields() {
        assert!(fields(b"\tcontinuation first\r\n").is_empty());
        assert!(fields(b"no colon here\r\n").is_empty());
        assert!(fields(b"").is_empty());
        assert_eq!(fields(b"A: unterminated").len(), 1);
    }

    #[test]
    fn splits_header_text() {
        let pairs = split_header_text("ARC-Seal: i=1;\r\n\tb=x\r\nARC-Message-Signature: y\r\n");
        assert_eq!(pairs[0], ("ARC-Seal".to_string(), "i=1;\r\n\tb=x".to_string()));
        assert_eq!(pairs[1].0, "ARC-Message-Signature");
    }
}
