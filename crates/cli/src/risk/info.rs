//! `borderlink risk info`: what a model is — version, feature set, parameters, training data and
//! validation metrics — as a short summary; `--json` gives the whole metadata, with the codes
//! the model splits by sets (tens of kilobytes), for scripts.

use std::io::Write;
use std::path::PathBuf;

use borderlink_risk::RiskModel;

use super::data::load_model;

/// Options of `borderlink risk info`.
#[derive(clap::Args)]
pub(super) struct InfoArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// Print the whole metadata as JSON (with every code of the code features).
    #[arg(long)]
    json: bool,
}

pub(super) fn run(a: &InfoArgs) -> anyhow::Result<()> {
    let model = load_model(&a.model)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &metadata(&model)?)?;
        writeln!(out)?;
    } else {
        summary(&mut out, &model, &a.model)?;
    }
    Ok(())
}

/// The whole metadata, as `--json` prints it.
fn metadata(model: &RiskModel) -> anyhow::Result<serde_json::Value> {
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
    Ok(info)
}

/// A few lines a person reads: what the model is, what it learned from, how well it ranked.
fn summary(out: &mut impl Write, model: &RiskModel, path: &std::path::Path) -> std::io::Result<()> {
    let meta = model.meta();
    let p = &meta.params;
    writeln!(out, "model {}", meta.version)?;
    writeln!(out, "  features:   {} (feature set {})", meta.features.len(), meta.feature_set)?;
    let period = meta.period.as_ref().map(|(a, b)| format!(", {a} to {b}")).unwrap_or_default();
    writeln!(out, "  trained on: {} items, {} frauds{period}", meta.rows, meta.positives)?;
    writeln!(
        out,
        "  trees:      {} of depth ≤ {}, eta {}, bag of {}, {} split search, subsample {}, column sample {}",
        model.num_trees(),
        p.max_depth,
        p.eta,
        p.bag,
        p.split_search,
        p.subsample,
        p.colsample
    )?;
    let codes: usize = meta.categories.iter().map(|c| c.codes.len()).sum();
    let coded = if p.categorical {
        format!("split by sets ({} code features, {codes} codes seen in training)", meta.categories.len())
    } else {
        "split by thresholds on their numbers".to_owned()
    };
    writeln!(
        out,
        "  weighting:  frauds ×{} per decade of duty, {}; monotone constraints {}; codes {coded}",
        p.revenue_weight,
        if p.recency_half_life_days > 0.0 {
            format!("recency half-life {} days", p.recency_half_life_days)
        } else {
            "every day alike".to_owned()
        },
        if p.monotone { "on" } else { "off" }
    )?;
    match &meta.validation {
        Some(m) => {
            writeln!(out, "  validation: {} items, {} frauds, AUC {:.4}", m.n, m.frauds, m.auc)?;
            for k in &m.at_k {
                writeln!(
                    out,
                    "    top {:>4}%: precision {:.3}  recall {:.3}  revenue {:.3}",
                    k.k, k.precision, k.recall, k.revenue
                )?;
            }
        }
        None => writeln!(out, "  validation: none (train with --valid to record it)")?,
    }
    writeln!(out, "everything (parameters, codes): borderlink risk info --model {} --json", path.display())
}
