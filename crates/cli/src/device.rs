//! `borderlink device register|list|show|lost|retire|activate`: the IoT device registry of a
//! node (`/api/v1/iot/devices`). A device is registered at its owner's node, which records it on
//! the ledger signed with the owner's key; every customs administration's node reads it.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::node_client::NodeClient;
use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink device`.
#[derive(clap::Args)]
pub(crate) struct DeviceArgs {
    #[command(subcommand)]
    command: DeviceCommand,
}

/// The node and the key that signs the requests.
#[derive(clap::Args)]
struct Target {
    /// The node's URL.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The member key that signs the request (the owner's, for changes).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
}

#[derive(clap::Subcommand)]
enum DeviceCommand {
    /// Registers a device of the node's member: from a JSON entry (`--file`), or from the flags.
    Register(RegisterArgs),
    /// Lists the registered devices (every member's), in device id order.
    List(ListArgs),
    /// Prints one device's registry entry as JSON.
    Show(OneArgs),
    /// Marks a device lost (stolen, missing): its messages are refused from now on.
    Lost(OneArgs),
    /// Retires a device for good: its messages are refused from now on.
    Retire(OneArgs),
    /// Makes a lost device active again (found).
    Activate(OneArgs),
}

#[derive(clap::Args)]
struct RegisterArgs {
    #[command(flatten)]
    target: Target,
    /// The whole entry as JSON (deviceId, kind, identifiers, credential,
    /// reportingIntervalSeconds); the flags below are then not used.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["id", "kind"])]
    file: Option<PathBuf>,
    /// The device id it reports under (letters, digits, `-_.:`).
    #[arg(long, value_name = "ID", required_unless_present = "file")]
    id: Option<String>,
    /// e-seal, gps-tracker, rfid-reader, gate-camera or scanner.
    #[arg(long, value_name = "KIND", required_unless_present = "file")]
    kind: Option<String>,
    /// An e-seal's ISO 18185 manufacturer id.
    #[arg(long, value_name = "ID", requires = "seal_serial")]
    seal_manufacturer: Option<String>,
    /// An e-seal's ISO 18185 tag serial.
    #[arg(long, value_name = "SERIAL", requires = "seal_manufacturer")]
    seal_serial: Option<String>,
    /// A tracker's IMEI (15 digits).
    #[arg(long, value_name = "IMEI")]
    imei: Option<String>,
    /// A reader's or camera's own id.
    #[arg(long, value_name = "ID")]
    reader: Option<String>,
    /// The device's Ed25519 public key (64 hex digits): it signs its messages.
    #[arg(long, value_name = "HEX", conflicts_with = "certificate_sha256")]
    ed25519_key: Option<String>,
    /// The SHA-256 fingerprint (64 hex digits) of the device's client certificate.
    #[arg(long, value_name = "HEX")]
    certificate_sha256: Option<String>,
    /// The longest time between two of its reports, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    interval: u32,
}

#[derive(clap::Args)]
struct ListArgs {
    #[command(flatten)]
    target: Target,
    /// Only this member's devices.
    #[arg(long, value_name = "MEMBER")]
    owner: Option<String>,
    /// Only devices of this kind.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// Only devices in this state (active, lost, retired).
    #[arg(long, value_name = "STATE")]
    state: Option<String>,
    /// Print the entries as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct OneArgs {
    #[command(flatten)]
    target: Target,
    /// The device id.
    id: String,
}

pub(crate) fn run(a: DeviceArgs) -> anyhow::Result<ExitCode> {
    crate::finish(match a.command {
        DeviceCommand::Register(a) => register(&a),
        DeviceCommand::List(a) => list(&a),
        DeviceCommand::Show(a) => show(&a),
        DeviceCommand::Lost(a) => set_state(&a, "lost"),
        DeviceCommand::Retire(a) => set_state(&a, "retired"),
        DeviceCommand::Activate(a) => set_state(&a, "active"),
    })
}

fn client(t: &Target) -> Outcome<NodeClient> {
    Ok(NodeClient::new(&t.node, crate::ledger_cmd::load_keys(&t.key)?)?)
}

fn print(value: &Value) -> Outcome<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .and_then(|()| writeln!(out).map_err(serde_json::Error::io))
        .map_err(|e| Failed::new(ExitCode::Failure, e))
}

/// The entry the flags describe.
fn entry_from_flags(a: &RegisterArgs) -> Value {
    let mut identifiers = serde_json::Map::new();
    if let (Some(m), Some(s)) = (&a.seal_manufacturer, &a.seal_serial) {
        identifiers.insert("seal".into(), json!({"manufacturer": m, "serial": s}));
    }
    if let Some(imei) = &a.imei {
        identifiers.insert("imei".into(), imei.clone().into());
    }
    if let Some(reader) = &a.reader {
        identifiers.insert("reader".into(), reader.clone().into());
    }
    let credential = match (&a.ed25519_key, &a.certificate_sha256) {
        (_, Some(fp)) => json!({"type": "certificate", "sha256": fp}),
        (Some(k), None) => json!({"type": "ed25519", "public_key": k}),
        (None, None) => Value::Null,
    };
    json!({
        "deviceId": a.id,
        "kind": a.kind,
        "identifiers": identifiers,
        "credential": credential,
        "reportingIntervalSeconds": a.interval,
    })
}

fn register(a: &RegisterArgs) -> Outcome<ExitCode> {
    let body = match &a.file {
        Some(path) => {
            let text =
                std::fs::read(path).map_err(|e| Failed::new(ExitCode::Input, format!("{}: {e}", path.display())))?;
            serde_json::from_slice::<Value>(&text)
                .map_err(|e| Failed::new(ExitCode::Input, format!("{}: not JSON: {e}", path.display())))?
        }
        None => {
            if a.ed25519_key.is_none() && a.certificate_sha256.is_none() {
                return Err(Failed::new(
                    ExitCode::Input,
                    "a device needs a credential: --ed25519-key HEX (its public key) or --certificate-sha256 HEX",
                ));
            }
            entry_from_flags(a)
        }
    };
    let node = client(&a.target)?;
    let reply = node.send(reqwest::Method::POST, "api/v1/iot/devices", body.to_string().into_bytes())?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    print(&reply.json::<Value>("device")?)?;
    Ok(ExitCode::Ok)
}

fn list(a: &ListArgs) -> Outcome<ExitCode> {
    let enc = borderlink_ledger::auth::path_segment;
    let mut path = "api/v1/iot/devices".to_owned();
    let filters: Vec<String> = [("owner", &a.owner), ("kind", &a.kind), ("state", &a.state)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    if !filters.is_empty() {
        path.push('?');
        path.push_str(&filters.join("&"));
    }
    let reply = client(&a.target)?.get(&path)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let devices: Vec<Value> = reply.json("device list")?;
    if a.json {
        print(&Value::Array(devices))?;
        return Ok(ExitCode::Ok);
    }
    let mut out = std::io::stdout().lock();
    let line = |out: &mut std::io::StdoutLock<'_>, cols: [&str; 5]| {
        writeln!(out, "{:<24} {:<12} {:<20} {:<8} {:>9}", cols[0], cols[1], cols[2], cols[3], cols[4])
            .map_err(|e| Failed::new(ExitCode::Failure, e))
    };
    line(&mut out, ["DEVICE", "KIND", "OWNER", "STATE", "INTERVAL"])?;
    for d in &devices {
        let e = &d["device"];
        let interval = format!("{} s", e["reportingIntervalSeconds"]);
        let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
        line(&mut out, [&s(&e["deviceId"]), &s(&e["kind"]), &s(&e["owner"]), &s(&e["state"]), &interval])?;
    }
    if devices.is_empty() {
        writeln!(out, "(no device matches)").map_err(|e| Failed::new(ExitCode::Failure, e))?;
    }
    Ok(ExitCode::Ok)
}

fn show(a: &OneArgs) -> Outcome<ExitCode> {
    let path = format!("api/v1/iot/devices/{}", borderlink_ledger::auth::path_segment(&a.id));
    let reply = client(&a.target)?.get(&path)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    print(&reply.json::<Value>("device")?)?;
    Ok(ExitCode::Ok)
}

fn set_state(a: &OneArgs, state: &str) -> Outcome<ExitCode> {
    let path = format!("api/v1/iot/devices/{}/state", borderlink_ledger::auth::path_segment(&a.id));
    let body = json!({ "state": state }).to_string().into_bytes();
    let reply = client(&a.target)?.send(reqwest::Method::POST, &path, body)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    let answer: Value = reply.json("device")?;
    println!(
        "{} is {} (registry record {}, version {})",
        a.id,
        state,
        answer["recordId"].as_str().unwrap_or("?"),
        answer["version"]
    );
    Ok(ExitCode::Ok)
}
