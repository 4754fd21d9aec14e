//! Clients that hold connections without finishing their requests, or send too many: the node
//! cuts them by its `[limits]` and keeps answering `/healthz`.
//!
//! Everything runs on loopback. The flood test runs its node in a child process (this test
//! binary again, running only [`node_process`]) under `ulimit -n 1024`, the usual limit in
//! production, so that "out of file descriptors" is the node's problem and not the test's;
//! the test process raises its own soft limit (rustix, a dev-dependency) to hold 2,000
//! sockets.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use borderlink_node::{Config, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

use crate::test_node::TestNode;

/// Set in the child process: the data folder of the node it runs.
const CHILD_DATA: &str = "BORDERLINK_SLOW_CLIENTS_NODE_DATA";

/// Idle sockets the flood test opens.
const FLOOD: usize = 2_000;

/// Loopback source addresses the flood comes from (127.0.0.2 onwards); health checks and API
/// requests come from 127.0.0.1.
const FLOOD_SOURCES: usize = 20;

const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n";
const SCHEMAS: &str = "GET /api/v1/schemas HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n";

/// A connection to `to` from the loopback address `from`.
async fn connect(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(to).await
}

/// Sends `request` on a fresh connection from `from` and reads the answer until the node closes
/// the connection; `None` when there is no complete exchange within `limit`.
async fn exchange(from: Ipv4Addr, to: SocketAddr, request: &str, limit: Duration) -> Option<String> {
    timeout(limit, async {
        let mut stream = connect(from, to).await.ok()?;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        Some(String::from_utf8_lossy(&answer).into_owned())
    })
    .await
    .ok()
    .flatten()
}

/// The status code of a raw HTTP answer.
fn status(answer: &str) -> Option<u16> {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok())
}

/// The JSON body of a raw HTTP answer.
fn json_body(answer: &str) -> serde_json::Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

/// Repeats `exchange` until its answer has `want` as status, or `limit` passes.
async fn poll_status(from: Ipv4Addr, to: SocketAddr, request: &str, want: u16, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(answer) = exchange(from, to, request, Duration::from_secs(3)).await
            && status(&answer) == Some(want)
        {
            return Some(answer);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Waits (at most until `deadline`) until the node closes `stream`: an end of stream or a
/// reset, after whatever it sent first. `Some(bytes it sent)` when it closed.
async fn closed_by_node(stream: &mut TcpStream, deadline: Instant) -> Option<Vec<u8>> {
    let mut sent = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(sent),
            Ok(Ok(n)) => sent.extend_from_slice(&buf[..n]),
        }
    }
}

/// A node in this process with these limits.
async fn node_with(limits: Limits) -> TestNode {
    TestNode::start_with(|c| c.limits = limits).await
}

/// Makes sure this process may hold `n` descriptors, raising its soft limit up to the hard one.
fn allow_descriptors(n: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|soft| soft < n) {
        assert!(limit.maximum.is_none_or(|hard| hard >= n), "the hard limit of open files is below {n}");
        limit.current = Some(n);
        setrlimit(Resource::Nofile, limit).expect("raise the soft limit of open files");
    }
}

/// A node in a child process with `ulimit -n 1024`; stopped when its standard input closes,
/// killed on drop.
struct ChildNode {
    child: Child,
    addr: SocketAddr,
    _data: tempfile::TempDir,
}

impl ChildNode {
    fn start() -> Self {
        let data = tempfile::tempdir().expect("temporary data directory");
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = Command::new("sh")
            .args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\""])
            .arg(exe)
            .args(["slow_clients::node_process", "--exact", "--ignored", "--nocapture", "--test-threads", "1"])
            .env(CHILD_DATA, data.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the node process starts");
        let out = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // The test harness prints the test's name on the same line, before it.
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some((_, addr)) = line.split_once("LISTENING ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).expect("the node process prints its address");
        Self { child, addr: addr.parse().expect("an address"), _data: data }
    }
}

impl Drop for ChildNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The node of [`two_thousand_idle_connections_leave_healthz_answering`], in its own process:
/// does nothing unless that test started it.
#[test]
#[ignore = "run by two_thousand_idle_connections_leave_healthz_answering in a child process"]
fn node_process() {
    let Some(data) = std::env::var_os(CHILD_DATA) else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: data.into(),
            limits: Limits::default(),
            ..Config::default()
        };
        let node = borderlink_node::bind(config).await.expect("bind the node");
        println!("LISTENING {}", node.local_addr());
        let stdin_closed = async {
            let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
        };
        node.serve(stdin_closed).await.expect("the node serves");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_leave_healthz_answering() {
    allow_descriptors(FLOOD as u64 + 512);
    let node = tokio::task::spawn_blocking(ChildNode::start).await.expect("the node process");
    let me = Ipv4Addr::LOCALHOST;
    assert!(poll_status(me, node.addr, HEALTHZ, 200, Duration::from_secs(30)).await.is_some(), "the node is up");

    // 2,000 connections that never send a byte, from 20 addresses.
    let mut flood = Vec::with_capacity(FLOOD);
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..FLOOD {
        if Instant::now() > deadline {
            break;
        }
        let from = Ipv4Addr::new(127, 0, 0, 2 + (i % FLOOD_SOURCES) as u8);
        if let Ok(Ok(stream)) = timeout(Duration::from_secs(1), connect(from, node.addr)).await {
            flood.push(stream);
        }
    }

    // With all of them open, a health check still gets its answer.
    let answer = poll_status(me, node.addr, HEALTHZ, 200, Duration::from_secs(30)).await;
    assert!(answer.is_some(), "/healthz does not answer with {} idle connections open", flood.len());
    // The API sheds load with the standard error body (or, once the idle ones are cut, answers).
    if let Some(answer) = exchange(me, node.addr, SCHEMAS, Duration::from_secs(10)).await
        && status(&answer) == Some(503)
    {
        assert_eq!(json_body(&answer)["code"], "too_many_connections", "{answer}");
        assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");
    }

    // The node closes every one of them: past the caps at once, the others at their header
    // timeout.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut open = 0;
    for stream in &mut flood {
        if closed_by_node(stream, deadline).await.is_none() {
            open += 1;
        }
    }
    assert_eq!(open, 0, "connections the node left open (of {})", flood.len());
    drop(flood);

    // And serves the API as before.
    let answer = poll_status(me, node.addr, SCHEMAS, 200, Duration::from_secs(30)).await;
    assert!(answer.is_some(), "the API answers again once the idle connections are gone");
}

#[tokio::test]
async fn slowloris_headers_are_cut_after_the_header_timeout() {
    let node = node_with(Limits { header_timeout_ms: 1_000, ..Limits::default() }).await;
    let mut stream = connect(Ipv4Addr::LOCALHOST, node.addr()).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: node\r\nX-Slow: ").await.expect("write");
    // One more byte of the header every 100 ms, for at most 20 s: the node must hang up first.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut cut = None;
    while Instant::now() < deadline {
        if stream.write_all(b"a").await.is_err() {
            cut = Some(Vec::new());
            break;
        }
        if let Some(sent) = closed_by_node(&mut stream, Instant::now() + Duration::from_millis(100)).await {
            cut = Some(sent);
            break;
        }
    }
    let sent = cut.expect("the node still reads a header trickled for 20 s");
    assert!(!String::from_utf8_lossy(&sent).contains(" 200 "), "the trickled request was answered");
    node.stop().await;
}

#[tokio::test]
async fn a_body_trickled_past_the_body_timeout_gets_408() {
    let node = node_with(Limits { body_timeout_ms: 1_000, ..Limits::default() }).await;
    let mut stream = connect(Ipv4Addr::LOCALHOST, node.addr()).await.expect("connect");
    let head = "POST /api/v1/validate HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.expect("write");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut answer = None;
    while Instant::now() < deadline {
        let _ = stream.write_all(b" ").await;
        if let Some(sent) = closed_by_node(&mut stream, Instant::now() + Duration::from_millis(100)).await {
            answer = Some(String::from_utf8_lossy(&sent).into_owned());
            break;
        }
    }
    let answer = answer.expect("the node still reads a body trickled for 20 s");
    assert_eq!(status(&answer), Some(408), "{answer}");
    let body = json_body(&answer);
    assert_eq!((body["code"].as_str(), body["type"].as_str()), (Some("request_timeout"), Some("invalid_request")));
    node.stop().await;
}

#[tokio::test]
async fn a_quiet_connection_is_closed_after_the_idle_timeout() {
    // The header timeout is longer than the test: only the idle timeout can close it.
    let node = node_with(Limits { header_timeout_ms: 600_000, idle_timeout_ms: 1_000, ..Limits::default() }).await;
    let mut stream = connect(Ipv4Addr::LOCALHOST, node.addr()).await.expect("connect");
    let closed = closed_by_node(&mut stream, Instant::now() + Duration::from_secs(20)).await;
    assert!(closed.is_some(), "a connection that sent nothing for 20 s is still open");
    node.stop().await;
}

#[tokio::test]
async fn a_client_past_its_request_rate_gets_429_but_healthz_answers() {
    let node = node_with(Limits { requests_per_second: 5, request_burst: 5, ..Limits::default() }).await;
    let http = crate::test_node::client();
    let mut limited = None;
    for _ in 0..20 {
        let r = http.get(node.url("/api/v1/schemas")).send().await.expect("request");
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let r = limited.expect("20 requests at once pass a limit of 5 per second");
    let retry_after: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(retry_after >= 1);
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!((body["code"].as_str(), body["type"].as_str()), (Some("rate_limited"), Some("invalid_request")));
    for _ in 0..20 {
        let r = http.get(node.url("/healthz")).send().await.expect("request");
        assert_eq!(r.status(), 200, "/healthz is never rate limited");
    }
    node.stop().await;
}

#[tokio::test]
async fn past_its_connection_cap_a_client_gets_503_but_healthz_and_other_clients_are_served() {
    let quiet = Limits { header_timeout_ms: 600_000, idle_timeout_ms: 600_000, ..Limits::default() };
    let node = node_with(Limits { max_connections_per_client: 2, ..quiet }).await;
    let me = Ipv4Addr::LOCALHOST;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(connect(me, node.addr()).await.expect("connect"));
    }
    // The node has taken both (its accept loop runs on its own): a third is past the cap.
    let answer = poll_status(me, node.addr(), SCHEMAS, 503, Duration::from_secs(20)).await.expect("503 past the cap");
    assert_eq!(json_body(&answer)["code"], "too_many_connections", "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");
    let answer = exchange(me, node.addr(), HEALTHZ, Duration::from_secs(10)).await.expect("an answer");
    assert_eq!(status(&answer), Some(200), "{answer}");
    let other = Ipv4Addr::new(127, 0, 0, 2);
    let answer = exchange(other, node.addr(), SCHEMAS, Duration::from_secs(10)).await.expect("an answer");
    assert_eq!(status(&answer), Some(200), "another client is served: {answer}");
    // Stopping does not wait for the idle connections.
    timeout(Duration::from_secs(30), node.stop()).await.expect("the node stops with idle connections open");
    drop(held);
}

#[tokio::test]
async fn limits_of_zero_are_refused_at_start() {
    let err = crate::test_node::refused_start(|c| c.limits.max_connections = 0).await;
    assert!(err.contains("[limits] max_connections"), "{err}");
}
