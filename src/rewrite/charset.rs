//! Charsets of the parts we rewrite.
//!
//! encoding_rs follows WHATWG, where `us-ascii` and `iso-8859-1` are labels
//! of windows-1252. That is right for decoding what mail clients send, but
//! wrong for encoding: a `€` written as 0x80 under `charset=iso-8859-1` is a
//! C1 control to a strict reader. So these two labels are encoded strictly
//! here, and anything they cannot hold makes the part switch to UTF-8.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// `us-ascii`, or no charset parameter at all (RFC 2045 default).
    Ascii,
    /// `iso-8859-1` and its aliases: U+0000..=U+00FF only.
    Latin1,
    Utf8,
    /// Any other encoding that encoding_rs can encode to.
    Other(&'static Encoding),
}

impl Charset {
    /// `None` for labels we cannot write back (UTF-16, unknown labels).
    pub(crate) fn from_label(label: Option<&str>) -> Option<Charset> {
        let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) else {
            return Some(Charset::Ascii);
        };
        let lower = label.to_ascii_lowercase();
        match lower.as_str() {
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "us" | "cp367" => {
                return Some(Charset::Ascii);
            }
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "l1" | "cp819" | "ibm819"
            | "iso-ir-100" | "iso_8859-1:1987" | "csisolatin1" => return Some(Charset::Latin1),
            _ => {}
        }
        let encoding = Encoding::for_label(lower.as_bytes())?;
        if encoding == UTF_8 {
            Some(Charset::Utf8)
        } else if encoding.output_encoding() != encoding {
            None
        } else {
            Some(Charset::Other(encoding))
        }
    }

    /// Decodes a part body. Undeclared 8-bit text is read as UTF-8 when it
    /// is valid UTF-8, else as windows-1252, which is what senders meant.
    pub(crate) fn decode(self, bytes: &[u8]) -> String {
        match self {
            Charset::Ascii => match std::str::from_utf8(bytes) {
                Ok(s) => s.to_string(),
                Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
            },
            Charset::Latin1 => WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
            Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Other(encoding) => encoding.decode_without_bom_handling(bytes).0.into_owned(),
        }
    }

    /// Encodes `text`, or `None` when some character does not fit.
    pub(crate) fn encode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Charset::Ascii => text.is_ascii().then(|| text.as_bytes().to_vec()),
            Charset::Latin1 => text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect(),
            Charset::Utf8 => Some(text.as_bytes().to_vec()),
            Charset::Other(encoding) => {
                let (bytes, _, unmappable) = encoding.encode(text);
                (!unmappable).then(|| bytes.into_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(Charset::from_label(None), Some(Charset::Ascii));
        assert_eq!(Charset::from_label(Some("US-ASCII")), Some(Charset::Ascii));
        assert_eq!(Charset::from_label(Some("ISO-8859-1")), Some(Charset::Latin1));
        assert_eq!(Charset::from_label(Some("utf8")), Some(Charset::Utf8));
        assert_eq!(Charset::from_label(Some("windows-1252")), Some(Charset::Other(WINDOWS_1252)));
        assert_eq!(Charset::from_label(Some("utf-16le")), None);
        assert_eq!(Charset::from_label(Some("x-no-such")), None);
    }

    #[test]
    fn strict_encoding() {
        assert_eq!(Charset::Ascii.encode("één"), None);
        assert_eq!(Charset::Latin1.encode("één"), Some(vec![0xe9, 0xe9, b'n']));
        assert_eq!(Charset::Latin1.encode("€"), None);
        assert_eq!(Charset::Other(WINDOWS_1252).encode("€"), Some(vec![0x80]));
        assert_eq!(Charset::Other(WINDOWS_1252).encode("Ω"), None);
        assert_eq!(Charset::Latin1.decode(&[0xe9]), "é");
        assert_eq!(Charset::Ascii.decode("é".as_bytes()), "é");
    }
}
