//! Ordering: how submitted transactions become blocks.
//!
//! The node submits through the [`Ordering`] trait so that the engine can change without the
//! API noticing: [`SoloOrderer`] (one node orders and validates, batching concurrent
//! submissions into one block and one durable commit — group commit) today; a replicated
//! engine (Raft, then BFT for multi-administration networks) next.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use borderlink_ledger::{Ledger, Receipt, Transaction, TxError};
use tokio::sync::{broadcast, mpsc, oneshot};

/// A block just committed, as the event stream carries it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommitEvent {
    /// Height.
    pub height: u64,
    /// Block hash.
    pub block_hash: String,
    /// The records written by the block's valid transactions.
    pub records: Vec<CommittedRecord>,
}

/// A record written by a committed transaction.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommittedRecord {
    /// Record id.
    pub record_id: String,
    /// Record type.
    pub record_type: String,
    /// Version written.
    pub version: u64,
    /// Submitter.
    pub submitter: String,
    /// Transaction id.
    pub tx_id: String,
}

/// Future returned by [`Ordering::order`].
pub type OrderFuture<'a> = Pin<Box<dyn Future<Output = Result<Receipt, TxError>> + Send + 'a>>;

/// Orders a transaction and resolves once it is committed (or refused).
pub trait Ordering: Send + Sync {
    /// Submits one transaction; the future resolves with its receipt after the durable commit.
    fn order(&self, tx: Transaction) -> OrderFuture<'_>;
}

/// A submission waiting in an orderer's queue: the transaction, when it arrived, who waits.
pub(crate) type Job = (Transaction, Instant, oneshot::Sender<Result<Receipt, TxError>>);

/// Queues a transaction for an orderer's batching task and waits for its result.
pub(crate) async fn enqueue(queue: &mpsc::Sender<Job>, tx: Transaction) -> Result<Receipt, TxError> {
    let (w, r) = oneshot::channel();
    queue.send((tx, Instant::now(), w)).await.map_err(|_| TxError::Internal("the orderer stopped".into()))?;
    r.await.map_err(|_| TxError::Internal("the orderer dropped the transaction".into()))?
}

/// Answers each waiter with its result, counting refusals and timing commits (as `node`'s).
pub(crate) fn answer(
    node: &str,
    waiters: impl IntoIterator<Item = (Instant, oneshot::Sender<Result<Receipt, TxError>>)>,
    results: Vec<Result<Receipt, TxError>>,
) {
    for ((at, w), r) in waiters.into_iter().zip(results) {
        if let Err(e) = &r {
            metrics::counter!("borderlink_ledger_transactions_rejected_total", "reason" => e.code(), crate::metrics::NODE => node.to_owned())
                .increment(1);
        } else {
            metrics::histogram!("borderlink_ledger_commit_seconds", crate::metrics::NODE => node.to_owned())
                .record(at.elapsed().as_secs_f64());
        }
        let _ = w.send(r);
    }
}

/// One node orders: concurrent submissions are batched into blocks.
#[derive(Debug)]
pub struct SoloOrderer {
    queue: mpsc::Sender<Job>,
}

/// Most transactions in one block cut by the solo orderer.
pub const MAX_BATCH: usize = 4096;

impl SoloOrderer {
    /// Starts the batching task on the current tokio runtime.
    pub fn start(ledger: Arc<Ledger>, events: broadcast::Sender<CommitEvent>) -> Self {
        let (queue, mut rx) = mpsc::channel::<Job>(MAX_BATCH * 4);
        let node = crate::metrics::node_of(&ledger);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
                let (txs, waiters): (Vec<Transaction>, Vec<(Instant, oneshot::Sender<_>)>) =
                    batch.into_iter().map(|(t, at, w)| (t, (at, w))).unzip();
                let records: Vec<CommittedRecord> = txs.iter().map(committed_record).collect();
                let l = Arc::clone(&ledger);
                let now = now_ms();
                let n = txs.len();
                let outcome = tokio::task::spawn_blocking(move || l.submit(txs, now)).await;
                let results: Vec<Result<Receipt, TxError>> = match outcome {
                    Ok(Ok(c)) => {
                        publish_commit(&node, &events, records, &c);
                        c.results
                    }
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "block commit failed");
                        (0..n).map(|_| Err(TxError::Internal(e.to_string()))).collect()
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "block commit task failed");
                        (0..n).map(|_| Err(TxError::Internal("the commit task failed".into()))).collect()
                    }
                };
                answer(&node, waiters, results);
            }
        });
        Self { queue }
    }
}

impl Ordering for SoloOrderer {
    fn order(&self, tx: Transaction) -> OrderFuture<'_> {
        Box::pin(enqueue(&self.queue, tx))
    }
}

/// What the event stream says of a transaction once committed.
pub(crate) fn committed_record(t: &Transaction) -> CommittedRecord {
    CommittedRecord {
        record_id: t.body.record_id.clone(),
        record_type: t.body.record_type.clone(),
        version: t.body.version,
        submitter: t.body.submitter.clone(),
        tx_id: t.id().to_hex(),
    }
}

/// Counts a committed block (as `node`'s) and sends its event (the valid transactions' records).
pub(crate) fn publish_commit(
    node: &str,
    events: &broadcast::Sender<CommitEvent>,
    records: Vec<CommittedRecord>,
    c: &borderlink_ledger::Committed,
) {
    let Some(h) = &c.header else { return };
    let valid: Vec<CommittedRecord> =
        records.into_iter().zip(&c.results).filter(|(_, r)| r.is_ok()).map(|(rec, _)| rec).collect();
    let label = || (crate::metrics::NODE, node.to_owned());
    metrics::counter!("borderlink_ledger_transactions_committed_total", &[label()]).increment(valid.len() as u64);
    metrics::counter!("borderlink_ledger_blocks_total", &[label()]).increment(1);
    metrics::gauge!("borderlink_ledger_height", &[label()]).set(h.height as f64);
    let _ = events.send(CommitEvent { height: h.height, block_hash: h.hash().to_hex(), records: valid });
}

/// Milliseconds since the Unix epoch, from the machine's clock ([`crate::clock::SystemClock`]);
/// block timestamps only: validation never reads a clock.
pub fn now_ms() -> i64 {
    crate::clock::Clock::now_ms(&crate::clock::SystemClock)
}

/// The node's ledger: the store, its ordering engine and the stream of commits.
pub struct LedgerService {
    ledger: Arc<Ledger>,
    orderer: Arc<dyn Ordering>,
    events: broadcast::Sender<CommitEvent>,
    cluster: Option<Arc<crate::raft::Cluster>>,
}

impl std::fmt::Debug for LedgerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerService").field("ledger", &self.ledger).finish_non_exhaustive()
    }
}

impl LedgerService {
    /// Starts a single-node (solo) ledger service on the current tokio runtime.
    pub fn start_solo(ledger: Arc<Ledger>) -> Arc<Self> {
        let (events, _) = broadcast::channel(1024);
        let orderer = SoloOrderer::start(Arc::clone(&ledger), events.clone());
        Arc::new(Self { ledger, orderer: Arc::new(orderer), events, cluster: None })
    }

    /// Starts a replicated ledger service: this node joins the consortium's Raft group.
    pub async fn start_cluster(ledger: Arc<Ledger>, config: crate::raft::ClusterConfig) -> Result<Arc<Self>, String> {
        let (events, _) = broadcast::channel(1024);
        let cluster = crate::raft::Cluster::start(config, Arc::clone(&ledger), events.clone()).await?;
        let orderer: Arc<dyn Ordering> = Arc::clone(&cluster) as Arc<dyn Ordering>;
        Ok(Arc::new(Self { ledger, orderer, events, cluster: Some(cluster) }))
    }

    /// The Raft node, when the ledger is replicated.
    pub fn cluster(&self) -> Option<&Arc<crate::raft::Cluster>> {
        self.cluster.as_ref()
    }

    /// Submits a transaction; resolves after its block is durably committed. Submitting a
    /// transaction again (a client retrying after a timeout or a leader change) returns what
    /// happened to it the first time: a transaction is committed at most once.
    pub async fn submit(&self, tx: Transaction) -> Result<Receipt, TxError> {
        let id = tx.id();
        // Validation refuses a transaction already in a block (`replay`) before ordering it, so
        // only a refusal needs the look-up of where it went.
        match self.orderer.order(tx).await {
            Err(e) => match self.recorded(&id) {
                Some(Ok(receipt)) => Ok(receipt),
                Some(Err(first)) if e == TxError::Replay => Err(first),
                _ => Err(e),
            },
            ok => ok,
        }
    }

    /// What happened to a transaction already in a block, if it is in one.
    fn recorded(&self, id: &borderlink_ledger::Hash) -> Option<Result<Receipt, TxError>> {
        let (height, index) = self.ledger.tx_location(id).ok()??;
        let block = self.ledger.block(height).ok()??;
        match block.results.get(index as usize)? {
            borderlink_ledger::block::TxOutcome::Valid => Some(Ok(Receipt { tx_id: *id, height, index })),
            borderlink_ledger::block::TxOutcome::Invalid { reason, .. } => {
                Some(Err(TxError::Rejected(format!("recorded invalid at height {height}: {reason}"))))
            }
        }
    }

    /// Waits until this node reflects everything committed before the call (a no-op on a
    /// single node, which orders everything itself).
    pub async fn linearize(&self) -> Result<(), TxError> {
        match &self.cluster {
            Some(c) => c.linearize().await,
            None => Ok(()),
        }
    }

    /// Stops the replication engine (the ledger is released once every task has ended).
    pub async fn shutdown(&self) {
        if let Some(c) = &self.cluster {
            c.shutdown().await;
        }
    }

    /// The ledger, for reads.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// A receiver of commit events.
    pub fn subscribe(&self) -> broadcast::Receiver<CommitEvent> {
        self.events.subscribe()
    }
}
