//! The messages devices send, read into [`Observation`]s for the rules.
//!
//! - [`SealUplink`]: the vendor-neutral JSON uplink of an e-seal or tracker (the shape of
//!   `shared/data/samples/eseal-mqtt-payload.json`, as it arrives on MQTT or HTTP): ISO 18185
//!   data items (seal id = manufacturer id + tag serial, seal status, battery, UTC time) plus a
//!   GNSS position and a per-device sequence number against replays.
//! - Codec 8 records ([`codec8_observations`]): a tracker's positions and its battery level.
//!
//! Fields a vendor adds are ignored here (the original message is kept beside its events);
//! fields that are present but wrong are errors that name the field.

use serde::Deserialize;

use crate::codec8;
use crate::geo::Point;
use crate::rules::{Observation, Reading, SealState, UnixMillis};

/// The largest uplink accepted, in bytes.
pub const MAX_UPLINK_BYTES: usize = 16 * 1024;

/// What is wrong with an uplink.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UplinkError {
    #[error("uplink: {0} bytes exceed the limit of {MAX_UPLINK_BYTES}")]
    TooLarge(usize),
    #[error("uplink: not JSON of the expected shape: {0}")]
    Json(String),
    #[error("uplink: field `{field}`: {problem}")]
    Field { field: &'static str, problem: String },
}

fn bad(field: &'static str, problem: impl Into<String>) -> UplinkError {
    UplinkError::Field { field, problem: problem.into() }
}

/// What the uplink reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UplinkEvent {
    Sealed,
    Opened,
    Tampered,
    Position,
    Battery,
    Heartbeat,
    Arrived,
}

/// The battery as the seal reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Battery {
    #[serde(default)]
    pub voltage: Option<f64>,
    #[serde(default)]
    pub low: bool,
    #[serde(default)]
    pub percent: Option<f64>,
}

/// A GNSS position with its quality.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Fix {
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub fix: Option<String>,
    #[serde(default)]
    pub hdop: Option<f64>,
}

/// An e-seal's or tracker's JSON uplink, checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealUplink {
    pub device_id: String,
    #[serde(default)]
    pub manufacturer_id: Option<String>,
    #[serde(default)]
    pub tag_serial: Option<String>,
    #[serde(default)]
    pub container_id: Option<String>,
    /// The device's message counter: a message whose number is not above the last one seen is
    /// a replay.
    pub seq: u64,
    /// When the device says it happened (ISO 8601 with a zone).
    pub time: String,
    pub event: UplinkEvent,
    #[serde(default)]
    pub seal_status: Option<String>,
    #[serde(default)]
    pub battery: Option<Battery>,
    #[serde(default)]
    pub position: Option<Fix>,
    #[serde(default)]
    pub transport: Option<String>,
}

impl SealUplink {
    /// Reads and checks an uplink.
    pub fn parse(bytes: &[u8]) -> Result<Self, UplinkError> {
        if bytes.len() > MAX_UPLINK_BYTES {
            return Err(UplinkError::TooLarge(bytes.len()));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let u: SealUplink = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            UplinkError::Json(if path == "." { inner.to_string() } else { format!("at `{path}`: {inner}") })
        })?;
        de.end().map_err(|e| UplinkError::Json(e.to_string()))?;
        u.check()?;
        Ok(u)
    }

    fn check(&self) -> Result<(), UplinkError> {
        let id_like = |s: &str| {
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        };
        if !id_like(&self.device_id) {
            return Err(bad("deviceId", "must be 1 to 64 letters, digits or - _ . :"));
        }
        for (field, v) in [("manufacturerId", &self.manufacturer_id), ("tagSerial", &self.tag_serial)] {
            if let Some(v) = v
                && !(id_like(v) && v.len() <= 32)
            {
                return Err(bad(field, "must be 1 to 32 letters or digits"));
            }
        }
        if let Some(c) = &self.container_id {
            borderlink_model::container::check_container_id(c)
                .map_err(|e| bad("containerId", format!("{c:?} is not an ISO 6346 container number ({e:?})")))?;
        }
        self.time_ms()?;
        if let Some(status) = &self.seal_status {
            parse_seal_status(status)?;
        }
        if let Some(f) = &self.position {
            Point::new(f.lat, f.lon).map_err(|e| bad("position", e.to_string()))?;
        }
        if let Some(b) = &self.battery
            && let Some(p) = b.percent
            && !(0.0..=100.0).contains(&p)
        {
            return Err(bad("battery.percent", format!("{p} is not within 0 to 100")));
        }
        if matches!(self.event, UplinkEvent::Position) && self.position.is_none() {
            return Err(bad("position", "a POSITION event must carry a position"));
        }
        Ok(())
    }

    /// The ISO 18185 seal id: manufacturer id and tag serial, when both are given.
    pub fn seal_id(&self) -> Option<String> {
        Some(format!("{}{}", self.manufacturer_id.as_deref()?, self.tag_serial.as_deref()?))
    }

    /// The time of the uplink in milliseconds since the epoch.
    pub fn time_ms(&self) -> Result<UnixMillis, UplinkError> {
        borderlink_model::datetime::parse(&self.time)
            .filter(|_| self.time.len() > 10)
            .map(|s| s * 1000)
            .ok_or_else(|| bad("time", format!("{:?} is not an ISO 8601 date-time with a zone", self.time)))
    }

    /// The position, when it carries one.
    pub fn point(&self) -> Option<Point> {
        self.position.as_ref().map(|f| Point { lat: f.lat, lon: f.lon })
    }

    /// What the rules are to see of this uplink: its event, and the battery when it says
    /// something about it.
    pub fn observations(&self) -> Vec<Observation> {
        // `check` has run: the time parses.
        let at = self.time_ms().unwrap_or_default();
        let position = self.point();
        let mut out = Vec::new();
        let reading = match self.event {
            UplinkEvent::Sealed => Some(Reading::Seal { state: SealState::Sealed, position }),
            UplinkEvent::Opened => Some(Reading::Seal { state: SealState::Opened, position }),
            UplinkEvent::Tampered => Some(Reading::Seal { state: SealState::Tampered, position }),
            UplinkEvent::Position => position.map(|position| Reading::Position { position }),
            UplinkEvent::Arrived => Some(Reading::Arrived),
            UplinkEvent::Battery | UplinkEvent::Heartbeat => None,
        };
        match reading {
            Some(reading) => out.push(Observation { at, reading }),
            None if matches!(self.event, UplinkEvent::Heartbeat) => {
                out.push(Observation { at, reading: Reading::Heartbeat });
                if let Some(position) = position {
                    out.push(Observation { at, reading: Reading::Position { position } });
                }
            }
            None => {}
        }
        if let Some(b) = &self.battery
            && (b.low || b.percent.is_some() || matches!(self.event, UplinkEvent::Battery))
        {
            out.push(Observation { at, reading: Reading::Battery { low: b.low, percent: b.percent } });
        }
        out
    }
}

/// A seal status word as seals report it.
pub fn parse_seal_status(s: &str) -> Result<SealState, UplinkError> {
    match s {
        "SEALED" | "CLOSED" => Ok(SealState::Sealed),
        "OPENED" | "OPEN" => Ok(SealState::Opened),
        "TAMPERED" | "BROKEN" => Ok(SealState::Tampered),
        other => Err(bad("sealStatus", format!("{other:?} is not SEALED, OPENED or TAMPERED"))),
    }
}

/// The Codec 8 I/O element a tracker reports its battery level in, as a percentage.
pub const IO_BATTERY_LEVEL: u16 = 113;

/// What the rules are to see of a Codec 8 record: its position (when the fix is valid) and its
/// battery level (when reported).
pub fn codec8_observations(r: &codec8::Record) -> Vec<Observation> {
    let at = r.timestamp_ms;
    let mut out = Vec::new();
    if r.gps.is_valid() {
        out.push(Observation { at, reading: Reading::Position { position: r.gps.position } });
    } else {
        out.push(Observation { at, reading: Reading::Heartbeat });
    }
    if let Some(level) = r.io_number(IO_BATTERY_LEVEL) {
        let percent = level.min(100) as f64;
        out.push(Observation { at, reading: Reading::Battery { low: false, percent: Some(percent) } });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples/eseal-mqtt-payload.json"))
            .expect("the shared e-seal sample")
    }

    #[test]
    fn the_shared_sample_reads_as_an_opening_with_its_position() {
        let u = SealUplink::parse(&sample()).unwrap();
        assert_eq!(u.seal_id().as_deref(), Some("0A1B2C3D4E"));
        assert_eq!(u.container_id.as_deref(), Some("MSKU1234565"));
        assert_eq!(u.seq, 1842);
        let obs = u.observations();
        assert_eq!(obs.len(), 1, "battery not low and no percentage: nothing to say about it");
        assert_eq!(obs[0].at, borderlink_model::datetime::parse("2026-03-09T02:41:08Z").unwrap() * 1000);
        assert_eq!(
            obs[0].reading,
            Reading::Seal { state: SealState::Opened, position: Some(Point { lat: 1.2645, lon: 103.82 }) }
        );
    }

    #[test]
    fn wrong_fields_are_named() {
        let v: serde_json::Value = serde_json::from_slice(&sample()).unwrap();
        let with = |key: &str, value: serde_json::Value| {
            let mut v = v.clone();
            v[key] = value;
            SealUplink::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err().to_string()
        };
        assert!(with("containerId", "MSKU1234566".into()).contains("containerId"));
        assert!(with("time", "2026-03-09T02:41:08".into()).contains("`time`"), "no zone");
        assert!(with("time", "2026-03-09".into()).contains("`time`"), "a date alone");
        assert!(with("event", "EXPLODED".into()).contains("EXPLODED"));
        assert!(with("position", serde_json::json!({"lat": 95.0, "lon": 1.0})).contains("position"));
        assert!(with("deviceId", "a/b".into()).contains("deviceId"), "no topic separators in ids");
        assert!(with("sealStatus", "AJAR".into()).contains("sealStatus"));
        assert!(with("seq", (-1).into()).contains("seq"));
        let e = SealUplink::parse(&vec![b' '; MAX_UPLINK_BYTES + 1]).unwrap_err();
        assert!(matches!(e, UplinkError::TooLarge(_)));
        assert!(SealUplink::parse(b"{").is_err());
    }

    #[test]
    fn a_low_battery_and_a_heartbeat_reach_the_rules() {
        let u = SealUplink::parse(
            br#"{"deviceId":"T-1","seq":1,"time":"2026-03-09T02:41:08+01:00","event":"HEARTBEAT",
                 "battery":{"low":true},"position":{"lat":1.0,"lon":2.0}}"#,
        )
        .unwrap();
        let kinds: Vec<_> = u.observations().into_iter().map(|o| o.reading).collect();
        assert_eq!(kinds.len(), 3);
        assert_eq!(kinds[0], Reading::Heartbeat);
        assert_eq!(kinds[2], Reading::Battery { low: true, percent: None });
        assert_eq!(u.time_ms().unwrap(), borderlink_model::datetime::parse("2026-03-09T01:41:08Z").unwrap() * 1000);
    }

    #[test]
    fn codec8_records_give_positions_and_battery() {
        let (p, _) = codec8::parse_packet(&hex::decode("000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01F10000601A014E0000000000000000010000C7CF").unwrap())
            .unwrap()
            .unwrap();
        let obs = codec8_observations(&p.records[0]);
        assert_eq!(obs, vec![Observation { at: 0x16B40D8EA30, reading: Reading::Heartbeat }], "no fix: no position");
        let mut r = p.records[0].clone();
        r.gps.satellites = 9;
        r.gps.position = Point { lat: 54.6872, lon: 25.2797 };
        r.io.push((IO_BATTERY_LEVEL, codec8::IoValue::Number(12)));
        let obs = codec8_observations(&r);
        assert_eq!(obs[0].reading, Reading::Position { position: Point { lat: 54.6872, lon: 25.2797 } });
        assert_eq!(obs[1].reading, Reading::Battery { low: false, percent: Some(12.0) });
    }
}
