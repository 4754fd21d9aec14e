//! `epcis::write`: every event of the reference vectors (JSON-LD and XML sources) and generated
//! events come back from their JSON-LD equal, with the same hash ID.

use std::path::Path;

use proptest::prelude::*;

use borderlink_iot::epcis::hash::{event_hash_id, prehash_ignoring};
use borderlink_iot::epcis::write::{DocumentInfo, document, event_json, query_document};
use borderlink_iot::epcis::{
    Event, EventType, Extension, Format, Location, QName, QuantityElement, SensorElement, SensorFields, TypedReference,
    parse_document,
};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/epcis-hash");

/// What JSON cannot keep: differently named sibling extensions in document order (JSON objects
/// are unordered) — sorted by name here on both sides before comparing.
fn unordered(mut e: Event) -> Event {
    fn sort(list: &mut [Extension]) {
        list.sort_by(|a, b| a.name.cmp(&b.name));
        for x in list.iter_mut() {
            sort(&mut x.children);
        }
    }
    sort(&mut e.extensions);
    if let Some(i) = e.ilmd.as_mut() {
        sort(i);
    }
    for l in [e.read_point.as_mut(), e.biz_location.as_mut()].into_iter().flatten() {
        sort(&mut l.extensions);
    }
    if let Some(d) = e.error_declaration.as_mut() {
        sort(&mut d.extensions);
    }
    for q in e
        .quantity_list
        .iter_mut()
        .chain(&mut e.child_quantity_list)
        .chain(&mut e.input_quantity_list)
        .chain(&mut e.output_quantity_list)
    {
        sort(&mut q.extensions);
    }
    for s in &mut e.sensor_element_list {
        sort(&mut s.extensions);
        for f in s.metadata.iter_mut().chain(&mut s.reports) {
            sort(&mut f.extensions);
        }
    }
    e
}

/// JSON's spelling of a number the source spelled otherwise (`20.50` → `20.5`), on the numeric
/// fields the writer makes JSON numbers.
fn json_numbers(mut e: Event) -> Event {
    let respell = |v: &mut String| {
        if let Ok(n) = serde_json::from_str::<serde_json::Value>(&serde_json::to_string(&write_number(v)).unwrap()) {
            *v = match n {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
        }
    };
    for q in e
        .quantity_list
        .iter_mut()
        .chain(&mut e.child_quantity_list)
        .chain(&mut e.input_quantity_list)
        .chain(&mut e.output_quantity_list)
    {
        if let Some(v) = q.quantity.as_mut() {
            respell(v);
        }
    }
    for s in &mut e.sensor_element_list {
        for f in &mut s.reports {
            for (name, v) in &mut f.fields {
                if ["value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"].contains(name) {
                    respell(v);
                }
            }
        }
    }
    e
}

/// How the writer writes a numeric field, read from its output.
fn write_number(v: &str) -> serde_json::Value {
    let mut e = Event::new(EventType::Object);
    e.quantity_list = vec![QuantityElement { epc_class: "x".into(), quantity: Some(v.into()), ..Default::default() }];
    event_json(&e)["quantityList"][0]["quantity"].clone()
}

/// What JSON-LD reads differently from XML: a compact IRI in a value (`gs1:Angle`, which an XML
/// document may write) is expanded by the `@context` (`https://gs1.org/voc/Angle`).
fn expanded(mut e: Event) -> Event {
    const PREFIXES: [(&str, &str); 2] = [("gs1:", "https://gs1.org/voc/"), ("cbv:", "https://ref.gs1.org/cbv/")];
    fn expand(v: &mut String) {
        for (p, iri) in PREFIXES {
            if let Some(rest) = v.strip_prefix(p) {
                *v = format!("{iri}{rest}");
            }
        }
    }
    fn ext(list: &mut [Extension]) {
        for x in list {
            if let Some(v) = x.value.as_mut() {
                expand(v);
            }
            ext(&mut x.children);
        }
    }
    for v in [&mut e.biz_step, &mut e.disposition, &mut e.action].into_iter().flatten() {
        expand(v);
    }
    for r in e.biz_transaction_list.iter_mut().chain(&mut e.source_list).chain(&mut e.destination_list) {
        if let Some(k) = r.kind.as_mut() {
            expand(k);
        }
        expand(&mut r.value);
    }
    ext(&mut e.extensions);
    for s in &mut e.sensor_element_list {
        ext(&mut s.extensions);
        for f in s.metadata.iter_mut().chain(&mut s.reports) {
            ext(&mut f.extensions);
            for (_, v) in &mut f.fields {
                expand(v);
            }
        }
    }
    if let Some(pd) = e.persistent_disposition.as_mut() {
        pd.set.iter_mut().chain(&mut pd.unset).for_each(expand);
    }
    if let Some(d) = e.error_declaration.as_mut() {
        if let Some(r) = d.reason.as_mut() {
            expand(r);
        }
        ext(&mut d.extensions);
    }
    e
}

fn reparse(events: &[Event]) -> Vec<Event> {
    let doc = document(events, &DocumentInfo::default());
    let bytes = serde_json::to_vec(&doc).unwrap();
    parse_document(&bytes, Format::Json).unwrap_or_else(|e| panic!("{e}\n{doc:#}")).events
}

#[test]
fn every_reference_vector_event_round_trips() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(Path::new(VECTORS)).unwrap() {
        let path = entry.unwrap().path();
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("jsonld" | "json") => Format::Json,
            Some("xml") => Format::Xml,
            _ => continue,
        };
        let Ok(doc) = parse_document(&std::fs::read(&path).unwrap(), format) else { continue };
        let back = reparse(&doc.events);
        assert_eq!(back.len(), doc.events.len(), "{}", path.display());
        for (i, (a, b)) in doc.events.iter().zip(&back).enumerate() {
            checked += 1;
            let before = prehash_ignoring(a, &doc.ignore_fields);
            let after = prehash_ignoring(b, &doc.ignore_fields);
            if before != after {
                failures.push(format!("{} event {i}: hash changed\n  {before}\n  {after}", path.display()));
            }
            if unordered(expanded(json_numbers(a.clone()))) != unordered(b.clone()) {
                failures.push(format!("{} event {i}: model changed\n  {a:?}\n  {b:?}", path.display()));
            }
        }
    }
    assert!(checked > 50, "only {checked} events checked");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_single_event_carries_its_own_context() {
    let mut e = Event::new(EventType::Object);
    e.event_time = Some("2026-03-09T02:41:08Z".into());
    e.extensions.push(Extension {
        name: QName { namespace: Some("https://example.org/ns/".into()), local: "lot".into() },
        value: Some("7".into()),
        children: vec![],
    });
    let json = event_json(&e);
    assert_eq!(json["@context"][1]["ext1"], "https://example.org/ns/");
    assert_eq!(json["ext1:lot"], "7");
    // An event with its own context inside a document keeps its names.
    let doc = serde_json::json!({"type": "EPCISDocument", "epcisBody": {"eventList": [json]}});
    let back = parse_document(doc.to_string().as_bytes(), Format::Json).unwrap();
    assert_eq!(back.events, vec![e]);
}

#[test]
fn a_query_document_reads_back() {
    let mut e = Event::new(EventType::Object);
    e.event_time = Some("2026-03-09T02:41:08Z".into());
    e.action = Some("OBSERVE".into());
    let doc = query_document(std::slice::from_ref(&e), "SimpleEventQuery", &DocumentInfo::default());
    assert_eq!(doc["type"], "EPCISQueryDocument");
    assert_eq!(doc["epcisBody"]["queryResults"]["queryName"], "SimpleEventQuery");
    let back = parse_document(doc.to_string().as_bytes(), Format::Json).unwrap();
    assert_eq!(back.events, vec![e]);
}

fn ns() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(Some("https://borderlink.dev/epcis/".to_owned())),
        Just(Some("https://ns.example.com/a/".to_owned())),
        Just(Some("urn:example:b#".to_owned())),
    ]
}

fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9]{0,8}"
}

fn extension() -> impl Strategy<Value = Extension> {
    let leaf = (ns(), word(), proptest::option::of("[a-zA-Z0-9 ._-]{0,12}"))
        .prop_map(|(namespace, local, value)| Extension { name: QName { namespace, local }, value, children: vec![] });
    leaf.prop_recursive(3, 12, 4, |inner| {
        (ns(), word(), proptest::collection::vec(inner, 1..4)).prop_map(|(namespace, local, children)| Extension {
            name: QName { namespace, local },
            value: None,
            children,
        })
    })
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![(-1e6f64..1e6).prop_map(|x| format!("{x:?}")), (0u32..100_000).prop_map(|n| n.to_string())]
}

fn epc() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|n| format!("urn:epc:id:sgtin:0614141.107346.{n}")),
        (0u32..100_000).prop_map(|n| format!("https://id.gs1.org/01/09520123456788/21/{n}")),
        "[A-Z]{4}[0-9]{7}".prop_map(|c| format!("https://borderlink.dev/id/iso6346/{c}")),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (
        prop_oneof![
            Just(EventType::Object),
            Just(EventType::Aggregation),
            Just(EventType::Association),
            Just(EventType::Transaction),
            Just(EventType::Transformation)
        ],
        proptest::collection::vec(epc(), 0..3),
        proptest::option::of(epc()),
        proptest::option::of(prop_oneof![
            Just("shipping"),
            Just("sensor_reporting"),
            Just("urn:epcglobal:cbv:bizstep:receiving")
        ]),
        proptest::collection::vec((epc(), proptest::option::of(number()), proptest::option::of("[A-Z]{3}")), 0..2),
        proptest::collection::vec(
            (number(), prop_oneof![Just("https://gs1.org/voc/Temperature"), Just("https://gs1.org/voc/Angle")]),
            0..3,
        ),
        proptest::collection::vec(extension(), 0..3),
        proptest::option::of((proptest::option::of(prop_oneof![Just("po"), Just("inv")]), epc())),
        any::<bool>(),
    )
        .prop_map(|(t, epcs, parent, step, quantities, reports, extensions, btt, flags)| {
            let mut e = Event::new(t);
            e.event_time = Some("2026-03-09T02:41:08.123+01:00".into());
            e.event_time_zone_offset = Some("+01:00".into());
            e.action = (t != EventType::Transformation).then(|| "OBSERVE".to_owned());
            e.biz_step = step.map(str::to_owned);
            let qs: Vec<QuantityElement> = quantities
                .into_iter()
                .map(|(c, quantity, uom)| QuantityElement { epc_class: c, quantity, uom, extensions: vec![] })
                .collect();
            match t {
                EventType::Object | EventType::Transaction => {
                    e.epc_list = epcs;
                    e.quantity_list = qs;
                }
                EventType::Aggregation | EventType::Association => {
                    e.child_epcs = epcs;
                    e.child_quantity_list = qs;
                }
                EventType::Transformation => {
                    e.input_epc_list = epcs;
                    e.output_quantity_list = qs;
                }
            }
            if t != EventType::Object && t != EventType::Transformation {
                e.parent_id = parent;
            }
            if !reports.is_empty() {
                e.sensor_element_list = vec![SensorElement {
                    metadata: flags
                        .then(|| SensorFields { fields: vec![("deviceID", "urn:x:d".into())], extensions: vec![] }),
                    reports: reports
                        .into_iter()
                        .map(|(v, ty)| SensorFields {
                            fields: vec![("type", ty.into()), ("value", v)],
                            extensions: vec![],
                        })
                        .collect(),
                    extensions: vec![],
                }];
            }
            if let Some((kind, value)) = btt {
                e.biz_transaction_list = vec![TypedReference { kind: kind.map(str::to_owned), value }];
            }
            if flags {
                e.read_point = Some(Location { id: Some("geo:1.2645,103.82".into()), extensions: vec![] });
                e.certification_info = vec!["https://example.org/cert/1".into()];
            }
            e.extensions = extensions;
            e
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_events_round_trip(events in proptest::collection::vec(event(), 1..4)) {
        let back = reparse(&events);
        prop_assert_eq!(back.len(), events.len());
        for (a, b) in events.iter().zip(&back) {
            prop_assert_eq!(event_hash_id(a), event_hash_id(b));
            prop_assert_eq!(unordered(a.clone()), unordered(b.clone()));
        }
    }
}

#[test]
fn standard_fields_take_their_standard_shapes() {
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples/eseal-mqtt-payload.json"))
            .unwrap();
    let uplink = borderlink_iot::uplink::SealUplink::parse(&bytes).unwrap();
    let mut events = borderlink_iot::mapping::seal_events(&uplink, &bytes).unwrap();
    events[0].biz_transaction_list = vec![TypedReference { kind: Some("po".into()), value: "urn:x:po:1".into() }];
    events[0].certification_info = vec!["https://example.org/cert/1".into()];
    let doc = document(&events, &DocumentInfo { creation_date: Some("2026-03-09T03:00:00Z".into()), id: None });
    assert_eq!(doc["type"], "EPCISDocument");
    assert_eq!(doc["schemaVersion"], "2.0");
    assert_eq!(doc["@context"][0], "https://ref.gs1.org/standards/epcis/epcis-context.jsonld");
    assert_eq!(doc["@context"][1]["bl"], "https://borderlink.dev/epcis/");
    let e = &doc["epcisBody"]["eventList"][0];
    assert_eq!(e["type"], "ObjectEvent");
    assert_eq!(e["readPoint"]["id"], "geo:1.2645,103.82");
    assert_eq!(e["bizTransactionList"][0]["type"], "po");
    assert_eq!(e["bizTransactionList"][0]["bizTransaction"], "urn:x:po:1");
    assert_eq!(e["certificationInfo"], "https://example.org/cert/1");
    assert!(e["bl:message"].as_str().unwrap().starts_with("ni:///sha-256;"));
    let report = &e["sensorElementList"][0]["sensorReport"][1];
    assert_eq!(report["value"], serde_json::json!(1.2645));
    assert_eq!(report["uom"], "DD");
    assert_eq!(
        e["sensorElementList"][0]["sensorMetadata"]["deviceID"],
        "https://borderlink.dev/id/device/ESEAL-0A1B2C3D4E"
    );
    let a = &doc["epcisBody"]["eventList"][1];
    assert_eq!(a["type"], "AssociationEvent");
    assert_eq!(a["childEPCs"][0], "https://borderlink.dev/id/iso18185/0A1B/2C3D4E");
}
