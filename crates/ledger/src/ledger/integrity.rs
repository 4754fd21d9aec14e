//! Integrity checks: every block re-checked (hash chain, Merkle roots, outcomes root, the
//! signatures of valid transactions, checkpoints) and the stored state replayed from the blocks.
//!
//! A check reports what it finds ([`IntegrityReport`]) rather than stopping at the first
//! problem; opening a ledger re-checks its last blocks and refuses a store whose chain does not
//! hold.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::Signature;
use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;

use super::tables::{BLOCKS, CHECKPOINTS, RecordState, STATE, db};
use super::{Ledger, Members};
use crate::block::{Block, Checkpoint, TxOutcome, results_root};
use crate::tx::{PayloadKind, TxKind};
use crate::{Hash, LedgerError};

impl Ledger {
    /// Re-checks the chain from the last few blocks: hash links, Merkle roots, checkpoint.
    pub(super) fn quick_check(&self) -> Result<(), LedgerError> {
        let Some(head) = self.head() else { return Ok(()) };
        let from = head.height.saturating_sub(16).max(1);
        let report = self.verify_range(from, head.height)?;
        match report.problems.first() {
            None => Ok(()),
            Some(p) => Err(LedgerError::Corrupt { height: Some(p.height), detail: p.detail.clone() }),
        }
    }

    /// Re-checks every block: hash chain, Merkle roots, outcomes root, signatures, checkpoints,
    /// and that the stored state is what the blocks say.
    ///
    /// Storage that cannot be read at a height is a problem at that height; a panic of the
    /// storage layer on a damaged file is [`LedgerError::Corrupt`] ([`crate::store::contained`]).
    pub fn verify_all(&self) -> Result<IntegrityReport, LedgerError> {
        let Some(head) = self.head() else { return Ok(IntegrityReport::default()) };
        crate::store::contained(&format!("checking {}", self.path.display()), || {
            let mut report = self.verify_range(1, head.height)?;
            self.verify_state(&mut report)?;
            Ok(report)
        })
    }

    fn verify_range(&self, from: u64, to: u64) -> Result<IntegrityReport, LedgerError> {
        let members = Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()).members);
        check_blocks(&self.db, &self.chain, Some(&members), from, to)
    }

    /// Replays the valid puts of every block and compares with the stored current state.
    fn verify_state(&self, report: &mut IntegrityReport) -> Result<(), LedgerError> {
        let Some(head) = self.head() else { return Ok(()) };
        let mut expected: HashMap<String, (u64, u64, u32)> = HashMap::new();
        for height in 1..=head.height {
            let Ok(Some(block)) = self.block(height) else { continue };
            for (i, (t, o)) in block.txs.iter().zip(&block.results).enumerate() {
                if !o.is_valid() {
                    continue;
                }
                if let Ok(b) = t.body()
                    && b.kind != TxKind::Erase
                {
                    expected.insert(b.record_id.clone(), (b.version, height, i as u32));
                }
            }
        }
        let r = self.db.begin_read().map_err(db)?;
        let state = r.open_table(STATE).map_err(db)?;
        let mut seen = 0usize;
        for row in state.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            seen += 1;
            let id = k.value().to_owned();
            match (RecordState::decode(v.value()), expected.get(&id)) {
                (Ok(s), Some(&(version, height, index)))
                    if s.version == version && s.height == height && s.index == index => {}
                (Ok(s), Some(&(_, height, _))) => report.problems.push(Problem {
                    height,
                    detail: format!("the stored state of record {id} (version {}) differs from the blocks", s.version),
                }),
                (Err(e), exp) => report.problems.push(Problem {
                    height: exp.map_or(0, |e| e.1),
                    detail: format!("the stored state of record {id} does not decode: {e}"),
                }),
                (Ok(s), None) => report
                    .problems
                    .push(Problem { height: s.height, detail: format!("record {id} is in the state but in no block") }),
            }
        }
        if seen != expected.len() {
            report.problems.push(Problem {
                height: head.height,
                detail: format!("{} records in the blocks but {seen} in the state", expected.len()),
            });
        }
        Ok(())
    }
}

/// A problem found by an integrity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The block height concerned.
    pub height: u64,
    /// What is wrong.
    pub detail: String,
}

/// The result of an integrity check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IntegrityReport {
    /// Blocks checked.
    pub blocks: u64,
    /// Transactions checked.
    pub transactions: u64,
    /// Checkpoint signatures checked.
    pub checkpoints: u64,
    /// What is wrong (empty when all is well).
    pub problems: Vec<Problem>,
}

/// Where the chain in a file refused as damaged first breaks, when a read that skips redb's
/// checksums can tell. The file is opened read-only (nothing is repaired or written) and read
/// behind [`crate::store::contained`], since an unverified read may panic. Signatures are not
/// checked (the members may have changed since the genesis): decoding, heights, links, roots and
/// payload digests locate damage to the bytes of a block.
pub(super) fn locate_damage(path: &Path, chain: &Hash) -> Option<Problem> {
    let found = crate::store::contained("locating the damage", || {
        let database = redb::Builder::new().open_read_only(path).map_err(db)?;
        let head = {
            let r = database.begin_read().map_err(db)?;
            let blocks = r.open_table(BLOCKS).map_err(db)?;
            let last = blocks.last().map_err(db)?;
            last.map(|(h, _)| h.value())
        };
        let Some(head) = head else { return Ok(None) };
        Ok(check_blocks(&database, chain, None, 1, head)?.problems.into_iter().next())
    });
    found.ok().flatten()
}

/// Re-checks blocks `from..=to` of the ledger in `database`: decoding, heights, the chain, the
/// hash links, the Merkle and outcomes roots, payload digests; with `members`, the signatures of
/// valid transactions and the checkpoints too.
fn check_blocks(
    database: &impl ReadableDatabase,
    chain: &Hash,
    members: Option<&Members>,
    from: u64,
    to: u64,
) -> Result<IntegrityReport, LedgerError> {
    let mut report = IntegrityReport::default();
    let r = database.begin_read().map_err(db)?;
    let blocks = r.open_table(BLOCKS).map_err(db)?;
    let cps = r.open_table(CHECKPOINTS).map_err(db)?;
    let mut prev: Option<Hash> = if from == 1 {
        Some(*chain)
    } else {
        blocks.get(from - 1).map_err(db)?.and_then(|v| Block::decode(v.value()).ok()).map(|b| b.header.hash())
    };
    for height in from..=to {
        report.blocks += 1;
        let mut problem = |detail: String| report.problems.push(Problem { height, detail });
        let raw = match blocks.get(height) {
            Ok(Some(raw)) => raw,
            Ok(None) => {
                problem("the block is missing".into());
                prev = None;
                continue;
            }
            Err(e) => {
                problem(format!("the block cannot be read: {}", db(e)));
                prev = None;
                continue;
            }
        };
        let block = match Block::decode(raw.value()) {
            Ok(b) => b,
            Err(e) => {
                problem(format!("the stored block does not decode: {e}"));
                prev = None;
                continue;
            }
        };
        let h = &block.header;
        if h.height != height {
            problem(format!("the header says height {}", h.height));
        }
        if h.chain != *chain {
            problem("the block belongs to another chain".into());
        }
        if let Some(p) = prev
            && h.prev_hash != p
        {
            problem("the previous-hash link is broken (this block or the one before was altered)".into());
        }
        if block.computed_tx_root() != h.tx_root {
            problem("the Merkle root of the transactions does not match the header (a transaction was altered)".into());
        }
        if results_root(&block.results) != h.results_root {
            problem("the validation outcomes do not match the header".into());
        }
        for (i, t) in block.txs.iter().enumerate() {
            report.transactions += 1;
            let body = match t.body() {
                Ok(b) => b,
                Err(e) => {
                    problem(format!("transaction {i} does not decode: {e}"));
                    continue;
                }
            };
            if block.results.get(i).is_some_and(TxOutcome::is_valid) {
                match members.map(|m| m.keys.get(&body.submitter)) {
                    None => {}
                    Some(Some(k)) if k.verify_strict(&t.body_bytes, &Signature::from_bytes(&t.signature)).is_ok() => {}
                    Some(Some(_)) => problem(format!("transaction {i}: the signature does not verify")),
                    Some(None) => problem(format!("transaction {i}: unknown submitter {}", body.submitter)),
                }
                if matches!(body.payload_kind, PayloadKind::Clear | PayloadKind::Private)
                    && Hash::of(&t.payload) != body.payload_digest
                {
                    problem(format!("transaction {i}: the payload differs from its signed digest"));
                }
            }
        }
        let hash = h.hash();
        let stored = cps.get(height).unwrap_or_else(|e| {
            problem(format!("the checkpoints cannot be read: {}", db(e)));
            None
        });
        if let (Some(v), Some(members)) = (stored, members) {
            match serde_json::from_slice::<Vec<Checkpoint>>(v.value()) {
                Ok(list) => {
                    for cp in list {
                        let ok =
                            cp.block_hash == hash && members.keys.get(&cp.member).is_some_and(|k| cp.verify(chain, k));
                        if !ok {
                            problem(format!("the checkpoint of {} does not match the block", cp.member));
                        }
                        report.checkpoints += 1;
                    }
                }
                Err(e) => problem(format!("checkpoints do not decode: {e}")),
            }
        }
        prev = Some(hash);
    }
    Ok(report)
}
