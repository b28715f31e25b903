//! HTTP tests of the console router: every page, the security headers, and
//! the error paths (bad login, missing CSRF token, oversize upload,
//! malformed message, invalid policy, hostile policy values).

mod console_support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use console_support::*;
use courtesy::audit::DiffMode;
use courtesy::console::{self, ConsoleOptions, ConsoleState, MAX_UPLOAD, PolicyStatus, source};
use courtesy::smtp::auth::Users;

fn router() -> axum::Router {
    console::router(example_console(ConsoleOptions::default()))
}

#[tokio::test]
async fn policy_page_shows_people_teams_dossiers_with_security_headers() {
    let r = router();
    let root = get(&r, "/", None).await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.header("location"), "/policy");

    let page = get(&r, "/policy", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.starts_with("<!DOCTYPE html>\n<html lang=\"nl\">"), "{}", &page.body[..80]);
    for text in [
        "Maarten Hoekstra",
        "Nadia el Amrani",
        "n.elamrani@hoekstra-advies.nl",
        "+31 6 8765 4321",
        "@bakkerij-degroot.nl, piet@voorbeeld.nl",
        "Team Incasso",
        "Ineke Mulder, Carina Bos, Bianca Koster, Linda Postma",
        "binnen één werkdag",
        "formele-groet",
        "Geen aandachtspunten.",
        "Het beleid kent geen afwezigheden",
    ] {
        assert!(page.body.contains(text), "policy page lacks {text}");
    }
    let csp = page.header("content-security-policy");
    assert!(csp.starts_with("default-src 'none'; style-src 'self'"), "{csp}");
    assert!(csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), "DENY");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("cache-control"), "no-store");
    let cookie = page.cookies().into_iter().find(|c| c.starts_with("courtesy_console=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "no TLS configured: {cookie}");
    assert!(!page.body.contains("<script"), "the console has no scripts");

    let css = get(&r, "/console.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("content-type").starts_with("text/css"));
}

#[tokio::test]
async fn language_follows_query_cookie_and_accept_language() {
    let r = router();
    let en = get(&r, "/policy?lang=en", None).await;
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("House policy"));
    assert!(en.body.contains("href=\"?lang=nl\""), "switch link to Dutch");
    let lang_cookie = en.cookies().into_iter().find(|c| c.starts_with("courtesy_lang=en")).unwrap();
    let again = get(&r, "/policy", Some(lang_cookie.split(';').next().unwrap())).await;
    assert!(again.body.contains("<html lang=\"en\">"));
    let request = Request::get("/preview")
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .body(Body::empty())
        .unwrap();
    let negotiated = send(&r, request).await;
    assert!(negotiated.body.contains("Paste the text of an out-of-office"));
}

#[tokio::test]
async fn policy_values_are_escaped_and_gaps_are_named() {
    let text = include_str!("../policies/example.yaml")
        .replace("name: Maarten Hoekstra", "name: \"<script>alert(1)</script> Hoekstra\"")
        .replace("    phone: \"+31 30 555 0113\"\n    substitute: femke\n", "")
        .replace("members: [thijs, eva]", "members: []");
    let loaded = courtesy::policy::load_str(&text, "hostile.yaml").unwrap();
    let status = PolicyStatus::live(std::sync::Arc::new(loaded.policy));
    let r = console::router(
        ConsoleState::new(fixed_policy(status), ConsoleOptions::default()).unwrap(),
    );
    let page = get(&r, "/policy?lang=en", None).await;
    assert!(!page.body.contains("<script>alert(1)"), "policy text became markup");
    assert!(
        page.body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Hoekstra"),
        "escaped name shown"
    );
    assert!(page.body.contains("<li>Joost van der Linden: has no substitute</li>"));
    assert!(page.body.contains("<li>Joost van der Linden: has no phone number</li>"));
    assert!(page.body.contains(
        "Salarisadministratie (salaris@hoekstra-advies.nl): has a team address but no members"
    ));
}

#[tokio::test]
async fn invalid_policy_shows_the_same_text_as_courtesy_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    let broken =
        include_str!("../policies/example.yaml").replace("substitute: nadia", "substitute: nadja");
    std::fs::write(&path, &broken).unwrap();
    let r = console::router(
        ConsoleState::new(source::file_reader(path.clone()), ConsoleOptions::default()).unwrap(),
    );
    let page = get(&r, "/policy?lang=en", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The policy file has errors"));
    let origin = path.display().to_string();
    let errors = courtesy::policy::load_str(&broken, &origin).unwrap_err();
    let first = &errors.diagnostics[0];
    assert!(
        first
            .to_string()
            .starts_with(&format!("{origin}:35:17: substitute `nadja` is not the id of a person")),
        "{first}"
    );
    // The page shows what `courtesy check` prints, once HTML escaping is undone.
    let marker = "<pre class=\"diag\" id=\"policy-errors\">";
    let begin = page.body.find(marker).expect("errors block") + marker.len();
    let shown = &page.body[begin..];
    let shown = unescape(&shown[..shown.find("</pre>").unwrap()]);
    let expected = first.render(&broken);
    assert!(shown.starts_with(expected.trim_end()), "page shows:\n{shown}\nexpected:\n{expected}");
    assert!(page.body.contains("There is no valid version of the policy yet."));

    let (cookie, csrf) = session(&r, "/preview").await;
    let body = multipart(
        &[("csrf", &csrf), ("sender", "maarten@hoekstra-advies.nl"), ("text", "Afwezig")],
        None,
    );
    let reply = post_multipart(&r, "/preview?lang=en", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("A preview needs a valid policy."));
}

#[tokio::test]
async fn preview_of_pasted_out_of_office_names_the_substitute() {
    let state = example_console(ConsoleOptions::default());
    let r = console::router(state.clone());
    let (cookie, csrf) = session(&r, "/preview").await;
    let body = multipart(
        &[
            ("csrf", &csrf),
            ("mode", "ooo"),
            ("sender", "maarten@hoekstra-advies.nl"),
            ("recipient_name", "Jan <b>Jansen</b>"),
            ("recipient_address", "jan@klant.example"),
            ("subject", ""),
            (
                "text",
                "Ik ben afwezig tot en met maandag 10 november.\r\n\r\nGroetjes,\r\nMaarten\r\n",
            ),
        ],
        None,
    );
    let reply = post_multipart(&r, "/preview?lang=en", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("id=\"classification\">automatic reply"), "{}", reply.body);
    assert!(reply.body.contains("Nadia el Amrani"), "substitute named");
    assert!(reply.body.contains("<span class=\"rule\">"), "rules listed");
    assert!(reply.body.contains("<ins>"), "inserted text highlighted");
    assert!(reply.body.contains("auto_submitted"), "signals listed: {}", reply.body);
    assert!(!reply.body.contains("<b>Jansen</b>"), "recipient name escaped");
    assert_eq!(state.previews(), 1);
}

#[tokio::test]
async fn preview_of_uploaded_exchange_eml_renders_html_in_a_sandbox() {
    let r = router();
    let (cookie, csrf) = session(&r, "/preview").await;
    let eml = std::fs::read(repo("tests/golden/outlook-oof-nl-windows1252.eml")).unwrap();
    let body = multipart(&[("csrf", &csrf), ("sender", "")], Some(("oof.eml", &eml)));
    let reply = post_multipart(&r, "/preview", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("herschreven"), "Dutch interface: rewritten");
    assert!(reply.body.contains("text&#x2f;html"), "HTML part shown");
    assert!(reply.body.contains("<iframe sandbox=\"\""), "HTML rendered in a sandbox");
    assert!(reply.body.contains("srcdoc=\"&lt;"), "srcdoc escaped");
    assert!(reply.body.contains("Nadia el Amrani"));
}

#[tokio::test]
async fn post_without_valid_csrf_token_is_refused() {
    let r = router();
    let (cookie, _csrf) = session(&r, "/preview").await;
    let body = multipart(&[("sender", "maarten@hoekstra-advies.nl"), ("text", "weg")], None);
    let reply = post_multipart(&r, "/preview?lang=en", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("The form has expired"));
    // A token from another session does not verify either.
    let (_, other_csrf) = session(&r, "/preview").await;
    let body = multipart(&[("csrf", &other_csrf), ("text", "weg")], None);
    assert_eq!(post_multipart(&r, "/preview", &cookie, body).await.status, StatusCode::FORBIDDEN);
    // A browser saying the form came from another site is refused up front.
    let (cookie, csrf) = session(&r, "/preview").await;
    let request = Request::post("/preview")
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(multipart(&[("csrf", &csrf)], None)))
        .unwrap();
    assert_eq!(send(&r, request).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn oversize_upload_gets_413() {
    let state = example_console(ConsoleOptions::default());
    let r = console::router(state.clone());
    let (cookie, csrf) = session(&r, "/preview").await;
    let big = vec![b'a'; MAX_UPLOAD + 1024];
    let body = multipart(&[("csrf", &csrf)], Some(("big.eml", &big)));
    let reply = post_multipart(&r, "/preview?lang=en", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.body);
    assert!(reply.body.contains("too large"));
    assert_eq!(state.previews(), 0);
}

#[tokio::test]
async fn malformed_message_and_missing_input_get_error_pages() {
    let r = router();
    let (cookie, csrf) = session(&r, "/preview").await;
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    let body = multipart(&[("csrf", &csrf)], Some(("x.eml", &garbage)));
    let reply = post_multipart(&r, "/preview?lang=en", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("This file is not an e-mail message"));

    let body = multipart(&[("csrf", &csrf), ("text", "")], None);
    let reply = post_multipart(&r, "/preview?lang=en", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Paste a text or choose an .eml file."));

    // Not multipart at all.
    let reply = post_form(&r, "/preview?lang=en", &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // A cut-off multipart body.
    let mut body = multipart(&[("csrf", &csrf), ("text", "x")], None);
    body.truncate(body.len() - 20);
    let reply = post_multipart(&r, "/preview?lang=en", &cookie, body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    let missing = get(&r, "/nowhere", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.header("content-security-policy").starts_with("default-src 'none'"));
}

#[tokio::test]
async fn rewrites_page_lists_and_shows_audit_records() {
    let r = router();
    let off = get(&r, "/rewrites?lang=en", None).await;
    assert!(off.body.contains("No audit log is configured"));

    let dir = tempfile::tempdir().unwrap();
    let audit = audit_log(dir.path(), DiffMode::Unified);
    let r = console::router(example_console(ConsoleOptions {
        audit: Some(audit),
        ..Default::default()
    }));
    let list = get(&r, "/rewrites?lang=en", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Maarten Hoekstra"));
    assert!(list.body.contains("piet@bakkerij-degroot.nl"));
    assert!(list.body.contains("/rewrites/relay/1\""), "{}", list.body);
    let detail = get(&r, "/rewrites/relay/1?lang=en", None).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert!(detail.body.contains("<ins>"), "before/after highlighted");
    assert!(detail.body.contains("Nadia el Amrani"));
    // The log says "rewritten"; a Dutch visitor reads it in Dutch, in the list and in the detail.
    let dutch = get(&r, "/rewrites?lang=nl", None).await;
    assert!(dutch.body.contains(">herschreven</td>"), "{}", dutch.body);
    let dutch = get(&r, "/rewrites/relay/1?lang=nl", None).await;
    assert!(dutch.body.contains(">herschreven"), "{}", dutch.body);
    assert_eq!(get(&r, "/rewrites/relay/99", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&r, "/rewrites/relay/notanumber", None).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rewrites_page_shows_no_text_when_the_audit_keeps_none() {
    let dir = tempfile::tempdir().unwrap();
    // Written with text, then configured as `none`: the setting wins.
    let mut audit = audit_log(dir.path(), DiffMode::Unified);
    audit.diff = DiffMode::None;
    let r = console::router(example_console(ConsoleOptions {
        audit: Some(audit),
        ..Default::default()
    }));
    let list = get(&r, "/rewrites?lang=en", None).await;
    assert!(list.body.contains("The audit log keeps no text"));
    let detail = get(&r, "/rewrites/relay/1?lang=en", None).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("Text not recorded"));
    assert!(
        !detail.body.contains("<ins>") && !detail.body.contains("Nadia el Amrani"),
        "{}",
        detail.body
    );
}

fn users() -> Users {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(b"console-test-salt").unwrap();
    let hash = argon2::Argon2::default().hash_password(b"juist wachtwoord", &salt).unwrap();
    Users::parse(&format!("manager:{hash}\n"), "users").unwrap()
}

#[tokio::test]
async fn login_is_required_checked_rate_limited_and_ends_on_logout() {
    let state = example_console(ConsoleOptions {
        users: Some(users()),
        secure_cookies: true,
        ..Default::default()
    });
    let r = console::router(state);
    let redirected = get(&r, "/policy", None).await;
    assert_eq!(redirected.status, StatusCode::SEE_OTHER);
    assert_eq!(redirected.header("location"), "/login");
    assert!(redirected.cookies()[0].contains("; Secure"), "secure cookies configured");

    let (cookie, csrf) = session(&r, "/login?lang=en").await;
    // Without the token: refused before the password is even checked.
    let reply = post_form(&r, "/login", &cookie, "user=manager&password=juist+wachtwoord").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let wrong = format!("csrf={csrf}&user=manager&password=fout");
    let reply = post_form(&r, "/login?lang=en", &cookie, &wrong).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("Wrong user name or password."));

    let good = format!("csrf={csrf}&user=manager&password=juist+wachtwoord");
    let reply = post_form(&r, "/login", &cookie, &good).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let logged_in = reply.session_cookie().expect("new session cookie on login");
    assert_ne!(logged_in, cookie, "session id rotates on login");
    let page = get(&r, "/policy", Some(&logged_in)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<b>manager</b>"));
    // The old, pre-login id grants nothing.
    assert_eq!(get(&r, "/policy", Some(&cookie)).await.status, StatusCode::SEE_OTHER);

    let logout = post_form(&r, "/logout", &logged_in, &format!("csrf={}", page.csrf())).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&r, "/policy", Some(&logged_in)).await.status, StatusCode::SEE_OTHER);

    // Four more failures (five in all) and even the right password waits.
    for _ in 0..4 {
        assert_eq!(post_form(&r, "/login", &cookie, &wrong).await.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = post_form(&r, "/login?lang=en", &cookie, &good).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.body.contains("Too many failed attempts"));
    assert!(throttled.header("retry-after").parse::<u64>().unwrap() > 0);
}

#[tokio::test]
async fn nested_under_a_prefix_links_stay_inside() {
    let state =
        example_console(ConsoleOptions { base_path: "/console".into(), ..Default::default() });
    let r = axum::Router::new().nest("/console", console::router(state));
    let page = get(&r, "/console/policy", None).await;
    assert_eq!(page.status, StatusCode::OK);
    // minijinja escapes `/` in attribute values; browsers read it as `/`.
    assert!(page.body.contains("href=\"&#x2f;console/preview\""), "{}", page.body);
    assert!(page.body.contains("href=\"&#x2f;console/console.css\""));
    assert!(page.session_cookie().is_some());
    assert!(page.cookies()[0].contains("Path=/console"));
}

/// Undoes minijinja's HTML escaping.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x60;", "`")
        .replace("&amp;", "&")
}
