//! A direct reading of the HTML that mail clients write, for [`super::scan`].
//!
//! lol_html is a streaming rewriter: with a handler on every element and
//! every text node it lexes, dispatches and re-serialises each token, which
//! costs more than everything else in an out-of-office rewrite. The scan
//! needs much less: where each tag and text run sits, which elements are
//! open, and where the first history container starts. This module finds
//! that in one pass over the bytes, following the HTML tokenizer's rules for
//! tags, attributes, comments and `<style>`, and lol_html's rules for which
//! elements are open (void elements never are; an end tag closes the
//! innermost open element of its name and everything opened inside it,
//! which all report that end tag; text is seen only inside an element).
//!
//! It gives up (returns `None`, and lol_html reads the document) on anything
//! it does not model: a `<` that does not start a tag, a construct left open
//! at the end, NUL bytes, nested or abruptly closed comments, foreign
//! content (`<svg>`, `<math>`), elements whose content is not markup
//! (`<script>`, `<title>`, `<textarea>` and the like, except `<style>`), and
//! the contexts where lol_html itself may refuse the document (`<select>`,
//! `<template>`, `<frameset>`), and ESI tags. Tests compare both readings
//! on the HTML parts of the test messages, on hand-written and generated
//! documents, and the `html_scan` fuzz target on arbitrary text.

use std::sync::LazyLock;

use super::{BLOCKS, Event, Node, Scan, Tag};
use crate::classify::quote::HTML_QUOTE_SELECTORS;

/// Start tags after which this reader stops: their content is not markup,
/// they switch to foreign content, lol_html treats what follows them as
/// ambiguous, or (the ESI tags) lol_html's `rewrite_str` makes them void
/// only when written in lower case.
const UNMODELLED: &[&str] = &[
    "script",
    "textarea",
    "title",
    "plaintext",
    "iframe",
    "xmp",
    "noembed",
    "noframes",
    "noscript",
    "svg",
    "math",
    "select",
    "template",
    "frameset",
    "esi:include",
    "esi:comment",
];

/// Elements that never have content, as lol_html lists them.
const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "hr", "img", "input", "keygen",
    "link", "meta", "param", "source", "track", "wbr",
];

/// One history selector in the only forms [`HTML_QUOTE_SELECTORS`] uses:
/// `tag`, `tag.class` or `tag#id`.
#[derive(Debug)]
struct Simple {
    tag: &'static str,
    class: Option<&'static str>,
    id: Option<&'static str>,
}

/// The history selectors, or `None` when one has a form this reader does
/// not match (then every document goes to lol_html).
static SELECTORS: LazyLock<Option<Vec<Simple>>> =
    LazyLock::new(|| HTML_QUOTE_SELECTORS.iter().map(|s| simple(s)).collect());

fn simple(selector: &'static str) -> Option<Simple> {
    let plain = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let (tag, class, id) = match selector.find(['.', '#']) {
        None => (selector, None, None),
        Some(at) if selector.as_bytes()[at] == b'.' => {
            (&selector[..at], Some(&selector[at + 1..]), None)
        }
        Some(at) => (&selector[..at], None, Some(&selector[at + 1..])),
    };
    let lower = tag.bytes().all(|b| b.is_ascii_lowercase());
    (plain(tag) && lower && class.is_none_or(plain) && id.is_none_or(plain)).then_some(Simple {
        tag,
        class,
        id,
    })
}

/// HTML whitespace as lol_html reads it (carriage return included).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c')
}

/// The scan lol_html's handlers would record, or `None` when the document
/// has something this reader does not model.
pub(super) fn scan(html: &str) -> Option<Scan> {
    let selectors = SELECTORS.as_ref()?;
    let bytes = html.as_bytes();
    if memchr::memchr(0, bytes).is_some() {
        return None;
    }
    // Every tag, text node and event follows a `<` (text also the end), so
    // the lists are sized once instead of growing step by step.
    let marks = memchr::memchr_iter(b'<', bytes).count() + 1;
    let scan = Scan {
        tags: Vec::with_capacity(marks),
        nodes: Vec::with_capacity(marks),
        events: Vec::with_capacity(2 * marks),
        ..Scan::default()
    };
    let mut reader = Reader { scan, selectors, kinds: Vec::with_capacity(marks), hidden_open: 0 };
    let mut pos = 0;
    while let Some(found) = memchr::memchr(b'<', &bytes[pos..]) {
        let lt = pos + found;
        reader.text(pos, lt);
        pos = match *bytes.get(lt + 1)? {
            b if b.is_ascii_alphabetic() => reader.start_tag(bytes, lt)?,
            b'/' if bytes.get(lt + 2)?.is_ascii_alphabetic() => reader.end_tag(bytes, lt)?,
            b'!' if bytes[lt + 2..].starts_with(b"--") => comment_end(bytes, lt + 4)?,
            // A doctype, CDATA outside foreign content and every other
            // `<!` or `<?` construct end at the first `>`.
            b'!' | b'?' => lt + 2 + memchr::memchr(b'>', &bytes[lt + 2..])? + 1,
            _ => return None,
        };
    }
    reader.text(pos, bytes.len());
    Some(reader.scan)
}

/// Just past the `-->` of a comment whose text starts at `start`; `None`
/// for the forms the tokenizer ends elsewhere (`<!-->`, `<!--->`, `--!>`,
/// a nested `<!--`) and for a comment left open.
fn comment_end(bytes: &[u8], start: usize) -> Option<usize> {
    let rest = bytes.get(start..)?;
    if rest.starts_with(b">") || rest.starts_with(b"->") {
        return None;
    }
    let end = memchr::memmem::find(rest, b"-->")?;
    let inside = &rest[..end + 3];
    if memchr::memmem::find(inside, b"--!>").is_some()
        || memchr::memmem::find(inside, b"<!--").is_some()
    {
        return None;
    }
    Some(start + end + 3)
}

struct Reader<'s> {
    scan: Scan,
    selectors: &'s [Simple],
    /// Per tag of `scan.tags`: whether it is a block and whether it hides
    /// its text, looked up once instead of at every text node.
    kinds: Vec<Kind>,
    /// How many open elements hide their text.
    hidden_open: usize,
}

/// What a tag name means to the reader, from [`BLOCKS`], [`super::HIDDEN`],
/// [`VOID`], [`UNMODELLED`] and the history selectors' tags.
#[derive(Clone, Copy, Default)]
struct Kind {
    block: bool,
    hidden: bool,
    void: bool,
    unmodelled: bool,
    selected: bool,
}

/// Every name with a meaning, sorted for binary search: a tag is looked up
/// once instead of being compared with each list.
static KINDS: LazyLock<Vec<(&'static str, Kind)>> = LazyLock::new(|| {
    let mut kinds: Vec<(&'static str, Kind)> = Vec::new();
    let mut mark = |names: &[&'static str], set: fn(&mut Kind)| {
        for name in names {
            match kinds.iter_mut().find(|(n, _)| n == name) {
                Some((_, kind)) => set(kind),
                None => {
                    let mut kind = Kind::default();
                    set(&mut kind);
                    kinds.push((name, kind));
                }
            }
        }
    };
    mark(BLOCKS, |k| k.block = true);
    mark(super::HIDDEN, |k| k.hidden = true);
    mark(VOID, |k| k.void = true);
    mark(UNMODELLED, |k| k.unmodelled = true);
    let selected: Vec<&'static str> = SELECTORS.iter().flatten().map(|s| s.tag).collect();
    mark(&selected, |k| k.selected = true);
    kinds.sort_unstable_by_key(|(name, _)| *name);
    kinds
});

fn kind(name: &str) -> Kind {
    KINDS.binary_search_by_key(&name, |(n, _)| n).map_or(Kind::default(), |at| KINDS[at].1)
}

/// A tag's name as written and where its `>` ends, with the first `class`
/// and `id` values as written (what lol_html's selectors compare).
struct TagToken<'a> {
    name: &'a [u8],
    end: usize,
    class: Option<&'a [u8]>,
    id: Option<&'a [u8]>,
}

impl Reader<'_> {
    /// Text between two tokens, as one node when an element is open (the
    /// text handler is registered on `*`, so text outside every element is
    /// not reported).
    fn text(&mut self, start: usize, end: usize) {
        let s = &mut self.scan;
        if start >= end || s.open.is_empty() {
            return;
        }
        let block = s.open.iter().rev().find(|i| self.kinds[**i].block).copied();
        let hidden = self.hidden_open > 0;
        s.events.push(Event::Text(s.nodes.len()));
        s.nodes.push(Node { start, end, block, hidden });
        s.node_open = false;
    }

    fn start_tag(&mut self, bytes: &[u8], lt: usize) -> Option<usize> {
        let tag = tag_token(bytes, lt + 1)?;
        // The name is ASCII (`tag_token` checked it).
        let name: String = tag.name.iter().map(|b| char::from(b.to_ascii_lowercase())).collect();
        let kind = kind(&name);
        if kind.unmodelled {
            return None;
        }
        let quote = kind.selected
            && self.selectors.iter().any(|sel| {
                sel.tag == name
                    && sel.class.is_none_or(|c| {
                        tag.class
                            .is_some_and(|v| v.split(|b| is_space(*b)).any(|t| t == c.as_bytes()))
                    })
                    && sel.id.is_none_or(|id| tag.id == Some(id.as_bytes()))
            });
        let s = &mut self.scan;
        if quote {
            s.quote_at = Some(s.quote_at.map_or(lt, |q| q.min(lt)));
        }
        s.node_open = false;
        if kind.block || name == "br" {
            s.events.push(Event::Break(lt));
        }
        if !kind.void {
            s.open.push(s.tags.len());
            self.hidden_open += usize::from(kind.hidden);
        }
        let is_style = name == "style";
        s.tags.push(Tag { name, start: lt, end: None });
        self.kinds.push(kind);
        if !is_style {
            return Some(tag.end);
        }
        // Raw text up to the first `</style` that ends a tag name.
        let mut from = tag.end;
        loop {
            let at = from + memchr::memmem::find(&bytes[from..], b"</")?;
            let name_end = at + 2 + 5;
            let closes = bytes
                .get(at + 2..name_end)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"style"))
                && bytes.get(name_end).is_some_and(|b| is_space(*b) || matches!(b, b'/' | b'>'));
            if closes {
                self.text(tag.end, at);
                return Some(at);
            }
            from = at + 2;
        }
    }

    fn end_tag(&mut self, bytes: &[u8], lt: usize) -> Option<usize> {
        let tag = tag_token(bytes, lt + 2)?;
        let s = &mut self.scan;
        // The end tag closes the innermost open element of its name and
        // all opened inside it; each reports this end tag, innermost first.
        let named = |i: &usize| s.tags[*i].name.as_bytes().eq_ignore_ascii_case(tag.name);
        if let Some(pos) = s.open.iter().rposition(named) {
            for &index in s.open[pos..].iter().rev() {
                s.node_open = false;
                s.tags[index].end = Some((lt, tag.end));
                let kind = self.kinds[index];
                self.hidden_open -= usize::from(kind.hidden);
                match s.tags[index].name.as_str() {
                    "body" => s.body_end = Some(lt),
                    "html" => s.html_end = Some(lt),
                    _ if kind.block => s.events.push(Event::Break(lt)),
                    _ => {}
                }
            }
            s.open.truncate(pos);
        }
        Some(tag.end)
    }
}

/// Reads a tag from its name (at `at`, just after `<` or `</`) to its `>`;
/// `None` when the tag never ends, its name has characters this reader
/// does not expect, or an attribute has `=` but no value.
fn tag_token(bytes: &[u8], at: usize) -> Option<TagToken<'_>> {
    let name_end =
        at + bytes[at..].iter().position(|b| is_space(*b) || matches!(b, b'/' | b'>'))?;
    let raw = &bytes[at..name_end];
    if !raw.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.')) {
        return None;
    }
    let mut token = TagToken { name: raw, end: 0, class: None, id: None };
    let mut i = name_end;
    let len = bytes.len();
    loop {
        // Before an attribute name.
        while i < len && is_space(bytes[i]) {
            i += 1;
        }
        match *bytes.get(i)? {
            b'>' => {
                token.end = i + 1;
                return Some(token);
            }
            b'/' => {
                // `/` not followed by `>` is dropped and reading goes on.
                i += 1;
                bytes.get(i)?;
                continue;
            }
            _ => {}
        }
        // An attribute name runs to whitespace, `/`, `>` or `=`; a leading
        // `=` belongs to it.
        let name_start = i;
        i += 1;
        while i < len && !is_space(bytes[i]) && !matches!(bytes[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let attr = &bytes[name_start..i];
        while i < len && is_space(bytes[i]) {
            i += 1;
        }
        if *bytes.get(i)? != b'=' {
            token.attribute(attr, b"");
            continue;
        }
        i += 1;
        while i < len && is_space(bytes[i]) {
            i += 1;
        }
        let value = match *bytes.get(i)? {
            quote @ (b'"' | b'\'') => {
                let start = i + 1;
                let end = start + memchr::memchr(quote, &bytes[start..])?;
                i = end + 1;
                &bytes[start..end]
            }
            // A missing value (`<style a=>`): lol_html then leaves a
            // `<style>` in markup mode instead of raw text (found by the
            // html_scan fuzz target), so such tags are left to it.
            b'>' => return None,
            _ => {
                let start = i;
                while i < len && !is_space(bytes[i]) && bytes[i] != b'>' {
                    i += 1;
                }
                &bytes[start..i]
            }
        };
        token.attribute(attr, value);
    }
}

impl<'a> TagToken<'a> {
    /// Keeps the first `class` and `id`, as lol_html's selector matching does.
    fn attribute(&mut self, name: &[u8], value: &'a [u8]) {
        if name.eq_ignore_ascii_case(b"class") {
            self.class.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(b"id") {
            self.id.get_or_insert(value);
        }
    }
}

#[cfg(test)]
#[path = "quick_tests.rs"]
mod tests;
