//! The integrity check catches a flipped byte of stored ledger data, with the block height;
//! a reopened ledger keeps everything committed.

use crate::fixtures::*;

#[test]
fn a_flipped_byte_in_a_stored_block_is_reported_with_its_height() {
    let net = Net::new("flip");
    let d = sample("declaration.json");
    {
        let l = net.ledger(GB_CUSTOMS, "n1");
        for i in 0..3 {
            let mut doc = d.clone();
            doc["Declaration"]["FunctionalReferenceID"] = serde_json::json!(format!("LRN-FLIP-{i}-MARKER"));
            submit_one(&l, put(&net, GB_AEO, &doc, &format!("REC-{i}"), 1)).unwrap();
        }
        let r = l.verify_all().unwrap();
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!((r.blocks, r.transactions, r.checkpoints), (3, 3, 3));
    }
    let path = net.dir.0.join("n1/ledger.redb");
    let mut bytes = std::fs::read(&path).unwrap();
    // The marker is only in the payload of block 2's transaction.
    let needle = b"LRN-FLIP-1-MARKER";
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("marker in the file");
    assert_eq!(bytes.windows(needle.len()).filter(|w| w == needle).count(), 1);
    bytes[at + 4] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    // Opening runs the quick check, which refuses the altered chain with the height.
    let err =
        borderlink_ledger::Ledger::open(&net.dir.0.join("n1"), net.genesis.clone(), Some(net.keys[GB_CUSTOMS].clone()))
            .unwrap_err();
    assert!(matches!(err, borderlink_ledger::LedgerError::Corrupt { height: Some(2), .. }), "{err}");
}

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
    assert_eq!(l.history("LRN-7").unwrap().len(), 1);
}

#[test]
fn a_ledger_refuses_another_consortiums_genesis() {
    let net = Net::new("other-gen");
    let other = Net::new("other-gen2");
    drop(net.ledger(GB_CUSTOMS, "n1"));
    let err = borderlink_ledger::Ledger::open(&net.dir.0.join("n1"), other.genesis.clone(), None).unwrap_err();
    assert!(err.to_string().contains("another consortium"), "{err}");
}
