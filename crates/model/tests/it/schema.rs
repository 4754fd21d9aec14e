//! The generated JSON Schemas accept the samples and refuse structurally broken copies, as an
//! independent validator (the `jsonschema` crate) reads them.

use borderlink_model::{RecordType, json_schema};
use serde_json::json;

use crate::fixtures::{sample, set};

fn validator(t: RecordType) -> jsonschema::Validator {
    jsonschema::validator_for(&json_schema(t)).expect("the generated schema compiles")
}

#[test]
fn samples_conform_to_their_schemas() {
    for (file, t) in [
        ("declaration.json", RecordType::Declaration),
        ("aeo-authorisation.json", RecordType::AeoAuthorization),
        ("transport-movement.json", RecordType::TransportMovement),
    ] {
        let v = validator(t);
        let doc = sample(file);
        let errs: Vec<String> = v.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errs.is_empty(), "{file}: {errs:#?}");
    }
}

#[test]
fn schemas_refuse_wrong_types_and_unknown_elements() {
    let v = validator(RecordType::Declaration);
    let mut d = sample("declaration.json");
    set(&mut d, "/Declaration/GoodsItemQuantity", json!("two"));
    assert!(!v.is_valid(&d));
    let mut d = sample("declaration.json");
    d["Declaration"]["Colour"] = json!("red");
    assert!(!v.is_valid(&d));
    let mut d = sample("declaration.json");
    set(&mut d, "/Declaration/FunctionalReferenceID", json!("L".repeat(36)));
    assert!(!v.is_valid(&d), "maxLength from the WCO format");
}

#[test]
fn every_type_has_a_schema_with_an_id_and_field_documentation() {
    for t in RecordType::ALL {
        let s = json_schema(t);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert!(s["$id"].as_str().unwrap().contains(t.name()));
        assert!(s["properties"].is_object());
    }
    let d = json_schema(RecordType::Declaration);
    let desc = d["$defs"]["Declaration"]["properties"]["InvoiceAmount"]["description"].as_str().unwrap_or_default();
    assert!(desc.contains("WCO 109") && desc.contains("n..16,3"), "{desc}");
}
