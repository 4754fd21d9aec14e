//! `GET /risk` (the risk queue: declarations by lane and score, their reasons, the officer's
//! override with a reason) and `GET /risk/criteria` (each criterion, its validity and hit rate).
//!
//! Overrides post a plain form to `/risk/override`, so the page works without JavaScript; a
//! refused override (no reason) comes back as the queue with the error shown and status 422.

use axum::Form;
use axum::extract::Query;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use borderlink_model::Lane;
use borderlink_risk::criterion::describe;
use borderlink_risk::{Assessment, RiskEngine};
use maud::{Markup, html};
use serde::Deserialize;

use super::service::{ModelInfo, RiskService};
use crate::capability::Service;
use crate::console::{Page, layout};
use crate::error::{ApiError, ErrorCode};
use crate::principal::{ChangeRisk, ReadRisk, Require};

const LANES: [Lane; 4] = [Lane::Red, Lane::Yellow, Lane::Blue, Lane::Green];

fn lane_name(l: Lane) -> &'static str {
    match l {
        Lane::Red => "RED",
        Lane::Yellow => "YELLOW",
        Lane::Blue => "BLUE",
        Lane::Green => "GREEN",
    }
}

fn lane_words(l: Lane) -> &'static str {
    match l {
        Lane::Red => "physical inspection",
        Lane::Yellow => "documentary check",
        Lane::Blue => "post-clearance audit",
        Lane::Green => "release",
    }
}

fn parse_lane(s: &str) -> Option<Lane> {
    LANES.into_iter().find(|l| lane_name(*l).eq_ignore_ascii_case(s.trim()))
}

/// The query of `GET /risk`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct QueueQuery {
    lane: Option<String>,
    overruled: Option<String>,
}

/// The override form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct OverrideForm {
    declaration_id: String,
    lane: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    officer: String,
}

pub(super) async fn queue(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let engine = risk.engine();
    render_queue(&engine, &q, None).into_response()
}

pub(super) async fn overrule(
    _: Require<ChangeRisk>,
    Service(risk): Service<RiskService>,
    form: Result<Form<OverrideForm>, FormRejection>,
) -> Response {
    let Form(f) = form.unwrap_or_default();
    let mut engine = risk.engine();
    let at = risk.clock().now_iso();
    let result = match parse_lane(&f.lane) {
        Some(lane) => engine.overrule(&f.declaration_id, lane, &f.reason, &f.officer, &at).map_err(ApiError::Risk),
        None => Err(ApiError::BadRequest(format!("{:?} is not a lane", f.lane))),
    };
    let result = result.and_then(|o| risk.record_override(&o).map(|()| o));
    match result {
        Ok(o) => {
            tracing::info!(declaration = %o.declaration_id, from = ?o.from, to = ?o.to, officer = %o.officer, "lane overruled");
            Redirect::to(&format!("/risk?overruled={}", crate::ledger::enc(&o.declaration_id))).into_response()
        }
        Err(e) => {
            let status = e.error_code().status();
            let q = QueueQuery::default();
            render_queue(&engine, &q, Some((&f, &e))).with_status(status).into_response()
        }
    }
}

fn render_queue(engine: &RiskEngine, q: &QueueQuery, error: Option<(&OverrideForm, &ApiError)>) -> Page {
    let filter = q.lane.as_deref().and_then(parse_lane);
    let all = engine.queue();
    let shown: Vec<&Assessment> =
        all.iter().copied().filter(|a| filter.is_none_or(|l| a.effective_lane() == l)).collect();
    let policy = engine.lane_policy();
    let quota = policy.default_quota;
    let model = engine.model().map(ModelInfo::of);
    layout(
        "Risk queue",
        super::QUEUE,
        html! {
            section.panel {
                h1 { "Risk queue" }
                p.lead {
                    "Declarations by lane and risk score, with the reasons the model and the selectivity "
                    "criteria give. An officer may overrule a lane, with a reason that is recorded."
                }
                dl.facts {
                    dt { "Model" }
                    dd #risk-model {
                        @match &model {
                            Some(m) => { code { (m.version) } " (" (m.trees) " trees)" }
                            None => { "none: lanes come from criteria and random selection" }
                        }
                    }
                    dt { "Selection" }
                    dd {
                        "random " (pct(policy.random_rate)) " · quotas: red " (pct(quota.red)) ", yellow "
                        (pct(quota.yellow)) ", blue " (pct(quota.blue))
                    }
                }
                @if let Some(id) = &q.overruled {
                    div #risk-notice .alert role="status" { "The lane of " code { (id) } " was overruled and the reason recorded." }
                }
                @if let Some((f, e)) = error {
                    div #risk-error .alert.alert-error role="alert" {
                        strong { "The lane of " (f.declaration_id) " was not changed. " }
                        (e.to_string())
                    }
                }
                nav #lane-filter aria-label="Lanes" {
                    a href="/risk" aria-current=[filter.is_none().then_some("page")] { "All (" (all.len()) ")" }
                    @for l in LANES {
                        " · "
                        a href={ "/risk?lane=" (lane_name(l)) } aria-current=[(filter == Some(l)).then_some("page")] {
                            (lane_name(l)) " (" (all.iter().filter(|a| a.effective_lane() == l).count()) ")"
                        }
                    }
                }
            }
            section.panel {
                @if shown.is_empty() {
                    p.none #risk-empty { "No declaration assessed yet. Declarations are scored when submitted to "
                        code { "POST /api/v1/risk/score" } " or committed to the ledger." }
                } @else {
                    div.table-wrap {
                        table #risk-queue .issues {
                            thead { tr {
                                th scope="col" { "Declaration" } th scope="col" { "Lane" } th scope="col" { "Score" }
                                th scope="col" { "Why" } th scope="col" { "Overrule" }
                            } }
                            tbody {
                                @for a in &shown { (row(a, error.map(|(f, _)| f))) }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

fn row(a: &Assessment, failed: Option<&OverrideForm>) -> Markup {
    let lane = a.effective_lane();
    let refill = failed.filter(|f| f.declaration_id == a.declaration_id);
    html! {
        tr data-declaration=(a.declaration_id) data-lane=(lane_name(lane)) {
            td {
                strong.declaration-id { (a.declaration_id) }
                br;
                span.hint { "office " (a.office) " · " (a.day) }
            }
            td {
                span.badge.lane { (lane_name(lane)) }
                br;
                span.hint { (lane_words(lane)) }
                @if let Some(o) = &a.overridden {
                    p.overridden { "overruled from " (lane_name(o.from)) " by " (o.officer) ": “" (o.reason) "”" }
                } @else {
                    br;
                    span.hint.lane-source { (format!("{:?}", a.lane_source).to_lowercase()) @if a.random { " (random)" } }
                }
            }
            td.score {
                @if a.model_version.is_some() { (format!("{:.1} %", a.score * 100.0)) } @else { "—" }
                @if let Some(v) = &a.model_version { br; span.hint { (v) } }
            }
            td {
                @if !a.reasons.is_empty() {
                    ul.reasons { @for r in a.reasons.iter().take(3) { li { (r.text) } } }
                }
                @if !a.criteria.is_empty() {
                    ul.criteria-fired {
                        @for c in &a.criteria {
                            li { strong { (c.name) } " → " (lane_name(c.lane)) ": " (c.because)
                                @if !c.instructions.is_empty() { br; em { "Check: " (c.instructions) } } }
                        }
                    }
                }
                @if !a.missing.is_empty() {
                    p.missing { "Missing: " (a.missing.join(", ")) }
                }
            }
            td {
                form.override-form method="post" action="/risk/override" {
                    (crate::console::csrf::field())
                    input type="hidden" name="declaration_id" value=(a.declaration_id);
                    label { "Lane "
                        select name="lane" {
                            @for l in LANES {
                                option value=(lane_name(l)) selected[l != lane && refill.is_none() && l == suggested(lane)] { (lane_name(l)) }
                            }
                        }
                    }
                    label { "Reason " input type="text" name="reason" value=[refill.map(|f| f.reason.as_str())] placeholder="why (recorded)"; }
                    label { "Officer " input type="text" name="officer" value=[refill.map(|f| f.officer.as_str())] placeholder="name or id"; }
                    button.button type="submit" { "Overrule" }
                }
            }
        }
    }
}

/// The lane the form offers first: the next milder one (or red for a green declaration).
fn suggested(l: Lane) -> Lane {
    match l {
        Lane::Red => Lane::Yellow,
        Lane::Yellow => Lane::Blue,
        Lane::Blue => Lane::Green,
        Lane::Green => Lane::Red,
    }
}

pub(super) async fn criteria(_: Require<ReadRisk>, Service(risk): Service<RiskService>) -> Response {
    let engine = risk.engine();
    let set = engine.criteria();
    let day = risk.clock().today();
    let page = layout(
        "Selectivity criteria",
        super::CRITERIA,
        html! {
            section.panel {
                h1 { "Selectivity criteria" }
                p.lead {
                    "Each criterion sends the declarations it matches to at least its lane while it is in force. "
                    "Its hit rate is the share of its inspected selections that found fraud."
                }
                @if set.criteria.is_empty() {
                    p.none #criteria-empty { "No criteria. Load them with " code { "PUT /api/v1/risk/criteria" } "." }
                } @else {
                    div.table-wrap {
                        table #criteria .issues {
                            thead { tr {
                                th scope="col" { "Criterion" } th scope="col" { "Condition" } th scope="col" { "Lane" }
                                th scope="col" { "Validity" } th scope="col" { "Instructions" } th scope="col" { "Hit rate" }
                            } }
                            tbody {
                                @for c in &set.criteria {
                                    tr data-criterion=(c.id) {
                                        td { strong { (c.name) } br; code { (c.id) } " · weight " (c.weight) }
                                        td { (describe(&c.condition)) }
                                        td { span.badge { (lane_name(c.lane)) } }
                                        td.validity {
                                            (c.valid_from.as_deref().unwrap_or("always")) " – " (c.valid_until.as_deref().unwrap_or("open"))
                                            br;
                                            span.hint { @if c.in_force(day) { "in force" } @else { "not in force" } }
                                        }
                                        td { (c.instructions) }
                                        td.hit-rate {
                                            @match c.hit_rate() {
                                                Some(r) => { (format!("{:.0} %", r * 100.0)) br; span.hint { (c.hits) " of " (c.inspected) " inspections" } }
                                                None => { "no result yet" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !set.lists.is_empty() {
                section.panel {
                    h2 { "Lists" }
                    table #criteria-lists .issues {
                        thead { tr { th { "List" } th { "Entries" } th { "Use" } } }
                        tbody { @for (name, l) in &set.lists { tr { td { code { (name) } } td { (l.entries.len()) } td { (l.description) } } } }
                    }
                }
            }
            @if !set.value_bands.is_empty() {
                section.panel {
                    h2 { "Value-control bands" }
                    table #value-bands .issues {
                        thead { tr { th { "HS" } th { "Origin" } th { "Minimum per kg" } th { "Maximum per kg" } } }
                        tbody {
                            @for b in &set.value_bands {
                                tr {
                                    td { (b.hs) } td { (b.origin.as_deref().unwrap_or("any")) }
                                    td { (b.min.map(|v| format!("{v:.2}")).unwrap_or_default()) }
                                    td { (b.max.map(|v| format!("{v:.2}")).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
            }
        },
    );
    (StatusCode::OK, page).into_response()
}
