//! `borderlink risk train`: a model trained on labelled declarations, its parameters given or
//! chosen on the last days of the training data (`--tune`), reported on validation data before
//! anyone activates it.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use borderlink_risk::item::{Day, format_day};
use borderlink_risk::model::{self, Grid, TrainParams};
use borderlink_risk::{drift, eval};

use super::data::{DataArgs, Labelled, replay};
use crate::progress;

/// Options of `borderlink risk train`.
#[derive(clap::Args)]
pub(super) struct TrainArgs {
    /// Training CSV (labelled).
    #[arg(long)]
    data: PathBuf,
    /// Validation CSV (later than the training data): metrics and drift are reported on it.
    #[arg(long)]
    valid: Option<PathBuf>,
    #[command(flatten)]
    src: DataArgs,
    /// Where to write the model.
    #[arg(long)]
    out: PathBuf,
    /// Model name (the version is `name@hash`).
    #[arg(long, default_value = "risk")]
    name: String,
    #[command(flatten)]
    tuning: TuneArgs,
    /// Scoring budget of the chosen model: at most this many tree levels (rounds × depth;
    /// each is walked for every item scored). 0: no limit. Default: 2,400, or 1,200 when
    /// codes are split by sets (`--categorical true`, whose levels cost more to walk).
    #[arg(long, value_name = "LEVELS")]
    tune_max_levels: Option<usize>,
    /// Tree depth.
    #[arg(long, default_value_t = TrainParams::default().max_depth)]
    depth: usize,
    /// Trees in the model (the bag's members share them).
    #[arg(long, default_value_t = TrainParams::default().rounds)]
    rounds: usize,
    /// Learning rate.
    #[arg(long, default_value_t = TrainParams::default().eta)]
    eta: f64,
    /// Members of the bagged ensemble.
    #[arg(long, default_value_t = TrainParams::default().bag)]
    bag: usize,
    /// Row subsample per tree.
    #[arg(long, default_value_t = TrainParams::default().subsample)]
    subsample: f64,
    /// Column subsample per tree.
    #[arg(long, default_value_t = TrainParams::default().colsample)]
    colsample: f64,
    /// How split thresholds are searched: `exact` (every distinct value) or `hist` (bins)
    #[arg(long, default_value_t = TrainParams::default().split_search)]
    split_search: borderlink_risk::model::SplitSearch,
    /// Histogram bins per feature with `--split-search hist`
    #[arg(long, default_value_t = TrainParams::default().max_bin)]
    max_bin: usize,
    /// Extra weight of a fraud per decade of duty at stake.
    #[arg(long, default_value_t = TrainParams::default().revenue_weight)]
    revenue_weight: f64,
    /// Half-life in days of a training item's weight (0: all days weigh the same).
    #[arg(long, default_value_t = TrainParams::default().recency_half_life_days)]
    recency_half_life: f64,
    /// Monotone constraints from customs knowledge: risk never falls as a party's past
    /// fraud rate rises, never rises for an AEO (`--monotone false` to train without).
    #[arg(long, default_value_t = TrainParams::default().monotone, action = clap::ArgAction::Set)]
    monotone: bool,
    /// Split code features (HS codes, countries, office, procedure, …) by sets of codes
    /// (`--categorical false`: by thresholds on their numbers, as before)
    #[arg(long, default_value_t = TrainParams::default().categorical, action = clap::ArgAction::Set)]
    categorical: bool,
    /// Minimum hessian (weight of evidence) in a tree's child.
    #[arg(long, default_value_t = TrainParams::default().min_child_weight)]
    min_child_weight: f64,
    /// Write the tuning grid's points as JSON here.
    #[arg(long)]
    grid_out: Option<PathBuf>,
}

/// How `train` and `retrain` may choose their parameters.
#[derive(clap::Args)]
pub(super) struct TuneArgs {
    /// Choose depth, learning rate and rounds on the last `--tune-days` of the training data
    /// (never on validation or held-out data).
    #[arg(long)]
    pub(super) tune: bool,
    /// Days at the end of the training data used to choose the parameters with `--tune`.
    #[arg(long, default_value_t = 92)]
    pub(super) tune_days: Day,
}

impl TuneArgs {
    /// The first day of the last `--tune-days` up to `last` (parameters are chosen on the items
    /// from it on, fitted on those before it), and the items on either side.
    pub(super) fn split(&self, items: &Labelled, last: Day) -> (Day, Labelled, Labelled) {
        let cut = last - self.tune_days + 1;
        let (fit, check) = items.split_at(cut);
        (cut, fit, check)
    }
}

impl TrainArgs {
    /// The parameters given on the command line (`--tune` may choose others).
    fn params(&self) -> TrainParams {
        TrainParams {
            max_depth: self.depth,
            rounds: self.rounds,
            eta: self.eta,
            bag: self.bag,
            subsample: self.subsample,
            colsample: self.colsample,
            split_search: self.split_search,
            max_bin: self.max_bin,
            revenue_weight: self.revenue_weight,
            recency_half_life_days: self.recency_half_life,
            monotone: self.monotone,
            categorical: self.categorical,
            min_child_weight: self.min_child_weight,
            ..TrainParams::default()
        }
    }
}

fn print_metrics(label: &str, m: &eval::Metrics) {
    eprintln!("{label}: {} items, {} frauds, AUC {:.4}", m.n, m.frauds, m.auc);
    for a in &m.at_k {
        eprintln!(
            "  top {:>4}% ({:>5} items): precision {:.3}  recall {:.3}  revenue {:.3}",
            a.k, a.n, a.precision, a.recall, a.revenue
        );
    }
}

pub(super) fn run(a: &TrainArgs) -> anyhow::Result<()> {
    let (data, valid, out) = (a.data.as_path(), a.valid.as_deref(), a.out.as_path());
    let mut params = a.params();
    let started = Instant::now();
    let mapping = a.src.mapping()?;
    let mut paths = vec![data];
    paths.extend(valid);
    let reading = progress::phase("reading the data and computing its features (history replayed in time order)");
    let mut sets = replay(&a.src, &mapping, &paths)?;
    reading.finish_and_clear();
    let validation = if valid.is_some() { sets.pop() } else { None };
    let (train_ex, train_x) = sets.pop().context("no training data")?;
    let train = Labelled::new(&train_ex, train_x, data)?;
    eprintln!("features: {} training items in {:.1?}", train.len(), started.elapsed());
    if a.tuning.tune {
        let last = train.last_day().context("the training data has no dates")?;
        let (cut, fit, check) = a.tuning.split(&train, last);
        eprintln!("tuning on {} items, choosing on the {} items from {}", fit.len(), check.len(), format_day(cut));
        let base = Grid::for_params(&params);
        let grid = Grid { max_levels: a.tune_max_levels.unwrap_or(base.max_levels), ..base };
        let bar = progress::counted(0, "tuning", "boosting rounds");
        let (chosen, points) = model::tune(
            &fit.x,
            &fit.outcomes,
            &fit.days(),
            &check.x,
            &check.outcomes,
            &params,
            &grid,
            |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
        )?;
        bar.finish_and_clear();
        for p in &points {
            eprintln!("  depth {:>2}  eta {:<5} rounds {:>3}  AUC {:.4}", p.depth, p.eta, p.rounds, p.auc);
        }
        eprintln!(
            "chosen: depth {}, eta {}, rounds {} (the best tuning AUC within {} tree levels)",
            chosen.max_depth, chosen.eta, chosen.rounds, grid.max_levels
        );
        if let Some(g) = &a.grid_out {
            std::fs::write(g, serde_json::to_vec_pretty(&points)?)
                .with_context(|| format!("cannot write {}", g.display()))?;
        }
        params = chosen;
    }
    let bar = progress::counted(params.rounds as u64, "training", "trees");
    let fit_started = Instant::now();
    let mut model =
        model::train(&a.name, &train.x, &train.outcomes, &train.days(), &params, train.period(), |done, total| {
            // Each bag member trains its share of the rounds: the callback knows the total.
            bar.set_length(total as u64);
            bar.set_position(done as u64)
        })?;
    bar.finish_and_clear();
    let fit_time = fit_started.elapsed();
    eprintln!(
        "model {}: {} trees of depth ≤ {}, eta {}, bag {}, monotone {} — trained in {:.1?}",
        model.version(),
        model.num_trees(),
        params.max_depth,
        params.eta,
        params.bag,
        params.monotone,
        fit_time
    );
    if let Some((ex, x)) = validation {
        let validation = Labelled::new(&ex, x, valid.unwrap_or(data))?;
        let scoring = progress::phase("scoring the validation data");
        let (_, m) = validation.evaluate(&model)?;
        scoring.finish_and_clear();
        eprintln!("report before activation:");
        print_metrics("  validation", &m);
        let d = drift::drift(&train.x, &validation.x);
        let moved: Vec<String> =
            d.iter().filter(|f| f.psi > 0.1).take(8).map(|f| format!("{} {:.2}", f.feature, f.psi)).collect();
        eprintln!(
            "  drift (PSI, training → validation): {}",
            if moved.is_empty() { "no feature above 0.1".to_owned() } else { moved.join(", ") }
        );
        model.set_validation(m);
    }
    let file = File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    model.write(BufWriter::new(file))?;
    let auc = model.meta().validation.as_ref().map(|m| format!(", validation AUC {:.4}", m.auc)).unwrap_or_default();
    println!(
        "trained {} on {} items ({} frauds){auc}; wrote {} in {:.1?}",
        model.version(),
        train.len(),
        model.meta().positives,
        out.display(),
        started.elapsed()
    );
    Ok(())
}
