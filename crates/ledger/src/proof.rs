//! Offline-verifiable proofs of a record.
//!
//! A proof carries the transaction (body, signature and — for clear records — the payload; for
//! private records only the signed digest), its Merkle path, the block header and the checkpoint
//! signatures over that header's hash. [`Proof::verify`] needs only the proof and the genesis:
//! no node, no network. Each failure names what failed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};

use crate::block::{Block, BlockHeader, Checkpoint};
use crate::genesis::Genesis;
use crate::tx::{PayloadKind, TxBody};
use crate::{Hash, LedgerError, merkle};

/// The proof format written by this release.
pub const PROOF_FORMAT: &str = "borderlink-proof/1";

/// A self-contained proof that a record version is on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// `borderlink-proof/1`.
    pub format: String,
    /// The record id (for the reader; the signed body is authoritative).
    pub record_id: String,
    /// The record type.
    pub record_type: String,
    /// The version proven.
    pub version: u64,
    /// Base64 of the transaction's canonical body.
    pub tx_body: String,
    /// Base64 of the submitter's signature.
    pub tx_signature: String,
    /// Base64 of the payload (clear records); absent for private records, whose digest is in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// The record as JSON (clear records), for the reader's convenience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<serde_json::Value>,
    /// Index of the transaction in its block.
    pub index: u64,
    /// Merkle audit path, hex hashes from the leaf up.
    pub merkle_path: Vec<Hash>,
    /// The block header.
    pub header: BlockHeader,
    /// Member nodes' signatures over the block hash.
    pub checkpoints: Vec<Checkpoint>,
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof file is not a proof.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The proof is for another consortium.
    #[error("wrong chain: the proof is for chain {proof}, the genesis is chain {genesis}")]
    WrongChain {
        /// Chain in the proof.
        proof: Hash,
        /// Chain of the genesis.
        genesis: Hash,
    },
    /// The record (payload) was altered.
    #[error("altered record: {0}")]
    AlteredRecord(String),
    /// The transaction's signature does not verify.
    #[error("wrong transaction signature: {0}")]
    WrongTxSignature(String),
    /// The Merkle path does not lead to the header's root.
    #[error("wrong Merkle path: the transaction does not lead to the block's transaction root")]
    WrongPath,
    /// A checkpoint signer is not a member.
    #[error("unknown signer: {0} is not a member of this consortium")]
    UnknownSigner(String),
    /// A checkpoint signature does not verify.
    #[error("wrong checkpoint signature by {0}: it does not sign this block header")]
    WrongSignature(String),
    /// No checkpoint at all.
    #[error("no checkpoint: no member has signed the block")]
    NoCheckpoint,
}

/// What a verified proof establishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Record id.
    pub record_id: String,
    /// Version.
    pub version: u64,
    /// Block height.
    pub height: u64,
    /// Block hash.
    pub block_hash: Hash,
    /// Submitter.
    pub submitter: String,
    /// The members whose checkpoints verified.
    pub signed_by: Vec<String>,
}

impl Proof {
    /// Builds the proof of transaction `index` of `block`.
    pub fn build(block: &Block, index: usize, checkpoints: Vec<Checkpoint>) -> Result<Self, LedgerError> {
        let t = block.txs.get(index).ok_or_else(|| LedgerError::NotFound(format!("transaction {index}")))?;
        let body =
            t.body().map_err(|e| LedgerError::Corrupt { height: Some(block.header.height), detail: e.to_string() })?;
        let leaves: Vec<Hash> = block.txs.iter().map(|t| t.leaf()).collect();
        let path = merkle::path(&leaves, index).ok_or_else(|| LedgerError::NotFound(format!("transaction {index}")))?;
        let clear = body.payload_kind == PayloadKind::Clear;
        Ok(Self {
            format: PROOF_FORMAT.into(),
            record_id: body.record_id.clone(),
            record_type: body.record_type.clone(),
            version: body.version,
            tx_body: B64.encode(&t.body_bytes),
            tx_signature: B64.encode(t.signature),
            payload: clear.then(|| B64.encode(&t.payload)),
            record: if clear { serde_json::from_slice(&t.payload).ok() } else { None },
            index: index as u64,
            merkle_path: path,
            header: block.header.clone(),
            checkpoints,
        })
    }

    /// Verifies the proof against a genesis, offline.
    pub fn verify(&self, genesis: &Genesis) -> Result<Verified, ProofError> {
        if self.format != PROOF_FORMAT {
            return Err(ProofError::Malformed(format!("format {:?} is not {PROOF_FORMAT}", self.format)));
        }
        let chain = genesis.chain_id();
        if self.header.chain != chain {
            return Err(ProofError::WrongChain { proof: self.header.chain, genesis: chain });
        }
        let body_bytes = B64.decode(&self.tx_body).map_err(|e| ProofError::Malformed(format!("tx_body: {e}")))?;
        let sig = B64.decode(&self.tx_signature).map_err(|e| ProofError::Malformed(format!("tx_signature: {e}")))?;
        let body = TxBody::decode(&body_bytes).map_err(|e| ProofError::Malformed(format!("tx_body: {e}")))?;
        if body.record_id != self.record_id || body.version != self.version || body.record_type != self.record_type {
            return Err(ProofError::AlteredRecord(
                "the record id, type or version differs from the signed transaction".into(),
            ));
        }
        if let Some(p) = &self.payload {
            let payload = B64.decode(p).map_err(|e| ProofError::Malformed(format!("payload: {e}")))?;
            if Hash::of(&payload) != body.payload_digest {
                return Err(ProofError::AlteredRecord("the payload's SHA-256 differs from the signed digest".into()));
            }
            if let Some(r) = &self.record {
                let parsed: serde_json::Value =
                    serde_json::from_slice(&payload).map_err(|e| ProofError::Malformed(e.to_string()))?;
                if &parsed != r {
                    return Err(ProofError::AlteredRecord("the record shown differs from the signed payload".into()));
                }
            }
        } else if self.record.is_some() {
            return Err(ProofError::AlteredRecord("a record is shown without its signed payload".into()));
        }
        let submitter = genesis
            .member(&body.submitter)
            .ok_or_else(|| ProofError::WrongTxSignature(format!("submitter {} is not a member", body.submitter)))?;
        let key = submitter.verifying_key().map_err(|e| ProofError::Malformed(e.to_string()))?;
        let sig: [u8; 64] =
            sig.as_slice().try_into().map_err(|_| ProofError::Malformed("signature must be 64 bytes".into()))?;
        key.verify_strict(&body_bytes, &Signature::from_bytes(&sig)).map_err(|_| {
            ProofError::WrongTxSignature(format!("the transaction is not signed by {}", body.submitter))
        })?;
        let leaf = Hash::of_parts(&[&body_bytes, &sig]);
        let root = merkle::root_from_path(&leaf, self.index, u64::from(self.header.tx_count), &self.merkle_path);
        if root != Some(self.header.tx_root) {
            return Err(ProofError::WrongPath);
        }
        let block_hash = self.header.hash();
        if self.checkpoints.is_empty() {
            return Err(ProofError::NoCheckpoint);
        }
        let mut signed_by = Vec::new();
        for cp in &self.checkpoints {
            let m = genesis.member(&cp.member).ok_or_else(|| ProofError::UnknownSigner(cp.member.clone()))?;
            let k = m.verifying_key().map_err(|e| ProofError::Malformed(e.to_string()))?;
            if cp.block_hash != block_hash || cp.height != self.header.height || !cp.verify(&chain, &k) {
                return Err(ProofError::WrongSignature(cp.member.clone()));
            }
            signed_by.push(cp.member.clone());
        }
        Ok(Verified {
            record_id: body.record_id,
            version: body.version,
            height: self.header.height,
            block_hash,
            submitter: body.submitter,
            signed_by,
        })
    }
}
