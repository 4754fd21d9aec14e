//! What the risk subcommands read: CSV files through a column mapping, their features computed
//! by replaying history (`--history` files first, then the data, in time order, with each
//! inspection outcome known `--label-delay` days after its declaration), and model files.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use borderlink_risk::features::{self, Example, FeatureVector};
use borderlink_risk::import::{self, ImportedRow};
use borderlink_risk::item::Day;
use borderlink_risk::mapping::Mapping;
use borderlink_risk::{History, Outcome, Replay, RiskModel};

/// Where data comes from: CSV files and how to read them.
#[derive(clap::Args, Clone)]
pub(super) struct DataArgs {
    /// Column mapping file (`field = Column name` lines); the KCS mapping when absent.
    #[arg(long, value_name = "FILE")]
    pub(super) mapping: Option<PathBuf>,
    /// Earlier data replayed first, so that history features of the data start from it.
    #[arg(long, value_name = "CSV")]
    pub(super) history: Vec<PathBuf>,
    /// Days after a declaration its inspection outcome is known to the history.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub(super) label_delay: Day,
}

pub(super) fn load_mapping(path: Option<&Path>) -> anyhow::Result<Mapping> {
    match path {
        None => Ok(Mapping::kcs()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            Mapping::parse(&text).with_context(|| format!("in {}", p.display()))
        }
    }
}

pub(super) fn read_rows(path: &Path, mapping: &Mapping) -> anyhow::Result<Vec<ImportedRow>> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    import::read_csv(std::io::BufReader::new(file), mapping).with_context(|| format!("in {}", path.display()))
}

fn read_examples(path: &Path, mapping: &Mapping) -> anyhow::Result<Vec<Example>> {
    Ok(import::examples(&read_rows(path, mapping)?))
}

pub(super) fn labelled(examples: &[Example], path: &Path) -> anyhow::Result<Vec<Outcome>> {
    examples
        .iter()
        .map(|e| e.outcome)
        .collect::<Option<Vec<_>>>()
        .with_context(|| format!("{} has no labels: its mapping needs a `fraud` column", path.display()))
}

pub(super) type Featurized = Vec<(Vec<Example>, Vec<FeatureVector>)>;

/// Replays the history files, then returns the features of `data` (and its examples).
pub(super) fn replay(src: &DataArgs, mapping: &Mapping, data: &[&Path]) -> anyhow::Result<Featurized> {
    Ok(replay_with_history(src, mapping, data)?.0)
}

/// [`replay`], also returning the history at the end (every outcome released).
pub(super) fn replay_with_history(
    src: &DataArgs,
    mapping: &Mapping,
    data: &[&Path],
) -> anyhow::Result<(Featurized, History)> {
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

pub(super) fn load_model(path: &Path) -> anyhow::Result<RiskModel> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    RiskModel::read(std::io::BufReader::new(file)).with_context(|| format!("cannot load the model {}", path.display()))
}
