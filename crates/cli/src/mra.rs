//! `borderlink mra aeo --node URL --key KEY [ID]`: what a customs administration receives of the
//! AEOs of its mutual-recognition partners (`GET /api/v1/mra/aeo[/{id}]`, purpose
//! `mra-exchange`), printed as JSON. The AEO gives and withdraws its consent with `borderlink
//! submit` of an `aeo-consent` record (docs/mra.md).

use std::io::Write;
use std::path::PathBuf;

use crate::node_client::NodeClient;
use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink mra`.
#[derive(clap::Args)]
pub(crate) struct MraArgs {
    #[command(subcommand)]
    command: MraCommand,
}

#[derive(clap::Subcommand)]
enum MraCommand {
    /// One AEO authorisation of a partner programme (by its record id,
    /// `aeo-authorization:{issuing country}:{number}`), or a page of them.
    Aeo(AeoArgs),
}

#[derive(clap::Args)]
struct AeoArgs {
    /// The node's URL.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The member key that signs the request (a customs administration's).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The authorisation's record id; without it, a page of the AEOs shared with the caller.
    id: Option<String>,
    /// Only the authorisations of the holder with this unique id (trader identification number).
    #[arg(long, value_name = "TIN", conflicts_with = "id")]
    unique_id: Option<String>,
    /// The page after this unique id (the previous page's `next`).
    #[arg(long, value_name = "TIN", conflicts_with = "id")]
    after: Option<String>,
    /// At most this many AEOs (1 to 1,000).
    #[arg(long, value_name = "N", conflicts_with = "id")]
    limit: Option<usize>,
}

pub(crate) fn run(a: MraArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        MraCommand::Aeo(a) => crate::finish(aeo(&a)),
    }
}

fn aeo(a: &AeoArgs) -> Outcome<ExitCode> {
    let node = NodeClient::new(&a.node, crate::ledger_cmd::load_keys(&a.key)?)?;
    let enc = borderlink_ledger::auth::path_segment;
    let path = match &a.id {
        Some(id) => format!("api/v1/mra/aeo/{}?purpose=mra-exchange", enc(id)),
        None => {
            let mut p = "api/v1/mra/aeo?purpose=mra-exchange".to_owned();
            for (name, value) in [("unique_id", a.unique_id.clone()), ("after", a.after.clone())] {
                if let Some(v) = value {
                    p.push_str(&format!("&{name}={}", enc(&v)));
                }
            }
            if let Some(n) = a.limit {
                p.push_str(&format!("&limit={n}"));
            }
            p
        }
    };
    let reply = node.get(&path)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let answer: serde_json::Value = reply.json("mutual-recognition")?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &answer)
        .and_then(|()| writeln!(out).map_err(serde_json::Error::io))
        .map_err(|e| Failed::new(ExitCode::Failure, e))?;
    Ok(ExitCode::Ok)
}
