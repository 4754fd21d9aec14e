//! `GET /api/v1/search`: the records this node holds that match a declaration number, trader
//! id, HS code prefix, container, seal or record id, grouped by record type, for the declared
//! purpose (the read policy decides what is found; the page answered is audited).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::search::{self, SearchIndex};
use crate::access::reads::{Purposed, Reads};
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{ReadLedger, Require};
use crate::server::SharedState;

/// Results per page unless `limit` says otherwise.
pub(crate) const DEFAULT_LIMIT: u32 = 20;
/// The most results one page holds.
pub(crate) const MAX_LIMIT: u32 = 100;
/// The last page one may ask for.
pub(crate) const MAX_PAGE: u32 = 100_000;

/// Query of `GET /api/v1/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// What to look for, 1 to 200 characters: a declaration number (LRN or MRN), a trader id
    /// (declarant, exporter, importer, carrier, AEO holder), an AEO authorisation number, the
    /// start of an HS code (`8471`, `8471.30`), a container number, a seal id, a movement
    /// reference or a record id. Case, spaces and dots do not matter; every value starting
    /// with it matches.
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// Results per page (20 by default).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The page, from 1 (the first, by default).
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
    /// The declared purpose (or the `Borderlink-Purpose` header); records the read policy does
    /// not allow for it are not found.
    #[param(inline, value_type = Option<crate::access::reads::PurposeName>)]
    #[allow(dead_code)] // read by `Purposed`
    purpose: Option<String>,
}

/// What matched in a record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Matched {
    /// `lrn`, `mrn`, `trader`, `aeo`, `hs`, `container`, `seal`, `movement` or `record-id`.
    pub(super) field: &'static str,
    /// The field as a person reads it.
    pub(super) label: &'static str,
    /// The value, as written in the record.
    pub(super) value: String,
}

/// A record found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SearchResult {
    pub(super) record_id: String,
    pub(super) record_type: String,
    /// Its current version.
    pub(super) version: u64,
    /// A declaration's LRN, an authorisation's number and holder… when the reader may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) title: Option<String>,
    /// The member that wrote the current version.
    pub(super) submitter: String,
    /// When that member signed it (ISO 8601, UTC).
    pub(super) signed_at: String,
    /// The block that holds the current version.
    pub(super) height: u64,
    /// Whether the record is private (its content read by this node for a recipient).
    pub(super) private: bool,
    pub(super) matched: Vec<Matched>,
}

/// The records of one type found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SearchGroup {
    pub(super) record_type: String,
    /// Records of this type found, on every page.
    pub(super) count: usize,
    /// Those on this page, newest first.
    pub(super) results: Vec<SearchResult>,
}

/// A page of search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SearchReply {
    pub(super) q: String,
    /// The purpose the records were read for.
    pub(super) purpose: String,
    /// Records found, on every page.
    pub(super) total: usize,
    pub(super) page: u32,
    pub(super) limit: u32,
    /// The next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) next_page: Option<u32>,
    /// The records of this page, grouped by record type.
    pub(super) groups: Vec<SearchGroup>,
}

/// Turns what `find` returned into the answer (also the console's model).
pub(crate) fn reply(q: &str, purpose: &str, page: u32, limit: u32, found: search::Found) -> SearchReply {
    let mut groups: Vec<SearchGroup> = Vec::new();
    for hit in found.hits {
        let v = &hit.version;
        let result = SearchResult {
            title: search::title(&v.record_type, hit.content.as_ref()),
            record_id: v.record_id.clone(),
            record_type: v.record_type.clone(),
            version: v.version,
            submitter: v.submitter.clone(),
            signed_at: borderlink_model::datetime::format_unix_ms(v.timestamp_ms),
            height: v.height,
            private: v.payload_kind == borderlink_ledger::tx::PayloadKind::Private,
            matched: hit
                .matched
                .iter()
                .map(|(f, value)| Matched { field: f.name(), label: f.label(), value: value.clone() })
                .collect(),
        };
        match groups.last_mut() {
            Some(g) if g.record_type == result.record_type => g.results.push(result),
            _ => {
                let count = found.per_type.iter().find(|(t, _)| *t == result.record_type).map_or(0, |(_, n)| *n);
                groups.push(SearchGroup { record_type: result.record_type.clone(), count, results: vec![result] })
            }
        }
    }
    let shown_to = (page as usize).saturating_mul(limit as usize);
    SearchReply {
        q: q.to_owned(),
        purpose: purpose.to_owned(),
        total: found.total,
        page,
        limit,
        next_page: (found.total > shown_to && page < MAX_PAGE).then_some(page + 1),
        groups,
    }
}

/// Checks the paging parameters: (page, limit).
pub(crate) fn paging(page: Option<u32>, limit: Option<u32>) -> Result<(u32, u32), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let page = page.unwrap_or(1);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!("limit must be 1 to {MAX_LIMIT}; it is {limit}")));
    }
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(ApiError::InvalidQuery(format!("page must be 1 to {MAX_PAGE}; it is {page}")));
    }
    Ok((page, limit))
}

/// Searches the records this node holds: by declaration number (LRN, MRN), trader id, AEO
/// authorisation number, HS code prefix, container, seal, movement reference or record id.
///
/// Only records the read policy allows the caller to read for the declared purpose are found,
/// and only by values the caller may see (a value in a withheld field finds nothing); a private
/// record is found by its content only when the caller's organisation is among its recipients.
/// The records of the page answered are audited as one read.
#[utoipa::path(get, path = "/api/v1/search", tag = "ledger",
    params(SearchQuery),
    responses(
        (status = 200, description = "The records found, grouped by record type, with what matched in each", body = SearchReply),
        (status = 400, description = "`q` missing, empty or longer than 200 characters, `limit` or `page` out of range, or an unknown purpose (`invalid_query`, `unknown_purpose`)", body = crate::error::ErrorBody),
        (status = 403, description = "No purpose declared (`purpose_required`)", body = crate::error::ErrorBody),
        (status = 404, description = "This node runs without a ledger (`ledger_disabled`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn search(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    Service(reads): Service<Reads>,
    Service(index): Service<SearchIndex>,
    purpose: Purposed,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchReply>, ApiError> {
    let Query(q) = query?;
    search::check_query(&q.q)?;
    let (page, limit) = paging(q.page, q.limit)?;
    let declared = Reads::required(purpose, "searching records")?;
    let l = Arc::clone(super::api::service(&state)?.ledger());
    let text = q.q.clone();
    let found = tokio::task::spawn_blocking(move || {
        search::find(
            &l,
            &index,
            &reads,
            &who.principal,
            declared,
            "GET /api/v1/search",
            &text,
            page as usize,
            limit as usize,
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(reply(&q.q, declared.name(), page, limit, found)))
}
