//! The JSON API under `/api`: validation, JSON Schemas, health and the OpenAPI document.
//!
//! Invariant: every response of this module is JSON, errors included (see [`crate::error`]).

pub(crate) mod cluster;
pub(crate) mod ledger;
pub(crate) mod openapi;
pub(crate) mod risk;
mod schemas;
mod validate;

use axum::Json;
use axum::Router;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Serialize;

use crate::error::ApiError;
use crate::server::SharedState;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/validate", post(validate::validate))
        .route("/api/v1/schemas", get(schemas::list))
        .route("/api/v1/schemas/{type}", get(schemas::get))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/healthz", get(health))
        .route("/metrics", get(ledger::metrics))
        .route("/api/v1/network", get(ledger::network))
        .route("/api/v1/cluster", get(cluster::status))
        .route("/api/v1/cluster/faults", post(cluster::faults))
        .route("/api/v1/transactions", post(ledger::submit))
        .route("/api/v1/records", get(ledger::list))
        .route("/api/v1/records/{id}", get(ledger::record))
        .route("/api/v1/records/{id}/history", get(ledger::history))
        .route("/api/v1/records/{id}/private", get(ledger::private))
        .route("/api/v1/blocks/{height}", get(ledger::block))
        .route("/api/v1/proofs/{id}", get(ledger::proof))
        .route("/api/v1/events", get(ledger::events))
        .route("/api/v1/blobs", axum::routing::put(ledger::put_blob))
        .route("/api/v1/blobs/{sha256}", get(ledger::get_blob))
        .route("/api/v1/risk/score", post(risk::score))
        .route("/api/v1/risk/queue", get(risk::queue))
        .route("/api/v1/risk/overrides", post(risk::overrule))
        .route("/api/v1/risk/inspections", post(risk::inspection))
        .route("/api/v1/risk/training-set", get(risk::training_set))
        .route("/api/v1/risk/criteria", get(risk::criteria).put(risk::put_criteria))
        .route("/api/v1/risk/model", get(risk::model).put(risk::put_model))
}

/// The body of `GET /healthz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok` when the node answers.
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: the node is up and answering.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The node is up", body = Health))
)]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Maps a body that could not be read: too large is `payload_too_large`, anything else is the
/// client's broken request.
pub(crate) fn body_rejection(status: StatusCode, text: String, limit: usize) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::BadRequest(text)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::InvalidQuery(rejection.body_text())
    }
}

pub(crate) fn bytes_rejection(rejection: BytesRejection, limit: usize) -> ApiError {
    body_rejection(rejection.status(), rejection.body_text(), limit)
}
