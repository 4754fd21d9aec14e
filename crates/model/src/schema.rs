//! JSON Schema (draft 2020-12) of every record type, generated from the Rust types, so that
//! partners can validate documents with their own tools before sending them.
//!
//! The schema covers structure, types, cardinalities and lengths. Code lists and cross-field
//! rules (totals, check digits, dates in order) are checked by [`crate::validate()`] only.
//!
//! WCO DM date-time elements (`…DateTime`) take ISO 8601 text or, as input, the WCO form
//! `{"DateTimeString": {"formatCode": "304", "value": "20250731112200+01"}}`; the schema says
//! both (`anyOf`), the canonical record always carries ISO 8601 text.

use std::sync::LazyLock;

use schemars::JsonSchema;
use serde_json::Value;

use crate::records::{
    AeoAuthorizationRecord, AeoConsentRecord, DeclarationRecord, InspectionResultRecord, RecordType,
    TransportMovementRecord,
};

fn generate<T: JsonSchema>(t: RecordType) -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    let mut v = schema.to_value();
    add_date_time_strings(&mut v);
    if let Some(o) = v.as_object_mut() {
        o.insert("$id".into(), Value::String(format!("urn:borderlink:schema:{}:{}", t.name(), crate::SCHEMA_VERSION)));
        o.insert(
            "title".into(),
            Value::String(format!("Borderlink {} (schema version {})", t.name(), crate::SCHEMA_VERSION)),
        );
    }
    v
}

/// The WCO DM `DateTimeString` input form of a date-time element.
fn date_time_string_schema() -> Value {
    let codes: Vec<&str> = crate::datetime::EDIFACT_2379_CODES.iter().map(|(c, _, _)| *c).collect();
    serde_json::json!({
        "description": "A WCO DM DateTimeString: the date-time in a UN/EDIFACT 2379 format, normalised to ISO 8601 in the record.",
        "type": "object",
        "properties": {
            "DateTimeString": {
                "type": "object",
                "properties": {
                    "formatCode": {"description": "UN/EDIFACT 2379 format code", "type": "string", "enum": codes},
                    "value": {"type": "string", "minLength": 1, "maxLength": 35}
                },
                "required": ["value"],
                "additionalProperties": false
            }
        },
        "required": ["DateTimeString"],
        "additionalProperties": false
    })
}

/// Lets every `…DateTime` text property of the WCO classes also take a `DateTimeString`.
fn add_date_time_strings(root: &mut Value) {
    let Some(defs) = root.get_mut("$defs").and_then(Value::as_object_mut) else { return };
    let mut any = false;
    for def in defs.values_mut() {
        let Some(props) = def.get_mut("properties").and_then(Value::as_object_mut) else { continue };
        for (name, prop) in props.iter_mut() {
            let is_text = match prop.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            if name.ends_with("DateTime") && is_text {
                let description = prop.as_object_mut().and_then(|o| o.remove("description"));
                let mut alt = serde_json::json!({"anyOf": [prop.take(), {"$ref": "#/$defs/DateTimeString"}]});
                if let (Some(d), Some(o)) = (description, alt.as_object_mut()) {
                    o.insert("description".into(), d);
                }
                *prop = alt;
                any = true;
            }
        }
    }
    if any {
        defs.insert("DateTimeString".into(), date_time_string_schema());
    }
}

static SCHEMAS: LazyLock<[Value; 5]> = LazyLock::new(|| {
    [
        generate::<DeclarationRecord>(RecordType::Declaration),
        generate::<AeoAuthorizationRecord>(RecordType::AeoAuthorization),
        generate::<TransportMovementRecord>(RecordType::TransportMovement),
        generate::<InspectionResultRecord>(RecordType::InspectionResult),
        generate::<AeoConsentRecord>(RecordType::AeoConsent),
    ]
});

/// The JSON Schema of a record type (generated once, then shared).
pub fn schema_ref(t: RecordType) -> &'static Value {
    let i = RecordType::ALL.iter().position(|x| *x == t).unwrap_or(0);
    &SCHEMAS[i]
}

/// The JSON Schema of a record type, as an owned document.
pub fn json_schema(t: RecordType) -> Value {
    schema_ref(t).clone()
}
