//! `borderlink serve --config FILE`: one node as an organisation runs it in production — its
//! own data folder, its member key, and (with a `[cluster]` section) its place in the
//! consortium's Raft group. Stops cleanly on Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use borderlink_node::Config;

use crate::ExitCode;

/// Options of `borderlink serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// The node's configuration file (TOML; `network new` writes one per node in DIR/nodes/ID/node.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    #[command(flatten)]
    log: crate::logging::LogArgs,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // A production node logs its requests and elections by default.
    args.log.init(crate::logging::NODE);
    let config = Config::load(&args.config).map_err(anyhow::Error::msg)?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        let data = config.data_dir.clone();
        let node = borderlink_node::bind(config).await?;
        let stopping = shutdown_signals().context("cannot listen for Ctrl-C")?;
        println!("Borderlink node: {}/", node.url());
        if let Some(svc) = node.ledger()
            && let Some(c) = svc.cluster()
        {
            println!("raft node {} of {}", c.node_id(), svc.ledger().local_member().unwrap_or("-"));
        }
        println!("data folder: {}", data.display());
        node.serve(stopping).await?;
        println!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::Ok)
}

/// Resolves on Ctrl-C or SIGTERM.
/// Registers for Ctrl-C (SIGINT) and SIGTERM now — before the caller says it serves, so that a
/// signal sent as soon as the banner is read is not the default action (death by signal) — and
/// returns the future that ends at the first of them. Call it inside the runtime.
pub(crate) fn shutdown_signals() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

pub(crate) async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
