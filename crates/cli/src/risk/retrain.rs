//! `borderlink risk retrain`: a candidate model trained on labelled declarations (e.g. an
//! exported training set) and compared with the active model on the most recent days — the
//! drift, then both models' AUC, precision and revenue at k % — before anyone activates it.
//! Nothing is activated.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use borderlink_risk::item::{Day, format_day};
use borderlink_risk::model::{self, Grid};
use borderlink_risk::{drift, eval};

use super::data::{DataArgs, Labelled, load_model};
use super::train::TuneArgs;
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
    #[command(flatten)]
    tuning: TuneArgs,
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
    let out = a.out.as_path();
    let active = load_model(&a.active)?;
    let mapping = a.src.mapping()?;
    let (ex, x) = a.src.featurize(&mapping, &a.data)?;
    let all = Labelled::new(&ex, x, &a.data)?;
    let last = all.last_day().context("the data has no dates")?;
    let cut = last - a.holdout_days.max(1) + 1;
    let (fit, held) = all.split_at(cut);
    anyhow::ensure!(
        held.frauds() > 0 && held.frauds() < held.len(),
        "the last {} days ({} items) need both frauds and clean inspections to compare the models; \
         use --holdout-days to hold out more",
        a.holdout_days,
        held.len()
    );
    eprintln!(
        "retraining on {} items before {} ({} frauds); comparing on the {} items from {} ({} frauds)",
        fit.len(),
        format_day(cut),
        fit.frauds(),
        held.len(),
        format_day(cut),
        held.frauds()
    );
    let mut params = active.meta().params.clone();
    if a.tuning.tune {
        // The tuning days end where the held-out days begin.
        let (_, tf, tc) = a.tuning.split(&fit, cut - 1);
        let grid = Grid::for_params(&params);
        let (chosen, _) = model::tune(&tf.x, &tf.outcomes, &tf.days(), &tc.x, &tc.outcomes, &params, &grid, |_, _| {})?;
        eprintln!("chosen: depth {}, eta {}, rounds {}", chosen.max_depth, chosen.eta, chosen.rounds);
        params = chosen;
    }
    let name = a.name.clone().unwrap_or_else(|| active.version().split('@').next().unwrap_or("risk").to_owned());
    let bar = progress::counted(params.rounds as u64, "training", "trees");
    let mut candidate =
        model::train(&name, &fit.x, &fit.outcomes, &fit.days(), &params, fit.period(), |done, total| {
            // Each bag member trains its share of the rounds: the callback knows the total.
            bar.set_length(total as u64);
            bar.set_position(done as u64)
        })?;
    bar.finish_and_clear();
    let (_, m_active) = held.evaluate(&active)?;
    let (_, m_new) = held.evaluate(&candidate)?;
    let drift = drift::drift(&fit.x, &held.x);
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
                "holdout": { "from": format_day(cut), "items": held.len(), "frauds": held.frauds() },
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
    writeln!(o, "on the {} items from {} ({} frauds):", held.len(), format_day(cut), held.frauds())?;
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
