//! Reads policy YAML into the raw structs under tight resource limits, and
//! turns the parser's errors into diagnostics a manager can act on.
//!
//! A policy file is small and flat, so the limits are far below the parser's
//! defaults: a "billion laughs" file (aliases of aliases) or a file nested a
//! thousand levels deep is refused before it costs memory or stack.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, Location, MessageFormatter, Options, UserMessageFormatter};

use super::diagnostic::{Diagnostic, Severity};
use super::hints;
use super::raw::RawPolicy;

/// Largest policy file accepted, in bytes. Real policies are a few KiB; even
/// a firm of a thousand people stays far below this.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// Deepest nesting of mappings and sequences. The schema itself needs five.
const MAX_DEPTH: usize = 16;

/// Most aliases (`*name`) in one file. Sharing a value a few times is fine;
/// thousands are an attack.
const MAX_ALIASES: usize = 1_000;

/// Parser options for policy files.
fn options() -> Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = 1_000;
    budget.max_nodes = 200_000;
    budget.max_events = 400_000;
    budget.max_documents = 1;
    budget.max_reader_input_bytes = Some(MAX_POLICY_BYTES);
    budget.max_total_scalar_bytes = MAX_POLICY_BYTES;
    budget.max_recorded_anchor_events = 20_000;
    budget.max_recorded_anchor_bytes = MAX_POLICY_BYTES;
    let mut options = Options::default();
    options.budget = Some(budget);
    // Aliases may share a block of values, but replaying must stay in
    // proportion to the file: this is what stops an alias bomb.
    options.alias_limits.max_total_replayed_events = 20_000;
    options.alias_limits.max_replay_stack_depth = 8;
    options.alias_limits.max_alias_expansions_per_anchor = 200;
    options.with_snippet = false;
    // `yes`/`no`/`on`/`off` must not silently turn into booleans.
    options.strict_booleans = true;
    options
}

/// Parses the text into the raw policy, or the single error that stopped the parser.
pub(crate) fn parse<P: serde::de::DeserializeOwned>(
    text: &str,
    file: &str,
) -> Result<RawPolicy<P>, Box<Diagnostic>> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(Box::new(Diagnostic {
            file: file.to_owned(),
            line: 1,
            column: 1,
            severity: Severity::Error,
            message: format!(
                "the policy file is {} bytes, more than the limit of {MAX_POLICY_BYTES} bytes",
                text.len()
            ),
            hint: Some("a policy should be a few kilobytes; split out unrelated data".into()),
        }));
    }
    if let Some(d) = prescan(text, file) {
        return Err(Box::new(d));
    }
    serde_saphyr::from_str_with_options::<RawPolicy<P>>(text, options())
        .map_err(|e| Box::new(diagnose(&e, file)))
}

/// Looks at the raw event stream for nesting and alias abuse before any
/// typed reading, so such a file gets a clear message with a position
/// instead of whatever type error the schema would meet first. Syntax errors
/// are left to the real parse, which reports them with more context.
fn prescan(text: &str, file: &str) -> Option<Diagnostic> {
    use serde_saphyr::granit_parser::{ErrorKind, Event, Options, Parser};
    let mut options = Options::default();
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    let mut depth = 0usize;
    let mut aliases = 0usize;
    let at = |line: usize, column: usize, (message, hint): (String, Option<String>)| Diagnostic {
        file: file.to_owned(),
        line,
        column,
        severity: Severity::Error,
        message,
        hint,
    };
    for item in Parser::new_from_str_with_options(text, options) {
        let (event, span) = match item {
            Ok(ok) => ok,
            // The scanner looks ahead, so deep flow nesting may surface here
            // before any event reports the depth.
            Err(e) if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) => {
                let m = e.marker();
                return Some(at(
                    m.line(),
                    m.col() + 1,
                    explain_budget(&BudgetBreach::Depth { depth }),
                ));
            }
            Err(_) => return None,
        };
        let found = match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                (depth > MAX_DEPTH).then(|| explain_budget(&BudgetBreach::Depth { depth }))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth = depth.saturating_sub(1);
                None
            }
            Event::Alias(_) => {
                aliases += 1;
                (aliases > MAX_ALIASES).then(|| explain_budget(&BudgetBreach::Aliases { aliases }))
            }
            _ => None,
        };
        if let Some(found) = found {
            return Some(at(span.start.line(), span.start.col() + 1, found));
        }
    }
    None
}

/// The error beneath snippet and alias wrappers.
fn original(mut err: &Error) -> &Error {
    while let Error::WithSnippet { error, .. } | Error::AliasError { error, .. } = err {
        err = error;
    }
    err
}

fn diagnose(err: &Error, file: &str) -> Diagnostic {
    let location = err.location().unwrap_or(Location::UNKNOWN);
    let (message, hint) = explain(original(err));
    Diagnostic {
        file: file.to_owned(),
        // A policy file is at most 1 MiB, so these always fit.
        line: usize::try_from(location.line()).unwrap_or(0),
        column: usize::try_from(location.column()).unwrap_or(0),
        severity: Severity::Error,
        message,
        hint,
    }
}

/// What went wrong and how to fix it, for the parser errors a manager can meet.
fn explain(err: &Error) -> (String, Option<String>) {
    match err {
        Error::SerdeUnknownField { field, expected, .. } => {
            (format!("unknown key `{field}`"), Some(hints::unknown_key(field, expected)))
        }
        Error::SerdeMissingField { field, .. } => (
            format!("missing required key `{field}`"),
            Some(format!("add `{field}:` to this entry (see docs/POLICY.md)")),
        ),
        Error::SerdeInvalidType { unexpected, expected, .. } => {
            (format!("expected {expected}, found {unexpected}"), Some(type_hint(expected)))
        }
        Error::Unexpected { expected, .. } => {
            (format!("expected {}", plain_kind(expected)), Some(type_hint(expected)))
        }
        Error::SerdeInvalidValue { unexpected, expected, .. } => {
            (format!("invalid value {unexpected}, expected {expected}"), None)
        }
        Error::DuplicateMappingKey { key, .. } => (
            match key {
                Some(k) => format!("key `{k}` appears twice in the same mapping"),
                None => "a key appears twice in the same mapping".to_owned(),
            },
            Some("keep one of them; YAML would silently use only the last".into()),
        ),
        Error::Budget { breach, .. } => explain_budget(breach),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => (
            "aliases (`*name`) expand to far more data than the file contains".to_owned(),
            Some("write the values out instead of nesting aliases (a YAML bomb is refused)".into()),
        ),
        Error::MultipleDocuments { .. } => (
            "the file holds more than one YAML document".to_owned(),
            Some("remove the `---` separators; one file holds one policy".into()),
        ),
        Error::UnknownAnchor { .. } => (
            "alias refers to an anchor that is not defined".to_owned(),
            Some("define `&name` before using `*name`".into()),
        ),
        other => {
            let text = UserMessageFormatter.format_message(other);
            (text.escape_debug().to_string(), None)
        }
    }
}

fn explain_budget(breach: &BudgetBreach) -> (String, Option<String>) {
    match breach {
        BudgetBreach::Depth { .. } => (
            format!("the file is nested more than {MAX_DEPTH} levels deep"),
            Some("a policy needs at most five levels; check the indentation".into()),
        ),
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. } => (
            "the file uses too many aliases (`*name`) or anchors (`&name`)".to_owned(),
            Some("write the values out instead of nesting aliases (a YAML bomb is refused)".into()),
        ),
        BudgetBreach::Documents { .. } => (
            "the file holds more than one YAML document".to_owned(),
            Some("remove the `---` separators; one file holds one policy".into()),
        ),
        other => (
            format!("the file is too large or too complex ({other:?})"),
            Some(format!("a policy file must stay below {MAX_POLICY_BYTES} bytes")),
        ),
    }
}

/// The parser's name for a YAML node kind, in a manager's words.
fn plain_kind(expected: &str) -> String {
    if expected.contains("sequence") {
        "a list here".into()
    } else if expected.contains("mapping") || expected.contains("struct") {
        "a mapping (`key: value` lines) here".into()
    } else if expected.contains("scalar") {
        "a single value here, not a list or mapping".into()
    } else {
        expected.to_owned()
    }
}

fn type_hint(expected: &str) -> String {
    if expected.contains("sequence") {
        "write a list, e.g. `[a, b]` or one `- item` per line".into()
    } else if expected.contains("struct") || expected.contains("map") {
        "write a mapping of `key: value` lines, indented below this key".into()
    } else if expected.contains("scalar") {
        "write one value after the colon; quote it if it contains `:`, `#`, `[` or `{`".into()
    } else if expected.contains("string") {
        "put the value in double quotes".into()
    } else if expected.contains("integer") || expected.contains("i64") {
        "write a whole number without quotes".into()
    } else {
        "see docs/POLICY.md for the expected form".into()
    }
}
