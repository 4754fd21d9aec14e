//! One node's part in the consortium's Raft group: proposing batches (or forwarding them to the
//! leader), answering peers, linearizable reads, and comparing checkpoints with the other nodes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use borderlink_ledger::block::Checkpoint;
use borderlink_ledger::{Hash, Ledger, Receipt, Transaction, TxError};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{Config as RaftConfig, ServerState, SnapshotPolicy};
use serde::Serialize;
use tokio::sync::{Semaphore, broadcast, mpsc};

use super::log_store::LogStore;
use super::state_machine::StateMachine;
use super::transport::{self, PeerConn, PeerRequest, PeerResponse};
use super::{Batch, BorderRaft, NodeId, PeerNode, RaftTx};
use crate::ordering::{CommitEvent, MAX_BATCH, OrderFuture, Ordering, now_ms};
use crate::peer::PeerTls;

/// How long a submission may wait for a leader and a quorum before `ordering_unavailable`.
pub const COMMIT_DEADLINE: Duration = Duration::from_secs(10);
/// Batches of one node being ordered at once (see [`batcher`]).
const IN_FLIGHT: usize = 1;

/// Fault injection for the fault tests: only a node started with `faults = true` accepts it.
#[derive(Debug, Default)]
pub struct Faults {
    /// Whether the switch may be used at all.
    pub enabled: bool,
    isolated: AtomicBool,
    /// 1: write a different block timestamp than the leader's (a faulty node).
    pub(crate) diverge: AtomicU8,
    corrupt_next: AtomicBool,
}

impl Faults {
    /// Whether the node is cut off from its peers.
    pub fn is_isolated(&self) -> bool {
        self.isolated.load(AtomicOrdering::Relaxed)
    }

    /// Sets the switches (`None` leaves one as it is).
    pub fn set(&self, isolate: Option<bool>, diverge: Option<bool>, corrupt_next: Option<bool>) {
        if let Some(v) = isolate {
            self.isolated.store(v, AtomicOrdering::Relaxed);
        }
        if let Some(v) = diverge {
            self.diverge.store(u8::from(v), AtomicOrdering::Relaxed);
        }
        if let Some(v) = corrupt_next {
            self.corrupt_next.store(v, AtomicOrdering::Relaxed);
        }
    }

    /// The switches' state.
    pub fn state(&self) -> (bool, bool, bool) {
        (
            self.is_isolated(),
            self.diverge.load(AtomicOrdering::Relaxed) != 0,
            self.corrupt_next.load(AtomicOrdering::Relaxed),
        )
    }
}

/// How this node joins the Raft group.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// This node's Raft id.
    pub node_id: NodeId,
    /// Where peers connect (mutual TLS).
    pub peer_listen: SocketAddr,
    /// The TLS identity.
    pub tls: PeerTls,
    /// The founding voters (from the genesis): a fresh founding node initialises the group with them.
    pub founders: BTreeMap<NodeId, PeerNode>,
    /// Where the Raft log is kept.
    pub raft_dir: PathBuf,
    /// A snapshot is built after this many log entries; the log before it is purged.
    pub snapshot_every: u64,
    /// Log entries kept behind a snapshot (a briefly lagging peer catches up from the log).
    pub keep_after_snapshot: u64,
    /// Whether the fault switch is accepted (tests only).
    pub faults: bool,
}

/// What this node knows of a peer's chain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerAgreement {
    /// The peer's member.
    pub member: String,
    /// The peer's height at the last exchange.
    pub height: u64,
    /// The highest height up to which every checkpoint of the peer matched this node's blocks.
    pub agreed_height: u64,
    /// The first height where the peer's signed block hash differs from this node's.
    pub diverged_at: Option<u64>,
    /// Milliseconds since the last successful exchange.
    #[serde(skip)]
    pub last_contact: Option<Instant>,
}

use crate::ordering::Job;

/// A node of the Raft group.
pub struct Cluster {
    raft: BorderRaft,
    node_id: NodeId,
    member: String,
    ledger: Arc<Ledger>,
    tls: PeerTls,
    pub(crate) faults: Arc<Faults>,
    queue: mpsc::Sender<Job>,
    /// Connections to each peer for forwarding, reads and checkpoints: as many as batches may be
    /// in flight, so forwarded batches pipeline instead of queueing behind one another.
    peers: Mutex<HashMap<NodeId, Vec<Arc<tokio::sync::Mutex<PeerConn>>>>>,
    agreement: Mutex<BTreeMap<NodeId, PeerAgreement>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("node_id", &self.node_id).field("member", &self.member).finish_non_exhaustive()
    }
}

/// A cheap pseudo-random index (spreads waiters over busy connections).
fn rand_index(n: usize) -> usize {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    nanos as usize % n.max(1)
}

fn unavailable(e: impl std::fmt::Display) -> TxError {
    TxError::Unavailable(e.to_string())
}

impl Cluster {
    /// Starts Raft on this node: opens the log, binds the peer listener, initialises a fresh
    /// founding group, and starts the batching and checkpoint tasks.
    pub async fn start(
        config: ClusterConfig,
        ledger: Arc<Ledger>,
        events: broadcast::Sender<CommitEvent>,
    ) -> Result<Arc<Self>, String> {
        let member = ledger.local_member().ok_or("a cluster node needs its member key")?.to_owned();
        if ledger.head().is_some() && ledger.get_meta("raft.applied").map_err(|e| e.to_string())?.is_none() {
            return Err(format!(
                "the ledger in {} was kept by a single node (it has blocks but no Raft position); a replicated \
                 node starts from an empty ledger and receives the chain from its peers — start it on a new data folder",
                ledger.path().display()
            ));
        }
        let faults = Arc::new(Faults { enabled: config.faults, ..Faults::default() });
        let log = LogStore::open(&config.raft_dir, &crate::metrics::node_of(&ledger))?;
        let sm = StateMachine::new(Arc::clone(&ledger), events, Arc::clone(&faults))?;
        let raft_config = RaftConfig {
            cluster_name: format!("borderlink-{}", &ledger.chain_id().to_hex()[..16]),
            heartbeat_interval: 150,
            election_timeout_min: 1000,
            election_timeout_max: 2000,
            max_payload_entries: 16,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_every),
            max_in_snapshot_log_to_keep: config.keep_after_snapshot,
            install_snapshot_timeout: 60_000,
            ..RaftConfig::default()
        }
        .validate()
        .map_err(|e| format!("raft configuration: {e}"))?;
        let network =
            transport::Network { tls: config.tls.clone(), faults: Arc::clone(&faults), ledger: Arc::clone(&ledger) };
        let raft = BorderRaft::new(config.node_id, Arc::new(raft_config), network, log, sm)
            .await
            .map_err(|e| format!("raft: {e}"))?;
        let listener = tokio::net::TcpListener::bind(config.peer_listen)
            .await
            .map_err(|e| format!("cannot listen for peers on {}: {e}", config.peer_listen))?;
        let (queue, rx) = mpsc::channel::<Job>(MAX_BATCH * 4);
        let cluster = Arc::new(Self {
            raft,
            node_id: config.node_id,
            member,
            ledger,
            tls: config.tls.clone(),
            faults,
            queue,
            peers: Mutex::new(HashMap::new()),
            agreement: Mutex::new(BTreeMap::new()),
        });
        transport::serve(listener, config.tls, Arc::downgrade(&cluster));
        if config.founders.contains_key(&config.node_id)
            && !cluster.raft.is_initialized().await.map_err(|e| e.to_string())?
        {
            match cluster.raft.initialize(config.founders.clone()).await {
                Ok(()) => tracing::info!(voters = config.founders.len(), "raft group initialised"),
                Err(e) => tracing::info!(error = %e, "raft group already initialised"),
            }
        }
        tokio::spawn(batcher(Arc::downgrade(&cluster), rx));
        tokio::spawn(checkpoint_exchange(Arc::downgrade(&cluster)));
        tokio::spawn(membership_from_governance(Arc::downgrade(&cluster)));
        tracing::info!(node_id = config.node_id, peer_listen = %config.peer_listen, "raft node started");
        Ok(cluster)
    }

    /// The ledger.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// The Raft handle.
    pub fn raft(&self) -> &BorderRaft {
        &self.raft
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The leader as this node last saw it (from the metrics channel: no round trip through
    /// the Raft core, which may be busy with a long queue).
    fn leader_now(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// The fault switch.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// What this node knows of each peer's chain.
    pub fn agreement(&self) -> BTreeMap<NodeId, PeerAgreement> {
        self.agreement.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops Raft.
    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
    }

    /// A connection to peer `id` that no call is using, or (all busy) any of them.
    fn conn(&self, id: NodeId, node: &PeerNode) -> Arc<tokio::sync::Mutex<PeerConn>> {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let pool = peers.entry(id).or_insert_with(|| {
            (0..=IN_FLIGHT)
                .map(|_| {
                    Arc::new(tokio::sync::Mutex::new(PeerConn::new(
                        node.clone(),
                        self.tls.clone(),
                        Arc::clone(&self.faults),
                        Arc::clone(&self.ledger),
                    )))
                })
                .collect()
        });
        pool.iter().find(|c| c.try_lock().is_ok()).map_or_else(|| Arc::clone(&pool[rand_index(pool.len())]), Arc::clone)
    }

    fn node_of(&self, id: NodeId) -> Option<PeerNode> {
        self.raft.metrics().borrow().membership_config.membership().get_node(&id).cloned()
    }

    async fn call(&self, id: NodeId, req: &PeerRequest) -> std::io::Result<PeerResponse> {
        let node = self.node_of(id).ok_or_else(|| std::io::Error::other(format!("node {id} is not a member")))?;
        let conn = self.conn(id, &node);
        let mut c = conn.lock().await;
        c.call(req).await
    }

    /// Orders a batch: through Raft on the leader, forwarded to the leader elsewhere.
    async fn propose(&self, mut txs: Vec<RaftTx>) -> Result<Vec<Result<Receipt, TxError>>, TxError> {
        let deadline = tokio::time::Instant::now() + COMMIT_DEADLINE;
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Err(unavailable("no leader with a quorum answered within 10 s"));
            }
            let leader = self.leader_now();
            match leader {
                Some(l) if l == self.node_id => {
                    if self.faults.enabled
                        && self.faults.corrupt_next.swap(false, AtomicOrdering::Relaxed)
                        && let Some(b) = txs.first_mut().and_then(|t| t.signature.first_mut())
                    {
                        *b ^= 0x01;
                        tracing::warn!("fault switch: proposing a corrupted transaction");
                    }
                    let batch = Batch { timestamp_ms: now_ms(), proposer: self.member.clone(), txs };
                    let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
                    return match tokio::time::timeout(remaining, self.raft.client_write(batch)).await {
                        Ok(Ok(resp)) => Ok(resp.data.results),
                        Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => Err(unavailable(
                            format!("leadership moved to node {:?} while committing; retry", f.leader_id),
                        )),
                        Ok(Err(e)) => Err(unavailable(e)),
                        Err(_) => Err(unavailable("not committed within 10 s: no quorum reachable")),
                    };
                }
                Some(l) => match self.call(l, &PeerRequest::Forward(txs.clone())).await {
                    Ok(PeerResponse::Forward(r)) => return r,
                    Ok(other) => return Err(TxError::Internal(format!("unexpected reply from the leader: {other:?}"))),
                    Err(e) => {
                        tracing::debug!(leader = l, error = %e, "forwarding to the leader failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                None => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Prechecks transactions against the committed state (refusing what cannot be valid before
    /// it is ordered; every node validates again when applying), then orders the others. `full`:
    /// signatures, policy, version and record; otherwise the signatures only.
    async fn order_checked(&self, txs: Vec<Transaction>, full: bool) -> Vec<Result<Receipt, TxError>> {
        let (txs, pre) = self.precheck(txs, full).await;
        self.propose_checked(&txs, pre).await
    }

    /// The precheck of a batch, off the async threads.
    async fn precheck(&self, txs: Vec<Transaction>, full: bool) -> (Vec<Transaction>, Vec<Result<(), TxError>>) {
        let ledger = Arc::clone(&self.ledger);
        let count = txs.len();
        tokio::task::spawn_blocking(move || {
            let pre = if full { ledger.precheck(&txs) } else { ledger.precheck_signatures(&txs) };
            (txs, pre)
        })
        .await
        .unwrap_or_else(|e| (Vec::new(), (0..count).map(|_| Err(TxError::Internal(e.to_string()))).collect()))
    }

    /// Orders the transactions that passed their precheck; one result per transaction.
    async fn propose_checked(
        &self,
        txs: &[Transaction],
        pre: Vec<Result<(), TxError>>,
    ) -> Vec<Result<Receipt, TxError>> {
        let to_order: Vec<RaftTx> =
            txs.iter().zip(&pre).filter(|(_, p)| p.is_ok()).map(|(t, _)| RaftTx::of(t)).collect();
        let n = to_order.len();
        let ordered = if n == 0 {
            Vec::new()
        } else {
            match self.propose(to_order).await {
                Ok(r) if r.len() == n => r,
                Ok(r) => (0..n)
                    .map(|_| Err(TxError::Internal(format!("{} results for {n} transactions", r.len()))))
                    .collect(),
                Err(e) => (0..n).map(|_| Err(e.clone())).collect(),
            }
        };
        let mut ordered = ordered.into_iter();
        pre.into_iter()
            .map(|p| match p {
                Ok(()) => ordered.next().unwrap_or_else(|| Err(TxError::Internal("missing result".into()))),
                Err(e) => Err(e),
            })
            .collect()
    }

    /// Waits until this node has applied everything committed before the call (a linearizable
    /// read): the leader confirms it still leads a quorum and names the log index to wait for.
    pub async fn linearize(&self) -> Result<(), TxError> {
        let deadline = Duration::from_secs(5);
        let index = match self.leader_now() {
            Some(l) if l == self.node_id => {
                return tokio::time::timeout(deadline, self.raft.ensure_linearizable())
                    .await
                    .map_err(|_| unavailable("the leader could not confirm a quorum within 5 s"))?
                    .map(|_| ())
                    .map_err(unavailable);
            }
            Some(l) => match self.call(l, &PeerRequest::ReadIndex).await {
                Ok(PeerResponse::ReadIndex(Ok(i))) => i,
                Ok(PeerResponse::ReadIndex(Err(e))) => return Err(unavailable(e)),
                Ok(_) => return Err(unavailable("unexpected reply to a read index")),
                Err(e) => return Err(unavailable(format!("the leader is unreachable: {e}"))),
            },
            None => return Err(unavailable("no leader: a linearizable read is not possible now")),
        };
        self.raft
            .wait(Some(deadline))
            .applied_index_at_least(Some(index), "linearizable read")
            .await
            .map(|_| ())
            .map_err(|e| unavailable(format!("this node did not catch up with the leader: {e}")))
    }

    /// Handles a peer's request.
    pub(crate) async fn handle_peer(&self, from: &str, req: PeerRequest) -> PeerResponse {
        match req {
            PeerRequest::AppendEntries(r) => PeerResponse::AppendEntries(self.raft.append_entries(r).await),
            PeerRequest::Vote(r) => PeerResponse::Vote(self.raft.vote(r).await),
            PeerRequest::SnapshotBase => {
                let head = self.ledger.head();
                PeerResponse::SnapshotBase {
                    height: head.as_ref().map_or(0, |h| h.height),
                    hash: head.map(|h| h.hash()),
                }
            }
            PeerRequest::InstallSnapshot { vote, meta, snapshot } => {
                let snap = openraft::Snapshot { meta, snapshot: Box::new(snapshot) };
                PeerResponse::InstallSnapshot(
                    self.raft.install_full_snapshot(vote, snap).await.map_err(|e| e.to_string()),
                )
            }
            PeerRequest::Forward(txs) => {
                if self.leader_now() != Some(self.node_id) {
                    return PeerResponse::Forward(Err(unavailable("this node is no longer the leader; retry")));
                }
                tracing::debug!(from, n = txs.len(), "ordering a forwarded batch");
                let decoded: Vec<Option<Transaction>> = txs.iter().map(RaftTx::to_tx).collect();
                let valid: Vec<Transaction> = decoded.iter().flatten().cloned().collect();
                // The forwarding node prechecked them fully; the leader checks who signed them.
                let mut results = self.order_checked(valid, false).await.into_iter();
                PeerResponse::Forward(Ok(decoded
                    .iter()
                    .map(|d| match d {
                        Some(_) => results.next().unwrap_or_else(|| Err(TxError::Internal("missing result".into()))),
                        None => Err(TxError::Malformed("the forwarded transaction does not decode".into())),
                    })
                    .collect()))
            }
            PeerRequest::ReadIndex => {
                let r = match tokio::time::timeout(Duration::from_secs(5), self.raft.ensure_linearizable()).await {
                    Ok(Ok(id)) => Ok(id.map_or(0, |l| l.index)),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("the leader could not confirm a quorum within 5 s".into()),
                };
                PeerResponse::ReadIndex(r)
            }
            PeerRequest::Checkpoints { from, limit } => {
                let ledger = Arc::clone(&self.ledger);
                let member = self.member.clone();
                let r = tokio::task::spawn_blocking(move || {
                    let height = ledger.head().map_or(0, |h| h.height);
                    let mut out = Vec::new();
                    let end = height.min(from.saturating_add(u64::from(limit.min(4096))).saturating_sub(1));
                    for h in from.max(1)..=end {
                        if let Ok(cps) = ledger.checkpoints(h) {
                            out.extend(cps.into_iter().filter(|c| c.member == member));
                        }
                    }
                    (height, out)
                })
                .await;
                match r {
                    Ok((height, checkpoints)) => PeerResponse::Checkpoints { height, checkpoints },
                    Err(e) => PeerResponse::Error(e.to_string()),
                }
            }
        }
    }

    /// Asks every peer for its checkpoints above what was already compared, and records
    /// agreement or divergence.
    async fn exchange_checkpoints(&self) {
        let nodes: Vec<(NodeId, PeerNode)> = {
            let m = self.raft.metrics().borrow().membership_config.clone();
            m.membership().nodes().map(|(id, n)| (*id, n.clone())).filter(|(id, _)| *id != self.node_id).collect()
        };
        for (id, node) in nodes {
            let from = {
                let a = self.agreement.lock().unwrap_or_else(|e| e.into_inner());
                a.get(&id).map_or(1, |p| p.agreed_height + 1)
            };
            let reply = tokio::time::timeout(
                Duration::from_secs(2),
                self.call(id, &PeerRequest::Checkpoints { from, limit: 512 }),
            )
            .await;
            let Ok(Ok(PeerResponse::Checkpoints { height, checkpoints })) = reply else { continue };
            let members = self.ledger.members();
            let Some(m) = members.iter().find(|m| m.id == node.member) else { continue };
            let Ok(key) = m.verifying_key() else { continue };
            let chain = self.ledger.chain_id();
            let mut matched: Vec<Checkpoint> = Vec::new();
            let mut diverged = None;
            let mut agreed = from.saturating_sub(1);
            for cp in checkpoints {
                if cp.member != node.member || !cp.verify(&chain, &key) {
                    continue;
                }
                let mine: Option<Hash> = self.ledger.block(cp.height).ok().flatten().map(|b| b.header.hash());
                match mine {
                    Some(h) if h == cp.block_hash => {
                        if diverged.is_none() && cp.height == agreed + 1 {
                            agreed = cp.height;
                        }
                        matched.push(cp);
                    }
                    Some(_) => {
                        diverged = Some(diverged.map_or(cp.height, |d: u64| d.min(cp.height)));
                    }
                    None => {}
                }
            }
            if !matched.is_empty() {
                let ledger = Arc::clone(&self.ledger);
                let _ = tokio::task::spawn_blocking(move || ledger.add_checkpoints(&matched)).await;
            }
            let mut a = self.agreement.lock().unwrap_or_else(|e| e.into_inner());
            let entry = a.entry(id).or_default();
            entry.member = node.member.clone();
            entry.height = height;
            entry.agreed_height = entry.agreed_height.max(agreed);
            entry.last_contact = Some(Instant::now());
            if let Some(d) = diverged {
                if entry.diverged_at.is_none() {
                    tracing::error!(peer = %node.member, height = d, "checkpoint divergence: the peer signed a different block hash at this height");
                }
                let d = entry.diverged_at.map_or(d, |x| x.min(d));
                entry.diverged_at = Some(d);
                metrics::gauge!("borderlink_checkpoint_divergence_height", "peer" => node.member.clone(), crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).set(d as f64);
            }
            metrics::gauge!("borderlink_checkpoint_agreed_height", "peer" => node.member.clone(), crate::metrics::NODE => crate::metrics::node_of(&self.ledger))
                .set(entry.agreed_height as f64);
        }
        let divergent = self
            .agreement
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|p| p.diverged_at.is_some())
            .count();
        metrics::gauge!("borderlink_checkpoint_divergent_peers", crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).set(divergent as f64);
    }

    /// A summary of this node's Raft state.
    pub fn status(&self) -> ClusterStatus {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        let learners: Vec<NodeId> = membership.learner_ids().collect();
        let agreement = self.agreement();
        let nodes = membership
            .nodes()
            .map(|(id, n)| {
                let a = agreement.get(id);
                NodeStatus {
                    id: *id,
                    member: n.member.clone(),
                    api_url: n.api_url.clone(),
                    peer_addr: n.peer_addr.clone(),
                    voter: voters.contains(id),
                    this_node: *id == self.node_id,
                    leader: m.current_leader == Some(*id),
                    height: if *id == self.node_id {
                        self.ledger.head().map(|h| h.height)
                    } else {
                        a.map(|a| a.height)
                    },
                    matched_index: if *id == self.node_id {
                        m.last_log_index
                    } else {
                        m.replication.as_ref().and_then(|r| r.get(id).copied().flatten()).map(|l| l.index)
                    },
                    agreed_height: a.map(|a| a.agreed_height),
                    diverged_at: a.and_then(|a| a.diverged_at),
                    last_contact_ms: a.and_then(|a| a.last_contact).map(|t| t.elapsed().as_millis() as u64),
                }
            })
            .collect();
        let (isolated, diverging, _) = self.faults.state();
        ClusterStatus {
            node_id: self.node_id,
            state: match m.state {
                ServerState::Leader => "leader",
                ServerState::Follower => "follower",
                ServerState::Candidate => "candidate",
                ServerState::Learner => "learner",
                ServerState::Shutdown => "shutdown",
            },
            term: m.current_term,
            leader: m.current_leader,
            last_log_index: m.last_log_index,
            applied_index: m.last_applied.map(|l| l.index),
            snapshot_index: m.snapshot.map(|l| l.index),
            purged_index: m.purged.map(|l| l.index),
            voters,
            learners,
            nodes,
            isolated,
            diverging,
        }
    }
}

/// This node's view of the Raft group.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// This node's id.
    pub node_id: NodeId,
    /// leader, follower, candidate, learner.
    pub state: &'static str,
    /// Current term.
    pub term: u64,
    /// The leader this node knows.
    pub leader: Option<NodeId>,
    /// Last log index.
    pub last_log_index: Option<u64>,
    /// Last applied index.
    pub applied_index: Option<u64>,
    /// Last snapshot's index.
    pub snapshot_index: Option<u64>,
    /// The log is purged up to here.
    pub purged_index: Option<u64>,
    /// Voter ids.
    pub voters: Vec<NodeId>,
    /// Learner ids.
    pub learners: Vec<NodeId>,
    /// Every node of the membership.
    pub nodes: Vec<NodeStatus>,
    /// Fault switch: cut off from peers.
    pub isolated: bool,
    /// Fault switch: writing different blocks.
    pub diverging: bool,
}

/// One node, as this node sees it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    /// Raft id.
    pub id: NodeId,
    /// Operating member.
    pub member: String,
    /// API URL.
    pub api_url: String,
    /// Peer address.
    pub peer_addr: String,
    /// Voter (or learner).
    pub voter: bool,
    /// This node.
    pub this_node: bool,
    /// The current leader.
    pub leader: bool,
    /// Its ledger height (this node's own, or as last reported).
    pub height: Option<u64>,
    /// The last Raft log index known to be on that node: this node's own last index, or (on the
    /// leader only) what the leader's replication to it has matched.
    pub matched_index: Option<u64>,
    /// Checkpoints agree up to here.
    pub agreed_height: Option<u64>,
    /// First height where its signed hash differs from this node's.
    pub diverged_at: Option<u64>,
    /// Milliseconds since the last checkpoint exchange.
    pub last_contact_ms: Option<u64>,
}

impl Ordering for Cluster {
    fn order(&self, tx: Transaction) -> OrderFuture<'_> {
        Box::pin(crate::ordering::enqueue(&self.queue, tx))
    }
}

/// Cuts batches from the submissions and proposes them, several in flight.
async fn batcher(cluster: std::sync::Weak<Cluster>, mut rx: mpsc::Receiver<Job>) {
    // One batch of this node is ordered at a time: submissions arriving meanwhile make the next
    // batch larger, so one Raft round (and one fsync on each node) serves them all. Measured
    // with `bench network`: one in flight gave larger blocks, more tx/s and lower latency than
    // two or four, and than prechecking the next batch while the previous one is ordered.
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let Some(c) = cluster.upgrade() else { break };
        tokio::spawn(async move {
            let txs: Vec<Transaction> = batch.iter().map(|(t, _, _)| t.clone()).collect();
            let results = c.order_checked(txs, true).await;
            let node = crate::metrics::node_of(c.ledger());
            drop(c);
            crate::ordering::answer(&node, batch.into_iter().map(|(_, at, w)| (at, w)), results);
            drop(permit);
        });
    }
}

/// On the leader, makes the Raft membership follow the ordering nodes that governance approved:
/// a new node is added as a learner, and once it has caught up it is made a voter; a retired
/// node leaves the voters.
async fn membership_from_governance(cluster: std::sync::Weak<Cluster>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(c) = cluster.upgrade() else { break };
        if c.leader_now() != Some(c.node_id) || c.faults.is_isolated() {
            continue;
        }
        let desired: BTreeMap<NodeId, PeerNode> = c
            .ledger
            .nodes()
            .into_iter()
            .map(|n| (n.id, PeerNode { member: n.member, peer_addr: n.peer_addr, api_url: n.api_url }))
            .collect();
        if desired.is_empty() {
            continue;
        }
        let (voters, known): (BTreeSet<NodeId>, BTreeSet<NodeId>) = {
            let m = c.raft.metrics().borrow().membership_config.clone();
            (m.membership().voter_ids().collect(), m.membership().nodes().map(|(id, _)| *id).collect())
        };
        for (id, node) in &desired {
            if !known.contains(id) {
                tracing::info!(node = id, member = %node.member, "governance admitted a node: adding it as a learner");
                match tokio::time::timeout(Duration::from_secs(60), c.raft.add_learner(*id, node.clone(), true)).await {
                    Ok(Ok(_)) => tracing::info!(node = id, "learner caught up"),
                    Ok(Err(e)) => {
                        tracing::warn!(node = id, error = %e, "adding the learner failed");
                        continue;
                    }
                    Err(_) => {
                        tracing::warn!(node = id, "the learner did not catch up within 60 s; retrying");
                        continue;
                    }
                }
            }
        }
        let want: BTreeSet<NodeId> = desired.keys().copied().collect();
        if want != voters {
            tracing::info!(?want, ?voters, "changing the voters as governance decided");
            match c.raft.change_membership(want.clone(), false).await {
                Ok(_) => {
                    metrics::counter!("borderlink_raft_membership_changes_total", crate::metrics::NODE => crate::metrics::node_of(c.ledger())).increment(1);
                    tracing::info!(voters = ?want, "voters changed");
                }
                Err(e) => tracing::warn!(error = %e, "membership change failed; retrying"),
            }
        }
    }
}

/// Compares checkpoints with the peers every second.
async fn checkpoint_exchange(cluster: std::sync::Weak<Cluster>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(c) = cluster.upgrade() else { break };
        if !c.faults.is_isolated() {
            c.exchange_checkpoints().await;
        }
    }
}
