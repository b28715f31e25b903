//! The relay with its people from the directory (a CSV export here, so no
//! server is needed): it starts from the saved snapshot, rebuilds its
//! policy on every new snapshot, keeps the running policy when the new
//! people do not fit it, and shows the refresher's health in /metrics.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Script, client, config_for, send, start_relay, upstream};
use courtesy::config::ServiceConfig;

const POLICY: &str = "\
version: 1
organisation:
  name: Firm
  domains: [firm.test]
  phone: \"+31 20 555 0100\"
people:
  - id: jdevries
    substitute: famrani
";

const HEADER: &str = "SamAccountName,DisplayName,EmailAddress,OfficePhone,MobilePhone,Enabled\n";
const JAN: &str = "jdevries,Jan de Vries,jan.devries@firm.test,+31 20 555 0101,,True\n";

fn fatima(mobile: &str) -> String {
    format!("famrani,Fatima el Amrani,fatima.elamrani@firm.test,,{mobile},True\n")
}

const OUT_OF_OFFICE: &str = "From: Jan de Vries <jan.devries@firm.test>\r\n\
To: Piet de Groot <piet@klant.nl>\r\n\
Subject: Automatisch antwoord: offerte\r\n\
Auto-Submitted: auto-replied\r\n\
Date: Mon, 17 Nov 2025 08:30:00 +0100\r\n\
Message-ID: <oof-relay@firm.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Ik ben afwezig tot 1 december.\r\n\
\r\n\
Met vriendelijke groet,\r\n\
Jan de Vries\r\n";

fn config(upstream: std::net::SocketAddr, dir: &Path) -> ServiceConfig {
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).expect("policy");
    let yaml = format!(
        "directory:\n  state_dir: {}\n  sources:\n    - kind: csv\n      file: {}\n      format: active_directory\n",
        dir.join("state").display(),
        dir.join("people.csv").display()
    );
    let mut config = ServiceConfig::parse(&yaml, Path::new("test.yaml")).expect("valid config");
    let base = config_for(upstream);
    config.smtp = base.smtp;
    config.shutdown_grace = base.shutdown_grace;
    config.policy_poll = base.policy_poll;
    config.policy = Some(policy);
    config
}

/// Sends the out-of-office and returns the text the upstream received.
async fn relay_once(addr: std::net::SocketAddr, up: &common::Upstream) -> String {
    let before = up.messages().len();
    let mut conn = client(addr).await;
    let code =
        send(&mut conn, "jan.devries@firm.test", &["piet@klant.nl"], OUT_OF_OFFICE.as_bytes())
            .await
            .expect("accepted");
    assert_eq!(code, 250);
    let messages = up.messages();
    assert_eq!(messages.len(), before + 1);
    String::from_utf8_lossy(&messages[before].data).into_owned()
}

/// Waits until the relay's policy gives Fatima this mobile number.
async fn wait_for_mobile(relay: &courtesy::smtp::Relay, mobile: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let policy = relay.settings().policy.clone();
        let found = policy.person_by_id("famrani").map(|i| policy.people[i].mobile.clone());
        if found == Some(Some(mobile.to_owned())) {
            return;
        }
        assert!(Instant::now() < deadline, "policy not rebuilt; famrani has {found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_relay_follows_the_directory_and_survives_its_outages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, format!("{HEADER}{JAN}{}", fatima("+31 6 5550 0202"))).expect("csv");
    // A first start with nothing saved reads the sources before the policy is built.
    courtesy::directory::service::prepare(
        config(common::dead_port().await, dir.path()).directory.as_ref().expect("directory"),
    )
    .await;

    let up = upstream(Script::default()).await;
    let relay = start_relay(config(up.addr, dir.path())).await;
    let text = relay_once(relay.addr, &up).await;
    assert!(text.contains("Fatima el Amrani") && text.contains("+31 6 5550 0202"), "{text}");

    // A new number in the export: the next refresh rebuilds the policy.
    std::fs::write(&csv, format!("{HEADER}{JAN}{}", fatima("+31 6 5550 0999"))).expect("csv");
    let refresher = relay.relay.directory().expect("directory configured");
    refresher.refresh().await.expect("refresh");
    wait_for_mobile(&relay.relay, "+31 6 5550 0999").await;
    assert!(relay_once(relay.addr, &up).await.contains("+31 6 5550 0999"));

    // The export is gone: the last snapshot stays, the failure is counted.
    std::fs::remove_file(&csv).expect("remove");
    refresher.refresh().await.expect_err("no export");
    assert!(refresher.status().consecutive_failures >= 1);
    assert!(relay_once(relay.addr, &up).await.contains("+31 6 5550 0999"));
    relay.stop().await;

    // A restart while the export is still missing starts from the saved snapshot.
    let relay = start_relay(config(up.addr, dir.path())).await;
    assert!(relay_once(relay.addr, &up).await.contains("+31 6 5550 0999"));

    // Fatima leaves while Jan still names her: the running policy stays.
    std::fs::write(&csv, format!("{HEADER}{JAN}")).expect("csv");
    let refresher = relay.relay.directory().expect("directory configured");
    refresher.refresh().await.expect("refresh");
    let metrics = relay.relay.metrics();
    let failed_reloads = "courtesy_policy_reloads_total{result=\"failed\"} 1";
    let deadline = Instant::now() + Duration::from_secs(10);
    while !metrics.render().contains(failed_reloads) {
        assert!(Instant::now() < deadline, "{}", metrics.render());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = metrics.render();
    assert!(text.contains("courtesy_directory_refresh_failures 0"), "{text}");
    assert!(text.contains("courtesy_directory_people 1"), "{text}");
    assert!(relay_once(relay.addr, &up).await.contains("+31 6 5550 0999"));
    relay.stop().await;
}
