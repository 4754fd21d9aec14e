//! `GET /risk`, the risk queue: one row per declaration (linked to its ledger record), filtered
//! by lane, office and date range and paged, every filter in the query string so that a view
//! can be bookmarked; each row opens a details panel with the reasons and the officer's
//! override form. The lane split and the score histogram are server-drawn SVG charts, and
//! `GET /risk/queue.csv` exports the filtered queue.
//!
//! Overrides post a plain form to `/risk/override`, so the page works without JavaScript; a
//! refused override (no reason) comes back as the queue with the error shown, the row's panel
//! open and the form filled in, and status 422.

use axum::Form;
use axum::extract::Query;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use borderlink_model::Lane;
use borderlink_risk::item::parse_day;
use borderlink_risk::{Assessment, RiskEngine};
use maud::{Markup, html};
use serde::Deserialize;

use super::service::{ModelInfo, RiskService};
use crate::capability::Service;
use crate::console::charts::{self, Bar};
use crate::console::{Page, layout};
use crate::error::{ApiError, ErrorCode};
use crate::principal::{ChangeRisk, ReadRisk, Require};

pub(super) const LANES: [Lane; 4] = [Lane::Red, Lane::Yellow, Lane::Blue, Lane::Green];

/// Rows on one page of the queue.
const PAGE_SIZE: usize = 25;

pub(super) fn lane_name(l: Lane) -> &'static str {
    match l {
        Lane::Red => "RED",
        Lane::Yellow => "YELLOW",
        Lane::Blue => "BLUE",
        Lane::Green => "GREEN",
    }
}

pub(super) fn lane_class(l: Lane) -> &'static str {
    match l {
        Lane::Red => "lane-red",
        Lane::Yellow => "lane-yellow",
        Lane::Blue => "lane-blue",
        Lane::Green => "lane-green",
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

pub(super) fn parse_lane(s: &str) -> Option<Lane> {
    LANES.into_iter().find(|l| lane_name(*l).eq_ignore_ascii_case(s.trim()))
}

/// A query-string value, percent-encoded (everything but the unreserved characters).
pub(super) fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The query of `GET /risk` and `GET /risk/queue.csv`.
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct QueueQuery {
    lane: Option<String>,
    office: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<usize>,
    overruled: Option<String>,
}

/// The queue's filters, read from its query: a value that does not parse is reported and
/// left out, never silently widened to something else.
#[derive(Debug, Default, Clone, PartialEq)]
struct Filters {
    lane: Option<Lane>,
    office: Option<String>,
    from: Option<String>,
    to: Option<String>,
    problems: Vec<String>,
}

impl Filters {
    fn of(q: &QueueQuery) -> Self {
        let mut f = Filters::default();
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        if let Some(l) = given(&q.lane) {
            match parse_lane(&l) {
                Some(lane) => f.lane = Some(lane),
                None => f.problems.push(format!("lane {l:?} is not RED, YELLOW, BLUE or GREEN")),
            }
        }
        f.office = given(&q.office);
        for (name, value, slot) in [("from", given(&q.from), &mut f.from), ("to", given(&q.to), &mut f.to)] {
            if let Some(d) = value {
                if d.len() == 10 && parse_day(&d).is_some() {
                    *slot = Some(d);
                } else {
                    f.problems.push(format!("{name} {d:?} is not a date (YYYY-MM-DD)"));
                }
            }
        }
        f
    }

    /// Whether an assessment passes every filter but the lane.
    fn keeps_but_lane(&self, a: &Assessment) -> bool {
        self.office.as_deref().is_none_or(|o| a.office.eq_ignore_ascii_case(o))
            && self.from.as_deref().is_none_or(|d| a.day.as_str() >= d)
            && self.to.as_deref().is_none_or(|d| a.day.get(..10).unwrap_or(a.day.as_str()) <= d)
    }

    fn keeps(&self, a: &Assessment) -> bool {
        self.lane.is_none_or(|l| a.effective_lane() == l) && self.keeps_but_lane(a)
    }

    /// The query string of these filters (no leading `?`), with `lane` replaced by `lane`.
    fn query(&self, lane: Option<Lane>) -> String {
        let mut parts = Vec::new();
        if let Some(l) = lane {
            parts.push(format!("lane={}", lane_name(l)));
        }
        for (k, v) in [("office", &self.office), ("from", &self.from), ("to", &self.to)] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", query_value(v)));
            }
        }
        parts.join("&")
    }

    /// The queue's URL with these filters, `lane` and `page` (1 is left out).
    fn url(&self, path: &str, lane: Option<Lane>, page: usize) -> String {
        let mut q = self.query(lane);
        if page > 1 {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("page={page}"));
        }
        if q.is_empty() { path.to_owned() } else { format!("{path}?{q}") }
    }
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
    /// The queue's query string the officer was on, to come back to it.
    #[serde(default)]
    back: String,
}

pub(super) async fn queue(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let engine = risk.engine();
    render_queue(&risk, &engine, &q, None).into_response()
}

/// The filters' query string of an override form, when it is one (only the queue's own
/// parameters, so that the redirect stays on the queue).
fn back_query(back: &str) -> String {
    let f = Filters::of(&parse_query(back).unwrap_or_default());
    f.query(f.lane)
}

/// Reads a queue query string (`lane=RED&office=…`) with axum's own query parser.
fn parse_query(q: &str) -> Option<QueueQuery> {
    let uri: axum::http::Uri = format!("/risk?{q}").parse().ok()?;
    Query::<QueueQuery>::try_from_uri(&uri).ok().map(|Query(q)| q)
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
    let back = back_query(&f.back);
    match result {
        Ok(o) => {
            tracing::info!(declaration = %o.declaration_id, from = ?o.from, to = ?o.to, officer = %o.officer, "lane overruled");
            let sep = if back.is_empty() { "" } else { "&" };
            Redirect::to(&format!("/risk?{back}{sep}overruled={}", query_value(&o.declaration_id))).into_response()
        }
        Err(e) => {
            let status = e.error_code().status();
            let q = parse_query(&back).unwrap_or_default();
            render_queue(&risk, &engine, &q, Some((&f, &e))).with_status(status).into_response()
        }
    }
}

fn render_queue(
    risk: &RiskService,
    engine: &RiskEngine,
    q: &QueueQuery,
    error: Option<(&OverrideForm, &ApiError)>,
) -> Page {
    let filters = Filters::of(q);
    let all = engine.queue();
    let around: Vec<&Assessment> = all.iter().copied().filter(|a| filters.keeps_but_lane(a)).collect();
    let shown: Vec<&Assessment> = around.iter().copied().filter(|a| filters.keeps(a)).collect();
    let pages = shown.len().div_ceil(PAGE_SIZE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let on_page = &shown[(page - 1) * PAGE_SIZE..(page * PAGE_SIZE).min(shown.len())];
    let policy = engine.lane_policy();
    let quota = policy.default_quota;
    let model = engine.model().map(ModelInfo::of);
    let back = filters.query(filters.lane);
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
                            Some(m) => { a href="/risk/model" { code { (m.version) } } " (" (m.trees) " trees)" }
                            None => { "none: lanes come from criteria and random selection · " a href="/risk/model" { "upload one" } }
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
                @if !filters.problems.is_empty() {
                    div #risk-filter-error .alert.alert-error role="alert" {
                        "Filter left out: " (filters.problems.join("; ")) "."
                    }
                }
                nav #lane-filter aria-label="Lanes" {
                    a href=(filters.url("/risk", None, 1)) aria-current=[filters.lane.is_none().then_some("page")] { "All (" (around.len()) ")" }
                    @for l in LANES {
                        " · "
                        a href=(filters.url("/risk", Some(l), 1)) aria-current=[(filters.lane == Some(l)).then_some("page")] {
                            (lane_name(l)) " (" (around.iter().filter(|a| a.effective_lane() == l).count()) ")"
                        }
                    }
                }
                (filter_form(&filters))
            }
            @if all.is_empty() {
                section.panel {
                    p.empty-state #risk-empty {
                        "No declaration assessed yet. Declarations are scored when committed to the ledger; "
                        code { "POST /api/v1/risk/score" } " gives a what-if score without queueing it."
                    }
                }
            } @else {
                section.panel.risk-charts {
                    h2 { "Lanes and scores" }
                    p.hint { "Of the " (around.len()) " declarations that pass the office and date filters." }
                    (lane_chart(&around))
                    (score_chart(&shown))
                }
                section.panel {
                    div.queue-head {
                        h2 { "Declarations" }
                        a.button #risk-csv href=(filters.url("/risk/queue.csv", filters.lane, 1)) download { "Export CSV" }
                    }
                    @if shown.is_empty() {
                        p.empty-state #risk-empty { "No declaration matches these filters. " a href="/risk" { "Show all" } }
                    } @else {
                        p.hint #risk-count { (shown.len()) " declarations · page " (page) " of " (pages) }
                        div.table-wrap {
                            table #risk-queue .issues {
                                thead { tr {
                                    th scope="col" { "Declaration" } th scope="col" { "Lane" } th scope="col" { "Score" }
                                    th scope="col" { "Main reason" } th scope="col" { "Details" }
                                } }
                                tbody {
                                    @for (i, a) in on_page.iter().enumerate() {
                                        (row(risk, i, a, error.map(|(f, _)| f), &back))
                                    }
                                }
                            }
                        }
                        (pager(&filters, page, pages))
                    }
                }
            }
        },
    )
}

fn filter_form(f: &Filters) -> Markup {
    html! {
        form.risk-filters #risk-filters method="get" action="/risk" {
            fieldset {
                legend { "Filter the queue" }
                div.field {
                    label for="filter-lane" { "Lane" }
                    select #filter-lane name="lane" {
                        option value="" selected[f.lane.is_none()] { "any" }
                        @for l in LANES { option value=(lane_name(l)) selected[f.lane == Some(l)] { (lane_name(l)) } }
                    }
                }
                div.field {
                    label for="filter-office" { "Office" }
                    input #filter-office type="text" name="office" value=[f.office.as_deref()] placeholder="e.g. GB000040";
                }
                div.field {
                    label for="filter-from" { "From" }
                    input #filter-from type="date" name="from" value=[f.from.as_deref()];
                }
                div.field {
                    label for="filter-to" { "To" }
                    input #filter-to type="date" name="to" value=[f.to.as_deref()];
                }
                div.field.actions { button.button type="submit" { "Filter" } " " a href="/risk" { "Clear" } }
            }
        }
    }
}

fn pager(f: &Filters, page: usize, pages: usize) -> Markup {
    html! {
        nav.pager #risk-pager aria-label="Pages" {
            @if page > 1 { a rel="prev" href=(f.url("/risk", f.lane, page - 1)) { "← Previous" } }
            @else { span.disabled { "← Previous" } }
            " · page " (page) " of " (pages) " · "
            @if page < pages { a rel="next" href=(f.url("/risk", f.lane, page + 1)) { "Next →" } }
            @else { span.disabled { "Next →" } }
        }
    }
}

fn lane_chart(around: &[&Assessment]) -> Markup {
    let bars: Vec<Bar> = LANES
        .iter()
        .map(|&l| {
            let n = around.iter().filter(|a| a.effective_lane() == l).count();
            Bar::new(lane_name(l), n as f64, n.to_string()).class(lane_class(l))
        })
        .collect();
    charts::hbars("risk-lanes", "Lane split", "Declarations in each lane (as overruled, where overruled)", &bars)
}

/// Ten bins of the model's score, of the declarations the model scored.
fn score_chart(shown: &[&Assessment]) -> Markup {
    let mut bins = [0usize; 10];
    for a in shown.iter().filter(|a| a.model_version.is_some()) {
        let b = ((a.score.clamp(0.0, 1.0) * 10.0) as usize).min(9);
        bins[b] += 1;
    }
    let bars: Vec<Bar> = if bins.iter().all(|b| *b == 0) {
        Vec::new()
    } else {
        bins.iter()
            .enumerate()
            .map(|(i, n)| Bar::new(format!("{}–{} %", i * 10, i * 10 + 10), *n as f64, n.to_string()))
            .collect()
    };
    charts::columns(
        "risk-scores",
        "Score histogram",
        "Declarations the model scored, by fraud probability in bins of 10 points",
        &bars,
    )
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

fn row(risk: &RiskService, i: usize, a: &Assessment, failed: Option<&OverrideForm>, back: &str) -> Markup {
    let lane = a.effective_lane();
    let refill = failed.filter(|f| f.declaration_id == a.declaration_id);
    let record = risk.record_of(&a.declaration_id);
    let id = |what: &str| format!("ovr-{i}-{what}");
    html! {
        tr data-declaration=(a.declaration_id) data-lane=(lane_name(lane)) {
            td {
                @match &record {
                    Some(r) => { a.declaration-id href={ "/ledger/records/" (crate::ledger::enc(r)) } { strong { (a.declaration_id) } } }
                    None => { strong.declaration-id { (a.declaration_id) } }
                }
                br;
                span.hint { "office " (a.office) " · " (a.day) }
            }
            td {
                span.badge.lane.(lane_class(lane)) { (lane_name(lane)) }
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
            }
            td {
                @if let Some(r) = a.reasons.first() { (r.text) }
                @else if let Some(c) = a.criteria.first() { (c.name) }
                @else { span.hint { "no reason recorded" } }
            }
            td {
                details.risk-details open[refill.is_some()] {
                    summary { "Reasons and overrule" }
                    div.risk-details-body {
                        @if a.reasons.is_empty() && a.criteria.is_empty() {
                            p.empty-state { "No model reason and no criterion: the lane comes from the lane policy." }
                        }
                        @if !a.reasons.is_empty() {
                            h3 { "Model reasons" }
                            @if let Some(v) = &a.model_version { p.hint { "model " code { (v) } } }
                            ul.reasons { @for r in &a.reasons { li { (r.text) } } }
                        }
                        @if !a.criteria.is_empty() {
                            h3 { "Criteria fired" }
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
                        form.override-form method="post" action="/risk/override" {
                            (crate::console::csrf::field())
                            input type="hidden" name="declaration_id" value=(a.declaration_id);
                            input type="hidden" name="back" value=(back);
                            fieldset {
                                legend { "Overrule the lane of " (a.declaration_id) }
                                div.field {
                                    label for=(id("lane")) { "New lane" }
                                    select id=(id("lane")) name="lane" {
                                        @for l in LANES {
                                            option value=(lane_name(l)) selected[refill.map_or(l == suggested(lane), |f| f.lane == lane_name(l))] { (lane_name(l)) }
                                        }
                                    }
                                }
                                div.field {
                                    label for=(id("reason")) { "Reason (recorded, at least 10 characters)" }
                                    textarea id=(id("reason")) name="reason" rows="2" placeholder="why the lane changes" {
                                        (refill.map(|f| f.reason.as_str()).unwrap_or_default())
                                    }
                                }
                                div.field {
                                    label for=(id("officer")) { "Officer" }
                                    input id=(id("officer")) type="text" name="officer" value=[refill.map(|f| f.officer.as_str())] placeholder="name or id";
                                }
                                div.field.actions { button.button type="submit" { "Overrule" } }
                            }
                        }
                    }
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

/// `GET /risk/queue.csv`: the queue with the page's filters (every page), one line per
/// declaration.
pub(super) async fn queue_csv(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let filters = Filters::of(&q);
    let engine = risk.engine();
    let mut out = String::from(
        "declaration,ledger_record,office,day,lane,lane_source,random,score,model_version,overruled_from,officer,override_reason,criteria,reasons\r\n",
    );
    for a in engine.queue().into_iter().filter(|a| filters.keeps(a)) {
        let o = a.overridden.as_ref();
        let fields = [
            a.declaration_id.clone(),
            risk.record_of(&a.declaration_id).unwrap_or_default(),
            a.office.clone(),
            a.day.clone(),
            lane_name(a.effective_lane()).to_owned(),
            format!("{:?}", a.lane_source).to_lowercase(),
            a.random.to_string(),
            if a.model_version.is_some() { format!("{:.4}", a.score) } else { String::new() },
            a.model_version.clone().unwrap_or_default(),
            o.map(|o| lane_name(o.from).to_owned()).unwrap_or_default(),
            o.map(|o| o.officer.clone()).unwrap_or_default(),
            o.map(|o| o.reason.clone()).unwrap_or_default(),
            a.criteria.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(";"),
            a.reasons.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("; "),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let name = match filters.lane {
        Some(l) => format!("risk-queue-{}.csv", lane_name(l).to_lowercase()),
        None => "risk-queue.csv".to_owned(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        out,
    )
        .into_response()
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes
/// doubled. A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage
/// return first) is prefixed with `'`, so that a trader's text never executes on an
/// officer's machine (OWASP "CSV injection").
pub(super) fn csv_field(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_guarded() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn filters_make_stable_urls() {
        let q = QueueQuery {
            lane: Some("red".into()),
            office: Some("GB 01".into()),
            from: Some("2026-01-01".into()),
            to: Some("tomorrow".into()),
            ..QueueQuery::default()
        };
        let f = Filters::of(&q);
        assert_eq!(f.lane, Some(Lane::Red));
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        assert_eq!(f.url("/risk", f.lane, 2), "/risk?lane=RED&office=GB%2001&from=2026-01-01&page=2");
        assert_eq!(f.url("/risk", None, 1), "/risk?office=GB%2001&from=2026-01-01");
        assert_eq!(back_query("lane=RED&office=X&evil=1"), "lane=RED&office=X");
    }
}
