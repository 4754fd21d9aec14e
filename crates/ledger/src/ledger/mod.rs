//! The ledger of one node: validation, blocks and state in redb.
//!
//! Invariants kept by this module and its parts:
//! - a block is written in one redb write transaction together with every state and index change
//!   it causes, committed durably before anyone is told: a crash leaves either the whole block
//!   or nothing, and every acknowledged transaction survives it ([`write`]);
//! - validation is deterministic: it reads only the transaction, the committed state and the
//!   transactions before it in the same block — never a clock or the node's identity — so every
//!   node that applies the same transactions reaches the same outcomes and the same block hash
//!   ([`validate`]);
//! - invalid transactions are never applied; when ordered by another node they stay in the block
//!   with their reason (as Fabric does), when submitted here they are refused and not stored
//!   ([`write`]).
//!
//! This file owns the [`Ledger`] itself: what it holds, how it is opened (the chain id and the
//! founding members recorded on first start and checked on every later one, the last blocks
//! re-checked) and the accessors of its live state. The rest is split by concern:
//! - [`tables`]: the redb tables, their key encodings and the stored record state;
//! - [`validate`]: signature verification and the deterministic validation of a transaction;
//! - [`write`]: building, writing and committing blocks; node metadata;
//! - [`read`]: records, versions, history, lists, blocks, checkpoints, private records, proofs;
//! - [`integrity`]: re-checking the chain and the state against the blocks;
//! - [`bodies`]: the transaction bodies clients build to submit.

mod bodies;
mod endorse;
mod integrity;
mod read;
mod retention;
mod tables;
mod validate;
mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use ed25519_dalek::VerifyingKey;
use redb::{Database, ReadableDatabase, ReadableTable};

use crate::block::BlockHeader;
use crate::genesis::{Genesis, NodeSpec};
use crate::identity::{Member, MemberKeys, MemberStatus};
use crate::policy::Policy;
use crate::{Hash, LedgerError};

pub use bodies::{clear_put_body, erase_body, governance_body, next_version};
pub use integrity::{IntegrityReport, Problem};
pub use read::RecordVersion;
pub use retention::Expired;
pub use tables::RecordState;
pub use write::{Committed, MetaAtHead, Receipt};

use tables::{
    BLOCKS, BY_SUBMITTER, BY_TIME, BY_TYPE, CHECKPOINTS, HISTORY, MEMBERS, META, STATE, TXS, WRAPPED, db, last_header,
};

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

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).field("chain", &self.chain).finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens (or creates) the ledger in `dir` for the consortium of `genesis`; `local` are the
    /// keys of the member operating this node (used to sign checkpoints and open private records).
    pub fn open(dir: &Path, genesis: Genesis, local: Option<MemberKeys>) -> Result<Self, LedgerError> {
        std::fs::create_dir_all(dir).map_err(|e| LedgerError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("ledger.redb");
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
        let database = match crate::store::open_verified(&path) {
            Ok(d) => d,
            // Refused as damaged: say at which block the chain breaks, when that can be told.
            Err(LedgerError::Corrupt { height: None, detail }) => {
                let file = path.display();
                return Err(match integrity::locate_damage(&path, &chain) {
                    Some(p) => LedgerError::Corrupt {
                        height: Some(p.height),
                        detail: format!("{}; in {file}, {detail}", p.detail),
                    },
                    None => LedgerError::Corrupt { height: None, detail: format!("in {file}, {detail}") },
                });
            }
            Err(e) => return Err(e),
        };
        // The file's pages verified; what follows decodes them, contained all the same.
        crate::store::contained(&format!("reading {}", path.display()), || {
            Self::open_database(database, path.clone(), genesis, chain, local)
        })
    }

    /// Records or checks the chain id and founding members, loads the live state from the
    /// store and re-checks the newest blocks.
    fn open_database(
        database: Database,
        path: PathBuf,
        genesis: Genesis,
        chain: Hash,
        local: Option<MemberKeys>,
    ) -> Result<Self, LedgerError> {
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

    /// One member, by id (without copying the whole member list: request authentication
    /// looks a member up on every signed request).
    pub fn member(&self, id: &str) -> Option<Member> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).members.by_id.get(id).cloned()
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

    /// The current read policy text: the last `set_read_policy` committed, else the genesis',
    /// else [`crate::read_policy::DEFAULT_READ_POLICY`].
    pub fn read_policy_text(&self) -> Result<String, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let metat = r.open_table(META).map_err(db)?;
        Ok(match metat.get("read_policy").map_err(db)? {
            Some(v) => String::from_utf8_lossy(v.value()).into_owned(),
            None => {
                self.genesis.read_policy.clone().unwrap_or_else(|| crate::read_policy::DEFAULT_READ_POLICY.to_owned())
            }
        })
    }

    /// The current write policy text.
    pub fn policy_text(&self) -> String {
        self.live.read().unwrap_or_else(|e| e.into_inner()).policy.text().to_owned()
    }

    /// The newest block header.
    pub fn head(&self) -> Option<BlockHeader> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).head.clone()
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
