//! Blocks and checkpoints.
//!
//! A block commits, through its header, to the previous block (hash chain), to its transactions
//! (Merkle root of their leaves) and to the outcome of validating each of them (`results_root`):
//! as in Fabric, an invalid transaction stays in the block, marked with its reason, and is never
//! applied. A checkpoint is a member node's Ed25519 signature over a block hash; with it, a
//! header chain and a Merkle path, anyone can verify a record offline.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, Reader, Writer};
use crate::tx::{MAX_NAME, Transaction, TxBody};
use crate::{Hash, merkle};

const HEADER_MAGIC: &[u8; 4] = b"BLBK";
const CHECKPOINT_MAGIC: &[u8; 4] = b"BLCP";
/// The block format written by this release.
pub const BLOCK_FORMAT: u8 = 1;
/// Longest transaction body accepted in a stored block.
const MAX_BODY: usize = 64 * 1024;

/// A block header: everything a block's hash covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The chain (genesis hash).
    pub chain: Hash,
    /// Height, from 1.
    pub height: u64,
    /// Hash of the previous block's header (the chain id for block 1).
    pub prev_hash: Hash,
    /// Merkle root of the transactions' leaves.
    pub tx_root: Hash,
    /// SHA-256 of the encoded validation outcomes.
    pub results_root: Hash,
    /// When the block was cut (ordering service clock), ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// The member whose node proposed the block.
    pub proposer: String,
    /// Number of transactions.
    pub tx_count: u32,
}

impl BlockHeader {
    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(HEADER_MAGIC).u8(BLOCK_FORMAT).hash(&self.chain).u64(self.height).hash(&self.prev_hash);
        w.hash(&self.tx_root).hash(&self.results_root).i64(self.timestamp_ms).str(&self.proposer).u32(self.tx_count);
        w.finish()
    }

    /// Decodes canonical bytes.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        Self::read(&mut r).and_then(|h| r.end().map(|()| h))
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.raw(4, "block magic")? != HEADER_MAGIC {
            return Err(DecodeError::Unknown { what: "block magic", value: 0 });
        }
        let v = r.u8("block format")?;
        if v != BLOCK_FORMAT {
            return Err(DecodeError::Unknown { what: "block format", value: v.into() });
        }
        Ok(Self {
            chain: r.hash("chain")?,
            height: r.u64("height")?,
            prev_hash: r.hash("previous hash")?,
            tx_root: r.hash("transaction root")?,
            results_root: r.hash("results root")?,
            timestamp_ms: r.i64("timestamp")?,
            proposer: r.str("proposer", MAX_NAME)?.to_owned(),
            tx_count: r.u32("transaction count")?,
        })
    }

    /// The block hash: SHA-256 of the canonical header.
    pub fn hash(&self) -> Hash {
        Hash::of(&self.encode())
    }
}

/// The outcome of validating one transaction of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum TxOutcome {
    /// Applied.
    Valid,
    /// Not applied, with a stable code and a reason.
    Invalid {
        /// Stable code (`bad_signature`, `policy_denied`, `stale_version`, …).
        code: String,
        /// Plain explanation.
        reason: String,
    },
}

impl TxOutcome {
    /// Whether the transaction was applied.
    pub fn is_valid(&self) -> bool {
        matches!(self, TxOutcome::Valid)
    }
}

/// The root committing to a block's outcomes.
pub fn results_root(results: &[TxOutcome]) -> Hash {
    let mut w = Writer::new();
    w.u32(results.len() as u32);
    for r in results {
        match r {
            TxOutcome::Valid => {
                w.u8(0);
            }
            TxOutcome::Invalid { code, reason } => {
                w.u8(1).str(code).str(reason);
            }
        }
    }
    Hash::of(&w.finish())
}

/// A transaction as a block stores it: body, signature and payload; the wrapped keys of private
/// records are kept apart so that erasure does not touch the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockTx {
    /// Canonical body bytes.
    pub body_bytes: Vec<u8>,
    /// Submitter's signature.
    pub signature: [u8; 64],
    /// Payload bytes.
    pub payload: Vec<u8>,
}

impl BlockTx {
    /// From a transaction.
    pub fn of(tx: &Transaction) -> Self {
        Self { body_bytes: tx.body_bytes.clone(), signature: tx.signature, payload: tx.payload.clone() }
    }
    /// The Merkle leaf.
    pub fn leaf(&self) -> Hash {
        Hash::of_parts(&[&self.body_bytes, &self.signature])
    }
    /// The transaction id.
    pub fn id(&self) -> Hash {
        Hash::of(&self.body_bytes)
    }
    /// The decoded body.
    pub fn body(&self) -> Result<TxBody, DecodeError> {
        TxBody::decode(&self.body_bytes)
    }
}

/// A block: header, transactions and their outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, in order.
    pub txs: Vec<BlockTx>,
    /// Their outcomes, in the same order.
    pub results: Vec<TxOutcome>,
}

impl Block {
    /// Canonical bytes of the whole block (as stored).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(&self.header.encode()).u32(self.txs.len() as u32);
        for t in &self.txs {
            w.bytes(&t.body_bytes).raw(&t.signature).bytes(&t.payload);
        }
        for r in &self.results {
            match r {
                TxOutcome::Valid => {
                    w.u8(0);
                }
                TxOutcome::Invalid { code, reason } => {
                    w.u8(1).str(code).str(reason);
                }
            }
        }
        w.finish()
    }

    /// Decodes only the header of a stored block (it comes first), without its transactions.
    pub fn decode_header(b: &[u8]) -> Result<BlockHeader, DecodeError> {
        let mut r = Reader::new(b);
        BlockHeader::decode(r.bytes("header", 4096)?)
    }

    /// Decodes a stored block.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let header = BlockHeader::decode(r.bytes("header", 4096)?)?;
        let n = r.u32("transaction count")? as usize;
        if n != header.tx_count as usize {
            return Err(DecodeError::Unknown { what: "transaction count (differs from header)", value: n as u64 });
        }
        let mut txs = Vec::with_capacity(n.min(65_536));
        for _ in 0..n {
            let body_bytes = r.bytes("transaction body", MAX_BODY)?.to_vec();
            let mut signature = [0u8; 64];
            signature.copy_from_slice(r.raw(64, "signature")?);
            let payload = r.bytes("payload", 64 * 1024 * 1024)?.to_vec();
            txs.push(BlockTx { body_bytes, signature, payload });
        }
        let mut results = Vec::with_capacity(n.min(65_536));
        for _ in 0..n {
            results.push(match r.u8("outcome")? {
                0 => TxOutcome::Valid,
                1 => TxOutcome::Invalid {
                    code: r.str("code", 256)?.to_owned(),
                    reason: r.str("reason", 4096)?.to_owned(),
                },
                v => return Err(DecodeError::Unknown { what: "outcome", value: v.into() }),
            });
        }
        r.end()?;
        Ok(Self { header, txs, results })
    }

    /// The Merkle root of this block's transactions, recomputed.
    pub fn computed_tx_root(&self) -> Hash {
        let leaves: Vec<Hash> = self.txs.iter().map(BlockTx::leaf).collect();
        merkle::root(&leaves)
    }
}

/// A member node's signature over a block hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The block height.
    pub height: u64,
    /// The block hash signed.
    pub block_hash: Hash,
    /// The signing member.
    pub member: String,
    /// Ed25519 signature, hex.
    pub signature: String,
}

/// The bytes a checkpoint signature covers.
pub fn checkpoint_message(chain: &Hash, height: u64, block_hash: &Hash) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(CHECKPOINT_MAGIC).hash(chain).u64(height).hash(block_hash);
    w.finish()
}

impl Checkpoint {
    /// Whether the signature is the member's over this block.
    pub fn verify(&self, chain: &Hash, key: &VerifyingKey) -> bool {
        let Ok(sig) = hex::decode(&self.signature) else { return false };
        let Ok(sig) = Signature::from_slice(&sig) else { return false };
        key.verify(&checkpoint_message(chain, self.height, &self.block_hash), &sig).is_ok()
    }
}
