//! `borderlink network new`: a consortium from one command — the CA, each organisation's keys
//! and certificates, and the genesis file. What it prints names files, never their secrets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use borderlink_ledger::consortium::{self, OrgSpec};

use crate::node_client::{NodeClient, NodeError, Transport};
use crate::{ExitCode, Failed};

/// Options of `borderlink network`.
#[derive(clap::Args)]
pub(crate) struct NetworkArgs {
    #[command(subcommand)]
    command: NetworkCommand,
}

#[derive(clap::Subcommand)]
enum NetworkCommand {
    /// Create a consortium: a CA, keys and certificates for each organisation, the genesis, and
    /// a configuration file for each ordering node (DIR/nodes/ID/node.toml).
    New(NewArgs),
    /// Start every node of a consortium as separate processes on this machine and print their URLs.
    Up(UpArgs),
    /// Show each node's role, term, height and head hash, and whether their checkpoints agree.
    Status(StatusArgs),
    /// Propose admitting a member's ordering node (a governance transaction with the approvals
    /// the genesis requires); once committed it joins Raft as a learner, then as a voter.
    AddNode(AddNodeArgs),
    /// Propose retiring an ordering node (governance); once committed it leaves the voters.
    RemoveNode(RemoveNodeArgs),
    /// Issue a client certificate from the consortium CA for one of a member's systems: it
    /// authenticates to the members' nodes over HTTPS in place of signed requests.
    ClientCert(ClientCertArgs),
    /// Issue a device's client certificate from the consortium CA, for an MQTT broker that
    /// authenticates devices by certificate: its common name is the device id. Prints the
    /// SHA-256 fingerprint to register as the device's credential.
    DeviceCert(DeviceCertArgs),
}

#[derive(clap::Args)]
struct DeviceCertArgs {
    /// The consortium folder (`network new --dir`), holding the CA key.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The member that owns the device.
    #[arg(long, value_name = "MEMBER")]
    member: String,
    /// The device id, as registered (`device register --id`).
    #[arg(long, value_name = "ID")]
    device: String,
}

#[derive(clap::Args)]
struct ClientCertArgs {
    /// The consortium folder (`network new --dir`), holding the CA key.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The member the system acts for.
    #[arg(long, value_name = "MEMBER")]
    member: String,
    /// The system's name (e.g. `cargo-system`).
    #[arg(long, value_name = "NAME")]
    name: String,
}

#[derive(clap::Args)]
struct GovernanceArgs {
    /// The consortium's genesis.
    #[arg(long, value_name = "GENESIS")]
    genesis: PathBuf,
    /// The submitting member's key (an eligible approver counts as one approval).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// Further approvers' keys (each signs the proposal), until the genesis' count is reached.
    #[arg(long = "approve-key", value_name = "KEY")]
    approve_keys: Vec<PathBuf>,
    /// Node to submit to.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The proposal's id (default: derived from the change).
    #[arg(long, value_name = "ID")]
    proposal_id: Option<String>,
}

#[derive(clap::Args)]
struct AddNodeArgs {
    #[command(flatten)]
    gov: GovernanceArgs,
    /// The member operating the node.
    #[arg(long, value_name = "MEMBER")]
    member: String,
    /// Its Raft id (never used before in this consortium).
    #[arg(long, value_name = "N")]
    node_id: u64,
    /// Host:port of its peer (mutual TLS) listener.
    #[arg(long, value_name = "HOST:PORT")]
    peer_addr: String,
    /// Base URL of its API.
    #[arg(long, value_name = "URL")]
    api_url: String,
}

#[derive(clap::Args)]
struct RemoveNodeArgs {
    #[command(flatten)]
    gov: GovernanceArgs,
    /// The Raft id of the node to retire.
    #[arg(long, value_name = "N")]
    node_id: u64,
}

#[derive(clap::Args)]
struct UpArgs {
    /// The consortium folder `network new` created.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
}

#[derive(clap::Args)]
struct StatusArgs {
    /// The consortium folder (its genesis lists the nodes; a member key in it signs the requests).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The member key that signs the requests (default: the first node's member key in DIR/orgs).
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Wait up to this many seconds for every node to answer, a leader to be known and the
    /// checkpoints to agree (as right after `network up`), asking again every half second; the
    /// report is of the last answers.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    wait: u64,
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
    /// First port of the nodes: node k (from 0) serves its API on BASE+2k and peers on BASE+2k+1.
    #[arg(long, value_name = "PORT", default_value_t = 7400)]
    base_port: u16,
    /// Host the nodes listen on.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// Serve the nodes' APIs over HTTPS (always, when HOST is not a loopback address): each
    /// node.toml gets a [tls] section with its API certificate (orgs/ID/api.pem, issued for HOST
    /// and loopback), and the genesis lists https:// API URLs. Clients verify them with --ca
    /// DIR/ca.pem.
    #[arg(long)]
    https: bool,
    /// Roles whose members run an ordering node.
    #[arg(long = "node-roles", value_name = "ROLE,…", value_delimiter = ',', default_value = "customs,oga", value_parser = parse_role)]
    node_roles: Vec<borderlink_ledger::identity::Role>,
}

fn parse_role(s: &str) -> Result<borderlink_ledger::identity::Role, String> {
    borderlink_ledger::identity::Role::parse(s)
        .ok_or_else(|| format!("{s:?} is not one of customs, oga, aeo, carrier, port"))
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
        NetworkCommand::Up(a) => up(a),
        NetworkCommand::Status(a) => status(a),
        NetworkCommand::AddNode(a) => {
            let node = borderlink_ledger::genesis::NodeSpec {
                id: a.node_id,
                member: a.member,
                peer_addr: a.peer_addr,
                api_url: a.api_url,
            };
            propose(&a.gov, borderlink_ledger::governance::GovernanceAction::AddNode { node })
        }
        NetworkCommand::RemoveNode(a) => {
            propose(&a.gov, borderlink_ledger::governance::GovernanceAction::RemoveNode { node_id: a.node_id })
        }
        NetworkCommand::ClientCert(a) => crate::finish(
            consortium::issue_client_certificate(&a.dir, &a.member, &a.name)
                .map_err(|e| Failed::new(ExitCode::Input, e))
                .map(|(pem, key)| {
                    println!("client certificate of {} for {}: {}", a.name, a.member, pem.display());
                    println!("its key (mode 0600): {}", key.display());
                    println!(
                        "present both to a member node's HTTPS API (e.g. curl --cert {} --key {} --cacert {}/ca.pem …)",
                        pem.display(),
                        key.display(),
                        a.dir.display()
                    );
                    ExitCode::Ok
                }),
        ),
        NetworkCommand::DeviceCert(a) => crate::finish(
            consortium::issue_device_certificate(&a.dir, &a.member, &a.device)
                .and_then(|(pem, key)| Ok((consortium::certificate_sha256(&pem)?, pem, key)))
                .map_err(|e| Failed::new(ExitCode::Input, e))
                .map(|(sha256, pem, key)| {
                    println!("device certificate of {} (owner {}): {}", a.device, a.member, pem.display());
                    println!("its key (mode 0600): {}", key.display());
                    println!("register it with the credential {{\"type\": \"certificate\", \"sha256\": \"{sha256}\"}}");
                    ExitCode::Ok
                }),
        ),
    }
}

fn new(a: NewArgs) -> anyhow::Result<ExitCode> {
    let created_at = borderlink_model::datetime::format_unix_ms(crate::now_ms());
    let plan = consortium::NodePlan {
        roles: a.node_roles.clone(),
        host: a.host.clone(),
        base_port: a.base_port,
        https: a.https || !crate::node_client::is_loopback_host(&a.host),
    };
    let created = consortium::create_with_nodes(&a.dir, &a.name, &a.orgs, &created_at, &plan)?;
    let g = &created.genesis;
    write_node_configs(&a.dir, g)?;
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
    if !g.nodes.is_empty() {
        writeln!(out, "ordering nodes (Raft voters):")?;
        for n in &g.nodes {
            writeln!(
                out,
                "  node {}  {:<width$}  API {}  peers {}  config {}",
                n.id,
                n.member,
                n.api_url,
                n.peer_addr,
                node_config_path(&a.dir, &n.member).display()
            )?;
        }
        writeln!(out, "start them all: borderlink network up --dir {}", a.dir.display())?;
    }
    if let Some((_, key)) = created.key_files.first() {
        writeln!(
            out,
            "next: give each organisation its orgs/ID folder and everyone {}",
            file_name(&created.genesis_path)
        )?;
        // The first ordering node's own API URL: the hint names the port this consortium uses.
        match g.nodes.first() {
            Some(n) if n.api_url.starts_with("https://") => writeln!(
                out,
                "      e.g. borderlink submit RECORD.json --key {} --node {} --ca {}",
                key.display(),
                n.api_url,
                a.dir.join("ca.pem").display()
            )?,
            Some(n) => {
                writeln!(out, "      e.g. borderlink submit RECORD.json --key {} --node {}", key.display(), n.api_url)?
            }
            None => writeln!(
                out,
                "      e.g. borderlink submit RECORD.json --key {} --node URL (a node of this consortium)",
                key.display()
            )?,
        }
    }
    drop(out);
    if let Some(w) = voter_warning(g.nodes.len()) {
        eprintln!("{w}");
    }
    Ok(ExitCode::Ok)
}

/// What to tell about a Raft group of `voters` ordering nodes that cannot survive the loss of
/// any of them: a commit needs a majority, and the majority of two is both.
fn voter_warning(voters: usize) -> Option<String> {
    (voters == 2).then(|| {
        "warning: 2 ordering nodes form a Raft group that needs both to commit: if either stops, the \
         consortium accepts no transaction until it is back. Use 3 (it survives 1 failure) or 1: give a third \
         organisation a node (--node-roles, or another --org of those roles)"
            .to_owned()
    })
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Where `network new` writes a node's configuration.
pub(crate) fn node_config_path(dir: &Path, member: &str) -> PathBuf {
    dir.join("nodes").join(member).join("node.toml")
}

/// One `node.toml` per ordering node, with paths relative to its own folder.
fn write_node_configs(dir: &Path, g: &borderlink_ledger::genesis::Genesis) -> anyhow::Result<()> {
    for n in &g.nodes {
        let path = node_config_path(dir, &n.member);
        let folder = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(folder)?;
        let api = n.api_url.trim_start_matches("http://").trim_start_matches("https://");
        let tls = if n.api_url.starts_with("https://") {
            format!(
                "[tls]\n\
                 # The API's HTTPS certificate, issued by the consortium CA for this node's api_url.\n\
                 cert = \"../../orgs/{member}/api.pem\"\n\
                 key = \"../../orgs/{member}/api.key\"\n\n",
                member = n.member
            )
        } else {
            String::new()
        };
        let text = format!(
            "# Node {id} of {member}. Run: borderlink serve --config {path}\n\
             listen = \"{api}\"\n\
             data_dir = \"data\"\n\
             # Prometheus metrics, on a listener of their own (keep it on loopback): uncomment to serve.\n\
             # metrics_listen = \"127.0.0.1:{metrics}\"\n\n\
             {tls}\
             [ledger]\n\
             genesis = \"../../genesis.json\"\n\
             key = \"../../orgs/{member}/member.key\"\n\n\
             [cluster]\n\
             # node_id and peer_listen default to this member's node in the genesis.\n\
             tls_cert = \"../../orgs/{member}/node.pem\"\n\
             tls_key = \"../../orgs/{member}/node.key\"\n",
            id = n.id,
            member = n.member,
            path = path.display(),
            metrics = 9100 + n.id,
        );
        std::fs::write(&path, text)?;
    }
    Ok(())
}

fn load_genesis(dir: &Path) -> anyhow::Result<borderlink_ledger::genesis::Genesis> {
    let g = borderlink_ledger::genesis::Genesis::load(&dir.join("genesis.json"))?;
    if g.nodes.is_empty() {
        anyhow::bail!("the genesis in {} lists no ordering nodes", dir.display());
    }
    Ok(g)
}

/// Reads a node's console token once it has written it.
fn console_token(dir: &Path, member: &str) -> Option<String> {
    let p = node_config_path(dir, member).parent()?.join("data").join("console.token");
    std::fs::read_to_string(p).ok().map(|t| t.trim().to_owned())
}

fn up(a: UpArgs) -> anyhow::Result<ExitCode> {
    let g = load_genesis(&a.dir)?;
    crate::node_client::trust_ca(a.dir.join("ca.pem"));
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for n in &g.nodes {
        let config = node_config_path(&a.dir, &n.member);
        if !config.exists() {
            anyhow::bail!("{} is missing (was the folder made by `borderlink network new`?)", config.display());
        }
        let log_path = config.with_file_name("node.log");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
        let child = std::process::Command::new(&exe)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start node {}: {e}", n.id))?;
        children.push((n.clone(), child, log_path));
    }
    // The nodes run on this machine: asked directly, briefly, without a signature.
    let transport = Transport { timeout: Duration::from_secs(2), direct: true };
    let deadline = Instant::now() + Duration::from_secs(120);
    for (n, child, log) in &mut children {
        let node = NodeClient::connect(&n.api_url, None, transport)?;
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("node {} ({}) exited with {status}; see {}", n.id, n.member, log.display());
            }
            if node.get("healthz").is_ok_and(|r| r.status.is_success()) {
                break;
            }
            if Instant::now() > deadline {
                anyhow::bail!("node {} did not answer at {} within 120 s; see {}", n.id, n.api_url, log.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "consortium {:?}: {} nodes up", g.consortium, children.len())?;
    for (n, child, log) in &children {
        writeln!(out, "node {} {} {} pid {} log {}", n.id, n.member, n.api_url, child.id(), log.display())?;
        if let Some(t) = console_token(&a.dir, &n.member) {
            writeln!(out, "  console login: {}/login?token={t}", n.api_url)?;
        }
    }
    writeln!(out, "status: borderlink network status --dir {}; press Ctrl-C to stop every node", a.dir.display())?;
    out.flush()?;
    drop(out);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let stop = crate::serve::shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = tick.tick() => {
                    for (n, child, log) in &mut children {
                        if let Ok(Some(status)) = child.try_wait() {
                            eprintln!("node {} ({}) exited with {status}; see {}", n.id, n.member, log.display());
                        }
                    }
                    children.retain_mut(|(_, c, _)| matches!(c.try_wait(), Ok(None)));
                }
            }
        }
    });
    println!("stopping {} node(s)", children.len());
    for (_, child, _) in &children {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    for (n, child, _) in &mut children {
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if matches!(child.try_wait(), Ok(None)) {
            eprintln!("node {} did not stop in time; killing it", n.id);
            let _ = child.kill();
        }
    }
    Ok(ExitCode::Ok)
}

/// One node's answer to `network status`.
#[derive(Debug, serde::Serialize)]
struct NodeReport {
    id: u64,
    member: String,
    api_url: String,
    reachable: bool,
    error: Option<String>,
    state: Option<String>,
    term: Option<u64>,
    leader: Option<u64>,
    height: Option<u64>,
    head_hash: Option<String>,
    /// Peers whose signed checkpoints differ from this node's blocks: (member, height).
    divergences: Vec<(String, u64)>,
}

/// The whole report.
#[derive(Debug, serde::Serialize)]
struct StatusReport {
    consortium: String,
    nodes: Vec<NodeReport>,
    leader: Option<u64>,
    /// Every reachable node has the same block hash at the lowest common height.
    heads_agree: bool,
    common_height: u64,
    /// Nodes whose hash differs from the majority's, with the first height where it does.
    divergent: Vec<(u64, u64)>,
    all_reachable: bool,
}

fn status(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let g = load_genesis(&a.dir)?;
    crate::node_client::trust_ca(a.dir.join("ca.pem"));
    let key_path = match &a.key {
        Some(k) => k.clone(),
        None => a.dir.join("orgs").join(&g.nodes[0].member).join("member.key"),
    };
    let keys = borderlink_ledger::identity::MemberKeys::load(&key_path)?;
    let deadline = Instant::now() + Duration::from_secs(a.wait);
    let (report, ok) = loop {
        let (report, ok) = survey(&g, &keys)?;
        if ok || Instant::now() >= deadline {
            break (report, ok);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    print_status(&report, a.json)?;
    Ok(if ok { ExitCode::Ok } else { ExitCode::Invalid })
}

/// Asks every node of the genesis: the report, and whether all is well (every node reachable,
/// a leader, the heads agree, no divergence).
fn survey(
    g: &borderlink_ledger::genesis::Genesis,
    keys: &borderlink_ledger::identity::MemberKeys,
) -> anyhow::Result<(StatusReport, bool)> {
    let mut reports = Vec::new();
    let mut clients = Vec::new();
    for n in &g.nodes {
        let mut r = NodeReport {
            id: n.id,
            member: n.member.clone(),
            api_url: n.api_url.clone(),
            reachable: false,
            error: None,
            state: None,
            term: None,
            leader: None,
            height: None,
            head_hash: None,
            divergences: Vec::new(),
        };
        let client = NodeClient::new(&n.api_url, keys.clone()).map_err(as_before)?;
        match client.get("api/v1/network") {
            Ok(reply) if reply.status.is_success() => {
                let v: serde_json::Value = reply.json("network").map_err(|e| anyhow::anyhow!("{e}"))?;
                r.reachable = true;
                r.height = Some(v["head"]["height"].as_u64().unwrap_or(0));
                r.head_hash = v["head"]["hash"].as_str().map(str::to_owned);
                let c = &v["cluster"];
                r.state = c["state"].as_str().map(str::to_owned);
                r.term = c["term"].as_u64();
                r.leader = c["leader"].as_u64();
                for node in c["nodes"].as_array().into_iter().flatten() {
                    if let Some(d) = node["diverged_at"].as_u64() {
                        r.divergences.push((node["member"].as_str().unwrap_or("").to_owned(), d));
                    }
                }
            }
            Ok(reply) => r.error = Some(format!("HTTP {}", reply.status)),
            Err(e) => r.error = Some(Failed::from(e).to_string()),
        }
        clients.push(client);
        reports.push(r);
    }
    let reachable: Vec<usize> = (0..reports.len()).filter(|i| reports[*i].reachable).collect();
    let common_height = reachable.iter().filter_map(|i| reports[*i].height).min().unwrap_or(0);
    // The block hash of each reachable node at the common height.
    let mut hashes: Vec<(usize, Option<String>)> = Vec::new();
    for i in &reachable {
        let h = if reports[*i].height == Some(common_height) {
            reports[*i].head_hash.clone()
        } else if common_height == 0 {
            None
        } else {
            clients[*i]
                .get(&format!("api/v1/blocks/{common_height}"))
                .ok()
                .filter(|r| r.status.is_success())
                .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
                .and_then(|v| v["hash"].as_str().map(str::to_owned))
        };
        hashes.push((*i, h));
    }
    let heads_agree = hashes.windows(2).all(|w| w[0].1 == w[1].1);
    // A node is divergent when most other nodes report a different hash from it.
    let mut divergent = Vec::new();
    for r in &reports {
        let mut reported_by = 0;
        let mut first = u64::MAX;
        for other in &reports {
            if let Some((_, h)) = other.divergences.iter().find(|(m, _)| m == &r.member) {
                reported_by += 1;
                first = first.min(*h);
            }
        }
        if reported_by > 0 && reported_by * 2 > reports.len().saturating_sub(1) {
            divergent.push((r.id, first));
        }
    }
    let leader = reports.iter().filter(|r| r.state.as_deref() == Some("leader")).map(|r| r.id).next_back();
    let report = StatusReport {
        consortium: g.consortium.clone(),
        all_reachable: reachable.len() == reports.len(),
        nodes: reports,
        leader,
        heads_agree,
        common_height,
        divergent,
    };
    let ok = report.all_reachable && report.heads_agree && report.divergent.is_empty() && report.leader.is_some();
    Ok((report, ok))
}

fn print_status(report: &StatusReport, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(out, "consortium {:?}: {} node(s)", report.consortium, report.nodes.len())?;
        writeln!(
            out,
            "{:<4} {:<20} {:<24} {:<10} {:>5} {:>8}  head",
            "node", "member", "API", "state", "term", "height"
        )?;
        for r in &report.nodes {
            if r.reachable {
                writeln!(
                    out,
                    "{:<4} {:<20} {:<24} {:<10} {:>5} {:>8}  {}",
                    r.id,
                    r.member,
                    r.api_url.trim_start_matches("http://"),
                    r.state.as_deref().unwrap_or("-"),
                    r.term.map_or("-".into(), |t| t.to_string()),
                    r.height.unwrap_or(0),
                    r.head_hash.as_deref().map_or("-", |h| &h[..h.len().min(16)])
                )?;
            } else {
                writeln!(
                    out,
                    "{:<4} {:<20} {:<24} unreachable: {}",
                    r.id,
                    r.member,
                    r.api_url,
                    r.error.as_deref().unwrap_or("")
                )?;
            }
        }
        match report.leader {
            Some(l) => writeln!(out, "leader: node {l}")?,
            None => writeln!(out, "leader: none known")?,
        }
        if report.heads_agree {
            writeln!(out, "checkpoints: the reachable nodes agree up to height {}", report.common_height)?;
        } else {
            writeln!(out, "checkpoints: the nodes DISAGREE at height {}", report.common_height)?;
        }
        for (id, h) in &report.divergent {
            writeln!(out, "divergence: node {id} differs from the majority from height {h} on")?;
        }
    }
    Ok(())
}

/// A request that got no reply, worded as `network` has always printed it: the message `submit`
/// prints (`error: …`) as the error's text.
fn as_before(e: NodeError) -> anyhow::Error {
    anyhow::anyhow!("{}", Failed::from(e))
}

/// Signs a governance proposal with the given keys and submits it.
fn propose(a: &GovernanceArgs, change: borderlink_ledger::governance::GovernanceAction) -> anyhow::Result<ExitCode> {
    use borderlink_ledger::governance::{Approval, GovernanceAction, Proposal, approval_message};
    use borderlink_ledger::identity::MemberKeys;
    let g = borderlink_ledger::genesis::Genesis::load(&a.genesis)?;
    let chain = g.chain_id();
    let submitter = MemberKeys::load(&a.key)?;
    let now = crate::now_ms();
    let id = a.proposal_id.clone().unwrap_or_else(|| match &change {
        GovernanceAction::AddNode { node } => format!("GOV-ADD-NODE-{}-{now}", node.id),
        GovernanceAction::RemoveNode { node_id } => format!("GOV-REMOVE-NODE-{node_id}-{now}"),
        _ => format!("GOV-{now}"),
    });
    let msg = approval_message(&chain, &id, &change)?;
    let mut approvals = Vec::new();
    for k in &a.approve_keys {
        let keys = MemberKeys::load(k)?;
        approvals.push(Approval { member: keys.member.clone(), signature: hex::encode(keys.sign(&msg)) });
    }
    let payload = serde_json::to_vec(&Proposal { change, approvals })?;
    let body = borderlink_ledger::governance_body(chain, &id, &payload, &submitter.member, now as u64, now);
    let wire = borderlink_ledger::Transaction::sign(body, payload, Vec::new(), &submitter).to_wire();
    let client = NodeClient::new(&a.node, submitter).map_err(as_before)?;
    let reply =
        client.send(reqwest::Method::POST, "api/v1/transactions", serde_json::to_vec(&wire)?).map_err(as_before)?;
    let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
    if reply.status.is_success() {
        println!("committed governance proposal {id} at height {}", v["height"]);
        Ok(ExitCode::Ok)
    } else {
        eprintln!("error [{}]: {}", v["code"].as_str().unwrap_or("?"), v["message"].as_str().unwrap_or(""));
        Ok(ExitCode::Invalid)
    }
}
