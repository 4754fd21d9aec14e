//! `borderlink demo` serves the console on the port asked for and stops cleanly on SIGINT;
//! `borderlink console rotate-token` replaces its console token for the next start.

use std::time::Duration;

use crate::net::{DemoNode, http};
use crate::{TempDir, borderlink, s, stderr, stdout};

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
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
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
