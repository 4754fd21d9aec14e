//! Bad documents get one clear error naming what and where; nothing panics.

use borderlink_model::{ValidateOptions, validate};

fn rule_of(bytes: &[u8]) -> (String, String) {
    let r = validate(bytes, &ValidateOptions::default());
    assert!(!r.valid);
    (r.errors[0].rule.clone(), r.errors[0].message.clone())
}

#[test]
fn non_json_names_line_and_column() {
    let (rule, msg) = rule_of(b"{\n  \"Declaration\": {\n    \"FunctionCode\": 9,,\n  }\n}");
    assert_eq!(rule, "document.syntax");
    assert!(msg.contains("line 3"), "{msg}");
}

#[test]
fn truncated_json() {
    let (rule, msg) = rule_of(br#"{"Declaration": {"FunctionCode": "9", "TypeCode": "IM"#);
    assert_eq!(rule, "document.truncated");
    assert!(msg.contains("line 1"), "{msg}");
}

#[test]
fn invalid_utf8_names_the_place() {
    let mut doc = br#"{"Declaration": {"FunctionCode": "9", "TypeCode": ""#.to_vec();
    doc.extend_from_slice(&[0xff, 0xfe]);
    doc.extend_from_slice(br#""}}"#);
    let (rule, msg) = rule_of(&doc);
    assert_eq!(rule, "document.encoding");
    assert!(msg.contains("line 1, column 52"), "{msg}");
}

#[test]
fn oversized_documents_are_refused_unread() {
    let big = vec![b' '; 200 * 1024 * 1024];
    let (rule, msg) = rule_of(&big);
    assert_eq!(rule, "document.too_large");
    assert!(msg.contains("209715200 bytes"), "{msg}");
}

#[test]
fn deeply_nested_json_is_refused() {
    let doc = format!("{{\"Declaration\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let (rule, _) = rule_of(doc.as_bytes());
    assert_eq!(rule, "document.too_deep");
}

#[test]
fn deeply_nested_xml_is_refused() {
    let doc = format!("<Declaration xmlns=\"urn:wco:datamodel:WCO:DEC-DMS:2\">{}", "<a>".repeat(10_000));
    let (rule, _) = rule_of(doc.as_bytes());
    assert_eq!(rule, "document.too_deep");
}

#[test]
fn wrong_top_level_shapes() {
    assert_eq!(rule_of(b"[1, 2]").0, "document.not_object");
    assert_eq!(rule_of(b"{\"Foo\": 1}").0, "document.unknown_type");
    assert_eq!(rule_of(b"").0, "document.truncated");
}

#[test]
fn a_declaration_given_where_another_type_is_expected() {
    let r = validate(
        br#"{"Declaration": {"FunctionCode": "9"}}"#,
        &ValidateOptions { record_type: Some(borderlink_model::RecordType::AeoAuthorization), ..Default::default() },
    );
    assert!(!r.valid);
    let rules: Vec<&str> = r.errors.iter().map(|i| i.rule.as_str()).collect();
    assert!(rules.contains(&"structure.unknown_element"), "{rules:?}");
    assert!(rules.contains(&"structure.missing_element"), "{rules:?}");
}

/// serde reads a struct from a sequence (fields by position): an array where an object belongs
/// must still be a wrong type, never an empty or positional element.
#[test]
fn an_array_where_an_object_belongs_is_a_wrong_type() {
    let sample: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/demo/declaration.json")).unwrap(),
    )
    .unwrap();
    let cases: [(&str, serde_json::Value, &str); 3] = [
        ("ObligationGuarantee", serde_json::json!([[]]), "$.Declaration.ObligationGuarantee[0]"),
        ("ObligationGuarantee", serde_json::json!([["x"]]), "$.Declaration.ObligationGuarantee[0]"),
        ("Exporter", serde_json::json!([]), "$.Declaration.Exporter"),
    ];
    for (element, value, path) in cases {
        let mut doc = sample.clone();
        doc["Declaration"][element] = value.clone();
        let r = validate(&serde_json::to_vec(&doc).unwrap(), &ValidateOptions::default());
        assert!(!r.valid, "{element}: {value} was accepted");
        assert!(r.errors.iter().any(|e| e.path == path && e.rule.starts_with("type.")), "{element}: {:?}", r.errors);
    }
    // A repeated element as an array of objects stays valid, and so does the sample.
    let mut doc = sample.clone();
    doc["Declaration"]["ObligationGuarantee"] = serde_json::json!([{"ReferenceID": "GRN-1"}]);
    let r = validate(&serde_json::to_vec(&doc).unwrap(), &ValidateOptions::default());
    assert!(r.errors.iter().all(|e| !e.rule.starts_with("type.")), "{:?}", r.errors);
    assert!(validate(&serde_json::to_vec(&sample).unwrap(), &ValidateOptions::default()).valid);
}
