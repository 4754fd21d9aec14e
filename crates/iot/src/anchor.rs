//! Anchoring: the events a node stores at full rate are committed to the ledger in batches, as
//! the Merkle root of their event hash IDs, so that any one event can later be proven to be
//! exactly as it was stored — offline, against the consortium's genesis alone.
//!
//! An [`EventAnchor`] covers the events a node stored after its previous anchor, in store order
//! (`seq`): the leaves are the SHA-256 of each event hash ID (the `ni:///sha-256;…?ver=CBV2.0`
//! string), hashed into a tree as the ledger hashes a block's transactions (RFC 9162). The node
//! commits it as a clear `document` record, `document:{member}:iot-anchor-{last_seq}` (the number
//! zero-padded to 20 digits, so that the records of one member sort in store order and the
//! anchor of an event is the first whose `last_seq` is not below the event's).
//!
//! An [`EventProof`] carries the event (its JSON-LD), its place in the batch, the Merkle path, the
//! anchor and the ledger's proof of the anchor record. [`EventProof::verify`] recomputes the
//! event's hash ID from the event itself (so an altered event cannot keep its old identity),
//! walks the path to the anchored root, checks that the anchor is the record the ledger proof
//! proves, and verifies that proof (signatures, block, checkpoints).

use borderlink_ledger::genesis::Genesis;
use borderlink_ledger::proof::Proof;
use borderlink_ledger::{Hash, merkle};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::epcis::{Format, hash::event_hash_id, parse_document};

/// The anchor format.
pub const ANCHOR_FORMAT: &str = "borderlink-iot-anchor/1";
/// The event proof format.
pub const PROOF_FORMAT: &str = "borderlink-iot-event-proof/1";
/// The name prefix of anchor documents.
pub const ANCHOR_DOCUMENT: &str = "iot-anchor-";

/// One batch of stored events, as committed to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventAnchor {
    /// [`ANCHOR_FORMAT`].
    pub format: String,
    /// The node (member) whose event store this is.
    pub node: String,
    /// The store's sequence number of the batch's first event.
    pub first_seq: u64,
    /// The store's sequence number of the batch's last event.
    pub last_seq: u64,
    /// How many events the batch holds (sequence numbers may have gaps).
    pub count: u64,
    /// The Merkle root of the batch's leaves ([`leaf`] of each event hash ID, in store order).
    pub root: Hash,
    /// When the anchor was made (milliseconds since the epoch).
    pub at_ms: i64,
    /// Why: `interval` or `alert`.
    pub reason: String,
}

/// The leaf of an event in an anchor's tree: the SHA-256 of its event hash ID.
pub fn leaf(hash_id: &str) -> Hash {
    Hash::of(hash_id.as_bytes())
}

/// The anchor of a batch: `events` are `(seq, hash id)` in store order; `None` when empty.
pub fn anchor_of(node: &str, events: &[(u64, &str)], at_ms: i64, reason: &str) -> Option<EventAnchor> {
    let (first, last) = (events.first()?.0, events.last()?.0);
    let leaves: Vec<Hash> = events.iter().map(|(_, h)| leaf(h)).collect();
    Some(EventAnchor {
        format: ANCHOR_FORMAT.into(),
        node: node.into(),
        first_seq: first,
        last_seq: last,
        count: events.len() as u64,
        root: merkle::root(&leaves),
        at_ms,
        reason: reason.into(),
    })
}

/// The name of the anchor document whose batch ends at `last_seq`.
pub fn anchor_document(last_seq: u64) -> String {
    format!("{ANCHOR_DOCUMENT}{last_seq:020}")
}

/// The ledger record id of `node`'s anchor ending at `last_seq`.
pub fn anchor_record_id(node: &str, last_seq: u64) -> String {
    borderlink_ledger::meta::compose_id("document", node, &anchor_document(last_seq))
}

/// A self-contained proof that an event is stored as it was when its batch was anchored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventProof {
    /// [`PROOF_FORMAT`].
    pub format: String,
    /// The event hash ID the event was stored under.
    pub hash_id: String,
    /// The event as stored (JSON-LD with its own `@context`).
    pub event: Value,
    /// Its sequence number in the node's store.
    pub seq: u64,
    /// Its position in the anchored batch (from 0).
    pub index: u64,
    /// The Merkle path from its leaf to the anchor's root, from the leaf up.
    pub merkle_path: Vec<Hash>,
    /// The anchor of its batch.
    pub anchor: EventAnchor,
    /// The ledger's proof of the anchor record.
    pub ledger_proof: Proof,
}

/// What a verified event proof establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    /// The event hash ID, recomputed from the event.
    pub hash_id: String,
    /// The event's type and time, for the reader.
    pub event_type: String,
    pub event_time: Option<String>,
    /// The node whose store holds it.
    pub node: String,
    /// The anchor record on the ledger.
    pub anchor_record: String,
    /// The block that committed the anchor.
    pub height: u64,
    /// The members whose checkpoints signed that block.
    pub signed_by: Vec<String>,
}

/// Why an event proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventProofError {
    #[error("malformed proof: {0}")]
    Malformed(String),
    #[error("altered event: its hash ID is {computed}, the proof says {claimed}")]
    AlteredEvent { computed: String, claimed: String },
    #[error("the event does not lead to the anchored root {0} (changed since it was anchored, or not in that batch)")]
    WrongPath(String),
    #[error("the anchor differs from the record committed on the ledger: {0}")]
    WrongAnchor(String),
    #[error("the anchor's ledger proof: {0}")]
    Ledger(String),
}

/// The event hash ID of one event given as JSON-LD (with or without its own `@context`).
pub fn hash_id_of_json(event: &Value) -> Result<(String, crate::epcis::Event), String> {
    let mut event = event.clone();
    let context = match &mut event {
        Value::Object(map) => map.remove("@context").unwrap_or_else(|| Value::Array(Vec::new())),
        _ => return Err("the event is not a JSON object".into()),
    };
    let document = serde_json::json!({
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "1970-01-01T00:00:00Z",
        "epcisBody": { "eventList": [event] },
    });
    let bytes = serde_json::to_vec(&document).map_err(|e| e.to_string())?;
    let parsed = parse_document(&bytes, Format::Json).map_err(|e| e.to_string())?;
    let event = parsed.events.into_iter().next().ok_or("no event")?;
    Ok((event_hash_id(&event), event))
}

impl EventProof {
    /// Checks the proof against the consortium's genesis, offline.
    pub fn verify(&self, genesis: &Genesis) -> Result<VerifiedEvent, EventProofError> {
        use EventProofError as E;
        if self.format != PROOF_FORMAT {
            return Err(E::Malformed(format!("format {:?} is not {PROOF_FORMAT}", self.format)));
        }
        let a = &self.anchor;
        if a.format != ANCHOR_FORMAT {
            return Err(E::Malformed(format!("anchor format {:?} is not {ANCHOR_FORMAT}", a.format)));
        }
        let (computed, event) = hash_id_of_json(&self.event).map_err(|e| E::Malformed(format!("event: {e}")))?;
        if computed != self.hash_id {
            return Err(E::AlteredEvent { computed, claimed: self.hash_id.clone() });
        }
        if self.seq < a.first_seq || self.seq > a.last_seq {
            return Err(E::WrongPath(format!(
                "{} (event {} is outside the batch {}..={})",
                a.root.to_hex(),
                self.seq,
                a.first_seq,
                a.last_seq
            )));
        }
        if merkle::root_from_path(&leaf(&self.hash_id), self.index, a.count, &self.merkle_path) != Some(a.root) {
            return Err(E::WrongPath(a.root.to_hex()));
        }
        let record = self.ledger_proof.record.as_ref().ok_or_else(|| E::WrongAnchor("no clear record".into()))?;
        let anchored: EventAnchor =
            serde_json::from_value(record.clone()).map_err(|e| E::WrongAnchor(format!("not an IoT anchor: {e}")))?;
        if &anchored != a {
            return Err(E::WrongAnchor("its fields differ".into()));
        }
        let record_id = anchor_record_id(&a.node, a.last_seq);
        if self.ledger_proof.record_id != record_id {
            return Err(E::WrongAnchor(format!(
                "the ledger proof is of {}, not of {record_id}",
                self.ledger_proof.record_id
            )));
        }
        let v = self.ledger_proof.verify(genesis).map_err(|e| E::Ledger(e.to_string()))?;
        if v.submitter != a.node {
            return Err(E::WrongAnchor(format!("committed by {}, not by node {}", v.submitter, a.node)));
        }
        Ok(VerifiedEvent {
            hash_id: computed,
            event_type: event.event_type.as_str().to_owned(),
            event_time: event.event_time.clone(),
            node: a.node.clone(),
            anchor_record: record_id,
            height: v.height,
            signed_by: v.signed_by,
        })
    }
}

/// The position and Merkle path of `hash_id` in an anchored batch given as hash IDs in store
/// order; `None` when it is not in it.
pub fn path_in(batch: &[String], hash_id: &str) -> Option<(u64, Vec<Hash>)> {
    let index = batch.iter().position(|h| h == hash_id)?;
    let leaves: Vec<Hash> = batch.iter().map(|h| leaf(h)).collect();
    Some((index as u64, merkle::path(&leaves, index)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_root_is_reached_from_each_event_and_only_from_it() {
        let ids: Vec<String> = (0..7).map(|i| format!("ni:///sha-256;{i:064x}?ver=CBV2.0")).collect();
        let with_seq: Vec<(u64, &str)> = ids.iter().enumerate().map(|(i, h)| (10 + 2 * i as u64, h.as_str())).collect();
        let a = anchor_of("gb-customs", &with_seq, 1, "interval").expect("a batch");
        assert_eq!((a.first_seq, a.last_seq, a.count), (10, 22, 7));
        for (i, h) in ids.iter().enumerate() {
            let (index, path) = path_in(&ids, h).expect("in the batch");
            assert_eq!(index, i as u64);
            assert_eq!(merkle::root_from_path(&leaf(h), index, a.count, &path), Some(a.root));
            assert_ne!(merkle::root_from_path(&leaf("ni:///other"), index, a.count, &path), Some(a.root));
        }
        assert!(path_in(&ids, "ni:///missing").is_none());
        assert!(anchor_of("gb-customs", &[], 1, "interval").is_none());
        assert_eq!(anchor_document(42), "iot-anchor-00000000000000000042");
    }

    #[test]
    fn an_event_hash_id_is_recomputed_from_its_json() {
        let event = serde_json::json!({
            "@context": [{"ex": "https://example.org/"}],
            "type": "ObjectEvent",
            "eventTime": "2026-03-02T09:30:00.000+01:00",
            "eventTimeZoneOffset": "+01:00",
            "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
            "action": "OBSERVE",
            "bizStep": "inspecting",
        });
        let (id, parsed) = hash_id_of_json(&event).expect("an event");
        assert!(id.starts_with("ni:///sha-256;") && id.ends_with("?ver=CBV2.0"), "{id}");
        assert_eq!(parsed.action.as_deref(), Some("OBSERVE"));
        let mut changed = event.clone();
        changed["action"] = "ADD".into();
        assert_ne!(hash_id_of_json(&changed).expect("an event").0, id);
        assert!(hash_id_of_json(&serde_json::json!([1])).is_err());
    }
}
