//! Training lab: how training settings compare on a time split of one feature file, never on
//! the data a benchmark reports on.
//!
//! ```text
//! borderlink risk features --data TRAIN.csv --out train-features.csv
//! cargo run --release -p borderlink-risk --example lab -- train-features.csv CUT_DAY \
//!     "max_depth=12,eta=0.1,trees=200,bag=3" "max_depth=12,eta=0.1,trees=200,bag=3,max_bin=1024"
//! ```
//!
//! Rows before `CUT_DAY` (days since 1970-01-01) are fitted, the rest reported on (AUC,
//! precision and revenue at 1, 2, 5 and 10 %). Each setting is a comma-separated list of
//! XGBoost parameters (read by hessboost's `from_xgboost`) plus `trees` (the model's trees,
//! shared by the bag), `bag` (members averaged), `revw` (revenue weight) and `monotone`
//! (0 or 1), `cat` (0 or 1: code features split by sets of codes, see `borderlink_risk::codes`)
//! and `seed`, whose defaults are Borderlink's training defaults (200 trees of depth 12).

use std::error::Error;

use borderlink_risk::codes::CodeBook;
use borderlink_risk::eval::evaluate;
use borderlink_risk::features::{FEATURES, FeatureVector};
use borderlink_risk::history::Outcome;
use borderlink_risk::model;
use hessboost::prelude::*;

struct Rows {
    x: Vec<f32>,
    fraud: Vec<bool>,
    revenue: Vec<f64>,
}

impl Rows {
    fn rows(&self) -> Vec<FeatureVector> {
        self.x.chunks_exact(FEATURES.len()).filter_map(|r| r.try_into().ok()).collect()
    }
}

fn load(path: &str, cut: i64) -> Result<(Rows, Rows), Box<dyn Error>> {
    let mut r = csv::Reader::from_path(path)?;
    let width = r.headers()?.len();
    if width != 3 + FEATURES.len() {
        return Err(
            format!("{path}: {width} columns, expected day, fraud, revenue and {} features", FEATURES.len()).into()
        );
    }
    let mut fit = Rows { x: Vec::new(), fraud: Vec::new(), revenue: Vec::new() };
    let mut check = Rows { x: Vec::new(), fraud: Vec::new(), revenue: Vec::new() };
    for (line, rec) in r.records().enumerate() {
        let rec = rec?;
        let num = |i: usize| -> Result<f64, Box<dyn Error>> {
            let s = rec.get(i).unwrap_or("");
            if s.is_empty() {
                Ok(f64::NAN)
            } else {
                s.parse::<f64>().map_err(|e| format!("{path} line {}: column {}: {e}", line + 2, i + 1).into())
            }
        };
        let day = num(0)? as i64;
        let to = if day < cut { &mut fit } else { &mut check };
        to.fraud.push(num(1)? > 0.5);
        to.revenue.push(num(2)?);
        for i in 3..width {
            to.x.push(num(i)? as f32);
        }
    }
    Ok((fit, check))
}

fn run(setting: &str, fit: &Rows, check: &Rows) -> Result<String, Box<dyn Error>> {
    let d = model::TrainParams::default();
    let (mut trees, mut bag, mut revw, mut monotone, mut seed) =
        (200usize, d.bag, d.revenue_weight, d.monotone, d.seed);
    let mut dump = None;
    let mut cat = d.categorical;
    let mut xgb: Vec<(String, serde_json::Value)> = vec![
        ("objective".into(), "binary:logistic".into()),
        ("tree_method".into(), d.split_search.to_string().into()),
        ("max_depth".into(), 12.into()),
        ("eta".into(), d.eta.into()),
        ("subsample".into(), d.subsample.into()),
        ("colsample_bytree".into(), d.colsample.into()),
        ("min_child_weight".into(), d.min_child_weight.into()),
        ("lambda".into(), d.lambda.into()),
        ("max_bin".into(), d.max_bin.into()),
    ];
    for kv in setting.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("`{kv}`: expected key=value"))?;
        match k {
            "trees" => trees = v.parse()?,
            "bag" => bag = v.parse()?,
            "revw" => revw = v.parse()?,
            "monotone" => monotone = v == "1",
            "seed" => seed = v.parse()?,
            "dump" => dump = Some(v.to_owned()),
            "cat" => cat = v == "1",
            _ => {
                let value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
                xgb.retain(|(key, _)| key != k);
                xgb.push((k.into(), value));
            }
        }
    }
    let n = fit.fraud.len();
    let labels: Vec<f32> = fit.fraud.iter().map(|&f| f32::from(u8::from(f))).collect();
    // Borderlink's own recipe pieces: revenue weights, member seeds, monotone constraints.
    let outcomes: Vec<Outcome> = fit
        .fraud
        .iter()
        .zip(&fit.revenue)
        .map(|(&fraud, &revenue)| Outcome { fraud, critical: false, revenue })
        .collect();
    let recipe = model::TrainParams { revenue_weight: revw, ..d };
    let book = if cat { CodeBook::fit(&fit.rows()) } else { CodeBook::default() };
    let (mut fit_x, mut check_x) = (fit.x.clone(), check.x.clone());
    book.encode_rows(&mut fit_x);
    book.encode_rows(&mut check_x);
    let mut data = DMatrix::from_dense(&fit_x, n, FEATURES.len())?.with_labels(&labels)?;
    if !book.is_empty() {
        data = data.with_feature_types(&book.feature_types())?;
    }
    if let Some(w) = model::weights(&outcomes, &[], &recipe) {
        data = data.with_weights(&w)?;
    }
    let per = trees.div_ceil(bag);
    let mut members = Vec::new();
    for m in 0..bag {
        let mut p = TrainingParams::from_xgboost(xgb.iter().map(|(k, v)| (k.as_str(), v.clone())))?;
        p.seed = model::member_seed(seed, m);
        if monotone {
            p.monotone_constraints = model::monotone_constraints();
        }
        members.push(Trainer::new(&p, &data, per).train()?.model);
    }
    let model = if members.len() == 1 { members.remove(0) } else { BoostedModel::average(&members)? };
    if let Some(path) = dump {
        std::fs::write(path, model.encode(ModelFormat::XgboostJson)?)?;
    }
    let scores = model.predict_rows(&check_x, Iterations::Best)?;
    let m = evaluate(scores.as_slice(), &check.fraud, &check.revenue);
    let p: Vec<String> = m.at_k.iter().map(|a| format!("{:.3}", a.precision)).collect();
    let r: Vec<String> = m.at_k.iter().map(|a| format!("{:.3}", a.revenue)).collect();
    Ok(format!("AUC {:.4}  P@1/2/5/10 {}  Rev {}  | {setting}", m.auc, p.join("/"), r.join("/")))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, model, path] = args.as_slice()
        && flag == "--latency"
    {
        return latency(model, path);
    }
    let [path, cut, settings @ ..] = args.as_slice() else {
        return Err("usage: lab FEATURES.csv CUT_DAY SETTING...".into());
    };
    let (fit, check) = load(path, cut.parse()?)?;
    println!(
        "fit {} rows, report on {} rows ({} frauds)",
        fit.fraud.len(),
        check.fraud.len(),
        check.fraud.iter().filter(|f| **f).count()
    );
    for s in settings {
        let started = std::time::Instant::now();
        let line = run(s, &fit, &check)?;
        println!("{line}  [{:.0} s]", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The model alone: one row scored and explained at a time (`RiskModel::predict_into`).
fn latency(model: &str, path: &str) -> Result<(), Box<dyn Error>> {
    let model = borderlink_risk::model::RiskModel::read(std::fs::File::open(model)?)?;
    let (rows, _) = load(path, i64::MAX)?;
    let n = FEATURES.len();
    let mut lat = Vec::new();
    let started = std::time::Instant::now();
    let mut i = 0;
    while started.elapsed().as_secs_f64() < 3.0 {
        let row: &[f32; borderlink_risk::features::N_FEATURES] =
            rows.x[(i % rows.fraud.len()) * n..][..n].try_into()?;
        let mut c = [0f32; borderlink_risk::features::N_FEATURES];
        let t = std::time::Instant::now();
        let p = model.predict_into(row, &mut c);
        lat.push(t.elapsed());
        std::hint::black_box((p, c));
        i += 1;
    }
    lat.sort_unstable();
    let q = |f: f64| lat[((lat.len() - 1) as f64 * f) as usize].as_secs_f64() * 1e6;
    println!("{} trees: p50 {:.2} us, p99 {:.2} us ({} rows)", model.num_trees(), q(0.5), q(0.99), lat.len());
    Ok(())
}
