//! The model in the console: `GET /risk/model` (the active model, where and when it was
//! activated, its ROC and lift curves and feature importance on the inspected declarations),
//! `POST /risk/model` (upload a model file: kept aside, not active), `GET /risk/model/report`
//! (the uploaded model against the current data — its metrics beside the active model's, and
//! the drift of the data since its training period — before anyone activates it) and
//! `POST /risk/model/activate` (activate the uploaded model).
//!
//! "The current data" is what inspections have fed back: the inspected goods items with their
//! features as scored and what the inspection found. Both models are scored on the same rows.
//!
//! A model is active on the node that activated it: each node of a consortium keeps its own
//! `DATA/risk/model.blrm`, and the page says which node activated which version and when
//! (`DATA/risk/model-activation.json`). The version (`name@hash`) names the file's content, so
//! two nodes run the same model exactly when they show the same version.

use axum::Form;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use borderlink_risk::drift;
use borderlink_risk::eval::{self, Metrics};
use borderlink_risk::features::{FEATURES, FeatureVector, N_FEATURES};
use borderlink_risk::item::{Day, parse_day};
use borderlink_risk::{RiskError, RiskModel};
use maud::{Markup, html};
use serde::Deserialize;

use super::service::{ModelInfo, PendingModel, RiskService};
use crate::capability::Service;
use crate::console::charts::{self, Axes, Bar, Curve};
use crate::console::csrf::size;
use crate::console::{Page, layout};
use crate::error::{ApiError, ErrorCode};
use crate::principal::{ChangeRisk, ReadRisk, Require};
use crate::server::SharedState;

/// The most inspected rows a report scores (the most recent).
const MAX_ROWS: usize = 20_000;
/// The most rows whose per-feature contributions are summed for the importance chart.
const IMPORTANCE_ROWS: usize = 2_000;

/// One inspected goods item: its features as scored, whether fraud was found, the revenue.
struct Row {
    day: Day,
    x: FeatureVector,
    fraud: bool,
    revenue: f64,
}

/// The inspected rows the node holds now, oldest first.
fn current_rows(risk: &RiskService) -> Vec<Row> {
    let engine = risk.engine();
    let feedback = engine.feedback();
    let skip = feedback.len().saturating_sub(MAX_ROWS);
    let mut rows: Vec<Row> = feedback[skip..]
        .iter()
        .map(|r| Row { day: r.day, x: r.features, fraud: r.outcome.fraud, revenue: r.outcome.revenue })
        .collect();
    rows.sort_by_key(|r| r.day);
    rows
}

/// A model measured on the current rows.
struct Measured {
    metrics: Metrics,
    roc: Vec<(f64, f64)>,
    lift: Vec<(f64, f64)>,
}

fn measure(model: &RiskModel, rows: &[Row]) -> Option<Measured> {
    if rows.is_empty() {
        return None;
    }
    let scores: Vec<f32> = rows.iter().map(|r| model.probability_fast(&r.x)).collect();
    let fraud: Vec<bool> = rows.iter().map(|r| r.fraud).collect();
    let revenue: Vec<f64> = rows.iter().map(|r| r.revenue).collect();
    Some(Measured {
        metrics: eval::evaluate(&scores, &fraud, &revenue),
        roc: thin(eval::roc(&scores, &fraud), 60),
        lift: eval::lift(&scores, &fraud, 20),
    })
}

/// At most about `n` points of a curve, its ends kept.
fn thin(points: Vec<(f64, f64)>, n: usize) -> Vec<(f64, f64)> {
    if points.len() <= n {
        return points;
    }
    let step = points.len().div_ceil(n);
    let last = points.last().copied();
    let mut out: Vec<(f64, f64)> = points.into_iter().step_by(step).collect();
    if let Some(l) = last
        && out.last() != Some(&l)
    {
        out.push(l);
    }
    out
}

/// Mean absolute contribution of each feature over the most recent rows, largest first.
fn importance(model: &RiskModel, rows: &[Row]) -> Vec<(usize, f64)> {
    let rows = &rows[rows.len().saturating_sub(IMPORTANCE_ROWS)..];
    if rows.is_empty() {
        return Vec::new();
    }
    let mut sum = [0f64; N_FEATURES];
    for r in rows {
        let mut c = [0f32; N_FEATURES];
        model.predict_into(&r.x, &mut c);
        for (s, v) in sum.iter_mut().zip(c) {
            *s += f64::from(v.abs());
        }
    }
    let mut out: Vec<(usize, f64)> =
        sum.iter().enumerate().map(|(i, s)| (i, s / rows.len() as f64)).filter(|(_, s)| *s > 0.0).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(12);
    out
}

/// The drift of the current rows: rows after the model's training period against rows within
/// it when there are both; otherwise the recent half against the older half. Returns what was
/// compared, and the PSI of the most drifted features.
fn data_drift(model: &RiskModel, rows: &[Row]) -> Option<(String, Vec<drift::FeatureDrift>)> {
    if rows.len() < 20 {
        return None;
    }
    let end = model.meta().period.as_ref().and_then(|(_, end)| parse_day(end));
    let cut = end.map(|e| rows.partition_point(|r| r.day <= e)).filter(|&c| c >= 10 && rows.len() - c >= 10);
    let (cut, what) = match (cut, &model.meta().period) {
        (Some(c), Some((_, end))) => {
            (c, format!("items inspected after the training period (to {end}) against those within it"))
        }
        _ => (rows.len() / 2, "the more recent half of the inspected items against the older half".to_owned()),
    };
    let reference: Vec<FeatureVector> = rows[..cut].iter().map(|r| r.x).collect();
    let actual: Vec<FeatureVector> = rows[cut..].iter().map(|r| r.x).collect();
    let mut d = drift::drift(&reference, &actual);
    d.truncate(8);
    Some((what, d))
}

fn feature_words(i: usize) -> String {
    borderlink_risk::features::words(i)
}

/// The query of `GET /risk/model`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ModelQuery {
    activated: Option<String>,
}

pub(super) async fn page(
    _: Require<ReadRisk>,
    Service(risk): Service<RiskService>,
    State(state): State<SharedState>,
    query: Result<Query<ModelQuery>, QueryRejection>,
) -> Response {
    let activated = query.ok().and_then(|q| q.0.activated);
    render(&risk, &state, activated.as_deref(), None).into_response()
}

fn render(risk: &RiskService, state: &SharedState, activated: Option<&str>, error: Option<&ApiError>) -> Page {
    let limit = state.max_body_bytes;
    let rows = current_rows(risk);
    let model = risk.engine().model().cloned();
    let activation = risk.activation();
    let pending = risk.pending_model();
    let measured = model.as_ref().and_then(|m| measure(m, &rows));
    let importance = model.as_ref().map(|m| importance(m, &rows)).unwrap_or_default();
    layout(
        "Risk model",
        super::MODEL,
        html! {
            section.panel {
                h1 { "Risk model" }
                p.lead {
                    "The learned model scores every declaration; its reasons are the features that moved the score most. "
                    "A new model is uploaded here, measured against the current data, and only then activated."
                }
                @if let Some(v) = activated {
                    div #model-activated .alert role="status" { "Model " code { (v) } " is active on this node." }
                }
                @if let Some(p) = &pending {
                    div #model-pending .alert role="status" {
                        "An uploaded model waits for activation: " code { (p.model.version()) } ". "
                        a href="/risk/model/report" { "Read its report" }
                    }
                }
                @match &model {
                    Some(m) => { (facts(&ModelInfo::of(m), activation.as_ref().filter(|a| a.version == m.version()), risk.node())) }
                    None => {
                        p.empty-state #model-none {
                            "No model is active: lanes come from the criteria and random selection. Upload a model file below "
                            "(" code { "borderlink risk train" } " writes one)."
                        }
                    }
                }
            }
            @if let Some(m) = &model {
                section.panel {
                    h2 { "On the inspected declarations" }
                    @match &measured {
                        Some(x) => {
                            p.hint { (x.metrics.n) " inspected goods items, " (x.metrics.frauds) " with fraud found · AUC "
                                strong #model-auc { (format!("{:.3}", x.metrics.auc)) } }
                            div.chart-pair {
                                (roc_chart("model-roc", &[(m.version(), "series-a", &x.roc)]))
                                (lift_chart("model-lift", &[(m.version(), "series-a", &x.lift)]))
                            }
                        }
                        None => {
                            p.empty-state #model-no-data {
                                "No inspection result fed back yet: the ROC and lift curves need inspected declarations "
                                "(" code { "POST /api/v1/risk/inspections" } " or committed inspection results)."
                            }
                        }
                    }
                    h2 { "Feature importance" }
                    @if importance.is_empty() {
                        p.empty-state { "Feature importance is measured on inspected declarations: none yet." }
                    } @else {
                        (charts::hbars(
                            "model-importance",
                            "Feature importance",
                            "Mean absolute contribution of each feature to the log-odds of fraud, on the most recent inspected items",
                            &importance.iter().map(|(i, v)| Bar::new(FEATURES[*i].name, *v, format!("{v:.3}")).class("series-a")).collect::<Vec<_>>(),
                        ))
                        p.hint { "Feature names as in the model file; in words: "
                            (importance.iter().take(3).map(|(i, _)| feature_words(*i)).collect::<Vec<_>>().join("; ")) "." }
                    }
                }
            }
            @if let Some(ledger) = &state.ledger {
                (super::model_where::panel(
                    &super::model_where::consortium(ledger.ledger()),
                    ledger.ledger().local_member(),
                    model.as_ref().map(|m| m.version()),
                ))
            }
            (upload_panel(limit, error))
        },
    )
}

fn facts(info: &ModelInfo, activation: Option<&super::service::Activation>, node: &str) -> Markup {
    html! {
        dl.facts #model-facts {
            dt { "Version" } dd #model-version { code { (info.version) } }
            dt { "Active on" } dd #model-where {
                @match activation {
                    Some(a) => { (a.node) " since " (crate::console::format::when_iso(&a.at)) }
                    None => { (node) " (loaded from its data directory at start)" }
                }
                br;
                span.hint { "Each node of the consortium activates its own model: a node runs this one when it shows the same version." }
            }
            dt { "Trees" } dd { (info.trees) }
            dt { "Trained on" } dd {
                (info.rows) " rows, " (info.positives) " frauds"
                @if let Some((a, b)) = &info.period { ", " (a) " – " (b) }
            }
            dt { "Validation AUC" } dd { (info.validation_auc.map_or_else(|| "not measured".to_owned(), |a| format!("{a:.3}"))) }
            dt { "Feature set" } dd { code { (info.feature_set) } }
        }
    }
}

fn upload_panel(limit: usize, error: Option<&ApiError>) -> Markup {
    html! {
        section.panel #model-upload {
            h2 { "Upload a model" }
            @if let Some(e) = error {
                div #model-error .alert.alert-error role="alert" { strong { "The model was not uploaded. " } (e.to_string()) }
            }
            form.model-form method="post" action="/risk/model" enctype="multipart/form-data" {
                (crate::console::csrf::field())
                fieldset {
                    legend { "Model file" }
                    div.field {
                        label for="model-file" { "A " code { ".blrm" } " file written by " code { "borderlink risk train" } }
                        input #model-file type="file" name="model" accept=".blrm,application/octet-stream" required
                            aria-describedby="model-file-help";
                        p.hint #model-file-help { "At most " (size(limit)) ". The model is not active until you read its report and activate it." }
                    }
                    div.field.actions { button.button type="submit" { "Upload and measure" } }
                }
            }
        }
    }
}

/// One curve to draw: its name, its CSS class and its points.
type Line<'a> = (&'a str, &'a str, &'a [(f64, f64)]);

/// The lines as the chart draws them.
fn to_curves(lines: &[Line<'_>]) -> Vec<Curve> {
    lines
        .iter()
        .map(|(name, class, points)| Curve {
            name: (*name).to_owned(),
            class: (*class).to_owned(),
            points: points.to_vec(),
        })
        .collect()
}

fn roc_chart(id: &str, lines: &[Line<'_>]) -> Markup {
    let mut curves = to_curves(lines);
    curves.push(Curve { name: "chance".into(), class: "reference".into(), points: vec![(0.0, 0.0), (1.0, 1.0)] });
    let axes = Axes {
        x_name: "false-positive rate".into(),
        x: (0.0, 1.0),
        y_name: "true-positive rate".into(),
        y: (0.0, 1.0),
    };
    charts::curves(
        id,
        "ROC curve",
        "True-positive rate against false-positive rate as the score threshold falls",
        &axes,
        &curves,
        &|v| format!("{v:.2}"),
    )
}

fn lift_chart(id: &str, lines: &[Line<'_>]) -> Markup {
    let top = lines.iter().flat_map(|(_, _, p)| p.iter().map(|(_, y)| *y)).fold(1.0_f64, f64::max);
    let mut curves = to_curves(lines);
    curves.push(Curve { name: "random".into(), class: "reference".into(), points: vec![(0.0, 1.0), (1.0, 1.0)] });
    let axes = Axes {
        x_name: "share inspected (highest scores first)".into(),
        x: (0.0, 1.0),
        y_name: "lift".into(),
        y: (0.0, top.ceil()),
    };
    charts::curves(
        id,
        "Lift curve",
        "Fraud rate found among the highest scores over the overall fraud rate",
        &axes,
        &curves,
        &|v| format!("{:.0} %", v * 100.0),
    )
}

pub(super) async fn upload(
    _: Require<ChangeRisk>,
    Service(risk): Service<RiskService>,
    State(state): State<SharedState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let limit = state.max_body_bytes;
    let read = match multipart {
        Ok(m) => read_model(m, limit).await,
        Err(rejection) => Err(ApiError::InvalidMultipart(rejection.body_text())),
    };
    let staged = read.and_then(|bytes| {
        if bytes.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        risk.stage_model(bytes)
    });
    match staged {
        Ok(_) => Redirect::to("/risk/model/report").into_response(),
        Err(e) => {
            let status = e.error_code().status();
            let shown = match e {
                ApiError::PayloadTooLarge { .. } => ApiError::Risk(RiskError::Model(format!(
                    "the file is larger than the limit of {} for a model (the node's max_body_bytes)",
                    size(limit)
                ))),
                other => other,
            };
            render(&risk, &state, None, Some(&shown)).with_status(status).into_response()
        }
    }
}

/// The `model` part of the upload form.
async fn read_model(mut multipart: Multipart, limit: usize) -> Result<Vec<u8>, ApiError> {
    let field_error = |e: MultipartError| {
        let text = e.body_text();
        match crate::error::body_rejection(e.status(), text, limit) {
            ApiError::BadRequest(text) => ApiError::InvalidMultipart(text),
            other => other,
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        if field.name() == Some("model") {
            let bytes = field.bytes().await.map_err(field_error)?;
            if bytes.is_empty() {
                break;
            }
            return Ok(bytes.to_vec());
        }
    }
    Err(ApiError::Risk(RiskError::Model("no model file was chosen".into())))
}

pub(super) async fn report(_: Require<ReadRisk>, Service(risk): Service<RiskService>) -> Response {
    let Some(pending) = risk.pending_model() else {
        let page = layout(
            "Model report",
            super::MODEL,
            html! {
                section.panel {
                    h1 { "Model report" }
                    p.empty-state #report-none { "No uploaded model waits for activation. " a href="/risk/model#model-upload" { "Upload one" } }
                }
            },
        );
        return page.into_response();
    };
    render_report(&risk, &pending, None).into_response()
}

fn render_report(risk: &RiskService, pending: &PendingModel, error: Option<&ApiError>) -> Page {
    let rows = current_rows(risk);
    let active = risk.engine().model().cloned();
    let new = pending.model.as_ref();
    let info = ModelInfo::of(new);
    let measured_new = measure(new, &rows);
    let measured_active = active.as_ref().and_then(|m| measure(m, &rows));
    let drift = data_drift(new, &rows);
    let same = active.as_ref().is_some_and(|a| a.version() == new.version());
    layout(
        "Model report",
        super::MODEL,
        html! {
            section.panel {
                p { a href="/risk/model" { "← Risk model" } }
                h1 { "Report on the uploaded model" }
                p.lead { "Uploaded " (crate::console::format::when_iso(&pending.at)) ". It is not active: read the report, then activate it or upload another." }
                @if let Some(e) = error {
                    div #model-error .alert.alert-error role="alert" { (e.to_string()) }
                }
                @if same { div.alert role="status" { "This is the version already active." } }
                (facts_uploaded(&info))
            }
            section.panel #report-metrics {
                h2 { "Against the current data" }
                @match &measured_new {
                    None => {
                        p.empty-state #report-no-data {
                            "No inspection result fed back yet: the model cannot be measured on this node's data. "
                            "Its validation AUC at training is above."
                        }
                    }
                    Some(n) => {
                        p.hint { (n.metrics.n) " inspected goods items, " (n.metrics.frauds) " with fraud found, scored by both models." }
                        table.issues #report-table {
                            thead { tr {
                                th scope="col" { "Measure" } th scope="col" { "Uploaded" }
                                th scope="col" { "Active" @if let Some(a) = &active { " (" code { (a.version()) } ")" } }
                            } }
                            tbody {
                                tr { th scope="row" { "AUC" } td #report-auc { (format!("{:.3}", n.metrics.auc)) }
                                    td { (measured_active.as_ref().map_or_else(|| "—".to_owned(), |a| format!("{:.3}", a.metrics.auc))) } }
                                @for (i, k) in n.metrics.at_k.iter().enumerate() {
                                    @let other = measured_active.as_ref().and_then(|a| a.metrics.at_k.get(i));
                                    tr {
                                        th scope="row" { "Precision / recall inspecting " (k.k) " %" }
                                        td { (format!("{:.1} % / {:.1} %", k.precision * 100.0, k.recall * 100.0)) }
                                        td { (other.map_or_else(|| "—".to_owned(), |o| format!("{:.1} % / {:.1} %", o.precision * 100.0, o.recall * 100.0))) }
                                    }
                                }
                            }
                        }
                        @let (roc, lift) = both(n, measured_active.as_ref());
                        div.chart-pair {
                            (roc_chart("report-roc", &roc))
                            (lift_chart("report-lift", &lift))
                        }
                    }
                }
            }
            section.panel #report-drift {
                h2 { "Drift" }
                @match &drift {
                    None => { p.empty-state #report-no-drift { "Drift needs at least 20 inspected items: not enough yet." } }
                    Some((what, d)) => {
                        p.hint { "Population stability index (PSI) of the features, " (what) ". Below 0.1 stable, 0.1–0.25 watch, above 0.25 moved." }
                        (charts::hbars("report-drift-chart", "Feature drift", "PSI of the most drifted features",
                            &d.iter().map(|f| {
                                let class = if f.psi > 0.25 { "lane-red" } else if f.psi > 0.1 { "lane-yellow" } else { "lane-green" };
                                Bar::new(f.feature, f.psi, format!("{:.3}", f.psi)).class(class)
                            }).collect::<Vec<_>>()))
                    }
                }
            }
            section.panel {
                h2 { "Activate" }
                form #model-activate method="post" action="/risk/model/activate" {
                    (crate::console::csrf::field())
                    input type="hidden" name="version" value=(new.version());
                    p { "Activating replaces the active model on this node (" (risk.node()) ") for every declaration scored from now on." }
                    button.button type="submit" { "Activate " (new.version()) }
                }
            }
        },
    )
}

/// The curves of the uploaded model and, when there is one, of the active model.
fn both<'a>(new: &'a Measured, active: Option<&'a Measured>) -> (Vec<Line<'a>>, Vec<Line<'a>>) {
    let mut roc: Vec<Line<'a>> = vec![("uploaded", "series-a", &new.roc)];
    let mut lift: Vec<Line<'a>> = vec![("uploaded", "series-a", &new.lift)];
    if let Some(a) = active {
        roc.push(("active", "series-b", &a.roc));
        lift.push(("active", "series-b", &a.lift));
    }
    (roc, lift)
}

fn facts_uploaded(info: &ModelInfo) -> Markup {
    html! {
        dl.facts #report-facts {
            dt { "Version" } dd #report-version { code { (info.version) } }
            dt { "Trees" } dd { (info.trees) }
            dt { "Trained on" } dd {
                (info.rows) " rows, " (info.positives) " frauds"
                @if let Some((a, b)) = &info.period { ", " (a) " – " (b) }
            }
            dt { "Validation AUC" } dd { (info.validation_auc.map_or_else(|| "not measured".to_owned(), |a| format!("{a:.3}"))) }
        }
    }
}

/// The activation form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ActivateForm {
    #[serde(default)]
    version: String,
}

pub(super) async fn activate(
    _: Require<ChangeRisk>,
    Service(risk): Service<RiskService>,
    State(state): State<SharedState>,
    form: Result<Form<ActivateForm>, FormRejection>,
) -> Response {
    let Form(f) = form.unwrap_or_default();
    let risk2 = std::sync::Arc::clone(&risk);
    let version = f.version.clone();
    let done = tokio::task::spawn_blocking(move || risk2.activate_pending(&version)).await.ok().flatten();
    match done {
        Some(Ok(info)) => {
            tracing::info!(model = %info.version, "risk model activated in the console");
            if let Some(ledger) = &state.ledger {
                let at = risk.activation().map(|a| a.at).unwrap_or_default();
                // The model is active whatever happens here; the other nodes learn of it from the ledger.
                if let Err(e) = super::model_where::announce(ledger, &info.version, &at, state.clock.now_ms()).await {
                    tracing::warn!(model = %info.version, error = %e, "the activation could not be announced on the ledger");
                }
            }
            Redirect::to(&format!("/risk/model?activated={}", super::console::query_value(&info.version)))
                .into_response()
        }
        Some(Err(e)) => {
            let status = e.error_code().status();
            crate::console::message_page("Model not activated", &e.to_string()).with_status(status).into_response()
        }
        None => {
            let page = layout(
                "Model not activated",
                super::MODEL,
                html! {
                    section.panel {
                        h1 { "Model not activated" }
                        p.empty-state #report-none {
                            "No uploaded model " code { (f.version) } " waits for activation (another upload may have replaced it). "
                            a href="/risk/model" { "Risk model" }
                        }
                    }
                },
            );
            page.with_status(StatusCode::CONFLICT).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_both_ends() {
        let points: Vec<(f64, f64)> = (0..=100).map(|i| (f64::from(i), 0.0)).collect();
        let t = thin(points, 10);
        assert!(t.len() <= 12, "{}", t.len());
        assert_eq!((t[0].0, t[t.len() - 1].0), (0.0, 100.0));
    }
}
