//! Replicated ordering: the consortium's nodes agree on one order of blocks with openraft
//! (pinned exactly, `=0.9.25`), behind the [`crate::Ordering`] trait.
//!
//! - A Raft log entry is one proposed block: the leader's batch of signed transactions with the
//!   leader's timestamp and member id ([`Batch`]). The log lives in `DATA/raft/log.redb`
//!   ([`log_store`]).
//! - The state machine is the ledger itself ([`state_machine`]): applying an entry re-validates
//!   every transaction on every node (signature, policy, version) and writes the block, the
//!   outcomes (invalid transactions kept and marked) and the Raft position in one durable redb
//!   write, so a crash never applies an entry twice.
//! - A snapshot is the ledger at a height; a lagging node receives the blocks it lacks with the
//!   data keys still held and replays them through the same validation, checking every block
//!   hash against the sender's ([`state_machine`], [`transport`]). The log before a snapshot is
//!   purged (compaction).
//! - Nodes talk mutual TLS 1.3 with the consortium's certificates ([`crate::peer`]): a peer must
//!   chain to the consortium CA and name an active member ([`transport`]).
//! - Every node signs each block it commits (a checkpoint) and compares the others' checkpoints
//!   with its own blocks; a divergence is reported with its height ([`cluster`]).

pub mod cluster;
#[cfg(test)]
#[allow(clippy::result_large_err)]
mod conformance;
// openraft's storage traits return its `StorageError` (224 bytes); the helpers return it too.
#[allow(clippy::result_large_err)]
pub(crate) mod log_store;
#[allow(clippy::result_large_err)]
pub(crate) mod state_machine;
pub(crate) mod transport;

use std::fmt;
use std::io::Cursor;

use borderlink_ledger::tx::{Transaction, TxBody, WrappedKey};
use borderlink_ledger::{Hash, Receipt, TxError};
use serde::{Deserialize, Serialize};

pub use cluster::{Cluster, ClusterConfig, ClusterStatus, Faults, NodeStatus};

/// Raft node id.
pub type NodeId = u64;

openraft::declare_raft_types!(
    /// The type configuration of Borderlink's Raft group.
    pub TypeConfig:
        D = Batch,
        R = BatchResult,
        NodeId = NodeId,
        Node = PeerNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = LedgerSnapshot,
        AsyncRuntime = openraft::TokioRuntime,
);

// The macro names its default snapshot type even when another is given.
#[allow(dead_code)]
type Unused = Cursor<Vec<u8>>;

/// The Raft handle.
pub type BorderRaft = openraft::Raft<TypeConfig>;

/// Where a member's node is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerNode {
    /// The member operating the node.
    pub member: String,
    /// Host and port of its mutual-TLS peer listener.
    pub peer_addr: String,
    /// Base URL of its HTTP API.
    pub api_url: String,
}

impl fmt::Display for PeerNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.member, self.peer_addr)
    }
}

/// A signed transaction as carried in the Raft log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RaftTx {
    /// Canonical body bytes.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
    /// Ed25519 signature.
    #[serde(with = "serde_bytes")]
    pub signature: Vec<u8>,
    /// Payload bytes.
    #[serde(with = "serde_bytes")]
    pub payload: Vec<u8>,
    /// Wrapped data keys of a private record.
    pub wrapped: Vec<WrappedKey>,
}

impl RaftTx {
    /// From a transaction.
    pub fn of(tx: &Transaction) -> Self {
        Self {
            body: tx.body_bytes.clone(),
            signature: tx.signature.to_vec(),
            payload: tx.payload.clone(),
            wrapped: tx.wrapped_keys.clone(),
        }
    }

    /// Back to a transaction; `None` when the body does not decode or the signature is not 64
    /// bytes (such an entry can only come from a faulty leader).
    pub fn to_tx(&self) -> Option<Transaction> {
        let body = TxBody::decode(&self.body).ok()?;
        let signature: [u8; 64] = self.signature.as_slice().try_into().ok()?;
        Some(Transaction {
            body,
            body_bytes: self.body.clone(),
            signature,
            payload: self.payload.clone(),
            wrapped_keys: self.wrapped.clone(),
        })
    }
}

/// One Raft log entry's application data: a block proposed by the leader.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    /// The leader's clock when it cut the batch (the block timestamp on every node).
    pub timestamp_ms: i64,
    /// The leader's member id (the block's proposer).
    pub proposer: String,
    /// The transactions, in order.
    pub txs: Vec<RaftTx>,
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "batch of {} by {}", self.txs.len(), self.proposer)
    }
}

/// What applying one entry did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchResult {
    /// The block written, if any.
    pub height: Option<u64>,
    /// Its hash.
    pub block_hash: Option<Hash>,
    /// One result per transaction of the batch.
    pub results: Vec<Result<Receipt, TxError>>,
}

/// The snapshot's data: the ledger up to `height`. On the sending node the blocks are read from
/// its ledger only when a peer needs them (the blocks below the head never change); what travels
/// holds the blocks the receiver lacks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LedgerSnapshot {
    /// Height of the last block the snapshot covers.
    pub height: u64,
    /// That block's hash.
    pub head_hash: Option<Hash>,
    /// The receiver's height when the blocks were chosen, with the sender's hash at that height
    /// (the receiver checks that it agrees before replaying).
    pub base: Option<(u64, Hash)>,
    /// Blocks `base.0 + 1 ..= height`.
    pub blocks: Vec<SnapshotBlock>,
}

/// A block in a snapshot, with the wrapped keys its private records still have.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotBlock {
    /// The encoded block.
    #[serde(with = "serde_bytes")]
    pub block: Vec<u8>,
    /// Per transaction, the wrapped keys still held (empty once erased).
    pub wrapped: Vec<Vec<WrappedKey>>,
}

/// Encodes a value for the Raft log, the peer protocol and the node metadata.
pub(crate) fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, String> {
    bincode::serialize(v).map_err(|e| e.to_string())
}

/// Decodes what [`encode`] wrote.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, String> {
    bincode::deserialize(b).map_err(|e| e.to_string())
}
