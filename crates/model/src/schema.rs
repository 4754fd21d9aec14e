//! JSON Schema (draft 2020-12) of every record type, generated from the Rust types, so that
//! partners can validate documents with their own tools before sending them.
//!
//! The schema covers structure, types, cardinalities and lengths. Code lists and cross-field
//! rules (totals, check digits, dates in order) are checked by [`crate::validate()`] only.

use std::sync::LazyLock;

use schemars::JsonSchema;
use serde_json::Value;

use crate::records::{
    AeoAuthorizationRecord, DeclarationRecord, InspectionResultRecord, RecordType, TransportMovementRecord,
};

fn generate<T: JsonSchema>(t: RecordType) -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    let mut v = schema.to_value();
    if let Some(o) = v.as_object_mut() {
        o.insert("$id".into(), Value::String(format!("urn:borderlink:schema:{}:{}", t.name(), crate::SCHEMA_VERSION)));
        o.insert(
            "title".into(),
            Value::String(format!("Borderlink {} (schema version {})", t.name(), crate::SCHEMA_VERSION)),
        );
    }
    v
}

static SCHEMAS: LazyLock<[Value; 4]> = LazyLock::new(|| {
    [
        generate::<DeclarationRecord>(RecordType::Declaration),
        generate::<AeoAuthorizationRecord>(RecordType::AeoAuthorization),
        generate::<TransportMovementRecord>(RecordType::TransportMovement),
        generate::<InspectionResultRecord>(RecordType::InspectionResult),
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
