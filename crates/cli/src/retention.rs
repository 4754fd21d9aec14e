//! `borderlink retention review|apply --node URL --key KEY`: the records past the consortium's
//! retention periods (`retention_days` in the genesis), and their crypto-shredding by the node of
//! the customs administration of their country.

use std::io::Write;
use std::path::PathBuf;

use serde::Deserialize;

use crate::node_client::NodeClient;
use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink retention`.
#[derive(clap::Args)]
pub(crate) struct RetentionArgs {
    #[command(subcommand)]
    command: RetentionCommand,
}

#[derive(clap::Subcommand)]
enum RetentionCommand {
    /// List the records past their retention period (exit 0; nothing is changed).
    Review {
        #[command(flatten)]
        node: NodeArgs,
        /// Review as of this date or date-time (ISO 8601), e.g. to see what a year brings.
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },
    /// Erase (crypto-shred) the expired private records of the node's country, signed by the
    /// node's member; the chain still verifies afterwards.
    Apply {
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// The node a command administers and the key that signs for it (its own member's).
#[derive(clap::Args)]
pub(crate) struct NodeArgs {
    /// The node's URL (its operator's node: the request is signed for it).
    #[arg(long, value_name = "URL")]
    pub(crate) node: String,
    /// The node's own member key (`orgs/ID/member.key`).
    #[arg(long, value_name = "KEY")]
    pub(crate) key: PathBuf,
}

#[derive(Deserialize)]
struct Review {
    at: String,
    retention_days: std::collections::BTreeMap<String, u32>,
    expired: Vec<Expired>,
}

#[derive(Deserialize)]
struct Expired {
    record_id: String,
    record_type: String,
    expired_at: String,
    private: bool,
}

#[derive(Deserialize)]
struct Applied {
    erased: Vec<String>,
    not_ours: Vec<String>,
    refused: Vec<Refused>,
    clear: Vec<String>,
}

#[derive(Deserialize)]
struct Refused {
    record_id: String,
    code: String,
    message: String,
}

pub(crate) fn run(args: RetentionArgs) -> anyhow::Result<ExitCode> {
    crate::finish(match args.command {
        RetentionCommand::Review { node, at } => review(&node, at.as_deref()),
        RetentionCommand::Apply { node } => apply(&node),
    })
}

fn client(a: &NodeArgs) -> Outcome<NodeClient> {
    Ok(NodeClient::new(&a.node, crate::ledger_cmd::load_keys(&a.key)?)?)
}

fn review(a: &NodeArgs, at: Option<&str>) -> Outcome<ExitCode> {
    let node = client(a)?;
    let path = match at {
        Some(at) => format!("api/v1/retention?at={}", borderlink_ledger::auth::path_segment(at)),
        None => "api/v1/retention".to_owned(),
    };
    let reply = node.get(&path)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let r: Review = reply.json("retention review")?;
    let mut out = std::io::stdout().lock();
    let periods: Vec<String> = r.retention_days.iter().map(|(t, d)| format!("{t} {d} days")).collect();
    let shown = (|| {
        writeln!(
            out,
            "retention at {}: {}",
            r.at,
            if periods.is_empty() { "none".into() } else { periods.join(", ") }
        )?;
        writeln!(out, "{} record(s) past their retention period", r.expired.len())?;
        for e in &r.expired {
            let how = if e.private { "private: erasable" } else { "clear: cannot be erased" };
            writeln!(out, "  {}  {}  expired {}  ({how})", e.record_id, e.record_type, e.expired_at)?;
        }
        Ok::<_, std::io::Error>(())
    })();
    shown.map_err(|e| Failed::new(ExitCode::Failure, e))?;
    Ok(ExitCode::Ok)
}

fn apply(a: &NodeArgs) -> Outcome<ExitCode> {
    let node = client(a)?;
    let reply = node.send(reqwest::Method::POST, "api/v1/retention/apply", Vec::new())?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let r: Applied = reply.json("retention run")?;
    let mut out = std::io::stdout().lock();
    let shown = (|| {
        writeln!(out, "erased {} expired private record(s)", r.erased.len())?;
        for id in &r.erased {
            writeln!(out, "  erased {id}")?;
        }
        for id in &r.not_ours {
            writeln!(out, "  left {id}: another administration's record")?;
        }
        for id in &r.clear {
            writeln!(out, "  left {id}: a clear record cannot be erased")?;
        }
        for f in &r.refused {
            writeln!(out, "  refused {} [{}]: {}", f.record_id, f.code, f.message)?;
        }
        Ok::<_, std::io::Error>(())
    })();
    shown.map_err(|e| Failed::new(ExitCode::Failure, e))?;
    Ok(if r.refused.is_empty() { ExitCode::Ok } else { ExitCode::Invalid })
}
