//! Applies a plan's edits to a text/html body.
//!
//! The document is read once for where every start tag, end tag and text
//! node sits in the source (by [`quick`] for the plain HTML mail clients
//! write, by lol_html for everything else); the edits are then spliced into
//! the source string, so markup we do not touch (styles, conditional comments,
//! the quoted history) comes out byte for byte. Matching happens on the
//! entity-decoded text of the new-text region with whitespace folded, where
//! `<br>` and block edges count as whitespace; a match may run across inline
//! elements (`<b>urgent</b> questions`) and even across paragraphs.

mod quick;

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Element, EndTag, TextChunk};
use lol_html::{RewriteStrSettings, element, end_tag, rewrite_str, text};

use super::Splices;
use super::entities::decode_into;
use super::matcher::Folded;
use super::text::Applied;
use crate::classify::quote::HTML_QUOTE_SELECTORS;
use crate::plan::TextEdit;
use crate::rewrite::RewriteError;

/// Elements that start a new line of text: their edges fold to whitespace.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "body",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];
/// Blocks after which a new paragraph may follow as a sibling.
const PARAGRAPHS: &[&str] = &[
    "address",
    "blockquote",
    "center",
    "div",
    "dl",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ol",
    "p",
    "pre",
    "table",
    "ul",
];
/// Blocks a paragraph must stay inside of (a `<p>` after `</td>` is invalid).
const CELLS: &[&str] = &["dd", "dt", "li", "td", "th"];
/// Whose text is not shown as the message text.
const HIDDEN: &[&str] = &["head", "noscript", "script", "style", "template", "title", "xml"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    name: String,
    start: usize,
    /// Source range of the end tag, when one was seen.
    end: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    start: usize,
    end: usize,
    /// Innermost block element around the node.
    block: Option<usize>,
    hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Text(usize),
    Break(usize),
}

#[derive(Debug, Default)]
struct Scan {
    tags: Vec<Tag>,
    open: Vec<usize>,
    nodes: Vec<Node>,
    node_open: bool,
    events: Vec<Event>,
    quote_at: Option<usize>,
    body_end: Option<usize>,
    html_end: Option<usize>,
}

impl Scan {
    fn start_tag(scan: &Rc<RefCell<Scan>>, el: &mut Element<'_, '_>) -> lol_html::HandlerResult {
        let name = el.tag_name();
        let range = el.source_location().bytes();
        let mut s = scan.borrow_mut();
        s.node_open = false;
        let index = s.tags.len();
        if BLOCKS.contains(&name.as_str()) || name == "br" {
            s.events.push(Event::Break(range.start));
        }
        s.tags.push(Tag { name, start: range.start, end: None });
        drop(s);
        if el.end_tag_handlers().is_some() {
            scan.borrow_mut().open.push(index);
            let scan = Rc::clone(scan);
            el.on_end_tag(end_tag!(move |end: &mut EndTag<'_>| {
                let range = end.source_location().bytes();
                let mut s = scan.borrow_mut();
                s.node_open = false;
                s.tags[index].end = Some((range.start, range.end));
                // Elements closed implicitly never report an end tag: they
                // leave the stack together with the ancestor that closes.
                if let Some(pos) = s.open.iter().rposition(|i| *i == index) {
                    s.open.truncate(pos);
                }
                match s.tags[index].name.as_str() {
                    "body" => s.body_end = Some(range.start),
                    "html" => s.html_end = Some(range.start),
                    name if BLOCKS.contains(&name) => s.events.push(Event::Break(range.start)),
                    _ => {}
                }
                Ok(())
            }))?;
        }
        Ok(())
    }

    fn text(&mut self, chunk: &TextChunk<'_>) {
        let range = chunk.source_location().bytes();
        if self.node_open {
            if let Some(node) = self.nodes.last_mut() {
                node.end = node.end.max(range.end);
            }
        } else {
            let block =
                self.open.iter().rev().find(|i| BLOCKS.contains(&self.tags[**i].name.as_str()));
            let hidden = self.open.iter().any(|i| HIDDEN.contains(&self.tags[*i].name.as_str()));
            let block = block.copied();
            self.events.push(Event::Text(self.nodes.len()));
            self.nodes.push(Node { start: range.start, end: range.end, block, hidden });
        }
        self.node_open = !chunk.last_in_text_node();
    }
}

/// Where the tags and text of `html` are. Mail clients write plain HTML,
/// which [`quick`] reads directly; whatever it does not model goes through
/// lol_html, whose reading `quick` reproduces for the HTML it accepts.
fn scan(html: &str) -> Result<Scan, RewriteError> {
    match quick::scan(html) {
        Some(scan) => Ok(scan),
        None => scan_with_lol_html(html),
    }
}

/// `Ok(true)` when the direct reading accepts `html` and records what
/// lol_html records, `Ok(false)` when it leaves `html` to lol_html, and the
/// difference otherwise.
pub(super) fn compare_readings(html: &str) -> Result<bool, String> {
    let Some(quick) = quick::scan(html) else { return Ok(false) };
    // What the edits are computed from; the rest is the readers' own state.
    let recorded = |s: &Scan| {
        (s.tags.clone(), s.nodes.clone(), s.events.clone(), s.quote_at, s.body_end, s.html_end)
    };
    match scan_with_lol_html(html) {
        Ok(slow) if recorded(&quick) == recorded(&slow) => Ok(true),
        Ok(slow) => Err(format!(
            "{html:?}\ndirect: {:#?}\nlol_html: {:#?}",
            recorded(&quick),
            recorded(&slow)
        )),
        Err(e) => Err(format!("{html:?}: accepted, but lol_html refuses it: {e}")),
    }
}

fn scan_with_lol_html(html: &str) -> Result<Scan, RewriteError> {
    let state = Rc::new(RefCell::new(Scan::default()));
    let mut settings = RewriteStrSettings::new();
    for selector in HTML_QUOTE_SELECTORS {
        let state = Rc::clone(&state);
        settings = settings.append_element_content_handler(element!(selector, move |el| {
            let at = el.source_location().bytes().start;
            let mut s = state.borrow_mut();
            s.quote_at = Some(s.quote_at.map_or(at, |q| q.min(at)));
            Ok(())
        }));
    }
    let on_tag = Rc::clone(&state);
    let on_text = Rc::clone(&state);
    settings = settings
        .append_element_content_handler(element!("*", move |el| Scan::start_tag(&on_tag, el)))
        .append_element_content_handler(text!("*", move |chunk| {
            on_text.borrow_mut().text(chunk);
            Ok(())
        }));
    rewrite_str(html, settings).map_err(|e| RewriteError::Html(e.to_string()))?;
    let scan = state.take();
    Ok(scan)
}

pub(crate) fn apply(html: &str, edits: &[TextEdit]) -> Result<Applied, RewriteError> {
    let scan = scan(html)?;
    let limit = scan.quote_at.unwrap_or(html.len());
    let editable = |node: &Node| !node.hidden && node.end <= limit;

    let mut folded = Folded::default();
    let mut first_text = None;
    for event in &scan.events {
        match *event {
            Event::Break(at) if at < limit => folded.push_break(at),
            Event::Text(i) if editable(&scan.nodes[i]) => {
                let node = &scan.nodes[i];
                let before = folded.len();
                decode_into(&html[node.start..node.end], node.start, &mut folded);
                if first_text.is_none() && folded.has_text_after(before) {
                    first_text = Some(i);
                }
            }
            _ => {}
        }
    }

    let mut splices = Splices::default();
    let mut applied = Vec::new();
    let mut unapplied = Vec::new();
    for (index, edit) in edits.iter().enumerate() {
        let ok = match edit {
            TextEdit::Prepend { html: h, .. } => {
                let at = match first_text {
                    Some(i) => prepend_at(&scan, &scan.nodes[i]),
                    None => scan.quote_at.or(scan.body_end).unwrap_or(html.len()),
                };
                splices.insert(at, paragraph(h))
            }
            TextEdit::Append { html: h, .. } => {
                let at = scan.quote_at.or(scan.body_end).or(scan.html_end).unwrap_or(html.len());
                splices.insert(at, paragraph(h))
            }
            // Every occurrence, as in the plain part.
            TextEdit::Replace { find, html: h, .. } => {
                let mut any = false;
                for (start, end) in folded.find_all(find) {
                    let ranges: Vec<(usize, usize)> = scan
                        .nodes
                        .iter()
                        .filter(|n| editable(n) && n.start < end && start < n.end)
                        .map(|n| (n.start.max(start), n.end.min(end)))
                        .collect();
                    any |= splices.replace_many(&ranges, h);
                }
                any
            }
            TextEdit::InsertAfter { anchor, html: h, .. } => match folded.find(anchor) {
                Some((_, end)) => match scan.nodes.iter().find(|n| n.start < end && end <= n.end) {
                    Some(node) => splices.insert(insert_after_at(&scan, node, limit), paragraph(h)),
                    None => false,
                },
                None => false,
            },
        };
        if ok { applied.push(index) } else { unapplied.push(index) }
    }
    Ok(Applied { text: splices.apply(html), applied, unapplied })
}

fn paragraph(html: &str) -> String {
    format!("<p>{html}</p>")
}

/// Before the paragraph holding the first text, or before the text itself
/// when it sits directly in the body or a table cell.
fn prepend_at(scan: &Scan, node: &Node) -> usize {
    match node.block.map(|b| &scan.tags[b]) {
        Some(tag) if PARAGRAPHS.contains(&tag.name.as_str()) => tag.start,
        _ => node.start,
    }
}

/// After the paragraph holding the anchor; inside a cell before its end
/// tag; after the anchor's text when the paragraph never closes or closes
/// only after the quoted history.
fn insert_after_at(scan: &Scan, node: &Node, limit: usize) -> usize {
    if let Some(tag) = node.block.map(|b| &scan.tags[b])
        && let Some((end_start, end_end)) = tag.end.filter(|(_, e)| *e <= limit)
    {
        if PARAGRAPHS.contains(&tag.name.as_str()) {
            return end_end;
        }
        if CELLS.contains(&tag.name.as_str()) {
            return end_start;
        }
    }
    node.end
}

/// Points `meta` charset declarations at UTF-8 after the part switched to it.
pub(crate) fn declare_utf8(html: &str) -> Result<String, RewriteError> {
    let settings =
        RewriteStrSettings::new().append_element_content_handler(element!("meta", |el| {
            if el.has_attribute("charset") {
                el.set_attribute("charset", "utf-8")?;
            } else if el
                .get_attribute("http-equiv")
                .is_some_and(|v| v.eq_ignore_ascii_case("content-type"))
            {
                el.set_attribute("content", "text/html; charset=utf-8")?;
            }
            Ok(())
        }));
    rewrite_str(html, settings).map_err(|e| RewriteError::Html(e.to_string()))
}
