//! Risk's projection of the ledger: every committed declaration is assessed (the committed
//! content, in commit order), every AEO authorisation kept in the register the `aeo` feature
//! reads, every inspection result fed back. At start the whole ledger is replayed through it
//! (the ledger is the source of truth), then the officers' recorded overrides are applied again.

use std::sync::Arc;

use borderlink_model::RecordType;

use super::service::RiskService;
use crate::projection::{Committed, Projection};

/// Feeds the node's risk service from the ledger.
pub(crate) struct RiskProjection(pub(crate) Arc<RiskService>);

impl Projection for RiskProjection {
    fn name(&self) -> &'static str {
        "risk"
    }

    fn record_types(&self) -> &'static [RecordType] {
        &[RecordType::Declaration, RecordType::AeoAuthorization, RecordType::InspectionResult]
    }

    fn apply(&self, record: &Committed<'_>) {
        tracing::trace!(record = record.record_id, height = record.height, "risk applies a committed record");
        self.0.on_committed(record.record_type, record.record_id, record.version, record.payload);
    }

    fn caught_up(&self) {
        let overrides = self.0.reapply_overrides();
        tracing::info!(overrides, "recorded risk overrides applied again");
    }
}
