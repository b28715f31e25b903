//! Phrase rules, actions and language codes: the small enumerations and the
//! one place where management writes regular expressions.

use std::collections::HashMap;

use regex::RegexBuilder;

use super::hints;
use super::raw::{RawActions, RawPhrase, Text};
use super::values::{Checker, position};
use super::{Action, Actions, Language, MailKind, PhraseRule};

/// Compiled size limit of one phrase pattern. Generous for any phrase a
/// person would write, small enough that `(a{1000}){1000}` is refused.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Longest pattern accepted, in characters.
const MAX_PATTERN_CHARS: usize = 1_000;

/// A language code (`nl`, `en`, `de`, `fr`).
pub(crate) fn language(checker: &mut Checker, t: &Text, what: &str) -> Option<Language> {
    let code = checker.line(t, what)?;
    if let Some(l) = Language::from_code(&code) {
        return Some(l);
    }
    let codes = Language::ALL.map(Language::code);
    let hint = match hints::nearest(&code, codes) {
        Some(c) => format!("did you mean `{c}`? supported: nl, en, de, fr"),
        None => "supported languages: nl, en, de, fr".to_owned(),
    };
    checker.error(&t.referenced, format!("unknown language `{code}`"), Some(hint));
    None
}

fn action(checker: &mut Checker, t: Option<&Text>, what: &str) -> Action {
    let Some(t) = t else { return Action::default() };
    let Some(word) = checker.line(t, what) else { return Action::default() };
    match word.as_str() {
        "rewrite" => Action::Rewrite,
        "observe" => Action::Observe,
        "pass" => Action::Pass,
        other => {
            let hint = match hints::nearest(other, ["rewrite", "observe", "pass"]) {
                Some(w) => format!("did you mean `{w}`? choose `rewrite`, `observe` or `pass`"),
                None => "choose `rewrite`, `observe` or `pass`".to_owned(),
            };
            checker.error(
                &t.referenced,
                format!("unknown action `{other}` for {what}"),
                Some(hint),
            );
            Action::default()
        }
    }
}

/// `actions:`, with `rewrite` for whatever is left out.
pub(crate) fn actions(checker: &mut Checker, raw: Option<&RawActions>) -> Actions {
    let Some(raw) = raw else { return Actions::default() };
    Actions {
        auto_reply: action(checker, raw.auto_reply.as_ref(), "`auto_reply`"),
        team_signature: action(checker, raw.team_signature.as_ref(), "`team_signature`"),
    }
}

fn mail_kind(checker: &mut Checker, t: &Text) -> Option<MailKind> {
    let word = checker.line(t, "`applies_to` entry")?;
    match word.as_str() {
        "auto_reply" => Some(MailKind::AutoReply),
        "team_signature" => Some(MailKind::TeamSignature),
        other => {
            let hint = match hints::nearest(other, ["auto_reply", "team_signature"]) {
                Some(w) => format!("did you mean `{w}`?"),
                None => "choose `auto_reply` and/or `team_signature`".to_owned(),
            };
            checker.error(&t.referenced, format!("unknown kind of mail `{other}`"), Some(hint));
            None
        }
    }
}

/// `phrases:`, in file order.
pub(crate) fn phrase_rules(
    checker: &mut Checker,
    raw: &[serde_saphyr::Spanned<RawPhrase>],
) -> Vec<PhraseRule> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rules = Vec::new();
    for entry in raw {
        let p = &entry.value;
        let id = checker.id(&p.id, "phrase `id`");
        if let Some(id) = &id {
            let line = position(&p.id.referenced).0;
            if let Some(first) = seen.insert(id.clone(), line) {
                checker.error(
                    &p.id.referenced,
                    format!("phrase id `{id}` is used twice"),
                    Some(format!("it is first used on line {first}; give each rule its own id")),
                );
            }
        }
        let find = pattern(checker, &p.find);
        let replace = if p.replace.value.contains(['\r', '\n']) {
            checker.error(
                &p.replace.referenced,
                "`replace` contains a line break".into(),
                Some("write the replacement on one line".into()),
            );
            None
        } else {
            Some(p.replace.value.clone())
        };
        let languages: Vec<_> =
            p.languages.iter().filter_map(|l| language(checker, l, "language")).collect();
        let applies_to: Vec<_> =
            p.applies_to.iter().filter_map(|k| mail_kind(checker, k)).collect();
        if let (Some(id), Some(find), Some(replace)) = (id, find, replace) {
            rules.push(PhraseRule { id, languages, applies_to, find, replace });
        }
    }
    rules
}

fn pattern(checker: &mut Checker, t: &Text) -> Option<regex::Regex> {
    if t.value.is_empty() {
        checker.error(
            &t.referenced,
            "`find` is empty".into(),
            Some("write the phrase to look for".into()),
        );
        return None;
    }
    if t.value.chars().count() > MAX_PATTERN_CHARS {
        checker.error(
            &t.referenced,
            format!("`find` is longer than {MAX_PATTERN_CHARS} characters"),
            Some("split it into several rules".into()),
        );
        return None;
    }
    let built = RegexBuilder::new(&t.value)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build();
    match built {
        Ok(re) => Some(re),
        Err(regex::Error::CompiledTooBig(_)) => {
            checker.error(
                &t.referenced,
                "`find` pattern is too large once compiled".into(),
                Some("use fewer or smaller repetitions like `{1000}`".into()),
            );
            None
        }
        Err(e) => {
            // The regex crate explains with a multi-line drawing; the last
            // line says what is wrong.
            let text = e.to_string();
            let reason = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("invalid");
            let reason = reason.trim().trim_start_matches("error: ");
            checker.error(
                &t.referenced,
                format!("`find` is not a valid regular expression: {reason}"),
                Some(
                    "escape special characters like `(`, `.` and `?` with `\\` (in single quotes)"
                        .into(),
                ),
            );
            None
        }
    }
}
