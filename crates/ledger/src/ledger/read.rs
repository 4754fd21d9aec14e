//! Reading: a record's current version and history, the newest records of a type, blocks,
//! checkpoints, where a transaction was committed, private records opened with this node's
//! keys, and proofs.
//!
//! Every read is one redb read transaction over committed data: a reader never sees a block
//! that is not durable, and never blocks the writer.

use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;

use super::Ledger;
use super::tables::{
    BLOCKS, BY_TIME, BY_TYPE, CHECKPOINTS, HISTORY, RecordState, STATE, TXS, WRAPPED, db, index_key, parse_loc,
    version_key,
};
use crate::block::{Block, BlockHeader, Checkpoint};
use crate::tx::{PayloadKind, RecordMeta, TxKind, WrappedKey};
use crate::{Hash, LedgerError, private};

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

impl Ledger {
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

    /// The current state of a record.
    pub fn record_state(&self, record_id: &str) -> Result<Option<RecordState>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(STATE).map_err(db)?;
        match t.get(record_id).map_err(db)? {
            Some(v) => Ok(Some(RecordState::decode(v.value())?)),
            None => Ok(None),
        }
    }

    /// The records whose id starts with `prefix`, in id (byte) order, from the id `from` on
    /// (inclusive; ids before `prefix` are skipped), at most `limit`, with their current state.
    pub fn records_from(
        &self,
        prefix: &str,
        from: &str,
        limit: usize,
    ) -> Result<Vec<(String, RecordState)>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(STATE).map_err(db)?;
        let start = if from < prefix { prefix } else { from };
        let mut out = Vec::new();
        for row in t.range(start..).map_err(db)? {
            let (k, v) = row.map_err(db)?;
            if !k.value().starts_with(prefix) || out.len() >= limit {
                break;
            }
            out.push((k.value().to_owned(), RecordState::decode(v.value())?));
        }
        Ok(out)
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

    /// A block's header by height, without decoding its transactions (e.g. to read the times of
    /// many blocks).
    pub fn block_header(&self, height: u64) -> Result<Option<BlockHeader>, LedgerError> {
        let r = self.db.begin_read().map_err(db)?;
        let t = r.open_table(BLOCKS).map_err(db)?;
        match t.get(height).map_err(db)? {
            Some(v) => Ok(Some(
                Block::decode_header(v.value())
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
        let block = self
            .block(rv.height)?
            .ok_or(LedgerError::Corrupt { height: Some(rv.height), detail: "block missing".into() })?;
        let t = &block.txs[rv.index as usize];
        let body = t.body().map_err(|e| LedgerError::Corrupt { height: Some(rv.height), detail: e.to_string() })?;
        let header = body.private.ok_or_else(|| LedgerError::Private("no private header".into()))?;
        self.open_committed(record_id, version, &header, &t.payload)
    }

    /// Opens one committed version of a private record whose header and ciphertext the caller
    /// already holds (a block it is reading), with this node's keys: reads only the wrapped keys.
    pub fn open_committed(
        &self,
        record_id: &str,
        version: u64,
        header: &crate::tx::PrivateHeader,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, LedgerError> {
        let keys = self.local.as_ref().ok_or_else(|| LedgerError::Private("this node has no member keys".into()))?;
        let wrapped: Vec<WrappedKey> = {
            let r = self.db.begin_read().map_err(db)?;
            let t = r.open_table(WRAPPED).map_err(db)?;
            match t.get(version_key(record_id, version).as_slice()).map_err(db)? {
                Some(v) => serde_json::from_slice(v.value())
                    .map_err(|e| LedgerError::Corrupt { height: None, detail: e.to_string() })?,
                None => return Err(LedgerError::Erased(record_id.to_owned())),
            }
        };
        let mine = wrapped
            .iter()
            .find(|w| w.member == keys.member)
            .ok_or_else(|| LedgerError::NotRecipient { record: record_id.to_owned(), member: keys.member.clone() })?;
        private::open(ciphertext, header, record_id, mine, &keys.encryption)
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
}
