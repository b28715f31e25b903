//! The policy page: everything the policy says, in tables, and the gaps a
//! manager can close (no substitute, no phone, a team without members).

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;

use super::super::ConsoleState;
use super::super::i18n::{self, Lang};
use super::super::web::{self, Visitor};
use crate::policy::{CustomerPattern, Language, MailKind, Policy, TEMPLATE_NAMES};

#[derive(Serialize)]
struct PersonRow {
    id: String,
    name: String,
    email: String,
    aliases: Vec<String>,
    phone: Option<String>,
    mobile: Option<String>,
    substitute: Option<String>,
}

#[derive(Serialize)]
struct TeamRow {
    name: String,
    addresses: Vec<String>,
    members: Vec<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(Serialize)]
struct TemplateRow {
    name: &'static str,
    source: String,
}

pub async fn page(State(state): State<ConsoleState>, Extension(v): Extension<Visitor>) -> Response {
    let status = state.policy();
    let warnings: Vec<String> = status.warnings.iter().map(ToString::to_string).collect();
    let data = match &status.policy {
        Some(policy) => describe(policy, v.lang),
        None => Value::from(()),
    };
    let ctx = context! {
        policy => data,
        errors => status.errors.clone(),
        warnings,
    };
    web::page(&state, &v, StatusCode::OK, "policy.html", "policy", ctx)
}

/// The policy as the template shows it.
pub(crate) fn describe(policy: &Policy, lang: Lang) -> Value {
    let people: Vec<PersonRow> = policy
        .people
        .iter()
        .map(|p| PersonRow {
            id: p.id.clone(),
            name: p.name.clone(),
            email: p.email.clone(),
            aliases: p.aliases.clone(),
            phone: p.phone.clone(),
            mobile: p.mobile.clone(),
            substitute: p.substitute.and_then(|i| policy.people.get(i)).map(|s| s.name.clone()),
        })
        .collect();
    let name_of = |i: usize| policy.people.get(i).map_or_else(String::new, |p| p.name.clone());
    let dossiers: Vec<(Vec<String>, String)> = policy
        .dossiers
        .iter()
        .map(|d| {
            let customers = d
                .customers
                .iter()
                .map(|c| match c {
                    CustomerPattern::Address(a) => a.clone(),
                    CustomerPattern::Domain(d) => format!("@{d}"),
                })
                .collect();
            (customers, name_of(d.handler))
        })
        .collect();
    let teams: Vec<TeamRow> = policy
        .teams
        .iter()
        .map(|t| TeamRow {
            name: t.name.clone(),
            addresses: t.addresses.clone(),
            members: t.members.iter().map(|&i| name_of(i)).collect(),
            phone: t.phone.clone(),
            email: t.email.clone(),
        })
        .collect();
    let templates: Vec<(&str, Vec<TemplateRow>)> = Language::ALL
        .iter()
        .map(|l| {
            let rows = TEMPLATE_NAMES
                .iter()
                .filter_map(|name| {
                    let t =
                        policy.templates.get_template(&format!("{}/{name}.txt", l.code())).ok()?;
                    Some(TemplateRow { name, source: t.source().to_string() })
                })
                .collect();
            (l.code(), rows)
        })
        .filter(|(_, rows): &(&str, Vec<TemplateRow>)| !rows.is_empty())
        .collect();
    let kind = |k: &MailKind| match k {
        MailKind::AutoReply => "auto_reply",
        MailKind::TeamSignature => "team_signature",
    };
    let phrases: Vec<Value> = policy
        .phrase_rules
        .iter()
        .map(|r| {
            context! {
                id => r.id.clone(),
                find => r.find.as_str().to_string(),
                replace => r.replace.clone(),
                languages => r.languages.iter().map(|l| l.code()).collect::<Vec<_>>(),
                applies_to => r.applies_to.iter().map(|k| i18n::text(lang, kind(k))).collect::<Vec<_>>(),
            }
        })
        .collect();
    let response_time: Vec<(&str, String)> =
        policy.response_time.iter().map(|(l, t)| (l.code(), t.clone())).collect();
    context! {
        path => policy.source.path.clone(),
        sha256 => policy.source.sha256.get(..12).unwrap_or(""),
        revision => policy.revision.clone(),
        organisation => policy.organisation.name.clone(),
        findings => findings(policy, lang),
        people => Value::from(Serde(&people)),
        dossiers,
        teams => Value::from(Serde(&teams)),
        templates => Value::from(Serde(&templates)),
        phrases,
        response_time,
        actions => context! {
            auto_reply => format!("{:?}", policy.actions.auto_reply).to_lowercase(),
            team_signature => format!("{:?}", policy.actions.team_signature).to_lowercase(),
        },
    }
}

/// Gaps a manager can close, in the interface language.
pub(crate) fn findings(policy: &Policy, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for p in &policy.people {
        if p.substitute.is_none() {
            out.push(format!("{}: {}", p.name, i18n::text(lang, "no_substitute")));
        }
        if p.best_phone().is_none() {
            out.push(format!("{}: {}", p.name, i18n::text(lang, "no_phone")));
        }
    }
    for t in &policy.teams {
        if !t.addresses.is_empty() && t.members.is_empty() {
            out.push(format!(
                "{} ({}): {}",
                t.name,
                t.addresses.join(", "),
                i18n::text(lang, "team_no_members")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_name_the_gaps() {
        let text = include_str!("../../../policies/example.yaml")
            .replace("    phone: \"+31 30 555 0113\"\n    substitute: femke\n", "")
            .replace("members: [thijs, eva]", "members: []");
        let loaded = crate::policy::load_str(&text, "p.yaml").unwrap();
        let found = findings(&loaded.policy, Lang::En);
        assert!(
            found.contains(&"Joost van der Linden: has no substitute".to_string()),
            "{found:?}"
        );
        assert!(
            found.contains(&"Joost van der Linden: has no phone number".to_string()),
            "{found:?}"
        );
        assert!(found.iter().any(|f| f.starts_with("Salarisadministratie (salaris@")), "{found:?}");
        // Eva has only a mobile: that is a phone.
        assert!(!found.iter().any(|f| f.starts_with("Eva")), "{found:?}");
        assert!(findings(&crate::policy::example().policy, Lang::Nl).is_empty());
    }
}
