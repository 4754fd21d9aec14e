//! `POST /api/v1/validate`: a document in, the model's validation report out.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use borderlink_model::Report;
use serde::Deserialize;

use crate::error::{ApiError, bytes_rejection};
use crate::principal::{Public, Require};
use crate::server::SharedState;
use crate::{record_types, validation};

/// The query string of `POST /api/v1/validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ValidateQuery {
    /// The expected record type; detected from the document when absent or `auto`.
    #[serde(rename = "type")]
    record_type: Option<String>,
    /// The validation profile; the node's default (`[validation] profile`) when absent.
    profile: Option<String>,
}

/// Validates a document: JSON, or WCO DM XML when it starts with <.
///
/// The answer is `200` with the report whether the document is valid or not: an invalid
/// document is a successful validation. Errors of the request itself (unknown `type`, a body
/// over the limit) are the only error statuses.
#[utoipa::path(post, path = "/api/v1/validate", tag = "validation",
    params(
        ("type" = inline(Option<crate::record_types::ValidateType>), Query,
            description = "Expected record type: `declaration`, `aeo-authorization`, \
                           `transport-movement`, `inspection-result`, or `auto` (the default) to \
                           detect it from the document"),
        ("profile" = Option<String>, Query,
            description = "Validation profile: `core` (the consortium's), or the name of a national \
                           profile the node loaded (`[validation]` in its configuration); the node's \
                           default profile when absent")
    ),
    request_body(
        description = "The document: a JSON record with WCO tag names as keys (see \
                       `/api/v1/schemas/{type}`), or a WCO DM XML declaration",
        content((ref("#/components/schemas/Document") = "application/json"), (String = "application/xml"))
    ),
    responses(
        (status = 200, description = "The validation report, valid or not", body = ref("#/components/schemas/Report")),
        (status = 400, description = "Unknown record type or profile, or unreadable request", body = crate::error::ErrorBody),
        (status = 413, description = "The body is larger than the node's limit", body = crate::error::ErrorBody),
    )
)]
pub(super) async fn validate(
    _: Require<Public>,
    State(state): State<SharedState>,
    query: Result<Query<ValidateQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Report>, ApiError> {
    let Query(query) = query?;
    // Over the API an empty `type=` is a mistake, not "detect": only `auto` or no parameter is.
    if query.record_type.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ApiError::UnknownRecordType(String::new()));
    }
    let record_type = record_types::parse(query.record_type.as_deref())?;
    let profile = state.service::<validation::Profiles>()?.get(query.profile.as_deref())?;
    let document = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    if document.is_empty() {
        return Err(ApiError::MissingDocument);
    }
    let report = validation::validate(document, record_type, state.max_body_bytes, profile).await?;
    Ok(Json(report))
}
