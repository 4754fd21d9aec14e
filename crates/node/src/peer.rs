//! Node-to-node transport security: mutual TLS 1.3 with the consortium's own certificates.
//!
//! Both ends present the node certificate `network new` issued (`orgs/ID/node.pem`, Ed25519,
//! signed by the consortium CA) and accept only a peer whose certificate chains to that CA; after
//! the handshake, [`peer_member`] requires the certificate to name (as its common name) a member
//! that is currently active, so a suspended member's node is refused even though its certificate
//! still chains. This is the transport the replicated ordering service will run on.

use std::sync::Arc;

use borderlink_ledger::identity::{Member, MemberStatus};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Why a peer connection cannot be set up or is refused.
#[derive(Debug, thiserror::Error)]
pub enum PeerTlsError {
    /// A certificate or key file does not parse.
    #[error("{what}: {detail}")]
    Pem {
        /// Which file.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(String),
    /// The peer presented no certificate.
    #[error("the peer presented no certificate")]
    NoCertificate,
    /// The peer's certificate names no current member.
    #[error("the peer's certificate names {0:?}, which is not an active member of the consortium")]
    NotAMember(String),
}

/// The TLS configurations of one node: as a server (accepting peers) and as a client.
#[derive(Clone)]
pub struct PeerTls {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

impl std::fmt::Debug for PeerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerTls").finish_non_exhaustive()
    }
}

fn certs(pem: &str, what: &'static str) -> Result<Vec<CertificateDer<'static>>, PeerTlsError> {
    let v: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| PeerTlsError::Pem { what, detail: e.to_string() })?;
    if v.is_empty() {
        return Err(PeerTlsError::Pem { what, detail: "no certificate in it".into() });
    }
    Ok(v)
}

impl PeerTls {
    /// Builds both configurations from the consortium CA and this node's certificate and key (PEM).
    pub fn new(ca_pem: &str, node_cert_pem: &str, node_key_pem: &str) -> Result<Self, PeerTlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        for c in certs(ca_pem, "consortium CA certificate")? {
            roots.add(c).map_err(|e| PeerTlsError::Config(e.to_string()))?;
        }
        let roots = Arc::new(roots);
        let chain = certs(node_cert_pem, "node certificate")?;
        let key = || {
            PrivateKeyDer::from_pem_slice(node_key_pem.as_bytes())
                .map_err(|e| PeerTlsError::Pem { what: "node key", detail: e.to_string() })
        };
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(&provider))
            .build()
            .map_err(|e| PeerTlsError::Config(e.to_string()))?;
        let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| PeerTlsError::Config(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key()?)
            .map_err(|e| PeerTlsError::Config(e.to_string()))?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| PeerTlsError::Config(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key()?)
            .map_err(|e| PeerTlsError::Config(e.to_string()))?;
        Ok(Self { server: Arc::new(server), client: Arc::new(client) })
    }

    /// Accepts peers' connections.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(Arc::clone(&self.server))
    }

    /// Connects to peers.
    pub fn connector(&self) -> tokio_rustls::TlsConnector {
        tokio_rustls::TlsConnector::from(Arc::clone(&self.client))
    }
}

/// The member a peer's certificate names (its subject common name), if that member is active.
pub fn peer_member(peer_certs: Option<&[CertificateDer<'_>]>, members: &[Member]) -> Result<String, PeerTlsError> {
    let leaf = peer_certs.and_then(|c| c.first()).ok_or(PeerTlsError::NoCertificate)?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| PeerTlsError::Pem { what: "peer certificate", detail: e.to_string() })?;
    let cn =
        cert.subject().iter_common_name().next().and_then(|a| a.as_str().ok()).map(str::to_owned).unwrap_or_default();
    match members.iter().find(|m| m.id == cn) {
        Some(m) if m.status == MemberStatus::Active => Ok(cn),
        _ => Err(PeerTlsError::NotAMember(cn)),
    }
}
