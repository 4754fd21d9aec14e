//! `borderlink bench ledger`: committed signed transactions per second on one node, with durable
//! commits, next to the machine's own limit measured in the same run — the rate at which it can
//! verify the very same Ed25519 signatures with batch verification — and a published peer.
//!
//! One node runs in-process on a temporary folder: a fresh consortium of customs
//! administrations, N pre-signed AEO authorisations (valid records, distinct ids, each issued by
//! the administration of its country as the write policy demands), submitted through
//! [`LedgerService::submit`] by C concurrent clients. Each submission resolves after its block
//! is durably committed; its latency is submit → commit.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use borderlink_ledger::consortium::{self, OrgSpec};
use borderlink_ledger::identity::{MemberKeys, Role};
use borderlink_ledger::{Ledger, Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use borderlink_node::LedgerService;
use ed25519_dalek::{Signature, VerifyingKey};
use indicatif::ProgressBar;

use crate::ExitCode;
use crate::progress;

/// Options of `borderlink bench`.
#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(clap::Subcommand)]
enum BenchWhat {
    /// Committed signed transactions per second on one node (durable), p50/p99 commit latency,
    /// and the machine's Ed25519 batch-verification rate as the limit.
    Ledger(LedgerBench),
    /// Committed tx/s and submit→commit latency of N replicated nodes (Raft over mutual TLS) on
    /// this machine, at full load and at half load.
    Network(NetworkBench),
    /// MQTT publishers → Mosquitto → a Borderlink node (durable store, rules), beside the broker
    /// alone delivering the same payloads to a plain subscriber; and EPCIS capture of
    /// 1,000-event documents.
    Iot(crate::bench_iot::IotBench),
}

#[derive(clap::Args)]
struct NetworkBench {
    /// Ordering nodes (one per customs administration, at most 4).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Transactions of the full-load run.
    #[arg(long, default_value_t = 40_000)]
    txs: usize,
    /// Concurrent clients of the full-load run (spread over the nodes).
    #[arg(long, default_value_t = 2048)]
    clients: usize,
    /// Seconds of the half-load run (an open loop at half the full-load rate).
    #[arg(long, default_value_t = 10)]
    half_seconds: u64,
}

#[derive(clap::Args)]
struct LedgerBench {
    /// Transactions to commit.
    #[arg(long, default_value_t = 50_000)]
    txs: usize,
    /// Concurrent clients. Many clients let the orderer fill large blocks, so one durable
    /// commit (fsync) serves many transactions — a border-wide deployment has thousands of
    /// submitters (traders, brokers, carriers, devices).
    #[arg(long, default_value_t = 2048)]
    clients: usize,
}

/// The published peer shown beside the results (Hyperledger Fabric 2.5, 3 × 40-core servers).
pub(crate) const FABRIC: &str = "Fabric 2.5: ~2,950 tps on 3×40-core servers (published)";

/// A two-column Markdown table (what, result) with the first column padded, then a blank line.
pub(crate) fn write_table<K: AsRef<str>, V: std::fmt::Display>(
    out: &mut impl std::io::Write,
    rows: &[(K, V)],
) -> std::io::Result<()> {
    let width = rows.iter().map(|(k, _)| k.as_ref().chars().count()).max().unwrap_or(0);
    writeln!(out, "| {:<width$} | result |", "what")?;
    writeln!(out, "|{}|---|", "-".repeat(width + 2))?;
    for (k, v) in rows {
        writeln!(out, "| {:<width$} | {v} |", k.as_ref())?;
    }
    writeln!(out)
}

/// One customs administration per issuer (name, country), as the benchmarks' consortium.
pub(crate) fn customs_orgs(issuers: &[(&str, &str)]) -> Vec<OrgSpec> {
    issuers
        .iter()
        .map(|(name, country)| OrgSpec {
            name: (*name).into(),
            role: Role::Customs,
            country: (*country).into(),
            trader_ids: vec![],
        })
        .collect()
}

/// The issuing administrations: AEO authorisations of a country are written by its customs.
pub(crate) const ISSUERS: [(&str, &str); 4] = [
    ("HM Revenue & Customs", "GB"),
    ("Douane Nederland", "NL"),
    ("Generalzolldirektion", "DE"),
    ("Direction generale des douanes", "FR"),
];

pub(crate) fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.what {
        BenchWhat::Ledger(b) => ledger(b),
        BenchWhat::Network(b) => crate::bench_network::run(b.nodes, b.txs, b.clients, b.half_seconds),
        BenchWhat::Iot(b) => crate::bench_iot::run(b),
    }
}

/// An AEO authorisation issued by `country`'s administration, number `n`.
fn aeo_record(country: &str, authority: &str, n: usize) -> Vec<u8> {
    let trader = format!("{country}{:012}", 100_000_000_000 + n);
    let doc = serde_json::json!({
        "AuthorisationHolder": { "ID": trader, "CategoryCode": "AEOC" },
        "AdditionalDocument": {
            "CategoryCode": "C",
            "TypeCode": "501",
            "ID": format!("{country} AEOC {n:07}/26"),
            "Name": "AEO - Customs simplifications",
            "EffectiveDateTime": "2026-01-05T00:00:00Z"
        },
        "ext": {
            "issuingAuthority": { "countryCode": country, "name": authority },
            "status": "ACTIVE",
            "statusChangedAt": "2026-01-05T00:00:00Z",
            "validUntil": null,
            "traderIdentificationNumber": trader,
            "holder": { "Name": format!("Bench Trader {n}") }
        }
    });
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Signs `n` valid puts, spread over the issuers, on every core.
pub(crate) fn presign(
    chain: borderlink_ledger::Hash,
    keys: &[MemberKeys],
    n: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Transaction>> {
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get()).max(1);
    let per = n.div_ceil(threads);
    let nonce_base = rand_core::RngCore::next_u64(&mut rand_core::OsRng) >> 1;
    let ts = crate::now_ms();
    let parts: Vec<anyhow::Result<Vec<Transaction>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(per);
                    for i in (t * per)..((t + 1) * per).min(n) {
                        let k = i % keys.len();
                        let (authority, country) = ISSUERS[k % ISSUERS.len()];
                        let payload = aeo_record(country, authority, i);
                        let report = validate(&payload, &ValidateOptions::default());
                        let Some(record) = report.record.filter(|_| report.valid) else {
                            bail!("the generated record {i} is invalid: {:?}", report.errors.first());
                        };
                        let id = match borderlink_ledger::meta::record_id(&record, &keys[k].member) {
                            Ok(id) => id,
                            Err(e) => bail!("the generated record {i} has no ledger id: {e}"),
                        };
                        let body = clear_put_body(
                            chain,
                            &record,
                            &id,
                            1,
                            &payload,
                            &keys[k].member,
                            nonce_base + i as u64,
                            ts,
                        );
                        out.push(Transaction::sign(body, payload, Vec::new(), &keys[k]));
                        if out.len() % 256 == 0 {
                            bar.inc(256);
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a signing thread panicked"))))
            .collect()
    });
    let mut txs = Vec::with_capacity(n);
    for p in parts {
        txs.extend(p?);
    }
    bar.finish_and_clear();
    Ok(txs)
}

/// What the clients measured.
struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
    refused: Vec<String>,
    blocks: u64,
}

fn submit_all(ledger: Ledger, txs: Vec<Transaction>, clients: usize) -> anyhow::Result<Run> {
    let n = txs.len() as u64;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    let ledger = Arc::new(ledger);
    let done = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    // The bar is drawn from its own thread so that the clients only bump a counter.
    let ticker = {
        let done = Arc::clone(&done);
        let finished = Arc::clone(&finished);
        let bar = progress::bar(n, "commit");
        std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                bar.set_position(done.load(Ordering::Relaxed));
                std::thread::park_timeout(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        })
    };
    let result = runtime.block_on(async {
        let service = LedgerService::start_solo(Arc::clone(&ledger));
        let clients = closed_loop(&[service], txs, clients, &done).await?;
        Ok::<_, anyhow::Error>(Run {
            elapsed: clients.elapsed,
            latencies: clients.latencies,
            refused: clients.refused,
            blocks: ledger.head().map_or(0, |h| h.height),
        })
    });
    finished.store(true, Ordering::Relaxed);
    ticker.thread().unpark();
    let _ = ticker.join();
    result
}

/// What a closed loop of clients measured.
pub(crate) struct Clients {
    /// Wall time from the first submission to the last answer.
    pub(crate) elapsed: Duration,
    /// Submit → commit time of each committed transaction.
    pub(crate) latencies: Vec<Duration>,
    /// Each refusal, `[code] message`.
    pub(crate) refused: Vec<String>,
}

/// `clients` concurrent clients, each submitting its share of `txs` one after the other, spread
/// over `services` in turn; `done` counts the answers (for a progress bar).
pub(crate) async fn closed_loop(
    services: &[Arc<LedgerService>],
    txs: Vec<Transaction>,
    clients: usize,
    done: &Arc<AtomicU64>,
) -> anyhow::Result<Clients> {
    let n = txs.len();
    let mut queues: Vec<Vec<Transaction>> = (0..clients).map(|_| Vec::with_capacity(n / clients + 1)).collect();
    for (i, tx) in txs.into_iter().enumerate() {
        queues[i % clients].push(tx);
    }
    let start = Instant::now();
    let tasks: Vec<_> = queues
        .into_iter()
        .enumerate()
        .map(|(c, queue)| {
            let service = Arc::clone(&services[c % services.len()]);
            let done = Arc::clone(done);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(queue.len());
                let mut refused = Vec::new();
                for tx in queue {
                    let t0 = Instant::now();
                    match service.submit(tx).await {
                        Ok(_) => latencies.push(t0.elapsed()),
                        Err(e) => refused.push(format!("[{}] {e}", e.code())),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                (latencies, refused)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    let mut refused = Vec::new();
    for t in tasks {
        let (l, r) = t.await.context("a client task failed")?;
        latencies.extend(l);
        refused.extend(r);
    }
    Ok(Clients { elapsed: start.elapsed(), latencies, refused })
}

/// CPU time of this process so far (every thread), from `/proc/self/stat` (Linux, 100 Hz ticks).
pub(crate) fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time of the calling thread so far, from `/proc/thread-self/schedstat` (Linux, ns).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(stat.split_whitespace().next()?.parse().ok()?))
}

/// What the pure verification of the same signatures costs.
struct VerifyRate {
    /// Signatures per second (wall clock).
    per_second: f64,
    /// CPU time per signature, summed over the threads (unaffected by other work on the machine).
    cpu_per_sig: Option<Duration>,
}

/// Verifies every signature with `verify_batch` in chunks of `chunk`, on `threads` threads.
fn verify_rate(
    msgs: &[Vec<u8>],
    sigs: &[Signature],
    keys: &[VerifyingKey],
    chunk: usize,
    threads: usize,
) -> anyhow::Result<VerifyRate> {
    let n = msgs.len();
    let per = n.div_ceil(threads);
    let start = Instant::now();
    let ok = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let cpu = thread_cpu();
                    let (from, to) = ((t * per).min(n), ((t + 1) * per).min(n));
                    let mut ok = true;
                    let mut i = from;
                    while i < to {
                        let j = (i + chunk).min(to);
                        let m: Vec<&[u8]> = msgs[i..j].iter().map(Vec::as_slice).collect();
                        ok &= ed25519_dalek::verify_batch(&m, &sigs[i..j], &keys[i..j]).is_ok();
                        i = j;
                    }
                    (ok, cpu.zip(thread_cpu()).map(|(a, b)| b.saturating_sub(a)))
                })
            })
            .collect();
        let mut all = (true, Some(Duration::ZERO));
        for h in handles {
            let (ok, cpu) = h.join().unwrap_or((false, None));
            all = (all.0 && ok, all.1.zip(cpu).map(|(a, b)| a + b));
        }
        all
    });
    let (ok, cpu) = ok;
    let elapsed = start.elapsed();
    if !ok {
        bail!("a signature batch did not verify");
    }
    Ok(VerifyRate { per_second: n as f64 / elapsed.as_secs_f64(), cpu_per_sig: cpu.map(|c| c / n.max(1) as u32) })
}

pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |p| p.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    // Other work on the machine skews every number here: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(|l| format!(", load average {l} at start")))
        .unwrap_or_default();
    format!("{cores} cores, {cpu}{load}")
}

pub(crate) fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn ledger(b: LedgerBench) -> anyhow::Result<ExitCode> {
    if b.txs == 0 || b.clients == 0 {
        bail!("--txs and --clients must be at least 1");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; measure with `cargo run --release -p borderlink-cli -- bench ledger`"
        );
    }
    let machine = machine();
    let tmp =
        tempfile::Builder::new().prefix("borderlink-bench-").tempdir().context("cannot create a temporary folder")?;
    let orgs = customs_orgs(&ISSUERS);
    let created = consortium::create(&tmp.path().join("consortium"), "Bench border", &orgs, "2026-01-01T00:00:00Z")?;
    let keys: Vec<MemberKeys> = created.key_files.iter().map(|(_, p)| MemberKeys::load(p)).collect::<Result<_, _>>()?;
    let chain = created.genesis.chain_id();
    eprintln!("signing {} AEO authorisations from {} customs administrations…", b.txs, keys.len());
    let txs = presign(chain, &keys, b.txs, &progress::bar(b.txs as u64, "sign"))?;
    // The same signatures, kept for the verification limit.
    let by_member: std::collections::HashMap<&str, VerifyingKey> =
        keys.iter().map(|k| (k.member.as_str(), k.signing.verifying_key())).collect();
    let msgs: Vec<Vec<u8>> = txs.iter().map(|t| t.body_bytes.clone()).collect();
    let sigs: Vec<Signature> = txs.iter().map(|t| Signature::from_bytes(&t.signature)).collect();
    let vks: Vec<VerifyingKey> = txs
        .iter()
        .map(|t| by_member.get(t.body.submitter.as_str()).copied().context("unknown submitter"))
        .collect::<anyhow::Result<_>>()?;

    let ledger = Ledger::open(&tmp.path().join("ledger"), created.genesis.clone(), Some(keys[0].clone()))?;
    eprintln!("submitting from {} concurrent clients to one node (durable commits)…", b.clients);
    let cpu_before = process_cpu();
    let run = submit_all(ledger, txs, b.clients)?;
    let cpu_per_tx =
        cpu_before.zip(process_cpu()).map(|(a, b)| b.saturating_sub(a) / run.latencies.len().max(1) as u32);
    let committed = run.latencies.len();
    let tps = committed as f64 / run.elapsed.as_secs_f64();
    let mut lat = run.latencies;
    lat.sort_unstable();
    let pct = |p: usize| lat.get((lat.len() * p / 100).min(lat.len().saturating_sub(1))).copied().unwrap_or_default();
    let (p50, p99) = (pct(50), pct(99));

    eprintln!("measuring Ed25519 batch verification of the same {} signatures…", msgs.len());
    let chunk = borderlink_node::ordering::MAX_BATCH;
    let one = verify_rate(&msgs, &sigs, &vks, chunk, 1)?;
    let two = verify_rate(&msgs, &sigs, &vks, chunk, 2)?;
    let limit = one.per_second.max(two.per_second);
    let us = |d: Option<Duration>| d.map_or_else(|| "n/a".to_owned(), |d| format!("{:.1} µs", d.as_secs_f64() * 1e6));
    let cpu_ratio = match (cpu_per_tx, one.cpu_per_sig) {
        (Some(t), Some(v)) if !v.is_zero() => format!(" ({:.1}×)", t.as_secs_f64() / v.as_secs_f64()),
        _ => String::new(),
    };

    let mut out = std::io::stdout().lock();
    writeln!(out, "borderlink bench ledger --txs {} --clients {}", b.txs, b.clients)?;
    writeln!(out, "machine: {machine}{}", if cfg!(debug_assertions) { " (DEBUG build)" } else { "" })?;
    writeln!(out)?;
    let rows = [
        ("committed signed tx/s, one node, durable", format!("{} tx/s", thousands(tps))),
        ("transactions committed / refused", format!("{committed} / {}", run.refused.len())),
        (
            "blocks (mean transactions per block)",
            format!("{} ({:.0})", run.blocks, committed as f64 / run.blocks.max(1) as f64),
        ),
        ("submit → commit latency p50 / p99", format!("{} / {}", ms(p50), ms(p99))),
        ("Ed25519 verify_batch, 1 thread", format!("{} sig/s", thousands(one.per_second))),
        ("Ed25519 verify_batch, 2 threads (the limit)", format!("{} sig/s", thousands(two.per_second))),
        ("committed / verification limit", format!("{:.0} %", 100.0 * tps / limit)),
        (
            "CPU per committed tx / per verified signature",
            format!("{} / {}{cpu_ratio}", us(cpu_per_tx), us(one.cpu_per_sig)),
        ),
        ("reference", FABRIC.to_owned()),
    ];
    write_table(&mut out, &rows)?;
    if let Some(first) = run.refused.first() {
        writeln!(out, "{} transaction(s) refused, first: {first}", run.refused.len())?;
    }
    writeln!(
        out,
        "bench ledger: {committed} tx committed in {:.2} s = {} tx/s (p50 {}, p99 {}), {:.0} % of the Ed25519 verification limit ({} sig/s); {FABRIC}",
        run.elapsed.as_secs_f64(),
        thousands(tps),
        ms(p50),
        ms(p99),
        100.0 * tps / limit,
        thousands(limit)
    )?;
    Ok(if run.refused.is_empty() { ExitCode::Ok } else { ExitCode::Failure })
}
