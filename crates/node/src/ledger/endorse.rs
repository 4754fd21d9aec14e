//! `POST /api/v1/endorsements`: the competent customs administration's node opens a private
//! declaration and endorses it (see `borderlink_ledger::Ledger::endorse`). A submitter asks for
//! the endorsement before signing; the ledger accepts no private declaration without one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use borderlink_ledger::TxError;
use borderlink_ledger::tx::{TxBody, WrappedKey};
use serde::{Deserialize, Serialize};

use super::api::service;
use crate::error::{ApiError, bytes_rejection};
use crate::principal::{ReadLedger, Require};
use crate::server::SharedState;

/// What a submitter sends for endorsement: the body it will sign (format 1, without
/// endorsement), the ciphertext and the wrapped keys.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndorsementRequest {
    /// The unsigned transaction body (docs/ledger-format.md, `BLTX` format 1), base64.
    body: String,
    /// The ciphertext, base64.
    payload: String,
    /// The wrapped data keys, one per recipient, in recipient order.
    #[schema(value_type = Vec<Object>)]
    wrapped_keys: Vec<WrappedKey>,
}

/// The endorsement to put in the body before signing it (format 2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndorsementReply {
    /// The endorsing member (this node's customs administration).
    member: String,
    /// Its Ed25519 signature over the endorsement message, base64.
    signature: String,
}

/// Opens a private declaration addressed to this node's customs administration and endorses it
/// when it is a valid declaration with the body's attributes and id. Only the body's submitter
/// may ask.
#[utoipa::path(post, path = "/api/v1/endorsements", tag = "ledger",
    request_body(description = "The unsigned body, the ciphertext and the wrapped keys", content = EndorsementRequest),
    responses(
        (status = 200, description = "Endorsed", body = EndorsementReply),
        (status = 400, description = "Not an endorsement request, or not a private declaration", body = crate::error::ErrorBody),
        (status = 403, description = "The caller is not the body's submitter", body = crate::error::ErrorBody),
        (status = 422, description = "This node's administration cannot read it (`customs_cannot_read`), or it is not the declaration the body describes (`invalid_record`, `meta_mismatch`, `wrong_record_id`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn endorse(
    who: Require<ReadLedger>,
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EndorsementReply>, ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, state.max_body_bytes))?;
    let malformed = |d: String| ApiError::Tx(TxError::Malformed(d));
    let req: EndorsementRequest =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("the body is not an endorsement request: {e}")))?;
    let bytes = B64.decode(&req.body).map_err(|e| malformed(format!("body is not base64: {e}")))?;
    let tx_body = TxBody::decode(&bytes).map_err(|e| malformed(format!("body: {e}")))?;
    let ciphertext = B64.decode(&req.payload).map_err(|e| malformed(format!("payload is not base64: {e}")))?;
    let caller = who.principal.member().unwrap_or_default();
    if caller != tx_body.submitter {
        return Err(ApiError::Forbidden(format!(
            "only the submitter ({}) asks for the endorsement of its transaction; the caller is {caller}",
            tx_body.submitter
        )));
    }
    let ledger = std::sync::Arc::clone(service(&state)?.ledger());
    let wrapped = req.wrapped_keys;
    let e = tokio::task::spawn_blocking(move || ledger.endorse(&tx_body, &ciphertext, &wrapped))
        .await
        .map_err(|e| ApiError::Internal(format!("endorsement task failed: {e}")))??;
    Ok(Json(EndorsementReply { member: e.member, signature: B64.encode(e.signature) }))
}
