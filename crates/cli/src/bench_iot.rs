//! `borderlink bench iot`: devices publishing over MQTT on loopback → a private Mosquitto → a
//! Borderlink node (one pipeline: admission, mapping, the durable event store, the rules of each
//! device's trip), beside its peer in the same run: the broker alone, delivering the same
//! payloads at the same QoS to a plain subscriber. Then EPCIS capture of 1,000-event documents.
//!
//! The node runs in this process with a consortium of its own in a temporary folder; the broker
//! is Debian's `mosquitto` (`/usr/sbin/mosquitto`), started on a free loopback port. Devices are
//! registered with a certificate credential (the broker authenticates them), so publishers do
//! not sign: what is measured is the node, not the devices' CPU.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use borderlink_ledger::consortium::{self, OrgSpec};
use borderlink_ledger::identity::{MemberKeys, Role};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{Client, Event, MqttOptions};
use serde_json::{Value, json};

use crate::ExitCode;

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Options of `borderlink bench iot`.
#[derive(clap::Args)]
pub(crate) struct IotBench {
    /// Messages per run (each run: broker alone, then through the node).
    #[arg(long, default_value_t = 20_000)]
    messages: u64,
    /// Publishing devices (one MQTT connection each).
    #[arg(long, default_value_t = 8)]
    publishers: usize,
    /// 1,000-event documents captured through `POST /epcis/capture`.
    #[arg(long, default_value_t = 10)]
    documents: usize,
}

/// A private Mosquitto on a free loopback port; killed on drop.
struct Broker {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Broker {
    fn start() -> anyhow::Result<Self> {
        if !Path::new(MOSQUITTO).exists() {
            bail!("{MOSQUITTO} is missing: install Debian's mosquitto (apt-get install mosquitto)");
        }
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 1000\nlog_dest file {}\nlog_type error\nlog_type warning\nlog_type notice\n",
                dir.path().join("mosquitto.log").display()
            ),
        )?;
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start mosquitto")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("mosquitto did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self { child, port, _dir: dir })
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn options(id: &str, port: u16) -> MqttOptions {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_clean_start(true);
    o
}

/// One message of device `d`: a position uplink, or an EPCIS document of `batch` events.
fn payload(d: usize, seq: u64, batch: usize, base_ms: i64) -> Vec<u8> {
    let at = base_ms + seq as i64 * 1000;
    let time = borderlink_model::datetime::format_unix_ms(at);
    if batch <= 1 {
        let v = json!({"deviceId": format!("BENCH-{d}"), "seq": seq, "time": time, "event": "POSITION",
            "containerId": "MSKU1234565", "position": {"lat": 51.9 + (seq % 100) as f64 * 0.001, "lon": 4.4}});
        return serde_json::to_vec(&v).unwrap_or_default();
    }
    let events: Vec<Value> = (0..batch)
        .map(|k| {
            json!({"type": "ObjectEvent", "eventTime": borderlink_model::datetime::format_unix_ms(at + k as i64),
                "eventTimeZoneOffset": "+00:00", "epcList": [format!("https://borderlink.dev/id/device/BENCH-{d}")],
                "action": "OBSERVE", "bizStep": "sensor_reporting", "readPoint": {"id": format!("geo:51.{seq}{k},4.4")}})
        })
        .collect();
    let doc = json!({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
        "schemaVersion": "2.0", "creationDate": time, "epcisBody": {"eventList": events}});
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Publishes `messages` (spread over `publishers` devices, QoS 1, sequence numbers from
/// `first_seq`) and returns when all are acknowledged by the broker.
fn publish_all(
    port: u16,
    publishers: usize,
    messages: u64,
    batch: usize,
    owner: &str,
    base_ms: i64,
    first_seq: u64,
) -> anyhow::Result<()> {
    let per = messages.div_ceil(publishers as u64);
    let handles: Vec<_> = (0..publishers)
        .map(|d| {
            let owner = owner.to_owned();
            std::thread::spawn(move || -> anyhow::Result<()> {
                let (client, mut connection) = Client::new(options(&format!("BENCH-{d}"), port), 1_000);
                let topic = format!("tenants/{owner}/devices/BENCH-{d}/events");
                let acked = Arc::new(AtomicU64::new(0));
                let seen = Arc::clone(&acked);
                let events = std::thread::spawn(move || {
                    for e in connection.iter() {
                        match e {
                            Ok(Event::Incoming(rumqttc::v5::mqttbytes::v5::Packet::PubAck(_)))
                                if seen.fetch_add(1, Ordering::Relaxed) + 1 >= per =>
                            {
                                break;
                            }
                            Err(_) => break,
                            _ => {}
                        }
                    }
                });
                for seq in first_seq..first_seq + per {
                    // The device's sequence number rides along as an MQTT 5 user property.
                    let properties = rumqttc::v5::mqttbytes::v5::PublishProperties {
                        user_properties: vec![("sequence".into(), seq.to_string())],
                        ..Default::default()
                    };
                    client.publish_with_properties(
                        topic.clone(),
                        QoS::AtLeastOnce,
                        false,
                        payload(d, seq, batch, base_ms),
                        properties,
                    )?;
                }
                let _ = events.join();
                let _ = client.disconnect();
                if acked.load(Ordering::Relaxed) < per {
                    bail!("device {d}: {} of {per} messages acknowledged", acked.load(Ordering::Relaxed));
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| anyhow::anyhow!("a publisher panicked"))??;
    }
    Ok(())
}

/// The broker alone: the same publishers, one plain QoS 1 subscriber counting deliveries.
fn broker_alone(a: &IotBench, batch: usize, base_ms: i64) -> anyhow::Result<f64> {
    let broker = Broker::start()?;
    let (client, mut connection) = Client::new(options("bench-subscriber", broker.port), 10_000);
    client.subscribe("tenants/+/devices/+/#", QoS::AtLeastOnce)?;
    let total = a.messages.div_ceil(a.publishers as u64) * a.publishers as u64;
    let got = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&got);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let sub = std::thread::spawn(move || {
        let mut first: Option<Instant> = None;
        for e in connection.iter() {
            match e {
                Ok(Event::Incoming(rumqttc::v5::mqttbytes::v5::Packet::SubAck(_))) => {
                    let _ = ready_tx.send(());
                }
                Ok(Event::Incoming(rumqttc::v5::mqttbytes::v5::Packet::Publish(_))) => {
                    first.get_or_insert_with(Instant::now);
                    if counter.fetch_add(1, Ordering::Relaxed) + 1 >= total {
                        return first.map(|f| f.elapsed());
                    }
                }
                Err(_) => return None,
                _ => {}
            }
        }
        None
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).context("the subscriber was not acknowledged")?;
    let start = Instant::now();
    publish_all(broker.port, a.publishers, a.messages, batch, "bench", base_ms, 1)?;
    let _ = sub.join();
    let elapsed = start.elapsed();
    let _ = client.disconnect();
    Ok(got.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64())
}

/// The in-process node, as the bench's member calls it.
struct NodeAt<'a> {
    http: &'a reqwest::blocking::Client,
    base: &'a str,
    keys: &'a MemberKeys,
}

impl NodeAt<'_> {
    /// A signed request: (status, JSON body or null).
    fn signed(&self, method: reqwest::Method, path: &str, body: Vec<u8>, ctype: &str) -> anyhow::Result<(u16, Value)> {
        let auth = crate::node_client::authorization(self.keys, &self.keys.member, method.as_str(), path, &body);
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", auth)
            .header("content-type", ctype)
            .body(body)
            .send()?;
        let status = r.status().as_u16();
        Ok((status, r.json().unwrap_or(Value::Null)))
    }
}

/// The `borderlink_iot_events_stored_total` the node's metrics say.
fn stored_events(http: &reqwest::blocking::Client, metrics: &str) -> u64 {
    let Ok(text) = http.get(format!("http://{metrics}/metrics")).send().and_then(|r| r.text()) else { return 0 };
    text.lines()
        .filter(|l| l.starts_with("borderlink_iot_events_stored_total"))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum::<f64>() as u64
}

pub(crate) fn run(a: IotBench) -> anyhow::Result<ExitCode> {
    // The HTTP client's TLS provider (ring), as the node client installs it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Events dated from four hours ago, one second apart per device: in the clock window of
    // admission (72 hours behind, 5 minutes ahead) for up to 14,000 messages per device.
    let base_ms = crate::now_ms() - 4 * 3_600_000;
    println!(
        "bench iot: {} messages from {} MQTT publishers (QoS 1) on loopback, {} cores",
        a.messages,
        a.publishers,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let mut results = Vec::new();
    for batch in [1usize, 10] {
        let peer = broker_alone(&a, batch, base_ms)?;
        println!(
            "  peer, Mosquitto alone, {batch} event(s)/message: {peer:.0} messages/s delivered to a plain subscriber"
        );
        results.push((batch, peer));
    }

    // The node, with the broker in front of it.
    let broker = Broker::start()?;
    let dir = tempfile::tempdir()?;
    let orgs =
        vec![OrgSpec { name: "Bench Customs".into(), role: Role::Customs, country: "GB".into(), trader_ids: vec![] }];
    let created = consortium::create(&dir.path().join("net"), "Bench", &orgs, "2026-12-01T00:00:00Z")?;
    let keys = MemberKeys::load(&created.key_files[0].1)?;
    let member = keys.member.clone();
    let mut config = borderlink_node::Config {
        listen: "127.0.0.1:0".parse()?,
        metrics_listen: Some("127.0.0.1:0".parse()?),
        data_dir: dir.path().join("data"),
        ledger: Some(borderlink_node::LedgerConfig {
            genesis: created.genesis_path.clone(),
            key: created.key_files[0].1.clone(),
        }),
        ..borderlink_node::Config::default()
    };
    config.iot.broker = borderlink_node::IotBroker::External;
    config.iot.mqtt_url = Some(format!("mqtt://127.0.0.1:{}", broker.port));
    config.iot.device_messages_per_second = 0;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let node = runtime.block_on(borderlink_node::bind(config))?;
    let base = format!("http://{}", node.local_addr());
    let metrics = node.metrics_addr().map(|m| m.to_string()).unwrap_or_default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(node.serve(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let node_at = NodeAt { http: &http, base: &base, keys: &keys };
    for d in 0..a.publishers {
        let device = json!({"deviceId": format!("BENCH-{d}"), "kind": "gps-tracker",
            "identifiers": {"imei": borderlink_sim::imei(35_630_704_100_000 + d as u64)},
            "credential": {"type": "certificate", "sha256": "ab".repeat(32)}, "reportingIntervalSeconds": 600});
        let (status, body) = node_at.signed(
            reqwest::Method::POST,
            "/api/v1/iot/devices",
            device.to_string().into_bytes(),
            "application/json",
        )?;
        if status != 201 {
            bail!("registering BENCH-{d}: {status} {body}");
        }
        // Each device on a trip, so that the rules run on every reading.
        let trip = json!({"tripId": format!("BENCH-TRIP-{d}"), "container": "MSKU1234565", "devices": [format!("BENCH-{d}")],
            "rules": {"name": "bench", "corridor": {"route": [{"lat": 51.9, "lon": 4.4}, {"lat": 52.1, "lon": 4.4}], "buffer_m": 50000.0}, "max_stop_minutes": 600}});
        let (status, body) = node_at.signed(
            reqwest::Method::POST,
            "/api/v1/iot/trips",
            trip.to_string().into_bytes(),
            "application/json",
        )?;
        if status != 201 {
            bail!("opening the trip of BENCH-{d}: {status} {body}");
        }
    }
    let mut through_node = Vec::new();
    let mut seq_base = 0u64;
    for (batch, peer) in &results {
        let before = stored_events(&http, &metrics);
        let per = a.messages.div_ceil(a.publishers as u64);
        let expected = per * a.publishers as u64 * *batch as u64;
        let start = Instant::now();
        // Fresh sequence numbers for the second run (the node refuses replays).
        publish_all(broker.port, a.publishers, a.messages, *batch, &member, base_ms, seq_base + 1)?;
        // At most two minutes per run: a node slower than that is measured on what it stored.
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut stored = 0;
        while stored < expected {
            stored = stored_events(&http, &metrics).saturating_sub(before);
            if Instant::now() > deadline {
                let text =
                    http.get(format!("http://{metrics}/metrics")).send().and_then(|r| r.text()).unwrap_or_default();
                let refused: Vec<&str> =
                    text.lines().filter(|l| l.starts_with("borderlink_iot_refused_total")).collect();
                println!(
                    "  (the node stored {stored} of {expected} events in 120 s; refusals: {})",
                    if refused.is_empty() { "none".to_owned() } else { refused.join("; ") }
                );
                let log = std::fs::read_to_string(broker._dir.path().join("mosquitto.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(12).collect();
                println!(
                    "  broker log (last lines):\n    {}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let secs = start.elapsed().as_secs_f64();
        let events = stored as f64 / secs;
        let msgs = events / *batch as f64;
        println!(
            "  Borderlink node, {batch} event(s)/message: {msgs:.0} messages/s = {events:.0} events/s stored durably with rules ({:.0} % of the broker alone)",
            100.0 * msgs / peer
        );
        through_node.push((*batch, msgs, events, *peer));
        seq_base += per + 10;
    }

    // EPCIS capture of 1,000-event documents.
    let mut captured = 0u64;
    let start = Instant::now();
    for k in 0..a.documents {
        let events: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"type": "ObjectEvent", "eventTime": borderlink_model::datetime::format_unix_ms(base_ms + (k * 1000 + i) as i64),
                    "eventTimeZoneOffset": "+00:00", "epcList": [format!("urn:epc:id:sgtin:0614141.107346.{k}{i}")],
                    "action": "OBSERVE", "bizStep": "inspecting", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}})
            })
            .collect();
        let doc = json!({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2026-12-01T00:00:00Z", "epcisBody": {"eventList": events}});
        let (status, body) = node_at.signed(
            reqwest::Method::POST,
            "/epcis/capture",
            doc.to_string().into_bytes(),
            "application/ld+json",
        )?;
        if status != 202 {
            bail!("capture {k}: {status} {body}");
        }
        captured += 1000;
    }
    let capture_rate = captured as f64 / start.elapsed().as_secs_f64();
    println!("  EPCIS capture, {} documents of 1,000 events: {capture_rate:.0} events/s (goal 50,000)", a.documents);
    let _ = stop.send(());
    let _ = runtime.block_on(serving);

    let mut out = std::io::stdout().lock();
    writeln!(out, "| run | broker alone (msg/s) | Borderlink node (msg/s) | events/s | share of the broker |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (batch, msgs, events, peer) in &through_node {
        writeln!(
            out,
            "| {batch} event(s)/message | {peer:.0} | {msgs:.0} | {events:.0} | {:.0} % |",
            100.0 * msgs / peer
        )?;
    }
    writeln!(out, "| EPCIS capture, 1,000-event documents | — | — | {capture_rate:.0} | — |")?;
    Ok(ExitCode::Ok)
}
