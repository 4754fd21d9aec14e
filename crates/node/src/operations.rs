//! The `operations` capability: what an operator and a client need of any node — liveness
//! (`/healthz`), the OpenAPI document and its interactive reference (`/api`), the console's
//! assets and the rotation of the console token. (Prometheus metrics
//! are served on a listener of their own: `metrics.rs`.)

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use utoipa_axum::routes;

use crate::capability::{Capability, NavEntry, open_nothing};
use crate::console::{self, Section};
use crate::error::ApiError;
use crate::openapi::guarded;
use crate::principal::{OperateNode, Public, Require};
use crate::server::SharedState;

/// The API reference's navigation section.
pub(crate) const API: Section = Section("api");

pub(crate) const CAPABILITY: Capability = Capability {
    name: "operations",
    open: open_nothing,
    api: || {
        vec![
            guarded::<Public>(routes!(health)),
            guarded::<OperateNode>(routes!(rotate_console_token)),
            guarded::<Public>(routes!(crate::openapi::serve)),
        ]
    },
    console: || {
        vec![
            ("/api", get(console::api_reference::page)),
            ("/assets/{*path}", get(console::assets::serve)),
            ("/favicon.svg", get(console::assets::favicon)),
            ("/favicon.ico", get(console::assets::favicon)),
        ]
    },
    nav: &[NavEntry { section: API, href: "/api", label: "API" }],
    tags: &[("operations", "Health, this document, the console token")],
};

/// The body of `GET /healthz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok` when the node answers.
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: the node is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The node is up", body = Health))
)]
pub(crate) async fn health(_: Require<Public>) -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The new console token.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ConsoleToken {
    /// The token that now opens the console (also written to `DATA/console.token`).
    token: String,
}

/// Rotates the console token now: a new token is written to `DATA/console.token` (mode 0600)
/// and takes effect at once; the old one no longer opens the console, and every console
/// session ends (this one too). `borderlink console rotate-token --data DIR` does the same for
/// a stopped node.
#[utoipa::path(post, path = "/api/v1/node/console-token", tag = "operations",
    responses(
        (status = 200, description = "The new console token", body = ConsoleToken),
        (status = 404, description = "This node runs without a ledger (`ledger_disabled`): it has no console token", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn rotate_console_token(
    _: Require<OperateNode>,
    State(state): State<SharedState>,
) -> Result<impl IntoResponse, ApiError> {
    let console = state.console.as_ref().ok_or(ApiError::LedgerDisabled)?;
    let token = console.rotate().map_err(|e| ApiError::Internal(format!("the console token was not rotated: {e}")))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(ConsoleToken { token })))
}
