//! The ledger from the command line, as a user drives it: `network new`, then `submit`, `proof`
//! and `verify` against a running node (`borderlink demo`), and `ledger verify` on its folder.

use std::path::{Path, PathBuf};

use crate::net::{DemoNode, template};
use crate::{TempDir, borderlink, s, sample, stderr, stdout};

/// A declaration with its own LRN (FunctionalReferenceID), written to `dir`.
fn declaration(dir: &Path, lrn: &str) -> PathBuf {
    let mut doc = template();
    doc["Declaration"]["FunctionalReferenceID"] = serde_json::json!(lrn);
    let p = dir.join(format!("{lrn}.json"));
    std::fs::write(&p, serde_json::to_vec_pretty(&doc).expect("JSON")).expect("write");
    p
}

/// The height printed by a successful `submit`.
fn committed_height(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.strip_prefix("committed ").and_then(|l| l.split(" at height ").nth(1)))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("no height in {out:?}"))
}

#[test]
fn network_new_creates_a_genesis_and_owner_only_keys_and_prints_no_secret() {
    let dir = TempDir::new("network-new");
    let net = dir.0.join("net");
    let o = borderlink(&[
        "network",
        "new",
        "--dir",
        s(&net),
        "--name",
        "Channel border",
        "--base-port",
        "7600",
        "--org",
        "HM Revenue & Customs:customs:GB",
        "--org",
        "Douane Nederland:customs:NL",
        "--org",
        "Example Imports Ltd:aeo:GB:GB553202734852",
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let genesis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(net.join("genesis.json")).expect("genesis written")).expect("JSON");
    assert_eq!(genesis["consortium"], "Channel border");
    let members = genesis["members"].as_array().expect("members");
    assert_eq!(members.len(), 3);
    assert!(out.contains(s(&net.join("genesis.json"))), "{out}");
    // The next-step hint names this consortium's first node, on the port asked for.
    assert!(out.contains("--node http://127.0.0.1:7600\n"), "{out}");
    assert!(!out.contains(":8080"), "{out}");
    // Two customs administrations run the only two ordering nodes: that group survives no failure.
    assert!(
        stderr(&o).contains("warning: 2 ordering nodes form a Raft group that needs both to commit"),
        "{}",
        stderr(&o)
    );
    for m in members {
        let id = m["id"].as_str().expect("id");
        assert!(out.contains(id), "the member {id} is listed: {out}");
        let key = net.join("orgs").join(id).join("member.key");
        assert!(out.contains(s(&key)), "its key file is named: {out}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).expect("key file").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is readable by its owner only", key.display());
        }
        let secrets: serde_json::Value = serde_json::from_slice(&std::fs::read(&key).expect("key")).expect("JSON");
        for field in ["signing_key", "encryption_key"] {
            let secret = secrets[field].as_str().expect("hex");
            assert!(!out.contains(secret) && !stderr(&o).contains(secret), "{field} of {id} is never printed");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(net.join("ca.key")).expect("CA key").permissions().mode() & 0o777, 0o600);
    }
    // A client certificate for one of a member's systems, from the same CA.
    let id = members[0]["id"].as_str().expect("id");
    let o = borderlink(&["network", "client-cert", "--dir", s(&net), "--member", id, "--name", "cargo-system"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let clients = net.join("orgs").join(id).join("clients");
    assert!(std::fs::read_to_string(clients.join("cargo-system.pem")).expect("cert").contains("BEGIN CERTIFICATE"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(clients.join("cargo-system.key")).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let o = borderlink(&["network", "client-cert", "--dir", s(&net), "--member", "nobody", "--name", "x"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("nobody is not a member"), "{}", stderr(&o));
    // A device's certificate for the MQTT broker: its fingerprint is what the registry holds.
    let o = borderlink(&["network", "device-cert", "--dir", s(&net), "--member", id, "--device", "ESEAL-0A1B2C3D4E"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let devices = net.join("orgs").join(id).join("devices");
    let pem = std::fs::read_to_string(devices.join("ESEAL-0A1B2C3D4E.pem")).expect("cert");
    let der = base64_body(&pem);
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&der));
    assert!(stdout(&o).contains(&format!(r#""sha256": "{sha256}""#)), "{}", stdout(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(devices.join("ESEAL-0A1B2C3D4E.key")).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let o = borderlink(&["network", "device-cert", "--dir", s(&net), "--member", id, "--device", "a/b"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("device id"), "{}", stderr(&o));
}

/// The DER bytes of a PEM certificate.
fn base64_body(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("base64")
}

#[test]
fn network_new_refuses_bad_orgs_and_a_non_empty_folder_as_usage_errors() {
    let dir = TempDir::new("network-usage");
    let o = borderlink(&["network", "new", "--dir", s(&dir.0.join("a")), "--org", "Acme:pirate:GB"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("role \"pirate\" is not one of customs, oga, aeo, carrier, port"), "{}", stderr(&o));
    let o = borderlink(&["network", "new", "--dir", s(&dir.0.join("b")), "--org", "HMRC-GB"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected NAME:ROLE:COUNTRY"), "{}", stderr(&o));
    // One ordering node, or three, is no warning.
    for (folder, orgs) in [("one", &["HMRC:customs:GB"][..]), ("three", &["A:customs:GB", "B:customs:NL", "C:oga:GB"])]
    {
        let mut args = vec!["network", "new", "--dir"];
        let path = dir.0.join(folder);
        args.push(s(&path));
        for org in orgs {
            args.extend(["--org", org]);
        }
        let o = borderlink(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    }
    std::fs::write(dir.0.join("notes.txt"), "x").expect("write");
    let o = borderlink(&["network", "new", "--dir", s(&dir.0), "--org", "HMRC:customs:GB"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));
    assert!(!dir.0.join("genesis.json").exists(), "nothing was written");
}

#[test]
fn submit_proof_and_verify_round_trip_against_a_running_node() {
    let dir = TempDir::new("round-trip");
    let mut node = DemoNode::start(&dir.0.join("data"));
    let customs = node.key("gb-customs");
    let aeo = node.key("gb-aeo");
    let file = declaration(&dir.0, "LRN-CLI-ROUND-1");

    // The declarant submits its declaration; the record id is derived from declarant and LRN.
    let o = borderlink(&["submit", s(&file), "--key", s(&aeo), "--node", &node.url]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("committed declaration:GB553202734852:LRN-CLI-ROUND-1 version 1 at height"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("tx id: ") && l.len() == "tx id: ".len() + 64), "{out}");
    // Customs of the declaration's country amends it: version 2.
    let o = borderlink(&["submit", s(&file), "--key", s(&customs), "--node", &node.url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let height = committed_height(&stdout(&o));
    assert!(stdout(&o).contains("version 2"), "{}", stdout(&o));

    // The write policy: an AEO does not issue AEO authorisations (a new one: the read policy
    // keeps the demo's own from the AEO's reads, so the submission would stop there).
    let mut authorisation: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample("aeo-authorisation.json")).expect("sample")).expect("JSON");
    authorisation["AdditionalDocument"]["ID"] = serde_json::json!("GB AEOC 99999/26");
    let authorisation_file = dir.0.join("aeo-authorisation.json");
    std::fs::write(&authorisation_file, serde_json::to_vec(&authorisation).expect("JSON")).expect("write");
    let o = borderlink(&["submit", s(&authorisation_file), "--key", s(&aeo), "--node", &node.url]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error [policy_denied]: "), "{}", stderr(&o));
    assert!(stderr(&o).contains("rule aeo-issuer-only permits it: An AEO authorisation"), "{}", stderr(&o));
    // A refusal says which rule could allow it and who may: another trader's declaration.
    let other = declaration(&dir.0, "LRN-CLI-OTHER-TRADER");
    let o = borderlink(&["submit", s(&other), "--key", s(&node.key("nl-aeo")), "--node", &node.url]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("may not create declaration declaration:GB553202734852:LRN-CLI-OTHER-TRADER"), "{err}");
    assert!(err.contains("rule declaration-write permits it: A declaration is written by its declarant"), "{err}");
    assert!(err.contains("the declarant is GB553202734852, and the trader ids of nl-aeo-"), "{err}");
    assert!(err.contains("(NL123456789) do not contain it"), "{err}");
    assert!(err.contains("members the policy allows to do it: gb-aeo-"), "{err}");
    // An invalid record never leaves the machine.
    let broken = dir.0.join("broken.json");
    std::fs::write(&broken, r#"{"Declaration": {"FunctionCode": "9", "TypeCode": "XYZ"}}"#).expect("write");
    let o = borderlink(&["submit", s(&broken), "--key", s(&customs), "--node", &node.url, "--id", "X-1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("INVALID"), "the report is shown: {}", stdout(&o));
    assert!(stderr(&o).contains("nothing was submitted"), "{}", stderr(&o));
    // A private record, sealed to the Dutch administration (and the submitter).
    let o = borderlink(&[
        "submit",
        &sample("aeo-authorisation.json"),
        "--key",
        s(&customs),
        "--node",
        &node.url,
        "--private-to",
        "nl-customs-dn",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("(private)") && stdout(&o).contains("readable by: nl-customs-dn, gb-customs"));

    // Proof from the node, verified offline with the genesis alone.
    let id = "declaration:GB553202734852:LRN-CLI-ROUND-1";
    let o = borderlink(&["proof", id, "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let proof = dir.0.join("p.json");
    std::fs::write(&proof, &o.stdout).expect("write proof");
    let o = borderlink(&["verify", s(&proof), "--genesis", s(&node.genesis())]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains(&format!("verified: declaration {id} version 2")), "{out}");
    assert!(out.contains(&format!("block:      {height} (hash ")), "{out}");
    assert!(out.contains("block signed by: gb-customs-"), "{out}");
    // A record that is not there.
    let o = borderlink(&["proof", "NO-SUCH-RECORD", "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error [record_not_found]"), "{}", stderr(&o));

    // Offline export from the stopped node's folder gives the same proof.
    node.stop();
    let o = borderlink(&["proof", id, "--data", s(&node.data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The same proof; the replicated nodes may have added their checkpoint signatures since.
    let mut offline: serde_json::Value = serde_json::from_slice(&o.stdout).expect("proof JSON");
    let mut online: serde_json::Value = serde_json::from_slice(&std::fs::read(&proof).expect("proof")).expect("JSON");
    let off_cps = offline["checkpoints"].take();
    let on_cps = online["checkpoints"].take();
    assert_eq!(offline, online);
    for cp in on_cps.as_array().expect("checkpoints") {
        assert!(off_cps.as_array().expect("checkpoints").contains(cp), "{cp} missing offline");
    }
}

#[test]
fn a_tampered_proof_fails_verify_with_the_reason() {
    let dir = TempDir::new("tampered");
    let node = DemoNode::start(&dir.0.join("data"));
    let customs = node.key("gb-customs");
    // The demo's AEO authorisation; its id has colons, a space and a slash.
    let o = borderlink(&["proof", "aeo-authorization:GB:GB AEOC 14274/19", "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let good_file = dir.0.join("good.json");
    std::fs::write(&good_file, &o.stdout).expect("write");
    let good: serde_json::Value = serde_json::from_slice(&o.stdout).expect("proof JSON");
    let verify = |p: &serde_json::Value| {
        let path = dir.0.join("t.json");
        std::fs::write(&path, serde_json::to_vec_pretty(p).expect("JSON")).expect("write");
        borderlink(&["verify", s(&path), "--genesis", s(&node.genesis())])
    };
    assert_eq!(verify(&good).status.code(), Some(0));

    let mut p = good.clone();
    p["record"]["ext"]["status"] = serde_json::json!("REVOKED");
    let o = verify(&p);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("NOT verified: altered record: the record shown differs from the signed payload"));

    let mut p = good.clone();
    p["header"]["timestamp_ms"] = serde_json::json!(p["header"]["timestamp_ms"].as_i64().expect("ts") + 1);
    let o = verify(&p);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("NOT verified: wrong checkpoint signature by gb-customs-"), "{}", stdout(&o));

    let mut p = good.clone();
    p["index"] = serde_json::json!(1);
    let o = verify(&p);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("NOT verified: wrong Merkle path"), "{}", stdout(&o));

    let mut p = good;
    p["checkpoints"] = serde_json::json!([]);
    let o = verify(&p);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("NOT verified: no checkpoint"), "{}", stdout(&o));

    // Another consortium's genesis does not vouch for it.
    let other = dir.0.join("other");
    let o = borderlink(&["network", "new", "--dir", s(&other), "--org", "Douane Nederland:customs:NL"]);
    assert_eq!(o.status.code(), Some(0));
    let o = borderlink(&["verify", s(&good_file), "--genesis", s(&other.join("genesis.json"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("NOT verified: wrong chain"), "{}", stdout(&o));
}

#[test]
fn ledger_verify_catches_a_flipped_byte_with_its_height() {
    let dir = TempDir::new("flip");
    let mut node = DemoNode::start(&dir.0.join("data"));
    let customs = node.key("gb-customs");
    let mut heights = Vec::new();
    for i in 0..3 {
        // The marker is the exporter's name: it is in the block's payload only (not in the id).
        let mut doc = template();
        doc["Declaration"]["FunctionalReferenceID"] = serde_json::json!(format!("LRN-FLIP-{i}"));
        doc["Declaration"]["Exporter"]["Name"] = serde_json::json!(format!("LRN-FLIP-{i}-MARKER"));
        let file = dir.0.join(format!("flip-{i}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(&doc).expect("JSON")).expect("write");
        let o = borderlink(&["submit", s(&file), "--key", s(&customs), "--node", &node.url]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        heights.push(committed_height(&stdout(&o)));
    }
    // On the running node: a copy of its ledger is checked, its own file only read.
    let o = borderlink(&["ledger", "verify", "--data", s(&node.data)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("note: a running node holds"), "{}", stderr(&o));
    assert!(stdout(&o).contains("no problem found"), "{}", stdout(&o));
    let o = borderlink(&["proof", "declaration:GB553202734852:LRN-FLIP-1", "--data", s(&node.data)]);
    assert_eq!(o.status.code(), Some(0), "a proof from the running node's folder: {}", stderr(&o));
    node.stop();
    let o = borderlink(&["ledger", "verify", "--data", s(&node.data)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains(&format!("checked {} block(s)", heights[2])), "{}", stdout(&o));
    assert!(stdout(&o).contains("no problem found"), "{}", stdout(&o));

    // Flip one bit of the middle declaration's payload, wherever the file holds it.
    let file = node.data.join("ledger/ledger.redb");
    let mut bytes = std::fs::read(&file).expect("ledger file");
    let needle = b"LRN-FLIP-1-MARKER";
    let at: Vec<usize> = bytes.windows(needle.len()).enumerate().filter(|(_, w)| w == needle).map(|(i, _)| i).collect();
    assert!(!at.is_empty(), "the payload is in the file");
    for i in at {
        bytes[i + 4] ^= 0x01;
    }
    std::fs::write(&file, &bytes).expect("write");
    // The ledger folder itself is accepted too, with the genesis given explicitly.
    let o = borderlink(&[
        "ledger",
        "verify",
        "--data",
        s(&node.data.join("ledger")),
        "--genesis",
        s(&node.data.join("consortium/genesis.json")),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains(&format!("problem at block {}: ", heights[1])), "{out}");
    assert!(out.contains("does NOT verify"), "{out}");
}

#[test]
fn ledger_verify_without_a_ledger_or_a_genesis_says_what_is_missing() {
    let dir = TempDir::new("no-ledger");
    let o = borderlink(&["ledger", "verify", "--data", s(&dir.0)]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("no ledger in"), "{}", stderr(&o));
    std::fs::create_dir_all(dir.0.join("ledger")).expect("mkdir");
    std::fs::write(dir.0.join("ledger/ledger.redb"), b"").expect("write");
    let o = borderlink(&["ledger", "verify", "--data", s(&dir.0)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give the genesis with --genesis"), "{}", stderr(&o));
}

#[test]
fn a_private_declaration_is_sealed_to_customs_and_endorsed_by_its_node() {
    let dir = TempDir::new("private-declaration");
    let node = DemoNode::start(&dir.0.join("data"));
    let aeo = node.key("gb-aeo");
    let customs = node.key("gb-customs");
    let file = declaration(&dir.0, "LRN-CLI-PRIVATE-1");
    // The trader names only another administration: GB customs is added, and its node endorses.
    let o = borderlink(&["submit", s(&file), "--key", s(&aeo), "--node", &node.url, "--private-to", "nl-customs-dn"]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(err.contains("also encrypted to gb-customs"), "{err}");
    assert!(out.contains("committed declaration:GB553202734852:LRN-CLI-PRIVATE-1 version 1 (private)"), "{out}");
    assert!(out.contains("endorsed by: gb-customs"), "{out}");
    // GB customs reads it; the proof verifies offline like any other.
    let id = "declaration:GB553202734852:LRN-CLI-PRIVATE-1";
    let o = borderlink(&["proof", id, "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // An endorser that is not the declaration's customs administration refuses (NL's node).
    let nl = node.network_node_url("nl-customs");
    let o = borderlink(&[
        "submit",
        s(&declaration(&dir.0, "LRN-CLI-PRIVATE-2")),
        "--key",
        s(&aeo),
        "--node",
        &node.url,
        "--private-to",
        "nl-customs-dn",
        "--endorser",
        &nl,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("error [customs_cannot_read]"), "{}", stderr(&o));
}

#[test]
fn retention_review_lists_what_will_expire_and_apply_erases_nothing_early() {
    let dir = TempDir::new("retention");
    let node = DemoNode::start(&dir.0.join("data"));
    let customs = node.key("gb-customs");
    let o = borderlink(&["retention", "review", "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("declaration 1096 days"), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 record(s) past their retention period"), "{}", stdout(&o));
    // Four years on, the demo's records are due: the private inspection result can be shredded.
    let o = borderlink(&["retention", "review", "--node", &node.url, "--key", s(&customs), "--at", "2031-01-01"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.contains("inspection-result:GB:") && out.contains("(private: erasable)"), "{out}");
    assert!(out.contains("declaration:GB553202734852:") && out.contains("(clear: cannot be erased)"), "{out}");
    // Today nothing has expired, so nothing is erased.
    let o = borderlink(&["retention", "apply", "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("erased 0 expired private record(s)"), "{}", stdout(&o));
    // A trader is not the node's operator.
    let o = borderlink(&["retention", "review", "--node", &node.url, "--key", s(&node.key("gb-aeo"))]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("error [forbidden]"), "{}", stderr(&o));
}
