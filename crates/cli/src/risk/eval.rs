//! `borderlink risk eval`: a model measured on labelled declarations — AUC, and precision,
//! recall and revenue at k % — as a table or JSON.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::data::{Labelled, Scoring, ScoringArgs};

/// Options of `borderlink risk eval`.
#[derive(clap::Args)]
// What eval scores must carry its inspection outcomes.
#[command(mut_arg("data", |a| a.help("Test CSV (labelled, later than the training data)")))]
pub(super) struct EvalArgs {
    #[command(flatten)]
    scoring: ScoringArgs,
    /// Write each item's score here (CSV: score).
    #[arg(long)]
    scores_out: Option<PathBuf>,
    /// Print the metrics as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(a: &EvalArgs) -> anyhow::Result<()> {
    let data = &a.scoring.data;
    if a.scoring.src.history.is_empty() {
        // The model learned from items whose parties, routes and goods had a past; here they
        // have none, so it ranks worse than it would in service.
        eprintln!(
            "warning: no --history: the history features (past fraud rates of the importer, declarant, seller, \
             route, HS code…) start empty and fill only from {}'s own items, so the scores are lower than in \
             service; pass the data the model was trained on with --history",
            data.display()
        );
    }
    let Scoring { model, examples, x, .. } = a.scoring.read()?;
    let (scores, m) = Labelled::new(&examples, x, data)?.evaluate(&model)?;
    if let Some(p) = &a.scores_out {
        let mut w = BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?);
        writeln!(w, "score")?;
        for s in &scores {
            writeln!(w, "{s}")?;
        }
        w.flush()?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "model": model.version(), "metrics": m }))?;
        writeln!(out)?;
    } else {
        writeln!(out, "model {} on {} ({} items, {} frauds)", model.version(), data.display(), m.n, m.frauds)?;
        writeln!(out, "AUC {:.4}", m.auc)?;
        writeln!(out, "{:>6} {:>7} {:>10} {:>8} {:>8}", "top k%", "items", "precision", "recall", "revenue")?;
        for k in &m.at_k {
            writeln!(out, "{:>6} {:>7} {:>10.3} {:>8.3} {:>8.3}", k.k, k.n, k.precision, k.recall, k.revenue)?;
        }
    }
    Ok(())
}
