//! Writing: blocks built from submitted or ordered transactions, their effects on the state and
//! the indexes, checkpoints, and node metadata.
//!
//! **Invariant:** a block is written in one redb write transaction together with every state
//! and index change it causes (and any metadata given with it), committed durably before the
//! block becomes the head and before anyone is told: a crash leaves either the whole block or
//! nothing, and every acknowledged transaction survives it. One block at a time (the writer
//! lock). Invalid transactions are never applied: submitted here they are refused and not
//! stored; ordered by another node they stay in the block with their reason.

use std::collections::HashMap;
use std::sync::Arc;

use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;

use super::tables::{
    BLOCKS, BY_SUBMITTER, BY_TIME, BY_TYPE, CHECKPOINTS, HISTORY, MEMBERS, META, STATE, TXS, WRAPPED, db, index_key,
    last_header, loc, version_key,
};
use super::validate::{Effect, Overlay, StateView, TableView, apply_governance};
use super::{Ledger, Members, RecordState};
use crate::block::{Block, BlockHeader, BlockTx, Checkpoint, TxOutcome, checkpoint_message, results_root};
use crate::governance::GovernanceAction;
use crate::policy::Policy;
use crate::tx::{Transaction, TxBody};
use crate::{Hash, LedgerError, TxError, merkle};

/// Node metadata values (in the order asked) and the newest block header, read together.
pub type MetaAtHead = (Vec<Option<Vec<u8>>>, Option<BlockHeader>);

/// Where a transaction was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Receipt {
    /// The transaction id.
    pub tx_id: Hash,
    /// Block height.
    pub height: u64,
    /// Index in the block.
    pub index: u32,
}

/// A committed block and what happened to each submitted transaction.
#[derive(Debug)]
pub struct Committed {
    /// The block (absent when no transaction was valid).
    pub header: Option<BlockHeader>,
    /// One result per submitted transaction, in submission order.
    pub results: Vec<Result<Receipt, TxError>>,
}

impl Ledger {
    /// Validates transactions submitted to this node and commits the valid ones as one block.
    /// Invalid ones are refused with their reason and not stored.
    pub fn submit(&self, txs: Vec<Transaction>, timestamp_ms: i64) -> Result<Committed, LedgerError> {
        self.build_and_write(txs, timestamp_ms, None, true, &[], false)
    }

    /// Applies transactions in the order an ordering service decided: every transaction is kept
    /// in the block, invalid ones marked with their reason.
    pub fn apply_ordered(
        &self,
        txs: Vec<Transaction>,
        timestamp_ms: i64,
        proposer: &str,
    ) -> Result<Committed, LedgerError> {
        self.build_and_write(txs, timestamp_ms, Some(proposer), false, &[], false)
    }

    /// [`Ledger::apply_ordered`], also writing `meta` entries (e.g. the ordering engine's
    /// applied position) in the same durable write as the block: both or neither survive a crash.
    pub fn apply_ordered_with_meta(
        &self,
        txs: Vec<Transaction>,
        timestamp_ms: i64,
        proposer: &str,
        meta: &[(&str, &[u8])],
    ) -> Result<Committed, LedgerError> {
        self.build_and_write(txs, timestamp_ms, Some(proposer), false, meta, false)
    }

    /// Replays a block another node committed (installing a snapshot): the transactions are
    /// validated again as [`Ledger::apply_ordered`] does, except that a private record whose keys
    /// were erased since is accepted without them. The caller compares the resulting block hash
    /// with the one the consortium signed.
    pub fn apply_replayed(
        &self,
        txs: Vec<Transaction>,
        timestamp_ms: i64,
        proposer: &str,
    ) -> Result<Committed, LedgerError> {
        self.build_and_write(txs, timestamp_ms, Some(proposer), false, &[], true)
    }

    /// Writes node metadata entries durably (keys starting `ext.`, kept apart from the ledger's own).
    pub fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<(), LedgerError> {
        let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let w = self.db.begin_write().map_err(db)?;
        {
            let mut t = w.open_table(META).map_err(db)?;
            for (k, v) in entries {
                t.insert(format!("ext.{k}").as_str(), *v).map_err(db)?;
            }
        }
        w.commit().map_err(db)
    }

    /// Reads a node metadata entry written by [`Ledger::put_meta`] or with a block.
    pub fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(META).map_err(db)?;
        Ok(t.get(format!("ext.{key}").as_str()).map_err(db)?.map(|v| v.value().to_vec()))
    }

    /// Node metadata entries and the newest block header, read from one consistent snapshot of
    /// the store (what an ordering engine needs to describe a snapshot of the ledger).
    pub fn meta_at_head(&self, keys: &[&str]) -> Result<MetaAtHead, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(META).map_err(db)?;
        let mut values = Vec::with_capacity(keys.len());
        for k in keys {
            values.push(t.get(format!("ext.{k}").as_str()).map_err(db)?.map(|v| v.value().to_vec()));
        }
        let head = last_header(&r.open_table(BLOCKS).map_err(db)?)?;
        Ok((values, head))
    }

    fn build_and_write(
        &self,
        txs: Vec<Transaction>,
        timestamp_ms: i64,
        proposer: Option<&str>,
        drop_invalid: bool,
        extra_meta: &[(&str, &[u8])],
        replay: bool,
    ) -> Result<Committed, LedgerError> {
        let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
        let input = BlockInput { txs: &txs, ids: &ids, timestamp_ms, proposer, drop_invalid, replay };
        // Signatures are the costliest check and depend only on the members' keys. They are
        // verified on another thread — before the writer lock is taken, and while this thread
        // builds the block assuming that they all verify, as every honest submission's do. Only
        // when one does not (or the membership changed meanwhile) is the block built again with
        // the real results: the outcomes are exactly those of verifying first.
        let keys_at_start = Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()).members);
        std::thread::scope(|s| {
            let verifier = s.spawn(|| self.verify_cached(&txs, &keys_at_start));
            let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let (members, policy, head) = {
                let live = self.live.read().unwrap_or_else(|e| e.into_inner());
                (Arc::clone(&live.members), Arc::clone(&live.policy), live.head.clone())
            };
            let speculative = self.prepare_block(&input, None, &members, &policy, head.as_ref());
            let sig_ok = match verifier.join() {
                Ok(ok) if Arc::ptr_eq(&keys_at_start, &members) => ok,
                _ => self.verify_cached(&txs, &members),
            };
            let prepared = if sig_ok.iter().all(|ok| *ok) {
                speculative?
            } else {
                if let Ok(Prepared { write: Some(w), .. }) = speculative {
                    w.abort().map_err(db)?;
                }
                self.prepare_block(&input, Some(&sig_ok), &members, &policy, head.as_ref())?
            };
            self.commit_block(&txs, prepared, extra_meta)
        })
    }

    /// Validates the transactions against the committed state and writes the block and every
    /// change it causes into a write transaction, not yet committed. `sig_ok`: the signature
    /// results, or `None` to assume that every signature verifies.
    fn prepare_block(
        &self,
        input: &BlockInput<'_>,
        sig_ok: Option<&[bool]>,
        members: &Arc<Members>,
        policy: &Arc<Policy>,
        head: Option<&BlockHeader>,
    ) -> Result<Prepared, LedgerError> {
        let BlockInput { txs, ids, timestamp_ms, proposer, drop_invalid, replay } = *input;
        let (mut members, mut policy) = (Arc::clone(members), Arc::clone(policy));
        let w = self.db.begin_write().map_err(db)?;
        let mut outcomes: Vec<Result<Effect, TxError>> = Vec::with_capacity(txs.len());
        {
            let state = w.open_table(STATE).map_err(db)?;
            let txt = w.open_table(TXS).map_err(db)?;
            let base = TableView { state: &state, txs: &txt };
            let mut view = Overlay { base: &base, records: HashMap::new(), txs: Default::default() };
            for (i, tx) in txs.iter().enumerate() {
                let r = if sig_ok.is_none_or(|ok| ok[i]) {
                    self.validate(tx, &ids[i], &view, &members, &policy, replay)
                } else if members.by_id.contains_key(&tx.body.submitter) {
                    Err(TxError::BadSignature)
                } else {
                    Err(TxError::UnknownSubmitter(tx.body.submitter.clone()))
                };
                if let Ok(effect) = &r {
                    view.txs.insert(ids[i]);
                    match effect {
                        Effect::Put { state, .. } => {
                            view.records.insert(tx.body.record_id.clone(), state.clone());
                        }
                        Effect::Erase { record_id, .. } => {
                            if let Some(mut s) = view.record(record_id)? {
                                s.erased = true;
                                view.records.insert(record_id.clone(), s);
                            }
                        }
                        Effect::Governance { action } => {
                            // Later transactions of the same block see the new membership/policy.
                            let (m, p) = apply_governance(&members, &policy, action)?;
                            members = m;
                            policy = p;
                        }
                    }
                }
                outcomes.push(r);
            }
        }
        // Assemble the block.
        let mut block_txs = Vec::new();
        let mut results = Vec::new();
        let mut kept: Vec<(usize, Option<Effect>)> = Vec::new();
        let mut invalid_errors: HashMap<usize, TxError> = HashMap::new();
        for (i, (tx, o)) in txs.iter().zip(outcomes).enumerate() {
            match o {
                Ok(effect) => {
                    block_txs.push(BlockTx::of(tx));
                    results.push(TxOutcome::Valid);
                    kept.push((i, Some(effect)));
                }
                Err(e) if !drop_invalid => {
                    block_txs.push(BlockTx::of(tx));
                    results.push(TxOutcome::Invalid { code: e.code().to_owned(), reason: e.recorded_reason() });
                    kept.push((i, None));
                    invalid_errors.insert(i, e);
                }
                Err(_) => {}
            }
        }
        let mut per_tx: Vec<Option<Result<Receipt, TxError>>> = (0..txs.len()).map(|_| None).collect();
        if block_txs.is_empty() {
            w.abort().map_err(db)?;
            return Ok(Prepared { write: None, header: None, per_tx, members, policy });
        }
        let height = head.map_or(1, |h| h.height + 1);
        let prev_hash = head.map_or(self.chain, BlockHeader::hash);
        let leaves: Vec<Hash> = block_txs.iter().map(BlockTx::leaf).collect();
        let proposer =
            proposer.map(str::to_owned).or_else(|| self.local.as_ref().map(|k| k.member.clone())).unwrap_or_default();
        let header = BlockHeader {
            chain: self.chain,
            height,
            prev_hash,
            tx_root: merkle::root(&leaves),
            results_root: results_root(&results),
            timestamp_ms,
            proposer,
            tx_count: block_txs.len() as u32,
        };
        let block = Block { header: header.clone(), txs: block_txs, results };
        {
            let mut blocks = w.open_table(BLOCKS).map_err(db)?;
            blocks.insert(height, block.encode().as_slice()).map_err(db)?;
            let mut state = w.open_table(STATE).map_err(db)?;
            let mut history = w.open_table(HISTORY).map_err(db)?;
            let mut txt = w.open_table(TXS).map_err(db)?;
            let mut by_type = w.open_table(BY_TYPE).map_err(db)?;
            let mut by_sub = w.open_table(BY_SUBMITTER).map_err(db)?;
            let mut by_time = w.open_table(BY_TIME).map_err(db)?;
            let mut wrapped = w.open_table(WRAPPED).map_err(db)?;
            let mut memt = w.open_table(MEMBERS).map_err(db)?;
            let mut metat = w.open_table(META).map_err(db)?;
            for (index, (i, effect)) in kept.into_iter().enumerate() {
                let index = index as u32;
                let tx = &txs[i];
                let b = &tx.body;
                let Some(effect) = effect else {
                    // A transaction recorded invalid never hides where the same transaction was
                    // committed before (a replay keeps pointing to the original).
                    if txt.get(ids[i].0.as_slice()).map_err(db)?.is_none() {
                        txt.insert(ids[i].0.as_slice(), loc(height, index).as_slice()).map_err(db)?;
                    }
                    per_tx[i] = Some(Err(invalid_errors
                        .remove(&i)
                        .unwrap_or_else(|| TxError::Rejected(format!("recorded invalid at height {height}")))));
                    continue;
                };
                txt.insert(ids[i].0.as_slice(), loc(height, index).as_slice()).map_err(db)?;
                match effect {
                    Effect::Put { state: mut st, wrapped: keys } => {
                        st.height = height;
                        st.index = index;
                        state.insert(b.record_id.as_str(), st.encode().as_slice()).map_err(db)?;
                        index_version(&mut history, &mut by_type, &mut by_sub, b, height, index)?;
                        let mut tk = Vec::with_capacity(20);
                        tk.extend_from_slice(&b.timestamp_ms.to_be_bytes());
                        tk.extend_from_slice(&loc(height, index));
                        by_time.insert(tk.as_slice(), b.record_id.as_str()).map_err(db)?;
                        if !keys.is_empty() {
                            let j = serde_json::to_vec(&keys).map_err(|e| LedgerError::Storage(e.to_string()))?;
                            wrapped
                                .insert(version_key(&b.record_id, b.version).as_slice(), j.as_slice())
                                .map_err(db)?;
                        }
                    }
                    Effect::Erase { record_id, versions } => {
                        for v in 1..=versions {
                            wrapped.remove(version_key(&record_id, v).as_slice()).map_err(db)?;
                        }
                        let cur = state.get(record_id.as_str()).map_err(db)?.map(|v| v.value().to_vec());
                        if let Some(cur) = cur {
                            let mut s = RecordState::decode(&cur)?;
                            s.erased = true;
                            state.insert(record_id.as_str(), s.encode().as_slice()).map_err(db)?;
                        }
                        history
                            .insert(version_key(&b.record_id, b.version).as_slice(), loc(height, index).as_slice())
                            .map_err(db)?;
                    }
                    Effect::Governance { action } => {
                        match &action {
                            GovernanceAction::SetPolicy { policy } => {
                                metat.insert("policy", policy.as_bytes()).map_err(db)?;
                            }
                            GovernanceAction::SetReadPolicy { policy } => {
                                metat.insert("read_policy", policy.as_bytes()).map_err(db)?;
                            }
                            GovernanceAction::AddNode { .. } | GovernanceAction::RemoveNode { .. } => {
                                let j = serde_json::to_vec(&members.nodes)
                                    .map_err(|e| LedgerError::Storage(e.to_string()))?;
                                metat.insert("nodes", j.as_slice()).map_err(db)?;
                            }
                            _ => {
                                for m in members.by_id.values() {
                                    let j = serde_json::to_vec(m).map_err(|e| LedgerError::Storage(e.to_string()))?;
                                    memt.insert(m.id.as_str(), j.as_slice()).map_err(db)?;
                                }
                            }
                        }
                        let st = RecordState {
                            record_type: b.record_type.clone(),
                            version: b.version,
                            owner: b.submitter.clone(),
                            meta: b.meta.clone(),
                            height,
                            index,
                            erased: false,
                        };
                        state.insert(b.record_id.as_str(), st.encode().as_slice()).map_err(db)?;
                        index_version(&mut history, &mut by_type, &mut by_sub, b, height, index)?;
                    }
                }
                per_tx[i] = Some(Ok(Receipt { tx_id: ids[i], height, index }));
            }
            if let Some(keys) = &self.local {
                let hash = header.hash();
                let sig = keys.sign(&checkpoint_message(&self.chain, height, &hash));
                let cp = vec![Checkpoint {
                    height,
                    block_hash: hash,
                    member: keys.member.clone(),
                    signature: hex::encode(sig),
                }];
                let j = serde_json::to_vec(&cp).map_err(|e| LedgerError::Storage(e.to_string()))?;
                w.open_table(CHECKPOINTS).map_err(db)?.insert(height, j.as_slice()).map_err(db)?;
            }
        }
        Ok(Prepared { write: Some(w), header: Some(header), per_tx, members, policy })
    }

    /// Commits a prepared block durably, then makes it the head (readers see it only once it
    /// is on disk).
    fn commit_block(
        &self,
        txs: &[Transaction],
        prepared: Prepared,
        extra_meta: &[(&str, &[u8])],
    ) -> Result<Committed, LedgerError> {
        let Prepared { write, header, mut per_tx, members, policy } = prepared;
        let write = match write {
            Some(w) => Some(w),
            None if !extra_meta.is_empty() => Some(self.db.begin_write().map_err(db)?),
            None => None,
        };
        if let Some(w) = write {
            if !extra_meta.is_empty() {
                let mut t = w.open_table(META).map_err(db)?;
                for (k, v) in extra_meta {
                    t.insert(format!("ext.{k}").as_str(), *v).map_err(db)?;
                }
            }
            w.commit().map_err(db)?;
            let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
            if header.is_some() {
                live.head = header.clone();
            }
            live.members = Arc::clone(&members);
            live.policy = Arc::clone(&policy);
        }
        let results = self.resubmit_errors(txs, &mut per_tx, &members, &policy);
        Ok(Committed { header, results })
    }

    /// Fills the results of refused transactions with their errors (recomputed cheaply: the
    /// valid ones already have receipts).
    fn resubmit_errors(
        &self,
        txs: &[Transaction],
        per_tx: &mut [Option<Result<Receipt, TxError>>],
        members: &Arc<Members>,
        policy: &Arc<Policy>,
    ) -> Vec<Result<Receipt, TxError>> {
        let _ = (members, policy);
        per_tx
            .iter_mut()
            .zip(txs)
            .map(|(slot, tx)| match slot.take() {
                Some(r) => r,
                None => Err(self.explain(tx)),
            })
            .collect()
    }

    /// Why a transaction is refused against the committed state (used for the error reply).
    fn explain(&self, tx: &Transaction) -> TxError {
        match self.check(tx) {
            Err(e) => e,
            Ok(()) => TxError::Conflict("another transaction of the same block changed the record first".into()),
        }
    }

    /// Adds checkpoint signatures received from other nodes (verified against the members' keys).
    pub fn add_checkpoints(&self, incoming: &[Checkpoint]) -> Result<usize, LedgerError> {
        let members = Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()).members);
        let w = self.db.begin_write().map_err(db)?;
        let mut added = 0;
        {
            let blocks = w.open_table(BLOCKS).map_err(db)?;
            let mut t = w.open_table(CHECKPOINTS).map_err(db)?;
            for cp in incoming {
                let Some(key) = members.keys.get(&cp.member) else { continue };
                let Some(b) = blocks.get(cp.height).map_err(db)? else { continue };
                let header = Block::decode(b.value())
                    .map_err(|e| LedgerError::Corrupt { height: Some(cp.height), detail: e.to_string() })?
                    .header;
                if header.hash() != cp.block_hash || !cp.verify(&self.chain, key) {
                    continue;
                }
                let mut list: Vec<Checkpoint> = match t.get(cp.height).map_err(db)? {
                    // An unreadable row is corruption to report, never a list to start again
                    // (that would drop the checkpoints it held).
                    Some(v) => serde_json::from_slice(v.value()).map_err(|e| LedgerError::Corrupt {
                        height: Some(cp.height),
                        detail: format!("checkpoints: {e}"),
                    })?,
                    None => Vec::new(),
                };
                if list.iter().any(|c| c.member == cp.member) {
                    continue;
                }
                list.push(cp.clone());
                let j = serde_json::to_vec(&list).map_err(|e| LedgerError::Storage(e.to_string()))?;
                t.insert(cp.height, j.as_slice()).map_err(db)?;
                added += 1;
            }
        }
        w.commit().map_err(db)?;
        Ok(added)
    }
}

/// Records a written version in the history and the type and submitter indexes.
fn index_version(
    history: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
    by_type: &mut redb::Table<'_, &'static [u8], &'static str>,
    by_sub: &mut redb::Table<'_, &'static [u8], &'static str>,
    b: &TxBody,
    height: u64,
    index: u32,
) -> Result<(), LedgerError> {
    history.insert(version_key(&b.record_id, b.version).as_slice(), loc(height, index).as_slice()).map_err(db)?;
    by_type.insert(index_key(&b.record_type, height, index).as_slice(), b.record_id.as_str()).map_err(db)?;
    by_sub.insert(index_key(&b.submitter, height, index).as_slice(), b.record_id.as_str()).map_err(db)?;
    Ok(())
}

/// What a block is built from.
struct BlockInput<'a> {
    txs: &'a [Transaction],
    ids: &'a [Hash],
    timestamp_ms: i64,
    proposer: Option<&'a str>,
    drop_invalid: bool,
    /// Replaying blocks another node committed (snapshot installation): a private record whose
    /// wrapped keys were erased since is accepted without them (the block hash still has to match).
    replay: bool,
}

/// A block written into an open write transaction, not yet committed (no write transaction
/// when no transaction is kept).
struct Prepared {
    write: Option<redb::WriteTransaction>,
    header: Option<BlockHeader>,
    per_tx: Vec<Option<Result<Receipt, TxError>>>,
    members: Arc<Members>,
    policy: Arc<Policy>,
}

#[cfg(test)]
mod tests {
    use borderlink_model::ValidateOptions;

    use super::*;
    use crate::consortium::{OrgSpec, create};
    use crate::identity::{MemberKeys, Role};
    use crate::ledger::clear_put_body;

    /// Blocks are built assuming every signature verifies while the signatures are checked on
    /// another thread: a forged write ahead of a genuine one for the same record must not take
    /// version 1 from it — the block is rebuilt with the real results.
    #[test]
    fn a_forged_write_does_not_take_the_place_of_a_genuine_one_in_the_same_block() {
        let dir = std::env::temp_dir().join(format!("bl-ledger-speculation-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let orgs = [OrgSpec {
            name: "HM Revenue & Customs".into(),
            role: Role::Customs,
            country: "GB".into(),
            trader_ids: vec![],
        }];
        let created = create(&dir.join("net"), "Test", &orgs, "2026-01-01T00:00:00Z").unwrap();
        let keys = MemberKeys::load(&created.key_files[0].1).unwrap();
        let chain = created.genesis.chain_id();
        let ledger = Ledger::open(&dir.join("n1"), created.genesis, Some(keys.clone())).unwrap();
        let payload = serde_json::to_vec(&serde_json::json!({
            "AuthorisationHolder": { "ID": "GB553202734852", "CategoryCode": "AEOC" },
            "AdditionalDocument": { "CategoryCode": "C", "TypeCode": "501", "ID": "GB AEOC 1/26" },
            "ext": {
                "issuingAuthority": { "countryCode": "GB", "name": "HM Revenue & Customs" },
                "status": "ACTIVE",
                "statusChangedAt": "2026-01-05T00:00:00Z",
                "traderIdentificationNumber": "GB553202734852",
                "holder": { "Name": "Example Imports Ltd" }
            }
        }))
        .unwrap();
        let report = borderlink_model::validate(&payload, &ValidateOptions::default());
        let record = report.record.unwrap_or_else(|| panic!("{:?}", report.errors));
        let put = |nonce| {
            let id = crate::meta::record_id(&record, &keys.member).unwrap();
            let body = clear_put_body(chain, &record, &id, 1, &payload, &keys.member, nonce, 1);
            Transaction::sign(body, payload.clone(), vec![], &keys)
        };
        let mut forged = put(1);
        forged.signature[0] ^= 1;
        let genuine = put(2);
        let c = ledger.submit(vec![forged, genuine.clone()], 1).unwrap();
        assert_eq!(c.results[0].as_ref().unwrap_err().code(), "bad_signature");
        assert_eq!(c.results[1].as_ref().unwrap().tx_id, genuine.id());
        let b = ledger.block(1).unwrap().unwrap();
        assert_eq!(b.txs.len(), 1);
        assert_eq!(b.txs[0].id(), genuine.id());
        assert!(ledger.verify_all().unwrap().problems.is_empty());
        drop(ledger);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
