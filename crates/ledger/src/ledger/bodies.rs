//! The transaction bodies clients build to submit: a put of a record of the dataset (its policy
//! attributes derived from the record, so they match what validation derives) and a governance
//! proposal; an erasure; and the next version to write.

use super::RecordState;
use crate::tx::{PayloadKind, RecordMeta, TxBody, TxKind};
use crate::{Hash, meta};

/// Helper for clients: the next version to write for a record (1 when it does not exist).
pub fn next_version(state: Option<&RecordState>) -> u64 {
    state.map_or(1, |s| s.version + 1)
}

/// Builds a put transaction body for a record of the dataset (clear), deriving its attributes.
#[allow(clippy::too_many_arguments)] // each argument is a distinct field of the signed body
pub fn clear_put_body(
    chain: Hash,
    record: &borderlink_model::Record,
    record_id: &str,
    version: u64,
    payload: &[u8],
    submitter: &str,
    nonce: u64,
    timestamp_ms: i64,
) -> TxBody {
    TxBody {
        chain,
        kind: TxKind::Put,
        record_type: record.record_type().name().to_owned(),
        record_id: record_id.to_owned(),
        version,
        meta: meta::derive(record),
        payload_kind: PayloadKind::Clear,
        payload_digest: Hash::of(payload),
        payload_len: payload.len() as u64,
        media_type: "application/json".into(),
        private: None,
        submitter: submitter.to_owned(),
        nonce,
        timestamp_ms,
        endorsement: None,
    }
}

/// Builds the body of a governance transaction carrying `proposal` (the JSON of a
/// [`crate::governance::Proposal`]) under the proposal id `record_id`.
pub fn governance_body(
    chain: Hash,
    record_id: &str,
    proposal: &[u8],
    submitter: &str,
    nonce: u64,
    timestamp_ms: i64,
) -> TxBody {
    TxBody {
        chain,
        kind: TxKind::Governance,
        record_type: "governance".into(),
        record_id: record_id.to_owned(),
        version: 1,
        meta: RecordMeta::default(),
        payload_kind: PayloadKind::Clear,
        payload_digest: Hash::of(proposal),
        payload_len: proposal.len() as u64,
        media_type: "application/json".into(),
        private: None,
        submitter: submitter.to_owned(),
        nonce,
        timestamp_ms,
        endorsement: None,
    }
}

/// Builds the body of an erasure (crypto-shredding) of `record_id`, whose current version is
/// `current_version`.
pub fn erase_body(
    chain: Hash,
    record_type: &str,
    record_id: &str,
    current_version: u64,
    submitter: &str,
    nonce: u64,
    timestamp_ms: i64,
) -> TxBody {
    TxBody {
        chain,
        kind: TxKind::Erase,
        record_type: record_type.to_owned(),
        record_id: record_id.to_owned(),
        version: current_version + 1,
        meta: RecordMeta::default(),
        payload_kind: PayloadKind::Empty,
        payload_digest: Hash::of(&[]),
        payload_len: 0,
        media_type: String::new(),
        private: None,
        submitter: submitter.to_owned(),
        nonce,
        timestamp_ms,
        endorsement: None,
    }
}
