//! An exported proof verifies offline; each tampered variant fails with the right reason.

use borderlink_ledger::proof::{Proof, ProofError};
use serde_json::json;

use crate::fixtures::*;

fn proof_of(net: &Net) -> Proof {
    let l = net.ledger(GB_CUSTOMS, "n1");
    // Several transactions in one block so that the Merkle path is not trivial.
    let d = sample("declaration.json");
    let txs: Vec<_> = (0..5).map(|i| put(net, GB_AEO, &d, &format!("LRN-{i}"), 1)).collect();
    let c = l.submit(txs, 1_772_444_000_000).unwrap();
    assert!(c.results.iter().all(|r| r.is_ok()));
    let p = l.proof(&id_of(net, GB_AEO, &d, "LRN-3")).unwrap();
    // Through JSON, as `borderlink proof` writes it.
    serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap()
}

#[test]
fn an_exported_proof_verifies_offline() {
    let net = Net::new("proof-ok");
    let p = proof_of(&net);
    let v = p.verify(&net.genesis).unwrap();
    assert_eq!(v.record_id, "declaration:GB553202734852:LRN-3");
    assert_eq!(v.signed_by, vec![net.keys[GB_CUSTOMS].member.clone()]);
    assert_eq!(p.merkle_path.len(), 3);
}

#[test]
fn every_tampered_variant_fails_with_its_reason() {
    let net = Net::new("proof-bad");
    let p = proof_of(&net);

    let mut t = p.clone();
    t.record = Some(json!({"Declaration": {"FunctionCode": "9"}}));
    assert!(matches!(t.verify(&net.genesis), Err(ProofError::AlteredRecord(_))));

    let mut t = p.clone();
    let mut payload = base64_decode(t.payload.as_ref().unwrap());
    let pos = payload.windows(5).position(|w| w == b"95000").unwrap();
    payload[pos] = b'1';
    t.payload = Some(base64_encode(&payload));
    t.record = None;
    assert!(matches!(t.verify(&net.genesis), Err(ProofError::AlteredRecord(_))));

    let mut t = p.clone();
    t.merkle_path[1] = borderlink_ledger::Hash::of(b"x");
    assert_eq!(t.verify(&net.genesis), Err(ProofError::WrongPath));

    let mut t = p.clone();
    t.index = 2;
    assert_eq!(t.verify(&net.genesis), Err(ProofError::WrongPath));

    let mut t = p.clone();
    let mut sig = hex::decode(&t.checkpoints[0].signature).unwrap();
    sig[10] ^= 1;
    t.checkpoints[0].signature = hex::encode(sig);
    assert!(matches!(t.verify(&net.genesis), Err(ProofError::WrongSignature(_))));

    let mut t = p.clone();
    t.header.timestamp_ms += 1;
    assert!(
        matches!(t.verify(&net.genesis), Err(ProofError::WrongSignature(_))),
        "an altered header no longer matches its checkpoint"
    );

    let mut t = p.clone();
    t.checkpoints[0].member = "xx-customs-unknown".into();
    assert_eq!(t.verify(&net.genesis), Err(ProofError::UnknownSigner("xx-customs-unknown".into())));

    let mut t = p.clone();
    t.checkpoints.clear();
    assert_eq!(t.verify(&net.genesis), Err(ProofError::NoCheckpoint));

    let mut t = p.clone();
    let mut sig = base64_decode(&t.tx_signature);
    sig[0] ^= 1;
    t.tx_signature = base64_encode(&sig);
    assert!(matches!(t.verify(&net.genesis), Err(ProofError::WrongTxSignature(_))));

    // A proof against another consortium's genesis.
    let other = Net::new("proof-other");
    assert!(matches!(p.verify(&other.genesis), Err(ProofError::WrongChain { .. })));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
