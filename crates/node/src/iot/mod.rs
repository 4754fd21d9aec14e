//! The `iot` capability: IoT traceability on the node — the device registry on the ledger, the
//! event store (embedded redb or PostgreSQL, `[iot] store`), and the interfaces that feed it.
//!
//! The registry: each device is a `document` record of its owner, `document:{owner}:device-{id}`,
//! signed by the owner's node (a new version for each change of state), so every member sees
//! the same registry and its history. [`IotService::devices`] reads it from the ledger and keeps
//! it until the ledger's head moves. What devices report is checked by
//! `borderlink_iot::admission` against this registry before anything is stored.

mod alerts;
mod anchor;
mod console;
mod devices;
pub(crate) mod epcis;
mod ingest;
mod map;
mod trace;
mod trips;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use borderlink_iot::device::Device;
use borderlink_iot::store::EventStore;
use borderlink_iot::store::postgres::PostgresEventStore;
use borderlink_iot::store::redb_store::RedbEventStore;
use borderlink_ledger::Ledger;
use serde::Serialize;
use utoipa_axum::routes;

use axum::routing::{get, post};

use crate::capability::{Capability, NavEntry, OpenFuture, Startup};
use crate::config::IotStore;
use crate::console::Section;
use crate::error::{ApiError, NodeError};
use crate::openapi::guarded;
use crate::ordering::LedgerService;
use crate::principal::{AcknowledgeAlerts, CaptureEvents, DeviceSignature, ManageDevices, ReadIot, ReadLedger};

pub(crate) const CAPABILITY: Capability = Capability {
    name: "iot",
    open,
    api: || {
        vec![
            guarded::<ReadIot>(routes!(devices::list)),
            guarded::<ManageDevices>(routes!(devices::register)),
            guarded::<ReadIot>(routes!(devices::one)),
            guarded::<ManageDevices>(routes!(devices::set_state)),
            guarded::<ReadIot>(routes!(trips::list)),
            guarded::<ManageDevices>(routes!(trips::open)),
            guarded::<ReadIot>(routes!(trips::one)),
            guarded::<ManageDevices>(routes!(trips::close)),
            guarded::<ReadIot>(routes!(trace::trip_trace)),
            guarded::<ReadIot>(routes!(trace::traces)),
            guarded::<ReadIot>(routes!(trace::gate)),
            guarded::<ReadIot>(routes!(alerts::list)),
            guarded::<AcknowledgeAlerts>(routes!(alerts::acknowledge)),
            guarded::<ReadIot>(routes!(anchor::proof)),
            guarded::<ManageDevices>(routes!(anchor::anchor)),
            guarded::<CaptureEvents>(routes!(epcis::capture)),
            guarded::<CaptureEvents>(routes!(epcis::jobs)),
            guarded::<ReadLedger>(routes!(epcis::capture_options)),
            guarded::<CaptureEvents>(routes!(epcis::job)),
            guarded::<CaptureEvents>(routes!(epcis::capture_event)),
            guarded::<ReadIot>(routes!(epcis::events)),
            guarded::<ReadLedger>(routes!(epcis::events_options)),
            guarded::<ReadIot>(routes!(epcis::event)),
            guarded::<DeviceSignature>(routes!(ingest::http::post_message)),
        ]
    },
    console: || {
        vec![
            ("/iot", get(console::trips)),
            ("/iot/trips/{id}", get(console::trace_page)),
            ("/iot/alerts", get(console::alerts)),
            ("/iot/alerts/{id}/acknowledge", post(console::acknowledge)),
            ("/iot/devices", get(console::devices)),
        ]
    },
    nav: &[
        NavEntry { section: TRACES, href: "/iot", label: "Traces" },
        NavEntry { section: ALERTS, href: "/iot/alerts", label: "Alerts" },
        NavEntry { section: DEVICES, href: "/iot/devices", label: "Devices" },
    ],
    tags: &[
        ("iot", "IoT traceability: the device registry (e-seals, trackers, readers), events, traces and alerts"),
        (
            "epcis",
            "GS1 EPCIS 2.0 REST bindings: capture documents and events, query events; errors are RFC 7807 problem details",
        ),
    ],
};

/// The trips and traces' navigation section.
pub(crate) const TRACES: Section = Section("traces");
/// The alerts queue's navigation section.
pub(crate) const ALERTS: Section = Section("alerts");
/// The device list's navigation section.
pub(crate) const DEVICES: Section = Section("devices");

/// The name prefix of a device's registry document.
const DEVICE_DOCUMENT: &str = "device-";

/// The environment variable that overrides `[iot] postgres_url` (it may hold a password).
pub(crate) const POSTGRES_URL_ENV: &str = "BORDERLINK_IOT_POSTGRES_URL";

/// A device as the registry holds it, with where and when it was recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Registered {
    /// The device entry.
    #[schema(value_type = Object)]
    pub(crate) device: Device,
    /// The ledger record that holds it.
    pub(crate) record_id: String,
    /// Its version (1 at registration, one more for each change).
    pub(crate) version: u64,
    /// When this version was signed (ms since the epoch).
    pub(crate) updated_ms: i64,
}

/// A document of the ledger as this node reads it.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) record_id: String,
    /// The member that signed it (a document is always its submitter's own).
    pub(crate) submitter: String,
    pub(crate) version: u64,
    pub(crate) timestamp_ms: i64,
    pub(crate) payload: serde_json::Value,
}

/// The registry as read at one ledger height.
type Registry = Arc<BTreeMap<String, Registered>>;

/// The iot capability's service.
pub(crate) struct IotService {
    ledger: Arc<LedgerService>,
    clock: Arc<dyn crate::clock::Clock>,
    store: Arc<dyn EventStore>,
    anchoring: Arc<anchor::Anchoring>,
    registry: Arc<DeviceRegistry>,
    trips: Mutex<Option<(u64, trips::Trips)>>,
    /// The risk service, when the node runs one: alerts reach it as signals.
    risk: Option<Arc<crate::risk::RiskService>>,
    /// The alerts already signalled to the risk service.
    signalled: Mutex<std::collections::HashSet<String>>,
    alerts: Mutex<Option<(u64, alerts::Alerts)>>,
    monitors: Mutex<alerts::Monitors>,
    /// The EPCIS capture jobs of this node (in memory).
    captures: epcis::CaptureJobs,
    /// The one pipeline every device interface feeds.
    ingest: Arc<ingest::Ingest>,
    /// The device interfaces' tasks (MQTT subscriber, Codec 8 listener), ended with the service.
    sources: Vec<tokio::task::AbortHandle>,
}

impl Drop for IotService {
    fn drop(&mut self) {
        for task in &self.sources {
            task.abort();
        }
    }
}

/// The device registry read from the ledger, kept until the ledger's head moves.
pub(crate) struct DeviceRegistry {
    ledger: Arc<LedgerService>,
    cache: Mutex<Option<(u64, Registry)>>,
}

impl std::fmt::Debug for IotService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IotService").finish_non_exhaustive()
    }
}

impl IotService {
    /// The event store.
    pub(crate) fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// The anchoring of the event store on the ledger.
    pub(crate) fn anchoring(&self) -> &Arc<anchor::Anchoring> {
        &self.anchoring
    }

    fn ledger(&self) -> &Ledger {
        self.ledger.ledger()
    }

    /// The registry at the ledger's head: every member's devices, by device id.
    pub(crate) fn devices(&self) -> Result<Registry, ApiError> {
        self.registry.snapshot()
    }

    /// The pipeline behind the device interfaces.
    pub(crate) fn ingest(&self) -> &Arc<ingest::Ingest> {
        &self.ingest
    }
}

impl DeviceRegistry {
    fn ledger(&self) -> &Ledger {
        self.ledger.ledger()
    }

    /// The registry at the ledger's head: every member's devices, by device id.
    pub(crate) fn snapshot(&self) -> Result<Registry, ApiError> {
        let height = self.ledger().head().map_or(0, |h| h.height);
        if let Some((at, registry)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *at == height
        {
            return Ok(Arc::clone(registry));
        }
        let mut out = BTreeMap::new();
        for member in self.ledger().members() {
            let prefix = borderlink_ledger::meta::compose_id("document", &member.id, DEVICE_DOCUMENT);
            let mut from = prefix.clone();
            loop {
                let page = self.ledger().records_from(&prefix, &from, 500).map_err(ApiError::Ledger)?;
                let last = page.last().map(|(id, _)| id.clone());
                for (record_id, _) in &page {
                    let Some(v) = self.ledger().record(record_id).map_err(ApiError::Ledger)? else { continue };
                    // Only the owner's node signs its devices' entries; anything else is not an entry.
                    let Some(device) = v.payload.and_then(|p| serde_json::from_value::<Device>(p).ok()) else {
                        continue;
                    };
                    if device.owner != v.submitter || device.check().is_err() {
                        continue;
                    }
                    out.insert(
                        device.device_id.clone(),
                        Registered {
                            device,
                            record_id: record_id.clone(),
                            version: v.version,
                            updated_ms: v.timestamp_ms,
                        },
                    );
                }
                match last {
                    Some(id) if page.len() == 500 => from = format!("{id}\u{0}"),
                    _ => break,
                }
            }
        }
        let registry = Arc::new(out);
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((height, Arc::clone(&registry)));
        Ok(registry)
    }
}

impl ingest::Devices for DeviceRegistry {
    fn get(&self, id: &str) -> Result<Option<Device>, ApiError> {
        Ok(self.snapshot()?.get(id).map(|r| r.device.clone()))
    }

    fn by_imei(&self, imei: &str) -> Result<Option<Device>, ApiError> {
        Ok(self
            .snapshot()?
            .values()
            .find(|r| r.device.identifiers.imei.as_deref() == Some(imei))
            .map(|r| r.device.clone()))
    }
}

impl IotService {
    /// Records `device` (new, or a new version of this node's own entry) on the ledger.
    pub(crate) async fn record(&self, device: &Device) -> Result<Registered, ApiError> {
        let payload = serde_json::to_vec(device).map_err(|e| ApiError::Internal(e.to_string()))?;
        let name = format!("{DEVICE_DOCUMENT}{}", device.device_id);
        let (record_id, version, signed_ms) = self.commit(&name, &payload, None).await?;
        Ok(Registered { device: device.clone(), record_id, version, updated_ms: signed_ms })
    }

    /// Commits the document `document:{this member}:{name}` — clear, or private to `private`
    /// (member ids; this member is always one) — and waits (briefly) until this node has
    /// applied it too, so that the next read here sees it. Answers its record id, version and
    /// signing time.
    pub(crate) async fn commit(
        &self,
        name: &str,
        payload: &[u8],
        private: Option<&[String]>,
    ) -> Result<(String, u64, i64), ApiError> {
        let now = self.clock.now_ms();
        let tx = match private {
            None => self.ledger().document_by_local(name, payload, nonce(), now),
            Some(recipients) => self.ledger().private_document_by_local(name, payload, recipients, nonce(), now),
        }
        .map_err(ApiError::Ledger)?;
        let (record_id, version, signed_ms) = (tx.body.record_id.clone(), tx.body.version, tx.body.timestamp_ms);
        self.ledger.submit(tx).await.map_err(ApiError::Tx)?;
        // Committed by the consortium; wait until this node has applied it too.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.ledger().record_state(&record_id).map_err(ApiError::Ledger)?.is_none_or(|st| st.version < version)
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok((record_id, version, signed_ms))
    }

    /// Every member's documents whose name starts with `name_prefix`, as this node can read them:
    /// clear ones, and private ones this node's member is a recipient of (others are skipped).
    pub(crate) fn documents(&self, name_prefix: &str) -> Result<Vec<Document>, ApiError> {
        let mut out = Vec::new();
        for member in self.ledger().members() {
            let prefix = borderlink_ledger::meta::compose_id("document", &member.id, name_prefix);
            let mut from = prefix.clone();
            loop {
                let page = self.ledger().records_from(&prefix, &from, 500).map_err(ApiError::Ledger)?;
                let last = page.last().map(|(id, _)| id.clone());
                for (record_id, _) in &page {
                    let Some(v) = self.ledger().record(record_id).map_err(ApiError::Ledger)? else { continue };
                    let payload = match (v.payload, v.payload_kind) {
                        (Some(p), _) => p,
                        (None, borderlink_ledger::tx::PayloadKind::Private) => {
                            match self.ledger().read_private(record_id, Some(v.version)) {
                                Ok(bytes) => match serde_json::from_slice(&bytes) {
                                    Ok(p) => p,
                                    Err(_) => continue,
                                },
                                // Not sealed for this node: not its to read.
                                Err(_) => continue,
                            }
                        }
                        (None, _) => continue,
                    };
                    out.push(Document {
                        record_id: record_id.clone(),
                        submitter: v.submitter,
                        version: v.version,
                        timestamp_ms: v.timestamp_ms,
                        payload,
                    });
                }
                match last {
                    Some(id) if page.len() == 500 => from = format!("{id}\u{0}"),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    /// The ledger's head height (what the caches of documents are keyed on).
    pub(crate) fn height(&self) -> u64 {
        self.ledger().head().map_or(0, |h| h.height)
    }

    /// The ids of the consortium's members.
    pub(crate) fn member_ids(&self) -> Vec<String> {
        self.ledger().members().into_iter().map(|m| m.id).collect()
    }

    /// This node's member (the owner of the devices it registers).
    pub(crate) fn local_member(&self) -> Option<String> {
        self.ledger().local_member().map(str::to_owned)
    }
}

pub(crate) fn nonce() -> u64 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u64()
}

fn open<'a>(startup: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async move {
        let Some(ledger) = &startup.ledger else { return Ok(()) };
        let store: Arc<dyn EventStore> = match startup.config.iot.store {
            IotStore::Embedded => {
                let path = startup.config.data_dir.join("iot").join("events.redb");
                let shown = path.display().to_string();
                let store = tokio::task::spawn_blocking(move || RedbEventStore::open(&path))
                    .await
                    .map_err(|e| NodeError::Storage(format!("{shown}: {e}")))?
                    .map_err(|e| NodeError::Storage(format!("{shown}: {e}")))?;
                Arc::new(store)
            }
            IotStore::Postgres => {
                let url = std::env::var(POSTGRES_URL_ENV)
                    .ok()
                    .or_else(|| startup.config.iot.postgres_url.clone())
                    .ok_or_else(|| {
                        NodeError::Config(format!(
                            "[iot] store = \"postgres\" needs postgres_url (or {POSTGRES_URL_ENV})"
                        ))
                    })?;
                let store = PostgresEventStore::connect(&url).await.map_err(|e| NodeError::Storage(e.to_string()))?;
                Arc::new(store)
            }
        };
        let anchoring =
            Arc::new(anchor::Anchoring::new(Arc::clone(ledger), Arc::clone(&store), Arc::clone(&startup.clock)));
        anchoring.spawn(std::time::Duration::from_secs(startup.config.iot.anchor_interval_s()));
        let registry = Arc::new(DeviceRegistry { ledger: Arc::clone(ledger), cache: Mutex::new(None) });
        let watch = Arc::new(alerts::TripWatch::default());
        let sequences = ingest::SequenceBook::open(&startup.config.data_dir.join("iot").join("sequences.redb")).await?;
        let config = &startup.config.iot;
        let ingest = Arc::new(ingest::Ingest::new(ingest::Parts {
            devices: registry.clone(),
            store: Arc::clone(&store),
            sequences,
            clock: Arc::clone(&startup.clock),
            observer: watch.clone(),
            node: crate::metrics::node_of(ledger.ledger()),
            messages_per_second: config.device_messages_per_second,
            burst: config.device_message_burst,
        }));
        let mut tasks = Vec::new();
        for source in ingest::sources(config)? {
            tasks.push(source.start(Arc::clone(&ingest)).await?);
        }
        let iot = Arc::new(IotService {
            ledger: Arc::clone(ledger),
            clock: Arc::clone(&startup.clock),
            store,
            anchoring,
            registry,
            trips: Mutex::new(None),
            risk: startup.services.get::<crate::risk::RiskService>(),
            signalled: Mutex::new(std::collections::HashSet::new()),
            alerts: Mutex::new(None),
            monitors: Mutex::new(alerts::Monitors::default()),
            captures: epcis::CaptureJobs::default(),
            ingest,
            sources: tasks,
        });
        watch.attach(&iot);
        alerts::spawn_watch(&iot);
        startup.services.insert(iot);
        Ok(())
    })
}
