//! `GET /api/v1/schemas` and `GET /api/v1/schemas/{type}`: the JSON Schemas partners validate
//! against before sending.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use borderlink_model::RecordType;
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::principal::{Public, Require};
use crate::record_types;

/// The record types that have a JSON Schema.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SchemaList {
    /// One entry per record type.
    record_types: Vec<SchemaEntry>,
}

/// One record type and where its schema is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SchemaEntry {
    /// The name used in URLs and reports, e.g. `declaration`.
    #[schema(example = "declaration")]
    name: &'static str,
    /// A title for people.
    title: &'static str,
    /// What the record is for.
    description: &'static str,
    /// The path of its JSON Schema.
    #[schema(example = "/api/v1/schemas/declaration")]
    schema: String,
}

/// Lists the record types and the paths of their JSON Schemas.
#[utoipa::path(get, path = "/api/v1/schemas", tag = "schemas",
    responses((status = 200, description = "The record types", body = SchemaList))
)]
pub(super) async fn list(_: Require<Public>) -> Json<SchemaList> {
    let record_types = RecordType::ALL
        .into_iter()
        .map(|t| SchemaEntry {
            name: t.name(),
            title: record_types::title(t),
            description: record_types::summary(t),
            schema: record_types::schema_path(t),
        })
        .collect();
    Json(SchemaList { record_types })
}

/// The JSON Schema (draft 2020-12) of one record type.
#[utoipa::path(get, path = "/api/v1/schemas/{type}", tag = "schemas",
    params(("type" = String, Path, description = "A record type, e.g. `declaration`")),
    responses(
        (status = 200, description = "The JSON Schema", body = Object),
        (status = 404, description = "No such record type", body = crate::error::ErrorBody),
    )
)]
pub(super) async fn get(
    _: Require<Public>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<&'static Value>, ApiError> {
    let Path(name) = name.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let t = RecordType::from_name(&name).ok_or(ApiError::SchemaNotFound(name))?;
    Ok(Json(borderlink_model::schema::schema_ref(t)))
}
