//! `GET /data-quality`: the data-quality dashboard — a filter (organisation, record type,
//! weeks) whose URL is stable (`/data-quality?org=gb-aeo&type=declaration&weeks=12`), the
//! figures of `GET /api/v1/data-quality` as charts (`quality_charts.rs`) and tables, and the
//! figures per organisation and record type, each a link to its own dashboard.
//!
//! The filter is a `GET` form: it changes nothing, so it carries no CSRF token (a token in a URL
//! would leak into logs and history). A filter that cannot be served is shown with the error,
//! status 400.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use borderlink_model::RecordType;
use maud::{Markup, html};

use super::quality::{Figures, QualityReport};
use super::quality_api::{DEFAULT_WEEKS, MAX_WEEKS, QualityQuery, service};
use super::quality_charts::{self as charts, pct};
use crate::console::{Page, layout, message_page};
use crate::error::{ApiError, ErrorCode};
use crate::ledger::enc;
use crate::principal::{ReadQuality, Require};
use crate::server::SharedState;

pub(super) async fn page(
    _: Require<ReadQuality>,
    State(state): State<SharedState>,
    query: Result<Query<QualityQuery>, QueryRejection>,
) -> Page {
    let quality = match service(&state) {
        Ok(q) => q,
        Err(e) => {
            return message_page("Data quality", &format!("No figures here: {e}."))
                .with_status(e.error_code().status());
        }
    };
    let (q, filter) = match query {
        Ok(Query(mut q)) => {
            // A form whose weeks field was emptied asks for the default period.
            q.weeks = q.weeks.filter(|w| !w.trim().is_empty());
            let f = q.filter(&state, quality.clock().now_ms());
            (q, f)
        }
        Err(rejection) => (QualityQuery::default(), Err(ApiError::from(rejection))),
    };
    let names: HashMap<String, String> = state
        .ledger
        .as_ref()
        .map(|l| l.ledger().members().into_iter().map(|m| (m.id, m.name)).collect())
        .unwrap_or_default();
    match filter {
        Ok(f) => {
            let report = quality.report(&f).await;
            render(&names, &q, Ok(&report))
        }
        Err(e) => {
            let status = e.error_code().status();
            render(&names, &q, Err(&e)).with_status(status)
        }
    }
}

/// The link to the dashboard of one organisation and record type over `weeks`.
fn link(org: &str, record_type: &str, weeks: usize) -> String {
    format!("/data-quality?org={}&type={}&weeks={weeks}", enc(org), enc(record_type))
}

fn render(names: &HashMap<String, String>, q: &QualityQuery, report: Result<&QualityReport, &ApiError>) -> Page {
    let weeks = match report {
        Ok(r) => r.weeks.len().to_string(),
        Err(_) => q.weeks.clone().unwrap_or_default(),
    };
    let org = q.org.as_deref().unwrap_or_default().trim();
    let record_type = q.record_type.as_deref().unwrap_or_default().trim();
    let mut members: Vec<(&String, &String)> = names.iter().collect();
    members.sort();
    layout(
        "Data quality",
        super::QUALITY,
        html! {
            section.panel {
                h1 { "Data quality" }
                p.lead {
                    "What members submit to this node, in figures: how often validation refuses it and by which rule, "
                    "how complete the committed declarations are in the elements risk analysis reads, and whether "
                    "they are committed before the goods arrive — per submitting organisation and record type, week "
                    "by week. "
                    a href="/api/v1/data-quality" { "The same figures as JSON" } "."
                }
                form #quality-filter .filters method="get" action="/data-quality" {
                    label { "Organisation "
                        select name="org" {
                            option value="" selected[org.is_empty()] { "All organisations" }
                            @for (id, name) in &members {
                                option value=(id) selected[org == id.as_str()] { (name) " (" (id) ")" }
                            }
                        }
                    }
                    label { "Record type "
                        select name="type" {
                            option value="" selected[record_type.is_empty() || record_type == "all"] { "All types" }
                            @for t in RecordType::ALL {
                                option value=(t.name()) selected[record_type == t.name()] { (crate::record_types::title(t)) }
                            }
                        }
                    }
                    label { "Weeks "
                        input type="number" name="weeks" min="1" max=(MAX_WEEKS) value=(if weeks.is_empty() { DEFAULT_WEEKS.to_string() } else { weeks.clone() });
                    }
                    button.button.primary type="submit" { "Show" }
                }
                @if let Err(e) = report {
                    div #quality-error .alert.alert-error role="alert" { strong { "These figures cannot be shown. " } (e.to_string()) }
                }
                @if let Ok(r) = report {
                    (summary(r))
                }
            }
            @if let Ok(r) = report {
                (sections(r, names))
            }
        },
    )
}

fn summary(r: &QualityReport) -> Markup {
    let s = &r.total.submissions;
    html! {
        dl #quality-summary .facts {
            dt { "Period" }
            dd #period { @if let (Some(first), Some(last)) = (r.weeks.first(), r.weeks.last()) { (first) " to " (last) } }
            dt { "Submissions" }
            dd #submitted data-count=(s.submitted) {
                (s.submitted) " submitted, " (s.committed) " committed, "
                span #refused data-count=(s.refused) { (s.refused) " refused" } " (" (pct(s.failure_rate)) ")"
            }
            @if let Some(c) = &r.total.completeness {
                dt { "Declarations committed" }
                dd #declarations data-count=(c.declarations) {
                    (c.declarations) " with " (c.goods_items) " goods items; elements present: " (pct(c.share))
                }
            }
        }
    }
}

fn sections(r: &QualityReport, names: &HashMap<String, String>) -> Markup {
    let s = &r.total.submissions;
    html! {
        section.panel #failures {
            h2 { "Validation failures by rule" }
            p.hint {
                "Each rule's share of the " (s.validated) " submissions whose record this node validated (clear "
                "records; a private declaration is validated by its customs administration when it endorses it). "
                "Upper bar: errors (the record is refused); lower bar: warnings."
            }
            (charts::rules(&s.rules, s.validated))
            @if !s.refusals.is_empty() {
                h3 { "Refusals by reason" }
                ul #refusals {
                    @for f in &s.refusals {
                        li data-code=(f.code) data-count=(f.count) { code { (f.code) } ": " (f.count) }
                    }
                }
            }
            @if !s.rules.is_empty() {
                details {
                    summary { "The figures as a table" }
                    div.table-wrap {
                        table.data #rule-table {
                            thead { tr { th scope="col" { "Rule" } th scope="col" { "Errors" } th scope="col" { "Error rate" }
                                th scope="col" { "Warnings" } th scope="col" { "Warning rate" } } }
                            tbody {
                                @for rule in &s.rules {
                                    tr { td { code { (rule.rule) } } td { (rule.errors) } td { (pct(rule.error_rate)) }
                                        td { (rule.warnings) } td { (pct(rule.warning_rate)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let (Some(c), Some(t)) = (&r.total.completeness, &r.total.timeliness) {
            section.panel #completeness {
                h2 { "Completeness of the elements risk analysis reads" }
                p.hint {
                    "Per goods item, as the risk engine reads a declaration: the share of the " (c.goods_items)
                    " goods items of the " (c.declarations) " committed declarations that carry each element. "
                    "* the risk model and the criteria need it: a risk assessment lists it as missing."
                }
                (charts::elements(&c.elements, c.goods_items))
                details {
                    summary { "The figures as a table" }
                    div.table-wrap {
                        table.data #element-table {
                            thead { tr { th scope="col" { "Element" } th scope="col" { "Read from" } th scope="col" { "Goods items with it" } th scope="col" { "Share" } } }
                            tbody {
                                @for e in &c.elements {
                                    tr { td { (e.element) @if e.required { " *" } } td { code { (e.source) } } td { (e.present) } td { (pct(e.share)) } }
                                }
                            }
                        }
                    }
                }
            }
            section.panel #timeliness {
                h2 { "Timeliness" }
                p.hint {
                    "A declaration is timely when it is first committed before the planned arrival of its goods: the "
                    code { "plannedArrival" } " of the transport movements that name it (by LRN or MRN) in their "
                    code { "declarationRefs" } ". Without such a movement its timeliness is unknown, not late."
                }
                (charts::timeliness(t))
                ul.legend #timeliness-legend {
                    li { span.swatch.before {} "Before the arrival: " strong { (t.before_arrival) } }
                    li { span.swatch.after {} "At or after it: " strong { (t.after_arrival) } }
                    li { span.swatch.unknown {} "Unknown: " strong { (t.unknown) } }
                    li { "Timely, of those with a known arrival: " strong { (pct(t.share_before_arrival)) } }
                }
            }
        }
        section.panel #trend {
            h2 { "Trends by week" }
            (charts::trend(&r.trend))
            ul.legend {
                @for (series, words) in charts::SERIES {
                    li { span.swatch.(series) {} (words) }
                }
            }
            details {
                summary { "The figures as a table" }
                div.table-wrap {
                    table.data #trend-table {
                        thead { tr { th scope="col" { "Week" } th scope="col" { "Submitted" } th scope="col" { "Refused" }
                            th scope="col" { "Declarations" } th scope="col" { "Completeness" } th scope="col" { "Before arrival" }
                            th scope="col" { "After" } th scope="col" { "Unknown" } } }
                        tbody {
                            @for w in &r.trend {
                                tr data-week=(w.week) { td { (w.week) } td { (w.submitted) } td { (w.refused) " (" (pct(w.failure_rate)) ")" }
                                    td { (w.declarations) } td { (pct(w.completeness)) } td { (w.before_arrival) }
                                    td { (w.after_arrival) } td { (w.unknown) } }
                            }
                        }
                    }
                }
            }
        }
        section.panel #by-organisation {
            h2 { "By organisation and record type" }
            @if r.groups.is_empty() {
                p.none { "Nothing was submitted or committed in this period." }
            } @else {
                div.table-wrap {
                    table.data #groups {
                        thead { tr {
                            th scope="col" { "Organisation" } th scope="col" { "Record type" } th scope="col" { "Submitted" }
                            th scope="col" { "Refused" } th scope="col" { "Declarations" } th scope="col" { "Completeness" }
                            th scope="col" { "Before / after arrival / unknown" }
                        } }
                        tbody {
                            @for g in &r.groups {
                                (group_row(&g.org, &g.record_type, &g.figures, names, r.weeks.len()))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn group_row(org: &str, record_type: &str, f: &Figures, names: &HashMap<String, String>, weeks: usize) -> Markup {
    let s = &f.submissions;
    html! {
        tr data-org=(org) data-type=(record_type) {
            td {
                a href=(link(org, record_type, weeks)) { (names.get(org).map_or(org, String::as_str)) }
                br; span.hint { code { (org) } }
            }
            td { (record_type) }
            td.submitted { (s.submitted) }
            td.refused { (s.refused) " (" (pct(s.failure_rate)) ")" }
            @match (&f.completeness, &f.timeliness) {
                (Some(c), Some(t)) => {
                    td.declarations { (c.declarations) }
                    td.completeness { (pct(c.share)) }
                    td.timeliness { (t.before_arrival) " / " (t.after_arrival) " / " (t.unknown) }
                }
                _ => { td { "—" } td { "—" } td { "—" } }
            }
        }
    }
}
