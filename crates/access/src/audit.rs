//! The audit trail: every read of personal or confidential data, every re-identification and
//! every erasure, appended to a hash-chained log whose head is anchored on the ledger.
//!
//! Each entry's JSON names the hash of the entry before it (`prev`), and its own hash is the
//! SHA-256 of that JSON: changing, removing or reordering an entry breaks every hash after it
//! ([`AuditLog::verify_chain`]). At a fixed interval the node anchors the entries since the last
//! anchor: an [`Anchor`] (first and last sequence number, the chain's head, the Merkle root of
//! the batch's entry hashes) committed to the ledger as a clear `document` record
//! (`document:{member}:audit-anchor-{last}`). An [`AuditProof`] of one entry — the entry, its
//! Merkle path to the anchor's root, the anchor and the ledger's proof of the anchor record —
//! verifies offline against the consortium's genesis (`borderlink verify`).
//!
//! The log is one redb file (`DATA/access/audit.redb`, mode 0600), opened as untrusted input.

use std::path::Path;
use std::sync::Mutex;

use borderlink_ledger::proof::Proof;
use borderlink_ledger::{Hash, merkle};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::AccessError;

/// Entries: sequence number → entry JSON.
const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_entries");
/// Anchors: last sequence number of the batch → anchor JSON.
const ANCHORS: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_anchors");

/// The anchor format.
pub const ANCHOR_FORMAT: &str = "borderlink-audit-anchor/1";
/// The audit proof format.
pub const PROOF_FORMAT: &str = "borderlink-audit-proof/1";

/// What an entry records, before the log numbers and chains it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Who: a username, a member id (a system's signed request) or `operator`.
    pub actor: String,
    /// `person`, `member` or `operator`.
    pub actor_kind: String,
    /// The organisation (member) the actor acts for.
    pub organisation: String,
    /// The actor's roles (`system` for a member's signed request).
    pub roles: Vec<String>,
    /// The declared purpose.
    pub purpose: String,
    /// `read`, `reidentify`, `erase`, `mra-read`, `export`.
    pub action: String,
    /// The route or command (e.g. `GET /api/v1/records/{id}`).
    pub route: String,
    /// The records concerned.
    pub records: Vec<String>,
    /// The fields withheld from the answer (paths), if any.
    pub withheld: Vec<String>,
    /// The traders and persons the records name (identifiers), for a data subject's report.
    pub subjects: Vec<String>,
    /// A reason given (re-identification), or other detail.
    pub detail: String,
}

/// One entry of the log, as stored and hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its sequence number, from 1.
    pub seq: u64,
    /// When (milliseconds since the epoch).
    pub at_ms: i64,
    /// The node (member) that kept it.
    pub node: String,
    /// What was done.
    #[serde(flatten)]
    pub access: Access,
    /// The hash of the entry before (zero for the first).
    pub prev: Hash,
}

impl Entry {
    /// The entry's hash: SHA-256 of its JSON.
    pub fn hash(&self) -> Hash {
        Hash::of(&entry_bytes(self))
    }
}

fn entry_bytes(e: &Entry) -> Vec<u8> {
    // Serializing a struct of strings, numbers and lists cannot fail.
    serde_json::to_vec(e).unwrap_or_default()
}

/// An anchor: a batch of entries whose head and Merkle root are committed to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// [`ANCHOR_FORMAT`].
    pub format: String,
    /// The node (member) whose log this is.
    pub node: String,
    /// The first entry of the batch.
    pub first_seq: u64,
    /// The last entry of the batch.
    pub last_seq: u64,
    /// The hash of the last entry: the chain's head.
    pub head: Hash,
    /// The Merkle root of the batch's entry hashes, in order.
    pub root: Hash,
    /// When it was made (milliseconds since the epoch).
    pub at_ms: i64,
}

/// An anchor as the log keeps it: with the ledger record it was committed as, once it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnchor {
    /// The anchor.
    pub anchor: Anchor,
    /// The ledger record id, once committed.
    pub record_id: Option<String>,
}

/// Which entries a query wants (every field optional; all given must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The actor (username or member id).
    pub actor: Option<String>,
    /// The organisation.
    pub organisation: Option<String>,
    /// The purpose.
    pub purpose: Option<String>,
    /// The action.
    pub action: Option<String>,
    /// A record id among the entry's records.
    pub record: Option<String>,
    /// A trader's or person's identifier among the entry's subjects.
    pub subject: Option<String>,
    /// At or after (ms).
    pub from_ms: Option<i64>,
    /// Before (ms).
    pub to_ms: Option<i64>,
}

impl Filter {
    fn matches(&self, e: &Entry) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.actor, &e.access.actor)
            && eq(&self.organisation, &e.access.organisation)
            && eq(&self.purpose, &e.access.purpose)
            && eq(&self.action, &e.access.action)
            && self.record.as_deref().is_none_or(|r| e.access.records.iter().any(|x| x == r))
            && self.subject.as_deref().is_none_or(|s| e.access.subjects.iter().any(|x| x == s))
            && self.from_ms.is_none_or(|t| e.at_ms >= t)
            && self.to_ms.is_none_or(|t| e.at_ms < t)
    }
}

/// The audit log.
#[derive(Debug)]
pub struct AuditLog {
    db: Database,
    node: String,
    /// The last sequence number and hash (appends are serialised).
    head: Mutex<(u64, Hash)>,
}

fn storage<E: std::fmt::Display>(e: E) -> AccessError {
    AccessError::Storage(e.to_string())
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, key: u64, bytes: &[u8]) -> Result<T, AccessError> {
    serde_json::from_slice(bytes).map_err(|e| AccessError::Storage(format!("audit {what} {key} does not decode: {e}")))
}

impl AuditLog {
    /// Opens (or creates) the log at `path` for the node of member `node`.
    pub fn open(path: &Path, node: &str) -> Result<Self, AccessError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| storage(format!("{}: {e}", dir.display())))?;
        }
        let db = borderlink_ledger::store::open_verified(path)
            .map_err(|e| AccessError::Storage(format!("{}: {e}", path.display())))?;
        let w = db.begin_write().map_err(storage)?;
        w.open_table(ENTRIES).map_err(storage)?;
        w.open_table(ANCHORS).map_err(storage)?;
        w.commit().map_err(storage)?;
        let head = {
            let r = db.begin_read().map_err(storage)?;
            let t = r.open_table(ENTRIES).map_err(storage)?;
            match t.last().map_err(storage)? {
                Some((k, v)) => {
                    let e: Entry = decode("entry", k.value(), v.value())?;
                    (e.seq, e.hash())
                }
                None => (0, Hash::default()),
            }
        };
        Ok(Self { db, node: node.to_owned(), head: Mutex::new(head) })
    }

    /// Appends an entry; answers its sequence number. The entry is durable when this returns.
    pub fn append(&self, access: Access, at_ms: i64) -> Result<u64, AccessError> {
        let mut head = self.head.lock().unwrap_or_else(|e| e.into_inner());
        let entry = Entry { seq: head.0 + 1, at_ms, node: self.node.clone(), access, prev: head.1 };
        let bytes = entry_bytes(&entry);
        let w = self.db.begin_write().map_err(storage)?;
        {
            let mut t = w.open_table(ENTRIES).map_err(storage)?;
            t.insert(entry.seq, bytes.as_slice()).map_err(storage)?;
        }
        w.commit().map_err(storage)?;
        *head = (entry.seq, Hash::of(&bytes));
        Ok(entry.seq)
    }

    /// How many entries the log holds.
    pub fn len(&self) -> u64 {
        self.head.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries matching `filter`, newest first, skipping `offset` and at most `limit`.
    pub fn query(&self, filter: &Filter, offset: usize, limit: usize) -> Result<Vec<Entry>, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        let t = r.open_table(ENTRIES).map_err(storage)?;
        let mut out = Vec::new();
        let mut skipped = 0;
        for row in t.iter().map_err(storage)?.rev() {
            let (k, v) = row.map_err(storage)?;
            let e: Entry = decode("entry", k.value(), v.value())?;
            if !filter.matches(&e) {
                continue;
            }
            if skipped < offset {
                skipped += 1;
                continue;
            }
            out.push(e);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Recomputes every hash and link; answers the number of entries, or the first broken one.
    pub fn verify_chain(&self) -> Result<u64, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        let t = r.open_table(ENTRIES).map_err(storage)?;
        let mut prev = Hash::default();
        let mut n = 0;
        for row in t.iter().map_err(storage)? {
            let (k, v) = row.map_err(storage)?;
            let e: Entry = decode("entry", k.value(), v.value())?;
            if e.seq != n + 1 || e.prev != prev || k.value() != e.seq {
                return Err(AccessError::Storage(format!("audit entry {} does not follow entry {n}", k.value())));
            }
            prev = Hash::of(v.value());
            n = e.seq;
        }
        Ok(n)
    }

    /// The next anchor to commit: the entries after the last anchor, if any.
    pub fn next_anchor(&self, at_ms: i64) -> Result<Option<Anchor>, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        let anchors = r.open_table(ANCHORS).map_err(storage)?;
        let first = anchors.last().map_err(storage)?.map_or(1, |(k, _)| k.value() + 1);
        let entries = r.open_table(ENTRIES).map_err(storage)?;
        let mut hashes = Vec::new();
        let mut last = 0;
        for row in entries.range(first..).map_err(storage)? {
            let (k, v) = row.map_err(storage)?;
            hashes.push(Hash::of(v.value()));
            last = k.value();
        }
        let Some(head) = hashes.last().copied() else { return Ok(None) };
        Ok(Some(Anchor {
            format: ANCHOR_FORMAT.into(),
            node: self.node.clone(),
            first_seq: first,
            last_seq: last,
            head,
            root: merkle::root(&hashes),
            at_ms,
        }))
    }

    /// Records that `anchor` was committed to the ledger as `record_id`.
    pub fn anchored(&self, anchor: &Anchor, record_id: &str) -> Result<(), AccessError> {
        let stored = StoredAnchor { anchor: anchor.clone(), record_id: Some(record_id.to_owned()) };
        let bytes = serde_json::to_vec(&stored).map_err(storage)?;
        let w = self.db.begin_write().map_err(storage)?;
        {
            let mut t = w.open_table(ANCHORS).map_err(storage)?;
            t.insert(anchor.last_seq, bytes.as_slice()).map_err(storage)?;
        }
        w.commit().map_err(storage)?;
        Ok(())
    }

    /// The anchors, newest first.
    pub fn anchors(&self, limit: usize) -> Result<Vec<StoredAnchor>, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        let t = r.open_table(ANCHORS).map_err(storage)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(storage)?.rev().take(limit) {
            let (k, v) = row.map_err(storage)?;
            out.push(decode("anchor", k.value(), v.value())?);
        }
        Ok(out)
    }

    /// How many anchors were committed.
    pub fn anchor_count(&self) -> Result<u64, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        r.open_table(ANCHORS).map_err(storage)?.len().map_err(storage)
    }

    /// The parts of entry `seq`'s proof: the entry, its batch's anchor and ledger record id,
    /// and its Merkle path. `None` when there is no such entry or it is not anchored yet.
    pub fn proof_parts(&self, seq: u64) -> Result<Option<(Entry, StoredAnchor, Vec<Hash>)>, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        let anchors = r.open_table(ANCHORS).map_err(storage)?;
        let Some(row) = anchors.range(seq..).map_err(storage)?.next() else { return Ok(None) };
        let (k, v) = row.map_err(storage)?;
        let stored: StoredAnchor = decode("anchor", k.value(), v.value())?;
        if stored.anchor.first_seq > seq {
            return Ok(None);
        }
        let entries = r.open_table(ENTRIES).map_err(storage)?;
        let mut hashes = Vec::new();
        let mut entry = None;
        for row in entries.range(stored.anchor.first_seq..=stored.anchor.last_seq).map_err(storage)? {
            let (k, v) = row.map_err(storage)?;
            hashes.push(Hash::of(v.value()));
            if k.value() == seq {
                entry = Some(decode::<Entry>("entry", k.value(), v.value())?);
            }
        }
        let Some(entry) = entry else { return Ok(None) };
        let index = (seq - stored.anchor.first_seq) as usize;
        let path = merkle::path(&hashes, index).ok_or_else(|| storage(format!("no Merkle path for entry {seq}")))?;
        Ok(Some((entry, stored, path)))
    }
}

/// A self-contained proof that an audit entry is untouched since its batch was anchored on the
/// ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditProof {
    /// [`PROOF_FORMAT`].
    pub format: String,
    /// The entry.
    pub entry: Entry,
    /// Its Merkle path to the anchor's root, from the leaf up.
    pub merkle_path: Vec<Hash>,
    /// The anchor of its batch.
    pub anchor: Anchor,
    /// The ledger's proof of the anchor record.
    pub ledger_proof: Proof,
}

/// What a verified audit proof establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAudit {
    /// The entry's sequence number.
    pub seq: u64,
    /// The node whose log holds it.
    pub node: String,
    /// The anchor record on the ledger.
    pub anchor_record: String,
    /// The block that committed the anchor.
    pub height: u64,
    /// The members whose checkpoints signed that block.
    pub signed_by: Vec<String>,
}

impl AuditProof {
    /// Checks the proof against the genesis: the entry leads to the anchor's root, the anchor
    /// is the record the ledger proof proves, and the ledger proof verifies.
    pub fn verify(&self, genesis: &borderlink_ledger::genesis::Genesis) -> Result<VerifiedAudit, String> {
        if self.format != PROOF_FORMAT {
            return Err(format!("format {:?} is not {PROOF_FORMAT}", self.format));
        }
        let a = &self.anchor;
        if a.format != ANCHOR_FORMAT {
            return Err(format!("anchor format {:?} is not {ANCHOR_FORMAT}", a.format));
        }
        let seq = self.entry.seq;
        if seq < a.first_seq || seq > a.last_seq {
            return Err(format!("entry {seq} is outside the anchored batch {}..={}", a.first_seq, a.last_seq));
        }
        if self.entry.node != a.node {
            return Err(format!("the entry is from node {}, the anchor from {}", self.entry.node, a.node));
        }
        let size = a.last_seq - a.first_seq + 1;
        let root = merkle::root_from_path(&self.entry.hash(), seq - a.first_seq, size, &self.merkle_path);
        if root != Some(a.root) {
            return Err(format!(
                "altered audit entry: entry {seq} does not lead to the anchored root {} (changed since it was anchored)",
                a.root.to_hex()
            ));
        }
        let record = self.ledger_proof.record.as_ref().ok_or("the ledger proof carries no clear anchor record")?;
        let anchored: Anchor = serde_json::from_value(record.clone())
            .map_err(|e| format!("the ledger record is not an audit anchor: {e}"))?;
        if &anchored != a {
            return Err("the anchor differs from the record committed on the ledger".into());
        }
        if self.ledger_proof.record_id != anchor_record_id(&a.node, a.last_seq) {
            return Err(format!("the ledger proof is of {}, not of this anchor", self.ledger_proof.record_id));
        }
        let v = self.ledger_proof.verify(genesis).map_err(|e| format!("the anchor's ledger proof: {e}"))?;
        if v.submitter != a.node {
            return Err(format!("the anchor was committed by {}, not by node {}", v.submitter, a.node));
        }
        Ok(VerifiedAudit {
            seq,
            node: a.node.clone(),
            anchor_record: v.record_id,
            height: v.height,
            signed_by: v.signed_by,
        })
    }
}

/// The ledger record id of the anchor of the batch ending at `last_seq` of `node`'s log.
pub fn anchor_record_id(node: &str, last_seq: u64) -> String {
    borderlink_ledger::meta::compose_id("document", node, &format!("audit-anchor-{last_seq:012}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(actor: &str, subject: &str) -> Access {
        Access {
            actor: actor.into(),
            actor_kind: "person".into(),
            organisation: "gb-customs".into(),
            roles: vec!["officer".into()],
            purpose: "clearance".into(),
            action: "read".into(),
            route: "GET /api/v1/records/{id}".into(),
            records: vec![format!("declaration:{subject}:1")],
            withheld: Vec::new(),
            subjects: vec![subject.into()],
            detail: String::new(),
        }
    }

    #[test]
    fn entries_chain_anchor_and_prove_and_a_changed_entry_breaks_the_chain() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("audit.redb");
        let log = AuditLog::open(&path, "gb-customs").expect("open");
        for i in 0..5 {
            log.append(read(if i % 2 == 0 { "amina" } else { "bo" }, &format!("GB{i}")), 1000 + i).expect("append");
        }
        assert_eq!(log.verify_chain().expect("chain"), 5);
        let by_amina = log.query(&Filter { actor: Some("amina".into()), ..Filter::default() }, 0, 10).unwrap();
        assert_eq!(by_amina.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 3, 1]);
        let subject = log.query(&Filter { subject: Some("GB3".into()), ..Filter::default() }, 0, 10).unwrap();
        assert_eq!(subject.len(), 1);
        let anchor = log.next_anchor(2000).unwrap().expect("a batch");
        assert_eq!((anchor.first_seq, anchor.last_seq), (1, 5));
        assert!(log.proof_parts(3).unwrap().is_none(), "not anchored yet");
        log.anchored(&anchor, &anchor_record_id("gb-customs", 5)).unwrap();
        let (entry, stored, merkle_path) = log.proof_parts(3).unwrap().expect("anchored");
        let root = merkle::root_from_path(&entry.hash(), 2, 5, &merkle_path);
        assert_eq!(root, Some(stored.anchor.root));
        assert!(log.next_anchor(3000).unwrap().is_none());
        log.append(read("amina", "GB9"), 4000).unwrap();
        let next = log.next_anchor(5000).unwrap().expect("the new entry");
        assert_eq!((next.first_seq, next.last_seq), (6, 6));
        drop(log);

        // Reopened, the log continues its chain.
        let log = AuditLog::open(&path, "gb-customs").expect("reopen");
        assert_eq!(log.append(read("bo", "GB1"), 6000).unwrap(), 7);
        assert_eq!(log.verify_chain().unwrap(), 7);

        // An entry rewritten in the file breaks the chain at the next entry.
        let mut e = log.query(&Filter::default(), 4, 1).unwrap().remove(0);
        assert_eq!(e.seq, 3);
        e.access.actor = "someone else".into();
        let w = log.db.begin_write().unwrap();
        w.open_table(ENTRIES).unwrap().insert(3, entry_bytes(&e).as_slice()).unwrap();
        w.commit().unwrap();
        let err = log.verify_chain().expect_err("tampered");
        assert!(err.to_string().contains("entry 4"), "{err}");
    }
}
