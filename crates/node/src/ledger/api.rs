//! The ledger API: submit signed transactions, read records, history, blocks and proofs, follow
//! commits live, store and fetch off-chain objects.
//!
//! Every read here takes `Require<ReadLedger>` (a member's signed request or the operator's
//! console session). A read of a record's content (records, history, a private record, a
//! proof, an off-chain object) also declares a purpose (`?purpose=` or `Borderlink-Purpose`),
//! is decided by the consortium's read policy and audited (`crate::access::reads`); blocks, the
//! network and the event stream carry no record content. Submissions are authenticated by the transaction's own signature, checked
//! by validation on every node: the route itself is public.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use borderlink_ledger::blobs::BlobStore;
use borderlink_ledger::{Transaction, WireTransaction};
use borderlink_model::RecordType;
use serde::{Deserialize, Serialize};

use super::views::{BlockView, NetworkView, block_view, network_view};
use crate::access::reads::{PurposeQuery, Purposed, Reads, Shaped};
use crate::capability::Service;
use crate::error::{ApiError, bytes_rejection};
use crate::ordering::LedgerService;
use crate::principal::{Public, ReadLedger, Require, StoreBlobs};
use crate::server::SharedState;

pub(crate) fn service(state: &SharedState) -> Result<&Arc<LedgerService>, ApiError> {
    state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)
}

/// The consortium as this node sees it: chain id, head, members with their public keys, and the
/// Raft group when the ledger is replicated.
#[utoipa::path(get, path = "/api/v1/network", tag = "ledger",
    responses(
        (status = 200, description = "Consortium, chain id, head, members (with public keys), cluster", body = Object),
        (status = 404, description = "This node runs without a ledger (`ledger_disabled`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn network(
    _: Require<ReadLedger>,
    State(state): State<SharedState>,
) -> Result<Json<NetworkView>, ApiError> {
    Ok(Json(network_view(service(&state)?)))
}

/// Who this node is: what a member signs its requests for (`node=` of the `Authorization`
/// header) and which consortium and chain it keeps.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NodeIdentity {
    /// The member id of this node: a request signed for another node is refused here.
    #[schema(example = "gb-hmrc")]
    member: String,
    /// The consortium's name.
    consortium: String,
    /// The chain id (hex).
    chain_id: String,
}

/// This node's identity, public: a client reads it before signing its first request.
#[utoipa::path(
    get,
    path = "/api/v1/node",
    tag = "ledger",
    responses(
        (status = 200, description = "The node's member id, consortium and chain id", body = NodeIdentity),
        (status = 404, description = "This node runs without a ledger (`ledger_disabled`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn node(_: Require<Public>, State(state): State<SharedState>) -> Result<Json<NodeIdentity>, ApiError> {
    let ledger = service(&state)?.ledger();
    Ok(Json(NodeIdentity {
        member: ledger.local_member().unwrap_or_default().to_owned(),
        consortium: ledger.genesis().consortium.clone(),
        chain_id: ledger.chain_id().to_hex(),
    }))
}

/// The reply to a committed submission.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SubmitReply {
    /// The transaction id (SHA-256 of its signed body, hex).
    tx_id: String,
    /// The block that holds it.
    height: u64,
    /// Its position in the block.
    index: u32,
}

/// Submits a signed transaction (wire JSON); answers `201` once it is durably committed.
///
/// Every submission whose signature verifies is counted by this node's data-quality figures
/// (`GET /api/v1/data-quality`), refused ones included.
///
/// The transaction carries its submitter's Ed25519 signature, which validation checks on every
/// node: no request signature is needed. Submitting the same transaction again answers with the
/// receipt of its first commit.
#[utoipa::path(post, path = "/api/v1/transactions", tag = "ledger",
    request_body(description = "A signed transaction in its wire form (see docs/ledger-format.md)", content = WireTransactionDoc),
    responses(
        (status = 201, description = "Committed", body = SubmitReply),
        (status = 400, description = "Not a wire transaction, or malformed", body = crate::error::ErrorBody),
        (status = 401, description = "The transaction's signature does not verify (`bad_signature`)", body = crate::error::ErrorBody),
        (status = 403, description = "Not a member, suspended, or refused by the write policy", body = crate::error::ErrorBody),
        (status = 409, description = "A replay or a version conflict", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than the node's body limit or the consortium's payload limit", body = crate::error::ErrorBody),
        (status = 422, description = "The record is not valid", body = crate::error::ErrorBody),
        (status = 503, description = "Not committed in time (`ordering_unavailable`): the outcome is unknown; resubmit the same signed transaction to learn it", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn submit(
    _: Require<Public>,
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SubmitReply>), ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    let svc = service(&state)?;
    let malformed = |detail: String| {
        metrics::counter!("borderlink_ledger_transactions_rejected_total", "reason" => "malformed_transaction", crate::metrics::NODE => crate::metrics::node_of(svc.ledger()))
            .increment(1);
        ApiError::Tx(borderlink_ledger::TxError::Malformed(detail))
    };
    let wire: WireTransaction =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("the body is not a wire transaction: {e}")))?;
    let tx = Transaction::from_wire(&wire).map_err(|e| malformed(e.to_string()))?;
    let at_ms = state.clock.now_ms();
    // The observers (data quality) hear of refusals too, which never reach the ledger.
    let observed = (!state.observers.is_empty()).then(|| tx.clone());
    let result = svc.submit(tx).await;
    if let Some(tx) = &observed {
        let outcome = result.as_ref().map(|_| ());
        let node = svc.ledger().local_member().unwrap_or_default();
        crate::submission::notify(&state.observers, &crate::submission::Submitted { tx, outcome, at_ms, node });
    }
    let r = result?;
    Ok((StatusCode::CREATED, Json(SubmitReply { tx_id: r.tx_id.to_hex(), height: r.height, index: r.index })))
}

/// A signed transaction in its wire form, as `POST /api/v1/transactions` takes it (the ledger's
/// `WireTransaction`; described here for the OpenAPI document). The schema says what reads as a
/// wire transaction; whether the body decodes and the signature verifies, only the ledger can
/// tell (`malformed_transaction`, `bad_signature`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documentation only: the body is read as a `WireTransaction`.
pub(crate) struct WireTransactionDoc {
    /// The canonical body bytes (docs/ledger-format.md, `BLTX`), base64 (standard alphabet,
    /// padded, unused bits zero).
    #[schema(pattern = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$")]
    body: String,
    /// The submitter's Ed25519 signature over the body bytes: 64 bytes, base64.
    #[schema(pattern = r"^[A-Za-z0-9+/]{85}[AQgw]==$")]
    signature: String,
    /// The payload bytes (the record, or its ciphertext), base64; empty (or absent) for
    /// off-chain objects and erasures.
    #[serde(default)]
    #[schema(pattern = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$")]
    payload: String,
    /// For a private record: the data key wrapped for each recipient.
    #[serde(default)]
    wrapped_keys: Vec<WrappedKeyDoc>,
}

/// A private record's data key wrapped for one recipient (the ledger's `WrappedKey`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: read as a `WrappedKey`.
pub(crate) struct WrappedKeyDoc {
    /// The recipient member.
    member: String,
    /// The sender's ephemeral X25519 public key, hex.
    ephemeral: String,
    /// The data key encrypted under the key agreed with the recipient, hex.
    wrapped: String,
}

/// Query of `GET /api/v1/records`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only records of this type (`declaration`, `aeo-authorization`, …); `all` or absent for every type.
    #[serde(rename = "type")]
    #[param(inline, value_type = Option<crate::record_types::ListType>)]
    record_type: Option<String>,
    /// At most this many (50 by default, 1,000 at most; 0 answers an empty list).
    #[param(minimum = 0, maximum = 1000)]
    limit: Option<usize>,
    /// Only records whose current version this member wrote.
    submitter: Option<String>,
    /// The page, from 1 (the first, by default): records `limit × (page − 1)` on, newest first,
    /// among those the read policy allows.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<usize>,
    /// The declared purpose (or the `Borderlink-Purpose` header); records the read policy does
    /// not allow for it are left out.
    #[param(inline, value_type = Option<crate::access::reads::PurposeName>)]
    #[allow(dead_code)] // read by `Purposed`
    purpose: Option<String>,
}

/// A list of records.
#[derive(Debug, Serialize)]
pub(crate) struct RecordList {
    records: Vec<serde_json::Value>,
    /// The next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<usize>,
}

/// The most records a filtered list looks through.
const LIST_SCAN: usize = 10_000;

fn with_withheld<T: axum::response::IntoResponse>(
    withheld: &[String],
    purpose: Option<&str>,
    body: T,
) -> axum::response::Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    if let Some(p) = purpose.and_then(|p| axum::http::HeaderValue::from_str(p).ok()) {
        headers.insert("borderlink-purpose", p);
    }
    if !withheld.is_empty()
        && let Ok(v) = axum::http::HeaderValue::from_str(&withheld.join(", "))
    {
        headers.insert("borderlink-withheld", v);
    }
    response
}

/// Lists records, newest first.
#[utoipa::path(get, path = "/api/v1/records", tag = "ledger",
    params(ListQuery),
    responses(
        (status = 200, description = "`{\"records\": [...], \"next_page\"}`: current versions the read policy allows for the purpose, newest first; each with `purpose` and the paths `withheld`; `next_page` when there may be more", body = Object),
        (status = 400, description = "Unknown record type, purpose or query parameter, or a page out of range", body = crate::error::ErrorBody),
        (status = 403, description = "No purpose declared (`purpose_required`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    Service(reads): Service<Reads>,
    purpose: Purposed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<RecordList>, ApiError> {
    let Query(q) = query?;
    let declared = Reads::required(purpose, "listing records")?;
    let l = Arc::clone(service(&state)?.ledger());
    let limit = q.limit.unwrap_or(50);
    if limit > 1000 {
        return Err(ApiError::InvalidQuery(format!("limit must be 0 to 1000; it is {limit}")));
    }
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(ApiError::InvalidQuery(format!("page must be 1 to 100000; it is {page}")));
    }
    let record_type = match q.record_type.as_deref().map(str::trim) {
        None | Some("" | "all") => None,
        Some(name) => Some(RecordType::from_name(name).ok_or_else(|| ApiError::UnknownRecordType(name.to_owned()))?),
    };
    if limit == 0 {
        return Ok(Json(RecordList { records: Vec::new(), next_page: None }));
    }
    let submitter = q.submitter.filter(|s| !s.trim().is_empty());
    let (records, more) = tokio::task::spawn_blocking(move || -> Result<(Vec<Shaped>, bool), ApiError> {
        // The first page as before (the newest `limit`, those refused left out); a later page or
        // a filter pages among the records the policy allows, so no page is short by refusals.
        if page == 1 && submitter.is_none() {
            let versions = l.list(record_type.map(RecordType::name), limit)?;
            let more = versions.len() == limit;
            return Ok((reads.shape_all(&who.principal, purpose, "GET /api/v1/records", versions, true)?, more));
        }
        let mut kept = Vec::new();
        let skip = limit.saturating_mul(page - 1);
        for v in l.list(record_type.map(RecordType::name), LIST_SCAN)? {
            if submitter.as_deref().is_some_and(|s| v.submitter != s) {
                continue;
            }
            if reads.permits(&who.principal, declared, &v)?.is_some() {
                kept.push(v);
            }
            if kept.len() > skip.saturating_add(limit) {
                break;
            }
        }
        let more = kept.len() > skip.saturating_add(limit);
        let on_page: Vec<_> = kept.into_iter().skip(skip).take(limit).collect();
        Ok((reads.shape_all(&who.principal, purpose, "GET /api/v1/records", on_page, true)?, more))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(RecordList { records: records.into_iter().map(|s| s.json).collect(), next_page: more.then_some(page + 1) }))
}

/// How current a read must be.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Consistency {
    /// This node's copy as it is (the default).
    #[default]
    Local,
    /// First wait until this node has applied everything the consortium committed before the
    /// request.
    Linearizable,
}

/// Query of reads that may ask for consistency with everything committed before them.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReadQuery {
    /// `local` (the default) or `linearizable`.
    #[serde(default)]
    #[param(inline)]
    consistency: Consistency,
    /// The declared purpose (or the `Borderlink-Purpose` header).
    #[param(inline, value_type = Option<crate::access::reads::PurposeName>)]
    #[allow(dead_code)] // read by `Purposed`
    purpose: Option<String>,
}

async fn read_consistency(svc: &LedgerService, q: &ReadQuery) -> Result<(), ApiError> {
    match q.consistency {
        Consistency::Local => Ok(()),
        Consistency::Linearizable => svc.linearize().await.map_err(ApiError::Tx),
    }
}

/// A record's current version.
#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "ledger",
    params(("id" = String, Path, description = "The record id"), ReadQuery),
    responses(
        (status = 200, description = "The current version (payload in clear, or its digest and recipients), with `purpose` and the paths `withheld` (also in the `Borderlink-Withheld` header)", body = Object),
        (status = 400, description = "Unknown purpose (`unknown_purpose`)", body = crate::error::ErrorBody),
        (status = 403, description = "No purpose declared, or the read policy does not allow this read for it (`purpose_required`, `purpose_not_allowed`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such record", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn record(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    Service(reads): Service<Reads>,
    purpose: Purposed,
    Path(id): Path<String>,
    query: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query?;
    let svc = service(&state)?;
    Reads::required(purpose, "reading a record")?;
    read_consistency(svc, &q).await?;
    let version = svc.ledger().record(&id)?.ok_or(ApiError::RecordNotFound(id))?;
    let Shaped { json, withheld, .. } = reads.shape(&who.principal, purpose, "GET /api/v1/records/{id}", version)?;
    Ok(with_withheld(&withheld, purpose.0.map(|p| p.name()), Json(json)))
}

/// Every version of a record.
#[derive(Debug, Serialize)]
pub(crate) struct History {
    record_id: String,
    versions: Vec<serde_json::Value>,
}

/// Every version of a record: who changed what and when.
#[utoipa::path(get, path = "/api/v1/records/{id}/history", tag = "ledger",
    params(("id" = String, Path, description = "The record id"), ReadQuery),
    responses(
        (status = 200, description = "`{\"record_id\", \"versions\": [...]}`, oldest first, each with `purpose` and the paths `withheld`", body = Object),
        (status = 400, description = "Unknown purpose (`unknown_purpose`)", body = crate::error::ErrorBody),
        (status = 403, description = "No purpose declared, or the read policy does not allow this read for it (`purpose_required`, `purpose_not_allowed`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such record", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn history(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    Service(reads): Service<Reads>,
    purpose: Purposed,
    Path(id): Path<String>,
    query: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query?;
    let svc = service(&state)?;
    Reads::required(purpose, "reading a record's history")?;
    read_consistency(svc, &q).await?;
    let versions = svc.ledger().history(&id)?;
    if versions.is_empty() {
        return Err(ApiError::RecordNotFound(id));
    }
    let shaped = reads.shape_all(&who.principal, purpose, "GET /api/v1/records/{id}/history", versions, false)?;
    let mut withheld: Vec<String> = shaped.iter().flat_map(|s| s.withheld.iter().cloned()).collect();
    withheld.dedup();
    let versions = shaped.into_iter().map(|s| s.json).collect();
    Ok(with_withheld(&withheld, purpose.0.map(|p| p.name()), Json(History { record_id: id, versions })))
}

/// A private record opened by this node, for a member among its recipients.
#[utoipa::path(get, path = "/api/v1/records/{id}/private", tag = "ledger",
    params(("id" = String, Path, description = "The record id"), PurposeQuery),
    responses(
        (status = 200, description = "The record in clear, without the fields the read policy withholds for the purpose (named in the `Borderlink-Withheld` header)", body = Object),
        (status = 400, description = "Unknown purpose (`unknown_purpose`)", body = crate::error::ErrorBody),
        (status = 403, description = "The caller is not a recipient (`not_recipient`), declared no purpose (`purpose_required`) or one the read policy does not allow (`purpose_not_allowed`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such record", body = crate::error::ErrorBody),
        (status = 410, description = "The record was erased", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn private(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    Service(reads): Service<Reads>,
    purpose: Purposed,
    Path(id): Path<String>,
    query: Result<Query<PurposeQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    query?;
    Reads::required(purpose, "reading a private record")?;
    let l = service(&state)?.ledger();
    let current = l.record(&id)?.ok_or_else(|| ApiError::RecordNotFound(id.clone()))?;
    let member = who.principal.member().unwrap_or_default().to_owned();
    if !current.recipients.contains(&member) {
        return Err(ApiError::Ledger(borderlink_ledger::LedgerError::NotRecipient { record: id, member }));
    }
    let clear = l.read_private(&id, None)?;
    let v = serde_json::from_slice(&clear)
        .map_err(|e| ApiError::Internal(format!("private record {id} does not read as JSON: {e}")))?;
    let Shaped { json, withheld, .. } =
        reads.shape_content(&who.principal, purpose, "GET /api/v1/records/{id}/private", &current, v)?;
    Ok(with_withheld(&withheld, purpose.0.map(|p| p.name()), Json(json)))
}

/// A block with its transactions, their outcomes and the checkpoints signed for it.
#[utoipa::path(get, path = "/api/v1/blocks/{height}", tag = "ledger",
    params(("height" = u64, Path, minimum = 1, description = "The block height (1 is the first block)")),
    responses(
        (status = 200, description = "The block", body = Object),
        (status = 404, description = "No block at this height", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn block(
    _: Require<ReadLedger>,
    State(state): State<SharedState>,
    Path(height): Path<u64>,
) -> Result<Json<BlockView>, ApiError> {
    Ok(Json(block_view(service(&state)?.ledger(), height)?))
}

/// An offline-verifiable proof of a record's current version (`borderlink verify` checks it).
#[utoipa::path(get, path = "/api/v1/proofs/{id}", tag = "ledger",
    params(("id" = String, Path, description = "The record id"), PurposeQuery),
    responses(
        (status = 200, description = "The proof: record, Merkle path, block header, checkpoints", body = Object),
        (status = 400, description = "Unknown purpose (`unknown_purpose`)", body = crate::error::ErrorBody),
        (status = 403, description = "No purpose declared, or the read policy does not allow reading the whole record for it (`purpose_required`, `purpose_not_allowed`): a proof carries the record as signed, nothing withheld", body = crate::error::ErrorBody),
        (status = 404, description = "No such record", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn proof(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    Service(reads): Service<Reads>,
    purpose: Purposed,
    Path(id): Path<String>,
    query: Result<Query<PurposeQuery>, QueryRejection>,
) -> Result<Json<borderlink_ledger::proof::Proof>, ApiError> {
    query?;
    Reads::required(purpose, "a record's proof")?;
    let l = service(&state)?.ledger();
    let version = l.record(&id)?.ok_or_else(|| ApiError::RecordNotFound(id.clone()))?;
    reads.whole(&who.principal, purpose, "GET /api/v1/proofs/{id}", version)?;
    match l.proof(&id) {
        Err(borderlink_ledger::LedgerError::NotFound(_)) => Err(ApiError::RecordNotFound(id)),
        other => Ok(Json(other?)),
    }
}

/// One Server-Sent Event of the stream, as a client reads it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the stream writes `event:`, `id:` and `data:` lines
pub(crate) struct SseEvent {
    /// `block`, `lagged` or `error`.
    event: String,
    /// The block height (`block` events).
    id: Option<String>,
    /// The event's data: for `block`, the JSON of the commit (height, block_hash, records).
    data: String,
}

/// Committed blocks as Server-Sent Events (`event: block`, `id:` the height).
#[utoipa::path(get, path = "/api/v1/events", tag = "ledger",
    responses((status = 200, description = "An event stream: `block` events (height, hash, records), `lagged` when the stream skipped events, `error` when one could not be encoded", content_type = "text/event-stream", body = SseEvent))
)]
pub(crate) async fn events(
    _: Require<ReadLedger>,
    State(state): State<SharedState>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let rx = service(&state)?.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(ev) => match serde_json::to_string(&ev) {
                Ok(data) => Event::default().event("block").id(ev.height.to_string()).data(data),
                Err(e) => {
                    tracing::error!(height = ev.height, error = %e, "a commit event could not be encoded");
                    Event::default().event("error").data(format!("block {} could not be encoded", ev.height))
                }
            },
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                Event::default().event("lagged").data(n.to_string())
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Where an off-chain object was stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BlobReply {
    /// Its SHA-256, hex: the digest an `off-chain` transaction carries.
    sha256: String,
    /// Its size in bytes.
    size: usize,
}

fn blobs(state: &SharedState) -> Result<Arc<BlobStore>, ApiError> {
    service(state)?;
    state.service::<BlobStore>()
}

/// Stores a large object (scan, document) off-chain; the ledger then carries only its SHA-256
/// (an `off-chain` transaction whose digest is this hash).
#[utoipa::path(put, path = "/api/v1/blobs", tag = "ledger",
    request_body(description = "The object's bytes", content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored", body = BlobReply),
        (status = 413, description = "Larger than the node's body limit", body = crate::error::ErrorBody),
        (status = 507, description = "The member's off-chain storage quota on this node would be exceeded (`blob_quota_exceeded`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_blob(
    who: Require<StoreBlobs>,
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<BlobReply>), ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    if body.is_empty() {
        return Err(ApiError::BadRequest("an empty object is not stored: send the object's bytes".into()));
    }
    let store = blobs(&state)?;
    let size = body.len();
    let member = who.principal.member().unwrap_or("operator").to_owned();
    let quota = state.blob_quota_bytes;
    let h = tokio::task::spawn_blocking(move || store.put_for(&member, &body, quota))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok((StatusCode::CREATED, Json(BlobReply { sha256: h.to_hex(), size })))
}

/// An off-chain object, checked against its hash before it is sent.
#[utoipa::path(get, path = "/api/v1/blobs/{sha256}", tag = "ledger",
    params(("sha256" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The object's SHA-256, hex"), PurposeQuery),
    responses(
        (status = 200, description = "The object's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "Not a SHA-256 in hex, or an unknown purpose", body = crate::error::ErrorBody),
        (status = 403, description = "No purpose declared (`purpose_required`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such object here", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get_blob(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    Service(reads): Service<Reads>,
    purpose: Purposed,
    Path(hash): Path<String>,
    query: Result<Query<PurposeQuery>, QueryRejection>,
) -> Result<Vec<u8>, ApiError> {
    query?;
    let declared = Reads::required(purpose, "fetching an off-chain object")?;
    let store = blobs(&state)?;
    let h = borderlink_ledger::Hash::from_hex(&hash)
        .ok_or_else(|| ApiError::BadRequest(format!("{hash} is not a SHA-256 in hex")))?;
    let bytes = tokio::task::spawn_blocking(move || store.get(&h))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??
        .ok_or(ApiError::RecordNotFound(format!("blob {hash}")))?;
    reads.record_object(&who.principal, declared, "GET /api/v1/blobs/{sha256}", &hash)?;
    Ok(bytes)
}
