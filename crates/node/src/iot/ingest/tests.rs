//! The pipeline on its own: a registry of two devices, a real embedded store in a temporary
//! folder, a fixed clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use borderlink_iot::admission::Refusal;
use borderlink_iot::device::{Credential, Device, DeviceKind, DeviceState, Identifiers, SealId};
use borderlink_iot::rules::{Monitor, RuleKind, RuleSet};
use borderlink_iot::store::EventStore;
use borderlink_iot::store::redb_store::RedbEventStore;
use ed25519_dalek::{Signer, SigningKey};

use super::*;
use crate::clock::FixedClock;

const NOW: i64 = 1_796_000_000_000;

struct Registry(BTreeMap<String, Device>);

impl Devices for Registry {
    fn get(&self, id: &str) -> Result<Option<Device>, ApiError> {
        Ok(self.0.get(id).cloned())
    }

    fn by_imei(&self, imei: &str) -> Result<Option<Device>, ApiError> {
        Ok(self.0.values().find(|d| d.identifiers.imei.as_deref() == Some(imei)).cloned())
    }
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn seal(id: &str, n: u8, state: DeviceState) -> Device {
    Device {
        device_id: id.into(),
        kind: DeviceKind::ESeal,
        owner: "nl-customs".into(),
        identifiers: Identifiers {
            seal: Some(SealId { manufacturer: "0A1B".into(), serial: "2C3D4E".into() }),
            ..Identifiers::default()
        },
        credential: Credential::Ed25519 { public_key: hex::encode(key(n).verifying_key().to_bytes()) },
        reporting_interval_seconds: 300,
        state,
    }
}

struct Fixture {
    ingest: Ingest,
    _clock: Arc<FixedClock>,
    store: Arc<RedbEventStore>,
    alerts: Arc<Recorder>,
    _dir: tempfile::TempDir,
}

/// The rules as a test sees them: each device's readings through a monitor of the default rule
/// set (the node's own observer feeds the device's trip's monitor instead).
#[derive(Default)]
struct Recorder {
    monitors: std::sync::Mutex<std::collections::HashMap<String, Monitor>>,
    fired: std::sync::Mutex<Vec<(String, RuleKind)>>,
}

impl Recorder {
    fn recent(&self) -> Vec<(String, RuleKind)> {
        self.fired.lock().unwrap().clone()
    }
}

impl super::Observer for Recorder {
    fn observe(&self, device: &str, observations: &[borderlink_iot::rules::Observation]) -> usize {
        let mut monitors = self.monitors.lock().unwrap();
        let m = monitors.entry(device.to_owned()).or_insert_with(|| Monitor::new(RuleSet::named("default"), 300, None));
        let fired: Vec<RuleKind> = observations.iter().flat_map(|o| m.observe(o)).map(|a| a.rule).collect();
        let n = fired.len();
        self.fired.lock().unwrap().extend(fired.into_iter().map(|r| (device.to_owned(), r)));
        n
    }
}

fn fixture(per_second: u32, burst: u32) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = Arc::new(RedbEventStore::open(&dir.path().join("events.redb")).expect("the store opens"));
    let alerts = Arc::new(Recorder::default());
    let devices = [
        seal("ESEAL-1", 1, DeviceState::Active),
        seal("ESEAL-2", 2, DeviceState::Active),
        seal("ESEAL-LOST", 3, DeviceState::Lost),
    ];
    let registry = Registry(devices.into_iter().map(|d| (d.device_id.clone(), d)).collect());
    let clock = Arc::new(FixedClock::at(NOW));
    let ingest = Ingest::new(Parts {
        devices: Arc::new(registry),
        store: store.clone(),
        sequences: SequenceBook::in_memory(),
        clock: clock.clone(),
        observer: alerts.clone(),
        node: "test".into(),
        messages_per_second: per_second,
        burst,
    });
    Fixture { ingest, _clock: clock, store, alerts, _dir: dir }
}

fn uplink(device: &str, seq: u64, event: &str) -> Vec<u8> {
    let time = borderlink_model::datetime::format_unix_ms(NOW - 60_000);
    format!(
        r#"{{"deviceId":"{device}","manufacturerId":"0A1B","tagSerial":"2C3D4E","containerId":"MSKU1234565",
            "seq":{seq},"time":"{time}","event":"{event}","position":{{"lat":1.2645,"lon":103.82}}}}"#
    )
    .into_bytes()
}

fn http(device: &str, signer: u8, seq: u64, payload: Vec<u8>) -> Message {
    let signature = hex::encode(key(signer).sign(&signed_bytes(device, seq, &payload)).to_bytes());
    Message {
        interface: Interface::Http,
        device: device.into(),
        channel: None,
        sequence: Some(seq),
        signature: Some(signature),
        kind: PayloadKind::Json,
        payload,
        received_ms: NOW,
    }
}

fn reason(r: Result<Admitted, IngestError>) -> Refusal {
    match r {
        Err(IngestError::Refused(r)) => r.reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signed_opening_is_stored_before_it_is_admitted_and_raises_a_seal_alert() {
    let f = fixture(0, 0);
    let admitted = f.ingest.accept(http("ESEAL-1", 1, 7, uplink("ESEAL-1", 7, "OPENED"))).await.unwrap();
    assert_eq!(admitted.sequence, Some(7));
    assert_eq!(admitted.stored.len(), 2, "the alarm ObjectEvent and the AssociationEvent DELETE");
    for hash in &admitted.stored {
        assert!(hash.starts_with("ni:///sha-256;") && hash.ends_with("?ver=CBV2.0"), "{hash}");
        let stored = f.store.get(hash).await.unwrap().expect("stored under its hash ID");
        assert_eq!(stored.event.device.as_deref(), Some("ESEAL-1"));
        assert_eq!(stored.event.record_time_ms, NOW);
    }
    assert_eq!(f.store.count().await.unwrap(), 2);
    let alerts = f.alerts.recent();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].0.as_str(), alerts[0].1), ("ESEAL-1", RuleKind::SealOpened));
    assert_eq!(admitted.alerts, 1);
}

#[tokio::test]
async fn replays_forgeries_strangers_and_garbage_are_refused_and_not_stored() {
    let f = fixture(0, 0);
    f.ingest.accept(http("ESEAL-1", 1, 7, uplink("ESEAL-1", 7, "SEALED"))).await.unwrap();
    assert_eq!(reason(f.ingest.accept(http("ESEAL-1", 1, 7, uplink("ESEAL-1", 7, "SEALED"))).await), Refusal::Replay);
    assert_eq!(reason(f.ingest.accept(http("ESEAL-1", 1, 6, uplink("ESEAL-1", 6, "OPENED"))).await), Refusal::Replay);
    // Signed by another device's key; a signature over other bytes; no signature at all.
    assert_eq!(
        reason(f.ingest.accept(http("ESEAL-1", 2, 8, uplink("ESEAL-1", 8, "OPENED"))).await),
        Refusal::BadCredential
    );
    let mut altered = http("ESEAL-1", 1, 8, uplink("ESEAL-1", 8, "OPENED"));
    altered.sequence = Some(9);
    assert_eq!(reason(f.ingest.accept(altered).await), Refusal::BadCredential, "the sequence is signed");
    let mut unsigned = http("ESEAL-1", 1, 8, uplink("ESEAL-1", 8, "OPENED"));
    unsigned.signature = None;
    assert_eq!(reason(f.ingest.accept(unsigned).await), Refusal::BadCredential);
    // Another device's uplink, signed by this one.
    assert_eq!(
        reason(f.ingest.accept(http("ESEAL-1", 1, 8, uplink("ESEAL-2", 8, "OPENED"))).await),
        Refusal::BadCredential
    );
    assert_eq!(
        reason(f.ingest.accept(http("NOBODY", 1, 1, uplink("NOBODY", 1, "OPENED"))).await),
        Refusal::UnknownDevice
    );
    assert_eq!(
        reason(f.ingest.accept(http("ESEAL-LOST", 3, 1, uplink("ESEAL-LOST", 1, "OPENED"))).await),
        Refusal::DeviceNotActive
    );
    assert_eq!(reason(f.ingest.accept(http("ESEAL-1", 1, 9, b"{\"deviceId\":".to_vec())).await), Refusal::Malformed);
    let mut header_differs = uplink("ESEAL-1", 10, "OPENED");
    let signed = http("ESEAL-1", 1, 11, std::mem::take(&mut header_differs));
    assert_eq!(reason(f.ingest.accept(signed).await), Refusal::Malformed, "header 11, uplink seq 10");
    let old = String::from_utf8(uplink("ESEAL-1", 12, "OPENED"))
        .unwrap()
        .replace(&borderlink_model::datetime::format_unix_ms(NOW - 60_000), "2026-01-01T00:00:00Z");
    assert_eq!(reason(f.ingest.accept(http("ESEAL-1", 1, 12, old.into_bytes())).await), Refusal::ClockOff);
    assert_eq!(f.store.count().await.unwrap(), 1, "only the first sealing is stored");
    // A refused number is not used up: the next valid message with it passes.
    f.ingest.accept(http("ESEAL-1", 1, 8, uplink("ESEAL-1", 8, "OPENED"))).await.unwrap();
}

#[tokio::test]
async fn on_mqtt_the_topic_must_be_the_devices_own() {
    let f = fixture(0, 0);
    let mut m = http("ESEAL-1", 1, 1, uplink("ESEAL-1", 1, "SEALED"));
    m.interface = Interface::Mqtt;
    m.channel = Some("tenants/nl-customs/devices/ESEAL-2/uplink".into());
    assert_eq!(reason(f.ingest.accept(m.clone()).await), Refusal::WrongTopic);
    m.channel = Some("tenants/gb-customs/devices/ESEAL-1/uplink".into());
    assert_eq!(reason(f.ingest.accept(m.clone()).await), Refusal::WrongTopic, "another owner");
    m.channel = Some("tenants/nl-customs/devices/ESEAL-1/uplink".into());
    assert_eq!(f.ingest.accept(m).await.unwrap().stored.len(), 1);
}

#[tokio::test]
async fn a_flooding_device_is_limited_and_the_others_are_not() {
    let f = fixture(1, 3);
    for seq in 1..=3 {
        f.ingest.accept(http("ESEAL-1", 1, seq, uplink("ESEAL-1", seq, "POSITION"))).await.unwrap();
    }
    assert_eq!(
        reason(f.ingest.accept(http("ESEAL-1", 1, 4, uplink("ESEAL-1", 4, "POSITION"))).await),
        Refusal::RateLimited
    );
    f.ingest.accept(http("ESEAL-2", 2, 1, uplink("ESEAL-2", 1, "POSITION"))).await.unwrap();
}

#[tokio::test]
async fn sequence_numbers_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iot").join("sequences.redb");
    let book = SequenceBook::open(&path).await.unwrap();
    book.check("ESEAL-1", 5).unwrap();
    book.admit("ESEAL-1", 5).await.unwrap();
    book.admit("ESEAL-1", 3).await.unwrap();
    drop(book);
    let book = SequenceBook::open(&path).await.unwrap();
    assert_eq!(book.check("ESEAL-1", 5).unwrap_err().reason, Refusal::Replay);
    book.check("ESEAL-1", 6).unwrap();
    book.check("ESEAL-2", 1).unwrap();
}

fn epcis_document(event_time_ms: i64) -> Vec<u8> {
    serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": borderlink_model::datetime::format_unix_ms(NOW),
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent",
            "eventTime": borderlink_model::datetime::format_unix_ms(event_time_ms),
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
            "action": "OBSERVE",
            "bizStep": "shipping"
        }]}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_readers_epcis_document_is_stored_under_its_cbv_hash_ids() {
    use borderlink_iot::epcis::Format;
    use borderlink_iot::epcis::hash::document_hash_ids;
    let f = fixture(0, 0);
    let doc = epcis_document(NOW - 5_000);
    let expected: Vec<String> = document_hash_ids(&doc, Format::Json).unwrap().into_iter().map(|(_, h)| h).collect();
    let admitted = f.ingest.accept(http("ESEAL-1", 1, 1, doc.clone())).await.unwrap();
    assert_eq!(admitted.stored, expected);
    let stored = f.store.get(&expected[0]).await.unwrap().expect("stored");
    assert_eq!(stored.event.biz_step.as_deref(), Some("https://ref.gs1.org/cbv/BizStep-shipping"));
    // Sent again under a new number: a duplicate, not a second event.
    let again = f.ingest.accept(http("ESEAL-1", 1, 2, doc)).await.unwrap();
    assert_eq!((again.stored.len(), again.duplicates), (0, expected));
    assert_eq!(f.store.count().await.unwrap(), 1);
    // Dated last month: refused; not a document at all: refused.
    assert_eq!(
        reason(f.ingest.accept(http("ESEAL-1", 1, 3, epcis_document(NOW - 30 * 86_400_000))).await),
        Refusal::ClockOff
    );
    let broken = br#"{"epcisBody": {"eventList": "none"}}"#.to_vec();
    assert_eq!(reason(f.ingest.accept(http("ESEAL-1", 1, 4, broken)).await), Refusal::Malformed);
    // Over MQTT, a device that holds a key signs too: the broker's login is not enough.
    let mut m = http("ESEAL-1", 1, 5, epcis_document(NOW - 5_000));
    m.interface = Interface::Mqtt;
    m.channel = Some("tenants/nl-customs/devices/ESEAL-1/events".into());
    m.sequence = None;
    m.signature = None;
    assert_eq!(reason(f.ingest.accept(m).await), Refusal::BadCredential);
}
