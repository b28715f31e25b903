//! Turns a stored unified diff back into before/after rows for the report,
//! with the changed words inside changed lines marked.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// A piece of a line; `changed` pieces are highlighted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// Whether it was removed (left) or inserted (right).
    pub changed: bool,
}

/// One side of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// Line number in that text.
    pub number: usize,
    /// `ctx` for unchanged lines, `del` or `add` for changed ones.
    pub class: &'static str,
    /// The line in pieces.
    pub segments: Vec<Segment>,
}

/// A row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Set on the first row of each hunk after the first: lines were skipped.
    pub gap: bool,
    /// The before side, when this row has one.
    pub left: Option<Cell>,
    /// The after side, when this row has one.
    pub right: Option<Cell>,
}

/// Rows for a unified diff as `similar` writes it. Lines that do not fit
/// the format are ignored: the report shows what it can understand.
pub fn rows(diff: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let (mut old_no, mut new_no) = (0usize, 0usize);
    let mut removed: Vec<String> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let mut hunks = 0;
    let mut gap_pending = false;
    for line in diff.lines() {
        if line.starts_with("--- ") || line.starts_with("+++ ") || line.starts_with('\\') {
            continue;
        }
        if let Some(header) = line.strip_prefix("@@ ") {
            flush(&mut rows, &mut removed, &mut added, &mut old_no, &mut new_no, &mut gap_pending);
            if let Some((old, new)) = hunk_start(header) {
                (old_no, new_no) = (old.saturating_sub(1), new.saturating_sub(1));
            }
            hunks += 1;
            gap_pending = hunks > 1;
            continue;
        }
        match line.split_at_checked(1) {
            Some(("-", text)) => removed.push(text.to_string()),
            Some(("+", text)) => added.push(text.to_string()),
            Some((" ", text)) => {
                flush(
                    &mut rows,
                    &mut removed,
                    &mut added,
                    &mut old_no,
                    &mut new_no,
                    &mut gap_pending,
                );
                old_no += 1;
                new_no += 1;
                let cell = |number| Cell {
                    number,
                    class: "ctx",
                    segments: vec![Segment { text: text.to_string(), changed: false }],
                };
                rows.push(Row {
                    gap: std::mem::take(&mut gap_pending),
                    left: Some(cell(old_no)),
                    right: Some(cell(new_no)),
                });
            }
            _ => {}
        }
    }
    flush(&mut rows, &mut removed, &mut added, &mut old_no, &mut new_no, &mut gap_pending);
    rows
}

/// `-a,b +c,d @@` → (a, c).
fn hunk_start(header: &str) -> Option<(usize, usize)> {
    let mut parts = header.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let start = |s: &str| s.split(',').next()?.parse().ok();
    Some((start(old)?, start(new)?))
}

/// Pairs a run of removed lines with the added lines that replace them.
fn flush(
    rows: &mut Vec<Row>,
    removed: &mut Vec<String>,
    added: &mut Vec<String>,
    old_no: &mut usize,
    new_no: &mut usize,
    gap_pending: &mut bool,
) {
    let count = removed.len().max(added.len());
    for i in 0..count {
        let (left, right) = match (removed.get(i), added.get(i)) {
            (Some(old), Some(new)) => {
                let (l, r) = word_diff(old, new);
                (Some(l), Some(r))
            }
            (Some(old), None) => (Some(whole(old, true)), None),
            (None, Some(new)) => (None, Some(whole(new, true))),
            (None, None) => (None, None),
        };
        let left = left.map(|segments| {
            *old_no += 1;
            Cell { number: *old_no, class: "del", segments }
        });
        let right = right.map(|segments| {
            *new_no += 1;
            Cell { number: *new_no, class: "add", segments }
        });
        rows.push(Row { gap: std::mem::take(gap_pending), left, right });
    }
    removed.clear();
    added.clear();
}

fn whole(text: &str, changed: bool) -> Vec<Segment> {
    vec![Segment { text: text.to_string(), changed }]
}

/// Word-level pieces of a changed line pair.
fn word_diff(old: &str, new: &str) -> (Vec<Segment>, Vec<Segment>) {
    let diff = TextDiff::from_words(old, new);
    let (mut left, mut right): (Vec<Segment>, Vec<Segment>) = (Vec::new(), Vec::new());
    for change in diff.iter_all_changes() {
        let text = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut left, text, false);
                push(&mut right, text, false);
            }
            ChangeTag::Delete => push(&mut left, text, true),
            ChangeTag::Insert => push(&mut right, text, true),
        }
    }
    (left, right)
}

/// Appends to the last segment when it has the same highlight.
fn push(segments: &mut Vec<Segment>, text: &str, changed: bool) {
    match segments.last_mut() {
        Some(last) if last.changed == changed => last.text.push_str(text),
        _ => segments.push(Segment { text: text.to_string(), changed }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::unified_diff;

    #[test]
    fn replaced_line_is_paired_with_word_highlights() {
        let before = "Hello,\nI am away.\nKind regards,\nTeam Incasso\n";
        let after =
            "Dear Ms Jansen,\nHello,\nI am away.\nKind regards,\nAnna de Vries, Team Incasso\n";
        let rows = rows(&unified_diff(before, after));
        let first = &rows[0];
        assert!(first.left.is_none());
        assert_eq!(first.right.as_ref().unwrap().segments[0].text, "Dear Ms Jansen,");
        let last = rows.last().unwrap();
        let (left, right) = (last.left.as_ref().unwrap(), last.right.as_ref().unwrap());
        assert_eq!((left.number, right.number), (4, 5));
        assert!(right.segments.iter().any(|s| s.changed && s.text.contains("Anna")));
        assert!(right.segments.iter().any(|s| !s.changed && s.text.contains("Incasso")));
    }

    #[test]
    fn separate_hunks_are_marked_as_gaps() {
        let before: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let after =
            before.replace("line 2\n", "line two\n").replace("line 19\n", "line nineteen\n");
        let rows = rows(&unified_diff(&before, &after));
        assert_eq!(rows.iter().filter(|r| r.gap).count(), 1);
        let gap = rows.iter().find(|r| r.gap).unwrap();
        assert_eq!(gap.left.as_ref().unwrap().number, 16);
    }

    #[test]
    fn garbage_gives_no_rows() {
        assert!(rows("not a diff\n@@ nonsense\n").is_empty());
    }
}
