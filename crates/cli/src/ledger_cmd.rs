//! The ledger from the command line: `submit` a record to a node, export a `proof` of it (from a
//! node, or offline from a ledger folder), `verify` a proof offline, and check a whole ledger
//! with `ledger verify`.
//!
//! Exit codes: 0 done; 1 the record is invalid, the node refused the transaction, the proof or
//! the ledger does not verify; 2 usage; 3 an input (file, key, genesis) cannot be read; 4 the
//! node cannot be reached or failed.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use borderlink_iot::anchor::EventProof;
use borderlink_ledger::genesis::Genesis;
use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::proof::Proof;
use borderlink_ledger::tx::{PayloadKind, TxBody, TxKind};
use borderlink_ledger::{Hash, Ledger, LedgerError, Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use rand_core::{OsRng, RngCore};
use serde::Deserialize;

use crate::node_client::NodeClient;
use crate::{ExitCode, Failed, Outcome, finish, now_ms};

/// Options of `borderlink submit`.
#[derive(clap::Args)]
pub(crate) struct SubmitArgs {
    /// The record to submit (JSON or WCO DM XML).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The submitting member's key file (`orgs/ID/member.key`).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The node's URL, e.g. `http://127.0.0.1:8080`.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The record id on the ledger. By default the id the ledger derives from the record's
    /// business keys (`declaration:{declarant}:{LRN}`, `aeo-authorization:{country}:{number}`…,
    /// see docs/ledger-format.md); another id is refused by the ledger.
    #[arg(long, value_name = "RECORD_ID")]
    id: Option<String>,
    /// Make the record private to these members (comma-separated ids): it is encrypted to them
    /// (and to the submitter), other members only see its digest. A private declaration is also
    /// encrypted to the customs administration of its country, whose node endorses it.
    #[arg(long = "private-to", value_name = "MEMBER_ID,…", value_delimiter = ',')]
    private_to: Vec<String>,
    /// The URL of the customs node that endorses a private declaration (default: the node of
    /// the customs administration of its country, from the consortium's node list).
    #[arg(long, value_name = "URL", requires = "private_to")]
    endorser: Option<String>,
}

/// Options of `borderlink proof`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["node", "data"]))]
pub(crate) struct ProofArgs {
    /// The record whose current version to prove.
    #[arg(value_name = "RECORD_ID", required_unless_present = "event", conflicts_with = "event")]
    record_id: Option<String>,
    /// Prove an IoT event instead (its event hash ID `ni:///sha-256;…?ver=CBV2.0` or its eventID):
    /// the event, its Merkle path to the anchor the node committed on the ledger, and the
    /// ledger's proof of that anchor (needs --node and --key).
    #[arg(long, value_name = "EVENT_ID", requires = "node")]
    event: Option<String>,
    /// The purpose of this read, as the consortium's read policy knows it (with --node): a
    /// proof carries the whole record, so the purpose must allow reading all of it.
    #[arg(long, value_name = "PURPOSE", default_value = "audit")]
    purpose: String,
    /// Ask this node (signed request; needs --key).
    #[arg(long, value_name = "URL", requires = "key")]
    node: Option<String>,
    /// The member key that signs the request to the node.
    #[arg(long, value_name = "KEY", requires = "node")]
    key: Option<PathBuf>,
    /// Read a ledger folder directly instead (the node's data folder, or its `ledger` folder);
    /// a running node's ledger is read from a copy taken now.
    #[arg(long, value_name = "DIR", conflicts_with = "node")]
    data: Option<PathBuf>,
    /// The consortium's genesis (with --data; default DIR/consortium/genesis.json).
    #[arg(long, value_name = "GENESIS", requires = "data")]
    genesis: Option<PathBuf>,
}

/// Options of `borderlink verify`.
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// The proof file (from `borderlink proof`).
    #[arg(value_name = "PROOF")]
    proof: PathBuf,
    /// The consortium's genesis file: the only thing trusted.
    #[arg(long, value_name = "GENESIS")]
    genesis: PathBuf,
}

/// Options of `borderlink ledger`.
#[derive(clap::Args)]
pub(crate) struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(clap::Subcommand)]
enum LedgerCommand {
    /// Check a whole ledger: hash chain, Merkle roots, signatures, checkpoints and state.
    Verify {
        /// The node's data folder (holding `ledger/`), or the ledger folder itself. A running
        /// node's ledger is checked in a copy taken now (its file is only read).
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The consortium's genesis (default DIR/consortium/genesis.json).
        #[arg(long, value_name = "GENESIS")]
        genesis: Option<PathBuf>,
    },
}

/// A usage error found after parsing (exit 2, clap's format, with the usage of the subcommand
/// at `path`, e.g. `["ledger", "verify"]`).
fn usage_error(path: &[&str], kind: clap::error::ErrorKind, message: impl Display) -> ! {
    use clap::CommandFactory;
    let mut cmd = crate::Cli::command();
    cmd.build();
    let mut at = cmd;
    for name in path {
        match at.find_subcommand(name).cloned() {
            Some(sub) => at = sub,
            None => break,
        }
    }
    at.error(kind, message).exit()
}

/// Writes `value` as pretty JSON on standard output; a closed pipe ends quietly.
pub(crate) fn print_json<T: serde::Serialize>(value: &T, what: &str) -> Outcome<()> {
    let mut out = std::io::stdout().lock();
    let written =
        serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from).and_then(|()| writeln!(out));
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failed::new(ExitCode::Failure, format!("cannot write {what}: {e}")))
        }
        _ => Ok(()),
    }
}

pub(crate) fn load_keys(path: &Path) -> Outcome<MemberKeys> {
    MemberKeys::load(path).map_err(|e| Failed::new(ExitCode::Input, e))
}

fn load_genesis(path: &Path) -> Outcome<Genesis> {
    Genesis::load(path).map_err(|e| Failed::new(ExitCode::Input, e))
}

// ---------------------------------------------------------------------------------------------
// What a node answers

/// What `GET /api/v1/network` says (the parts a client needs).
#[derive(Debug, Deserialize)]
struct NetworkView {
    consortium: String,
    chain_id: String,
    members: Vec<MemberView>,
    #[serde(default = "rules_v1")]
    rules: u32,
    #[serde(default)]
    nodes: Vec<NodeRef>,
}

fn rules_v1() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
struct MemberView {
    id: String,
    status: String,
    encryption_key: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    country: String,
}

#[derive(Debug, Deserialize)]
struct NodeRef {
    member: String,
    api_url: String,
}

#[derive(Debug, Deserialize)]
struct EndorsementReply {
    member: String,
    signature: String,
}

#[derive(Debug, Deserialize)]
struct RecordView {
    version: u64,
    record_type: String,
}

#[derive(Debug, Deserialize)]
struct SubmitReply {
    tx_id: String,
    height: u64,
    index: u32,
}

// ---------------------------------------------------------------------------------------------
// submit

/// Asks the node of the declaration's customs administration to open and endorse it: `--endorser`
/// when given, else the node the consortium lists for one of `customs`, else the node the
/// submission goes to.
#[allow(clippy::too_many_arguments)] // each is a distinct input of the request
fn endorsement(
    a: &SubmitArgs,
    node: &NodeClient,
    keys: &MemberKeys,
    network: &NetworkView,
    customs: &[&str],
    body: &TxBody,
    ciphertext: &[u8],
    wrapped: &[borderlink_ledger::tx::WrappedKey],
) -> Outcome<borderlink_ledger::tx::Endorsement> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let listed = network.nodes.iter().find(|n| customs.contains(&n.member.as_str())).map(|n| n.api_url.clone());
    let other = match a.endorser.clone().or(listed) {
        Some(url) if url.trim_end_matches('/') != a.node.trim_end_matches('/') => {
            Some(NodeClient::new(&url, keys.clone())?)
        }
        _ => None,
    };
    let endorser = other.as_ref().unwrap_or(node);
    let request = serde_json::json!({
        "body": b64.encode(body.encode()),
        "payload": b64.encode(ciphertext),
        "wrapped_keys": wrapped,
    });
    let reply = endorser.send(reqwest::Method::POST, "api/v1/endorsements", request.to_string().into_bytes())?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let r: EndorsementReply = reply.json("endorsement")?;
    let sig = b64
        .decode(&r.signature)
        .ok()
        .and_then(|s| <[u8; 64]>::try_from(s.as_slice()).ok())
        .ok_or_else(|| Failed::new(ExitCode::Failure, "the endorsement's signature is not 64 bytes of base64"))?;
    Ok(borderlink_ledger::tx::Endorsement { member: r.member, signature: sig })
}

pub(crate) fn submit(a: SubmitArgs) -> anyhow::Result<ExitCode> {
    finish(submit_record(a))
}

fn submit_record(a: SubmitArgs) -> Outcome<ExitCode> {
    let keys = load_keys(&a.key)?;
    let name = a.file.display().to_string();
    let max = borderlink_model::validate::DEFAULT_MAX_BYTES;
    let bytes =
        crate::read_limited(&a.file, max).with_context(|| format!("cannot read {name}")).map_err(Failed::input)?;
    // Refuse invalid records here, with the full report, rather than spend a round trip.
    let report = validate(&bytes, &ValidateOptions::default());
    let Some(record) = report.record.clone().filter(|_| report.valid) else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let mut out = std::io::stdout().lock();
        let _ = crate::write_human(&mut out, &name, &report, color);
        return Err(Failed::new(ExitCode::Invalid, format!("{name} is not a valid record: nothing was submitted")));
    };
    let record_id = match a.id.clone() {
        Some(id) if !id.trim().is_empty() => id,
        Some(_) => usage_error(&["submit"], clap::error::ErrorKind::InvalidValue, "--id must not be empty"),
        None => borderlink_ledger::meta::record_id(&record, &keys.member)
            .map_err(|e| Failed::new(ExitCode::Invalid, format!("{name}: {e}; nothing was submitted")))?,
    };
    // The canonical form is what the ledger stores (XML input becomes the same JSON).
    let payload = serde_json::to_vec(&record).map_err(|e| Failed::new(ExitCode::Failure, e))?;
    // The submitter reads the record's current version (to write the next) for clearance.
    let node = NodeClient::new(&a.node, keys.clone())?.with_purpose("clearance");

    let reply = node.get("api/v1/network")?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let network: NetworkView = reply.json("network")?;
    let chain = Hash::from_hex(&network.chain_id)
        .ok_or_else(|| Failed::new(ExitCode::Failure, "the node's chain id is not a SHA-256 digest"))?;
    let me = keys.member.clone();
    if !network.members.iter().any(|m| m.id == me) {
        return Err(Failed::new(
            ExitCode::Invalid,
            format!("{me} (from {}) is not a member of {:?}", a.key.display(), network.consortium),
        ));
    }

    let reply = node.get(&format!("api/v1/records/{}", borderlink_ledger::auth::path_segment(&record_id)))?;
    let version = match reply.status.as_u16() {
        200 => {
            let current: RecordView = reply.json("record")?;
            if current.record_type != record.record_type().name() {
                return Err(Failed::new(
                    ExitCode::Invalid,
                    format!(
                        "record {record_id} on the ledger is a {}, not a {}: choose another id with --id",
                        current.record_type,
                        record.record_type().name()
                    ),
                ));
            }
            current.version + 1
        }
        404 if reply.error_body().is_some_and(|b| b.code == "record_not_found") => 1,
        _ => return Err(reply.refused()),
    };

    let nonce = OsRng.next_u64();
    let ts = now_ms();
    let private = !a.private_to.is_empty();
    let tx = if private {
        let mut ids: Vec<String> = Vec::new();
        for id in a.private_to.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if !ids.iter().any(|x| x == id) {
                ids.push(id.to_owned());
            }
        }
        // The submitter can read back what it wrote.
        if !ids.contains(&me) {
            ids.push(me.clone());
        }
        // A declaration stays readable by the customs administration of its country.
        let meta = borderlink_ledger::meta::derive(&record);
        let endorse = record.record_type().name() == "declaration" && network.rules >= 2;
        let mut customs: Vec<&str> = Vec::new();
        if endorse {
            customs = network
                .members
                .iter()
                .filter(|m| m.role == "customs" && m.status == "active" && m.country == meta.country)
                .map(|m| m.id.as_str())
                .collect();
            if customs.is_empty() {
                return Err(Failed::new(
                    ExitCode::Invalid,
                    format!(
                        "no customs administration of {:?} is a member of {:?}, so this declaration cannot be private",
                        meta.country, network.consortium
                    ),
                ));
            }
            for c in &customs {
                if !ids.iter().any(|x| x == c) {
                    eprintln!(
                        "note: the declaration is also encrypted to {c}, the customs administration of {}",
                        meta.country
                    );
                    ids.push((*c).to_owned());
                }
            }
        }
        let mut recipients = Vec::with_capacity(ids.len());
        for id in &ids {
            let m = network.members.iter().find(|m| &m.id == id).ok_or_else(|| {
                Failed::new(
                    ExitCode::Invalid,
                    format!(
                        "--private-to: {id} is not a member of {:?} (members: {})",
                        network.consortium,
                        network.members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            if m.status != "active" {
                return Err(Failed::new(ExitCode::Invalid, format!("--private-to: {id} is {}", m.status)));
            }
            let mut k = [0u8; 32];
            hex::decode_to_slice(&m.encryption_key, &mut k).map_err(|_| {
                Failed::new(ExitCode::Failure, format!("the node gives no valid encryption key for {id}"))
            })?;
            recipients.push((id.clone(), x25519_dalek::PublicKey::from(k)));
        }
        let (header, ciphertext, wrapped) = borderlink_ledger::private::seal(&payload, &record_id, &recipients)
            .map_err(|e| Failed::new(ExitCode::Failure, e))?;
        let mut body = TxBody {
            chain,
            kind: TxKind::Put,
            record_type: record.record_type().name().to_owned(),
            record_id: record_id.clone(),
            version,
            meta,
            payload_kind: PayloadKind::Private,
            payload_digest: Hash::of(&ciphertext),
            payload_len: ciphertext.len() as u64,
            media_type: "application/json".into(),
            private: Some(header),
            submitter: me.clone(),
            nonce,
            timestamp_ms: ts,
            endorsement: None,
        };
        if endorse {
            body.endorsement = Some(endorsement(&a, &node, &keys, &network, &customs, &body, &ciphertext, &wrapped)?);
        }
        Transaction::sign(body, ciphertext, wrapped, &keys)
    } else {
        let body = clear_put_body(chain, &record, &record_id, version, &payload, &me, nonce, ts);
        Transaction::sign(body, payload, Vec::new(), &keys)
    };

    let wire = serde_json::to_vec(&tx.to_wire()).map_err(|e| Failed::new(ExitCode::Failure, e))?;
    let reply = node.send(reqwest::Method::POST, "api/v1/transactions", wire)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let r: SubmitReply = reply.json("submission")?;
    let mut out = std::io::stdout().lock();
    let shown = (|| {
        writeln!(
            out,
            "committed {record_id} version {version}{} at height {} (index {})",
            if private { " (private)" } else { "" },
            r.height,
            r.index
        )?;
        writeln!(out, "tx id: {}", r.tx_id)?;
        if let Some(h) = &tx.body.private {
            writeln!(out, "readable by: {}", h.recipients.join(", "))?;
        }
        if let Some(e) = &tx.body.endorsement {
            writeln!(out, "endorsed by: {} (it opened the declaration and checked it)", e.member)?;
        }
        Ok::<_, std::io::Error>(())
    })();
    if let Err(e) = shown
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Failed::new(ExitCode::Failure, e));
    }
    Ok(ExitCode::Ok)
}

// ---------------------------------------------------------------------------------------------
// proof

pub(crate) fn proof(a: ProofArgs) -> anyhow::Result<ExitCode> {
    finish(export_proof(a))
}

fn export_proof(a: ProofArgs) -> Outcome<ExitCode> {
    if let (Some(event), Some(node), Some(key)) = (&a.event, &a.node, &a.key) {
        return export_event_proof(event, node, key);
    }
    let record_id = a.record_id.clone().unwrap_or_default();
    let proof = match (&a.node, &a.key, &a.data) {
        (Some(node), Some(key), _) => {
            let node = NodeClient::new(node, load_keys(key)?)?.with_purpose(&a.purpose);
            let reply = node.get(&format!("api/v1/proofs/{}", borderlink_ledger::auth::path_segment(&record_id)))?;
            if !reply.status.is_success() {
                return Err(reply.refused());
            }
            reply.json::<Proof>("proof")?
        }
        (_, _, Some(data)) => {
            let local = locate(&["proof"], data, a.genesis.as_deref())?;
            let ledger = local.open().map_err(|e| e.into_failed(&local))?;
            match ledger.proof(&record_id) {
                Ok(p) => p,
                Err(LedgerError::NotFound(_)) => {
                    return Err(Failed::new(
                        ExitCode::Invalid,
                        format!("record {record_id} is not on the ledger in {}", local.dir.display()),
                    ));
                }
                Err(e) => return Err(Failed::new(ExitCode::Failure, e)),
            }
        }
        _ => usage_error(
            &["proof"],
            clap::error::ErrorKind::MissingRequiredArgument,
            "give --node URL --key KEY or --data DIR",
        ),
    };
    print_json(&proof, "the proof")?;
    eprintln!(
        "proof of {} {} version {} (block {}, {} checkpoint signature(s))",
        proof.record_type,
        proof.record_id,
        proof.version,
        proof.header.height,
        proof.checkpoints.len()
    );
    Ok(ExitCode::Ok)
}

/// `borderlink proof --event ID --node URL --key KEY`: the event proof, as JSON on stdout.
fn export_event_proof(event: &str, node: &str, key: &Path) -> Outcome<ExitCode> {
    let node = NodeClient::new(node, load_keys(key)?)?;
    let reply = node.get(&format!("api/v1/iot/proofs/{}", borderlink_ledger::auth::path_segment(event)))?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let proof = reply.json::<EventProof>("event proof")?;
    print_json(&proof, "the proof")?;
    eprintln!(
        "proof of event {} (event {} of the batch {}..={}, anchored in {}, block {})",
        proof.hash_id,
        proof.index,
        proof.anchor.first_seq,
        proof.anchor.last_seq,
        proof.ledger_proof.record_id,
        proof.ledger_proof.header.height
    );
    Ok(ExitCode::Ok)
}

// ---------------------------------------------------------------------------------------------
// verify

pub(crate) fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    finish(verify_proof(a))
}

fn verify_proof(a: VerifyArgs) -> Outcome<ExitCode> {
    let genesis = load_genesis(&a.genesis)?;
    let name = a.proof.display().to_string();
    let bytes = crate::read_limited(&a.proof, borderlink_model::validate::DEFAULT_MAX_BYTES)
        .with_context(|| format!("cannot read {name}"))
        .map_err(Failed::input)?;
    let mut out = std::io::stdout().lock();
    if let Ok(audit) = serde_json::from_slice::<borderlink_access::audit::AuditProof>(&bytes) {
        let written = match audit.verify(&genesis) {
            Ok(v) => (|| {
                let e = &audit.entry;
                writeln!(out, "verified: audit entry {} of node {}", v.seq, v.node)?;
                writeln!(
                    out,
                    "  {} {} by {} ({}, {}) for {}: {}",
                    borderlink_model::datetime::format_unix_ms(e.at_ms),
                    e.access.action,
                    e.access.actor,
                    e.access.organisation,
                    e.access.roles.join(", "),
                    e.access.purpose,
                    e.access.records.join(", ")
                )?;
                writeln!(out, "  anchored in: {} (block {})", v.anchor_record, v.height)?;
                writeln!(out, "  block signed by: {}", v.signed_by.join(", "))?;
                Ok::<_, std::io::Error>(ExitCode::Ok)
            })(),
            Err(e) => writeln!(out, "NOT verified: {e}").map(|()| ExitCode::Invalid),
        };
        return written.map_err(|e| Failed::new(ExitCode::Failure, e));
    }
    let format = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("format").and_then(serde_json::Value::as_str).map(str::to_owned));
    if format.as_deref() == Some(borderlink_iot::anchor::PROOF_FORMAT) {
        let verdict = serde_json::from_slice::<EventProof>(&bytes)
            .map_err(|e| format!("{name} is not an event proof: {e}"))
            .and_then(|p| p.verify(&genesis).map_err(|e| e.to_string()));
        let written = match verdict {
            Ok(v) => (|| {
                writeln!(out, "verified: IoT event {}", v.hash_id)?;
                writeln!(out, "  {} at {}", v.event_type, v.event_time.as_deref().unwrap_or("(no eventTime)"))?;
                writeln!(out, "  stored by node: {}", v.node)?;
                writeln!(out, "  anchored in: {} (block {})", v.anchor_record, v.height)?;
                writeln!(out, "  block signed by: {}", v.signed_by.join(", "))?;
                Ok::<_, std::io::Error>(ExitCode::Ok)
            })(),
            Err(e) => writeln!(out, "NOT verified: {e}").map(|()| ExitCode::Invalid),
        };
        return written.map_err(|e| Failed::new(ExitCode::Failure, e));
    }
    let verdict = match serde_json::from_slice::<Proof>(&bytes) {
        Ok(p) => p.verify(&genesis).map(|v| (p, v)),
        Err(e) => Err(borderlink_ledger::proof::ProofError::Malformed(format!("{name} is not a proof: {e}"))),
    };
    let written = match verdict {
        Ok((p, v)) => (|| {
            writeln!(out, "verified: {} {} version {}", p.record_type, v.record_id, v.version)?;
            writeln!(out, "  consortium: {} (chain {})", genesis.consortium, genesis.chain_id())?;
            writeln!(out, "  block:      {} (hash {}), transaction {}", v.height, v.block_hash, p.index)?;
            writeln!(out, "  signed by:  {} (transaction)", v.submitter)?;
            writeln!(out, "  block signed by: {}", v.signed_by.join(", "))?;
            Ok::<_, std::io::Error>(ExitCode::Ok)
        })(),
        Err(e) => writeln!(out, "NOT verified: {e}").map(|()| ExitCode::Invalid),
    };
    match written {
        Ok(code) => Ok(code),
        Err(e) => Err(Failed::new(ExitCode::Failure, e)),
    }
}

// ---------------------------------------------------------------------------------------------
// ledger verify

pub(crate) fn ledger(a: LedgerArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        LedgerCommand::Verify { data, genesis } => finish(verify_ledger(&data, genesis.as_deref())),
    }
}

/// A ledger folder on this machine and the genesis to open it with.
struct LocalLedger {
    dir: PathBuf,
    genesis_path: PathBuf,
    genesis: Genesis,
}

/// Why a local ledger does not open.
enum OpenError {
    /// The quick check at open found a broken block.
    Corrupt {
        height: Option<u64>,
        detail: String,
    },
    Other(LedgerError),
}

impl OpenError {
    fn into_failed(self, local: &LocalLedger) -> Failed {
        match self {
            OpenError::Corrupt { height, detail } => Failed::new(
                ExitCode::Invalid,
                format!(
                    "the ledger in {} is corrupt{}: {detail} (run `borderlink ledger verify`)",
                    local.dir.display(),
                    height.map(|h| format!(" at block {h}")).unwrap_or_default()
                ),
            ),
            OpenError::Other(e) => Failed::new(ExitCode::Failure, e),
        }
    }
}

/// A ledger opened from this machine: the node's own file when no node holds it, else a copy.
struct Opened {
    ledger: Ledger,
    /// The folder of the copy, removed when the check is done.
    _snapshot: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Opened {
    type Target = Ledger;
    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

/// How many copies of a running node's ledger are tried before a damaged copy is believed.
const SNAPSHOT_TRIES: usize = 5;

impl LocalLedger {
    fn file(&self) -> PathBuf {
        self.dir.join("ledger.redb")
    }

    /// Opens the ledger. A running node holds its file locked: then a copy of the file is
    /// checked instead (the node's file is only read). A copy taken while the node commits a
    /// block can be torn; every page's checksum is verified when the copy is opened, so a torn
    /// copy is refused, never checked as if it were the ledger, and another copy is taken.
    fn open(&self) -> Result<Opened, OpenError> {
        match Ledger::open(&self.dir, self.genesis.clone(), None) {
            Ok(ledger) => Ok(Opened { ledger, _snapshot: None }),
            Err(LedgerError::Corrupt { height, detail }) => Err(OpenError::Corrupt { height, detail }),
            Err(LedgerError::Storage(s)) if s.contains("already open") || s.contains("lock") => self.snapshot(),
            Err(e) => Err(OpenError::Other(e)),
        }
    }

    fn snapshot(&self) -> Result<Opened, OpenError> {
        eprintln!(
            "note: a running node holds {}: checking a copy of it taken now (the node's file is only read)",
            self.file().display()
        );
        let failed = |why: String| {
            OpenError::Other(LedgerError::Io(format!(
                "{} is held by a running node, and a copy of it could not be made: {why}",
                self.file().display()
            )))
        };
        let mut last = None;
        for _ in 0..SNAPSHOT_TRIES {
            let folder = tempfile::Builder::new()
                .prefix("borderlink-ledger-copy-")
                .tempdir()
                .map_err(|e| failed(e.to_string()))?;
            std::fs::copy(self.file(), folder.path().join("ledger.redb")).map_err(|e| failed(e.to_string()))?;
            match Ledger::open(folder.path(), self.genesis.clone(), None) {
                Ok(ledger) => return Ok(Opened { ledger, _snapshot: Some(folder) }),
                // Torn by a commit during the copy, or damaged in the node's file: try again.
                Err(LedgerError::Corrupt { height, detail }) => last = Some((height, detail)),
                Err(e) => return Err(OpenError::Other(e)),
            }
        }
        let (height, detail) = last.unwrap_or_default();
        Err(OpenError::Corrupt {
            height,
            detail: format!(
                "{detail} (in each of {SNAPSHOT_TRIES} copies taken while the node ran; stop the node and check its \
                 folder again to tell damage from copies torn by its writes)"
            ),
        })
    }
}

/// Finds the ledger under `data` (a node's data folder holding `ledger/`, or the ledger folder
/// itself) and its genesis (`--genesis`, else the consortium the demo writes in
/// `DATA/consortium/genesis.json`).
fn locate(subcommand: &[&str], data: &Path, genesis: Option<&Path>) -> Outcome<LocalLedger> {
    let (dir, node_data) = if data.join("ledger").join("ledger.redb").is_file() {
        (data.join("ledger"), data.to_path_buf())
    } else if data.join("ledger.redb").is_file() {
        (data.to_path_buf(), data.parent().map(Path::to_path_buf).unwrap_or_default())
    } else {
        return Err(Failed::new(
            ExitCode::Input,
            format!(
                "no ledger in {}: expected {} or {}",
                data.display(),
                data.join("ledger").join("ledger.redb").display(),
                data.join("ledger.redb").display()
            ),
        ));
    };
    let genesis_path = match genesis {
        Some(g) => g.to_path_buf(),
        None => {
            let g = node_data.join("consortium").join("genesis.json");
            if !g.is_file() {
                usage_error(
                    subcommand,
                    clap::error::ErrorKind::MissingRequiredArgument,
                    format!("no consortium genesis at {}: give the genesis with --genesis GENESIS", g.display()),
                );
            }
            g
        }
    };
    let genesis = load_genesis(&genesis_path)?;
    Ok(LocalLedger { dir, genesis_path, genesis })
}

fn verify_ledger(data: &Path, genesis: Option<&Path>) -> Outcome<ExitCode> {
    let local = locate(&["ledger", "verify"], data, genesis)?;
    let mut out = std::io::stdout().lock();
    let w = |e: std::io::Error| Failed::new(ExitCode::Failure, e);
    writeln!(out, "ledger {}", local.file().display()).map_err(w)?;
    writeln!(
        out,
        "consortium {} (chain {}), genesis {}",
        local.genesis.consortium,
        local.genesis.chain_id(),
        local.genesis_path.display()
    )
    .map_err(w)?;
    let report = match local.open() {
        Ok(ledger) => ledger.verify_all().map_err(|e| Failed::new(ExitCode::Failure, e))?,
        // Opening re-checks the newest blocks and refuses a broken tail: that is a finding.
        Err(OpenError::Corrupt { height, detail }) => {
            let at = height.map_or_else(|| "block ?".to_owned(), |h| format!("block {h}"));
            writeln!(out, "problem at {at}: {detail}").map_err(w)?;
            writeln!(out, "the ledger does NOT verify: the check at opening found a corrupted block").map_err(w)?;
            return Ok(ExitCode::Invalid);
        }
        Err(e) => return Err(e.into_failed(&local)),
    };
    writeln!(
        out,
        "checked {} block(s), {} transaction(s), {} checkpoint signature(s)",
        report.blocks, report.transactions, report.checkpoints
    )
    .map_err(w)?;
    for p in &report.problems {
        writeln!(out, "problem at block {}: {}", p.height, p.detail).map_err(w)?;
    }
    if report.problems.is_empty() {
        writeln!(out, "the ledger verifies: no problem found").map_err(w)?;
        Ok(ExitCode::Ok)
    } else {
        writeln!(out, "the ledger does NOT verify: {} problem(s)", report.problems.len()).map_err(w)?;
        Ok(ExitCode::Invalid)
    }
}
