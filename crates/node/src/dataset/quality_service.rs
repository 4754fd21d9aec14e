//! The data-quality service: the figures of `quality.rs` kept up to date from two sides, and
//! the file that keeps what the ledger does not.
//!
//! - Submissions: the submission route tells the [`SubmissionObserver`] of each attributable
//!   submission; it queues it without waiting, and one recorder task validates the queued
//!   records (the core validation the ledger applies, on the blocking pool), writes them to
//!   `DATA/dataset/quality.redb` in one durable commit per batch — keyed by transaction id, so a
//!   submission sent again counts once — and only then counts them. At start, the file is read
//!   back: refused submissions are on no ledger.
//! - Committed records: [`QualityProjection`] is fed by the projection driver (the whole ledger
//!   replayed at start, then every commit), so these figures are rebuilt, never stored.
//!
//! Invariant: a read of the figures ([`QualityService::report`]) first waits (briefly) until
//! every submission noted before it has been recorded, so a submitter's refusal is in the
//! figures as soon as the submitter has been answered.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use borderlink_ledger::Hash;
use borderlink_ledger::tx::{PayloadKind, TxKind};
use borderlink_model::{RecordType, ValidateOptions};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::{mpsc, watch};

use super::quality::{Committed, Filter, QualityReport, SubmissionRow, Submissions, report};
use crate::clock::Clock;
use crate::error::NodeError;
use crate::projection::{self, Projection};
use crate::submission::{SubmissionObserver, Submitted};

/// Submissions by transaction id (32 bytes) → [`SubmissionRow`] as JSON.
const SUBMISSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("submissions");

/// Submissions waiting to be recorded, at most: past it, a submission is not counted (and the
/// miss is logged and counted in `borderlink_data_quality_unrecorded_total`).
const QUEUE: usize = 16_384;

/// Submissions validated and written in one batch (one durable commit), at most.
const BATCH: usize = 512;

/// How long a read waits for the submissions noted before it to be recorded.
const SETTLE: Duration = Duration::from_secs(5);

/// The figures, shared by the service, its recorder and its projection.
#[derive(Debug, Default)]
struct Figures {
    submissions: RwLock<Submissions>,
    committed: RwLock<Committed>,
}

/// A submission noted, waiting for the recorder.
struct Pending {
    tx_id: Hash,
    member: String,
    record_type: RecordType,
    at_ms: i64,
    refused: Option<&'static str>,
    /// The clear record as signed; `None` for a private one (read by its recipients only).
    payload: Option<Vec<u8>>,
    /// The node's member id, for the metrics.
    node: String,
}

/// The node's data-quality figures and the file where submissions are kept.
///
/// The recorder task holds the service and the observer holds the queue: when the node stops,
/// the observer goes with the node's state, the queue closes, the recorder writes what is left
/// and ends, and the file is closed with the last reference to the service.
pub(crate) struct QualityService {
    figures: Arc<Figures>,
    db: Database,
    noted: Arc<AtomicU64>,
    recorded: watch::Receiver<u64>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for QualityService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QualityService").field("noted", &self.noted).finish_non_exhaustive()
    }
}

/// Notes each attributable submission for the recorder, without waiting.
struct QualityObserver {
    queue: mpsc::Sender<Pending>,
    noted: Arc<AtomicU64>,
}

impl std::fmt::Debug for QualityObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QualityObserver").field("noted", &self.noted).finish_non_exhaustive()
    }
}

impl QualityService {
    /// Opens `data_dir/dataset/quality.redb` (as untrusted input: every page checked), counts
    /// the submissions it holds, and starts the recorder on the current runtime. Returns the
    /// service and the observer the submission route tells.
    pub(crate) fn open(
        data_dir: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<(Arc<Self>, Arc<dyn SubmissionObserver>), NodeError> {
        let dir = data_dir.join("dataset");
        let path = dir.join("quality.redb");
        let failed = |e: String| NodeError::Storage(format!("{}: {e}", path.display()));
        std::fs::create_dir_all(&dir).map_err(|e| NodeError::Storage(format!("{}: {e}", dir.display())))?;
        let db = borderlink_ledger::store::open_verified(&path).map_err(|e| failed(e.to_string()))?;
        let w = db.begin_write().map_err(|e| failed(e.to_string()))?;
        w.open_table(SUBMISSIONS).map_err(|e| failed(e.to_string()))?;
        w.commit().map_err(|e| failed(e.to_string()))?;
        let mut submissions = Submissions::default();
        let (rows, unreadable) = read_rows(&db).map_err(failed)?;
        for row in &rows {
            submissions.add(row);
        }
        if unreadable > 0 {
            tracing::error!(unreadable, file = %path.display(), "submission rows that do not read were skipped");
        }
        tracing::info!(submissions = rows.len(), "data-quality submissions read back");
        let figures = Arc::new(Figures { submissions: RwLock::new(submissions), committed: RwLock::default() });
        let (queue, rx) = mpsc::channel(QUEUE);
        let (done, recorded) = watch::channel(0);
        let noted = Arc::new(AtomicU64::new(0));
        let service = Arc::new(Self { figures, db, noted: Arc::clone(&noted), recorded, clock });
        tokio::spawn(record(rx, Arc::clone(&service), done));
        Ok((service, Arc::new(QualityObserver { queue, noted })))
    }

    /// The projection that feeds the committed side of the figures.
    pub(crate) fn projection(&self) -> QualityProjection {
        QualityProjection(Arc::clone(&self.figures))
    }

    /// The node's clock (the period ends with its week).
    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The figures `filter` selects, once the submissions noted so far are recorded.
    pub(crate) async fn report(&self, filter: &Filter) -> QualityReport {
        let target = self.noted.load(Ordering::Acquire);
        let mut recorded = self.recorded.clone();
        if tokio::time::timeout(SETTLE, recorded.wait_for(|n| *n >= target)).await.is_err() {
            tracing::warn!(target, "the data-quality recorder is behind: figures without the latest submissions");
        }
        let submissions = self.figures.submissions.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let committed = self.figures.committed.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        report(&submissions, &committed, filter)
    }
}

impl SubmissionObserver for QualityObserver {
    fn submitted(&self, s: &Submitted<'_>) {
        let b = &s.tx.body;
        // Records of the dataset only: governance, erasures and off-chain documents are not
        // declarations a trader lodges.
        let Some(record_type) = RecordType::from_name(&b.record_type).filter(|_| b.kind == TxKind::Put) else {
            return;
        };
        // Only the record the submitter signed is held against it.
        let signed = b.payload_kind == PayloadKind::Clear && Hash::of(&s.tx.payload) == b.payload_digest;
        let payload = signed.then(|| s.tx.payload.clone());
        let pending = Pending {
            tx_id: s.tx.id(),
            member: b.submitter.clone(),
            record_type,
            at_ms: s.at_ms,
            refused: s.outcome.err().map(borderlink_ledger::TxError::code),
            payload,
            node: s.node.to_owned(),
        };
        match self.queue.try_send(pending) {
            Ok(()) => {
                self.noted.fetch_add(1, Ordering::AcqRel);
            }
            Err(e) => {
                metrics::counter!("borderlink_data_quality_unrecorded_total", crate::metrics::NODE => s.node.to_owned())
                    .increment(1);
                tracing::warn!(error = %e, "a submission was not counted in the data-quality figures");
            }
        }
    }
}

/// Every row of the file, and how many did not read.
fn read_rows(db: &Database) -> Result<(Vec<SubmissionRow>, usize), String> {
    let r = db.begin_read().map_err(|e| e.to_string())?;
    let t = r.open_table(SUBMISSIONS).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut unreadable = 0;
    for entry in t.iter().map_err(|e| e.to_string())? {
        let (_, v) = entry.map_err(|e| e.to_string())?;
        match serde_json::from_slice::<SubmissionRow>(v.value()) {
            Ok(row) => rows.push(row),
            Err(_) => unreadable += 1,
        }
    }
    Ok((rows, unreadable))
}

/// The recorder: validates each batch of queued submissions, writes the new ones durably, then
/// counts them. Ends when the observer is dropped (the queue closes), after the last batch.
async fn record(mut rx: mpsc::Receiver<Pending>, service: Arc<QualityService>, done: watch::Sender<u64>) {
    let mut processed = 0u64;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        let node = batch.first().map(|p| p.node.clone()).unwrap_or_default();
        let s = Arc::clone(&service);
        match tokio::task::spawn_blocking(move || write_new(&s.db, batch)).await {
            Ok(Ok(rows)) => {
                let mut s = service.figures.submissions.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                for row in &rows {
                    s.add(row);
                }
            }
            Ok(Err(e)) => {
                metrics::counter!("borderlink_data_quality_unrecorded_total", crate::metrics::NODE => node.clone())
                    .increment(n);
                tracing::error!(error = %e, submissions = n, "data-quality submissions could not be recorded");
            }
            Err(e) => tracing::error!(error = %e, "the data-quality recorder failed"),
        }
        processed += n;
        done.send_replace(processed);
    }
}

/// Validates the batch and writes the submissions not recorded before, in one durable commit;
/// returns those.
fn write_new(db: &Database, batch: Vec<Pending>) -> Result<Vec<SubmissionRow>, String> {
    let rows: Vec<(Hash, SubmissionRow)> = batch.into_iter().map(|p| (p.tx_id, row_of(p))).collect();
    let w = db.begin_write().map_err(|e| e.to_string())?;
    let mut new = Vec::new();
    {
        let mut t = w.open_table(SUBMISSIONS).map_err(|e| e.to_string())?;
        for (id, row) in rows {
            if t.get(id.0.as_slice()).map_err(|e| e.to_string())?.is_some() {
                continue;
            }
            let bytes = serde_json::to_vec(&row).map_err(|e| e.to_string())?;
            t.insert(id.0.as_slice(), bytes.as_slice()).map_err(|e| e.to_string())?;
            new.push(row);
        }
    }
    w.commit().map_err(|e| e.to_string())?;
    Ok(new)
}

/// A queued submission as it is kept: its record validated as the ledger validates it (core
/// profile, the signed record type), each rule named once.
fn row_of(p: Pending) -> SubmissionRow {
    let report = p.payload.as_deref().map(|payload| {
        borderlink_model::validate(payload, &ValidateOptions { record_type: Some(p.record_type), ..Default::default() })
    });
    let rules = |issues: &[borderlink_model::Issue]| {
        let mut names: Vec<String> = issues.iter().map(|i| i.rule.clone()).collect();
        names.sort();
        names.dedup();
        names
    };
    SubmissionRow {
        member: p.member,
        record_type: p.record_type.name().to_owned(),
        at_ms: p.at_ms,
        refused: p.refused.map(str::to_owned),
        read: report.is_some(),
        errors: report.as_ref().map(|r| rules(&r.errors)).unwrap_or_default(),
        warnings: report.as_ref().map(|r| rules(&r.warnings)).unwrap_or_default(),
    }
}

/// Feeds the committed side of the figures from the ledger: declarations (completeness,
/// timeliness) and transport movements (the goods' planned arrival).
pub(crate) struct QualityProjection(Arc<Figures>);

impl Projection for QualityProjection {
    fn name(&self) -> &'static str {
        "data-quality"
    }

    fn record_types(&self) -> &'static [RecordType] {
        &[RecordType::Declaration, RecordType::TransportMovement]
    }

    fn apply(&self, r: &projection::Committed<'_>) {
        let mut committed = self.0.committed.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !committed.apply(r.record_type, r.record_id, r.submitter, r.committed_ms, r.payload) {
            tracing::warn!(record = r.record_id, "a committed record does not read: not in the data-quality figures");
        }
    }
}
