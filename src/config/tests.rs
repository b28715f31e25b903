//! Loading and validating the service configuration.

use super::*;

fn parse(text: &str) -> Result<ServiceConfig, ConfigError> {
    ServiceConfig::parse(text, Path::new("test.yaml"))
}

#[test]
fn empty_file_gives_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.smtp.listen, default_listen());
    assert_eq!(c.smtp.upstream.target().unwrap(), UpstreamTarget::Dir("./outbox".into()));
    assert_eq!(c.mode, Mode::Rewrite);
    assert_eq!(c.engine_failure, EngineFailureAction::Pass);
}

#[test]
fn full_example_parses() {
    let text = "instance: gw1\nmode: observe\nengine_failure: tempfail\nadmin: 127.0.0.1:9187\n\
        log_format: json\nsmtp:\n  listen: [\"127.0.0.1:10025\", \"[::1]:10025\"]\n  \
        allowed_networks: [10.0.0.0/8]\n  upstream:\n    url: smtp://mail.example.com:25\n    \
        starttls: required\n  limits:\n    max_message_size: 1048576\n    command_timeout: 30s\n    \
        upstream_timeout: 500ms\n";
    let c = parse(text).unwrap();
    assert_eq!(c.instance, "gw1");
    assert_eq!(c.mode, Mode::Observe);
    assert_eq!(c.smtp.listen.len(), 2);
    assert_eq!(c.smtp.limits.command_timeout, Duration::from_secs(30));
    assert_eq!(c.smtp.limits.upstream_timeout, Duration::from_millis(500));
    assert_eq!(
        c.smtp.upstream.target().unwrap(),
        UpstreamTarget::Smtp { host: "mail.example.com".into(), port: 25 }
    );
}

#[test]
fn unknown_key_is_an_error_with_location() {
    let err = parse("smtp:\n  limits:\n    max_mesage_size: 10\n").unwrap_err().to_string();
    assert!(err.contains("max_mesage_size"), "{err}");
    assert!(err.contains("3:"), "no line in: {err}");
}

#[test]
fn dkim_section_parses_and_misspelt_keys_are_located() {
    let config = parse(
        "dkim:\n  domains:\n    firm.example:\n      selector: s1\n      key: /k\n      on_signed: keep\n",
    )
    .expect("valid");
    let dkim = config.dkim.expect("dkim section");
    let domain = &dkim.domains["firm.example"];
    assert_eq!(domain.on_signed, Some(crate::dkim::OnSigned::Keep));
    assert!(parse("").expect("empty").dkim.is_none());
    let err =
        parse("dkim:\n  domains:\n    a.nl:\n      on_sigend: skip\n").unwrap_err().to_string();
    assert!(err.contains("on_sigend") && err.contains("4:"), "{err}");
}

#[test]
fn bad_values_name_their_key() {
    let err = parse("smtp:\n  upstream:\n    url: ftp://x\n").unwrap_err().to_string();
    assert!(err.contains("smtp.upstream.url"), "{err}");
    let err = parse("smtp:\n  limits:\n    max_data_line: 80\n").unwrap_err().to_string();
    assert!(err.contains("max_data_line"), "{err}");
    let err = parse("engine_timeout: 5x\n").unwrap_err().to_string();
    assert!(err.contains("unknown unit"), "{err}");
}

#[test]
fn milter_section_defaults_and_sockets() {
    let c = parse("").unwrap();
    assert_eq!(c.milter().socket().unwrap(), MilterSocket::Inet("127.0.0.1:8891".parse().unwrap()));
    let c = parse("milter:\n  listen: unix:/run/c/m.sock\n  read_timeout: 30s\n").unwrap();
    let m = c.milter();
    assert_eq!(m.socket().unwrap(), MilterSocket::Unix("/run/c/m.sock".into()));
    assert_eq!(m.read_timeout, Duration::from_secs(30));
    assert_eq!(m.max_message_size, default_max_message());
    let s = |l: &str| MilterConfig { listen: l.into(), ..Default::default() }.socket();
    assert_eq!(s("inet:[::1]:8891").unwrap(), MilterSocket::Inet("[::1]:8891".parse().unwrap()));
    assert_eq!(
        s("inet:8891@127.0.0.1").unwrap(),
        MilterSocket::Inet("127.0.0.1:8891".parse().unwrap())
    );
    assert_eq!(
        s("inet:localhost:25").unwrap(),
        MilterSocket::Inet("127.0.0.1:25".parse().unwrap())
    );
    let err = parse("milter:\n  listen: tcp:1.2.3.4:5\n").unwrap_err().to_string();
    assert!(err.contains("milter.listen"), "{err}");
    let err = parse("milter:\n  max_frame_size: 100\n").unwrap_err().to_string();
    assert!(err.contains("milter.max_frame_size"), "{err}");
}

#[test]
fn upstream_urls() {
    let t = |u: &str| UpstreamConfig { url: u.into(), ..Default::default() }.target();
    assert_eq!(
        t("smtp://[::1]:2526").unwrap(),
        UpstreamTarget::Smtp { host: "::1".into(), port: 2526 }
    );
    assert_eq!(t("smtp://mx").unwrap(), UpstreamTarget::Smtp { host: "mx".into(), port: 25 });
    assert!(t("smtp://:25").is_err());
    assert!(t("dir:").is_err());
}

mod deploy_example {
    /// The commented example in `deploy/` must stay loadable.
    #[test]
    fn deploy_example_parses() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/courtesy.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let config = super::ServiceConfig::parse(&text, &path).unwrap();
        assert_eq!(config.smtp.listen[0].port(), 10025);
        assert!(config.audit.is_some());
    }

    #[test]
    fn instance_comes_from_the_environment_when_set() {
        let path = std::path::Path::new("courtesy.yaml");
        let mut c = crate::config::ServiceConfig::parse("instance: shared\n", path).unwrap();
        c.instance_from(None, path).unwrap();
        assert_eq!(c.instance, "shared");
        c.instance_from(Some("  "), path).unwrap();
        assert_eq!(c.instance, "shared");
        c.instance_from(Some("courtesy-1"), path).unwrap();
        assert_eq!(c.instance, "courtesy-1");
        assert!(c.instance_from(Some("bad name/../x"), path).is_err());
    }
}
