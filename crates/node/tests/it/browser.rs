//! The console driven by a real browser: Debian's headless Chromium through chromedriver.
//!
//! The browser and its driver are system packages (`chromium`, `chromium-driver`) that
//! `scripts/test.sh` installs. When they are missing this test fails and says so: a skipped
//! browser test would let a broken console pass CI.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::samples::{self, ORIGIN_COUNTRY_PATH};
use crate::test_node::{TestNode, client};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} not found: the browser test needs Debian's `{package}` package. Run scripts/test.sh, \
         which installs chromium and chromium-driver (apt-get install chromium chromium-driver)."
    );
}

/// A running chromedriver, killed when dropped (also when the test fails).
pub(crate) struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    /// Starts chromedriver on a port the OS picks, and learns that port from its banner.
    pub(crate) fn start() -> Self {
        require(CHROMEDRIVER, "chromium-driver");
        require(CHROMIUM, "chromium");
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let stdout = child.stdout.take().expect("chromedriver stdout is piped");
        // Constructed before waiting, so that the guard kills chromedriver on every failure below.
        let mut driver = Self { child, port: 0 };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after the banner: chromedriver must never block on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = banner_port(&line) {
                    let _ = tx.send(port);
                }
            }
        });
        driver.port = rx
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("chromedriver did not report its port within {TIMEOUT:?}"));
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/status` until chromedriver says it is ready.
    pub(crate) async fn wait_ready(&self) {
        let deadline = Instant::now() + TIMEOUT;
        let http = client();
        loop {
            let ready = match http.get(format!("{}/status", self.url())).send().await {
                Ok(response) => {
                    response.json::<serde_json::Value>().await.is_ok_and(|status| status["value"]["ready"] == true)
                }
                Err(_) => false,
            };
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "chromedriver was not ready within {TIMEOUT:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Reads the port from "ChromeDriver was started successfully on port 41233."
fn banner_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("started successfully on port ")?;
    rest.trim_end().trim_end_matches('.').parse().ok()
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn connect(driver: &Chromedriver, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1024",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    // Chromium can be slow to start when the machine is busy (the other tests of this binary
    // run beside it); a session that failed to open is tried again, twice, before failing.
    let mut last = None;
    for attempt in 1..=3 {
        match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&driver.url()).await {
            Ok(client) => return client,
            Err(e) => {
                eprintln!("opening a Chromium session, attempt {attempt} of 3, failed: {e}");
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        }
    }
    panic!("cannot open a Chromium session through chromedriver: {}", last.map(|e| e.to_string()).unwrap_or_default())
}

/// Runs `drive` in a fresh headless Chromium session with its own profile, closes the session
/// whatever happened (so that Chromium exits even when an assertion fails), and returns what
/// `drive` returned — or fails the test with the browser's error.
pub(crate) async fn in_browser<T, Fut>(drive: impl FnOnce(Client) -> Fut) -> T
where
    Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
{
    let driver = Chromedriver::start();
    driver.wait_ready().await;
    let scratch = tempfile::tempdir().expect("temporary directory");
    let browser = connect(&driver, &scratch.path().join("chromium-profile")).await;
    let result = drive(browser.clone()).await;
    let _ = browser.close().await;
    result.unwrap_or_else(|e| panic!("driving the console in Chromium failed: {e}"))
}

/// What the page showed after the upload.
#[derive(Debug)]
struct Shown {
    status_class: String,
    errors: Vec<(String, String)>,
}

async fn upload_and_read_report(
    browser: &Client,
    base: &str,
    file: &Path,
) -> Result<Shown, fantoccini::error::CmdError> {
    browser.goto(&format!("{base}/")).await?;
    let input = browser.find(Locator::Css("input[type=file][name=document]")).await?;
    input.send_keys(&file.display().to_string()).await?;
    browser.find(Locator::Id("validate-submit")).await?.click().await?;
    let status = browser.wait().at_most(TIMEOUT).for_element(Locator::Id("report-status")).await?;
    let status_class = status.attr("class").await?.unwrap_or_default();
    let mut errors = Vec::new();
    for row in browser.find_all(Locator::Css("#errors tbody tr")).await? {
        let path = row.find(Locator::Css("td.issue-path")).await?.text().await?;
        let rule = row.find(Locator::Css("td.issue-rule")).await?.text().await?;
        errors.push((path, rule));
    }
    Ok(Shown { status_class, errors })
}

#[tokio::test]
async fn uploaded_invalid_declaration_shows_the_country_error() {
    let node = TestNode::start().await;
    let scratch = tempfile::tempdir().expect("temporary directory");
    let file = scratch.path().join("invalid-declaration.json");
    let document = serde_json::to_vec_pretty(&samples::declaration_with_unknown_origin()).expect("JSON");
    std::fs::write(&file, document).expect("write the document");
    let base = node.url("");
    let shown = in_browser(|b| async move { upload_and_read_report(&b, &base, &file).await }).await;
    let classes: Vec<&str> = shown.status_class.split_whitespace().collect();
    assert!(classes.contains(&"invalid") && !classes.contains(&"valid"), "status classes: {classes:?}");
    assert!(
        shown.errors.iter().any(|(path, rule)| path == ORIGIN_COUNTRY_PATH && rule == "codelist.country"),
        "errors shown: {:#?}",
        shown.errors
    );
    node.stop().await;
}

/// What Swagger UI drew on `/api`: the documented paths and whether it offers authorization.
async fn read_api_reference(browser: &Client, base: &str) -> Result<(Vec<String>, usize), fantoccini::error::CmdError> {
    browser.goto(&format!("{base}/api")).await?;
    browser.wait().at_most(TIMEOUT).for_element(Locator::Css("#swagger-ui .opblock-summary-path")).await?;
    let mut paths = Vec::new();
    for el in browser.find_all(Locator::Css("#swagger-ui .opblock-summary-path")).await? {
        paths.push(el.attr("data-path").await?.unwrap_or_default());
    }
    // A padlock on each guarded operation: Swagger UI read the security requirements.
    let locks = browser.find_all(Locator::Css("#swagger-ui .opblock .authorization__btn")).await?.len();
    Ok((paths, locks))
}

#[tokio::test]
async fn the_interactive_api_reference_renders_every_route_with_its_security() {
    let node = TestNode::start().await;
    let base = node.url("");
    let (paths, locks) = in_browser(|b| async move { read_api_reference(&b, &base).await }).await;
    let doc: serde_json::Value =
        client().get(node.url("/api/openapi.json")).send().await.expect("GET").json().await.expect("JSON");
    let documented = doc["paths"].as_object().map(|p| p.len()).unwrap_or_default();
    for path in ["/api/v1/validate", "/api/v1/transactions", "/api/v1/records/{id}", "/api/v1/risk/queue", "/healthz"] {
        assert!(paths.iter().any(|p| p == path), "{path} not drawn; drawn: {paths:?}");
    }
    let mut distinct = paths.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), documented, "every documented path is drawn");
    assert!(locks >= 20, "only {locks} operations show their security requirement");
    node.stop().await;
}

#[test]
fn banner_port_is_read() {
    assert_eq!(banner_port("ChromeDriver was started successfully on port 39315."), Some(39315));
    assert_eq!(banner_port("Only local connections are allowed."), None);
}
