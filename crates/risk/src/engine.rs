//! The risk engine: criteria + model + lanes + history + feedback, for one node.
//!
//! [`RiskEngine::assess`] scores a declaration (each goods item: features from the history
//! known so far, the model's probability and the features that pushed it, the criteria that
//! fired), decides its lane, puts it in the risk queue and adds it to the history.
//! [`RiskEngine::record_inspection`] feeds an inspection result back: trader history,
//! criteria hit rates and the training set. [`RiskEngine::overrule`] records an officer's
//! override, which needs a reason.
//!
//! The engine is plain data with `&mut self` methods; the node serialises access to it.

use std::collections::{HashMap, VecDeque};

use borderlink_model::records::InspectionOutcome;
use borderlink_model::{AeoAuthorizationRecord, DeclarationRecord, InspectionResultRecord, Lane};
use serde::{Deserialize, Serialize};

use crate::aeo::AeoRegister;
use crate::criterion::{CriteriaSet, Fired};
use crate::error::RiskError;
use crate::features::{self, FeatureVector};
use crate::history::{History, Keys, Outcome};
use crate::item::{Day, Item, format_day};
use crate::lane::{LaneDecision, LanePolicy, LaneSource, Override, Selector, severity, stricter};
use crate::model::RiskModel;

/// How many reasons a score lists.
pub const REASONS: usize = 5;

/// One feature that pushed a score, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// The feature's machine name.
    pub feature: String,
    /// The item's value, as an officer reads it.
    pub value: String,
    /// Contribution to the log-odds of fraud (positive raises the risk).
    pub effect: f32,
    /// The whole reason in one sentence.
    pub text: String,
}

/// The assessment of one goods item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemAssessment {
    /// The item's sequence number.
    pub sequence: u64,
    /// Probability of fraud from the model (`None` without a model).
    pub score: Option<f32>,
    /// The features that pushed the score most, strongest first.
    pub reasons: Vec<Reason>,
    /// The criteria that fired on this item.
    pub criteria: Vec<Fired>,
    /// Fields the model uses that the item lacks (it is still scored: trees route missing
    /// values).
    pub missing: Vec<String>,
}

/// The assessment of a declaration: its lane, score and reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    /// The declaration's reference.
    pub declaration_id: String,
    /// Office of declaration (empty when unknown).
    pub office: String,
    /// The declaration's day (`YYYY-MM-DD`).
    pub day: String,
    /// The lane.
    pub lane: Lane,
    /// What decided the lane.
    pub lane_source: LaneSource,
    /// Drawn by the random selection.
    pub random: bool,
    /// The highest item probability of fraud (0 without a model).
    pub score: f32,
    /// The model that produced the score (`None` when criteria alone decided).
    pub model_version: Option<String>,
    /// Reasons of the riskiest item.
    pub reasons: Vec<Reason>,
    /// Every criterion that fired, once each.
    pub criteria: Vec<Fired>,
    /// Fields missing on any item.
    pub missing: Vec<String>,
    /// Per item.
    pub items: Vec<ItemAssessment>,
    /// The officer's override, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden: Option<Override>,
    /// The ledger version of the declaration that was scored (0: a what-if, never committed).
    #[serde(default)]
    pub version: u64,
}

impl Assessment {
    /// The lane in force: the officer's when overruled.
    pub fn effective_lane(&self) -> Lane {
        self.overridden.as_ref().map_or(self.lane, |o| o.to)
    }
}

/// A training row produced by feedback: the item as declared, the features as they were when
/// it was scored, and what the inspection found.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRow {
    /// The day the item was declared.
    pub day: Day,
    /// The goods item as declared (what [`crate::training::write_csv`] exports).
    pub item: Item,
    /// The item's features at scoring time.
    pub features: FeatureVector,
    /// The inspection outcome.
    pub outcome: Outcome,
    /// Whether the declaration was drawn at random (an unbiased label).
    pub random: bool,
}

struct Pending {
    items: Vec<(Item, Keys, FeatureVector)>,
    fired: Vec<String>,
    random: bool,
}

/// Engine settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EngineConfig {
    /// Lane policy.
    #[serde(default)]
    pub lanes: LanePolicy,
    /// Closed assessments kept in the queue (the oldest closed one dropped first: inspected, or
    /// released green or blue); 0 means 10,000. Open red and yellow ones are never dropped.
    #[serde(default)]
    pub queue_capacity: usize,
}

/// Criteria, model, lanes, history and feedback.
pub struct RiskEngine {
    model: Option<RiskModel>,
    criteria: CriteriaSet,
    history: History,
    selector: Selector,
    /// Queue keys, oldest first (the declaration reference, or a generated one).
    queue: VecDeque<String>,
    /// Assessments by queue key.
    assessments: HashMap<String, Assessment>,
    /// Declarations assessed so far (names the ones without a reference).
    serial: u64,
    index: HashMap<String, Pending>,
    capacity: usize,
    feedback: Vec<FeedbackRow>,
    /// The AEO register as this administration reads it.
    aeo: AeoRegister,
    /// Signals other capabilities raised, by declaration reference ([`RiskEngine::signal`]).
    signals: HashMap<String, Vec<String>>,
}

impl std::fmt::Debug for RiskEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskEngine")
            .field("model", &self.model.as_ref().map(|m| m.version().to_owned()))
            .field("criteria", &self.criteria.criteria.len())
            .field("queue", &self.queue.len())
            .finish_non_exhaustive()
    }
}

/// The reasons of one prediction: the features with the largest contributions, in words.
pub fn reasons(item: &Item, x: &FeatureVector, contributions: &[f32], n: usize) -> Vec<Reason> {
    // The n strongest, strongest first (ties by feature order), picked in one pass without
    // sorting every feature.
    let stronger =
        |a: usize, b: usize| contributions[a].abs().total_cmp(&contributions[b].abs()).then(b.cmp(&a)).is_gt();
    let mut top: Vec<usize> = Vec::with_capacity(n + 1);
    for i in (0..contributions.len()).filter(|&i| contributions[i] != 0.0) {
        if top.len() == n && top.last().is_none_or(|&w| !stronger(i, w)) {
            continue;
        }
        let at = top.iter().position(|&t| stronger(i, t)).unwrap_or(top.len());
        top.insert(at, i);
        top.truncate(n);
    }
    top.into_iter()
        .map(|i| {
            let effect = contributions[i];
            let value = features::describe_value(i, x[i], item);
            let words = features::phrase(i);
            let direction = if effect > 0.0 { "raises" } else { "lowers" };
            Reason {
                feature: features::FEATURES[i].name.to_owned(),
                // Pieces joined directly: no formatting machinery for every reason of every score.
                text: [words, ": ", &value, " — ", direction, " the risk"].concat(),
                value,
                effect,
            }
        })
        .collect()
}

impl Default for RiskEngine {
    /// An engine with the default lane policy, no model and no criteria.
    fn default() -> Self {
        RiskEngine {
            model: None,
            criteria: CriteriaSet::default(),
            history: History::new(),
            // The default policy passes `LanePolicy::check` (a unit test says so).
            selector: Selector::new(LanePolicy::default()),
            queue: VecDeque::new(),
            assessments: HashMap::new(),
            serial: 0,
            index: HashMap::new(),
            capacity: 10_000,
            aeo: AeoRegister::default(),
            feedback: Vec::new(),
            signals: HashMap::new(),
        }
    }
}

impl RiskEngine {
    /// An engine with no model and no criteria (every declaration goes green but for the
    /// random selection).
    pub fn new(config: EngineConfig) -> Result<Self, RiskError> {
        config.lanes.check()?;
        Ok(RiskEngine {
            model: None,
            criteria: CriteriaSet::default(),
            history: History::new(),
            selector: Selector::new(config.lanes),
            queue: VecDeque::new(),
            assessments: HashMap::new(),
            serial: 0,
            index: HashMap::new(),
            capacity: if config.queue_capacity == 0 { 10_000 } else { config.queue_capacity },
            aeo: AeoRegister::default(),
            feedback: Vec::new(),
            signals: HashMap::new(),
        })
    }

    /// Activates a model.
    pub fn set_model(&mut self, model: RiskModel) {
        self.model = Some(model);
    }

    /// The active model.
    pub fn model(&self) -> Option<&RiskModel> {
        self.model.as_ref()
    }

    /// Replaces the criteria (checked first).
    pub fn set_criteria(&mut self, criteria: CriteriaSet) -> Result<(), RiskError> {
        criteria.check()?;
        self.criteria = criteria;
        Ok(())
    }

    /// The criteria with their running hit rates.
    pub fn criteria(&self) -> &CriteriaSet {
        &self.criteria
    }

    /// The history (for inspection and tests).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The history, to seed it (e.g. from a replay of past data or the AEO register).
    pub fn history_mut(&mut self) -> &mut History {
        &mut self.history
    }

    /// The lane policy in force.
    pub fn lane_policy(&self) -> &LanePolicy {
        self.selector.policy()
    }

    /// Scores the items of a declaration without deciding a lane or changing any state.
    /// `today` is used for criteria validity when the declaration carries no date.
    pub fn score_items(
        &self,
        record: &DeclarationRecord,
        today: Day,
    ) -> Vec<(ItemAssessment, Item, Keys, FeatureVector)> {
        Item::from_declaration(record)
            .into_iter()
            .map(|mut item| {
                item.signals = self.signals.get(&item.declaration_id).cloned().unwrap_or_default();
                let keys = Keys::of(&item);
                let x = features::extract(&item, &keys, &self.history);
                self.score_one(item, keys, x, today)
            })
            .collect()
    }

    /// Scores one item whose features are extracted: the model's score and reasons, the
    /// criteria that fire, what is missing.
    fn score_one(
        &self,
        item: Item,
        keys: Keys,
        x: FeatureVector,
        today: Day,
    ) -> (ItemAssessment, Item, Keys, FeatureVector) {
        let (score, reasons) = match &self.model {
            Some(m) => {
                let mut contributions = [0f32; features::N_FEATURES];
                let p = m.predict_into(&x, &mut contributions);
                (Some(p), reasons(&item, &x, &contributions, REASONS))
            }
            None => (None, Vec::new()),
        };
        let criteria = self.criteria.fire(&item, &x, item.day.unwrap_or(today));
        let missing = item.missing().into_iter().map(str::to_owned).collect();
        (ItemAssessment { sequence: item.sequence, score, reasons, criteria, missing }, item, keys, x)
    }

    /// Takes in a signal another capability raised about a declaration (e.g. `iot:seal-opened`
    /// for an open IoT alert of the trip that carries it), for criteria to test. When the
    /// declaration is assessed already, its criteria are tested again with the signal and its
    /// lane can only become stricter (the model's score, the random selection and an
    /// officer's overrule stay as they were); the new assessment is returned when the lane or
    /// the criteria fired changed. A signal for a declaration not yet assessed is kept for when
    /// it is.
    pub fn signal(&mut self, declaration_id: &str, signal: &str, today: Day) -> Option<Assessment> {
        let signals = self.signals.entry(declaration_id.to_owned()).or_default();
        if signals.iter().any(|s| s == signal) {
            return None;
        }
        signals.push(signal.to_owned());
        let signals = signals.clone();
        let previous = self.assessments.get(declaration_id)?.clone();
        let pending = self.index.remove(declaration_id)?;
        let mut items = Vec::with_capacity(pending.items.len());
        let mut scored = Vec::with_capacity(pending.items.len());
        for (mut item, keys, x) in pending.items {
            item.signals = signals.clone();
            let one = self.score_one(item.clone(), keys, x, today);
            scored.push(one);
            items.push((item, keys, x));
        }
        let mut selector = self.selector.clone();
        let (decided, _) = self.decide(&scored, today, previous.version, &mut selector);
        let lane = stricter(previous.lane, decided.lane);
        let mut fired = pending.fired;
        for c in &decided.criteria {
            if !fired.contains(&c.id) {
                fired.push(c.id.clone());
            }
        }
        self.index.insert(declaration_id.to_owned(), Pending { items, fired, random: pending.random });
        if lane == previous.lane && decided.criteria.len() == previous.criteria.len() {
            return None;
        }
        let mut updated = previous.clone();
        if lane != previous.lane {
            updated.lane = lane;
            updated.lane_source = decided.lane_source;
        }
        updated.criteria = decided.criteria;
        updated.items = decided.items;
        self.assessments.insert(declaration_id.to_owned(), updated.clone());
        Some(updated)
    }

    /// The administration this engine works for (its country), which decides whose AEO
    /// authorisations count (see [`AeoRegister`]).
    pub fn set_administration(&mut self, country: Option<&str>) {
        self.aeo = AeoRegister::new(country);
    }

    /// Keeps an AEO authorisation in the register and updates its holder's status.
    pub fn record_aeo(&mut self, authorisation: &AeoAuthorizationRecord) {
        let trader = self.aeo.record(authorisation);
        let status = self.aeo.status(&trader);
        self.history.set_aeo_status(&trader, status);
    }

    /// Scores a declaration as if it were lodged now, without changing anything: not queued,
    /// not in the history, not in the criteria's hit rates, not moving the lane quotas.
    pub fn what_if(&self, record: &DeclarationRecord, today: Day) -> Assessment {
        let scored = self.score_items(record, today);
        let mut selector = self.selector.clone();
        let (assessment, _) = self.decide(&scored, today, 0, &mut selector);
        assessment
    }

    /// Scores version 1 of a committed declaration (see [`RiskEngine::assess_version`]).
    pub fn assess(&mut self, record: &DeclarationRecord, today: Day) -> Assessment {
        self.assess_version(record, 1, today)
    }

    /// Scores a committed declaration, decides its lane, queues it and adds it to the history.
    /// The same or an older version of a declaration already assessed is returned as it was;
    /// a newer version is scored again from its own content and replaces the assessment (the
    /// history counts the declaration once; an override of the older content no longer holds).
    pub fn assess_version(&mut self, record: &DeclarationRecord, version: u64, today: Day) -> Assessment {
        let scored = self.score_items(record, today);
        let declaration_id = scored.first().map(|s| s.1.declaration_id.clone()).unwrap_or_default();
        let previous = self.assessments.get(&declaration_id).filter(|_| !declaration_id.is_empty());
        if let Some(prev) = previous
            && prev.version >= version
        {
            return prev.clone();
        }
        let again = previous.is_some();
        let mut selector = std::mem::take(&mut self.selector);
        let (assessment, random) = self.decide(&scored, today, version, &mut selector);
        self.selector = selector;
        let reference = if declaration_id.is_empty() {
            format!("{}/{}/#{}", assessment.office, assessment.day, self.serial)
        } else {
            declaration_id.clone()
        };
        let mut pending = Pending { items: Vec::with_capacity(scored.len()), fired: Vec::new(), random };
        pending.fired = assessment.criteria.iter().map(|c| c.id.clone()).collect();
        for (_, item, keys, x) in scored {
            if !again {
                self.history.observe(&item, &keys);
            }
            pending.items.push((item, keys, x));
        }
        if !declaration_id.is_empty() {
            self.index.insert(declaration_id, pending);
        }
        self.serial += 1;
        if !again {
            self.queue.push_back(reference.clone());
        }
        self.assessments.insert(reference, assessment.clone());
        self.evict_closed();
        assessment
    }

    /// Scores the items and decides the lane with `selector`.
    fn decide(
        &self,
        scored: &[(ItemAssessment, Item, Keys, FeatureVector)],
        today: Day,
        version: u64,
        selector: &mut Selector,
    ) -> (Assessment, bool) {
        let declaration_id = scored.first().map(|s| s.1.declaration_id.clone()).unwrap_or_default();
        let office = scored.first().and_then(|s| s.1.office.clone()).unwrap_or_default();
        let day = scored.first().and_then(|s| s.1.day).unwrap_or(today);
        let riskiest = scored
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.0.score.unwrap_or(0.0).total_cmp(&b.1.0.score.unwrap_or(0.0)).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i);
        let score = riskiest.and_then(|i| scored[i].0.score).unwrap_or(0.0);
        let mut criteria: Vec<Fired> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        let mut criteria_lane = Lane::Green;
        for (a, ..) in scored {
            for f in &a.criteria {
                criteria_lane = stricter(criteria_lane, f.lane);
                if !criteria.iter().any(|c| c.id == f.id) {
                    criteria.push(f.clone());
                }
            }
            for m in &a.missing {
                if !missing.contains(m) {
                    missing.push(m.clone());
                }
            }
        }
        let reference =
            if declaration_id.is_empty() { format!("{office}/{day}/#{}", self.serial) } else { declaration_id.clone() };
        let LaneDecision { lane, source, random } = selector.decide(&reference, &office, score, criteria_lane);
        let assessment = Assessment {
            declaration_id,
            office,
            day: format_day(day),
            lane,
            lane_source: source,
            random,
            score,
            model_version: self.model.as_ref().map(|m| m.version().to_owned()),
            reasons: riskiest.map(|i| scored[i].0.reasons.clone()).unwrap_or_default(),
            criteria,
            missing,
            items: scored.iter().map(|s| s.0.clone()).collect(),
            overridden: None,
            version,
        };
        (assessment, random)
    }

    /// Keeps at most `capacity` closed assessments: the oldest closed one goes first. Open red
    /// and yellow ones (awaiting their control) stay whatever the volume.
    fn evict_closed(&mut self) {
        if self.queue.len() <= self.capacity {
            return;
        }
        let closed = |k: &String, assessments: &HashMap<String, Assessment>, index: &HashMap<String, Pending>| {
            assessments
                .get(k)
                .is_none_or(|a| !index.contains_key(k) || matches!(a.effective_lane(), Lane::Green | Lane::Blue))
        };
        let mut n_closed = self.queue.iter().filter(|k| closed(k, &self.assessments, &self.index)).count();
        while n_closed > self.capacity {
            let Some(pos) = self.queue.iter().position(|k| closed(k, &self.assessments, &self.index)) else { break };
            if let Some(old) = self.queue.remove(pos) {
                self.assessments.remove(&old);
                self.index.remove(&old);
            }
            n_closed -= 1;
        }
    }

    /// The risk queue: assessments by lane (red first) then score (highest first).
    pub fn queue(&self) -> Vec<&Assessment> {
        let mut q: Vec<&Assessment> = self.queue.iter().filter_map(|k| self.assessments.get(k)).collect();
        q.sort_by(|a, b| {
            severity(b.effective_lane())
                .cmp(&severity(a.effective_lane()))
                .then(b.score.total_cmp(&a.score))
                .then(a.declaration_id.cmp(&b.declaration_id))
        });
        q
    }

    /// One assessment by declaration reference.
    pub fn assessment(&self, declaration_id: &str) -> Option<&Assessment> {
        self.assessments.get(declaration_id)
    }

    /// An officer overrules a declaration's lane; refused without a reason (see
    /// [`Override::new`]) or for a declaration not in the queue.
    pub fn overrule(
        &mut self,
        declaration_id: &str,
        to: Lane,
        reason: &str,
        officer: &str,
        at: &str,
    ) -> Result<Override, RiskError> {
        let Some(a) = self.assessments.get_mut(declaration_id) else {
            return Err(RiskError::NotAssessed(declaration_id.to_owned()));
        };
        let o = Override::new(declaration_id, a.effective_lane(), to, reason, officer, at)?;
        a.overridden = Some(o.clone());
        Ok(o)
    }

    /// Feeds back an inspection result for an assessed declaration: the same outcome for
    /// every item. Updates trader history, criteria hit rates and the training set.
    pub fn record_outcome(&mut self, declaration_id: &str, outcome: Outcome) -> Result<(), RiskError> {
        let Some(p) = self.index.remove(declaration_id) else {
            return Err(RiskError::NotAssessed(declaration_id.to_owned()));
        };
        for id in &p.fired {
            self.criteria.record_result(id, outcome.fraud);
        }
        let n = p.items.len().max(1) as f64;
        for (item, keys, x) in &p.items {
            let o = Outcome { revenue: outcome.revenue / n, ..outcome };
            self.history.record(keys, &o);
            self.feedback.push(FeedbackRow {
                day: item.day.unwrap_or(0),
                item: item.clone(),
                features: *x,
                outcome: o,
                random: p.random,
            });
        }
        Ok(())
    }

    /// Feeds back an inspection result record (fraud when the outcome is not conform;
    /// critical on seizure; revenue is the extra duty assessed).
    pub fn record_inspection(&mut self, result: &InspectionResultRecord) -> Result<(), RiskError> {
        let id = result
            .declaration
            .id
            .as_deref()
            .or(result.declaration.functional_reference_id.as_deref())
            .ok_or_else(|| RiskError::NotAssessed(String::new()))?;
        let revenue = result
            .duty_tax_fee
            .iter()
            .filter_map(|d| d.payment.as_ref())
            .filter_map(|p| p.tax_assessed_amount.as_ref().or(p.payment_amount.as_ref()))
            .map(|a| a.value)
            .filter(|v| v.is_finite())
            .sum();
        let outcome = Outcome {
            fraud: result.inspection.outcome != InspectionOutcome::Conform,
            critical: result.inspection.outcome == InspectionOutcome::Seizure,
            revenue,
        };
        self.record_outcome(id, outcome)
    }

    /// The training rows collected from feedback so far.
    pub fn feedback(&self) -> &[FeedbackRow] {
        &self.feedback
    }

    /// Writes the training rows collected from feedback as a CSV that `borderlink risk train`
    /// reads with its built-in mapping (see [`crate::training`]); returns the rows written.
    pub fn write_training_set<W: std::io::Write>(&self, w: W) -> Result<usize, RiskError> {
        crate::training::write_csv(&self.feedback, w)
    }
}
