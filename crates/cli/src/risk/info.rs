//! `borderlink risk info`: a model's metadata as JSON — version, feature set, parameters,
//! training rows and validation metrics, and the codes it splits by sets.

use std::io::Write;
use std::path::PathBuf;

use super::data::load_model;

/// Options of `borderlink risk info`.
#[derive(clap::Args)]
pub(super) struct InfoArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
}

pub(super) fn run(a: &InfoArgs) -> anyhow::Result<()> {
    let model = load_model(&a.model)?;
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
