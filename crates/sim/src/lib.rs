//! Borderlink's trip simulator: container trips along real road corridors between UN/LOCODE
//! places, as their devices would report them — an e-seal's JSON uplinks (sealing at the origin,
//! positions, tampering, arrival, opening at the destination) and a GPS tracker's Codec 8 packets
//! (positions every few minutes, battery level) — with the incidents customs must notice: a seal
//! tampered with on the way, a detour off the declared corridor, a long stop outside an
//! authorised place, a dead battery.
//!
//! [`plan`] makes a [`SimTrip`]: the trip's identities (a container number with its ISO 6346
//! check digit, a seal, an e-seal, a tracker with a valid IMEI), its rules (authorised places at
//! both ends, the corridor with its buffer, the longest stop) and its messages in time order.
//! Everything is deterministic for a seed and the caller's clock; this crate does no I/O — the
//! CLI's `borderlink sim trips` registers the devices, opens the trips and sends the messages
//! over MQTT, HTTP and Codec 8.

#![forbid(unsafe_code)]

use borderlink_iot::codec8::{Gps, IoValue, Record, encode_packet};
use borderlink_iot::geo::Point;
use borderlink_iot::uplink::IO_BATTERY_LEVEL;
use serde_json::{Value, json};

/// A place of the UN/LOCODE list with its coordinates (from the UN/LOCODE code list, UNECE,
/// degrees and minutes rounded to decimal degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub locode: &'static str,
    pub name: &'static str,
    pub at: Point,
}

const fn place(locode: &'static str, name: &'static str, lat: f64, lon: f64) -> Place {
    Place { locode, name, at: Point { lat, lon } }
}

/// A road corridor between two places: the waypoints of the usual motorway route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corridor {
    pub from: Place,
    pub to: Place,
    /// Towns the route passes, in order (not the ends).
    pub via: &'static [Point],
}

const ROTTERDAM: Place = place("NLRTM", "Rotterdam", 51.92, 4.48);
const DUISBURG: Place = place("DEDUI", "Duisburg", 51.43, 6.76);
const ANTWERP: Place = place("BEANR", "Antwerpen", 51.22, 4.40);
const HAMBURG: Place = place("DEHAM", "Hamburg", 53.55, 10.00);
const POZNAN: Place = place("PLPOZ", "Poznan", 52.41, 16.93);
const FELIXSTOWE: Place = place("GBFXT", "Felixstowe", 51.96, 1.35);
const BIRMINGHAM: Place = place("GBBHM", "Birmingham", 52.48, -1.90);
const LE_HAVRE: Place = place("FRLEH", "Le Havre", 49.49, 0.11);
const PARIS: Place = place("FRPAR", "Paris", 48.86, 2.35);

/// The corridors the simulator drives (motorway routes through the towns named).
pub const CORRIDORS: &[Corridor] = &[
    // A15 / A12 / A3: Rotterdam – Gorinchem – Nijmegen – Emmerich – Oberhausen.
    Corridor {
        from: ROTTERDAM,
        to: DUISBURG,
        via: &[
            Point { lat: 51.83, lon: 4.97 },
            Point { lat: 51.84, lon: 5.86 },
            Point { lat: 51.83, lon: 6.25 },
            Point { lat: 51.50, lon: 6.85 },
        ],
    },
    // A1 / A7: Antwerpen – Eindhoven – Venlo – Osnabrück – Bremen.
    Corridor {
        from: ANTWERP,
        to: HAMBURG,
        via: &[
            Point { lat: 51.44, lon: 5.48 },
            Point { lat: 51.37, lon: 6.17 },
            Point { lat: 52.28, lon: 8.05 },
            Point { lat: 53.08, lon: 8.80 },
        ],
    },
    // A24 / A10 / A12 / A2: Hamburg – Berlin ring – Frankfurt (Oder) – Świecko.
    Corridor {
        from: HAMBURG,
        to: POZNAN,
        via: &[
            Point { lat: 53.25, lon: 11.50 },
            Point { lat: 52.60, lon: 13.10 },
            Point { lat: 52.34, lon: 14.55 },
            Point { lat: 52.35, lon: 15.80 },
        ],
    },
    // A14 / M6: Felixstowe – Cambridge – Kettering – Coventry.
    Corridor {
        from: FELIXSTOWE,
        to: BIRMINGHAM,
        via: &[
            Point { lat: 52.06, lon: 1.15 },
            Point { lat: 52.21, lon: 0.12 },
            Point { lat: 52.40, lon: -0.73 },
            Point { lat: 52.41, lon: -1.51 },
        ],
    },
    // A13: Le Havre – Rouen – Mantes.
    Corridor { from: LE_HAVRE, to: PARIS, via: &[Point { lat: 49.44, lon: 1.09 }, Point { lat: 48.99, lon: 1.72 }] },
];

/// What goes wrong on a trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incident {
    None,
    /// The seal is tampered with halfway, outside any authorised place.
    Tamper,
    /// The truck leaves the corridor for a stretch (20 km off the route).
    Detour,
    /// The truck stops for 75 minutes halfway, outside any authorised place.
    LongStop,
    /// The tracker's battery runs down and it falls silent before arrival.
    DeadBattery,
}

impl Incident {
    /// The incident of the `i`-th trip: most trips are uneventful.
    pub fn of_trip(i: usize) -> Self {
        match i % 8 {
            2 => Incident::Tamper,
            4 => Incident::Detour,
            5 => Incident::LongStop,
            7 => Incident::DeadBattery,
            _ => Incident::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Incident::None => "none",
            Incident::Tamper => "tamper",
            Incident::Detour => "detour",
            Incident::LongStop => "long-stop",
            Incident::DeadBattery => "dead-battery",
        }
    }
}

/// What a message is.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// An e-seal's JSON uplink (the shape of `eseal-mqtt-payload.json`).
    Seal(Vec<u8>),
    /// A tracker's Codec 8 AVL packet (preamble to CRC).
    Codec8(Vec<u8>),
}

/// One message of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// When the device sends it (ms since the epoch).
    pub at_ms: i64,
    /// The device (its registry id; the IMEI for the tracker).
    pub device: String,
    /// The device's message sequence number (from 1).
    pub seq: u64,
    pub payload: Payload,
}

/// A simulated trip.
#[derive(Debug, Clone, PartialEq)]
pub struct SimTrip {
    pub trip_id: String,
    pub corridor: Corridor,
    pub incident: Incident,
    /// ISO 6346, with its check digit.
    pub container: String,
    pub seal_manufacturer: String,
    pub seal_serial: String,
    /// The e-seal's device id.
    pub eseal: String,
    /// The tracker's device id: its IMEI (a Codec 8 tracker names itself by it).
    pub tracker: String,
    pub start_ms: i64,
    /// When it is due at the destination.
    pub deadline_ms: i64,
    /// The trip's rules as the node's `POST /api/v1/iot/trips` takes them.
    pub rules: Value,
    /// The messages, in time order.
    pub messages: Vec<Message>,
}

impl SimTrip {
    /// The body of `POST /api/v1/iot/trips` for this trip.
    pub fn trip_body(&self, administrations: &[String]) -> Value {
        json!({
            "tripId": self.trip_id,
            "container": self.container,
            "seal": format!("{}{}", self.seal_manufacturer, self.seal_serial),
            "devices": [self.eseal, self.tracker],
            "rules": self.rules,
            "deadlineMs": self.deadline_ms,
            "administrations": administrations,
        })
    }
}

/// A small deterministic generator (SplitMix64): no RNG crate, the same trips for a seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An ISO 6346 container number for owner code `owner` (three letters, category U) and serial.
pub fn container_number(owner: &str, serial: u32) -> String {
    let base = format!("{owner}U{:06}", serial % 1_000_000);
    for d in 0..=9 {
        let candidate = format!("{base}{d}");
        if borderlink_model::container::check_container_id(&candidate).is_ok() {
            return candidate;
        }
    }
    // Check digit 10 is written 0 (ISO 6346).
    format!("{base}0")
}

/// A 15-digit IMEI with its Luhn check digit, from a 14-digit body.
pub fn imei(body: u64) -> String {
    let digits = format!("{:014}", body % 100_000_000_000_000);
    let check = borderlink_iot::device::luhn_digit(&digits).unwrap_or(0);
    format!("{digits}{check}")
}

/// Points every `step_m` metres along `route` (the ends included).
fn along(route: &[Point], step_m: f64) -> Vec<Point> {
    let mut out = vec![route[0]];
    for pair in route.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let n = (a.distance_m(&b) / step_m).ceil().max(1.0) as usize;
        for k in 1..=n {
            let f = k as f64 / n as f64;
            out.push(Point { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f });
        }
    }
    out
}

fn iso(ms: i64) -> String {
    borderlink_iot::epcis::hash::utc_string(ms)
}

fn seal_uplink(trip: &SimTrip, seq: u64, at_ms: i64, event: &str, p: Point, battery_v: f64) -> Vec<u8> {
    let status = match event {
        "SEALED" | "POSITION" | "HEARTBEAT" | "ARRIVED" => "SEALED",
        other => other,
    };
    let v = json!({
        "deviceId": trip.eseal,
        "manufacturerId": trip.seal_manufacturer,
        "tagSerial": trip.seal_serial,
        "containerId": trip.container,
        "seq": seq,
        "time": iso(at_ms),
        "event": event,
        "sealStatus": status,
        "battery": {"voltage": battery_v, "low": battery_v < 3.3},
        "position": {"lat": (p.lat * 1e5).round() / 1e5, "lon": (p.lon * 1e5).round() / 1e5, "fix": "GNSS", "hdop": 0.9},
        "transport": "cellular-LTE-M",
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Plans trip number `index` on `corridor`, starting at `start_ms`: the tracker reports every
/// `interval_s` seconds at about 70 km/h, the e-seal every 30 minutes and at each of its events.
pub fn plan(
    index: usize,
    corridor: Corridor,
    incident: Incident,
    start_ms: i64,
    interval_s: u32,
    seed: u64,
) -> SimTrip {
    let mut rng = Rng(seed ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut route = vec![corridor.from.at];
    route.extend_from_slice(corridor.via);
    route.push(corridor.to.at);
    let speed_mps = (65.0 + 15.0 * rng.unit()) / 3.6;
    let interval_ms = i64::from(interval_s.max(10)) * 1000;
    let step_m = speed_mps * f64::from(interval_s.max(10));
    let mut points = along(&route, step_m);
    let half = points.len() / 2;
    match incident {
        Incident::Detour => {
            // A stretch 20 km north of the route, then back.
            let span = (points.len() / 6).max(3);
            for (k, p) in points.iter_mut().enumerate().skip(half).take(span) {
                let bump = if k == half || k == half + span - 1 { 0.09 } else { 0.18 };
                p.lat += bump;
            }
        }
        Incident::LongStop => {
            let stop = points[half];
            let n = (75 * 60_000 / interval_ms).max(1) as usize;
            for _ in 0..n {
                points.insert(half, Point { lat: stop.lat + 0.0002 * rng.unit(), lon: stop.lon });
            }
        }
        _ => {}
    }
    let owners = ["MSK", "CMA", "HLX", "MSC", "ONE", "EGH"];
    let owner = owners[(rng.next_u64() % owners.len() as u64) as usize];
    let container = container_number(owner, (rng.next_u64() % 1_000_000) as u32);
    let serial = format!("{:06X}", rng.next_u64() % 0xFF_FFFF);
    let trip_id = format!("SIM-{}-{}-{:03}", corridor.from.locode, corridor.to.locode, index + 1);
    let tracker = imei(35_630_704_000_000 + rng.next_u64() % 1_000_000);
    let eseal = format!("ESEAL-0A1B{serial}");
    let duration_ms = points.len() as i64 * interval_ms;
    let mut trip = SimTrip {
        trip_id,
        corridor,
        incident,
        container,
        seal_manufacturer: "0A1B".into(),
        seal_serial: serial,
        eseal,
        tracker,
        start_ms,
        deadline_ms: start_ms + duration_ms * 3 / 2 + 3_600_000,
        rules: json!({
            "name": format!("Transit {} → {}", corridor.from.name, corridor.to.name),
            "authorised_places": [
                {"name": format!("{} container terminal", corridor.from.name), "locode": corridor.from.locode,
                 "area": {"shape": "circle", "centre": corridor.from.at, "radius_m": 5000.0}},
                {"name": format!("{} customs office", corridor.to.name), "locode": corridor.to.locode,
                 "area": {"shape": "circle", "centre": corridor.to.at, "radius_m": 5000.0}},
            ],
            "corridor": {"route": route, "buffer_m": 8000.0},
            "max_stop_minutes": 45,
        }),
        messages: Vec::new(),
    };
    let mut seal_seq = 0u64;
    let mut tracker_seq = 0u64;
    let mut messages = Vec::new();
    let mut seal_msg = |trip: &SimTrip, at: i64, event: &str, p: Point, v: f64| {
        seal_seq += 1;
        Message {
            at_ms: at,
            device: trip.eseal.clone(),
            seq: seal_seq,
            payload: Payload::Seal(seal_uplink(trip, seal_seq, at, event, p, v)),
        }
    };
    messages.push(seal_msg(&trip, start_ms, "SEALED", points[0], 3.6));
    let dead_at = (points.len() * 3) / 4;
    let tamper_at = half + 2;
    for (k, p) in points.iter().enumerate() {
        let at = start_ms + (k as i64 + 1) * interval_ms;
        let battery = if incident == Incident::DeadBattery {
            (90.0 - 80.0 * k as f64 / dead_at as f64).max(3.0)
        } else {
            (95.0 - 10.0 * k as f64 / points.len() as f64).max(50.0)
        };
        let silent = incident == Incident::DeadBattery && k > dead_at;
        if !silent {
            tracker_seq += 1;
            let record = Record {
                timestamp_ms: at,
                priority: 0,
                gps: Gps { position: *p, altitude: 10, angle: 90, satellites: 9, speed: (speed_mps * 3.6) as u16 },
                event_io: 0,
                io: vec![(IO_BATTERY_LEVEL, IoValue::Number(battery as u64))],
            };
            messages.push(Message {
                at_ms: at,
                device: trip.tracker.clone(),
                seq: tracker_seq,
                payload: Payload::Codec8(encode_packet(&[record])),
            });
        }
        if incident == Incident::Tamper && k == tamper_at {
            messages.push(seal_msg(&trip, at + 30_000, "TAMPERED", *p, 3.5));
        } else if k % ((30 * 60_000 / interval_ms).max(1) as usize) == 0 && k > 0 {
            messages.push(seal_msg(&trip, at + 10_000, "POSITION", *p, 3.55));
        }
    }
    let end = start_ms + (points.len() as i64 + 1) * interval_ms;
    let last = *points.last().unwrap_or(&corridor.to.at);
    messages.push(seal_msg(&trip, end + 60_000, "ARRIVED", last, 3.5));
    messages.push(seal_msg(&trip, end + 20 * 60_000, "OPENED", last, 3.5));
    messages.sort_by_key(|m| m.at_ms);
    trip.messages = messages;
    trip
}

/// `n` trips starting `spread_ms` apart from `first_start_ms`, on the corridors in turn, with
/// the incidents of [`Incident::of_trip`].
pub fn plan_trips(n: usize, first_start_ms: i64, spread_ms: i64, interval_s: u32, seed: u64) -> Vec<SimTrip> {
    (0..n)
        .map(|i| {
            let corridor = CORRIDORS[i % CORRIDORS.len()];
            plan(i, corridor, Incident::of_trip(i), first_start_ms + i as i64 * spread_ms, interval_s, seed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use borderlink_iot::codec8::parse_packet;
    use borderlink_iot::device::is_imei;
    use borderlink_iot::rules::{Monitor, RuleKind, RuleSet};
    use borderlink_iot::uplink::{SealUplink, codec8_observations};

    use super::*;

    /// Runs a trip's messages through the rules, as the node would.
    fn alerts_of(trip: &SimTrip) -> Vec<RuleKind> {
        let rules: RuleSet = serde_json::from_value(trip.rules.clone()).expect("rules");
        rules.check().expect("consistent rules");
        let mut m = Monitor::new(rules, 300, Some(trip.deadline_ms));
        let mut fired = Vec::new();
        for msg in &trip.messages {
            let obs = match &msg.payload {
                Payload::Seal(b) => SealUplink::parse(b).expect("uplink").observations(),
                Payload::Codec8(b) => {
                    let (p, _) = parse_packet(b).expect("frame").expect("whole");
                    p.records.iter().flat_map(codec8_observations).collect()
                }
            };
            for o in obs {
                fired.extend(m.observe(&o).into_iter().map(|a| a.rule));
            }
            fired.extend(m.tick(msg.at_ms).into_iter().map(|a| a.rule));
        }
        fired
    }

    #[test]
    fn identities_are_valid() {
        for i in 0..50 {
            let c = container_number("MSK", i * 7919);
            assert!(borderlink_model::container::check_container_id(&c).is_ok(), "{c}");
            assert!(is_imei(&imei(35_630_704_000_000 + u64::from(i))), "{}", imei(u64::from(i)));
        }
    }

    #[test]
    fn each_incident_fires_its_rule_and_an_uneventful_trip_none() {
        let start = 1_772_443_800_000;
        let expect = [
            (Incident::None, None),
            (Incident::Tamper, Some(RuleKind::SealOpened)),
            (Incident::Detour, Some(RuleKind::RouteDeviation)),
            (Incident::LongStop, Some(RuleKind::LongStop)),
            (Incident::DeadBattery, Some(RuleKind::LowBattery)),
        ];
        for corridor in CORRIDORS {
            for (incident, rule) in expect {
                let trip = plan(3, *corridor, incident, start, 300, 42);
                assert!(trip.messages.windows(2).all(|w| w[0].at_ms <= w[1].at_ms), "in time order");
                let fired = alerts_of(&trip);
                match rule {
                    None => assert!(fired.is_empty(), "{} {}: {fired:?}", trip.trip_id, incident.as_str()),
                    Some(r) => assert!(fired.contains(&r), "{} {}: {fired:?}", trip.trip_id, incident.as_str()),
                }
            }
        }
    }

    #[test]
    fn the_same_seed_plans_the_same_trips() {
        let a = plan_trips(6, 0, 600_000, 300, 7);
        let b = plan_trips(6, 0, 600_000, 300, 7);
        assert_eq!(a, b);
        assert_ne!(a[0].container, plan_trips(1, 0, 0, 300, 8)[0].container);
        let ids: std::collections::BTreeSet<&str> = a.iter().map(|t| t.trip_id.as_str()).collect();
        assert_eq!(ids.len(), 6);
    }
}
