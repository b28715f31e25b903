//! Plumbing shared by the pages: the visitor (session cookie, login,
//! language, CSRF token), security headers, templates and error pages.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Environment, UndefinedBehavior, Value, context};

use super::i18n::{self, Lang};
use super::{ConsoleError, ConsoleState, csrf};

const SESSION_COOKIE: &str = "courtesy_console";
const LANG_COOKIE: &str = "courtesy_lang";

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const TEMPLATES: [(&str, &str); 8] = [
    ("base.html", include_str!("templates/base.html")),
    ("diff.html", include_str!("templates/diff.html")),
    ("policy.html", include_str!("templates/policy.html")),
    ("preview.html", include_str!("templates/preview.html")),
    ("rewrites.html", include_str!("templates/rewrites.html")),
    ("rewrite.html", include_str!("templates/rewrite.html")),
    ("login.html", include_str!("templates/login.html")),
    ("error.html", include_str!("templates/error.html")),
];

const STYLESHEET: &str = include_str!("templates/console.css");

/// The console's templates; `.html` names turn on autoescape, and undefined
/// values are errors so a missing text key cannot go unnoticed.
pub(super) fn templates() -> Result<Environment<'static>, ConsoleError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Who is asking, as the middleware worked it out.
#[derive(Debug, Clone)]
pub(super) struct Visitor {
    /// Session id from the cookie (or a new one).
    pub session: String,
    /// The logged-in user, when logins are on.
    pub user: Option<String>,
    /// Interface language.
    pub lang: Lang,
    /// The token forms must carry.
    pub csrf: String,
    /// The client address, when the server passes it on.
    pub peer: Option<SocketAddr>,
}

impl Visitor {
    /// Whether a submitted CSRF token belongs to this session.
    pub fn csrf_ok(&self, state: &ConsoleState, presented: &str) -> bool {
        csrf::verify(&state.inner.secret, &self.session, presented)
    }
}

/// Resolves the visitor, enforces the login and sets cookies.
pub(super) async fn visit(
    State(state): State<ConsoleState>,
    mut req: Request,
    next: Next,
) -> Response {
    let cookies = cookies(req.headers());
    let existing = cookies
        .iter()
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let fresh = existing.is_none();
    let session = match existing {
        Some(s) => s,
        None => match csrf::random_token() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("console: no randomness: {e}");
                return (StatusCode::INTERNAL_SERVER_ERROR, "no randomness\n").into_response();
            }
        },
    };
    let asked = query_param(req.uri().query().unwrap_or(""), "lang").and_then(|l| Lang::parse(&l));
    let lang = asked
        .or_else(|| {
            cookies.iter().find(|(k, _)| *k == LANG_COOKIE).and_then(|(_, v)| Lang::parse(v))
        })
        .unwrap_or_else(|| {
            let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
            Lang::negotiate(accept.unwrap_or(""))
        });
    let user = state.inner.login.as_ref().and_then(|l| l.user(&session));
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let visitor = Visitor {
        csrf: csrf::token(&state.inner.secret, &session),
        session: session.clone(),
        user,
        lang,
        peer,
    };

    // Browsers say where a request comes from; a form posted from another
    // site is refused before it reaches a handler (the CSRF token would
    // refuse it too).
    if req.method() == Method::POST {
        let site = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if site.is_some_and(|s| s != "same-origin" && s != "none") {
            return error(&state, &visitor, StatusCode::FORBIDDEN, "error_csrf");
        }
    }
    let path = req.uri().path().to_string();
    let open = matches!(path.as_str(), "/login" | "/console.css");
    if state.requires_login() && visitor.user.is_none() && !open {
        let mut response = Redirect::to(&format!("{}/login", state.inner.base)).into_response();
        if fresh {
            set_cookie(&mut response, &session_cookie(&state, &session));
        }
        return response;
    }

    req.extensions_mut().insert(visitor);
    let mut response = next.run(req).await;
    if fresh && !response.headers().contains_key(header::SET_COOKIE) {
        set_cookie(&mut response, &session_cookie(&state, &session));
    }
    if let Some(lang) = asked {
        set_cookie(&mut response, &cookie(&state, LANG_COOKIE, lang.code()));
    }
    response
}

/// Headers every response carries, pages and errors alike.
pub(super) async fn security_headers(req: Request, next: Next) -> Response {
    let css = req.uri().path().ends_with("/console.css");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !css {
        // Pages can hold message text: no caches, no back-button copies on shared machines.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

pub(super) fn session_cookie(state: &ConsoleState, session: &str) -> String {
    cookie(state, SESSION_COOKIE, session)
}

fn cookie(state: &ConsoleState, name: &str, value: &str) -> String {
    let path = if state.inner.base.is_empty() { "/" } else { &state.inner.base };
    let secure = if state.inner.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{secure}")
}

pub(super) fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookies(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .collect()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Renders a page with the context every page shares.
pub(super) fn page(
    state: &ConsoleState,
    visitor: &Visitor,
    status: StatusCode,
    template: &str,
    nav: &str,
    data: Value,
) -> Response {
    let ctx = context! {
        t => i18n::table(visitor.lang),
        lang => visitor.lang.code(),
        other_lang => visitor.lang.other().code(),
        base => state.inner.base.as_str(),
        csrf => visitor.csrf.as_str(),
        user => visitor.user.as_deref(),
        login => state.requires_login(),
        nav => nav,
        ..data
    };
    match state.inner.templates.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("console template {template}: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

/// An error page whose message is the interface text under `key`.
pub(super) fn error(
    state: &ConsoleState,
    visitor: &Visitor,
    status: StatusCode,
    key: &str,
) -> Response {
    error_with(state, visitor, status, key, None)
}

/// An error page with a detail line (shown as text, escaped).
pub(super) fn error_with(
    state: &ConsoleState,
    visitor: &Visitor,
    status: StatusCode,
    key: &str,
    detail: Option<String>,
) -> Response {
    let message = i18n::text(visitor.lang, key);
    page(state, visitor, status, "error.html", "", context! { message, detail })
}

pub(super) async fn root(State(state): State<ConsoleState>) -> Redirect {
    Redirect::to(&format!("{}/policy", state.inner.base))
}

pub(super) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

pub(super) async fn not_found(
    State(state): State<ConsoleState>,
    axum::Extension(visitor): axum::Extension<Visitor>,
) -> Response {
    error(&state, &visitor, StatusCode::NOT_FOUND, "error_not_found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile() {
        templates().unwrap();
    }

    #[test]
    fn cookies_and_query_are_split() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; courtesy_lang=en"));
        assert_eq!(cookies(&h), [("a", "1"), ("courtesy_lang", "en")]);
        assert_eq!(query_param("x=1&lang=en", "lang").as_deref(), Some("en"));
        assert_eq!(query_param("", "lang"), None);
    }
}
