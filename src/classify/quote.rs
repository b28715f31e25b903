//! Finds where the new text of a reply ends and the quoted history begins.
//!
//! Rewrites must only touch what the sender wrote now: the history below it
//! is someone else's words and stays byte-identical.

/// Byte offset in `text` where the quoted history starts, or `text.len()`
/// when there is none.
pub fn quote_start(text: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('>') || is_history_header(trimmed) {
            return offset;
        }
        offset += line.len();
    }
    text.len()
}

fn is_history_header(line: &str) -> bool {
    let lower = line.to_lowercase();
    lower.starts_with("-----original message-----")
        || lower.starts_with("-----oorspronkelijk bericht-----")
        || lower.starts_with("-----ursprüngliche nachricht-----")
        || lower.starts_with("-----message d'origine-----")
        || ((lower.starts_with("on ") && lower.ends_with("wrote:"))
            || (lower.starts_with("op ") && lower.ends_with("schreef:"))
            || (lower.starts_with("am ") && lower.ends_with("schrieb:"))
            || (lower.starts_with("le ") && lower.ends_with("a écrit :")))
}

/// CSS selectors of the containers mail clients put quoted history in;
/// everything inside (and, for Outlook's separator, after) them is history.
pub const HTML_QUOTE_SELECTORS: &[&str] = &[
    "div.gmail_quote",
    "blockquote",
    "div#divRplyFwdMsg",
    "div#appendonsend",
    "div.moz-cite-prefix",
    "div.yahoo_quoted",
    "div.zmail_extra",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_quoted_lines_and_reply_headers() {
        let text = "Hello\n\nOn Mon, 1 Jan 2024, Ann wrote:\n> hi\n";
        assert_eq!(&text[quote_start(text)..], "On Mon, 1 Jan 2024, Ann wrote:\n> hi\n");
        let outlook = "Thanks\n-----Original Message-----\nFrom: x\n";
        assert_eq!(&outlook[quote_start(outlook)..], "-----Original Message-----\nFrom: x\n");
        assert_eq!(quote_start("no history"), "no history".len());
    }
}
