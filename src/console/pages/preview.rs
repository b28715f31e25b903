//! The preview page: a pasted text (built into a real message) or an
//! uploaded .eml goes through the same engine the relay runs, and the page
//! shows the verdict, the rules and before/after side by side. Nothing of
//! what is submitted is kept or logged; only a counter goes up.

use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::Response;
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;

use super::super::ConsoleState;
use super::super::i18n::{self, Lang};
use super::super::web::{self, Visitor};
use crate::audit::sidebyside;
use crate::engine::{self, Disposition, Outcome};
use crate::envelope::Envelope;
use crate::policy::Policy;

/// Longest a preview may run before the page gives up.
const ENGINE_DEADLINE: Duration = Duration::from_secs(10);

/// What the form holds, echoed back so the manager can adjust and retry.
#[derive(Debug, Default, Serialize)]
struct FormValues {
    mode: String,
    sender: String,
    recipient_name: String,
    recipient_address: String,
    subject: String,
    text: String,
}

pub async fn form(State(state): State<ConsoleState>, Extension(v): Extension<Visitor>) -> Response {
    let values = FormValues { mode: "ooo".into(), ..FormValues::default() };
    render(&state, &v, StatusCode::OK, &values, None, None)
}

pub async fn submit(
    State(state): State<ConsoleState>,
    Extension(v): Extension<Visitor>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(mut multipart) = multipart else {
        return web::error(&state, &v, StatusCode::BAD_REQUEST, "error_bad_form");
    };
    let mut values = FormValues::default();
    let mut token = String::new();
    let mut eml: Vec<u8> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return form_error(&state, &v, e.status()),
        };
        let name = field.name().unwrap_or("").to_string();
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return form_error(&state, &v, e.status()),
        };
        if name == "eml" {
            eml = bytes.to_vec();
            continue;
        }
        let Ok(text) = String::from_utf8(bytes.to_vec()) else {
            return web::error(&state, &v, StatusCode::BAD_REQUEST, "error_bad_form");
        };
        match name.as_str() {
            "csrf" => token = text,
            "mode" => values.mode = text,
            "sender" => values.sender = text.trim().to_string(),
            "recipient_name" => values.recipient_name = one_line(&text),
            "recipient_address" => values.recipient_address = text.trim().to_string(),
            "subject" => values.subject = one_line(&text),
            "text" => values.text = text,
            _ => {}
        }
    }
    if !v.csrf_ok(&state, &token) {
        return web::error(&state, &v, StatusCode::FORBIDDEN, "error_csrf");
    }
    let status = state.policy();
    let Some(policy) = status.policy else {
        return render(&state, &v, StatusCode::CONFLICT, &values, Some("no_policy_preview"), None);
    };
    let input = match message(&values, &eml, &policy, v.lang) {
        Ok(input) => input,
        Err(key) => {
            return render(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, &values, Some(key), None);
        }
    };
    state.count_preview();
    let options = state.inner.engine.clone();
    let (raw, envelope) = input;
    let job = tokio::task::spawn_blocking(move || {
        let outcome = engine::process(&raw, &envelope, &policy, &options);
        (outcome, policy)
    });
    let (outcome, policy) = match tokio::time::timeout(ENGINE_DEADLINE, job).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            tracing::error!("console preview: engine task failed: {e}");
            return web::error(&state, &v, StatusCode::INTERNAL_SERVER_ERROR, "error_internal");
        }
        Err(_) => {
            tracing::error!("console preview: engine took longer than {ENGINE_DEADLINE:?}");
            return web::error(&state, &v, StatusCode::INTERNAL_SERVER_ERROR, "error_internal");
        }
    };
    let _ = policy;
    let result = describe(&outcome, v.lang);
    render(&state, &v, StatusCode::OK, &values, None, Some(result))
}

fn form_error(state: &ConsoleState, v: &Visitor, status: StatusCode) -> Response {
    let key =
        if status == StatusCode::PAYLOAD_TOO_LARGE { "error_too_large" } else { "error_bad_form" };
    web::error(state, v, status, key)
}

fn one_line(text: &str) -> String {
    text.split(['\r', '\n']).next().unwrap_or("").trim().to_string()
}

fn render(
    state: &ConsoleState,
    v: &Visitor,
    status: StatusCode,
    values: &FormValues,
    problem: Option<&str>,
    result: Option<Value>,
) -> Response {
    let policy = state.policy().policy;
    let senders: Vec<(String, String)> = policy
        .iter()
        .flat_map(|p| {
            let people =
                p.people.iter().map(|p| (p.email.clone(), format!("{} <{}>", p.name, p.email)));
            let teams = p.teams.iter().filter_map(|t| {
                let address = t.addresses.first()?;
                Some((address.clone(), format!("{} <{address}>", t.name)))
            });
            people.chain(teams).collect::<Vec<_>>()
        })
        .collect();
    let ctx = context! {
        form => Value::from(Serde(values)),
        senders,
        problem => problem.map(|k| i18n::text(v.lang, k)),
        result,
    };
    web::page(state, v, status, "preview.html", "preview", ctx)
}

/// The message and envelope to preview, or the text key of what is missing.
fn message(
    values: &FormValues,
    eml: &[u8],
    policy: &Policy,
    lang: Lang,
) -> Result<(Vec<u8>, Envelope), &'static str> {
    let rcpt = values.recipient_address.as_str();
    if !rcpt.is_empty() && !plausible_address(rcpt) {
        return Err("bad_address");
    }
    if !eml.is_empty() {
        let parsed = mail_parser::MessageParser::default().parse_headers(eml);
        let Some(parsed) = parsed.filter(|m| !m.headers().is_empty() && m.from().is_some()) else {
            return Err("not_a_message");
        };
        let from_header =
            parsed.from().and_then(|f| f.first()).and_then(|a| a.address()).unwrap_or_default();
        let mail_from =
            if values.sender.is_empty() { from_header.to_string() } else { values.sender.clone() };
        let rcpt_to = if rcpt.is_empty() {
            parsed
                .to()
                .map(|to| to.iter().filter_map(|a| a.address()).map(str::to_string).collect())
                .unwrap_or_default()
        } else {
            vec![rcpt.to_string()]
        };
        return Ok((eml.to_vec(), Envelope { mail_from, rcpt_to }));
    }
    if values.text.trim().is_empty() {
        return Err("need_input");
    }
    let sender = values.sender.as_str();
    let Some(name) = sender_name(policy, sender) else {
        return Err("need_sender");
    };
    if rcpt.is_empty() {
        return Err("bad_address");
    }
    let ooo = values.mode != "reply";
    let subject = if !values.subject.is_empty() {
        values.subject.clone()
    } else {
        match (ooo, lang) {
            (true, Lang::Nl) => "Automatisch antwoord: uw bericht".to_string(),
            (true, Lang::En) => "Automatic reply: your message".to_string(),
            (false, Lang::Nl) => "Re: uw bericht".to_string(),
            (false, Lang::En) => "Re: your message".to_string(),
        }
    };
    let to = if values.recipient_name.is_empty() {
        mail_builder::headers::address::Address::from(rcpt.to_string())
    } else {
        (values.recipient_name.clone(), rcpt.to_string()).into()
    };
    let token = super::super::csrf::random_token().map_err(|_| "error_internal")?;
    let mut builder = MessageBuilder::new()
        .from((name, sender.to_string()))
        .to(to)
        .subject(subject)
        .message_id(format!("{}@console.invalid", &token[..24]))
        .text_body(values.text.replace("\r\n", "\n"));
    if ooo {
        builder = builder.header("Auto-Submitted", Raw::new("auto-replied"));
    }
    let raw = builder.write_to_vec().map_err(|_| "error_internal")?;
    Ok((raw, Envelope { mail_from: sender.to_string(), rcpt_to: vec![rcpt.to_string()] }))
}

/// The display name of a policy person or team sending from `address`.
fn sender_name(policy: &Policy, address: &str) -> Option<String> {
    if address.is_empty() {
        return None;
    }
    Some(match policy.sender(address)? {
        crate::policy::Sender::Person(i) => policy.people.get(i)?.name.clone(),
        crate::policy::Sender::Team(i) => policy.teams.get(i)?.name.clone(),
    })
}

fn plausible_address(address: &str) -> bool {
    address.len() <= 254
        && address
            .rsplit_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !address.contains(|c: char| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
}

/// The outcome as the template shows it.
fn describe(outcome: &Outcome, lang: Lang) -> Value {
    let c = &outcome.classification;
    let kind = match (c.auto_reply, c.team_signature) {
        (true, true) => "kind_both",
        (true, false) => "kind_auto",
        (false, true) => "kind_team",
        (false, false) => "kind_none",
    };
    let disposition = match outcome.disposition {
        Disposition::Untouched => "disp_untouched",
        Disposition::Rewritten => "disp_rewritten",
        Disposition::Observed => "disp_observed",
        Disposition::Skipped => "disp_skipped",
    };
    let signals: Vec<Value> = c
        .signals
        .iter()
        .map(|s| context! { name => s.name.clone(), evidence => s.evidence.clone(), effect => format!("{:?}", s.effect) })
        .collect();
    let parts: Vec<Value> = outcome
        .rewritten
        .iter()
        .flat_map(|r| &r.parts)
        .map(|p| {
            let diff = similar::TextDiff::from_lines(&p.before, &p.after)
                .unified_diff()
                .context_radius(1_000_000)
                .to_string();
            context! {
                part => p.part,
                content_type => p.content_type.clone(),
                charset_before => p.charset_before.clone(),
                charset_after => p.charset_after.clone(),
                transfer_encoding => p.transfer_encoding.clone(),
                rules => p.rules.clone(),
                unapplied => p.unapplied.clone(),
                rows => Value::from(Serde(sidebyside::rows(&diff))),
                html => p.content_type.eq_ignore_ascii_case("text/html"),
                before => p.before.clone(),
                after => p.after.clone(),
            }
        })
        .collect();
    context! {
        kind => i18n::text(lang, kind),
        language => c.language.code(),
        signals,
        skipped => c.skipped.as_ref().map(ToString::to_string),
        sender => outcome.sender.as_ref().map(|s| format!("{} ({} {})", s.name, s.kind, s.id)),
        disposition => i18n::text(lang, disposition),
        disposition_class => format!("{:?}", outcome.disposition).to_lowercase(),
        rules => outcome.rules.clone(),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_text_becomes_an_auto_reply_from_the_chosen_sender() {
        let policy = crate::policy::example().policy;
        let values = FormValues {
            mode: "ooo".into(),
            sender: "maarten@hoekstra-advies.nl".into(),
            recipient_name: "Piet de Groot".into(),
            recipient_address: "piet@bakkerij-degroot.nl".into(),
            subject: String::new(),
            text: "Ik ben afwezig tot maandag.\r\nGroetjes,\r\nMaarten\r\n".into(),
        };
        let (raw, envelope) = message(&values, b"", &policy, Lang::Nl).unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"), "{text}");
        assert!(text.contains("Subject: Automatisch antwoord: uw bericht"), "{text}");
        assert!(text.contains("<maarten@hoekstra-advies.nl>"), "{text}");
        assert_eq!(envelope.rcpt_to, ["piet@bakkerij-degroot.nl"]);
        let outcome = engine::process(&raw, &envelope, &policy, &Default::default());
        assert!(outcome.classification.auto_reply);
        assert_eq!(outcome.disposition, Disposition::Rewritten);
    }

    #[test]
    fn missing_or_bad_input_names_the_problem() {
        let policy = crate::policy::example().policy;
        let mut values = FormValues { text: "x".into(), ..FormValues::default() };
        assert_eq!(message(&values, b"", &policy, Lang::En).unwrap_err(), "need_sender");
        values.sender = "nobody@example.com".into();
        assert_eq!(message(&values, b"", &policy, Lang::En).unwrap_err(), "need_sender");
        values.recipient_address = "not an address".into();
        assert_eq!(message(&values, b"", &policy, Lang::En).unwrap_err(), "bad_address");
        let empty = FormValues::default();
        assert_eq!(message(&empty, b"", &policy, Lang::En).unwrap_err(), "need_input");
        assert_eq!(
            message(&empty, b"\x00\x01\x02 garbage", &policy, Lang::En).unwrap_err(),
            "not_a_message"
        );
    }
}
