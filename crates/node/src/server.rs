//! Binding, routing and serving: where the API, the console and the cross-cutting layers meet.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use borderlink_ledger::auth::{DEFAULT_REPLAY_CAPACITY, ReplayCache};
use tokio::net::TcpListener;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;

use crate::capability::{CAPABILITIES, Services, Startup};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Limits};
use crate::error::{ApiError, NodeError};
use crate::ordering::LedgerService;

/// What every handler can see. Cheap to clone: handlers get an `Arc`.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The largest request body, also the model's document limit.
    pub(crate) max_body_bytes: usize,
    /// The ledger, when this node is a member node of a consortium.
    pub(crate) ledger: Option<Arc<LedgerService>>,
    /// The operator's console on a ledger node: the token that opens it and the open sessions.
    pub(crate) console: Option<Arc<crate::session::Console>>,
    /// Whether the node serves HTTPS: session cookies are then `Secure`.
    pub(crate) https: bool,
    /// The (member, nonce) pairs of the signed requests accepted in the last minute.
    pub(crate) replay: std::sync::Mutex<borderlink_ledger::auth::ReplayCache>,
    /// The node's clock.
    pub(crate) clock: Arc<dyn Clock>,
    /// Each member's quota of off-chain bytes.
    pub(crate) blob_quota_bytes: u64,
    /// The capabilities' services.
    pub(crate) services: Services,
    /// Who hears of each submission and its outcome (`crate::submission`).
    pub(crate) observers: Vec<Arc<dyn crate::submission::SubmissionObserver>>,
}

impl AppState {
    /// A node without ledger or services (unit tests).
    #[cfg(test)]
    pub(crate) fn bare(max_body_bytes: usize) -> Self {
        Self {
            max_body_bytes,
            ledger: None,
            console: None,
            https: false,
            replay: std::sync::Mutex::new(ReplayCache::new(DEFAULT_REPLAY_CAPACITY)),
            clock: Arc::new(SystemClock),
            blob_quota_bytes: crate::config::DEFAULT_BLOB_QUOTA_BYTES,
            services: Services::default(),
            observers: Vec::new(),
        }
    }

    /// A capability's service; a capability that did not open is a bug of the node's assembly.
    pub(crate) fn service<T: std::any::Any + Send + Sync>(&self) -> Result<Arc<T>, ApiError> {
        self.services
            .get::<T>()
            .ok_or_else(|| ApiError::Internal(format!("the {} service is not open", std::any::type_name::<T>())))
    }
}

pub(crate) type SharedState = Arc<AppState>;

/// One route the node serves: its path, methods, and whether it belongs to the API (and so to
/// the OpenAPI document) or to the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// The path pattern, e.g. `/api/v1/records/{id}`.
    pub path: String,
    /// Its methods, upper case.
    pub methods: Vec<String>,
    /// `true` for an API route (documented in `/api/openapi.json`), `false` for a console page.
    pub api: bool,
    /// The capability it belongs to.
    pub capability: &'static str,
}

/// Builds the node's router from its capabilities: the API routes with their OpenAPI document,
/// the console pages, the fallbacks and the cross-cutting layers (authentication, body limit,
/// tracing). Returns the router and the table of routes it serves.
fn router_with(state: SharedState, limits: &Limits) -> (Router, Vec<RouteEntry>) {
    let max_body_bytes = state.max_body_bytes;
    crate::metrics::install();
    let mut api = OpenApiRouter::with_openapi(crate::openapi::base());
    let mut console = Router::new();
    let mut table = Vec::new();
    for capability in CAPABILITIES {
        for route in (capability.api)() {
            for (path, item) in route.1.paths.iter() {
                table.push(RouteEntry {
                    path: path.clone(),
                    methods: crate::openapi::methods(item),
                    api: true,
                    capability: capability.name,
                });
            }
            api = api.routes(route);
        }
        for (path, handlers) in (capability.console)() {
            table.push(RouteEntry {
                path: path.to_owned(),
                methods: Vec::new(),
                api: false,
                capability: capability.name,
            });
            console = console.route(path, handlers);
        }
    }
    let (api, document) = api.split_for_parts();
    crate::openapi::publish(document);
    let router = Router::new()
        .merge(api)
        .merge(console)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // After authentication: a console form of a session carries the session's CSRF token.
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), crate::console::csrf::check))
        // Authentication runs once, before any extractor: it leaves the `Principal` that each
        // route's `Require<P>` checks.
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), crate::principal::identify))
        // Rejections of extractors (plain text) leave with the standard error body.
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), crate::error::standard_errors))
        // Errors under `/epcis` leave as EPCIS problem details, whichever layer made them.
        .layer(axum::middleware::from_fn(crate::iot::epcis::problems))
        // The limit is enforced by the body extractors, which turn it into our own 413 body
        // (`payload_too_large`) rather than a bare status.
        .layer(DefaultBodyLimit::max(max_body_bytes))
        // Outside `standard_errors`, so that a body cut by its deadline leaves as `408`, not as
        // the `400` its extractor made of it.
        .layer(axum::middleware::from_fn_with_state(limits.body_timeout(), crate::limits::body_deadline));
    // Before authentication: a client over its rate costs a map lookup, not a signature check.
    let router = match crate::limits::RequestRate::new(limits) {
        Some(rate) => router.layer(axum::middleware::from_fn_with_state(rate, crate::limits::rate_limit)),
        None => router,
    };
    let router = router
        // Spans carry method, path and status. Never the query (`/login?token=…` carries the
        // console token) nor bodies (trade data).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state);
    (router, table)
}

/// A request's span: its method and path, never its query string (which may carry a secret).
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), version = ?request.version())
}

/// Unknown paths: a JSON error under `/api/`, an HTML page elsewhere.
async fn not_found(method: Method, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    if is_api(&path) {
        ApiError::RouteNotFound { method: method.to_string(), path }.into_response()
    } else {
        crate::console::not_found(&path).into_response()
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    if is_api(&path) {
        ApiError::MethodNotAllowed { method: method.to_string(), path }.into_response()
    } else {
        crate::console::method_not_allowed(method.as_str(), &path).into_response()
    }
}

/// Whether a path belongs to the API (JSON answers, errors included) rather than the console.
pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz" || crate::iot::epcis::is_epcis(path)
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
    routes: Vec<RouteEntry>,
    state: SharedState,
    /// The Prometheus listener (`metrics_listen`), apart from the API.
    metrics: Option<TcpListener>,
    limits: Limits,
    tls: Option<crate::https::ApiTls>,
}

impl Node {
    /// The address the node listens on, with the real port.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The node's base URL: `https://ADDR` when it serves its API over TLS (`[tls]`), else
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// The ledger service, when the node keeps a ledger.
    pub fn ledger(&self) -> Option<&Arc<LedgerService>> {
        self.state.ledger.as_ref()
    }

    /// The console token in force, which opens the console as this node's member
    /// (`/login?token=…`).
    pub fn console_token(&self) -> Option<String> {
        self.state.console.as_ref().map(|c| c.token())
    }

    /// The address `/metrics` is served on, when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Every route the node serves (the API's are those of its OpenAPI document).
    pub fn routes(&self) -> &[RouteEntry] {
        &self.routes
    }

    /// Serves requests under the configured `[limits]` until `shutdown` completes, then finishes
    /// the requests in flight (for at most 10 s: an event stream never finishes by itself).
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), NodeError> {
        tracing::info!(url = %self.url(), "serving");
        let ledger = self.state.ledger.as_ref().map(|l| Arc::downgrade(l.ledger()));
        let services = self.state.services.downgrade();
        let metrics = self.metrics.map(|l| crate::metrics::serve(l, crate::metrics::node_label(&self.state)));
        let served =
            crate::connections::serve(self.listener, self.router, self.limits, self.tls.map(|t| t.0), shutdown).await;
        if let Some(m) = &metrics {
            m.abort();
        }
        served.map_err(NodeError::Serve)?;
        if let Some(l) = &self.state.ledger {
            l.shutdown().await;
        }
        drop(self.state);
        // The ordering, scoring and recording tasks end once the state is gone; wait (bounded)
        // until they have released the ledger and the capabilities' services, so that a stopped
        // node has closed its databases.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let in_use =
            || ledger.as_ref().is_some_and(|w| w.strong_count() > 0) || services.iter().any(|w| w.strong_count() > 0);
        while in_use() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        if in_use() {
            tracing::warn!("the ledger or a capability's service is still in use after shutdown");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Creates the data directory and binds the listen address.
pub async fn bind(config: Config) -> Result<Node, NodeError> {
    check_limits(&config.limits)?;
    crate::https::require_tls_off_loopback(config.listen, config.tls.as_ref())?;
    // A member node accepts client certificates of its consortium's CA (in the genesis).
    let client_ca = match &config.ledger {
        Some(l) => Some(
            borderlink_ledger::genesis::Genesis::load(&l.genesis)
                .map_err(|e| NodeError::Config(format!("the genesis {}: {e}", l.genesis.display())))?
                .ca_certificate,
        ),
        None => None,
    };
    let tls = config.tls.as_ref().map(|t| crate::https::acceptor(t, client_ca.as_deref())).transpose()?;
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .map_err(|source| NodeError::DataDir { path: config.data_dir.clone(), source })?;
    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| NodeError::Bind { addr: config.listen, source })?;
    let local_addr = listener.local_addr().map_err(|source| NodeError::Bind { addr: config.listen, source })?;
    tracing::info!(addr = %local_addr, data_dir = %config.data_dir.display(), "bound");
    let metrics = match config.metrics_listen {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|source| NodeError::Bind { addr, source })?),
        None => None,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut startup = Startup {
        config: &config,
        ledger: None,
        console: None,
        clock: Arc::clone(&clock),
        services: Services::default(),
        projections: Vec::new(),
        observers: Vec::new(),
    };
    for capability in CAPABILITIES {
        (capability.open)(&mut startup).await?;
    }
    let Startup { ledger, console, services, projections, observers, .. } = startup;
    if let Some(l) = &ledger {
        crate::projection::start(Arc::clone(l.ledger()), l.subscribe(), projections)
            .await
            .map_err(|e| NodeError::Ledger(borderlink_ledger::LedgerError::Io(e)))?;
    }
    let state = Arc::new(AppState {
        max_body_bytes: config.max_body_bytes,
        ledger,
        console,
        https: tls.is_some(),
        replay: std::sync::Mutex::new(ReplayCache::new(DEFAULT_REPLAY_CAPACITY)),
        clock,
        blob_quota_bytes: config.blob_quota_bytes,
        services,
        observers,
    });
    let (router, routes) = router_with(Arc::clone(&state), &config.limits);
    Ok(Node { listener, local_addr, router, routes, state, metrics, limits: config.limits, tls })
}

/// Refuses limits under which the node could serve nothing.
fn check_limits(limits: &Limits) -> Result<(), NodeError> {
    let zero = [
        ("header_timeout_ms", limits.header_timeout_ms == 0),
        ("body_timeout_ms", limits.body_timeout_ms == 0),
        ("idle_timeout_ms", limits.idle_timeout_ms == 0),
        ("max_connections", limits.max_connections == 0),
        ("max_connections_per_client", limits.max_connections_per_client == 0),
    ];
    match zero.iter().find(|(_, is_zero)| *is_zero) {
        Some((name, _)) => Err(NodeError::Config(format!("[limits] {name} must be greater than 0"))),
        None => Ok(()),
    }
}

/// Binds and serves until `shutdown` completes: [`bind`] then [`Node::serve`].
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), NodeError> {
    bind(config).await?.serve(shutdown).await
}
