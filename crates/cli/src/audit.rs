//! `borderlink audit list|subject|proof|anchor --node URL --key KEY`: a node's audit trail (who
//! read what, for which purpose), a data subject's access report, an offline-verifiable proof
//! of one entry (check it with `borderlink verify FILE --genesis genesis.json`), and anchoring
//! the log's new entries on the ledger now.

use std::io::Write;

use borderlink_access::audit::{AuditProof, Entry};
use serde::Deserialize;

use crate::node_client::NodeClient;
use crate::retention::NodeArgs;
use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink audit`.
#[derive(clap::Args)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(clap::Subcommand)]
enum AuditCommand {
    /// The audit trail, newest first, filtered.
    List {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// A data subject's access report: every read, re-identification or erasure of records
    /// naming the trader or person ID (e.g. an EORI number).
    Subject {
        /// The trader's or person's identifier.
        #[arg(value_name = "ID")]
        id: String,
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// The offline-verifiable proof of entry SEQ (JSON on standard output).
    Proof {
        /// The entry's sequence number.
        #[arg(value_name = "SEQ")]
        seq: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Anchor the log's new entries on the ledger now (the node also does it every interval).
    Anchor {
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(clap::Args)]
struct FilterArgs {
    /// Only reads by this actor (username, member id or `operator`).
    #[arg(long)]
    actor: Option<String>,
    /// Only reads for this purpose.
    #[arg(long)]
    purpose: Option<String>,
    /// Only entries about this record.
    #[arg(long)]
    record: Option<String>,
    /// From this date or date-time (ISO 8601).
    #[arg(long)]
    from: Option<String>,
    /// Before this date or date-time (ISO 8601).
    #[arg(long)]
    to: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// `table` (the default), `json` or `csv`.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
    format: String,
}

#[derive(Deserialize)]
struct Entries {
    total: u64,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Anchored {
    record_id: Option<String>,
    entries: u64,
}

pub(crate) fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    crate::finish(match args.command {
        AuditCommand::List { node, filter } => list(&node, None, &filter),
        AuditCommand::Subject { id, node, filter } => list(&node, Some(&id), &filter),
        AuditCommand::Proof { seq, node } => proof(&node, seq),
        AuditCommand::Anchor { node } => anchor(&node),
    })
}

fn client(a: &NodeArgs) -> Outcome<NodeClient> {
    Ok(NodeClient::new(&a.node, crate::ledger_cmd::load_keys(&a.key)?)?)
}

fn enc(s: &str) -> String {
    borderlink_ledger::auth::path_segment(s)
}

fn list(a: &NodeArgs, subject: Option<&str>, f: &FilterArgs) -> Outcome<ExitCode> {
    let node = client(a)?;
    let mut q = vec![format!("limit={}", f.limit)];
    for (k, v) in
        [("actor", &f.actor), ("purpose", &f.purpose), ("record", &f.record), ("from", &f.from), ("to", &f.to)]
    {
        if let Some(v) = v {
            q.push(format!("{k}={}", enc(v)));
        }
    }
    if f.format == "csv" {
        q.push("format=csv".into());
    }
    let path = match subject {
        Some(id) => format!("api/v1/audit/subjects/{}?{}", enc(id), q.join("&")),
        None => format!("api/v1/audit?{}", q.join("&")),
    };
    let reply = node.get(&path)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let mut out = std::io::stdout().lock();
    let written = if f.format == "csv" {
        out.write_all(&reply.body)
    } else if f.format == "json" {
        out.write_all(&reply.body).and_then(|()| writeln!(out))
    } else {
        let list: Entries = reply.json("audit entries")?;
        (|| {
            if let Some(id) = subject {
                writeln!(
                    out,
                    "access report for {id}: {} entr{}",
                    list.entries.len(),
                    if list.entries.len() == 1 { "y" } else { "ies" }
                )?;
            }
            for e in &list.entries {
                let a = &e.access;
                writeln!(
                    out,
                    "{:>6}  {}  {:<10} {} ({}, {})  for {}  {}{}",
                    e.seq,
                    borderlink_model::datetime::format_unix_ms(e.at_ms),
                    a.action,
                    a.actor,
                    a.organisation,
                    a.roles.join(" "),
                    a.purpose,
                    a.records.join(" "),
                    if a.withheld.is_empty() { String::new() } else { format!("  withheld: {}", a.withheld.join(" ")) }
                )?;
            }
            let plural = |n: u64| if n == 1 { "entry" } else { "entries" };
            writeln!(out, "{} shown; {} {} in the log", list.entries.len(), list.total, plural(list.total))
        })()
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failed::new(ExitCode::Failure, e)),
        _ => Ok(ExitCode::Ok),
    }
}

fn proof(a: &NodeArgs, seq: u64) -> Outcome<ExitCode> {
    let node = client(a)?;
    let reply = node.get(&format!("api/v1/audit/proofs/{seq}"))?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let proof: AuditProof = reply.json("audit proof")?;
    let mut out = std::io::stdout().lock();
    let written =
        serde_json::to_writer_pretty(&mut out, &proof).map_err(std::io::Error::from).and_then(|()| writeln!(out));
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Failed::new(ExitCode::Failure, format!("cannot write the proof: {e}")));
    }
    eprintln!(
        "proof of audit entry {seq} (anchored in {}, block {})",
        proof.ledger_proof.record_id, proof.ledger_proof.header.height
    );
    Ok(ExitCode::Ok)
}

fn anchor(a: &NodeArgs) -> Outcome<ExitCode> {
    let node = client(a)?;
    let reply = node.send(reqwest::Method::POST, "api/v1/audit/anchor", Vec::new())?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let done: Anchored = reply.json("anchor")?;
    match done.record_id {
        Some(r) => println!("anchored {} entries so far; the new anchor is {r}", done.entries),
        None => println!("nothing new to anchor ({} entries, all anchored)", done.entries),
    }
    Ok(ExitCode::Ok)
}
