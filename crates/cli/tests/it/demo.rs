//! `borderlink demo` serves the console on the port asked for and stops cleanly on SIGINT.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::TempDir;

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn demo_serves_the_console_and_stops_on_ctrl_c() {
    let dir = TempDir::new("demo");
    let data = dir.0.join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_borderlink"))
        .args(["demo", "--port", "0", "--data", data.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut url = None;
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(u) = line.strip_prefix("Borderlink console: ") {
                    url = Some(u.trim().to_owned());
                    break;
                }
            }
            _ => break,
        }
    }
    let url = url.expect("the demo prints its URL");
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    assert!(!addr.ends_with(":0"), "the real port is printed: {url}");
    assert!(data.is_dir(), "the data folder is created");
    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let page = http_get(&addr, "/");
    assert!(page.contains("Borderlink"), "{page}");
    // Ctrl-C (SIGINT) stops it cleanly with exit code 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "demo did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
}
