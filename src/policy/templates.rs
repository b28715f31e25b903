//! Compiles the templates: the policy's overrides where given, the built-in
//! texts elsewhere, each registered as `{lang}/{name}.txt` and
//! `{lang}/{name}.html` so the engine can render plain and HTML parts.
//!
//! Every template is rendered once at load time with a full sample context
//! and strict undefined handling, so a misspelt variable (`recipent.name`)
//! or an unknown filter is a load error at the template's line in the policy
//! file, not a failure on live mail. The engine's environment is lenient
//! (chainable undefined) because real contexts may lack a substitute.

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};

use super::builtin;
use super::raw::{PerLanguage, RawTemplates, Text};
use super::values::Checker;
use super::{Language, TEMPLATE_NAMES};

/// Overrides are wrapped in this so that the blank line or newline a YAML
/// block scalar leaves after a closing `{% endif %}` does not end up in mail.
/// It sits on the template's first line, so line numbers stay as written.
const TRIM_OPEN: &str = "{% filter trim %}";
const TRIM_CLOSE: &str = "{% endfilter %}";

/// Longest template accepted, in characters.
const MAX_TEMPLATE_CHARS: usize = 4_000;

/// Where an override's text starts in the file, to map template positions back.
struct Origin {
    /// File line of the template's first line.
    first_line: usize,
    /// File column of the template's first character.
    first_column: usize,
    /// File column where the template's further lines start.
    next_column: usize,
}

impl Origin {
    /// The file position of a byte offset in the template text.
    fn locate(&self, template: &str, offset: usize) -> (usize, usize) {
        let before = template.get(..offset).unwrap_or(template);
        let line = before.matches('\n').count();
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
        if line == 0 {
            (self.first_line, self.first_column + column)
        } else {
            (self.first_line + line, self.next_column + column)
        }
    }
}

/// Builds the template environment; errors are reported to `checker`.
pub(crate) fn compile(
    overrides: Option<&PerLanguage<RawTemplates>>,
    source: &str,
    checker: &mut Checker,
) -> Environment<'static> {
    let mut env = Environment::new();
    // `{% if %}` on a line of its own leaves no blank line behind, which
    // matters for multi-line signatures written as YAML block scalars.
    if let Ok(syntax) = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build() {
        env.set_syntax(syntax);
    }
    env.set_recursion_limit(50);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let sample = sample_context();
    for language in Language::ALL {
        let given = overrides.and_then(|o| o.entries().find(|(l, _)| *l == language)).map(|e| e.1);
        for name in TEMPLATE_NAMES {
            let (text, origin) = match given.and_then(|t| t.get(name)) {
                Some(t) => {
                    if t.value.chars().count() > MAX_TEMPLATE_CHARS {
                        checker.error(
                            &t.referenced,
                            format!("template `{language}.{name}` is longer than {MAX_TEMPLATE_CHARS} characters"),
                            Some("keep templates to a few sentences".into()),
                        );
                        continue;
                    }
                    (format!("{TRIM_OPEN}{}{TRIM_CLOSE}", t.value), Some(origin_of(t, source)))
                }
                None => (builtin::template(language, name), None),
            };
            for suffix in ["txt", "html"] {
                let key = format!("{language}/{name}.{suffix}");
                if let Err(e) = env.add_template_owned(key.clone(), text.clone()) {
                    report(checker, &e, language, name, origin.as_ref(), given, "syntax error");
                    break;
                }
                let rendered = env.get_template(&key).and_then(|t| t.render(&sample));
                if let Err(e) = rendered {
                    report(
                        checker,
                        &e,
                        language,
                        name,
                        origin.as_ref(),
                        given,
                        "cannot be rendered",
                    );
                    break;
                }
            }
        }
    }
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env
}

fn report(
    checker: &mut Checker,
    e: &minijinja::Error,
    language: Language,
    name: &str,
    origin: Option<&Origin>,
    given: Option<&RawTemplates>,
    what: &str,
) {
    let detail = e.detail().map_or_else(|| e.kind().to_string(), str::to_owned);
    // The wrapper's closing tag is not something the author wrote.
    let detail = if detail.contains("endfilter") {
        "the template ends inside a block: is an `{% endif %}` or `{% endfor %}` missing?"
            .to_owned()
    } else {
        detail
    };
    let message = format!("template `{language}.{name}`: {what}: {detail}");
    let hint = Some(
        "templates use Jinja syntax: `{{ recipient.name }}`, `{% if substitute.phone %}...{% endif %}`; \
         variables are listed in docs/POLICY.md"
            .to_owned(),
    );
    match (origin, given.and_then(|t| t.get(name))) {
        (Some(o), Some(t)) => {
            let (line, column) = match (e.range(), e.line()) {
                (Some(range), _) => {
                    let end = t.value.trim_end().len();
                    let start = range.start.saturating_sub(TRIM_OPEN.len()).min(end);
                    o.locate(&t.value, start)
                }
                // Without a range, the start of the reported line.
                (None, Some(l)) if l > 1 => (o.first_line + l - 1, o.next_column),
                _ => (o.first_line, o.first_column),
            };
            checker.error_at(line, column, message, hint);
        }
        // A built-in template failed: a defect of courtesy, not of the file.
        _ => checker.error_at(1, 1, format!("built-in {message}"), None),
    }
}

/// Where the text of `t` starts. The parser places block scalars (`|`, `>`)
/// at their first content line, other values at their first character.
fn origin_of(t: &Text, source: &str) -> Origin {
    let line = usize::try_from(t.referenced.line()).unwrap_or(1);
    let column = usize::try_from(t.referenced.column()).unwrap_or(1);
    let lines: Vec<&str> = source.lines().collect();
    let here = lines.get(line.saturating_sub(1)).copied().unwrap_or("");
    let lead: String = here.chars().take(column.saturating_sub(1)).collect();
    if lead.trim().is_empty() {
        // Block scalar content: every line shares this indentation.
        return Origin { first_line: line, first_column: column, next_column: column };
    }
    // A quoted value starts one column after its quote; its further lines
    // are indented as the next line of the file is.
    let quoted = matches!(here.chars().nth(column - 1), Some('"' | '\''));
    let next = lines.get(line).map_or(0, |l| l.len() - l.trim_start().len());
    Origin { first_line: line, first_column: column + usize::from(quoted), next_column: next + 1 }
}

fn map<const N: usize>(entries: [(&'static str, Value); N]) -> Value {
    Value::from(BTreeMap::from(entries))
}

/// Every variable the engine may pass, filled in: used to check templates at
/// load time, and handy for previews and tests of custom templates.
pub fn sample_context() -> Value {
    let person = |name: &str, first: &str, email: &str, phone: &str| {
        map([
            ("name", Value::from(name)),
            ("first_name", Value::from(first)),
            ("last_name", Value::from("Jansen")),
            ("email", Value::from(email)),
            ("phone", Value::from(phone)),
        ])
    };
    map([
        ("recipient", person("Piet Jansen", "Piet", "piet@example.nl", "")),
        ("sender", person("Maarten Hoekstra", "Maarten", "maarten@example.nl", "+31 30 555 0111")),
        ("substitute", person("Nadia Bakker", "Nadia", "nadia@example.nl", "+31 30 555 0112")),
        (
            "organisation",
            map([
                ("name", Value::from("Example BV")),
                ("phone", Value::from("+31 30 555 0100")),
                ("email", Value::from("info@example.nl")),
            ]),
        ),
        ("response_time", Value::from("binnen één werkdag")),
        ("days", Value::from("dinsdag en donderdag")),
        (
            "team",
            map([
                ("name", Value::from("Team Incasso")),
                ("phone", Value::from("+31 30 555 0120")),
                ("email", Value::from("incasso@example.nl")),
                ("members", Value::from(vec!["Ineke", "Carina"])),
                ("members_text", Value::from("Ineke en Carina")),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    fn builtins() -> Environment<'static> {
        let mut checker = Checker::new("builtin");
        let env = compile(None, "", &mut checker);
        assert!(checker.diagnostics.is_empty(), "{:?}", checker.diagnostics);
        env
    }

    #[test]
    fn every_language_and_name_is_registered_twice() {
        let env = builtins();
        for l in Language::ALL {
            for n in TEMPLATE_NAMES {
                for s in ["txt", "html"] {
                    assert!(env.get_template(&format!("{l}/{n}.{s}")).is_ok(), "{l}/{n}.{s}");
                }
            }
        }
    }

    #[test]
    fn substitute_sentence_lists_phone_and_mail_only_when_known() {
        let env = builtins();
        let t = env.get_template("nl/substitute.txt").unwrap();
        let full = t.render(sample_context()).unwrap();
        assert_eq!(
            full,
            "Tijdens mijn afwezigheid helpt mijn collega Nadia Bakker u graag verder, telefonisch \
             via +31 30 555 0112 of per e-mail via nadia@example.nl."
        );
        let ctx = context! { substitute => context! { name => "Nadia Bakker", email => "n@x.nl" } };
        assert_eq!(
            t.render(ctx).unwrap(),
            "Tijdens mijn afwezigheid helpt mijn collega Nadia Bakker u graag verder, per e-mail via n@x.nl."
        );
    }

    #[test]
    fn without_substitute_the_organisation_is_named() {
        let env = builtins();
        let ctx = context! { organisation => context! { name => "Hoekstra", phone => "+31 30" } };
        let out = env.get_template("en/all_questions.txt").unwrap().render(ctx).unwrap();
        assert_eq!(
            out,
            "In the meantime, Hoekstra will be glad to help you with any question, by phone on +31 30."
        );
    }

    #[test]
    fn team_signature_has_one_line_per_item() {
        let env = builtins();
        let out =
            env.get_template("nl/team_signature.txt").unwrap().render(sample_context()).unwrap();
        assert_eq!(out, "Ineke en Carina\nTeam Incasso\n+31 30 555 0120\nincasso@example.nl");
    }

    #[test]
    fn html_variant_escapes_values() {
        let env = builtins();
        let ctx = context! { recipient => context! { name => "<b>Jan & Piet</b>" } };
        let html = env.get_template("en/salutation.html").unwrap().render(&ctx).unwrap();
        assert_eq!(html, "Dear &lt;b&gt;Jan &amp; Piet&lt;&#x2f;b&gt;,");
        let txt = env.get_template("en/salutation.txt").unwrap().render(&ctx).unwrap();
        assert_eq!(txt, "Dear <b>Jan & Piet</b>,");
    }
}
