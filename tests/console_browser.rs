//! Drives the console in headless Chromium through chromedriver: upload the
//! Dutch Exchange out-of-office, check that the after-column names the
//! substitute, and keep screenshots of the three pages in tests/artifacts/.
//! Skips with a reason when chromium or chromedriver is missing, except in
//! CI (`CI` set), where a missing browser is a failure.

mod console_support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use console_support::*;
use courtesy::audit::DiffMode;
use courtesy::console::{self, ConsoleOptions};
use fantoccini::{ClientBuilder, Locator};

const DEADLINE: Duration = Duration::from_secs(120);

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Stops chromedriver however the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_driver(chromedriver: &Path) -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (driver, port)
}

fn save_png(path: &Path, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 10_000, "screenshot suspiciously small: {} bytes", png.len());
    std::fs::write(path, png).unwrap();
    eprintln!("screenshot: {} ({} bytes)", path.display(), png.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_exchange_out_of_office_in_a_real_browser() {
    let (Some(chromium), Some(chromedriver)) =
        (find(&["chromium", "chromium-browser"]), find(&["chromedriver"]))
    else {
        let reason = "chromium or chromedriver is not installed (Debian: chromium chromium-driver)";
        assert!(std::env::var_os("CI").is_none(), "{reason}");
        eprintln!("skipping upload_exchange_out_of_office_in_a_real_browser: {reason}");
        return;
    };
    tokio::time::timeout(DEADLINE, drive(chromium, chromedriver))
        .await
        .expect("browser test timed out");
}

async fn drive(chromium: PathBuf, chromedriver: PathBuf) {
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = audit_log(audit_dir.path(), DiffMode::Unified);
    let state = example_console(ConsoleOptions { audit: Some(audit), ..Default::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(console::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));

    let (_driver, port) = start_driver(&chromedriver);
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--window-size=1280,1600", "--lang=nl",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("webdriver session");

    let artifacts = repo("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let base = format!("http://{addr}");

    client.goto(&format!("{base}/policy?lang=nl")).await.unwrap();
    let people = client.find(Locator::Id("people")).await.unwrap().text().await.unwrap();
    assert!(people.contains("Nadia el Amrani"), "{people}");
    save_png(&artifacts.join("console-policy.png"), &client.screenshot().await.unwrap());

    client.goto(&format!("{base}/preview")).await.unwrap();
    let eml = repo("tests/golden/outlook-oof-nl-windows1252.eml");
    let input = client.find(Locator::Id("eml")).await.unwrap();
    input.send_keys(&eml.display().to_string()).await.unwrap();
    client.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
    let result = client.wait().for_element(Locator::Id("result")).await.expect("result shown");
    let decision = client.find(Locator::Id("decision")).await.unwrap().text().await.unwrap();
    assert_eq!(decision, "herschreven");
    let after: Vec<String> = {
        let mut texts = Vec::new();
        for cell in client.find_all(Locator::Css("table.diff td.add")).await.unwrap() {
            texts.push(cell.text().await.unwrap());
        }
        texts
    };
    assert!(after.iter().any(|t| t.contains("Nadia el Amrani")), "after column: {after:?}");
    let frames = client.find_all(Locator::Css("iframe[sandbox]")).await.unwrap();
    assert_eq!(frames.len(), 2, "before and after HTML rendered");
    let scripts = client.find_all(Locator::Css("script")).await.unwrap();
    assert!(scripts.is_empty(), "the console runs no scripts");
    let _ = client
        .execute("arguments[0].scrollIntoView()", vec![serde_json::to_value(&result).unwrap()])
        .await;
    save_png(&artifacts.join("console-preview.png"), &client.screenshot().await.unwrap());
    assert_eq!(state.previews(), 1);

    client.goto(&format!("{base}/rewrites")).await.unwrap();
    let list = client.find(Locator::Id("rewrites")).await.unwrap().text().await.unwrap();
    assert!(list.contains("Maarten Hoekstra"), "{list}");
    save_png(&artifacts.join("console-rewrites.png"), &client.screenshot().await.unwrap());

    client.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
