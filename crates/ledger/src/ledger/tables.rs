//! The redb tables of a ledger and how their keys and values are laid out.
//!
//! One place for the layout that writing, reading and the integrity check all rely on:
//! - `blocks` and `checkpoints` (a JSON list) are keyed by height, `state` by record id (a
//!   [`RecordState`]: the current version of each record), `members` by member id (JSON) and
//!   `meta` by name (the chain id, the policy, the ordering nodes, and `ext.`-prefixed entries
//!   of the node);
//! - `history` and `wrapped_keys` are keyed by [`version_key`] (record id, NUL, version
//!   big-endian), so a record's versions are one contiguous range in version order;
//! - `txs` maps a transaction id to its [`loc`] (height then index, big-endian: 12 bytes);
//! - `by_type` and `by_submitter` are keyed by [`index_key`] (prefix, NUL, location) and
//!   `by_time` by timestamp then location, so a reverse range scan lists the newest first.

use redb::{ReadableTable, TableDefinition};
use serde::Serialize;

use crate::LedgerError;
use crate::block::{Block, BlockHeader};
use crate::codec::{Reader, Writer};
use crate::tx::{MAX_NAME, RecordMeta};

pub(super) const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
pub(super) const CHECKPOINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("checkpoints");
pub(super) const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
pub(super) const HISTORY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("history");
pub(super) const TXS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("txs");
pub(super) const BY_TYPE: TableDefinition<&[u8], &str> = TableDefinition::new("by_type");
pub(super) const BY_SUBMITTER: TableDefinition<&[u8], &str> = TableDefinition::new("by_submitter");
pub(super) const BY_TIME: TableDefinition<&[u8], &str> = TableDefinition::new("by_time");
pub(super) const WRAPPED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("wrapped_keys");
pub(super) const MEMBERS: TableDefinition<&str, &[u8]> = TableDefinition::new("members");
pub(super) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// A redb error as a ledger error (corruption redb detects is [`LedgerError::Corrupt`]).
pub(super) use crate::store::storage as db;

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
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(&self.record_type).u64(self.version).str(&self.owner);
        w.str(&self.meta.country).str(&self.meta.declarant).str(&self.meta.issuer);
        w.u64(self.height).u32(self.index).u8(u8::from(self.erased));
        w.finish()
    }
    pub(super) fn decode(b: &[u8]) -> Result<Self, LedgerError> {
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

/// Key of a (record, version) pair: the id, a NUL, the version big-endian.
pub(super) fn version_key(record_id: &str, version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(record_id.len() + 9);
    k.extend_from_slice(record_id.as_bytes());
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

pub(super) fn loc(height: u64, index: u32) -> [u8; 12] {
    let mut a = [0u8; 12];
    a[..8].copy_from_slice(&height.to_be_bytes());
    a[8..].copy_from_slice(&index.to_be_bytes());
    a
}

pub(super) fn parse_loc(b: &[u8]) -> Option<(u64, u32)> {
    if b.len() != 12 {
        return None;
    }
    Some((u64::from_be_bytes(b[..8].try_into().ok()?), u32::from_be_bytes(b[8..].try_into().ok()?)))
}

pub(super) fn index_key(prefix: &str, height: u64, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 13);
    k.extend_from_slice(prefix.as_bytes());
    k.push(0);
    k.extend_from_slice(&loc(height, index));
    k
}

/// The header of the newest block in a blocks table.
pub(super) fn last_header(blocks: &impl ReadableTable<u64, &'static [u8]>) -> Result<Option<BlockHeader>, LedgerError> {
    match blocks.last().map_err(db)? {
        Some((h, v)) => Ok(Some(
            Block::decode(v.value())
                .map_err(|e| LedgerError::Corrupt { height: Some(h.value()), detail: e.to_string() })?
                .header,
        )),
        None => Ok(None),
    }
}
