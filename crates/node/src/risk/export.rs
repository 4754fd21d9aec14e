//! `GET /api/v1/export`: pseudonymized analytics exports as Parquet (`borderlink export`).
//!
//! Rows are goods items in the risk training set's columns: `type=training` the inspected items
//! with what their inspection found (the same rows as `/api/v1/risk/training-set`),
//! `type=declaration` every committed declaration this node can read (clear, or private to its
//! member), without labels. Every trader and declaration identifier is replaced by a keyed
//! pseudonym of the export's scope (`borderlink_analytics`); the scope's key stays on the node.
//! The read needs the purpose `statistics`; re-identification is `POST /api/v1/export/reidentify`
//! by the node's operator, with a reason that is logged.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header;
use borderlink_analytics::{Class, Pseudonymizer};
use borderlink_ledger::tx::PayloadKind;
use borderlink_model::{Record, ValidateOptions};
use serde::{Deserialize, Serialize};

use super::service::RiskService;
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{ChangeRisk, ReadRisk, Require};
use crate::server::SharedState;

/// The purposes the consortium knows (issue "People, purposes and audit").
const PURPOSES: [&str; 6] =
    ["clearance", "risk-analysis", "audit", "mra-exchange", "statistics", "data-subject-access"];

/// Checks the declared purpose of an export: only `statistics`.
fn check_purpose(purpose: Option<&str>) -> Result<(), ApiError> {
    match purpose {
        None | Some("") => Err(ApiError::PurposeRequired("an analytics export".into(), "?purpose=statistics".into())),
        Some("statistics") => Ok(()),
        Some(p) if PURPOSES.contains(&p) => Err(ApiError::PurposeNotAllowed(
            p.to_owned(),
            "an analytics export".into(),
            "it is allowed for: statistics".into(),
        )),
        Some(p) => Err(ApiError::UnknownPurpose(p.to_owned())),
    }
}

/// What an export holds (documentation of `type`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documentation only
pub(crate) enum ExportType {
    Declaration,
    Training,
}

/// The export formats (documentation of `format`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documentation only
pub(crate) enum ExportFormat {
    Parquet,
}

/// Query of an export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// The declared purpose: `statistics`.
    #[param(inline, value_type = Option<crate::access::reads::PurposeName>)]
    purpose: Option<String>,
    /// `declaration` (committed declarations, no labels) or `training` (inspected items with
    /// their outcome).
    #[serde(rename = "type")]
    #[param(inline, value_type = ExportType)]
    kind: String,
    /// `parquet` (the only format).
    #[param(inline, value_type = Option<ExportFormat>)]
    format: Option<String>,
    /// The pseudonym scope (its own key; default `{purpose}-{type}`): exports of one scope can
    /// be joined on their pseudonyms, exports of two scopes cannot.
    #[param(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")]
    scope: Option<String>,
}

/// Exports goods items as a Parquet file with every identifier pseudonymized.
#[utoipa::path(get, path = "/api/v1/export", tag = "risk", params(ExportQuery),
    responses(
        (status = 200, description = "The Parquet file", content_type = "application/vnd.apache.parquet", body = Vec<u8>),
        (status = 400, description = "Unknown type, format, purpose or scope", body = crate::error::ErrorBody),
        (status = 403, description = "No purpose (`purpose_required`) or one that does not allow exports (`purpose_not_allowed`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn export(
    who: Require<ReadRisk>,
    State(state): State<SharedState>,
    Service(risk): Service<RiskService>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<([(header::HeaderName, String); 2], Vec<u8>), ApiError> {
    let Query(q) = q.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    check_purpose(q.purpose.as_deref())?;
    if let Some(f) = q.format.as_deref().filter(|f| *f != "parquet") {
        return Err(ApiError::InvalidQuery(format!("format {f:?}: the only export format is parquet")));
    }
    let scope = q.scope.clone().unwrap_or_else(|| format!("statistics-{}", q.kind));
    let keys = risk.pseudonym_keys().ok_or_else(|| ApiError::Internal("this node keeps no files".into()))?;
    let p = keys.open_or_create(&scope).map_err(|e| ApiError::InvalidQuery(e.to_string()))?;
    let rows: Vec<[String; 24]> = match q.kind.as_str() {
        "training" => training_rows(&risk),
        "declaration" => {
            let ledger = std::sync::Arc::clone(state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)?.ledger());
            tokio::task::spawn_blocking(move || declaration_rows(&ledger))
                .await
                .map_err(|e| ApiError::Internal(format!("export failed: {e}")))??
        }
        other => {
            return Err(ApiError::InvalidQuery(format!("type {other:?}: export declaration or training")));
        }
    };
    let n = rows.len();
    let bytes = tokio::task::spawn_blocking(move || borderlink_analytics::write_parquet(&rows, &p))
        .await
        .map_err(|e| ApiError::Internal(format!("export failed: {e}")))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(rows = n, kind = %q.kind, %scope, "pseudonymized export");
    crate::access::audit::note(
        &state,
        &who.principal,
        crate::access::audit::Act {
            purpose: "statistics",
            action: "export",
            route: "GET /api/v1/export",
            detail: format!("{n} rows of type {}, pseudonymized in scope {scope}", q.kind),
            ..Default::default()
        },
    )?;
    metrics::counter!("borderlink_exports_total", "type" => q.kind.clone()).increment(1);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.apache.parquet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}-{scope}.parquet\"", q.kind)),
        ],
        bytes,
    ))
}

/// The inspected goods items of the training set, with their labels.
fn training_rows(risk: &RiskService) -> Vec<[String; 24]> {
    risk.engine()
        .feedback()
        .iter()
        .map(|r| borderlink_risk::training::item_values(&r.item, Some((&r.outcome, r.random))))
        .collect()
}

/// The goods items of every declaration this node can read, newest first.
fn declaration_rows(ledger: &borderlink_ledger::Ledger) -> Result<Vec<[String; 24]>, ApiError> {
    let mut rows = Vec::new();
    for v in ledger.list(Some("declaration"), usize::MAX)? {
        let bytes = match (&v.payload, v.payload_kind) {
            (Some(p), _) => serde_json::to_vec(p).map_err(|e| ApiError::Internal(e.to_string()))?,
            (None, PayloadKind::Private)
                if ledger.local_member().is_some_and(|m| v.recipients.iter().any(|r| r == m)) =>
            {
                match ledger.read_private(&v.record_id, Some(v.version)) {
                    Ok(b) => b,
                    Err(_) => continue,
                }
            }
            _ => continue,
        };
        let report = borderlink_model::validate(&bytes, &ValidateOptions::default());
        if let Some(Record::Declaration(d)) = report.record {
            for item in borderlink_risk::item::Item::from_declaration(&d) {
                rows.push(borderlink_risk::training::item_values(&item, None));
            }
        }
    }
    Ok(rows)
}

/// A re-identification request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReidentifyRequest {
    /// The export scope the pseudonym comes from.
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")]
    scope: String,
    /// The pseudonym (`ps_…`).
    pseudonym: String,
    /// Why it must be re-identified (kept in the node's log): at least 10 characters that are
    /// not spaces.
    #[schema(pattern = "^(\\s*\\S){10}")]
    reason: String,
}

/// The identifiers behind a pseudonym.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Reidentified {
    /// `party` or `declaration`.
    class: &'static str,
    /// The identifiers whose pseudonym it is (one, or none when it does not resolve).
    identifiers: Vec<String>,
}

/// Re-identifies a pseudonym of an export scope among the identifiers on this node's ledger
/// (declarants, importers, sellers, couriers, declaration references). Only the operator, with
/// a reason (at least 10 characters), which is logged.
#[utoipa::path(post, path = "/api/v1/export/reidentify", tag = "risk",
    request_body(content = ReidentifyRequest),
    responses(
        (status = 200, description = "What the pseudonym stands for", body = Reidentified),
        (status = 404, description = "The pseudonym does not resolve", body = crate::error::ErrorBody),
        (status = 400, description = "No reason given (at least 10 characters)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn reidentify(
    who: Require<ChangeRisk>,
    State(state): State<SharedState>,
    Service(risk): Service<RiskService>,
    body: Result<Json<ReidentifyRequest>, JsonRejection>,
) -> Result<Json<Reidentified>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if req.reason.chars().filter(|c| !c.is_whitespace()).count() < 10 {
        return Err(ApiError::InvalidDeclaration(
            "say why the pseudonym must be re-identified (a reason of at least 10 characters)".into(),
        ));
    }
    let keys = risk.pseudonym_keys().ok_or_else(|| ApiError::Internal("this node keeps no files".into()))?;
    let p: Pseudonymizer = keys
        .open(&req.scope)
        .map_err(|e| ApiError::InvalidQuery(e.to_string()))?
        .ok_or_else(|| ApiError::RecordNotFound(format!("export scope {}", req.scope)))?;
    let ledger = std::sync::Arc::clone(state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)?.ledger());
    let rows = tokio::task::spawn_blocking(move || declaration_rows(&ledger))
        .await
        .map_err(|e| ApiError::Internal(format!("re-identification failed: {e}")))??;
    let training = training_rows(&risk);
    for class in [Class::Party, Class::Declaration] {
        let mut candidates: Vec<&str> = rows
            .iter()
            .chain(&training)
            .flat_map(|r| {
                borderlink_analytics::COLUMNS
                    .iter()
                    .zip(r.iter())
                    .filter(|(c, _)| c.class == class)
                    .map(|(_, v)| v.as_str())
            })
            .filter(|v| !v.is_empty())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let found = p.reidentify(class.name(), &req.pseudonym, candidates);
        if !found.is_empty() {
            tracing::warn!(
                by = %who.principal.member().unwrap_or("operator"),
                scope = %req.scope,
                pseudonym = %req.pseudonym,
                reason = %req.reason,
                "pseudonym re-identified"
            );
            metrics::counter!("borderlink_reidentifications_total").increment(1);
            crate::access::audit::note(
                &state,
                &who.principal,
                crate::access::audit::Act {
                    purpose: "statistics",
                    action: "reidentify",
                    route: "POST /api/v1/export/reidentify",
                    subjects: found.iter().map(|s| (*s).to_owned()).collect(),
                    detail: format!("pseudonym {} of scope {}: {}", req.pseudonym, req.scope, req.reason),
                    ..Default::default()
                },
            )?;
            return Ok(Json(Reidentified {
                class: class.name(),
                identifiers: found.into_iter().map(str::to_owned).collect(),
            }));
        }
    }
    metrics::counter!("borderlink_reidentifications_unresolved_total").increment(1);
    Err(ApiError::RecordNotFound(format!("pseudonym {} in scope {}", req.pseudonym, req.scope)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_needs_the_statistics_purpose() {
        assert!(matches!(check_purpose(None), Err(ApiError::PurposeRequired(..))));
        assert!(matches!(check_purpose(Some("clearance")), Err(ApiError::PurposeNotAllowed(..))));
        assert!(matches!(check_purpose(Some("curiosity")), Err(ApiError::UnknownPurpose(_))));
        assert!(check_purpose(Some("statistics")).is_ok());
    }
}
