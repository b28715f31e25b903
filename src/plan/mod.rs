//! Turns a classification and the house policy into the text changes to
//! make: a salutation, the named substitute, help for all questions, the
//! policy's response-time promise, who helps on part-time days, and named
//! team members instead of an anonymous sign-off.
//!
//! A plan speaks about the *text* of the message, not about MIME: the same
//! edits are applied to the text/plain and the text/html part by `rewrite`,
//! each rendered twice (plain and HTML-escaped) from the policy's templates.

mod phrases;
mod recipient;
mod render;
mod sentences;

use std::ops::Range;

use crate::classify::Classification;
use crate::envelope::Envelope;
use crate::policy::{Language, MailKind, Policy, Sender};

pub use phrases::{is_closing, is_greeting};
pub use recipient::{Recipient, natural_name, strip_line_breaks};
pub use render::{Contact, Rendered, TeamView, TemplateContext, join_names};
use sentences::{last_line_before_closing, sentence_around};

/// One change to the new text of a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TextEdit {
    /// Insert a paragraph before the first line of the new text.
    Prepend {
        /// Rule that asked for it.
        rule: String,
        /// Plain-text rendering (no trailing newline).
        text: String,
        /// HTML rendering (escaped, inline markup only).
        html: String,
    },
    /// Replace a literal span of the new text. `find` is the span exactly as
    /// it appears in [`crate::classify::NewText::text`]; in HTML it is matched
    /// after entity decoding, with any run of whitespace matching any other.
    Replace {
        /// Rule that asked for it.
        rule: String,
        /// The span to replace.
        find: String,
        /// Plain-text replacement.
        text: String,
        /// HTML replacement (escaped).
        html: String,
    },
    /// Insert a paragraph directly after the paragraph that contains `anchor`.
    InsertAfter {
        /// Rule that asked for it.
        rule: String,
        /// A literal span of the new text, as for `Replace::find`.
        anchor: String,
        /// Plain-text rendering.
        text: String,
        /// HTML rendering.
        html: String,
    },
    /// Insert a paragraph at the end of the new text, above any sign-off
    /// found by classify and above the quoted history.
    Append {
        /// Rule that asked for it.
        rule: String,
        /// Plain-text rendering.
        text: String,
        /// HTML rendering.
        html: String,
    },
}

impl TextEdit {
    /// The rule this edit belongs to.
    pub fn rule(&self) -> &str {
        match self {
            TextEdit::Prepend { rule, .. }
            | TextEdit::Replace { rule, .. }
            | TextEdit::InsertAfter { rule, .. }
            | TextEdit::Append { rule, .. } => rule,
        }
    }
}

/// The changes decided for one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// Rule ids in the order they fired (e.g. `salutation`, `substitute`, `phrase:urgent`).
    pub rules: Vec<String>,
    /// The edits, in the order they should be applied.
    pub edits: Vec<TextEdit>,
}

impl Plan {
    /// A plan with nothing to do.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }
}

/// Errors while planning: only a policy template that fails at render time.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A template could not be rendered with the message's values.
    #[error("template {name} failed to render: {source}")]
    Template {
        /// Template name, e.g. `nl/substitute.txt`.
        name: String,
        /// The template engine's error.
        source: minijinja::Error,
    },
}

/// Decides the edits for a classified message sent by `sender` (the envelope
/// sender, or `From:` for the null sender).
///
/// Only mail from the organisation is planned for; the rules fire in a fixed
/// order (salutation, help for all questions, part-time days, substitute,
/// response time, team signature, phrase rules) and never overlap: an edit
/// whose span touches one already planned is dropped.
pub fn plan(
    classification: &Classification,
    message: &mail_parser::Message<'_>,
    envelope: &Envelope,
    sender: &str,
    policy: &Policy,
) -> Result<Plan, PlanError> {
    let text = classification.new_text.text.as_str();
    let known = policy.sender(sender);
    let ours = known.is_some() || policy.is_our_address(sender);
    if classification.skipped.is_some() || !ours || text.trim().is_empty() {
        return Ok(Plan::default());
    }
    let language = classification.language;
    let context = context(classification, message, envelope, sender, known, policy, language);
    let from_team = matches!(known, Some(Sender::Team(_)));
    let mut planner = Planner {
        from_team,
        policy,
        language,
        context,
        text,
        plan: Plan::default(),
        taken: Vec::new(),
    };

    if classification.auto_reply {
        planner.salutation()?;
        let mut substitute_named = planner.all_questions()?;
        substitute_named |= planner.part_time()?;
        if !substitute_named {
            planner.substitute()?;
        }
        planner.response_time()?;
    }
    if classification.team_signature {
        planner.team_signature(classification)?;
    }
    planner.phrase_rules(classification);
    Ok(planner.plan)
}

fn context(
    classification: &Classification,
    message: &mail_parser::Message<'_>,
    envelope: &Envelope,
    sender: &str,
    known: Option<Sender>,
    policy: &Policy,
    language: Language,
) -> TemplateContext {
    let recipient = recipient::recipient(message, envelope.rcpt_to.first().map(String::as_str));
    let organisation = Contact::of_organisation(policy);
    let from_name = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.name())
        .map(natural_name)
        .unwrap_or_default();
    let (sender_contact, own_substitute, team) = match known {
        Some(Sender::Person(i)) => {
            let person = &policy.people[i];
            (Contact::of_person(person), person.substitute, None)
        }
        Some(Sender::Team(i)) => {
            let team = TeamView::of_team(&policy.teams[i], policy, language);
            let contact = Contact {
                name: team.name.clone(),
                first_name: team.name.clone(),
                email: team.email.clone(),
                phone: team.phone.clone(),
            };
            (contact, None, Some(team))
        }
        None => {
            let contact = Contact {
                first_name: from_name.split(' ').next().unwrap_or_default().to_string(),
                name: from_name.clone(),
                email: strip_line_breaks(sender),
                phone: String::new(),
            };
            (contact, None, None)
        }
    };
    let team = team.or_else(|| {
        classification
            .sign_off
            .as_ref()
            .and_then(|s| s.team)
            .map(|i| TeamView::of_team(&policy.teams[i], policy, language))
    });
    // A customer's dossier handler outranks the sender's usual substitute:
    // they know the customer. The organisation stands in where no person fits.
    let dossier = envelope
        .rcpt_to
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(recipient.email.as_str()))
        .find_map(|r| policy.dossier_handler(r));
    // Without a person the templates name the organisation themselves.
    let substitute = dossier.or(own_substitute).map(|i| Contact::of_person(&policy.people[i]));
    TemplateContext {
        recipient,
        sender: sender_contact,
        substitute,
        organisation,
        response_time: strip_line_breaks(policy.response_time_for(language).unwrap_or_default()),
        days: String::new(),
        team,
    }
}

struct Planner<'a> {
    /// Team mail has no substitute: the team itself is the contact.
    from_team: bool,
    policy: &'a Policy,
    language: Language,
    context: TemplateContext,
    text: &'a str,
    plan: Plan,
    /// Spans of `text` already claimed by an edit.
    taken: Vec<Range<usize>>,
}

impl Planner<'_> {
    fn render(&self, name: &str) -> Result<Rendered, PlanError> {
        self.render_in(name, self.language)
    }

    fn render_in(&self, name: &str, language: Language) -> Result<Rendered, PlanError> {
        if language == self.language {
            return render::render(self.policy, language, name, &self.context);
        }
        let mut context = self.context.clone();
        context.response_time =
            strip_line_breaks(self.policy.response_time_for(language).unwrap_or_default());
        if let Some(team) = context.team.as_mut() {
            team.members_text = join_names(&team.members, language);
        }
        render::render(self.policy, language, name, &context)
    }

    /// Claims a span; false when it overlaps one claimed before.
    fn claim(&mut self, span: &Range<usize>) -> bool {
        if self.taken.iter().any(|t| t.start < span.end && span.start < t.end) {
            return false;
        }
        self.taken.push(span.clone());
        true
    }

    fn push(&mut self, edit: TextEdit) {
        // The rewriter replaces every occurrence of a span, so a repeated
        // sentence needs one edit, not one per occurrence.
        if let TextEdit::Replace { find, .. } = &edit
            && self
                .plan
                .edits
                .iter()
                .any(|e| matches!(e, TextEdit::Replace { find: f, .. } if f == find))
        {
            return;
        }
        let rule = edit.rule().to_string();
        if !self.plan.rules.contains(&rule) {
            self.plan.rules.push(rule);
        }
        self.plan.edits.push(edit);
    }

    fn salutation(&mut self) -> Result<(), PlanError> {
        let first_line = self.text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
        if is_greeting(first_line) {
            // "Geachte heer/mevrouw," is a greeting to nobody in particular:
            // when the recipient's name is known, greet them by it instead.
            if phrases::is_generic_greeting(first_line) && !self.context.recipient.name.is_empty() {
                let start = first_line.as_ptr() as usize - self.text.as_ptr() as usize;
                let span = start..start + first_line.trim_end().len();
                if self.claim(&span) {
                    let r = self.render("salutation")?;
                    let find = self.text[span].to_string();
                    self.push(TextEdit::Replace {
                        rule: "salutation".into(),
                        find,
                        text: r.text,
                        html: r.html,
                    });
                }
            }
            return Ok(());
        }
        let name = if self.context.recipient.name.is_empty() {
            "salutation_generic"
        } else {
            "salutation"
        };
        let r = self.render(name)?;
        self.push(TextEdit::Prepend { rule: "salutation".into(), text: r.text, html: r.html });
        Ok(())
    }

    /// Replaces "for urgent questions contact a colleague" (or a referral to
    /// unnamed colleagues) with help for all questions from a named person.
    /// Every such sentence is replaced, each in its own language: bilingual
    /// out-of-office replies say it once per language.
    fn all_questions(&mut self) -> Result<bool, PlanError> {
        if self.from_team && self.context.substitute.is_none() {
            return Ok(false);
        }
        let urgent = phrases::urgent_only(self.text).into_iter().map(|r| ("all_questions", r));
        let anonymous =
            phrases::anonymous_colleague(self.text).into_iter().map(|r| ("substitute", r));
        let found: Vec<(&str, Range<usize>)> = urgent.chain(anonymous).collect();
        let mut replaced = false;
        for (rule, span) in found {
            let sentence = sentence_around(self.text, span);
            // "Mijn collega Nadia el Amrani helpt u graag" names someone: only
            // a referral to nobody in particular is replaced.
            if rule == "substitute" && self.names_someone(&self.text[sentence.clone()]) {
                continue;
            }
            if !self.claim(&sentence) {
                continue;
            }
            let find = self.text[sentence].to_string();
            let r = self.render_in("all_questions", self.language_of(&find))?;
            self.push(TextEdit::Replace { rule: rule.into(), find, text: r.text, html: r.html });
            replaced = true;
        }
        Ok(replaced)
    }

    /// The language of one sentence, for messages written in two languages;
    /// the message's language when the sentence is too short to tell. A
    /// sentence whose function words are the message's language needs no model.
    fn language_of(&self, sentence: &str) -> Language {
        use crate::classify::language::{Hints, detect_with_hints};
        let hints = Hints { declared: None, subject: None, usual: Some(self.language) };
        detect_with_hints(sentence, hints).unwrap_or(self.language)
    }

    /// Says who helps on the days a part-timer is not in.
    fn part_time(&mut self) -> Result<bool, PlanError> {
        let Some((span, days)) = phrases::part_time(self.text) else { return Ok(false) };
        if (self.from_team && self.context.substitute.is_none()) || self.mentions_substitute() {
            return Ok(false);
        }
        let sentence = sentence_around(self.text, span);
        self.context.days = strip_line_breaks(&days);
        let r = self.render("part_time")?;
        let anchor = self.text[sentence].to_string();
        self.push(TextEdit::InsertAfter {
            rule: "part_time".into(),
            anchor,
            text: r.text,
            html: r.html,
        });
        Ok(true)
    }

    /// Names the substitute, unless the sender already did.
    fn substitute(&mut self) -> Result<(), PlanError> {
        if (self.from_team && self.context.substitute.is_none()) || self.mentions_substitute() {
            return Ok(());
        }
        let r = self.render("substitute")?;
        let rule = "substitute".to_string();
        let edit = match last_line_before_closing(self.text) {
            Some(anchor) => TextEdit::InsertAfter {
                rule,
                anchor: anchor.to_string(),
                text: r.text,
                html: r.html,
            },
            None => TextEdit::Append { rule, text: r.text, html: r.html },
        };
        self.push(edit);
        Ok(())
    }

    /// Whether a passage names a person of the policy (by name or address)
    /// or whoever the templates would name.
    fn names_someone(&self, passage: &str) -> bool {
        let lower = passage.to_lowercase();
        let named = |name: &str, email: &str| {
            (!name.is_empty() && lower.contains(&name.to_lowercase()))
                || (!email.is_empty() && lower.contains(&email.to_lowercase()))
        };
        self.policy.people.iter().any(|p| named(&p.name, &p.email))
            || self.context.substitute.as_ref().is_some_and(|s| named(&s.name, &s.email))
    }

    /// Whether the text already names whoever the templates would name.
    fn mentions_substitute(&self) -> bool {
        let lower = self.text.to_lowercase();
        let contact = self.context.substitute.as_ref().unwrap_or(&self.context.organisation);
        let phone = |p: &str| {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            digits.len() >= 6
                && self
                    .text
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .contains(&digits)
        };
        (!contact.name.is_empty()
            && self.context.substitute.is_some()
            && lower.contains(&contact.name.to_lowercase()))
            || (!contact.email.is_empty() && lower.contains(&contact.email.to_lowercase()))
            || (!contact.phone.is_empty() && phone(&contact.phone))
    }

    /// Replaces a promise longer than the policy allows with the policy's own.
    fn response_time(&mut self) -> Result<(), PlanError> {
        if self.context.response_time.is_empty() {
            return Ok(());
        }
        let spans: Vec<Range<usize>> = phrases::PROMISE
            .captures_iter(self.text)
            .filter(|c| {
                phrases::promised_working_days(&c["n"], &c["unit"])
                    .is_some_and(|days| days > self.policy.max_response_days)
            })
            .filter_map(|c| c.get(0).map(|m| m.range()))
            .collect();
        for span in spans {
            if self.claim(&span) {
                let sentence = sentence_around(self.text, span.clone());
                let language = self.language_of(&self.text[sentence]);
                let r = self.render_in("response_time", language)?;
                let find = self.text[span].to_string();
                self.push(TextEdit::Replace {
                    rule: "response_time".into(),
                    find,
                    text: r.text,
                    html: r.html,
                });
            }
        }
        Ok(())
    }

    /// Replaces an anonymous sign-off with the named team members, or puts the
    /// sender's own name above an anonymous role.
    fn team_signature(&mut self, classification: &Classification) -> Result<(), PlanError> {
        let Some(sign_off) = &classification.sign_off else { return Ok(()) };
        let Some(start) = self.text.rfind(sign_off.text.as_str()) else { return Ok(()) };
        let span = start..start + sign_off.text.len();
        // A team that signs with its closing phrase alone keeps the closing;
        // the names go on the lines below it.
        let closing_only = sign_off.closing.as_deref() == Some(sign_off.text.as_str());
        if self.context.team.as_ref().is_some_and(|t| !t.members.is_empty()) {
            if !self.claim(&span) {
                return Ok(());
            }
            let r = self.render("team_signature")?;
            let (text, html) = if closing_only {
                let closing = sign_off.text.trim_end();
                (
                    format!("{closing}\n{}", r.text),
                    format!("{}<br>\n{}", escape_html(closing), r.html),
                )
            } else {
                (r.text, r.html)
            };
            self.push(TextEdit::Replace {
                rule: "team_signature".into(),
                find: sign_off.text.clone(),
                text,
                html,
            });
        } else if !closing_only
            && !self.context.sender.name.is_empty()
            && self.context.team.is_none()
        {
            if !self.claim(&span) {
                return Ok(());
            }
            let name = &self.context.sender.name;
            let role = sign_off.text.trim();
            self.push(TextEdit::Replace {
                rule: "named_signature".into(),
                find: sign_off.text.clone(),
                text: format!("{name}\n{role}"),
                html: format!("{}<br>\n{}", escape_html(name), escape_html(role)),
            });
        }
        Ok(())
    }

    /// Management's own find/replace rules, in file order.
    fn phrase_rules(&mut self, classification: &Classification) {
        let policy = self.policy;
        for rule in &policy.phrase_rules {
            let language_fits =
                rule.languages.is_empty() || rule.languages.contains(&self.language);
            let kind_fits = rule.applies_to.is_empty()
                || (classification.auto_reply && rule.applies_to.contains(&MailKind::AutoReply))
                || (classification.team_signature
                    && rule.applies_to.contains(&MailKind::TeamSignature));
            let kind_rewritten = classification.auto_reply || classification.team_signature;
            if !(language_fits && kind_fits && kind_rewritten) {
                continue;
            }
            let matches: Vec<(Range<usize>, String)> = rule
                .find
                .captures_iter(self.text)
                .filter_map(|c| {
                    let whole = c.get(0)?;
                    let mut replacement = String::new();
                    c.expand(&rule.replace, &mut replacement);
                    (!whole.is_empty()).then(|| (whole.range(), strip_line_breaks(&replacement)))
                })
                .collect();
            for (span, replacement) in matches {
                if self.claim(&span) {
                    let find = self.text[span].to_string();
                    let html = escape_html(&replacement);
                    self.push(TextEdit::Replace {
                        rule: format!("phrase:{}", rule.id),
                        find,
                        text: replacement,
                        html,
                    });
                }
            }
        }
    }
}

fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_joined_per_language() {
        let names: Vec<String> = ["Ineke", "Carina", "Bianca", "Linda"].map(String::from).to_vec();
        assert_eq!(join_names(&names, Language::Nl), "Ineke, Carina, Bianca en Linda");
        assert_eq!(join_names(&names[..2], Language::En), "Ineke and Carina");
        assert_eq!(join_names(&names[..1], Language::De), "Ineke");
    }
}
