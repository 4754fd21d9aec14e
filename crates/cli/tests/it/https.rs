//! The API over HTTPS: `network new --https` gives each node an API certificate from the
//! consortium CA, and the CLI talks to such a node only when its certificate chains to the CA it
//! was given.

use crate::net::{NODE_ORGS, Net, network_new, template};
use crate::{TempDir, borderlink, s, stderr, stdout};

#[test]
fn https_nodes_answer_the_cli_and_a_client_with_another_ca_is_refused() {
    let net = Net::new_https("https");
    assert!(net.nodes.iter().all(|(_, url)| url.starts_with("https://")), "{:?}", net.nodes);
    let toml = std::fs::read_to_string(net.node_dir(0).join("node.toml")).expect("node.toml");
    assert!(toml.contains("[tls]") && toml.contains("api.pem"), "{toml}");
    net.leader();
    let cdir = net.cdir();
    let ca = cdir.join("ca.pem");
    let key = cdir.join("orgs").join(&net.nodes[0].0).join("member.key");
    let url = net.nodes[0].1.clone();

    // `network status` verifies the nodes with the consortium folder's CA.
    let o = borderlink(&["network", "status", "--dir", s(&cdir)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    // A member submits over HTTPS, trusting the consortium CA.
    let tmp = TempDir::new("https-files");
    let mut doc = template();
    doc["Declaration"]["FunctionalReferenceID"] = serde_json::json!("LRN-HTTPS-1");
    let file = tmp.0.join("declaration.json");
    std::fs::write(&file, serde_json::to_vec(&doc).expect("JSON")).expect("write");
    let o = borderlink(&["submit", s(&file), "--key", s(&key), "--node", &url, "--ca", s(&ca)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("committed declaration:GB553202734852:LRN-HTTPS-1"), "{}", stdout(&o));

    // Another consortium's CA does not vouch for the node: nothing is sent (exit 4, unreachable).
    let foreign = tmp.0.join("foreign");
    assert_eq!(network_new(&foreign, 1, &NODE_ORGS[..1]).status.code(), Some(0));
    let foreign_ca = foreign.join("ca.pem");
    let o = borderlink(&[
        "proof",
        "declaration:GB553202734852:LRN-HTTPS-1",
        "--key",
        s(&key),
        "--node",
        &url,
        "--ca",
        s(&foreign_ca),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).to_lowercase().contains("certificate"), "{}", stderr(&o));
    // Without a CA the CLI does not try (exit 3: the user's input is missing).
    let o = borderlink(&["proof", "declaration:GB553202734852:LRN-HTTPS-1", "--key", s(&key), "--node", &url]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("--ca FILE"), "{}", stderr(&o));
    // The node speaks no plain HTTP.
    let plain = url.replacen("https://", "http://", 1);
    let o = borderlink(&["proof", "declaration:GB553202734852:LRN-HTTPS-1", "--key", s(&key), "--node", &plain]);
    assert_eq!(o.status.code(), Some(4), "{}{}", stdout(&o), stderr(&o));
    // With the right CA the proof is served.
    let o = borderlink(&[
        "proof",
        "declaration:GB553202734852:LRN-HTTPS-1",
        "--key",
        s(&key),
        "--node",
        &url,
        "--ca",
        s(&ca),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    net.finish();
}
