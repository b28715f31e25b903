//! Login and logout, for consoles that listen beyond loopback.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use minijinja::context;
use serde::Deserialize;

use super::super::web::{self, Visitor};
use super::super::{ConsoleState, csrf, i18n};

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn form(State(state): State<ConsoleState>, Extension(v): Extension<Visitor>) -> Response {
    if !state.requires_login() || v.user.is_some() {
        return Redirect::to(&format!("{}/policy", state.inner.base)).into_response();
    }
    web::page(
        &state,
        &v,
        StatusCode::OK,
        "login.html",
        "login",
        context! { problem => None::<&str> },
    )
}

pub async fn submit(
    State(state): State<ConsoleState>,
    Extension(v): Extension<Visitor>,
    Form(form): Form<LoginForm>,
) -> Response {
    if !v.csrf_ok(&state, &form.csrf) {
        return web::error(&state, &v, StatusCode::FORBIDDEN, "error_csrf");
    }
    let problem = |status, key| {
        let text = i18n::text(v.lang, key);
        web::page(&state, &v, status, "login.html", "login", context! { problem => text })
    };
    let Some(login) = state.inner.login.as_ref() else {
        return Redirect::to(&format!("{}/policy", state.inner.base)).into_response();
    };
    let peer = v.peer.map(|p| p.ip());
    if let Some(wait) = login.throttled(peer, &form.user) {
        let mut response = problem(StatusCode::TOO_MANY_REQUESTS, "login_throttled");
        if let Ok(value) = wait.as_secs().max(1).to_string().parse() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
        }
        return response;
    }
    let checker = state.clone();
    let user = form.user.clone();
    let ok = tokio::task::spawn_blocking(move || {
        checker.inner.login.as_ref().is_some_and(|l| l.verify(peer, &user, &form.password))
    })
    .await
    .unwrap_or(false);
    if !ok {
        tracing::info!(peer = ?v.peer, "console: failed login");
        return problem(StatusCode::UNAUTHORIZED, "login_failed");
    }
    // A fresh session id on login, so an id planted before cannot be ridden.
    let Ok(session) = csrf::random_token() else {
        return web::error(&state, &v, StatusCode::INTERNAL_SERVER_ERROR, "error_internal");
    };
    login.start(session.clone(), &form.user);
    tracing::info!(user = %form.user, "console: login");
    let mut response = Redirect::to(&format!("{}/policy", state.inner.base)).into_response();
    web::set_cookie(&mut response, &web::session_cookie(&state, &session));
    response
}

pub async fn logout(
    State(state): State<ConsoleState>,
    Extension(v): Extension<Visitor>,
    Form(form): Form<LogoutForm>,
) -> Response {
    if !v.csrf_ok(&state, &form.csrf) {
        return web::error(&state, &v, StatusCode::FORBIDDEN, "error_csrf");
    }
    if let Some(login) = state.inner.login.as_ref() {
        login.end(&v.session);
    }
    Redirect::to(&format!("{}/login", state.inner.base)).into_response()
}
