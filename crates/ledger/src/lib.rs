//! The Borderlink permissioned ledger: customs administrations, other agencies and AEOs share
//! the standardized dataset with immutability, transparency to those entitled and
//! confidentiality to everyone else.
//!
//! - [`consortium::create`]: a consortium from one command (CA, keys, certificates, genesis);
//! - [`Transaction`]: signed canonical bytes ([`tx`]), clear or private ([`private`]);
//! - [`Ledger`]: deterministic validation (batch signature verification, Cedar write
//!   [`policy`], versions, replay), blocks with Merkle roots and per-transaction outcomes
//!   ([`block`]), state, history and indexes in redb, checkpoints, integrity checks;
//! - [`proof::Proof`]: offline-verifiable proofs;
//! - [`governance`]: membership and policy changes approved k-of-n;
//! - [`mra`]: AEO mutual recognition — the agreements of the genesis, the AEO's consent, the
//!   agreed fields a partner administration receives;
//! - [`ordering`]: the `Ordering` trait the node submits through (solo today, Raft next);
//! - [`store`]: redb files opened as untrusted input (every page verified, panics contained).

pub mod auth;
pub mod blobs;
pub mod block;
pub mod codec;
pub mod consortium;
pub mod genesis;
pub mod governance;
mod hash;
pub mod identity;
mod ledger;
pub mod merkle;
pub mod meta;
pub mod mra;
pub mod policy;
pub mod private;
pub mod proof;
pub mod read_policy;
pub mod store;
pub mod tx;

pub use hash::Hash;
pub use ledger::{
    Committed, Expired, IntegrityReport, Ledger, MetaAtHead, Problem, Receipt, RecordState, RecordVersion,
    clear_put_body, erase_body, governance_body, next_version,
};
pub use tx::{Transaction, TxBody, WireTransaction};

/// Errors of the ledger's operations (storage, keys, configuration).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(String),
    /// The database failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Stored data does not check out.
    #[error("corrupt ledger data{}: {detail}", height.map(|h| format!(" at block {h}")).unwrap_or_default())]
    Corrupt {
        /// The block concerned, when known.
        height: Option<u64>,
        /// What is wrong.
        detail: String,
    },
    /// The genesis file is wrong.
    #[error("genesis: {0}")]
    Genesis(String),
    /// A key file is wrong.
    #[error("key: {0}")]
    Key(String),
    /// The policy does not compile or evaluate.
    #[error("policy: {0}")]
    Policy(String),
    /// A private payload cannot be sealed or opened.
    #[error("private record: {0}")]
    Private(String),
    /// This node's member is not a recipient of the record.
    #[error("{member} is not a recipient of private record {record}")]
    NotRecipient {
        /// Record id.
        record: String,
        /// This node's member.
        member: String,
    },
    /// The record's keys were erased.
    #[error("record {0} was erased: its data can no longer be read")]
    Erased(String),
    /// Something asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Bytes that should be a transaction are not one.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// A governance change does not apply.
    #[error("governance: {0}")]
    Governance(String),
    /// A command was used wrongly.
    #[error("{0}")]
    Usage(String),
    /// A member's off-chain storage quota would be exceeded.
    #[error("{member} has stored {used} bytes off-chain; {size} more would exceed its quota of {quota} bytes")]
    QuotaExceeded {
        /// The member.
        member: String,
        /// Bytes it has stored.
        used: u64,
        /// The object refused.
        size: u64,
        /// Its quota.
        quota: u64,
    },
}

/// Why a transaction is refused (each with a stable code, see [`TxError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "code_kind", content = "detail")]
pub enum TxError {
    /// The transaction does not decode or breaks a format rule.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// It is for another consortium.
    #[error("the transaction is for another chain")]
    WrongChain,
    /// The signature does not verify with the submitter's key.
    #[error("the signature does not verify with the submitter's key")]
    BadSignature,
    /// The submitter is not a member.
    #[error("{0} is not a member of this consortium")]
    UnknownSubmitter(String),
    /// The submitter is suspended.
    #[error("{0} is suspended")]
    SuspendedSubmitter(String),
    /// The write policy refuses it: what was refused, and (for the person who asked) which
    /// rules could allow it and who may.
    #[error("the write policy refuses this: {0}")]
    PolicyDenied(Denial),
    /// The same transaction was already committed.
    #[error("this transaction was already committed (replay)")]
    Replay,
    /// The version is not the next one.
    #[error("version {got} is stale: the next version of this record is {expected}")]
    StaleVersion {
        /// The version expected.
        expected: u64,
        /// The version given.
        got: u64,
    },
    /// The payload is larger than the consortium allows.
    #[error("the payload is {len} bytes; at most {max} are allowed on the ledger (store larger objects off-chain)")]
    PayloadTooLarge {
        /// Its length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The payload does not match what was signed.
    #[error("payload mismatch: {0}")]
    PayloadMismatch(String),
    /// The record is not a valid record of the dataset.
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// The signed policy attributes differ from the record's.
    #[error("the signed attributes differ from the record: {0}")]
    MetaMismatch(String),
    /// A private record cannot be decrypted by its recipients.
    #[error("undecryptable private record: {0}")]
    Undecryptable(String),
    /// The record id is not the one the record's business keys give.
    #[error("wrong record id: {0}")]
    WrongRecordId(String),
    /// A declaration the competent customs administration could not read: not among the
    /// recipients, no valid endorsement, or carried off-chain.
    #[error("customs must be able to read this declaration: {0}")]
    CustomsCannotRead(String),
    /// The record does not exist.
    #[error("record {0} does not exist")]
    UnknownRecord(String),
    /// The record was erased.
    #[error("record {0} was erased")]
    Erased(String),
    /// A governance change is not approved or does not apply.
    #[error("governance: {0}")]
    Governance(String),
    /// Another transaction changed the record first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Recorded as invalid in a block.
    #[error("{0}")]
    Rejected(String),
    /// The node failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// The ordering service did not commit in time (no leader, no quorum). The outcome is
    /// unknown: the transaction may still commit when the quorum returns. Resubmitting the same
    /// signed transaction is safe (it is committed at most once) and answers with its outcome.
    #[error(
        "outcome unknown: {0}; the transaction may still commit when the quorum returns — resubmit the same \
         signed transaction to learn its outcome (it is committed at most once)"
    )]
    Unavailable(String),
}

/// A refusal by the write policy.
///
/// **Invariant:** only [`Denial::reason`] goes into a block ([`TxError::recorded_reason`]): the
/// outcome of an ordered transaction is hashed into its block, so what a block records for a
/// refusal never changes between releases, while the explanation may say more in a later one.
/// On the wire between nodes (serde) a denial is its whole text, as the string it used to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// What was refused (`gb-x (aeo of GB) may not create declaration …`), as blocks record it.
    pub reason: String,
    /// For the person who asked: one line each, the rules that could permit it, the attributes
    /// they compare, and who may (empty when the denial came from another node).
    pub explanation: Vec<String>,
}

impl Denial {
    /// A refusal without an explanation.
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), explanation: Vec::new() }
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)?;
        for line in &self.explanation {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Denial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Denial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Denial::new)
    }
}

impl TxError {
    /// What a block records as the reason of this transaction's invalid outcome: its message,
    /// without the explanation of a policy refusal ([`Denial`]). It is hashed into the block, so
    /// for a given outcome it must not change between releases.
    pub fn recorded_reason(&self) -> String {
        match self {
            TxError::PolicyDenied(d) => format!("the write policy refuses this: {}", d.reason),
            e => e.to_string(),
        }
    }

    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Malformed(_) => "malformed_transaction",
            TxError::WrongChain => "wrong_chain",
            TxError::BadSignature => "bad_signature",
            TxError::UnknownSubmitter(_) => "unknown_submitter",
            TxError::SuspendedSubmitter(_) => "suspended_submitter",
            TxError::PolicyDenied(_) => "policy_denied",
            TxError::Replay => "replay",
            TxError::StaleVersion { .. } => "stale_version",
            TxError::PayloadTooLarge { .. } => "payload_too_large",
            TxError::PayloadMismatch(_) => "payload_mismatch",
            TxError::InvalidRecord(_) => "invalid_record",
            TxError::MetaMismatch(_) => "meta_mismatch",
            TxError::Undecryptable(_) => "undecryptable",
            TxError::WrongRecordId(_) => "wrong_record_id",
            TxError::CustomsCannotRead(_) => "customs_cannot_read",
            TxError::UnknownRecord(_) => "unknown_record",
            TxError::Erased(_) => "erased_record",
            TxError::Governance(_) => "governance_refused",
            TxError::Conflict(_) => "version_conflict",
            TxError::Rejected(_) => "rejected",
            TxError::Internal(_) => "internal",
            TxError::Unavailable(_) => "ordering_unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_records_a_policy_refusal_without_its_explanation() {
        let e = TxError::PolicyDenied(Denial {
            reason: "gb-x (aeo of GB) may not create declaration d".into(),
            explanation: vec!["rule declaration-write permits it: …".into()],
        });
        // What blocks recorded before refusals were explained: block hashes stay as they were.
        assert_eq!(e.recorded_reason(), "the write policy refuses this: gb-x (aeo of GB) may not create declaration d");
        assert!(e.to_string().ends_with("d\n  rule declaration-write permits it: …"), "{e}");
        // Between nodes a denial travels as the string it always was.
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["detail"], e.to_string().trim_start_matches("the write policy refuses this: "));
        let back: TxError = serde_json::from_value(json).unwrap();
        assert_eq!(back.code(), "policy_denied");
        assert_eq!(back.to_string(), e.to_string());
    }
}
