use borderlink_model::{Record, RecordType, ValidateOptions, validate};

use crate::fixtures::{sample_bytes, samples_dir};

#[test]
fn every_record_sample_is_valid() {
    for (file, t) in [
        ("declaration.json", RecordType::Declaration),
        ("aeo-authorisation.json", RecordType::AeoAuthorization),
        ("transport-movement.json", RecordType::TransportMovement),
    ] {
        let r = validate(&sample_bytes(file), &ValidateOptions::default());
        assert!(r.valid, "{file}: {:#?}", r.errors);
        assert_eq!(r.record_type, Some(t), "{file}");
        assert!(r.record.is_some());
        let q = r.quality.expect("quality");
        assert!(q.score > 0.5 && q.score <= 1.0, "{file}: {q:?}");
    }
}

#[test]
fn the_eseal_uplink_is_not_a_record() {
    let r = validate(&sample_bytes("eseal-mqtt-payload.json"), &ValidateOptions::default());
    assert!(!r.valid);
    assert_eq!(r.errors[0].rule, "document.unknown_type");
    assert!(r.errors[0].message.contains("deviceId"), "{}", r.errors[0].message);
}

#[test]
fn the_sample_declaration_reads_into_typed_fields() {
    let r = validate(&sample_bytes("declaration.json"), &ValidateOptions::default());
    let Some(Record::Declaration(d)) = r.record else { panic!("not a declaration") };
    let items = &d.declaration.goods_shipment.as_ref().unwrap().government_agency_goods_item;
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].commodity.as_ref().unwrap().classification[0].id.as_deref(), Some("85176200"));
    assert_eq!(d.declaration.invoice_amount.as_ref().unwrap().value, 152400.0);
    // Canonical form: versioned, profile comment dropped.
    assert_eq!(d.schema_version.as_deref(), Some(borderlink_model::SCHEMA_VERSION));
    assert!(d.profile.is_none());
}

#[test]
fn samples_directory_exists() {
    assert!(samples_dir().join("declaration.json").exists(), "shared data missing at {}", samples_dir().display());
}

#[test]
fn a_valid_inspection_result_is_accepted_and_an_inconsistent_one_refused() {
    let mut doc = serde_json::json!({
        "Declaration": {"FunctionalReferenceID": "LRN-2026-000123", "DeclarationOfficeID": "GB000040"},
        "DutyTaxFee": [{"TypeCode": "A00", "Payment": {"TaxAssessedAmount": {"value": 1520.5, "currencyID": "GBP"}}}],
        "Inspection": {
            "lane": "RED",
            "inspectorOrganisation": {"countryCode": "GB", "name": "HM Revenue & Customs"},
            "inspectedAt": "2026-03-10T14:00:00Z",
            "outcome": "DISCREPANCY",
            "findings": [{"goodsItem": 2, "kind": "undervaluation", "description": "Invoice shows 71,000 USD for the routers"}]
        }
    });
    let r = crate::fixtures::check(&doc);
    assert!(r.valid, "{:#?}", r.errors);
    assert_eq!(r.record_type, Some(RecordType::InspectionResult));
    doc["Inspection"]["findings"] = serde_json::json!([]);
    let r = crate::fixtures::check(&doc);
    assert!(crate::fixtures::has_error(&r, "$.Inspection.findings", "inspection.findings_required"), "{:#?}", r.errors);
}
