//! A reopened ledger keeps everything committed and refuses another consortium's genesis (damaged
//! files: `corruption.rs`).

use crate::fixtures::*;

#[test]
fn a_reopened_ledger_has_every_committed_transaction() {
    let net = Net::new("reopen");
    let d = sample("declaration.json");
    let head = {
        let l = net.ledger(GB_CUSTOMS, "n1");
        let txs: Vec<_> = (0..50).map(|i| put(&net, GB_AEO, &d, &format!("LRN-{i}"), 1)).collect();
        l.submit(txs, 1).unwrap().header.unwrap()
    };
    let l = net.ledger(GB_CUSTOMS, "n1");
    assert_eq!(l.head().unwrap(), head);
    assert_eq!(l.list(Some("declaration"), 100).unwrap().len(), 50);
    assert_eq!(l.history(&id_of(&net, GB_AEO, &d, "LRN-7")).unwrap().len(), 1);
}

#[test]
fn a_ledger_refuses_another_consortiums_genesis() {
    let net = Net::new("other-gen");
    let other = Net::new("other-gen2");
    drop(net.ledger(GB_CUSTOMS, "n1"));
    let err = borderlink_ledger::Ledger::open(&net.dir.0.join("n1"), other.genesis.clone(), None).unwrap_err();
    assert!(err.to_string().contains("another consortium"), "{err}");
}
