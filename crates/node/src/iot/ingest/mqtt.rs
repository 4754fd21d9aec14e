//! MQTT through an external broker (`[iot] broker = "external"`, e.g. Debian's Mosquitto 2):
//! the broker authenticates each device (user name = device id, or its client certificate) and
//! confines it with its ACL (`pattern write tenants/+/devices/%u/#`); the node logs in as its own
//! user, subscribes to `tenants/+/devices/+/#` with QoS 1 and a persistent session, and
//! acknowledges (PUBACK) each message only once the pipeline has stored its events — or refused
//! it for good. A message that could not be stored is not acknowledged: the broker delivers it
//! again when the node's session reconnects.
//!
//! TLS (`mqtts://`): the broker's certificate is checked against `[iot] mqtt_tls_ca`, and the
//! node presents `mqtt_tls_cert` (e.g. a client certificate of the consortium CA, whose common
//! name Mosquitto's `use_identity_as_username` takes as the node's user).
//!
//! MQTT 5: a device's sequence number and signature travel as the user properties `sequence`
//! and `signature` of its PUBLISH, over the same bytes as the HTTP interface signs
//! ([`super::signed_bytes`]); a device with a certificate credential needs none (the broker
//! authenticated it; an uplink's own `seq` is checked against replays).

use std::sync::Arc;
use std::time::Duration;

use borderlink_iot::admission::{Refusal, Refused};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use rumqttc::{TlsConfiguration, Transport};

use super::{Ingest, IngestError, Interface, Message, PayloadKind, Source};
use crate::config::IotSection;
use crate::error::NodeError;

/// The environment variable that overrides `[iot] mqtt_password`.
pub(crate) const MQTT_PASSWORD_ENV: &str = "BORDERLINK_IOT_MQTT_PASSWORD";

/// What the node subscribes to: every device's topics.
pub(crate) const SUBSCRIPTION: &str = "tenants/+/devices/+/#";

/// How many QoS 1 messages the broker may send the node before its acknowledgements.
const RECEIVE_MAXIMUM: u16 = 512;

/// The subscriber to an external broker.
pub(crate) struct MqttSource {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
    client_id: String,
    /// TLS to the broker (`mqtts://`), with the node's client certificate when configured.
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for MqttSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSource").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

impl MqttSource {
    pub(crate) fn from_config(config: &IotSection) -> Result<Self, NodeError> {
        let url = config
            .mqtt_url
            .as_deref()
            .ok_or_else(|| NodeError::Config("[iot] broker = \"external\" needs mqtt_url (mqtt://host:port)".into()))?;
        let (host, port, tls) = parse_url(url).map_err(NodeError::Config)?;
        let password =
            std::env::var(MQTT_PASSWORD_ENV).ok().or_else(|| config.mqtt_password.as_ref().map(|s| s.0.clone()));
        if config.mqtt_username.is_none() && password.is_some() {
            return Err(NodeError::Config("[iot] mqtt_password needs mqtt_username".into()));
        }
        let tls = if tls {
            Some(Arc::new(tls_config(config)?))
        } else if config.mqtt_tls_ca.is_some() || config.mqtt_tls_cert.is_some() {
            return Err(NodeError::Config(format!("[iot] mqtt_tls_* need an mqtts:// mqtt_url, not {url:?}")));
        } else {
            None
        };
        let client_id = format!("borderlink-node-{}", config.mqtt_username.as_deref().unwrap_or("node"));
        Ok(Self { host, port, username: config.mqtt_username.clone(), password, client_id, tls })
    }
}

/// The TLS client configuration for the broker: its CA (`mqtt_tls_ca`, PEM), and the node's
/// client certificate and key (`mqtt_tls_cert`, `mqtt_tls_key`) when given.
fn tls_config(config: &IotSection) -> Result<rustls::ClientConfig, NodeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &std::path::Path, e: String| {
        NodeError::Config(format!("[iot] {what} {}: {e}", path.display()))
    };
    let read = |what: &str, path: &std::path::Path| std::fs::read(path).map_err(|e| bad(what, path, e.to_string()));
    let certs = |what: &str, path: &std::path::Path| -> Result<Vec<CertificateDer<'static>>, NodeError> {
        let v: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(what, path)?)
            .collect::<Result<_, _>>()
            .map_err(|e| bad(what, path, e.to_string()))?;
        if v.is_empty() {
            return Err(bad(what, path, "no certificate in it".into()));
        }
        Ok(v)
    };
    let ca = config.mqtt_tls_ca.as_deref().ok_or_else(|| {
        NodeError::Config("[iot] an mqtts:// mqtt_url needs mqtt_tls_ca (the broker's CA, PEM)".into())
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for c in certs("mqtt_tls_ca", ca)? {
        roots.add(c).map_err(|e| bad("mqtt_tls_ca", ca, e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NodeError::Config(format!("[iot] TLS: {e}")))?
        .with_root_certificates(roots);
    match (config.mqtt_tls_cert.as_deref(), config.mqtt_tls_key.as_deref()) {
        (Some(cert), Some(key)) => {
            let chain = certs("mqtt_tls_cert", cert)?;
            let key_der = PrivateKeyDer::from_pem_slice(&read("mqtt_tls_key", key)?)
                .map_err(|e| bad("mqtt_tls_key", key, e.to_string()))?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| bad("mqtt_tls_cert", cert, e.to_string()))
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        _ => Err(NodeError::Config("[iot] mqtt_tls_cert and mqtt_tls_key go together".into())),
    }
}

/// `mqtt://host:port` (port 1883 when left out) or `mqtts://host:port` (TLS, port 8883): the
/// host, the port and whether TLS is asked for.
fn parse_url(url: &str) -> Result<(String, u16, bool), String> {
    let (rest, tls) = match (url.strip_prefix("mqtt://"), url.strip_prefix("mqtts://")) {
        (Some(rest), _) => (rest, false),
        (_, Some(rest)) => (rest, true),
        _ => return Err(format!("[iot] mqtt_url {url:?} must start with mqtt:// or mqtts://")),
    };
    let default_port = if tls { 8883 } else { 1883 };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            (h, p.parse::<u16>().map_err(|_| format!("[iot] mqtt_url {url:?}: {p:?} is not a port"))?)
        }
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['/', '@', '?']) {
        return Err(format!("[iot] mqtt_url {url:?}: not host:port (credentials go in mqtt_username, mqtt_password)"));
    }
    Ok((host.to_owned(), port, tls))
}

impl Source for MqttSource {
    fn start(
        self: Box<Self>,
        ingest: Arc<Ingest>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<tokio::task::AbortHandle, NodeError>> + Send>> {
        Box::pin(async move {
            let mut options = MqttOptions::new(self.client_id.clone(), self.host.clone(), self.port);
            options
                .set_keep_alive(Duration::from_secs(30))
                .set_clean_start(false)
                // Keep the node's subscription and its unacknowledged messages across a restart.
                .set_session_expiry_interval(Some(7 * 86_400))
                .set_manual_acks(true)
                // At most RECEIVE_MAXIMUM messages unacknowledged at a time (the broker holds the
                // rest), fewer than the client's request queue holds: an acknowledgement queued
                // while the event loop waits for the pipeline never blocks on a full queue.
                .set_receive_maximum(Some(RECEIVE_MAXIMUM))
                .set_max_packet_size(Some(u32::try_from(super::MAX_MESSAGE_BYTES + 4096).unwrap_or(u32::MAX)));
            if let Some(user) = &self.username {
                options.set_credentials(user.clone(), self.password.clone().unwrap_or_default());
            }
            if let Some(tls) = &self.tls {
                options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(Arc::clone(tls))));
            }
            tracing::info!(host = %self.host, port = self.port, "MQTT: subscribing at the external broker");
            let task = tokio::spawn(run(options, ingest));
            Ok(task.abort_handle())
        })
    }
}

async fn run(options: MqttOptions, ingest: Arc<Ingest>) {
    let (client, mut eventloop) = AsyncClient::new(options, usize::from(RECEIVE_MAXIMUM) * 2);
    let mut backoff = Duration::from_millis(100);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = Duration::from_millis(100);
                tracing::info!("MQTT: connected to the broker");
                if let Err(e) = client.subscribe(SUBSCRIPTION, QoS::AtLeastOnce).await {
                    tracing::warn!(error = %e, "MQTT: cannot subscribe");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                // In order, one at a time: a device's messages keep their order (its sequence
                // numbers rise), and the broker's inflight window bounds what waits.
                if handle(&ingest, &publish).await
                    && let Err(e) = client.ack(&publish).await
                {
                    tracing::warn!(error = %e, "MQTT: cannot acknowledge");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "MQTT: broker connection lost");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Hands one PUBLISH to the pipeline; whether it may be acknowledged (stored, or refused for
/// good).
async fn handle(ingest: &Ingest, publish: &Publish) -> bool {
    let Ok(topic) = std::str::from_utf8(&publish.topic) else {
        let refused = Refused { reason: Refusal::Malformed, detail: "the topic is not UTF-8".into() };
        ingest.count_refusal(Interface::Mqtt, "", &refused);
        return true;
    };
    let device = borderlink_iot::device::topic_device(topic).map(|(_, id)| id.to_owned()).unwrap_or_default();
    let property = |name: &str| {
        publish
            .properties
            .as_ref()
            .and_then(|p| p.user_properties.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    let message = Message {
        interface: Interface::Mqtt,
        device,
        channel: Some(topic.to_owned()),
        sequence: property("sequence").and_then(|s| s.parse().ok()),
        signature: property("signature"),
        kind: PayloadKind::Json,
        payload: publish.payload.to_vec(),
        received_ms: ingest.now_ms(),
    };
    match ingest.accept(message).await {
        Ok(_) | Err(IngestError::Refused(_)) => true,
        Err(IngestError::Unavailable(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_are_host_and_port() {
        assert_eq!(parse_url("mqtt://127.0.0.1:1884").unwrap(), ("127.0.0.1".into(), 1884, false));
        assert_eq!(parse_url("mqtt://broker.example").unwrap(), ("broker.example".into(), 1883, false));
        assert_eq!(parse_url("mqtt://[::1]:1884/").unwrap(), ("::1".into(), 1884, false));
        assert_eq!(parse_url("mqtts://broker.example").unwrap(), ("broker.example".into(), 8883, true));
        assert!(parse_url("tcp://broker:1883").unwrap_err().contains("mqtt://"));
        assert!(parse_url("mqtt://user:pw@broker:1883").is_err());
        assert!(parse_url("mqtt://broker:notaport").is_err());
    }
}
