//! The test network: `borderlink` processes started as a user starts them — a demo node
//! ([`DemoNode`]), three ordering nodes run with `serve --config` from a consortium made by
//! `network new` ([`Net`]) — on free ports, with readiness polled against a deadline (never
//! slept for), clean stops, and what a member sends them (signed requests, signed declarations).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use borderlink_ledger::genesis::Genesis;
use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::{Hash, Ledger, Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use serde_json::Value;

use crate::{TempDir, borderlink, s, sample, stderr, stdout};

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A blocking HTTP client of the nodes on this machine (never through a proxy).
pub(crate) fn http(timeout: Duration) -> reqwest::blocking::Client {
    http_builder(timeout).build().expect("HTTP client")
}

/// A blocking client of nodes that serve HTTPS with a certificate from the CA in `ca` (PEM),
/// the only root it trusts.
pub(crate) fn https(timeout: Duration, ca: &Path) -> reqwest::blocking::Client {
    let pem = std::fs::read(ca).expect("CA certificate");
    let ca = reqwest::Certificate::from_pem(&pem).expect("a PEM certificate");
    http_builder(timeout).tls_certs_only([ca]).build().expect("HTTPS client")
}

pub(crate) fn http_builder(timeout: Duration) -> reqwest::blocking::ClientBuilder {
    // reqwest's TLS (the CLI's, with ring) needs a process-wide provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder().no_proxy().timeout(timeout)
}

/// Polls `ok` until it holds (true) or `limit` has passed (false).
pub(crate) fn poll(limit: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if ok() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The member id of the node at `base` (`GET /api/v1/node`): what a request to it is signed for.
pub(crate) fn node_member(http: &reqwest::blocking::Client, base: &str) -> Option<String> {
    let r = http.get(format!("{}/api/v1/node", base.trim_end_matches('/'))).send().ok()?;
    let v: Value = r.json().ok()?;
    v["member"].as_str().map(str::to_owned)
}

/// A GET of `path` on the node at `base`, signed by `keys` for that node: (status, JSON body or
/// null), or `None` when the node does not answer.
pub(crate) fn signed_get(
    http: &reqwest::blocking::Client,
    base: &str,
    keys: &MemberKeys,
    path: &str,
) -> Option<(u16, Value)> {
    let node = node_member(http, base)?;
    let target = borderlink_ledger::auth::Target::new(&node, "GET", path, b"");
    let auth = borderlink_ledger::auth::authorization(keys, &target, now_ms());
    // Record reads declare the purpose `clearance` (the read policy is tested in the node's tests).
    let r = http
        .get(format!("{}{path}", base.trim_end_matches('/')))
        .header("authorization", auth)
        .header("borderlink-purpose", "clearance")
        .send()
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.json().unwrap_or(Value::Null)))
}

/// Posts a wire transaction to the node at `base`: (status, JSON body or null), or `None` when
/// the node does not answer.
pub(crate) fn submit(http: &reqwest::blocking::Client, base: &str, body: &[u8]) -> Option<(u16, Value)> {
    let r = http
        .post(format!("{}/api/v1/transactions", base.trim_end_matches('/')))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.json().unwrap_or(Value::Null)))
}

/// The shared sample declaration.
pub(crate) fn template() -> Value {
    serde_json::from_slice(&std::fs::read(sample("declaration.json")).expect("sample")).expect("JSON")
}

/// A declaration with its own LRN `TAG-NNNNNN` (nonce `n`), signed by `keys` for `chain`: its
/// ledger id (`declaration:{declarant}:{LRN}`) and its wire JSON.
pub(crate) fn signed_declaration(
    template: &Value,
    chain: Hash,
    keys: &MemberKeys,
    tag: &str,
    n: u64,
) -> (String, Vec<u8>) {
    let lrn = format!("{tag}-{n:06}");
    let mut doc = template.clone();
    doc["Declaration"]["FunctionalReferenceID"] = serde_json::json!(lrn);
    let payload = serde_json::to_vec(&doc).expect("JSON");
    let record = validate(&payload, &ValidateOptions::default()).record.expect("a valid declaration");
    let id = borderlink_ledger::meta::record_id(&record, &keys.member).expect("a ledger id");
    let body = clear_put_body(chain, &record, &id, 1, &payload, &keys.member, n, now_ms());
    let wire = Transaction::sign(body, payload, Vec::new(), keys).to_wire();
    (id, serde_json::to_vec(&wire).expect("JSON"))
}

/// A `borderlink` process the test started; killed on drop unless it was stopped.
pub(crate) struct Process {
    child: Child,
    what: String,
}

impl Process {
    /// `borderlink ARGS…` as `cmd` sets it up (environment, standard streams).
    pub(crate) fn spawn(what: &str, args: &[&str], setup: impl FnOnce(&mut Command) -> &mut Command) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_borderlink"));
        cmd.args(args);
        let child = setup(&mut cmd).spawn().unwrap_or_else(|e| panic!("{what} does not start: {e}"));
        Self { child, what: what.to_owned() }
    }

    /// Its standard output, read on a thread of its own.
    pub(crate) fn lines(&mut self) -> Lines {
        Lines::read(self.child.stdout.take().expect("stdout is piped"))
    }

    /// `kill -9`: no chance to flush or close anything.
    pub(crate) fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Sends `signal` (`-INT`, `-TERM`) and waits (60 s at most) for the process to exit.
    pub(crate) fn stop(mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().expect("kill runs").success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not stop after kill {signal}", self.what);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A reaped child is not signalled again.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines a process prints on standard output, drained for the process's whole life (a
/// closed pipe would fail its next line).
pub(crate) struct Lines(mpsc::Receiver<String>);

impl Lines {
    fn read(out: ChildStdout) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self(rx)
    }

    /// The lines up to the first that `found` accepts (the last one), or, when `limit` passes
    /// or the output ends first, why and the lines read so far.
    pub(crate) fn until(
        &self,
        limit: Duration,
        found: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, (RecvTimeoutError, Vec<String>)> {
        let deadline = Instant::now() + limit;
        let mut lines = Vec::new();
        loop {
            match self.0.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    let done = found(&line);
                    lines.push(line);
                    if done {
                        return Ok(lines);
                    }
                }
                Err(e) => return Err((e, lines)),
            }
        }
    }

    /// The lines still to come, until the process closes its standard output.
    pub(crate) fn rest(&self) -> Vec<String> {
        self.0.iter().collect()
    }
}

/// A node started as `borderlink demo --port 0 --data DIR`: the consortium under
/// `DIR/consortium`, the node acting as the British customs administration; its log in
/// `DIR.log`.
pub(crate) struct DemoNode {
    process: Option<Process>,
    lines: Lines,
    /// `http://127.0.0.1:PORT/`.
    pub(crate) url: String,
    pub(crate) data: PathBuf,
}

impl DemoNode {
    /// Starts the node and waits (with a deadline, no fixed sleep) for the line that says where
    /// it serves: it is printed once the node is bound and its ledger open.
    pub(crate) fn start(data: &Path) -> Self {
        Self::start_logging(data, "warn,openraft=error")
    }

    /// Starts the node logging at `filter` (`BORDERLINK_LOG`) to `DATA.log`.
    pub(crate) fn start_logging(data: &Path, filter: &str) -> Self {
        let log_path = data.with_extension("log");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).expect("demo log");
        let mut process = Process::spawn("the demo", &["demo", "--port", "0", "--no-sim", "--data", s(data)], |c| {
            c.env("BORDERLINK_LOG", filter).env("NO_COLOR", "1").stdout(Stdio::piped()).stderr(log)
        });
        let lines = process.lines();
        let url = match lines.until(Duration::from_secs(120), |l| l.starts_with("Borderlink console: ")) {
            Ok(read) => {
                read.last().and_then(|l| l.strip_prefix("Borderlink console: ")).unwrap_or("").trim().to_owned()
            }
            Err((e, _)) => {
                drop(process);
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                panic!(
                    "the node did not print its address: {e}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
        };
        Self { process: Some(process), lines, url, data: data.to_path_buf() }
    }

    pub(crate) fn genesis(&self) -> PathBuf {
        self.data.join("consortium/genesis.json")
    }

    /// The API URL of the consortium node run by the member whose id starts with `prefix`.
    pub(crate) fn network_node_url(&self, prefix: &str) -> String {
        let g: Value = serde_json::from_slice(&std::fs::read(self.genesis()).expect("genesis")).expect("JSON");
        let nodes = g["nodes"].as_array().expect("the demo consortium lists its nodes");
        let n = nodes
            .iter()
            .find(|n| n["member"].as_str().is_some_and(|m| m.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no node of {prefix}*"));
        n["api_url"].as_str().expect("api_url").to_owned()
    }

    /// The key file of the first member whose id starts with `prefix` (e.g. `gb-customs`).
    pub(crate) fn key(&self, prefix: &str) -> PathBuf {
        let orgs = self.data.join("consortium/orgs");
        let mut ids: Vec<String> = std::fs::read_dir(&orgs)
            .expect("orgs folder")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        ids.sort();
        let id = ids.into_iter().find(|id| id.starts_with(prefix)).unwrap_or_else(|| panic!("no member {prefix}*"));
        orgs.join(id).join("member.key")
    }

    /// `kill -9`.
    pub(crate) fn kill9(&mut self) {
        if let Some(p) = self.process.take() {
            p.kill9();
        }
    }

    /// Ctrl-C, then waits for a clean exit; returns what the node printed after its address.
    pub(crate) fn stop(&mut self) -> Vec<String> {
        let Some(p) = self.process.take() else { return Vec::new() };
        assert_eq!(p.stop("-INT").code(), Some(0), "the node stops cleanly");
        self.lines.rest()
    }
}

/// Twelve free consecutive ports (API and peer port of three nodes and of a fourth one, then
/// the metrics port of each of the four). Tests
/// run in parallel threads of one process: each call takes its own slot (a process-wide
/// counter), in a range of its own per process (10000–19999, below the kernel's ephemeral
/// ports, where an outgoing connection could hold a port a restarted node needs again; the
/// demo picks from 20000 up).
pub(crate) fn free_base_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let region = 10000 + (std::process::id() % 25) * 400;
    for _ in 0..200 {
        let k = NEXT.fetch_add(1, Ordering::Relaxed) % 20;
        let base = (region + k * 20) as u16;
        if (0..12).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no free ports");
}

/// The metrics port of node `i` of a network on ports from `base`.
fn metrics_port(base: u16, i: usize) -> u16 {
    base + 8 + i as u16
}

/// The organisations whose members run the test consortium's ordering nodes: two customs
/// administrations and an agency (`network new --org` values).
pub(crate) const NODE_ORGS: [&str; 3] =
    ["HM Revenue & Customs:customs:GB", "Douane Nederland:customs:NL", "Animal and Plant Health Agency:oga:GB"];

/// An AEO of the test consortium (no ordering node).
pub(crate) const AEO_ORG: &str = "Example Imports Ltd:aeo:GB:GB553202734852";

/// `borderlink network new` in `cdir`, its nodes' ports from `base_port`, with `orgs`.
pub(crate) fn network_new(cdir: &Path, base_port: u16, orgs: &[&str]) -> Output {
    network_new_with(cdir, base_port, orgs, &[])
}

/// `network_new` with further arguments (`--https`).
pub(crate) fn network_new_with(cdir: &Path, base_port: u16, orgs: &[&str], more: &[&str]) -> Output {
    let base = base_port.to_string();
    let mut args = vec!["network", "new", "--dir", s(cdir), "--base-port", &base];
    args.extend(more);
    for org in orgs {
        args.extend(["--org", org]);
    }
    borderlink(&args)
}

/// A consortium of three ordering nodes (two customs administrations and an agency) and an AEO,
/// each node a `borderlink serve --config` process; killed on drop unless stopped.
pub(crate) struct Net {
    pub(crate) dir: TempDir,
    pub(crate) genesis: Genesis,
    /// (member, api url) per node, in node-id order.
    pub(crate) nodes: Vec<(String, String)>,
    processes: Vec<Option<Process>>,
    /// The first customs administration's keys: they sign requests and declarations.
    pub(crate) keys: MemberKeys,
    /// The sample declaration the tests submit copies of.
    template: Value,
    base: u16,
    /// The consortium CA, when the nodes serve HTTPS.
    ca: Option<PathBuf>,
}

impl Net {
    /// `network new`, then each node.toml gets the given extra `[cluster]` settings.
    pub(crate) fn new(tag: &str, extra: &str) -> Self {
        Self::create(tag, extra, false)
    }

    /// A consortium made with `network new --https`: the nodes serve their API over HTTPS.
    pub(crate) fn new_https(tag: &str) -> Self {
        Self::create(tag, "", true)
    }

    fn create(tag: &str, extra: &str, https: bool) -> Self {
        let dir = TempDir::new(tag);
        let cdir = dir.0.join("consortium");
        let base_port = free_base_port();
        let more: &[&str] = if https { &["--https"] } else { &[] };
        let o = network_new_with(&cdir, base_port, &[&NODE_ORGS[..], &[AEO_ORG]].concat(), more);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let genesis = Genesis::load(&cdir.join("genesis.json")).expect("genesis");
        assert_eq!(genesis.nodes.len(), 3, "customs, customs and agency run nodes");
        for (i, n) in genesis.nodes.iter().enumerate() {
            let p = cdir.join("nodes").join(&n.member).join("node.toml");
            let text = std::fs::read_to_string(&p).expect("node.toml");
            let metrics = metrics_port(base_port, i);
            std::fs::write(&p, format!("metrics_listen = \"127.0.0.1:{metrics}\"\n{text}{extra}")).expect("node.toml");
        }
        let nodes = genesis.nodes.iter().map(|n| (n.member.clone(), n.api_url.clone())).collect();
        let keys = MemberKeys::load(&cdir.join("orgs").join(&genesis.nodes[0].member).join("member.key")).expect("key");
        let processes = vec![None, None, None];
        let ca = https.then(|| cdir.join("ca.pem"));
        let mut net = Self { dir, genesis, nodes, processes, keys, template: template(), base: base_port, ca };
        for i in 0..3 {
            net.start(i);
        }
        net
    }

    /// A client of the nodes: over HTTPS trusting the consortium CA when they serve it.
    pub(crate) fn http(&self, timeout: Duration) -> reqwest::blocking::Client {
        match &self.ca {
            Some(ca) => https(timeout, ca),
            None => http(timeout),
        }
    }

    /// The consortium folder.
    pub(crate) fn cdir(&self) -> PathBuf {
        self.dir.0.join("consortium")
    }

    pub(crate) fn node_dir(&self, i: usize) -> PathBuf {
        self.cdir().join("nodes").join(&self.nodes[i].0)
    }

    /// Starts node `i` (`serve --config`) and waits until it answers.
    pub(crate) fn start(&mut self, i: usize) {
        let dir = self.node_dir(i);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("node.log")).expect("log");
        let config = dir.join("node.toml");
        let process = Process::spawn(&format!("node {i}"), &["serve", "--config", s(&config)], |c| {
            c.env("BORDERLINK_LOG", "info,openraft=warn,tower_http=warn")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
        });
        self.processes[i] = Some(process);
        let c = self.http(Duration::from_secs(30));
        self.wait(&format!("node {i} answers"), Duration::from_secs(120), || {
            c.get(format!("{}/healthz", self.nodes[i].1)).send().is_ok_and(|r| r.status().is_success())
        });
    }

    /// Writes a configuration for another node of `member` (Raft id `id`, on the fourth pair of
    /// ports), starts it, and returns its index, peer address and API URL. It joins only once
    /// governance admits it.
    pub(crate) fn start_extra(&mut self, member: &str, id: u64) -> (usize, String, String) {
        let (api, peer) = (self.base + 6, self.base + 7);
        let dir = self.cdir().join("nodes").join(member);
        std::fs::create_dir_all(&dir).expect("node dir");
        let metrics = metrics_port(self.base, 3);
        let text = format!(
            "listen = \"127.0.0.1:{api}\"\nmetrics_listen = \"127.0.0.1:{metrics}\"\ndata_dir = \"data\"\n[ledger]\ngenesis = \"../../genesis.json\"\n\
             key = \"../../orgs/{member}/member.key\"\n[cluster]\nnode_id = {id}\npeer_listen = \"127.0.0.1:{peer}\"\n\
             tls_cert = \"../../orgs/{member}/node.pem\"\ntls_key = \"../../orgs/{member}/node.key\"\n"
        );
        std::fs::write(dir.join("node.toml"), text).expect("node.toml");
        self.nodes.push((member.to_owned(), format!("http://127.0.0.1:{api}")));
        self.processes.push(None);
        let i = self.nodes.len() - 1;
        self.start(i);
        (i, format!("127.0.0.1:{peer}"), format!("http://127.0.0.1:{api}"))
    }

    /// Forgets the last node (stopped): the checks at the end leave it out.
    pub(crate) fn forget_last(&mut self) {
        assert!(!self.running(self.nodes.len() - 1), "stop the node first");
        self.nodes.pop();
        self.processes.pop();
    }

    /// `kill -9`.
    pub(crate) fn kill9(&mut self, i: usize) {
        if let Some(p) = self.processes[i].take() {
            p.kill9();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub(crate) fn stop(&mut self, i: usize) {
        if let Some(p) = self.processes[i].take() {
            let status = p.stop("-TERM");
            assert_eq!(status.code(), Some(0), "node {i} stops cleanly; log:\n{}", self.log_tail(i));
        }
    }

    pub(crate) fn running(&self, i: usize) -> bool {
        self.processes[i].is_some()
    }

    pub(crate) fn log_tail(&self, i: usize) -> String {
        let text = std::fs::read_to_string(self.node_dir(i).join("node.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Polls `ok` until it holds; past the deadline, fails with every node's view and log.
    pub(crate) fn wait(&self, what: &str, limit: Duration, ok: impl FnMut() -> bool) {
        if !poll(limit, ok) {
            let views: Vec<String> = (0..self.nodes.len())
                .map(|i| format!("node {i}: head {:?}\n{:?}\n{}", self.head(i), self.cluster(i), self.log_tail(i)))
                .collect();
            panic!("timed out waiting until {what}\n{}", views.join("\n---\n"));
        }
    }

    /// A signed GET against node `i`.
    pub(crate) fn get(&self, i: usize, path: &str) -> Option<(u16, Value)> {
        signed_get(&self.http(Duration::from_secs(30)), &self.nodes[i].1, &self.keys, path)
    }

    /// Node `i`'s Prometheus metrics, from its metrics listener.
    pub(crate) fn metrics(&self, i: usize) -> Option<String> {
        let url = format!("http://127.0.0.1:{}/metrics", metrics_port(self.base, i));
        let r = http(Duration::from_secs(30)).get(url).send().ok()?;
        r.text().ok()
    }

    /// Node `i`'s view of the Raft group.
    pub(crate) fn cluster(&self, i: usize) -> Option<Value> {
        self.get(i, "/api/v1/cluster").filter(|(s, _)| *s == 200).map(|(_, v)| v)
    }

    /// The leader every running node agrees on.
    pub(crate) fn leader(&self) -> usize {
        let mut found = None;
        self.wait("the running nodes agree on a leader", Duration::from_secs(60), || {
            let views: Vec<Option<u64>> = (0..self.nodes.len())
                .filter(|i| self.running(*i))
                .map(|i| self.cluster(i).and_then(|v| v["leader"].as_u64()))
                .collect();
            let first = views.first().copied().flatten();
            let agreed = first.is_some() && views.iter().all(|v| *v == first);
            let leader_runs = first.is_some_and(|id| self.running(id as usize - 1));
            if agreed && leader_runs {
                found = first;
            }
            agreed && leader_runs
        });
        found.expect("leader") as usize - 1
    }

    /// (height, head hash) of node `i`.
    pub(crate) fn head(&self, i: usize) -> Option<(u64, String)> {
        let (_, v) = self.get(i, "/api/v1/network").filter(|(s, _)| *s == 200)?;
        Some((v["head"]["height"].as_u64().unwrap_or(0), v["head"]["hash"].as_str().unwrap_or("").to_owned()))
    }

    /// Waits until every running node has the same head.
    pub(crate) fn converge(&self) -> (u64, String) {
        let mut head = None;
        self.wait("the running nodes have the same head", Duration::from_secs(120), || {
            let heads: Vec<Option<(u64, String)>> =
                (0..self.nodes.len()).filter(|i| self.running(*i)).map(|i| self.head(i)).collect();
            let same = heads.iter().all(|h| h.is_some() && *h == heads[0]);
            if same {
                head = heads[0].clone();
            }
            same
        });
        head.expect("head")
    }

    /// A declaration with its own LRN, signed by the first customs administration (wire JSON).
    pub(crate) fn declaration(&self, tag: &str, n: u64) -> (String, Vec<u8>) {
        signed_declaration(&self.template, self.genesis.chain_id(), &self.keys, tag, n)
    }

    /// Posts a wire transaction to node `i`: (status, body), or `None` when the node is unreachable.
    pub(crate) fn submit(&self, i: usize, body: &[u8]) -> Option<(u16, Value)> {
        submit(&self.http(Duration::from_secs(30)), &self.nodes[i].1, body)
    }

    /// Sets node `i`'s fault switch (as its operator, in a console session opened with its
    /// console token).
    pub(crate) fn faults(&self, i: usize, body: Value) {
        let token = std::fs::read_to_string(self.node_dir(i).join("data/console.token")).expect("console token");
        // No redirect: the login's answer carries the session cookie.
        let client =
            http_builder(Duration::from_secs(30)).redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let login = client
            .post(format!("{}/login", self.nodes[i].1))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={}", token.trim()))
            .send()
            .expect("login");
        let session = login.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("a session");
        let r = client
            .post(format!("{}/api/v1/cluster/faults", self.nodes[i].1))
            .header("cookie", session)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .expect("faults");
        assert_eq!(r.status().as_u16(), 200, "{:?}", r.text());
    }

    /// `ledger verify` on node `i`'s chain (the node stopped): it must find no problem. Returns
    /// the head (height, hash).
    pub(crate) fn verify(&self, i: usize) -> Option<(u64, Hash)> {
        let data = self.node_dir(i).join("data");
        let o =
            borderlink(&["ledger", "verify", "--data", s(&data), "--genesis", s(&self.cdir().join("genesis.json"))]);
        assert_eq!(o.status.code(), Some(0), "node {i}: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("no problem found"), "{}", stdout(&o));
        let ledger = Ledger::open(&data.join("ledger"), self.genesis.clone(), None).expect("open");
        ledger.head().map(|h| (h.height, h.hash()))
    }

    /// Stops every node, then: every chain passes `ledger verify` and all head hashes match.
    pub(crate) fn finish(mut self) {
        let (height, _) = self.converge();
        for i in 0..self.nodes.len() {
            self.stop(i);
        }
        let heads: BTreeSet<_> = (0..self.nodes.len()).map(|i| self.verify(i)).collect();
        assert!(heads.iter().all(|h| h.map_or(0, |(at, _)| at) == height), "{heads:?} at {height}");
        assert_eq!(heads.len(), 1, "all head hashes match");
    }

    /// Stops every node; every chain passes `ledger verify`; the nodes other than `left_out`
    /// have the same head (the left-out one stopped receiving blocks and is behind).
    pub(crate) fn finish_without(mut self, left_out: usize) {
        let others: Vec<usize> = (0..self.nodes.len()).filter(|i| *i != left_out).collect();
        self.wait("the other nodes have the same head", Duration::from_secs(60), || {
            let heads: Vec<_> = others.iter().map(|i| self.head(*i)).collect();
            heads.iter().all(|h| h.is_some() && *h == heads[0])
        });
        let mut heads = BTreeSet::new();
        for i in 0..self.nodes.len() {
            self.stop(i);
            let head = self.verify(i);
            if i != left_out {
                heads.insert(head.map(|(_, hash)| hash));
            }
        }
        assert_eq!(heads.len(), 1, "the others' head hashes match");
    }
}
