//! `borderlink demo` serves the console on the port asked for and stops cleanly on SIGINT.

use std::time::Duration;

use crate::TempDir;
use crate::net::{DemoNode, http};

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
