//! Typed views of the ledger shared by the API (as JSON) and the console (as HTML): the console
//! reads these fields, never fields of a JSON value by name.

use borderlink_ledger::Ledger;
use borderlink_ledger::block::{BlockHeader, Checkpoint, TxOutcome};
use borderlink_ledger::identity::MemberStatus;
use borderlink_ledger::tx::{PayloadKind, TxKind};
use serde::Serialize;

use crate::error::ApiError;
use crate::ordering::LedgerService;

/// The consortium as this node sees it.
#[derive(Debug, Serialize)]
pub(crate) struct NetworkView {
    pub(crate) consortium: String,
    pub(crate) chain_id: String,
    pub(crate) local_member: Option<String>,
    pub(crate) head: Option<HeadView>,
    pub(crate) members: Vec<MemberView>,
    /// The validation rules of the chain (the genesis' `rules`).
    pub(crate) rules: u32,
    /// The ordering nodes: which member runs each and where its API is.
    pub(crate) nodes: Vec<NodeRef>,
    /// The Raft group, when the ledger is replicated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cluster: Option<crate::raft::ClusterStatus>,
}

/// An ordering node of the consortium.
#[derive(Debug, Serialize)]
pub(crate) struct NodeRef {
    pub(crate) id: u64,
    pub(crate) member: String,
    pub(crate) api_url: String,
}

/// The head of the chain.
#[derive(Debug, Serialize)]
pub(crate) struct HeadView {
    pub(crate) height: u64,
    pub(crate) hash: String,
}

/// A member with its public keys.
#[derive(Debug, Serialize)]
pub(crate) struct MemberView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: &'static str,
    pub(crate) country: String,
    pub(crate) status: MemberStatus,
    pub(crate) signing_key: String,
    pub(crate) encryption_key: String,
    pub(crate) trader_ids: Vec<String>,
}

pub(crate) fn network_view(svc: &LedgerService) -> NetworkView {
    let l = svc.ledger();
    NetworkView {
        consortium: l.genesis().consortium.clone(),
        chain_id: l.chain_id().to_hex(),
        local_member: l.local_member().map(str::to_owned),
        head: l.head().map(|h| HeadView { height: h.height, hash: h.hash().to_hex() }),
        cluster: svc.cluster().map(|c| c.status()),
        rules: l.genesis().rules,
        nodes: l.nodes().into_iter().map(|n| NodeRef { id: n.id, member: n.member, api_url: n.api_url }).collect(),
        members: l
            .members()
            .into_iter()
            .map(|m| MemberView {
                role: m.role.name(),
                id: m.id,
                name: m.name,
                country: m.country,
                status: m.status,
                signing_key: m.signing_key,
                encryption_key: m.encryption_key,
                trader_ids: m.trader_ids,
            })
            .collect(),
    }
}

/// A block as the API and the console show it.
#[derive(Debug, Serialize)]
pub(crate) struct BlockView {
    pub(crate) hash: String,
    pub(crate) header: BlockHeader,
    pub(crate) transactions: Vec<TxView>,
    pub(crate) checkpoints: Vec<Checkpoint>,
}

/// A transaction of a block, with its outcome.
#[derive(Debug, Serialize)]
pub(crate) struct TxView {
    pub(crate) tx_id: String,
    pub(crate) record_id: String,
    pub(crate) record_type: String,
    pub(crate) version: u64,
    pub(crate) kind: TxKind,
    pub(crate) submitter: String,
    pub(crate) payload_kind: PayloadKind,
    pub(crate) outcome: TxOutcome,
}

/// The block at `height`; a stored transaction whose body does not decode is reported as the
/// corruption it is, never left out.
pub(crate) fn block_view(l: &Ledger, height: u64) -> Result<BlockView, ApiError> {
    let b = l.block(height)?.ok_or(ApiError::BlockNotFound(height))?;
    let mut transactions = Vec::with_capacity(b.txs.len());
    for (index, (t, outcome)) in b.txs.iter().zip(&b.results).enumerate() {
        let body = t.body().map_err(|e| {
            ApiError::Ledger(borderlink_ledger::LedgerError::Corrupt {
                height: Some(height),
                detail: format!("transaction {index} does not decode: {e}"),
            })
        })?;
        transactions.push(TxView {
            tx_id: t.id().to_hex(),
            record_id: body.record_id,
            record_type: body.record_type,
            version: body.version,
            kind: body.kind,
            submitter: body.submitter,
            payload_kind: body.payload_kind,
            outcome: outcome.clone(),
        });
    }
    Ok(BlockView {
        hash: b.header.hash().to_hex(),
        header: b.header,
        transactions,
        checkpoints: l.checkpoints(height)?,
    })
}
