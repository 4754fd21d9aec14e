//! The learned fraud model: gradient-boosted trees (the `hessboost` crate, XGBoost-compatible)
//! trained on inspection outcomes, saved with the feature set it was trained on and a version
//! that every score carries.
//!
//! File format (`.blrm`): one line of JSON ([`ModelMeta`], with `format` and `formatVersion`),
//! a newline, then the booster in hessboost's native binary encoding. **Invariant:** a model
//! whose feature names differ from this release's [`crate::features::FEATURES`] is refused at
//! load, so a score never silently reads columns in another order.

use std::io::{BufRead, Read, Write};
use std::ops::ControlFlow;

use hessboost::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codes::{CategoryCodes, CodeBook};
use crate::error::RiskError;
use crate::eval::Metrics;
use crate::features::{self, FeatureVector, N_FEATURES};
use crate::history::Outcome;
use crate::item::Day;

/// The `format` written in model files.
pub const FORMAT: &str = "borderlink-risk-model";
/// The version of the file layout.
pub const FORMAT_VERSION: u32 = 1;

/// How a model is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainParams {
    /// Maximum tree depth.
    pub max_depth: usize,
    /// Trees in the model, shared by the bag's members (each boosts `rounds / bag` rounds, so
    /// that a bagged model is no larger, and no slower to score, than a single one).
    pub rounds: usize,
    /// Learning rate.
    pub eta: f64,
    /// Row subsample per tree.
    pub subsample: f64,
    /// Column subsample per tree.
    pub colsample: f64,
    /// Minimum hessian in a child.
    pub min_child_weight: f64,
    /// L2 regularisation.
    pub lambda: f64,
    /// How split thresholds are searched: every distinct value (`exact`) or histogram bins
    /// (`hist`, [`Self::max_bin`] per feature). Exact search separates unit values and rates
    /// that bins lump together; on the training year it scored better than 256 and 1,024 bins
    /// (docs/benchmarks.md). Training is slower, scoring is not.
    #[serde(default)]
    pub split_search: SplitSearch,
    /// Histogram bins per feature, when [`Self::split_search`] is `hist`.
    #[serde(default = "default_max_bin")]
    pub max_bin: usize,
    /// Members of the bagged ensemble (models with different seeds, averaged into one).
    pub bag: usize,
    /// Extra weight of a fraudulent item per decade of duty at stake (0: fraud counts alone).
    pub revenue_weight: f64,
    /// Half-life, in days before the newest training day, of an item's weight (0: every day
    /// weighs the same). Patterns of fraud move; recent inspections say more about tomorrow.
    #[serde(default)]
    pub recency_half_life_days: f64,
    /// Customs knowledge as monotone constraints: the risk never falls as a party's past
    /// fraud rate rises, and never rises for an AEO.
    #[serde(default)]
    pub monotone: bool,
    /// Random seed of the first member.
    pub seed: u64,
    /// Code features (HS codes, countries, office, procedure, …) split by sets of codes
    /// ([`crate::codes`]) instead of by thresholds on their numbers. On the training year it
    /// scored better than numeric splits (docs/benchmarks.md). Files written before this field
    /// existed were trained without.
    #[serde(default)]
    pub categorical: bool,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            max_depth: 10,
            rounds: 300,
            eta: 0.1,
            subsample: 0.9,
            colsample: 0.5,
            min_child_weight: 2.0,
            lambda: 1.0,
            split_search: SplitSearch::Exact,
            max_bin: 256,
            bag: 3,
            revenue_weight: 0.6,
            recency_half_life_days: 0.0,
            monotone: true,
            seed: 7,
            categorical: true,
        }
    }
}

/// How a split's threshold is searched ([`TrainParams::split_search`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitSearch {
    /// Histogram bins (XGBoost `tree_method = hist`). Model files that do not say were trained
    /// this way.
    #[default]
    Hist,
    /// Every distinct value of the feature (XGBoost `tree_method = exact`).
    Exact,
}

impl std::str::FromStr for SplitSearch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hist" => Ok(SplitSearch::Hist),
            "exact" => Ok(SplitSearch::Exact),
            other => Err(format!("`{other}`: expected `exact` or `hist`")),
        }
    }
}

impl std::fmt::Display for SplitSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SplitSearch::Hist => "hist",
            SplitSearch::Exact => "exact",
        })
    }
}

/// Model files written before `maxBin` was recorded were trained with hessboost's 256 bins.
fn default_max_bin() -> usize {
    256
}

/// What a model file says about its model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelMeta {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`FORMAT_VERSION`] for files this release writes.
    pub format_version: u32,
    /// `name@hash`: what every score names as the model that produced it.
    pub version: String,
    /// Identity of the feature set ([`features::feature_set_id`]).
    pub feature_set: String,
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Training parameters.
    pub params: TrainParams,
    /// Training rows and frauds among them.
    pub rows: usize,
    /// Frauds in the training rows.
    pub positives: usize,
    /// First and last day of the training data (`YYYY-MM-DD`).
    pub period: Option<(String, String)>,
    /// Metrics on the validation data, when some was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Metrics>,
    /// The codes of each categorical feature ([`TrainParams::categorical`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryCodes>,
}

/// One node of a tree, laid out for path explanations.
#[derive(Debug, Clone, Copy)]
struct PathNode {
    feature: u32,
    threshold: f32,
    default_left: bool,
    left: u32,
    right: u32,
    /// The leaf value, or the cover-weighted mean of the leaves below an internal node.
    value: f32,
    leaf: bool,
    /// A categorical split: the categories sent left are `categories[cats.0..cats.1]` of its
    /// [`PathTree`] (the threshold is unused).
    categorical: bool,
    cats: (u32, u32),
}

/// One tree, laid out for path explanations.
#[derive(Debug, Clone, Default)]
struct PathTree {
    nodes: Vec<PathNode>,
    /// The categories of the categorical splits, ascending per split.
    categories: Vec<u32>,
}

#[cfg(test)]
impl PathTree {
    /// Whether a row goes left at internal node `n` (codes already categories).
    fn goes_left(&self, n: &PathNode, v: f32) -> bool {
        if v.is_nan() {
            n.default_left
        } else if n.categorical {
            let set = &self.categories[n.cats.0 as usize..n.cats.1 as usize];
            set.binary_search(&(v as u32)).is_ok()
        } else {
            v < n.threshold
        }
    }
}

/// A trained model with its metadata.
#[derive(Debug, Clone)]
pub struct RiskModel {
    meta: ModelMeta,
    booster: BoostedModel,
    /// How the model reads codes (from the meta).
    book: CodeBook,
    forest: Forest,
    /// The margin of a row before any tree: the booster's intercept, measured at load.
    base_margin: f32,
}

/// A model's view of one item: the fraud probability and each feature's contribution to the
/// log-odds (positive raises the risk).
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Probability of fraud.
    pub probability: f32,
    /// Log-odds contribution of each feature (path attribution, summed over trees).
    pub contributions: Vec<f32>,
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

fn model_err(e: impl std::fmt::Display) -> RiskError {
    RiskError::Model(e.to_string())
}

fn train_err(e: impl std::fmt::Display) -> RiskError {
    RiskError::Training(e.to_string())
}

/// Sample weights: a fraudulent item weighs more the more duty is at stake, and (with a
/// half-life) an older item less than a recent one. `None` when every weight would be 1.
pub fn weights(outcomes: &[Outcome], days: &[Day], params: &TrainParams) -> Option<Vec<f32>> {
    let recency = params.recency_half_life_days > 0.0 && days.len() == outcomes.len();
    if params.revenue_weight <= 0.0 && !recency {
        return None;
    }
    let last = days.iter().copied().max().unwrap_or(0);
    Some(
        outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let revenue = if o.fraud {
                    1.0 + params.revenue_weight.max(0.0) * (1.0 + o.revenue.max(0.0)).log10()
                } else {
                    1.0
                };
                let age = if recency { f64::from(last - days[i]) } else { 0.0 };
                (revenue * 0.5f64.powf(age / params.recency_half_life_days.max(1e-9))) as f32
            })
            .collect(),
    )
}

fn check_training(x: &[FeatureVector], outcomes: &[Outcome], params: &TrainParams) -> Result<usize, RiskError> {
    if x.len() != outcomes.len() {
        return Err(RiskError::Training(format!("{} feature rows for {} outcomes", x.len(), outcomes.len())));
    }
    let positives = outcomes.iter().filter(|o| o.fraud).count();
    if positives == 0 || positives == outcomes.len() {
        return Err(RiskError::Training("the training data needs both frauds and clean inspections".into()));
    }
    if params.bag == 0 || params.rounds == 0 || params.max_depth == 0 {
        return Err(RiskError::Training("bag, rounds and max depth must be at least 1".into()));
    }
    if params.max_bin < 2 {
        return Err(RiskError::Training("max bin must be at least 2".into()));
    }
    if !(params.eta > 0.0
        && params.subsample > 0.0
        && params.subsample <= 1.0
        && params.colsample > 0.0
        && params.colsample <= 1.0)
    {
        return Err(RiskError::Training("eta must be positive and subsample and colsample in (0, 1]".into()));
    }
    Ok(positives)
}

/// The code book a model trained with `params` on rows `x` uses (empty without
/// [`TrainParams::categorical`]).
fn code_book(x: &[FeatureVector], params: &TrainParams) -> CodeBook {
    if params.categorical { CodeBook::fit(x) } else { CodeBook::default() }
}

/// Rows as the trees read them: row-major, infinities missing, codes as categories.
fn tree_rows(x: &[FeatureVector], book: &CodeBook) -> Vec<f32> {
    let mut flat: Vec<f32> =
        x.iter().flat_map(|r| r.iter().map(|v| if v.is_infinite() { f32::NAN } else { *v })).collect();
    book.encode_rows(&mut flat);
    flat
}

/// Trains the members of the bagged ensemble (not yet averaged).
fn train_members(
    x: &[FeatureVector],
    outcomes: &[Outcome],
    days: &[Day],
    params: &TrainParams,
    book: &CodeBook,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Vec<BoostedModel>, RiskError> {
    check_training(x, outcomes, params)?;
    let flat = tree_rows(x, book);
    let labels: Vec<f32> = outcomes.iter().map(|o| f32::from(u8::from(o.fraud))).collect();
    let mut data =
        DMatrix::from_dense(&flat, x.len(), N_FEATURES).map_err(train_err)?.with_labels(&labels).map_err(train_err)?;
    if !book.is_empty() {
        data = data.with_feature_types(&book.feature_types()).map_err(train_err)?;
    }
    if let Some(w) = weights(outcomes, days, params) {
        data = data.with_weights(&w).map_err(train_err)?;
    }
    let per_member = member_rounds(params.rounds, params.bag);
    let total = per_member * params.bag;
    let mut members = Vec::with_capacity(params.bag);
    for m in 0..params.bag {
        let hp = TrainingParams::builder()
            .objective(Objective::BinaryLogistic(RegLoss::default()))
            .tree_method(match params.split_search {
                SplitSearch::Hist => TreeMethod::Hist,
                SplitSearch::Exact => TreeMethod::Exact,
            })
            .max_depth(params.max_depth)
            .eta(params.eta)
            .subsample(params.subsample)
            .colsample_bytree(params.colsample)
            .min_child_weight(params.min_child_weight)
            .lambda(params.lambda)
            .max_bin(params.max_bin)
            .seed(member_seed(params.seed, m))
            .monotone_constraints(if params.monotone { monotone_constraints() } else { Vec::new() })
            .build()
            .map_err(train_err)?;
        let done = m * per_member;
        // The trainer is another crate's code: a panic in it (seen with lambda 0 and monotone
        // constraints, a rounding error in a clamp) is a failed training, not a dead node.
        let trained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Trainer::new(&hp, &data, per_member)
                .on_round(|r| {
                    progress(done + r.iteration() + 1, total);
                    ControlFlow::Continue(())
                })
                .train()
        }))
        .map_err(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            RiskError::Training(format!("the tree trainer failed ({why}); try other training parameters"))
        })?;
        members.push(trained.map_err(train_err)?.model);
    }
    Ok(members)
}

/// The random seed of the bag's member `m` (the first member's is `seed`).
pub fn member_seed(seed: u64, m: usize) -> u64 {
    seed.wrapping_add(m as u64 * 7919)
}

/// The constraints of [`TrainParams::monotone`], one per feature.
pub fn monotone_constraints() -> Vec<hessboost::config::Monotone> {
    use hessboost::config::Monotone;
    features::FEATURES
        .iter()
        .map(|f| {
            if f.name.ends_with("_hit_rate") {
                Monotone::Increasing
            } else if f.name == "aeo" {
                Monotone::Decreasing
            } else {
                Monotone::None
            }
        })
        .collect()
}

/// Rounds each of `bag` members boosts for a model of `trees` trees.
fn member_rounds(trees: usize, bag: usize) -> usize {
    trees.div_ceil(bag.max(1)).max(1)
}

/// The members' first iterations, averaged into one booster of about `trees` trees.
fn combine(members: &[BoostedModel], trees: usize) -> Result<BoostedModel, RiskError> {
    let rounds = member_rounds(trees, members.len());
    let sliced = members.iter().map(|m| m.slice(..rounds, 1)).collect::<Result<Vec<_>, _>>().map_err(train_err)?;
    match sliced.as_slice() {
        [one] => Ok(one.clone()),
        many => BoostedModel::average(many).map_err(train_err),
    }
}

/// Trains a model on feature rows, their inspection outcomes and their days (for recency
/// weighting; may be empty). `progress(done, total)` is called after every boosting round.
pub fn train(
    name: &str,
    x: &[FeatureVector],
    outcomes: &[Outcome],
    days: &[Day],
    params: &TrainParams,
    period: Option<(String, String)>,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<RiskModel, RiskError> {
    let positives = check_training(x, outcomes, params)?;
    let book = code_book(x, params);
    let members = train_members(x, outcomes, days, params, &book, &mut progress)?;
    let booster = combine(&members, params.rounds)?;
    let mut bytes = booster.encode(ModelFormat::Binary).map_err(train_err)?;
    let categories = book.to_meta();
    // The version names the codes too: the same trees read other codes differently.
    bytes.extend(serde_json::to_vec(&categories).map_err(train_err)?);
    let meta = ModelMeta {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        version: format!("{name}@{:08x}", fnv(&bytes) as u32),
        feature_set: features::feature_set_id(),
        features: features::names().into_iter().map(str::to_owned).collect(),
        params: params.clone(),
        rows: x.len(),
        positives,
        period,
        validation: None,
        categories,
    };
    RiskModel::new(meta, booster)
}

/// The hyper-parameter grid searched by [`tune`]: every depth × learning rate is trained
/// once with the most rounds, and evaluated at each round count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Tree depths.
    pub depths: Vec<usize>,
    /// Learning rates.
    pub etas: Vec<f64>,
    /// Round counts.
    pub rounds: Vec<usize>,
    /// The scoring budget: the most tree levels (rounds × depth) a chosen model may have, since
    /// every level is walked for every goods item scored (0: no limit). Points over it are
    /// still trained and reported, never chosen.
    #[serde(default)]
    pub max_levels: usize,
}

/// The default [`Grid::max_levels`] of a model with numeric splits only: 200 trees of depth 12,
/// which one declaration is scored and explained with in under 20 µs (p99, docs/benchmarks.md)
/// on a shared 2-vCPU machine.
pub const MAX_LEVELS: usize = 2_400;

/// The default [`Grid::max_levels`] of a model that splits codes by sets
/// ([`TrainParams::categorical`]): every level of the walk then also tests a bit (about 1.4
/// times the instructions per level), so 100 trees of depth 12 keep one declaration at 11–16
/// µs p99, where 150 trees of depth 10 reached 13–23 µs in quiet re-runs (docs/benchmarks.md).
pub const MAX_LEVELS_CATEGORICAL: usize = 1_200;

/// The scoring budget of a model trained with `params`.
pub fn max_levels(params: &TrainParams) -> usize {
    if params.categorical { MAX_LEVELS_CATEGORICAL } else { MAX_LEVELS }
}

impl Grid {
    /// The default grid with the scoring budget of a model trained with `params`.
    pub fn for_params(params: &TrainParams) -> Self {
        Grid {
            depths: vec![6, 8, 10, 12],
            etas: vec![0.05, 0.1, 0.2],
            rounds: vec![100, 150, 200, 300],
            max_levels: max_levels(params),
        }
    }
}

impl Default for Grid {
    fn default() -> Self {
        Grid::for_params(&TrainParams::default())
    }
}

/// One point of the grid and its AUC on the tuning data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridPoint {
    /// Depth.
    pub depth: usize,
    /// Learning rate.
    pub eta: f64,
    /// Rounds.
    pub rounds: usize,
    /// AUC on the tuning data.
    pub auc: f64,
}

/// Chooses depth, learning rate and rounds by AUC on `(x_check, o_check)` — data later than
/// `(x_fit, o_fit)`, never the data reported on — among the points within the scoring budget
/// ([`Grid::max_levels`]) — and returns the chosen parameters with every point tried. `progress(done, total)` counts boosting rounds.
#[allow(clippy::too_many_arguments)]
pub fn tune(
    x_fit: &[FeatureVector],
    o_fit: &[Outcome],
    d_fit: &[Day],
    x_check: &[FeatureVector],
    o_check: &[Outcome],
    base: &TrainParams,
    grid: &Grid,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<(TrainParams, Vec<GridPoint>), RiskError> {
    let max_rounds = grid.rounds.iter().copied().max().unwrap_or(0);
    if grid.depths.is_empty() || grid.etas.is_empty() || max_rounds == 0 || x_check.is_empty() {
        return Err(RiskError::Training("the grid and the tuning data must not be empty".into()));
    }
    let book = code_book(x_fit, base);
    let flat = tree_rows(x_check, &book);
    let labels: Vec<bool> = o_check.iter().map(|o| o.fraud).collect();
    let fits = grid.depths.len() * grid.etas.len();
    let per_fit = member_rounds(max_rounds, base.bag) * base.bag;
    let mut points = Vec::new();
    let mut tried: Vec<(f64, TrainParams)> = Vec::new();
    for (i, (&depth, &eta)) in grid.depths.iter().flat_map(|d| grid.etas.iter().map(move |e| (d, e))).enumerate() {
        let params = TrainParams { max_depth: depth, eta, rounds: max_rounds, ..base.clone() };
        let mut inner = |d: usize, _t: usize| progress(i * per_fit + d, fits * per_fit);
        let members = train_members(x_fit, o_fit, d_fit, &params, &book, &mut inner)?;
        for &rounds in &grid.rounds {
            let booster = combine(&members, rounds)?;
            let scores = booster.predict_rows(&flat, Iterations::Best).map_err(train_err)?;
            let auc = crate::eval::auc(scores.as_slice(), &labels);
            points.push(GridPoint { depth, eta, rounds, auc });
            tried.push((auc, TrainParams { rounds, ..params.clone() }));
        }
    }
    // The best AUC within the scoring budget (the first tried among equals).
    let within = |p: &TrainParams| grid.max_levels == 0 || p.rounds * p.max_depth <= grid.max_levels;
    let (_, chosen) = tried
        .into_iter()
        .filter(|(_, p)| within(p))
        .reduce(|kept, next| if next.0 > kept.0 { next } else { kept })
        .ok_or_else(|| {
            RiskError::Training(format!("no grid point fits the budget of {} tree levels", grid.max_levels))
        })?;
    Ok((chosen, points))
}

impl RiskModel {
    fn new(meta: ModelMeta, booster: BoostedModel) -> Result<Self, RiskError> {
        let current = features::names();
        if meta.features.len() != current.len() || meta.features.iter().zip(&current).any(|(a, b)| a != b) {
            let missing: Vec<&str> =
                current.iter().filter(|c| !meta.features.iter().any(|f| f == *c)).copied().collect();
            return Err(RiskError::Model(format!(
                "the model was trained on feature set {} ({} features) but this release computes {} ({} features){}",
                meta.feature_set,
                meta.features.len(),
                features::feature_set_id(),
                current.len(),
                if missing.is_empty() { String::new() } else { format!("; the model lacks: {}", missing.join(", ")) }
            )));
        }
        if booster.n_features() != N_FEATURES || booster.n_outputs() != 1 {
            return Err(RiskError::Model(format!(
                "the booster reads {} features with {} outputs; expected {N_FEATURES} and 1",
                booster.n_features(),
                booster.n_outputs()
            )));
        }
        let book = CodeBook::from_meta(&meta.categories)?;
        let trees = booster.trees().iter().map(path_nodes).collect::<Result<Vec<_>, _>>()?;
        // The intercept is whatever the booster adds beyond its leaves: measure it on a row
        // of missing values rather than depend on how the format stores it.
        let probe = [f32::NAN; N_FEATURES];
        let margin = booster.predict_margin_row(&probe, Iterations::Best).map_err(model_err)?;
        let forest = Forest::new(&trees, &book)?;
        let leaves = forest.margin(&probe, None);
        Ok(RiskModel { meta, booster, book, forest, base_margin: margin - leaves })
    }

    /// The model's metadata.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// Records metrics measured on validation data (written with the model).
    pub fn set_validation(&mut self, metrics: Metrics) {
        self.meta.validation = Some(metrics);
    }

    /// The version every score names.
    pub fn version(&self) -> &str {
        &self.meta.version
    }

    /// The underlying booster (for export and benchmarks).
    pub fn booster(&self) -> &BoostedModel {
        &self.booster
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.forest.roots.len()
    }

    /// Writes the model file.
    pub fn write<W: Write>(&self, mut w: W) -> Result<(), RiskError> {
        let header = serde_json::to_string(&self.meta).map_err(model_err)?;
        w.write_all(header.as_bytes())?;
        w.write_all(b"\n")?;
        w.write_all(&self.booster.encode(ModelFormat::Binary).map_err(model_err)?)?;
        w.flush()?;
        Ok(())
    }

    /// Reads a model file, refusing one written for another feature set.
    pub fn read<R: Read>(r: R) -> Result<Self, RiskError> {
        let mut r = std::io::BufReader::new(r);
        let mut header = Vec::new();
        // The header is one JSON line; bound it so that a wrong file is not read whole.
        (&mut r).take(1 << 20).read_until(b'\n', &mut header)?;
        let meta: ModelMeta = serde_json::from_slice(&header)
            .map_err(|e| RiskError::Model(format!("not a Borderlink risk model (header: {e})")))?;
        if meta.format != FORMAT {
            return Err(RiskError::Model(format!("not a Borderlink risk model (format {:?})", meta.format)));
        }
        if meta.format_version != FORMAT_VERSION {
            return Err(RiskError::Model(format!(
                "model file format {} is not supported (this release reads {FORMAT_VERSION})",
                meta.format_version
            )));
        }
        let mut body = Vec::new();
        r.read_to_end(&mut body)?;
        let booster = BoostedModel::decode(&body, ModelFormat::Binary).map_err(model_err)?;
        RiskModel::new(meta, booster)
    }

    /// The booster as an XGBoost JSON model (for XGBoost and other tools).
    pub fn xgboost_json(&self) -> Result<Vec<u8>, RiskError> {
        self.booster.encode(ModelFormat::XgboostJson).map_err(model_err)
    }

    /// How the model reads codes: its categorical features and their codes.
    pub fn code_book(&self) -> &CodeBook {
        &self.book
    }

    /// Fraud probabilities of many rows (row-major, [`N_FEATURES`] per row).
    pub fn predict_batch(&self, rows: &[f32]) -> Result<Vec<f32>, RiskError> {
        if self.book.is_empty() {
            return Ok(self.booster.predict_rows(rows, Iterations::Best).map_err(model_err)?.as_slice().to_vec());
        }
        // hessboost's batch predictor is fast for numeric splits but walks categorical ones
        // node by node (about 30 times slower here); the forest scores them instead, the rows
        // split across the available cores.
        if !rows.len().is_multiple_of(N_FEATURES) {
            return Err(RiskError::Model(format!("{} values are not rows of {N_FEATURES} features", rows.len())));
        }
        let n = rows.len() / N_FEATURES;
        let mut out = vec![0f32; n];
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 64);
        let per = n.div_ceil(threads).max(1);
        std::thread::scope(|s| {
            for (rows, out) in rows.chunks(per * N_FEATURES).zip(out.chunks_mut(per)) {
                s.spawn(move || {
                    self.forest.margins(rows, &|r| self.prepare(r), out);
                    for m in out.iter_mut() {
                        *m = sigmoid(self.base_margin + *m);
                    }
                });
            }
        });
        Ok(out)
    }

    /// The fraud probability of one row, from the booster's own prediction.
    pub fn probability(&self, row: &FeatureVector) -> Result<f32, RiskError> {
        let safe = self.prepare(row);
        self.booster.predict_row(&safe, Iterations::Best).map_err(model_err)
    }

    /// A row as the trees read it: infinities missing, codes as categories.
    fn prepare(&self, row: &FeatureVector) -> FeatureVector {
        let mut out = sanitize(row);
        self.book.encode(&mut out);
        out
    }

    /// The probability and the per-feature log-odds contributions of one row: each split on
    /// the row's path moves the expected value from the parent's to the child's, and that
    /// move is credited to the split's feature (the tree-path attribution of Saabas, which
    /// TreeSHAP refines; it costs one walk per tree).
    pub fn predict(&self, row: &FeatureVector) -> Prediction {
        let mut contributions = [0f32; N_FEATURES];
        let probability = self.predict_into(row, &mut contributions);
        Prediction { probability, contributions: contributions.to_vec() }
    }

    /// [`Self::predict`] without allocating: the probability, with each feature's contribution
    /// added to `contributions`.
    pub fn predict_into(&self, row: &FeatureVector, contributions: &mut [f32; N_FEATURES]) -> f32 {
        let safe = self.prepare(row);
        sigmoid(self.base_margin + self.forest.margin(&safe, Some(contributions)))
    }

    /// The fraud probability of one row from the same walk as [`Self::predict`], without the
    /// contributions.
    pub fn probability_fast(&self, row: &FeatureVector) -> f32 {
        let safe = self.prepare(row);
        sigmoid(self.base_margin + self.forest.margin(&safe, None))
    }
}

fn sigmoid(m: f32) -> f32 {
    1.0 / (1.0 + (-m).exp())
}

/// A node of the flattened forest: 16 bytes, children adjacent (`right = left + 1`), each
/// tree breadth-first so that the top levels of a tree share cache lines.
#[derive(Debug, Clone, Copy)]
struct FlatNode {
    /// The split's threshold (NaN for a categorical split and for a leaf: nothing is below it).
    threshold: f32,
    /// Bits 0–6: where the walk reads the split's value: the feature index, plus [`PAD`] when
    /// a missing value goes left (see [`Forest::margin`]); above them ([`ID_SHIFT`]): a
    /// categorical split's bit in a row's bits ([`Forest::fill_bits`]), 0 for a numeric split or
    /// a leaf.
    bits: u32,
    left: u32,
    /// Leaf value, or the expected value below an internal node.
    value: f32,
}

/// Where a categorical split's number starts in [`FlatNode::bits`].
const ID_SHIFT: u32 = 7;
/// Words of a row's bits ([`Forest::fill_bits`]): at most 32,736 categorical splits (word 0
/// is never a split's).
const ROW_WORDS: usize = 1024;
/// The slot a leaf reads: past every feature, so never a categorical one.
const LEAF_SLOT: u32 = PAD as u32 - 1;

/// Width of the padded row (a power of two, at least [`N_FEATURES`]); the walk reads a row
/// twice as wide (see [`Forest::margin`]).
const PAD: usize = 64;
/// Width of the row the walk reads: the row with missing values as −∞, then as +∞.
const SLOTS: usize = 2 * PAD;

/// Every tree of a model in one array, walked for single-row scores and explanations.
#[derive(Debug, Clone, Default)]
struct Forest {
    nodes: Vec<FlatNode>,
    roots: Vec<u32>,
    /// The longest root-to-leaf path, in splits.
    depth: usize,
    /// The longest root-to-leaf path of each group of [`LANES`] trees walked side by side: a
    /// group stops there instead of stepping its leaves in place down to [`Self::depth`].
    group_depth: Vec<usize>,
    /// The roots of each group and how many of its lanes are trees.
    groups: Vec<([u32; LANES], usize)>,
    /// The sets of the categorical splits, transposed: for each categorical feature, one row
    /// of bits per category — bit `i` of a category's row is set when the feature's `i`-th
    /// categorical split sends that category left — and a first row for a missing or unknown
    /// code (set where the split sends missing values left). A row scored copies its own
    /// category's row of each feature into its bits ([`Self::fill_bits`]): a few contiguous
    /// cache lines, and then each categorical split is one bit test.
    table: Vec<u32>,
    /// Each categorical feature with splits: its column, its number of categories, where its
    /// rows start in [`Self::table`], how many words a row has and where it goes in a row's
    /// bits.
    layout: Vec<(usize, usize, usize, usize, usize)>,
}

impl Forest {
    /// Flattens checked trees (see [`path_nodes`]: in bounds, acyclic) whose categorical
    /// splits read the categories of `book`.
    fn new(trees: &[PathTree], book: &CodeBook) -> Result<Self, RiskError> {
        if N_FEATURES >= PAD || trees.iter().flat_map(|t| &t.nodes).any(|n| !n.leaf && n.feature as usize >= N_FEATURES)
        {
            return Err(RiskError::Model("a split reads a feature outside the feature set".into()));
        }
        let empty = FlatNode { threshold: 0.0, bits: LEAF_SLOT, left: 0, value: 0.0 };
        let mut f = Forest::default();
        // Each categorical feature's splits get consecutive bits of a row's bits,
        // from a word of their own; word 0 is left 0 for the numeric splits and leaves.
        let mut counts = [0u32; PAD];
        for n in trees.iter().flat_map(|t| &t.nodes).filter(|n| n.categorical && !n.leaf) {
            counts[n.feature as usize] += 1;
        }
        let mut first = [0u32; PAD];
        let mut words_used = 1;
        for j in book.columns().filter(|j| counts[*j] > 0) {
            first[j] = u32::try_from(words_used * 32).map_err(model_err)?;
            words_used += (counts[j] as usize).div_ceil(32);
        }
        if words_used > ROW_WORDS {
            return Err(RiskError::Model(format!(
                "the model has {} categorical splits; at most {} can be scored",
                counts.iter().sum::<u32>(),
                (ROW_WORDS - 1) * 32
            )));
        }
        // Each categorical split's feature, number among the feature's, missing direction, set.
        let mut numbered = [0u32; PAD];
        let mut sets: Vec<(usize, u32, bool, &[u32])> = Vec::new();
        let mut tree_depth = Vec::with_capacity(trees.len());
        for path_tree in trees {
            let tree = &path_tree.nodes;
            let root = f.nodes.len();
            f.roots.push(u32::try_from(root).map_err(model_err)?);
            f.nodes.push(empty);
            let mut deepest = 0;
            // Breadth-first: each internal node's children are appended side by side.
            let mut queue = std::collections::VecDeque::from([(0usize, root, 0usize)]);
            while let Some((src, dst, depth)) = queue.pop_front() {
                deepest = deepest.max(depth);
                let n = tree.get(src).ok_or_else(|| RiskError::Model("a tree node points outside its tree".into()))?;
                if f.nodes.len() > root + 2 * tree.len() + 1 {
                    return Err(RiskError::Model("a tree is not a tree".into()));
                }
                f.nodes[dst] = if n.leaf {
                    // A leaf is its own right child (NaN threshold, missing goes right), so a
                    // walk that reached it stays there without a branch.
                    let me = u32::try_from(dst).map_err(model_err)?;
                    FlatNode { threshold: f32::NAN, bits: LEAF_SLOT, left: me.wrapping_sub(1), value: n.value }
                } else {
                    let name = features::FEATURES[n.feature as usize].name;
                    // How the split reads its feature: a threshold (missing values in the
                    // copy of the row its default direction needs), or its bit of the row's
                    // categories (missing values in the set's first row).
                    let (threshold, bits) = match (n.categorical, book.len_of(n.feature as usize)) {
                        (false, None) => (n.threshold, n.feature + if n.default_left { PAD as u32 } else { 0 }),
                        (false, Some(_)) => {
                            // Its value is a category, not a number: no threshold means anything.
                            return Err(RiskError::Model(format!(
                                "a split reads {name} as a number, but the model holds it as categories"
                            )));
                        }
                        (true, None) => {
                            return Err(RiskError::Model(format!(
                                "a split reads {name} as categories, but the model holds no codes for it"
                            )));
                        }
                        (true, Some(count)) => {
                            let set = &path_tree.categories[n.cats.0 as usize..n.cats.1 as usize];
                            if let Some(c) = set.iter().find(|c| **c as usize >= count) {
                                return Err(RiskError::Model(format!(
                                    "a split of {name} names category {c} of {count}"
                                )));
                            }
                            let id = numbered[n.feature as usize];
                            numbered[n.feature as usize] += 1;
                            sets.push((n.feature as usize, id, n.default_left, set));
                            (f32::NAN, n.feature | ((first[n.feature as usize] + id) << ID_SHIFT))
                        }
                    };
                    let left = f.nodes.len();
                    f.nodes.push(empty);
                    f.nodes.push(empty);
                    queue.push_back((n.left as usize, left, depth + 1));
                    queue.push_back((n.right as usize, left + 1, depth + 1));
                    FlatNode { threshold, bits, left: u32::try_from(left).map_err(model_err)?, value: n.value }
                };
            }
            tree_depth.push(deepest);
        }
        f.depth = tree_depth.iter().copied().max().unwrap_or(0);
        f.group_depth = tree_depth.chunks(LANES).map(|g| g.iter().copied().max().unwrap_or(0)).collect();
        // A last, partial group is filled with one extra leaf of value 0 that the walk never
        // adds: every group is then a fixed-size array the compiler unrolls.
        let idle = u32::try_from(f.nodes.len()).map_err(model_err)?;
        f.nodes.push(FlatNode { threshold: f32::NAN, bits: LEAF_SLOT, left: idle.wrapping_sub(1), value: 0.0 });
        f.groups = f
            .roots
            .chunks(LANES)
            .map(|g| {
                let mut lanes = [idle; LANES];
                lanes[..g.len()].copy_from_slice(g);
                (lanes, g.len())
            })
            .collect();
        // The node array's length is a power of two, so that an index masked with `len - 1`
        // is always in bounds (the walk needs no bounds check); the padding is never reached.
        let len = f.nodes.len().next_power_of_two();
        f.nodes.resize(len, empty);
        // The transposed sets: each feature's rows (missing, then its categories).
        for j in book.columns() {
            let (Some(categories), splits) = (book.len_of(j), counts[j] as usize) else { continue };
            if splits == 0 {
                continue;
            }
            let words = splits.div_ceil(32);
            f.layout.push((j, categories, f.table.len(), words, first[j] as usize / 32));
            f.table.resize(f.table.len() + (categories + 1) * words, 0);
        }
        for (j, id, default_left, set) in sets {
            let Some(&(_, _, base, words, _)) = f.layout.iter().find(|l| l.0 == j) else { continue };
            let rows = std::iter::once(0).filter(|_| default_left).chain(set.iter().map(|c| *c as usize + 1));
            for row in rows {
                f.table[base + row * words + id as usize / 32] |= 1 << (id % 32);
            }
        }
        Ok(f)
    }

    /// Sum of the leaf values `row` reaches; with `contributions`, each split's change of
    /// expected value is credited to the split's feature.
    ///
    /// Trees are walked [`LANES`] at a time, one level per step: the walks are independent, so
    /// their node loads overlap instead of waiting for each other (a single walk is one
    /// dependent load per level). Measured on the KCS model: 23.5 µs → see docs/benchmarks.md.
    /// The leaves are summed in tree order, whatever the grouping, so the margin does not
    /// depend on how the walk is organised (a unit test compares it with one tree at a time).
    fn margin(&self, row: &FeatureVector, contributions: Option<&mut [f32; N_FEATURES]>) -> f32 {
        let slots = slots(row);
        if self.layout.is_empty() {
            return self.margin_with(&slots, &NO_BITS, contributions);
        }
        // The row's bits of the categorical splits, in a buffer of this thread's: zeroed once,
        // and each row overwrites the words its forest uses (word 0 stays 0).
        thread_local! {
            static BITS: std::cell::RefCell<Box<[u32; ROW_WORDS]>> =
                std::cell::RefCell::new(Box::new([0; ROW_WORDS]));
        }
        BITS.with_borrow_mut(|bits| {
            self.fill_bits(row, bits);
            self.margin_with(&slots, bits, contributions)
        })
    }

    fn margin_with(
        &self,
        slots: &[f32; SLOTS],
        bits: &[u32; ROW_WORDS],
        contributions: Option<&mut [f32; N_FEATURES]>,
    ) -> f32 {
        let all = 0..self.groups.len();
        let mut sum = 0.0;
        match contributions {
            None => self.walk_row::<false>(all, slots, bits, &mut [[0.0; PAD]; ROWS], &mut sum),
            Some(out) => {
                // One row of contributions per lane: lanes that split on the same feature do
                // not wait for each other's read-modify-write of one shared cell.
                let mut local = [[0f32; PAD]; ROWS];
                self.walk_row::<true>(all, slots, bits, &mut local, &mut sum);
                for (j, o) in out.iter_mut().enumerate() {
                    *o += local.iter().map(|l| l[j]).sum::<f32>();
                }
            }
        }
        sum
    }

    /// The margins of many rows (row-major, each made ready by `prepare`: codes as categories),
    /// the same to the bit as [`Self::margin`] of each. Rows go in blocks: each group of trees
    /// is walked for every row of a block before the next group, so its nodes are read from
    /// cache by all but the first row.
    fn margins(&self, rows: &[f32], prepare: &dyn Fn(&FeatureVector) -> FeatureVector, out: &mut [f32]) {
        const BLOCK: usize = 16;
        let cat = !self.layout.is_empty();
        let mut slots = vec![[0f32; SLOTS]; BLOCK];
        let mut bits = vec![[0u32; ROW_WORDS]; if cat { BLOCK } else { 0 }];
        for (rows, out) in rows.chunks(BLOCK * N_FEATURES).zip(out.chunks_mut(BLOCK)) {
            for (i, row) in rows.chunks_exact(N_FEATURES).enumerate() {
                let row = prepare(&row.try_into().unwrap_or([f32::NAN; N_FEATURES]));
                slots[i] = self::slots(&row);
                if cat {
                    self.fill_bits(&row, &mut bits[i]);
                }
            }
            out.fill(0.0);
            let none = &mut [[0.0; PAD]; ROWS];
            for g in 0..self.groups.len() {
                for (i, sum) in out.iter_mut().enumerate() {
                    self.walk_row::<false>(g..g + 1, &slots[i], bits.get(i).unwrap_or(&NO_BITS), none, sum);
                }
            }
        }
    }

    /// Writes the row's bit of every categorical split into the words of `bits` the forest
    /// uses: each categorical feature's row of the table for this row's category (the first
    /// row when the code is missing or not a category of the book). Every word the forest
    /// reads is written: `bits` is reused from row to row without zeroing.
    fn fill_bits(&self, row: &FeatureVector, bits: &mut [u32; ROW_WORDS]) {
        for &(j, categories, base, words, at) in &self.layout {
            let v = row[j];
            let r = if v >= 0.0 && (v as usize) < categories { v as usize + 1 } else { 0 };
            let start = base + r * words;
            if let (Some(from), Some(to)) = (self.table.get(start..start + words), bits.get_mut(at..at + words)) {
                to.copy_from_slice(from);
            }
        }
    }

    /// [`Self::walk`], with the categorical bit tests when the forest has categorical splits.
    fn walk_row<const EXPLAIN: bool>(
        &self,
        groups: std::ops::Range<usize>,
        slots: &[f32; SLOTS],
        bits: &[u32; ROW_WORDS],
        local: &mut [[f32; PAD]; ROWS],
        sum: &mut f32,
    ) {
        if self.layout.is_empty() {
            self.walk::<EXPLAIN, false>(groups, slots, bits, local, sum);
        } else {
            self.walk::<EXPLAIN, true>(groups, slots, bits, local, sum);
        }
    }

    /// Walks the groups of trees `groups` for one row, adding each tree's leaf to `sum` in
    /// tree order.
    fn walk<const EXPLAIN: bool, const CAT: bool>(
        &self,
        groups: std::ops::Range<usize>,
        slots: &[f32; SLOTS],
        row_bits: &[u32; ROW_WORDS],
        local: &mut [[f32; PAD]; ROWS],
        sum: &mut f32,
    ) {
        let nodes = &self.nodes[..];
        // A power of two (see `new`): `i & mask` is in bounds.
        let mask = nodes.len().wrapping_sub(1);
        let groups = self
            .groups
            .get(groups.clone())
            .unwrap_or_default()
            .iter()
            .zip(self.group_depth.get(groups).unwrap_or_default());
        for ((roots, trees), &depth) in groups {
            let mut at = roots.map(|r| r as usize & mask);
            let mut step = |lane: usize| {
                let n = nodes[at[lane] & mask];
                let slot = (n.bits as usize) & (SLOTS - 1);
                // A leaf has a NaN threshold: it is its own right child.
                let mut left = slots[slot] < n.threshold;
                if CAT {
                    // A categorical split (NaN threshold) goes left when its bit is set; a
                    // numeric split or a leaf reads bit 0, which is 0. No branch: a mispredicted
                    // one costs more than this bit test at every step.
                    let id = n.bits >> ID_SHIFT;
                    left |= row_bits[(id / 32) as usize & (ROW_WORDS - 1)].wrapping_shr(id) & 1 != 0;
                }
                let child = n.left.wrapping_add(u32::from(!left)) as usize & mask;
                if EXPLAIN {
                    // Both copies of a feature's slot credit the feature.
                    local[lane][slot & (PAD - 1)] += nodes[child].value - n.value;
                }
                at[lane] = child;
            };
            for _ in 0..depth {
                // Four lanes per iteration, written out: less loop overhead per step.
                for quad in (0..LANES).step_by(4) {
                    step(quad);
                    step(quad + 1);
                    step(quad + 2);
                    step(quad + 3);
                }
            }
            for a in &at[..*trees] {
                *sum += nodes[*a & mask].value;
            }
        }
    }
}

/// The bits of a forest without categorical splits: never read but for word 0.
static NO_BITS: [u32; ROW_WORDS] = [0; ROW_WORDS];

/// The row twice, indexed with a mask (no bounds check in the inner loop; features are checked
/// below PAD when the forest is built): first with missing values as +∞, which are above every
/// threshold and go right, then as −∞, which go left. A split whose missing values go left
/// reads the second copy, the others the first, so the walk needs one comparison and no test
/// for NaN. Rows hold no infinities (`sanitize`).
fn slots(row: &FeatureVector) -> [f32; SLOTS] {
    let mut slots = [f32::NAN; SLOTS];
    for (j, v) in row.iter().enumerate() {
        slots[j] = if v.is_nan() { f32::INFINITY } else { *v };
        slots[PAD + j] = if v.is_nan() { f32::NEG_INFINITY } else { *v };
    }
    slots
}

/// Trees walked side by side by [`Forest::margin`].
const LANES: usize = 16;
/// Rows of contributions: one per lane.
const ROWS: usize = LANES;

/// Infinite values are not features: they become missing.
fn sanitize(row: &FeatureVector) -> FeatureVector {
    let mut out = *row;
    for v in &mut out {
        if v.is_infinite() {
            *v = f32::NAN;
        }
    }
    out
}

fn path_nodes(tree: &hessboost::tree::RegTree) -> Result<PathTree, RiskError> {
    let nodes = tree.nodes();
    if tree.is_vector_leaf() || tree.linear_leaves().is_some() {
        return Err(RiskError::Model("the model uses vector or linear leaves".into()));
    }
    let mut categories = Vec::new();
    let mut out: Vec<PathNode> = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        let categorical = n.is_categorical && !n.is_leaf();
        let begin = categories.len();
        if categorical {
            let mut set = tree.split_categories(i).to_vec();
            set.sort_unstable();
            categories.extend(set);
        }
        let cats = (u32::try_from(begin).map_err(model_err)?, u32::try_from(categories.len()).map_err(model_err)?);
        out.push(PathNode {
            feature: n.split_feature,
            threshold: n.split_cond,
            default_left: n.default_left,
            left: n.left.max(0) as u32,
            right: n.right.max(0) as u32,
            value: n.leaf_value,
            leaf: n.is_leaf(),
            categorical,
            cats,
        });
    }
    for n in out.iter().filter(|n| !n.leaf) {
        if n.left as usize >= nodes.len() || n.right as usize >= nodes.len() || n.feature as usize >= N_FEATURES {
            return Err(RiskError::Model("a tree node points outside its tree or feature set".into()));
        }
    }
    // Children come after their parent in hessboost's layout only by convention; compute the
    // means bottom-up by an explicit post-order instead of relying on it.
    let mut cover: Vec<f64> = nodes.iter().map(|n| f64::from(n.sum_hess.max(0.0))).collect();
    let mut stack = vec![(0usize, false)];
    let mut guard = 0usize;
    while let Some((i, expanded)) = stack.pop() {
        guard += 1;
        if guard > 4 * nodes.len() + 4 {
            return Err(RiskError::Model("a tree is not a tree (cycle)".into()));
        }
        let n = out[i];
        if n.leaf {
            continue;
        }
        if expanded {
            let (l, r) = (n.left as usize, n.right as usize);
            let (cl, cr) = (cover[l], cover[r]);
            let total = cl + cr;
            out[i].value = if total > 0.0 {
                ((f64::from(out[l].value) * cl + f64::from(out[r].value) * cr) / total) as f32
            } else {
                (out[l].value + out[r].value) / 2.0
            };
            cover[i] = total;
        } else {
            stack.push((i, true));
            stack.push((n.left as usize, false));
            stack.push((n.right as usize, false));
        }
    }
    Ok(PathTree { nodes: out, categories })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One tree at a time, each from its root, with the tree-path attribution computed the
    /// plain way: the reference the flattened walk must agree with.
    fn reference(trees: &[PathTree], row: &FeatureVector) -> (f32, Vec<f32>) {
        let mut sum = 0f32;
        let mut contributions = vec![0f32; N_FEATURES];
        for tree in trees {
            let t = &tree.nodes;
            let mut i = 0;
            loop {
                let n = t[i];
                if n.leaf {
                    sum += n.value;
                    break;
                }
                let left = tree.goes_left(&n, row[n.feature as usize]);
                let next = (if left { n.left } else { n.right }) as usize;
                contributions[n.feature as usize] += t[next].value - n.value;
                i = next;
            }
        }
        (sum, contributions)
    }

    fn rows(n: usize, seed: u64) -> Vec<FeatureVector> {
        let mut x = seed;
        let mut next = move || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (x >> 40) as f32 / (1u64 << 24) as f32
        };
        (0..n)
            .map(|_| {
                let mut r = [0f32; N_FEATURES];
                for v in &mut r {
                    let u = next();
                    // Some missing values, so that default directions are exercised.
                    *v = if u < 0.1 { f32::NAN } else { u };
                }
                r
            })
            .collect()
    }

    /// The walk against one tree at a time, and against the booster's own prediction.
    fn check_walk(m: &RiskModel, rows: &[FeatureVector]) {
        let trees: Vec<PathTree> = m.booster.trees().iter().map(|t| path_nodes(t).unwrap()).collect();
        for row in rows {
            let coded = m.prepare(row);
            let (want, want_c) = reference(&trees, &coded);
            let mut c = [0f32; N_FEATURES];
            assert_eq!(m.forest.margin(&coded, None).to_bits(), want.to_bits());
            assert_eq!(m.forest.margin(&coded, Some(&mut c)).to_bits(), want.to_bits());
            for (a, b) in c.iter().zip(&want_c) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
            let fast = m.probability_fast(row);
            assert_eq!(m.predict_into(row, &mut [0f32; N_FEATURES]).to_bits(), fast.to_bits());
            let booster = m.probability(row).unwrap();
            assert!((fast - booster).abs() < 1e-5, "walk {fast} vs booster {booster}");
        }
    }

    #[test]
    fn the_flattened_walk_gives_the_margin_of_one_tree_at_a_time_to_the_bit() {
        let x = rows(600, 1);
        let outcomes: Vec<Outcome> = x
            .iter()
            .map(|r| Outcome { fraud: r[3].is_nan() || r[3] + r[7] > 1.1, critical: false, revenue: 0.0 })
            .collect();
        // 37 trees: two full groups of 16 and a partial one, of uneven depths.
        let params = TrainParams { max_depth: 6, rounds: 37, bag: 1, categorical: false, ..TrainParams::default() };
        let m = train("t", &x, &outcomes, &[], &params, None, |_, _| {}).unwrap();
        assert_eq!(m.num_trees(), 37);
        check_walk(&m, &rows(300, 2));
    }

    #[test]
    fn categorical_splits_send_a_code_left_by_set_and_an_unknown_code_the_missing_way() {
        let origin = features::FEATURES.iter().position(|f| f.name == "origin").unwrap();
        let office = features::FEATURES.iter().position(|f| f.name == "office").unwrap();
        // Origins whose codes say nothing in order: every third one is risky.
        let code = |r: &FeatureVector, j: usize, salt: f32| {
            if r[j].is_nan() { f32::NAN } else { 100.0 + 7.0 * ((r[j] * 40.0 + salt) as u32 % 40) as f32 }
        };
        let with_codes = |rows: Vec<FeatureVector>| -> Vec<FeatureVector> {
            rows.into_iter()
                .map(|mut r| {
                    r[origin] = code(&r, origin, 0.0);
                    r[office] = code(&r, office, 3.0);
                    r
                })
                .collect()
        };
        let x = with_codes(rows(1500, 3));
        let risky = |v: f32| v.is_finite() && (((v - 100.0) / 7.0) as u32).is_multiple_of(3);
        let outcomes: Vec<Outcome> = x
            .iter()
            .map(|r| Outcome { fraud: risky(r[origin]) || r[3] > 0.95, critical: false, revenue: 0.0 })
            .collect();
        let params = TrainParams { max_depth: 5, rounds: 37, bag: 1, ..TrainParams::default() };
        let m = train("t", &x, &outcomes, &[], &params, None, |_, _| {}).unwrap();
        assert!(m.booster.trees().iter().any(|t| t.has_categorical_splits()), "the trees split origins by sets");
        let mut seen: Vec<u32> = x.iter().filter(|r| r[origin].is_finite()).map(|r| r[origin] as u32).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(m.code_book().len_of(origin), Some(seen.len()));
        let mut check = with_codes(rows(300, 4));
        // Codes never seen in training: read as missing, by the walk and the booster alike.
        for r in check.iter_mut().take(30) {
            r[origin] = 99_999.0;
        }
        check_walk(&m, &check);
        // The batch scores every row as the one-row walk does, to the bit.
        let flat: Vec<f32> = check.iter().flatten().copied().collect();
        let batch = m.predict_batch(&flat).unwrap();
        for (row, p) in check.iter().zip(&batch) {
            assert_eq!(p.to_bits(), m.probability_fast(row).to_bits());
        }
        assert!(m.predict_batch(&flat[1..]).is_err(), "a partial row is refused");
        // A category beyond the book (a row not coded by it) is read as missing, never as
        // another feature's bits or the previous row's.
        let mut far = m.prepare(&check[40]);
        let mut missing = far;
        far[origin] = 1e6;
        missing[origin] = f32::NAN;
        assert_eq!(m.forest.margin(&far, None).to_bits(), m.forest.margin(&missing, None).to_bits());
        // A risky origin scores above a clean one, all else equal, and the origin is the
        // feature its explanation names first.
        let mut a = x[0];
        a[origin] = 142.0;
        a[3] = 0.1;
        let mut b = a;
        b[origin] = 149.0;
        let (pa, pb) = (m.predict(&a), m.predict(&b));
        assert!(pa.probability > pb.probability + 0.2, "{} vs {}", pa.probability, pb.probability);
        let top = |p: &Prediction| {
            (0..N_FEATURES).max_by(|&i, &j| p.contributions[i].abs().total_cmp(&p.contributions[j].abs())).unwrap()
        };
        assert_eq!(top(&pa), origin);
        // The file keeps the codes: read back, it scores the same.
        let mut file = Vec::new();
        m.write(&mut file).unwrap();
        let back = RiskModel::read(file.as_slice()).unwrap();
        assert_eq!(back.probability_fast(&a).to_bits(), pa.probability.to_bits());
        // Trees that read a code as categories with no codes in the file are refused.
        let mut meta = m.meta().clone();
        meta.categories.clear();
        let err = RiskModel::new(meta, m.booster.clone()).unwrap_err().to_string();
        assert!(err.contains("holds no codes"), "{err}");
    }
}
