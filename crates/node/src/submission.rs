//! What the node learns of each transaction submitted to it: a capability that keeps figures
//! about submissions (the dataset's data-quality dashboard) implements [`SubmissionObserver`],
//! and the submission route tells every observer how each submission ended.
//!
//! Refused submissions never reach the ledger, so the projections of committed records
//! (`crate::projection`) cannot see them: this is the only place they are seen.
//!
//! Invariant: an observer hears only of submissions whose submitter is established — the
//! transaction's signature verified against the member's registered key, over the payload sent
//! — and whose outcome is known; a forged or undecidable submission names nobody
//! ([`Submitted::attributable`]).
//! Observers run on the request's task, before the client is answered: they must only take
//! note (e.g. queue the submission) and never block.

use std::sync::Arc;

use borderlink_ledger::{Transaction, TxError};

/// A submission and how it ended.
#[derive(Debug)]
pub(crate) struct Submitted<'a> {
    /// The transaction as submitted.
    pub(crate) tx: &'a Transaction,
    /// `Ok` when committed (or already committed), else why it was refused.
    pub(crate) outcome: Result<(), &'a TxError>,
    /// When the node received it (its clock), ms since the Unix epoch.
    pub(crate) at_ms: i64,
    /// This node's member id (the `node` label of its metrics).
    pub(crate) node: &'a str,
}

impl Submitted<'_> {
    /// Whether the submission can be held against its submitter: the signature verified (the
    /// ledger checks it before anything else, so any other refusal implies it), the payload is
    /// the one signed (anyone can pair a signed body with another payload) and the outcome is
    /// decided.
    pub(crate) fn attributable(&self) -> bool {
        !matches!(
            self.outcome,
            Err(TxError::BadSignature
                | TxError::UnknownSubmitter(_)
                | TxError::WrongChain
                | TxError::PayloadMismatch(_)
                | TxError::Internal(_)
                | TxError::Unavailable(_))
        )
    }
}

/// A capability that takes note of submissions.
pub(crate) trait SubmissionObserver: Send + Sync + std::fmt::Debug {
    /// Takes note of one attributable submission. Must not block.
    fn submitted(&self, submission: &Submitted<'_>);
}

/// Tells every observer of an attributable submission.
pub(crate) fn notify(observers: &[Arc<dyn SubmissionObserver>], submission: &Submitted<'_>) {
    if !submission.attributable() {
        return;
    }
    for o in observers {
        o.submitted(submission);
    }
}
