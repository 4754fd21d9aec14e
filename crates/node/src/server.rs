//! Binding, routing and serving: where the API, the console and the cross-cutting layers meet.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::Config;
use crate::error::{ApiError, NodeError};
use crate::ordering::LedgerService;
use crate::{api, console};

/// What every handler can see. Cheap to clone: handlers get an `Arc`.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The largest request body, also the model's document limit.
    pub(crate) max_body_bytes: usize,
    /// The ledger, when this node is a member node of a consortium.
    pub(crate) ledger: Option<Arc<LedgerService>>,
    /// The console session secret: whoever presents it acts as this node's member in the console.
    pub(crate) console_token: Option<String>,
    /// The content-addressed store of off-chain objects (with a ledger only).
    pub(crate) blobs: Option<borderlink_ledger::blobs::BlobStore>,
    /// Risk management: the engine, its model and criteria, the risk queue.
    pub(crate) risk: Arc<api::risk::RiskService>,
}

pub(crate) type SharedState = Arc<AppState>;

/// Builds the node's router: the API under `/api`, the console elsewhere.
///
/// Public so that tests and embedders can drive it in-process; [`bind`] uses it.
pub fn router(config: &Config) -> Router {
    router_with(Arc::new(AppState {
        max_body_bytes: config.max_body_bytes,
        ledger: None,
        console_token: None,
        blobs: None,
        risk: api::risk::RiskService::in_memory(),
    }))
}

fn router_with(state: SharedState) -> Router {
    let max_body_bytes = state.max_body_bytes;
    crate::metrics::install();
    Router::new()
        .merge(api::routes())
        .merge(console::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The limit is enforced by the body extractors, which turn it into our own 413 body
        // (`payload_too_large`) rather than a bare status.
        .layer(DefaultBodyLimit::max(max_body_bytes))
        // Spans carry method, URI and status; bodies are never logged (they hold trade data).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Unknown paths: a JSON error under `/api/`, an HTML page elsewhere.
async fn not_found(method: Method, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    if is_api(&path) {
        ApiError::RouteNotFound { method: method.to_string(), path }.into_response()
    } else {
        console::not_found(&path).into_response()
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    if is_api(&path) {
        ApiError::MethodNotAllowed { method: method.to_string(), path }.into_response()
    } else {
        console::method_not_allowed(method.as_str(), &path).into_response()
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// A node bound to its address but not yet serving.
///
/// Binding first lets the caller learn the real address (when the configured port is 0) and
/// print it before serving starts.
#[derive(Debug)]
pub struct Node {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    state: SharedState,
}

impl Node {
    /// The address the node listens on, with the real port.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The ledger service, when the node keeps a ledger.
    pub fn ledger(&self) -> Option<&Arc<LedgerService>> {
        self.state.ledger.as_ref()
    }

    /// The console token that opens the console as this node's member (`/login?token=…`).
    pub fn console_token(&self) -> Option<&str> {
        self.state.console_token.as_deref()
    }

    /// Serves requests until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), NodeError> {
        tracing::info!(addr = %self.local_addr, "serving");
        let ledger = self.state.ledger.as_ref().map(|l| Arc::downgrade(l.ledger()));
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await.map_err(NodeError::Serve)?;
        if let Some(l) = &self.state.ledger {
            l.shutdown().await;
        }
        drop(self.state);
        // The ordering and scoring tasks end once the state is gone; wait (bounded) until they
        // have released the ledger, so that a stopped node has closed its database.
        if let Some(weak) = ledger {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            while weak.strong_count() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            if weak.strong_count() > 0 {
                tracing::warn!("the ledger is still in use after shutdown");
            }
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Creates the data directory and binds the listen address.
pub async fn bind(config: Config) -> Result<Node, NodeError> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .map_err(|source| NodeError::DataDir { path: config.data_dir.clone(), source })?;
    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| NodeError::Bind { addr: config.listen, source })?;
    let local_addr = listener.local_addr().map_err(|source| NodeError::Bind { addr: config.listen, source })?;
    tracing::info!(addr = %local_addr, data_dir = %config.data_dir.display(), "bound");
    let (ledger, console_token) = match &config.ledger {
        Some(lc) => {
            let (service, token) = open_ledger(&config, lc).await?;
            (Some(service), Some(token))
        }
        None => (None, None),
    };
    let blobs = match &ledger {
        Some(_) => Some(borderlink_ledger::blobs::BlobStore::open(&config.data_dir).map_err(NodeError::Ledger)?),
        None => None,
    };
    let risk = api::risk::RiskService::open(&config.data_dir);
    if let Some(l) = &ledger {
        let (ledger_for_replay, risk_for_replay) = (Arc::clone(l.ledger()), Arc::clone(&risk));
        let (records, overrides) =
            tokio::task::spawn_blocking(move || api::risk::rebuild(&ledger_for_replay, &risk_for_replay))
                .await
                .unwrap_or_default();
        tracing::info!(records, overrides, "risk state rebuilt from the ledger");
        api::risk::score_commits(Arc::clone(l.ledger()), l.subscribe(), Arc::clone(&risk));
    }
    let state = Arc::new(AppState { max_body_bytes: config.max_body_bytes, ledger, console_token, blobs, risk });
    Ok(Node { listener, local_addr, router: router_with(Arc::clone(&state)), state })
}

/// Opens the ledger (checking the chain's integrity), starts its ordering service, and reads or
/// creates the console token (`console.token`, mode 0600, in the data directory).
async fn open_ledger(
    config: &Config,
    lc: &crate::config::LedgerConfig,
) -> Result<(Arc<LedgerService>, String), NodeError> {
    let dir = config.data_dir.join("ledger");
    let lc = lc.clone();
    let token_path = config.data_dir.join("console.token");
    let (ledger, token) = tokio::task::spawn_blocking(move || {
        let genesis = borderlink_ledger::genesis::Genesis::load(&lc.genesis)?;
        let keys = borderlink_ledger::identity::MemberKeys::load(&lc.key)?;
        let ledger = borderlink_ledger::Ledger::open(&dir, genesis, Some(keys))?;
        let token = match std::fs::read_to_string(&token_path) {
            Ok(t) if t.trim().len() >= 32 => t.trim().to_owned(),
            _ => {
                let t = crate::session::new_token();
                borderlink_ledger::identity::write_secret(&token_path, t.as_bytes())?;
                t
            }
        };
        Ok::<_, borderlink_ledger::LedgerError>((ledger, token))
    })
    .await
    .map_err(|e| NodeError::Ledger(borderlink_ledger::LedgerError::Io(e.to_string())))?
    .map_err(NodeError::Ledger)?;
    tracing::info!(member = ledger.local_member().unwrap_or("-"), chain = %ledger.chain_id(), height = ledger.head().map_or(0, |h| h.height), "ledger open");
    let ledger = Arc::new(ledger);
    let service = match &config.cluster {
        None => LedgerService::start_solo(ledger),
        Some(cs) => {
            let cc = cluster_config(config, cs, &ledger)?;
            LedgerService::start_cluster(ledger, cc)
                .await
                .map_err(|e| NodeError::Ledger(borderlink_ledger::LedgerError::Io(e)))?
        }
    };
    Ok((service, token))
}

/// The Raft settings of this node, from its `[cluster]` section and the genesis.
fn cluster_config(
    config: &Config,
    cs: &crate::config::ClusterSection,
    ledger: &borderlink_ledger::Ledger,
) -> Result<crate::raft::ClusterConfig, NodeError> {
    let err = |m: String| NodeError::Ledger(borderlink_ledger::LedgerError::Io(m));
    let g = ledger.genesis();
    let member = ledger.local_member().unwrap_or_default().to_owned();
    let own = match cs.node_id {
        Some(id) => g.nodes.iter().find(|n| n.id == id),
        None => g.nodes.iter().find(|n| n.member == member),
    };
    let node_id = cs
        .node_id
        .or(own.map(|n| n.id))
        .ok_or_else(|| err(format!("the genesis lists no node of {member}; set [cluster] node_id")))?;
    let peer_listen = match cs.peer_listen {
        Some(a) => a,
        None => {
            let addr = own.map(|n| n.peer_addr.clone()).ok_or_else(|| err("set [cluster] peer_listen".into()))?;
            addr.parse().map_err(|e| err(format!("genesis peer_addr {addr:?}: {e}")))?
        }
    };
    let read =
        |p: &std::path::Path| std::fs::read_to_string(p).map_err(|e| err(format!("cannot read {}: {e}", p.display())));
    let tls = crate::peer::PeerTls::new(&g.ca_certificate, &read(&cs.tls_cert)?, &read(&cs.tls_key)?)
        .map_err(|e| err(e.to_string()))?;
    let founders = g
        .nodes
        .iter()
        .map(|n| {
            (
                n.id,
                crate::raft::PeerNode {
                    member: n.member.clone(),
                    peer_addr: n.peer_addr.clone(),
                    api_url: n.api_url.clone(),
                },
            )
        })
        .collect();
    Ok(crate::raft::ClusterConfig {
        node_id,
        peer_listen,
        tls,
        founders,
        raft_dir: config.data_dir.join("raft"),
        snapshot_every: cs.snapshot_every.max(1),
        keep_after_snapshot: cs.keep_after_snapshot,
        faults: cs.faults,
    })
}

/// Binds and serves until `shutdown` completes: [`bind`] then [`Node::serve`].
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), NodeError> {
    bind(config).await?.serve(shutdown).await
}
