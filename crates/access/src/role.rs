//! The roles a person holds in their organisation.

use serde::{Deserialize, Serialize};

use crate::AccessError;

/// A person's role in their organisation. What each role may do on a node is the node's
/// mapping (docs/security.md, "People and roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A customs officer: works the risk queue, records overrides and inspection results.
    Officer,
    /// A customs analyst: reads the ledger and the risk data, changes nothing.
    Analyst,
    /// A risk officer: manages criteria and the risk model.
    RiskOfficer,
    /// An auditor: reads, to check what was done.
    Auditor,
    /// A person of a trader organisation: reads the ledger (what is addressed to the trader).
    TraderUser,
    /// Manages the node: its accounts, its token, its settings.
    Administrator,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 6] =
        [Role::Officer, Role::Analyst, Role::RiskOfficer, Role::Auditor, Role::TraderUser, Role::Administrator];

    /// The role's stable name, e.g. `risk-officer`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Analyst => "analyst",
            Role::RiskOfficer => "risk-officer",
            Role::Auditor => "auditor",
            Role::TraderUser => "trader-user",
            Role::Administrator => "administrator",
        }
    }

    /// The role named `name` (its stable name; `_` is read as `-`).
    pub fn parse(name: &str) -> Result<Role, AccessError> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        Role::ALL.into_iter().find(|r| r.name() == wanted).ok_or_else(|| AccessError::UnknownRole(name.to_owned()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses role names into a sorted set without duplicates; at least one.
pub fn parse_roles<S: AsRef<str>>(names: &[S]) -> Result<Vec<Role>, AccessError> {
    let mut roles = names.iter().map(|n| Role::parse(n.as_ref())).collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(AccessError::NoRoles);
    }
    Ok(roles)
}

pub(crate) fn names() -> String {
    Role::ALL.map(Role::name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_and_unknown_names_are_refused() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.name()).expect("known"), r);
            assert_eq!(serde_json::to_value(r).expect("json"), serde_json::Value::String(r.name().into()));
        }
        assert_eq!(Role::parse("Risk_Officer").expect("lenient"), Role::RiskOfficer);
        assert!(matches!(Role::parse("root"), Err(AccessError::UnknownRole(_))));
        assert_eq!(parse_roles(&["auditor", "officer", "auditor"]).expect("roles"), vec![Role::Officer, Role::Auditor]);
        assert!(matches!(parse_roles::<&str>(&[]), Err(AccessError::NoRoles)));
    }
}
