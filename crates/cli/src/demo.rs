//! `borderlink demo`: the demo consortium on the embedded default (loopback, a local data
//! folder), one replicated node per administration, serving the API and the web console until
//! Ctrl-C.
//!
//! On first start it creates a local consortium in `DATA/consortium` — two customs
//! administrations, an agency and two AEOs, with their keys. Each administration runs its own
//! node (the British customs administration's in `DATA`, the others in `DATA/nodes/ID`), all in
//! this process but each with its own ledger, Raft log and mutual-TLS peer port, ordering through
//! Raft. The console is the British node's. It submits the sample records (a declaration by its
//! declarant, an AEO authorisation by its issuing administration, a transport movement, and an
//! inspection result private to the two administrations) so that the console has something to
//! show.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use borderlink_ledger::consortium;
use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::tx::{PayloadKind, TxBody, TxKind};
use borderlink_ledger::{Hash, Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use borderlink_node::{Config, LedgerConfig, LedgerService};

use crate::ExitCode;

/// Options of `borderlink demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Port to listen on (127.0.0.1). 0 picks a free port.
    #[arg(long, default_value_t = 8080, env = "BORDERLINK_PORT")]
    port: u16,
    /// Data folder of the node.
    #[arg(long, default_value = "./borderlink-data", env = "BORDERLINK_DATA")]
    data: PathBuf,
    /// Do not run the trip simulator (by default the demo drives eight simulated container
    /// trips into the first node, so the console shows live traces and alerts).
    #[arg(long)]
    no_sim: bool,
    #[command(flatten)]
    log: crate::logging::LogArgs,
}

/// Six consecutive free ports on loopback (API and peer port of three nodes), from `first` if
/// it is not 0.
fn base_port(first: u16) -> anyhow::Result<u16> {
    if first != 0 {
        return Ok(first);
    }
    free_port_run(6)
}

/// The first port the kernel hands out to outgoing connections (Linux
/// `net.ipv4.ip_local_port_range`; 32768, its default, elsewhere).
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32768)
}

/// `count` consecutive free ports on loopback, below the ephemeral range. The consortium's
/// genesis pins them, so a restarted node must find them free again: a port in the ephemeral
/// range can meanwhile be the local end of any outgoing connection.
pub(crate) fn free_port_run(count: u16) -> anyhow::Result<u16> {
    const LOW: u16 = 20000;
    let top = ephemeral_start().saturating_sub(count).max(LOW + 1);
    let slots = u64::from((top - LOW) / 20).max(1);
    let free =
        |b: u16| (0..count).all(|k| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, b.saturating_add(k))).is_ok());
    // Start from a slot given by the process id: processes started together get different ones.
    let seed = u64::from(std::process::id());
    for k in 0..500u64 {
        let b = LOW + ((seed + k * 7919) % slots) as u16 * 20;
        if free(b) {
            return Ok(b);
        }
    }
    anyhow::bail!("no {count} free consecutive ports found on 127.0.0.1 between {LOW} and {top}")
}

/// Creates the demo consortium unless it exists; returns (genesis path, key path of each member by role order).
fn ensure_consortium(data: &Path, port: u16) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let dir = data.join("consortium");
    let genesis = dir.join("genesis.json");
    if !genesis.exists() {
        let plan = consortium::NodePlan { base_port: base_port(port)?, ..consortium::NodePlan::default() };
        let created = consortium::create_with_nodes(
            &dir,
            "Borderlink demo",
            &consortium::demo_organisations(),
            &borderlink_model::datetime::format_unix_ms(crate::now_ms()),
            &plan,
        )
        .context("cannot create the demo consortium")?;
        println!(
            "created the demo consortium in {} ({} members, with their keys)",
            dir.display(),
            created.key_files.len()
        );
    }
    let g = borderlink_ledger::genesis::Genesis::load(&genesis)?;
    let keys = g.members.iter().map(|m| dir.join("orgs").join(&m.id).join("member.key")).collect();
    Ok((genesis, keys))
}

fn sample_records() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("declaration", include_bytes!("../demo/declaration.json").as_slice()),
        ("aeo-authorization", include_bytes!("../demo/aeo-authorisation.json").as_slice()),
        ("transport-movement", include_bytes!("../demo/transport-movement.json").as_slice()),
        ("aeo-consent", include_bytes!("../demo/aeo-consent.json").as_slice()),
    ]
}

/// Submits the sample records once (skipped when they are already on the ledger).
async fn seed(svc: &Arc<LedgerService>, keys: &[MemberKeys]) -> anyhow::Result<usize> {
    let l = Arc::clone(svc.ledger());
    let chain = l.chain_id();
    let by_id = |prefix: &str| keys.iter().find(|k| k.member.starts_with(prefix)).cloned();
    let (Some(gb_customs), Some(nl_customs), Some(gb_aeo)) =
        (by_id("gb-customs"), by_id("nl-customs"), by_id("gb-aeo"))
    else {
        anyhow::bail!("the demo consortium lacks its customs or AEO members");
    };
    let mut n = 0;
    for (i, (kind, bytes)) in sample_records().into_iter().enumerate() {
        let report = validate(bytes, &ValidateOptions::default());
        let record = report.record.with_context(|| format!("the demo {kind} is invalid"))?;
        let signer = match kind {
            // The declarant declares; the AEO alone consents to the exchange of its data.
            "declaration" | "aeo-consent" => &gb_aeo,
            _ => &gb_customs,
        };
        let id = borderlink_ledger::meta::record_id(&record, &signer.member)
            .with_context(|| format!("the demo {kind} has no ledger id"))?;
        if l.record_state(&id)?.is_some() {
            continue;
        }
        let payload = serde_json::to_vec(&record)?;
        let body = clear_put_body(chain, &record, &id, 1, &payload, &signer.member, 1000 + i as u64, crate::now_ms());
        svc.submit(Transaction::sign(body, payload, vec![], signer)).await.map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
        n += 1;
    }
    // An inspection result, private to the two customs administrations.
    let inspection = include_bytes!("../demo/inspection-result.json");
    let record =
        validate(inspection, &ValidateOptions::default()).record.context("the demo inspection result is invalid")?;
    let id = &borderlink_ledger::meta::record_id(&record, &gb_customs.member)
        .context("the demo inspection result has no ledger id")?;
    if l.record_state(id)?.is_none() {
        let members = l.members();
        let rcpt: Vec<(String, x25519_dalek::PublicKey)> = [&gb_customs.member, &nl_customs.member]
            .iter()
            .filter_map(|m| members.iter().find(|x| &&x.id == m))
            .map(|m| Ok((m.id.clone(), m.encryption_public()?)))
            .collect::<Result<_, borderlink_ledger::LedgerError>>()?;
        let (header, ciphertext, wrapped) = borderlink_ledger::private::seal(inspection, id, &rcpt)?;
        let body = TxBody {
            chain,
            kind: TxKind::Put,
            record_type: "inspection-result".into(),
            record_id: id.into(),
            version: 1,
            meta: borderlink_ledger::meta::derive(&record),
            payload_kind: PayloadKind::Private,
            payload_digest: Hash::of(&ciphertext),
            payload_len: ciphertext.len() as u64,
            media_type: "application/json".into(),
            private: Some(header),
            submitter: gb_customs.member.clone(),
            nonce: 2000,
            timestamp_ms: crate::now_ms(),
            endorsement: None,
        };
        svc.submit(Transaction::sign(body, ciphertext, wrapped, &gb_customs))
            .await
            .map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
        n += 1;
    }
    Ok(n)
}

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    // Warnings only: the nodes finding each other at start and each request are `-v`'s.
    args.log.init(crate::logging::DEMO);
    std::fs::create_dir_all(&args.data).with_context(|| format!("cannot create {}", args.data.display()))?;
    let (genesis_path, key_paths) = ensure_consortium(&args.data, args.port)?;
    let keys: Vec<MemberKeys> = key_paths.iter().map(|p| MemberKeys::load(p)).collect::<Result<_, _>>()?;
    let genesis = borderlink_ledger::genesis::Genesis::load(&genesis_path)?;
    if let Some(first) = genesis.nodes.first()
        && args.port != 0
        && !first.api_url.ends_with(&format!(":{}", args.port))
    {
        eprintln!(
            "note: the demo consortium in {} was created for {}; serving there (remove the folder to start afresh)",
            args.data.display(),
            first.api_url
        );
    }
    let consortium_dir = args.data.join("consortium");
    // One node per administration; the first (British customs) keeps its data in DATA itself.
    let mut configs = Vec::new();
    for (k, n) in genesis.nodes.iter().enumerate() {
        let org = consortium_dir.join("orgs").join(&n.member);
        let listen: SocketAddr = n
            .api_url
            .trim_start_matches("http://")
            .parse()
            .with_context(|| format!("node {} API URL {}", n.id, n.api_url))?;
        configs.push(Config {
            listen,
            data_dir: if k == 0 { args.data.clone() } else { args.data.join("nodes").join(&n.member) },
            ledger: Some(LedgerConfig { genesis: genesis_path.clone(), key: org.join("member.key") }),
            cluster: Some(borderlink_node::ClusterSection {
                node_id: Some(n.id),
                ..borderlink_node::ClusterSection::with_tls(org.join("node.pem"), org.join("node.key"))
            }),
            ..Config::default()
        });
    }
    if configs.is_empty() {
        anyhow::bail!("the demo consortium lists no ordering nodes");
    }
    // The simulator signs as the first node's member and shares its trips with the other
    // customs administrations.
    let first_member = genesis.nodes[0].member.clone();
    let first_key = consortium_dir.join("orgs").join(&first_member).join("member.key");
    let other_customs: Vec<String> = genesis
        .members
        .iter()
        .filter(|m| m.id != first_member && m.role == borderlink_ledger::identity::Role::Customs)
        .map(|m| m.id.clone())
        .collect();
    // Trackers report to the first node only (one listener, so the nodes' ports cannot collide),
    // ten ports above its API port: inside the slot of 20 the ports were picked from.
    let codec8 = codec8_port(configs[0].listen);
    configs[0].iot.codec8_listen = codec8;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        let data = args.data.clone();
        let mut nodes = Vec::new();
        for c in configs {
            nodes.push(borderlink_node::bind(c).await?);
        }
        let first = &nodes[0];
        let first_addr = first.local_addr();
        if let Some(svc) = first.ledger() {
            let n = seed(svc, &keys).await?;
            if n > 0 {
                println!("submitted {n} sample records to the ledger");
            }
        }
        let banner = Banner {
            consortium: &genesis.consortium,
            nodes: nodes
                .iter()
                .zip(&genesis.nodes)
                .map(|(node, n)| {
                    let name = genesis.member(&n.member).map_or(n.member.as_str(), |m| m.name.as_str());
                    (n.id, n.member.as_str(), name, format!("http://{}/", node.local_addr()))
                })
                .collect(),
            token: first.console_token(),
            codec8,
            data: &data,
        };
        let stopping = crate::serve::shutdown_signals().context("cannot listen for Ctrl-C")?;
        print!("{banner}");
        if !args.no_sim {
            // The simulator talks to the first node as its devices would, from a thread of its
            // own (its clients block), for as long as the demo runs.
            let trips = crate::sim::TripsArgs {
                node: format!("http://{}/", first_addr),
                key: first_key.clone(),
                trips: 8,
                interval: 300,
                backfill_minutes: 180,
                live: true,
                codec8: codec8.map(|a| a.to_string()),
                share_with: other_customs.clone(),
                seed: 1,
                quiet: true,
            };
            std::thread::spawn(move || {
                // Give the nodes a moment to elect their leader before the first registration.
                std::thread::sleep(std::time::Duration::from_secs(2));
                if let Err(e) = crate::sim::drive(&trips) {
                    tracing::warn!(error = %e.message, "the trip simulator stopped");
                }
            });
            println!("simulator: 8 container trips (seals, trackers, incidents) reporting to node 1; traces at /iot");
        }
        let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
        let mut tasks = Vec::new();
        for node in nodes {
            let mut rx = stop.subscribe();
            tasks.push(tokio::spawn(node.serve(async move {
                let _ = rx.recv().await;
            })));
        }
        stopping.await;
        let _ = stop.send(());
        for t in tasks {
            t.await.context("a node task failed")??;
        }
        println!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::Ok)
}

/// What the demo prints once its nodes serve: what runs, where, how to log in and how to stop.
struct Banner<'a> {
    consortium: &'a str,
    /// Raft id, member id, organisation, API URL of each node; the first serves the console.
    nodes: Vec<(u64, &'a str, &'a str, String)>,
    token: Option<String>,
    /// Where the first node takes Teltonika Codec 8 trackers, if the port was free.
    codec8: Option<SocketAddr>,
    data: &'a Path,
}

/// The Codec 8 address of the demo's first node: its API port + 10 on loopback, when free.
fn codec8_port(api: SocketAddr) -> Option<SocketAddr> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, api.port().checked_add(10)?));
    std::net::TcpListener::bind(addr).is_ok().then_some(addr)
}

impl std::fmt::Display for Banner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some((_, _, _, console)) = self.nodes.first() else { return Ok(()) };
        writeln!(
            f,
            "Borderlink demo: {} nodes of the consortium {:?}, one per administration, replicating through Raft",
            self.nodes.len(),
            self.consortium
        )?;
        let width = self.nodes.iter().map(|n| n.1.len()).max().unwrap_or(0);
        for (id, member, name, url) in &self.nodes {
            writeln!(f, "  node {id}  {member:<width$}  {url}  {name}")?;
        }
        // The line the tests (and scripts) look for.
        writeln!(f, "Borderlink console: {console}")?;
        if let Some(t) = &self.token {
            writeln!(f, "log in (ledger pages): {console}login?token={t}")?;
        }
        if let Some(addr) = self.codec8 {
            writeln!(f, "trackers (Teltonika Codec 8 over TCP): {addr}; devices also POST /api/v1/iot/messages")?;
        }
        writeln!(
            f,
            "data: {} (consortium and member keys in {})",
            self.data.display(),
            self.data.join("consortium").display()
        )?;
        writeln!(f, "stop: Ctrl-C. Log: warnings only; -v for more, --log-format json for collectors")
    }
}
