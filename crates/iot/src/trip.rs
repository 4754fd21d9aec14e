//! Trips: what ties devices to the goods they watch. A trip names the container (ISO 6346), the
//! seal (ISO 18185), the vehicle, the devices that report for it, the declaration and transport
//! movement it belongs to (ledger record ids), the rules of its procedure or route, its time
//! limit, and the customs administrations concerned — the members its alerts are sealed for.
//!
//! A trip is recorded on the ledger by the administration that opened it (the office of
//! departure, typically) as a private document readable by the administrations concerned; every
//! event its devices report is then traced to it, and every alert its rules raise names it.

use serde::{Deserialize, Serialize};

use crate::rules::{RuleSet, UnixMillis};

/// Where a trip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TripState {
    /// Under way: its devices are watched.
    Open,
    /// Arrived and discharged: its devices are no longer watched for it.
    Closed,
}

/// A trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trip {
    /// The trip's id, unique for its owner (letters, digits, `-`, `_`, `.`; at most 64).
    pub trip_id: String,
    /// The member that opened it (filled in by the node).
    #[serde(default)]
    pub owner: String,
    /// The container, as an ISO 6346 number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The seal's id (ISO 18185: manufacturer + serial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
    /// The vehicle's registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
    /// The devices reporting for it (ids of the device registry).
    pub devices: Vec<String>,
    /// The declaration's ledger record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<String>,
    /// The transport movement's ledger record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movement: Option<String>,
    /// The rules of its procedure or route.
    pub rules: RuleSet,
    /// When it is due at its destination (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<UnixMillis>,
    /// The members (customs administrations) its alerts are shared with, besides the owner.
    #[serde(default)]
    pub administrations: Vec<String>,
    /// Open or closed.
    pub state: TripState,
}

/// A trip that cannot be recorded, with the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BadTrip {
    #[error("trip: {field} {problem}")]
    Field { field: &'static str, problem: String },
    #[error("trip: {0}")]
    Rules(#[from] crate::rules::BadRuleSet),
}

fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl Trip {
    /// Checks the ids, the container number's check digit, the devices and the rules.
    pub fn check(&self) -> Result<(), BadTrip> {
        let bad = |field, problem: &str| Err(BadTrip::Field { field, problem: problem.to_owned() });
        if !id_ok(&self.trip_id) {
            return bad("tripId", "must be 1 to 64 letters, digits, '-', '_' or '.'");
        }
        if let Some(c) = &self.container
            && let Err(e) = borderlink_model::container::check_container_id(c)
        {
            let problem = match e {
                borderlink_model::container::ContainerIdError::Shape => {
                    format!("{c:?} is not an ISO 6346 number (owner code, category U/J/Z, six digits, check digit)")
                }
                borderlink_model::container::ContainerIdError::CheckDigit(d) => {
                    format!("{c:?}: the ISO 6346 check digit should be {d}")
                }
            };
            return Err(BadTrip::Field { field: "container", problem });
        }
        if self.devices.is_empty() {
            return bad("devices", "must name at least one device");
        }
        if let Some(d) = self.devices.iter().find(|d| !id_ok(d)) {
            return Err(BadTrip::Field { field: "devices", problem: format!("{d:?} is not a device id") });
        }
        if self.container.is_none() && self.seal.is_none() && self.vehicle.is_none() {
            return bad("container", "a trip watches a container, a seal or a vehicle: give at least one");
        }
        self.rules.check()?;
        Ok(())
    }

    /// Whether `device` reports for this trip.
    pub fn has_device(&self, device: &str) -> bool {
        self.devices.iter().any(|d| d == device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trip() -> Trip {
        Trip {
            trip_id: "T-1".into(),
            owner: "nl-customs".into(),
            container: Some("MSKU1234565".into()),
            seal: None,
            vehicle: None,
            devices: vec!["seal-1".into()],
            declaration: None,
            movement: None,
            rules: RuleSet::named("T1 Rotterdam → Duisburg"),
            deadline_ms: None,
            administrations: vec!["de-customs".into()],
            state: TripState::Open,
        }
    }

    #[test]
    fn a_trip_names_what_it_watches_and_who_reports() {
        assert_eq!(trip().check(), Ok(()));
        let mut t = trip();
        t.container = Some("MSKU1234566".into());
        assert!(matches!(t.check(), Err(BadTrip::Field { field: "container", .. })), "check digit");
        let mut t = trip();
        t.devices.clear();
        assert!(matches!(t.check(), Err(BadTrip::Field { field: "devices", .. })));
        let mut t = trip();
        t.trip_id = "a/b".into();
        assert!(matches!(t.check(), Err(BadTrip::Field { field: "tripId", .. })));
        let mut t = trip();
        t.container = None;
        assert!(matches!(t.check(), Err(BadTrip::Field { field: "container", .. })));
        assert!(trip().has_device("seal-1") && !trip().has_device("seal-2"));
    }
}
