//! The ledger of one node: validation, blocks and state in redb.
//!
//! Invariants kept here:
//! - a block is written in one redb write transaction together with every state and index change
//!   it causes, committed durably before anyone is told: a crash leaves either the whole block
//!   or nothing, and every acknowledged transaction survives it;
//! - validation is deterministic: it reads only the transaction, the committed state and the
//!   transactions before it in the same block — never a clock or the node's identity — so every
//!   node that applies the same transactions reaches the same outcomes and the same block hash;
//! - invalid transactions are never applied; when ordered by another node they stay in the block
//!   with their reason (as Fabric does), when submitted here they are refused and not stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use borderlink_model::{RecordType, ValidateOptions};
use ed25519_dalek::{Signature, VerifyingKey};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;

use crate::block::{Block, BlockHeader, BlockTx, Checkpoint, TxOutcome, checkpoint_message, results_root};
use crate::codec::{Reader, Writer};
use crate::genesis::Genesis;
use crate::genesis::NodeSpec;
use crate::governance::{GovernanceAction, Proposal, approval_message};
use crate::identity::{Member, MemberKeys, MemberStatus};
use crate::policy::{Action, Policy, ResourceAttrs};
use crate::tx::{MAX_NAME, PayloadKind, RecordMeta, Transaction, TxBody, TxKind, WrappedKey};
use crate::{Hash, LedgerError, TxError, merkle, meta, private};

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const CHECKPOINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("checkpoints");
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
const HISTORY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("history");
const TXS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("txs");
const BY_TYPE: TableDefinition<&[u8], &str> = TableDefinition::new("by_type");
const BY_SUBMITTER: TableDefinition<&[u8], &str> = TableDefinition::new("by_submitter");
const BY_TIME: TableDefinition<&[u8], &str> = TableDefinition::new("by_time");
const WRAPPED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("wrapped_keys");
const MEMBERS: TableDefinition<&str, &[u8]> = TableDefinition::new("members");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

fn db<E: Into<redb::Error>>(e: E) -> LedgerError {
    LedgerError::Storage(e.into().to_string())
}

/// The current state of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordState {
    /// Record type.
    pub record_type: String,
    /// Current version.
    pub version: u64,
    /// The member that created it.
    pub owner: String,
    /// Policy metadata of the current version.
    pub meta: RecordMeta,
    /// Where the current version was committed.
    pub height: u64,
    /// Its index in that block.
    pub index: u32,
    /// Whether its wrapped keys were erased.
    pub erased: bool,
}

impl RecordState {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(&self.record_type).u64(self.version).str(&self.owner);
        w.str(&self.meta.country).str(&self.meta.declarant).str(&self.meta.issuer);
        w.u64(self.height).u32(self.index).u8(u8::from(self.erased));
        w.finish()
    }
    fn decode(b: &[u8]) -> Result<Self, LedgerError> {
        let mut r = Reader::new(b);
        let d = |e| LedgerError::Corrupt { height: None, detail: format!("record state: {e}") };
        let s = Self {
            record_type: r.str("type", MAX_NAME).map_err(d)?.to_owned(),
            version: r.u64("version").map_err(d)?,
            owner: r.str("owner", MAX_NAME).map_err(d)?.to_owned(),
            meta: RecordMeta {
                country: r.str("country", MAX_NAME).map_err(d)?.to_owned(),
                declarant: r.str("declarant", MAX_NAME).map_err(d)?.to_owned(),
                issuer: r.str("issuer", MAX_NAME).map_err(d)?.to_owned(),
            },
            height: r.u64("height").map_err(d)?,
            index: r.u32("index").map_err(d)?,
            erased: r.u8("erased").map_err(d)? == 1,
        };
        r.end().map_err(d)?;
        Ok(s)
    }
}

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

/// One version of a record, as read back.
#[derive(Debug, Clone, Serialize)]
pub struct RecordVersion {
    /// Record id.
    pub record_id: String,
    /// Record type.
    pub record_type: String,
    /// Version.
    pub version: u64,
    /// Who wrote this version.
    pub submitter: String,
    /// When the submitter signed it (ms since the epoch).
    pub timestamp_ms: i64,
    /// Block height and index.
    pub height: u64,
    /// Index in the block.
    pub index: u32,
    /// Transaction id.
    pub tx_id: Hash,
    /// What the transaction did.
    pub kind: TxKind,
    /// How the payload is carried.
    pub payload_kind: PayloadKind,
    /// SHA-256 of the payload.
    pub payload_digest: Hash,
    /// The record itself, for clear payloads.
    pub payload: Option<serde_json::Value>,
    /// Recipients of a private record.
    pub recipients: Vec<String>,
    /// Policy metadata.
    pub meta: RecordMeta,
}

struct Members {
    by_id: HashMap<String, Member>,
    keys: HashMap<String, VerifyingKey>,
    /// The ordering nodes (genesis founders plus governance changes), by id.
    nodes: Vec<NodeSpec>,
}

impl Members {
    fn new(list: Vec<Member>, nodes: Vec<NodeSpec>) -> Result<Self, LedgerError> {
        let mut keys = HashMap::new();
        for m in &list {
            keys.insert(m.id.clone(), m.verifying_key()?);
        }
        Ok(Self { by_id: list.into_iter().map(|m| (m.id.clone(), m)).collect(), keys, nodes })
    }
}

/// Mutable node state shared by readers, swapped after each block.
struct Live {
    head: Option<BlockHeader>,
    members: Arc<Members>,
    policy: Arc<Policy>,
}

/// The ledger of one node.
pub struct Ledger {
    db: Database,
    path: PathBuf,
    genesis: Genesis,
    chain: Hash,
    local: Option<MemberKeys>,
    live: RwLock<Live>,
    /// One block at a time: the writer lock.
    writer: Mutex<()>,
    /// (key, body, signature) triples this node has verified recently (by their hash): a block
    /// applied right after its transactions were prechecked here does not verify them twice.
    verified: Mutex<std::collections::HashSet<Hash>>,
    /// Ids of transactions whose clear record passed the record check (same body and payload
    /// digest, so the same answer): a block applied after a precheck does not validate twice.
    payload_ok: Mutex<std::collections::HashSet<Hash>>,
}

/// Most entries kept in the verified-signature cache before it is emptied.
const VERIFIED_CACHE: usize = 262_144;

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).field("chain", &self.chain).finish_non_exhaustive()
    }
}

/// Key of a (record, version) pair: the id, a NUL, the version big-endian.
fn version_key(record_id: &str, version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(record_id.len() + 9);
    k.extend_from_slice(record_id.as_bytes());
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

fn loc(height: u64, index: u32) -> [u8; 12] {
    let mut a = [0u8; 12];
    a[..8].copy_from_slice(&height.to_be_bytes());
    a[8..].copy_from_slice(&index.to_be_bytes());
    a
}

fn parse_loc(b: &[u8]) -> Option<(u64, u32)> {
    if b.len() != 12 {
        return None;
    }
    Some((u64::from_be_bytes(b[..8].try_into().ok()?), u32::from_be_bytes(b[8..].try_into().ok()?)))
}

fn index_key(prefix: &str, height: u64, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 13);
    k.extend_from_slice(prefix.as_bytes());
    k.push(0);
    k.extend_from_slice(&loc(height, index));
    k
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

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME && !s.chars().any(char::is_control)
}

/// What the validation of one transaction needs to know about state.
trait StateView {
    fn record(&self, id: &str) -> Result<Option<RecordState>, LedgerError>;
    fn tx_known(&self, id: &Hash) -> Result<bool, LedgerError>;
}

struct TableView<'a, S: ReadableTable<&'static str, &'static [u8]>, T: ReadableTable<&'static [u8], &'static [u8]>> {
    state: &'a S,
    txs: &'a T,
}

impl<S: ReadableTable<&'static str, &'static [u8]>, T: ReadableTable<&'static [u8], &'static [u8]>> StateView
    for TableView<'_, S, T>
{
    fn record(&self, id: &str) -> Result<Option<RecordState>, LedgerError> {
        match self.state.get(id).map_err(db)? {
            Some(v) => Ok(Some(RecordState::decode(v.value())?)),
            None => Ok(None),
        }
    }
    fn tx_known(&self, id: &Hash) -> Result<bool, LedgerError> {
        Ok(self.txs.get(id.0.as_slice()).map_err(db)?.is_some())
    }
}

/// State seen through the transactions already accepted in the block being built.
struct Overlay<'a, V: StateView> {
    base: &'a V,
    records: HashMap<String, RecordState>,
    txs: std::collections::HashSet<Hash>,
}

impl<V: StateView> StateView for Overlay<'_, V> {
    fn record(&self, id: &str) -> Result<Option<RecordState>, LedgerError> {
        match self.records.get(id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.base.record(id),
        }
    }
    fn tx_known(&self, id: &Hash) -> Result<bool, LedgerError> {
        Ok(self.txs.contains(id) || self.base.tx_known(id)?)
    }
}

/// The effect of a valid transaction, applied when the block is written.
enum Effect {
    Put { state: RecordState, wrapped: Vec<WrappedKey> },
    Erase { record_id: String, versions: u64 },
    Governance { action: GovernanceAction },
}

impl Ledger {
    /// Opens (or creates) the ledger in `dir` for the consortium of `genesis`; `local` are the
    /// keys of the member operating this node (used to sign checkpoints and open private records).
    pub fn open(dir: &Path, genesis: Genesis, local: Option<MemberKeys>) -> Result<Self, LedgerError> {
        std::fs::create_dir_all(dir).map_err(|e| LedgerError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("ledger.redb");
        let database = Database::create(&path).map_err(db)?;
        let chain = genesis.chain_id();
        if let Some(k) = &local {
            let m = genesis
                .member(&k.member)
                .ok_or_else(|| LedgerError::Key(format!("{} is not a member of this consortium", k.member)))?;
            if m.signing_key != k.signing_public_hex() {
                return Err(LedgerError::Key(format!(
                    "the key file of {} does not match its key in the genesis",
                    k.member
                )));
            }
        }
        // First start: record the chain id and the founding members; later starts: check them.
        let w = database.begin_write().map_err(db)?;
        {
            let mut metat = w.open_table(META).map_err(db)?;
            let stored = metat.get("chain_id").map_err(db)?.map(|v| v.value().to_vec());
            match stored {
                Some(c) if c != chain.0 => {
                    return Err(LedgerError::Genesis(format!(
                        "{} belongs to another consortium (chain {}), not to this genesis (chain {chain})",
                        path.display(),
                        Hash(c.try_into().unwrap_or([0; 32]))
                    )));
                }
                Some(_) => {}
                None => {
                    metat.insert("chain_id", chain.0.as_slice()).map_err(db)?;
                    metat.insert("policy", genesis.policy.as_bytes()).map_err(db)?;
                    let mut mt = w.open_table(MEMBERS).map_err(db)?;
                    for m in &genesis.members {
                        let j = serde_json::to_vec(m).map_err(|e| LedgerError::Storage(e.to_string()))?;
                        mt.insert(m.id.as_str(), j.as_slice()).map_err(db)?;
                    }
                }
            }
            for t in [BLOCKS, CHECKPOINTS] {
                w.open_table(t).map_err(db)?;
            }
            w.open_table(STATE).map_err(db)?;
            for t in [HISTORY, TXS, WRAPPED] {
                w.open_table(t).map_err(db)?;
            }
            for t in [BY_TYPE, BY_SUBMITTER, BY_TIME] {
                w.open_table(t).map_err(db)?;
            }
        }
        w.commit().map_err(db)?;
        let (head, members, policy) = {
            let r = database.begin_read().map_err(db)?;
            let head = last_header(&r.open_table(BLOCKS).map_err(db)?)?;
            let mt = r.open_table(MEMBERS).map_err(db)?;
            let mut members = Vec::new();
            for row in mt.iter().map_err(db)? {
                let (_, v) = row.map_err(db)?;
                members.push(
                    serde_json::from_slice::<Member>(v.value())
                        .map_err(|e| LedgerError::Corrupt { height: None, detail: format!("member table: {e}") })?,
                );
            }
            let metat = r.open_table(META).map_err(db)?;
            let policy_text = metat
                .get("policy")
                .map_err(db)?
                .map(|v| String::from_utf8_lossy(v.value()).into_owned())
                .unwrap_or_else(|| genesis.policy.clone());
            let nodes = match metat.get("nodes").map_err(db)? {
                Some(v) => serde_json::from_slice::<Vec<NodeSpec>>(v.value())
                    .map_err(|e| LedgerError::Corrupt { height: None, detail: format!("node list: {e}") })?,
                None => genesis.nodes.clone(),
            };
            (head, Members::new(members, nodes)?, Policy::new(&policy_text)?)
        };
        let ledger = Self {
            db: database,
            path,
            genesis,
            chain,
            local,
            live: RwLock::new(Live { head, members: Arc::new(members), policy: Arc::new(policy) }),
            writer: Mutex::new(()),
            verified: Mutex::new(std::collections::HashSet::new()),
            payload_ok: Mutex::new(std::collections::HashSet::new()),
        };
        ledger.quick_check()?;
        Ok(ledger)
    }

    /// The chain id (genesis hash).
    pub fn chain_id(&self) -> Hash {
        self.chain
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The member operating this node, when keys were given.
    pub fn local_member(&self) -> Option<&str> {
        self.local.as_ref().map(|k| k.member.as_str())
    }

    /// The current members (founders plus governance changes).
    pub fn members(&self) -> Vec<Member> {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<Member> = live.members.by_id.values().cloned().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// The ordering nodes (the genesis founders plus governance changes).
    pub fn nodes(&self) -> Vec<NodeSpec> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).members.nodes.clone()
    }

    /// Whether `id` is a member of the consortium that is not suspended (no copy of the list).
    pub fn is_active_member(&self, id: &str) -> bool {
        self.live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .members
            .by_id
            .get(id)
            .is_some_and(|m| m.status == MemberStatus::Active)
    }

    /// The current write policy text.
    pub fn policy_text(&self) -> String {
        self.live.read().unwrap_or_else(|e| e.into_inner()).policy.text().to_owned()
    }

    /// The newest block header.
    pub fn head(&self) -> Option<BlockHeader> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).head.clone()
    }

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

    /// The wrapped data keys still held for one version of a private record (none once erased).
    pub fn wrapped_keys(&self, record_id: &str, version: u64) -> Result<Vec<WrappedKey>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(WRAPPED).map_err(db)?;
        match t.get(version_key(record_id, version).as_slice()).map_err(db)? {
            Some(v) => serde_json::from_slice(v.value()).map_err(|e| LedgerError::Corrupt {
                height: None,
                detail: format!("wrapped keys of {record_id}: {e}"),
            }),
            None => Ok(Vec::new()),
        }
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
                    results.push(TxOutcome::Invalid { code: e.code().to_owned(), reason: e.to_string() });
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

    /// Checks transactions against the committed state without committing them, as a node does
    /// before it proposes them for ordering (signatures verified as one batch). Every node
    /// validates them again when it applies the ordered block; this only keeps garbage off the
    /// chain.
    pub fn precheck(&self, txs: &[Transaction]) -> Vec<Result<(), TxError>> {
        let (members, policy) = {
            let live = self.live.read().unwrap_or_else(|e| e.into_inner());
            (Arc::clone(&live.members), Arc::clone(&live.policy))
        };
        let sig_ok = self.verify_cached(txs, &members);
        let read = self.db.begin_read().map_err(|e| TxError::Internal(db(e).to_string()));
        let tables = read.and_then(|r| {
            let state = r.open_table(STATE).map_err(|e| TxError::Internal(db(e).to_string()))?;
            let txt = r.open_table(TXS).map_err(|e| TxError::Internal(db(e).to_string()))?;
            Ok((state, txt))
        });
        let (state, txt) = match tables {
            Ok(t) => t,
            Err(e) => return txs.iter().map(|_| Err(e.clone())).collect(),
        };
        let view = TableView { state: &state, txs: &txt };
        txs.iter()
            .zip(sig_ok)
            .map(|(tx, ok)| {
                if !members.keys.contains_key(&tx.body.submitter) {
                    return Err(TxError::UnknownSubmitter(tx.body.submitter.clone()));
                }
                if !ok {
                    return Err(TxError::BadSignature);
                }
                self.validate(tx, &tx.id(), &view, &members, &policy, false).map(|_| ())
            })
            .collect()
    }

    /// Checks only who signed: the submitter is a member and its signature verifies (what a
    /// leader checks of transactions another node already prechecked fully).
    pub fn precheck_signatures(&self, txs: &[Transaction]) -> Vec<Result<(), TxError>> {
        let members = Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()).members);
        let ok = self.verify_cached(txs, &members);
        txs.iter()
            .zip(ok)
            .map(|(t, ok)| {
                if !members.keys.contains_key(&t.body.submitter) {
                    Err(TxError::UnknownSubmitter(t.body.submitter.clone()))
                } else if ok {
                    Ok(())
                } else {
                    Err(TxError::BadSignature)
                }
            })
            .collect()
    }

    /// Verifies signatures, skipping those verified here before (the cache holds only
    /// successes, keyed by key, body and signature, so the outcome is the same as verifying).
    fn verify_cached(&self, txs: &[Transaction], members: &Members) -> Vec<bool> {
        let keys: Vec<Option<Hash>> = txs
            .iter()
            .map(|t| {
                members
                    .keys
                    .get(&t.body.submitter)
                    .map(|k| Hash::of_parts(&[k.as_bytes(), &t.body_bytes, &t.signature]))
            })
            .collect();
        let (todo, mut ok): (Vec<usize>, Vec<bool>) = {
            let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            let ok: Vec<bool> = keys.iter().map(|k| k.is_some_and(|k| cache.contains(&k))).collect();
            ((0..txs.len()).filter(|i| !ok[*i]).collect(), ok)
        };
        if todo.is_empty() {
            return ok;
        }
        let subset: Vec<&Transaction> = todo.iter().map(|i| &txs[*i]).collect();
        let results = verify_signatures(&subset, members);
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() + todo.len() > VERIFIED_CACHE {
            cache.clear();
        }
        for (i, r) in todo.into_iter().zip(results) {
            ok[i] = r;
            if r && let Some(k) = keys[i] {
                cache.insert(k);
            }
        }
        ok
    }

    /// Checks one transaction against the committed state without committing it.
    pub fn check(&self, tx: &Transaction) -> Result<(), TxError> {
        let (members, policy) = {
            let live = self.live.read().unwrap_or_else(|e| e.into_inner());
            (Arc::clone(&live.members), Arc::clone(&live.policy))
        };
        let Some(vk) = members.keys.get(&tx.body.submitter) else {
            return Err(TxError::UnknownSubmitter(tx.body.submitter.clone()));
        };
        let sig = Signature::from_bytes(&tx.signature);
        if vk.verify_strict(&tx.body_bytes, &sig).is_err() {
            return Err(TxError::BadSignature);
        }
        let r = self.db.begin_read().map_err(|e| TxError::Internal(db(e).to_string()))?;
        let state = r.open_table(STATE).map_err(|e| TxError::Internal(db(e).to_string()))?;
        let txt = r.open_table(TXS).map_err(|e| TxError::Internal(db(e).to_string()))?;
        let view = TableView { state: &state, txs: &txt };
        self.validate(tx, &tx.id(), &view, &members, &policy, false).map(|_| ())
    }

    /// Deterministic validation of one transaction whose signature is already verified.
    fn validate<V: StateView>(
        &self,
        tx: &Transaction,
        id: &Hash,
        view: &V,
        members: &Members,
        policy: &Policy,
        replay: bool,
    ) -> Result<Effect, TxError> {
        let b = &tx.body;
        if b.chain != self.chain {
            return Err(TxError::WrongChain);
        }
        let submitter =
            members.by_id.get(&b.submitter).ok_or_else(|| TxError::UnknownSubmitter(b.submitter.clone()))?;
        if submitter.status != MemberStatus::Active {
            return Err(TxError::SuspendedSubmitter(b.submitter.clone()));
        }
        if !valid_name(&b.record_id) || !valid_name(&b.record_type) {
            return Err(TxError::Malformed("record id and type must be 1 to 128 printable characters".into()));
        }
        if tx.payload.len() as u64 != b.payload_len && b.payload_kind != PayloadKind::OffChain {
            return Err(TxError::PayloadMismatch("payload length differs from the signed length".into()));
        }
        if b.payload_len > self.genesis.limits.max_payload_bytes && b.payload_kind != PayloadKind::OffChain {
            return Err(TxError::PayloadTooLarge { len: b.payload_len, max: self.genesis.limits.max_payload_bytes });
        }
        if matches!(b.payload_kind, PayloadKind::Clear | PayloadKind::Private)
            && Hash::of(&tx.payload) != b.payload_digest
        {
            return Err(TxError::PayloadMismatch("the payload's SHA-256 differs from the signed digest".into()));
        }
        if view.tx_known(id).map_err(|e| TxError::Internal(e.to_string()))? {
            return Err(TxError::Replay);
        }
        let current = view.record(&b.record_id).map_err(|e| TxError::Internal(e.to_string()))?;
        let current_version = current.as_ref().map_or(0, |c| c.version);
        match b.kind {
            TxKind::Put => {
                if b.version != current_version + 1 {
                    return Err(TxError::StaleVersion { expected: current_version + 1, got: b.version });
                }
                if let Some(c) = &current {
                    if c.record_type != b.record_type {
                        return Err(TxError::Malformed(format!(
                            "record {} is a {}, not a {}",
                            b.record_id, c.record_type, b.record_type
                        )));
                    }
                    if c.erased {
                        return Err(TxError::Erased(b.record_id.clone()));
                    }
                }
                if b.record_type == "governance" {
                    return Err(TxError::Malformed("governance changes use the governance transaction kind".into()));
                }
                let wrapped = self.check_payload(tx, id, replay)?;
                let owner = current.as_ref().map_or_else(|| b.submitter.clone(), |c| c.owner.clone());
                let new_attrs =
                    ResourceAttrs { record_type: b.record_type.clone(), meta: b.meta.clone(), owner: owner.clone() };
                let action = if current.is_some() { Action::Update } else { Action::Create };
                let allowed =
                    policy.allows(submitter, action, &new_attrs).map_err(|e| TxError::Internal(e.to_string()))?;
                // An update must be allowed on the record as it was too: nobody takes over a
                // record by rewriting the attributes that gave someone else authority over it.
                let allowed_before = match &current {
                    Some(c) => policy
                        .allows(
                            submitter,
                            Action::Update,
                            &ResourceAttrs { record_type: c.record_type.clone(), meta: c.meta.clone(), owner },
                        )
                        .map_err(|e| TxError::Internal(e.to_string()))?,
                    None => true,
                };
                if !(allowed && allowed_before) {
                    return Err(TxError::PolicyDenied(format!(
                        "{} ({} of {}) may not {} {} {}",
                        submitter.id,
                        submitter.role.name(),
                        submitter.country,
                        if current.is_some() { "update" } else { "create" },
                        b.record_type,
                        b.record_id
                    )));
                }
                Ok(Effect::Put {
                    state: RecordState {
                        record_type: b.record_type.clone(),
                        version: b.version,
                        owner: current.map_or_else(|| b.submitter.clone(), |c| c.owner),
                        meta: b.meta.clone(),
                        height: 0,
                        index: 0,
                        erased: false,
                    },
                    wrapped,
                })
            }
            TxKind::Erase => {
                let Some(c) = current else { return Err(TxError::UnknownRecord(b.record_id.clone())) };
                if b.version != c.version + 1 {
                    return Err(TxError::StaleVersion { expected: c.version + 1, got: b.version });
                }
                let attrs =
                    ResourceAttrs { record_type: c.record_type.clone(), meta: c.meta.clone(), owner: c.owner.clone() };
                if !policy.allows(submitter, Action::Erase, &attrs).map_err(|e| TxError::Internal(e.to_string()))? {
                    return Err(TxError::PolicyDenied(format!("{} may not erase {}", submitter.id, b.record_id)));
                }
                Ok(Effect::Erase { record_id: b.record_id.clone(), versions: c.version })
            }
            TxKind::Governance => {
                if b.version != current_version + 1 || current.is_some() {
                    return Err(TxError::StaleVersion { expected: 1, got: b.version });
                }
                let proposal: Proposal = serde_json::from_slice(&tx.payload)
                    .map_err(|e| TxError::Malformed(format!("governance payload: {e}")))?;
                self.check_approvals(tx, &proposal, members)?;
                // The change must make sense against current membership.
                apply_governance(
                    &Arc::new(Members {
                        by_id: members.by_id.clone(),
                        keys: members.keys.clone(),
                        nodes: members.nodes.clone(),
                    }),
                    &Arc::new(Policy::new(policy.text()).map_err(|e| TxError::Internal(e.to_string()))?),
                    &proposal.change,
                )
                .map_err(|e| TxError::Governance(e.to_string()))?;
                Ok(Effect::Governance { action: proposal.change })
            }
        }
    }

    fn check_approvals(&self, tx: &Transaction, p: &Proposal, members: &Members) -> Result<(), TxError> {
        let g = &self.genesis.governance;
        let eligible = |id: &str| {
            members
                .by_id
                .get(id)
                .is_some_and(|m| m.status == MemberStatus::Active && g.eligible_roles.contains(&m.role))
        };
        let msg = approval_message(&self.chain, &tx.body.record_id, &p.change)
            .map_err(|e| TxError::Malformed(e.to_string()))?;
        let mut approvers = std::collections::BTreeSet::new();
        if eligible(&tx.body.submitter) {
            approvers.insert(tx.body.submitter.clone());
        }
        for a in &p.approvals {
            let key = members
                .keys
                .get(&a.member)
                .ok_or_else(|| TxError::Governance(format!("approval by unknown member {}", a.member)))?;
            let sig = hex::decode(&a.signature)
                .ok()
                .and_then(|s| Signature::from_slice(&s).ok())
                .ok_or_else(|| TxError::Governance(format!("approval of {} is not a signature", a.member)))?;
            if key.verify_strict(&msg, &sig).is_err() {
                return Err(TxError::Governance(format!("approval of {} does not verify", a.member)));
            }
            if eligible(&a.member) {
                approvers.insert(a.member.clone());
            }
        }
        if (approvers.len() as u32) < g.approvals_required {
            return Err(TxError::Governance(format!(
                "{} approvals from eligible members ({}) are required; {} given",
                g.approvals_required,
                g.eligible_roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "),
                approvers.len()
            )));
        }
        Ok(())
    }

    /// Checks a put's payload: a valid record of the dataset whose attributes match the signed
    /// ones (clear), a well-formed private header and key set (private).
    fn check_payload(&self, tx: &Transaction, id: &Hash, replay: bool) -> Result<Vec<WrappedKey>, TxError> {
        let b = &tx.body;
        match b.payload_kind {
            // The same body (its hash is the id) with the same payload (its digest was checked)
            // passed here before: the record check gives the same answer.
            PayloadKind::Clear if self.payload_ok.lock().unwrap_or_else(|e| e.into_inner()).contains(id) => {
                Ok(Vec::new())
            }
            PayloadKind::Clear => {
                if let Some(t) = RecordType::from_name(&b.record_type) {
                    if t.name() != b.record_type {
                        return Err(TxError::Malformed(format!("record type must be written {}", t.name())));
                    }
                    let report = borderlink_model::validate(
                        &tx.payload,
                        &ValidateOptions { record_type: Some(t), ..Default::default() },
                    );
                    let Some(record) = report.record.filter(|_| report.valid) else {
                        let first = report
                            .errors
                            .first()
                            .map(|e| format!("{} [{}] {}", e.path, e.rule, e.message))
                            .unwrap_or_default();
                        return Err(TxError::InvalidRecord(format!(
                            "{} error(s); first: {first}",
                            report.errors.len()
                        )));
                    };
                    let derived = meta::derive(&record);
                    if derived != b.meta {
                        return Err(TxError::MetaMismatch(format!(
                            "the record says country {:?}, declarant {:?}, issuer {:?}",
                            derived.country, derived.declarant, derived.issuer
                        )));
                    }
                } else if b.record_type != "document" {
                    return Err(TxError::Malformed(format!("unknown record type {}", b.record_type)));
                }
                if b.private.is_some() || !tx.wrapped_keys.is_empty() {
                    return Err(TxError::Malformed("a clear record has no recipients".into()));
                }
                let mut ok = self.payload_ok.lock().unwrap_or_else(|e| e.into_inner());
                if ok.len() >= VERIFIED_CACHE {
                    ok.clear();
                }
                ok.insert(*id);
                Ok(Vec::new())
            }
            PayloadKind::Private => {
                let Some(h) = &b.private else {
                    return Err(TxError::Undecryptable("the private header is missing".into()));
                };
                if replay && tx.wrapped_keys.is_empty() {
                    return Ok(Vec::new());
                }
                if h.recipients.is_empty() || h.recipients.len() != tx.wrapped_keys.len() {
                    return Err(TxError::Undecryptable("one wrapped key per recipient is required".into()));
                }
                for (r, k) in h.recipients.iter().zip(&tx.wrapped_keys) {
                    if r != &k.member {
                        return Err(TxError::Undecryptable(format!(
                            "the wrapped keys are not in recipient order at {r}"
                        )));
                    }
                    if !self.live.read().unwrap_or_else(|e| e.into_inner()).members.by_id.contains_key(r) {
                        return Err(TxError::Undecryptable(format!("recipient {r} is not a member")));
                    }
                }
                if private::key_commitment(&tx.wrapped_keys) != h.key_commitment {
                    return Err(TxError::Undecryptable("the wrapped keys do not match the signed commitment".into()));
                }
                Ok(tx.wrapped_keys.clone())
            }
            PayloadKind::OffChain => {
                if !tx.payload.is_empty() {
                    return Err(TxError::Malformed(
                        "an off-chain object's bytes go to the blob store, not the transaction".into(),
                    ));
                }
                Ok(Vec::new())
            }
            PayloadKind::Empty => Err(TxError::Malformed("a put needs a payload".into())),
        }
    }

    // ---------------------------------------------------------------------------------------
    // Reads

    /// The current state of a record.
    pub fn record_state(&self, record_id: &str) -> Result<Option<RecordState>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(STATE).map_err(db)?;
        match t.get(record_id).map_err(db)? {
            Some(v) => Ok(Some(RecordState::decode(v.value())?)),
            None => Ok(None),
        }
    }

    /// A block by height.
    pub fn block(&self, height: u64) -> Result<Option<Block>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(BLOCKS).map_err(db)?;
        match t.get(height).map_err(db)? {
            Some(v) => Ok(Some(
                Block::decode(v.value())
                    .map_err(|e| LedgerError::Corrupt { height: Some(height), detail: e.to_string() })?,
            )),
            None => Ok(None),
        }
    }

    /// The checkpoint signatures stored for a block.
    pub fn checkpoints(&self, height: u64) -> Result<Vec<Checkpoint>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(CHECKPOINTS).map_err(db)?;
        match t.get(height).map_err(db)? {
            Some(v) => serde_json::from_slice(v.value())
                .map_err(|e| LedgerError::Corrupt { height: Some(height), detail: format!("checkpoints: {e}") }),
            None => Ok(Vec::new()),
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
                    Some(v) => serde_json::from_slice(v.value()).unwrap_or_default(),
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

    fn version_at(&self, record_id: &str, height: u64, index: u32) -> Result<RecordVersion, LedgerError> {
        let block =
            self.block(height)?.ok_or(LedgerError::Corrupt { height: Some(height), detail: "block missing".into() })?;
        let t = block
            .txs
            .get(index as usize)
            .ok_or(LedgerError::Corrupt { height: Some(height), detail: "index out of range".into() })?;
        let body = t.body().map_err(|e| LedgerError::Corrupt { height: Some(height), detail: e.to_string() })?;
        let payload = match body.payload_kind {
            PayloadKind::Clear => serde_json::from_slice(&t.payload).ok(),
            _ => None,
        };
        Ok(RecordVersion {
            record_id: record_id.to_owned(),
            record_type: body.record_type.clone(),
            version: body.version,
            submitter: body.submitter.clone(),
            timestamp_ms: body.timestamp_ms,
            height,
            index,
            tx_id: t.id(),
            kind: body.kind,
            payload_kind: body.payload_kind,
            payload_digest: body.payload_digest,
            payload,
            recipients: body.private.as_ref().map(|p| p.recipients.clone()).unwrap_or_default(),
            meta: body.meta,
        })
    }

    /// The current version of a record.
    pub fn record(&self, record_id: &str) -> Result<Option<RecordVersion>, LedgerError> {
        let Some(s) = self.record_state(record_id)? else { return Ok(None) };
        // The current state points at the last put; an erasure is only in the history.
        self.version_at(record_id, s.height, s.index).map(Some)
    }

    /// Every version of a record, oldest first (erasures included).
    pub fn history(&self, record_id: &str) -> Result<Vec<RecordVersion>, LedgerError> {
        let locs: Vec<(u64, u32)> = {
            let r = self.db.begin_read().map_err(db)?;
            let t = r.open_table(HISTORY).map_err(db)?;
            let start = version_key(record_id, 0);
            let end = version_key(record_id, u64::MAX);
            let mut v = Vec::new();
            for row in t.range(start.as_slice()..=end.as_slice()).map_err(db)? {
                let (_, val) = row.map_err(db)?;
                v.push(
                    parse_loc(val.value())
                        .ok_or(LedgerError::Corrupt { height: None, detail: "history entry".into() })?,
                );
            }
            v
        };
        locs.into_iter().map(|(h, i)| self.version_at(record_id, h, i)).collect()
    }

    /// The newest records of a type (or of every type), newest first, at most `limit`.
    pub fn list(&self, record_type: Option<&str>, limit: usize) -> Result<Vec<RecordVersion>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let mut ids: Vec<(String, u64, u32)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        match record_type {
            Some(t) => {
                let table = r.open_table(BY_TYPE).map_err(db)?;
                let start = index_key(t, 0, 0);
                let end = index_key(t, u64::MAX, u32::MAX);
                for row in table.range(start.as_slice()..=end.as_slice()).map_err(db)?.rev() {
                    let (k, v) = row.map_err(db)?;
                    let id = v.value().to_owned();
                    let kb = k.value();
                    if seen.insert(id.clone()) {
                        let (h, i) = parse_loc(&kb[kb.len() - 12..]).unwrap_or((0, 0));
                        ids.push((id, h, i));
                    }
                    if ids.len() >= limit {
                        break;
                    }
                }
            }
            None => {
                let table = r.open_table(BY_TIME).map_err(db)?;
                for row in table.iter().map_err(db)?.rev() {
                    let (k, v) = row.map_err(db)?;
                    let id = v.value().to_owned();
                    let kb = k.value();
                    if seen.insert(id.clone()) {
                        let (h, i) = parse_loc(&kb[8..]).unwrap_or((0, 0));
                        ids.push((id, h, i));
                    }
                    if ids.len() >= limit {
                        break;
                    }
                }
            }
        }
        drop(r);
        let mut out = Vec::with_capacity(ids.len());
        for (id, _, _) in ids {
            if let Some(v) = self.record(&id)? {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Where a transaction was committed.
    pub fn tx_location(&self, tx_id: &Hash) -> Result<Option<(u64, u32)>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(TXS).map_err(db)?;
        Ok(t.get(tx_id.0.as_slice()).map_err(db)?.and_then(|v| parse_loc(v.value())))
    }

    /// Opens a private record's current (or given) version with this node's keys.
    pub fn read_private(&self, record_id: &str, version: Option<u64>) -> Result<Vec<u8>, LedgerError> {
        let keys = self.local.as_ref().ok_or_else(|| LedgerError::Private("this node has no member keys".into()))?;
        let state =
            self.record_state(record_id)?.ok_or_else(|| LedgerError::NotFound(format!("record {record_id}")))?;
        let version = version.unwrap_or(state.version);
        let rv = self
            .history(record_id)?
            .into_iter()
            .find(|v| v.version == version && v.kind == TxKind::Put)
            .ok_or_else(|| LedgerError::NotFound(format!("version {version} of {record_id}")))?;
        if rv.payload_kind != PayloadKind::Private {
            return Err(LedgerError::Private(format!("{record_id} is not a private record")));
        }
        if !rv.recipients.iter().any(|r| r == &keys.member) {
            return Err(LedgerError::NotRecipient { record: record_id.to_owned(), member: keys.member.clone() });
        }
        let wrapped: Vec<WrappedKey> = {
            let r = self.db.begin_read().map_err(db)?;
            let t = r.open_table(WRAPPED).map_err(db)?;
            match t.get(version_key(record_id, version).as_slice()).map_err(db)? {
                Some(v) => serde_json::from_slice(v.value())
                    .map_err(|e| LedgerError::Corrupt { height: Some(rv.height), detail: e.to_string() })?,
                None => return Err(LedgerError::Erased(record_id.to_owned())),
            }
        };
        let mine = wrapped
            .iter()
            .find(|w| w.member == keys.member)
            .ok_or_else(|| LedgerError::NotRecipient { record: record_id.to_owned(), member: keys.member.clone() })?;
        let block = self
            .block(rv.height)?
            .ok_or(LedgerError::Corrupt { height: Some(rv.height), detail: "block missing".into() })?;
        let t = &block.txs[rv.index as usize];
        let body = t.body().map_err(|e| LedgerError::Corrupt { height: Some(rv.height), detail: e.to_string() })?;
        let header = body.private.ok_or_else(|| LedgerError::Private("no private header".into()))?;
        private::open(&t.payload, &header, record_id, mine, &keys.encryption)
    }

    /// Re-checks the chain from the last few blocks: hash links, Merkle roots, checkpoint.
    fn quick_check(&self) -> Result<(), LedgerError> {
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
    pub fn verify_all(&self) -> Result<IntegrityReport, LedgerError> {
        let Some(head) = self.head() else { return Ok(IntegrityReport::default()) };
        let mut report = self.verify_range(1, head.height)?;
        self.verify_state(&mut report)?;
        Ok(report)
    }

    fn verify_range(&self, from: u64, to: u64) -> Result<IntegrityReport, LedgerError> {
        let members = Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()).members);
        let mut report = IntegrityReport::default();
        let r = self.db.begin_read().map_err(db)?;
        let blocks = r.open_table(BLOCKS).map_err(db)?;
        let cps = r.open_table(CHECKPOINTS).map_err(db)?;
        let mut prev: Option<Hash> = if from == 1 {
            Some(self.chain)
        } else {
            blocks.get(from - 1).map_err(db)?.and_then(|v| Block::decode(v.value()).ok()).map(|b| b.header.hash())
        };
        for height in from..=to {
            report.blocks += 1;
            let mut problem = |detail: String| report.problems.push(Problem { height, detail });
            let Some(raw) = blocks.get(height).map_err(db)? else {
                problem("the block is missing".into());
                prev = None;
                continue;
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
            if h.chain != self.chain {
                problem("the block belongs to another chain".into());
            }
            if let Some(p) = prev
                && h.prev_hash != p
            {
                problem("the previous-hash link is broken (this block or the one before was altered)".into());
            }
            if block.computed_tx_root() != h.tx_root {
                problem(
                    "the Merkle root of the transactions does not match the header (a transaction was altered)".into(),
                );
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
                    match members.keys.get(&body.submitter) {
                        Some(k) if k.verify_strict(&t.body_bytes, &Signature::from_bytes(&t.signature)).is_ok() => {}
                        Some(_) => problem(format!("transaction {i}: the signature does not verify")),
                        None => problem(format!("transaction {i}: unknown submitter {}", body.submitter)),
                    }
                    if matches!(body.payload_kind, PayloadKind::Clear | PayloadKind::Private)
                        && Hash::of(&t.payload) != body.payload_digest
                    {
                        problem(format!("transaction {i}: the payload differs from its signed digest"));
                    }
                }
            }
            let hash = h.hash();
            if let Some(v) = cps.get(height).map_err(db)? {
                match serde_json::from_slice::<Vec<Checkpoint>>(v.value()) {
                    Ok(list) => {
                        for cp in list {
                            let ok = cp.block_hash == hash
                                && members.keys.get(&cp.member).is_some_and(|k| cp.verify(&self.chain, k));
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

    /// Builds an offline-verifiable proof of a record's current version.
    pub fn proof(&self, record_id: &str) -> Result<crate::proof::Proof, LedgerError> {
        let s = self.record_state(record_id)?.ok_or_else(|| LedgerError::NotFound(format!("record {record_id}")))?;
        let block = self
            .block(s.height)?
            .ok_or(LedgerError::Corrupt { height: Some(s.height), detail: "block missing".into() })?;
        let checkpoints = self.checkpoints(s.height)?;
        crate::proof::Proof::build(&block, s.index as usize, checkpoints)
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Verifies every signature in one batch (a batch of n costs far less than n single
/// verifications); when the batch fails, one by one to find the bad ones. Unknown submitters
/// fail.
fn verify_signatures(txs: &[&Transaction], members: &Members) -> Vec<bool> {
    let mut msgs = Vec::with_capacity(txs.len());
    let mut sigs = Vec::with_capacity(txs.len());
    let mut keys = Vec::with_capacity(txs.len());
    let mut known = Vec::with_capacity(txs.len());
    for t in txs {
        match members.keys.get(&t.body.submitter) {
            Some(k) => {
                msgs.push(t.body_bytes.as_slice());
                sigs.push(Signature::from_bytes(&t.signature));
                keys.push(*k);
                known.push(true);
            }
            None => known.push(false),
        }
    }
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return known;
    }
    txs.iter()
        .map(|t| {
            members
                .keys
                .get(&t.body.submitter)
                .is_some_and(|k| k.verify_strict(&t.body_bytes, &Signature::from_bytes(&t.signature)).is_ok())
        })
        .collect()
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

fn apply_governance(
    members: &Arc<Members>,
    policy: &Arc<Policy>,
    action: &GovernanceAction,
) -> Result<(Arc<Members>, Arc<Policy>), LedgerError> {
    let mut list: Vec<Member> = members.by_id.values().cloned().collect();
    let mut nodes = members.nodes.clone();
    let mut policy = Arc::clone(policy);
    match action {
        GovernanceAction::AdmitMember { member } => {
            if list.iter().any(|m| m.id == member.id) {
                return Err(LedgerError::Governance(format!("{} is already a member", member.id)));
            }
            member.verifying_key()?;
            member.encryption_public()?;
            let mut m = member.clone();
            m.status = MemberStatus::Active;
            list.push(m);
        }
        GovernanceAction::SuspendMember { member_id, .. } | GovernanceAction::ReinstateMember { member_id } => {
            let target = matches!(action, GovernanceAction::SuspendMember { .. });
            let m = list
                .iter_mut()
                .find(|m| &m.id == member_id)
                .ok_or_else(|| LedgerError::Governance(format!("{member_id} is not a member")))?;
            m.status = if target { MemberStatus::Suspended } else { MemberStatus::Active };
        }
        GovernanceAction::SetPolicy { policy: text } => {
            policy = Arc::new(Policy::new(text)?);
        }
        GovernanceAction::AddNode { node } => {
            if node.id == 0 || nodes.iter().any(|n| n.id == node.id) {
                return Err(LedgerError::Governance(format!("node id {} is zero or already taken", node.id)));
            }
            if !list.iter().any(|m| m.id == node.member && m.status == MemberStatus::Active) {
                return Err(LedgerError::Governance(format!("{} is not an active member", node.member)));
            }
            if node.peer_addr.is_empty() || node.api_url.is_empty() {
                return Err(LedgerError::Governance("a node needs its peer address and API URL".into()));
            }
            nodes.push(node.clone());
        }
        GovernanceAction::RemoveNode { node_id } => {
            let before = nodes.len();
            nodes.retain(|n| n.id != *node_id);
            if nodes.len() == before {
                return Err(LedgerError::Governance(format!("node {node_id} is not an ordering node")));
            }
            if nodes.is_empty() {
                return Err(LedgerError::Governance("the last ordering node cannot be removed".into()));
            }
        }
    }
    Ok((Arc::new(Members::new(list, nodes)?), policy))
}

/// The header of the newest block in a blocks table.
fn last_header(blocks: &impl ReadableTable<u64, &'static [u8]>) -> Result<Option<BlockHeader>, LedgerError> {
    match blocks.last().map_err(db)? {
        Some((h, v)) => Ok(Some(
            Block::decode(v.value())
                .map_err(|e| LedgerError::Corrupt { height: Some(h.value()), detail: e.to_string() })?
                .header,
        )),
        None => Ok(None),
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consortium::{OrgSpec, create};
    use crate::identity::Role;

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
            let body = clear_put_body(chain, &record, "AEO-1", 1, &payload, &keys.member, nonce, 1);
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
