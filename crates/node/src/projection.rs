//! One projection driver: capabilities keep their own views of the committed ledger (risk's
//! trader history and queue; later IoT traces, scans, audit) by implementing [`Projection`], and
//! [`start`] feeds them.
//!
//! The driver follows *heights*, not events: it replays every committed block from the first at
//! start, then wakes on each commit event and applies every block from the last one it applied
//! up to the ledger's head. A lagging subscriber therefore resynchronises by itself (the missed
//! events only mean more blocks to read), and each record reaches each projection exactly once,
//! in commit order.
//!
//! Invariant: a projection sees only valid transactions of the record types it asked for whose
//! payload this node may read: in clear, or private with this node's member among the recipients
//! (opened with its key; the customs administration a private declaration is encrypted to
//! assesses it like any other). Other private records and off-chain objects are never opened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use borderlink_ledger::Ledger;
use borderlink_ledger::tx::PayloadKind;
use borderlink_model::RecordType;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::ordering::CommitEvent;

/// A committed record as a projection receives it.
#[derive(Debug)]
pub(crate) struct Committed<'a> {
    /// Its record type.
    pub(crate) record_type: RecordType,
    /// Its id.
    pub(crate) record_id: &'a str,
    /// The version committed.
    pub(crate) version: u64,
    /// The block that committed it.
    pub(crate) height: u64,
    /// When that block was cut (the ordering service's clock), ms since the Unix epoch.
    pub(crate) committed_ms: i64,
    /// The member that submitted this version (its signature verified by validation).
    pub(crate) submitter: &'a str,
    /// The record, as committed.
    pub(crate) payload: &'a Value,
}

/// A capability's view of the ledger.
pub(crate) trait Projection: Send + Sync {
    /// Its name, for logs and metrics.
    fn name(&self) -> &'static str;
    /// The record types it wants.
    fn record_types(&self) -> &'static [RecordType];
    /// Applies one committed record. Called in commit order, from one task at a time.
    fn apply(&self, record: &Committed<'_>);
    /// Called once, after the replay at start has reached the head (e.g. to re-apply decisions
    /// kept beside the ledger).
    fn caught_up(&self) {}
}

/// Where the driver stands, for the operator.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    applied: AtomicU64,
    records: AtomicU64,
    unreadable: AtomicU64,
}

impl Progress {
    /// The height of the last block applied.
    pub(crate) fn applied_height(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Records handed to projections so far.
    pub(crate) fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }
}

/// Replays the ledger into `projections` (on the blocking pool; returns when they have caught
/// up) and then follows its commits for as long as the event stream lives.
pub(crate) async fn start(
    ledger: Arc<Ledger>,
    mut events: tokio::sync::broadcast::Receiver<CommitEvent>,
    projections: Vec<Arc<dyn Projection>>,
) -> Result<Arc<Progress>, String> {
    let progress = Arc::new(Progress::default());
    if projections.is_empty() {
        return Ok(progress);
    }
    let (l, p, ps) = (Arc::clone(&ledger), Arc::clone(&progress), projections.clone());
    // The subscription above was taken before the replay, so no commit falls between the two.
    tokio::task::spawn_blocking(move || catch_up(&l, &p, &ps))
        .await
        .map_err(|e| format!("the projection replay failed: {e}"))??;
    for p in &projections {
        p.caught_up();
    }
    let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    tracing::info!(projections = ?names, records = progress.records(), height = progress.applied_height(), "projections rebuilt from the ledger");
    let follower = Arc::clone(&progress);
    // Holds the ledger, not the service: when the node stops, the orderer ends, the event stream
    // closes and this task ends too, so the database is released.
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "projections fell behind the commit events; reading the blocks instead");
                }
                Err(RecvError::Closed) => break,
            }
            let (l, p, ps) = (Arc::clone(&ledger), Arc::clone(&follower), projections.clone());
            match tokio::task::spawn_blocking(move || catch_up(&l, &p, &ps)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "projections could not read the ledger"),
                Err(e) => tracing::error!(error = %e, "a projection failed while applying a block"),
            }
        }
    });
    Ok(progress)
}

/// Applies every block after the last applied one, up to the head.
fn catch_up(ledger: &Ledger, progress: &Progress, projections: &[Arc<dyn Projection>]) -> Result<(), String> {
    let head = ledger.head().map_or(0, |h| h.height);
    let from = progress.applied_height() + 1;
    for height in from..=head {
        let block = ledger
            .block(height)
            .map_err(|e| format!("block {height}: {e}"))?
            .ok_or_else(|| format!("block {height} is missing below the head {head}"))?;
        for (index, (tx, outcome)) in block.txs.iter().zip(&block.results).enumerate() {
            if !outcome.is_valid() {
                continue;
            }
            let body = tx.body().map_err(|e| format!("block {height}, transaction {index}: {e}"))?;
            let mine = |h: &borderlink_ledger::tx::PrivateHeader| {
                ledger.local_member().is_some_and(|m| h.recipients.iter().any(|r| r == m))
            };
            let readable = match (&body.payload_kind, &body.private) {
                (PayloadKind::Clear, _) => true,
                (PayloadKind::Private, Some(h)) => mine(h),
                _ => false,
            };
            if !readable {
                continue;
            }
            let Some(record_type) = RecordType::from_name(&body.record_type) else { continue };
            let wanted: Vec<&Arc<dyn Projection>> =
                projections.iter().filter(|p| p.record_types().contains(&record_type)).collect();
            if wanted.is_empty() {
                continue;
            }
            let clear = if let (PayloadKind::Private, Some(h)) = (body.payload_kind, &body.private) {
                match ledger.open_committed(&body.record_id, body.version, h, &tx.payload) {
                    Ok(c) => std::borrow::Cow::Owned(c),
                    // Erased since (crypto-shredded): nothing to read any more.
                    Err(borderlink_ledger::LedgerError::Erased(_)) => continue,
                    Err(e) => {
                        progress.unreadable.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(height, record = %body.record_id, error = %e, "a private record addressed to this node does not open");
                        continue;
                    }
                }
            } else {
                std::borrow::Cow::Borrowed(tx.payload.as_slice())
            };
            let payload = match serde_json::from_slice::<Value>(&clear) {
                Ok(v) => v,
                Err(e) => {
                    // Validation accepted it, so this is a stored record that no longer reads.
                    progress.unreadable.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("borderlink_projection_unreadable_total", crate::metrics::NODE => crate::metrics::node_of(ledger)).increment(1);
                    tracing::error!(height, record = %body.record_id, error = %e, "a committed payload does not parse");
                    continue;
                }
            };
            let record = Committed {
                record_type,
                record_id: &body.record_id,
                version: body.version,
                height,
                committed_ms: block.header.timestamp_ms,
                submitter: &body.submitter,
                payload: &payload,
            };
            for p in wanted {
                p.apply(&record);
            }
            progress.records.fetch_add(1, Ordering::Relaxed);
        }
        progress.applied.store(height, Ordering::Release);
        metrics::gauge!("borderlink_projection_height", crate::metrics::NODE => crate::metrics::node_of(ledger))
            .set(height as f64);
    }
    Ok(())
}
