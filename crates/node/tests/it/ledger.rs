//! The ledger through HTTP: signed submissions, authenticated reads, specific refusals, the
//! event stream, metrics and the console pages.

use borderlink_ledger::consortium::{self, OrgSpec};
use borderlink_ledger::identity::{MemberKeys, Role};
use borderlink_ledger::{Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use borderlink_node::{Config, LedgerConfig};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::samples::sample_bytes;
use crate::test_node::client;

pub(crate) struct LedgerNode {
    pub(crate) base: String,
    pub(crate) token: String,
    /// A console session opened with the token (its id).
    pub(crate) session: String,
    /// The node's member id: what requests to it are signed for.
    pub(crate) node_member: String,
    /// Where the node serves its metrics (`metrics_listen`).
    pub(crate) metrics: Option<std::net::SocketAddr>,
    pub(crate) keys: Vec<MemberKeys>,
    pub(crate) chain: borderlink_ledger::Hash,
    /// Every route the node serves, as it reported them.
    pub(crate) routes: Vec<borderlink_node::RouteEntry>,
    _stop: oneshot::Sender<()>,
    /// The serving task: it ends once the node has stopped and closed its databases.
    served: tokio::task::JoinHandle<Result<(), borderlink_node::NodeError>>,
    pub(crate) _dir: tempfile::TempDir,
}

/// A consortium (GB customs, NL customs, a GB AEO) under `dir` and the config of the GB
/// customs node keeping its ledger in `dir/data`.
pub(crate) fn test_consortium(dir: &std::path::Path) -> (consortium::Created, Vec<MemberKeys>, Config) {
    test_consortium_named(dir, "HM Revenue & Customs")
}

/// The test consortium with GB customs named `gb_customs` (its member id made of the name's
/// initials): tests that read process-wide metrics, labelled by member, tell themselves apart.
pub(crate) fn test_consortium_named(
    dir: &std::path::Path,
    gb_customs: &str,
) -> (consortium::Created, Vec<MemberKeys>, Config) {
    let orgs = vec![
        OrgSpec { name: gb_customs.into(), role: Role::Customs, country: "GB".into(), trader_ids: vec![] },
        OrgSpec { name: "Douane Nederland".into(), role: Role::Customs, country: "NL".into(), trader_ids: vec![] },
        OrgSpec {
            name: "Example Imports Ltd".into(),
            role: Role::Aeo,
            country: "GB".into(),
            trader_ids: vec!["GB553202734852".into()],
        },
    ];
    let created = consortium::create(&dir.join("net"), "Test", &orgs, "2026-11-26T00:00:00Z").unwrap();
    let keys: Vec<MemberKeys> = created.key_files.iter().map(|(_, p)| MemberKeys::load(p).unwrap()).collect();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        ledger: Some(LedgerConfig { genesis: created.genesis_path.clone(), key: created.key_files[0].1.clone() }),
        ..Config::default()
    };
    (created, keys, config)
}

pub(crate) async fn start() -> LedgerNode {
    start_configured(|_| {}).await
}

/// Starts GB customs' node with its configuration changed by `change`.
pub(crate) async fn start_configured(change: impl FnOnce(&mut Config)) -> LedgerNode {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, mut config) = test_consortium(dir.path());
    change(&mut config);
    serve_node(config, keys, created.genesis.chain_id(), dir).await
}

/// Two nodes of one test consortium, each keeping its own ledger: GB customs' and NL customs',
/// both configured by `change`.
pub(crate) async fn start_two(change: impl Fn(&mut Config)) -> (LedgerNode, LedgerNode) {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, mut gb) = test_consortium(dir.path());
    let nl_dir = tempfile::tempdir().unwrap();
    let mut nl = gb.clone();
    nl.data_dir = nl_dir.path().join("data");
    nl.ledger = Some(LedgerConfig { genesis: created.genesis_path.clone(), key: created.key_files[1].1.clone() });
    change(&mut gb);
    change(&mut nl);
    let chain = created.genesis.chain_id();
    let nl = serve_node(nl, keys.clone(), chain, nl_dir).await;
    (serve_node(gb, keys, chain, dir).await, nl)
}

/// Binds and serves a node of the test consortium, and opens a console session on it.
pub(crate) async fn serve_node(
    config: Config,
    keys: Vec<MemberKeys>,
    chain: borderlink_ledger::Hash,
    dir: tempfile::TempDir,
) -> LedgerNode {
    let node = borderlink_node::bind(config).await.unwrap();
    let base = format!("http://{}", node.local_addr());
    let token = node.console_token().unwrap();
    let metrics = node.metrics_addr();
    let node_member = node.ledger().and_then(|l| l.ledger().local_member()).expect("a member node").to_owned();
    let routes = node.routes().to_vec();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(node.serve(async move {
        let _ = stopped.await;
    }));
    let session = login(&base, &token).await.expect("the console token opens a session");
    LedgerNode { base, token, session, node_member, metrics, keys, chain, routes, _stop: stop, served, _dir: dir }
}

/// `POST /login` with `token`: the session id of the cookie set, if the token opened one.
pub(crate) async fn login(base: &str, token: &str) -> Option<String> {
    let r = no_redirect()
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    let cookie = r.headers().get("set-cookie")?.to_str().unwrap();
    cookie.split(';').next()?.strip_prefix("borderlink_session=").map(str::to_owned)
}

/// `POST /login` with an account's credentials: the session id, or the refusal's status and page.
pub(crate) async fn login_person(
    base: &str,
    username: &str,
    password: &str,
    code: Option<&str>,
) -> Result<String, (u16, String)> {
    let form = [("username", username), ("password", password), ("code", code.unwrap_or(""))];
    let r = no_redirect()
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&form))
        .send()
        .await
        .unwrap();
    let cookie = r.headers().get("set-cookie").and_then(|c| c.to_str().ok()).map(str::to_owned);
    match cookie.as_deref().and_then(|c| c.split(';').next()).and_then(|c| c.strip_prefix("borderlink_session=")) {
        Some(id) if r.status() == 303 => Ok(id.to_owned()),
        _ => Err((r.status().as_u16(), r.text().await.unwrap_or_default())),
    }
}

/// An `application/x-www-form-urlencoded` body.
pub(crate) fn form_body(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => char::from(b).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// The CSRF token the console's forms carry for the session `cookie` (read from a page).
pub(crate) async fn csrf_of(base: &str, cookie: &str) -> String {
    let page =
        no_redirect().get(format!("{base}/")).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
    let at = page.find(r#"name="csrf" value=""#).expect("a form with the CSRF token") + r#"name="csrf" value=""#.len();
    page[at..].split('"').next().unwrap().to_owned()
}

/// An HTTP client that shows redirects instead of following them (built as every test client is,
/// with the process's crypto provider installed first: a test that runs first must not panic).
pub(crate) fn no_redirect() -> reqwest::Client {
    crate::test_node::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

impl LedgerNode {
    /// Stops the node, waits until it has closed its databases, and hands back its folder.
    pub(crate) async fn stop(self) -> tempfile::TempDir {
        let _ = self._stop.send(());
        self.served.await.expect("the node's task").expect("the node stops cleanly");
        self._dir
    }

    ///
    /// `key` is the record's business key (a declaration's LRN, an authorisation's number…),
    /// written into the sample; the record id is the one the ledger derives from it.
    pub(crate) fn put(&self, signer: usize, file: &str, key: &str, version: u64, nonce: u64) -> Transaction {
        let payload = keyed(&sample_bytes(file), key);
        let record = validate(&payload, &ValidateOptions::default()).record.unwrap();
        let id = borderlink_ledger::meta::record_id(&record, &self.keys[signer].member).unwrap();
        self.put_bytes(signer, payload, &id, version, nonce)
    }

    /// The ledger id of a record (`payload`) created by member `signer`.
    pub(crate) fn id_of(&self, signer: usize, payload: &[u8]) -> String {
        let record = validate(payload, &ValidateOptions::default()).record.unwrap();
        borderlink_ledger::meta::record_id(&record, &self.keys[signer].member).unwrap()
    }

    /// A signed transaction that puts `payload` (a record that is not a declaration) as version 1
    /// of `id`, private to the members `recipients`.
    pub(crate) fn private_put(
        &self,
        signer: usize,
        payload: Vec<u8>,
        id: &str,
        recipients: &[usize],
        nonce: u64,
    ) -> Transaction {
        let record = validate(&payload, &ValidateOptions::default()).record.unwrap();
        let rcpt: Vec<(String, x25519_dalek::PublicKey)> = recipients
            .iter()
            .map(|&i| (self.keys[i].member.clone(), x25519_dalek::PublicKey::from(&self.keys[i].encryption)))
            .collect();
        let (header, ciphertext, wrapped) = borderlink_ledger::private::seal(&payload, id, &rcpt).unwrap();
        let k = &self.keys[signer];
        let body = borderlink_ledger::tx::TxBody {
            chain: self.chain,
            kind: borderlink_ledger::tx::TxKind::Put,
            record_type: record.record_type().name().into(),
            record_id: id.into(),
            version: 1,
            meta: borderlink_ledger::meta::derive(&record),
            payload_kind: borderlink_ledger::tx::PayloadKind::Private,
            payload_digest: borderlink_ledger::Hash::of(&ciphertext),
            payload_len: ciphertext.len() as u64,
            media_type: "application/json".into(),
            private: Some(header),
            submitter: k.member.clone(),
            nonce,
            timestamp_ms: 1,
            endorsement: None,
        };
        Transaction::sign(body, ciphertext, wrapped, k)
    }

    /// A signed transaction that puts `payload` (a record) as version `version` of `id`.
    pub(crate) fn put_bytes(&self, signer: usize, payload: Vec<u8>, id: &str, version: u64, nonce: u64) -> Transaction {
        let record = validate(&payload, &ValidateOptions::default()).record.unwrap();
        let k = &self.keys[signer];
        let body = clear_put_body(self.chain, &record, id, version, &payload, &k.member, nonce, 1);
        Transaction::sign(body, payload, vec![], k)
    }

    /// `POST path` with a JSON `body`, signed by member `signer`.
    pub(crate) async fn post_signed(&self, signer: usize, path: &str, body: Vec<u8>) -> reqwest::Response {
        let auth = self.auth(signer, "POST", path, &body);
        client()
            .post(format!("{}{path}", self.base))
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn post(&self, tx: &Transaction) -> (u16, Value) {
        let r = client().post(format!("{}/api/v1/transactions", self.base)).json(&tx.to_wire()).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// The console session's cookie header value.
    pub(crate) fn cookie(&self) -> String {
        format!("borderlink_session={}", self.session)
    }

    /// The node's member id: what requests to it are signed for.
    pub(crate) fn member(&self) -> &str {
        &self.node_member
    }

    /// The `Authorization` header of a request to this node by member `signer`, signed now.
    pub(crate) fn auth(&self, signer: usize, method: &str, path: &str, body: &[u8]) -> String {
        auth_for(&self.keys[signer], self.member(), method, path, body)
    }

    /// Waits until the risk queue holds `n` assessments (committed declarations are scored by
    /// the node's projection, just after the commit) and returns it.
    pub(crate) async fn queue_of(&self, n: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let r = client().get(format!("{}/api/v1/risk/queue?limit=1000", self.base)).header("cookie", self.cookie());
            let q: Value = r.send().await.unwrap().json().await.unwrap();
            let q = q.as_array().cloned().unwrap_or_default();
            if q.len() >= n {
                return q;
            }
            assert!(tokio::time::Instant::now() < deadline, "the queue holds {} of {n} assessments", q.len());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Adds an account through `POST /api/v1/users`, signed by the node's own member.
    pub(crate) async fn add_user(&self, username: &str, roles: &[&str], password: &str, totp: bool) -> (u16, Value) {
        let body = serde_json::to_vec(
            &serde_json::json!({"username": username, "roles": roles, "password": password, "totp": totp}),
        )
        .unwrap();
        let r = self.post_signed(0, "/api/v1/users", body).await;
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A GET signed by member `signer`, declaring the purpose `clearance` (the read policy and
    /// the audit of purposes are tested in `purposes.rs`, which declares its own).
    pub(crate) async fn get_signed(&self, signer: usize, path: &str) -> (u16, Value) {
        let auth = self.auth(signer, "GET", path, b"");
        let r = client()
            .get(format!("{}{path}", self.base))
            .header("authorization", auth)
            .header("borderlink-purpose", "clearance")
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

/// The `Authorization` header of a request by `keys` to the node of member `node`, signed now.
pub(crate) fn auth_for(keys: &MemberKeys, node: &str, method: &str, path: &str, body: &[u8]) -> String {
    let target = borderlink_ledger::auth::Target::new(node, method, path, body);
    borderlink_ledger::auth::authorization(keys, &target, borderlink_node::ordering::now_ms())
}

#[tokio::test]
async fn submissions_are_committed_and_read_back_by_authenticated_members() {
    let n = start().await;
    let (status, body) = n.post(&n.put(2, "declaration.json", "LRN-2026-000123", 1, 1)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["height"], 1);
    let (status, body) = n.get_signed(1, "/api/v1/records/declaration:GB553202734852:LRN-2026-000123").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["payload"]["Declaration"]["FunctionalReferenceID"], "LRN-2026-000123");
    let (status, body) = n.get_signed(0, "/api/v1/records?type=declaration&limit=10").await;
    assert_eq!(status, 200);
    assert_eq!(body["records"].as_array().unwrap().len(), 1);
    let (status, proof) = n.get_signed(0, "/api/v1/proofs/declaration:GB553202734852:LRN-2026-000123").await;
    assert_eq!(status, 200);
    let genesis = borderlink_ledger::genesis::Genesis::load(&n._dir.path().join("net/genesis.json")).unwrap();
    let proof: borderlink_ledger::proof::Proof = serde_json::from_value(proof).unwrap();
    assert_eq!(proof.verify(&genesis).unwrap().record_id, "declaration:GB553202734852:LRN-2026-000123");
    let (status, block) = n.get_signed(0, "/api/v1/blocks/1").await;
    assert_eq!(status, 200);
    assert_eq!(block["transactions"][0]["outcome"]["status"], "valid");
}

#[tokio::test]
async fn reads_without_a_valid_member_signature_are_refused() {
    let n = start().await;
    let r = client().get(format!("{}/api/v1/records", n.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
    // A signature over another path does not open this one.
    let auth = n.auth(0, "GET", "/api/v1/network", b"");
    let r = client().get(format!("{}/api/v1/records", n.base)).header("authorization", auth).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn refused_transactions_get_their_codes_and_are_counted() {
    let n = start_configured(|c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    // NL customs may not write a GB declaration.
    let (status, body) = n.post(&n.put(1, "declaration.json", "LRN-X", 1, 10)).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (403, "policy_denied"), "{body}");
    let tx = n.put(2, "declaration.json", "LRN-Y", 1, 11);
    let (status, first) = n.post(&tx).await;
    assert_eq!(status, 201);
    // Submitting it again (a client retrying) answers with the first receipt: committed once.
    let (status, again) = n.post(&tx).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!((&again["tx_id"], &again["height"]), (&first["tx_id"], &first["height"]));
    let (status, body) = n.post(&n.put(2, "declaration.json", "LRN-Y", 1, 12)).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (409, "stale_version"));
    let mut bad = n.put(2, "declaration.json", "LRN-Z", 1, 13);
    bad.signature[3] ^= 1;
    let (status, body) = n.post(&bad).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (401, "bad_signature"));
    let r = client().post(format!("{}/api/v1/transactions", n.base)).body("{\"body\": 5}").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let metrics_url = format!("http://{}/metrics", n.metrics.expect("a metrics listener"));
    let metrics = client().get(metrics_url).send().await.unwrap().text().await.unwrap();
    let node = format!("node=\"{}\"", n.member());
    assert!(
        metrics.lines().any(|l| l.starts_with("borderlink_ledger_transactions_rejected_total{")
            && l.contains("reason=\"policy_denied\"")
            && l.contains(&node)),
        "{metrics}"
    );
    // Nothing refused was stored.
    assert_eq!(n.get_signed(0, "/api/v1/records/declaration:GB553202734852:LRN-X").await.0, 404);
    assert_eq!(n.get_signed(0, "/api/v1/records/declaration:GB553202734852:LRN-Z").await.0, 404);
}

#[tokio::test]
async fn committed_blocks_stream_as_server_sent_events() {
    let n = start().await;
    let auth = n.auth(0, "GET", "/api/v1/events", b"");
    let mut r = client().get(format!("{}/api/v1/events", n.base)).header("authorization", auth).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(n.post(&n.put(0, "aeo-authorisation.json", "AEO-1", 1, 20)).await.0, 201);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !seen.contains("AEO-1") {
        let chunk =
            tokio::time::timeout_at(deadline, r.chunk()).await.expect("an event before the deadline").unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: block"), "{seen}");
}

#[tokio::test]
async fn console_pages_need_the_session_and_show_the_ledger() {
    let n = start().await;
    assert_eq!(n.post(&n.put(0, "aeo-authorisation.json", "GB AEOC 14274/19", 1, 30)).await.0, 201);
    let no_redirect = crate::test_node::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirect.get(format!("{}/ledger", n.base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let r = no_redirect.get(format!("{}/login?token=wrong", n.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = no_redirect.get(format!("{}/login?token={}", n.base, n.token)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    let page = |path: String| {
        let c = no_redirect.clone();
        let cookie = cookie.clone();
        async move { c.get(path).header("cookie", cookie).send().await.unwrap().text().await.unwrap() }
    };
    let explorer = page(format!("{}/ledger", n.base)).await;
    assert!(explorer.contains("aeo-authorization%3AGB%3AGB%20AEOC%2014274%2F19"), "record linked");
    let aeo = page(format!("{}/aeo", n.base)).await;
    assert!(aeo.contains("Example Imports Ltd") && aeo.contains("ACTIVE"), "{aeo}");
    let history = page(format!("{}/ledger/records/aeo-authorization%3AGB%3AGB%20AEOC%2014274%2F19", n.base)).await;
    assert!(history.contains("id=\"history\"") && history.contains(&n.keys[0].member), "{history}");
    let block = page(format!("{}/ledger/blocks/1", n.base)).await;
    assert!(block.contains("id=\"transactions\"") && block.contains("valid"));
    // The session also opens the API (the console's proof download link).
    let r = no_redirect
        .get(format!("{}/api/v1/proofs/aeo-authorization%3AGB%3AGB%20AEOC%2014274%2F19", n.base))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn large_objects_go_off_chain_and_the_ledger_holds_their_hash() {
    use borderlink_ledger::tx::{PayloadKind, TxBody, TxKind};
    let n = start().await;
    // A 3 MiB object: over the 1 MiB on-ledger payload limit, fine off-chain.
    let object: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let path = "/api/v1/blobs";
    let auth = n.auth(0, "PUT", path, &object);
    let r = client()
        .put(format!("{}{path}", n.base))
        .header("authorization", auth)
        .body(object.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reply: Value = r.json().await.unwrap();
    let hash = borderlink_ledger::Hash::of(&object);
    assert_eq!(reply["sha256"], hash.to_hex());
    let k = &n.keys[0];
    let body = TxBody {
        chain: n.chain,
        kind: TxKind::Put,
        record_type: "document".into(),
        record_id: format!("document:{}:SCAN-GBFXT-0001", k.member),
        version: 1,
        meta: borderlink_ledger::tx::RecordMeta { country: "GB".into(), ..Default::default() },
        payload_kind: PayloadKind::OffChain,
        payload_digest: hash,
        payload_len: object.len() as u64,
        media_type: "image/tiff".into(),
        private: None,
        submitter: k.member.clone(),
        nonce: 40,
        timestamp_ms: 1,
        endorsement: None,
    };
    let (status, body) = n.post(&Transaction::sign(body, vec![], vec![], k)).await;
    assert_eq!(status, 201, "{body}");
    let (status, rec) = n.get_signed(1, &format!("/api/v1/records/document:{}:SCAN-GBFXT-0001", k.member)).await;
    assert_eq!(status, 200);
    assert_eq!(rec["payload_digest"], hash.to_hex());
    let p = format!("/api/v1/blobs/{}", hash.to_hex());
    let auth = n.auth(1, "GET", &p, b"");
    let fetched = client()
        .get(format!("{}{p}", n.base))
        .header("authorization", auth)
        .header("borderlink-purpose", "clearance")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(borderlink_ledger::Hash::of(&fetched), hash, "the object fetched matches the ledger's hash");
}

#[tokio::test]
async fn risk_data_is_read_by_customs_administrations_only() {
    let n = start().await;
    for path in ["/api/v1/risk/queue", "/api/v1/risk/criteria", "/api/v1/risk/training-set"] {
        let r = client().get(format!("{}{path}", n.base)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without a signature");
        let (status, _) = n.get_signed(1, path).await;
        assert_eq!(status, 200, "{path} with a customs administration's signature");
        let (status, body) = n.get_signed(2, path).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{path} signed by a trader: {body}");
    }
    let r = client()
        .post(format!("{}/api/v1/risk/score", n.base))
        .body(sample_bytes("declaration.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "what-if scoring is for customs");
}

#[tokio::test]
async fn an_officers_override_is_recorded_on_disk_with_its_reason() {
    let n = start().await;
    // A committed declaration is scored by the node; an officer overrules its lane in the console session.
    let (status, _) = n.post(&n.put(2, "declaration.json", "LRN-2026-000123", 1, 1)).await;
    assert_eq!(status, 201);
    let assessment = n.queue_of(1).await.remove(0);
    let id = assessment["declarationId"].as_str().expect("an assessment with its declaration id").to_owned();
    let lane = if assessment["lane"] == "RED" { "GREEN" } else { "RED" };
    let req = serde_json::json!({"declarationId": id, "lane": lane, "reason": "Intelligence report 2026/117 on this consignee", "officer": "officer-42"});
    let r = client()
        .post(format!("{}/api/v1/risk/overrides", n.base))
        .header("cookie", n.cookie())
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let log =
        std::fs::read_to_string(n._dir.path().join("data/risk/overrides.jsonl")).expect("the override is on disk");
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["declarationId"], id.as_str());
    assert_eq!(last["reason"], "Intelligence report 2026/117 on this consignee");
    assert_eq!(last["officer"], "officer-42");
}

#[tokio::test]
async fn after_a_restart_the_risk_queue_and_overrides_are_rebuilt_from_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, config) = test_consortium(dir.path());
    let run = |config: Config| async move {
        let node = borderlink_node::bind(config).await.unwrap();
        let base = format!("http://{}", node.local_addr());
        let token = node.console_token().unwrap().to_owned();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(node.serve(async move {
            let _ = stopped.await;
        }));
        (base, token, stop, task)
    };
    let signed_get = |base: String, k: MemberKeys, path: &'static str| async move {
        // GB customs' node, read by GB customs.
        let auth = auth_for(&k, &k.member, "GET", path, b"");
        let r = client().get(format!("{base}{path}")).header("authorization", auth).send().await.unwrap();
        r.json::<Value>().await.unwrap()
    };
    // First life: a committed declaration is scored automatically; an officer overrules it.
    let (base, token, stop, task) = run(config.clone()).await;
    let payload = sample_bytes("declaration.json");
    let record = validate(&payload, &ValidateOptions::default()).record.unwrap();
    let id = borderlink_ledger::meta::record_id(&record, &keys[2].member).unwrap();
    let body = clear_put_body(created.genesis.chain_id(), &record, &id, 1, &payload, &keys[2].member, 1, 1);
    let tx = Transaction::sign(body, payload, vec![], &keys[2]);
    let r = client().post(format!("{base}/api/v1/transactions")).json(&tx.to_wire()).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let queued = loop {
        let q = signed_get(base.clone(), keys[0].clone(), "/api/v1/risk/queue").await;
        if let Some(a) = q.as_array().and_then(|a| a.first()).cloned() {
            break a;
        }
        assert!(tokio::time::Instant::now() < deadline, "the committed declaration was never scored");
        tokio::task::yield_now().await;
    };
    let lane = if queued["lane"] == "RED" { "GREEN" } else { "RED" };
    let req = serde_json::json!({"declarationId": queued["declarationId"], "lane": lane, "reason": "Post-clearance audit requested by the AEO team", "officer": "officer-7"});
    let r = client()
        .post(format!("{base}/api/v1/risk/overrides"))
        .header("cookie", format!("borderlink_session={}", login(&base, &token).await.expect("a session")))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    // Second life on the same data: the queue holds the declaration again, with the override.
    let (base, _token, stop, task) = run(config).await;
    let q = signed_get(base, keys[0].clone(), "/api/v1/risk/queue").await;
    let a = &q.as_array().expect("a queue")[0];
    assert_eq!(a["declarationId"], queued["declarationId"]);
    assert_eq!(a["overridden"]["to"], lane);
    assert_eq!(a["overridden"]["officer"], "officer-7");
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn the_ledger_database_and_the_override_log_are_private_to_the_node_user() {
    use std::os::unix::fs::PermissionsExt;
    let n = start().await;
    let (status, _) = n.post(&n.put(2, "declaration.json", "LRN-2026-000123", 1, 1)).await;
    assert_eq!(status, 201);
    let id = n.queue_of(1).await[0]["declarationId"].as_str().unwrap().to_owned();
    let req = serde_json::json!({"declarationId": id, "lane": "RED", "reason": "Intelligence report 2026/117", "officer": "o-1"});
    let r = client().post(format!("{}/api/v1/risk/overrides", n.base)).header("cookie", n.cookie()).json(&req);
    let _ = r.send().await.unwrap();
    for file in ["data/ledger/ledger.redb", "data/risk/overrides.jsonl", "data/console.token"] {
        let mode = std::fs::metadata(n._dir.path().join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
}

/// A sample record with its business key set to `key`: the LRN of a declaration, the number of
/// an AEO authorisation, the MRN of an inspected declaration, the reference of a movement.
pub(crate) fn keyed(sample: &[u8], key: &str) -> Vec<u8> {
    let mut d: Value = serde_json::from_slice(sample).unwrap();
    let k = Value::String(key.to_owned());
    if d.get("AuthorisationHolder").is_some() {
        d["AdditionalDocument"]["ID"] = k;
    } else if d.get("Inspection").is_some() {
        d["Declaration"]["ID"] = k;
    } else if d.get("Declaration").is_some() {
        d["Declaration"]["FunctionalReferenceID"] = k;
    } else {
        d["Consignment"]["ext"]["movementReference"] = k;
    }
    serde_json::to_vec(&d).unwrap()
}
