//! The management console: a small web application in which managers read
//! the house policy with its gaps, try out messages against it, and look
//! at the latest rewrites. Server-rendered HTML (minijinja, autoescaped),
//! no JavaScript, one stylesheet, Dutch and English.
//!
//! It runs on its own (`courtesy console`) or on the admin address of the
//! relay and the milter ([`router`] with a [`ConsoleState`] that reads the
//! live policy). On loopback it needs no login; anywhere else the host
//! must give it a users file ([`ConsoleState::with_users`]).
//!
//! Security model: every response carries a strict Content-Security-Policy
//! (no scripts at all), every POST needs the per-session CSRF token, the
//! session cookie is `HttpOnly; SameSite=Strict` (and `Secure` when
//! configured), uploads are capped at [`MAX_UPLOAD`], and submitted
//! messages live only for the request: the console counts previews
//! ([`ConsoleState::previews`]) and keeps nothing else.

pub mod auth;
pub mod config;
pub mod csrf;
pub mod i18n;
mod pages;
pub mod source;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

pub use config::ConsoleConfig;
pub use source::{PolicyReader, PolicyStatus};

use crate::audit::{AuditConfig, DiffMode};
use crate::engine::EngineOptions;
use crate::smtp::auth::Users;

/// Largest request body: an uploaded .eml plus the form around it.
pub const MAX_UPLOAD: usize = 2 * 1024 * 1024;

/// Errors setting up the console.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The operating system gave no randomness for the CSRF secret.
    #[error("no randomness for the console's secret: {0}")]
    Random(getrandom::Error),
    /// A built-in template does not compile (a bug in the build).
    #[error("console template: {0}")]
    Template(#[from] minijinja::Error),
}

/// What the console shows and how it guards itself; cheap to clone.
#[derive(Clone)]
pub struct ConsoleState {
    inner: Arc<Inner>,
}

struct Inner {
    policy: PolicyReader,
    audit: Option<AuditConfig>,
    login: Option<auth::Login>,
    secure_cookies: bool,
    base: String,
    secret: [u8; 32],
    templates: minijinja::Environment<'static>,
    previews: AtomicU64,
    engine: EngineOptions,
    rewrites_shown: usize,
}

impl std::fmt::Debug for ConsoleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleState")
            .field("base", &self.inner.base)
            .field("login", &self.inner.login.is_some())
            .field("audit", &self.inner.audit.as_ref().map(|a| &a.dir))
            .finish_non_exhaustive()
    }
}

/// Options beyond the policy; see the `with_*` methods of [`ConsoleState`].
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// The audit log to list rewrites from (its `diff` setting is respected).
    pub audit: Option<AuditConfig>,
    /// Users who may log in; `None` means no login (loopback only).
    pub users: Option<Users>,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Path prefix when nested in another router, e.g. `/console`; empty at the root.
    pub base_path: String,
    /// Length of the rewrites list (0 means the default).
    pub rewrites_shown: usize,
    /// The engine options previews run with (observe mode, instance name).
    pub engine: EngineOptions,
}

impl ConsoleState {
    /// A console over the policy that `policy` reads.
    pub fn new(
        policy: PolicyReader,
        options: ConsoleOptions,
    ) -> Result<ConsoleState, ConsoleError> {
        let secret = csrf::random_bytes().map_err(ConsoleError::Random)?;
        let base = options.base_path.trim_end_matches('/').to_string();
        Ok(ConsoleState {
            inner: Arc::new(Inner {
                policy,
                audit: options.audit,
                login: options.users.map(auth::Login::new),
                secure_cookies: options.secure_cookies,
                base,
                secret,
                templates: web::templates()?,
                previews: AtomicU64::new(0),
                engine: options.engine,
                rewrites_shown: match options.rewrites_shown {
                    0 => config::DEFAULT_REWRITES_SHOWN,
                    n => n,
                },
            }),
        })
    }

    /// How many previews were made since start (the only trace a preview leaves).
    pub fn previews(&self) -> u64 {
        self.inner.previews.load(Ordering::Relaxed)
    }

    /// Whether visitors must log in.
    pub fn requires_login(&self) -> bool {
        self.inner.login.is_some()
    }

    fn count_preview(&self) {
        self.inner.previews.fetch_add(1, Ordering::Relaxed);
    }

    fn policy(&self) -> PolicyStatus {
        (self.inner.policy)()
    }

    /// The text an audit record may show, by the configured privacy setting.
    fn audit_diff_mode(&self) -> Option<DiffMode> {
        self.inner.audit.as_ref().map(|a| a.diff)
    }
}

/// The console's routes; nest it with [`ConsoleOptions::base_path`] set to
/// the same prefix. Serve it with connect info
/// (`into_make_service_with_connect_info::<SocketAddr>()`) so failed logins
/// are limited per client address; without it they are limited per user
/// name and globally.
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/", get(web::root))
        .route("/policy", get(pages::policy::page))
        .route("/preview", get(pages::preview::form).post(pages::preview::submit))
        .route("/rewrites", get(pages::rewrites::list))
        .route("/rewrites/{instance}/{seq}", get(pages::rewrites::detail))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/console.css", get(web::stylesheet))
        .fallback(web::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), web::visit))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .layer(middleware::from_fn(web::security_headers))
        .with_state(state)
}

/// Serves the console on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ConsoleState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
