//! The ledger API: submit signed transactions, read records, history, blocks and proofs, follow
//! commits live.
//!
//! Invariant: every endpoint here that reads shared data authenticates the caller — a member's
//! signed request (`Authorization: Borderlink member=…, ts=…, sig=…`) or the node operator's
//! console session — and only then answers. Submissions are authenticated by the transaction's
//! own signature.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use borderlink_ledger::block::{Checkpoint, TxOutcome};
use borderlink_ledger::{RecordVersion, Transaction, WireTransaction};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ordering::{LedgerService, now_ms};
use crate::server::SharedState;

fn service(state: &SharedState) -> Result<&Arc<LedgerService>, ApiError> {
    state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)
}

/// An authenticated caller (the member id), for requests without a body: extracting it runs
/// [`authenticate`], so a handler that takes a `Caller` cannot answer an unauthenticated request.
pub(crate) struct Caller(pub(crate) String);

impl axum::extract::FromRequestParts<SharedState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &SharedState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers, &parts.method, &parts.uri, b"").map(Caller)
    }
}

/// Who is asking: a member authenticated by its request signature, or the console session.
pub(crate) fn authenticate(
    state: &SharedState,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<String, ApiError> {
    let svc = service(state)?;
    if let (Some(token), Some(expected)) = (crate::session::token(headers), state.console_token.as_deref())
        && crate::session::same(&token, expected)
    {
        return Ok(svc.ledger().local_member().unwrap_or_default().to_owned());
    }
    let header = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
        ApiError::Unauthenticated(
            "this endpoint needs a member's signed request (Authorization: Borderlink member=…, ts=…, sig=…)".into(),
        )
    })?;
    let req =
        borderlink_ledger::auth::SignedRequest::parse(header).map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
    let member = svc
        .ledger()
        .members()
        .into_iter()
        .find(|m| m.id == req.member && m.status == borderlink_ledger::identity::MemberStatus::Active)
        .ok_or_else(|| ApiError::Unauthenticated(format!("{} is not an active member", req.member)))?;
    let key = member.verifying_key().map_err(ApiError::from)?;
    let pq = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    req.verify(&key, method.as_str(), pq, body, now_ms()).map_err(|e| {
        metrics::counter!("borderlink_auth_rejected_total").increment(1);
        ApiError::Unauthenticated(e.to_string())
    })?;
    Ok(member.id)
}

/// The consortium as this node sees it.
#[derive(Debug, Serialize)]
pub(crate) struct NetworkView {
    consortium: String,
    chain_id: String,
    local_member: Option<String>,
    head: Option<HeadView>,
    members: Vec<MemberView>,
    /// The Raft group, when the ledger is replicated.
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<crate::raft::ClusterStatus>,
}

#[derive(Debug, Serialize)]
struct HeadView {
    height: u64,
    hash: String,
}

#[derive(Debug, Serialize)]
struct MemberView {
    id: String,
    name: String,
    role: &'static str,
    country: String,
    status: borderlink_ledger::identity::MemberStatus,
    signing_key: String,
    encryption_key: String,
    trader_ids: Vec<String>,
}

/// `GET /api/v1/network`: consortium, chain id, head and members (with public keys).
pub(crate) async fn network(State(state): State<SharedState>, _caller: Caller) -> Result<Json<NetworkView>, ApiError> {
    let l = service(&state)?.ledger();
    Ok(Json(NetworkView {
        consortium: l.genesis().consortium.clone(),
        chain_id: l.chain_id().to_hex(),
        local_member: l.local_member().map(str::to_owned),
        head: l.head().map(|h| HeadView { height: h.height, hash: h.hash().to_hex() }),
        cluster: service(&state)?.cluster().map(|c| c.status()),
        members: l
            .members()
            .into_iter()
            .map(|m| MemberView {
                role: m.role.name(),
                id: m.id,
                name: m.name,
                country: m.country,
                status: m.status,
                signing_key: m.signing_key,
                encryption_key: m.encryption_key,
                trader_ids: m.trader_ids,
            })
            .collect(),
    }))
}

/// The reply to a committed submission.
#[derive(Debug, Serialize)]
pub(crate) struct SubmitReply {
    tx_id: String,
    height: u64,
    index: u32,
}

/// `POST /api/v1/transactions`: a signed transaction (wire JSON); `201` once durably committed.
pub(crate) async fn submit(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<(StatusCode, Json<SubmitReply>), ApiError> {
    let svc = service(&state)?;
    let wire: WireTransaction = serde_json::from_slice(&body).map_err(|e| {
        metrics::counter!("borderlink_ledger_transactions_rejected_total", "reason" => "malformed_transaction")
            .increment(1);
        ApiError::Tx(borderlink_ledger::TxError::Malformed(format!("the body is not a wire transaction: {e}")))
    })?;
    let tx = Transaction::from_wire(&wire).map_err(|e| {
        metrics::counter!("borderlink_ledger_transactions_rejected_total", "reason" => "malformed_transaction")
            .increment(1);
        ApiError::Tx(borderlink_ledger::TxError::Malformed(e.to_string()))
    })?;
    let r = svc.submit(tx).await?;
    Ok((StatusCode::CREATED, Json(SubmitReply { tx_id: r.tx_id.to_hex(), height: r.height, index: r.index })))
}

/// Query of `GET /api/v1/records`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(rename = "type")]
    record_type: Option<String>,
    limit: Option<usize>,
}

/// A list of records.
#[derive(Debug, Serialize)]
pub(crate) struct RecordList {
    records: Vec<RecordVersion>,
}

/// `GET /api/v1/records?type=&limit=`: newest records first.
pub(crate) async fn list(
    State(state): State<SharedState>,
    _caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<RecordList>, ApiError> {
    let l = Arc::clone(service(&state)?.ledger());
    let limit = q.limit.unwrap_or(50).min(1000);
    let t = q.record_type.filter(|t| !t.is_empty() && t != "all");
    let records = tokio::task::spawn_blocking(move || l.list(t.as_deref(), limit))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(RecordList { records }))
}

/// Query of reads that may ask for consistency with everything committed before them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadQuery {
    /// `local` (the default: this node's copy as it is) or `linearizable` (first wait until this
    /// node has applied everything the consortium committed before the request).
    consistency: Option<String>,
}

async fn read_consistency(svc: &LedgerService, q: &ReadQuery) -> Result<(), ApiError> {
    match q.consistency.as_deref() {
        None | Some("local") => Ok(()),
        Some("linearizable") => svc.linearize().await.map_err(ApiError::Tx),
        Some(other) => Err(ApiError::InvalidQuery(format!("consistency={other:?}: expected local or linearizable"))),
    }
}

/// `GET /api/v1/records/{id}[?consistency=linearizable]`: the current version.
pub(crate) async fn record(
    State(state): State<SharedState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
) -> Result<Json<RecordVersion>, ApiError> {
    let svc = service(&state)?;
    read_consistency(svc, &q).await?;
    svc.ledger().record(&id)?.map(Json).ok_or(ApiError::RecordNotFound(id))
}

/// Every version of a record.
#[derive(Debug, Serialize)]
pub(crate) struct History {
    record_id: String,
    versions: Vec<RecordVersion>,
}

/// `GET /api/v1/records/{id}/history[?consistency=linearizable]`: who changed what and when.
pub(crate) async fn history(
    State(state): State<SharedState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
) -> Result<Json<History>, ApiError> {
    let svc = service(&state)?;
    read_consistency(svc, &q).await?;
    let versions = svc.ledger().history(&id)?;
    if versions.is_empty() {
        return Err(ApiError::RecordNotFound(id));
    }
    Ok(Json(History { record_id: id, versions }))
}

/// `GET /api/v1/records/{id}/private`: a private record opened by this node, for a recipient.
pub(crate) async fn private(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let l = service(&state)?.ledger();
    let current = l.record(&id)?.ok_or_else(|| ApiError::RecordNotFound(id.clone()))?;
    if !current.recipients.iter().any(|r| r == &who) {
        return Err(ApiError::Ledger(borderlink_ledger::LedgerError::NotRecipient { record: id, member: who }));
    }
    let clear = l.read_private(&id, None)?;
    let v = serde_json::from_slice(&clear).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(v))
}

/// A block as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct BlockView {
    hash: String,
    header: borderlink_ledger::block::BlockHeader,
    transactions: Vec<TxView>,
    checkpoints: Vec<Checkpoint>,
}

#[derive(Debug, Serialize)]
struct TxView {
    tx_id: String,
    record_id: String,
    record_type: String,
    version: u64,
    kind: borderlink_ledger::tx::TxKind,
    submitter: String,
    payload_kind: borderlink_ledger::tx::PayloadKind,
    outcome: TxOutcome,
}

pub(crate) fn block_view(l: &borderlink_ledger::Ledger, height: u64) -> Result<BlockView, ApiError> {
    let b = l.block(height)?.ok_or(ApiError::BlockNotFound(height))?;
    let transactions = b
        .txs
        .iter()
        .zip(&b.results)
        .filter_map(|(t, o)| {
            let body = t.body().ok()?;
            Some(TxView {
                tx_id: t.id().to_hex(),
                record_id: body.record_id,
                record_type: body.record_type,
                version: body.version,
                kind: body.kind,
                submitter: body.submitter,
                payload_kind: body.payload_kind,
                outcome: o.clone(),
            })
        })
        .collect();
    Ok(BlockView {
        hash: b.header.hash().to_hex(),
        header: b.header,
        transactions,
        checkpoints: l.checkpoints(height)?,
    })
}

/// `GET /api/v1/blocks/{height}`.
pub(crate) async fn block(
    State(state): State<SharedState>,
    _caller: Caller,
    Path(height): Path<u64>,
) -> Result<Json<BlockView>, ApiError> {
    Ok(Json(block_view(service(&state)?.ledger(), height)?))
}

/// `GET /api/v1/proofs/{id}`: an offline-verifiable proof of the record's current version.
pub(crate) async fn proof(
    State(state): State<SharedState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<borderlink_ledger::proof::Proof>, ApiError> {
    let l = service(&state)?.ledger();
    match l.proof(&id) {
        Err(borderlink_ledger::LedgerError::NotFound(_)) => Err(ApiError::RecordNotFound(id)),
        other => Ok(Json(other?)),
    }
}

/// `GET /api/v1/events`: committed blocks as Server-Sent Events (`event: block`).
pub(crate) async fn events(
    State(state): State<SharedState>,
    _caller: Caller,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let rx = service(&state)?.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(ev) => {
                let data = serde_json::to_string(&ev).unwrap_or_default();
                Some((Ok(Event::default().event("block").id(ev.height.to_string()).data(data)), rx))
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                Some((Ok(Event::default().event("lagged").data(n.to_string())), rx))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Where an off-chain object was stored.
#[derive(Debug, Serialize)]
pub(crate) struct BlobReply {
    sha256: String,
    size: usize,
}

/// `PUT /api/v1/blobs`: stores a large object (scan, document) off-chain; the ledger then
/// carries only its SHA-256 (an `off-chain` transaction whose digest is this hash).
pub(crate) async fn put_blob(
    State(state): State<SharedState>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Result<(StatusCode, Json<BlobReply>), ApiError> {
    authenticate(&state, &headers, &method, &uri, &body)?;
    let store = state.blobs.clone().ok_or(ApiError::LedgerDisabled)?;
    let size = body.len();
    let h = tokio::task::spawn_blocking(move || store.put(&body))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok((StatusCode::CREATED, Json(BlobReply { sha256: h.to_hex(), size })))
}

/// `GET /api/v1/blobs/{sha256}`: an off-chain object, checked against its hash before it is sent.
pub(crate) async fn get_blob(
    State(state): State<SharedState>,
    _caller: Caller,
    Path(hash): Path<String>,
) -> Result<Vec<u8>, ApiError> {
    let store = state.blobs.clone().ok_or(ApiError::LedgerDisabled)?;
    let h = borderlink_ledger::Hash::from_hex(&hash)
        .ok_or_else(|| ApiError::BadRequest(format!("{hash} is not a SHA-256 in hex")))?;
    tokio::task::spawn_blocking(move || store.get(&h))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??
        .ok_or(ApiError::RecordNotFound(format!("blob {hash}")))
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics() -> String {
    crate::metrics::render().await
}
