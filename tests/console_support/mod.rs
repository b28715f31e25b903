//! Shared helpers for the console tests: requests through the router,
//! cookies and CSRF tokens, multipart bodies.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use courtesy::audit::{AuditConfig, AuditLog, AuditSink, DiffMode, MessageEntry, Verdict};
use courtesy::console::{self, ConsoleOptions, ConsoleState, PolicyStatus, source};
use courtesy::engine::{self, EngineOptions};
use courtesy::envelope::Envelope;
use tower::ServiceExt;

pub const BOUNDARY: &str = "----courtesy-test-boundary";

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn example_console(options: ConsoleOptions) -> ConsoleState {
    ConsoleState::new(source::example_reader(), options).unwrap()
}

pub fn fixed_policy(status: PolicyStatus) -> console::PolicyReader {
    Arc::new(move || status.clone())
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// `name=value` of the session cookie the response set.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookies()
            .into_iter()
            .find(|c| c.starts_with("courtesy_console="))
            .map(|c| c.split(';').next().unwrap_or("").to_string())
    }

    /// The CSRF token in the page's first form.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("page has a CSRF field") + marker.len();
        self.body[start..start + 64].to_string()
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub async fn get(router: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(router, request.body(Body::empty()).unwrap()).await
}

/// A multipart/form-data body with text fields and an optional file.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"eml\"; filename=\"{filename}\"\r\nContent-Type: message/rfc822\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn post_multipart(router: &Router, path: &str, cookie: &str, body: Vec<u8>) -> Reply {
    let request = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .unwrap();
    send(router, request).await
}

pub async fn post_form(router: &Router, path: &str, cookie: &str, form: &str) -> Reply {
    let request = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    send(router, request).await
}

/// Opens a page to get a session cookie and its CSRF token.
pub async fn session(router: &Router, path: &str) -> (String, String) {
    let page = get(router, path, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (page.session_cookie().expect("session cookie"), page.csrf())
}

/// An audit log with one real rewrite of the Dutch Exchange out-of-office.
pub fn audit_log(dir: &Path, diff: DiffMode) -> AuditConfig {
    let config = AuditConfig { diff, ..AuditConfig::in_dir(dir.to_path_buf()) };
    let log = AuditLog::open(&config, "relay").unwrap();
    let raw = std::fs::read(repo("tests/golden/outlook-oof-nl-windows1252.eml")).unwrap();
    let policy = courtesy::policy::example().policy;
    let envelope = Envelope::new("maarten@hoekstra-advies.nl", ["piet@bakkerij-degroot.nl"]);
    let outcome = engine::process(&raw, &envelope, &policy, &EngineOptions::default());
    let entry = MessageEntry {
        message_id: Some("<oof-1@hoekstra-advies.nl>"),
        envelope: &envelope,
        outcome: &outcome,
        original: &raw,
        policy: &policy,
        dkim: None,
    };
    let seq = log.record_message(&entry).unwrap();
    log.record_verdict(seq, &Verdict { code: 250, text: "2.0.0 queued".into() }).unwrap();
    config
}
