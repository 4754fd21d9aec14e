//! Opening a member node's ledger: the chain checked, its ordering engine started (solo, or the
//! consortium's Raft group from `[cluster]`), and the operator's console opened.

use std::sync::Arc;

use crate::config::Config;
use crate::error::NodeError;
use crate::ordering::LedgerService;
use crate::session::Console;

/// Opens the ledger (checking the chain's integrity), starts its ordering service, and opens the
/// operator's console (its token read or created: `console.token`, mode 0600, in the data
/// directory).
pub(super) async fn open_ledger(
    config: &Config,
    lc: &crate::config::LedgerConfig,
) -> Result<(Arc<LedgerService>, Console), NodeError> {
    let dir = config.data_dir.join("ledger");
    let lc = lc.clone();
    let data_dir = config.data_dir.clone();
    let (ledger, console) = tokio::task::spawn_blocking(move || {
        let genesis = borderlink_ledger::genesis::Genesis::load(&lc.genesis)?;
        let keys = borderlink_ledger::identity::MemberKeys::load(&lc.key)?;
        let ledger = borderlink_ledger::Ledger::open(&dir, genesis, Some(keys))?;
        Ok::<_, borderlink_ledger::LedgerError>((ledger, Console::open(&data_dir)?))
    })
    .await
    .map_err(|e| NodeError::Ledger(borderlink_ledger::LedgerError::Io(e.to_string())))?
    .map_err(NodeError::Ledger)?;
    tracing::info!(member = ledger.local_member().unwrap_or("-"), chain = %ledger.chain_id(), height = ledger.head().map_or(0, |h| h.height), "ledger open");
    let ledger = Arc::new(ledger);
    let service = match &config.cluster {
        None => LedgerService::start_solo(ledger),
        Some(cs) => {
            let cc = cluster_config(config, cs, &ledger)?;
            LedgerService::start_cluster(ledger, cc)
                .await
                .map_err(|e| NodeError::Ledger(borderlink_ledger::LedgerError::Io(e)))?
        }
    };
    Ok((service, console))
}

/// The Raft settings of this node, from its `[cluster]` section and the genesis.
fn cluster_config(
    config: &Config,
    cs: &crate::config::ClusterSection,
    ledger: &borderlink_ledger::Ledger,
) -> Result<crate::raft::ClusterConfig, NodeError> {
    let err = |m: String| NodeError::Ledger(borderlink_ledger::LedgerError::Io(m));
    let g = ledger.genesis();
    let member = ledger.local_member().unwrap_or_default().to_owned();
    let own = match cs.node_id {
        Some(id) => g.nodes.iter().find(|n| n.id == id),
        None => g.nodes.iter().find(|n| n.member == member),
    };
    let node_id = cs
        .node_id
        .or(own.map(|n| n.id))
        .ok_or_else(|| err(format!("the genesis lists no node of {member}; set [cluster] node_id")))?;
    let peer_listen = match cs.peer_listen {
        Some(a) => a,
        None => {
            let addr = own.map(|n| n.peer_addr.clone()).ok_or_else(|| err("set [cluster] peer_listen".into()))?;
            addr.parse().map_err(|e| err(format!("genesis peer_addr {addr:?}: {e}")))?
        }
    };
    let read =
        |p: &std::path::Path| std::fs::read_to_string(p).map_err(|e| err(format!("cannot read {}: {e}", p.display())));
    let tls = crate::peer::PeerTls::new(&g.ca_certificate, &read(&cs.tls_cert)?, &read(&cs.tls_key)?)
        .map_err(|e| err(e.to_string()))?;
    let founders = g
        .nodes
        .iter()
        .map(|n| {
            (
                n.id,
                crate::raft::PeerNode {
                    member: n.member.clone(),
                    peer_addr: n.peer_addr.clone(),
                    api_url: n.api_url.clone(),
                },
            )
        })
        .collect();
    Ok(crate::raft::ClusterConfig {
        node_id,
        peer_listen,
        tls,
        founders,
        raft_dir: config.data_dir.join("raft"),
        snapshot_every: cs.snapshot_every.max(1),
        keep_after_snapshot: cs.keep_after_snapshot,
        faults: cs.faults,
    })
}
