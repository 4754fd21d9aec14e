//! Traces and the automated border crossing.
//!
//! A trace gathers the events this node stored for a trip (those its devices reported and those
//! naming its container) or for a container alone, ordered, with the seal's state, the positions,
//! the trip's alerts and the records it belongs to (`GET /api/v1/iot/trips/{id}/trace`,
//! `GET /api/v1/iot/traces?container=…`).
//!
//! The gate (`POST /api/v1/iot/gate`) decides whether a vehicle or container at a border gate is
//! released: its open trip's declaration is in the green lane, the seal is intact since sealing,
//! and no alert of the trip is open. Otherwise it says every reason to hold it.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query};
use borderlink_iot::mapping::container_uri;
use borderlink_iot::rules::SealState;
use borderlink_iot::store::{Cursor, EventQuery};
use borderlink_iot::trace::{Trace, trace};
use borderlink_iot::trip::TripState;
use serde::{Deserialize, Serialize};

use super::IotService;
use super::alerts::AlertView;
use super::trips::TripEntry;
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{ReadIot, Require};

/// An event as a trace reads it: hash ID, event time, reporting device, JSON-LD.
type Row = (String, i64, Option<String>, serde_json::Value);

/// The most events one trace reads.
const MAX_TRACE_EVENTS: usize = 20_000;

/// A trace with what it belongs to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TraceView {
    /// The trip, when the trace is a trip's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) trip: Option<TripEntry>,
    /// The container traced, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) container: Option<String>,
    /// Events, positions, the seal's state.
    #[schema(value_type = Object)]
    pub(crate) trace: Trace,
    /// The trip's alerts, newest first.
    pub(crate) alerts: Vec<AlertView>,
    /// Whether the trace stopped at the most events one trace reads (20,000).
    pub(crate) truncated: bool,
}

impl IotService {
    /// The events matching `query`, at most [`MAX_TRACE_EVENTS`] (and whether there were more).
    async fn events_of(
        &self,
        query: &EventQuery,
        into: &mut Vec<(String, i64, Option<String>, serde_json::Value)>,
    ) -> Result<bool, ApiError> {
        let mut after: Option<Cursor> = None;
        loop {
            let page = self.store().query(query, 1_000, after).await.map_err(|e| ApiError::Internal(e.to_string()))?;
            for n in page.events {
                if into.iter().any(|(h, ..)| *h == n.event.hash_id) {
                    continue;
                }
                let json = serde_json::from_str(&n.event.json).unwrap_or(serde_json::Value::Null);
                into.push((n.event.hash_id, n.event.event_time_ms, n.event.device, json));
                if into.len() >= MAX_TRACE_EVENTS {
                    return Ok(true);
                }
            }
            match page.next {
                Some(c) => after = Some(c),
                None => return Ok(false),
            }
        }
    }

    /// The events of a trip: those its devices reported and those naming its container (at most
    /// 20,000; `true` when there were more).
    async fn trip_events(&self, trip: &TripEntry) -> Result<(Vec<Row>, bool), ApiError> {
        let mut events = Vec::new();
        let t = &trip.trip;
        let mut truncated =
            self.events_of(&EventQuery { devices: t.devices.clone(), ..EventQuery::default() }, &mut events).await?;
        if let Some(c) = &t.container
            && !truncated
        {
            let q = EventQuery { match_any_epc: vec![container_uri(c)], ..EventQuery::default() };
            truncated = self.events_of(&q, &mut events).await?;
        }
        Ok((events, truncated))
    }

    /// The alerts of a trip.
    fn trip_alerts(&self, trip: &TripEntry) -> Result<Vec<AlertView>, ApiError> {
        let t = &trip.trip;
        Ok(self
            .alerts()?
            .iter()
            .filter(|a| a.alert.trip_id == t.trip_id && a.alert.trip_owner == t.owner)
            .cloned()
            .collect())
    }

    /// The trace of a trip: its devices' events and those naming its container.
    pub(crate) async fn trip_trace(&self, trip: &TripEntry) -> Result<TraceView, ApiError> {
        let (events, truncated) = self.trip_events(trip).await?;
        let alerts = self.trip_alerts(trip)?;
        let t = &trip.trip;
        Ok(TraceView {
            trip: Some(trip.clone()),
            container: t.container.clone(),
            trace: trace(&events),
            alerts,
            truncated,
        })
    }

    /// The trace of a container: the events naming it, the alerts of its trips.
    pub(crate) async fn container_trace(&self, container: &str) -> Result<TraceView, ApiError> {
        let mut events = Vec::new();
        let q = EventQuery { match_any_epc: vec![container_uri(container)], ..EventQuery::default() };
        let truncated = self.events_of(&q, &mut events).await?;
        let alerts =
            self.alerts()?.iter().filter(|a| a.alert.container.as_deref() == Some(container)).cloned().collect();
        Ok(TraceView { trip: None, container: Some(container.to_owned()), trace: trace(&events), alerts, truncated })
    }
}

/// The trace of a trip.
#[utoipa::path(get, path = "/api/v1/iot/trips/{id}/trace", tag = "iot",
    params(("id" = String, Path, description = "The trip id")),
    responses(
        (status = 200, description = "The trip's events (oldest first), positions, seal state and alerts", body = TraceView),
        (status = 404, description = "No such trip readable here (`trip_not_found`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn trip_trace(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
) -> Result<Json<TraceView>, ApiError> {
    let trip = iot.trip(&id)?.ok_or(ApiError::TripNotFound(id))?;
    Ok(Json(iot.trip_trace(&trip).await?))
}

/// What to trace.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TraceQuery {
    /// A container (ISO 6346).
    pub(crate) container: Option<String>,
    /// A seal id.
    pub(crate) seal: Option<String>,
    /// A vehicle registration.
    pub(crate) vehicle: Option<String>,
    /// A declaration's ledger record id.
    pub(crate) declaration: Option<String>,
}

impl TraceQuery {
    /// Whether `trip` is what this asks for.
    fn matches(&self, trip: &TripEntry) -> bool {
        let t = &trip.trip;
        let eq = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        eq(&self.container, &t.container)
            && eq(&self.seal, &t.seal)
            && eq(&self.vehicle, &t.vehicle)
            && eq(&self.declaration, &t.declaration)
    }

    fn is_empty(&self) -> bool {
        self.container.is_none() && self.seal.is_none() && self.vehicle.is_none() && self.declaration.is_none()
    }
}

/// The traces of a container, seal, vehicle or declaration: one per trip that carried it (its
/// latest trip first), or the container's events alone when no trip names it.
#[utoipa::path(get, path = "/api/v1/iot/traces", tag = "iot",
    params(TraceQuery),
    responses(
        (status = 200, description = "The traces, latest trip first", body = [TraceView]),
        (status = 400, description = "Nothing to trace, or an unknown parameter (`invalid_query`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn traces(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<Json<Vec<TraceView>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    if q.is_empty() {
        return Err(ApiError::InvalidQuery("give container, seal, vehicle or declaration".into()));
    }
    let mut trips: Vec<TripEntry> = iot.trips()?.values().filter(|t| q.matches(t)).cloned().collect();
    trips.sort_by_key(|t| std::cmp::Reverse(t.updated_ms));
    let mut out = Vec::new();
    for t in &trips {
        out.push(iot.trip_trace(t).await?);
    }
    if out.is_empty()
        && let Some(c) = &q.container
    {
        out.push(iot.container_trace(c).await?);
    }
    Ok(Json(out))
}

/// A vehicle or container at a border gate.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct GateRequest {
    /// The container (ISO 6346), as read by the gate's camera or reader.
    pub(crate) container: Option<String>,
    /// The vehicle's registration.
    pub(crate) vehicle: Option<String>,
    /// Or the trip itself.
    pub(crate) trip: Option<String>,
    /// The gate (a name or UN/LOCODE + gate number), for the log.
    pub(crate) gate: Option<String>,
}

/// The gate's decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GateDecision {
    /// `release` or `hold`.
    pub(crate) decision: String,
    /// Why it is held: every reason, in words (empty when released).
    pub(crate) reasons: Vec<String>,
    /// What each check found.
    pub(crate) checks: Vec<GateCheck>,
    /// The trip found for the vehicle or container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) trip: Option<String>,
    /// The declaration's lane, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lane: Option<String>,
}

/// One check of the gate.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GateCheck {
    /// `trip`, `lane`, `seal` or `alerts`.
    pub(crate) check: String,
    pub(crate) passed: bool,
    pub(crate) detail: String,
}

/// Decides at a border gate: release when the declaration's lane is green, the seal is intact
/// since sealing and no alert of the trip is open; otherwise hold, with every reason.
#[utoipa::path(post, path = "/api/v1/iot/gate", tag = "iot",
    request_body = GateRequest,
    responses(
        (status = 200, description = "The decision (`release` or `hold`) with its reasons and checks", body = GateDecision),
        (status = 400, description = "Neither container, vehicle nor trip given, or another shape (`bad_request`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn gate(
    who: Require<ReadIot>,
    Service(iot): Service<IotService>,
    body: Result<Json<GateRequest>, JsonRejection>,
) -> Result<Json<GateDecision>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if req.container.is_none() && req.vehicle.is_none() && req.trip.is_none() {
        return Err(ApiError::BadRequest("give the container, the vehicle or the trip at the gate".into()));
    }
    let trips = iot.trips()?;
    let mut open: Vec<&TripEntry> = trips
        .values()
        .filter(|t| t.trip.state == TripState::Open)
        .filter(|t| req.trip.as_ref().is_none_or(|id| &t.trip.trip_id == id))
        .filter(|t| req.container.is_none() || req.container == t.trip.container)
        .filter(|t| req.vehicle.is_none() || req.vehicle == t.trip.vehicle)
        .collect();
    open.sort_by_key(|t| std::cmp::Reverse(t.updated_ms));
    let mut checks = Vec::new();
    let mut lane_name = None;
    let what = req.trip.clone().or_else(|| req.container.clone()).or_else(|| req.vehicle.clone()).unwrap_or_default();
    let trip = open.first().copied();
    match trip {
        None => checks.push(GateCheck {
            check: "trip".into(),
            passed: false,
            detail: format!("no open trip is known for {what}: it was not sealed and declared for this crossing"),
        }),
        Some(t) => {
            checks.push(GateCheck {
                check: "trip".into(),
                passed: true,
                detail: format!("trip {} of {}", t.trip.trip_id, t.trip.owner),
            });
            let (passed, detail) = match (&t.trip.declaration, &iot.risk) {
                (None, _) => (false, "the trip names no declaration".to_owned()),
                (Some(_), None) => (false, "this node runs no risk assessment to read the lane from".to_owned()),
                (Some(record), Some(risk)) => {
                    let reference = risk.declaration_of_record(record).unwrap_or_else(|| record.clone());
                    match risk.engine().assessment(&reference).map(|a| a.effective_lane()) {
                        None => (false, format!("declaration {reference} is not assessed on this node")),
                        Some(lane) => {
                            let name = format!("{lane:?}").to_uppercase();
                            lane_name = Some(name.clone());
                            if lane == borderlink_model::Lane::Green {
                                (true, format!("declaration {reference} is in the green lane"))
                            } else {
                                (
                                    false,
                                    format!(
                                        "declaration {reference} is in the {} lane, not green",
                                        name.to_lowercase()
                                    ),
                                )
                            }
                        }
                    }
                }
            };
            checks.push(GateCheck { check: "lane".into(), passed, detail });
            // The seal is judged on what the trip's own devices reported (authenticated by their
            // keys or certificates), never on events anyone else captured naming the container.
            let (events, _) = iot.trip_events(t).await?;
            let own: Vec<Row> =
                events.into_iter().filter(|e| e.2.as_ref().is_some_and(|d| t.trip.has_device(d))).collect();
            let tr = &trace(&own);
            let alerts = iot.trip_alerts(t)?;
            let (passed, detail) = match (tr.sealed_at, tr.intact_since_sealing, tr.seal) {
                (None, ..) => (false, "no sealing is reported by the trip's devices".to_owned()),
                (Some(at), true, _) => {
                    (true, format!("seal intact since sealing at {}", borderlink_iot::trace::instant(at)))
                }
                (Some(at), false, state) => (
                    false,
                    format!(
                        "the seal was {} after sealing at {}",
                        match state {
                            Some(SealState::Tampered) => "tampered with",
                            _ => "opened",
                        },
                        borderlink_iot::trace::instant(at)
                    ),
                ),
            };
            checks.push(GateCheck { check: "seal".into(), passed, detail });
            let open_alerts: Vec<&AlertView> = alerts.iter().filter(|a| a.is_open()).collect();
            checks.push(GateCheck {
                check: "alerts".into(),
                passed: open_alerts.is_empty(),
                detail: if open_alerts.is_empty() {
                    "no alert of the trip is open".into()
                } else {
                    let names: Vec<String> =
                        open_alerts.iter().map(|a| format!("{} ({})", a.alert.rule, a.alert.detail)).collect();
                    format!("open alerts: {}", names.join("; "))
                },
            });
        }
    }
    let reasons: Vec<String> = checks.iter().filter(|c| !c.passed).map(|c| c.detail.clone()).collect();
    let decision = if reasons.is_empty() { "release" } else { "hold" };
    metrics::counter!("borderlink_iot_gate_decisions_total", "decision" => decision).increment(1);
    tracing::info!(at = %what, gate = req.gate.as_deref().unwrap_or("-"), decision, by = who.principal.kind(), "gate decision");
    Ok(Json(GateDecision {
        decision: decision.into(),
        reasons,
        checks,
        trip: trip.map(|t| t.trip.trip_id.clone()),
        lane: lane_name,
    }))
}
