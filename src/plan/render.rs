//! Renders the policy's templates for one message, in plain text and HTML.

use minijinja::Value;
use serde::Serialize;

use super::PlanError;
use super::recipient::{Recipient, strip_line_breaks};
use crate::policy::{Language, Person, Policy, Team};

/// A person as templates see them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// First name.
    pub first_name: String,
    /// E-mail address.
    pub email: String,
    /// Phone number (direct line, else mobile, else empty).
    pub phone: String,
}

impl Contact {
    /// The template view of a policy person.
    pub fn of_person(person: &Person) -> Contact {
        Contact {
            name: clean(&person.name),
            first_name: clean(person.first_name()),
            email: clean(&person.email),
            phone: clean(person.best_phone().unwrap_or_default()),
        }
    }

    /// The organisation standing in where no person fits.
    pub fn of_organisation(policy: &Policy) -> Contact {
        let org = &policy.organisation;
        Contact {
            name: clean(&org.name),
            first_name: clean(&org.name),
            email: clean(org.email.as_deref().unwrap_or_default()),
            phone: clean(org.phone.as_deref().unwrap_or_default()),
        }
    }
}

/// A team as templates see it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TeamView {
    /// Team name.
    pub name: String,
    /// Team phone, else the organisation's.
    pub phone: String,
    /// Team e-mail, else its first address.
    pub email: String,
    /// Members' first names.
    pub members: Vec<String>,
    /// Members joined naturally for the language ("Ineke, Carina en Linda").
    pub members_text: String,
}

impl TeamView {
    /// The template view of a policy team in a language.
    pub fn of_team(team: &Team, policy: &Policy, language: Language) -> TeamView {
        let members: Vec<String> =
            team.members.iter().map(|&i| clean(policy.people[i].first_name())).collect();
        TeamView {
            name: clean(&team.name),
            phone: clean(
                team.phone.as_deref().or(policy.organisation.phone.as_deref()).unwrap_or_default(),
            ),
            email: clean(
                team.email
                    .as_deref()
                    .or(team.addresses.first().map(String::as_str))
                    .unwrap_or_default(),
            ),
            members_text: join_names(&members, language),
            members,
        }
    }
}

/// Joins names the way each language lists them: "A, B en C", "A, B and C",
/// "A, B und C", "A, B et C".
pub fn join_names(names: &[String], language: Language) -> String {
    let and = match language {
        Language::Nl => "en",
        Language::En => "and",
        Language::De => "und",
        Language::Fr => "et",
    };
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

fn clean(value: &str) -> String {
    strip_line_breaks(value).trim().to_string()
}

/// Everything a template may refer to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TemplateContext {
    /// Who the message is addressed to.
    pub recipient: Recipient,
    /// Who sends it.
    pub sender: Contact,
    /// Who helps while the sender is away.
    pub substitute: Option<Contact>,
    /// The firm.
    pub organisation: Contact,
    /// The policy's promise for this language.
    pub response_time: String,
    /// Part-time days as the message wrote them.
    pub days: String,
    /// The team, for team mail.
    pub team: Option<TeamView>,
}

/// One template rendered both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Plain text, lines separated by `\n`, no trailing newline.
    pub text: String,
    /// Escaped HTML with `<br>` between lines.
    pub html: String,
}

/// Renders `{language}/{name}` with the context.
pub fn render(
    policy: &Policy,
    language: Language,
    name: &str,
    context: &TemplateContext,
) -> Result<Rendered, PlanError> {
    let value = Value::from(minijinja::value::Serde(context));
    let text = render_one(policy, &format!("{language}/{name}.txt"), &value)?;
    let html = render_one(policy, &format!("{language}/{name}.html"), &value)?;
    Ok(Rendered { text: tidy(&text).join("\n"), html: tidy(&html).join("<br>\n") })
}

fn render_one(policy: &Policy, name: &str, value: &Value) -> Result<String, PlanError> {
    let error = |source| PlanError::Template { name: name.to_string(), source };
    let template = policy.templates.get_template(name).map_err(error)?;
    template.render(value).map_err(error)
}

/// Trims trailing blanks from every line and drops leading and trailing
/// empty lines, so an `{% if %}` that renders nothing leaves no gap.
fn tidy(rendered: &str) -> Vec<&str> {
    let lines: Vec<&str> = rendered.lines().map(str::trim_end).collect();
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.trim().is_empty()).map_or(start, |e| e + 1);
    lines[start..end].to_vec()
}
