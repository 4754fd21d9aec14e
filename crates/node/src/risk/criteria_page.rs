//! The criteria editor: `GET /risk/criteria` (each criterion, its validity and hit rate),
//! `GET /risk/criteria/new` and `POST /risk/criteria` (create), `GET /risk/criteria/{id}`
//! (the criterion, its selections per week as a chart, the edit form) and
//! `POST /risk/criteria/{id}` (edit), `POST /risk/criteria/{id}/retire` (retire).
//!
//! Every form is checked on the server field by field; a refused form comes back filled in,
//! each error next to its field, with status 422. A criterion is retired, not deleted: its
//! last day in force becomes yesterday, so its hit rate and the reasons it gave stay
//! explainable. Changes need `ChangeRisk` and go through the same check as
//! `PUT /api/v1/risk/criteria`, and the set is kept in `DATA/risk/criteria.json`.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::Path;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use borderlink_risk::criterion::describe;
use borderlink_risk::item::{Day, format_day, parse_day};
use borderlink_risk::{Condition, CriteriaSet, Criterion, RiskEngine};
use maud::{Markup, html};
use serde::Deserialize;

use super::console::{LANES, lane_class, lane_name, parse_lane, query_value};
use super::service::RiskService;
use crate::capability::Service;
use crate::console::charts::{self, Axes, Curve};
use crate::console::{Page, layout};
use crate::principal::{ChangeRisk, ReadRisk, Require};

/// The condition a new criterion starts from.
const EXAMPLE_CONDITION: &str = r#"{"kind": "hs_prefix", "prefixes": ["8471"]}"#;

/// The criterion form, as posted.
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct CriterionForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    lane: String,
    #[serde(default)]
    weight: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    condition: String,
}

impl CriterionForm {
    fn of(c: &Criterion) -> Self {
        CriterionForm {
            id: c.id.clone(),
            name: c.name.clone(),
            lane: lane_name(c.lane).to_owned(),
            weight: c.weight.to_string(),
            valid_from: c.valid_from.clone().unwrap_or_default(),
            valid_until: c.valid_until.clone().unwrap_or_default(),
            instructions: c.instructions.clone(),
            condition: serde_json::to_string_pretty(&c.condition).unwrap_or_default(),
        }
    }
}

/// Errors by form field.
type FieldErrors = BTreeMap<&'static str, String>;

/// Checks a posted criterion against the set it joins: `editing` is the id of the criterion it
/// replaces (whose id and running hit counts it keeps).
fn validate(form: &CriterionForm, set: &CriteriaSet, editing: Option<&Criterion>) -> Result<Criterion, FieldErrors> {
    let mut errors = FieldErrors::new();
    let id = match editing {
        Some(c) => c.id.clone(),
        None => form.id.trim().to_owned(),
    };
    if editing.is_none() {
        if id.is_empty() {
            errors.insert("id", "Give the criterion an id.".into());
        } else if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            errors.insert("id", "Use at most 64 letters, digits, '-', '_' or '.'.".into());
        } else if set.criteria.iter().any(|c| c.id == id) {
            errors.insert("id", format!("A criterion {id:?} already exists: choose another id or edit that one."));
        }
    }
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        errors.insert("name", "Give the criterion a name an officer recognises.".into());
    }
    let lane = parse_lane(&form.lane);
    if lane.is_none() {
        errors.insert("lane", "Choose RED, YELLOW, BLUE or GREEN.".into());
    }
    let weight = match form.weight.trim() {
        "" => Some(1.0),
        w => match w.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
            _ => {
                errors.insert("weight", format!("{w:?} is not a number of points (0 or more)."));
                None
            }
        },
    };
    let mut day = |field: &'static str, v: &str| -> Option<String> {
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        if v.len() != 10 || parse_day(v).is_none() {
            errors.insert(field, format!("{v:?} is not a date (YYYY-MM-DD)."));
        }
        Some(v.to_owned())
    };
    let valid_from = day("valid_from", &form.valid_from);
    let valid_until = day("valid_until", &form.valid_until);
    if let (Some(f), Some(u)) = (valid_from.as_deref().and_then(parse_day), valid_until.as_deref().and_then(parse_day))
        && u < f
    {
        errors.insert("valid_until", "The last day comes before the first.".into());
    }
    let condition = match serde_json::from_str::<Condition>(&form.condition) {
        Ok(c) => {
            // The set's own check of what the condition names (lists, features), whatever
            // else is wrong with the form: alone in a copy of the set, under an id no
            // criterion has.
            let mut trial = CriteriaSet { criteria: Vec::new(), ..set.clone() };
            trial.criteria.push(Criterion {
                id: "condition".into(),
                name: String::new(),
                condition: c.clone(),
                lane: lane.unwrap_or(borderlink_model::Lane::Red),
                weight: 1.0,
                valid_from: None,
                valid_until: None,
                instructions: String::new(),
                inspected: 0,
                hits: 0,
            });
            match trial.check() {
                Ok(()) => Some(c),
                Err(e) => {
                    let message = e.to_string();
                    let why = message.rsplit_once(": ").map_or(message.as_str(), |(_, w)| w);
                    errors.insert("condition", format!("{why}. Lists this set defines: {}.", lists_of(set)));
                    None
                }
            }
        }
        Err(e) => {
            errors.insert("condition", format!("Not a condition: {e}. See docs/criteria.md for the kinds."));
            None
        }
    };
    let (Some(lane), Some(weight), Some(condition)) = (lane, weight, condition) else { return Err(errors) };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Criterion {
        id,
        name,
        condition,
        lane,
        weight,
        valid_from,
        valid_until,
        instructions: form.instructions.trim().to_owned(),
        inspected: editing.map_or(0, |c| c.inspected),
        hits: editing.map_or(0, |c| c.hits),
    })
}

fn lists_of(set: &CriteriaSet) -> String {
    if set.lists.is_empty() { "none".to_owned() } else { set.lists.keys().cloned().collect::<Vec<_>>().join(", ") }
}

/// Puts `c` in `set`: in place of the criterion with its id, or last.
fn put(set: &mut CriteriaSet, c: Criterion) {
    match set.criteria.iter_mut().find(|x| x.id == c.id) {
        Some(slot) => *slot = c,
        None => set.criteria.push(c),
    }
}

pub(super) async fn list(_: Require<ReadRisk>, Service(risk): Service<RiskService>) -> Response {
    let engine = risk.engine();
    let set = engine.criteria();
    let day = risk.clock().today();
    let page = layout(
        "Selectivity criteria",
        super::CRITERIA,
        html! {
            section.panel {
                div.queue-head {
                    h1 { "Selectivity criteria" }
                    a.button #criterion-new href="/risk/criteria/new" { "New criterion" }
                }
                p.lead {
                    "Each criterion sends the declarations it matches to at least its lane while it is in force. "
                    "Its hit rate is the share of its inspected selections that found fraud. "
                    "The JSON format is the one of " code { "PUT /api/v1/risk/criteria" } " (docs/criteria.md)."
                }
                @if set.criteria.is_empty() {
                    p.empty-state #criteria-empty {
                        "No criteria yet. " a href="/risk/criteria/new" { "Create the first one" }
                        ", or load a set with " code { "PUT /api/v1/risk/criteria" } "."
                    }
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
                                        td {
                                            a href={ "/risk/criteria/" (query_value(&c.id)) } { strong { (c.name) } }
                                            br; code { (c.id) } " · weight " (c.weight)
                                        }
                                        td { (describe(&c.condition)) }
                                        td { span.badge.lane.(lane_class(c.lane)) { (lane_name(c.lane)) } }
                                        td.validity {
                                            (c.valid_from.as_deref().unwrap_or("always")) " – " (c.valid_until.as_deref().unwrap_or("open"))
                                            br;
                                            span.hint { @if c.in_force(day) { "in force" } @else { "not in force" } }
                                        }
                                        td { (c.instructions) }
                                        td.hit-rate { (hit_rate(c)) }
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

fn hit_rate(c: &Criterion) -> Markup {
    html! {
        @match c.hit_rate() {
            Some(r) => { (format!("{:.0} %", r * 100.0)) br; span.hint { (c.hits) " of " (c.inspected) " inspections" } }
            None => { "no result yet" }
        }
    }
}

pub(super) async fn new(_: Require<ChangeRisk>, Service(risk): Service<RiskService>) -> Response {
    let form = CriterionForm {
        lane: "YELLOW".into(),
        weight: "1".into(),
        condition: EXAMPLE_CONDITION.into(),
        ..Default::default()
    };
    let set = risk.engine().criteria().clone();
    form_page("New criterion", None, &form, &FieldErrors::new(), &set).into_response()
}

pub(super) async fn create(
    _: Require<ChangeRisk>,
    Service(risk): Service<RiskService>,
    form: Result<Form<CriterionForm>, FormRejection>,
) -> Response {
    let Form(form) = form.unwrap_or_default();
    let set = risk.engine().criteria().clone();
    let criterion = match validate(&form, &set, None) {
        Ok(c) => c,
        Err(errors) => {
            return form_page("New criterion", None, &form, &errors, &set)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response();
        }
    };
    let id = criterion.id.clone();
    match risk.edit_criteria(|s| put(s, criterion)) {
        Ok(()) => {
            tracing::info!(criterion = %id, "risk criterion created in the console");
            Redirect::to(&format!("/risk/criteria/{}?saved=created", query_value(&id))).into_response()
        }
        Err(e) => {
            let errors = FieldErrors::from([("condition", e.to_string())]);
            form_page("New criterion", None, &form, &errors, &set)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response()
        }
    }
}

/// The query of a criterion's page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SavedQuery {
    saved: Option<String>,
}

pub(super) async fn edit(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<SavedQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let saved = query.ok().and_then(|q| q.0.saved);
    let engine = risk.engine();
    let set = engine.criteria().clone();
    let Some(c) = set.criteria.iter().find(|c| c.id == id) else { return unknown(&id) };
    criterion_page(&risk, &engine, c, &CriterionForm::of(c), &FieldErrors::new(), saved.as_deref()).into_response()
}

pub(super) async fn update(
    _: Require<ChangeRisk>,
    Service(risk): Service<RiskService>,
    Path(id): Path<String>,
    form: Result<Form<CriterionForm>, FormRejection>,
) -> Response {
    let Form(form) = form.unwrap_or_default();
    let set = risk.engine().criteria().clone();
    let Some(current) = set.criteria.iter().find(|c| c.id == id) else { return unknown(&id) };
    let refused = |errors: &FieldErrors| {
        let engine = risk.engine();
        criterion_page(&risk, &engine, current, &form, errors, None)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    let criterion = match validate(&form, &set, Some(current)) {
        Ok(c) => c,
        Err(errors) => return refused(&errors),
    };
    match risk.edit_criteria(|s| {
        // The hit counts as they are now, not as when the form was read.
        let counts = s.criteria.iter().find(|c| c.id == criterion.id).map(|c| (c.inspected, c.hits));
        let (inspected, hits) = counts.unwrap_or((criterion.inspected, criterion.hits));
        put(s, Criterion { inspected, hits, ..criterion });
    }) {
        Ok(()) => {
            tracing::info!(criterion = %id, "risk criterion edited in the console");
            Redirect::to(&format!("/risk/criteria/{}?saved=edited", query_value(&id))).into_response()
        }
        Err(e) => refused(&FieldErrors::from([("condition", e.to_string())])),
    }
}

pub(super) async fn retire(
    _: Require<ChangeRisk>,
    Service(risk): Service<RiskService>,
    Path(id): Path<String>,
) -> Response {
    let yesterday = format_day(risk.clock().today() - 1);
    let mut found = false;
    let result = risk.edit_criteria(|s| {
        if let Some(c) = s.criteria.iter_mut().find(|c| c.id == id) {
            found = true;
            c.valid_until = Some(yesterday.clone());
            // A criterion that would have started after its last day never was in force.
            if c.valid_from.as_deref().and_then(parse_day).is_some_and(|f| Some(f) > parse_day(&yesterday)) {
                c.valid_from = Some(yesterday.clone());
            }
        }
    });
    match (found, result) {
        (false, _) => unknown(&id),
        (true, Ok(())) => {
            tracing::info!(criterion = %id, "risk criterion retired in the console");
            Redirect::to(&format!("/risk/criteria/{}?saved=retired", query_value(&id))).into_response()
        }
        (true, Err(e)) => {
            let status = crate::error::ErrorCode::error_code(&e).status();
            crate::console::message_page("Criterion not retired", &e.to_string()).with_status(status).into_response()
        }
    }
}

fn unknown(id: &str) -> Response {
    let page = layout(
        "Criterion not found",
        super::CRITERIA,
        html! {
            section.panel {
                h1 { "Criterion not found" }
                p.empty-state { "There is no criterion " code { (id) } ". " a href="/risk/criteria" { "All criteria" } }
            }
        },
    );
    page.with_status(StatusCode::NOT_FOUND).into_response()
}

/// A criterion: what it is, its selections per week, its edit and retire forms.
fn criterion_page(
    risk: &RiskService,
    engine: &RiskEngine,
    c: &Criterion,
    form: &CriterionForm,
    errors: &FieldErrors,
    saved: Option<&str>,
) -> Page {
    let day = risk.clock().today();
    let set = engine.criteria();
    layout(
        &c.name,
        super::CRITERIA,
        html! {
            section.panel {
                p { a href="/risk/criteria" { "← All criteria" } }
                h1 { (c.name) " " code { (c.id) } }
                @if let Some(s) = saved {
                    div #criterion-saved .alert role="status" {
                        @match s { "created" => { "Criterion created." } "retired" => { "Criterion retired: it no longer selects declarations." } _ => { "Criterion saved." } }
                    }
                }
                dl.facts {
                    dt { "Condition" } dd { (describe(&c.condition)) }
                    dt { "Lane" } dd { span.badge.lane.(lane_class(c.lane)) { (lane_name(c.lane)) } }
                    dt { "Validity" } dd #criterion-validity {
                        (c.valid_from.as_deref().unwrap_or("always")) " – " (c.valid_until.as_deref().unwrap_or("open")) " · "
                        @if c.in_force(day) { "in force" } @else { "not in force" }
                    }
                    dt { "Hit rate" } dd { (hit_rate(c)) }
                }
            }
            section.panel {
                h2 { "Selections per week" }
                (weekly_chart(engine, c))
            }
            (form_panel(Some(c), form, errors, set))
            @if c.in_force(day) || c.valid_until.is_none() {
                section.panel {
                    h2 { "Retire" }
                    form #criterion-retire method="post" action={ "/risk/criteria/" (query_value(&c.id)) "/retire" } {
                        (crate::console::csrf::field())
                        p { "The criterion stops selecting declarations from today (its last day in force becomes yesterday). "
                            "It stays listed with its hit rate." }
                        button.button.danger type="submit" { "Retire " (c.id) }
                    }
                }
            }
        },
    )
}

fn form_page(
    title: &str,
    c: Option<&Criterion>,
    form: &CriterionForm,
    errors: &FieldErrors,
    set: &CriteriaSet,
) -> Page {
    layout(
        title,
        super::CRITERIA,
        html! {
            section.panel {
                p { a href="/risk/criteria" { "← All criteria" } }
                h1 { (title) }
            }
            (form_panel(c, form, errors, set))
        },
    )
}

/// The create or edit form, each error next to its field.
fn form_panel(c: Option<&Criterion>, form: &CriterionForm, errors: &FieldErrors, set: &CriteriaSet) -> Markup {
    let action = c.map_or_else(|| "/risk/criteria".to_owned(), |c| format!("/risk/criteria/{}", query_value(&c.id)));
    let field = |name: &'static str, label: &str, control: Markup, help: Option<&str>| {
        let error = errors.get(name);
        html! {
            div.field.has-error[error.is_some()] {
                label for={ "criterion-" (name) } { (label) }
                (control)
                @if let Some(h) = help { p.hint id={ "criterion-" (name) "-help" } { (h) } }
                @if let Some(e) = error { p.field-error id={ "criterion-" (name) "-error" } { (e) } }
            }
        }
    };
    let invalid = |name: &str| errors.contains_key(name).then_some("true");
    let described = |name: &str| errors.contains_key(name).then(|| format!("criterion-{name}-error"));
    html! {
        section.panel {
            h2 { @if c.is_some() { "Edit" } @else { "The criterion" } }
            @if !errors.is_empty() {
                div #criterion-errors .alert.alert-error role="alert" {
                    "The criterion was not saved: " (errors.len()) " field" @if errors.len() > 1 { "s" } " to correct."
                }
            }
            form.criterion-form #criterion-form method="post" action=(action) novalidate {
                (crate::console::csrf::field())
                fieldset {
                    legend { "Criterion" }
                    @if c.is_none() {
                        (field("id", "Id", html! {
                            input #criterion-id type="text" name="id" value=(form.id) required
                                aria-invalid=[invalid("id")] aria-describedby=[described("id")];
                        }, Some("Stable and unique: letters, digits, '-', '_', '.'")))
                    }
                    (field("name", "Name", html! {
                        input #criterion-name type="text" name="name" value=(form.name) required
                            aria-invalid=[invalid("name")] aria-describedby=[described("name")];
                    }, None))
                    (field("lane", "Lane (at least)", html! {
                        select #criterion-lane name="lane" aria-invalid=[invalid("lane")] aria-describedby=[described("lane")] {
                            @for l in LANES { option value=(lane_name(l)) selected[form.lane == lane_name(l)] { (lane_name(l)) } }
                        }
                    }, None))
                    (field("weight", "Weight", html! {
                        input #criterion-weight type="text" inputmode="decimal" name="weight" value=(form.weight)
                            aria-invalid=[invalid("weight")] aria-describedby=[described("weight")];
                    }, Some("Points added to the declaration's risk, to order the queue (default 1)")))
                    (field("valid_from", "First day in force", html! {
                        input #criterion-valid_from type="date" name="valid_from" value=(form.valid_from)
                            aria-invalid=[invalid("valid_from")] aria-describedby=[described("valid_from")];
                    }, Some("Empty: always")))
                    (field("valid_until", "Last day in force", html! {
                        input #criterion-valid_until type="date" name="valid_until" value=(form.valid_until)
                            aria-invalid=[invalid("valid_until")] aria-describedby=[described("valid_until")];
                    }, Some("Empty: open-ended")))
                    (field("instructions", "Instructions to the officer", html! {
                        textarea #criterion-instructions name="instructions" rows="2" { (form.instructions) }
                    }, None))
                    (field("condition", "Condition (JSON)", html! {
                        textarea #criterion-condition .code name="condition" rows="6" spellcheck="false"
                            aria-invalid=[invalid("condition")] aria-describedby=[described("condition")] { (form.condition) }
                    }, Some(format!(
                        "Kinds: hs_prefix, in_list, unit_value_below_band, unit_value_above_band, route_differs, feature_at_least, \
                         feature_below, not_aeo, all, any, not (docs/criteria.md). Lists: {}.", lists_of(set)).as_str())))
                    div.field.actions { button.button type="submit" { @if c.is_some() { "Save" } @else { "Create" } } }
                }
            }
        }
    }
}

/// The Monday of a day's week.
fn week_of(day: Day) -> Day {
    // Day 0 (1970-01-01) was a Thursday.
    (day + 3).div_euclid(7) * 7 - 3
}

/// The share of the declarations scored each week that the criterion selected.
fn weekly_chart(engine: &RiskEngine, c: &Criterion) -> Markup {
    let mut weeks: BTreeMap<Day, (usize, usize)> = BTreeMap::new();
    for a in engine.queue() {
        let Some(day) = parse_day(&a.day) else { continue };
        let w = weeks.entry(week_of(day)).or_default();
        w.0 += 1;
        w.1 += usize::from(a.criteria.iter().any(|f| f.id == c.id));
    }
    if weeks.is_empty() {
        return html! {
            p.empty-state #criterion-weeks-empty { "No declaration scored yet: the chart fills in as declarations are committed." }
        };
    }
    let points: Vec<(f64, f64)> =
        weeks.iter().map(|(w, (n, hit))| (f64::from(*w), *hit as f64 / (*n).max(1) as f64)).collect();
    let first = weeks.keys().next().copied().unwrap_or_default();
    let last = weeks.keys().next_back().copied().unwrap_or_default();
    let axes = Axes {
        x_name: "week".into(),
        x: (f64::from(first), f64::from(last.max(first + 7))),
        y_name: "share selected".into(),
        y: (0.0, 1.0),
    };
    let line = Curve { name: c.id.clone(), class: "series-a".into(), points };
    html! {
        (charts::curves(
            "criterion-weeks",
            "Selections per week",
            "Share of the declarations scored each week (weeks from Monday) that this criterion selected",
            &axes,
            &[line],
            &|v| format_day(v.round() as Day),
        ))
        table.issues #criterion-weeks {
            thead { tr { th scope="col" { "Week of" } th scope="col" { "Scored" } th scope="col" { "Selected" } } }
            tbody { @for (w, (n, hit)) in &weeks { tr { td { (format_day(*w)) } td { (n) } td { (hit) } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(condition: &str) -> CriterionForm {
        CriterionForm {
            id: "X1".into(),
            name: "x".into(),
            lane: "RED".into(),
            weight: "2".into(),
            condition: condition.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_bad_criterion_is_refused_field_by_field() {
        let set = CriteriaSet::default();
        let ok = validate(&form(EXAMPLE_CONDITION), &set, None).expect("valid");
        assert_eq!((ok.lane, ok.weight), (borderlink_model::Lane::Red, 2.0));
        let bad =
            CriterionForm { id: " ".into(), weight: "heavy".into(), valid_from: "2026-13-01".into(), ..form("{") };
        let errors = validate(&bad, &set, None).expect_err("invalid");
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["condition", "id", "valid_from", "weight"]);
        let unknown_list = form(r#"{"kind": "in_list", "field": "importer", "list": "watch"}"#);
        let errors = validate(&unknown_list, &set, None).expect_err("unknown list");
        assert!(errors["condition"].contains("unknown list"), "{errors:?}");
    }

    #[test]
    fn weeks_start_on_monday() {
        let monday = parse_day("2026-11-30").expect("day");
        assert_eq!(week_of(monday), monday);
        assert_eq!(week_of(monday + 6), monday);
        assert_eq!(week_of(monday + 7), monday + 7);
    }
}
