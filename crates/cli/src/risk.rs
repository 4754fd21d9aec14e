//! `borderlink risk …`: train, evaluate and import for risk management.

use crate::ExitCode;

/// Options of `borderlink risk`.
#[derive(clap::Args)]
pub(crate) struct RiskArgs {}

pub(crate) fn run(_args: RiskArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("risk management is not built yet")
}
