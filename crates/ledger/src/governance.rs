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

/// Reads a governance payload as a chain following validation `rules` reads it. Chains before
/// rules 3 know no `set_read_policy`: there, a payload is first read with the actions those
/// rules knew, so that a refusal reads (and hashes into the block) exactly as it did when the
/// block was made, and a `set_read_policy` is refused as the unknown action it was then.
pub fn decode_proposal(payload: &[u8], rules: u32) -> Result<Proposal, serde_json::Error> {
    if rules < 3 {
        serde_json::from_slice::<legacy::Proposal>(payload)?;
    }
    serde_json::from_slice(payload)
}

/// The governance payload as rules 1 and 2 read it (no `set_read_policy`); read only to
/// reproduce their refusals.
mod legacy {
    use serde::Deserialize;

    use crate::identity::Member;

    #[derive(Deserialize)]
    #[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
    #[allow(dead_code)] // read for its errors only
    pub(super) enum Action {
        AdmitMember { member: Member },
        SuspendMember { member_id: String, reason: String },
        ReinstateMember { member_id: String },
        SetPolicy { policy: String },
        AddNode { node: crate::genesis::NodeSpec },
        RemoveNode { node_id: u64 },
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // read for its errors only
    pub(super) struct Proposal {
        change: Action,
        #[serde(default)]
        approvals: Vec<super::Approval>,
    }
}

/// What approvers sign: the chain, the proposal id and the change's canonical JSON.
pub fn approval_message(chain: &Hash, proposal_id: &str, change: &GovernanceAction) -> Result<Vec<u8>, LedgerError> {
    let json = serde_json::to_vec(change).map_err(|e| LedgerError::Malformed(e.to_string()))?;
    let mut w = Writer::new();
    w.raw(b"BLGV").hash(chain).str(proposal_id).bytes(&json);
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_before_rules_3_read_governance_as_they_did() {
        let read_policy =
            br#"{"change": {"action": "set_read_policy", "policy": "permit (principal, action, resource);"}}"#;
        let typo = br#"{"change": {"action": "set_polcy", "policy": "x"}}"#;
        // Rules 3: the read policy is a governance change.
        assert!(matches!(decode_proposal(read_policy, 3).unwrap().change, GovernanceAction::SetReadPolicy { .. }));
        // Rules 2: it is the unknown action it was, and a typo's message lists the old actions.
        let old = decode_proposal(read_policy, 2).unwrap_err().to_string();
        assert!(old.starts_with("unknown variant `set_read_policy`, expected one of"), "{old}");
        let typo2 = decode_proposal(typo, 2).unwrap_err().to_string();
        assert!(!typo2.contains("set_read_policy") && typo2.contains("`set_policy`"), "{typo2}");
        let typo3 = decode_proposal(typo, 3).unwrap_err().to_string();
        assert!(typo3.contains("set_read_policy"), "{typo3}");
        // What both read, both read the same.
        let set = br#"{"change": {"action": "set_policy", "policy": "p"}, "approvals": []}"#;
        assert_eq!(decode_proposal(set, 2).unwrap(), decode_proposal(set, 3).unwrap());
    }
}
