//! Retention review and erasure (`GET /api/v1/retention`, `POST /api/v1/retention/apply`): the
//! records past the consortium's retention periods, and the crypto-shredding of the expired
//! private ones this node's administration may erase.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use borderlink_ledger::Expired;
use serde::{Deserialize, Serialize};

use super::api::service;
use crate::error::ApiError;
use crate::principal::{OperateNode, Require};
use crate::server::SharedState;

/// Query of the review.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewQuery {
    /// Review as of this day (ISO 8601 date; a date-time with zone is accepted too; default
    /// now): what will have expired by then.
    #[param(value_type = Option<String>, format = Date)]
    at: Option<String>,
}

/// One expired record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ExpiredView {
    record_id: String,
    record_type: String,
    version: u64,
    country: String,
    /// When its latest version was committed (ISO 8601).
    committed_at: String,
    /// When it expired (ISO 8601).
    expired_at: String,
    /// Private records are erased by crypto-shredding; a clear record cannot be erased.
    private: bool,
}

fn view(e: &Expired) -> ExpiredView {
    ExpiredView {
        record_id: e.record_id.clone(),
        record_type: e.record_type.clone(),
        version: e.version,
        country: e.country.clone(),
        committed_at: borderlink_model::datetime::format_unix_ms(e.committed_ms),
        expired_at: borderlink_model::datetime::format_unix_ms(e.expired_ms),
        private: e.private,
    }
}

/// The review: every record past its retention period at `at`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Review {
    /// The instant reviewed (ISO 8601).
    at: String,
    /// Retention periods in days, by record type (the genesis' `retention_days`).
    #[schema(value_type = Object)]
    retention_days: std::collections::BTreeMap<String, u32>,
    /// The expired records, oldest first.
    expired: Vec<ExpiredView>,
}

/// Lists the records past their retention period (now, or at a given instant).
#[utoipa::path(get, path = "/api/v1/retention", tag = "ledger", params(ReviewQuery),
    responses(
        (status = 200, description = "The expired records", body = Review),
        (status = 400, description = "`at` is not an ISO 8601 date or date-time", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn review(
    _: Require<OperateNode>,
    State(state): State<SharedState>,
    q: Result<Query<ReviewQuery>, QueryRejection>,
) -> Result<Json<Review>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let at = match q.at.as_deref() {
        None => state.clock.now_ms(),
        Some(s) => borderlink_model::datetime::parse(s)
            .map(|secs| secs.saturating_mul(1000))
            .ok_or_else(|| ApiError::InvalidQuery(format!("at: {s:?} is not an ISO 8601 date or date-time")))?,
    };
    let ledger = std::sync::Arc::clone(service(&state)?.ledger());
    let expired = tokio::task::spawn_blocking(move || ledger.retention_review(at))
        .await
        .map_err(|e| ApiError::Internal(format!("retention review failed: {e}")))??;
    let retention_days = service(&state)?.ledger().genesis().retention_days.clone();
    Ok(Json(Review {
        at: borderlink_model::datetime::format_unix_ms(at),
        retention_days,
        expired: expired.iter().map(view).collect(),
    }))
}

/// What an erasure run did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Applied {
    /// The records erased (their wrapped keys deleted on every node).
    erased: Vec<String>,
    /// Expired private records this node's member may not erase (another administration's).
    not_ours: Vec<String>,
    /// Erasures the ledger refused, with the reason.
    refused: Vec<Refused>,
    /// Expired clear records: listed, not erasable.
    clear: Vec<String>,
}

/// An erasure the ledger refused.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Refused {
    record_id: String,
    code: String,
    message: String,
}

/// Crypto-shreds the expired private records of this node's country, signed by its member
/// (the write policy lets the customs administration of a record's country erase it).
#[utoipa::path(post, path = "/api/v1/retention/apply", tag = "ledger",
    responses((status = 200, description = "What was erased, and what was not and why", body = Applied))
)]
pub(crate) async fn apply(
    who: Require<OperateNode>,
    State(state): State<SharedState>,
) -> Result<Json<Applied>, ApiError> {
    let svc = service(&state)?;
    let ledger = std::sync::Arc::clone(svc.ledger());
    let now = state.clock.now_ms();
    let l = std::sync::Arc::clone(&ledger);
    let expired = tokio::task::spawn_blocking(move || l.retention_review(now))
        .await
        .map_err(|e| ApiError::Internal(format!("retention review failed: {e}")))??;
    let country = ledger.local_member().and_then(|m| ledger.member(m)).map(|m| m.country).unwrap_or_default();
    let mut out = Applied { erased: Vec::new(), not_ours: Vec::new(), refused: Vec::new(), clear: Vec::new() };
    for (i, e) in expired.iter().enumerate() {
        if !e.private {
            out.clear.push(e.record_id.clone());
            continue;
        }
        if e.country != country {
            out.not_ours.push(e.record_id.clone());
            continue;
        }
        let tx = ledger.erasure_by_local(e, rand_nonce(i), now)?;
        match svc.submit(tx).await {
            Ok(_) => {
                tracing::info!(record = %e.record_id, "erased at the end of its retention period");
                crate::access::audit::note(
                    &state,
                    &who.principal,
                    crate::access::audit::Act {
                        purpose: "audit",
                        action: "erase",
                        route: "POST /api/v1/retention/apply",
                        records: vec![e.record_id.clone()],
                        detail: format!(
                            "{} version {} crypto-shredded: its retention period ended {}",
                            e.record_type,
                            e.version,
                            borderlink_model::datetime::format_unix_ms(e.expired_ms)
                        ),
                        ..Default::default()
                    },
                )?;
                out.erased.push(e.record_id.clone());
            }
            Err(err) => out.refused.push(Refused {
                record_id: e.record_id.clone(),
                code: err.code().to_owned(),
                message: err.to_string(),
            }),
        }
    }
    Ok(Json(out))
}

fn rand_nonce(i: usize) -> u64 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u64() ^ i as u64
}
