//! Risk management over HTTP: what-if scores (lane, score, model version, reasons), the risk
//! queue, officers' overrides, inspection results fed back (and exported as a training set), the
//! criteria and the model.
//!
//! Reads need `ReadRisk` (a member's signed request or the console session); changes need
//! `ChangeRisk` (the node operator's console session).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use borderlink_model::{DeclarationRecord, InspectionResultRecord, Lane};
use borderlink_risk::lane::Override;
use borderlink_risk::{Assessment, CriteriaSet};
use serde::Deserialize;
use serde_json::Value;

use super::service::{ModelInfo, RiskService};
use crate::capability::Service;
use crate::error::{ApiError, bytes_rejection};
use crate::principal::{ChangeRisk, ReadRisk, Require};
use crate::server::SharedState;

pub(super) fn risk(state: &SharedState) -> Result<Arc<RiskService>, ApiError> {
    state.service::<RiskService>()
}

fn parse_declaration(v: Value, at: Option<usize>) -> Result<DeclarationRecord, ApiError> {
    serde_json::from_value(v).map_err(|e| {
        let which = at.map(|i| format!("declaration {i}: ")).unwrap_or_default();
        ApiError::InvalidDeclaration(format!("{which}{e}"))
    })
}

/// What-if scoring of one declaration or a batch: what the lane would be if it were lodged now.
///
/// The body is a declaration record (`{"Declaration": …}`), or a batch: a JSON array of them or
/// `{"declarations": [ … ]}`. A declaration missing data the model uses is still scored, and its
/// `missing` list says what was missing. Nothing is kept: a what-if never enters the risk queue,
/// the traders' history or the criteria's hit rates, and never stands for the declaration when
/// it is committed — only committed declarations are assessed, from their committed content.
#[utoipa::path(post, path = "/api/v1/risk/score", tag = "risk",
    request_body(description = "A declaration record, an array of them, or `{\"declarations\": [...]}`", content = ref("#/components/schemas/ScoreRequest")),
    responses(
        (status = 200, description = "The assessment (lane, score, model version, reasons, criteria fired, missing fields), or `{\"assessments\": [...]}` for a batch", body = Object),
        (status = 400, description = "Not JSON, or not a declaration", body = crate::error::ErrorBody),
        (status = 413, description = "The body is larger than the node's limit", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn score(
    _: Require<ReadRisk>,
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::InvalidDeclaration(format!("not JSON: {e}")))?;
    crate::openapi::check_body("ScoreRequest", &v).map_err(ApiError::InvalidDeclaration)?;
    let (batch, items) = match v {
        Value::Array(items) => (true, items),
        Value::Object(mut o) if o.len() == 1 && o.contains_key("declarations") => match o.remove("declarations") {
            Some(Value::Array(items)) => (true, items),
            _ => return Err(ApiError::InvalidDeclaration("`declarations` must be an array".into())),
        },
        // A batch is the array and nothing beside it: another key would be ignored silently.
        Value::Object(o) if o.contains_key("declarations") => {
            return Err(ApiError::InvalidDeclaration(
                "a batch is `{\"declarations\": [...]}` with no other key".into(),
            ));
        }
        other => (false, vec![other]),
    };
    let records = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_declaration(v, batch.then_some(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let risk = risk(&state)?;
    let day = risk.clock().today();
    let assessments: Vec<Assessment> = {
        let engine = risk.engine();
        records.iter().map(|d| engine.what_if(d, day)).collect()
    };
    let out = if batch {
        serde_json::json!({ "assessments": assessments })
    } else {
        serde_json::to_value(assessments.into_iter().next()).map_err(|e| ApiError::Internal(e.to_string()))?
    };
    Ok(Json(out))
}

/// The query of `GET /api/v1/risk/queue`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueQuery {
    /// Only this lane (`RED`, `YELLOW`, `BLUE`, `GREEN`).
    lane: Option<Lane>,
    /// At most this many (100 by default).
    limit: Option<usize>,
}

/// The risk queue: assessed declarations by lane (red first) and score (highest first).
#[utoipa::path(get, path = "/api/v1/risk/queue", tag = "risk",
    params(
        ("lane" = inline(Option<LaneName>), Query, description = "Only this lane: RED, YELLOW, BLUE or GREEN"),
        ("limit" = Option<usize>, Query, description = "At most this many (100 by default)"),
    ),
    responses((status = 200, description = "Assessments, strictest lane and highest score first", body = [Object]))
)]
pub(crate) async fn queue(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Result<Json<Vec<Assessment>>, ApiError> {
    let Query(q) = query?;
    let engine = risk.engine();
    let list = engine
        .queue()
        .into_iter()
        .filter(|a| q.lane.is_none_or(|l| a.effective_lane() == l))
        .take(q.limit.unwrap_or(100))
        .cloned()
        .collect();
    Ok(Json(list))
}

/// A lane, as the API documents it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "UPPERCASE")]
#[allow(dead_code)] // documentation only: the lane is read as a `Lane`.
pub(crate) enum LaneName {
    /// Physical inspection.
    Red,
    /// Documentary check.
    Yellow,
    /// Post-clearance audit.
    Blue,
    /// Release.
    Green,
}

/// An officer's override.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OverrideRequest {
    /// The declaration.
    declaration_id: String,
    /// The new lane: RED, YELLOW, BLUE or GREEN.
    #[schema(value_type = LaneName)]
    lane: Lane,
    /// Why (at least 10 characters once trimmed): automated decisions with legal effect need a
    /// recorded, reviewable human reason.
    #[schema(pattern = r"\S[\s\S]{8,}\S")]
    reason: String,
    /// The officer (not blank).
    #[schema(pattern = r"\S")]
    officer: String,
}

/// Overrules a declaration's lane, with the officer's reason (refused without one).
#[utoipa::path(post, path = "/api/v1/risk/overrides", tag = "risk",
    request_body = OverrideRequest,
    responses(
        (status = 200, description = "The override as recorded", body = Object),
        (status = 404, description = "The declaration was not assessed here", body = crate::error::ErrorBody),
        (status = 422, description = "No reason, no officer, or the lane is unchanged", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn overrule(
    _: Require<ChangeRisk>,
    Service(risk): Service<RiskService>,
    body: Result<Json<OverrideRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Override>, ApiError> {
    let Json(r) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let at = risk.clock().now_iso();
    let o = risk.engine().overrule(&r.declaration_id, r.lane, &r.reason, &r.officer, &at).map_err(ApiError::Risk)?;
    risk.record_override(&o)?;
    tracing::info!(declaration = %o.declaration_id, from = ?o.from, to = ?o.to, officer = %o.officer, "lane overruled");
    Ok(Json(o))
}

/// Feeds back an inspection result record: trader history, criteria hit rates, training set.
#[utoipa::path(post, path = "/api/v1/risk/inspections", tag = "risk",
    request_body(description = "An inspection-result record", content = ref("#/components/schemas/InspectionResultRecord")),
    responses(
        (status = 204, description = "Fed back"),
        (status = 400, description = "Not an inspection-result record", body = crate::error::ErrorBody),
        (status = 404, description = "The declaration was not assessed here", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn inspection(
    _: Require<ChangeRisk>,
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::http::StatusCode, ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    let v: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("not an inspection result: {e}")))?;
    crate::openapi::check_body("InspectionResultRecord", &v)
        .map_err(|e| ApiError::BadRequest(format!("not an inspection result: {e}")))?;
    let r: InspectionResultRecord =
        serde_json::from_value(v).map_err(|e| ApiError::BadRequest(format!("not an inspection result: {e}")))?;
    risk(&state)?.engine().record_inspection(&r).map_err(ApiError::Risk)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The training set fed back by inspections: every inspected goods item as declared, with what
/// its inspection found, as CSV in the KCS column layout (`borderlink risk train --data` reads
/// it with its built-in mapping; the history features are recomputed by replaying it in time
/// order). On a ledger node the rows are rebuilt from the committed declarations and
/// inspection results at start, so the export holds every clear inspection on the ledger.
#[utoipa::path(get, path = "/api/v1/risk/training-set", tag = "risk",
    responses((status = 200, description = "CSV: the KCS columns, then `Revenue` (duty recovered) and `Random Selection` (0/1)", content_type = "text/csv", body = String))
)]
pub(crate) async fn training_set(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
) -> Result<([(axum::http::header::HeaderName, &'static str); 1], Vec<u8>), ApiError> {
    let mut csv = Vec::new();
    let rows = risk.engine().write_training_set(&mut csv).map_err(ApiError::Risk)?;
    tracing::info!(rows, "risk training set exported");
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

/// The selectivity criteria with their running hit rates, lists and value-control bands.
#[utoipa::path(get, path = "/api/v1/risk/criteria", tag = "risk",
    responses((status = 200, description = "The criteria set", body = ref("#/components/schemas/CriteriaSet")))
)]
pub(crate) async fn criteria(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
) -> Result<Json<CriteriaSet>, ApiError> {
    Ok(Json(risk.engine().criteria().clone()))
}

/// Replaces the criteria (refused when a criterion names an unknown list or feature, or a date
/// does not parse).
#[utoipa::path(put, path = "/api/v1/risk/criteria", tag = "risk",
    request_body(description = "A criteria set", content = ref("#/components/schemas/CriteriaSet")),
    responses(
        (status = 200, description = "Replaced", body = CriteriaReplaced),
        (status = 422, description = "Not a criteria set, or an inconsistent one (`invalid_criteria`): a criterion names a list the set does not define, two criteria share an id, or a date is not a day of the calendar", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_criteria(
    _: Require<ChangeRisk>,
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CriteriaReplaced>, ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    // Text that is not JSON is left to the criteria's own parser, which says where it breaks.
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        crate::openapi::check_body("CriteriaSet", &v)
            .map_err(|e| ApiError::Risk(borderlink_risk::RiskError::Criteria(e)))?;
    }
    let criteria = risk(&state)?.replace_criteria(&body)?;
    Ok(Json(CriteriaReplaced { criteria }))
}

/// The answer to replacing the criteria.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CriteriaReplaced {
    /// How many criteria the new set holds.
    criteria: usize,
}

/// The active model.
#[utoipa::path(get, path = "/api/v1/risk/model", tag = "risk",
    responses(
        (status = 200, description = "The active model", body = ModelInfo),
        (status = 404, description = "No model is active: lanes come from criteria and random selection", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn model(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
) -> Result<Json<ModelInfo>, ApiError> {
    risk.engine().model().map(|m| Json(ModelInfo::of(m))).ok_or(ApiError::NoRiskModel)
}

/// Activates a model file written by `borderlink risk train`; a model for another feature set
/// is refused.
#[utoipa::path(put, path = "/api/v1/risk/model", tag = "risk",
    request_body(description = "A model file (`.blrm`)", content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Activated", body = ModelInfo),
        (status = 422, description = "Not a model, or trained on another feature set", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_model(
    _: Require<ChangeRisk>,
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ModelInfo>, ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    let svc = risk(&state)?;
    let info = tokio::task::spawn_blocking(move || svc.activate_model(&body))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(info))
}
