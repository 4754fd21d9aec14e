//! `borderlink network new`: a consortium from one command — the CA, each organisation's keys
//! and certificates, and the genesis file. What it prints names files, never their secrets.

use std::io::Write;
use std::path::{Path, PathBuf};

use borderlink_ledger::consortium::{self, OrgSpec};

use crate::ExitCode;

/// Options of `borderlink network`.
#[derive(clap::Args)]
pub(crate) struct NetworkArgs {
    #[command(subcommand)]
    command: NetworkCommand,
}

#[derive(clap::Subcommand)]
enum NetworkCommand {
    /// Create a consortium: a CA, keys and certificates for each organisation, and the genesis.
    New(NewArgs),
}

#[derive(clap::Args)]
struct NewArgs {
    /// Folder to create the consortium in (absent or empty).
    #[arg(long, value_name = "DIR", value_parser = empty_dir)]
    dir: PathBuf,
    /// An organisation, `NAME:ROLE:COUNTRY[:TRADER_ID,…]`; ROLE is customs, oga, aeo, carrier or
    /// port; COUNTRY is ISO 3166-1 alpha-2. Repeat for each organisation.
    #[arg(long = "org", value_name = "NAME:ROLE:COUNTRY", required = true, value_parser = parse_org)]
    orgs: Vec<OrgSpec>,
    /// The consortium's name.
    #[arg(long, value_name = "CONSORTIUM", default_value = "Borderlink consortium")]
    name: String,
}

fn parse_org(s: &str) -> Result<OrgSpec, String> {
    OrgSpec::parse(s).map_err(|e| e.to_string())
}

/// Refused as a usage error (exit 2) before anything is written: a consortium folder holds
/// secret keys, so it never mixes with other files.
fn empty_dir(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    match std::fs::read_dir(&p) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                Err(format!("{s} is not empty; choose a new or empty folder"))
            } else {
                Ok(p)
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(p),
        Err(e) if p.is_file() => Err(format!("{s} is a file ({e})")),
        Err(e) => Err(format!("cannot read {s}: {e}")),
    }
}

pub(crate) fn run(args: NetworkArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        NetworkCommand::New(a) => new(a),
    }
}

fn new(a: NewArgs) -> anyhow::Result<ExitCode> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let created_at = borderlink_model::datetime::format_unix_ms(now);
    let created = consortium::create(&a.dir, &a.name, &a.orgs, &created_at)?;
    let g = &created.genesis;
    let mut out = std::io::stdout().lock();
    writeln!(out, "created consortium {:?} in {}", g.consortium, a.dir.display())?;
    writeln!(out, "chain id: {}", g.chain_id())?;
    writeln!(out, "genesis:  {}", created.genesis_path.display())?;
    writeln!(out, "CA:       {} (key {}, mode 0600)", a.dir.join("ca.pem").display(), a.dir.join("ca.key").display())?;
    writeln!(out, "members:")?;
    let width = g.members.iter().map(|m| m.id.len()).max().unwrap_or(0);
    for m in &g.members {
        let traders =
            if m.trader_ids.is_empty() { String::new() } else { format!(", trader ids {}", m.trader_ids.join(", ")) };
        writeln!(out, "  {:<width$}  {} ({} of {}{traders})", m.id, m.name, m.role.name(), m.country)?;
        if let Some((_, key)) = created.key_files.iter().find(|(id, _)| id == &m.id) {
            writeln!(out, "  {:<width$}  key file {} (mode 0600; keep it secret)", "", key.display())?;
        }
    }
    writeln!(
        out,
        "governance: {} approval(s) from {} members",
        g.governance.approvals_required,
        g.governance.eligible_roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
    )?;
    if let Some((_, key)) = created.key_files.first() {
        writeln!(
            out,
            "next: give each organisation its orgs/ID folder and everyone {}",
            file_name(&created.genesis_path)
        )?;
        writeln!(out, "      e.g. borderlink submit RECORD.json --key {} --node http://127.0.0.1:8080", key.display())?;
    }
    Ok(ExitCode::Ok)
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}
