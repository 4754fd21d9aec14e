//! The node's configuration.
//!
//! The defaults run a single-machine node with no configuration file at all. The CLI fills this
//! struct from a TOML file, the environment and flags (in that order of precedence); unknown keys
//! are rejected so that a misspelt setting fails loudly instead of being ignored.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The default largest request body: 8 MiB, the model's own document limit.
pub const DEFAULT_MAX_BODY_BYTES: usize = borderlink_model::validate::DEFAULT_MAX_BYTES;

/// How a node listens and where it keeps its data.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The address the HTTP API and web console listen on (`127.0.0.1:8080`; port 0 picks a
    /// free port, see [`crate::Node::local_addr`]).
    pub listen: SocketAddr,
    /// The directory the node keeps its data in (`./borderlink-data`); created when missing.
    pub data_dir: PathBuf,
    /// The largest request body accepted, in bytes (8 MiB); larger ones get `413`.
    pub max_body_bytes: usize,
    /// The ledger this node keeps, when it is a member node of a consortium.
    pub ledger: Option<LedgerConfig>,
    /// Replication: this node is one of the consortium's ordering nodes (needs `ledger`).
    pub cluster: Option<ClusterSection>,
    /// The bytes of off-chain objects (`PUT /api/v1/blobs`) each member may store on this node
    /// (10 GiB); over it: `507 blob_quota_exceeded`.
    pub blob_quota_bytes: u64,
    /// Where Prometheus metrics (`GET /metrics`) are served, apart from the API: unset (the
    /// default) serves none. Meant for loopback (`127.0.0.1:9100`) or a monitoring network;
    /// the API listener never serves them.
    pub metrics_listen: Option<SocketAddr>,
    /// What one client, and all of them together, may hold of the node: connections, time to
    /// send a request, request rate (section `[limits]`).
    pub limits: Limits,
    /// The API's HTTPS certificate (section `[tls]`): required when `listen` is not a loopback
    /// address (the node refuses to start otherwise), optional on loopback.
    pub tls: Option<TlsSection>,
    /// Validation profiles (section `[validation]`): the consortium's core profile unless a
    /// national profile file is given.
    pub validation: ValidationSection,
    /// The audit trail (section `[access]`).
    pub access: AccessSection,
    /// IoT traceability (section `[iot]`): where the events are stored.
    pub iot: IotSection,
}

/// IoT traceability (section `[iot]`): where events are stored and the device interfaces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IotSection {
    /// `embedded` (the default: `DATA/iot/events.redb`) or `postgres`.
    pub store: IotStore,
    /// The PostgreSQL connection URL when `store = "postgres"` (`postgres://user@host/db`; add
    /// `?sslmode=verify-full` for TLS). Prefer the `BORDERLINK_IOT_POSTGRES_URL` environment
    /// variable for a URL with a password: this file is not a secret store.
    pub postgres_url: Option<String>,
    /// The MQTT broker devices publish to: `off` (the default), or `external` (a broker such as
    /// Mosquitto at `mqtt_url`, which authenticates each device and confines it to its topics
    /// with an ACL; the node subscribes to `tenants/+/devices/+/#`). `embedded` is reserved for
    /// a broker inside the node and refused until it is built.
    pub broker: IotBroker,
    /// Where an embedded broker would listen (reserved with `broker = "embedded"`).
    pub mqtt_listen: Option<SocketAddr>,
    /// The external broker: `mqtt://host:port` (MQTT 5), logged in to with `mqtt_username` and
    /// `mqtt_password`.
    pub mqtt_url: Option<String>,
    /// The user name the node logs in to the external broker with.
    pub mqtt_username: Option<String>,
    /// Its password; the environment variable `BORDERLINK_IOT_MQTT_PASSWORD` overrides it (keep
    /// the password there rather than in this file).
    pub mqtt_password: Option<Secret>,
    /// TLS to the external broker (`mqtts://` URL): the CA that issued the broker's certificate
    /// (PEM; the consortium's `ca.pem` when the broker's certificate comes from it).
    pub mqtt_tls_ca: Option<PathBuf>,
    /// The node's client certificate for the broker (PEM), e.g. one issued by `borderlink
    /// network client-cert`; Mosquitto's `use_identity_as_username` takes its common name as
    /// the node's user.
    pub mqtt_tls_cert: Option<PathBuf>,
    /// Its key (PEM, mode 0600).
    pub mqtt_tls_key: Option<PathBuf>,
    /// Where trackers connect with Teltonika Codec 8/8E over TCP (off when unset).
    pub codec8_listen: Option<SocketAddr>,
    /// Messages one device may send per second on average, over all interfaces (10); past it
    /// they are refused as `rate-limited`, without slowing other devices.
    pub device_messages_per_second: u32,
    /// Messages one device may send at once above that rate (100).
    pub device_message_burst: u32,
    /// How often the events stored since the last anchor are anchored on the ledger, in seconds
    /// (10 by default; an alert anchors at once).
    pub anchor_seconds: Option<u64>,
}

impl Default for IotSection {
    fn default() -> Self {
        Self {
            store: IotStore::default(),
            postgres_url: None,
            broker: IotBroker::default(),
            mqtt_listen: None,
            mqtt_url: None,
            mqtt_username: None,
            mqtt_password: None,
            mqtt_tls_ca: None,
            mqtt_tls_cert: None,
            mqtt_tls_key: None,
            codec8_listen: None,
            device_messages_per_second: 10,
            device_message_burst: 100,
            anchor_seconds: None,
        }
    }
}

impl IotSection {
    /// The anchoring interval in seconds (`anchor_seconds`, 10 by default, at least 1).
    pub fn anchor_interval_s(&self) -> u64 {
        self.anchor_seconds.unwrap_or(10).max(1)
    }
}

/// A secret from the configuration: its `Debug` form never shows it, so a logged configuration
/// does not leak it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The MQTT broker of `[iot] broker`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IotBroker {
    /// No MQTT interface.
    #[default]
    Off,
    /// A broker inside the node (not built yet: refused at start).
    Embedded,
    /// An external broker at `mqtt_url`.
    External,
}

/// The event store of `[iot] store`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IotStore {
    /// redb, in the node's data folder.
    #[default]
    Embedded,
    /// A PostgreSQL server.
    Postgres,
}

/// The audit trail's settings (section `[access]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessSection {
    /// How often the audit log's new entries are anchored on the ledger, in seconds (60).
    pub audit_anchor_seconds: u64,
}

impl Default for AccessSection {
    fn default() -> Self {
        Self { audit_anchor_seconds: 60 }
    }
}

/// Which validation profiles a node applies (section `[validation]`; every key optional).
///
/// A profile is a TOML or JSON file (see `crates/model/profiles/gb.toml`); the node reads the
/// files at start and refuses to start (`invalid_config`) when one cannot be used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationSection {
    /// The profile `POST /api/v1/validate` and the console apply when the request names none
    /// (the core profile when unset).
    pub profile: Option<PathBuf>,
    /// Further profiles a request may select by name (`?profile=NAME`); `core` always can be.
    pub profiles: Vec<PathBuf>,
}

/// The API's HTTPS identity (section `[tls]`): `borderlink network new` issues it for each
/// ordering node from the consortium CA, for the host of the node's `api_url` and loopback.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The certificate chain, PEM (`orgs/ID/api.pem`).
    pub cert: PathBuf,
    /// Its key, PEM (`orgs/ID/api.key`, mode 0600).
    pub key: PathBuf,
}

/// How much of the node its clients may hold (section `[limits]`; every key optional).
///
/// Without these, idle or slow sockets pile up until the process runs out of file descriptors
/// (a usual `ulimit -n` is 1024) and the node answers nothing, `/healthz` included. With them, a
/// client that does not send its request in time is cut, connections past the caps are shed,
/// and `/healthz` keeps answering: it is exempt from the rate limit and has connections of its
/// own (`reserved_connections`) while the caps are reached.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The whole request head (request line and headers) must arrive within this many
    /// milliseconds of the connection's start or of the end of the previous response — so it is
    /// also how long a kept-alive connection may wait for its next request (10,000).
    pub header_timeout_ms: u64,
    /// The whole request body must arrive within this many milliseconds of its head; past it:
    /// `408 request_timeout` and the connection is closed (60,000: 8 MiB at 140 kB/s).
    pub body_timeout_ms: u64,
    /// A connection on which no byte was read or written for this many milliseconds is closed,
    /// whatever it was doing: a client that stops reading its answer, a stalled stream (60,000;
    /// the event stream sends a keep-alive every 15 s).
    pub idle_timeout_ms: u64,
    /// Connections served at once, from all clients (512). Keep it well below the process's
    /// `ulimit -n`: the database, the peers and the reserved connections need descriptors too.
    pub max_connections: usize,
    /// Connections served at once from one client IP address (64).
    pub max_connections_per_client: usize,
    /// Connections past either cap that are still read, for one request each with a header
    /// timeout of at most 2 s: `/healthz` is answered, anything else gets `503
    /// too_many_connections` (32). Past these, a new connection is closed at once.
    pub reserved_connections: usize,
    /// Requests per second one client IP address may send, on average (1,000; 0: no limit);
    /// past it: `429 rate_limited` with `Retry-After`. `/healthz` is never limited.
    pub requests_per_second: u32,
    /// Requests one client may send at once above that rate (2,000).
    pub request_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout_ms: 10_000,
            body_timeout_ms: 60_000,
            idle_timeout_ms: 60_000,
            max_connections: 512,
            max_connections_per_client: 64,
            reserved_connections: 32,
            requests_per_second: 1_000,
            request_burst: 2_000,
        }
    }
}

impl Limits {
    /// The header timeout as a duration.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    /// The body timeout as a duration.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    /// The idle timeout as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
}

/// The default off-chain storage quota of a member: 10 GiB.
pub const DEFAULT_BLOB_QUOTA_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// How a node takes part in the consortium's Raft group (section `[cluster]` of the file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// This node's Raft id; by default the genesis node of this node's member.
    #[serde(default)]
    pub node_id: Option<u64>,
    /// Where peers connect; by default the genesis node's `peer_addr`.
    #[serde(default)]
    pub peer_listen: Option<SocketAddr>,
    /// The node's TLS certificate (`orgs/ID/node.pem`), issued by the consortium CA.
    pub tls_cert: PathBuf,
    /// Its key (`orgs/ID/node.key`, mode 0600).
    pub tls_key: PathBuf,
    /// Build a snapshot (and purge the log before it) every this many log entries (1000).
    #[serde(default = "default_snapshot_every")]
    pub snapshot_every: u64,
    /// Log entries kept behind a snapshot for peers that lag a little (100).
    #[serde(default = "default_keep_after_snapshot")]
    pub keep_after_snapshot: u64,
    /// Accept the fault switch (`POST /api/v1/cluster/faults`): for fault tests only.
    #[serde(default)]
    pub faults: bool,
}

impl ClusterSection {
    /// A section with this TLS identity and every other setting at its default (the node id and
    /// peer address taken from the genesis).
    pub fn with_tls(tls_cert: PathBuf, tls_key: PathBuf) -> Self {
        Self {
            node_id: None,
            peer_listen: None,
            tls_cert,
            tls_key,
            snapshot_every: default_snapshot_every(),
            keep_after_snapshot: default_keep_after_snapshot(),
            faults: false,
        }
    }
}

fn default_snapshot_every() -> u64 {
    1000
}

fn default_keep_after_snapshot() -> u64 {
    100
}

/// Where a member node finds its consortium and its keys.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The consortium's genesis file.
    pub genesis: PathBuf,
    /// This node's member key file (`orgs/ID/member.key`, mode 0600).
    pub key: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            data_dir: PathBuf::from("./borderlink-data"),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ledger: None,
            cluster: None,
            blob_quota_bytes: DEFAULT_BLOB_QUOTA_BYTES,
            metrics_listen: None,
            limits: Limits::default(),
            tls: None,
            validation: ValidationSection::default(),
            access: AccessSection::default(),
            iot: IotSection::default(),
        }
    }
}

impl Config {
    /// Reads a node configuration file (TOML); relative paths in it are taken from the file's
    /// folder, so a node folder can be moved as a whole.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut c: Config = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(std::path::Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut c.data_dir);
        if let Some(l) = &mut c.ledger {
            fix(&mut l.genesis);
            fix(&mut l.key);
        }
        if let Some(t) = &mut c.tls {
            fix(&mut t.cert);
            fix(&mut t.key);
        }
        for p in [&mut c.iot.mqtt_tls_ca, &mut c.iot.mqtt_tls_cert, &mut c.iot.mqtt_tls_key].into_iter().flatten() {
            fix(p);
        }
        if let Some(p) = &mut c.validation.profile {
            fix(p);
        }
        c.validation.profiles.iter_mut().for_each(fix);
        if let Some(cl) = &mut c.cluster {
            fix(&mut cl.tls_cert);
            fix(&mut cl.tls_key);
            if c.ledger.is_none() {
                return Err(format!("{}: [cluster] needs a [ledger] section", path.display()));
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_a_local_node() {
        let config = Config::default();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./borderlink-data"));
        assert_eq!(config.max_body_bytes, 8 * 1024 * 1024);
    }

    #[test]
    fn missing_keys_take_defaults() {
        let config: Config = serde_json::from_str(r#"{"listen": "0.0.0.0:9000"}"#).unwrap_or_default();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn validation_profiles_are_read_relative_to_the_file() {
        let dir = std::env::temp_dir().join(format!("borderlink-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("node.toml");
        std::fs::write(&file, "[validation]\nprofile = \"profiles/gb.toml\"\nprofiles = [\"other.json\"]\n").unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(c.validation.profile, Some(dir.join("profiles/gb.toml")));
        assert_eq!(c.validation.profiles, vec![dir.join("other.json")]);
        std::fs::write(&file, "[validation]\nprofil = \"x\"\n").unwrap();
        assert!(Config::load(&file).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_iot_section_reads_its_interfaces_and_keeps_the_password_out_of_debug() {
        let c: Config = toml::from_str(
            "[iot]\nbroker = \"external\"\nmqtt_url = \"mqtts://broker:8883\"\nmqtt_username = \"gb\"\n\
             mqtt_password = \"hunter2\"\ncodec8_listen = \"127.0.0.1:5027\"\n",
        )
        .unwrap();
        assert_eq!(c.iot.broker, IotBroker::External);
        assert_eq!(c.iot.codec8_listen, Some("127.0.0.1:5027".parse().unwrap()));
        assert_eq!(c.iot.device_messages_per_second, 10, "defaults for what is not given");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(Config::default().iot.broker, IotBroker::Off);
        assert!(toml::from_str::<Config>("[iot]\nbrokr = \"external\"\n").is_err());
        assert!(toml::from_str::<Config>("[iot]\nbroker = \"rumqttd\"\n").is_err());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = serde_json::from_str::<Config>(r#"{"listen_addr": "0.0.0.0:9000"}"#);
        assert!(err.is_err());
    }
}
