//! `borderlink demo` serves the console on the port asked for and stops cleanly on SIGINT;
//! `borderlink console rotate-token` replaces its console token for the next start.

use std::time::Duration;

use std::process::Stdio;

use crate::net::{DemoNode, Process, http};
use crate::{TempDir, borderlink, s, stderr, stdout};

/// `borderlink demo --port 0 --data DIR EXTRA…` without `BORDERLINK_LOG`, its log in `DIR.log`:
/// the banner (the lines up to the one saying how to stop) and the process.
fn demo_with(data: &std::path::Path, extra: &[&str]) -> (Vec<String>, Process, crate::net::Lines) {
    let log = std::fs::File::create(data.with_extension("log")).expect("log file");
    let mut args = vec!["demo", "--port", "0", "--data", s(data)];
    args.extend(extra);
    let mut p = Process::spawn("the demo", &args, |c| {
        c.env_remove("BORDERLINK_LOG").env_remove("NO_COLOR").stdout(Stdio::piped()).stderr(log)
    });
    let lines = p.lines();
    let banner = lines.until(Duration::from_secs(120), |l| l.starts_with("stop: ")).expect("the banner");
    (banner, p, lines)
}

#[test]
fn the_demo_prints_a_short_banner_and_logs_only_warnings() {
    let dir = TempDir::new("demo-banner");
    let data = dir.0.join("data");
    let (banner, p, _lines) = demo_with(&data, &[]);
    let text = banner.join("\n");
    assert!(banner.len() <= 14, "a short banner: {text}");
    let console = banner.iter().find_map(|l| l.strip_prefix("Borderlink console: ")).expect("the console line");
    assert!(text.contains(&format!("log in (ledger pages): {console}login?token=")), "{text}");
    assert!(text.contains("node 1  gb-customs-hrc") && text.contains("node 3  "), "{text}");
    assert!(text.contains("stop: Ctrl-C"), "{text}");
    assert_eq!(p.stop("-INT").code(), Some(0));
    // Nothing below a warning, and no colours in a file.
    let log = std::fs::read_to_string(data.with_extension("log")).expect("log");
    assert!(!log.contains(" INFO ") && !log.contains('\x1b'), "{log}");
    assert!(log.lines().count() < 10, "{log}");
}

#[test]
fn the_demo_logs_json_lines_for_operators() {
    let dir = TempDir::new("demo-json");
    let data = dir.0.join("data");
    let (_, p, _lines) = demo_with(&data, &["-v", "--log-format", "json"]);
    assert_eq!(p.stop("-INT").code(), Some(0));
    let log = std::fs::read_to_string(data.with_extension("log")).expect("log");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(lines.iter().any(|l| l["level"] == "INFO" && l["message"].is_string()), "-v logs info: {log}");
    for l in &lines {
        assert!(l["timestamp"].is_string() && l["target"].is_string() && l["level"].is_string(), "{l}");
    }
}

#[test]
fn demo_serves_the_console_and_stops_on_ctrl_c() {
    let dir = TempDir::new("demo");
    let data = dir.0.join("data");
    let mut node = DemoNode::start(&data);
    assert!(!node.url.trim_end_matches('/').ends_with(":0"), "the real port is printed: {}", node.url);
    assert!(data.is_dir(), "the data folder is created");
    let http = http(Duration::from_secs(10));
    let health = http.get(format!("{}healthz", node.url)).send().expect("/healthz answers");
    assert_eq!(health.status().as_u16(), 200);
    let page = http.get(&node.url).send().expect("/ answers").text().expect("page");
    assert!(page.contains("Borderlink"), "{page}");
    // Ctrl-C (SIGINT) stops it cleanly with exit code 0.
    let rest = node.stop();
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
}

/// `POST /login` with `token` at the node at `url`: the status (303 once a session is opened).
fn login(url: &str, token: &str) -> u16 {
    // The harness's builder installs the TLS provider reqwest needs (also for plain HTTP).
    let client = crate::net::http_builder(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let r = client
        .post(format!("{url}login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .expect("/login answers");
    r.status().as_u16()
}

#[test]
fn console_rotate_token_replaces_the_token_at_the_next_start() {
    let dir = TempDir::new("rotate");
    let data = dir.0.join("data");
    let mut node = DemoNode::start(&data);
    let old = std::fs::read_to_string(data.join("console.token")).expect("the node's console token");
    assert_eq!(login(&node.url, &old), 303);
    node.stop();
    let o = borderlink(&["console", "rotate-token", "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let new = std::fs::read_to_string(data.join("console.token")).expect("the new token");
    assert_ne!(new, old);
    assert!(!stdout(&o).contains(&new), "the token is not printed: {}", stdout(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("console.token")).expect("token file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut node = DemoNode::start(&data);
    assert_eq!(login(&node.url, &old), 401, "the old token no longer opens the console");
    assert_eq!(login(&node.url, &new), 303);
    node.stop();
    // A folder that holds no node is an input error.
    let o = borderlink(&["console", "rotate-token", "--data", s(&dir.0.join("nothing"))]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds no node's ledger"), "{}", stderr(&o));
}
