//! The node's risk service: the one `RiskEngine` of the node behind a mutex (scoring a
//! declaration takes microseconds, so the lock is never held across an await), its files under
//! `DATA/risk/` — `model.blrm`, `criteria.json`, the lane policy `policy.json` (random rate,
//! quotas per office), and `overrides.jsonl` (every officer's override, synced before the
//! officer is answered) — and the mapping of its errors to the node's error table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use borderlink_model::{AeoAuthorizationRecord, DeclarationRecord, InspectionResultRecord, RecordType};
use borderlink_risk::engine::EngineConfig;
use borderlink_risk::lane::Override;
use borderlink_risk::{CriteriaSet, RiskEngine, RiskError, RiskModel};
use serde::Serialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::error::ApiError;

/// The node's risk engine and where its model and criteria are kept.
pub(crate) struct RiskService {
    engine: Mutex<RiskEngine>,
    dir: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    /// The ledger record id of each assessed declaration (by its reference), for links.
    records: Mutex<HashMap<String, String>>,
    /// A model uploaded in the console and not yet activated (one at a time per node).
    pending: Mutex<Option<PendingModel>>,
    /// Where and when the active model was activated (`risk/model-activation.json`).
    activation: Mutex<Option<Activation>>,
    /// This node, as the console names it: `name (member id)`.
    node: String,
}

/// A model uploaded in the console, waiting for the officer to read its report and activate it.
#[derive(Debug, Clone)]
pub(crate) struct PendingModel {
    /// The model file as uploaded.
    pub(crate) bytes: Arc<Vec<u8>>,
    /// The model read from it.
    pub(crate) model: Arc<RiskModel>,
    /// When it was uploaded.
    pub(crate) at: String,
}

/// Where and when the active model was activated.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Activation {
    /// The model's version.
    pub(crate) version: String,
    /// The node that activated it.
    pub(crate) node: String,
    /// When.
    pub(crate) at: String,
}

impl std::fmt::Debug for RiskService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskService").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn new_engine() -> RiskEngine {
    RiskEngine::default()
}

impl RiskService {
    /// The engine of a node whose data lives in `data_dir`: the model and criteria found in
    /// `data_dir/risk/` are activated; a file that cannot be used is logged and skipped, so
    /// that a bad model never stops the node from serving.
    pub(crate) fn open(
        data_dir: &Path,
        administration: Option<&str>,
        node: String,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
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
        engine.set_administration(administration);
        let activation = std::fs::read(dir.join("model-activation.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Activation>(&b).ok())
            .filter(|a| engine.model().is_some_and(|m| m.version() == a.version));
        Arc::new(RiskService {
            engine: Mutex::new(engine),
            dir: Some(dir),
            clock,
            records: Mutex::new(HashMap::new()),
            pending: Mutex::new(None),
            activation: Mutex::new(activation),
            node,
        })
    }

    /// Where the keys of pseudonymized exports are kept (`DATA/risk/pseudonym-keys`), apart from
    /// any exported data; `None` for a node that keeps no files.
    pub(crate) fn pseudonym_keys(&self) -> Option<borderlink_analytics::ScopeKeys> {
        self.dir.as_ref().map(|d| borderlink_analytics::ScopeKeys::new(&d.join("pseudonym-keys")))
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
            .and_then(|()| {
                let path = dir.join("overrides.jsonl");
                borderlink_ledger::identity::private_file(&path).map_err(std::io::Error::other)?;
                std::fs::OpenOptions::new().append(true).open(path)
            })
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
        let activation =
            Activation { version: info.version.clone(), node: self.node.clone(), at: self.clock.now_iso() };
        if let Ok(json) = serde_json::to_vec_pretty(&activation) {
            self.save("model-activation.json", &json)?;
        }
        *lock(&self.activation) = Some(activation);
        tracing::info!(model = %info.version, "risk model activated");
        Ok(info)
    }

    /// Where and when the active model was activated, when it was through this release.
    pub(crate) fn activation(&self) -> Option<Activation> {
        lock(&self.activation).clone()
    }

    /// This node, as the console names it.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// Keeps an uploaded model until it is activated or replaced by another upload.
    pub(crate) fn stage_model(&self, bytes: Vec<u8>) -> Result<PendingModel, ApiError> {
        let model = RiskModel::read(bytes.as_slice()).map_err(ApiError::Risk)?;
        let pending = PendingModel { bytes: Arc::new(bytes), model: Arc::new(model), at: self.clock.now_iso() };
        *lock(&self.pending) = Some(pending.clone());
        tracing::info!(model = pending.model.version(), "risk model uploaded, waiting for activation");
        Ok(pending)
    }

    /// The uploaded model waiting for activation.
    pub(crate) fn pending_model(&self) -> Option<PendingModel> {
        lock(&self.pending).clone()
    }

    /// Activates the uploaded model of version `version`; `None` when no such upload waits.
    pub(crate) fn activate_pending(&self, version: &str) -> Option<Result<ModelInfo, ApiError>> {
        let pending = lock(&self.pending).take_if(|p| p.model.version() == version)?;
        Some(self.activate_model(&pending.bytes))
    }

    /// The ledger record id of an assessed declaration.
    pub(crate) fn record_of(&self, declaration_id: &str) -> Option<String> {
        lock(&self.records).get(declaration_id).cloned()
    }

    /// The reference (MRN, else LRN) of the assessed declaration held by ledger record
    /// `record_id`.
    pub(crate) fn declaration_of_record(&self, record_id: &str) -> Option<String> {
        lock(&self.records).iter().find(|(_, r)| r.as_str() == record_id).map(|(d, _)| d.clone())
    }

    /// Takes in a signal another capability raised about the declaration held by ledger record
    /// `record_id` (or with that reference): its criteria are tested again (see
    /// [`RiskEngine::signal`](borderlink_risk::RiskEngine::signal)). Answers the new lane when
    /// it changed.
    pub(crate) fn signal(&self, record_id: &str, signal: &str) -> Option<borderlink_model::Lane> {
        let declaration = self.declaration_of_record(record_id).unwrap_or_else(|| record_id.to_owned());
        let changed = self.engine().signal(&declaration, signal, self.clock.today())?;
        tracing::warn!(declaration = %declaration, signal, lane = ?changed.lane, "declaration re-assessed on a signal");
        Some(changed.lane)
    }

    /// Replaces the criteria (refused when inconsistent) and keeps them.
    pub(crate) fn replace_criteria(&self, bytes: &[u8]) -> Result<usize, ApiError> {
        let set = CriteriaSet::from_json(bytes).map_err(ApiError::Risk)?;
        let n = set.criteria.len();
        self.save("criteria.json", bytes)?;
        self.engine().set_criteria(set).map_err(ApiError::Risk)?;
        Ok(n)
    }

    /// Edits the criteria under the engine's lock (so that no hit recorded meanwhile is lost),
    /// checks the result and keeps it.
    pub(crate) fn edit_criteria(&self, edit: impl FnOnce(&mut CriteriaSet)) -> Result<(), ApiError> {
        let mut engine = self.engine();
        let mut set = engine.criteria().clone();
        edit(&mut set);
        set.check().map_err(ApiError::Risk)?;
        let bytes = serde_json::to_vec_pretty(&set).map_err(|e| ApiError::Internal(e.to_string()))?;
        self.save("criteria.json", &bytes)?;
        engine.set_criteria(set).map_err(ApiError::Risk)
    }

    /// The node's clock.
    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Scores a committed record: declarations are assessed, inspection results fed back, AEO
    /// authorisations kept as the register the `aeo` feature reads.
    pub(crate) fn on_committed(&self, record_type: RecordType, record_id: &str, version: u64, payload: &Value) {
        match record_type {
            RecordType::Declaration => match serde_json::from_value::<DeclarationRecord>(payload.clone()) {
                Ok(d) => {
                    let a = self.engine().assess_version(&d, version, self.clock.today());
                    lock(&self.records).insert(a.declaration_id.clone(), record_id.to_owned());
                    tracing::info!(declaration = %a.declaration_id, lane = ?a.lane, score = a.score, "declaration scored");
                }
                Err(e) => tracing::warn!(record = record_id, error = %e, "committed declaration not scored"),
            },
            // The AEO register as this administration reads it: its own authorisations and
            // those of its mutual-recognition partners, by issuer and authorisation id.
            RecordType::AeoAuthorization => match serde_json::from_value::<AeoAuthorizationRecord>(payload.clone()) {
                Ok(a) => self.engine().record_aeo(&a),
                Err(e) => tracing::warn!(record = record_id, error = %e, "committed AEO authorisation not read"),
            },
            RecordType::InspectionResult => match serde_json::from_value::<InspectionResultRecord>(payload.clone()) {
                Ok(r) => {
                    if let Err(e) = self.engine().record_inspection(&r) {
                        tracing::info!(record = record_id, error = %e, "inspection result not fed back");
                    }
                }
                Err(e) => tracing::warn!(record = record_id, error = %e, "committed inspection result not read"),
            },
            RecordType::TransportMovement | RecordType::AeoConsent => {}
        }
    }

    /// Applies the officers' overrides recorded in `overrides.jsonl` again (after the ledger
    /// has been replayed). Returns how many still applied.
    pub(crate) fn reapply_overrides(&self) -> usize {
        let Some(dir) = &self.dir else { return 0 };
        let text = match std::fs::read_to_string(dir.join("overrides.jsonl")) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return 0,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the recorded overrides: the queue shows the lanes without them");
                return 0;
            }
        };
        let mut engine = self.engine();
        let mut applied = 0;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            match serde_json::from_str::<Override>(line) {
                Ok(o) => match engine.overrule(&o.declaration_id, o.to, &o.reason, &o.officer, &o.at) {
                    Ok(_) => applied += 1,
                    Err(e) => tracing::warn!(line = n + 1, error = %e, "a recorded override no longer applies"),
                },
                Err(e) => tracing::error!(line = n + 1, error = %e, "overrides.jsonl: unreadable line skipped"),
            }
        }
        applied
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
