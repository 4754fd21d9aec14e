//! `borderlink`: the command line of a Borderlink node.
//!
//! Exit codes, in one place ([`ExitCode`]): 0 success, 1 a document is invalid, 2 usage error
//! (clap's own), 3 an input could not be read, 4 the node failed.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode as ProcessExit;

use anyhow::Context;
use borderlink_model::{Profile, RecordType, Report, ValidateOptions, validate};
use clap::{Parser, Subcommand, ValueEnum};

mod audit;
mod bench;
mod bench_iot;
mod bench_network;
mod console;
mod demo;
mod device;
mod epcis;
mod export;
mod ledger_cmd;
mod logging;
mod mra;
mod network;
mod node_client;
mod progress;
mod retention;
mod risk;
mod serve;
mod sim;
mod user;

#[derive(Parser)]
#[command(
    name = "borderlink",
    version,
    about = "Borderlink: trustworthy border data shared by customs, agencies and AEOs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The consortium CA certificate (`ca.pem` in the folder `network new` made) that an
    /// `https://` node's certificate must chain to; no other root is trusted. `network up` and
    /// `network status` use DIR/ca.pem by default.
    #[arg(long, global = true, value_name = "FILE", env = "BORDERLINK_CA")]
    ca: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate records (JSON or WCO DM XML) against the standardized dataset.
    Validate {
        /// Files to validate; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The record type; detected from each document when not given.
        #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
        record_type: Option<RecordType>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Largest document accepted, in bytes.
        #[arg(long, default_value_t = borderlink_model::validate::DEFAULT_MAX_BYTES)]
        max_bytes: usize,
        /// A validation profile (TOML or JSON): the severity of each rule and national code
        /// lists; the consortium's core profile when not given.
        #[arg(long, value_name = "FILE")]
        profile: Option<PathBuf>,
    },
    /// List every validation rule with its core severity (`--markdown`: the text of
    /// docs/validation-rules.md).
    Rules {
        /// Print the Markdown document instead of the table.
        #[arg(long)]
        markdown: bool,
    },
    /// Print the JSON Schema of a record type (declaration, aeo-authorization, transport-movement, inspection-result,
    /// aeo-consent).
    Schema {
        /// The record type.
        #[arg(value_parser = parse_type)]
        record_type: RecordType,
    },
    /// Run the demo consortium (one node per administration, loopback, a local data folder) and
    /// its web console; prints a short banner and logs only warnings (`-v` for more).
    Demo(demo::DemoArgs),
    /// Risk management: train, evaluate and import (selectivity criteria and the learned model).
    Risk(risk::RiskArgs),
    /// The consortium: `network new` creates its CA, member keys and genesis.
    Network(network::NetworkArgs),
    /// Sign a record and submit it to a node's ledger (clear, or private to some members).
    Submit(ledger_cmd::SubmitArgs),
    /// Export an offline-verifiable proof of a record (from a node, or a stopped node's folder).
    Proof(ledger_cmd::ProofArgs),
    /// Verify a proof offline against the consortium's genesis.
    Verify(ledger_cmd::VerifyArgs),
    /// Ledger maintenance: `ledger verify` checks a whole ledger.
    Ledger(ledger_cmd::LedgerArgs),
    /// Benchmarks: `bench ledger` measures committed tx/s against the signature-verification limit.
    Bench(bench::BenchArgs),
    /// Run one node from its configuration file, as an organisation runs it in production.
    Serve(serve::ServeArgs),
    /// The operator's console: `console rotate-token` replaces a node's console token.
    Console(console::ConsoleArgs),
    /// Retention: `retention review` lists the records past their period, `retention apply`
    /// crypto-shreds the expired private ones of the node's country.
    Retention(retention::RetentionArgs),
    /// A pseudonymized analytics export (Parquet) of a node's goods items, for a declared purpose.
    Export(export::ExportArgs),
    /// The people of a node's organisation: `user add|list|disable|reset-password`, on a running
    /// node (`--node URL --key KEY`) or a stopped node's data folder (`--data DIR`).
    User(user::UserArgs),
    /// The audit trail of a node: `audit list`, `audit subject ID` (a data subject's access
    /// report), `audit proof SEQ` (check it with `borderlink verify`), `audit anchor`.
    Audit(audit::AuditArgs),
    /// AEO mutual recognition: `mra aeo [ID]`, the agreed fields of the consenting AEOs of
    /// partner programmes, as a customs administration receives them.
    Mra(mra::MraArgs),
    /// The IoT device registry: `device register|list|show|lost|retire|activate` (e-seals,
    /// trackers, readers), recorded on the ledger by the owner's node.
    Device(device::DeviceArgs),
    /// GS1 EPCIS 2.0 events: `epcis capture FILE` and `epcis query [NAME=VALUE …]` at a node
    /// (`--node URL --key KEY`), `epcis hash FILE` (the CBV 2.0 event hash IDs, offline).
    Epcis(epcis::EpcisArgs),
    /// Simulate devices: `sim trips` drives realistic container trips into a node (e-seal
    /// uplinks, Codec 8 tracker positions, incidents) so that traces and alerts can be seen.
    Sim(sim::SimArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Readable report.
    Human,
    /// One JSON report per file (an array).
    Json,
}

fn parse_type(s: &str) -> Result<RecordType, String> {
    RecordType::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = RecordType::ALL.iter().map(|t| t.name()).collect();
        format!("unknown record type {s:?}; expected one of: {}", names.join(", "))
    })
}

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitCode {
    Ok = 0,
    Invalid = 1,
    Input = 3,
    Failure = 4,
}

/// Why a command stops: the message the user reads and the exit code.
pub(crate) struct Failed {
    code: ExitCode,
    message: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Failed {
    pub(crate) fn new(code: ExitCode, e: impl std::fmt::Display) -> Self {
        Self { code, message: format!("error: {e}") }
    }
    pub(crate) fn input(e: anyhow::Error) -> Self {
        Self { code: ExitCode::Input, message: format!("error: {e:#}") }
    }
    pub(crate) fn node(e: anyhow::Error) -> Self {
        Self { code: ExitCode::Failure, message: format!("error: {e:#}") }
    }
}

pub(crate) type Outcome<T> = Result<T, Failed>;

/// Prints why a command stopped, if it did, and gives its exit code.
pub(crate) fn finish(r: Outcome<ExitCode>) -> anyhow::Result<ExitCode> {
    match r {
        Ok(code) => Ok(code),
        Err(f) => {
            eprintln!("{}", f.message);
            Ok(f.code)
        }
    }
}

/// Milliseconds since the Unix epoch: when a transaction, a genesis or a request signature is
/// made.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn main() -> ProcessExit {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        // `borderlink schema declaration | head`: the reader has what it wanted.
        Err(e) if closed_pipe(&e) => ExitCode::Ok,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::Failure
        }
    };
    ProcessExit::from(code as u8)
}

/// Whether `e` comes from writing to a pipe whose reader has gone (`| head`): not a failure of
/// the command, so it ends quietly.
pub(crate) fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(ca) = cli.ca {
        node_client::trust_ca(ca);
    }
    match cli.command {
        Command::Validate { files, record_type, format, max_bytes, profile } => {
            let profile = match profile.map(|p| load_profile(&p)).transpose() {
                Ok(p) => p.map(std::sync::Arc::new).unwrap_or_else(|| std::sync::Arc::clone(Profile::core())),
                Err(f) => return finish(Err(f)),
            };
            Ok(validate_files(&files, &ValidateOptions { record_type, max_bytes, profile }, format))
        }
        Command::Rules { markdown } => {
            let mut out = std::io::stdout().lock();
            if markdown {
                out.write_all(borderlink_model::rulebook::markdown().as_bytes())?;
            } else {
                for r in borderlink_model::rulebook::RULES {
                    let fixed = if r.adjustable { "" } else { " (fixed)" };
                    writeln!(out, "{:<40} {:<7}{fixed:<8} {}", r.name, r.default.name(), r.description)?;
                }
            }
            Ok(ExitCode::Ok)
        }
        Command::Schema { record_type } => {
            let schema = borderlink_model::json_schema(record_type);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &schema)?;
            writeln!(out)?;
            Ok(ExitCode::Ok)
        }
        Command::Demo(args) => demo::run(args),
        Command::Risk(args) => risk::run(args),
        Command::Network(args) => network::run(args),
        Command::Submit(args) => ledger_cmd::submit(args),
        Command::Proof(args) => ledger_cmd::proof(args),
        Command::Verify(args) => ledger_cmd::verify(args),
        Command::Ledger(args) => ledger_cmd::ledger(args),
        Command::Bench(args) => bench::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Console(args) => console::run(args),
        Command::Retention(args) => retention::run(args),
        Command::Export(args) => export::run(args),
        Command::User(args) => user::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Mra(args) => mra::run(args),
        Command::Device(args) => device::run(args),
        Command::Epcis(args) => epcis::run(args),
        Command::Sim(args) => sim::run(args),
    }
}

/// Reads and checks a validation profile file (TOML or JSON).
fn load_profile(path: &Path) -> Outcome<Profile> {
    const MAX_PROFILE_BYTES: usize = 4 * 1024 * 1024;
    let bytes = read_limited(path, MAX_PROFILE_BYTES)
        .map_err(|e| Failed::new(ExitCode::Input, format!("cannot read the profile {}: {e}", path.display())))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failed::new(ExitCode::Input, format!("the profile {} is not UTF-8 text", path.display())))?;
    Profile::parse(text).map_err(|e| Failed::new(ExitCode::Input, format!("the profile {}: {e}", path.display())))
}

/// Reads a file without reading more than `max + 1` bytes, so that a 200 MB file is refused
/// without loading it.
fn read_limited(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let limit = max as u64 + 1;
    if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut buf)?;
    } else {
        std::fs::File::open(path)?.take(limit).read_to_end(&mut buf)?;
    }
    Ok(buf)
}

#[derive(serde::Serialize)]
struct FileReport<'a> {
    file: String,
    #[serde(flatten)]
    report: &'a Report,
}

fn validate_files(files: &[PathBuf], opts: &ValidateOptions, format: Format) -> ExitCode {
    let mut reports = Vec::new();
    let mut worst = ExitCode::Ok;
    for path in files {
        let name = path.display().to_string();
        let bytes = match read_limited(path, opts.max_bytes).with_context(|| format!("cannot read {name}")) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e:#}");
                worst = ExitCode::Input;
                continue;
            }
        };
        let report = validate(&bytes, opts);
        if !report.valid && worst == ExitCode::Ok {
            worst = ExitCode::Invalid;
        }
        reports.push((name, report));
    }
    let mut out = std::io::stdout().lock();
    let result = match format {
        Format::Json => {
            let list: Vec<FileReport<'_>> =
                reports.iter().map(|(f, r)| FileReport { file: f.clone(), report: r }).collect();
            serde_json::to_writer_pretty(&mut out, &list).map_err(std::io::Error::from).and_then(|()| writeln!(out))
        }
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            reports.iter().try_for_each(|(f, r)| write_human(&mut out, f, r, color))
        }
    };
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the report: {e}");
        return ExitCode::Failure;
    }
    worst
}

fn write_human(out: &mut impl Write, file: &str, r: &Report, color: bool) -> std::io::Result<()> {
    let paint = |code: &str, s: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_owned() };
    let kind = r.record_type.map(|t| t.name()).unwrap_or("unknown record type");
    let status = if r.valid { paint("32", "valid") } else { paint("31", "INVALID") };
    let fmt = match r.format {
        borderlink_model::InputFormat::Json => "JSON",
        borderlink_model::InputFormat::Xml => "XML",
    };
    write!(out, "{file}: {status} {kind} ({fmt})")?;
    if let Some(c) = &r.category {
        match &c.type_code {
            Some(t) => write!(out, ", {} {t}", c.category.name())?,
            None => write!(out, ", {}", c.category.name())?,
        }
    }
    if !r.profile.is_empty() && r.profile != borderlink_model::profile::CORE {
        write!(out, ", profile {}", r.profile)?;
    }
    if let Some(q) = &r.quality {
        write!(out, ", data quality {:.0}% ({}/{})", q.score * 100.0, q.present, q.expected)?;
    }
    writeln!(out, ", {} error(s), {} warning(s)", r.errors.len(), r.warnings.len())?;
    for e in &r.errors {
        writeln!(out, "  {} {}  [{}]\n      {}", paint("31", "error"), e.path, e.rule, e.message)?;
    }
    for w in &r.warnings {
        writeln!(out, "  {} {}  [{}]\n      {}", paint("33", "warning"), w.path, w.rule, w.message)?;
    }
    if let Some(q) = &r.quality
        && !q.missing.is_empty()
        && r.valid
    {
        writeln!(out, "  missing for risk analysis: {}", q.missing.join(", "))?;
    }
    Ok(())
}
