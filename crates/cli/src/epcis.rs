//! `borderlink epcis capture|query|hash`: GS1 EPCIS 2.0 events. `capture` posts a document to
//! a node's `/epcis/capture` and reports its capture job; `query` asks `/epcis/events` with the
//! standard's query parameters and follows every page; `hash` prints the CBV 2.0 event hash
//! IDs of a document's events, offline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use borderlink_iot::epcis::Format;
use borderlink_iot::epcis::hash::document_hash_ids;
use serde_json::Value;

use crate::node_client::NodeClient;
use crate::{ExitCode, Failed, Outcome};

/// The largest document read from a file (the node's own limit is usually lower).
const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// How long `capture` waits for its job to finish.
const JOB_WAIT: Duration = Duration::from_secs(120);

/// Options of `borderlink epcis`.
#[derive(clap::Args)]
pub(crate) struct EpcisArgs {
    #[command(subcommand)]
    command: EpcisCommand,
}

/// The node and the key that signs the requests.
#[derive(clap::Args)]
struct Target {
    /// The node's URL.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The member key that signs the requests.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
}

#[derive(clap::Subcommand)]
enum EpcisCommand {
    /// Captures an EPCIS 2.0 document (JSON-LD or XML, told apart by its content) at a node and
    /// prints the capture job's outcome; exits 1 when an event was refused.
    Capture(CaptureArgs),
    /// Queries a node's events with the EPCIS query parameters (`EQ_bizStep=shipping`,
    /// `MATCH_epc=urn:epc:id:sgtin:0614141.107346.*`, `eventType=ObjectEvent|AggregationEvent`),
    /// every page, printed as one EPCISQueryDocument or one event per line.
    Query(QueryArgs),
    /// Prints the CBV 2.0 event hash ID of each event of a document (JSON-LD or XML), one per
    /// line, in document order. Offline.
    Hash(HashArgs),
}

#[derive(clap::Args)]
struct CaptureArgs {
    #[command(flatten)]
    target: Target,
    /// The EPCISDocument (`-` for standard input).
    file: PathBuf,
    /// Store the valid events even when others are refused (`GS1-Capture-Error-Behaviour:
    /// proceed`); by default nothing is stored then.
    #[arg(long)]
    proceed: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum QueryFormat {
    /// One EPCISQueryDocument (JSON-LD) holding the events of every page.
    Json,
    /// One event per line (compact JSON-LD).
    Lines,
}

#[derive(clap::Args)]
struct QueryArgs {
    #[command(flatten)]
    target: Target,
    /// Query parameters, `NAME=VALUE` (a list as `a|b`); `perPage` sets the page size.
    #[arg(value_name = "NAME=VALUE")]
    parameters: Vec<String>,
    /// How the events are printed.
    #[arg(long, value_enum, default_value = "json")]
    format: QueryFormat,
}

#[derive(clap::Args)]
struct HashArgs {
    /// The document (`-` for standard input).
    file: PathBuf,
    /// Print the canonical pre-hash string of each event instead of its hash ID.
    #[arg(long)]
    prehash: bool,
}

pub(crate) fn run(a: EpcisArgs) -> anyhow::Result<ExitCode> {
    crate::finish(match a.command {
        EpcisCommand::Capture(a) => capture(&a),
        EpcisCommand::Query(a) => query(&a),
        EpcisCommand::Hash(a) => hash(&a),
    })
}

fn client(t: &Target) -> Outcome<NodeClient> {
    Ok(NodeClient::new(&t.node, crate::ledger_cmd::load_keys(&t.key)?)?)
}

fn write_failed(e: std::io::Error) -> Failed {
    Failed::new(ExitCode::Failure, e)
}

/// A document's bytes and its format: XML when it starts with `<`, JSON otherwise.
fn read_document(path: &Path) -> Outcome<(Vec<u8>, Format)> {
    let bytes = crate::read_limited(path, MAX_DOCUMENT_BYTES)
        .map_err(|e| Failed::new(ExitCode::Input, format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Failed::new(
            ExitCode::Input,
            format!("{} is larger than {MAX_DOCUMENT_BYTES} bytes", path.display()),
        ));
    }
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    let format = if first == Some(b'<') { Format::Xml } else { Format::Json };
    Ok((bytes, format))
}

fn hash(a: &HashArgs) -> Outcome<ExitCode> {
    let (bytes, format) = read_document(&a.file)?;
    let ids = document_hash_ids(&bytes, format)
        .map_err(|e| Failed::new(ExitCode::Invalid, format!("{}: {e}", a.file.display())))?;
    let mut out = std::io::stdout().lock();
    for (prehash, id) in &ids {
        writeln!(out, "{}", if a.prehash { prehash } else { id }).map_err(write_failed)?;
    }
    Ok(ExitCode::Ok)
}

fn capture(a: &CaptureArgs) -> Outcome<ExitCode> {
    let (bytes, format) = read_document(&a.file)?;
    let content_type = match format {
        Format::Json => "application/ld+json",
        Format::Xml => "application/xml",
    };
    let behaviour = if a.proceed { "proceed" } else { "rollback" };
    let node = client(&a.target)?;
    let headers = [("content-type", content_type), ("GS1-Capture-Error-Behaviour", behaviour)];
    let reply = node.send_with(reqwest::Method::POST, "epcis/capture", bytes, &headers)?;
    if reply.status.as_u16() != 202 {
        return Err(reply.refused());
    }
    let location = reply
        .headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| l.trim_start_matches('/').to_owned())
        .ok_or_else(|| Failed::new(ExitCode::Failure, "the node accepted the capture but named no capture job"))?;
    let mut job: Value = reply.json("capture job")?;
    let started = Instant::now();
    while job["running"].as_bool() != Some(false) {
        if started.elapsed() > JOB_WAIT {
            return Err(Failed::new(
                ExitCode::Failure,
                format!("the capture job {location} is still running after {} s", JOB_WAIT.as_secs()),
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
        let r = node.get(&location)?;
        if !r.status.is_success() {
            return Err(r.refused());
        }
        job = r.json("capture job")?;
    }
    let id = job["captureID"].as_str().unwrap_or("?");
    let count = |k: &str| job[k].as_u64().unwrap_or(0);
    let errors = job["errors"].as_array().cloned().unwrap_or_default();
    let success = job["success"].as_bool() == Some(true);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "capture {id} ({behaviour}): {} event(s), {} stored, {} already stored, {} refused",
        count("eventCount"),
        count("stored"),
        count("duplicates"),
        errors.len()
    )
    .map_err(write_failed)?;
    drop(out);
    if success {
        return Ok(ExitCode::Ok);
    }
    for e in &errors {
        eprintln!("error [{}]: {}", e["type"].as_str().unwrap_or("?"), e["detail"].as_str().unwrap_or(""));
    }
    if count("stored") == 0 && !errors.is_empty() && !a.proceed {
        eprintln!("nothing was stored (rollback); --proceed stores the valid events");
    }
    Ok(ExitCode::Invalid)
}

/// `NAME=VALUE` pairs into a query string, each part percent-encoded.
fn query_string(parameters: &[String]) -> Outcome<String> {
    let enc = borderlink_ledger::auth::path_segment;
    let mut parts = Vec::with_capacity(parameters.len());
    for p in parameters {
        let (name, value) = p.split_once('=').filter(|(n, _)| !n.is_empty()).ok_or_else(|| {
            Failed::new(ExitCode::Input, format!("{p:?} is not NAME=VALUE (e.g. EQ_bizStep=shipping)"))
        })?;
        parts.push(format!("{}={}", enc(name), enc(value)));
    }
    Ok(parts.join("&"))
}

/// The target of `Link: <…>; rel="next"`, if any.
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find(|l| l.contains("rel=\"next\"")).and_then(|l| {
        let start = l.find('<')? + 1;
        let end = l.find('>')?;
        (start < end).then(|| l[start..end].trim_start_matches('/').to_owned())
    })
}

fn query(a: &QueryArgs) -> Outcome<ExitCode> {
    let q = query_string(&a.parameters)?;
    let node = client(&a.target)?;
    let mut path = if q.is_empty() { "epcis/events".to_owned() } else { format!("epcis/events?{q}") };
    let mut first: Option<Value> = None;
    let mut events: Vec<Value> = Vec::new();
    let mut pages = 0usize;
    loop {
        let reply = node.get(&path)?;
        if !reply.status.is_success() {
            return Err(reply.refused());
        }
        let doc: Value = reply.json("query")?;
        let list =
            doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"].as_array().cloned().ok_or_else(|| {
                Failed::new(ExitCode::Failure, "the node's answer is not an EPCISQueryDocument with an eventList")
            })?;
        events.extend(list);
        first.get_or_insert(doc);
        pages += 1;
        match next_link(&reply.headers) {
            // A node that hands back the same page again would keep this going forever.
            Some(next) if next != path && pages < 1_000_000 => path = next,
            _ => break,
        }
    }
    let mut out = std::io::stdout().lock();
    match a.format {
        QueryFormat::Lines => {
            for e in &events {
                writeln!(out, "{e}").map_err(write_failed)?;
            }
        }
        QueryFormat::Json => {
            let mut doc = first.unwrap_or(Value::Null);
            doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"] = Value::Array(events);
            serde_json::to_writer_pretty(&mut out, &doc).map_err(|e| Failed::new(ExitCode::Failure, e))?;
            writeln!(out).map_err(write_failed)?;
        }
    }
    Ok(ExitCode::Ok)
}
