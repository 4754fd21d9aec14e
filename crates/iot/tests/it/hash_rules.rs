//! The normalisation rules of the event hash, through the public API, on cases the reference
//! vectors do not cover.

use borderlink_iot::epcis::hash::{event_hash_id, hash_id_of_prehash, prehash};
use borderlink_iot::epcis::{Event, EventType, Extension, Format, Location, QName, parse_document};

fn json_doc(event: &str) -> String {
    format!(
        r#"{{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{{"ex":"https://ns.example.com/"}}],
        "type":"EPCISDocument","epcisBody":{{"eventList":[{event}]}}}}"#
    )
}

fn xml_doc(event: &str) -> String {
    format!(
        r#"<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="https://ns.example.com/"><EPCISBody><EventList>{event}</EventList></EPCISBody></epcis:EPCISDocument>"#
    )
}

fn prehashes(doc: &str, format: Format) -> Vec<String> {
    parse_document(doc.as_bytes(), format).expect("parses").events.iter().map(prehash).collect()
}

#[test]
fn an_event_built_in_code_hashes_like_its_document() {
    let mut event = Event::new(EventType::Object);
    event.event_time = Some("2020-03-04T11:00:30+01:00".into());
    event.event_time_zone_offset = Some("+01:00".into());
    event.epc_list = vec!["urn:epc:id:sscc:4012345.0000000333".into()];
    event.action = Some("OBSERVE".into());
    event.biz_step = Some("departing".into());
    event.read_point = Some(Location { id: Some("urn:epc:id:sgln:4012345.00011.987".into()), extensions: Vec::new() });
    event.extensions.push(Extension {
        name: QName { namespace: Some("https://ns.example.com/".into()), local: "seal".into() },
        value: Some("S-1".into()),
        children: Vec::new(),
    });
    let expected = "eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00\
        epcListepc=https://id.gs1.org/00/040123450000003338action=OBSERVE\
        bizStep=https://ref.gs1.org/cbv/BizStep-departing\
        readPointid=https://id.gs1.org/414/4012345000115/254/987{https://ns.example.com/}seal=S-1";
    assert_eq!(prehash(&event), expected);
    assert_eq!(event_hash_id(&event), hash_id_of_prehash(expected));
    assert!(event_hash_id(&event).starts_with("ni:///sha-256;") && event_hash_id(&event).ends_with("?ver=CBV2.0"));
}

#[test]
fn recorded_time_event_id_and_error_declaration_do_not_change_the_hash() {
    let plain = json_doc(r#"{"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","action":"ADD"}"#);
    let annotated = json_doc(
        r#"{"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","action":"ADD","recordTime":"2020-01-02T00:00:00Z",
        "eventID":"urn:uuid:1","errorDeclaration":{"declarationTime":"2020-01-03T00:00:00Z","reason":"incorrect_data"}}"#,
    );
    assert_eq!(prehashes(&plain, Format::Json), prehashes(&annotated, Format::Json));
}

#[test]
fn booleans_and_untyped_transactions_hash_alike_in_json_and_xml() {
    let json = json_doc(
        r#"{"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00","action":"OBSERVE",
        "bizTransactionList":[{"bizTransaction":"urn:epcglobal:cbv:bt:4012345123456:1"}],
        "sensorElementList":[{"sensorReport":[{"type":"gs1:Temperature","booleanValue":true}]}]}"#,
    );
    let xml = xml_doc(
        r#"<ObjectEvent><eventTime>2020-01-01T00:00:00.000Z</eventTime><action>OBSERVE</action>
        <bizTransactionList><bizTransaction>urn:epcglobal:cbv:bt:4012345123456:1</bizTransaction></bizTransactionList>
        <sensorElementList><sensorElement><sensorReport type="Temperature" booleanValue="true"/></sensorElement></sensorElementList>
        </ObjectEvent>"#,
    );
    let j = prehashes(&json, Format::Json);
    assert_eq!(j, prehashes(&xml, Format::Xml));
    assert_eq!(
        j[0],
        "eventType=ObjectEventeventTime=2020-01-01T00:00:00.000Zaction=OBSERVE\
         sensorElementListsensorElementsensorReporttype=https://gs1.org/voc/TemperaturebooleanValue=true\
         bizTransactionListbizTransaction=urn:epcglobal:cbv:bt:4012345123456:1"
    );
}

#[test]
fn ignore_fields_remove_only_the_named_extensions() {
    let doc = r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"ex":"https://ns.example.com/"}],
        "type":"EPCISDocument","ex:ignoreFields":["ex:captureID"],"epcisBody":{"eventList":[
        {"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","action":"ADD","ex:captureID":"c-1","ex:keep":"k"}]}}"#;
    let ids = borderlink_iot::epcis::hash::document_hash_ids(doc.as_bytes(), Format::Json).expect("parses");
    assert_eq!(
        ids[0].0,
        "eventType=ObjectEventeventTime=2020-01-01T00:00:00.000Zaction=ADD{https://ns.example.com/}keep=k"
    );
}

#[test]
fn list_order_time_zone_and_identifier_syntax_do_not_change_the_hash() {
    let a = json_doc(
        r#"{"type":"ObjectEvent","eventTime":"2020-06-30T23:30:00.0004-02:00","eventTimeZoneOffset":"-02:00",
        "epcList":["urn:epc:id:sgtin:4012345.011111.2","urn:epc:id:sgtin:4012345.011111.1"],"action":"OBSERVE",
        "quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.L1","quantity":2.50,"uom":"KGM"}]}"#,
    );
    let b = json_doc(
        r#"{"type":"ObjectEvent","eventTime":"2020-07-01T01:30:00Z","eventTimeZoneOffset":"-02:00","action":"OBSERVE",
        "epcList":["https://id.gs1.org/01/04012345111118/21/1","https://example.org/gtin/4012345111118/ser/2"],
        "quantityList":[{"epcClass":"https://id.gs1.org/01/04012345123456/10/L1","quantity":"2.5","uom":"KGM"}]}"#,
    );
    assert_eq!(prehashes(&a, Format::Json), prehashes(&b, Format::Json));
}
