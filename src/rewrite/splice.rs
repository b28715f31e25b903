//! Byte splicing: header changes of the parts we rewrite, the trace header,
//! and the assembly of the new message from the original bytes.

use mail_parser::{HeaderName, MessagePart};

use super::{HeaderChange, RewriteError};

/// Replace `raw[start..end]` with `bytes`; `start == end` inserts.
#[derive(Debug)]
pub(crate) struct Edit {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) bytes: Vec<u8>,
}

/// Edits to one header block, with their description for the milter.
#[derive(Debug, Default)]
pub(crate) struct HeaderEdits {
    pub(crate) edits: Vec<Edit>,
    pub(crate) changes: Vec<HeaderChange>,
}

/// Where new headers go: after the last header, before the blank line.
pub(crate) fn header_end(raw: &[u8], part: &MessagePart<'_>) -> Result<usize, RewriteError> {
    let at = part.headers.last().map_or(part.offset_header, |h| h.offset_end) as usize;
    match raw.get(at..part.offset_body as usize) {
        Some(b"\r\n" | b"\n") => Ok(at),
        _ => Err(RewriteError::Structure("no blank line after a header block".into())),
    }
}

impl HeaderEdits {
    /// Adds `name: value` at the end of the block that ends at `at`.
    pub(crate) fn add(&mut self, at: usize, name: &str, value: &str, eol: &str) {
        self.edits.push(Edit {
            start: at,
            end: at,
            bytes: format!("{name}: {value}{eol}").into_bytes(),
        });
        self.changes.push(HeaderChange::Add { name: name.to_string(), value: value.to_string() });
    }

    /// Sets the charset parameter of the part's Content-Type, adding the
    /// header (and MIME-Version at the top level) when there is none.
    pub(crate) fn set_charset(
        &mut self,
        raw: &[u8],
        part: &MessagePart<'_>,
        mime: &str,
        charset: &str,
        root: bool,
        eol: &str,
    ) -> Result<(), RewriteError> {
        match single(part, &HeaderName::ContentType)? {
            Some(header) => {
                let value = &raw[header.offset_start as usize..header.offset_end as usize];
                let new_value = with_charset(value, charset);
                self.change(raw, header, new_value);
            }
            None => {
                let at = header_end(raw, part)?;
                if root && single(part, &HeaderName::MimeVersion)?.is_none() {
                    self.add(at, "MIME-Version", "1.0", eol);
                }
                self.add(at, "Content-Type", &format!("{mime}; charset={charset}"), eol);
            }
        }
        Ok(())
    }

    /// Sets Content-Transfer-Encoding, adding the header when there is none.
    pub(crate) fn set_transfer(
        &mut self,
        raw: &[u8],
        part: &MessagePart<'_>,
        value: &str,
        eol: &str,
    ) -> Result<(), RewriteError> {
        match single(part, &HeaderName::ContentTransferEncoding)? {
            Some(header) => {
                let old = &raw[header.offset_start as usize..header.offset_end as usize];
                let line_end = if old.ends_with(b"\r\n") { "\r\n" } else { "\n" };
                self.change(raw, header, format!(" {value}{line_end}").into_bytes());
            }
            None => self.add(header_end(raw, part)?, "Content-Transfer-Encoding", value, eol),
        }
        Ok(())
    }

    /// Replaces a header's raw value (after the colon, through its line end).
    fn change(&mut self, raw: &[u8], header: &mail_parser::Header<'_>, new_value: Vec<u8>) {
        let name_end = (header.offset_start as usize).saturating_sub(1);
        let name = String::from_utf8_lossy(&raw[header.offset_field as usize..name_end])
            .trim()
            .to_string();
        let value = String::from_utf8_lossy(&new_value).trim().to_string();
        self.edits.push(Edit {
            start: header.offset_start as usize,
            end: header.offset_end as usize,
            bytes: new_value,
        });
        self.changes.push(HeaderChange::Change { name, index: 1, value });
    }
}

/// The one header of that name in the part; two are ambiguous (readers
/// disagree about which counts), so we refuse to guess.
fn single<'a, 'x>(
    part: &'a MessagePart<'x>,
    name: &HeaderName<'_>,
) -> Result<Option<&'a mail_parser::Header<'x>>, RewriteError> {
    let mut found = part.headers.iter().filter(|h| &h.name == name);
    let first = found.next();
    if found.next().is_some() {
        return Err(RewriteError::Structure(format!("duplicate {} header", name.as_str())));
    }
    Ok(first)
}

/// The raw Content-Type value with its charset parameter set (or added),
/// keeping every other byte, folding included.
fn with_charset(value: &[u8], charset: &str) -> Vec<u8> {
    let mut in_quotes = false;
    let mut segment_start = None;
    let mut segments = Vec::new();
    for (i, &b) in value.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b';' if !in_quotes => {
                if let Some(s) = segment_start {
                    segments.push((s, i));
                }
                segment_start = Some(i + 1);
            }
            _ => {}
        }
    }
    if let Some(s) = segment_start {
        segments.push((s, value.len()));
    }
    for (start, end) in segments {
        let segment = &value[start..end];
        let Some(eq) = segment.iter().position(|b| *b == b'=') else { continue };
        if !segment[..eq].trim_ascii().eq_ignore_ascii_case(b"charset") {
            continue;
        }
        let value_start =
            start + eq + 1 + (segment[eq + 1..].len() - segment[eq + 1..].trim_ascii_start().len());
        let value_end = start + segment.trim_ascii_end().len();
        let mut out = value[..value_start].to_vec();
        out.extend_from_slice(charset.as_bytes());
        out.extend_from_slice(&value[value_end.max(value_start)..]);
        return out;
    }
    let content_end = value.trim_ascii_end().len();
    let mut out = value[..content_end].to_vec();
    out.extend_from_slice(format!("; charset={charset}").as_bytes());
    out.extend_from_slice(&value[content_end..]);
    out
}

/// The trace header value on one line, without characters that could end
/// the header early.
pub(crate) fn trace_value(trace: &str) -> String {
    trace
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Applies non-overlapping edits to `raw`.
pub(crate) fn assemble(raw: &[u8], mut edits: Vec<Edit>) -> Result<Vec<u8>, RewriteError> {
    edits.sort_by_key(|e| (e.start, e.end));
    let extra: usize = edits.iter().map(|e| e.bytes.len()).sum();
    let mut out = Vec::with_capacity(raw.len() + extra);
    let mut pos = 0;
    for edit in edits {
        if edit.start < pos || edit.end > raw.len() || edit.end < edit.start {
            return Err(RewriteError::Structure("overlapping edits".into()));
        }
        out.extend_from_slice(&raw[pos..edit.start]);
        out.extend_from_slice(&edit.bytes);
        pos = edit.end;
    }
    out.extend_from_slice(&raw[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_parameter_is_replaced_or_added() {
        assert_eq!(
            with_charset(b" text/plain; charset=\"iso-8859-1\";\r\n\tformat=flowed\r\n", "utf-8"),
            b" text/plain; charset=utf-8;\r\n\tformat=flowed\r\n"
        );
        assert_eq!(with_charset(b" text/html\n", "utf-8"), b" text/html; charset=utf-8\n");
        assert_eq!(
            with_charset(b" text/plain; name=\"a;charset=x\"\r\n", "utf-8"),
            b" text/plain; name=\"a;charset=x\"; charset=utf-8\r\n"
        );
        assert_eq!(
            with_charset(b" text/plain; CHARSET=us-ascii\r\n", "utf-8"),
            b" text/plain; CHARSET=utf-8\r\n"
        );
    }

    #[test]
    fn assemble_rejects_overlap() {
        let raw = b"0123456789";
        let ok = assemble(
            raw,
            vec![
                Edit { start: 5, end: 5, bytes: b"x".to_vec() },
                Edit { start: 1, end: 3, bytes: vec![] },
            ],
        );
        assert_eq!(ok.unwrap(), b"034x56789");
        let bad = assemble(
            raw,
            vec![
                Edit { start: 1, end: 4, bytes: vec![] },
                Edit { start: 2, end: 5, bytes: vec![] },
            ],
        );
        assert!(bad.is_err());
    }
}
