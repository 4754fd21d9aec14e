//! The declared purpose of a read (DESIGN.md section 3: read access is decided by policy with a
//! declared purpose). The consortium's read policy (`borderlink_ledger::read_policy`) decides
//! what each purpose allows; the audit trail records it with every read.

use serde::{Deserialize, Serialize};

/// Why somebody reads shared data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Clearing goods: assessing and releasing a declaration, an inspection.
    Clearance,
    /// Analysing risk: criteria, models, targeting.
    RiskAnalysis,
    /// Checking what was done, after the fact.
    Audit,
    /// Exchanging AEO status with a mutual-recognition partner.
    MraExchange,
    /// Statistics and analysis, without the parties' identities.
    Statistics,
    /// Answering a trader's or a person's request for the data held on them.
    DataSubjectAccess,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 6] = [
        Purpose::Clearance,
        Purpose::RiskAnalysis,
        Purpose::Audit,
        Purpose::MraExchange,
        Purpose::Statistics,
        Purpose::DataSubjectAccess,
    ];

    /// The purpose's stable name, e.g. `risk-analysis`.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Clearance => "clearance",
            Purpose::RiskAnalysis => "risk-analysis",
            Purpose::Audit => "audit",
            Purpose::MraExchange => "mra-exchange",
            Purpose::Statistics => "statistics",
            Purpose::DataSubjectAccess => "data-subject-access",
        }
    }

    /// The purpose named `name`, if it is one.
    pub fn parse(name: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.name() == name.trim())
    }

    /// The comma-separated list of every purpose's name, for messages.
    pub fn names() -> String {
        Purpose::ALL.map(Purpose::name).join(", ")
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_the_read_policys_and_round_trip() {
        let policy: Vec<&str> = borderlink_ledger::read_policy::PURPOSES.iter().map(|(p, _)| *p).collect();
        assert_eq!(Purpose::ALL.map(Purpose::name).to_vec(), policy);
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.name()), Some(p));
        }
        assert_eq!(Purpose::parse("curiosity"), None);
    }
}
