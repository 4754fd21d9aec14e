//! The node-to-node protocol over mutual TLS 1.3: length-prefixed bincode frames, one request and
//! its reply at a time per connection. The server accepts a connection only from a certificate
//! that chains to the consortium CA and names an active member; a client checks that the server's
//! certificate names the member the Raft membership says runs that node
//! (`MEMBER.borderlink`).

use std::sync::Arc;
use std::time::Duration;

use borderlink_ledger::block::Checkpoint;
use borderlink_ledger::{Hash, Receipt, TxError};
use openraft::error::{
    Fatal, InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError,
    Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, SnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{Snapshot, SnapshotMeta, Vote};
use rustls_pki_types::ServerName;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::cluster::{Cluster, Faults};
use super::{LedgerSnapshot, NodeId, PeerNode, RaftTx, TypeConfig, decode, encode};
use crate::peer::PeerTls;

/// Largest frame accepted (a snapshot travels in one frame).
pub(crate) const MAX_FRAME: usize = 512 * 1024 * 1024;
/// How long connecting to a peer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A request from one node to another.
#[derive(Debug, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum PeerRequest {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    /// The receiver's ledger height (to choose the blocks of a snapshot).
    SnapshotBase,
    InstallSnapshot {
        vote: Vote<NodeId>,
        meta: SnapshotMeta<NodeId, PeerNode>,
        snapshot: LedgerSnapshot,
    },
    /// Transactions a follower received from its clients, for the leader to order.
    Forward(Vec<RaftTx>),
    /// Linearizable read: the leader confirms its leadership and returns the log index that a
    /// read must wait for.
    ReadIndex,
    /// The receiver's own checkpoints from a height on (at most `limit`), and its height.
    Checkpoints {
        from: u64,
        limit: u32,
    },
}

/// The reply to a [`PeerRequest`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum PeerResponse {
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    SnapshotBase {
        height: u64,
        hash: Option<Hash>,
    },
    InstallSnapshot(Result<SnapshotResponse<NodeId>, String>),
    Forward(Result<Vec<Result<Receipt, TxError>>, TxError>),
    ReadIndex(Result<u64, String>),
    Checkpoints {
        height: u64,
        checkpoints: Vec<Checkpoint>,
    },
    /// The request could not be handled (says why).
    Error(String),
}

async fn write_frame<W: AsyncWriteExt + Unpin>(w: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    w.write_all(&len.to_be_bytes()).await?;
    w.write_all(bytes).await?;
    w.flush().await
}

async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!("frame of {len} bytes exceeds {MAX_FRAME}")));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Accepts peers on `listener` until the cluster stops.
pub(crate) fn serve(listener: tokio::net::TcpListener, tls: PeerTls, cluster: std::sync::Weak<Cluster>) {
    let acceptor = tls.acceptor();
    // This node's `node` label on its metrics.
    let node = cluster.upgrade().map_or_else(String::new, |c| crate::metrics::node_of(c.ledger()));
    tokio::spawn(async move {
        loop {
            let (tcp, addr) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "peer accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(c) = cluster.upgrade() else { break };
            if c.faults.is_isolated() {
                drop(tcp);
                continue;
            }
            let acceptor = acceptor.clone();
            let node = node.clone();
            let weak = Arc::downgrade(&c);
            drop(c);
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let tls = match tokio::time::timeout(CONNECT_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        metrics::counter!("borderlink_peer_refused_total", "reason" => "tls", crate::metrics::NODE => node.clone()).increment(1);
                        tracing::warn!(%addr, error = %e, "peer TLS handshake refused");
                        return;
                    }
                    Err(_) => return,
                };
                let member = {
                    let Some(c) = weak.upgrade() else { return };
                    let (_, conn) = tls.get_ref();
                    match crate::peer::peer_member(conn.peer_certificates(), &c.ledger().members()) {
                        Ok(m) => m,
                        Err(e) => {
                            metrics::counter!("borderlink_peer_refused_total", "reason" => "not_a_member", crate::metrics::NODE => node.clone()).increment(1);
                            tracing::warn!(%addr, error = %e, "peer refused");
                            return;
                        }
                    }
                };
                tracing::debug!(%addr, member, "peer connected");
                let mut tls = tls;
                loop {
                    let Ok(frame) = read_frame(&mut tls).await else { return };
                    let Some(c) = weak.upgrade() else { return };
                    if c.faults.is_isolated() {
                        return;
                    }
                    // A member suspended by governance loses its open connections too.
                    if !c.ledger().is_active_member(&member) {
                        metrics::counter!("borderlink_peer_refused_total", "reason" => "not_a_member", crate::metrics::NODE => node.clone()).increment(1);
                        tracing::warn!(%addr, member, "peer's member is no longer active; closing");
                        return;
                    }
                    let reply = match decode::<PeerRequest>(&frame) {
                        Ok(req) => c.handle_peer(&member, req).await,
                        Err(e) => PeerResponse::Error(format!("undecodable request: {e}")),
                    };
                    drop(c);
                    let Ok(bytes) = encode(&reply) else { return };
                    if write_frame(&mut tls, &bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
}

/// A connection to one peer, opened when first needed and again after any failure.
pub(crate) struct PeerConn {
    node: PeerNode,
    tls: PeerTls,
    faults: Arc<Faults>,
    ledger: Arc<borderlink_ledger::Ledger>,
    stream: Option<TlsStream<TcpStream>>,
}

impl PeerConn {
    pub(crate) fn new(
        node: PeerNode,
        tls: PeerTls,
        faults: Arc<Faults>,
        ledger: Arc<borderlink_ledger::Ledger>,
    ) -> Self {
        Self { node, tls, faults, ledger, stream: None }
    }

    async fn connect(&self) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.node.peer_addr))
            .await
            .map_err(|_| std::io::Error::other(format!("connecting to {} timed out", self.node.peer_addr)))??;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(format!("{}.borderlink", self.node.member))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        tokio::time::timeout(CONNECT_TIMEOUT, self.tls.connector().connect(name, tcp))
            .await
            .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
    }

    /// Sends one request and reads its reply. A failure drops the connection (a cancelled call
    /// drops it too, since the stream is taken out while in use).
    pub(crate) async fn call(&mut self, req: &PeerRequest) -> std::io::Result<PeerResponse> {
        if self.faults.is_isolated() {
            self.stream = None;
            return Err(std::io::Error::other("this node is cut off from its peers (fault switch)"));
        }
        // Nothing is sent to the node of a member that governance suspended.
        if !self.ledger.is_active_member(&self.node.member) {
            self.stream = None;
            metrics::counter!("borderlink_peer_refused_total", "reason" => "not_a_member", crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).increment(1);
            return Err(std::io::Error::other(format!("{} is not an active member", self.node.member)));
        }
        let mut s = match self.stream.take() {
            Some(s) => s,
            None => self.connect().await?,
        };
        let bytes = encode(req).map_err(std::io::Error::other)?;
        write_frame(&mut s, &bytes).await?;
        let reply = read_frame(&mut s).await?;
        let reply = decode::<PeerResponse>(&reply).map_err(std::io::Error::other)?;
        self.stream = Some(s);
        Ok(reply)
    }
}

/// Builds Raft clients for peers.
pub(crate) struct Network {
    pub(crate) tls: PeerTls,
    pub(crate) faults: Arc<Faults>,
    pub(crate) ledger: Arc<borderlink_ledger::Ledger>,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = RaftClient;

    async fn new_client(&mut self, target: NodeId, node: &PeerNode) -> RaftClient {
        RaftClient {
            target,
            conn: PeerConn::new(node.clone(), self.tls.clone(), Arc::clone(&self.faults), Arc::clone(&self.ledger)),
            ledger: Arc::clone(&self.ledger),
        }
    }
}

/// The Raft client of one peer.
pub(crate) struct RaftClient {
    target: NodeId,
    conn: PeerConn,
    ledger: Arc<borderlink_ledger::Ledger>,
}

fn unreachable(e: &std::io::Error) -> Unreachable {
    Unreachable::new(e)
}

fn unexpected(what: &str) -> NetworkError {
    NetworkError::new(&std::io::Error::other(format!("unexpected reply to {what}")))
}

impl RaftNetwork<TypeConfig> for RaftClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        match self.conn.call(&PeerRequest::AppendEntries(rpc)).await {
            Ok(PeerResponse::AppendEntries(Ok(r))) => Ok(r),
            Ok(PeerResponse::AppendEntries(Err(e))) => Err(RPCError::RemoteError(RemoteError::new(self.target, e))),
            Ok(_) => Err(RPCError::Network(unexpected("append_entries"))),
            Err(e) => Err(RPCError::Unreachable(unreachable(&e))),
        }
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId, InstallSnapshotError>>>
    {
        Err(RPCError::Network(NetworkError::new(&std::io::Error::other(
            "chunked snapshots are not used: snapshots travel whole (full_snapshot)",
        ))))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        match self.conn.call(&PeerRequest::Vote(rpc)).await {
            Ok(PeerResponse::Vote(Ok(r))) => Ok(r),
            Ok(PeerResponse::Vote(Err(e))) => Err(RPCError::RemoteError(RemoteError::new(self.target, e))),
            Ok(_) => Err(RPCError::Network(unexpected("vote"))),
            Err(e) => Err(RPCError::Unreachable(unreachable(&e))),
        }
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote<NodeId>,
        snapshot: Snapshot<TypeConfig>,
        _cancel: impl std::future::Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<NodeId>, StreamingError<TypeConfig, Fatal<NodeId>>> {
        // Ask the peer how far its ledger goes, then send the blocks it lacks.
        let from = match self.conn.call(&PeerRequest::SnapshotBase).await {
            Ok(PeerResponse::SnapshotBase { height, .. }) => height,
            Ok(_) => return Err(StreamingError::Network(unexpected("snapshot_base"))),
            Err(e) => return Err(StreamingError::Unreachable(unreachable(&e))),
        };
        let ledger = Arc::clone(&self.ledger);
        let snap = *snapshot.snapshot;
        let filled = tokio::task::spawn_blocking(move || super::state_machine::fill_snapshot(&ledger, &snap, from))
            .await
            .map_err(|e| StreamingError::Network(NetworkError::new(&std::io::Error::other(e.to_string()))))?
            .map_err(|e| StreamingError::Network(NetworkError::new(&std::io::Error::other(e))))?;
        tracing::info!(
            target = self.target,
            from,
            to = filled.height,
            blocks = filled.blocks.len(),
            "sending snapshot"
        );
        metrics::counter!("borderlink_raft_snapshots_sent_total", crate::metrics::NODE => crate::metrics::node_of(&self.ledger)).increment(1);
        let req = PeerRequest::InstallSnapshot { vote, meta: snapshot.meta, snapshot: filled };
        match self.conn.call(&req).await {
            Ok(PeerResponse::InstallSnapshot(Ok(r))) => Ok(r),
            Ok(PeerResponse::InstallSnapshot(Err(e))) => {
                Err(StreamingError::Network(NetworkError::new(&std::io::Error::other(e))))
            }
            Ok(_) => Err(StreamingError::Network(unexpected("install_snapshot"))),
            Err(e) => Err(StreamingError::Unreachable(unreachable(&e))),
        }
    }
}
