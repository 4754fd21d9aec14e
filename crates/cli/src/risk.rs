//! `borderlink risk …`: import, features, train, evaluate, export and benchmark the risk model;
//! export a node's inspection feedback as a training set and retrain on it (compared with the
//! active model before anyone activates the new one).
//!
//! Data files are CSV read through a column mapping (the KCS benchmark mapping is built in).
//! History features are computed by replaying the files in time order (`--history` files
//! first), with inspection outcomes known `--label-delay` days after their declaration.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use borderlink_risk::features::{self, Example, FeatureVector, N_FEATURES};
use borderlink_risk::import::{self, ImportedRow};
use borderlink_risk::item::{Day, format_day};
use borderlink_risk::mapping::Mapping;
use borderlink_risk::model::{self, Grid, TrainParams};
use borderlink_risk::{History, Outcome, Replay, RiskEngine, RiskError, RiskModel, drift, eval};
use clap::Subcommand;

use crate::node_client::{NodeClient, Transport, authorization};
use crate::{ExitCode, progress};

/// Options of `borderlink risk`.
#[derive(clap::Args)]
pub(crate) struct RiskArgs {
    #[command(subcommand)]
    command: RiskCommand,
}

/// Where data comes from: CSV files and how to read them.
#[derive(clap::Args, Clone)]
struct DataArgs {
    /// Column mapping file (`field = Column name` lines); the KCS mapping when absent.
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Earlier data replayed first, so that history features of the data start from it.
    #[arg(long, value_name = "CSV")]
    history: Vec<PathBuf>,
    /// Days after a declaration its inspection outcome is known to the history.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    label_delay: Day,
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Read a CSV into standardized declarations (JSON lines) and inspection outcomes.
    Import {
        /// The CSV file.
        #[arg(long)]
        data: PathBuf,
        /// Column mapping file; the KCS mapping when absent.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Where to write the declarations (JSON lines); standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the mapping in use and stop.
        #[arg(long)]
        show_mapping: bool,
    },
    /// Write the feature matrix of a CSV (for other tools; the peer benchmark reads it).
    Features {
        /// The CSV file.
        #[arg(long)]
        data: PathBuf,
        #[command(flatten)]
        src: DataArgs,
        /// Output CSV: day, fraud, revenue, then one column per feature (empty = missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Train a model on labelled declarations.
    Train {
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
        /// Choose depth, learning rate and rounds on the last `--tune-days` of the training
        /// data (never on the validation data).
        #[arg(long)]
        tune: bool,
        /// Days at the end of the training data used to choose the parameters.
        #[arg(long, default_value_t = 92)]
        tune_days: Day,
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
    },
    /// Evaluate a model on labelled declarations: AUC, precision, recall and revenue at k %.
    Eval {
        /// The model file.
        #[arg(long)]
        model: PathBuf,
        /// Test CSV (labelled, later than the training data).
        #[arg(long)]
        data: PathBuf,
        #[command(flatten)]
        src: DataArgs,
        /// Write each item's score here (CSV: score).
        #[arg(long)]
        scores_out: Option<PathBuf>,
        /// Print the metrics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a model's metadata (version, feature set, parameters, validation metrics) as JSON.
    Info {
        /// The model file.
        #[arg(long)]
        model: PathBuf,
    },
    /// Write a model's trees as an XGBoost JSON model (XGBoost loads it).
    Export {
        /// The model file.
        #[arg(long)]
        model: PathBuf,
        /// Output file.
        #[arg(long)]
        xgboost_json: PathBuf,
    },
    /// Export the training set a node collected from inspection results (CSV in the KCS
    /// column layout, which `risk train` and `risk retrain` read with the built-in mapping).
    ExportTraining {
        /// The node's URL, e.g. `http://127.0.0.1:8080`.
        #[arg(long, value_name = "URL")]
        node: String,
        /// Member key file that signs the request (needed when the node keeps a ledger).
        #[arg(long, value_name = "KEY")]
        key: Option<PathBuf>,
        /// Where to write the CSV.
        #[arg(long)]
        out: PathBuf,
    },
    /// Train a candidate model on labelled declarations (e.g. an exported training set) and
    /// compare it with the active model on the most recent days, before any activation: the
    /// drift report, then both models' AUC, precision and revenue at k %. Nothing is activated.
    Retrain {
        /// Labelled CSV (e.g. written by `risk export-training`).
        #[arg(long)]
        data: PathBuf,
        #[command(flatten)]
        src: DataArgs,
        /// The active model (a node keeps it in `DATA/risk/model.blrm`); the candidate is
        /// trained with its parameters unless `--tune` is given.
        #[arg(long, value_name = "MODEL")]
        active: PathBuf,
        /// Where to write the candidate model.
        #[arg(long)]
        out: PathBuf,
        /// The most recent days of the data, held out of the candidate's training: both models
        /// are compared on them.
        #[arg(long, default_value_t = 28, value_name = "DAYS")]
        holdout_days: Day,
        /// Choose depth, learning rate and rounds on the last `--tune-days` before the held-out
        /// days (instead of reusing the active model's parameters).
        #[arg(long)]
        tune: bool,
        /// Days used to choose the parameters with `--tune`.
        #[arg(long, default_value_t = 92)]
        tune_days: Day,
        /// Model name (the version is `name@hash`); the active model's name when absent.
        #[arg(long)]
        name: Option<String>,
        /// Print the comparison as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Measure scoring speed: batch throughput and one-declaration latency, in-process.
    Bench {
        /// The model file.
        #[arg(long)]
        model: PathBuf,
        /// Declarations to score (CSV).
        #[arg(long)]
        data: PathBuf,
        #[command(flatten)]
        src: DataArgs,
        /// Seconds to spend per measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Also measure one declaration over HTTP against a running node at this address
        /// (`http://127.0.0.1:PORT`), one request at a time on a kept-alive connection.
        #[arg(long)]
        url: Option<String>,
        /// Member key file that signs each request (needed when the node keeps a ledger: risk
        /// data there is read by authenticated members only).
        #[arg(long, requires = "url")]
        key: Option<PathBuf>,
        /// Print the numbers as JSON.
        #[arg(long)]
        json: bool,
        /// Measure the batch throughput only (for benchmarks that interleave it with a peer's).
        #[arg(long, conflicts_with = "url")]
        batch_only: bool,
    },
}

pub(crate) fn run(args: RiskArgs) -> anyhow::Result<ExitCode> {
    let result = match args.command {
        RiskCommand::Import { data, mapping, out, show_mapping } => {
            import_cmd(&data, mapping.as_deref(), out.as_deref(), show_mapping)
        }
        RiskCommand::Features { data, src, out } => features_cmd(&data, &src, &out),
        RiskCommand::Train {
            data,
            valid,
            src,
            out,
            name,
            tune,
            tune_days,
            tune_max_levels,
            depth,
            rounds,
            eta,
            bag,
            subsample,
            colsample,
            split_search,
            max_bin,
            revenue_weight,
            recency_half_life,
            monotone,
            categorical,
            min_child_weight,
            grid_out,
        } => {
            let params = TrainParams {
                max_depth: depth,
                rounds,
                eta,
                bag,
                subsample,
                colsample,
                split_search,
                max_bin,
                revenue_weight,
                recency_half_life_days: recency_half_life,
                monotone,
                categorical,
                min_child_weight,
                ..TrainParams::default()
            };
            let opts = TrainOpts { tune, tune_days, tune_max_levels, grid_out };
            train_cmd(&data, valid.as_deref(), &src, &out, &name, params, &opts)
        }
        RiskCommand::Eval { model, data, src, scores_out, json } => {
            eval_cmd(&model, &data, &src, scores_out.as_deref(), json)
        }
        RiskCommand::Export { model, xgboost_json } => export_cmd(&model, &xgboost_json),
        RiskCommand::Info { model } => info_cmd(&model),
        RiskCommand::ExportTraining { node, key, out } => export_training_cmd(&node, key.as_deref(), &out),
        RiskCommand::Retrain { data, src, active, out, holdout_days, tune, tune_days, name, json } => {
            let opts = RetrainOpts { holdout_days, tune, tune_days, name, json };
            retrain_cmd(&data, &src, &active, &out, &opts)
        }
        RiskCommand::Bench { model, data, src, seconds, url, key, json, batch_only } => {
            let keys = key.as_deref().map(borderlink_ledger::identity::MemberKeys::load).transpose()?;
            let url = url.as_deref().map(|u| (u, keys.as_ref()));
            bench_cmd(&model, &data, &src, seconds, url, json, batch_only)
        }
    };
    match result {
        Ok(()) => Ok(ExitCode::Ok),
        Err(e) => {
            // Bad input (a malformed CSV, mapping or model file, an unreadable file) is exit 3;
            // anything else is a failure.
            let input = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some()
                    || matches!(
                        c.downcast_ref::<RiskError>(),
                        Some(
                            RiskError::Csv { .. }
                                | RiskError::Mapping { .. }
                                | RiskError::Model(_)
                                | RiskError::Criteria(_)
                                | RiskError::Io(_)
                        )
                    )
            });
            eprintln!("error: {e:#}");
            Ok(if input { ExitCode::Input } else { ExitCode::Failure })
        }
    }
}

fn load_mapping(path: Option<&Path>) -> anyhow::Result<Mapping> {
    match path {
        None => Ok(Mapping::kcs()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            Mapping::parse(&text).with_context(|| format!("in {}", p.display()))
        }
    }
}

fn read_rows(path: &Path, mapping: &Mapping) -> anyhow::Result<Vec<ImportedRow>> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    import::read_csv(std::io::BufReader::new(file), mapping).with_context(|| format!("in {}", path.display()))
}

fn read_examples(path: &Path, mapping: &Mapping) -> anyhow::Result<Vec<Example>> {
    Ok(import::examples(&read_rows(path, mapping)?))
}

fn labelled(examples: &[Example], path: &Path) -> anyhow::Result<Vec<Outcome>> {
    examples
        .iter()
        .map(|e| e.outcome)
        .collect::<Option<Vec<_>>>()
        .with_context(|| format!("{} has no labels: its mapping needs a `fraud` column", path.display()))
}

type Featurized = Vec<(Vec<Example>, Vec<FeatureVector>)>;

/// Replays the history files, then returns the features of `data` (and its examples).
fn replay(src: &DataArgs, mapping: &Mapping, data: &[&Path]) -> anyhow::Result<Featurized> {
    Ok(replay_with_history(src, mapping, data)?.0)
}

/// [`replay`], also returning the history at the end (every outcome released).
fn replay_with_history(src: &DataArgs, mapping: &Mapping, data: &[&Path]) -> anyhow::Result<(Featurized, History)> {
    let mut r = Replay::new(History::new(), src.label_delay);
    for h in &src.history {
        let ex = read_examples(h, mapping)?;
        features::replay_features(&ex, &mut r);
        eprintln!("history: {} items from {}", ex.len(), h.display());
    }
    let sets = data
        .iter()
        .map(|p| {
            let ex = read_examples(p, mapping)?;
            let x = features::replay_features(&ex, &mut r);
            Ok((ex, x))
        })
        .collect::<anyhow::Result<Featurized>>()?;
    r.flush();
    Ok((sets, r.history))
}

fn import_cmd(data: &Path, mapping: Option<&Path>, out: Option<&Path>, show: bool) -> anyhow::Result<()> {
    let mapping = load_mapping(mapping)?;
    if show {
        print!("{}", mapping.to_text());
        return Ok(());
    }
    let rows = read_rows(data, &mapping)?;
    let mut w: Box<dyn Write> = match out {
        Some(p) => Box::new(BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let labelled = rows.iter().filter(|r| r.outcome.is_some()).count();
    for r in &rows {
        serde_json::to_writer(&mut w, &r.record)?;
        writeln!(w)?;
    }
    w.flush()?;
    eprintln!("imported {} declarations ({labelled} with inspection outcomes) from {}", rows.len(), data.display());
    Ok(())
}

fn write_features(path: &Path, examples: &[Example], x: &[FeatureVector]) -> anyhow::Result<()> {
    let mut w = BufWriter::new(File::create(path).with_context(|| format!("cannot write {}", path.display()))?);
    write!(w, "day,fraud,revenue")?;
    for f in &features::FEATURES {
        write!(w, ",{}", f.name)?;
    }
    writeln!(w)?;
    for (e, row) in examples.iter().zip(x) {
        let (fraud, revenue) = e
            .outcome
            .map_or((String::new(), String::new()), |o| (u8::from(o.fraud).to_string(), o.revenue.to_string()));
        write!(w, "{},{fraud},{revenue}", e.item.day.map(|d| d.to_string()).unwrap_or_default())?;
        for v in row {
            if v.is_nan() {
                write!(w, ",")?;
            } else {
                write!(w, ",{v}")?;
            }
        }
        writeln!(w)?;
    }
    w.flush()?;
    Ok(())
}

fn features_cmd(data: &Path, src: &DataArgs, out: &Path) -> anyhow::Result<()> {
    let mapping = load_mapping(src.mapping.as_deref())?;
    let mut sets = replay(src, &mapping, &[data])?;
    let (ex, x) = sets.pop().context("no data")?;
    write_features(out, &ex, &x)?;
    eprintln!("wrote {} rows × {N_FEATURES} features to {}", x.len(), out.display());
    Ok(())
}

struct TrainOpts {
    tune: bool,
    tune_days: Day,
    tune_max_levels: Option<usize>,
    grid_out: Option<PathBuf>,
}

fn period(examples: &[Example]) -> Option<(String, String)> {
    let days = examples.iter().filter_map(|e| e.item.day);
    let (min, max) = days.clone().min().zip(days.max())?;
    Some((format_day(min), format_day(max)))
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

fn train_cmd(
    data: &Path,
    valid: Option<&Path>,
    src: &DataArgs,
    out: &Path,
    name: &str,
    mut params: TrainParams,
    opts: &TrainOpts,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mapping = load_mapping(src.mapping.as_deref())?;
    let mut paths = vec![data];
    paths.extend(valid);
    let mut sets = replay(src, &mapping, &paths)?;
    let validation = if valid.is_some() { sets.pop() } else { None };
    let (train_ex, train_x) = sets.pop().context("no training data")?;
    let outcomes = labelled(&train_ex, data)?;
    eprintln!("features: {} training items in {:.1?}", train_x.len(), started.elapsed());
    if opts.tune {
        let last = train_ex.iter().filter_map(|e| e.item.day).max().context("the training data has no dates")?;
        let cut = last - opts.tune_days + 1;
        let (fit, check): (Vec<usize>, Vec<usize>) =
            (0..train_ex.len()).partition(|&i| train_ex[i].item.day.is_some_and(|d| d < cut));
        let pick = |idx: &[usize]| -> (Vec<FeatureVector>, Vec<Outcome>) {
            (idx.iter().map(|&i| train_x[i]).collect(), idx.iter().map(|&i| outcomes[i]).collect())
        };
        let ((xf, of), (xc, oc)) = (pick(&fit), pick(&check));
        let df: Vec<Day> = fit.iter().map(|&i| train_ex[i].item.day.unwrap_or(0)).collect();
        eprintln!("tuning on {} items, choosing on the {} items from {}", xf.len(), xc.len(), format_day(cut));
        let base = Grid::for_params(&params);
        let grid = Grid { max_levels: opts.tune_max_levels.unwrap_or(base.max_levels), ..base };
        let bar = progress::bar(0, "tuning");
        let (chosen, points) = model::tune(&xf, &of, &df, &xc, &oc, &params, &grid, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })?;
        bar.finish_and_clear();
        for p in &points {
            eprintln!("  depth {:>2}  eta {:<5} rounds {:>3}  AUC {:.4}", p.depth, p.eta, p.rounds, p.auc);
        }
        eprintln!(
            "chosen: depth {}, eta {}, rounds {} (the best tuning AUC within {} tree levels)",
            chosen.max_depth, chosen.eta, chosen.rounds, grid.max_levels
        );
        if let Some(g) = &opts.grid_out {
            std::fs::write(g, serde_json::to_vec_pretty(&points)?)
                .with_context(|| format!("cannot write {}", g.display()))?;
        }
        params = chosen;
    }
    let days: Vec<Day> = train_ex.iter().map(|e| e.item.day.unwrap_or(0)).collect();
    let bar = progress::bar((params.rounds * params.bag) as u64, "training");
    let fit_started = Instant::now();
    let mut model = model::train(name, &train_x, &outcomes, &days, &params, period(&train_ex), |done, _| {
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
    if let Some((ex, x)) = &validation {
        let outcomes = labelled(ex, valid.unwrap_or(data))?;
        let flat: Vec<f32> = x.iter().flatten().copied().collect();
        let scores = model.predict_batch(&flat)?;
        let fraud: Vec<bool> = outcomes.iter().map(|o| o.fraud).collect();
        let revenue: Vec<f64> = outcomes.iter().map(|o| o.revenue).collect();
        let m = eval::evaluate(&scores, &fraud, &revenue);
        eprintln!("report before activation:");
        print_metrics("  validation", &m);
        let d = drift::drift(&train_x, x);
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
        train_x.len(),
        model.meta().positives,
        out.display(),
        started.elapsed()
    );
    Ok(())
}

fn load_model(path: &Path) -> anyhow::Result<RiskModel> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    RiskModel::read(std::io::BufReader::new(file)).with_context(|| format!("cannot load the model {}", path.display()))
}

fn eval_cmd(model: &Path, data: &Path, src: &DataArgs, scores_out: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let model = load_model(model)?;
    let mapping = load_mapping(src.mapping.as_deref())?;
    let mut sets = replay(src, &mapping, &[data])?;
    let (ex, x) = sets.pop().context("no data")?;
    let outcomes = labelled(&ex, data)?;
    let flat: Vec<f32> = x.iter().flatten().copied().collect();
    let scores = model.predict_batch(&flat)?;
    if let Some(p) = scores_out {
        let mut w = BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?);
        writeln!(w, "score")?;
        for s in &scores {
            writeln!(w, "{s}")?;
        }
        w.flush()?;
    }
    let fraud: Vec<bool> = outcomes.iter().map(|o| o.fraud).collect();
    let revenue: Vec<f64> = outcomes.iter().map(|o| o.revenue).collect();
    let m = eval::evaluate(&scores, &fraud, &revenue);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "model": model.version(), "metrics": m }))?;
        writeln!(out)?;
    } else {
        writeln!(out, "model {} on {} ({} items, {} frauds)", model.version(), data.display(), m.n, m.frauds)?;
        writeln!(out, "AUC {:.4}", m.auc)?;
        writeln!(out, "{:>6} {:>7} {:>10} {:>8} {:>8}", "top k%", "items", "precision", "recall", "revenue")?;
        for a in &m.at_k {
            writeln!(out, "{:>6} {:>7} {:>10.3} {:>8.3} {:>8.3}", a.k, a.n, a.precision, a.recall, a.revenue)?;
        }
    }
    Ok(())
}

fn info_cmd(path: &Path) -> anyhow::Result<()> {
    let model = load_model(path)?;
    let meta = model.meta();
    let mut info = serde_json::json!({
        "version": meta.version,
        "featureSet": meta.feature_set,
        "features": meta.features.len(),
        "trees": model.num_trees(),
        "depth": meta.params.max_depth,
        "eta": meta.params.eta,
        "rounds": meta.params.rounds,
        "bag": meta.params.bag,
        "params": meta.params,
        "rows": meta.rows,
        "positives": meta.positives,
        "period": meta.period,
        "validation": meta.validation,
    });
    if !meta.categories.is_empty() {
        info["categories"] = serde_json::to_value(&meta.categories)?;
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &info)?;
    writeln!(out)?;
    Ok(())
}

fn export_cmd(model: &Path, out: &Path) -> anyhow::Result<()> {
    let model = load_model(model)?;
    let bytes = model.xgboost_json()?;
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {} ({} trees, {} bytes) as an XGBoost JSON model to {}",
        model.version(),
        model.num_trees(),
        bytes.len(),
        out.display()
    );
    if !model.code_book().is_empty() {
        eprintln!(
            "note: this model splits code features by sets of categories (a code's position in the \
             model's code book, `risk info`), so a reader must pass categories, not codes; XGBoost 3.2 \
             loads such an export but crashes predicting with it (docs/benchmarks.md). Train with \
             `--categorical false` for a model XGBoost predicts."
        );
    }
    Ok(())
}

/// `GET /api/v1/risk/training-set`, signed by a member when a key is given.
fn export_training_cmd(node: &str, key: Option<&Path>, out: &Path) -> anyhow::Result<()> {
    let keys = key.map(borderlink_ledger::identity::MemberKeys::load).transpose()?;
    // A whole training set can take a while to gather.
    let transport = Transport { timeout: Duration::from_secs(300), direct: true };
    let node = NodeClient::connect(node, keys, transport)?;
    let reply = node.get("api/v1/risk/training-set")?;
    anyhow::ensure!(
        reply.status.is_success(),
        "the node answered {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body).chars().take(300).collect::<String>()
    );
    std::fs::write(out, &reply.body).with_context(|| format!("cannot write {}", out.display()))?;
    let rows = reply.body.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
    println!("wrote {rows} inspected items from {} to {}", node.base(), out.display());
    Ok(())
}

struct RetrainOpts {
    holdout_days: Day,
    tune: bool,
    tune_days: Day,
    name: Option<String>,
    json: bool,
}

fn metrics_row(label: &str, m: &eval::Metrics) -> String {
    let mut line = format!("{label:<28} {:>6.4}", m.auc);
    for a in &m.at_k {
        line.push_str(&format!(" {:>6.3}", a.precision));
    }
    for a in &m.at_k {
        line.push_str(&format!(" {:>7.3}", a.revenue));
    }
    line
}

/// Trains a candidate on all but the last `holdout_days` of `data`, then shows the drift and
/// both models' metrics on those days. Writes the candidate; activation is another step.
fn retrain_cmd(data: &Path, src: &DataArgs, active_path: &Path, out: &Path, opts: &RetrainOpts) -> anyhow::Result<()> {
    let active = load_model(active_path)?;
    let mapping = load_mapping(src.mapping.as_deref())?;
    let mut sets = replay(src, &mapping, &[data])?;
    let (ex, x) = sets.pop().context("no data")?;
    let outcomes = labelled(&ex, data)?;
    let last = ex.iter().filter_map(|e| e.item.day).max().context("the data has no dates")?;
    let cut = last - opts.holdout_days.max(1) + 1;
    let (fit, held): (Vec<usize>, Vec<usize>) = (0..ex.len()).partition(|&i| ex[i].item.day.is_some_and(|d| d < cut));
    let pick = |idx: &[usize]| -> (Vec<FeatureVector>, Vec<Outcome>, Vec<Day>) {
        (
            idx.iter().map(|&i| x[i]).collect(),
            idx.iter().map(|&i| outcomes[i]).collect(),
            idx.iter().map(|&i| ex[i].item.day.unwrap_or(0)).collect(),
        )
    };
    let ((xf, of, df), (xh, oh, _)) = (pick(&fit), pick(&held));
    let frauds = |o: &[Outcome]| o.iter().filter(|o| o.fraud).count();
    anyhow::ensure!(
        frauds(&oh) > 0 && frauds(&oh) < oh.len(),
        "the last {} days ({} items) need both frauds and clean inspections to compare the models; \
         use --holdout-days to hold out more",
        opts.holdout_days,
        oh.len()
    );
    eprintln!(
        "retraining on {} items before {} ({} frauds); comparing on the {} items from {} ({} frauds)",
        xf.len(),
        format_day(cut),
        frauds(&of),
        xh.len(),
        format_day(cut),
        frauds(&oh)
    );
    let mut params = active.meta().params.clone();
    if opts.tune {
        let tune_cut = cut - opts.tune_days;
        let (tf, tc): (Vec<usize>, Vec<usize>) = (0..xf.len()).partition(|&i| df[i] < tune_cut);
        let sub = |idx: &[usize]| -> (Vec<FeatureVector>, Vec<Outcome>) {
            (idx.iter().map(|&i| xf[i]).collect(), idx.iter().map(|&i| of[i]).collect())
        };
        let ((xtf, otf), (xtc, otc)) = (sub(&tf), sub(&tc));
        let dtf: Vec<Day> = tf.iter().map(|&i| df[i]).collect();
        let (chosen, _) = model::tune(&xtf, &otf, &dtf, &xtc, &otc, &params, &Grid::for_params(&params), |_, _| {})?;
        eprintln!("chosen: depth {}, eta {}, rounds {}", chosen.max_depth, chosen.eta, chosen.rounds);
        params = chosen;
    }
    let name = opts.name.clone().unwrap_or_else(|| active.version().split('@').next().unwrap_or("risk").to_owned());
    let span = {
        let days = fit.iter().filter_map(|&i| ex[i].item.day);
        days.clone().min().zip(days.max()).map(|(a, b)| (format_day(a), format_day(b)))
    };
    let bar = progress::bar((params.rounds * params.bag) as u64, "training");
    let mut candidate = model::train(&name, &xf, &of, &df, &params, span, |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let flat: Vec<f32> = xh.iter().flatten().copied().collect();
    let fraud: Vec<bool> = oh.iter().map(|o| o.fraud).collect();
    let revenue: Vec<f64> = oh.iter().map(|o| o.revenue).collect();
    let m_active = eval::evaluate(&active.predict_batch(&flat)?, &fraud, &revenue);
    let m_new = eval::evaluate(&candidate.predict_batch(&flat)?, &fraud, &revenue);
    let drift = drift::drift(&xf, &xh);
    candidate.set_validation(m_new.clone());
    let file = File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    candidate.write(BufWriter::new(file))?;
    let mut o = std::io::stdout().lock();
    if opts.json {
        serde_json::to_writer_pretty(
            &mut o,
            &serde_json::json!({
                "active": { "version": active.version(), "metrics": m_active },
                "candidate": { "version": candidate.version(), "file": out, "metrics": m_new },
                "holdout": { "from": format_day(cut), "items": xh.len(), "frauds": frauds(&oh) },
                "drift": drift,
                "activated": false,
            }),
        )?;
        writeln!(o)?;
        return Ok(());
    }
    let moved: Vec<String> =
        drift.iter().filter(|f| f.psi > 0.1).map(|f| format!("{} {:.2}", f.feature, f.psi)).collect();
    writeln!(
        o,
        "drift (PSI, training days → the last {} days): {}",
        opts.holdout_days,
        if moved.is_empty() { "no feature above 0.1".to_owned() } else { moved.join(", ") }
    )?;
    writeln!(o, "on the {} items from {} ({} frauds):", xh.len(), format_day(cut), frauds(&oh))?;
    let ks: String = m_new.at_k.iter().map(|a| format!(" {:>6}", format!("P@{}%", a.k))).collect();
    let rs: String = m_new.at_k.iter().map(|a| format!(" {:>7}", format!("Rev@{}%", a.k))).collect();
    writeln!(o, "{:<28} {:>6}{ks}{rs}", "model", "AUC")?;
    writeln!(o, "{}", metrics_row(&format!("active {}", active.version()), &m_active))?;
    writeln!(o, "{}", metrics_row(&format!("candidate {}", candidate.version()), &m_new))?;
    // An active model that was trained on the held-out days has seen their answers.
    let active_end = active.meta().period.as_ref().and_then(|(_, end)| borderlink_risk::item::parse_day(end));
    if active_end.is_some_and(|end| end >= cut) {
        writeln!(
            o,
            "note: the active model was trained on data up to {}, which overlaps the held-out days: \
             its numbers there are optimistic",
            active_end.map(format_day).unwrap_or_default()
        )?;
    }
    writeln!(
        o,
        "wrote the candidate to {} — NOT activated. To activate it: PUT it to /api/v1/risk/model \
         (console session), or replace DATA/risk/model.blrm and restart the node.",
        out.display()
    )?;
    Ok(())
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn bench_cmd(
    model_path: &Path,
    data: &Path,
    src: &DataArgs,
    seconds: f64,
    url: Option<(&str, Option<&borderlink_ledger::identity::MemberKeys>)>,
    json: bool,
    batch_only: bool,
) -> anyhow::Result<()> {
    let model = load_model(model_path)?;
    let mapping = load_mapping(src.mapping.as_deref())?;
    let mut sets = replay(src, &mapping, &[data])?;
    let (_, x) = sets.pop().context("no data")?;
    let flat: Vec<f32> = x.iter().flatten().copied().collect();
    let budget = Duration::from_secs_f64(seconds.max(0.1));
    // Batch: the whole file per call, as many calls as fit in the budget.
    let started = Instant::now();
    let mut rows = 0usize;
    while started.elapsed() < budget {
        let s = model.predict_batch(&flat)?;
        rows += s.len();
    }
    let batch_rate = rows as f64 / started.elapsed().as_secs_f64();
    if batch_only {
        if json {
            println!("{}", serde_json::json!({ "batch_rows_per_s": batch_rate }));
        } else {
            println!("batch: {batch_rate:.0} rows/s ({} rows per call)", x.len());
        }
        return Ok(());
    }
    // The history is the one the declarations were featurized against (every outcome known).
    let only_history = DataArgs { history: Vec::new(), ..src.clone() };
    let history_files: Vec<&Path> = src.history.iter().map(PathBuf::as_path).collect();
    let (_, history) = replay_with_history(&only_history, &mapping, &history_files)?;
    // One declaration in-process: parse nothing, but build its items, features, score,
    // explanations and criteria from the standardized record, as the node does.
    let rows = read_rows(data, &mapping)?;
    let mut engine = RiskEngine::new(Default::default())?;
    *engine.history_mut() = history;
    engine.set_model(model);
    let mut lat = Vec::new();
    let started = Instant::now();
    let mut i = 0usize;
    while started.elapsed() < budget && !rows.is_empty() {
        let r = &rows[i % rows.len()];
        let t = Instant::now();
        let scored = engine.score_items(&r.record, 0);
        lat.push(t.elapsed());
        std::hint::black_box(scored);
        i += 1;
    }
    lat.sort_unstable();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    let http = match url {
        Some((u, keys)) => Some(http_latency(u, keys, &rows, budget)?),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    if json {
        let mut v = serde_json::json!({
            "batch_rows_per_s": batch_rate,
            "single_p50_us": p50.as_secs_f64() * 1e6,
            "single_p99_us": p99.as_secs_f64() * 1e6,
            "single_samples": lat.len(),
        });
        if let Some((h50, h99, n)) = http {
            v["http_p50_us"] = (h50.as_secs_f64() * 1e6).into();
            v["http_p99_us"] = (h99.as_secs_f64() * 1e6).into();
            v["http_samples"] = n.into();
        }
        serde_json::to_writer(&mut out, &v)?;
        writeln!(out)?;
    } else {
        if let Some((h50, h99, n)) = http {
            writeln!(
                out,
                "one declaration over HTTP (POST /api/v1/risk/score): p50 {h50:.1?}, p99 {h99:.1?} over {n} requests"
            )?;
        }
        writeln!(out, "batch predict: {batch_rate:.0} rows/s")?;
        writeln!(
            out,
            "one declaration in-process (features, score, reasons, criteria): p50 {p50:.1?}, p99 {p99:.1?} over {} runs",
            lat.len()
        )?;
    }
    Ok(())
}

/// Latency of `POST /api/v1/risk/score` with one declaration per request, sent one at a time
/// on one kept-alive HTTP/1.1 connection (a minimal client: the numbers are the node's, not a
/// client library's). Each request is a declaration not yet assessed, so each is fully scored.
fn http_latency(
    url: &str,
    keys: Option<&borderlink_ledger::identity::MemberKeys>,
    rows: &[ImportedRow],
    budget: Duration,
) -> anyhow::Result<(Duration, Duration, usize)> {
    use std::io::{BufRead, BufReader, Read};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let stream = std::net::TcpStream::connect(host).with_context(|| format!("cannot connect to {host}"))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let bodies: Vec<Vec<u8>> = rows.iter().map(|r| serde_json::to_vec(&r.record)).collect::<Result<_, _>>()?;
    let mut lat = Vec::new();
    let started = Instant::now();
    for body in bodies.iter() {
        if started.elapsed() >= budget {
            break;
        }
        let t = Instant::now();
        let auth = match keys {
            Some(k) => format!("Authorization: {}\r\n", authorization(k, "POST", "/api/v1/risk/score", body)),
            None => String::new(),
        };
        write!(
            writer,
            "POST /api/v1/risk/score HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n",
            body.len()
        )?;
        writer.write_all(body)?;
        let mut status = String::new();
        reader.read_line(&mut status)?;
        anyhow::ensure!(status.contains(" 200 "), "the node answered {}", status.trim());
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse()?;
            }
        }
        let mut reply = vec![0u8; length];
        reader.read_exact(&mut reply)?;
        lat.push(t.elapsed());
    }
    anyhow::ensure!(!lat.is_empty(), "no request was measured");
    let n = lat.len();
    lat.sort_unstable();
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99), n))
}
