//! `borderlink risk retrain`: a candidate model trained on labelled declarations (e.g. an
//! exported training set) and compared with the active model on the most recent days — the
//! drift, then both models' AUC, precision and revenue at k % — before anyone activates it.
//! Nothing is activated.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use borderlink_risk::features::FeatureVector;
use borderlink_risk::item::{Day, format_day};
use borderlink_risk::model::{self, Grid};
use borderlink_risk::{Outcome, drift, eval};

use super::data::{DataArgs, labelled, load_mapping, load_model, replay};
use crate::progress;

/// Options of `borderlink risk retrain`.
#[derive(clap::Args)]
pub(super) struct RetrainArgs {
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

/// Trains a candidate on all but the last `--holdout-days` of the data, then shows the drift and
/// both models' metrics on those days. Writes the candidate; activation is another step.
pub(super) fn run(a: &RetrainArgs) -> anyhow::Result<()> {
    let (data, src, out) = (a.data.as_path(), &a.src, a.out.as_path());
    let active = load_model(&a.active)?;
    let mapping = load_mapping(src.mapping.as_deref())?;
    let mut sets = replay(src, &mapping, &[data])?;
    let (ex, x) = sets.pop().context("no data")?;
    let outcomes = labelled(&ex, data)?;
    let last = ex.iter().filter_map(|e| e.item.day).max().context("the data has no dates")?;
    let cut = last - a.holdout_days.max(1) + 1;
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
        a.holdout_days,
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
    if a.tune {
        let tune_cut = cut - a.tune_days;
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
    let name = a.name.clone().unwrap_or_else(|| active.version().split('@').next().unwrap_or("risk").to_owned());
    let span = {
        let days = fit.iter().filter_map(|&i| ex[i].item.day);
        days.clone().min().zip(days.max()).map(|(from, to)| (format_day(from), format_day(to)))
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
    if a.json {
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
        a.holdout_days,
        if moved.is_empty() { "no feature above 0.1".to_owned() } else { moved.join(", ") }
    )?;
    writeln!(o, "on the {} items from {} ({} frauds):", xh.len(), format_day(cut), frauds(&oh))?;
    let ks: String = m_new.at_k.iter().map(|k| format!(" {:>6}", format!("P@{}%", k.k))).collect();
    let rs: String = m_new.at_k.iter().map(|k| format!(" {:>7}", format!("Rev@{}%", k.k))).collect();
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
