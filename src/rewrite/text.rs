//! Applies a plan's edits to a text/plain body.
//!
//! Only the new text, above `quote_start`, is edited; the history below it
//! is passed through as the same characters, so the splice keeps its bytes.
//! All edits are located in the original new text (not in the output of
//! earlier edits), so one edit cannot match words another one inserted.

use super::Splices;
use super::matcher::Folded;
use crate::classify::quote::quote_start;
use crate::plan::TextEdit;

/// The result of applying edits to one part's text.
#[derive(Debug)]
pub(crate) struct Applied {
    pub(crate) text: String,
    /// Indexes into the plan's edits of those that took effect.
    pub(crate) applied: Vec<usize>,
    /// Indexes of those that could not be placed in this part.
    pub(crate) unapplied: Vec<usize>,
}

pub(crate) fn apply(text: &str, edits: &[TextEdit]) -> Applied {
    let (new, history) = text.split_at(quote_start(text));
    let crlf = text.contains("\r\n");
    let region = if crlf { new.replace("\r\n", "\n") } else { new.to_string() };
    let has_history = !history.is_empty();
    let mut splices = Splices::default();
    let mut applied = Vec::new();
    let mut unapplied = Vec::new();

    for (index, edit) in edits.iter().enumerate() {
        let ok = match edit {
            TextEdit::Prepend { text, .. } => {
                let at = first_content(&region);
                splices.insert(at, format!("{}\n\n", paragraph(text)))
            }
            // Every occurrence: a sentence the sender repeated is replaced
            // everywhere, so a second gateway finds nothing left to change.
            TextEdit::Replace { find, text, .. } => {
                let replacement = paragraph(text);
                let mut any = false;
                for (start, end) in locate_all(&region, find) {
                    any |= splices.replace(start, end, replacement.clone());
                }
                any
            }
            TextEdit::InsertAfter { anchor, text, .. } => match locate(&region, anchor) {
                Some((_, end)) => {
                    let at = paragraph_end(&region, end);
                    splices.insert(at, after_paragraph(&region, at, text, has_history))
                }
                None => false,
            },
            TextEdit::Append { text, .. } => match last_content_end(&region) {
                Some(at) => splices.insert(at, after_paragraph(&region, at, text, has_history)),
                None => splices.insert(first_content(&region), format!("{}\n\n", paragraph(text))),
            },
        };
        if ok { applied.push(index) } else { unapplied.push(index) }
    }

    let edited = splices.apply(&region);
    let mut out = String::with_capacity(edited.len() + history.len() + 64);
    if crlf {
        out.push_str(&edited.replace('\n', "\r\n"));
    } else {
        out.push_str(&edited);
    }
    out.push_str(history);
    Applied { text: out, applied, unapplied }
}

/// Every occurrence of `needle`, exact matches first, as for [`locate`].
fn locate_all(region: &str, needle: &str) -> Vec<(usize, usize)> {
    if needle.trim().is_empty() {
        return Vec::new();
    }
    let exact: Vec<(usize, usize)> =
        region.match_indices(needle).map(|(start, _)| (start, start + needle.len())).collect();
    if !exact.is_empty() {
        return exact;
    }
    let mut folded = Folded::default();
    for (i, c) in region.char_indices() {
        folded.push(c, (i, i + c.len_utf8()));
    }
    folded.find_all(needle)
}

/// Exact match first; the plan quotes the new text literally, so the folded
/// search only matters for text that was re-wrapped on the way.
fn locate(region: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.trim().is_empty() {
        return None;
    }
    if let Some(start) = region.find(needle) {
        return Some((start, start + needle.len()));
    }
    let mut folded = Folded::default();
    for (i, c) in region.char_indices() {
        folded.push(c, (i, i + c.len_utf8()));
    }
    folded.find(needle)
}

/// The plan's text without trailing blanks on its lines, which would turn
/// into soft breaks under `format=flowed`.
fn paragraph(text: &str) -> String {
    text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

/// `\n\n<text>` to insert at `at`, the end of a paragraph; with one more
/// line break when the history follows directly, to keep a blank line.
fn after_paragraph(region: &str, at: usize, text: &str, has_history: bool) -> String {
    let tight = &region[at..] == "\n" || region[at..].is_empty();
    let mut out = format!("\n\n{}", paragraph(text));
    if has_history && tight {
        out.push('\n');
        if region[at..].is_empty() {
            out.push('\n');
        }
    }
    out
}

/// Start of the first line that is not blank (or the end of the region).
fn first_content(region: &str) -> usize {
    let mut offset = 0;
    for line in region.split_inclusive('\n') {
        if !line.trim().is_empty() {
            return offset;
        }
        offset += line.len();
    }
    if offset == region.len() { 0 } else { offset }
}

/// End (before its line break) of the last line that is not blank.
fn last_content_end(region: &str) -> Option<usize> {
    let trimmed = region.trim_end();
    (!trimmed.is_empty()).then_some(trimmed.len())
}

/// End of the paragraph containing byte `at`: the end of the last non-blank
/// line before the next blank line.
fn paragraph_end(region: &str, at: usize) -> usize {
    let mut end = region[at..].find('\n').map_or(region.len(), |i| at + i);
    while end < region.len() {
        let next = end + 1;
        let next_end = region[next..].find('\n').map_or(region.len(), |i| next + i);
        if region[next..next_end].trim().is_empty() {
            break;
        }
        end = next_end;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit_texts(text: &str, edits: &[TextEdit]) -> Applied {
        apply(text, edits)
    }

    fn prepend(t: &str) -> TextEdit {
        TextEdit::Prepend { rule: "salutation".into(), text: t.into(), html: String::new() }
    }

    #[test]
    fn all_four_edits_keep_history() {
        let text = "Hi,\r\n\r\nI am away.\r\nBack Monday.\r\n\r\nTeam Incasso\r\n\r\nOn Mon, Ann wrote:\r\n> hi\r\n";
        let edits = vec![
            prepend("Dear Ann,"),
            TextEdit::InsertAfter {
                rule: "substitute".into(),
                anchor: "I am away.".into(),
                text: "Call Piet.".into(),
                html: String::new(),
            },
            TextEdit::Replace {
                rule: "team".into(),
                find: "Team Incasso".into(),
                text: "Piet and Ann".into(),
                html: String::new(),
            },
            TextEdit::Append {
                rule: "promise".into(),
                text: "We answer within a day.".into(),
                html: String::new(),
            },
        ];
        let out = edit_texts(text, &edits);
        assert_eq!(out.applied, vec![0, 1, 2, 3]);
        assert_eq!(
            out.text,
            "Dear Ann,\r\n\r\nHi,\r\n\r\nI am away.\r\nBack Monday.\r\n\r\nCall Piet.\r\n\r\nPiet and Ann\r\n\r\nWe answer within a day.\r\n\r\nOn Mon, Ann wrote:\r\n> hi\r\n"
        );
    }

    #[test]
    fn edits_never_reach_the_history() {
        let text = "Away.\n> Team Incasso\n";
        let edits = vec![TextEdit::Replace {
            rule: "team".into(),
            find: "Team Incasso".into(),
            text: "x".into(),
            html: String::new(),
        }];
        let out = edit_texts(text, &edits);
        assert_eq!(out.unapplied, vec![0]);
        assert_eq!(out.text, text);
    }

    #[test]
    fn append_keeps_blank_line_before_tight_history() {
        let out = edit_texts(
            "Thanks\nOn Mon, Ann wrote:\n> hi\n",
            &[TextEdit::Append { rule: "r".into(), text: "P.S.".into(), html: String::new() }],
        );
        assert_eq!(out.text, "Thanks\n\nP.S.\n\nOn Mon, Ann wrote:\n> hi\n");
    }

    #[test]
    fn folded_match_and_empty_text() {
        let out = edit_texts(
            "Met vriendelijke\ngroet",
            &[TextEdit::Replace {
                rule: "r".into(),
                find: "vriendelijke groet".into(),
                text: "hartelijke groet".into(),
                html: String::new(),
            }],
        );
        assert_eq!(out.text, "Met hartelijke groet");
        let out = edit_texts("", &[prepend("Dear Ann,")]);
        assert_eq!(out.text, "Dear Ann,\n\n");
    }
}
