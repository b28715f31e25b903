//! Finds where the new text of a reply ends and the quoted history begins.
//!
//! Rewrites must only touch what the sender wrote now: the history below it
//! is someone else's words and stays byte-identical.
//!
//! Recognised starts of history, in nl/en/de/fr:
//! - quoted lines (`> ...`);
//! - attribution lines (`On ... wrote:`, `Op ... schreef:`, `Am ... schrieb:`,
//!   `Le ... a écrit :`), also when the client wrapped them over two lines;
//! - separators (`-----Original Message-----` and its translations,
//!   forwarded-message banners);
//! - Outlook header blocks: `From:`/`Van:`/`Von:`/`De :` followed within a
//!   few lines by `Sent:`/`Verzonden:`/`Gesendet:`/`Envoyé :` or `Date:`,
//!   together with the `____` rule Outlook draws above them.
//!
//! The scan works on borrowed lines and compares case-insensitively without
//! allocating, because it runs on every outbound message of our own people.

use super::fold::{ends_with_ci, starts_with_ci};

/// Byte offset in `text` where the quoted history starts, or `text.len()`
/// when there is none.
pub fn quote_start(text: &str) -> usize {
    let mut lines: Vec<(usize, &str)> = Vec::with_capacity(text.len() / 32 + 1);
    let mut offset = 0;
    // Line ends found with one SIMD scan rather than a search per line.
    for end in memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1).chain([text.len()]) {
        if end > offset {
            lines.push((offset, text[offset..end].trim()));
            offset = end;
        }
    }
    for (i, &(at, line)) in lines.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let next = lines.get(i + 1).map_or("", |l| l.1);
        if line.starts_with('>') || is_separator(line) || is_attribution(line, next) {
            return at;
        }
        if is_header_block(&lines[i..]) {
            // Include Outlook's horizontal rule when it sits right above.
            let rule = lines[..i]
                .iter()
                .rev()
                .find(|(_, l)| !l.is_empty())
                .filter(|(_, l)| l.len() >= 10 && l.chars().all(|c| c == '_' || c == '-'));
            return rule.map_or(at, |r| r.0);
        }
    }
    text.len()
}

const SEPARATORS: &[&str] = &[
    "-----original message-----",
    "-----oorspronkelijk bericht-----",
    "-----oorspronkelijk e-mailbericht-----",
    "-----ursprüngliche nachricht-----",
    "-----message d'origine-----",
    "-------- original message --------",
    "-------- oorspronkelijk bericht --------",
    "-------- ursprüngliche nachricht --------",
    "-------- message original --------",
    "---------- forwarded message ---------",
    "-------- forwarded message --------",
    "---------- doorgestuurd bericht ---------",
    "-------- doorgestuurd bericht --------",
    "---------- weitergeleitete nachricht ----------",
    "-------- weitergeleitete nachricht --------",
    "-------- message transféré --------",
    "---------- message transféré ---------",
    "begin forwarded message:",
    "begin doorgestuurd bericht:",
];

fn is_separator(line: &str) -> bool {
    line.starts_with(['-', 'b', 'B']) && SEPARATORS.iter().any(|s| starts_with_ci(line, s))
}

/// Openers of attribution lines and the verbs that close them. Dutch and
/// German put the name after the verb ("Op 3 mei schreef Ann <a@x>:"), so
/// the line must contain the verb and end in a colon, not end in the verb.
const ATTRIBUTION_OPENERS: &[&str] = &["on ", "op ", "am ", "le ", "el "];
const ATTRIBUTION_VERBS: &[&str] =
    &["wrote", "schreef", "geschreven", "schrieb", "geschrieben", "a écrit", "escribió"];

fn is_attribution(line: &str, next: &str) -> bool {
    // Every opener starts with one of these ASCII letters, and no other
    // character lower-cases to them, so one byte dismisses most lines.
    let opener_letter = matches!(first_lower(line), b'o' | b'a' | b'l' | b'e');
    if line.len() > 300
        || !opener_letter
        || !ATTRIBUTION_OPENERS.iter().any(|o| starts_with_ci(line, o))
    {
        return line.len() < 200 && ends_with_ci(line, " wrote:") && line.contains('@');
    }
    let has_verb = |text: &str| {
        let lower = text.to_lowercase();
        ATTRIBUTION_VERBS.iter().any(|v| lower.contains(v))
    };
    if line.ends_with(':') {
        return has_verb(line);
    }
    // Clients wrap long attributions: "On ..., Ann <\nann@x> wrote:".
    next.len() < 120 && next.ends_with(':') && (has_verb(line) || has_verb(next))
}

const FROM_LABELS: &[&str] = &["from:", "van:", "von:", "de :", "de:"];
const DATE_LABELS: &[&str] =
    &["sent:", "verzonden:", "gesendet:", "envoyé :", "envoyé:", "date:", "datum:", "date :"];

/// An Outlook reply header: a `From:` line with a `Sent:`/`Date:` line
/// among the next four non-empty lines.
fn is_header_block(lines: &[(usize, &str)]) -> bool {
    let Some(&(_, first)) = lines.first() else { return false };
    if !matches!(first_lower(first), b'f' | b'v' | b'd')
        || !FROM_LABELS.iter().any(|l| starts_with_ci(first, l))
    {
        return false;
    }
    lines[1..]
        .iter()
        .filter(|(_, l)| !l.is_empty())
        .take(4)
        .any(|(_, l)| DATE_LABELS.iter().any(|d| starts_with_ci(l, d)))
}

/// The first byte of `line`, lower-cased if it is an ASCII letter.
fn first_lower(line: &str) -> u8 {
    line.as_bytes().first().map_or(0, u8::to_ascii_lowercase)
}

/// CSS selectors of the containers mail clients put quoted history in;
/// everything inside (and, for Outlook's separator, after) them is history.
pub const HTML_QUOTE_SELECTORS: &[&str] = &[
    "div.gmail_quote",
    "div.gmail_extra",
    "blockquote",
    "div#divRplyFwdMsg",
    "div#appendonsend",
    "div.moz-cite-prefix",
    "div.moz-forward-container",
    "div.yahoo_quoted",
    "div.zmail_extra",
    "div#mail-editor-reference-message-container",
    "div.OutlookMessageHeader",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn history(text: &str) -> &str {
        &text[quote_start(text)..]
    }

    #[test]
    fn finds_quoted_lines_and_reply_headers() {
        let text = "Hello\n\nOn Mon, 1 Jan 2024, Ann wrote:\n> hi\n";
        assert_eq!(history(text), "On Mon, 1 Jan 2024, Ann wrote:\n> hi\n");
        let outlook = "Thanks\n-----Original Message-----\nFrom: x\n";
        assert_eq!(history(outlook), "-----Original Message-----\nFrom: x\n");
        assert_eq!(quote_start("no history"), "no history".len());
    }

    #[test]
    fn attributions_in_four_languages_and_wrapped() {
        assert_eq!(
            history("Dag\nOp 3 mei 2024 om 10:00 schreef Ann:\n"),
            "Op 3 mei 2024 om 10:00 schreef Ann:\n"
        );
        assert_eq!(
            history("Hallo\nAm 3. Mai 2024 schrieb Ann:\n"),
            "Am 3. Mai 2024 schrieb Ann:\n"
        );
        assert_eq!(
            history("Bonjour\nLe 3 mai 2024, Ann a écrit :\n"),
            "Le 3 mai 2024, Ann a écrit :\n"
        );
        let wrapped = "Hi\nOn Mon, 1 Jan 2024 at 10:00, Ann Smith <\nann@example.org> wrote:\n";
        assert_eq!(
            history(wrapped),
            "On Mon, 1 Jan 2024 at 10:00, Ann Smith <\nann@example.org> wrote:\n"
        );
    }

    #[test]
    fn outlook_header_blocks_with_rule() {
        let nl = "Zie bijlage.\n\n________________________________\nVan: Ann <a@x>\nVerzonden: maandag 3 mei\nAan: b@x\n";
        assert!(history(nl).starts_with("____"));
        let de = "Danke\r\n\r\nVon: Ann\r\nGesendet: Montag\r\n";
        assert_eq!(history(de), "Von: Ann\r\nGesendet: Montag\r\n");
        let fr = "Merci\nDe : Ann\nEnvoyé : lundi\n";
        assert_eq!(history(fr), "De : Ann\nEnvoyé : lundi\n");
        // A sentence starting with "From:" but no date line is not a header block.
        let prose = "From: the team\nWe will call you.\n";
        assert_eq!(quote_start(prose), prose.len());
    }

    #[test]
    fn translated_separators() {
        let text = "Groet\n-----Oorspronkelijk bericht-----\nVan: x\n";
        assert_eq!(history(text), "-----Oorspronkelijk bericht-----\nVan: x\n");
        let text = "Gruß\n-----Ursprüngliche Nachricht-----\n";
        assert_eq!(history(text), "-----Ursprüngliche Nachricht-----\n");
    }
}
