//! The Raft state machine is the ledger: applying an entry validates its transactions again on
//! this node and writes the block together with the applied Raft position (one durable write).

use std::sync::{Arc, Mutex};

use borderlink_ledger::block::Block;
use borderlink_ledger::{Hash, Ledger, Transaction, TxError};
use openraft::storage::RaftStateMachine;
use openraft::{
    Entry, EntryPayload, LogId, RaftSnapshotBuilder, Snapshot, SnapshotMeta, StorageError, StorageIOError,
    StoredMembership,
};
use tokio::sync::broadcast;

use super::cluster::Faults;
use super::{Batch, BatchResult, LedgerSnapshot, NodeId, PeerNode, SnapshotBlock, TypeConfig, decode, encode};
use crate::ordering::{CommitEvent, publish_commit};

const APPLIED: &str = "raft.applied";
const MEMBERSHIP: &str = "raft.membership";
const SNAPSHOT: &str = "raft.snapshot";

type Membership = StoredMembership<NodeId, PeerNode>;

fn sm_err(e: impl ToString) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(openraft::AnyError::error(e.to_string())).into()
}

fn snap_err(e: impl ToString) -> StorageError<NodeId> {
    StorageIOError::read_snapshot(None, openraft::AnyError::error(e.to_string())).into()
}

/// The applied log id and membership from their stored bytes (absent: nothing applied yet).
fn position(values: &[Option<Vec<u8>>]) -> Result<(Option<LogId<NodeId>>, Membership), String> {
    let applied = match values.first().and_then(Option::as_ref) {
        Some(b) => decode::<Option<LogId<NodeId>>>(b)?,
        None => None,
    };
    let membership = match values.get(1).and_then(Option::as_ref) {
        Some(b) => decode::<Membership>(b)?,
        None => Membership::default(),
    };
    Ok((applied, membership))
}

/// The description of the newest snapshot (its data is the ledger itself).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SnapshotRecord {
    meta: SnapshotMeta<NodeId, PeerNode>,
    height: u64,
    head_hash: Option<Hash>,
}

/// The ledger as a Raft state machine.
pub(crate) struct StateMachine {
    ledger: Arc<Ledger>,
    events: broadcast::Sender<CommitEvent>,
    faults: Arc<Faults>,
    current: Arc<Mutex<Option<SnapshotRecord>>>,
}

impl StateMachine {
    pub(crate) fn new(
        ledger: Arc<Ledger>,
        events: broadcast::Sender<CommitEvent>,
        faults: Arc<Faults>,
    ) -> Result<Self, String> {
        let current = match ledger.get_meta(SNAPSHOT).map_err(|e| e.to_string())? {
            Some(b) => Some(decode::<SnapshotRecord>(&b)?),
            None => None,
        };
        Ok(Self { ledger, events, faults, current: Arc::new(Mutex::new(current)) })
    }

    fn applied_and_membership(&self) -> Result<(Option<LogId<NodeId>>, Membership), StorageError<NodeId>> {
        let (values, _) = self.ledger.meta_at_head(&[APPLIED, MEMBERSHIP]).map_err(sm_err)?;
        position(&values).map_err(sm_err)
    }

    /// Applies one proposed block.
    fn apply_batch(
        &self,
        log_id: &LogId<NodeId>,
        batch: &Batch,
        membership: &Membership,
    ) -> Result<BatchResult, StorageError<NodeId>> {
        let mut txs: Vec<Transaction> = Vec::with_capacity(batch.txs.len());
        let mut slots: Vec<Option<usize>> = Vec::with_capacity(batch.txs.len());
        for t in &batch.txs {
            match t.to_tx() {
                Some(tx) => {
                    slots.push(Some(txs.len()));
                    txs.push(tx);
                }
                None => {
                    // Cannot be represented in a block (no decodable body): refused on every
                    // node alike, and counted.
                    metrics::counter!("borderlink_raft_undecodable_transactions_total", crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).increment(1);
                    tracing::warn!(log_index = log_id.index, proposer = %batch.proposer, "an ordered transaction does not decode; refused");
                    slots.push(None);
                }
            }
        }
        let records: Vec<_> = txs.iter().map(crate::ordering::committed_record).collect();
        let applied = encode(&Some(*log_id)).map_err(sm_err)?;
        let members = encode(membership).map_err(sm_err)?;
        // A node configured to diverge (fault tests only) writes a different timestamp.
        let ts = batch.timestamp_ms + i64::from(self.faults.diverge.load(std::sync::atomic::Ordering::Relaxed));
        let committed = if txs.is_empty() {
            self.ledger.put_meta(&[(APPLIED, &applied), (MEMBERSHIP, &members)]).map_err(sm_err)?;
            None
        } else {
            Some(
                self.ledger
                    .apply_ordered_with_meta(txs, ts, &batch.proposer, &[(APPLIED, &applied), (MEMBERSHIP, &members)])
                    .map_err(sm_err)?,
            )
        };
        let Some(c) = committed else {
            return Ok(BatchResult {
                height: None,
                block_hash: None,
                results: slots
                    .iter()
                    .map(|_| Err(TxError::Malformed("the transaction does not decode".into())))
                    .collect(),
            });
        };
        let header = c.header.clone();
        let mut it = c.results.clone().into_iter();
        let results = slots
            .iter()
            .map(|s| match s {
                Some(_) => it.next().unwrap_or_else(|| Err(TxError::Internal("missing result".into()))),
                None => Err(TxError::Malformed("the transaction does not decode".into())),
            })
            .collect();
        publish_commit(&crate::metrics::node_of(&self.ledger), &self.events, records, &c);
        Ok(BatchResult { height: header.as_ref().map(|h| h.height), block_hash: header.map(|h| h.hash()), results })
    }

    /// Replays the blocks of a snapshot another node sent, checking each hash.
    fn install(&self, meta: &SnapshotMeta<NodeId, PeerNode>, snap: &LedgerSnapshot) -> Result<(), String> {
        let own = self.ledger.head().map_or(0, |h| h.height);
        if let Some((h, hash)) = snap.base
            && h > 0
            && h <= own
        {
            let mine = self.ledger.block(h).map_err(|e| e.to_string())?.map(|b| b.header.hash());
            if mine != Some(hash) {
                metrics::gauge!("borderlink_raft_snapshot_divergence_height", crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).set(h as f64);
                return Err(format!(
                    "this node's block {h} differs from the snapshot sender's: the chains diverge at or below height {h}"
                ));
            }
        }
        for sb in &snap.blocks {
            let block = Block::decode(&sb.block).map_err(|e| format!("snapshot block: {e}"))?;
            let h = block.header.height;
            let want = block.header.hash();
            if h <= self.ledger.head().map_or(0, |x| x.height) {
                let mine = self.ledger.block(h).map_err(|e| e.to_string())?.map(|b| b.header.hash());
                if mine != Some(want) {
                    return Err(format!("block {h} of the snapshot differs from this node's"));
                }
                continue;
            }
            let mut txs = Vec::with_capacity(block.txs.len());
            for (i, bt) in block.txs.iter().enumerate() {
                let body = bt.body().map_err(|e| format!("block {h} tx {i}: {e}"))?;
                txs.push(Transaction {
                    body,
                    body_bytes: bt.body_bytes.clone(),
                    signature: bt.signature,
                    payload: bt.payload.clone(),
                    wrapped_keys: sb.wrapped.get(i).cloned().unwrap_or_default(),
                });
            }
            let records: Vec<_> = txs.iter().map(crate::ordering::committed_record).collect();
            let c = self
                .ledger
                .apply_replayed(txs, block.header.timestamp_ms, &block.header.proposer)
                .map_err(|e| format!("replaying block {h}: {e}"))?;
            let got = c.header.as_ref().map(|x| x.hash());
            if got != Some(want) {
                metrics::gauge!("borderlink_raft_snapshot_divergence_height", crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).set(h as f64);
                return Err(format!(
                    "replaying block {h} of the snapshot gave hash {} here, {want} at the sender: the node diverges",
                    got.map_or_else(|| "none".into(), |x| x.to_hex())
                ));
            }
            publish_commit(&crate::metrics::node_of(&self.ledger), &self.events, records, &c);
        }
        let applied = encode(&meta.last_log_id)?;
        let members = encode(&meta.last_membership)?;
        let rec = SnapshotRecord { meta: meta.clone(), height: snap.height, head_hash: snap.head_hash };
        let rec_bytes = encode(&rec)?;
        self.ledger
            .put_meta(&[(APPLIED, &applied), (MEMBERSHIP, &members), (SNAPSHOT, &rec_bytes)])
            .map_err(|e| e.to_string())?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(rec);
        tracing::info!(height = snap.height, blocks = snap.blocks.len(), "snapshot installed");
        Ok(())
    }
}

/// Builds snapshots: the applied position and membership with the ledger head, read together.
pub(crate) struct Builder {
    ledger: Arc<Ledger>,
    current: Arc<Mutex<Option<SnapshotRecord>>>,
}

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let (values, head) = self.ledger.meta_at_head(&[APPLIED, MEMBERSHIP]).map_err(snap_err)?;
        let (last_log_id, last_membership) = position(&values).map_err(snap_err)?;
        let height = head.as_ref().map_or(0, |h| h.height);
        let head_hash = head.map(|h| h.hash());
        let snapshot_id =
            format!("{}-{}-{height}", last_log_id.map_or(0, |l| l.leader_id.term), last_log_id.map_or(0, |l| l.index));
        let meta = SnapshotMeta { last_log_id, last_membership, snapshot_id };
        let rec = SnapshotRecord { meta: meta.clone(), height, head_hash };
        let bytes = encode(&rec).map_err(snap_err)?;
        self.ledger.put_meta(&[(SNAPSHOT, &bytes)]).map_err(snap_err)?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(rec);
        metrics::counter!("borderlink_raft_snapshots_built_total", crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).increment(1);
        tracing::info!(height, "snapshot built");
        Ok(Snapshot { meta, snapshot: Box::new(LedgerSnapshot { height, head_hash, base: None, blocks: Vec::new() }) })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Builder;

    async fn applied_state(&mut self) -> Result<(Option<LogId<NodeId>>, Membership), StorageError<NodeId>> {
        self.applied_and_membership()
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<BatchResult>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let (_, mut membership) = self.applied_and_membership()?;
        let mut out = Vec::new();
        for entry in entries {
            let log_id = entry.log_id;
            match &entry.payload {
                EntryPayload::Normal(batch) => {
                    let r = tokio::task::block_in_place(|| self.apply_batch(&log_id, batch, &membership))?;
                    out.push(r);
                }
                EntryPayload::Membership(m) => {
                    membership = StoredMembership::new(Some(log_id), m.clone());
                    let applied = encode(&Some(log_id)).map_err(sm_err)?;
                    let members = encode(&membership).map_err(sm_err)?;
                    self.ledger.put_meta(&[(APPLIED, &applied), (MEMBERSHIP, &members)]).map_err(sm_err)?;
                    out.push(BatchResult::default());
                }
                EntryPayload::Blank => {
                    let applied = encode(&Some(log_id)).map_err(sm_err)?;
                    self.ledger.put_meta(&[(APPLIED, &applied)]).map_err(sm_err)?;
                    out.push(BatchResult::default());
                }
            }
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        Builder { ledger: Arc::clone(&self.ledger), current: Arc::clone(&self.current) }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<LedgerSnapshot>, StorageError<NodeId>> {
        Ok(Box::default())
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, PeerNode>,
        snapshot: Box<LedgerSnapshot>,
    ) -> Result<(), StorageError<NodeId>> {
        let r = tokio::task::block_in_place(|| self.install(meta, &snapshot));
        r.map_err(|e| {
            tracing::error!(error = %e, "snapshot refused");
            StorageIOError::write_snapshot(Some(meta.signature()), openraft::AnyError::error(e)).into()
        })
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let cur = self.current.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Ok(cur.map(|r| Snapshot {
            meta: r.meta,
            snapshot: Box::new(LedgerSnapshot {
                height: r.height,
                head_hash: r.head_hash,
                base: None,
                blocks: Vec::new(),
            }),
        }))
    }
}

/// The blocks a peer at `from_height` lacks up to `snap.height`, with the keys still held: what
/// travels when a snapshot is sent.
pub(crate) fn fill_snapshot(
    ledger: &Ledger,
    snap: &LedgerSnapshot,
    from_height: u64,
) -> Result<LedgerSnapshot, String> {
    let mut out = LedgerSnapshot { height: snap.height, head_hash: snap.head_hash, base: None, blocks: Vec::new() };
    if from_height > 0 && from_height <= snap.height {
        let b = ledger.block(from_height).map_err(|e| e.to_string())?;
        out.base = b.map(|b| (from_height, b.header.hash()));
    }
    for h in from_height.saturating_add(1)..=snap.height {
        let block = ledger.block(h).map_err(|e| e.to_string())?.ok_or_else(|| format!("block {h} is missing"))?;
        let mut wrapped = Vec::with_capacity(block.txs.len());
        for bt in &block.txs {
            let keys = match bt.body() {
                Ok(b) if b.payload_kind == borderlink_ledger::tx::PayloadKind::Private => {
                    ledger.wrapped_keys(&b.record_id, b.version).map_err(|e| e.to_string())?
                }
                _ => Vec::new(),
            };
            wrapped.push(keys);
        }
        out.blocks.push(SnapshotBlock { block: block.encode(), wrapped });
    }
    Ok(out)
}
