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
use crate::{api, console};

/// What every handler can see. Cheap to clone: handlers get an `Arc`.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The largest request body, also the model's document limit.
    pub(crate) max_body_bytes: usize,
}

pub(crate) type SharedState = Arc<AppState>;

/// Builds the node's router: the API under `/api`, the console elsewhere.
///
/// Public so that tests and embedders can drive it in-process; [`bind`] uses it.
pub fn router(config: &Config) -> Router {
    let state = Arc::new(AppState { max_body_bytes: config.max_body_bytes });
    Router::new()
        .merge(api::routes())
        .merge(console::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The limit is enforced by the body extractors, which turn it into our own 413 body
        // (`payload_too_large`) rather than a bare status.
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
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
}

impl Node {
    /// The address the node listens on, with the real port.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves requests until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), NodeError> {
        tracing::info!(addr = %self.local_addr, "serving");
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await.map_err(NodeError::Serve)?;
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
    Ok(Node { listener, local_addr, router: router(&config) })
}

/// Binds and serves until `shutdown` completes: [`bind`] then [`Node::serve`].
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), NodeError> {
    bind(config).await?.serve(shutdown).await
}
