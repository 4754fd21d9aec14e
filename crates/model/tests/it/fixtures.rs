//! The shared sample documents (../shared/data/samples) and helpers to break them.

use std::path::PathBuf;

use borderlink_model::{Report, ValidateOptions, validate};
use serde_json::Value;

pub(crate) fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/samples")
}

pub(crate) fn sample_bytes(name: &str) -> Vec<u8> {
    let p = samples_dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read sample {}: {e}", p.display()))
}

pub(crate) fn sample(name: &str) -> Value {
    serde_json::from_slice(&sample_bytes(name)).expect("sample is JSON")
}

pub(crate) fn check(v: &Value) -> Report {
    validate(&serde_json::to_vec(v).expect("serializes"), &ValidateOptions::default())
}

/// Sets the value at a JSON pointer, panicking when the pointer does not exist.
pub(crate) fn set(v: &mut Value, pointer: &str, new: Value) {
    *v.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer} in the sample")) = new;
}

/// The (path, rule) pairs of a report's errors.
pub(crate) fn errors(r: &Report) -> Vec<(String, String)> {
    r.errors.iter().map(|i| (i.path.clone(), i.rule.clone())).collect()
}

pub(crate) fn has_error(r: &Report, path: &str, rule: &str) -> bool {
    r.errors.iter().any(|i| i.path == path && i.rule == rule)
}
