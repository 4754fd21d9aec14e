//! The one pipeline behind every device interface.
//!
//! ```text
//! source (HTTP route, MQTT subscriber, Codec 8 listener)
//!   → admission (registry: known and active; the transport's identity: signature, topic or
//!     IMEI; per-device rate; parse; clock; sequence above the last admitted)
//!   → mapping (vendor payload → EPCIS 2.0 events, each with its CBV 2.0 hash ID)
//!   → store (durable, before the source acknowledges)
//!   → rules (an [`Observer`]: the node's trip monitors, `super::alerts::TripWatch`, which feed
//!     the device's open trip's `Monitor` and commit its alerts to the ledger)
//! ```
//!
//! A [`Source`] is built from `[iot]` and hands each raw [`Message`] to [`Ingest::accept`] with
//! what its transport established: the device id (a header, the topic, the IMEI handshake), the
//! channel, the bytes and the time it was received. A refusal is counted by interface and reason
//! in `borderlink_iot_refused_total` and nothing of the message is stored.
//!
//! Invariants kept here: a source acknowledges (HTTP answer, MQTT PUBACK, Codec 8 ACK) only what
//! [`Ingest::accept`] returned `Ok` for, and `accept` returns `Ok` only after the store said the
//! events are durable. A device's messages are admitted one at a time (a per-device lock around
//! check, store and record of the sequence number), so two copies of one message cannot both
//! pass the replay check. The last sequence number admitted per device is persisted
//! (`DATA/iot/sequences.redb`), so replay protection survives a restart.

pub(crate) mod codec8;
pub(crate) mod http;
pub(crate) mod mqtt;
mod sequences;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use borderlink_iot::admission::{self, ClockWindow, Refusal, Refused};
use borderlink_iot::device::{Credential, Device, DeviceKind};
use borderlink_iot::epcis::hash::{event_hash_id, hash_ids, utc_millis};
use borderlink_iot::epcis::index::stored_event;
use borderlink_iot::epcis::{Event, Format, parse_document};
use borderlink_iot::rules::Observation;
use borderlink_iot::store::{EventStore, StoredEvent};
use borderlink_iot::uplink::{SealUplink, codec8_observations};
use borderlink_iot::{codec8 as c8, mapping};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;

pub(crate) use sequences::SequenceBook;

use crate::config::{IotBroker, IotSection};
use crate::error::{ApiError, NodeError};

/// The largest device message accepted on any interface, in bytes (an EPCIS document from a
/// reader included; a seal uplink is limited further, to 16 KiB, by its parser).
pub(crate) const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The domain-separation prefix of what a device signs.
const SIGNED_PREFIX: &str = "borderlink-iot-v1";

/// The interface a message came through (the `interface` label of the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interface {
    Http,
    Mqtt,
    Codec8,
}

impl Interface {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Interface::Http => "http",
            Interface::Mqtt => "mqtt",
            Interface::Codec8 => "codec8",
        }
    }
}

/// What the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadKind {
    /// JSON: an e-seal's or tracker's uplink, or an EPCIS 2.0 document (one with `epcisBody`).
    Json,
    /// One Teltonika Codec 8/8E AVL data packet, preamble to CRC.
    Codec8,
}

/// A raw message as a source received it.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) interface: Interface,
    /// The device as the transport names it: the `Borderlink-Device` header, the topic's device,
    /// the device whose IMEI opened the Codec 8 session.
    pub(crate) device: String,
    /// The MQTT topic, or the IMEI of a Codec 8 session.
    pub(crate) channel: Option<String>,
    /// The sequence number the transport carried (a header, an MQTT user property).
    pub(crate) sequence: Option<u64>,
    /// The device's Ed25519 signature (hex) over [`signed_bytes`].
    pub(crate) signature: Option<String>,
    pub(crate) kind: PayloadKind,
    pub(crate) payload: Vec<u8>,
    /// When the node received it (ms since the epoch): the events' record time.
    pub(crate) received_ms: i64,
}

/// What a device signs: the prefix, its id and the sequence number, one per line, then the body.
/// The id and number are inside the signature so that neither can be changed in transit.
pub(crate) fn signed_bytes(device: &str, sequence: u64, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{SIGNED_PREFIX}\n{device}\n{sequence}\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// What was stored for an admitted message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Admitted {
    /// The device.
    pub(crate) device: String,
    /// The sequence number admitted (none for a Codec 8 session, which has none).
    pub(crate) sequence: Option<u64>,
    /// The CBV 2.0 hash IDs of the events stored now.
    pub(crate) stored: Vec<String>,
    /// The hash IDs of events that were already stored (a re-sent message).
    pub(crate) duplicates: Vec<String>,
    /// Codec 8: the records accepted (what the ACK says); 1 for any other message.
    pub(crate) records: u32,
    /// How many alerts the rules raised on it.
    pub(crate) alerts: usize,
}

/// Why a message was not admitted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// Refused: counted, never stored; the source acknowledges it as handled (a retry would be
    /// refused again).
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The node could not store it (or read the registry): not acknowledged, so the device sends
    /// it again.
    #[error("{0}")]
    Unavailable(String),
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Refused(r) => ApiError::IotRefused(r),
            IngestError::Unavailable(detail) => ApiError::Internal(detail),
        }
    }
}

fn refuse(reason: Refusal, detail: impl Into<String>) -> IngestError {
    IngestError::Refused(Refused { reason, detail: detail.into() })
}

/// The device registry as the pipeline reads it.
pub(crate) trait Devices: Send + Sync {
    /// The device registered under `id`.
    fn get(&self, id: &str) -> Result<Option<Device>, ApiError>;
    /// The device registered with this IMEI.
    fn by_imei(&self, imei: &str) -> Result<Option<Device>, ApiError>;
}

/// Where the readings of admitted messages go: the rules of the device's trip. Called once the
/// message's events are stored; answers how many alerts the readings fired (their records are
/// committed to the ledger afterwards, without holding the device's acknowledgement).
pub(crate) trait Observer: Send + Sync {
    fn observe(&self, device: &str, observations: &[Observation]) -> usize;
}

/// A device interface: built from `[iot]`, started once the pipeline exists.
pub(crate) trait Source: Send {
    /// Binds or connects and runs until aborted; errors are those of starting (a port taken).
    fn start(
        self: Box<Self>,
        ingest: Arc<Ingest>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<tokio::task::AbortHandle, NodeError>> + Send>>;
}

/// The sources `[iot]` configures (the HTTP route is always there: it is a route, not a task).
pub(crate) fn sources(config: &IotSection) -> Result<Vec<Box<dyn Source>>, NodeError> {
    let mut out: Vec<Box<dyn Source>> = Vec::new();
    if config.mqtt_listen.is_some() && config.broker != IotBroker::Embedded {
        return Err(NodeError::Config(
            "[iot] mqtt_listen is where an embedded broker listens: with an external broker, set mqtt_url".into(),
        ));
    }
    match config.broker {
        IotBroker::Off => {}
        IotBroker::Embedded => {
            return Err(NodeError::Config(
                "[iot] broker = \"embedded\" is not available yet: use \"external\" with mqtt_url (Mosquitto), or \"off\""
                    .into(),
            ));
        }
        IotBroker::External => out.push(Box::new(mqtt::MqttSource::from_config(config)?)),
    }
    if let Some(addr) = config.codec8_listen {
        out.push(Box::new(codec8::Codec8Source { addr }));
    }
    Ok(out)
}

/// What [`Ingest::new`] is made of.
pub(crate) struct Parts {
    pub(crate) devices: Arc<dyn Devices>,
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) sequences: SequenceBook,
    pub(crate) clock: Arc<dyn crate::clock::Clock>,
    pub(crate) observer: Arc<dyn Observer>,
    /// The `node` label of the metrics.
    pub(crate) node: String,
    /// Per device; 0: no limit.
    pub(crate) messages_per_second: u32,
    pub(crate) burst: u32,
}

/// The pipeline.
pub(crate) struct Ingest {
    devices: Arc<dyn Devices>,
    store: Arc<dyn EventStore>,
    sequences: SequenceBook,
    clock: Arc<dyn crate::clock::Clock>,
    window: ClockWindow,
    observer: Arc<dyn Observer>,
    node: String,
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    /// One lock per device: its messages are admitted one at a time.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest").field("node", &self.node).finish_non_exhaustive()
    }
}

/// What a payload came to, before it is stored.
struct Mapped {
    sequence: Option<u64>,
    events: Vec<(String, Event)>,
    observations: Vec<Observation>,
    /// The trace the observations are about.
    trace: String,
    records: u32,
}

impl Ingest {
    pub(crate) fn new(p: Parts) -> Self {
        let limiter = NonZeroU32::new(p.messages_per_second).map(|rate| {
            let burst = NonZeroU32::new(p.burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            devices: p.devices,
            store: p.store,
            sequences: p.sequences,
            clock: p.clock,
            window: ClockWindow::default(),
            observer: p.observer,
            node: p.node,
            limiter,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The node's clock, for the sources' receive times.
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Counts a refusal (by interface and reason) and logs it without the message's content.
    pub(crate) fn count_refusal(&self, interface: Interface, device: &str, refused: &Refused) {
        metrics::counter!(
            "borderlink_iot_refused_total",
            "interface" => interface.as_str(),
            "reason" => refused.reason.as_str(),
            crate::metrics::NODE => self.node.clone()
        )
        .increment(1);
        // Debug, not info: refusals can come in floods (they are counted above); the detail may
        // quote the payload, so it is logged escaped.
        tracing::debug!(interface = interface.as_str(), device = ?shown(device), reason = refused.reason.as_str(), detail = ?refused.detail, "device message refused");
    }

    /// The tracker that opens a Codec 8 session with `imei`: registered, active, a GPS tracker.
    pub(crate) fn tracker(&self, imei: &str) -> Result<Device, IngestError> {
        let result = (|| {
            let found = self.devices.by_imei(imei).map_err(|e| IngestError::Unavailable(e.to_string()))?;
            let Some(found) = found else {
                return Err(refuse(Refusal::UnknownDevice, format!("no device with IMEI {imei} in the registry")));
            };
            let device = admission::active(Some(&found), &found.device_id)?;
            if device.kind != DeviceKind::GpsTracker {
                return Err(refuse(
                    Refusal::BadCredential,
                    format!("device {:?} is a {}, not a GPS tracker", device.device_id, device.kind.as_str()),
                ));
            }
            Ok(device.clone())
        })();
        if let Err(IngestError::Refused(r)) = &result {
            self.count_refusal(Interface::Codec8, imei, r);
        }
        result
    }

    /// Admits a message: checks, maps, stores, feeds the rules. `Ok` means stored durably.
    pub(crate) async fn accept(&self, m: Message) -> Result<Admitted, IngestError> {
        let interface = m.interface;
        let device = m.device.clone();
        let result = self.admit(m).await;
        match &result {
            // A Codec 8 packet whose records were all refused is answered, but admitted nothing.
            Ok(a) if a.records == 0 => {}
            Ok(a) => {
                metrics::counter!("borderlink_iot_messages_accepted_total", "interface" => interface.as_str(), crate::metrics::NODE => self.node.clone()).increment(1);
                metrics::counter!("borderlink_iot_events_stored_total", crate::metrics::NODE => self.node.clone())
                    .increment(a.stored.len() as u64);
            }
            Err(IngestError::Refused(r)) => self.count_refusal(interface, &device, r),
            Err(IngestError::Unavailable(e)) => {
                tracing::warn!(interface = interface.as_str(), device = ?shown(&device), error = %e, "device message not stored; not acknowledged")
            }
        }
        result
    }

    async fn admit(&self, m: Message) -> Result<Admitted, IngestError> {
        if m.payload.len() > MAX_MESSAGE_BYTES {
            return Err(refuse(
                Refusal::Malformed,
                format!("{} bytes exceed the message limit of {MAX_MESSAGE_BYTES}", m.payload.len()),
            ));
        }
        let found = self.devices.get(&m.device).map_err(|e| IngestError::Unavailable(e.to_string()))?;
        let device = admission::active(found.as_ref(), &shown(&m.device))?.clone();
        // The rate is checked once the message is known to be the device's: forged messages
        // cannot use up a device's allowance (the HTTP listener's per-client rate bounds them).
        self.check_identity(&device, &m)?;
        if let Some(limiter) = &self.limiter
            && limiter.check_key(&device.device_id).is_err()
        {
            return Err(refuse(Refusal::RateLimited, format!("device {:?} sends too fast", device.device_id)));
        }
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(locks.entry(device.device_id.clone()).or_default())
        };
        let _one_at_a_time = lock.lock().await;
        let mapped = self.map(&device, &m)?;
        if let Some(seq) = mapped.sequence {
            self.sequences.check(&device.device_id, seq)?;
        }
        let mut batch: Vec<StoredEvent> = Vec::with_capacity(mapped.events.len());
        for (hash, event) in &mapped.events {
            batch.push(
                stored_event(event, hash, m.received_ms, Some(&device.device_id))
                    .map_err(|e| refuse(Refusal::Malformed, format!("event: {e}")))?,
            );
        }
        let inserted = if batch.is_empty() {
            Default::default()
        } else {
            self.store.insert(&batch).await.map_err(|e| IngestError::Unavailable(e.to_string()))?
        };
        if let Some(seq) = mapped.sequence {
            // The events are durable: a failure here weakens replay protection after a restart
            // (a re-sent message would be a duplicate, not new events), so it is logged, not
            // refused.
            if let Err(e) = self.sequences.admit(&device.device_id, seq).await {
                tracing::error!(device = %device.device_id, error = %e, "the sequence number could not be persisted");
            }
        }
        let alerts = self.observe(&device, &mapped.trace, &mapped.observations);
        let duplicates = inserted.duplicates;
        let stored = batch.into_iter().map(|e| e.hash_id).filter(|h| !duplicates.contains(h)).collect();
        Ok(Admitted {
            device: device.device_id,
            sequence: mapped.sequence,
            stored,
            duplicates,
            records: mapped.records,
            alerts,
        })
    }

    /// The transport's proof that the message is the device's.
    fn check_identity(&self, device: &Device, m: &Message) -> Result<(), IngestError> {
        let signature = || -> Result<(), IngestError> {
            let (Some(seq), Some(sig)) = (m.sequence, m.signature.as_deref()) else {
                return Err(refuse(Refusal::BadCredential, "the message carries no sequence number and signature"));
            };
            admission::check_signature(device, &signed_bytes(&device.device_id, seq, &m.payload), sig)?;
            Ok(())
        };
        match m.interface {
            Interface::Http => signature(),
            Interface::Mqtt => {
                // The broker authenticated the client and its ACL confined it to its own topics;
                // the topic must still name this device and its registered owner.
                let topic = m.channel.as_deref().unwrap_or_default();
                admission::check_topic(device, topic, None)?;
                match device.credential {
                    Credential::Ed25519 { .. } => signature(),
                    Credential::Certificate { .. } => Ok(()),
                }
            }
            Interface::Codec8 => {
                let imei = m.channel.as_deref();
                if device.kind != DeviceKind::GpsTracker || device.identifiers.imei.as_deref() != imei {
                    return Err(refuse(Refusal::BadCredential, "the session's IMEI is not the device's"));
                }
                Ok(())
            }
        }
    }

    /// Parses the payload, checks its clock and maps it to events.
    fn map(&self, device: &Device, m: &Message) -> Result<Mapped, IngestError> {
        let now = self.clock.now_ms();
        let malformed = |detail: String| refuse(Refusal::Malformed, detail);
        match m.kind {
            PayloadKind::Codec8 => {
                let (packet, used) = c8::parse_packet(&m.payload)
                    .map_err(|e| malformed(e.to_string()))?
                    .ok_or_else(|| malformed("packet: shorter than its stated length".into()))?;
                if used != m.payload.len() {
                    return Err(malformed(format!("packet: {} bytes after its CRC", m.payload.len() - used)));
                }
                let mut accepted = Vec::with_capacity(packet.records.len());
                for (i, r) in packet.records.into_iter().enumerate() {
                    match admission::check_clock(r.timestamp_ms, now, self.window) {
                        Ok(()) => accepted.push(r),
                        Err(mut refused) => {
                            refused.detail = format!("record {i}: {}", refused.detail);
                            self.count_refusal(m.interface, &device.device_id, &refused);
                        }
                    }
                }
                let events = mapping::codec8_events(&device.device_id, &accepted, &m.payload)
                    .into_iter()
                    .map(|e| (event_hash_id(&e), e))
                    .collect();
                let observations = accepted.iter().flat_map(codec8_observations).collect();
                Ok(Mapped {
                    sequence: m.sequence,
                    events,
                    observations,
                    trace: device.device_id.clone(),
                    records: u32::try_from(accepted.len()).unwrap_or(u32::MAX),
                })
            }
            PayloadKind::Json if is_epcis_document(&m.payload) => {
                let document = parse_document(&m.payload, Format::Json).map_err(|e| malformed(e.to_string()))?;
                let sequence = m
                    .sequence
                    .ok_or_else(|| malformed("an EPCIS document from a device needs a sequence number".into()))?;
                for (i, e) in document.events.iter().enumerate() {
                    let time = e.event_time.as_deref().unwrap_or_default();
                    let at = utc_millis(time).ok_or_else(|| malformed(format!("event {i}: no valid eventTime")))?;
                    admission::check_clock(at, now, self.window).map_err(|mut r| {
                        r.detail = format!("event {i}: {}", r.detail);
                        IngestError::Refused(r)
                    })?;
                }
                let hashes = hash_ids(&document);
                let events = hashes.into_iter().map(|(_, h)| h).zip(document.events).collect();
                Ok(Mapped {
                    sequence: Some(sequence),
                    events,
                    observations: Vec::new(),
                    trace: device.device_id.clone(),
                    records: 1,
                })
            }
            PayloadKind::Json => {
                let uplink = SealUplink::parse(&m.payload).map_err(|e| malformed(e.to_string()))?;
                if uplink.device_id != device.device_id {
                    return Err(refuse(
                        Refusal::BadCredential,
                        format!(
                            "the uplink names device {:?}, not the sender {:?}",
                            uplink.device_id, device.device_id
                        ),
                    ));
                }
                if let Some(seq) = m.sequence
                    && seq != uplink.seq
                {
                    return Err(malformed(format!(
                        "the transport's sequence number {seq} differs from the uplink's `seq` {}",
                        uplink.seq
                    )));
                }
                let at = uplink.time_ms().map_err(|e| malformed(e.to_string()))?;
                admission::check_clock(at, now, self.window)?;
                let events = mapping::seal_events(&uplink, &m.payload)
                    .map_err(|e| malformed(e.to_string()))?
                    .into_iter()
                    .map(|e| (event_hash_id(&e), e))
                    .collect();
                Ok(Mapped {
                    sequence: Some(uplink.seq),
                    events,
                    observations: uplink.observations(),
                    trace: uplink.container_id.clone().unwrap_or_else(|| device.device_id.clone()),
                    records: 1,
                })
            }
        }
    }

    /// Hands the readings to the rules; returns how many alerts they fired.
    fn observe(&self, device: &Device, _trace: &str, observations: &[Observation]) -> usize {
        if observations.is_empty() {
            return 0;
        }
        let n = self.observer.observe(&device.device_id, observations);
        if n > 0 {
            metrics::counter!("borderlink_iot_alerts_fired_total", crate::metrics::NODE => self.node.clone())
                .increment(n as u64);
        }
        n
    }
}

/// Whether a JSON payload is an EPCIS document rather than a vendor uplink.
fn is_epcis_document(payload: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "epcisBody")]
        epcis_body: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(payload).is_ok_and(|p| p.epcis_body.is_some())
}

/// A device id from a transport, cut to what an id may be (64 characters) for messages and logs.
fn shown(id: &str) -> String {
    id.chars().take(64).collect()
}

#[cfg(test)]
mod tests;
