//! What the risk subcommands read: CSV files through a column mapping, their features computed
//! by replaying history (`--history` files first, then the data, in time order, with each
//! inspection outcome known `--label-delay` days after its declaration), and model files.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use borderlink_risk::features::{self, Example, FeatureVector};
use borderlink_risk::import::{self, ImportedRow};
use borderlink_risk::item::{Day, format_day};
use borderlink_risk::mapping::Mapping;
use borderlink_risk::{History, Outcome, Replay, RiskModel, eval};

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

/// A model and the declarations it scores (`risk eval`, `risk bench`).
#[derive(clap::Args)]
pub(super) struct ScoringArgs {
    /// The model file.
    #[arg(long)]
    pub(super) model: PathBuf,
    /// Declarations to score (CSV).
    #[arg(long)]
    pub(super) data: PathBuf,
    #[command(flatten)]
    pub(super) src: DataArgs,
}

/// What [`ScoringArgs`] name, read: the model, the mapping, and the examples and features of
/// the data (after the history).
pub(super) struct Scoring {
    pub(super) model: RiskModel,
    pub(super) mapping: Mapping,
    pub(super) examples: Vec<Example>,
    pub(super) x: Vec<FeatureVector>,
}

impl ScoringArgs {
    pub(super) fn read(&self) -> anyhow::Result<Scoring> {
        let model = load_model(&self.model)?;
        let mapping = self.src.mapping()?;
        let (examples, x) = self.src.featurize(&mapping, &self.data)?;
        Ok(Scoring { model, mapping, examples, x })
    }
}

impl DataArgs {
    /// The column mapping: `--mapping`, or the KCS mapping.
    pub(super) fn mapping(&self) -> anyhow::Result<Mapping> {
        load_mapping(self.mapping.as_deref())
    }

    /// The examples of `data` and their features, after the history.
    pub(super) fn featurize(
        &self,
        mapping: &Mapping,
        data: &Path,
    ) -> anyhow::Result<(Vec<Example>, Vec<FeatureVector>)> {
        replay(self, mapping, &[data])?.pop().context("no data")
    }
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

/// Reads a data file: CSV, or a pseudonymized Parquet export of Borderlink (`*.parquet`, the
/// training set's columns), which is read as the same CSV.
pub(super) fn read_rows(path: &Path, mapping: &Mapping) -> anyhow::Result<Vec<ImportedRow>> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let rows = borderlink_analytics::read_parquet(bytes).with_context(|| format!("in {}", path.display()))?;
        let csv = borderlink_analytics::to_training_csv(&rows);
        return import::read_csv(csv.as_slice(), mapping).with_context(|| format!("in {}", path.display()));
    }
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    import::read_csv(std::io::BufReader::new(file), mapping).with_context(|| format!("in {}", path.display()))
}

fn read_examples(path: &Path, mapping: &Mapping) -> anyhow::Result<Vec<Example>> {
    Ok(import::examples(&read_rows(path, mapping)?))
}

fn labelled(examples: &[Example], path: &Path) -> anyhow::Result<Vec<Outcome>> {
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

/// Labelled items in the order of their file: features, inspection outcomes and days.
pub(super) struct Labelled {
    pub(super) x: Vec<FeatureVector>,
    pub(super) outcomes: Vec<Outcome>,
    days: Vec<Option<Day>>,
}

impl Labelled {
    /// The items of `path` (an error names the file when an item has no label).
    pub(super) fn new(examples: &[Example], x: Vec<FeatureVector>, path: &Path) -> anyhow::Result<Self> {
        let outcomes = labelled(examples, path)?;
        Ok(Labelled { x, outcomes, days: examples.iter().map(|e| e.item.day).collect() })
    }

    pub(super) fn len(&self) -> usize {
        self.x.len()
    }

    pub(super) fn frauds(&self) -> usize {
        self.outcomes.iter().filter(|o| o.fraud).count()
    }

    pub(super) fn last_day(&self) -> Option<Day> {
        self.days.iter().flatten().copied().max()
    }

    /// The days as training weighs them (an undated item as day 0).
    pub(super) fn days(&self) -> Vec<Day> {
        self.days.iter().map(|d| d.unwrap_or(0)).collect()
    }

    /// The first and the last day, as a model's training period.
    pub(super) fn period(&self) -> Option<(String, String)> {
        let days = self.days.iter().flatten().copied();
        let (first, last) = days.clone().min().zip(days.max())?;
        Some((format_day(first), format_day(last)))
    }

    /// The items dated before `cut`, and the others (undated ones among them).
    pub(super) fn split_at(&self, cut: Day) -> (Labelled, Labelled) {
        let (before, after): (Vec<usize>, Vec<usize>) =
            (0..self.len()).partition(|&i| self.days[i].is_some_and(|d| d < cut));
        let pick = |idx: Vec<usize>| Labelled {
            x: idx.iter().map(|&i| self.x[i]).collect(),
            outcomes: idx.iter().map(|&i| self.outcomes[i]).collect(),
            days: idx.iter().map(|&i| self.days[i]).collect(),
        };
        (pick(before), pick(after))
    }

    /// `model`'s scores of the items, and how they rank the inspection outcomes.
    pub(super) fn evaluate(&self, model: &RiskModel) -> anyhow::Result<(Vec<f32>, eval::Metrics)> {
        let flat: Vec<f32> = self.x.iter().flatten().copied().collect();
        let scores = model.predict_batch(&flat)?;
        let fraud: Vec<bool> = self.outcomes.iter().map(|o| o.fraud).collect();
        let revenue: Vec<f64> = self.outcomes.iter().map(|o| o.revenue).collect();
        let metrics = eval::evaluate(&scores, &fraud, &revenue);
        Ok((scores, metrics))
    }
}
