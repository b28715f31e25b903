//! Signals from the top-level header block.
//!
//! One pass over the headers collects what later rules need, so a message
//! without any auto-reply header costs a few string comparisons. Only the
//! top-level headers count: a human reply may attach an auto-reply as
//! message/rfc822, and its headers say nothing about the reply itself.

use mail_parser::Message;

/// What the header block says, before any scoring.
#[derive(Debug, Default)]
pub(crate) struct HeaderFacts {
    /// `Auto-Submitted` value (RFC 3834).
    pub auto_submitted: Option<String>,
    /// `X-Autoreply` value (Gmail vacation, many autoresponders).
    pub x_autoreply: Option<String>,
    /// `X-Autorespond` value.
    pub x_autorespond: Option<String>,
    /// `Precedence` or `X-Precedence` value, lower-case.
    pub precedence: Option<String>,
    /// `X-Apple-Action` value (iCloud vacation).
    pub apple_action: Option<String>,
    /// `X-MS-Exchange-Inbox-Rules-Loop` value (Exchange rule or OOF).
    pub rules_loop: Option<String>,
    /// `X-Auto-Response-Suppress` value.
    pub auto_response_suppress: Option<String>,
    /// `X-MS-Exchange-Generated-Message-Source` value.
    pub exchange_generated_source: Option<String>,
    /// The first list header seen and its value.
    pub list_header: Option<(&'static str, String)>,
    /// `X-Failed-Recipients` (Exim bounces).
    pub failed_recipients: Option<String>,
    /// `X-Zimbra-*` headers are present.
    pub zimbra: bool,
}

/// Header names are matched case-insensitively against these.
const LIST_HEADERS: &[&str] = &["List-Id", "List-Unsubscribe", "List-Post", "X-Mailing-List"];

impl HeaderFacts {
    /// Reads the top-level headers of `message`.
    pub(crate) fn collect(message: &Message<'_>) -> HeaderFacts {
        let mut facts = HeaderFacts::default();
        for header in message.headers() {
            let name = header.name.as_str();
            // Cheap first test: every name we care about starts with one of
            // these letters, so most headers (Received, DKIM-..., Date,
            // Message-ID, ...) are dismissed by one byte compare.
            let first = name.as_bytes().first().map(u8::to_ascii_lowercase);
            if !matches!(first, Some(b'a' | b'x' | b'p' | b'l')) {
                continue;
            }
            let value = || value_text(message, header);
            if name.eq_ignore_ascii_case("Auto-Submitted") {
                facts.auto_submitted.get_or_insert_with(value);
            } else if name.eq_ignore_ascii_case("X-Autoreply")
                || name.eq_ignore_ascii_case("X-Auto-Reply")
            {
                facts.x_autoreply.get_or_insert_with(value);
            } else if name.eq_ignore_ascii_case("X-Autorespond")
                || name.eq_ignore_ascii_case("X-Autoresponder")
            {
                facts.x_autorespond.get_or_insert_with(value);
            } else if name.eq_ignore_ascii_case("Precedence")
                || name.eq_ignore_ascii_case("X-Precedence")
            {
                facts.precedence.get_or_insert_with(|| value().to_ascii_lowercase());
            } else if name.eq_ignore_ascii_case("X-Apple-Action") {
                facts.apple_action.get_or_insert_with(value);
            } else if name.eq_ignore_ascii_case("X-MS-Exchange-Inbox-Rules-Loop") {
                facts.rules_loop.get_or_insert_with(value);
            } else if name.eq_ignore_ascii_case("X-Auto-Response-Suppress") {
                facts.auto_response_suppress.get_or_insert_with(value);
            } else if name.eq_ignore_ascii_case("X-MS-Exchange-Generated-Message-Source") {
                facts.exchange_generated_source.get_or_insert_with(value);
            } else if name.eq_ignore_ascii_case("X-Failed-Recipients") {
                facts.failed_recipients.get_or_insert_with(value);
            } else if name.len() > 9
                // Bytes, not `str`: a multibyte name must not be cut mid-character.
                && name.as_bytes()[..9].eq_ignore_ascii_case(b"X-Zimbra-")
            {
                facts.zimbra = true;
            } else if facts.list_header.is_none()
                && let Some(list) = LIST_HEADERS.iter().find(|l| name.eq_ignore_ascii_case(l))
            {
                facts.list_header = Some((list, value()));
            }
        }
        facts
    }

    /// The `Auto-Submitted` keyword without comments, lower-case
    /// (`auto-replied (vacation)` → `auto-replied`).
    pub(crate) fn auto_submitted_keyword(&self) -> Option<String> {
        let value = self.auto_submitted.as_deref()?;
        let keyword = value.split(['(', ';']).next().unwrap_or_default().trim();
        Some(keyword.to_ascii_lowercase())
    }

    /// The `Precedence` keyword without comments.
    pub(crate) fn precedence_keyword(&self) -> Option<&str> {
        let value = self.precedence.as_deref()?;
        Some(value.split(['(', ';']).next().unwrap_or_default().trim())
    }
}

/// The header value as text: mail-parser's decoded text where it has one,
/// else the raw bytes with folding removed.
fn value_text(message: &Message<'_>, header: &mail_parser::Header<'_>) -> String {
    if let Some(text) = header.value.as_text() {
        return text.trim().to_string();
    }
    let raw = message
        .raw_message
        .get(header.offset_start as usize..header.offset_end as usize)
        .unwrap_or_default();
    let raw = String::from_utf8_lossy(raw);
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a value reads as "yes" (`yes`, `true`, `1`, `on` or any non-empty
/// value other than an explicit no), the way X-Autoreply is used in the wild.
pub(crate) fn is_affirmative(value: &str) -> bool {
    let value = value.trim();
    !(value.is_empty()
        || value.eq_ignore_ascii_case("no")
        || value.eq_ignore_ascii_case("false")
        || value == "0"
        || value.eq_ignore_ascii_case("off"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(headers: &str) -> HeaderFacts {
        let raw = format!("{headers}\r\n\r\nbody\r\n");
        let message = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
        HeaderFacts::collect(&message)
    }

    #[test]
    fn collects_auto_reply_headers() {
        let f = facts(
            "From: a@example.org\r\nAuto-Submitted: auto-replied (vacation)\r\nX-Autoreply: yes\r\n\
             Precedence: Bulk\r\nX-Apple-Action: VACATION\r\nX-Zimbra-Received: x",
        );
        assert_eq!(f.auto_submitted_keyword().as_deref(), Some("auto-replied"));
        assert_eq!(f.x_autoreply.as_deref(), Some("yes"));
        assert_eq!(f.precedence_keyword(), Some("bulk"));
        assert_eq!(f.apple_action.as_deref(), Some("VACATION"));
        assert!(f.zimbra);
    }

    #[test]
    fn collects_list_and_bounce_headers() {
        let f = facts(
            "From: a@example.org\r\nList-Id: <dev.lists.example.org>\r\nX-Failed-Recipients: b@x",
        );
        assert_eq!(f.list_header.as_ref().map(|l| l.0), Some("List-Id"));
        assert_eq!(f.failed_recipients.as_deref(), Some("b@x"));
    }

    #[test]
    fn multibyte_header_names_do_not_panic() {
        // "X-Zimbra" then a two-byte character straddling byte 9.
        let f = facts("X-Zimbra\u{e9}x: 1\r\nX-\u{e9}\u{e9}\u{e9}\u{e9}: 2");
        assert!(!f.zimbra);
    }

    #[test]
    fn affirmative_values() {
        assert!(is_affirmative("yes"));
        assert!(is_affirmative("vacation"));
        assert!(!is_affirmative("No"));
        assert!(!is_affirmative(" "));
    }
}
