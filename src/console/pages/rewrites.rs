//! The rewrites page: the latest decisions from the audit log, read-only,
//! with the same before/after view as the compliance report. With the
//! audit setting `diff: none` no text is shown, whatever older records hold.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};

use super::super::web::{self, Visitor};
use super::super::{ConsoleState, i18n};
use crate::audit::query::{self, MessageView};
use crate::audit::{DiffMode, read, report};

/// Only the newest files of each instance are read: the page lists the
/// latest rewrites, and a long log must not make every page load slow.
const FILES_PER_INSTANCE: usize = 2;

pub async fn list(State(state): State<ConsoleState>, Extension(v): Extension<Visitor>) -> Response {
    let Some(mode) = state.audit_diff_mode() else {
        return web::page(
            &state,
            &v,
            StatusCode::OK,
            "rewrites.html",
            "rewrites",
            context! { configured => false },
        );
    };
    let (mut messages, unreadable) = match load(&state).await {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!("console: audit log: {e}");
            return web::error(&state, &v, StatusCode::INTERNAL_SERVER_ERROR, "error_audit");
        }
    };
    messages.sort_by_key(|m| std::cmp::Reverse(m.time));
    messages.truncate(state.inner.rewrites_shown);
    let rows: Vec<Value> = messages
        .iter()
        .map(|m| {
            context! {
                instance => m.instance.clone(),
                seq => m.seq,
                time => m.time_text.clone(),
                who => m.message.sender.as_ref().map_or_else(|| m.message.mail_from.clone(), |s| s.name.clone()),
                rules => m.message.rules.clone(),
                disposition => m.message.disposition.clone(),
                disposition_text => disposition_text(v.lang, &m.message.disposition),
                recipients => m.message.rcpt_to.join(", "),
            }
        })
        .collect();
    let ctx = context! { configured => true, rows, unreadable, private => mode == DiffMode::None };
    web::page(&state, &v, StatusCode::OK, "rewrites.html", "rewrites", ctx)
}

pub async fn detail(
    State(state): State<ConsoleState>,
    Extension(v): Extension<Visitor>,
    Path((instance, seq)): Path<(String, u64)>,
) -> Response {
    let Some(mode) = state.audit_diff_mode() else {
        return web::error(&state, &v, StatusCode::NOT_FOUND, "error_not_found");
    };
    let messages = match load(&state).await {
        Ok((messages, _)) => messages,
        Err(e) => {
            tracing::warn!("console: audit log: {e}");
            return web::error(&state, &v, StatusCode::INTERNAL_SERVER_ERROR, "error_audit");
        }
    };
    let Some(mut found) = messages.into_iter().find(|m| m.instance == instance && m.seq == seq)
    else {
        return web::error(&state, &v, StatusCode::NOT_FOUND, "error_not_found");
    };
    if mode == DiffMode::None {
        for change in &mut found.message.changes {
            change.diff = None;
            change.inserted = None;
            change.removed = None;
        }
    }
    let built = report::build(std::slice::from_ref(&found), "", "");
    let item = built.items.into_iter().next().map(|i| Value::from(Serde(&i)));
    let disposition_text = disposition_text(v.lang, &found.message.disposition);
    web::page(
        &state,
        &v,
        StatusCode::OK,
        "rewrite.html",
        "rewrites",
        context! { item, disposition_text },
    )
}

/// The audit log writes dispositions in English; the page speaks the visitor's language.
fn disposition_text(lang: i18n::Lang, disposition: &str) -> String {
    match i18n::text(lang, &format!("state_{disposition}")) {
        "" => disposition.to_string(),
        text => text.to_string(),
    }
}

async fn load(state: &ConsoleState) -> Result<(Vec<MessageView>, usize), String> {
    let Some(audit) = state.inner.audit.clone() else { return Ok((Vec::new(), 0)) };
    tokio::task::spawn_blocking(move || {
        let groups = match read::collect(std::slice::from_ref(&audit.dir)) {
            Ok(groups) => groups,
            Err(read::CollectError::Empty(_)) => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e.to_string()),
        };
        let newest: Vec<(String, Vec<read::LogFile>)> = groups
            .into_iter()
            .map(|(instance, files)| {
                let skip = files.len().saturating_sub(FILES_PER_INSTANCE);
                (instance, files.into_iter().skip(skip).collect())
            })
            .collect();
        let loaded = query::load(&newest).map_err(|e| e.to_string())?;
        Ok((loaded.messages, loaded.unreadable.len()))
    })
    .await
    .map_err(|e| e.to_string())?
}
