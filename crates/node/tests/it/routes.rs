//! The route table against the OpenAPI document, and every guarded route against callers it
//! must refuse — walked from what the node reports it serves and what it documents, so that a
//! route added later is checked without touching these tests.

use std::collections::BTreeMap;

use borderlink_access::Role;
use borderlink_ledger::identity::MemberKeys;
use reqwest::Method;
use serde_json::Value;

use crate::ledger::{LedgerNode, start, test_consortium};
use crate::test_node::client;

const METHODS: [&str; 6] = ["get", "put", "post", "delete", "patch", "options"];

/// A concrete path for a path pattern: every `{param}` replaced by a harmless value.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|seg| match seg {
            "{height}" => "1",
            s if s.starts_with('{') => "no-such-thing",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn openapi(n: &LedgerNode) -> Value {
    let r = client().get(format!("{}/api/openapi.json", n.base)).send().await.expect("GET openapi.json");
    assert_eq!(r.status(), 200);
    r.json().await.expect("JSON")
}

/// Documented operations: (path, METHOD) → operation.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.insert((path.clone(), m.to_uppercase()), op.clone());
            }
        }
    }
    out
}

/// Whether an operation needs a principal: any security requirement that is not the empty one.
fn guarded(op: &Value) -> bool {
    let security = op["security"].as_array().expect("every operation states its security requirement");
    !security.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty()))
}

async fn send(n: &LedgerNode, method: &str, path: &str, auth: Option<String>) -> (u16, Value) {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client().request(method.clone(), format!("{}{path}", n.base));
    if method == Method::POST || method == Method::PUT {
        req = req.body("{}");
    }
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let stream = r.headers().get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if stream {
        // An event stream never ends: its answer is its status.
        return (status, Value::Null);
    }
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A request to GB customs' node (the test node) by `keys`, signed at `ts`.
fn signed(n: &LedgerNode, keys: &MemberKeys, method: &str, path: &str, ts: i64) -> String {
    let body: &[u8] = if method == "POST" || method == "PUT" { b"{}" } else { b"" };
    let target = borderlink_ledger::auth::Target::new(n.member(), method, path, body);
    borderlink_ledger::auth::authorization(keys, &target, ts)
}

/// The problem details (RFC 7807) every error under `/epcis` is, with the node's code kept.
fn assert_problem(body: &Value, context: &str) {
    assert!(
        body["type"].as_str().is_some_and(|t| t.starts_with("epcisException:") || t == "about:blank")
            && body["title"].is_string()
            && body["status"].is_u64()
            && body["detail"].is_string()
            && body["code"].is_string(),
        "{context}: not EPCIS problem details: {body}"
    );
}

fn assert_error_body(body: &Value, context: &str) {
    assert!(body["code"].is_string() && body["type"].is_string() && body["message"].is_string(), "{context}: {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(3), "{context}: only code, type and message: {body}");
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let n = start().await;
    let doc = openapi(&n).await;
    let documented = operations(&doc);
    let mut served = BTreeMap::new();
    for r in &n.routes {
        if r.api {
            for m in &r.methods {
                assert!(
                    documented.contains_key(&(r.path.clone(), m.clone())),
                    "{m} {} ({}) is served but not in /api/openapi.json",
                    r.path,
                    r.capability
                );
                served.insert((r.path.clone(), m.clone()), r.capability);
            }
        } else {
            assert!(
                r.path == "/api" || !r.path.starts_with("/api/"),
                "console route {} sits under /api/, where only documented routes belong",
                r.path
            );
        }
    }
    // The ledger API is documented too (it once was not).
    for path in ["/api/v1/transactions", "/api/v1/records/{id}", "/api/v1/blocks/{height}", "/api/v1/proofs/{id}"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    let console_pages: Vec<&str> = n.routes.iter().filter(|r| !r.api).map(|r| r.path.as_str()).collect();
    assert!(console_pages.contains(&"/api") && console_pages.contains(&"/risk"), "{console_pages:?}");
    let member = &n.keys[0];
    for ((path, method), op) in &documented {
        assert!(served.contains_key(&(path.clone(), method.clone())), "{method} {path} is documented but not served");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
        // Served for real: the router answers neither "no route" nor "wrong method".
        let p = concrete(path);
        let (status, body) = send(&n, method, &p, Some(signed(&n, member, method, &p, now()))).await;
        assert!(
            body["code"] != "route_not_found" && body["code"] != "method_not_allowed" && status != 405,
            "{method} {path} → {status} {body}"
        );
        // Methods the document does not list are refused as such.
        for other in METHODS.map(str::to_uppercase) {
            if !documented.contains_key(&(path.clone(), other.clone())) {
                let (status, body) = send(&n, &other, &p, None).await;
                assert_eq!(status, 405, "{other} {path} is not documented, yet answered {body}");
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.iter().any(|r| r == "#/components/schemas/Report"));
    for r in refs {
        assert!(doc.pointer(r.trim_start_matches('#')).is_some(), "dangling $ref {r}");
    }
    for scheme in ["member_signature", "console_session"] {
        assert!(doc["components"]["securitySchemes"].get(scheme).is_some(), "{scheme} is not described");
    }
}

fn now() -> i64 {
    borderlink_node::ordering::now_ms()
}

#[tokio::test]
async fn every_guarded_route_refuses_anonymous_foreign_and_stale_callers() {
    let n = start().await;
    let doc = openapi(&n).await;
    // Keys of another consortium: the same member ids with other keys, and an id no one has.
    let other = tempfile::tempdir().expect("temporary directory");
    let (_, foreign, _) = test_consortium(other.path());
    let impostor = foreign[0].clone();
    let mut stranger = foreign[1].clone();
    stranger.member = "not-a-member".into();
    let mut checked = 0;
    for ((path, method), op) in operations(&doc) {
        let public = !guarded(&op);
        let permission = op["x-borderlink-permission"].as_str().unwrap_or_default().to_owned();
        assert_eq!(public, permission == "public", "{method} {path}: security and permission disagree");
        if public {
            continue;
        }
        for code in ["401", "403"] {
            assert!(op["responses"].get(code).is_some(), "{method} {path} does not document {code}");
        }
        let p = concrete(&path);
        let callers = [
            ("anonymous", None),
            ("a key that is not the member's", Some(signed(&n, &impostor, &method, &p, now()))),
            ("a member id that does not exist", Some(signed(&n, &stranger, &method, &p, now()))),
            ("a stale signature", Some(signed(&n, &n.keys[0], &method, &p, now() - 3_600_000))),
        ];
        for (who, auth) in callers {
            let (status, body) = send(&n, &method, &p, auth).await;
            assert!(status == 401 || status == 403, "{method} {path} answered {status} to {who}: {body}");
            if path.starts_with("/epcis") {
                assert_problem(&body, &format!("{method} {path}, {who}"));
            } else {
                assert_error_body(&body, &format!("{method} {path}, {who}"));
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} guarded operations were found");
}

#[tokio::test]
async fn the_submission_route_is_guarded_by_the_transactions_own_signature() {
    let n = start().await;
    let other = tempfile::tempdir().expect("temporary directory");
    let (_, foreign, _) = test_consortium(other.path());
    // A transaction signed by a key that is not the submitter's registered key.
    let mut tx = n.put(2, "declaration.json", "LRN-2026-000123", 1, 1);
    tx.signature = foreign[2].sign(&tx.body_bytes);
    let (status, body) = n.post(&tx).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("bad_signature")), "{body}");
}

/// Who tries each route in the role × route matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    /// The node's own member (GB customs), by signed request.
    OwnMember,
    /// Another customs administration (NL), by signed request.
    CustomsMember,
    /// A trader (the GB AEO), by signed request.
    TraderMember,
    /// The bootstrap operator (console token session).
    Operator,
    /// A person of the node's organisation with one role (console session).
    Person(Role),
}

/// The expected matrix, written here on purpose rather than read from the node: a route whose
/// permission changes, or a permission whose holders change, fails this test until it is
/// updated consciously. `permission` is the route's `x-borderlink-permission` (API) or the
/// console table's entry below.
fn expected(permission: &str, caller: Caller) -> bool {
    use Caller::*;
    use Role::*;
    match (permission, caller) {
        ("public", _) => true,
        (_, Anonymous) => false,
        ("read-ledger", _) => true,
        ("store-blobs", Person(r)) => matches!(r, Officer | RiskOfficer),
        ("store-blobs", _) => true,
        ("read-risk", TraderMember) => false,
        ("read-risk", Person(r)) => matches!(r, Officer | Analyst | RiskOfficer | Auditor),
        ("read-risk", _) => true,
        // Data quality: the customs roles and administrators, never a trader (who would read
        // other traders' volumes and failures).
        ("read-quality", TraderMember) => false,
        ("read-quality", Person(r)) => matches!(r, Officer | Analyst | RiskOfficer | Auditor | Administrator),
        ("read-quality", _) => true,
        ("change-risk", Operator) => true,
        ("change-risk", Person(r)) => matches!(r, Officer | RiskOfficer),
        ("change-risk", _) => false,
        // Mutual recognition: customs administrations only (which AEOs, the agreements and the
        // AEOs' consent decide in the handler); a person of the (customs) node by role.
        ("mra-exchange", TraderMember) => false,
        ("mra-exchange", Person(r)) => matches!(r, Officer | Analyst | RiskOfficer),
        ("mra-exchange", _) => true,
        ("operate-node" | "manage-users", OwnMember | Operator | Person(Administrator)) => true,
        ("operate-node" | "manage-users", _) => false,
        ("read-audit", OwnMember | Operator | Person(Auditor | Administrator)) => true,
        ("read-audit", _) => false,
        // IoT traceability: the customs roles and administrators read it, never a trader (who
        // would see other traders' goods move); devices are registered at their owner's node.
        ("read-iot", TraderMember) => false,
        ("read-iot", Person(r)) => matches!(r, Officer | Analyst | RiskOfficer | Auditor | Administrator),
        ("read-iot", _) => true,
        ("manage-devices", OwnMember | Operator | Person(Officer | Administrator)) => true,
        ("manage-devices", _) => false,
        // Alerts are acknowledged at the acknowledging administration's own node (signed by it).
        ("acknowledge-alerts", OwnMember | Operator | Person(Officer | RiskOfficer)) => true,
        ("acknowledge-alerts", _) => false,
        // EPCIS capture: every member reports events (traders move the goods), and at the node
        // its officers and trader users; reading them back is read-iot's.
        ("capture-events", Person(r)) => matches!(r, Officer | TraderUser),
        ("capture-events", _) => true,
        // A device's own message: no member, person or operator can send one (they have no
        // device key); the route refuses them all for want of the device's headers.
        ("device-signature", _) => false,
        (other, _) => panic!("permission {other} is not in the test's matrix: add it consciously"),
    }
}

/// Every console page and the permission it needs (`None`: a form target that takes POST only).
const CONSOLE: &[(&str, Option<&str>)] = &[
    ("/", Some("public")),
    ("/validate", Some("public")),
    ("/schemas", Some("public")),
    ("/data-quality", Some("read-quality")),
    ("/api", Some("public")),
    ("/assets/{*path}", Some("public")),
    ("/favicon.svg", Some("public")),
    ("/favicon.ico", Some("public")),
    ("/login", Some("public")),
    ("/ledger", Some("read-ledger")),
    ("/ledger/blocks/{height}", Some("read-ledger")),
    ("/ledger/records/{id}", Some("read-ledger")),
    ("/ledger/records/{id}/diff", Some("read-ledger")),
    ("/search", Some("read-ledger")),
    ("/aeo", Some("read-ledger")),
    ("/network", Some("read-ledger")),
    ("/risk", Some("read-risk")),
    ("/risk/criteria", Some("read-risk")),
    ("/risk/queue.csv", Some("read-risk")),
    ("/risk/criteria/new", Some("change-risk")),
    ("/risk/criteria/{id}", Some("read-risk")),
    ("/risk/model", Some("read-risk")),
    ("/risk/model/report", Some("read-risk")),
    ("/iot", Some("read-iot")),
    ("/iot/trips/{id}", Some("read-iot")),
    ("/iot/alerts", Some("read-iot")),
    ("/iot/devices", Some("read-iot")),
    ("/admin/users", Some("manage-users")),
    ("/audit", Some("read-audit")),
    ("/logout", None),
    ("/session/purpose", None),
    ("/risk/override", None),
    ("/risk/criteria/{id}/retire", None),
    ("/risk/model/activate", None),
    ("/iot/alerts/{id}/acknowledge", None),
    ("/admin/users/{username}/disable", None),
    ("/admin/users/{username}/password", None),
];

const MATRIX_PASSWORD: &str = "matrix password 2026";

/// The request of `caller`, with what authenticates it.
struct Callers {
    sessions: BTreeMap<String, String>,
    operator_token: String,
}

impl Callers {
    fn name(caller: Caller) -> String {
        match caller {
            Caller::Person(r) => format!("person:{}", r.name()),
            other => format!("{other:?}"),
        }
    }

    async fn login(&mut self, n: &LedgerNode, caller: Caller) {
        let session = match caller {
            Caller::Person(r) => {
                crate::ledger::login_person(&n.base, &format!("m.{}", r.name()), MATRIX_PASSWORD, None)
                    .await
                    .expect("the matrix account logs in")
            }
            Caller::Operator => {
                crate::ledger::login(&n.base, &self.operator_token).await.expect("the operator logs in")
            }
            _ => return,
        };
        self.sessions.insert(Self::name(caller), session);
    }

    async fn send(&self, n: &LedgerNode, caller: Caller, method: &str, path: &str) -> (u16, Value) {
        let signer = match caller {
            Caller::OwnMember => Some(0),
            Caller::CustomsMember => Some(1),
            Caller::TraderMember => Some(2),
            _ => None,
        };
        let auth = signer.map(|i| signed(n, &n.keys[i], method, path, now()));
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = crate::ledger::no_redirect().request(m.clone(), format!("{}{path}", n.base));
        if m == Method::POST || m == Method::PUT {
            req = req.header("content-type", "application/json").body("{}");
        }
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        // Reads of content declare a purpose; what the read policy allows for it is tested in
        // `purposes.rs`: here, the route's guard.
        req = req.header("borderlink-purpose", "clearance");
        if let Some(s) = self.sessions.get(&Self::name(caller)) {
            req = req.header("cookie", format!("borderlink_session={s}"));
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
        if r.headers().get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream")) {
            return (status, Value::Null);
        }
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text)
            .unwrap_or(Value::String(format!("{location} {}", &text[..text.len().min(200)])));
        (status, body)
    }
}

/// Whether an answer is the guard's refusal: 401/403 (API), or the console's redirect to the
/// login page. A refusal by the read policy (the record's recipients, the purpose) comes after
/// the guard let the caller in.
fn refused(status: u16, body: &Value) -> bool {
    status == 401
        || (status == 403
            && !matches!(body["code"].as_str(), Some("not_recipient" | "purpose_not_allowed" | "purpose_required")))
        || (status == 303 && body.as_str().is_some_and(|b| b.starts_with("/login")))
}

#[tokio::test]
async fn every_route_against_every_role_matches_the_expected_matrix() {
    let n = start().await;
    let doc = openapi(&n).await;
    let mut callers =
        vec![Caller::Anonymous, Caller::OwnMember, Caller::CustomsMember, Caller::TraderMember, Caller::Operator];
    callers.extend(Role::ALL.map(Caller::Person));
    for r in Role::ALL {
        let (status, body) = n.add_user(&format!("m.{}", r.name()), &[r.name()], MATRIX_PASSWORD, false).await;
        assert_eq!(status, 201, "{body}");
    }
    let mut who = Callers { sessions: BTreeMap::new(), operator_token: n.token.clone() };
    for c in &callers {
        who.login(&n, *c).await;
    }
    let mut tried = 0;
    let mut unexpected = Vec::new();
    // Rotating the console token ends every session: that route goes last, and each session
    // caller logs in again just before trying it.
    let mut ops: Vec<(String, String, String)> = operations(&doc)
        .into_iter()
        .map(|((path, method), op)| (path, method, op["x-borderlink-permission"].as_str().unwrap_or("").to_owned()))
        .collect();
    ops.sort_by_key(|(path, _, _)| path == "/api/v1/node/console-token");
    for (path, method, permission) in ops {
        let rotates = path == "/api/v1/node/console-token";
        let p = concrete(&path);
        for &c in &callers {
            if rotates {
                who.login(&n, c).await;
            }
            let (status, body) = who.send(&n, c, &method, &p).await;
            if rotates && let Some(t) = body["token"].as_str() {
                who.operator_token = t.to_owned();
            }
            let allowed = !refused(status, &body);
            if allowed != expected(&permission, c) {
                unexpected.push(format!("{method} {path} ({permission}) by {}: {status} {body}", Callers::name(c)));
            } else if !allowed && path.starts_with("/api/") {
                assert_error_body(&body, &format!("{method} {path} by {}", Callers::name(c)));
            }
            tried += 1;
        }
    }
    for c in &callers {
        who.login(&n, *c).await;
    }
    let console: Vec<&borderlink_node::RouteEntry> = n.routes.iter().filter(|r| !r.api).collect();
    for r in &console {
        let entry = CONSOLE.iter().find(|(p, _)| *p == r.path);
        let Some((_, permission)) = entry else {
            panic!("console route {} is not in the test's table: add it with its permission", r.path)
        };
        let Some(permission) = permission else { continue };
        let p = concrete(&r.path).replace("{*path}", "console.css");
        for &c in &callers {
            let (status, body) = who.send(&n, c, "GET", &p).await;
            let allowed = !refused(status, &body);
            if allowed != expected(permission, c) {
                unexpected.push(format!("GET {} ({permission}) by {}: {status} {body}", r.path, Callers::name(c)));
            }
            tried += 1;
        }
    }
    assert!(unexpected.is_empty(), "{} unexpected answers of {tried}:\n{}", unexpected.len(), unexpected.join("\n"));
    assert!(tried >= 11 * 40, "only {tried} requests were tried");
}
