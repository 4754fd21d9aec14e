//! The learned fraud model: gradient-boosted trees (the `hessboost` crate, XGBoost-compatible)
//! trained on inspection outcomes, saved with the feature set it was trained on and a version
//! that every score carries.
//!
//! This file owns the [`RiskModel`] itself: how it is assembled from its metadata and booster,
//! and how it scores and explains a row. **Invariant** (enforced by `RiskModel::new`, which
//! training and reading a file both go through): a model whose feature names differ from this
//! release's [`crate::features::FEATURES`] is refused, so a score never silently reads columns
//! in another order. The rest is split by concern:
//! - [`params`]: how a model is trained ([`TrainParams`]) and the tuning grid ([`Grid`]) with
//!   its scoring budget;
//! - [`train`](mod@train): the trainer (a bag of boosted members averaged into one booster) and
//!   the grid search;
//! - [`file`]: the `.blrm` file ([`ModelMeta`] header line, then the booster);
//! - [`forest`]: the booster's trees read into checked trees with expected values, and flattened
//!   into the forest: the fast walk that scores and explains one row.

mod file;
mod forest;
mod params;
mod train;

use hessboost::prelude::*;

use crate::codes::CodeBook;
use crate::error::RiskError;
use crate::eval::Metrics;
use crate::features::{self, FeatureVector, N_FEATURES};

pub use file::{FORMAT, FORMAT_VERSION, ModelMeta};
pub use params::{Grid, GridPoint, MAX_LEVELS, MAX_LEVELS_CATEGORICAL, SplitSearch, TrainParams, max_levels};
pub use train::{member_seed, monotone_constraints, train, tune, weights};

use forest::{Forest, path_nodes};

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

fn model_err(e: impl std::fmt::Display) -> RiskError {
    RiskError::Model(e.to_string())
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
        self.forest.num_trees()
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
