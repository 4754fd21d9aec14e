//! `mapping`: the shared e-seal sample and every uplink kind, and Codec 8 records, into EPCIS
//! events that hash, index and come back from their JSON-LD unchanged.

use borderlink_iot::codec8::{Gps, IoValue, Record};
use borderlink_iot::epcis::hash::event_hash_id;
use borderlink_iot::epcis::index::stored_event;
use borderlink_iot::epcis::write::{DocumentInfo, document};
use borderlink_iot::epcis::{Event, EventType, Format, parse_document};
use borderlink_iot::geo::Point;
use borderlink_iot::mapping::{MappingError, codec8_events, message_ref, seal_events};
use borderlink_iot::uplink::SealUplink;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples/eseal-mqtt-payload.json");

fn uplink_with(event: &str) -> (SealUplink, Vec<u8>) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(SAMPLE).unwrap()).unwrap();
    v["event"] = event.into();
    v["sealStatus"] = (if event == "SEALED" { "SEALED" } else { "OPENED" }).into();
    let bytes = serde_json::to_vec(&v).unwrap();
    (SealUplink::parse(&bytes).unwrap(), bytes)
}

/// Every mapped event hashes, indexes and round-trips through write/parse.
fn check(events: &[Event]) {
    let doc = document(events, &DocumentInfo::default());
    let back = parse_document(doc.to_string().as_bytes(), Format::Json).unwrap().events;
    assert_eq!(back, events, "{doc:#}");
    for e in events {
        let id = event_hash_id(e);
        assert!(id.starts_with("ni:///sha-256;"));
        stored_event(e, &id, 0, Some("ESEAL-0A1B2C3D4E")).unwrap();
    }
}

#[test]
fn the_shared_sample_opening_is_an_alarm_and_the_seal_removed() {
    let bytes = std::fs::read(SAMPLE).unwrap();
    let u = SealUplink::parse(&bytes).unwrap();
    let events = seal_events(&u, &bytes).unwrap();
    check(&events);
    assert_eq!(events.len(), 2);
    let alarm = &events[0];
    assert_eq!(alarm.event_type, EventType::Object);
    assert_eq!(alarm.epc_list, ["https://borderlink.dev/id/iso6346/MSKU1234565"]);
    assert_eq!(alarm.disposition.as_deref(), Some("container_open"));
    assert_eq!(alarm.event_time.as_deref(), Some("2026-03-09T02:41:08Z"));
    assert_eq!(alarm.event_time_zone_offset.as_deref(), Some("+00:00"));
    assert_eq!(alarm.read_point.as_ref().and_then(|l| l.id.as_deref()), Some("geo:1.2645,103.82"));
    let reports = &alarm.sensor_element_list[0].reports;
    assert_eq!(reports[0].get("exception"), Some("ALARM_CONDITION"));
    assert!(reports.iter().any(|r| r.get("component") == Some("https://ref.gs1.org/cbv/Comp-latitude")
        && r.get("value") == Some("1.2645")
        && r.get("uom") == Some("DD")));
    assert_eq!(alarm.extensions[0].value.as_deref(), Some(message_ref(&bytes).as_str()));
    let removal = &events[1];
    assert_eq!(removal.event_type, EventType::Association);
    assert_eq!(removal.action.as_deref(), Some("DELETE"));
    assert_eq!(removal.parent_id.as_deref(), Some("https://borderlink.dev/id/iso6346/MSKU1234565"));
    assert_eq!(removal.child_epcs, ["https://borderlink.dev/id/iso18185/0A1B/2C3D4E"]);
    assert_ne!(event_hash_id(alarm), event_hash_id(removal));
}

#[test]
fn sealing_attaches_the_seal_to_the_container() {
    let (u, bytes) = uplink_with("SEALED");
    let events = seal_events(&u, &bytes).unwrap();
    check(&events);
    let [e] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(e.event_type, EventType::Association);
    assert_eq!(e.action.as_deref(), Some("ADD"));
    assert_eq!(e.biz_step.as_deref(), Some("installing"));
    assert_eq!(e.disposition.as_deref(), Some("container_closed"));
}

#[test]
fn every_uplink_kind_maps_to_events_that_round_trip() {
    for kind in ["SEALED", "OPENED", "TAMPERED", "POSITION", "BATTERY", "HEARTBEAT", "ARRIVED"] {
        let (u, bytes) = uplink_with(kind);
        check(&seal_events(&u, &bytes).unwrap());
    }
}

#[test]
fn sealing_without_a_container_is_an_error() {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(SAMPLE).unwrap()).unwrap();
    v["event"] = "SEALED".into();
    v.as_object_mut().unwrap().remove("containerId");
    let bytes = serde_json::to_vec(&v).unwrap();
    let u = SealUplink::parse(&bytes).unwrap();
    assert!(matches!(seal_events(&u, &bytes), Err(MappingError::Missing { field: "containerId", .. })));
}

#[test]
fn a_low_battery_is_an_alarm_on_the_battery_report() {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(SAMPLE).unwrap()).unwrap();
    v["event"] = "BATTERY".into();
    v["battery"] = serde_json::json!({"voltage": 2.9, "low": true});
    let bytes = serde_json::to_vec(&v).unwrap();
    let events = seal_events(&SealUplink::parse(&bytes).unwrap(), &bytes).unwrap();
    check(&events);
    let r = events[0].sensor_element_list[0].reports.iter().find(|r| r.get("uom") == Some("VLT")).unwrap();
    assert_eq!(r.get("exception"), Some("ALARM_CONDITION"));
    assert_eq!(r.get("value"), Some("2.9"));
}

#[test]
fn codec8_records_become_sensor_reports_of_the_tracker() {
    let fix = Record {
        timestamp_ms: 1_773_024_068_000,
        priority: 0,
        gps: Gps {
            position: Point { lat: 54.6872, lon: 25.2797 },
            altitude: 112,
            angle: 270,
            satellites: 9,
            speed: 63,
        },
        event_io: 0,
        io: vec![(113, IoValue::Number(87))],
    };
    let no_fix = Record {
        gps: Gps { position: Point { lat: 0.0, lon: 0.0 }, altitude: 0, angle: 0, satellites: 0, speed: 0 },
        io: vec![],
        ..fix.clone()
    };
    let events = codec8_events("356307042441013", &[fix, no_fix], b"packet");
    check(&events);
    let [e] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(e.epc_list, ["https://borderlink.dev/id/device/356307042441013"]);
    assert_eq!(e.event_time.as_deref(), Some("2026-03-09T02:41:08.000Z"));
    assert_eq!(e.biz_step.as_deref(), Some("sensor_reporting"));
    let reports = &e.sensor_element_list[0].reports;
    assert!(reports.iter().any(|r| r.get("uom") == Some("KMH") && r.get("value") == Some("63")));
    assert!(reports.iter().any(|r| r.get("uom") == Some("P1") && r.get("value") == Some("87")));
}
