//! `borderlink risk …`: import, features, train, evaluate, export and benchmark the risk model;
//! export a node's inspection feedback as a training set and retrain on it (compared with the
//! active model before anyone activates the new one).
//!
//! Data files are CSV read through a column mapping (the KCS benchmark mapping is built in).
//! History features are computed by replaying the files in time order (`--history` files
//! first), with inspection outcomes known `--label-delay` days after their declaration
//! ([`data`]). Each subcommand has a module of its own: its options and what it does.

use borderlink_risk::RiskError;
use clap::Subcommand;

use crate::ExitCode;

mod bench;
mod data;
mod eval;
mod export;
mod export_training;
mod features;
mod import;
mod info;
mod retrain;
mod train;

/// Options of `borderlink risk`.
#[derive(clap::Args)]
pub(crate) struct RiskArgs {
    #[command(subcommand)]
    command: RiskCommand,
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Read a CSV into standardized declarations (JSON lines) and inspection outcomes.
    Import(import::ImportArgs),
    /// Write the feature matrix of a CSV (for other tools; the peer benchmark reads it).
    Features(features::FeaturesArgs),
    /// Train a model on labelled declarations.
    Train(train::TrainArgs),
    /// Evaluate a model on labelled declarations: AUC, precision, recall and revenue at k %.
    Eval(eval::EvalArgs),
    /// Summarise a model: version, features, parameters, training data, validation metrics
    /// (`--json`: the whole metadata, with the codes it splits by).
    Info(info::InfoArgs),
    /// Write a model's trees as an XGBoost JSON model (XGBoost loads it).
    Export(export::ExportArgs),
    /// Export the training set a node collected from inspection results (CSV in the KCS
    /// column layout, which `risk train` and `risk retrain` read with the built-in mapping).
    ExportTraining(export_training::ExportTrainingArgs),
    /// Train a candidate model on labelled declarations (e.g. an exported training set) and
    /// compare it with the active model on the most recent days, before any activation: the
    /// drift report, then both models' AUC, precision and revenue at k %. Nothing is activated.
    Retrain(retrain::RetrainArgs),
    /// Measure scoring speed: batch throughput and one-declaration latency, in-process.
    Bench(bench::BenchArgs),
}

pub(crate) fn run(args: RiskArgs) -> anyhow::Result<ExitCode> {
    let result = match args.command {
        RiskCommand::Import(a) => import::run(&a),
        RiskCommand::Features(a) => features::run(&a),
        RiskCommand::Train(a) => train::run(&a),
        RiskCommand::Eval(a) => eval::run(&a),
        RiskCommand::Info(a) => info::run(&a),
        RiskCommand::Export(a) => export::run(&a),
        RiskCommand::ExportTraining(a) => export_training::run(&a),
        RiskCommand::Retrain(a) => retrain::run(&a),
        RiskCommand::Bench(a) => bench::run(&a),
    };
    match result {
        Ok(()) => Ok(ExitCode::Ok),
        Err(e) if crate::closed_pipe(&e) => Ok(ExitCode::Ok),
        Err(e) => {
            // Bad input (a malformed CSV, mapping or model file, an unreadable file) is exit 3;
            // anything else is a failure.
            let input = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some()
                    || matches!(
                        c.downcast_ref::<RiskError>(),
                        Some(
                            RiskError::Csv { .. }
                                | RiskError::Mapping { .. }
                                | RiskError::Model(_)
                                | RiskError::Criteria(_)
                                | RiskError::Io(_)
                        )
                    )
            });
            eprintln!("error: {e:#}");
            Ok(if input { ExitCode::Input } else { ExitCode::Failure })
        }
    }
}
