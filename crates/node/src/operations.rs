//! The `operations` capability: what an operator and a client need of any node — liveness
//! (`/healthz`), Prometheus metrics (`/metrics`), the OpenAPI document and its interactive
//! reference (`/api`), the console's assets and the login to the console session.

use axum::Json;
use axum::routing::get;
use serde::Serialize;
use utoipa_axum::routes;

use crate::capability::{Capability, NavEntry, open_nothing};
use crate::console::{self, Section};
use crate::openapi::guarded;
use crate::principal::{Public, Require};

/// The API reference's navigation section.
pub(crate) const API: Section = Section("api");

pub(crate) const CAPABILITY: Capability = Capability {
    name: "operations",
    open: open_nothing,
    api: || {
        vec![
            guarded::<Public>(routes!(health)),
            guarded::<Public>(routes!(metrics)),
            guarded::<Public>(routes!(crate::openapi::serve)),
        ]
    },
    console: || {
        vec![
            ("/api", get(console::api_reference::page)),
            ("/assets/{*path}", get(console::assets::serve)),
            ("/login", get(console::login::page).post(console::login::submit)),
        ]
    },
    nav: &[NavEntry { section: API, href: "/api", label: "API" }],
    tags: &[("operations", "Health, metrics and this document")],
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

/// Prometheus metrics: requests, commits, rejections by reason, commit latency, projections.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "The Prometheus text format", content_type = "text/plain", body = String))
)]
pub(crate) async fn metrics(_: Require<Public>) -> String {
    crate::metrics::render().await
}
