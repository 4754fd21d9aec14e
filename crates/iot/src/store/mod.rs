//! The event store: every admitted EPCIS event at full rate, behind one trait with two
//! implementations (embedded redb, [`redb_store::RedbEventStore`], by default; PostgreSQL for
//! sites that outgrow one machine) that pass one conformance suite ([`conformance`]).
//!
//! An event is stored once, under its CBV 2.0 event hash ID: a re-sent event is a duplicate, not
//! a second event. Its `eventID`, when it has one, is unique too (a different event under an
//! existing `eventID` is a conflict). A batch is stored whole or not at all (EPCIS capture's
//! `rollback`). The store numbers events in the order it stored them (`seq`), which anchoring
//! follows, and answers the EPCIS query's filters with pages in descending event time.
//!
//! The store does not parse events: the caller gives the fields the query filters on beside the
//! event's JSON, so that both implementations index exactly the same thing.

pub mod conformance;
pub mod postgres;
pub mod redb_store;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// An event as stored: its identity, the fields the query filters on, and the event itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The CBV 2.0 event hash ID (`ni:///sha-256;…?ver=CBV2.0`).
    pub hash_id: String,
    /// The event's own `eventID`, if it has one.
    pub event_id: Option<String>,
    /// `ObjectEvent`, `AggregationEvent`, …
    pub event_type: String,
    /// Event time, milliseconds since the epoch (UTC).
    pub event_time_ms: i64,
    /// When this node recorded it.
    pub record_time_ms: i64,
    pub action: Option<String>,
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    /// `epcList` and `childEPCs` (what `MATCH_epc` looks in).
    pub epcs: Vec<String>,
    pub parent_id: Option<String>,
    /// `inputEPCList` and `outputEPCList` (with the above, what `MATCH_anyEPC` looks in).
    pub other_epcs: Vec<String>,
    /// The device that reported it, if a device did.
    pub device: Option<String>,
    /// The event as JSON-LD.
    pub json: String,
}

/// An event as read back: with its place in the store's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered {
    pub seq: u64,
    pub event: StoredEvent,
}

/// What a batch insert did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inserted {
    /// The sequence numbers given to the new events, in batch order.
    pub new: Vec<u64>,
    /// The hash IDs of events that were already stored (re-sent).
    pub duplicates: Vec<String>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An `eventID` that names another event already stored (or twice in one batch).
    #[error("eventID {event_id:?} is already used by another event ({existing})")]
    EventIdTaken { event_id: String, existing: String },
    #[error("the page token is not one this store gave")]
    BadToken,
    #[error("event store: {0}")]
    Backend(String),
}

/// The query's filters (EPCIS 2.0 query parameters); every one given must match, a list
/// matches any of its values. An EPC filter value ending in `*` matches by prefix (an EPC pattern
/// such as `urn:epc:idpat:sgtin:0614141.107346.*` is given by its prefix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub event_types: Vec<String>,
    /// `GE_eventTime`.
    pub ge_event_time_ms: Option<i64>,
    /// `LT_eventTime`.
    pub lt_event_time_ms: Option<i64>,
    pub ge_record_time_ms: Option<i64>,
    pub lt_record_time_ms: Option<i64>,
    pub actions: Vec<String>,
    pub biz_steps: Vec<String>,
    pub dispositions: Vec<String>,
    pub read_points: Vec<String>,
    pub biz_locations: Vec<String>,
    pub match_epc: Vec<String>,
    pub match_parent_id: Vec<String>,
    pub match_any_epc: Vec<String>,
    pub event_ids: Vec<String>,
    /// Events of these devices only.
    pub devices: Vec<String>,
}

fn any_matches(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => p == value,
    })
}

fn one_of(values: &[String], value: Option<&str>) -> bool {
    values.is_empty() || value.is_some_and(|v| values.iter().any(|x| x == v))
}

impl EventQuery {
    /// Whether `e` passes every filter (the reference semantics both stores follow).
    pub fn matches(&self, e: &StoredEvent) -> bool {
        let in_range = |t: i64, ge: Option<i64>, lt: Option<i64>| ge.is_none_or(|g| t >= g) && lt.is_none_or(|l| t < l);
        (self.event_types.is_empty() || self.event_types.contains(&e.event_type))
            && in_range(e.event_time_ms, self.ge_event_time_ms, self.lt_event_time_ms)
            && in_range(e.record_time_ms, self.ge_record_time_ms, self.lt_record_time_ms)
            && one_of(&self.actions, e.action.as_deref())
            && one_of(&self.biz_steps, e.biz_step.as_deref())
            && one_of(&self.dispositions, e.disposition.as_deref())
            && one_of(&self.read_points, e.read_point.as_deref())
            && one_of(&self.biz_locations, e.biz_location.as_deref())
            && one_of(&self.event_ids, e.event_id.as_deref())
            && one_of(&self.devices, e.device.as_deref())
            && (self.match_epc.is_empty() || e.epcs.iter().any(|x| any_matches(&self.match_epc, x)))
            && (self.match_parent_id.is_empty()
                || e.parent_id.as_deref().is_some_and(|x| any_matches(&self.match_parent_id, x)))
            && (self.match_any_epc.is_empty()
                || e.epcs.iter().chain(&e.other_epcs).chain(&e.parent_id).any(|x| any_matches(&self.match_any_epc, x)))
    }
}

/// Where a page ends: the next page starts after this event (descending event time, then
/// descending sequence number). Opaque to clients as a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub event_time_ms: i64,
    pub seq: u64,
}

impl Cursor {
    /// The token clients carry (`nextPageToken`).
    pub fn token(&self) -> String {
        format!("{:x}-{:x}", self.event_time_ms, self.seq)
    }

    /// Reads a token.
    pub fn from_token(token: &str) -> Result<Self, StoreError> {
        let (t, s) = token.split_once('-').ok_or(StoreError::BadToken)?;
        let event_time_ms = i64::from_str_radix(t, 16).map_err(|_| StoreError::BadToken)?;
        let seq = u64::from_str_radix(s, 16).map_err(|_| StoreError::BadToken)?;
        Ok(Self { event_time_ms, seq })
    }

    /// Whether an event at (`t`, `seq`) comes after this cursor in the query's order.
    pub fn before(&self, t: i64, seq: u64) -> bool {
        (t, seq) < (self.event_time_ms, self.seq)
    }
}

/// A page of results and where the next one starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub events: Vec<Numbered>,
    pub next: Option<Cursor>,
}

/// A boxed future of the store's (the trait is object-safe, so that a node holds either store).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The event store.
pub trait EventStore: Send + Sync {
    /// Stores a batch whole or not at all; events already stored are reported as duplicates.
    fn insert<'a>(&'a self, batch: &'a [StoredEvent]) -> StoreFuture<'a, Inserted>;

    /// The events matching `query`, newest event time first, at most `per_page`, after `after`.
    fn query<'a>(&'a self, query: &'a EventQuery, per_page: usize, after: Option<Cursor>) -> StoreFuture<'a, Page>;

    /// One event by its hash ID or its `eventID`.
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Numbered>>;

    /// The events stored after sequence number `after`, in store order, at most `limit`
    /// (anchoring reads them).
    fn since<'a>(&'a self, after: u64, limit: usize) -> StoreFuture<'a, Vec<Numbered>>;

    /// How many events are stored.
    fn count(&self) -> StoreFuture<'_, u64>;
}
