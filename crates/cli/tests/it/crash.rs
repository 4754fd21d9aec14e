//! Crash safety: a node killed with `kill -9` while transactions are in flight keeps, after a
//! restart, every transaction it acknowledged with `201`, and its ledger still verifies.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use borderlink_ledger::genesis::Genesis;
use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::{Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};

use crate::ledger::DemoNode;
use crate::{TempDir, borderlink, sample, stdout};

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().expect("HTTP client")
}

/// A declaration with its own LRN, signed by the British customs administration.
fn declaration(template: &serde_json::Value, genesis: &Genesis, keys: &MemberKeys, n: u64) -> (String, Vec<u8>) {
    let id = format!("CRASH-{n:06}");
    let mut doc = template.clone();
    doc["Declaration"]["FunctionalReferenceID"] = serde_json::json!(id);
    let payload = serde_json::to_vec(&doc).expect("JSON");
    let report = validate(&payload, &ValidateOptions::default());
    let record = report.record.expect("a valid declaration");
    let body = clear_put_body(genesis.chain_id(), &record, &id, 1, &payload, &keys.member, n, now_ms());
    let wire = Transaction::sign(body, payload, Vec::new(), keys).to_wire();
    (id, serde_json::to_vec(&wire).expect("JSON"))
}

#[test]
fn every_acknowledged_transaction_survives_kill_9_and_the_ledger_verifies() {
    let dir = TempDir::new("crash");
    let data = dir.0.join("data");
    let mut node = DemoNode::start(&data);
    let keys = MemberKeys::load(&node.key("gb-customs")).expect("key");
    let genesis = Genesis::load(&node.genesis()).expect("genesis");
    let template: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample("declaration.json")).expect("sample")).expect("JSON");

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let next = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicBool::new(false));
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let (acked, next, refused) = (Arc::clone(&acked), Arc::clone(&next), Arc::clone(&refused));
            let (template, genesis, keys) = (template.clone(), genesis.clone(), keys.clone());
            let url = format!("{}api/v1/transactions", node.url);
            std::thread::spawn(move || {
                let http = client();
                loop {
                    let (id, body) = declaration(&template, &genesis, &keys, next.fetch_add(1, Ordering::Relaxed));
                    match http.post(&url).header("content-type", "application/json").body(body).send() {
                        Ok(r) if r.status().as_u16() == 201 => acked.lock().expect("lock").push(id),
                        Ok(r) if r.status().is_client_error() => {
                            refused.store(true, Ordering::Relaxed);
                            break;
                        }
                        // The node died under us: this submission was never acknowledged.
                        _ => break,
                    }
                }
            })
        })
        .collect();

    // Kill the node once enough submissions are acknowledged, while others are in flight.
    let deadline = Instant::now() + Duration::from_secs(180);
    while acked.lock().expect("lock").len() < 150 {
        assert!(!refused.load(Ordering::Relaxed), "the node refused a valid transaction");
        assert!(Instant::now() < deadline, "too few transactions acknowledged in time");
        std::thread::sleep(Duration::from_millis(10));
    }
    node.kill9();
    for s in submitters {
        s.join().expect("submitter");
    }
    assert!(!refused.load(Ordering::Relaxed), "the node refused a valid transaction");
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));

    // Restart on the same folder: every acknowledged transaction is there.
    let mut node = DemoNode::start(&data);
    let http = client();
    for id in &acked {
        let path = format!("/api/v1/records/{id}");
        let auth = borderlink_ledger::auth::authorization(&keys, "GET", &path, now_ms(), b"");
        let r = http
            .get(format!("{}{}", node.url.trim_end_matches('/'), path))
            .header("authorization", auth)
            .send()
            .expect("the restarted node answers");
        assert_eq!(r.status().as_u16(), 200, "acknowledged {id} is lost after kill -9");
        let v: serde_json::Value = r.json().expect("record JSON");
        assert_eq!(v["record_id"], id.as_str());
        assert_eq!(v["version"], 1);
    }
    node.stop();

    let o = borderlink(&["ledger", "verify", "--data", data.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("no problem found"), "{}", stdout(&o));
}
