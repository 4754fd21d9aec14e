//! Crash safety: a node killed with `kill -9` while transactions are in flight keeps, after a
//! restart, every transaction it acknowledged with `201`, and its ledger still verifies.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use borderlink_ledger::genesis::Genesis;
use borderlink_ledger::identity::MemberKeys;

use crate::net::{DemoNode, http, poll, signed_declaration, signed_get, submit, template};
use crate::{TempDir, borderlink, stderr, stdout};

#[test]
fn every_acknowledged_transaction_survives_kill_9_and_the_ledger_verifies() {
    let dir = TempDir::new("crash");
    let data = dir.0.join("data");
    let mut node = DemoNode::start(&data);
    let keys = MemberKeys::load(&node.key("gb-customs")).expect("key");
    let genesis = Genesis::load(&node.genesis()).expect("genesis");
    let template = template();

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let next = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicBool::new(false));
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let (acked, next, refused) = (Arc::clone(&acked), Arc::clone(&next), Arc::clone(&refused));
            let (template, chain, keys) = (template.clone(), genesis.chain_id(), keys.clone());
            let url = node.url.clone();
            std::thread::spawn(move || {
                let http = http(Duration::from_secs(60));
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let (id, body) = signed_declaration(&template, chain, &keys, "CRASH", n);
                    match submit(&http, &url, &body) {
                        Some((201, _)) => acked.lock().expect("lock").push(id),
                        Some((400..=499, _)) => {
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
    let enough = poll(Duration::from_secs(180), || {
        assert!(!refused.load(Ordering::Relaxed), "the node refused a valid transaction");
        acked.lock().expect("lock").len() >= 150
    });
    assert!(enough, "too few transactions acknowledged in time");
    node.kill9();
    for s in submitters {
        s.join().expect("submitter");
    }
    assert!(!refused.load(Ordering::Relaxed), "the node refused a valid transaction");
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));

    // Restart on the same folder: every acknowledged transaction is there.
    let mut node = DemoNode::start(&data);
    let http = http(Duration::from_secs(60));
    for id in &acked {
        let (status, v) =
            signed_get(&http, &node.url, &keys, &format!("/api/v1/records/{id}")).expect("the restarted node answers");
        assert_eq!(status, 200, "acknowledged {id} is lost after kill -9");
        assert_eq!(v["record_id"], id.as_str());
        assert_eq!(v["version"], 1);
    }
    node.stop();

    let o = borderlink(&["ledger", "verify", "--data", data.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("no problem found"), "{}", stdout(&o));
}
