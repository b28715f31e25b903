//! Where in the away text an edit belongs: the sentence around a phrase, and the line above the closing.

use std::ops::Range;

use super::is_closing;

/// The sentence that contains `span`: back to the previous sentence end or
/// blank line, forward to the next sentence end or blank line. Single line
/// breaks inside a sentence (wrapped plain text) do not end it.
pub(super) fn sentence_around(text: &str, span: Range<usize>) -> Range<usize> {
    let before = &text[..span.start];
    let start = [". ", "! ", "? ", ".\n", "!\n", "?\n", "\n\n", ":\n", ": "]
        .iter()
        .filter_map(|sep| before.rfind(sep).map(|i| i + sep.len()))
        .max()
        .unwrap_or(0);
    let start =
        start + (text[start..span.start].len() - text[start..span.start].trim_start().len());
    let after = &text[span.end..];
    let end = after
        .char_indices()
        .find(|&(i, c)| matches!(c, '.' | '!' | '?') || after[i..].starts_with("\n\n"))
        .map_or(text.len(), |(i, c)| span.end + i + if c == '\n' { 0 } else { c.len_utf8() });
    let end = start.max(end - (text[start..end].len() - text[start..end].trim_end().len()));
    start..end
}

/// The last non-empty line above the closing phrase ("Met vriendelijke
/// groet,"), where a new paragraph belongs; `None` when there is no closing.
pub(super) fn last_line_before_closing(text: &str) -> Option<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let closing = lines.iter().rposition(|l| is_closing(l))?;
    lines[..closing].iter().rev().map(|l| l.trim()).find(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_found_around_a_phrase() {
        let text = "Ik ben afwezig tot 10 november. Voor dringende zaken kunt u\nbellen met een collega.\n\nGroet,\nMaarten";
        let at = text.find("dringende").unwrap();
        let s = sentence_around(text, at..at + 9);
        assert_eq!(&text[s], "Voor dringende zaken kunt u\nbellen met een collega.");
    }

    #[test]
    fn sentence_at_text_end_without_full_stop() {
        let text = "For urgent matters call the office";
        assert_eq!(&text[sentence_around(text, 4..10)], text);
    }

    #[test]
    fn closing_anchor() {
        let text = "Beste,\n\nIk ben er niet.\n\nMet vriendelijke groet,\nMaarten\n";
        assert_eq!(last_line_before_closing(text), Some("Ik ben er niet."));
        assert_eq!(last_line_before_closing("No closing here"), None);
    }
}
