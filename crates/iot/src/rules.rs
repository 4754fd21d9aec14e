//! Rules as data, and the monitor that turns a conveyance's readings into alerts.
//!
//! A [`RuleSet`] belongs to a procedure or a route (e.g. "T1 transit Rotterdam → Duisburg"): the
//! places where a seal may be opened and a conveyance may stop, the declared corridor, the longest
//! stop, the battery level that is too low, the grace after a device's reporting interval. A
//! [`Monitor`] holds one trace's state (a container, seal or vehicle) and is fed its readings in
//! the order they arrive ([`Monitor::observe`]) and the passing of time ([`Monitor::tick`], for
//! what is noticed by absence: a silent device, an overdue transit). Each returns the alerts that
//! fired; an alert fires once and is armed again when its condition clears (back in the corridor,
//! moving again, battery replaced, the device heard from again).
//!
//! Time is milliseconds since the Unix epoch, from the readings themselves and from the caller's
//! clock: the monitor has none of its own.

use serde::{Deserialize, Serialize};

use crate::geo::{Area, BadArea, Corridor, Point};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMillis = i64;

/// A place where a seal may be opened and a conveyance may stop: an office of departure or
/// destination, an authorised consignee's premises, a customs car park.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub name: String,
    /// Its UN/LOCODE, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locode: Option<String>,
    pub area: Area,
}

/// The rules of a procedure or a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub name: String,
    /// Where a seal may be opened and a stop of any length is allowed.
    #[serde(default)]
    pub authorised_places: Vec<Place>,
    /// The declared corridor; without one, route deviation is not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corridor: Option<Corridor>,
    /// The longest stop outside an authorised place; without it, stops are not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stop_minutes: Option<u32>,
    /// Positions within this distance of where a stop began belong to the stop (GNSS jitter).
    #[serde(default = "default_stop_radius_m")]
    pub stop_radius_m: f64,
    /// How long after its reporting interval a device may stay silent before an alert.
    #[serde(default = "default_silence_grace_s")]
    pub silence_grace_s: u32,
    /// A battery at or below this percentage (or reported low by the device) raises an alert.
    #[serde(default = "default_low_battery_percent")]
    pub low_battery_percent: f64,
    /// How long a position stays good for placing a seal event that carries none.
    #[serde(default = "default_position_valid_s")]
    pub position_valid_s: u32,
}

fn default_stop_radius_m() -> f64 {
    150.0
}
fn default_silence_grace_s() -> u32 {
    120
}
fn default_low_battery_percent() -> f64 {
    15.0
}
fn default_position_valid_s() -> u32 {
    600
}

/// A rule set that cannot be applied, with the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BadRuleSet {
    #[error("rule set: {0}")]
    Area(#[from] BadArea),
    #[error("rule set: {field} {problem}")]
    Field { field: &'static str, problem: &'static str },
}

impl RuleSet {
    /// A rule set with no rule switched on beyond the defaults (seal, battery, silence).
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            authorised_places: Vec::new(),
            corridor: None,
            max_stop_minutes: None,
            stop_radius_m: default_stop_radius_m(),
            silence_grace_s: default_silence_grace_s(),
            low_battery_percent: default_low_battery_percent(),
            position_valid_s: default_position_valid_s(),
        }
    }

    /// Checks every place, the corridor and the figures.
    pub fn check(&self) -> Result<(), BadRuleSet> {
        if self.name.trim().is_empty() {
            return Err(BadRuleSet::Field { field: "name", problem: "is empty" });
        }
        for p in &self.authorised_places {
            p.area.check(&format!("authorised place {:?}", p.name))?;
        }
        if let Some(c) = &self.corridor {
            c.check()?;
        }
        if !(self.stop_radius_m.is_finite() && self.stop_radius_m > 0.0) {
            return Err(BadRuleSet::Field { field: "stop_radius_m", problem: "must be a positive number of metres" });
        }
        if !(0.0..=100.0).contains(&self.low_battery_percent) {
            return Err(BadRuleSet::Field { field: "low_battery_percent", problem: "must be within 0 to 100" });
        }
        if self.max_stop_minutes == Some(0) {
            return Err(BadRuleSet::Field { field: "max_stop_minutes", problem: "must be at least 1" });
        }
        Ok(())
    }

    /// The authorised place that contains `p`, if any.
    pub fn authorised_place(&self, p: &Point) -> Option<&Place> {
        self.authorised_places.iter().find(|place| place.area.contains(p))
    }
}

/// A seal's state as ISO 18185 seals report it, with tampering (a forced or cut seal, a wire
/// loop broken) apart from an opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SealState {
    Sealed,
    Opened,
    Tampered,
}

/// What a device reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reading {
    Position {
        position: Point,
    },
    Seal {
        state: SealState,
        position: Option<Point>,
    },
    Battery {
        low: bool,
        percent: Option<f64>,
    },
    /// The conveyance reached its destination (the transit ends: no more overdue alert).
    Arrived,
    /// Alive, nothing else to say.
    Heartbeat,
}

/// A reading with its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub at: UnixMillis,
    pub reading: Reading,
}

/// The rule an alert comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    /// A seal opened outside an authorised place, or tampered with anywhere.
    SealOpened,
    RouteDeviation,
    LongStop,
    TransitOverdue,
    DeviceSilent,
    LowBattery,
}

impl RuleKind {
    pub const ALL: [RuleKind; 6] = [
        RuleKind::SealOpened,
        RuleKind::RouteDeviation,
        RuleKind::LongStop,
        RuleKind::TransitOverdue,
        RuleKind::DeviceSilent,
        RuleKind::LowBattery,
    ];

    /// The rule's name in data and on the wire (`seal-opened`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::SealOpened => "seal-opened",
            RuleKind::RouteDeviation => "route-deviation",
            RuleKind::LongStop => "long-stop",
            RuleKind::TransitOverdue => "transit-overdue",
            RuleKind::DeviceSilent => "device-silent",
            RuleKind::LowBattery => "low-battery",
        }
    }
}

/// An alert: the rule, the time, the place (a position, the name of a place when it is one), and
/// what happened in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub rule: RuleKind,
    pub at: UnixMillis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub detail: String,
}

/// Where a stop began.
#[derive(Debug, Clone, Copy)]
struct Stop {
    at: UnixMillis,
    position: Point,
    alerted: bool,
}

/// One trace's rule state.
#[derive(Debug, Clone)]
pub struct Monitor {
    rules: RuleSet,
    reporting_interval_s: u32,
    deadline: Option<UnixMillis>,
    last_seen: Option<UnixMillis>,
    last_position: Option<(UnixMillis, Point)>,
    stop: Option<Stop>,
    seal: Option<SealState>,
    arrived: bool,
    /// Rules whose alert has fired and whose condition has not cleared since.
    raised: Vec<RuleKind>,
}

impl Monitor {
    /// A monitor for a trace under `rules`, whose device reports every `reporting_interval_s`
    /// seconds, due at its destination by `deadline` (the declared time limit of the transit).
    pub fn new(rules: RuleSet, reporting_interval_s: u32, deadline: Option<UnixMillis>) -> Self {
        Self {
            rules,
            reporting_interval_s,
            deadline,
            last_seen: None,
            last_position: None,
            stop: None,
            seal: None,
            arrived: false,
            raised: Vec::new(),
        }
    }

    /// The seal's last reported state.
    pub fn seal(&self) -> Option<SealState> {
        self.seal
    }

    /// The rules whose alert is raised and not cleared.
    pub fn raised(&self) -> &[RuleKind] {
        &self.raised
    }

    fn raise(&mut self, alert: Alert, out: &mut Vec<Alert>) {
        if !self.raised.contains(&alert.rule) {
            self.raised.push(alert.rule);
            out.push(alert);
        }
    }

    fn clear(&mut self, rule: RuleKind) {
        self.raised.retain(|r| *r != rule);
    }

    /// Takes in one reading and returns the alerts it fired.
    pub fn observe(&mut self, obs: &Observation) -> Vec<Alert> {
        let mut out = Vec::new();
        self.last_seen = Some(self.last_seen.map_or(obs.at, |t| t.max(obs.at)));
        self.clear(RuleKind::DeviceSilent);
        match &obs.reading {
            Reading::Position { position } => self.position(obs.at, *position, &mut out),
            Reading::Seal { state, position } => {
                if let Some(p) = position {
                    self.position(obs.at, *p, &mut out);
                }
                self.seal_reading(obs.at, *state, *position, &mut out);
            }
            Reading::Battery { low, percent } => {
                let is_low = *low || percent.is_some_and(|p| p <= self.rules.low_battery_percent);
                if is_low {
                    let level = percent.map_or_else(|| "reported low".to_owned(), |p| format!("at {p:.0} %"));
                    let detail = format!("battery {level} (alert at {:.0} % or below)", self.rules.low_battery_percent);
                    let position = self.recent_position(obs.at);
                    self.raise(
                        Alert { rule: RuleKind::LowBattery, at: obs.at, position, place: None, detail },
                        &mut out,
                    );
                } else {
                    self.clear(RuleKind::LowBattery);
                }
            }
            Reading::Arrived => {
                self.arrived = true;
                self.clear(RuleKind::TransitOverdue);
            }
            Reading::Heartbeat => {}
        }
        out
    }

    /// The passing of time up to `now`: a silent device, an overdue transit.
    pub fn tick(&mut self, now: UnixMillis) -> Vec<Alert> {
        let mut out = Vec::new();
        if let Some(seen) = self.last_seen {
            let allowed_ms = (i64::from(self.reporting_interval_s) + i64::from(self.rules.silence_grace_s)) * 1000;
            if now - seen > allowed_ms {
                let detail = format!(
                    "no report for {} s (reporting interval {} s, grace {} s)",
                    (now - seen) / 1000,
                    self.reporting_interval_s,
                    self.rules.silence_grace_s
                );
                let position = self.last_position.map(|(_, p)| p);
                self.raise(Alert { rule: RuleKind::DeviceSilent, at: now, position, place: None, detail }, &mut out);
            }
        }
        if let Some(deadline) = self.deadline
            && !self.arrived
            && now > deadline
        {
            let detail = format!("not arrived {} min after the time limit of the transit", (now - deadline) / 60_000);
            let position = self.last_position.map(|(_, p)| p);
            self.raise(Alert { rule: RuleKind::TransitOverdue, at: now, position, place: None, detail }, &mut out);
        }
        out
    }

    /// The last position, if it is recent enough to place a reading at `at`.
    fn recent_position(&self, at: UnixMillis) -> Option<Point> {
        self.last_position
            .filter(|(t, _)| (at - t).abs() <= i64::from(self.rules.position_valid_s) * 1000)
            .map(|(_, p)| p)
    }

    fn position(&mut self, at: UnixMillis, p: Point, out: &mut Vec<Alert>) {
        if let Some(corridor) = &self.rules.corridor {
            let off = corridor.distance_m(&p);
            if off > corridor.buffer_m && self.rules.authorised_place(&p).is_none() {
                let detail = format!(
                    "{:.1} km from the declared route (corridor {:.1} km)",
                    off / 1000.0,
                    corridor.buffer_m / 1000.0
                );
                self.raise(Alert { rule: RuleKind::RouteDeviation, at, position: Some(p), place: None, detail }, out);
            } else {
                self.clear(RuleKind::RouteDeviation);
            }
        }
        // A late reading places nothing: the stop is followed in time order only.
        if self.last_position.is_some_and(|(t, _)| at < t) {
            return;
        }
        self.last_position = Some((at, p));
        match self.stop {
            Some(stop) if stop.position.distance_m(&p) <= self.rules.stop_radius_m => {
                let minutes = (at - stop.at) / 60_000;
                if let Some(max) = self.rules.max_stop_minutes
                    && minutes > i64::from(max)
                    && !stop.alerted
                    && self.rules.authorised_place(&stop.position).is_none()
                {
                    let detail = format!("stopped {minutes} min outside an authorised place (at most {max} min)");
                    self.stop = Some(Stop { alerted: true, ..stop });
                    self.raise(
                        Alert { rule: RuleKind::LongStop, at, position: Some(stop.position), place: None, detail },
                        out,
                    );
                }
            }
            _ => {
                self.stop = Some(Stop { at, position: p, alerted: false });
                self.clear(RuleKind::LongStop);
            }
        }
    }

    fn seal_reading(&mut self, at: UnixMillis, state: SealState, position: Option<Point>, out: &mut Vec<Alert>) {
        self.seal = Some(state);
        let position = position.or_else(|| self.recent_position(at));
        let place = position.and_then(|p| self.rules.authorised_place(&p)).map(|p| p.name.clone());
        match state {
            SealState::Sealed => self.clear(RuleKind::SealOpened),
            SealState::Tampered => {
                let detail = match &place {
                    Some(name) => format!("seal tampered with at {name}"),
                    None => "seal tampered with".to_owned(),
                };
                self.raise(Alert { rule: RuleKind::SealOpened, at, position, place, detail }, out);
            }
            SealState::Opened if place.is_none() => {
                let detail = if position.is_some() {
                    "seal opened outside an authorised place".to_owned()
                } else {
                    format!("seal opened with no position known within {} s", self.rules.position_valid_s)
                };
                self.raise(Alert { rule: RuleKind::SealOpened, at, position, place: None, detail }, out);
            }
            SealState::Opened => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn p(lat: f64, lon: f64) -> Point {
        Point::new(lat, lon).unwrap()
    }

    /// Along the equator from 10°E to 11°E; the depot at the start, the office at the end.
    fn rules() -> RuleSet {
        RuleSet {
            authorised_places: vec![
                Place {
                    name: "depot".into(),
                    locode: None,
                    area: Area::Circle { centre: p(0.0, 10.0), radius_m: 500.0 },
                },
                Place {
                    name: "office".into(),
                    locode: Some("XXOFF".into()),
                    area: Area::Circle { centre: p(0.0, 11.0), radius_m: 500.0 },
                },
            ],
            corridor: Some(Corridor { route: vec![p(0.0, 10.0), p(0.0, 11.0)], buffer_m: 2_000.0, areas: vec![] }),
            max_stop_minutes: Some(30),
            ..RuleSet::named("test route")
        }
    }

    fn at(minute: i64, reading: Reading) -> Observation {
        Observation { at: minute * MIN, reading }
    }

    fn pos(minute: i64, lat: f64, lon: f64) -> Observation {
        at(minute, Reading::Position { position: p(lat, lon) })
    }

    fn kinds(alerts: &[Alert]) -> Vec<RuleKind> {
        alerts.iter().map(|a| a.rule).collect()
    }

    #[test]
    fn a_seal_opened_at_an_authorised_place_is_no_alert_and_elsewhere_is() {
        let mut m = Monitor::new(rules(), 300, None);
        let opened_at_office = Reading::Seal { state: SealState::Opened, position: Some(p(0.0, 11.001)) };
        assert!(m.observe(&at(0, opened_at_office)).is_empty());
        assert_eq!(m.seal(), Some(SealState::Opened));
        m.observe(&at(1, Reading::Seal { state: SealState::Sealed, position: None }));
        let opened_on_road = Reading::Seal { state: SealState::Opened, position: Some(p(0.0, 10.5)) };
        let alerts = m.observe(&at(2, opened_on_road));
        assert_eq!(kinds(&alerts), [RuleKind::SealOpened]);
        assert_eq!(alerts[0].position, Some(p(0.0, 10.5)));
        // Once only, until sealed again.
        assert!(m.observe(&at(3, Reading::Seal { state: SealState::Opened, position: Some(p(0.0, 10.5)) })).is_empty());
    }

    #[test]
    fn tampering_is_an_alert_even_at_an_authorised_place_and_an_unplaced_opening_is_one_too() {
        let mut m = Monitor::new(rules(), 300, None);
        let a = m.observe(&at(0, Reading::Seal { state: SealState::Tampered, position: Some(p(0.0, 10.0)) }));
        assert_eq!(kinds(&a), [RuleKind::SealOpened]);
        assert_eq!(a[0].place.as_deref(), Some("depot"));
        let mut m = Monitor::new(rules(), 300, None);
        let a = m.observe(&at(0, Reading::Seal { state: SealState::Opened, position: None }));
        assert_eq!(kinds(&a), [RuleKind::SealOpened]);
        assert!(a[0].detail.contains("no position"), "{}", a[0].detail);
        // A recent position places an opening that carries none.
        let mut m = Monitor::new(rules(), 300, None);
        m.observe(&pos(0, 0.0, 11.0));
        assert!(m.observe(&at(5, Reading::Seal { state: SealState::Opened, position: None })).is_empty());
    }

    #[test]
    fn leaving_the_corridor_fires_once_and_rearms_on_return() {
        let mut m = Monitor::new(rules(), 300, None);
        assert!(m.observe(&pos(0, 0.0, 10.2)).is_empty());
        let a = m.observe(&pos(5, 0.05, 10.3));
        assert_eq!(kinds(&a), [RuleKind::RouteDeviation]);
        assert!(a[0].detail.starts_with("5.6 km"), "{}", a[0].detail);
        assert!(m.observe(&pos(10, 0.06, 10.35)).is_empty(), "still off: no second alert");
        assert!(m.observe(&pos(15, 0.0, 10.4)).is_empty());
        assert_eq!(kinds(&m.observe(&pos(20, -0.05, 10.5))), [RuleKind::RouteDeviation]);
    }

    #[test]
    fn a_long_stop_outside_authorised_places_fires_but_not_at_the_depot() {
        let mut m = Monitor::new(rules(), 300, None);
        for minute in (0..=60).step_by(5) {
            assert!(m.observe(&pos(minute, 0.0, 10.0001)).is_empty(), "at the depot, minute {minute}");
        }
        let mut m = Monitor::new(rules(), 300, None);
        let mut fired = Vec::new();
        for minute in (0..=45).step_by(5) {
            // GNSS jitter of a few metres stays within the stop.
            let jitter = if minute % 10 == 0 { 0.0003 } else { 0.0 };
            fired.extend(m.observe(&pos(minute, jitter, 10.5)));
        }
        assert_eq!(kinds(&fired), [RuleKind::LongStop]);
        assert_eq!(fired[0].at, 35 * MIN, "the first reading past 30 minutes");
        // Moving on clears it; stopping 20 minutes is fine.
        assert!(m.observe(&pos(50, 0.0, 10.6)).is_empty());
        assert!(m.observe(&pos(70, 0.0, 10.6)).is_empty());
    }

    #[test]
    fn silence_and_overdue_are_noticed_by_the_clock() {
        let mut m = Monitor::new(rules(), 300, Some(120 * MIN));
        m.observe(&pos(0, 0.0, 10.1));
        assert!(m.tick(7 * MIN).is_empty(), "5 min interval + 2 min grace");
        assert_eq!(kinds(&m.tick(8 * MIN)), [RuleKind::DeviceSilent]);
        assert!(m.tick(9 * MIN).is_empty(), "once");
        m.observe(&pos(10, 0.0, 10.2));
        assert!(m.tick(11 * MIN).is_empty());
        assert_eq!(kinds(&m.tick(121 * MIN)), [RuleKind::DeviceSilent, RuleKind::TransitOverdue]);
        let mut m = Monitor::new(rules(), 300, Some(120 * MIN));
        m.observe(&at(100, Reading::Arrived));
        assert!(m.tick(121 * MIN).iter().all(|a| a.rule != RuleKind::TransitOverdue));
    }

    #[test]
    fn a_low_battery_fires_once_until_replaced() {
        let mut m = Monitor::new(rules(), 300, None);
        assert!(m.observe(&at(0, Reading::Battery { low: false, percent: Some(40.0) })).is_empty());
        assert_eq!(
            kinds(&m.observe(&at(1, Reading::Battery { low: false, percent: Some(12.0) }))),
            [RuleKind::LowBattery]
        );
        assert!(m.observe(&at(2, Reading::Battery { low: true, percent: None })).is_empty());
        m.observe(&at(3, Reading::Battery { low: false, percent: Some(90.0) }));
        assert_eq!(kinds(&m.observe(&at(4, Reading::Battery { low: true, percent: None }))), [RuleKind::LowBattery]);
    }

    #[test]
    fn rule_sets_are_checked_and_read_from_json() {
        let json = r#"{"name":"T1 Rotterdam-Duisburg","max_stop_minutes":45,
            "authorised_places":[{"name":"Maasvlakte","locode":"NLRTM","area":{"shape":"circle","centre":{"lat":51.95,"lon":4.02},"radius_m":3000}}],
            "corridor":{"route":[{"lat":51.95,"lon":4.02},{"lat":51.43,"lon":6.76}],"buffer_m":5000}}"#;
        let rules: RuleSet = serde_json::from_str(json).unwrap();
        rules.check().unwrap();
        assert_eq!(rules.stop_radius_m, 150.0);
        let bad = RuleSet { low_battery_percent: 140.0, ..rules.clone() };
        assert!(bad.check().unwrap_err().to_string().contains("low_battery_percent"));
        let typo = json.replace("max_stop_minutes", "max_stop_minute");
        let e = serde_json::from_str::<RuleSet>(&typo).unwrap_err().to_string();
        assert!(e.contains("max_stop_minute"), "{e}");
        assert_eq!(RuleKind::ALL.map(RuleKind::as_str).len(), 6);
    }
}
