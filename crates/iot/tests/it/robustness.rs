//! Hostile and malformed input: parsers and canonicalisers never panic, errors say where.

use proptest::prelude::*;

use borderlink_iot::epcis::digital_link::to_digital_link;
use borderlink_iot::epcis::hash::{canonical_value, document_hash_ids, timestamp};
use borderlink_iot::epcis::{
    EpcisError, Format, Limits, parse_document, parse_document_with, parse_events_with, validate, write_xml,
};

const JSON_DOC: &str = include_str!("../../../../../shared/data/epcis-hash/epcisDocWithVariousEventTypes.jsonld");
const XML_DOC: &str = include_str!("../../../../../shared/data/epcis-hash/SensorDataExamples.xml");

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            proptest::collection::vec(prop_oneof![Just(b'<'), Just(b'{'), Just(b'"'), Just(b'['), any::<u8>()], 1..8)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mangle(doc: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = doc.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Flip(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x ^= b;
                }
            }
            Mutation::Insert(i, v) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = (i % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::Duplicate(i, n) => {
                let at = (i % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                let copy: Vec<u8> = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mangled_json_documents_never_panic(mutations in proptest::collection::vec(mutation(), 1..6)) {
        let _ = document_hash_ids(&mangle(JSON_DOC, &mutations), Format::Json);
    }

    #[test]
    fn mangled_xml_documents_never_panic(mutations in proptest::collection::vec(mutation(), 1..6)) {
        let _ = document_hash_ids(&mangle(XML_DOC, &mutations), Format::Xml);
    }

    /// Capture validation sees every mangled document (JSON shape, XML root, each event's rules)
    /// and the XML writer every event that still parses: none panics.
    #[test]
    fn validation_and_the_xml_writer_never_panic_on_mangled_documents(
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        for (doc, format) in [(JSON_DOC, Format::Json), (XML_DOC, Format::Xml)] {
            let bytes = mangle(doc, &mutations);
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let _ = validate::json_document(&value);
            }
            let _ = validate::xml_document(&bytes);
            if let Ok(parsed) = parse_events_with(&bytes, format, &Limits::default()) {
                let events: Vec<_> = parsed.events.into_iter().flatten().collect();
                for (i, e) in events.iter().enumerate() {
                    let _ = validate::event(i, e);
                }
                let _ = write_xml::query_document(&events, "q", &Default::default());
            }
        }
    }

    #[test]
    fn arbitrary_values_never_panic(s in "\\PC{0,40}", t in "[0-9T:.+Z-]{0,32}", epc in "(urn:epc:(id|class|idpat):[a-z]{3,5}:|https://[a-z.]{1,8}/(01|gtin|414|00|253|8003)/)[0-9A-Za-z.%*/?=-]{0,30}") {
        let _ = canonical_value(&s);
        let _ = timestamp(&t);
        let _ = timestamp(&s);
        let _ = to_digital_link(&epc);
        let _ = to_digital_link(&s);
    }
}

#[test]
fn deep_nesting_is_a_limit_error_not_a_stack_overflow() {
    let depth = 100_000;
    let xml = format!(
        "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\"><EPCISBody><EventList><ObjectEvent>{}{}</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    assert!(matches!(
        parse_document(xml.as_bytes(), Format::Xml),
        Err(EpcisError::Limit { what: "nesting depth", .. })
    ));
    let json = format!(
        "{{\"type\":\"EPCISDocument\",\"epcisBody\":{{\"eventList\":[{{\"type\":\"ObjectEvent\",\"x\":{}1{}}}]}}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert!(parse_document(json.as_bytes(), Format::Json).is_err());
}

#[test]
fn documents_over_the_size_limit_are_refused() {
    let limits = Limits { max_bytes: 100, ..Limits::default() };
    let err = parse_document_with(JSON_DOC.as_bytes(), Format::Json, &limits).unwrap_err();
    assert_eq!(err.to_string(), "document exceeds the limit on document size in bytes (100)");
}

#[test]
fn errors_name_the_event_and_the_field() {
    let doc = r#"{"type":"EPCISDocument","epcisBody":{"eventList":[
        {"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","action":"ADD"},
        {"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","bizTransactionList":[{"type":"po"}]}]}}"#;
    let err = parse_document(doc.as_bytes(), Format::Json).unwrap_err();
    assert_eq!(err.to_string(), "event 1: field `bizTransactionList[0]`: missing the `bizTransaction` identifier");

    let doc = r#"{"type":"EPCISDocument","epcisBody":{"eventList":[{"type":"ObjectEvent","epcList":[{"id":"x"}]}]}}"#;
    let err = parse_document(doc.as_bytes(), Format::Json).unwrap_err();
    assert_eq!(err.to_string(), "event 0: field `epcList[0]`: expected a text value, found a structure");

    let doc = r#"{"type":"EPCISDocument","epcisBody":{"eventList":[{"type":"SealEvent"}]}}"#;
    let err = parse_document(doc.as_bytes(), Format::Json).unwrap_err();
    assert_eq!(err.to_string(), "event 0: unknown event type `SealEvent`");

    let xml = "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\"><EPCISBody><EventList><ObjectEvent><eventTime>1</eventTime><eventTime>2</eventTime></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>";
    let err = parse_document(xml.as_bytes(), Format::Xml).unwrap_err();
    assert_eq!(err.to_string(), "event 0: field `eventTime`: given more than once");

    let xml = "<epcis:EPCISDocument xmlns:epcis=\"urn:x\"><EventList><ObjectEvent><a></b></ObjectEvent></EventList></epcis:EPCISDocument>";
    assert!(matches!(parse_document(xml.as_bytes(), Format::Xml), Err(EpcisError::Syntax { format: Format::Xml, .. })));

    let err = parse_document(b"{\"epcisBody\": 3}", Format::Json).unwrap_err();
    assert_eq!(err.to_string(), "not an EPCIS document: no `epcisBody` object");
}

#[test]
fn a_resent_event_in_the_other_format_keeps_its_hash_id() {
    let json = r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"ex":"https://ns.example.com/"}],
        "type":"EPCISDocument","epcisBody":{"eventList":[{"type":"ObjectEvent","eventTime":"2024-05-01T10:00:00+02:00",
        "eventTimeZoneOffset":"+02:00","epcList":["urn:epc:id:sscc:4012345.0000000333"],"action":"OBSERVE",
        "bizStep":"departing","readPoint":{"id":"urn:epc:id:sgln:4012345.00011.0"},"ex:seal":"S-123"}]}}"#;
    let xml = r#"<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="https://ns.example.com/"><EPCISBody><EventList>
        <ObjectEvent><eventTime>2024-05-01T08:00:00.000Z</eventTime><eventTimeZoneOffset>+02:00</eventTimeZoneOffset>
        <recordTime>2024-05-01T08:00:05Z</recordTime><epcList><epc>https://id.gs1.org/00/040123450000003338</epc></epcList>
        <action>OBSERVE</action><bizStep>https://ref.gs1.org/cbv/BizStep-departing</bizStep>
        <readPoint><id>https://id.gs1.org/414/4012345000115</id></readPoint><ex:seal>S-123</ex:seal></ObjectEvent>
        </EventList></EPCISBody></epcis:EPCISDocument>"#;
    let a = document_hash_ids(json.as_bytes(), Format::Json).expect("JSON parses");
    let b = document_hash_ids(xml.as_bytes(), Format::Xml).expect("XML parses");
    assert_eq!(a, b);
}
