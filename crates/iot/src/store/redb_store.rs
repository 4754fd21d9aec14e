//! The embedded event store: one redb file (`DATA/iot/events.redb`, mode 0600, verified on
//! open like every redb file of the node).
//!
//! Tables: the events by sequence number; the sequence number by hash ID and by `eventID`; an
//! index by event time (for the query's default order and time filters); an index by EPC (every
//! EPC, child, parent, input and output of an event, for the EPC filters, exact or by prefix).
//! redb is synchronous: each call runs to its end inside the returned future (a write commits
//! durably before it resolves), so the node calls the store from a blocking-capable task.

use std::collections::BTreeSet;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{Cursor, EventQuery, EventStore, Inserted, Numbered, Page, StoreError, StoreFuture, StoredEvent};

const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("iot_events");
const BY_HASH: TableDefinition<&str, u64> = TableDefinition::new("iot_events_by_hash");
const BY_EVENT_ID: TableDefinition<&str, u64> = TableDefinition::new("iot_events_by_event_id");
const BY_TIME: TableDefinition<(i64, u64), ()> = TableDefinition::new("iot_events_by_time");
const BY_EPC: TableDefinition<(&str, u64), ()> = TableDefinition::new("iot_events_by_epc");

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The embedded event store.
pub struct RedbEventStore {
    db: Database,
}

impl std::fmt::Debug for RedbEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbEventStore").finish_non_exhaustive()
    }
}

impl RedbEventStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| backend(format!("{}: {e}", dir.display())))?;
        }
        let db =
            borderlink_ledger::store::open_verified(path).map_err(|e| backend(format!("{}: {e}", path.display())))?;
        let w = db.begin_write().map_err(backend)?;
        w.open_table(EVENTS).map_err(backend)?;
        w.open_table(BY_HASH).map_err(backend)?;
        w.open_table(BY_EVENT_ID).map_err(backend)?;
        w.open_table(BY_TIME).map_err(backend)?;
        w.open_table(BY_EPC).map_err(backend)?;
        w.commit().map_err(backend)?;
        Ok(Self { db })
    }

    fn insert_now(&self, batch: &[StoredEvent]) -> Result<Inserted, StoreError> {
        let w = self.db.begin_write().map_err(backend)?;
        let mut out = Inserted::default();
        {
            let mut events = w.open_table(EVENTS).map_err(backend)?;
            let mut by_hash = w.open_table(BY_HASH).map_err(backend)?;
            let mut by_event_id = w.open_table(BY_EVENT_ID).map_err(backend)?;
            let mut by_time = w.open_table(BY_TIME).map_err(backend)?;
            let mut by_epc = w.open_table(BY_EPC).map_err(backend)?;
            let mut next = events.last().map_err(backend)?.map_or(1, |(k, _)| k.value() + 1);
            for e in batch {
                if by_hash.get(e.hash_id.as_str()).map_err(backend)?.is_some() {
                    out.duplicates.push(e.hash_id.clone());
                    continue;
                }
                if let Some(id) = &e.event_id {
                    if let Some(seq) = by_event_id.get(id.as_str()).map_err(backend)? {
                        let seq = seq.value();
                        let existing = events.get(seq).map_err(backend)?.map(|v| decode(v.value())).transpose()?;
                        // Dropping the transaction without commit rolls the whole batch back.
                        return Err(StoreError::EventIdTaken {
                            event_id: id.clone(),
                            existing: existing.map_or_else(|| format!("event {seq}"), |x| x.hash_id),
                        });
                    }
                    by_event_id.insert(id.as_str(), next).map_err(backend)?;
                }
                let bytes = serde_json::to_vec(e).map_err(backend)?;
                events.insert(next, bytes.as_slice()).map_err(backend)?;
                by_hash.insert(e.hash_id.as_str(), next).map_err(backend)?;
                by_time.insert((e.event_time_ms, next), ()).map_err(backend)?;
                let epcs: BTreeSet<&str> =
                    e.epcs.iter().chain(&e.other_epcs).chain(&e.parent_id).map(String::as_str).collect();
                for epc in epcs {
                    by_epc.insert((epc, next), ()).map_err(backend)?;
                }
                out.new.push(next);
                next += 1;
            }
        }
        w.commit().map_err(backend)?;
        Ok(out)
    }

    fn load(&self, t: &impl ReadableTable<u64, &'static [u8]>, seq: u64) -> Result<Option<Numbered>, StoreError> {
        match t.get(seq).map_err(backend)? {
            Some(v) => Ok(Some(Numbered { seq, event: decode(v.value())? })),
            None => Ok(None),
        }
    }

    fn query_now(&self, q: &EventQuery, per_page: usize, after: Option<Cursor>) -> Result<Page, StoreError> {
        let r = self.db.begin_read().map_err(backend)?;
        let events = r.open_table(EVENTS).map_err(backend)?;
        let per_page = per_page.max(1);
        let in_page = |t: i64, seq: u64| after.is_none_or(|c| c.before(t, seq));
        let mut found: Vec<Numbered> = Vec::new();
        let candidates = self.candidates(&r, q)?;
        match candidates {
            Some(seqs) => {
                let mut loaded = Vec::new();
                for seq in seqs {
                    if let Some(n) = self.load(&events, seq)?
                        && in_page(n.event.event_time_ms, n.seq)
                        && q.matches(&n.event)
                    {
                        loaded.push(n);
                    }
                }
                loaded.sort_by_key(|n| std::cmp::Reverse((n.event.event_time_ms, n.seq)));
                loaded.truncate(per_page + 1);
                found = loaded;
            }
            None => {
                let by_time = r.open_table(BY_TIME).map_err(backend)?;
                let lower = q.ge_event_time_ms.map_or((i64::MIN, 0), |t| (t, 0));
                let upper = match (after, q.lt_event_time_ms) {
                    (Some(c), Some(lt)) if lt <= c.event_time_ms => (lt, 0),
                    (Some(c), _) => (c.event_time_ms, c.seq),
                    (None, Some(lt)) => (lt, 0),
                    (None, None) => (i64::MAX, u64::MAX),
                };
                let range = if lower < upper {
                    by_time.range(lower..upper).map_err(backend)?
                } else {
                    by_time.range(lower..lower).map_err(backend)?
                };
                for k in range.rev() {
                    let (k, _) = k.map_err(backend)?;
                    let (_, seq) = k.value();
                    if let Some(n) = self.load(&events, seq)?
                        && q.matches(&n.event)
                    {
                        found.push(n);
                        if found.len() > per_page {
                            break;
                        }
                    }
                }
            }
        }
        let next = if found.len() > per_page {
            found.truncate(per_page);
            found.last().map(|n| Cursor { event_time_ms: n.event.event_time_ms, seq: n.seq })
        } else {
            None
        };
        Ok(Page { events: found, next })
    }

    /// The sequence numbers an index narrows the query to, or `None` to scan by time.
    fn candidates(&self, r: &redb::ReadTransaction, q: &EventQuery) -> Result<Option<BTreeSet<u64>>, StoreError> {
        if !q.event_ids.is_empty() {
            let t = r.open_table(BY_EVENT_ID).map_err(backend)?;
            let mut out = BTreeSet::new();
            for id in &q.event_ids {
                if let Some(seq) = t.get(id.as_str()).map_err(backend)? {
                    out.insert(seq.value());
                }
            }
            return Ok(Some(out));
        }
        // The narrowest EPC filter: every event it matches is under one of its values in BY_EPC.
        let epc_filter = [&q.match_epc, &q.match_parent_id, &q.match_any_epc].into_iter().find(|f| !f.is_empty());
        let Some(patterns) = epc_filter else { return Ok(None) };
        let t = r.open_table(BY_EPC).map_err(backend)?;
        let mut out = BTreeSet::new();
        for p in patterns {
            let (prefix, exact) = match p.strip_suffix('*') {
                Some(prefix) => (prefix, false),
                None => (p.as_str(), true),
            };
            for k in t.range((prefix, 0)..).map_err(backend)? {
                let (k, _) = k.map_err(backend)?;
                let (epc, seq) = k.value();
                if (exact && epc != prefix) || !epc.starts_with(prefix) {
                    break;
                }
                out.insert(seq);
            }
        }
        Ok(Some(out))
    }

    fn get_now(&self, id: &str) -> Result<Option<Numbered>, StoreError> {
        let r = self.db.begin_read().map_err(backend)?;
        let events = r.open_table(EVENTS).map_err(backend)?;
        let by_hash = r.open_table(BY_HASH).map_err(backend)?;
        let by_event_id = r.open_table(BY_EVENT_ID).map_err(backend)?;
        let seq = match by_hash.get(id).map_err(backend)? {
            Some(s) => Some(s.value()),
            None => by_event_id.get(id).map_err(backend)?.map(|s| s.value()),
        };
        match seq {
            Some(seq) => self.load(&events, seq),
            None => Ok(None),
        }
    }

    fn since_now(&self, after: u64, limit: usize) -> Result<Vec<Numbered>, StoreError> {
        let r = self.db.begin_read().map_err(backend)?;
        let events = r.open_table(EVENTS).map_err(backend)?;
        let mut out = Vec::new();
        for kv in events.range(after.saturating_add(1)..).map_err(backend)?.take(limit) {
            let (k, v) = kv.map_err(backend)?;
            out.push(Numbered { seq: k.value(), event: decode(v.value())? });
        }
        Ok(out)
    }

    fn count_now(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read().map_err(backend)?;
        r.open_table(EVENTS).map_err(backend)?.len().map_err(backend)
    }
}

fn decode(bytes: &[u8]) -> Result<StoredEvent, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| backend(format!("a stored event does not decode: {e}")))
}

impl EventStore for RedbEventStore {
    fn insert<'a>(&'a self, batch: &'a [StoredEvent]) -> StoreFuture<'a, Inserted> {
        Box::pin(async move { self.insert_now(batch) })
    }

    fn query<'a>(&'a self, query: &'a EventQuery, per_page: usize, after: Option<Cursor>) -> StoreFuture<'a, Page> {
        Box::pin(async move { self.query_now(query, per_page, after) })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Numbered>> {
        Box::pin(async move { self.get_now(id) })
    }

    fn since<'a>(&'a self, after: u64, limit: usize) -> StoreFuture<'a, Vec<Numbered>> {
        Box::pin(async move { self.since_now(after, limit) })
    }

    fn count(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move { self.count_now() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_embedded_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbEventStore::open(&dir.path().join("iot/events.redb")).unwrap();
        super::super::conformance::run(&store).await;
        // And keeps what it stored across a reopen.
        let n = store.count().await.unwrap();
        drop(store);
        let store = RedbEventStore::open(&dir.path().join("iot/events.redb")).unwrap();
        assert_eq!(store.count().await.unwrap(), n);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("iot/events.redb")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
