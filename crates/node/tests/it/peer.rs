//! Node-to-node mutual TLS: a peer with a certificate of this consortium is accepted and
//! identified; one from another CA is refused in the handshake; one naming a suspended member
//! is refused after it.

use borderlink_ledger::consortium::{self, OrgSpec};
use borderlink_ledger::identity::{MemberStatus, Role};
use borderlink_node::peer::{PeerTls, PeerTlsError, peer_member};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Org {
    tls: PeerTls,
    id: String,
}

fn consortium(tag: &str, dir: &std::path::Path) -> (Vec<Org>, borderlink_ledger::genesis::Genesis) {
    let orgs = vec![
        OrgSpec { name: format!("{tag} Customs"), role: Role::Customs, country: "GB".into(), trader_ids: vec![] },
        OrgSpec { name: format!("{tag} Port"), role: Role::Port, country: "NL".into(), trader_ids: vec![] },
    ];
    let net = dir.join(tag);
    let created = consortium::create(&net, tag, &orgs, "2026-11-26T00:00:00Z").unwrap();
    let ca = std::fs::read_to_string(net.join("ca.pem")).unwrap();
    let list = created
        .genesis
        .members
        .iter()
        .map(|m| {
            let d = net.join("orgs").join(&m.id);
            let cert = std::fs::read_to_string(d.join("node.pem")).unwrap();
            let key = std::fs::read_to_string(d.join("node.key")).unwrap();
            Org { tls: PeerTls::new(&ca, &cert, &key).unwrap(), id: m.id.clone() }
        })
        .collect();
    (list, created.genesis)
}

/// Accepts one connection, identifies the peer against `members`, echoes one byte when accepted.
async fn serve_once(
    listener: TcpListener,
    tls: PeerTls,
    members: Vec<borderlink_ledger::identity::Member>,
) -> Result<String, String> {
    let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
    let mut stream = tls.acceptor().accept(tcp).await.map_err(|e| format!("handshake: {e}"))?;
    let who = peer_member(stream.get_ref().1.peer_certificates(), &members).map_err(|e| e.to_string())?;
    let mut b = [0u8; 1];
    stream.read_exact(&mut b).await.map_err(|e| e.to_string())?;
    stream.write_all(&b).await.map_err(|e| e.to_string())?;
    Ok(who)
}

async fn connect(tls: &PeerTls, addr: std::net::SocketAddr) -> Result<u8, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut s = tls.connector().connect(name, tcp).await.map_err(|e| e.to_string())?;
    s.write_all(&[42]).await.map_err(|e| e.to_string())?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await.map_err(|e| e.to_string())?;
    Ok(b[0])
}

#[tokio::test]
async fn peers_of_the_consortium_are_accepted_and_identified() {
    let dir = tempfile::tempdir().unwrap();
    let (orgs, genesis) = consortium("alpha", dir.path());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve_once(listener, orgs[0].tls.clone(), genesis.members.clone()));
    assert_eq!(connect(&orgs[1].tls, addr).await, Ok(42));
    assert_eq!(server.await.unwrap(), Ok(orgs[1].id.clone()));
}

#[tokio::test]
async fn a_peer_with_a_certificate_from_another_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, genesis) = consortium("alpha", dir.path());
    let (theirs, _) = consortium("beta", dir.path());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve_once(listener, ours[0].tls.clone(), genesis.members.clone()));
    assert!(connect(&theirs[1].tls, addr).await.is_err(), "the foreign node must not get a session");
    let refused = server.await.unwrap().unwrap_err();
    assert!(refused.starts_with("handshake:"), "refused in the handshake: {refused}");
}

#[tokio::test]
async fn a_suspended_members_node_is_refused_after_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let (orgs, genesis) = consortium("alpha", dir.path());
    let mut members = genesis.members.clone();
    members[1].status = MemberStatus::Suspended;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve_once(listener, orgs[0].tls.clone(), members.clone()));
    let _ = connect(&orgs[1].tls, addr).await;
    let refused = server.await.unwrap().unwrap_err();
    assert!(refused.contains("not an active member"), "{refused}");
    assert!(matches!(peer_member(None, &members), Err(PeerTlsError::NoCertificate)));
}
