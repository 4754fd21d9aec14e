//! `borderlink bench network --nodes 3`: N replicated nodes on this machine — each with its own
//! ledger, Raft log (redb) and mutual-TLS peer port, in this process — ordering pre-signed AEO
//! authorisations through Raft. Clients submit to every node (a follower forwards to the
//! leader); a submission resolves once its block is committed and applied on the node it was
//! sent to. Two runs: full load (many concurrent clients) and half load (an open loop at half
//! the full-load rate), each with committed tx/s and p50/p99 submit→commit latency.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use borderlink_ledger::consortium::{self, NodePlan};
use borderlink_ledger::identity::{MemberKeys, Role};
use borderlink_ledger::{Ledger, Transaction};
use borderlink_node::LedgerService;
use borderlink_node::raft::{ClusterConfig, PeerNode};

use crate::ExitCode;
use crate::bench::{Clients, FABRIC, ISSUERS, machine, ms, presign, process_cpu, thousands};
use crate::progress;

fn pct(lat: &mut [Duration], p: usize) -> Duration {
    lat.sort_unstable();
    lat.get((lat.len() * p / 100).min(lat.len().saturating_sub(1))).copied().unwrap_or_default()
}

/// Closed loop: `clients` tasks, each submitting its share one after the other.
async fn full_load(services: &[Arc<LedgerService>], txs: Vec<Transaction>, clients: usize) -> anyhow::Result<Clients> {
    let done = Arc::new(AtomicU64::new(0));
    let bar = progress::bar(txs.len() as u64, "full load");
    let ticker = {
        let (done, bar) = (Arc::clone(&done), bar.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(done.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let clients = crate::bench::closed_loop(services, txs, clients, &done).await;
    ticker.abort();
    bar.finish_and_clear();
    clients
}

/// Open loop: one submission every 1/rate seconds, whatever the answers.
async fn paced(services: &[Arc<LedgerService>], txs: Vec<Transaction>, rate: f64) -> anyhow::Result<Clients> {
    let bar = progress::bar(txs.len() as u64, "half load");
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(txs.len());
    for (i, tx) in txs.into_iter().enumerate() {
        let due = start + interval.mul_f64(i as f64);
        let now = Instant::now();
        if due > now {
            tokio::time::sleep(due - now).await;
        }
        let svc = Arc::clone(&services[i % services.len()]);
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            svc.submit(tx).await.map(|_| t0.elapsed()).map_err(|e| format!("[{}] {e}", e.code()))
        }));
        if i % 256 == 0 {
            bar.set_position(i as u64);
        }
    }
    let mut latencies = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.context("a client failed")? {
            Ok(l) => latencies.push(l),
            Err(e) => refused.push(e),
        }
    }
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    Ok(Clients { elapsed, latencies, refused })
}

pub(crate) fn run(nodes: usize, txs: usize, clients: usize, half_seconds: u64) -> anyhow::Result<ExitCode> {
    if !(1..=ISSUERS.len()).contains(&nodes) {
        bail!("--nodes must be between 1 and {}", ISSUERS.len());
    }
    if txs == 0 || clients == 0 || half_seconds == 0 {
        bail!("--txs, --clients and --half-seconds must be at least 1");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; measure with `cargo run --release -p borderlink-cli -- bench network`"
        );
    }
    let machine = machine();
    let tmp = tempfile::Builder::new().prefix("borderlink-bench-net-").tempdir().context("temporary folder")?;
    let orgs = crate::bench::customs_orgs(&ISSUERS[..nodes]);
    let plan = NodePlan {
        roles: vec![Role::Customs],
        host: "127.0.0.1".into(),
        base_port: crate::demo::free_port_run(8)?,
        https: false,
    };
    let dir = tmp.path().join("consortium");
    let created = consortium::create_with_nodes(&dir, "Bench border", &orgs, "2026-01-01T00:00:00Z", &plan)?;
    let keys: Vec<MemberKeys> = created.key_files.iter().map(|(_, p)| MemberKeys::load(p)).collect::<Result<_, _>>()?;
    let chain = created.genesis.chain_id();
    // Full load, then half load at half the measured rate for `half_seconds` (signed up front).
    eprintln!("signing {txs} AEO authorisations…");
    let mut all = presign(chain, &keys, txs * 2, &progress::bar((txs * 2) as u64, "sign"))?;
    let half_pool = all.split_off(txs);
    let founders: BTreeMap<u64, PeerNode> = created
        .genesis
        .nodes
        .iter()
        .map(|n| {
            (n.id, PeerNode { member: n.member.clone(), peer_addr: n.peer_addr.clone(), api_url: n.api_url.clone() })
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("runtime")?;
    let result = runtime.block_on(async {
        let mut services = Vec::new();
        for n in &created.genesis.nodes {
            let org = dir.join("orgs").join(&n.member);
            let read = |f: &str| std::fs::read_to_string(org.join(f)).with_context(|| format!("{}/{f}", n.member));
            let tls = borderlink_node::peer::PeerTls::new(
                &created.genesis.ca_certificate,
                &read("node.pem")?,
                &read("node.key")?,
            )?;
            let key = MemberKeys::load(&org.join("member.key"))?;
            let data = tmp.path().join(format!("node-{}", n.id));
            let ledger = Arc::new(Ledger::open(&data.join("ledger"), created.genesis.clone(), Some(key))?);
            let config = ClusterConfig {
                node_id: n.id,
                peer_listen: n.peer_addr.parse()?,
                tls,
                founders: founders.clone(),
                raft_dir: data.join("raft"),
                snapshot_every: 1_000_000,
                keep_after_snapshot: 1000,
                faults: false,
            };
            services.push(LedgerService::start_cluster(ledger, config).await.map_err(anyhow::Error::msg)?);
        }
        // Wait (polling) for a leader.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let leaders: Vec<Option<u64>> =
                services.iter().map(|s| s.cluster().and_then(|c| c.status().leader)).collect();
            if leaders[0].is_some() && leaders.iter().all(|l| *l == leaders[0]) {
                break;
            }
            if Instant::now() > deadline {
                bail!("no leader elected within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("{nodes} nodes up; full load: {txs} transactions from {clients} clients…");
        let cpu0 = process_cpu();
        let full = full_load(&services, all, clients).await?;
        let cpu_full = cpu0.zip(process_cpu()).map(|(a, b)| b.saturating_sub(a));
        let full_rate = full.latencies.len() as f64 / full.elapsed.as_secs_f64();
        let half_rate = full_rate / 2.0;
        let half_n = ((half_rate * half_seconds as f64) as usize).clamp(1, half_pool.len());
        eprintln!("half load: {half_n} transactions at {} tx/s…", thousands(half_rate));
        let half = paced(&services, half_pool.into_iter().take(half_n).collect(), half_rate).await?;
        // Every node has the same chain.
        let deadline = Instant::now() + Duration::from_secs(60);
        let heads = loop {
            let heads: Vec<_> = services.iter().map(|s| s.ledger().head().map(|h| (h.height, h.hash()))).collect();
            if heads.iter().all(|h| *h == heads[0]) || Instant::now() > deadline {
                break heads;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        for s in &services {
            s.shutdown().await;
        }
        Ok::<_, anyhow::Error>((full, half, heads, half_rate, cpu_full))
    });
    let (mut full, mut half, heads, half_rate, cpu_full) = result?;
    let cpu_per_tx = cpu_full.map(|c| c.as_secs_f64() * 1e6 / full.latencies.len().max(1) as f64);
    let agree = heads.iter().all(|h| *h == heads[0]);
    let full_tps = full.latencies.len() as f64 / full.elapsed.as_secs_f64();
    let half_tps = half.latencies.len() as f64 / half.elapsed.as_secs_f64();
    let (f50, f99) = (pct(&mut full.latencies, 50), pct(&mut full.latencies, 99));
    let (h50, h99) = (pct(&mut half.latencies, 50), pct(&mut half.latencies, 99));
    let mut out = std::io::stdout().lock();
    writeln!(out, "borderlink bench network --nodes {nodes} --txs {txs} --clients {clients}")?;
    writeln!(out, "machine: {machine}{}", if cfg!(debug_assertions) { " (DEBUG build)" } else { "" })?;
    writeln!(out)?;
    let rows = [
        (format!("full load: committed tx/s, {nodes} nodes"), format!("{} tx/s", thousands(full_tps))),
        ("full load: submit → commit p50 / p99".into(), format!("{} / {}", ms(f50), ms(f99))),
        (
            format!("full load: CPU per committed tx, all {nodes} nodes"),
            cpu_per_tx.map_or_else(|| "n/a".into(), |c| format!("{c:.0} µs")),
        ),
        (
            format!("half load ({} tx/s offered): committed tx/s", thousands(half_rate)),
            format!("{} tx/s", thousands(half_tps)),
        ),
        ("half load: submit → commit p50 / p99".into(), format!("{} / {}", ms(h50), ms(h99))),
        ("refused (full / half)".into(), format!("{} / {}", full.refused.len(), half.refused.len())),
        (
            "every node's head".into(),
            match &heads[0] {
                Some((h, hash)) if agree => format!("height {h}, hash {} on all {nodes}", &hash.to_hex()[..16]),
                _ => "NODES DISAGREE".into(),
            },
        ),
        ("reference".into(), FABRIC.to_owned()),
    ];
    crate::bench::write_table(&mut out, &rows)?;
    for r in full.refused.iter().chain(&half.refused).take(3) {
        writeln!(out, "refused: {r}")?;
    }
    writeln!(
        out,
        "bench network: {nodes} nodes, full load {} tx/s (p99 {}), half load p99 {}; goal ≥ 10,000 tx/s and p99 < 50 ms at half load; {FABRIC}",
        thousands(full_tps),
        ms(f99),
        ms(h99)
    )?;
    Ok(if agree && full.refused.is_empty() && half.refused.is_empty() { ExitCode::Ok } else { ExitCode::Failure })
}
