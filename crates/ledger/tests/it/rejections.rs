//! Bad transactions are refused with a specific code and nothing is stored.

use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::tx::{PayloadKind, TxBody, TxKind};
use borderlink_ledger::{Hash, Transaction};

use crate::fixtures::*;

#[test]
fn bad_transactions_get_specific_codes_and_nothing_is_stored() {
    let net = Net::new("reject");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let d = sample("declaration.json");

    // Bad signature.
    let mut tx = put(&net, GB_AEO, &d, "LRN-1", 1);
    tx.signature[0] ^= 1;
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "bad_signature");

    // Unknown submitter: a key that is not in the genesis.
    let stranger = MemberKeys {
        member: "zz-aeo-x".into(),
        signing: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        encryption: x25519_dalek::StaticSecret::from([8; 32]),
    };
    let mut body = put(&net, GB_AEO, &d, "LRN-2", 1).body;
    body.submitter = "zz-aeo-x".into();
    let tx = Transaction::sign(body, serde_json::to_vec(&d).unwrap(), vec![], &stranger);
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "unknown_submitter");

    // Payload altered after signing.
    let mut tx = put(&net, GB_AEO, &d, "LRN-3", 1);
    tx.payload[10] = b' ';
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "payload_mismatch");

    // Signed attributes that do not match the record (claiming NL authority).
    let mut tx = put(&net, GB_AEO, &d, "LRN-4", 1);
    tx.body.meta.country = "NL".into();
    let tx = signed(&net, GB_AEO, tx.body, tx.payload);
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "meta_mismatch");

    // An invalid record.
    let mut bad = d.clone();
    bad["Declaration"]["GoodsShipment"]["Consignment"]["TransportEquipment"][0]["ID"] =
        serde_json::json!("MSKU1234566");
    let tx = put_unchecked(&net, GB_AEO, &bad, &d, "LRN-5");
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "invalid_record");

    // Another chain.
    let mut tx = put(&net, GB_AEO, &d, "LRN-6", 1);
    tx.body.chain = Hash::of(b"another network");
    let tx = signed(&net, GB_AEO, tx.body, tx.payload);
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "wrong_chain");

    // Oversized payload (over the genesis limit of 1 MiB).
    let mut tx = put(&net, GB_AEO, &d, "LRN-7", 1);
    tx.payload = vec![b' '; 2 * 1024 * 1024];
    tx.body.payload_len = tx.payload.len() as u64;
    tx.body.payload_digest = Hash::of(&tx.payload);
    let tx = signed(&net, GB_AEO, tx.body, tx.payload);
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "payload_too_large");

    assert!(l.head().is_none(), "no block was written");

    // Replay and stale version.
    let tx = put(&net, GB_AEO, &d, "LRN-8", 1);
    submit_one(&l, tx.clone()).unwrap();
    assert_eq!(submit_one(&l, tx).unwrap_err().code(), "replay");
    assert_eq!(submit_one(&l, put(&net, GB_AEO, &d, "LRN-8", 1)).unwrap_err().code(), "stale_version");
    assert_eq!(submit_one(&l, put(&net, GB_AEO, &d, "LRN-8", 3)).unwrap_err().code(), "stale_version");
    assert_eq!(l.head().unwrap().height, 1);
}

#[test]
fn two_writes_of_the_same_version_in_one_block_conflict() {
    let net = Net::new("conflict");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let d = sample("declaration.json");
    let c = l.submit(vec![put(&net, GB_AEO, &d, "LRN-X", 1), put(&net, GB_CUSTOMS, &d, "LRN-X", 1)], 1).unwrap();
    assert!(c.results[0].is_ok());
    assert_eq!(c.results[1].as_ref().unwrap_err().code(), "stale_version");
}

#[test]
fn an_ordered_invalid_transaction_is_recorded_invalid_not_applied() {
    let net = Net::new("ordered");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let d = sample("declaration.json");
    let mut bad = put(&net, GB_AEO, &d, "LRN-Y", 1);
    bad.signature[5] ^= 1;
    let c = l.apply_ordered(vec![bad, put(&net, GB_AEO, &d, "LRN-Z", 1)], 1, "proposer").unwrap();
    let b = l.block(1).unwrap().unwrap();
    assert_eq!(b.txs.len(), 2);
    assert!(
        matches!(&b.results[0], borderlink_ledger::block::TxOutcome::Invalid { code, .. } if code == "bad_signature")
    );
    assert!(b.results[1].is_valid());
    assert!(l.record_state("LRN-Y").unwrap().is_none());
    assert!(c.results[1].is_ok());
    assert!(l.verify_all().unwrap().problems.is_empty());
}

/// A put whose attributes come from `meta_of` (valid) while the payload is `doc` (invalid).
fn put_unchecked(
    net: &Net,
    signer: usize,
    doc: &serde_json::Value,
    meta_of: &serde_json::Value,
    id: &str,
) -> Transaction {
    let good = put(net, signer, meta_of, id, 1);
    let payload = serde_json::to_vec(doc).unwrap();
    let mut body = good.body;
    body.payload_digest = Hash::of(&payload);
    body.payload_len = payload.len() as u64;
    signed(net, signer, body, payload)
}

/// Ids are bound to business keys: nobody takes the id of another party's future record, and one
/// LRN is stored under one id only.
#[test]
fn ids_cannot_be_squatted_or_multiplied() {
    let net = Net::new("rej-ids");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let d = keyed(&sample("declaration.json"), "LRN-SQ");
    // An AEO takes the id of an authorisation GB customs will issue, with a declaration.
    let e = submit_one(&l, put_as(&net, GB_AEO, &d, "aeo-authorization:GB:GB AEOC 99999/26", 1)).unwrap_err();
    assert_eq!(e.code(), "wrong_record_id");
    assert!(e.to_string().contains("declaration:GB553202734852:"), "{e}");
    // The same LRN under an id of the submitter's choice, or another LRN's id.
    for id in ["LRN-SQ", "declaration:GB553202734852:LRN-OTHER", "declaration:GB553202734852:LRN-SQ:2"] {
        let e = submit_one(&l, put_as(&net, GB_AEO, &d, id, 1)).unwrap_err();
        assert_eq!(e.code(), "wrong_record_id", "{id}");
    }
    // Another declarant's namespace.
    let e = submit_one(&l, put_as(&net, GB_AEO, &d, "declaration:NL000000000001:LRN-SQ", 1)).unwrap_err();
    assert_eq!(e.code(), "wrong_record_id");
    assert!(l.head().is_none(), "nothing stored");
    // The one id the declaration has.
    submit_one(&l, put(&net, GB_AEO, &d, "LRN-SQ", 1)).unwrap();
    assert!(l.record_state("declaration:GB553202734852:LRN-SQ").unwrap().is_some());
    // A document lives under its creator: one member cannot write into another's namespace.
    let scan = b"TIFF bytes".to_vec();
    let doc = |id: &str, signer: usize| {
        let body = TxBody {
            chain: net.chain(),
            kind: TxKind::Put,
            record_type: "document".into(),
            record_id: id.into(),
            version: 1,
            meta: Default::default(),
            payload_kind: PayloadKind::OffChain,
            payload_digest: Hash::of(&scan),
            payload_len: scan.len() as u64,
            media_type: "image/tiff".into(),
            private: None,
            submitter: net.keys[signer].member.clone(),
            nonce: nonce(),
            timestamp_ms: 1,
            endorsement: None,
        };
        signed(&net, signer, body, vec![])
    };
    let gb = net.keys[GB_CUSTOMS].member.clone();
    assert_eq!(submit_one(&l, doc(&format!("document:{gb}:scan-1"), GB_AEO)).unwrap_err().code(), "wrong_record_id");
    submit_one(&l, doc(&format!("document:{gb}:scan-1"), GB_CUSTOMS)).unwrap();
}
