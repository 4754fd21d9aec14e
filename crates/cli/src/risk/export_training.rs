//! `borderlink risk export-training`: the training set a node collected from inspection results
//! (`GET /api/v1/risk/training-set`, signed by a member when a key is given), written as CSV in
//! the KCS column layout that `risk train` and `risk retrain` read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use borderlink_ledger::identity::MemberKeys;

use crate::node_client::{NodeClient, Transport};

/// Options of `borderlink risk export-training`.
#[derive(clap::Args)]
pub(super) struct ExportTrainingArgs {
    /// The node's URL, e.g. `http://127.0.0.1:8080`.
    #[arg(long, value_name = "URL")]
    node: String,
    /// Member key file that signs the request (needed when the node keeps a ledger).
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    /// Where to write the CSV.
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn run(a: &ExportTrainingArgs) -> anyhow::Result<()> {
    let keys = a.key.as_deref().map(MemberKeys::load).transpose()?;
    // A whole training set can take a while to gather.
    let transport = Transport { timeout: Duration::from_secs(300), direct: true };
    let node = NodeClient::connect(&a.node, keys, transport)?;
    let reply = node.get("api/v1/risk/training-set")?;
    anyhow::ensure!(
        reply.status.is_success(),
        "the node answered {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body).chars().take(300).collect::<String>()
    );
    std::fs::write(&a.out, &reply.body).with_context(|| format!("cannot write {}", a.out.display()))?;
    let rows = reply.body.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
    println!("wrote {rows} inspected items from {} to {}", node.base(), a.out.display());
    Ok(())
}
