//! `borderlink export --node URL --key KEY --purpose statistics --type declaration|training
//! --format parquet --out DIR`: a pseudonymized Parquet export of a node's goods items
//! (`GET /api/v1/export`), written to `DIR/{type}-{scope}.parquet`.

use std::path::PathBuf;

use crate::node_client::NodeClient;
use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink export`.
#[derive(clap::Args)]
pub(crate) struct ExportArgs {
    /// The node's URL.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The member key that signs the request (a customs administration's).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The declared purpose of the read (exports serve `statistics`).
    #[arg(long, value_name = "PURPOSE")]
    purpose: String,
    /// What to export: `declaration` (committed declarations' goods items, no labels) or
    /// `training` (inspected items with what the inspection found).
    #[arg(long = "type", value_name = "TYPE")]
    kind: String,
    /// The file format.
    #[arg(long, value_name = "FORMAT", default_value = "parquet")]
    format: String,
    /// The pseudonym scope (default `statistics-{type}`): one key per scope, so exports of two
    /// scopes cannot be joined on their pseudonyms.
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// The folder to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub(crate) fn run(a: ExportArgs) -> anyhow::Result<ExitCode> {
    crate::finish(export(&a))
}

fn export(a: &ExportArgs) -> Outcome<ExitCode> {
    let node = NodeClient::new(&a.node, crate::ledger_cmd::load_keys(&a.key)?)?;
    let enc = borderlink_ledger::auth::path_segment;
    let scope = a.scope.clone().unwrap_or_else(|| format!("statistics-{}", a.kind));
    let path = format!(
        "api/v1/export?purpose={}&type={}&format={}&scope={}",
        enc(&a.purpose),
        enc(&a.kind),
        enc(&a.format),
        enc(&scope)
    );
    let reply = node.get(&path)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let rows = borderlink_analytics::read_parquet(reply.body.clone())
        .map_err(|e| Failed::new(ExitCode::Failure, format!("the node's export does not read as Parquet: {e}")))?;
    std::fs::create_dir_all(&a.out)
        .map_err(|e| Failed::new(ExitCode::Input, format!("cannot create {}: {e}", a.out.display())))?;
    let file = a.out.join(format!("{}-{scope}.parquet", a.kind));
    std::fs::write(&file, &reply.body)
        .map_err(|e| Failed::new(ExitCode::Input, format!("cannot write {}: {e}", file.display())))?;
    println!("wrote {} goods item(s) to {} (identifiers pseudonymized, scope {scope})", rows.len(), file.display());
    Ok(ExitCode::Ok)
}
