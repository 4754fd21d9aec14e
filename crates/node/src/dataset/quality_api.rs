//! `GET /api/v1/data-quality`: the data-quality figures as JSON, and the reading of the filter
//! (`?org=&type=&weeks=`) that the console page shares.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::quality::{Filter, IsoWeek, QualityReport};
use super::quality_service::QualityService;
use crate::error::ApiError;
use crate::principal::{ReadQuality, Require};
use crate::server::SharedState;

/// The period when the filter names none, in weeks.
pub(crate) const DEFAULT_WEEKS: u32 = 12;
/// The longest period, in weeks (two years).
pub(crate) const MAX_WEEKS: u32 = 104;

/// The filter of the figures (also the console page's query: its URLs are stable).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct QualityQuery {
    /// Only this submitting organisation: a member id of the consortium (`GET /api/v1/network`);
    /// absent or empty for every organisation.
    pub(crate) org: Option<String>,
    /// Only this record type; `all`, empty or absent for every type. Completeness and
    /// timeliness are figures of declarations.
    #[serde(rename = "type")]
    #[param(inline, value_type = Option<crate::record_types::ListType>)]
    pub(crate) record_type: Option<String>,
    /// The period: this many ISO weeks, up to and including the current one (1 to 104; 12 when
    /// absent).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 104)]
    pub(crate) weeks: Option<String>,
}

impl QualityQuery {
    /// The filter this query asks for, or why it cannot be served: an organisation that is no
    /// member of the consortium, a record type that does not exist, a period that is not a whole
    /// number of weeks from 1 to 104.
    pub(crate) fn filter(&self, state: &SharedState, now_ms: i64) -> Result<Filter, ApiError> {
        let org = match self.org.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(org) => {
                let ledger = state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)?.ledger();
                if ledger.member(org).is_none() {
                    let members: Vec<String> = ledger.members().into_iter().map(|m| m.id).collect();
                    return Err(ApiError::InvalidQuery(format!(
                        "org: {org:?} is no member of the consortium; its members are: {}",
                        members.join(", ")
                    )));
                }
                Some(org.to_owned())
            }
        };
        let record_type = match self.record_type.as_deref().map(str::trim) {
            None | Some("" | "all") => None,
            Some(name) => Some(
                borderlink_model::RecordType::from_name(name)
                    .ok_or_else(|| ApiError::UnknownRecordType(name.to_owned()))?,
            ),
        };
        let weeks = match self.weeks.as_deref().map(str::trim) {
            None => DEFAULT_WEEKS,
            Some(w) => w.parse().ok().filter(|n| (1..=MAX_WEEKS).contains(n)).ok_or_else(|| {
                ApiError::InvalidQuery(format!("weeks: {w:?} is not a whole number of weeks from 1 to {MAX_WEEKS}"))
            })?,
        };
        Ok(Filter { org, record_type, weeks: IsoWeek::last(weeks, now_ms) })
    }
}

pub(super) fn service(state: &SharedState) -> Result<Arc<QualityService>, ApiError> {
    state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)?;
    state.service::<QualityService>()
}

/// Data quality per submitting organisation and record type, over a period of ISO weeks:
/// validation failures by rule of the submissions to this node (refused ones included),
/// completeness of the elements risk analysis reads in the committed declarations, their
/// timeliness (committed before the goods' planned arrival or not), and the trend week by week.
#[utoipa::path(get, path = "/api/v1/data-quality", tag = "data-quality",
    params(QualityQuery),
    responses(
        (status = 200, description = "The figures of the period", body = QualityReport),
        (status = 400, description = "An unknown organisation or query parameter (`invalid_query`), record type (`unknown_record_type`), or a period that is not 1 to 104 weeks", body = crate::error::ErrorBody),
        (status = 404, description = "This node runs without a ledger (`ledger_disabled`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn figures(
    _: Require<ReadQuality>,
    State(state): State<SharedState>,
    query: Result<Query<QualityQuery>, QueryRejection>,
) -> Result<Json<QualityReport>, ApiError> {
    let Query(q) = query?;
    let quality = service(&state)?;
    let filter = q.filter(&state, quality.clock().now_ms())?;
    Ok(Json(quality.report(&filter).await))
}
