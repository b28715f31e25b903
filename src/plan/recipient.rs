//! Works out how to address the recipient of a reply by name.

/// The person a message is addressed to, as far as the headers tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recipient {
    /// Full name in natural order ("John Smith"); empty when unknown.
    pub name: String,
    /// First word of the name.
    pub first_name: String,
    /// Everything after the first word.
    pub last_name: String,
    /// The address.
    pub email: String,
}

/// The first `To:` recipient, falling back to the first envelope recipient.
pub fn recipient(message: &mail_parser::Message<'_>, envelope_rcpt: Option<&str>) -> Recipient {
    let first = message.to().and_then(|to| to.first());
    let email = first
        .and_then(|a| a.address())
        .map(str::to_string)
        .or_else(|| envelope_rcpt.map(str::to_string))
        .unwrap_or_default();
    let name = first.and_then(|a| a.name()).map(natural_name).unwrap_or_default();
    let (first_name, last_name) = match name.split_once(' ') {
        Some((f, l)) => (f.to_string(), l.to_string()),
        None => (name.clone(), String::new()),
    };
    Recipient { name, first_name, last_name, email: strip_line_breaks(&email) }
}

/// Turns a display name into the form a salutation needs: "Smith, John"
/// becomes "John Smith"; quotes, line breaks and names that are really
/// addresses or role mailboxes are dropped.
pub fn natural_name(display: &str) -> String {
    let cleaned = strip_line_breaks(display);
    let cleaned = cleaned.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if cleaned.is_empty() || cleaned.contains('@') || !cleaned.chars().any(char::is_alphabetic) {
        return String::new();
    }
    // "Smith, John" (directory order) but not "Smith, John (Sales)" or "A, B, C".
    let mut name = match cleaned.split_once(',') {
        Some((last, first)) if !first.contains(',') && !first.trim().is_empty() => {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => cleaned.to_string(),
    };
    // Outlook appends departments in parentheses or brackets.
    if let Some(cut) = name.find([' ', '\t']).and_then(|_| name.find(['(', '['])) {
        name.truncate(cut);
    }
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Values end up in headers-adjacent text and templates: CR/LF and other
/// control characters never survive, so no value can start a new line.
pub fn strip_line_breaks(value: &str) -> String {
    // Control characters are below 0x20, 0x7f, or U+0080..U+009F (0xc2 then
    // a second byte); a value without those bytes is copied as it is.
    if !value.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return value.to_string();
    }
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_order_becomes_natural_order() {
        assert_eq!(natural_name("Smith, John"), "John Smith");
        assert_eq!(natural_name("\"de Vries, Anna\""), "Anna de Vries");
        assert_eq!(natural_name("Jan Jansen (Inkoop)"), "Jan Jansen");
        assert_eq!(natural_name("jan@example.com"), "");
        assert_eq!(natural_name("  "), "");
        assert_eq!(natural_name("A, B, C"), "A, B, C");
    }

    #[test]
    fn control_characters_cannot_break_lines() {
        assert_eq!(strip_line_breaks("Eve\r\nBcc: x"), "Eve  Bcc: x");
        assert_eq!(natural_name("Eve\r\nBcc: x@y"), "");
        assert_eq!(strip_line_breaks("a\u{85}b\u{7f}c\u{a0}d\u{e9}"), "a b c\u{a0}d\u{e9}");
        assert_eq!(strip_line_breaks("Ren\u{e9}e Faber"), "Ren\u{e9}e Faber");
    }
}
