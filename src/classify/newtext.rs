//! Extracts the text a person wrote now, above the quoted history.
//!
//! The first text/plain body part is used as it is; only for mail without
//! one is the first text/html part converted. For HTML the history is cut
//! on structure, not on text: the containers in
//! [`HTML_QUOTE_SELECTORS`](super::quote::HTML_QUOTE_SELECTORS) are replaced
//! by a marker with lol_html, the document is turned into text by
//! mail-parser's converter, and the text is cut at the first marker. The
//! plain-text rules of [`quote_start`] then catch what has no container
//! (Outlook desktop writes its reply header as ordinary paragraphs).

use mail_parser::{Message, PartType};

use super::NewText;
use super::quote::{HTML_QUOTE_SELECTORS, quote_start};

/// Stands in for a removed history container; private-use characters do
/// not occur in real mail text.
const MARKER: &str = "\u{E000}\u{E001}history\u{E001}\u{E000}";

/// The new text of `message`, or an empty one when it has no text body.
pub(crate) fn extract(message: &Message<'_>) -> NewText {
    for &id in &message.text_body {
        if let Some(PartType::Text(text)) = message.parts.get(id as usize).map(|p| &p.body) {
            return from_plain(text);
        }
    }
    for &id in &message.html_body {
        if let Some(PartType::Html(html)) = message.parts.get(id as usize).map(|p| &p.body) {
            return from_html(html);
        }
    }
    NewText::default()
}

/// The new text of a plain-text body.
pub(crate) fn from_plain(text: &str) -> NewText {
    let cut = quote_start(text);
    NewText {
        text: normalise_line_ends(text[..cut].trim_end()),
        has_quoted_history: cut < text.len(),
        truncated: false,
    }
}

/// HTML beyond this many bytes is not converted. The new text of a reply
/// is at the top; what is longer is a newsletter, a report or a reply with
/// a long history, and converting all of it would cost milliseconds.
const MAX_HTML_BYTES: usize = 32 * 1024;

/// The new text of an HTML body. When the body is longer than
/// [`MAX_HTML_BYTES`] and no history starts within that prefix, the new
/// text is incomplete and says so (`truncated`), so nothing is detected in
/// what may be the middle of a text.
pub(crate) fn from_html(html: &str) -> NewText {
    let mut end = html.len().min(MAX_HTML_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let capped = end < html.len();
    let (marked, removed) = mark_history(&html[..end]);
    let text = mail_parser::decoders::html::html_to_text(&marked);
    let (text, mut has_history) = match text.find(MARKER) {
        Some(at) => (&text[..at], true),
        None => (text.as_str(), removed),
    };
    let cut = quote_start(text);
    let found_history = has_history || cut < text.len();
    has_history |= cut < text.len();
    NewText {
        text: normalise_line_ends(text[..cut].trim_end()),
        has_quoted_history: has_history,
        truncated: capped && !found_history,
    }
}

/// Replaces every history container with [`MARKER`] (not strict: a history
/// container inside odd markup is still history). Returns the rewritten
/// HTML and whether anything was replaced; HTML that lol_html refuses is
/// returned unchanged (the text rules still apply to it).
fn mark_history(html: &str) -> (String, bool) {
    use lol_html::html_content::ContentType;
    use std::cell::Cell;

    let found = Cell::new(false);
    // mail-parser's converter breaks lines only at <br> and </p>; mail
    // clients write lines as <div>s, so each block ends in a <br> here.
    let blocks =
        lol_html::RewriteStrSettings::new().with_strict(false).append_element_content_handler(
            lol_html::element!("div, li, tr, h1, h2, h3, h4, h5, h6, table", |el| {
                el.append("<br>", ContentType::Html);
                Ok(())
            }),
        );
    let settings = HTML_QUOTE_SELECTORS.iter().fold(blocks, |settings, selector| {
        settings.append_element_content_handler(lol_html::element!(*selector, |el| {
            el.before(MARKER, ContentType::Text);
            el.remove();
            found.set(true);
            Ok(())
        }))
    });
    match lol_html::rewrite_str(html, settings) {
        Ok(out) => (out, found.get()),
        Err(_) => (html.to_string(), false),
    }
}

/// `\r\n` and lone `\r` become `\n`; trailing spaces on lines are kept, as
/// the plan matches spans of this text literally.
fn normalise_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = memchr::memchr(b'\r', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        out.push('\n');
        rest = &rest[at + 1..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_cut_above_history() {
        let nt = from_plain("Dank je.\r\n\r\nOp 3 mei schreef Ann:\r\n> vraag\r\n");
        assert_eq!(nt.text, "Dank je.");
        assert!(nt.has_quoted_history);
        let nt = from_plain("Alleen nieuw\n");
        assert_eq!(nt.text, "Alleen nieuw");
        assert!(!nt.has_quoted_history);
    }

    #[test]
    fn line_ends_become_newlines() {
        assert_eq!(normalise_line_ends("a\r\nb\rc\n\r\n\r"), "a\nb\nc\n\n\n");
        assert_eq!(normalise_line_ends("geen"), "geen");
    }

    #[test]
    fn gmail_quote_is_removed_from_html() {
        let html = "<div dir=\"ltr\">Thanks!<br><br>Team Support</div><br>\
                    <div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, Ann wrote:</div>\
                    <blockquote>Team Incasso</blockquote></div>";
        let nt = from_html(html);
        assert!(nt.text.contains("Thanks!"), "{:?}", nt.text);
        assert!(nt.text.contains("Team Support"));
        assert!(!nt.text.contains("Incasso"));
        assert!(nt.has_quoted_history);
    }

    #[test]
    fn outlook_reply_div_cuts_everything_after() {
        let html = "<div>Zie bijlage.</div><div id=\"appendonsend\"></div><hr>\
                    <div id=\"divRplyFwdMsg\"><b>Van:</b> Ann</div><div>Oude tekst</div>";
        let nt = from_html(html);
        assert_eq!(nt.text, "Zie bijlage.");
        assert!(nt.has_quoted_history);
    }

    #[test]
    fn long_html_is_cut_and_marked_incomplete_unless_history_starts_early() {
        let row = "<p>De belastingdienst heeft nieuwe regels gepubliceerd.</p>\n";
        let long = format!("<div>{}</div><p>Team Nieuws</p>", row.repeat(1000));
        let nt = from_html(&long);
        assert!(nt.truncated);
        assert!(nt.text.len() < MAX_HTML_BYTES, "{}", nt.text.len());
        assert!(!nt.text.contains("Team Nieuws"));
        let reply = format!(
            "<div>Akkoord.</div><div>Team Incasso</div><blockquote>{}</blockquote>",
            row.repeat(1000)
        );
        let nt = from_html(&reply);
        assert!(!nt.truncated);
        assert_eq!(nt.text, "Akkoord.\nTeam Incasso");
        assert!(nt.has_quoted_history);
    }

    #[test]
    fn outlook_desktop_header_paragraphs_are_cut_as_text() {
        let html = "<p>Graag gedaan.</p><p><b>Van:</b> Ann &lt;a@x&gt;<br><b>Verzonden:</b> maandag</p><p>oud</p>";
        let nt = from_html(html);
        assert_eq!(nt.text, "Graag gedaan.");
        assert!(nt.has_quoted_history);
    }
}
