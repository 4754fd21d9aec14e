//! `borderlink risk features`: the feature matrix of a CSV, as CSV, for other tools (the peer
//! benchmark reads it).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use borderlink_risk::features::{self, Example, FeatureVector, N_FEATURES};

use super::data::DataArgs;

/// Options of `borderlink risk features`.
#[derive(clap::Args)]
pub(super) struct FeaturesArgs {
    /// The CSV file.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    src: DataArgs,
    /// Output CSV: day, fraud, revenue, then one column per feature (empty = missing).
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn run(a: &FeaturesArgs) -> anyhow::Result<()> {
    let (ex, x) = a.src.featurize(&a.src.mapping()?, &a.data)?;
    write_features(&a.out, &ex, &x)?;
    eprintln!("wrote {} rows × {N_FEATURES} features to {}", x.len(), a.out.display());
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
