//! Risk management over HTTP: score declarations (lane, score, model version, reasons), the risk
//! queue, officers' overrides, inspection results fed back (and exported as a training set), the
//! criteria and the model.
//!
//! The engine (`borderlink_risk::RiskEngine`) is pure and synchronous; this module owns the one
//! instance of the node behind a mutex (scoring a declaration takes microseconds, so the lock is
//! never held across an await) and maps its errors to the node's error table. The model and the
//! criteria are kept in `DATA_DIR/risk/` (`model.blrm`, `criteria.json`, and the lane policy in
//! `policy.json`: random rate, quotas per office) and loaded at start; every override is appended
//! to `overrides.jsonl` (synced before the officer is answered). On a ledger node the queue is
//! rebuilt at start by replaying the committed records in order, then the recorded overrides
//! ([`rebuild`]): the ledger is the source of truth.
//!
//! Who may change things: on a node with a console session (a ledger node), overrides, inspection
//! results, criteria and models need the session cookie; a validation-only node (loopback by
//! default) accepts them from anyone who can reach it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Uri};
use borderlink_model::records::AeoStatus;
use borderlink_model::{AeoAuthorizationRecord, DeclarationRecord, InspectionResultRecord, Lane};
use borderlink_risk::engine::EngineConfig;
use borderlink_risk::item::Day;
use borderlink_risk::lane::Override;
use borderlink_risk::{Assessment, CriteriaSet, RiskEngine, RiskError, RiskModel};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::server::SharedState;
use crate::session;

/// The node's risk engine and where its model and criteria are kept.
pub(crate) struct RiskService {
    engine: Mutex<RiskEngine>,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for RiskService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskService").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// Today, as the day criteria validity is checked against when a declaration carries no date.
pub(crate) fn today() -> Day {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i32::try_from(secs / 86_400).unwrap_or(0)
}

fn new_engine() -> RiskEngine {
    RiskEngine::default()
}

impl RiskService {
    /// An engine without model or criteria, keeping nothing on disk.
    pub(crate) fn in_memory() -> Arc<Self> {
        Arc::new(RiskService { engine: Mutex::new(new_engine()), dir: None })
    }

    /// The engine of a node whose data lives in `data_dir`: the model and criteria found in
    /// `data_dir/risk/` are activated; a file that cannot be used is logged and skipped, so
    /// that a bad model never stops the node from serving.
    pub(crate) fn open(data_dir: &Path) -> Arc<Self> {
        let dir = data_dir.join("risk");
        // The lane policy (random rate, quotas per office) and queue size, when configured.
        let mut engine = match std::fs::read(dir.join("policy.json")) {
            Ok(bytes) => match serde_json::from_slice::<EngineConfig>(&bytes)
                .map_err(|e| RiskError::Criteria(format!("policy.json: {e}")))
                .and_then(RiskEngine::new)
            {
                Ok(e) => {
                    tracing::info!("risk lane policy loaded");
                    e
                }
                Err(e) => {
                    tracing::error!(error = %e, "risk lane policy refused; using the default policy");
                    new_engine()
                }
            },
            Err(_) => new_engine(),
        };
        match std::fs::read(dir.join("criteria.json")) {
            Ok(bytes) => match CriteriaSet::from_json(&bytes).and_then(|c| engine.set_criteria(c)) {
                Ok(()) => tracing::info!(criteria = engine.criteria().criteria.len(), "risk criteria loaded"),
                Err(e) => tracing::error!(error = %e, "risk criteria refused"),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::error!(error = %e, "cannot read the risk criteria"),
        }
        match std::fs::File::open(dir.join("model.blrm")) {
            Ok(f) => match RiskModel::read(std::io::BufReader::new(f)) {
                Ok(m) => {
                    tracing::info!(model = m.version(), "risk model loaded");
                    engine.set_model(m);
                }
                Err(e) => tracing::error!(error = %e, "risk model refused"),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::error!(error = %e, "cannot read the risk model"),
        }
        Arc::new(RiskService { engine: Mutex::new(engine), dir: Some(dir) })
    }

    /// The engine. A panic while holding the lock cannot leave it half-updated in a way that
    /// matters more than refusing every later request, so a poisoned lock is taken over.
    pub(crate) fn engine(&self) -> MutexGuard<'_, RiskEngine> {
        self.engine.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends an officer's decision to `risk/overrides.jsonl` and syncs it to disk before the
    /// officer is answered: a lane overruled by a human, with its reason, is a decision with
    /// legal effect and must survive a restart (GDPR Art. 22 review trail).
    pub(crate) fn record_override(&self, o: &Override) -> Result<(), ApiError> {
        use std::io::Write;
        let Some(dir) = &self.dir else { return Ok(()) };
        let line = serde_json::to_string(o).map_err(|e| ApiError::Internal(e.to_string()))?;
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(dir.join("overrides.jsonl")))
            .and_then(|mut f| {
                f.write_all(line.as_bytes())?;
                f.write_all(b"\n")?;
                f.sync_data()
            })
            .map_err(|e| ApiError::Internal(format!("cannot record the override: {e}")))
    }

    fn save(&self, name: &str, bytes: &[u8]) -> Result<(), ApiError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(dir.join(name), bytes))
            .map_err(|e| ApiError::Internal(format!("cannot keep {name}: {e}")))
    }

    /// Activates a model file (refused when it does not fit this release's feature set) and
    /// keeps it for the next start.
    pub(crate) fn activate_model(&self, bytes: &[u8]) -> Result<ModelInfo, ApiError> {
        let model = RiskModel::read(bytes).map_err(ApiError::Risk)?;
        self.save("model.blrm", bytes)?;
        let info = ModelInfo::of(&model);
        self.engine().set_model(model);
        tracing::info!(model = %info.version, "risk model activated");
        Ok(info)
    }

    /// Replaces the criteria (refused when inconsistent) and keeps them.
    pub(crate) fn replace_criteria(&self, bytes: &[u8]) -> Result<usize, ApiError> {
        let set = CriteriaSet::from_json(bytes).map_err(ApiError::Risk)?;
        let n = set.criteria.len();
        self.save("criteria.json", bytes)?;
        self.engine().set_criteria(set).map_err(ApiError::Risk)?;
        Ok(n)
    }

    /// Scores a committed record: declarations are assessed, inspection results fed back, AEO
    /// authorisations kept as the register the `aeo` feature reads.
    pub(crate) fn on_committed(&self, record_type: &str, payload: &Value) {
        match record_type {
            "declaration" => match serde_json::from_value::<DeclarationRecord>(payload.clone()) {
                Ok(d) => {
                    let a = self.engine().assess(&d, today());
                    tracing::info!(declaration = %a.declaration_id, lane = ?a.lane, score = a.score, "declaration scored");
                }
                Err(e) => tracing::warn!(error = %e, "committed declaration not scored"),
            },
            // The shared AEO register: an active authorisation lowers its holder's risk.
            "aeo-authorization" => match serde_json::from_value::<AeoAuthorizationRecord>(payload.clone()) {
                Ok(a) => {
                    let active = a.ext.status == AeoStatus::Active;
                    self.engine().history_mut().set_aeo(&a.ext.trader_identification_number, active);
                }
                Err(e) => tracing::warn!(error = %e, "committed AEO authorisation not read"),
            },
            "inspection-result" => match serde_json::from_value::<InspectionResultRecord>(payload.clone()) {
                Ok(r) => {
                    if let Err(e) = self.engine().record_inspection(&r) {
                        tracing::info!(error = %e, "inspection result not fed back");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "committed inspection result not read"),
            },
            _ => {}
        }
    }
}

/// Scores every declaration the ledger commits, and feeds back every inspection result, for as
/// long as the ledger runs.
/// Rebuilds the risk state of a ledger node at start: the ledger is the source of truth, so
/// every committed declaration, AEO authorisation and inspection result is replayed in commit
/// order (trader history, AEO register, the queue), then the officers' overrides recorded in
/// `overrides.jsonl` are applied again. Returns (records replayed, overrides re-applied).
pub(crate) fn rebuild(ledger: &borderlink_ledger::Ledger, risk: &RiskService) -> (usize, usize) {
    let mut records = 0;
    let head = ledger.head().map_or(0, |h| h.height);
    for height in 1..=head {
        let Ok(Some(block)) = ledger.block(height) else { continue };
        for (t, outcome) in block.txs.iter().zip(&block.results) {
            let Ok(body) = t.body() else { continue };
            let relevant =
                matches!(body.record_type.as_str(), "declaration" | "inspection-result" | "aeo-authorization");
            if !outcome.is_valid() || !relevant || body.payload_kind != borderlink_ledger::tx::PayloadKind::Clear {
                continue;
            }
            if let Ok(payload) = serde_json::from_slice::<Value>(&t.payload) {
                risk.on_committed(&body.record_type, &payload);
                records += 1;
            }
        }
    }
    let mut overrides = 0;
    if let Some(dir) = &risk.dir
        && let Ok(text) = std::fs::read_to_string(dir.join("overrides.jsonl"))
    {
        let mut engine = risk.engine();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            match serde_json::from_str::<Override>(line) {
                Ok(o) => match engine.overrule(&o.declaration_id, o.to, &o.reason, &o.officer, &o.at) {
                    Ok(_) => overrides += 1,
                    Err(e) => tracing::warn!(line = n + 1, error = %e, "a recorded override no longer applies"),
                },
                Err(e) => tracing::warn!(line = n + 1, error = %e, "overrides.jsonl: unreadable line skipped"),
            }
        }
    }
    (records, overrides)
}

pub(crate) fn score_commits(
    ledger: Arc<borderlink_ledger::Ledger>,
    mut events: tokio::sync::broadcast::Receiver<crate::ordering::CommitEvent>,
    risk: Arc<RiskService>,
) {
    // Holds the ledger, not the service: when the node stops, the orderer ends, the event
    // stream closes and this task ends too, so the database is released.
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    for r in event.records {
                        if !matches!(r.record_type.as_str(), "declaration" | "inspection-result" | "aeo-authorization")
                        {
                            continue;
                        }
                        match ledger.record(&r.record_id) {
                            Ok(Some(v)) => {
                                if let Some(payload) = v.payload {
                                    risk.on_committed(&r.record_type, &payload);
                                }
                            }
                            Ok(None) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, record = %r.record_id, "cannot read a committed record")
                            }
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "risk scoring fell behind the ledger");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// The active model, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelInfo {
    /// `name@hash`: what every score names.
    pub(crate) version: String,
    /// Identity of the feature set it reads.
    pub(crate) feature_set: String,
    /// Trees.
    pub(crate) trees: usize,
    /// Training rows and frauds among them.
    pub(crate) rows: usize,
    /// Frauds among the training rows.
    pub(crate) positives: usize,
    /// First and last day of the training data.
    pub(crate) period: Option<(String, String)>,
    /// AUC on the validation data, when it was measured.
    pub(crate) validation_auc: Option<f64>,
}

impl ModelInfo {
    pub(crate) fn of(m: &RiskModel) -> Self {
        let meta = m.meta();
        ModelInfo {
            version: meta.version.clone(),
            feature_set: meta.feature_set.clone(),
            trees: m.num_trees(),
            rows: meta.rows,
            positives: meta.positives,
            period: meta.period.clone(),
            validation_auc: meta.validation.as_ref().map(|v| v.auc),
        }
    }
}

fn risk(state: &SharedState) -> &Arc<RiskService> {
    &state.risk
}

/// Refuses a change from outside the console session on a node that has one.
pub(crate) fn authorize(state: &SharedState, headers: &HeaderMap) -> Result<(), ApiError> {
    match state.console_token.as_deref() {
        None => Ok(()),
        Some(expected) => match session::token(headers) {
            Some(t) if session::same(&t, expected) => Ok(()),
            _ => Err(ApiError::Unauthenticated("this change needs the console session (log in at /login)".into())),
        },
    }
}

/// On a ledger node, risk data (assessments, criteria, the model) is read only by authenticated
/// members or the console session; a validation-only node (loopback by default) answers anyone
/// who can reach it.
fn reader(state: &SharedState, headers: &HeaderMap, method: &Method, uri: &Uri, body: &[u8]) -> Result<(), ApiError> {
    if state.ledger.is_none() {
        return Ok(());
    }
    super::ledger::authenticate(state, headers, method, uri, body).map(|_| ())
}

fn parse_declaration(v: Value, at: Option<usize>) -> Result<DeclarationRecord, ApiError> {
    serde_json::from_value(v).map_err(|e| {
        let which = at.map(|i| format!("declaration {i}: ")).unwrap_or_default();
        ApiError::InvalidDeclaration(format!("{which}{e}"))
    })
}

/// Scores one declaration or a batch.
///
/// The body is a declaration record (`{"Declaration": …}`), or a batch: a JSON array of them or
/// `{"declarations": [ … ]}`. A declaration missing data the model uses is still scored, and its
/// `missing` list says what was missing. Each declaration is assessed once: scoring it again
/// returns the first assessment.
#[utoipa::path(
    post,
    path = "/api/v1/risk/score",
    tag = "risk",
    request_body(description = "A declaration record, an array of them, or `{\"declarations\": [...]}`", content = Object),
    responses(
        (status = 200, description = "The assessment (lane, score, model version, reasons, criteria fired, missing fields), or `{\"assessments\": [...]}` for a batch", body = Object),
        (status = 400, description = "Not JSON, or not a declaration", body = crate::error::ErrorBody),
        (status = 413, description = "The body is larger than the node's limit", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn score(
    State(state): State<SharedState>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|r| super::bytes_rejection(r, state.max_body_bytes))?;
    reader(&state, &headers, &method, &uri, &body)?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::InvalidDeclaration(format!("not JSON: {e}")))?;
    let (batch, items) = match v {
        Value::Array(items) => (true, items),
        Value::Object(mut o) if o.contains_key("declarations") => match o.remove("declarations") {
            Some(Value::Array(items)) => (true, items),
            _ => return Err(ApiError::InvalidDeclaration("`declarations` must be an array".into())),
        },
        other => (false, vec![other]),
    };
    let records = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_declaration(v, batch.then_some(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let day = today();
    let assessments: Vec<Assessment> = {
        let mut engine = risk(&state).engine();
        records.iter().map(|d| engine.assess(d, day)).collect()
    };
    let out = if batch {
        serde_json::json!({ "assessments": assessments })
    } else {
        serde_json::to_value(assessments.into_iter().next()).map_err(|e| ApiError::Internal(e.to_string()))?
    };
    Ok(Json(out))
}

/// The query of `GET /api/v1/risk/queue`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueQuery {
    /// Only this lane (`RED`, `YELLOW`, `BLUE`, `GREEN`).
    lane: Option<Lane>,
    /// At most this many (100 by default).
    limit: Option<usize>,
}

/// The risk queue: assessed declarations by lane (red first) and score (highest first).
#[utoipa::path(
    get,
    path = "/api/v1/risk/queue",
    tag = "risk",
    params(
        ("lane" = Option<String>, Query, description = "Only this lane: RED, YELLOW, BLUE or GREEN"),
        ("limit" = Option<usize>, Query, description = "At most this many (100 by default)"),
    ),
    responses((status = 200, description = "Assessments, strictest lane and highest score first", body = Object))
)]
pub(crate) async fn queue(
    State(state): State<SharedState>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Result<Json<Vec<Assessment>>, ApiError> {
    reader(&state, &headers, &method, &uri, b"")?;
    let Query(q) = query?;
    let engine = risk(&state).engine();
    let list = engine
        .queue()
        .into_iter()
        .filter(|a| q.lane.is_none_or(|l| a.effective_lane() == l))
        .take(q.limit.unwrap_or(100))
        .cloned()
        .collect();
    Ok(Json(list))
}

/// An officer's override.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OverrideRequest {
    /// The declaration.
    declaration_id: String,
    /// The new lane: RED, YELLOW, BLUE or GREEN.
    #[schema(value_type = String)]
    lane: Lane,
    /// Why (at least 10 characters): automated decisions with legal effect need a recorded,
    /// reviewable human reason.
    reason: String,
    /// The officer.
    officer: String,
}

/// Overrules a declaration's lane, with the officer's reason (refused without one).
#[utoipa::path(
    post,
    path = "/api/v1/risk/overrides",
    tag = "risk",
    request_body = OverrideRequest,
    responses(
        (status = 200, description = "The override as recorded", body = Object),
        (status = 404, description = "The declaration was not assessed here", body = crate::error::ErrorBody),
        (status = 422, description = "No reason, no officer, or the lane is unchanged", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn overrule(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Json<OverrideRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Override>, ApiError> {
    authorize(&state, &headers)?;
    let Json(r) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let at = now_iso();
    let o = risk(&state)
        .engine()
        .overrule(&r.declaration_id, r.lane, &r.reason, &r.officer, &at)
        .map_err(ApiError::Risk)?;
    risk(&state).record_override(&o)?;
    tracing::info!(declaration = %o.declaration_id, from = ?o.from, to = ?o.to, officer = %o.officer, "lane overruled");
    Ok(Json(o))
}

/// The time now as ISO 8601 (UTC, seconds).
pub(crate) fn now_iso() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let day = i32::try_from(secs / 86_400).unwrap_or(0);
    let s = secs % 86_400;
    format!("{}T{:02}:{:02}:{:02}Z", borderlink_risk::item::format_day(day), s / 3600, s / 60 % 60, s % 60)
}

/// Feeds back an inspection result record: trader history, criteria hit rates, training set.
#[utoipa::path(
    post,
    path = "/api/v1/risk/inspections",
    tag = "risk",
    request_body(description = "An inspection-result record", content = Object),
    responses(
        (status = 204, description = "Fed back"),
        (status = 400, description = "Not an inspection-result record", body = crate::error::ErrorBody),
        (status = 404, description = "The declaration was not assessed here", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn inspection(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::http::StatusCode, ApiError> {
    authorize(&state, &headers)?;
    let body = body.map_err(|r| super::bytes_rejection(r, state.max_body_bytes))?;
    let r: InspectionResultRecord =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("not an inspection result: {e}")))?;
    risk(&state).engine().record_inspection(&r).map_err(ApiError::Risk)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The training set fed back by inspections: every inspected goods item as declared, with what
/// its inspection found, as CSV in the KCS column layout (`borderlink risk train --data` reads
/// it with its built-in mapping; the history features are recomputed by replaying it in time
/// order). On a ledger node the rows are rebuilt from the committed declarations and
/// inspection results at start, so the export holds every clear inspection on the ledger.
#[utoipa::path(
    get,
    path = "/api/v1/risk/training-set",
    tag = "risk",
    responses((status = 200, description = "CSV: the KCS columns, then `Revenue` (duty recovered) and `Random Selection` (0/1)", content_type = "text/csv", body = String))
)]
pub(crate) async fn training_set(
    State(state): State<SharedState>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
) -> Result<([(axum::http::header::HeaderName, &'static str); 1], Vec<u8>), ApiError> {
    reader(&state, &headers, &method, &uri, b"")?;
    let mut csv = Vec::new();
    let rows = risk(&state).engine().write_training_set(&mut csv).map_err(ApiError::Risk)?;
    tracing::info!(rows, "risk training set exported");
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

/// The selectivity criteria with their running hit rates, lists and value-control bands.
#[utoipa::path(
    get,
    path = "/api/v1/risk/criteria",
    tag = "risk",
    responses((status = 200, description = "The criteria set", body = Object))
)]
pub(crate) async fn criteria(
    State(state): State<SharedState>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
) -> Result<Json<CriteriaSet>, ApiError> {
    reader(&state, &headers, &method, &uri, b"")?;
    Ok(Json(risk(&state).engine().criteria().clone()))
}

/// Replaces the criteria (refused when a criterion names an unknown list or feature, or a date
/// does not parse).
#[utoipa::path(
    put,
    path = "/api/v1/risk/criteria",
    tag = "risk",
    request_body(description = "A criteria set", content = Object),
    responses(
        (status = 200, description = "Replaced", body = Object),
        (status = 422, description = "Inconsistent criteria", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_criteria(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let body = body.map_err(|r| super::bytes_rejection(r, state.max_body_bytes))?;
    let n = risk(&state).replace_criteria(&body)?;
    Ok(Json(serde_json::json!({ "criteria": n })))
}

/// The active model.
#[utoipa::path(
    get,
    path = "/api/v1/risk/model",
    tag = "risk",
    responses(
        (status = 200, description = "The active model", body = ModelInfo),
        (status = 404, description = "No model is active: lanes come from criteria and random selection", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn model(
    State(state): State<SharedState>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
) -> Result<Json<ModelInfo>, ApiError> {
    reader(&state, &headers, &method, &uri, b"")?;
    risk(&state).engine().model().map(|m| Json(ModelInfo::of(m))).ok_or(ApiError::NoRiskModel)
}

/// Activates a model file written by `borderlink risk train`; a model for another feature set
/// is refused.
#[utoipa::path(
    put,
    path = "/api/v1/risk/model",
    tag = "risk",
    request_body(description = "A model file (`.blrm`)", content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Activated", body = ModelInfo),
        (status = 422, description = "Not a model, or trained on another feature set", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_model(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ModelInfo>, ApiError> {
    authorize(&state, &headers)?;
    let body = body.map_err(|r| super::bytes_rejection(r, state.max_body_bytes))?;
    let svc = Arc::clone(risk(&state));
    let info = tokio::task::spawn_blocking(move || svc.activate_model(&body))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(info))
}

/// The error table's entry for a risk error.
pub(crate) fn code(e: &RiskError) -> crate::error::Code {
    use crate::error::Code;
    match e {
        RiskError::Override(_) => Code::OverrideRefused,
        RiskError::NotAssessed(_) => Code::NotAssessed,
        RiskError::Criteria(_) => Code::InvalidCriteria,
        RiskError::Model(_) => Code::InvalidModel,
        RiskError::Csv { .. } | RiskError::Mapping { .. } => Code::BadRequest,
        RiskError::Training(_) | RiskError::Io(_) => Code::Internal,
    }
}
