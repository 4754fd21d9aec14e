//! The API over HTTPS: the node's API certificate (issued by the consortium CA, `[tls]`), and
//! the rule that a node reachable from other machines never serves its API in clear.
//!
//! Invariant: a node whose `listen` address is not a loopback address has a `[tls]` section, or
//! it does not start. The API carries members' records — private ones decrypted for their
//! recipients — and the console session; only loopback, which never leaves the machine, may go
//! without TLS. Clients authenticate by their request signatures or, on a member node, by a
//! client certificate of the consortium CA (`borderlink network client-cert`): the server asks
//! for one, accepts a connection without, and [`ClientCertificate`] carries a presented one to
//! the principal (`principal.rs`), which maps it to an active member.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsSection;
use crate::error::NodeError;

/// Refuses to serve the API in clear on an address other machines can reach.
pub(crate) fn require_tls_off_loopback(listen: SocketAddr, tls: Option<&TlsSection>) -> Result<(), NodeError> {
    if listen.ip().is_loopback() || tls.is_some() {
        return Ok(());
    }
    Err(NodeError::Config(format!(
        "listen = \"{listen}\" is not a loopback address, and the API carries members' records (private ones \
         decrypted): it is served over HTTPS only. Add a [tls] section with the node's API certificate and key \
         (cert = \"…/orgs/ID/api.pem\", key = \"…/orgs/ID/api.key\", issued by `borderlink network new`), or \
         listen on 127.0.0.1"
    )))
}

/// The API's TLS server: what the accept loop wraps each connection in.
#[derive(Clone)]
pub(crate) struct ApiTls(pub(crate) TlsAcceptor);

impl std::fmt::Debug for ApiTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiTls")
    }
}

/// The client certificate a connection presented (verified against the consortium CA), in the
/// extensions of each of its requests.
#[derive(Debug, Clone)]
pub(crate) struct ClientCertificate(pub(crate) CertificateDer<'static>);

/// The TLS server of the API: the certificate chain and key of `[tls]` (PEM), TLS 1.2 and 1.3
/// with the ring provider, HTTP/1.1 by ALPN. With the consortium CA (`client_ca`, PEM), a
/// client may present a certificate it issued; one that does not chain to it fails the handshake.
pub(crate) fn acceptor(tls: &TlsSection, client_ca: Option<&str>) -> Result<ApiTls, NodeError> {
    let bad = |what: &str, detail: String| NodeError::Config(format!("[tls] {what}: {detail}"));
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).map_err(|e| bad(what, format!("cannot read {}: {e}", path.display())))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(&tls.cert, "cert")?)
        .collect::<Result<_, _>>()
        .map_err(|e| bad("cert", format!("{}: {e}", tls.cert.display())))?;
    if chain.is_empty() {
        return Err(bad("cert", format!("{} holds no certificate", tls.cert.display())));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&tls.key, "key")?)
        .map_err(|e| bad("key", format!("{}: {e}", tls.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("protocol versions", e.to_string()))?;
    let builder = match client_ca {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let c = c.map_err(|e| bad("the genesis' CA certificate", e.to_string()))?;
                roots.add(c).map_err(|e| bad("the genesis' CA certificate", e.to_string()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| bad("client certificates", e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| bad("cert and key", e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ApiTls(TlsAcceptor::from(Arc::new(config))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_go_without_tls() {
        let addr = |s: &str| s.parse::<SocketAddr>().expect("an address");
        assert!(require_tls_off_loopback(addr("127.0.0.1:8080"), None).is_ok());
        assert!(require_tls_off_loopback(addr("[::1]:8080"), None).is_ok());
        let tls = TlsSection { cert: "api.pem".into(), key: "api.key".into() };
        assert!(require_tls_off_loopback(addr("0.0.0.0:8080"), Some(&tls)).is_ok());
        for public in ["0.0.0.0:8080", "[::]:8080", "192.0.2.10:443"] {
            let err = require_tls_off_loopback(addr(public), None).expect_err(public).to_string();
            assert!(err.contains("[tls]") && err.contains("not a loopback address"), "{err}");
        }
    }
}
