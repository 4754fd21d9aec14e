//! The AEO register as one administration sees it.
//!
//! Authorisations are kept by **issuing authority and authorisation id**, never by trader
//! alone: an administration's view of a trader's AEO status is made of its own authorisations
//! plus those of the programmes that recognise each other with it — a foreign authorisation
//! counts when its `mraPartnerProgrammes` names a programme of the viewer's country
//! (`"GB:AEO"` for a GB administration). A foreign administration's revocation of its own
//! authorisation therefore cannot change what a GB administration knows of a GB trader.

use std::collections::HashMap;

use borderlink_model::AeoAuthorizationRecord;
use borderlink_model::records::AeoStatus;

/// One authorisation as the register keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    trader: String,
    active: bool,
    /// Countries whose programmes recognise the authorisation (from `mraPartnerProgrammes`).
    recognised_by: Vec<String>,
}

/// Authorisations by (issuing country, authorisation id), read for one administration.
#[derive(Debug, Clone, Default)]
pub struct AeoRegister {
    /// The viewing administration's country (ISO 3166-1 alpha-2); `None` when the node is no
    /// administration's: every issuer then counts.
    viewer: Option<String>,
    entries: HashMap<(String, String), Entry>,
}

impl AeoRegister {
    /// An empty register read for the administration of `viewer` (a country code).
    pub fn new(viewer: Option<&str>) -> Self {
        Self { viewer: viewer.map(|c| c.trim().to_ascii_uppercase()), entries: HashMap::new() }
    }

    /// Keeps (or replaces) an authorisation; returns the trader whose status may have changed.
    pub fn record(&mut self, a: &AeoAuthorizationRecord) -> String {
        let issuer = a.ext.issuing_authority.country_code.trim().to_ascii_uppercase();
        let trader = a.ext.trader_identification_number.clone();
        let id = a.additional_document.as_ref().and_then(|d| d.id.clone()).unwrap_or_else(|| trader.clone());
        let recognised_by = a
            .ext
            .mra_partner_programmes
            .iter()
            .filter_map(|p| p.split_once(':').map(|(country, _)| country.trim().to_ascii_uppercase()))
            .collect();
        let entry = Entry { trader: trader.clone(), active: a.ext.status == AeoStatus::Active, recognised_by };
        self.entries.insert((issuer, id), entry);
        trader
    }

    fn recognised(&self, issuer: &str, e: &Entry) -> bool {
        match &self.viewer {
            None => true,
            Some(v) => issuer == v || e.recognised_by.iter().any(|c| c == v),
        }
    }

    /// The trader's AEO status for the viewer: `Some(true)` while any recognised authorisation
    /// is active, `Some(false)` when recognised ones exist but none is active, `None` when the
    /// viewer recognises none.
    pub fn status(&self, trader: &str) -> Option<bool> {
        let mut known = false;
        for ((issuer, _), e) in &self.entries {
            if e.trader == trader && self.recognised(issuer, e) {
                if e.active {
                    return Some(true);
                }
                known = true;
            }
        }
        known.then_some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorisation(issuer: &str, id: &str, trader: &str, status: &str, mra: &[&str]) -> AeoAuthorizationRecord {
        let v = serde_json::json!({
            "AuthorisationHolder": {"ID": trader, "CategoryCode": "AEOC"},
            "AdditionalDocument": {"ID": id},
            "ext": {
                "issuingAuthority": {"countryCode": issuer, "name": format!("{issuer} customs")},
                "status": status,
                "statusChangedAt": "2026-01-01T00:00:00Z",
                "mraPartnerProgrammes": mra,
                "traderIdentificationNumber": trader,
                "holder": {"Name": "Example Imports Ltd"}
            }
        });
        serde_json::from_value(v).unwrap_or_else(|e| panic!("test authorisation: {e}"))
    }

    #[test]
    fn a_foreign_revocation_does_not_touch_the_viewers_own_authorisation() {
        let mut r = AeoRegister::new(Some("GB"));
        r.record(&authorisation("GB", "GB AEOC 1", "GB553202734852", "ACTIVE", &["US:C-TPAT"]));
        r.record(&authorisation("NL", "NL AEOC 9", "GB553202734852", "REVOKED", &[]));
        assert_eq!(r.status("GB553202734852"), Some(true));
    }

    #[test]
    fn a_partner_authorisation_counts_only_when_it_names_the_viewers_programme() {
        let mut r = AeoRegister::new(Some("GB"));
        r.record(&authorisation("US", "US-1", "US-TRADER", "ACTIVE", &["GB:AEO"]));
        r.record(&authorisation("JP", "JP-1", "JP-TRADER", "ACTIVE", &["US:C-TPAT"]));
        assert_eq!(r.status("US-TRADER"), Some(true));
        assert_eq!(r.status("JP-TRADER"), None);
        // The issuer's own later revocation of that same authorisation does count.
        r.record(&authorisation("US", "US-1", "US-TRADER", "REVOKED", &["GB:AEO"]));
        assert_eq!(r.status("US-TRADER"), Some(false));
    }

    #[test]
    fn a_node_of_no_administration_counts_every_issuer() {
        let mut r = AeoRegister::new(None);
        r.record(&authorisation("NL", "NL-1", "T", "SUSPENDED", &[]));
        assert_eq!(r.status("T"), Some(false));
    }
}
