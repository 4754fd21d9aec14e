//! A trace: what the stored EPCIS events of one container, seal or vehicle say, in time order —
//! each event in a line a person reads, the positions (from `geo:` read points), the seal's
//! state and when it changed (from the dispositions `container_closed` / `container_open` and
//! the alarm reports the mapping writes, see [`crate::mapping`]).
//!
//! It reads the events' JSON-LD as stored, so that events captured through the EPCIS interface
//! are traced the same way as those the node mapped from devices' messages.

use serde::Serialize;
use serde_json::Value;

use crate::epcis::hash::utc_string;
use crate::geo::Point;
use crate::rules::{SealState, UnixMillis};

/// One event of a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceEvent {
    /// Its event hash ID.
    pub hash_id: String,
    /// Event time (ms since the epoch, UTC).
    pub at: UnixMillis,
    /// `ObjectEvent`, `AssociationEvent`, …
    pub event_type: String,
    /// The CBV business step and disposition, short (`installing`, `container_closed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biz_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// Where, when the event says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Point>,
    /// What it means for the seal, when it says anything of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal: Option<SealState>,
    /// The event in words.
    pub summary: String,
    /// The device that reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// A trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// The events, oldest first.
    pub events: Vec<TraceEvent>,
    /// The positions, oldest first.
    pub positions: Vec<(UnixMillis, Point)>,
    /// The seal's last state, if any event said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal: Option<SealState>,
    /// When the seal was last installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed_at: Option<UnixMillis>,
    /// Whether the seal is intact since it was last installed: installed, and neither opened
    /// nor tampered with after.
    pub intact_since_sealing: bool,
}

/// The short name of a CBV value (`https://ref.gs1.org/cbv/Disp-container_closed`,
/// `urn:epcglobal:cbv:disp:container_closed` and `container_closed` are all `container_closed`).
pub fn short(value: &str) -> &str {
    let tail = value.rsplit([':', '/']).next().unwrap_or(value);
    tail.split_once('-').map_or(tail, |(prefix, rest)| {
        if matches!(prefix, "BizStep" | "Disp" | "ER" | "SDT" | "BTT" | "Comp") { rest } else { tail }
    })
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A `geo:lat,lon` URI (RFC 5870) as a point.
pub fn geo_point(uri: &str) -> Option<Point> {
    let rest = uri.strip_prefix("geo:")?;
    let coords = rest.split([';', '?']).next()?;
    let mut parts = coords.split(',');
    let lat: f64 = parts.next()?.trim().parse().ok()?;
    let lon: f64 = parts.next()?.trim().parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some(Point { lat, lon })
}

/// The alarm text of the event's sensor reports (`OPENED`, `TAMPERED`), if one reports an
/// `ALARM_CONDITION`.
fn alarm(event: &Value) -> Option<String> {
    for element in event.get("sensorElementList").and_then(Value::as_array).into_iter().flatten() {
        for report in element.get("sensorReport").and_then(Value::as_array).into_iter().flatten() {
            if text(report, "exception").is_some_and(|e| short(e) == "ALARM_CONDITION") {
                return Some(text(report, "stringValue").unwrap_or("ALARM").to_owned());
            }
        }
    }
    None
}

fn seal_of(event: &Value, biz_step: Option<&str>, disposition: Option<&str>) -> Option<SealState> {
    match (biz_step, disposition) {
        (_, Some("container_closed")) => Some(SealState::Sealed),
        (_, Some("container_open")) => match alarm(event).as_deref() {
            Some("TAMPERED") => Some(SealState::Tampered),
            _ => Some(SealState::Opened),
        },
        _ => None,
    }
}

fn summary(event_type: &str, biz_step: Option<&str>, seal: Option<SealState>, event: &Value) -> String {
    match seal {
        Some(SealState::Sealed) => return "sealed: seal installed on the container".into(),
        Some(SealState::Tampered) => return "seal tampered with (alarm)".into(),
        Some(SealState::Opened) if text(event, "action") == Some("DELETE") => return "seal removed".into(),
        Some(SealState::Opened) => return "seal opened (alarm)".into(),
        None => {}
    }
    match biz_step {
        Some("sensor_reporting") if alarm(event).is_some() => "sensor alarm".into(),
        Some("sensor_reporting") => "position and sensor report".into(),
        Some("arriving") => "arrived".into(),
        Some("departing") => "departed".into(),
        Some(step) => format!("{} ({})", step.replace('_', " "), event_type),
        None => event_type.to_owned(),
    }
}

/// The trace of `events` — `(hash ID, event time, device, event JSON-LD)`, in any order.
pub fn trace(events: &[(String, UnixMillis, Option<String>, Value)]) -> Trace {
    let mut sorted: Vec<&(String, UnixMillis, Option<String>, Value)> = events.iter().collect();
    sorted.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut t = Trace::default();
    for (hash_id, at, device, event) in sorted {
        let event_type = text(event, "type").unwrap_or("Event").to_owned();
        let biz_step = text(event, "bizStep").map(|s| short(s).to_owned());
        let disposition = text(event, "disposition").map(|s| short(s).to_owned());
        let position = event.get("readPoint").and_then(|r| text(r, "id")).and_then(geo_point);
        let seal = seal_of(event, biz_step.as_deref(), disposition.as_deref());
        if let Some(p) = position {
            t.positions.push((*at, p));
        }
        match seal {
            Some(SealState::Sealed) => {
                t.sealed_at = Some(*at);
                t.intact_since_sealing = true;
            }
            Some(SealState::Opened | SealState::Tampered) => t.intact_since_sealing = false,
            None => {}
        }
        if seal.is_some() {
            t.seal = seal;
        }
        t.events.push(TraceEvent {
            hash_id: hash_id.clone(),
            at: *at,
            summary: summary(&event_type, biz_step.as_deref(), seal, event),
            event_type,
            biz_step,
            disposition,
            position,
            seal,
            device: device.clone(),
        });
    }
    t
}

/// An instant for people (`2026-03-02T09:30:00.000Z`).
pub fn instant(ms: UnixMillis) -> String {
    utc_string(ms)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ev(id: &str, at: i64, v: Value) -> (String, i64, Option<String>, Value) {
        (id.into(), at, Some("ESEAL-1".into()), v)
    }

    #[test]
    fn a_trace_orders_events_and_follows_the_seal_and_the_positions() {
        let sealed = json!({"type": "AssociationEvent", "action": "ADD", "bizStep": "installing",
            "disposition": "container_closed", "readPoint": {"id": "geo:51.95,4.14"}});
        let position = json!({"type": "ObjectEvent", "action": "OBSERVE",
            "bizStep": "https://ref.gs1.org/cbv/BizStep-sensor_reporting", "readPoint": {"id": "geo:51.80,4.60"}});
        let tampered = json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "sensor_reporting",
            "disposition": "urn:epcglobal:cbv:disp:container_open",
            "sensorElementList": [{"sensorReport": [{"exception": "ALARM_CONDITION", "stringValue": "TAMPERED"}]}]});
        let t = trace(&[ev("b", 2_000, position.clone()), ev("a", 1_000, sealed.clone())]);
        assert_eq!(t.events.iter().map(|e| e.hash_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!((t.seal, t.sealed_at, t.intact_since_sealing), (Some(SealState::Sealed), Some(1_000), true));
        assert_eq!(t.positions.len(), 2);
        assert_eq!(t.events[1].summary, "position and sensor report");
        let t = trace(&[ev("a", 1_000, sealed.clone()), ev("c", 3_000, tampered), ev("b", 2_000, position)]);
        assert_eq!((t.seal, t.intact_since_sealing), (Some(SealState::Tampered), false));
        assert_eq!(t.events[2].summary, "seal tampered with (alarm)");
        // Sealed again afterwards: intact since that sealing.
        let t = trace(&[ev("a", 1_000, sealed.clone()), ev("d", 5_000, sealed)]);
        assert!(t.intact_since_sealing);
        assert!(!trace(&[]).intact_since_sealing, "never sealed is not intact");
        assert_eq!(geo_point("geo:91,0"), None);
        assert_eq!(short("https://ref.gs1.org/cbv/Disp-container_open"), "container_open");
    }
}
