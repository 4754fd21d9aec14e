//! `borderlink sim trips`: drives realistic trips into a node as its devices would — e-seal
//! uplinks signed by each e-seal's key (HTTP `POST /api/v1/iot/messages`), tracker positions as Teltonika Codec 8 packets over TCP — after registering the
//! devices and opening the trips at the node (`borderlink_sim` plans them).
//!
//! The trips start `--backfill-minutes` ago, staggered: what they reported up to now is sent at
//! once (the node accepts messages up to 72 hours old), the rest as its time comes (`--live`), so
//! the console shows traces at once and watches them move. Device keys are derived from the seed
//! and the device id, so a second run with the same seed reuses the devices it registered.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use borderlink_sim::{Payload, SimTrip, plan_trips};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

use crate::node_client::NodeClient;
use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink sim`.
#[derive(clap::Args)]
pub(crate) struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(clap::Subcommand)]
enum SimCommand {
    /// Registers simulated e-seals and trackers, opens their trips and sends what they report.
    Trips(TripsArgs),
}

#[derive(clap::Args)]
pub(crate) struct TripsArgs {
    /// The node's URL.
    #[arg(long, value_name = "URL")]
    pub(crate) node: String,
    /// The member key that registers the devices and opens the trips (the node's own member).
    #[arg(long, value_name = "KEY")]
    pub(crate) key: PathBuf,
    /// How many trips (they take the corridors in turn; one in eight has its seal tampered with,
    /// others a detour, a long stop or a dead battery).
    #[arg(long, default_value_t = 8)]
    pub(crate) trips: usize,
    /// Seconds between two tracker positions.
    #[arg(long, default_value_t = 300)]
    pub(crate) interval: u32,
    /// The trips started this many minutes ago (staggered); what they reported since is sent at once.
    #[arg(long, default_value_t = 180)]
    pub(crate) backfill_minutes: u32,
    /// Keep running and send each later message when its time comes (Ctrl-C stops).
    #[arg(long)]
    pub(crate) live: bool,
    /// The node's Codec 8 listener (`[iot] codec8_listen`); without it, trackers post their
    /// packets over HTTP.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) codec8: Option<String>,
    /// Other administrations (member ids) the trips and their alerts are shared with.
    #[arg(long = "share-with", value_name = "MEMBER")]
    pub(crate) share_with: Vec<String>,
    /// The seed of the plan (the same seed, the same trips and devices).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Say nothing on the terminal (the demo runs the simulator beside its banner).
    #[arg(skip)]
    pub(crate) quiet: bool,
}

pub(crate) fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SimCommand::Trips(a) => crate::finish(drive(&a)),
    }
}

/// The Ed25519 key of simulated device `id` for `seed`.
fn device_key(seed: u64, id: &str) -> SigningKey {
    let h = borderlink_ledger::Hash::of_parts(&[b"borderlink-sim/device-key/v1", &seed.to_be_bytes(), id.as_bytes()]);
    SigningKey::from_bytes(&h.0)
}

/// What the node answered, counted.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) sent: u64,
    pub(crate) accepted: u64,
    pub(crate) refused: BTreeMap<String, u64>,
}

impl Tally {
    fn refuse(&mut self, why: impl Into<String>) {
        *self.refused.entry(why.into()).or_default() += 1;
    }
}

/// Registers a device unless it is registered already (a second run with the same seed).
fn register(node: &NodeClient, entry: &Value) -> Outcome<()> {
    let body = serde_json::to_vec(entry).map_err(|e| Failed::new(ExitCode::Failure, e))?;
    let reply = node.send(reqwest::Method::POST, "api/v1/iot/devices", body)?;
    if reply.status.is_success() || reply.status.as_u16() == 409 { Ok(()) } else { Err(reply.refused()) }
}

fn open_trip(node: &NodeClient, body: &Value) -> Outcome<bool> {
    let bytes = serde_json::to_vec(body).map_err(|e| Failed::new(ExitCode::Failure, e))?;
    let reply = node.send(reqwest::Method::POST, "api/v1/iot/trips", bytes)?;
    match reply.status.as_u16() {
        201 => Ok(true),
        409 => Ok(false),
        _ => Err(reply.refused()),
    }
}

/// Sends one device message over HTTP, signed by the device.
fn post_message(
    http: &reqwest::blocking::Client,
    base: &str,
    (key, device, seq): (&SigningKey, &str, u64),
    body: &[u8],
    content_type: &str,
    tally: &mut Tally,
) -> Outcome<()> {
    let mut signed = format!("borderlink-iot-v1\n{device}\n{seq}\n").into_bytes();
    signed.extend_from_slice(body);
    let signature = hex::encode(key.sign(&signed).to_bytes());
    let url = format!("{}/api/v1/iot/messages", base.trim_end_matches('/'));
    let reply = http
        .post(url)
        .header("borderlink-device", device)
        .header("borderlink-sequence", seq.to_string())
        .header("borderlink-signature", signature)
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .map_err(|e| Failed::new(ExitCode::Failure, format!("cannot reach the node at {base}: {e}")))?;
    tally.sent += 1;
    if reply.status().is_success() {
        tally.accepted += 1;
    } else {
        let status = reply.status().as_u16();
        let code = reply
            .json::<Value>()
            .ok()
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        tally.refuse(code);
    }
    Ok(())
}

/// One tracker's Codec 8 connection: the IMEI handshake, then packets, each acknowledged with
/// the number of records the node accepted.
struct Codec8Link {
    stream: TcpStream,
}

impl Codec8Link {
    fn open(addr: &str, imei: &str) -> anyhow::Result<Option<Self>> {
        let mut stream = TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(15)))?;
        stream.write_all(&borderlink_iot::codec8::encode_imei(imei))?;
        let mut accept = [0u8; 1];
        stream.read_exact(&mut accept).context("no answer to the IMEI handshake")?;
        Ok((accept[0] == 1).then_some(Self { stream }))
    }

    fn send(&mut self, packet: &[u8]) -> anyhow::Result<u32> {
        self.stream.write_all(packet)?;
        let mut ack = [0u8; 4];
        self.stream.read_exact(&mut ack).context("no acknowledgement of the packet")?;
        Ok(u32::from_be_bytes(ack))
    }
}

/// Runs `borderlink sim trips`.
pub(crate) fn drive(a: &TripsArgs) -> Outcome<ExitCode> {
    let keys = crate::ledger_cmd::load_keys(&a.key)?;
    let node = NodeClient::new(&a.node, keys)?;
    let now = crate::now_ms();
    let backfill_ms = i64::from(a.backfill_minutes) * 60_000;
    let spread = if a.trips > 1 { backfill_ms / (2 * a.trips as i64) } else { 0 };
    let planned: Vec<SimTrip> = plan_trips(a.trips.max(1), now - backfill_ms, spread, a.interval, a.seed);
    let mut signing: HashMap<String, SigningKey> = HashMap::new();
    let mut opened = 0;
    for t in &planned {
        let seal_key = device_key(a.seed, &t.eseal);
        let tracker_key = device_key(a.seed, &t.tracker);
        register(
            &node,
            &json!({
                "deviceId": t.eseal, "kind": "e-seal",
                "identifiers": {"seal": {"manufacturer": t.seal_manufacturer, "serial": t.seal_serial}},
                "credential": {"type": "ed25519", "public_key": hex::encode(seal_key.verifying_key().to_bytes())},
                "reportingIntervalSeconds": 1800
            }),
        )?;
        register(
            &node,
            &json!({
                "deviceId": t.tracker, "kind": "gps-tracker", "identifiers": {"imei": t.tracker},
                "credential": {"type": "ed25519", "public_key": hex::encode(tracker_key.verifying_key().to_bytes())},
                "reportingIntervalSeconds": a.interval
            }),
        )?;
        if open_trip(&node, &t.trip_body(&a.share_with))? {
            opened += 1;
        }
        signing.insert(t.eseal.clone(), seal_key);
        signing.insert(t.tracker.clone(), tracker_key);
        say(
            a,
            &format!(
                "trip {}: {} → {}, container {}, incident {}",
                t.trip_id,
                t.corridor.from.name,
                t.corridor.to.name,
                t.container,
                t.incident.as_str()
            ),
        );
    }
    say(a, &format!("{opened} trip(s) opened, {} device(s) registered", signing.len()));

    let mut messages: Vec<&borderlink_sim::Message> = planned.iter().flat_map(|t| t.messages.iter()).collect();
    messages.sort_by_key(|m| m.at_ms);
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Failed::new(ExitCode::Failure, e))?;
    let mut links: HashMap<String, Codec8Link> = HashMap::new();
    let mut tally = Tally::default();
    let due = messages.iter().filter(|m| m.at_ms <= now).count();
    let bar =
        if a.quiet { indicatif::ProgressBar::hidden() } else { crate::progress::bar(due as u64, "reported so far") };
    for (i, m) in messages.iter().enumerate() {
        if m.at_ms > crate::now_ms() {
            if i == due {
                bar.finish_and_clear();
                report(&tally);
                if !a.live {
                    eprintln!(
                        "{} later message(s) not sent (give --live to keep sending them as their time comes)",
                        messages.len() - i
                    );
                    break;
                }
                eprintln!("live: sending the rest as their time comes (Ctrl-C stops)");
            }
            let wait = (m.at_ms - crate::now_ms()).max(0) as u64;
            std::thread::sleep(Duration::from_millis(wait));
        }
        let Some(key) = signing.get(&m.device) else { continue };
        match &m.payload {
            Payload::Seal(body) => {
                post_message(&http, node.base(), (key, &m.device, m.seq), body, "application/json", &mut tally)?
            }
            Payload::Codec8(packet) => match &a.codec8 {
                Some(addr) => {
                    tally.sent += 1;
                    if !links.contains_key(&m.device) {
                        match Codec8Link::open(addr, &m.device).map_err(|e| Failed::new(ExitCode::Failure, e))? {
                            Some(link) => {
                                links.insert(m.device.clone(), link);
                            }
                            None => {
                                tally.refuse("codec8 handshake refused");
                                continue;
                            }
                        }
                    }
                    let sent = links.get_mut(&m.device).map(|l| l.send(packet));
                    match sent {
                        Some(Ok(n)) if n >= 1 => tally.accepted += 1,
                        Some(Ok(_)) => tally.refuse("codec8 records not accepted"),
                        Some(Err(e)) => {
                            links.remove(&m.device);
                            tally.refuse(format!("codec8 connection: {e}"));
                        }
                        None => {}
                    }
                }
                None => post_message(
                    &http,
                    node.base(),
                    (key, &m.device, m.seq),
                    packet,
                    "application/vnd.teltonika.codec8",
                    &mut tally,
                )?,
            },
        }
        if i < due {
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    if a.quiet {
        return Ok(ExitCode::Ok);
    }
    report(&tally);
    let mut out = std::io::stdout().lock();
    let summary = json!({
        "trips": planned.iter().map(|t| json!({"tripId": t.trip_id, "container": t.container, "incident": t.incident.as_str()})).collect::<Vec<_>>(),
        "sent": tally.sent, "accepted": tally.accepted, "refused": tally.refused,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default())
        .map_err(|e| Failed::new(ExitCode::Failure, e))?;
    Ok(if tally.accepted == 0 && tally.sent > 0 { ExitCode::Failure } else { ExitCode::Ok })
}

fn say(a: &TripsArgs, line: &str) {
    if !a.quiet {
        eprintln!("{line}");
    }
}

fn report(t: &Tally) {
    eprintln!("{} message(s) sent, {} accepted", t.sent, t.accepted);
    for (why, n) in &t.refused {
        eprintln!("  refused {n}: {why}");
    }
}
