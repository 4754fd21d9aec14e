//! The AEO consent record: detected, validated, and its withdrawal rules.

use borderlink_model::{Record, RecordType, json_schema};
use serde_json::{Value, json};

use crate::fixtures::{check, has_error, set};

fn consent() -> Value {
    let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/aeo-consent.json")).expect("fixture");
    serde_json::from_slice(&text).expect("JSON")
}

#[test]
fn a_consent_is_recognised_by_its_consent_element_and_is_valid() {
    let r = check(&consent());
    assert!(r.valid, "{:#?}", r.errors);
    assert_eq!(r.record_type, Some(RecordType::AeoConsent));
    let Some(Record::AeoConsent(c)) = r.record else { panic!("a consent record") };
    assert_eq!(c.consent.authorisation.id, "GB AEOC 14274/19");
    assert_eq!(c.schema_version.as_deref(), Some("1.0"));
    assert_eq!(RecordType::from_name("aeo-consent"), Some(RecordType::AeoConsent));
    let schema = jsonschema::validator_for(&json_schema(RecordType::AeoConsent)).expect("the schema compiles");
    assert!(schema.is_valid(&consent()));
}

#[test]
fn a_withdrawal_says_when_and_not_before_the_consent_was_given() {
    let mut c = consent();
    set(&mut c, "/Consent/status", json!("withdrawn"));
    assert!(has_error(&check(&c), "$.Consent.withdrawnAt", "consent.withdrawal"));
    c["Consent"]["withdrawnAt"] = json!("2026-01-01T00:00:00Z");
    assert!(has_error(&check(&c), "$.Consent.withdrawnAt", "consent.dates"));
    c["Consent"]["withdrawnAt"] = json!("2026-02-01T00:00:00Z");
    assert!(check(&c).valid);
    // A consent in force has no withdrawal date.
    set(&mut c, "/Consent/status", json!("given"));
    assert!(has_error(&check(&c), "$.Consent.withdrawnAt", "consent.withdrawal"));
}

#[test]
fn partner_programmes_are_other_countries_listed_once_and_the_scope_is_known() {
    let mut c = consent();
    set(&mut c, "/Consent/partnerProgrammes", json!(["NL", "NL", "GB", "XX"]));
    let r = check(&c);
    assert!(has_error(&r, "$.Consent.partnerProgrammes[1]", "consent.partner_programmes"), "{:#?}", r.errors);
    assert!(has_error(&r, "$.Consent.partnerProgrammes[2]", "consent.partner_programmes"));
    assert!(has_error(&r, "$.Consent.partnerProgrammes[3]", "codelist.country"));
    let mut c = consent();
    set(&mut c, "/Consent/scope", json!("marketing"));
    assert!(!check(&c).valid, "only the scopes the consortium knows");
}
