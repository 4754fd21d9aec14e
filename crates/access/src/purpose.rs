//! The declared purpose of a read (DESIGN.md section 3: read access is decided by policy with a
//! declared purpose). Named here so that the node's principal and the audit trail can carry it;
//! purpose-bound reads are enforced in a later step.

use serde::{Deserialize, Serialize};

/// Why a person reads shared data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Assessing the risk of a declaration.
    RiskAssessment,
    /// Controlling goods or documents (an inspection).
    Control,
    /// Checking what was done (an audit).
    Audit,
    /// Statistics and analysis on pseudonymized data.
    Statistics,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 4] = [Purpose::RiskAssessment, Purpose::Control, Purpose::Audit, Purpose::Statistics];

    /// The purpose's stable name, e.g. `risk-assessment`.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::RiskAssessment => "risk-assessment",
            Purpose::Control => "control",
            Purpose::Audit => "audit",
            Purpose::Statistics => "statistics",
        }
    }
}
