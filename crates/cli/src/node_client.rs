//! A member's HTTP client of one node, for every command that talks to a running node (`submit`,
//! `proof`, `network status`, governance, `network up`, `risk export-training`): the node's base
//! URL (`host:port` or a URL), a blocking `reqwest` client, the member's signature on each
//! request (`borderlink_ledger::auth`, version 2: method, path and query, the node's member id,
//! time, a fresh nonce and body), and what a failed request means for the exit code.
//!
//! A signature names the node it is for (so that it cannot be replayed at another node): the
//! client asks the node once who it is (`GET /api/v1/node`, public) and keeps the answer.
//!
//! A node reachable from other machines serves its API over HTTPS with a certificate from the
//! consortium CA: an `https://` node is verified against that CA alone (`--ca FILE`, or the
//! consortium folder's `ca.pem` for `network up|status`), never against public roots and never
//! skipped; without the CA the request is not sent. `risk bench` measures the node over a raw
//! connection of its own and takes only the signature from here.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use borderlink_ledger::identity::MemberKeys;
use serde::Deserialize;

use crate::{ExitCode, Failed, Outcome};

/// A node's error body.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) code: String,
    pub(crate) message: String,
}

/// How long a request may take, and whether it may go through a proxy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Transport {
    /// The longest a whole request may take.
    pub(crate) timeout: Duration,
    /// Never through a proxy; otherwise only a node on this machine is reached directly.
    pub(crate) direct: bool,
}

impl Transport {
    /// What the ledger commands allow: a submission returns after the durable commit, so allow
    /// for a busy node.
    pub(crate) const LEDGER: Self = Self { timeout: Duration::from_secs(120), direct: false };
}

/// Why a request got no reply.
#[derive(Debug)]
pub(crate) enum NodeError {
    /// The node's address, or a path on it, is not a URL: the user's input.
    Url(String),
    /// The client could not be built, the node could not be reached, or its reply not read.
    Transport(anyhow::Error),
}

impl std::fmt::Display for NodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeError::Url(m) => f.write_str(m),
            NodeError::Transport(e) => write!(f, "{e:#}"),
        }
    }
}

/// A bad URL is an input error (exit 3); no reply is the node's failure (exit 4).
impl From<NodeError> for Failed {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Url(m) => Failed::new(ExitCode::Input, m),
            NodeError::Transport(e) => Failed::node(e),
        }
    }
}

/// For commands that report through `anyhow`: the cause stays in the chain (e.g. an I/O error).
impl From<NodeError> for anyhow::Error {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Url(m) => anyhow::Error::msg(m),
            NodeError::Transport(e) => e,
        }
    }
}

/// A reply: status, headers and body.
pub(crate) struct Reply {
    pub(crate) status: reqwest::StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// RFC 7807 problem details, as the EPCIS bindings (`/epcis`) answer errors.
#[derive(Debug, Deserialize)]
pub(crate) struct ProblemBody {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) detail: String,
}

impl Reply {
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Outcome<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Failed::new(ExitCode::Failure, format!("the node's {what} reply is not understood: {e}")))
    }

    pub(crate) fn error_body(&self) -> Option<ErrorBody> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A refusal as the user reads it: `error [code]: message`; the node's fault (5xx) is a
    /// failure, anything else a refusal.
    pub(crate) fn refused(&self) -> Failed {
        let code = if self.status.is_server_error() { ExitCode::Failure } else { ExitCode::Invalid };
        let problem = || serde_json::from_slice::<ProblemBody>(&self.body).ok();
        let message = match (self.error_body(), problem()) {
            (_, Some(p)) => format!("error [{}]: {}", p.kind, p.detail),
            (Some(b), None) => format!("error [{}]: {}", b.code, b.message),
            (None, None) => format!(
                "error: the node answered {} {}",
                self.status,
                String::from_utf8_lossy(&self.body).chars().take(200).collect::<String>()
            ),
        };
        Failed { code, message }
    }
}

/// The `Authorization` header of a member's request to the node whose member is `node`, signed
/// now with a fresh nonce: it opens one request, at that node, within 30 s.
pub(crate) fn authorization(keys: &MemberKeys, node: &str, method: &str, path_and_query: &str, body: &[u8]) -> String {
    let target = borderlink_ledger::auth::Target::new(node, method, path_and_query, body);
    borderlink_ledger::auth::authorization(keys, &target, crate::now_ms())
}

/// Who a node is (`GET /api/v1/node`).
#[derive(Debug, Deserialize)]
struct NodeIdentity {
    member: String,
}

/// The consortium CA certificate that `https://` nodes are verified against.
static TRUSTED_CA: OnceLock<PathBuf> = OnceLock::new();

/// Verifies `https://` nodes against the CA certificate in `path` (PEM). The first call wins:
/// `--ca` is set before a command's own default.
pub(crate) fn trust_ca(path: PathBuf) {
    let _ = TRUSTED_CA.set(path);
}

/// The consortium CA as the only root of trust.
fn consortium_ca(node: &reqwest::Url) -> Result<reqwest::Certificate, NodeError> {
    let Some(path) = TRUSTED_CA.get() else {
        return Err(NodeError::Url(format!(
            "{node} is served over HTTPS: give the consortium's CA certificate with --ca FILE (ca.pem in the \
             consortium folder) or BORDERLINK_CA"
        )));
    };
    let pem = std::fs::read(path).map_err(|e| NodeError::Url(format!("--ca {}: {e}", path.display())))?;
    reqwest::Certificate::from_pem(&pem)
        .map_err(|e| NodeError::Url(format!("--ca {}: not a PEM certificate: {e}", path.display())))
}

/// Whether `host` (a URL's host) is this machine.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// A client of one node: signed by a member, or anonymous (health checks, nodes that keep no
/// ledger).
pub(crate) struct NodeClient {
    base: reqwest::Url,
    http: reqwest::blocking::Client,
    keys: Option<MemberKeys>,
    /// The node's member id once asked (`None`: the node keeps no ledger, so nothing to sign).
    node: OnceLock<Option<String>>,
    /// The purpose every request declares (`Borderlink-Purpose`), if any.
    purpose: Option<String>,
}

impl NodeClient {
    /// A member's client with the ledger commands' transport.
    pub(crate) fn new(node: &str, keys: MemberKeys) -> Result<Self, NodeError> {
        Self::connect(node, Some(keys), Transport::LEDGER)
    }

    /// `node` is `host:port` or a URL; each request is signed when `keys` are given.
    pub(crate) fn connect(node: &str, keys: Option<MemberKeys>, transport: Transport) -> Result<Self, NodeError> {
        let mut text = node.trim().to_owned();
        if !text.contains("://") {
            text = format!("http://{text}");
        }
        if !text.ends_with('/') {
            text.push('/');
        }
        let base =
            reqwest::Url::parse(&text).map_err(|e| NodeError::Url(format!("--node {node:?} is not a URL: {e}")))?;
        let mut builder =
            reqwest::blocking::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(transport.timeout);
        // A node on this machine is never reached through a proxy.
        if transport.direct || base.host_str().is_some_and(is_loopback_host) {
            builder = builder.no_proxy();
        }
        // rustls with ring, as the node's peers use; the process-wide default is what reqwest
        // builds its TLS configuration with (an error only says it is already installed).
        let _ = rustls::crypto::ring::default_provider().install_default();
        if base.scheme() == "https" {
            builder = builder.tls_certs_only([consortium_ca(&base)?]);
        }
        let http = builder.build().map_err(|e| NodeError::Transport(anyhow::anyhow!("HTTP client: {e}")))?;
        Ok(Self { base, http, keys, node: OnceLock::new(), purpose: None })
    }

    /// The same client declaring `purpose` (e.g. `clearance`) with every request: the node's
    /// read policy decides what may be read for it, and the read is audited.
    pub(crate) fn with_purpose(mut self, purpose: &str) -> Self {
        self.purpose = Some(purpose.to_owned());
        self
    }

    /// The node's base URL as the user reads it (no trailing `/`).
    pub(crate) fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The node's member id, asked once (`GET /api/v1/node`); `None` for a node that keeps no
    /// ledger (it has no identities and reads no signature).
    pub(crate) fn node_member(&self) -> Result<Option<String>, NodeError> {
        if let Some(known) = self.node.get() {
            return Ok(known.clone());
        }
        let reply = self.request(reqwest::Method::GET, "api/v1/node", Vec::new(), None)?;
        let member = match reply.status.as_u16() {
            200 => Some(
                serde_json::from_slice::<NodeIdentity>(&reply.body)
                    .map_err(|e| {
                        NodeError::Transport(anyhow::anyhow!("{} did not say which node it is: {e}", self.base()))
                    })?
                    .member,
            ),
            404 => None,
            _ => return Err(NodeError::Transport(anyhow::anyhow!("{}: {}", self.base(), reply.refused().message))),
        };
        Ok(self.node.get_or_init(|| member).clone())
    }

    /// A request to `path` (relative to the base URL), signed when the client has keys: the
    /// `Authorization` header covers method, path and query, the node, time, nonce and body.
    pub(crate) fn send(&self, method: reqwest::Method, path: &str, body: Vec<u8>) -> Result<Reply, NodeError> {
        self.send_with(method, path, body, &[])
    }

    /// As [`send`](Self::send), with more headers (a body's `Content-Type` other than JSON
    /// among them).
    pub(crate) fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, NodeError> {
        let signer = match &self.keys {
            Some(keys) => self.node_member()?.map(|node| (keys, node)),
            None => None,
        };
        self.request_with(method, path, body, signer, headers)
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        signer: Option<(&MemberKeys, String)>,
    ) -> Result<Reply, NodeError> {
        self.request_with(method, path, body, signer, &[])
    }

    fn request_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        signer: Option<(&MemberKeys, String)>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, NodeError> {
        let url = self.base.join(path).map_err(|e| NodeError::Url(format!("{path}: {e}")))?;
        let mut req = self.http.request(method.clone(), url.clone());
        if let Some((keys, node)) = signer {
            let pq = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            req = req.header(reqwest::header::AUTHORIZATION, authorization(keys, &node, method.as_str(), &pq, &body));
        }
        if let Some(p) = &self.purpose {
            req = req.header("borderlink-purpose", p.as_str());
        }
        let typed = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if !body.is_empty() {
            if !typed {
                req = req.header(reqwest::header::CONTENT_TYPE, "application/json");
            }
            req = req.body(body);
        }
        let resp = req.send().map_err(|e| {
            NodeError::Transport(anyhow::Error::new(e).context(format!("cannot reach the node at {}", self.base)))
        })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .map_err(|e| NodeError::Transport(anyhow::Error::new(e).context(format!("reading the reply from {url}"))))?
            .to_vec();
        Ok(Reply { status, headers, body })
    }

    pub(crate) fn get(&self, path: &str) -> Result<Reply, NodeError> {
        self.send(reqwest::Method::GET, path, Vec::new())
    }
}
