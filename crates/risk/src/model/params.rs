//! How a model is trained: the training parameters ([`TrainParams`], with the defaults the
//! benchmarks chose, docs/benchmarks.md) and the grid searched when tuning them ([`Grid`]),
//! bounded by a scoring budget of tree levels per model.
//!
//! Parameters are saved in every model file: a field added here needs a `#[serde(default)]`
//! that gives the behaviour of the files written before it existed.

use serde::{Deserialize, Serialize};

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

/// The hyper-parameter grid searched by [`tune`](super::tune): every depth × learning rate is trained
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
