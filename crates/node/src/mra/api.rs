//! `GET /api/v1/mra/aeo` and `GET /api/v1/mra/aeo/{id}`: the agreed fields of consenting AEOs,
//! for the administrations of partner programmes.
//!
//! A read is refused, in this order: to a caller who is not a customs administration (the route's
//! `Require<MraExchange>`); without the purpose `mra-exchange` (`?purpose=` or the
//! `Borderlink-Purpose` header: `purpose_required`, `purpose_not_allowed`, `unknown_purpose`); to
//! an administration whose programme is in no agreement with the AEO's (`not_mra_partner`); and
//! for an authorisation that is not shared with the caller — absent, or without its holder's
//! consent in force — in the same words either way (`aeo_not_shared`). The list leaves out
//! whatever the single read would refuse.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use borderlink_ledger::Ledger;
use borderlink_ledger::mra::{self, Exchange};
use borderlink_ledger::read_policy::{self, Reader};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::MraService;
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{MraExchange, Principal, Require};
use crate::server::SharedState;

/// The header a client may declare its purpose in, instead of `?purpose=`.
const PURPOSE_HEADER: &str = "borderlink-purpose";

/// Items of a page when `limit` is not given.
const DEFAULT_PAGE: usize = 100;

/// Query of `GET /api/v1/mra/aeo/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AeoQuery {
    /// The declared purpose: `mra-exchange` (or in the `Borderlink-Purpose` header).
    #[param(example = "mra-exchange")]
    purpose: Option<String>,
}

/// Query of `GET /api/v1/mra/aeo`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// The declared purpose: `mra-exchange` (or in the `Borderlink-Purpose` header).
    #[param(example = "mra-exchange")]
    purpose: Option<String>,
    /// The AEOs after this unique id: the previous page's `next`.
    after: Option<String>,
    /// Only the authorisations of the holder with this unique id (trader identification number).
    unique_id: Option<String>,
    /// At most this many AEOs (100 by default); a holder's authorisations are never split
    /// between pages, so a page may hold a few more.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// The `Borderlink-Purpose` header (documentation of both routes).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documentation only: the header is read from the request's headers.
pub(crate) struct PurposeHeader {
    /// The declared purpose, `mra-exchange`, when it is not in the query.
    #[serde(rename = "Borderlink-Purpose")]
    #[param(rename = "Borderlink-Purpose", example = "mra-exchange")]
    purpose: Option<String>,
}

/// One suspension or revocation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the answer is built by `borderlink_ledger::mra`.
pub(crate) struct StatusPeriod {
    /// `SUSPENDED` or `REVOKED`.
    status: String,
    /// When it took effect (ISO 8601).
    from: String,
    /// When it ended (reinstatement or revocation), or null while in force.
    until: Option<String>,
}

/// An AEO as a partner administration receives it: exactly the fields the agreement between the
/// two programmes names — the core ones, and the agreement's extras — and nothing else (a field
/// the read policy withholds is left out).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // documentation only: the answer is built by `borderlink_ledger::mra`.
pub(crate) struct SharedAeo {
    /// Core: the holder's trader identification number (TIN/EORI).
    unique_id: Option<String>,
    /// Core: the holder's name.
    name: Option<String>,
    /// Core: the holder's address (WCO Address), or null.
    #[schema(value_type = Option<Object>)]
    address: Option<Value>,
    /// Core: `ACTIVE`, `SUSPENDED` or `REVOKED`.
    status: Option<String>,
    /// Core: when the authorisation took effect, or null.
    validation_date: Option<String>,
    /// Core: every suspension and revocation, oldest first.
    suspensions_and_revocations: Option<Vec<StatusPeriod>>,
    /// Extra: the authorisation's reference number.
    authorisation_number: Option<String>,
    /// Extra: the AEO category (`AEOC`, `AEOS`, `AEOF`).
    category: Option<String>,
    /// Extra: the end of validity, or null.
    valid_until: Option<String>,
    /// Extra: the issuing administration's name.
    issuing_authority: Option<String>,
}

/// A page of AEOs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the answer is `borderlink_ledger::mra::Page`.
pub(crate) struct SharedPage {
    /// The AEOs, by unique id.
    items: Vec<SharedAeo>,
    /// Pass as `after` for the next page; null on the last one.
    next: Option<String>,
}

/// The AEOs of partner programmes whose holders consent to the exchange, with the agreed fields.
#[utoipa::path(get, path = "/api/v1/mra/aeo", tag = "mra",
    params(ListQuery, PurposeHeader),
    responses(
        (status = 200, description = "A page of AEOs, ordered by unique id", body = SharedPage),
        (status = 400, description = "A query that does not parse, a limit out of 1 to 1,000, or an unknown purpose (`unknown_purpose`)", body = crate::error::ErrorBody),
        (status = 403, description = "Not a customs administration, no purpose (`purpose_required`) or another one (`purpose_not_allowed`), or a programme in no agreement (`not_mra_partner`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list(
    who: Require<MraExchange>,
    State(state): State<SharedState>,
    Service(mra): Service<MraService>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    check_purpose(declared(q.purpose.as_deref(), &headers)?)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=mra::MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!("limit {limit}: ask for 1 to {} AEOs", mra::MAX_PAGE)));
    }
    let read = MraRead::List { after: q.after, unique_id: q.unique_id, limit };
    answer(&state, &mra, &who.principal, read).await.map(Json)
}

/// One AEO authorisation of a partner programme, with the agreed fields, while its holder
/// consents to the exchange.
#[utoipa::path(get, path = "/api/v1/mra/aeo/{id}", tag = "mra",
    params(
        ("id" = String, Path, description = "The authorisation's record id, `aeo-authorization:{issuing country}:{authorisation number}` (URL-encoded)", example = "aeo-authorization:GB:GB AEOC 14274/19"),
        AeoQuery,
        PurposeHeader,
    ),
    responses(
        (status = 200, description = "The agreed fields of the AEO", body = SharedAeo),
        (status = 400, description = "A query that does not parse, or an unknown purpose (`unknown_purpose`)", body = crate::error::ErrorBody),
        (status = 403, description = "Not a customs administration, no purpose (`purpose_required`) or another one (`purpose_not_allowed`), or a programme in no agreement with the AEO's (`not_mra_partner`)", body = crate::error::ErrorBody),
        (status = 404, description = "Not shared with the caller: no such authorisation, or its holder's consent is not in force for the caller's programme (`aeo_not_shared`; the answer does not say which)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn aeo(
    who: Require<MraExchange>,
    State(state): State<SharedState>,
    Service(mra): Service<MraService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<AeoQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    check_purpose(declared(q.purpose.as_deref(), &headers)?)?;
    answer(&state, &mra, &who.principal, MraRead::Aeo { id }).await.map(Json)
}

/// What a caller asks of the mutual-recognition exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MraRead {
    /// One authorisation, by its record id.
    Aeo {
        /// `aeo-authorization:{issuing country}:{authorisation number}`.
        id: String,
    },
    /// A page of AEOs.
    List {
        /// After this unique id.
        after: Option<String>,
        /// Only this holder's.
        unique_id: Option<String>,
        /// At most this many (whole holders).
        limit: usize,
    },
}

/// Answers a mutual-recognition read once the caller and its purpose (`mra-exchange`) are
/// established: the one place where AEO data leaves the node under mutual recognition, so the
/// audit trail records here who read what and what was shared (the answer) or refused.
pub(crate) async fn answer(
    state: &SharedState,
    mra: &MraService,
    principal: &Principal,
    read: MraRead,
) -> Result<Value, ApiError> {
    let ledger = Arc::clone(state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)?.ledger());
    let reader = reader(&ledger, principal)?;
    let policy = mra.read_policy(&ledger)?;
    let (kind, route, asked) = match &read {
        MraRead::Aeo { id } => ("aeo", "GET /api/v1/mra/aeo/{id}", Some(id.clone())),
        MraRead::List { .. } => ("list", "GET /api/v1/mra/aeo", None),
    };
    let result = tokio::task::spawn_blocking(move || {
        let x = Exchange { ledger: &ledger, agreements: &ledger.genesis().mra, policy: &policy, reader: &reader };
        match read {
            MraRead::Aeo { id } => mra::aeo(x, &id).map(Value::Object),
            MraRead::List { after, unique_id, limit } => mra::list(x, after.as_deref(), unique_id.as_deref(), limit)
                .map(|page| serde_json::to_value(page).unwrap_or(Value::Null)),
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the mutual-recognition read failed: {e}")))?
    .map_err(ApiError::from);
    let outcome = match &result {
        Ok(_) => "shared",
        Err(e) => crate::error::ErrorCode::error_code(e).name(),
    };
    metrics::counter!("borderlink_mra_reads_total", "read" => kind, "outcome" => outcome).increment(1);
    // What was shared is audited: the authorisations read and the AEOs they name.
    if let Ok(v) = &result {
        let items: Vec<&Value> = match v.get("items").and_then(Value::as_array) {
            Some(list) => list.iter().collect(),
            None => vec![v],
        };
        let subjects: Vec<String> =
            items.iter().filter_map(|i| i.get("uniqueId").and_then(Value::as_str).map(str::to_owned)).collect();
        if !subjects.is_empty() {
            crate::access::audit::note(
                state,
                principal,
                crate::access::audit::Act {
                    purpose: mra::PURPOSE,
                    action: "mra-read",
                    route,
                    records: asked.into_iter().collect(),
                    subjects,
                    detail: format!("{} AEO(s) shared under mutual recognition", items.len()),
                },
            )?;
        }
    }
    result
}

/// The reader the read policy and the agreements decide on: the caller's organisation (its
/// country is its programme) with a person's roles, `system` for a member's signed request or
/// `operator` for the console token.
fn reader(ledger: &Ledger, principal: &Principal) -> Result<Reader, ApiError> {
    let (member, roles) = match principal {
        Principal::Member { id } => (id.as_str(), vec!["system".to_owned()]),
        Principal::Operator { member: Some(m) } => (m.as_str(), vec!["operator".to_owned()]),
        Principal::Person { organisation, roles, .. } => {
            (organisation.as_str(), roles.iter().map(|r| r.name().to_owned()).collect())
        }
        Principal::Operator { member: None } | Principal::Anonymous => {
            return Err(ApiError::Forbidden("a mutual-recognition read needs a member administration".into()));
        }
    };
    let m = ledger.member(member).ok_or_else(|| ApiError::Forbidden(format!("{member} is not a member")))?;
    Ok(Reader::of(&m, roles))
}

/// The purpose the request declares: `?purpose=`, else the `Borderlink-Purpose` header (the two,
/// when both are given, must agree).
fn declared<'a>(query: Option<&'a str>, headers: &'a HeaderMap) -> Result<Option<&'a str>, ApiError> {
    let header = match headers.get(PURPOSE_HEADER) {
        Some(v) => {
            Some(v.to_str().map_err(|_| ApiError::BadRequest("the Borderlink-Purpose header is not text".into()))?)
        }
        None => None,
    };
    match (query.map(str::trim).filter(|q| !q.is_empty()), header.map(str::trim).filter(|h| !h.is_empty())) {
        (Some(q), Some(h)) if q != h => Err(ApiError::BadRequest(format!(
            "the purpose is declared twice, differently: {q:?} in the query, {h:?} in the Borderlink-Purpose header"
        ))),
        (q, h) => Ok(q.or(h)),
    }
}

/// Only `mra-exchange` opens the exchange.
fn check_purpose(purpose: Option<&str>) -> Result<(), ApiError> {
    const WHAT: &str = "a mutual-recognition read";
    match purpose {
        None => Err(ApiError::PurposeRequired(WHAT.into(), "?purpose=mra-exchange".into())),
        Some(mra::PURPOSE) => Ok(()),
        Some(p) if read_policy::is_purpose(p) => {
            Err(ApiError::PurposeNotAllowed(p.to_owned(), WHAT.into(), format!("it is allowed for: {}", mra::PURPOSE)))
        }
        Some(p) => Err(ApiError::UnknownPurpose(p.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_mra_exchange_purpose_opens_the_exchange() {
        assert!(matches!(check_purpose(None), Err(ApiError::PurposeRequired(..))));
        assert!(matches!(check_purpose(Some("clearance")), Err(ApiError::PurposeNotAllowed(..))));
        assert!(matches!(check_purpose(Some("gossip")), Err(ApiError::UnknownPurpose(_))));
        assert!(check_purpose(Some("mra-exchange")).is_ok());
    }

    #[test]
    fn the_purpose_comes_from_the_query_or_the_header_and_they_must_agree() {
        let mut headers = HeaderMap::new();
        assert_eq!(declared(None, &headers).unwrap(), None);
        headers.insert(PURPOSE_HEADER, "mra-exchange".parse().unwrap());
        assert_eq!(declared(None, &headers).unwrap(), Some("mra-exchange"));
        assert_eq!(declared(Some("mra-exchange"), &headers).unwrap(), Some("mra-exchange"));
        assert!(declared(Some("audit"), &headers).is_err());
    }
}
