//! A record as a person reads it: a declaration as a document (the declaration's facts, its
//! parties, transport, goods items with their HS descriptions, documents), other records as
//! labelled fields, the changes between two versions, and what each change was (created,
//! status changed, updated, erased).
//!
//! Everything here renders content that was already read through `Reads` (shaped for the
//! purpose): it never reads the ledger.

use std::collections::BTreeMap;

use borderlink_ledger::tx::TxKind;
use maud::{Markup, html};

use crate::console::format::{Code, code};
use serde_json::Value;

/// A scalar as text (numbers as written, booleans as `yes`/`no`); `None` for objects and arrays.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        Value::Null => Some("—".to_owned()),
        _ => None,
    }
}

/// The text at `pointer` under `v`, if any. An amount (`value`, `currencyID`) or a measure
/// (`value`, `unitCode`) reads as `95000 USD`.
fn at(v: &Value, pointer: &str) -> Option<String> {
    let x = v.pointer(pointer)?;
    if let Value::Object(m) = x
        && let Some(value) = m.get("value").and_then(text)
    {
        let unit = m.get("currencyID").or_else(|| m.get("unitCode")).and_then(Value::as_str).unwrap_or_default();
        return Some(format!("{value} {unit}").trim_end().to_owned());
    }
    text(x).filter(|s| s != "—")
}

fn items<'a>(v: &'a Value, pointer: &str) -> Vec<&'a Value> {
    match v.pointer(pointer) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

fn or_dash(s: Option<String>) -> String {
    s.unwrap_or_else(|| "—".to_owned())
}

/// A record's content as a document: a declaration's own layout, labelled fields otherwise.
pub(crate) fn document(record_type: &str, content: &Value) -> Markup {
    match record_type {
        "declaration" if content.get("Declaration").is_some() => declaration(content),
        _ => fields(content),
    }
}

/// The parties of a declaration: (role, pointer), header level then shipment level.
const PARTY_ROLES: &[(&str, &str)] = &[
    ("Declarant", "/Declaration/Declarant"),
    ("Representative", "/Declaration/Agent"),
    ("Exporter", "/Declaration/Exporter"),
    ("Importer", "/Declaration/GoodsShipment/Importer"),
    ("Consignor", "/Declaration/GoodsShipment/Consignment/Consignor"),
    ("Consignee", "/Declaration/GoodsShipment/Consignee"),
    ("Seller", "/Declaration/GoodsShipment/Seller"),
    ("Buyer", "/Declaration/GoodsShipment/Buyer"),
    ("Carrier", "/Declaration/GoodsShipment/Consignment/Carrier"),
    ("Authorisation holder", "/Declaration/AuthorisationHolder"),
];

fn address(p: &Value) -> Option<String> {
    let a = p.get("Address")?;
    let parts: Vec<String> =
        ["/Line", "/CityName", "/PostcodeID", "/CountryCode"].iter().filter_map(|k| at(a, k)).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// HS code → its six-digit subheading's description.
fn hs_description(code: &str) -> Option<&'static str> {
    let digits: String = code.chars().filter(char::is_ascii_digit).take(6).collect();
    (digits.len() == 6).then(|| borderlink_model::codelists::hs_subheading(&digits)).flatten()
}

/// A fact's value: with its meaning on hover when it is a code of a code list.
fn shown(kind: Option<Code>, value: &str) -> Markup {
    match kind {
        Some(kind) => code(kind, value),
        None => html! { (value) },
    }
}

fn declaration(c: &Value) -> Markup {
    let d = "/Declaration";
    let facts: Vec<(&str, Option<String>)> = vec![
        ("Declaration number (LRN)", at(c, "/Declaration/FunctionalReferenceID")),
        ("Declaration id (MRN)", at(c, "/Declaration/ID")),
        ("Type", at(c, "/Declaration/TypeCode")),
        ("Function", at(c, "/Declaration/FunctionCode")),
        ("Issued", at(c, "/Declaration/IssueDateTime")),
        ("Customs office", at(c, "/Declaration/DeclarationOfficeID")),
        ("Goods items", at(c, "/Declaration/GoodsItemQuantity")),
        ("Packages", at(c, "/Declaration/TotalPackageQuantity")),
        ("Gross mass", at(c, "/Declaration/TotalGrossMassMeasure")),
        ("Invoice amount", at(c, "/Declaration/InvoiceAmount")),
        ("Trade terms", at(c, "/Declaration/GoodsShipment/TradeTerms/ConditionCode")),
        ("Country of export", at(c, "/Declaration/GoodsShipment/ExportCountry/ID")),
        ("Destination", at(c, "/Declaration/GoodsShipment/Destination/CountryCode")),
    ];
    // The facts whose values are codes of a code list, shown with their meaning on hover.
    let coded = |label: &str| match label {
        "Country of export" | "Destination" | "Border transport: nationality" => Some(Code::Country),
        "Loaded at" => Some(Code::Locode),
        _ => None,
    };
    let mut parties: Vec<(&str, &Value)> = Vec::new();
    for (role, pointer) in PARTY_ROLES {
        for p in items(c, pointer) {
            parties.push((role, p));
        }
    }
    let consignment = "/Declaration/GoodsShipment/Consignment";
    let transport: Vec<(&str, Option<String>)> = vec![
        ("Border transport: nationality", at(c, "/Declaration/BorderTransportMeans/RegistrationNationalityCode")),
        ("Border transport: mode", at(c, "/Declaration/BorderTransportMeans/ModeCode")),
        ("Arrival transport means", at(c, &format!("{consignment}/ArrivalTransportMeans/ID"))),
        ("Loaded at", at(c, &format!("{consignment}/LoadingLocation/ID"))),
        ("Goods located at", at(c, &format!("{consignment}/GoodsLocation/Name"))),
        (
            "In containers",
            at(c, &format!("{consignment}/ContainerCode")).map(|x| if x == "1" { "yes".into() } else { x }),
        ),
    ];
    let equipment = items(c, &format!("{consignment}/TransportEquipment"));
    let goods = items(c, "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem");
    let mut documents: Vec<(String, &Value)> = Vec::new();
    for (level, pointer) in [
        ("Declaration", format!("{d}/AdditionalDocument")),
        ("Shipment (previous)", format!("{d}/GoodsShipment/PreviousDocument")),
        ("Shipment", format!("{d}/GoodsShipment/AdditionalDocument")),
    ] {
        for doc in items(c, &pointer) {
            documents.push((level.to_owned(), doc));
        }
    }
    for (i, g) in goods.iter().enumerate() {
        for doc in items(g, "/AdditionalDocument") {
            documents.push((format!("Goods item {}", i + 1), doc));
        }
    }
    html! {
        div.document #declaration-document {
            dl.facts #declaration-facts {
                @for (label, value) in &facts {
                    @if let Some(v) = value { dt { (label) } dd { (shown(coded(label), v)) } }
                }
            }
            h3 { "Parties" }
            @if parties.is_empty() { p.none { "No party shown." } } @else {
                table.data #parties {
                    thead { tr { th { "Role" } th { "Id" } th { "Name" } th { "Address" } } }
                    tbody {
                        @for (role, p) in &parties {
                            tr {
                                td { (role) @if let Some(cat) = at(p, "/CategoryCode") { " " span.badge { (cat) } } }
                                td { code { (or_dash(at(p, "/ID"))) } }
                                td { (or_dash(at(p, "/Name"))) }
                                td { (or_dash(address(p))) }
                            }
                        }
                    }
                }
            }
            h3 { "Transport" }
            dl.facts #transport {
                @for (label, value) in &transport {
                    @if let Some(v) = value { dt { (label) } dd { (shown(coded(label), v)) } }
                }
            }
            @if !equipment.is_empty() {
                table.data #containers {
                    thead { tr { th { "Container" } th { "Seals" } } }
                    tbody {
                        @for e in &equipment {
                            tr {
                                td { code { (or_dash(at(e, "/ID"))) } }
                                td { (items(e, "/Seal").iter().filter_map(|s| at(s, "/ID")).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            }
            h3 { "Goods items" }
            @if goods.is_empty() { p.none { "No goods item shown." } } @else {
                table.data #goods-items {
                    thead { tr { th { "#" } th { "HS code" } th { "Description" } th { "Origin" } th { "Procedure" } th { "Gross mass" } th { "Net mass" } th { "Value" } th { "Packages" } } }
                    tbody {
                        @for (i, g) in goods.iter().enumerate() {
                            @let hs = at(g, "/Commodity/Classification/0/ID");
                            tr {
                                td { (at(g, "/SequenceNumeric").unwrap_or_else(|| (i + 1).to_string())) }
                                td {
                                    @match hs.as_deref() {
                                        Some(hs) => (code(Code::Hs, hs)),
                                        None => "–",
                                    }
                                    @if let Some(desc) = hs.as_deref().and_then(hs_description) {
                                        br; span.hs-description { (desc) }
                                    }
                                }
                                td { (or_dash(at(g, "/Commodity/Description"))) }
                                td {
                                    @for (n, origin) in items(g, "/Origin").iter().filter_map(|o| at(o, "/CountryCode")).enumerate() {
                                        @if n > 0 { ", " }
                                        (code(Code::Country, &origin))
                                    }
                                }
                                td { (items(g, "/GovernmentProcedure").iter().filter_map(|p| at(p, "/CurrentCode")).collect::<Vec<_>>().join(", ")) }
                                td.num { (or_dash(at(g, "/Commodity/GoodsMeasure/GrossMassMeasure"))) }
                                td.num { (or_dash(at(g, "/Commodity/GoodsMeasure/NetNetWeightMeasure"))) }
                                td.num { (or_dash(at(g, "/StatisticalValueAmount").or_else(|| at(g, "/Commodity/InvoiceLine/ItemChargeAmount")))) }
                                td { (items(g, "/Packaging").iter().map(|p| format!("{} {}", or_dash(at(p, "/QuantityQuantity")), or_dash(at(p, "/TypeCode")))).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            }
            h3 { "Documents" }
            @if documents.is_empty() { p.none { "No document referred to." } } @else {
                table.data #documents {
                    thead { tr { th { "For" } th { "Category" } th { "Type" } th { "Id" } th { "Name" } } }
                    tbody {
                        @for (level, doc) in &documents {
                            tr {
                                td { (level) }
                                td { (or_dash(at(doc, "/CategoryCode"))) }
                                td { (or_dash(at(doc, "/TypeCode"))) }
                                td { code { (or_dash(at(doc, "/ID"))) } }
                                td { (or_dash(at(doc, "/Name"))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every field of a record as labelled rows (`Consignment › Seal 2 › ID`).
fn fields(c: &Value) -> Markup {
    let flat = flatten(c);
    html! {
        div.document #record-fields {
            @if flat.is_empty() { p.none { "This version holds no field." } } @else {
                table.data.fields {
                    tbody {
                        @for (path, value) in &flat {
                            tr { th scope="row" { (path) } td { (value) } }
                        }
                    }
                }
            }
        }
    }
}

/// The fields of a record as (label path, value) in document order: object keys joined by
/// ` › `, the n-th element of a list as `Name n` (from 1). `_profile` (a note for people
/// writing records) is left out.
pub(crate) fn flatten(v: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "_profile" {
                        continue;
                    }
                    let p = if path.is_empty() { k.clone() } else { format!("{path} › {k}") };
                    walk(x, &p, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{path} {}", i + 1), out);
                }
            }
            other => out.push((path.to_owned(), text(other).unwrap_or_default())),
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// One field changed between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) field: String,
    pub(crate) old: Option<String>,
    pub(crate) new: Option<String>,
}

/// The fields that differ between `old` and `new`: changed, added (no old value) and removed
/// (no new value), in `new`'s order then the removed ones.
pub(crate) fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let before: BTreeMap<String, String> = flatten(old).into_iter().collect();
    let after = flatten(new);
    let mut out = Vec::new();
    for (field, value) in &after {
        match before.get(field) {
            Some(b) if b == value => {}
            b => out.push(Change { field: field.clone(), old: b.cloned(), new: Some(value.clone()) }),
        }
    }
    let now: std::collections::HashSet<&String> = after.iter().map(|(f, _)| f).collect();
    for (field, value) in &before {
        if !now.contains(field) {
            out.push(Change { field: field.clone(), old: Some(value.clone()), new: None });
        }
    }
    out
}

/// A record's status, where its type has one (an AEO authorisation's, a consent's, an
/// inspection's outcome).
fn status(c: &Value) -> Option<&str> {
    ["/ext/status", "/status", "/Consent/status", "/ext/consent", "/Inspection/outcome"]
        .iter()
        .find_map(|p| c.pointer(p).and_then(Value::as_str))
}

/// What a version did, as a person names it: created, status changed (old → new), updated,
/// erased; `None` contents when they are not readable here.
pub(crate) fn change_name(kind: TxKind, version: u64, prev: Option<&Value>, this: Option<&Value>) -> String {
    match kind {
        TxKind::Erase => "erased".into(),
        TxKind::Governance => "governance".into(),
        TxKind::Put if version <= 1 => "created".into(),
        TxKind::Put => match (prev.and_then(status), this.and_then(status)) {
            (Some(a), Some(b)) if a != b => format!("status changed: {a} → {b}"),
            _ => "updated".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_are_labelled_by_their_path_and_lists_count_from_one() {
        let v = json!({"_profile": "x", "A": {"B": [{"ID": "1"}, {"ID": "2"}], "C": 5}});
        assert_eq!(
            flatten(&v),
            vec![
                ("A › B 1 › ID".into(), "1".into()),
                ("A › B 2 › ID".into(), "2".into()),
                ("A › C".into(), "5".into())
            ]
        );
    }

    #[test]
    fn a_diff_names_changed_added_and_removed_fields() {
        let a = json!({"ext": {"status": "ACTIVE", "x": 1}});
        let b = json!({"ext": {"status": "SUSPENDED", "y": 2}});
        let d = diff(&a, &b);
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(
            d[0],
            Change { field: "ext › status".into(), old: Some("ACTIVE".into()), new: Some("SUSPENDED".into()) }
        );
        assert!(d.contains(&Change { field: "ext › y".into(), old: None, new: Some("2".into()) }));
        assert!(d.contains(&Change { field: "ext › x".into(), old: Some("1".into()), new: None }));
        assert_eq!(change_name(TxKind::Put, 2, Some(&a), Some(&b)), "status changed: ACTIVE → SUSPENDED");
        assert_eq!(change_name(TxKind::Put, 2, Some(&a), Some(&a)), "updated");
        assert_eq!(change_name(TxKind::Put, 1, None, Some(&a)), "created");
        assert_eq!(change_name(TxKind::Erase, 3, None, None), "erased");
    }

    #[test]
    fn a_declaration_reads_as_a_document_with_hs_descriptions() {
        let path = format!("{}/../../../shared/data/samples/declaration.json", env!("CARGO_MANIFEST_DIR"));
        let d: Value = serde_json::from_slice(&std::fs::read(path).expect("sample")).expect("JSON");
        let html = document("declaration", &d).into_string();
        for expected in
            ["LRN-2026-000123", "Shenzhen Example Electronics", "MSKU1234565", "CN7788990", "84713000", "MAEU260301234"]
        {
            assert!(html.contains(expected), "{expected} not in {html}");
        }
        let laptops = hs_description("84713000").expect("HS 847130 is described");
        assert!(html.contains(&maud::html! { (laptops) }.into_string()), "{html}");
        // Codes carry their meaning on hover: the HS code and the countries.
        assert!(html.contains(r#"<abbr class="code" title="HS 847130"#), "{html}");
        assert!(html.contains(r#"title="China">CN</abbr>"#), "{html}");
    }
}
