//! The shared sample documents, and broken copies of them built in code.

use std::path::PathBuf;

use serde_json::Value;

/// Where the broken origin country is reported.
pub(crate) const ORIGIN_COUNTRY_PATH: &str =
    "$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].Origin[0].CountryCode";
/// Where the broken container number is reported.
pub(crate) const CONTAINER_ID_PATH: &str = "$.Declaration.GoodsShipment.Consignment.TransportEquipment[0].ID";

/// `shared/data/samples`, beside the repository (the same relative place in CI).
pub(crate) fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/samples")
}

pub(crate) fn sample_bytes(name: &str) -> Vec<u8> {
    let path = samples_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read the sample {}: {e}", path.display()))
}

pub(crate) fn declaration() -> Value {
    serde_json::from_slice(&sample_bytes("declaration.json")).expect("declaration.json is JSON")
}

fn with(mut doc: Value, pointer: &str, value: &str) -> Value {
    let slot = doc.pointer_mut(pointer).unwrap_or_else(|| panic!("sample has no {pointer}"));
    *slot = Value::String(value.to_owned());
    doc
}

/// The valid declaration with its first goods item's origin set to `XX`, no country.
pub(crate) fn declaration_with_unknown_origin() -> Value {
    with(declaration(), "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/0/Origin/0/CountryCode", "XX")
}

/// The valid declaration with a container number whose ISO 6346 check digit is wrong.
pub(crate) fn declaration_with_bad_container_check_digit() -> Value {
    with(declaration(), "/Declaration/GoodsShipment/Consignment/TransportEquipment/0/ID", "MSKU1234566")
}

/// A small WCO DM XML declaration.
pub(crate) const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Declaration xmlns="urn:wco:datamodel:WCO:DEC-DMS:2">
  <FunctionCode>9</FunctionCode>
  <TypeCode>IMA</TypeCode>
</Declaration>
"#;
