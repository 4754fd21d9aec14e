//! `borderlink demo`: one node on the embedded default (loopback, a local data folder), serving
//! the API and the web console until Ctrl-C.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use borderlink_node::Config;

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

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let config =
        Config { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)), data_dir: args.data, ..Config::default() };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        let data = config.data_dir.clone();
        let node = borderlink_node::bind(config).await?;
        // The one line a user (and the tests) read: where the console is.
        println!("Borderlink console: http://{}/", node.local_addr());
        println!("data folder: {}; press Ctrl-C to stop", data.display());
        node.serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        println!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::Ok)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("BORDERLINK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
