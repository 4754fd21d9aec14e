//! The IoT pages of the console: the trips with their traces (`/iot`, `/iot/trips/{id}`: the
//! timeline, the seal's state, the route on a map with stops, authorised places and the corridor,
//! the alerts), the alerts queue an officer works (`/iot/alerts`, acknowledging with a reason),
//! and the device registry (`/iot/devices`). Every list filters and pages with stable URLs.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use borderlink_iot::rules::SealState;
use borderlink_iot::trip::TripState;
use maud::{Markup, html};
use serde::Deserialize;

use super::alerts::{AlertFilter, AlertView, filtered};
use super::map::{MapInput, map};
use super::{ALERTS, DEVICES, IotService, TRACES};
use crate::capability::Service;
use crate::console::format::{path, when};
use crate::console::layout;
use crate::error::ErrorCode;
use crate::ledger::paging;
use crate::principal::{AcknowledgeAlerts, ReadIot, Require};

const PER_PAGE: usize = 25;

fn seal_words(s: Option<SealState>) -> &'static str {
    match s {
        Some(SealState::Sealed) => "sealed",
        Some(SealState::Opened) => "opened",
        Some(SealState::Tampered) => "tampered with",
        None => "no seal event",
    }
}

fn failed(title: &str, e: &crate::error::ApiError) -> Response {
    crate::console::message_page(title, &e.to_string()).with_status(e.error_code().status()).into_response()
}

fn record_link(id: &str) -> Markup {
    html! { a href={ "/ledger/records/" (crate::ledger::enc(id)) } { (path(id)) } }
}

/// Filters of the trips page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct TripFilter {
    state: Option<String>,
    page: Option<String>,
}

pub(super) async fn trips(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    query: Result<Query<TripFilter>, QueryRejection>,
) -> Response {
    let f = query.map(|Query(q)| q).unwrap_or_default();
    let state = f.state.as_deref().filter(|s| !s.is_empty()).unwrap_or("open");
    let (trips, alerts) = match (iot.trips(), iot.alerts()) {
        (Ok(t), Ok(a)) => (t, a),
        (Err(e), _) | (_, Err(e)) => return failed("Trips not read", &e),
    };
    let mut rows: Vec<_> = trips
        .values()
        .filter(|t| match state {
            "open" => t.trip.state == TripState::Open,
            "closed" => t.trip.state == TripState::Closed,
            _ => true,
        })
        .collect();
    rows.sort_by_key(|t| std::cmp::Reverse(t.updated_ms));
    let page = paging::page_of(f.page.as_deref());
    let pairs: Vec<(&str, String)> = vec![("state", state.to_owned())];
    let (start, end) = paging::window(page, PER_PAGE, rows.len());
    layout(
        "Trips and traces",
        TRACES,
        html! {
            section.panel {
                h1 { "Trips and traces" }
                p.lead {
                    "Each trip ties the devices that report (e-seals, trackers) to the container, seal or vehicle they watch, "
                    "the declaration and the rules of its route. Open one to see its trace: the events, the seal, the route and the alerts."
                }
                form.filters #trip-filters method="get" action="/iot" {
                    label for="trip-state" { "State" }
                    select #trip-state name="state" {
                        @for (v, label) in [("open", "Open"), ("closed", "Closed"), ("all", "All")] {
                            option value=(v) selected[v == state] { (label) }
                        }
                    }
                    button type="submit" { "Show" }
                }
                @if rows.is_empty() {
                    p.empty-state #trips-empty { "No " @if state != "all" { (state) " " } "trip readable on this node." }
                } @else {
                    table.data #trips {
                        thead { tr { th { "Trip" } th { "Watches" } th { "Declaration" } th { "Devices" } th { "State" } th { "Open alerts" } th { "Updated" } } }
                        tbody {
                            @for t in &rows[start..end] {
                                @let open = alerts.iter().filter(|a| a.is_open() && a.alert.trip_id == t.trip.trip_id && a.alert.trip_owner == t.trip.owner).count();
                                tr data-trip=(t.trip.trip_id) {
                                    td { a href={ "/iot/trips/" (crate::ledger::enc(&t.trip.trip_id)) } { strong { (t.trip.trip_id) } } br; span.hint { (t.trip.owner) } }
                                    td {
                                        @if let Some(c) = &t.trip.container { "container " code { (c) } br; }
                                        @if let Some(s) = &t.trip.seal { "seal " code { (s) } br; }
                                        @if let Some(v) = &t.trip.vehicle { "vehicle " code { (v) } }
                                    }
                                    td { @match &t.trip.declaration { Some(d) => (record_link(d)), None => span.hint { "none" } } }
                                    td { (t.trip.devices.join(", ")) }
                                    td { span.badge { (if t.trip.state == TripState::Open { "open" } else { "closed" }) } }
                                    td.num { @if open > 0 { a href={ "/iot/alerts?state=open&trip=" (crate::ledger::enc(&t.trip.trip_id)) } { span.badge.lane-red { (open) } } } @else { "0" } }
                                    td { (when(t.updated_ms)) }
                                }
                            }
                        }
                    }
                    (paging::pager("trips-pager", "/iot", &pairs, "page", page, PER_PAGE, rows.len(), "trips"))
                }
            }
        },
    )
    .into_response()
}

pub(super) async fn trace_page(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
) -> Response {
    let trip = match iot.trip(&id) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return crate::console::message_page("No such trip", &format!("No trip {id:?} is readable on this node."))
                .with_status(axum::http::StatusCode::NOT_FOUND)
                .into_response();
        }
        Err(e) => return failed("Trip not read", &e),
    };
    let view = match iot.trip_trace(&trip).await {
        Ok(v) => v,
        Err(e) => return failed("Trace not read", &e),
    };
    let t = &trip.trip;
    let tr = &view.trace;
    let alerts_on_map: Vec<(String, String, borderlink_iot::geo::Point)> = view
        .alerts
        .iter()
        .filter_map(|a| a.alert.position.map(|p| (a.alert.rule.clone(), a.alert.detail.clone(), p)))
        .collect();
    layout(
        &format!("Trip {}", t.trip_id),
        TRACES,
        html! {
            section.panel {
                p { a href="/iot" { "← Trips" } }
                h1 { "Trip " (t.trip_id) }
                dl.facts #trip-facts {
                    dt { "Opened by" } dd { (t.owner) }
                    dt { "State" } dd { (if t.state == TripState::Open { "open" } else { "closed" }) }
                    @if let Some(c) = &t.container { dt { "Container" } dd { code { (c) } } }
                    @if let Some(s) = &t.seal { dt { "Seal" } dd { code { (s) } } }
                    @if let Some(v) = &t.vehicle { dt { "Vehicle" } dd { code { (v) } } }
                    dt { "Devices" } dd { (t.devices.join(", ")) }
                    dt { "Declaration" } dd { @match &t.declaration { Some(d) => (record_link(d)), None => "none" } }
                    @if let Some(m) = &t.movement { dt { "Transport movement" } dd { (record_link(m)) } }
                    dt { "Rules" } dd { (t.rules.name) }
                    @if let Some(d) = t.deadline_ms { dt { "Due by" } dd { (when(d)) } }
                    dt { "Shared with" } dd { @if t.administrations.is_empty() { "no other administration" } @else { (t.administrations.join(", ")) } }
                    dt { "Seal" } dd #trip-seal data-seal=(seal_words(tr.seal)) {
                        strong { (seal_words(tr.seal)) }
                        @if let Some(at) = tr.sealed_at {
                            " · sealed at " (when(at)) " · "
                            @if tr.intact_since_sealing { span.badge.lane-green { "intact since sealing" } } @else { span.badge.lane-red { "not intact since sealing" } }
                        }
                    }
                }
            }
            section.panel {
                h2 { "Route" }
                (map(&MapInput { rules: Some(&t.rules), positions: &tr.positions, alerts: alerts_on_map }))
                p.hint { "Line: the positions in time order; squares: stops; shaded: authorised places and the declared corridor; triangles: alerts." }
            }
            section.panel {
                h2 { "Alerts" }
                @if view.alerts.is_empty() { p.empty-state #trace-alerts-empty { "No alert raised for this trip." } } @else {
                    (alert_table("trace-alerts", &view.alerts, None))
                }
            }
            section.panel {
                h2 { "Timeline" }
                @if view.truncated { p.alert role="status" { "Only the first 20,000 events are shown." } }
                @if tr.events.is_empty() { p.empty-state #timeline-empty { "No event stored for this trip yet." } } @else {
                    table.data #timeline {
                        thead { tr { th { "When" } th { "What" } th { "Where" } th { "Device" } th { "Event" } } }
                        tbody {
                            @for e in &tr.events {
                                tr data-seal=[e.seal.map(|s| seal_words(Some(s)))] {
                                    td { (when(e.at)) }
                                    td { (e.summary) br; span.hint { (e.event_type) @if let Some(d) = &e.disposition { " · " (d) } } }
                                    td { @if let Some(p) = e.position { (format!("{:.4}, {:.4}", p.lat, p.lon)) } @else { "—" } }
                                    td { (e.device.as_deref().unwrap_or("—")) }
                                    td { (path(&e.hash_id)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// The alerts table; `ack` gives the officer's acknowledge form on open alerts (the page's
/// query string to come back to).
fn alert_table(id: &str, alerts: &[AlertView], ack: Option<&str>) -> Markup {
    html! {
        table.data id=(id) {
            thead { tr { th { "When" } th { "Rule" } th { "Trip" } th { "What happened" } th { "Where" } th { "State" } } }
            tbody {
                @for (i, a) in alerts.iter().enumerate() {
                    @let al = &a.alert;
                    tr data-alert=(al.alert_id) data-rule=(al.rule) data-open=(a.is_open()) {
                        td { (when(al.at_ms)) }
                        td { span.badge.lane-red { (al.rule) } br; span.hint { (al.rule_set) } }
                        td {
                            a href={ "/iot/trips/" (crate::ledger::enc(&al.trip_id)) } { (al.trip_id) }
                            @if let Some(c) = &al.container { br; code { (c) } }
                        }
                        td { (al.detail) }
                        td {
                            @if let Some(place) = &al.place { (place) br; }
                            @if let Some(p) = al.position { (format!("{:.4}, {:.4}", p.lat, p.lon)) } @else { "—" }
                        }
                        td {
                            @match &a.acknowledged {
                                Some(k) => {
                                    "acknowledged by " (k.by) " (" (k.organisation) ") " (when(k.at_ms)) ": “" (k.reason) "”"
                                }
                                None => {
                                    strong { "open" }
                                    @if let Some(back) = ack {
                                        details.risk-details {
                                            summary { "Acknowledge" }
                                            form.risk-details-body method="post" action={ "/iot/alerts/" (crate::ledger::enc(&al.alert_id)) "/acknowledge" } {
                                                (crate::console::csrf::field())
                                                input type="hidden" name="back" value=(back);
                                                label for={ "ack-" (i) } { "Reason (what was done, or why no more action is needed)" }
                                                textarea id={ "ack-" (i) } name="reason" rows="3" maxlength="1000" required {}
                                                button type="submit" { "Acknowledge" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Filters of the alerts queue (as the API's, plus the page).
#[derive(Debug, Default, Deserialize)]
pub(super) struct AlertPageQuery {
    state: Option<String>,
    rule: Option<String>,
    trip: Option<String>,
    page: Option<String>,
    acknowledged: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

pub(super) async fn alerts(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    query: Result<Query<AlertPageQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let state = nonempty(&q.state).unwrap_or_else(|| "open".into());
    let f =
        AlertFilter { state: Some(state.clone()), rule: nonempty(&q.rule), trip: nonempty(&q.trip), container: None };
    let all = match iot.alerts() {
        Ok(a) => a,
        Err(e) => return failed("Alerts not read", &e),
    };
    let shown = match filtered(&all, &f) {
        Ok(s) => s,
        Err(e) => return failed("Alerts not shown", &e),
    };
    let pairs: Vec<(&str, String)> = vec![
        ("state", state.clone()),
        ("rule", f.rule.clone().unwrap_or_default()),
        ("trip", f.trip.clone().unwrap_or_default()),
    ];
    let back = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::ledger::enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let page = paging::page_of(q.page.as_deref());
    let (start, end) = paging::window(page, PER_PAGE, shown.len());
    let open = all.iter().filter(|a| a.is_open()).count();
    layout(
        "IoT alerts",
        ALERTS,
        html! {
            section.panel {
                h1 { "IoT alerts" }
                p.lead { (open) " open. Each alert names its rule, the place and the time; acknowledge it once it is dealt with, saying what was done." }
                @if let Some(a) = nonempty(&q.acknowledged) { div #alert-acknowledged .alert role="status" { "Alert " code { (a) } " acknowledged." } }
                form.filters #alert-filters method="get" action="/iot/alerts" {
                    label for="alert-state" { "State" }
                    select #alert-state name="state" {
                        @for (v, label) in [("open", "Open"), ("acknowledged", "Acknowledged"), ("all", "All")] {
                            option value=(v) selected[v == state] { (label) }
                        }
                    }
                    label for="alert-rule" { "Rule" }
                    select #alert-rule name="rule" {
                        option value="" { "Any" }
                        @for k in borderlink_iot::rules::RuleKind::ALL {
                            option value=(k.as_str()) selected[f.rule.as_deref() == Some(k.as_str())] { (k.as_str()) }
                        }
                    }
                    label for="alert-trip" { "Trip" }
                    input #alert-trip type="text" name="trip" value=[f.trip.as_deref()] maxlength="64";
                    button type="submit" { "Show" }
                }
                @if shown.is_empty() {
                    p.empty-state #alerts-empty { "No alert matches." }
                } @else {
                    (alert_table("alerts", &shown[start..end], Some(&back)))
                    (paging::pager("alerts-pager", "/iot/alerts", &pairs, "page", page, PER_PAGE, shown.len(), "alerts"))
                }
            }
        },
    )
    .into_response()
}

/// The acknowledge form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AckForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: String,
}

pub(super) async fn acknowledge(
    who: Require<AcknowledgeAlerts>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
    form: Result<Form<AckForm>, FormRejection>,
) -> Response {
    let Form(f) = form.unwrap_or_default();
    let by = crate::access::reads::actor_of(&who.principal).0;
    match iot.acknowledge(&id, &by, &f.reason).await {
        Ok(_) => {
            tracing::info!(alert = %id, by = %by, "IoT alert acknowledged in the console");
            // Only the queue's own parameters come back (never another page's URL).
            let back: String = f
                .back
                .split('&')
                .filter(|kv| ["state=", "rule=", "trip="].iter().any(|p| kv.starts_with(p)))
                .collect::<Vec<_>>()
                .join("&");
            let sep = if back.is_empty() { "" } else { "&" };
            Redirect::to(&format!("/iot/alerts?{back}{sep}acknowledged={}", crate::ledger::enc(&id))).into_response()
        }
        Err(e) => failed("Alert not acknowledged", &e),
    }
}

/// Filters of the device list.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DevicePageQuery {
    kind: Option<String>,
    state: Option<String>,
    page: Option<String>,
}

pub(super) async fn devices(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    query: Result<Query<DevicePageQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let registry = match iot.devices() {
        Ok(r) => r,
        Err(e) => return failed("Devices not read", &e),
    };
    let kind = nonempty(&q.kind);
    let state = nonempty(&q.state);
    let rows: Vec<_> = registry
        .values()
        .filter(|r| kind.as_deref().is_none_or(|k| r.device.kind.as_str() == k))
        .filter(|r| state.as_deref().is_none_or(|s| format!("{:?}", r.device.state).eq_ignore_ascii_case(s)))
        .collect();
    let pairs: Vec<(&str, String)> =
        vec![("kind", kind.clone().unwrap_or_default()), ("state", state.clone().unwrap_or_default())];
    let page = paging::page_of(q.page.as_deref());
    let (start, end) = paging::window(page, PER_PAGE, rows.len());
    layout(
        "Devices",
        DEVICES,
        html! {
            section.panel {
                h1 { "Devices" }
                p.lead { "The consortium's device registry, on the ledger: e-seals, trackers, readers and cameras, by owner. A lost or retired device is refused when it reports." }
                form.filters #device-filters method="get" action="/iot/devices" {
                    label for="device-kind" { "Kind" }
                    select #device-kind name="kind" {
                        option value="" { "Any" }
                        @for k in borderlink_iot::device::DeviceKind::ALL {
                            option value=(k.as_str()) selected[kind.as_deref() == Some(k.as_str())] { (k.as_str()) }
                        }
                    }
                    label for="device-state" { "State" }
                    select #device-state name="state" {
                        option value="" { "Any" }
                        @for s in ["active", "lost", "retired"] { option value=(s) selected[state.as_deref() == Some(s)] { (s) } }
                    }
                    button type="submit" { "Show" }
                }
                @if rows.is_empty() { p.empty-state #devices-empty { "No device matches." } } @else {
                    table.data #devices {
                        thead { tr { th { "Device" } th { "Kind" } th { "Owner" } th { "Reports every" } th { "State" } th { "Registered" } } }
                        tbody {
                            @for r in &rows[start..end] {
                                tr data-device=(r.device.device_id) {
                                    td { strong { (r.device.device_id) } }
                                    td { (r.device.kind.as_str()) }
                                    td { (r.device.owner) }
                                    td.num { (r.device.reporting_interval_seconds) " s" }
                                    td { span.badge { (format!("{:?}", r.device.state).to_lowercase()) } }
                                    td { (when(r.updated_ms)) " · " a href={ "/ledger/records/" (crate::ledger::enc(&r.record_id)) } { "v" (r.version) } }
                                }
                            }
                        }
                    }
                    (paging::pager("devices-pager", "/iot/devices", &pairs, "page", page, PER_PAGE, rows.len(), "devices"))
                }
            }
        },
    )
    .into_response()
}
