//! Alerts: what the rules of a trip raise, committed to the ledger and worked by officers.
//!
//! Each open trip has a [`Monitor`] on the node that reads its devices' observations
//! ([`IotService::observe`], called by the ingest pipeline) and the passing of time (a task
//! ticks every monitor every few seconds: a silent device, an overdue transit). An alert it
//! raises is committed as a private document `document:{member}:iot-alert-{id}` sealed for the
//! trip's administrations (the trip's owner and those it names), the event store is anchored at
//! once, and the risk engine hears of it for the trip's declaration. An officer acknowledges an
//! alert with a reason (`POST /api/v1/iot/alerts/{id}/acknowledge`): a private document
//! `document:{member}:iot-alert-ack-{id}` sealed for the same administrations.
//!
//! An alert whose rule already has an unacknowledged alert for the same trip is not raised
//! again (so a node that restarts, its monitors fresh, does not repeat what officers already see).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query};
use borderlink_iot::geo::Point;
use borderlink_iot::rules::{Alert, Monitor, Observation};
use borderlink_iot::trip::TripState;
use serde::{Deserialize, Serialize};

use super::IotService;
use super::trips::TripEntry;
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{AcknowledgeAlerts, ReadIot, Require};

/// The name prefix of alert documents.
pub(crate) const ALERT_DOCUMENT: &str = "iot-alert-";
/// The name prefix of acknowledgement documents.
pub(crate) const ACK_DOCUMENT: &str = "iot-alert-ack-";
/// The alert format.
pub(crate) const ALERT_FORMAT: &str = "borderlink-iot-alert/1";
/// The acknowledgement format.
pub(crate) const ACK_FORMAT: &str = "borderlink-iot-alert-ack/1";
/// How often the monitors are ticked.
const TICK: Duration = Duration::from_secs(2);

/// An alert as committed to the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AlertRecord {
    /// `borderlink-iot-alert/1`.
    pub(crate) format: String,
    /// The alert's id (16 hex digits).
    pub(crate) alert_id: String,
    /// The trip and the member that opened it.
    pub(crate) trip_id: String,
    pub(crate) trip_owner: String,
    /// The device whose report (or silence) raised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vehicle: Option<String>,
    /// The declaration's ledger record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) declaration: Option<String>,
    /// The rule (`seal-opened`, `route-deviation`, `long-stop`, `transit-overdue`,
    /// `device-silent`, `low-battery`) and the rule set it belongs to.
    pub(crate) rule: String,
    pub(crate) rule_set: String,
    /// When (ms since the epoch).
    pub(crate) at_ms: i64,
    /// Where, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub(crate) position: Option<Point>,
    /// The authorised place it happened at, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) place: Option<String>,
    /// What happened, in words.
    pub(crate) detail: String,
    /// The member whose node raised it.
    pub(crate) raised_by: String,
}

/// An acknowledgement of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AckRecord {
    /// `borderlink-iot-alert-ack/1`.
    pub(crate) format: String,
    pub(crate) alert_id: String,
    /// The alert's record.
    pub(crate) alert_record: String,
    /// Who: a username, or a member id for a system's signed request.
    pub(crate) by: String,
    /// The member (administration) they act for.
    pub(crate) organisation: String,
    /// Why the alert needs no more action, or what was done.
    pub(crate) reason: String,
    pub(crate) at_ms: i64,
}

/// An alert with its record and its acknowledgement, if any.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AlertView {
    pub(crate) alert: AlertRecord,
    pub(crate) record_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) acknowledged: Option<AckRecord>,
}

impl AlertView {
    pub(crate) fn is_open(&self) -> bool {
        self.acknowledged.is_none()
    }
}

/// The alerts at one ledger height, newest first.
pub(crate) type Alerts = Arc<Vec<AlertView>>;

/// The monitors of the open trips, by `(owner, trip id)`.
#[derive(Debug, Default)]
pub(crate) struct Monitors {
    by_trip: HashMap<(String, String), Monitor>,
}

fn alert_id(trip: &TripEntry, rule: &str, at_ms: i64) -> String {
    let h = borderlink_ledger::Hash::of_parts(&[
        trip.trip.owner.as_bytes(),
        b"\0",
        trip.trip.trip_id.as_bytes(),
        b"\0",
        rule.as_bytes(),
        b"\0",
        &at_ms.to_be_bytes(),
    ]);
    h.to_hex()[..16].to_owned()
}

impl IotService {
    /// Every alert this node can read (sealed for it), newest first, with acknowledgements.
    pub(crate) fn alerts(&self) -> Result<Alerts, ApiError> {
        let height = self.height();
        if let Some((at, alerts)) = self.alerts.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *at == height
        {
            return Ok(Arc::clone(alerts));
        }
        let mut acks: BTreeMap<String, AckRecord> = BTreeMap::new();
        let mut views = Vec::new();
        // `iot-alert-` is a prefix of `iot-alert-ack-`: one pass reads both.
        for d in self.documents(ALERT_DOCUMENT)? {
            if let Ok(ack) = serde_json::from_value::<AckRecord>(d.payload.clone()) {
                if ack.format == ACK_FORMAT && ack.organisation == d.submitter {
                    acks.entry(ack.alert_id.clone()).or_insert(ack);
                }
                continue;
            }
            let Ok(alert) = serde_json::from_value::<AlertRecord>(d.payload) else { continue };
            if alert.format != ALERT_FORMAT || alert.raised_by != d.submitter {
                continue;
            }
            views.push(AlertView { alert, record_id: d.record_id, acknowledged: None });
        }
        for v in &mut views {
            v.acknowledged = acks.remove(&v.alert.alert_id);
        }
        views.sort_by(|a, b| b.alert.at_ms.cmp(&a.alert.at_ms).then_with(|| a.alert.alert_id.cmp(&b.alert.alert_id)));
        let alerts = Arc::new(views);
        *self.alerts.lock().unwrap_or_else(|e| e.into_inner()) = Some((height, Arc::clone(&alerts)));
        Ok(alerts)
    }

    /// Commits `alert` of `trip` (raised by `device`'s report or silence) to the ledger, unless
    /// an unacknowledged alert of the same rule is open for the trip; anchors the event store
    /// at once. Answers the alert, or `None` when it was already open.
    pub(crate) async fn raise(
        &self,
        trip: &TripEntry,
        device: Option<&str>,
        alert: Alert,
    ) -> Result<Option<AlertView>, ApiError> {
        let rule = alert.rule.as_str();
        let t = &trip.trip;
        let open = self.alerts()?.iter().any(|a| {
            a.is_open() && a.alert.trip_id == t.trip_id && a.alert.trip_owner == t.owner && a.alert.rule == rule
        });
        if open {
            return Ok(None);
        }
        let member = self.local_member().ok_or_else(|| ApiError::Forbidden("this node holds no member keys".into()))?;
        let record = AlertRecord {
            format: ALERT_FORMAT.into(),
            alert_id: alert_id(trip, rule, alert.at),
            trip_id: t.trip_id.clone(),
            trip_owner: t.owner.clone(),
            device: device.map(str::to_owned),
            container: t.container.clone(),
            seal: t.seal.clone(),
            vehicle: t.vehicle.clone(),
            declaration: t.declaration.clone(),
            rule: rule.to_owned(),
            rule_set: t.rules.name.clone(),
            at_ms: alert.at,
            position: alert.position,
            place: alert.place,
            detail: alert.detail,
            raised_by: member,
        };
        let payload = serde_json::to_vec(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut recipients = t.administrations.clone();
        recipients.push(t.owner.clone());
        let name = format!("{ALERT_DOCUMENT}{}", record.alert_id);
        let (record_id, _, _) = self.commit(&name, &payload, Some(&recipients)).await?;
        self.anchoring().wake();
        metrics::counter!("borderlink_iot_alerts_total", "rule" => rule.to_owned()).increment(1);
        tracing::warn!(alert = %record.alert_id, trip = %t.trip_id, rule, detail = %record.detail, "IoT alert raised");
        Ok(Some(AlertView { alert: record, record_id, acknowledged: None }))
    }

    /// Feeds `device`'s observations to the monitor of its open trip; answers the alerts fired
    /// (to be raised with [`IotService::raise`]).
    pub(crate) fn observe_trip(
        &self,
        device: &str,
        observations: &[Observation],
    ) -> Result<Vec<(TripEntry, Alert)>, ApiError> {
        let Some(trip) = self.trip_of_device(device)? else { return Ok(Vec::new()) };
        let mut monitors = self.monitors.lock().unwrap_or_else(|e| e.into_inner());
        let monitor = self.monitor_of(&mut monitors, &trip)?;
        Ok(observations.iter().flat_map(|o| monitor.observe(o)).map(|a| (trip.clone(), a)).collect())
    }

    fn monitor_of<'m>(&self, monitors: &'m mut Monitors, trip: &TripEntry) -> Result<&'m mut Monitor, ApiError> {
        let key = (trip.trip.owner.clone(), trip.trip.trip_id.clone());
        if !monitors.by_trip.contains_key(&key) {
            let registry = self.devices()?;
            let interval = trip
                .trip
                .devices
                .iter()
                .filter_map(|d| registry.get(d).map(|r| r.device.reporting_interval_seconds))
                .min()
                .unwrap_or(300);
            monitors
                .by_trip
                .insert(key.clone(), Monitor::new(trip.trip.rules.clone(), interval, trip.trip.deadline_ms));
        }
        monitors.by_trip.get_mut(&key).ok_or_else(|| ApiError::Internal("monitor vanished".into()))
    }

    /// Ticks the monitor of every open trip this node watches (its own trips) and raises what
    /// fires; forgets the monitors of closed trips.
    pub(crate) async fn tick(&self, now_ms: i64) -> Result<usize, ApiError> {
        let member = self.local_member().unwrap_or_default();
        let trips = self.trips()?;
        let mine: Vec<&TripEntry> =
            trips.values().filter(|t| t.trip.owner == member && t.trip.state == TripState::Open).collect();
        let fired: Vec<(TripEntry, Alert)> = {
            let mut monitors = self.monitors.lock().unwrap_or_else(|e| e.into_inner());
            monitors.by_trip.retain(|k, _| mine.iter().any(|t| t.trip.owner == k.0 && t.trip.trip_id == k.1));
            let mut fired = Vec::new();
            for t in &mine {
                for a in self.monitor_of(&mut monitors, t)?.tick(now_ms) {
                    fired.push(((*t).clone(), a));
                }
            }
            fired
        };
        let mut n = 0;
        for (trip, alert) in fired {
            if self.raise(&trip, None, alert).await?.is_some() {
                n += 1;
            }
        }
        self.signal_risk()?;
        Ok(n)
    }

    /// Tells the risk service of every open alert (raised here or sealed for this node by
    /// another) whose trip names a declaration, once each: the signal `iot:{rule}`, which
    /// criteria can test.
    pub(crate) fn signal_risk(&self) -> Result<(), ApiError> {
        let Some(risk) = &self.risk else { return Ok(()) };
        let alerts = self.alerts()?;
        let mut signalled = self.signalled.lock().unwrap_or_else(|e| e.into_inner());
        for a in alerts.iter().filter(|a| a.is_open()) {
            let Some(declaration) = &a.alert.declaration else { continue };
            if signalled.insert(a.alert.alert_id.clone()) {
                risk.signal(declaration, &format!("iot:{}", a.alert.rule));
            }
        }
        Ok(())
    }

    /// Acknowledges an alert with a reason, as `by` of `organisation` (this node's member).
    pub(crate) async fn acknowledge(&self, alert_id: &str, by: &str, reason: &str) -> Result<AlertView, ApiError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 1_000 {
            return Err(ApiError::BadRequest(
                "reason: say why the alert needs no more action, or what was done (1 to 1,000 characters)".into(),
            ));
        }
        let view = self
            .alerts()?
            .iter()
            .find(|a| a.alert.alert_id == alert_id)
            .cloned()
            .ok_or_else(|| ApiError::AlertNotFound(alert_id.to_owned()))?;
        if let Some(ack) = &view.acknowledged {
            return Err(ApiError::AlertAcknowledged(alert_id.to_owned(), ack.by.clone(), ack.organisation.clone()));
        }
        let member = self.local_member().ok_or_else(|| ApiError::Forbidden("this node holds no member keys".into()))?;
        let ack = AckRecord {
            format: ACK_FORMAT.into(),
            alert_id: alert_id.to_owned(),
            alert_record: view.record_id.clone(),
            by: by.to_owned(),
            organisation: member,
            reason: reason.to_owned(),
            at_ms: self.clock.now_ms(),
        };
        let payload = serde_json::to_vec(&ack).map_err(|e| ApiError::Internal(e.to_string()))?;
        let trip = self.trip(&view.alert.trip_id)?;
        let mut recipients: Vec<String> = trip.map(|t| t.trip.administrations).unwrap_or_default();
        recipients.push(view.alert.trip_owner.clone());
        recipients.push(view.alert.raised_by.clone());
        self.commit(&format!("{ACK_DOCUMENT}{alert_id}"), &payload, Some(&recipients)).await?;
        Ok(AlertView { acknowledged: Some(ack), ..view })
    }
}

/// The ingest pipeline's observer: a device's readings go to the monitor of its open trip, and
/// what fires is committed to the ledger by a task of its own (the device's acknowledgement
/// waits for its events to be stored, not for the consortium to commit an alert).
#[derive(Debug, Default)]
pub(crate) struct TripWatch {
    iot: std::sync::OnceLock<Weak<IotService>>,
}

impl TripWatch {
    /// Ties the watch to the service it reads trips from (once, at start).
    pub(crate) fn attach(&self, iot: &Arc<IotService>) {
        let _ = self.iot.set(Arc::downgrade(iot));
    }
}

impl super::ingest::Observer for TripWatch {
    fn observe(&self, device: &str, observations: &[Observation]) -> usize {
        let Some(iot) = self.iot.get().and_then(Weak::upgrade) else { return 0 };
        let fired = match iot.observe_trip(device, observations) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(device, error = %e, "the rules of the device's trip could not be read");
                return 0;
            }
        };
        let n = fired.len();
        if n > 0 {
            let device = device.to_owned();
            tokio::spawn(async move {
                for (trip, alert) in fired {
                    if let Err(e) = iot.raise(&trip, Some(&device), alert).await {
                        tracing::warn!(trip = %trip.trip.trip_id, error = %e, "an IoT alert could not be committed");
                    }
                }
            });
        }
        n
    }
}

/// Ticks the monitors every [`TICK`] until the node stops.
pub(crate) fn spawn_watch(iot: &Arc<IotService>) {
    let weak: Weak<IotService> = Arc::downgrade(iot);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(me) = weak.upgrade() else { return };
            let now = me.clock.now_ms();
            if let Err(e) = me.tick(now).await {
                tracing::warn!(error = %e, "the IoT monitors could not be ticked; retrying");
            }
        }
    });
}

/// Filters of the alert list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertFilter {
    /// `open` (not acknowledged), `acknowledged`, or `all` (the default).
    pub(crate) state: Option<String>,
    /// Alerts of this trip.
    pub(crate) trip: Option<String>,
    /// Alerts of this rule (`seal-opened`, `route-deviation`, `long-stop`, `transit-overdue`,
    /// `device-silent`, `low-battery`).
    pub(crate) rule: Option<String>,
    /// Alerts of this container.
    pub(crate) container: Option<String>,
}

/// The alerts whose state, trip, rule and container match.
pub(crate) fn filtered(all: &[AlertView], f: &AlertFilter) -> Result<Vec<AlertView>, ApiError> {
    let state = match f.state.as_deref() {
        None | Some("all") => None,
        Some("open") => Some(true),
        Some("acknowledged") => Some(false),
        Some(other) => {
            return Err(ApiError::InvalidQuery(format!("state {other:?}: the states are open, acknowledged, all")));
        }
    };
    if let Some(r) = &f.rule
        && !borderlink_iot::rules::RuleKind::ALL.iter().any(|k| k.as_str() == r)
    {
        return Err(ApiError::InvalidQuery(format!(
            "rule {r:?}: the rules are {}",
            borderlink_iot::rules::RuleKind::ALL.map(|k| k.as_str()).join(", ")
        )));
    }
    Ok(all
        .iter()
        .filter(|a| state.is_none_or(|open| a.is_open() == open))
        .filter(|a| f.trip.as_deref().is_none_or(|t| a.alert.trip_id == t))
        .filter(|a| f.rule.as_deref().is_none_or(|r| a.alert.rule == r))
        .filter(|a| f.container.as_deref().is_none_or(|c| a.alert.container.as_deref() == Some(c)))
        .cloned()
        .collect())
}

/// The alerts this node can read, newest first.
#[utoipa::path(get, path = "/api/v1/iot/alerts", tag = "iot",
    params(AlertFilter),
    responses(
        (status = 200, description = "The alerts, newest first, with their acknowledgement", body = [AlertView]),
        (status = 400, description = "An unknown filter or value (`invalid_query`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn list(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    query: Result<Query<AlertFilter>, QueryRejection>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let Query(f) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    Ok(Json(filtered(&iot.alerts()?, &f)?))
}

/// An acknowledgement: why the alert needs no more action, or what was done.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Acknowledgement {
    /// 1 to 1,000 characters.
    pub(crate) reason: String,
}

/// Acknowledges an alert: recorded on the ledger (who, for which administration, why), sealed
/// for the trip's administrations.
#[utoipa::path(post, path = "/api/v1/iot/alerts/{id}/acknowledge", tag = "iot",
    params(("id" = String, Path, description = "The alert id")),
    request_body = Acknowledgement,
    responses(
        (status = 200, description = "The alert, acknowledged", body = AlertView),
        (status = 400, description = "No reason, or a body of another shape (`bad_request`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such alert readable here (`alert_not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Acknowledged already (`alert_acknowledged`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn acknowledge(
    who: Require<AcknowledgeAlerts>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
    body: Result<Json<Acknowledgement>, JsonRejection>,
) -> Result<Json<AlertView>, ApiError> {
    let Json(ack) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let by = crate::access::reads::actor_of(&who.principal).0;
    let view = iot.acknowledge(&id, &by, &ack.reason).await?;
    tracing::info!(alert = %id, by = %by, "IoT alert acknowledged");
    Ok(Json(view))
}
