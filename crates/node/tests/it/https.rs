//! The API over HTTPS with the node's API certificate from the consortium CA, and the refusal to
//! serve it in clear on an address other machines can reach.

use std::sync::Arc;

use borderlink_ledger::consortium::{self, OrgSpec};
use borderlink_ledger::identity::Role;
use borderlink_node::{Config, TlsSection};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

/// A consortium of one customs administration in `dir`: its CA and the node's API certificate.
fn consortium_in(dir: &std::path::Path) -> (std::path::PathBuf, TlsSection) {
    let org =
        OrgSpec { name: "HM Revenue & Customs".into(), role: Role::Customs, country: "GB".into(), trader_ids: vec![] };
    let created = consortium::create(dir, "Test", &[org], "2026-11-26T00:00:00Z").expect("consortium");
    let member = dir.join("orgs").join(&created.genesis.members[0].id);
    (dir.join("ca.pem"), TlsSection { cert: member.join("api.pem"), key: member.join("api.key") })
}

/// A TLS client that trusts only the CA in `ca`.
fn connector(ca: &std::path::Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(cert.expect("a certificate")).expect("a CA");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn the_api_is_served_over_https_to_clients_that_trust_the_consortium_ca() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (ca, tls) = consortium_in(&dir.path().join("net"));
    let (foreign_ca, _) = consortium_in(&dir.path().join("foreign"));
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().join("data"),
        tls: Some(tls),
        ..Config::default()
    };
    let node = borderlink_node::bind(config).await.expect("bind the node");
    let addr = node.local_addr();
    assert_eq!(node.url(), format!("https://{addr}"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.serve(async move {
        let _ = stopped.await;
    }));

    // The certificate names 127.0.0.1 and chains to the consortium CA.
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut tls = connector(&ca).connect(name.clone(), tcp).await.expect("the handshake succeeds");
    tls.write_all(HEALTHZ).await.expect("write");
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A client that trusts another consortium's CA refuses the node.
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let err = connector(&foreign_ca).connect(name, tcp).await.expect_err("another CA does not vouch for the node");
    assert!(err.to_string().contains("certificate"), "{err}");

    // Plain HTTP gets no answer.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(HEALTHZ).await.expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    assert!(!String::from_utf8_lossy(&answer).contains("200"), "plain HTTP was answered");

    let _ = stop.send(());
    task.await.expect("node task").expect("served without error");
}

#[tokio::test]
async fn a_public_address_without_a_certificate_is_refused() {
    let message = crate::test_node::refused_start(|c| c.listen = "0.0.0.0:0".parse().expect("address")).await;
    assert!(message.contains("0.0.0.0:0") && message.contains("[tls]") && message.contains("HTTPS"), "{message}");
}

/// A TLS client that trusts the CA in `ca` and presents the client certificate `cert`/`key`.
fn connector_with(ca: &std::path::Path, cert: &std::path::Path, key: &std::path::Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(c.expect("a certificate")).expect("a CA");
    }
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).expect("cert").collect::<Result<_, _>>().expect("certs");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).expect("key");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .expect("client auth");
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// `GET path` over `connector`: the status line and body.
async fn get_over(
    connector: &tokio_rustls::TlsConnector,
    addr: std::net::SocketAddr,
    path: &str,
) -> std::io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let mut tls = connector.connect(ServerName::try_from("127.0.0.1").expect("name"), tcp).await?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nBorderlink-Purpose: clearance\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await?;
    Ok(answer)
}

#[tokio::test]
async fn a_system_authenticates_with_a_client_certificate_of_the_consortium_ca() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let net = dir.path().join("net");
    let (ca, tls) = consortium_in(&net);
    let genesis = borderlink_ledger::genesis::Genesis::load(&net.join("genesis.json")).expect("genesis");
    let member = genesis.members[0].id.clone();
    let (cert, key) =
        consortium::issue_client_certificate(&net, &member, "cargo-system").expect("a client certificate");
    assert!(consortium::issue_client_certificate(&net, "nobody", "x").is_err(), "only for a member");
    assert!(consortium::issue_client_certificate(&net, &member, "../escape").is_err(), "a plain name");
    // Another consortium's client certificate for the same member id.
    let foreign = dir.path().join("foreign");
    let _ = consortium_in(&foreign);
    let (foreign_cert, foreign_key) =
        consortium::issue_client_certificate(&foreign, &member, "cargo-system").expect("foreign certificate");

    let config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().join("data"),
        tls: Some(tls),
        ledger: Some(borderlink_node::LedgerConfig {
            genesis: net.join("genesis.json"),
            key: net.join("orgs").join(&member).join("member.key"),
        }),
        ..Config::default()
    };
    let node = borderlink_node::bind(config).await.expect("bind the node");
    let addr = node.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.serve(async move {
        let _ = stopped.await;
    }));

    // With the certificate, the system is its member: it reads the ledger and its own node's
    // audit trail, no signature needed.
    let system = connector_with(&ca, &cert, &key);
    let answer = get_over(&system, addr, "/api/v1/network").await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answer = get_over(&system, addr, "/api/v1/records?type=declaration").await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answer = get_over(&system, addr, "/api/v1/audit").await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Without one: anonymous, refused.
    let anonymous = connector(&ca);
    let answer = get_over(&anonymous, addr, "/api/v1/network").await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // Another CA's certificate fails the handshake (or the first read).
    let outsider = connector_with(&ca, &foreign_cert, &foreign_key);
    match get_over(&outsider, addr, "/api/v1/network").await {
        Ok(answer) => assert!(!answer.contains(" 200 "), "an outsider's certificate was accepted: {answer}"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }

    let _ = stop.send(());
    task.await.expect("node task").expect("served without error");
}
