//! Finds a plan's literal spans in text whose whitespace differs from the
//! plan's: HTML collapses runs of spaces, writes `&nbsp;`, and breaks lines
//! with `<br>` or paragraphs instead of `\n`.

/// Text with every whitespace run collapsed to one space, remembering for
/// each byte which byte range of the source it came from.
#[derive(Debug, Default)]
pub(crate) struct Folded {
    text: String,
    spans: Vec<(usize, usize)>,
}

impl Folded {
    /// Adds one decoded character that came from `source[span.0..span.1]`.
    pub(crate) fn push(&mut self, c: char, span: (usize, usize)) {
        let c = plain_quote(c);
        if c.is_whitespace() {
            self.push_break(span.0);
            return;
        }
        let mut buf = [0u8; 4];
        let encoded = c.encode_utf8(&mut buf);
        self.text.push_str(encoded);
        for _ in 0..encoded.len() {
            self.spans.push(span);
        }
    }

    /// Adds whitespace that has no text of its own (`<br>`, a block edge).
    pub(crate) fn push_break(&mut self, at: usize) {
        if !self.text.is_empty() && !self.text.ends_with(' ') {
            self.text.push(' ');
            self.spans.push((at, at));
        }
    }

    /// Length of the folded text so far, in bytes.
    pub(crate) fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether anything but whitespace was added since `len()` was `from`.
    pub(crate) fn has_text_after(&self, from: usize) -> bool {
        self.text.get(from..).is_some_and(|t| t.chars().any(|c| c != ' '))
    }

    /// Source range of the first occurrence of `needle`, compared with
    /// whitespace runs folded and outer whitespace ignored.
    pub(crate) fn find(&self, needle: &str) -> Option<(usize, usize)> {
        self.find_all(needle).into_iter().next()
    }

    /// Source ranges of every non-overlapping occurrence of `needle`.
    pub(crate) fn find_all(&self, needle: &str) -> Vec<(usize, usize)> {
        let needle = fold(needle);
        if needle.is_empty() {
            return Vec::new();
        }
        self.text
            .match_indices(&needle)
            .map(|(start, _)| (self.spans[start].0, self.spans[start + needle.len() - 1].1))
            .collect()
    }
}

/// Collapses whitespace runs to one space, trims the ends and writes
/// typographic quotes plainly.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(plain_quote));
    }
    out
}

/// Word and Outlook turn `'` and `"` into curly quotes in the HTML part while
/// the plain part keeps them straight; the plan's spans come from the plain
/// text, so both must compare equal.
fn plain_quote(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' => '"',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_across_whitespace_differences() {
        let source = "Met  vriendelijke\u{a0}groet,\nTeam Incasso";
        let mut folded = Folded::default();
        for (i, c) in source.char_indices() {
            folded.push(c, (i, i + c.len_utf8()));
        }
        let (s, e) = folded.find("vriendelijke groet, Team").unwrap();
        assert_eq!(&source[s..e], "vriendelijke\u{a0}groet,\nTeam");
        assert_eq!(folded.find("absent"), None);
        let source = "collega\u{2019}s";
        let mut folded = Folded::default();
        for (i, c) in source.char_indices() {
            folded.push(c, (i, i + c.len_utf8()));
        }
        assert_eq!(folded.find("collega's"), Some((0, source.len())));
        assert_eq!(folded.find("  "), None);
    }
}
