//! `borderlink risk export`: a model's trees written as an XGBoost JSON model.

use std::path::PathBuf;

use anyhow::Context;

use super::data::load_model;

/// Options of `borderlink risk export`.
#[derive(clap::Args)]
pub(super) struct ExportArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// Output file.
    #[arg(long)]
    xgboost_json: PathBuf,
}

pub(super) fn run(a: &ExportArgs) -> anyhow::Result<()> {
    let out = &a.xgboost_json;
    let model = load_model(&a.model)?;
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
