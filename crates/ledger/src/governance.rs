//! Governance as ledger transactions: a member admitted, suspended or reinstated, the write
//! policy replaced — each approved by the members the genesis requires (k of the eligible roles),
//! every approval an Ed25519 signature over the proposal.

use serde::{Deserialize, Serialize};

use crate::codec::Writer;
use crate::identity::Member;
use crate::{Hash, LedgerError};

/// A change of the consortium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum GovernanceAction {
    /// Admit a new member.
    AdmitMember {
        /// The member, with its keys and certificate.
        member: Member,
    },
    /// Suspend a member: its transactions are refused from the next transaction on.
    SuspendMember {
        /// Which member.
        member_id: String,
        /// Why.
        reason: String,
    },
    /// Reinstate a suspended member.
    ReinstateMember {
        /// Which member.
        member_id: String,
    },
    /// Replace the write policy.
    SetPolicy {
        /// The new Cedar policy text.
        policy: String,
    },
    /// Replace the read policy (`crate::read_policy`).
    SetReadPolicy {
        /// The new Cedar read policy text.
        policy: String,
    },
    /// Admit a member's ordering node: it joins Raft as a learner, then becomes a voter.
    AddNode {
        /// The node.
        node: crate::genesis::NodeSpec,
    },
    /// Retire an ordering node: it leaves the Raft voters.
    RemoveNode {
        /// Its Raft id.
        node_id: u64,
    },
}

/// One member's approval of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The approving member.
    pub member: String,
    /// Ed25519 signature over [`approval_message`], hex.
    pub signature: String,
}

/// A governance transaction's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// The change.
    pub change: GovernanceAction,
    /// Approvals gathered (the submitter's own transaction signature also counts).
    #[serde(default)]
    pub approvals: Vec<Approval>,
}

/// What approvers sign: the chain, the proposal id and the change's canonical JSON.
pub fn approval_message(chain: &Hash, proposal_id: &str, change: &GovernanceAction) -> Result<Vec<u8>, LedgerError> {
    let json = serde_json::to_vec(change).map_err(|e| LedgerError::Malformed(e.to_string()))?;
    let mut w = Writer::new();
    w.raw(b"BLGV").hash(chain).str(proposal_id).bytes(&json);
    Ok(w.finish())
}
