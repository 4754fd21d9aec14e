//! Device messages into the event store through every interface: `POST /api/v1/iot/messages`,
//! MQTT through a real Mosquitto broker, and Teltonika Codec 8 over a real TCP socket. Accepted
//! messages are read back from the node's store after it stopped; refusals are read in the
//! node's metrics, by interface and reason.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use borderlink_iot::store::redb_store::RedbEventStore;
use borderlink_iot::store::{EventQuery, EventStore, Numbered};
use borderlink_ledger::consortium;
use borderlink_node::{IotBroker, Secret};
use borderlink_testbed::MosquittoTls;
use ed25519_dalek::{Signer, SigningKey};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use rumqttc::{TlsConfiguration, Transport};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ledger::{LedgerNode, serve_node, test_consortium_named};
use crate::test_node::client;

const WAIT: Duration = Duration::from_secs(30);

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn now_ms() -> i64 {
    borderlink_node::ordering::now_ms()
}

fn seal_entry(id: &str, signer: u8) -> Value {
    json!({
        "deviceId": id,
        "kind": "e-seal",
        "identifiers": {"seal": {"manufacturer": "0A1B", "serial": "2C3D4E"}},
        "credential": {"type": "ed25519", "public_key": hex::encode(key(signer).verifying_key().to_bytes())},
        "reportingIntervalSeconds": 300
    })
}

async fn register(n: &LedgerNode, entry: Value) {
    let r = n.post_signed(0, "/api/v1/iot/devices", entry.to_string().into_bytes()).await;
    let status = r.status().as_u16();
    assert_eq!(status, 201, "{}", r.text().await.unwrap_or_default());
}

/// An e-seal uplink dated a minute ago.
fn uplink(device: &str, seq: u64, event: &str) -> Vec<u8> {
    json!({
        "deviceId": device, "manufacturerId": "0A1B", "tagSerial": "2C3D4E", "containerId": "MSKU1234565",
        "seq": seq, "time": borderlink_model::datetime::format_unix_ms(now_ms() - 60_000), "event": event,
        "position": {"lat": 51.9225, "lon": 4.47917}
    })
    .to_string()
    .into_bytes()
}

/// The device's signature over what it signs: `borderlink-iot-v1\n{device}\n{sequence}\n` + body.
fn sign(signer: u8, device: &str, sequence: u64, body: &[u8]) -> String {
    let mut signed = format!("borderlink-iot-v1\n{device}\n{sequence}\n").into_bytes();
    signed.extend_from_slice(body);
    hex::encode(key(signer).sign(&signed).to_bytes())
}

async fn post_message(n: &LedgerNode, device: &str, seq: u64, signer: u8, body: Vec<u8>) -> (u16, Value) {
    let signature = sign(signer, device, seq, &body);
    let r = client()
        .post(format!("{}/api/v1/iot/messages", n.base))
        .header("borderlink-device", device)
        .header("borderlink-sequence", seq.to_string())
        .header("borderlink-signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn metrics_text(n: &LedgerNode) -> String {
    let url = format!("http://{}/metrics", n.metrics.expect("a metrics listener"));
    client().get(url).send().await.unwrap().text().await.unwrap()
}

/// The sum of the samples of `name` that carry every label of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum()
}

/// Polls the node's metrics until `name{labels}` reaches `at_least` (bounded).
async fn wait_for(n: &LedgerNode, name: &str, labels: &[(&str, &str)], at_least: f64) -> f64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = metrics_text(n).await;
        let value = sample(&text, name, labels);
        if value >= at_least {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "{name}{labels:?} stayed at {value} < {at_least}:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts GB customs' node of a test consortium in which GB customs is called `name`: metrics
/// are process-wide and labelled by member id, so each test here has a member id of its own.
async fn start_named(name: &str, change: impl FnOnce(&mut borderlink_node::Config)) -> LedgerNode {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, mut config) = test_consortium_named(dir.path(), name);
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    change(&mut config);
    serve_node(config, keys, created.genesis.chain_id(), dir).await
}

/// Stops the node and reads the events `device` reported from its store.
async fn stored_events_of(n: LedgerNode, device: &str) -> Vec<Numbered> {
    let dir = n.stop().await;
    let path = dir.path().join("data").join("iot").join("events.redb");
    let deadline = tokio::time::Instant::now() + WAIT;
    // The interfaces' tasks end just after the node: their hold on the store goes with them.
    let store = loop {
        match RedbEventStore::open(&path) {
            Ok(s) => break s,
            Err(e) => {
                assert!(tokio::time::Instant::now() < deadline, "the stopped node's store stays locked: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let query = EventQuery { devices: vec![device.to_owned()], ..EventQuery::default() };
    store.query(&query, 1000, None).await.unwrap().events
}

#[tokio::test]
async fn signed_http_messages_are_stored_and_every_refusal_has_its_code_and_count() {
    let n = start_named("Customs Http Ingest", |_| {}).await;
    register(&n, seal_entry("ESEAL-H1", 1)).await;
    // The e-seal watches a trip: its readings go to the trip's rules.
    let trip = json!({"tripId": "T-H1", "container": "MSKU1234565", "devices": ["ESEAL-H1"], "rules": {"name": "T1"}});
    let r = n.post_signed(0, "/api/v1/iot/trips", trip.to_string().into_bytes()).await;
    assert_eq!(r.status(), 201);

    let (status, body) = post_message(&n, "ESEAL-H1", 1, 1, uplink("ESEAL-H1", 1, "OPENED")).await;
    assert_eq!(status, 200, "{body}");
    let stored: Vec<String> = serde_json::from_value(body["stored"].clone()).unwrap();
    assert_eq!(stored.len(), 2, "an opening is an alarm ObjectEvent and an AssociationEvent DELETE: {body}");
    assert_eq!((body["sequence"].as_u64(), body["alerts"].as_u64()), (Some(1), Some(1)), "{body}");
    // The opening outside an authorised place is an alert of the trip, committed to the ledger.
    let mut alerts = Value::Null;
    for _ in 0..100 {
        alerts = n.get_signed(0, "/api/v1/iot/alerts?trip=T-H1").await.1;
        if alerts.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(alerts[0]["alert"]["rule"], "seal-opened", "{alerts}");
    assert_eq!(alerts[0]["alert"]["device"], "ESEAL-H1", "{alerts}");

    let refused = [
        (post_message(&n, "ESEAL-H1", 1, 1, uplink("ESEAL-H1", 1, "OPENED")).await, 409, "iot_replay"),
        (post_message(&n, "ESEAL-H1", 2, 9, uplink("ESEAL-H1", 2, "OPENED")).await, 401, "iot_bad_credential"),
        (post_message(&n, "ESEAL-H1", 3, 1, b"{\"deviceId\": \"ESEAL-H1\", ".to_vec()).await, 422, "iot_malformed"),
        (post_message(&n, "NO-SUCH-SEAL", 1, 1, uplink("NO-SUCH-SEAL", 1, "OPENED")).await, 401, "iot_unknown_device"),
    ];
    for ((status, body), want_status, want_code) in refused {
        assert_eq!((status, body["code"].as_str()), (want_status, Some(want_code)), "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    // No device headers at all: refused before the body is read.
    let r = client().post(format!("{}/api/v1/iot/messages", n.base)).body(uplink("ESEAL-H1", 4, "OPENED")).send().await;
    let r = r.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "device_unauthenticated");
    // Larger than a device message may be.
    let (status, body) = post_message(&n, "ESEAL-H1", 5, 1, vec![b' '; 300 * 1024]).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("payload_too_large")), "{body}");

    let text = metrics_text(&n).await;
    for reason in ["replay", "bad-credential", "malformed", "unknown-device"] {
        let labels = [("interface", "http"), ("reason", reason)];
        assert_eq!(sample(&text, "borderlink_iot_refused_total", &labels), 1.0, "{reason}:\n{text}");
    }
    assert_eq!(sample(&text, "borderlink_iot_messages_accepted_total", &[("interface", "http")]), 1.0, "{text}");

    let events = stored_events_of(n, "ESEAL-H1").await;
    let mut found: Vec<String> = events.iter().map(|e| e.event.hash_id.clone()).collect();
    found.sort();
    let mut expected = stored;
    expected.sort();
    assert_eq!(found, expected, "exactly the accepted message's events, under the hash IDs answered");
    assert!(events.iter().any(|e| e.event.event_type == "AssociationEvent"));
}

#[tokio::test]
async fn replay_protection_survives_a_restart_of_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, config) = test_consortium_named(dir.path(), "Customs Restart Ingest");
    let chain = created.genesis.chain_id();
    let n = serve_node(config.clone(), keys.clone(), chain, dir).await;
    register(&n, seal_entry("ESEAL-R1", 1)).await;
    let (status, body) = post_message(&n, "ESEAL-R1", 41, 1, uplink("ESEAL-R1", 41, "SEALED")).await;
    assert_eq!(status, 200, "{body}");
    let dir = n.stop().await;

    let n = serve_node(config, keys, chain, dir).await;
    let (status, body) = post_message(&n, "ESEAL-R1", 41, 1, uplink("ESEAL-R1", 41, "SEALED")).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("iot_replay")), "{body}");
    let (status, body) = post_message(&n, "ESEAL-R1", 42, 1, uplink("ESEAL-R1", 42, "OPENED")).await;
    assert_eq!(status, 200, "{body}");
}

const NODE_USER: &str = "borderlink-node";

/// A device's MQTT 5 client: publishes, and reports each PUBACK's reason.
struct Device {
    client: AsyncClient,
    acks: tokio::sync::mpsc::UnboundedReceiver<PubAckReason>,
}

impl Device {
    async fn connect(port: u16, user: &str, password: &str) -> Self {
        let mut options = MqttOptions::new(format!("test-{user}"), "127.0.0.1", port);
        options.set_credentials(user, password).set_keep_alive(Duration::from_secs(30));
        Self::with(options)
    }

    fn with(options: MqttOptions) -> Self {
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        let (tx, acks) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(ack))) => {
                        if tx.send(ack.reason).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Self { client, acks }
    }

    /// Publishes `body` with QoS 1 and the device's sequence number and signature, and returns
    /// the broker's PUBACK reason.
    async fn publish(&mut self, topic: &str, seq: u64, signature: &str, body: Vec<u8>) -> PubAckReason {
        let properties = PublishProperties {
            user_properties: vec![("sequence".into(), seq.to_string()), ("signature".into(), signature.into())],
            ..PublishProperties::default()
        };
        self.client.publish_with_properties(topic, QoS::AtLeastOnce, false, body, properties).await.unwrap();
        self.puback().await
    }

    /// Publishes `body` as it is (a device with a certificate signs nothing).
    async fn publish_plain(&mut self, topic: &str, body: Vec<u8>) -> PubAckReason {
        self.client.publish(topic, QoS::AtLeastOnce, false, body).await.unwrap();
        self.puback().await
    }

    async fn puback(&mut self) -> PubAckReason {
        tokio::time::timeout(WAIT, self.acks.recv()).await.expect("a PUBACK in time").expect("the client runs")
    }
}

#[tokio::test]
async fn mqtt_messages_through_mosquitto_are_stored_once_and_refusals_are_counted() {
    let broker = borderlink_testbed::Mosquitto::start(
        &[(NODE_USER, "node secret"), ("ESEAL-M1", "m1 secret"), ("ESEAL-M2", "m2 secret"), ("GHOST-1", "ghost")],
        &format!("user {NODE_USER}\ntopic read tenants/#\n\npattern write tenants/+/devices/%u/#\n"),
    );
    let url = broker.url();
    let n = start_named("Customs Mqtt Ingest", |c| {
        c.iot.broker = IotBroker::External;
        c.iot.mqtt_url = Some(url);
        c.iot.mqtt_username = Some(NODE_USER.into());
        c.iot.mqtt_password = Some(Secret("node secret".into()));
    })
    .await;
    register(&n, seal_entry("ESEAL-M1", 1)).await;
    register(&n, seal_entry("ESEAL-M2", 2)).await;
    let own = format!("tenants/{}/devices/ESEAL-M1/uplink", n.member());
    let mut m1 = Device::connect(broker.port(), "ESEAL-M1", "m1 secret").await;

    // The node subscribes once it has connected: until then a message reaches no one, so
    // positions are sent until one is stored.
    let accepted = [("interface", "mqtt")];
    let mut seq = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        seq += 1;
        let body = uplink("ESEAL-M1", seq, "POSITION");
        assert_eq!(m1.publish(&own, seq, &sign(1, "ESEAL-M1", seq, &body), body).await, PubAckReason::Success);
        let poll_until = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut seen = 0.0;
        while seen < 1.0 && tokio::time::Instant::now() < poll_until {
            seen = sample(&metrics_text(&n).await, "borderlink_iot_messages_accepted_total", &accepted);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if seen >= 1.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the node never received a message through the broker");
    }

    // The same message again: a replay.
    let body = uplink("ESEAL-M1", seq, "POSITION");
    m1.publish(&own, seq, &sign(1, "ESEAL-M1", seq, &body), body).await;
    // Signed by another device's key.
    let body = uplink("ESEAL-M1", 1_000, "OPENED");
    m1.publish(&own, 1_000, &sign(2, "ESEAL-M1", 1_000, &body), body).await;
    // Not JSON.
    let body = b"{\"deviceId\": \"ESEAL-M1\", \"seq\": ".to_vec();
    m1.publish(&own, 1_001, &sign(1, "ESEAL-M1", 1_001, &body), body).await;
    // Another device's topic: the broker's ACL refuses it, the node never sees it.
    let other = format!("tenants/{}/devices/ESEAL-M2/uplink", n.member());
    let body = uplink("ESEAL-M2", 1, "OPENED");
    let reason = m1.publish(&other, 1, &sign(1, "ESEAL-M2", 1, &body), body).await;
    assert_eq!(reason, PubAckReason::NotAuthorized, "the broker's ACL confines a device to its own topics");
    // Its own id under another owner: the ACL lets it through, the node's topic check does not.
    let foreign = "tenants/someone-else/devices/ESEAL-M1/uplink";
    let body = uplink("ESEAL-M1", 1_002, "OPENED");
    m1.publish(foreign, 1_002, &sign(1, "ESEAL-M1", 1_002, &body), body).await;
    // A client the broker knows but the registry does not.
    let mut ghost = Device::connect(broker.port(), "GHOST-1", "ghost").await;
    let body = uplink("GHOST-1", 1, "OPENED");
    let topic = format!("tenants/{}/devices/GHOST-1/uplink", n.member());
    ghost.publish(&topic, 1, &sign(1, "GHOST-1", 1, &body), body).await;

    for reason in ["replay", "bad-credential", "malformed", "wrong-topic", "unknown-device"] {
        wait_for(&n, "borderlink_iot_refused_total", &[("interface", "mqtt"), ("reason", reason)], 1.0).await;
    }
    let text = metrics_text(&n).await;
    let accepted_count = sample(&text, "borderlink_iot_messages_accepted_total", &accepted);
    assert!(accepted_count >= 1.0);
    for reason in ["replay", "bad-credential", "malformed", "wrong-topic", "unknown-device"] {
        let labels = [("interface", "mqtt"), ("reason", reason)];
        assert_eq!(sample(&text, "borderlink_iot_refused_total", &labels), 1.0, "{reason}:\n{text}");
    }

    // One sensor_reporting event per accepted position, nothing of the refused messages.
    let events = stored_events_of(n, "ESEAL-M1").await;
    assert_eq!(events.len() as f64, accepted_count, "{events:?}");
    assert!(
        events.iter().all(|e| e.event.biz_step.as_deref() == Some("https://ref.gs1.org/cbv/BizStep-sensor_reporting"))
    );
    drop(broker);
}

/// A TLS client configuration trusting `ca` and presenting `cert` (PEM files).
fn tls_client(ca: &Path, cert: &Path, key: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).unwrap().map(|c| c.unwrap()).collect();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, PrivateKeyDer::from_pem_file(key).unwrap())
        .unwrap();
    Arc::new(config)
}

fn tls_options(id: &str, port: u16, tls: Arc<rustls::ClientConfig>) -> MqttOptions {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
    options
}

/// A server certificate for the broker on 127.0.0.1 from the consortium CA of `net`. ECDSA
/// P-256: Mosquitto's OpenSSL 3.0 cannot load the Ed25519 keys the consortium's tooling writes
/// (ring's PKCS#8 v2), though it verifies the Ed25519 chain of the clients' certificates.
fn broker_certificate(net: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(net.join("ca.key")).unwrap()).unwrap();
    let issuer =
        rcgen::Issuer::from_ca_cert_pem(&std::fs::read_to_string(net.join("ca.pem")).unwrap(), ca_key).unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();
    let (pem, key_path) = (net.join("broker.pem"), net.join("broker.key"));
    std::fs::write(&pem, cert.pem()).unwrap();
    borderlink_ledger::identity::write_secret(&key_path, key.serialize_pem().as_bytes()).unwrap();
    (pem, key_path)
}

/// The SHA-256 fingerprint (hex) of the certificate in a PEM file: a device's registered credential.
fn fingerprint(pem: &Path) -> String {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use sha2::Digest;
    let der = CertificateDer::from_pem_file(pem).unwrap();
    hex::encode(sha2::Sha256::digest(der.as_ref()))
}

#[tokio::test]
async fn over_tls_devices_with_consortium_certificates_report_only_on_their_own_topics() {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, mut config) = test_consortium_named(dir.path(), "Customs Tls Ingest");
    let net = dir.path().join("net");
    let member = keys[0].member.clone();
    let (broker_pem, broker_key) = broker_certificate(&net);
    let broker = borderlink_testbed::Mosquitto::start_tls(
        &MosquittoTls { ca: net.join("ca.pem"), cert: broker_pem, key: broker_key },
        &format!("user {member}\ntopic read tenants/#\n\npattern write tenants/+/devices/%u/#\n"),
    );
    // The node logs in with a client certificate of its member (common name: the member id).
    let (node_pem, node_key) = consortium::issue_client_certificate(&net, &member, "mqtt").unwrap();
    let (t1_pem, t1_key) = consortium::issue_device_certificate(&net, &member, "ESEAL-T1").unwrap();
    let (t2_pem, _) = consortium::issue_device_certificate(&net, &member, "ESEAL-T2").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&t1_key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a device key is readable by its owner only");
    }
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    config.iot.broker = IotBroker::External;
    config.iot.mqtt_url = Some(broker.url());
    config.iot.mqtt_tls_ca = Some(net.join("ca.pem"));
    config.iot.mqtt_tls_cert = Some(node_pem);
    config.iot.mqtt_tls_key = Some(node_key);
    let n = serve_node(config, keys, created.genesis.chain_id(), dir).await;
    assert_eq!(consortium::certificate_sha256(&t1_pem).unwrap(), fingerprint(&t1_pem));
    for (id, pem) in [("ESEAL-T1", &t1_pem), ("ESEAL-T2", &t2_pem)] {
        let mut entry = seal_entry(id, 1);
        entry["credential"] = json!({"type": "certificate", "sha256": fingerprint(pem)});
        register(&n, entry).await;
    }

    let ca = net.join("ca.pem");
    let mut t1 = Device::with(tls_options("ESEAL-T1", broker.port(), tls_client(&ca, &t1_pem, &t1_key)));
    let own = format!("tenants/{member}/devices/ESEAL-T1/uplink");
    let accepted = [("interface", "mqtt")];
    let mut seq = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // Unsigned: the broker authenticated the device by its certificate.
        seq += 1;
        assert_eq!(t1.publish_plain(&own, uplink("ESEAL-T1", seq, "POSITION")).await, PubAckReason::Success);
        let poll_until = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut seen = 0.0;
        while seen < 1.0 && tokio::time::Instant::now() < poll_until {
            seen = sample(&metrics_text(&n).await, "borderlink_iot_messages_accepted_total", &accepted);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if seen >= 1.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the node never received a message through the TLS broker");
    }
    // The same uplink again (its own `seq` guards it), and another device's topic.
    t1.publish_plain(&own, uplink("ESEAL-T1", seq, "POSITION")).await;
    wait_for(&n, "borderlink_iot_refused_total", &[("interface", "mqtt"), ("reason", "replay")], 1.0).await;
    let other = format!("tenants/{member}/devices/ESEAL-T2/uplink");
    assert_eq!(t1.publish_plain(&other, uplink("ESEAL-T2", 1, "OPENED")).await, PubAckReason::NotAuthorized);

    // A certificate from another CA does not get a session at all.
    let elsewhere = tempfile::tempdir().unwrap();
    test_consortium_named(elsewhere.path(), "Customs Tls Ingest");
    let stranger_net = elsewhere.path().join("net");
    let (s_pem, s_key) = consortium::issue_device_certificate(&stranger_net, &member, "ESEAL-T1").unwrap();
    let options = tls_options("stranger", broker.port(), tls_client(&ca, &s_pem, &s_key));
    let (_client, mut eventloop) = AsyncClient::new(options, 4);
    let first = tokio::time::timeout(WAIT, async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .expect("an answer in time");
    assert!(!first, "the broker refuses a client certificate the consortium CA did not issue");

    let text = metrics_text(&n).await;
    let accepted_count = sample(&text, "borderlink_iot_messages_accepted_total", &accepted);
    let events = stored_events_of(n, "ESEAL-T1").await;
    assert_eq!(events.len() as f64, accepted_count, "{events:?}");
    assert!(events.iter().all(|e| e.event.device.as_deref() == Some("ESEAL-T1")));
    drop(broker);
}

/// The vendor's documented streams ("Teltonika Data Sending Protocols"): the IMEI handshake and
/// Codec 8 example 1 (one record of 2019-06-10, no GNSS fix).
const IMEI_HANDSHAKE: &str = "000F333536333037303432343431303133";
const IMEI: &str = "356307042441013";
const CODEC8_1: &str = "000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01F10000601A014E0000000000000000010000C7CF";

/// The documented Codec 8 Extended example (one record of 2019-06-10, no fix).
const CODEC8E: &str = "000000000000004A8E010000016B412CEE000100000000000000000000000000000000010005000100010100010011001D00010010015E2C880002000B000000003544C87A000E000000001DD7E06A00000100002994";

/// Example 1 re-dated to `at_ms` with a fix in Vilnius (9 satellites), its CRC recomputed.
fn redated(at_ms: i64) -> Vec<u8> {
    redated_packet(CODEC8_1, at_ms)
}

/// A documented one-record packet re-dated to `at_ms` with a fix in Vilnius, CRC recomputed (the
/// record's time and GNSS element sit at the same offsets in Codec 8 and 8E).
fn redated_packet(vector: &str, at_ms: i64) -> Vec<u8> {
    let mut p = hex::decode(vector).unwrap();
    p[10..18].copy_from_slice(&(at_ms as u64).to_be_bytes());
    p[19..23].copy_from_slice(&252_797_000i32.to_be_bytes());
    p[23..27].copy_from_slice(&546_872_000i32.to_be_bytes());
    p[31] = 9;
    let end = p.len() - 4;
    let crc = borderlink_iot::codec8::crc16_ibm(&p[8..end]);
    p[end..].copy_from_slice(&u32::from(crc).to_be_bytes());
    p
}

async fn connect(port: u16) -> TcpStream {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(s) => return s,
            Err(e) => {
                assert!(tokio::time::Instant::now() < deadline, "the Codec 8 listener never came up: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn read_exact<const N: usize>(s: &mut TcpStream) -> [u8; N] {
    let mut buf = [0u8; N];
    tokio::time::timeout(WAIT, s.read_exact(&mut buf)).await.expect("an answer in time").expect("an answer");
    buf
}

/// Whether the node closed the connection (reads end; nothing more comes).
async fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    matches!(tokio::time::timeout(WAIT, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

#[tokio::test]
async fn codec8_trackers_are_acknowledged_only_for_records_stored() {
    let port = borderlink_testbed::free_port();
    let n = start_named("Customs Codec Ingest", |c| {
        c.iot.codec8_listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    let mut tracker = seal_entry("TRK-1", 4);
    tracker["kind"] = "gps-tracker".into();
    tracker["identifiers"] = json!({"imei": IMEI});
    register(&n, tracker).await;

    let mut s = connect(port).await;
    s.write_all(&hex::decode(IMEI_HANDSHAKE).unwrap()).await.unwrap();
    assert_eq!(read_exact::<1>(&mut s).await, [0x01], "a registered tracker's IMEI is accepted");
    // The documented record is from 2019: refused (clock), none acknowledged.
    s.write_all(&hex::decode(CODEC8_1).unwrap()).await.unwrap();
    assert_eq!(read_exact::<4>(&mut s).await, [0, 0, 0, 0]);
    // The same record dated now, with a fix: stored, then acknowledged.
    let packet = redated(now_ms() - 60_000);
    s.write_all(&packet).await.unwrap();
    assert_eq!(read_exact::<4>(&mut s).await, [0, 0, 0, 1]);
    // Codec 8 Extended, the same way.
    s.write_all(&redated_packet(CODEC8E, now_ms() - 45_000)).await.unwrap();
    assert_eq!(read_exact::<4>(&mut s).await, [0, 0, 0, 1]);
    // A CRC that does not match: refused, none acknowledged (the tracker sends it again).
    let mut bad_crc = redated(now_ms() - 30_000);
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 0xff;
    s.write_all(&bad_crc).await.unwrap();
    assert_eq!(read_exact::<4>(&mut s).await, [0, 0, 0, 0]);
    // Bytes that are no packet: the connection is closed.
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    assert!(closed(&mut s).await, "garbage closes the session");

    // An IMEI no registered tracker has (valid check digit): refused with 0x00 and closed.
    let mut s = connect(port).await;
    let unknown = "490154203237518";
    let mut handshake = (unknown.len() as u16).to_be_bytes().to_vec();
    handshake.extend_from_slice(unknown.as_bytes());
    s.write_all(&handshake).await.unwrap();
    assert_eq!(read_exact::<1>(&mut s).await, [0x00]);
    assert!(closed(&mut s).await);

    let codec8 = |reason| [("interface", "codec8"), ("reason", reason)];
    wait_for(&n, "borderlink_iot_refused_total", &codec8("unknown-device"), 1.0).await;
    let text = metrics_text(&n).await;
    assert_eq!(sample(&text, "borderlink_iot_refused_total", &codec8("clock-off")), 1.0, "{text}");
    assert_eq!(sample(&text, "borderlink_iot_refused_total", &codec8("malformed")), 2.0, "CRC and garbage:\n{text}");

    let events = stored_events_of(n, "TRK-1").await;
    assert_eq!(events.len(), 2, "one position from each codec: {events:?}");
    assert!(events.iter().all(|e| e.event.read_point.as_deref() == Some("geo:54.6872,25.2797")), "{events:?}");
}
