//! Retention: which records have outlived the period the consortium keeps them
//! (`retention_days` in the genesis), and their erasure.
//!
//! A record expires `retention_days[type]` days after the block that committed its latest
//! version (the block's timestamp, set by the ordering leader, not the submitter's clock, so a
//! submitter can neither backdate nor postdate its records). Only a private record can be erased
//! (its wrapped keys deleted: crypto-shredding); an expired clear record is listed so that the
//! consortium sees it, but its payload is in the chain for good.

use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;

use super::Ledger;
use super::tables::{BLOCKS, RecordState, STATE, WRAPPED, db, version_key};
use crate::block::Block;
use crate::{LedgerError, Transaction};

/// One record past its retention period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expired {
    /// Record id.
    pub record_id: String,
    /// Record type.
    pub record_type: String,
    /// Its current version.
    pub version: u64,
    /// The country whose administration has authority over it.
    pub country: String,
    /// When its latest version was committed (block timestamp, ms since the epoch).
    pub committed_ms: i64,
    /// When it expired (ms since the epoch).
    pub expired_ms: i64,
    /// Whether it is private (erasable by crypto-shredding); a clear record cannot be erased.
    pub private: bool,
}

const DAY_MS: i64 = 86_400_000;

impl Ledger {
    /// The records expired at `now_ms` under the genesis' retention periods, oldest first.
    /// Erased records are not listed. Reads every record's state once (and each block header
    /// once), in one read transaction.
    pub fn retention_review(&self, now_ms: i64) -> Result<Vec<Expired>, LedgerError> {
        let periods = &self.genesis.retention_days;
        if periods.is_empty() {
            return Ok(Vec::new());
        }
        let r = self.db.begin_read().map_err(db)?;
        let state = r.open_table(STATE).map_err(db)?;
        let blocks = r.open_table(BLOCKS).map_err(db)?;
        let wrapped = r.open_table(WRAPPED).map_err(db)?;
        let mut headers: std::collections::HashMap<u64, i64> = std::collections::HashMap::new();
        let mut out = Vec::new();
        for entry in state.iter().map_err(db)? {
            let (k, v) = entry.map_err(db)?;
            let s = RecordState::decode(v.value())?;
            if s.erased {
                continue;
            }
            let Some(&days) = periods.get(&s.record_type) else { continue };
            let committed_ms = match headers.get(&s.height) {
                Some(t) => *t,
                None => {
                    let raw = blocks
                        .get(s.height)
                        .map_err(db)?
                        .ok_or(LedgerError::Corrupt { height: Some(s.height), detail: "block missing".into() })?;
                    let h = Block::decode_header(raw.value())
                        .map_err(|e| LedgerError::Corrupt { height: Some(s.height), detail: e.to_string() })?;
                    headers.insert(s.height, h.timestamp_ms);
                    h.timestamp_ms
                }
            };
            let expired_ms = committed_ms.saturating_add(i64::from(days) * DAY_MS);
            if expired_ms > now_ms {
                continue;
            }
            let id = k.value().to_owned();
            let private = wrapped.get(version_key(&id, s.version).as_slice()).map_err(db)?.is_some();
            out.push(Expired {
                record_id: id,
                record_type: s.record_type,
                version: s.version,
                country: s.meta.country,
                committed_ms,
                expired_ms,
                private,
            });
        }
        out.sort_by(|a, b| a.expired_ms.cmp(&b.expired_ms).then_with(|| a.record_id.cmp(&b.record_id)));
        Ok(out)
    }

    /// An erasure of `e` signed by this node's member (the write policy decides on every node
    /// whether that member may erase it: by default the customs administration of its country).
    pub fn erasure_by_local(&self, e: &Expired, nonce: u64, now_ms: i64) -> Result<Transaction, LedgerError> {
        let keys = self
            .local
            .as_ref()
            .ok_or_else(|| LedgerError::Key("this node holds no member keys, so it cannot sign an erasure".into()))?;
        let body = super::erase_body(self.chain, &e.record_type, &e.record_id, e.version, &keys.member, nonce, now_ms);
        Ok(Transaction::sign(body, Vec::new(), Vec::new(), keys))
    }

    /// A clear `document` record `document:{this member}:{name}` carrying `payload` (JSON),
    /// signed by this node's member: how a node commits its own facts (e.g. its audit log's
    /// anchors). Version 1, or the next version when the record exists.
    pub fn document_by_local(
        &self,
        name: &str,
        payload: &[u8],
        nonce: u64,
        now_ms: i64,
    ) -> Result<Transaction, LedgerError> {
        self.local_document(name, payload, None, nonce, now_ms)
    }

    /// A private `document` record `document:{this member}:{name}`: `payload` (JSON) sealed
    /// for `recipients` (member ids; this member is added, so that its node can read back what
    /// it committed), signed by this node's member. Version 1, or the next version.
    pub fn private_document_by_local(
        &self,
        name: &str,
        payload: &[u8],
        recipients: &[String],
        nonce: u64,
        now_ms: i64,
    ) -> Result<Transaction, LedgerError> {
        self.local_document(name, payload, Some(recipients), nonce, now_ms)
    }

    fn local_document(
        &self,
        name: &str,
        payload: &[u8],
        private: Option<&[String]>,
        nonce: u64,
        now_ms: i64,
    ) -> Result<Transaction, LedgerError> {
        let keys = self
            .local
            .as_ref()
            .ok_or_else(|| LedgerError::Key("this node holds no member keys, so it cannot sign a record".into()))?;
        let record_id = crate::meta::compose_id("document", &keys.member, name);
        let version = super::next_version(self.record_state(&record_id)?.as_ref());
        let (payload_kind, header, bytes, wrapped) = match private {
            None => (crate::tx::PayloadKind::Clear, None, payload.to_vec(), Vec::new()),
            Some(recipients) => {
                let members = self.members();
                let mut sealed_for = Vec::new();
                for id in std::iter::once(&keys.member).chain(recipients) {
                    if sealed_for.iter().any(|(m, _)| m == id) {
                        continue;
                    }
                    let m = members
                        .iter()
                        .find(|m| &m.id == id)
                        .ok_or_else(|| LedgerError::Private(format!("recipient {id} is not a member")))?;
                    sealed_for.push((m.id.clone(), m.encryption_public()?));
                }
                let (header, ciphertext, wrapped) = crate::private::seal(payload, &record_id, &sealed_for)?;
                (crate::tx::PayloadKind::Private, Some(header), ciphertext, wrapped)
            }
        };
        let body = crate::tx::TxBody {
            chain: self.chain,
            kind: crate::tx::TxKind::Put,
            record_type: "document".into(),
            record_id,
            version,
            meta: crate::tx::RecordMeta::default(),
            payload_kind,
            payload_digest: crate::Hash::of(&bytes),
            payload_len: bytes.len() as u64,
            media_type: "application/json".into(),
            private: header,
            submitter: keys.member.clone(),
            nonce,
            timestamp_ms: now_ms,
            endorsement: None,
        };
        Ok(Transaction::sign(body, bytes, wrapped, keys))
    }
}
