//! `borderlink risk bench`: scoring speed — the batch throughput of a model, the latency of one
//! declaration in-process (features, score, reasons, criteria, as the node does it), and
//! optionally of one declaration over HTTP against a running node.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use borderlink_ledger::identity::MemberKeys;
use borderlink_risk::RiskEngine;
use borderlink_risk::import::ImportedRow;

use super::data::{DataArgs, Scoring, ScoringArgs, read_rows, replay_with_history};
use crate::node_client::{NodeClient, Transport, authorization};

/// Options of `borderlink risk bench`.
#[derive(clap::Args)]
pub(super) struct BenchArgs {
    #[command(flatten)]
    scoring: ScoringArgs,
    /// Seconds to spend per measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Also measure one declaration over HTTP against a running node at this address
    /// (`http://127.0.0.1:PORT`), one request at a time on a kept-alive connection.
    #[arg(long)]
    url: Option<String>,
    /// Member key file that signs each request (needed when the node keeps a ledger: risk
    /// data there is read by authenticated members only).
    #[arg(long, requires = "url")]
    key: Option<PathBuf>,
    /// Print the numbers as JSON.
    #[arg(long)]
    json: bool,
    /// Measure the batch throughput only (for benchmarks that interleave it with a peer's).
    #[arg(long, conflicts_with = "url")]
    batch_only: bool,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

pub(super) fn run(a: &BenchArgs) -> anyhow::Result<()> {
    let keys = a.key.as_deref().map(MemberKeys::load).transpose()?;
    let url = a.url.as_deref().map(|u| (u, keys.as_ref()));
    let (data, src, json) = (a.scoring.data.as_path(), &a.scoring.src, a.json);
    let Scoring { model, mapping, x, .. } = a.scoring.read()?;
    let flat: Vec<f32> = x.iter().flatten().copied().collect();
    let budget = Duration::from_secs_f64(a.seconds.max(0.1));
    // Batch: the whole file per call, as many calls as fit in the budget.
    let started = Instant::now();
    let mut rows = 0usize;
    while started.elapsed() < budget {
        let s = model.predict_batch(&flat)?;
        rows += s.len();
    }
    let batch_rate = rows as f64 / started.elapsed().as_secs_f64();
    if a.batch_only {
        if json {
            println!("{}", serde_json::json!({ "batch_rows_per_s": batch_rate }));
        } else {
            println!("batch: {batch_rate:.0} rows/s ({} rows per call)", x.len());
        }
        return Ok(());
    }
    // The history is the one the declarations were featurized against (every outcome known).
    let only_history = DataArgs { history: Vec::new(), ..src.clone() };
    let history_files: Vec<&Path> = src.history.iter().map(PathBuf::as_path).collect();
    let (_, history) = replay_with_history(&only_history, &mapping, &history_files)?;
    // One declaration in-process: parse nothing, but build its items, features, score,
    // explanations and criteria from the standardized record, as the node does.
    let rows = read_rows(data, &mapping)?;
    let mut engine = RiskEngine::new(Default::default())?;
    *engine.history_mut() = history;
    engine.set_model(model);
    let mut lat = Vec::new();
    let started = Instant::now();
    let mut i = 0usize;
    while started.elapsed() < budget && !rows.is_empty() {
        let r = &rows[i % rows.len()];
        let t = Instant::now();
        let scored = engine.score_items(&r.record, 0);
        lat.push(t.elapsed());
        std::hint::black_box(scored);
        i += 1;
    }
    lat.sort_unstable();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    let http = match url {
        Some((u, keys)) => Some(http_latency(u, keys, &rows, budget)?),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    if json {
        let mut v = serde_json::json!({
            "batch_rows_per_s": batch_rate,
            "single_p50_us": p50.as_secs_f64() * 1e6,
            "single_p99_us": p99.as_secs_f64() * 1e6,
            "single_samples": lat.len(),
        });
        if let Some((h50, h99, n)) = http {
            v["http_p50_us"] = (h50.as_secs_f64() * 1e6).into();
            v["http_p99_us"] = (h99.as_secs_f64() * 1e6).into();
            v["http_samples"] = n.into();
        }
        serde_json::to_writer(&mut out, &v)?;
        writeln!(out)?;
    } else {
        if let Some((h50, h99, n)) = http {
            writeln!(
                out,
                "one declaration over HTTP (POST /api/v1/risk/score): p50 {h50:.1?}, p99 {h99:.1?} over {n} requests"
            )?;
        }
        writeln!(out, "batch predict: {batch_rate:.0} rows/s")?;
        writeln!(
            out,
            "one declaration in-process (features, score, reasons, criteria): p50 {p50:.1?}, p99 {p99:.1?} over {} runs",
            lat.len()
        )?;
    }
    Ok(())
}

/// Requests per second the latency probe stays under: below the node's default per-client rate
/// limit (1,000/s, `[limits] requests_per_second`), so that it measures answers, not refusals.
const PROBE_RATE: f64 = 800.0;

/// Latency of `POST /api/v1/risk/score` with one declaration per request, sent one at a time
/// on one kept-alive HTTP/1.1 connection (a minimal client: the numbers are the node's, not a
/// client library's). Each request is a declaration not yet assessed, so each is fully scored.
/// Requests are paced at most [`PROBE_RATE`] a second; the pauses are not part of a latency.
fn http_latency(
    url: &str,
    keys: Option<&MemberKeys>,
    rows: &[ImportedRow],
    budget: Duration,
) -> anyhow::Result<(Duration, Duration, usize)> {
    use std::io::{BufRead, BufReader, Read};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let stream = std::net::TcpStream::connect(host).with_context(|| format!("cannot connect to {host}"))?;
    stream.set_nodelay(true)?;
    // Signatures name the node they are for: ask it once, before measuring.
    let node = match keys {
        Some(_) => NodeClient::connect(url, None, Transport { timeout: Duration::from_secs(30), direct: true })?
            .node_member()?
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let bodies: Vec<Vec<u8>> = rows.iter().map(|r| serde_json::to_vec(&r.record)).collect::<Result<_, _>>()?;
    let mut lat = Vec::new();
    let started = Instant::now();
    for (sent, body) in bodies.iter().enumerate() {
        if started.elapsed() >= budget {
            break;
        }
        let due = Duration::from_secs_f64(sent as f64 / PROBE_RATE);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let t = Instant::now();
        let auth = match keys {
            Some(k) => format!("Authorization: {}\r\n", authorization(k, &node, "POST", "/api/v1/risk/score", body)),
            None => String::new(),
        };
        write!(
            writer,
            "POST /api/v1/risk/score HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n",
            body.len()
        )?;
        writer.write_all(body)?;
        let mut status = String::new();
        reader.read_line(&mut status)?;
        anyhow::ensure!(status.contains(" 200 "), "the node answered {}", status.trim());
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse()?;
            }
        }
        let mut reply = vec![0u8; length];
        reader.read_exact(&mut reply)?;
        lat.push(t.elapsed());
    }
    anyhow::ensure!(!lat.is_empty(), "no request was measured");
    let n = lat.len();
    lat.sort_unstable();
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99), n))
}
