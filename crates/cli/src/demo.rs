//! `borderlink demo`: one node on the embedded default, serving the web console.

use std::path::PathBuf;

use crate::ExitCode;

/// Options of `borderlink demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Port to listen on (127.0.0.1). 0 picks a free port.
    #[arg(long, default_value_t = 8080, env = "BORDERLINK_PORT")]
    port: u16,
    /// Data folder of the node.
    #[arg(long, default_value = "./borderlink-data", env = "BORDERLINK_DATA")]
    data: PathBuf,
}

pub(crate) fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the node is not wired yet")
}
