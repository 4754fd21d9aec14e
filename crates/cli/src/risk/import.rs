//! `borderlink risk import`: a CSV read through the mapping, written as standardized
//! declarations (JSON lines); `--show-mapping` prints the mapping in use.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::data::{load_mapping, read_rows};

/// Options of `borderlink risk import`.
#[derive(clap::Args)]
pub(super) struct ImportArgs {
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
}

pub(super) fn run(a: &ImportArgs) -> anyhow::Result<()> {
    let mapping = load_mapping(a.mapping.as_deref())?;
    if a.show_mapping {
        print!("{}", mapping.to_text());
        return Ok(());
    }
    let rows = read_rows(&a.data, &mapping)?;
    let mut w: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let labelled = rows.iter().filter(|r| r.outcome.is_some()).count();
    for r in &rows {
        serde_json::to_writer(&mut w, &r.record)?;
        writeln!(w)?;
    }
    w.flush()?;
    eprintln!("imported {} declarations ({labelled} with inspection outcomes) from {}", rows.len(), a.data.display());
    Ok(())
}
