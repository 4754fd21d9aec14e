//! The genesis file: the founding members, their keys and certificates, the write policy, the
//! governance rule and the ledger's limits. Its SHA-256 (over its canonical JSON) is the chain id
//! every transaction, block and checkpoint is bound to.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::identity::{Member, Role};
use crate::{Hash, LedgerError};

/// The genesis format written by this release.
pub const GENESIS_FORMAT: &str = "borderlink-genesis/1";

/// The write policy every new consortium starts with (Cedar). Entities: `Member` (attributes
/// `id`, `role`, `country`, `status`, `trader_ids`), `Record` (attributes `type`, `country`,
/// `declarant`, `issuer`, `owner`); actions `create`, `update`, `erase`.
pub const DEFAULT_POLICY: &str = r#"// A declaration is written by its declarant (a member trading under the declarant's id)
// or by the customs administration of the declaration's country.
@id("declaration-write")
permit (principal, action in [Action::"create", Action::"update"], resource)
when {
  resource.type == "declaration" &&
  (principal.trader_ids.contains(resource.declarant) ||
   (principal.role == "customs" && principal.country == resource.country))
};

// An AEO authorisation, and every change of its status (suspend, revoke, reinstate),
// only by the administration that issued it.
@id("aeo-issuer-only")
permit (principal, action in [Action::"create", Action::"update"], resource)
when {
  resource.type == "aeo-authorization" &&
  principal.role == "customs" && principal.country == resource.issuer
};

// An inspection result only by customs of the declaration's country.
@id("inspection-by-customs")
permit (principal, action in [Action::"create", Action::"update"], resource)
when {
  resource.type == "inspection-result" &&
  principal.role == "customs" && principal.country == resource.country
};

// Transport movements by carriers, ports and customs administrations.
@id("movement-write")
permit (principal, action in [Action::"create", Action::"update"], resource)
when {
  resource.type == "transport-movement" &&
  ["carrier", "port", "customs"].contains(principal.role)
};

// An AEO's consent to the mutual-recognition exchange of its authorisation's data, given and
// withdrawn only by the AEO itself: a member trading under the holder's trader id (the consent's
// id is bound to that id, so nobody writes a consent in another trader's name).
@id("aeo-consent-by-holder")
permit (principal, action in [Action::"create", Action::"update"], resource)
when {
  resource.type == "aeo-consent" && principal.trader_ids.contains(resource.declarant)
};

// Off-chain documents (scans, certificates) by any member; updates by their owner.
@id("document-write")
permit (principal, action == Action::"create", resource)
when { resource.type == "document" };
@id("document-update")
permit (principal, action == Action::"update", resource)
when { resource.type == "document" && resource.owner == principal.id };

// Erasure (crypto-shredding) by the customs administration of the record's country, which
// applies its retention policy. A declaration, an AEO authorisation, an inspection result or an
// AEO's consent (the evidence that sharing was agreed; it is withdrawn, not erased) is kept for
// customs: its submitter cannot erase it. Other records also by their owner.
@id("erasure-by-customs")
permit (principal, action == Action::"erase", resource)
when { principal.role == "customs" && principal.country == resource.country };
@id("erasure-by-owner")
permit (principal, action == Action::"erase", resource)
when {
  resource.owner == principal.id &&
  !(["declaration", "aeo-authorization", "inspection-result", "aeo-consent"].contains(resource.type))
};

// A suspended member can do nothing.
@id("suspended-members")
forbid (principal, action, resource)
when { principal.status != "active" };
"#;

/// The validation rules a consortium created by this release follows. Rule changes that could
/// change a transaction's outcome get a new number; a chain keeps the rules of its genesis, so
/// every node replays old blocks exactly as they were validated.
///
/// - 1: the first rules;
/// - 2: record ids bound to the record's business keys (`meta::record_id`); a private
///   declaration is encrypted to and endorsed by the competent customs administration; dataset
///   records are never carried off-chain.
/// - 3: `aeo-consent` is a record type of the dataset (validated, its id bound to the holder's
///   trader id and the authorisation, `meta::rules_since`), always carried clear; before, the
///   name was free like any other.
pub const RULES_CURRENT: u32 = 3;

/// The retention periods of a new consortium, in days. The EU Union Customs Code (Regulation
/// (EU) No 952/2013, Art. 51) requires customs documents to be kept for at least three years;
/// data protection (GDPR Art. 5(1)(e)) requires personal data not to be kept longer than needed.
/// So declarations, inspection results, movements and documents are kept three years (1,096
/// days) after their last version; AEO authorisations are kept while they exist. A consortium
/// changes these in its genesis.
pub fn default_retention() -> std::collections::BTreeMap<String, u32> {
    ["declaration", "inspection-result", "transport-movement", "document"]
        .into_iter()
        .map(|t| (t.to_owned(), 1096))
        .collect()
}

fn rules_v1() -> u32 {
    1
}

fn is_rules_v1(v: &u32) -> bool {
    *v == 1
}

/// Who approves governance changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    /// How many distinct eligible members must sign a change (the submitter counts).
    pub approvals_required: u32,
    /// The roles whose members may approve.
    pub eligible_roles: Vec<Role>,
}

/// Limits every node enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest payload carried on the ledger, in bytes (larger objects go off-chain).
    pub max_payload_bytes: u64,
    /// Most transactions in one block.
    pub max_block_txs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_payload_bytes: 1024 * 1024, max_block_txs: 4096 }
    }
}

/// The genesis of a consortium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// `borderlink-genesis/1`.
    pub format: String,
    /// The consortium's name.
    pub consortium: String,
    /// When it was created (ISO 8601).
    pub created_at: String,
    /// The consortium CA certificate (PEM) that issued every member certificate.
    pub ca_certificate: String,
    /// The founding members.
    pub members: Vec<Member>,
    /// The write policy (Cedar).
    pub policy: String,
    /// The read policy (Cedar; absent: [`crate::read_policy::DEFAULT_READ_POLICY`]): who may
    /// read which record, for which declared purpose, and which fields are withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_policy: Option<String>,
    /// Who approves governance changes.
    pub governance: Governance,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// How long records of each type are kept, in days after their latest version was committed
    /// (absent: kept indefinitely). Expired private records are crypto-shredded by the customs
    /// administration of their country (`Ledger::retention_review`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub retention_days: std::collections::BTreeMap<String, u32>,
    /// The validation rules of this chain ([`RULES_CURRENT`] for new consortia; absent means 1).
    #[serde(default = "rules_v1", skip_serializing_if = "is_rules_v1")]
    pub rules: u32,
    /// The founding ordering nodes (Raft voters), one per organisation that runs a node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeSpec>,
    /// The mutual-recognition agreements between the members' AEO programmes: which
    /// administrations receive which fields of an AEO's authorisation, with the AEO's consent
    /// (`crate::mra`). Absent: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mra: Vec<crate::mra::Agreement>,
}

/// An ordering node of the consortium: whose it is and where its peers and clients reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The node's Raft id (unique in the consortium, never reused).
    pub id: u64,
    /// The member operating it (its TLS certificate names this member).
    pub member: String,
    /// Host and port of its node-to-node (mutual TLS) listener.
    pub peer_addr: String,
    /// Base URL of its HTTP API and console.
    pub api_url: String,
}

impl Genesis {
    /// Reads and checks a genesis file.
    pub fn load(path: &Path) -> Result<Self, LedgerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LedgerError::Io(format!("cannot read genesis {}: {e}", path.display())))?;
        Self::from_json(&text).map_err(|e| match e {
            LedgerError::Genesis(m) => LedgerError::Genesis(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses and checks a genesis document.
    pub fn from_json(text: &str) -> Result<Self, LedgerError> {
        let g: Genesis = serde_json::from_str(text).map_err(|e| LedgerError::Genesis(e.to_string()))?;
        g.check()?;
        Ok(g)
    }

    fn check(&self) -> Result<(), LedgerError> {
        if self.format != GENESIS_FORMAT {
            return Err(LedgerError::Genesis(format!("format {:?} is not {GENESIS_FORMAT}", self.format)));
        }
        let mut ids = std::collections::HashSet::new();
        for m in &self.members {
            if !ids.insert(m.id.as_str()) {
                return Err(LedgerError::Genesis(format!("member {} is listed twice", m.id)));
            }
            m.verifying_key()?;
            m.encryption_public()?;
        }
        if self.members.is_empty() {
            return Err(LedgerError::Genesis("a consortium needs at least one member".into()));
        }
        if self.rules == 0 || self.rules > RULES_CURRENT {
            return Err(LedgerError::Genesis(format!(
                "validation rules {} are not known to this release (it knows 1 to {RULES_CURRENT}); upgrade the node",
                self.rules
            )));
        }
        if self.governance.approvals_required == 0 {
            return Err(LedgerError::Genesis("governance.approvals_required must be at least 1".into()));
        }
        crate::policy::Policy::new(&self.policy)?;
        if let Some(text) = &self.read_policy {
            crate::read_policy::ReadPolicy::new(text)?;
        }
        crate::mra::check_agreements(&self.mra).map_err(LedgerError::Genesis)?;
        if !self.mra.is_empty() && self.rules < 3 {
            return Err(LedgerError::Genesis(
                "mutual-recognition agreements (mra) need validation rules 3, which know the AEO's consent".into(),
            ));
        }
        let mut node_ids = std::collections::HashSet::new();
        for n in &self.nodes {
            if n.id == 0 || !node_ids.insert(n.id) {
                return Err(LedgerError::Genesis(format!("node id {} is zero or listed twice", n.id)));
            }
            if !ids.contains(n.member.as_str()) {
                return Err(LedgerError::Genesis(format!("node {} belongs to {}, not a member", n.id, n.member)));
            }
        }
        Ok(())
    }

    /// The chain id: SHA-256 of the canonical JSON of this genesis.
    pub fn chain_id(&self) -> Hash {
        // Struct fields serialize in declaration order and every collection is a Vec: the
        // bytes are canonical.
        Hash::of(&serde_json::to_vec(self).unwrap_or_default())
    }

    /// The member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }
}
