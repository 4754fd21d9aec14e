//! Device messages into EPCIS 2.0 events (DESIGN.md section 5): an e-seal's JSON uplink
//! ([`seal_events`]) and a tracker's Codec 8 records ([`codec8_events`]).
//!
//! # Identifiers
//!
//! GS1 has no key for an ISO 6346 container number, an ISO 18185 seal or a device, and no URN
//! namespace is registered for them, so Borderlink names them with HTTP URIs under its own
//! domain, as EPCIS 2.0 (section 6.4: any URI whose owner controls it) and CBV 2.0 allow for
//! identifiers outside the GS1 system; they are stable, readable, and resolvable later:
//!
//! - container: `https://borderlink.dev/id/iso6346/MSKU1234565` ([`container_uri`]; owner code,
//!   category, serial and check digit, checked upstream);
//! - seal: `https://borderlink.dev/id/iso18185/0A1B/2C3D4E` ([`seal_uri`]; manufacturer id and
//!   tag serial kept apart, because their concatenation is ambiguous);
//! - device: `https://borderlink.dev/id/device/ESEAL-0A1B2C3D4E` ([`device_uri`]; the id the
//!   device registry knows, an IMEI for a Codec 8 tracker).
//!
//! A position becomes a `geo:` URI (RFC 5870) in `readPoint` (WGS 84), and latitude/longitude
//! sensor reports as in the CBV 2.0 examples: `gs1:Angle`, component `Comp-latitude` /
//! `Comp-longitude`, unit `DD`, reference system CRS84.
//!
//! # Events
//!
//! CBV 2.0 has no "sealing" business step. Sealing is the seal being *installed* on the
//! container: an `AssociationEvent` `ADD` (container as `parentID`, seal as child) with bizStep
//! `installing` and disposition `container_closed`. Opening the seal removes it: an
//! `ObjectEvent` on the container with disposition `container_open` and a sensor report
//! `exception: ALARM_CONDITION` (the seal's alarm; the rules decide whether the place made it
//! legitimate), then the `AssociationEvent` `DELETE` with bizStep `removing`. Tampering is the
//! alarm `ObjectEvent` alone (the seal is still on). Positions, battery reports and heartbeats
//! with a position are `ObjectEvent`s `OBSERVE` with bizStep `sensor_reporting`; arrival is
//! bizStep `arriving`. A low battery is an `ALARM_CONDITION` on the battery report.
//!
//! Every event carries `bl:message` (namespace [`BORDERLINK_NS`]): the SHA-256 of the original
//! message bytes as `ni:///sha-256;…` (RFC 6920), which links it to the message kept beside it
//! (and makes two messages with equal content at one time two events, not a duplicate).

use sha2::{Digest, Sha256};

use crate::codec8::Record;
use crate::epcis::hash::utc_string;
use crate::epcis::write::BORDERLINK_NS;
use crate::epcis::{Event, EventType, Extension, Location, QName, SensorElement, SensorFields};
use crate::uplink::{SealUplink, UplinkEvent};

const ID_BASE: &str = "https://borderlink.dev/id/";
const GS1_VOC: &str = "https://gs1.org/voc/";
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// The URI of an ISO 6346 container number.
pub fn container_uri(container: &str) -> String {
    format!("{ID_BASE}iso6346/{container}")
}

/// The URI of an ISO 18185 seal: manufacturer id and tag serial.
pub fn seal_uri(manufacturer: &str, serial: &str) -> String {
    format!("{ID_BASE}iso18185/{manufacturer}/{serial}")
}

/// The URI of a registered device.
pub fn device_uri(device: &str) -> String {
    format!("{ID_BASE}device/{device}")
}

/// A `geo:` URI (RFC 5870, WGS 84) for a position.
pub fn geo_uri(lat: f64, lon: f64) -> String {
    format!("geo:{},{}", num(lat), num(lon))
}

/// Why an uplink cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Sealing and unsealing need the container and the seal (`containerId`, `manufacturerId`,
    /// `tagSerial`).
    #[error("a {event} uplink needs `{field}` to name the {what}")]
    Missing {
        /// The uplink event.
        event: &'static str,
        /// The missing field.
        field: &'static str,
        /// What it names.
        what: &'static str,
    },
}

/// The reference to the original message: `ni:///sha-256;<hex>`.
pub fn message_ref(original: &[u8]) -> String {
    format!("ni:///sha-256;{}", hex::encode(Sha256::digest(original)))
}

/// The EPCIS events an e-seal uplink stands for (none for a heartbeat with nothing to report).
/// `original` is the message as received, which `bl:message` links to.
pub fn seal_events(uplink: &SealUplink, original: &[u8]) -> Result<Vec<Event>, MappingError> {
    let message = message_ref(original);
    let container = uplink.container_id.as_deref().map(container_uri);
    let seal = match (&uplink.manufacturer_id, &uplink.tag_serial) {
        (Some(m), Some(s)) => Some(seal_uri(m, s)),
        _ => None,
    };
    let device = device_uri(&uplink.device_id);
    let base = |event_type: EventType| {
        let mut e = Event::new(event_type);
        e.event_time = Some(uplink.time.clone());
        e.event_time_zone_offset = Some(zone_offset(&uplink.time));
        e.read_point =
            uplink.position.as_ref().map(|p| Location { id: Some(geo_uri(p.lat, p.lon)), extensions: vec![] });
        e.extensions.push(text_extension("message", &message));
        e
    };
    // The object the device watches: the container, else the seal, else the device itself.
    let watched = container.clone().or_else(|| seal.clone()).unwrap_or_else(|| device.clone());
    let name = event_name(uplink.event);
    let association = |action: &str| -> Result<Event, MappingError> {
        let parent =
            container.clone().ok_or(MappingError::Missing { event: name, field: "containerId", what: "container" })?;
        let child = seal.clone().ok_or(MappingError::Missing {
            event: name,
            field: "manufacturerId` and `tagSerial",
            what: "seal",
        })?;
        let mut e = base(EventType::Association);
        e.parent_id = Some(parent);
        e.child_epcs = vec![child];
        e.action = Some(action.to_owned());
        if action == "ADD" {
            e.biz_step = Some("installing".into());
            e.disposition = Some("container_closed".into());
        } else {
            e.biz_step = Some("removing".into());
            e.disposition = Some("container_open".into());
        }
        Ok(e)
    };
    let observe = |biz_step: &str, alarm: Option<&str>| {
        let mut e = base(EventType::Object);
        e.epc_list = vec![watched.clone()];
        e.action = Some("OBSERVE".into());
        e.biz_step = Some(biz_step.to_owned());
        let mut reports = Vec::new();
        if let Some(status) = alarm {
            e.disposition = Some("container_open".into());
            reports.push(SensorFields {
                fields: vec![("exception", "ALARM_CONDITION".into()), ("stringValue", status.into())],
                extensions: vec![],
            });
        }
        if let Some(p) = &uplink.position {
            reports.extend(position_reports(p.lat, p.lon));
        }
        if let Some(b) = &uplink.battery {
            let exception = b.low.then_some("ALARM_CONDITION");
            if let Some(v) = b.voltage {
                reports.push(measurement("Voltage", num(v), "VLT", exception));
            }
            if let Some(p) = b.percent {
                reports.push(measurement("Dimensionless", num(p), "P1", exception));
            }
            if b.low && b.voltage.is_none() && b.percent.is_none() {
                reports.push(SensorFields {
                    fields: vec![("type", format!("{GS1_VOC}Voltage")), ("exception", "ALARM_CONDITION".into())],
                    extensions: vec![],
                });
            }
        }
        if !reports.is_empty() {
            e.sensor_element_list = vec![SensorElement {
                metadata: Some(SensorFields { fields: vec![("deviceID", device.clone())], extensions: vec![] }),
                reports,
                extensions: vec![],
            }];
        }
        e
    };
    Ok(match uplink.event {
        UplinkEvent::Sealed => vec![association("ADD")?],
        UplinkEvent::Opened => vec![observe("sensor_reporting", Some("OPENED")), association("DELETE")?],
        UplinkEvent::Tampered => vec![observe("sensor_reporting", Some("TAMPERED"))],
        UplinkEvent::Arrived => vec![observe("arriving", None)],
        UplinkEvent::Position | UplinkEvent::Battery => vec![observe("sensor_reporting", None)],
        UplinkEvent::Heartbeat => {
            let e = observe("sensor_reporting", None);
            if e.sensor_element_list.is_empty() { vec![] } else { vec![e] }
        }
    })
}

/// The `sensor_reporting` events of a tracker's Codec 8 records (one per record with a valid fix
/// or a battery level), `packet` being the bytes they came in.
pub fn codec8_events(device: &str, records: &[Record], packet: &[u8]) -> Vec<Event> {
    let message = message_ref(packet);
    let device = device_uri(device);
    records
        .iter()
        .filter_map(|r| {
            let mut reports = Vec::new();
            let mut e = Event::new(EventType::Object);
            if r.gps.is_valid() {
                let p = r.gps.position;
                reports.extend(position_reports(p.lat, p.lon));
                reports.push(SensorFields {
                    fields: vec![
                        ("type", format!("{GS1_VOC}Length")),
                        ("value", r.gps.altitude.to_string()),
                        ("component", "https://ref.gs1.org/cbv/Comp-altitude".into()),
                        ("uom", "MTR".into()),
                    ],
                    extensions: vec![],
                });
                reports.push(measurement("Speed", r.gps.speed.to_string(), "KMH", None));
                reports.push(SensorFields {
                    fields: vec![
                        ("type", format!("{GS1_VOC}Angle")),
                        ("value", r.gps.angle.to_string()),
                        ("component", "https://ref.gs1.org/cbv/Comp-azimuth".into()),
                        ("uom", "DD".into()),
                    ],
                    extensions: vec![],
                });
                e.read_point = Some(Location { id: Some(geo_uri(p.lat, p.lon)), extensions: vec![] });
            }
            if let Some(level) = r.io_number(crate::uplink::IO_BATTERY_LEVEL) {
                reports.push(SensorFields {
                    fields: vec![
                        ("type", format!("{GS1_VOC}Dimensionless")),
                        ("value", level.min(100).to_string()),
                        ("uom", "P1".into()),
                    ],
                    extensions: vec![],
                });
            }
            if reports.is_empty() {
                return None;
            }
            e.event_time = Some(utc_string(r.timestamp_ms));
            e.event_time_zone_offset = Some("+00:00".into());
            e.epc_list = vec![device.clone()];
            e.action = Some("OBSERVE".into());
            e.biz_step = Some("sensor_reporting".into());
            e.sensor_element_list = vec![SensorElement {
                metadata: Some(SensorFields { fields: vec![("deviceID", device.clone())], extensions: vec![] }),
                reports,
                extensions: vec![],
            }];
            e.extensions.push(text_extension("message", &message));
            Some(e)
        })
        .collect()
}

fn event_name(e: UplinkEvent) -> &'static str {
    match e {
        UplinkEvent::Sealed => "SEALED",
        UplinkEvent::Opened => "OPENED",
        UplinkEvent::Tampered => "TAMPERED",
        UplinkEvent::Position => "POSITION",
        UplinkEvent::Battery => "BATTERY",
        UplinkEvent::Heartbeat => "HEARTBEAT",
        UplinkEvent::Arrived => "ARRIVED",
    }
}

/// A number as the JSON reader spells it, so that a written and re-read event is equal.
fn num(x: f64) -> String {
    format!("{x:?}")
}

fn position_reports(lat: f64, lon: f64) -> [SensorFields; 2] {
    let angle = |value: f64, component: &str| SensorFields {
        fields: vec![
            ("type", format!("{GS1_VOC}Angle")),
            ("value", num(value)),
            ("component", format!("https://ref.gs1.org/cbv/Comp-{component}")),
            ("uom", "DD".into()),
            ("coordinateReferenceSystem", CRS84.into()),
        ],
        extensions: vec![],
    };
    [angle(lat, "latitude"), angle(lon, "longitude")]
}

fn measurement(kind: &str, value: String, uom: &str, exception: Option<&str>) -> SensorFields {
    let mut fields = vec![("type", format!("{GS1_VOC}{kind}"))];
    if let Some(x) = exception {
        fields.push(("exception", x.to_owned()));
    }
    fields.push(("value", value));
    fields.push(("uom", uom.to_owned()));
    SensorFields { fields, extensions: vec![] }
}

fn text_extension(local: &str, value: &str) -> Extension {
    Extension {
        name: QName { namespace: Some(BORDERLINK_NS.to_owned()), local: local.to_owned() },
        value: Some(value.to_owned()),
        children: vec![],
    }
}

/// The `±HH:MM` offset of an ISO 8601 time (`Z` → `+00:00`; none → `+00:00`, the parser's UTC).
fn zone_offset(time: &str) -> String {
    let t = time.trim();
    if let Some(tail) = t.get(t.len().saturating_sub(6)..) {
        let b = tail.as_bytes();
        if b.len() == 6 && (b[0] == b'+' || b[0] == b'-') && b[3] == b':' && t.len() > 19 {
            return tail.to_owned();
        }
    }
    "+00:00".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_read_from_the_time() {
        assert_eq!(zone_offset("2026-03-09T02:41:08Z"), "+00:00");
        assert_eq!(zone_offset("2026-03-09T04:41:08+02:00"), "+02:00");
        assert_eq!(zone_offset("2026-03-09T04:41:08.123-05:30"), "-05:30");
    }

    #[test]
    fn identifiers_are_borderlink_uris() {
        assert_eq!(container_uri("MSKU1234565"), "https://borderlink.dev/id/iso6346/MSKU1234565");
        assert_eq!(seal_uri("0A1B", "2C3D4E"), "https://borderlink.dev/id/iso18185/0A1B/2C3D4E");
        assert_eq!(geo_uri(1.2645, 103.82), "geo:1.2645,103.82");
    }
}
