//! Training: a bag of boosted members (hessboost, `binary:logistic`), each with its own seed and
//! share of the rounds, averaged into one booster; sample weights from the duty at stake and the
//! recency of an inspection; monotone constraints from customs knowledge; and the grid search
//! that chooses depth, learning rate and rounds on data later than the data fitted.
//!
//! The trainer is another crate's code: a panic in it is turned into a failed training.

use std::ops::ControlFlow;

use hessboost::prelude::*;

use super::{FORMAT, FORMAT_VERSION, Grid, GridPoint, ModelMeta, RiskModel, SplitSearch, TrainParams};
use crate::codes::CodeBook;
use crate::error::RiskError;
use crate::features::{self, FeatureVector, N_FEATURES};
use crate::history::Outcome;
use crate::item::Day;

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
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
