//! Private records: recipients read them, others cannot; erasure makes them unreadable while the
//! chain still verifies.

use borderlink_ledger::private::seal;
use borderlink_ledger::tx::{PayloadKind, TxBody, TxKind};
use borderlink_ledger::{Hash, LedgerError, Transaction};

use crate::fixtures::*;

fn private_put(net: &Net, signer: usize, recipients: &[usize], id: &str) -> (Transaction, Vec<u8>) {
    let clear = serde_json::to_vec(&sample("declaration.json")).unwrap();
    let rcpt: Vec<(String, x25519_dalek::PublicKey)> = recipients
        .iter()
        .map(|&i| {
            let m = net.genesis.member(&net.keys[i].member).unwrap();
            (m.id.clone(), m.encryption_public().unwrap())
        })
        .collect();
    let (header, ciphertext, wrapped) = seal(&clear, id, &rcpt).unwrap();
    let body = TxBody {
        chain: net.chain(),
        kind: TxKind::Put,
        record_type: "declaration".into(),
        record_id: id.into(),
        version: 1,
        meta: borderlink_ledger::tx::RecordMeta {
            country: "GB".into(),
            declarant: "GB553202734852".into(),
            issuer: String::new(),
        },
        payload_kind: PayloadKind::Private,
        payload_digest: Hash::of(&ciphertext),
        payload_len: ciphertext.len() as u64,
        media_type: "application/json".into(),
        private: Some(header),
        submitter: net.keys[signer].member.clone(),
        nonce: nonce(),
        timestamp_ms: 1,
    };
    (Transaction::sign(body, ciphertext, wrapped, &net.keys[signer]), clear)
}

/// Copies every block of `from` into `to`, as a replica would apply them.
fn replicate(from: &borderlink_ledger::Ledger, to: &borderlink_ledger::Ledger, wrapped: &[Transaction]) {
    let head = from.head().unwrap().height;
    for h in 1..=head {
        let b = from.block(h).unwrap().unwrap();
        let txs: Vec<Transaction> = b
            .txs
            .iter()
            .map(|t| {
                let id = Hash::of(&t.body_bytes);
                let keys = wrapped.iter().find(|w| w.id() == id).map(|w| w.wrapped_keys.clone()).unwrap_or_default();
                Transaction {
                    body: t.body().unwrap(),
                    body_bytes: t.body_bytes.clone(),
                    signature: t.signature,
                    payload: t.payload.clone(),
                    wrapped_keys: keys,
                }
            })
            .collect();
        let c = to.apply_ordered(txs, b.header.timestamp_ms, &b.header.proposer).unwrap();
        assert_eq!(c.header.unwrap().hash(), b.header.hash(), "replica computes the same block");
    }
}

#[test]
fn a_recipient_reads_a_private_record_and_a_non_recipient_cannot() {
    let net = Net::new("priv");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let nl = net.ledger(NL_CUSTOMS, "nl");
    let oga = net.ledger(GB_OGA, "oga");
    let (tx, clear) = private_put(&net, GB_AEO, &[GB_CUSTOMS, GB_OGA], "LRN-P1");
    submit_one(&gb, tx.clone()).unwrap();
    replicate(&gb, &nl, std::slice::from_ref(&tx));
    replicate(&gb, &oga, &[tx]);
    assert_eq!(gb.read_private("LRN-P1", None).unwrap(), clear);
    assert_eq!(oga.read_private("LRN-P1", None).unwrap(), clear);
    // NL stores and orders the ciphertext, verifies the chain, but cannot read.
    assert!(matches!(nl.read_private("LRN-P1", None), Err(LedgerError::NotRecipient { .. })));
    assert!(nl.verify_all().unwrap().problems.is_empty());
    let v = nl.record("LRN-P1").unwrap().unwrap();
    assert!(v.payload.is_none(), "no cleartext on a non-recipient node");
    assert_eq!(v.recipients.len(), 2);
}

#[test]
fn an_erased_record_is_unreadable_and_the_chain_still_verifies() {
    let net = Net::new("erase");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let (tx, clear) = private_put(&net, GB_AEO, &[GB_CUSTOMS], "LRN-E1");
    submit_one(&gb, tx).unwrap();
    assert_eq!(gb.read_private("LRN-E1", None).unwrap(), clear);
    // Erasure by someone else than the owner or GB customs is refused.
    assert_eq!(submit_one(&gb, erase(&net, NL_CUSTOMS, "LRN-E1", 2)).unwrap_err().code(), "policy_denied");
    submit_one(&gb, erase(&net, GB_AEO, "LRN-E1", 2)).unwrap();
    assert!(matches!(gb.read_private("LRN-E1", Some(1)), Err(LedgerError::Erased(_))));
    let report = gb.verify_all().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.blocks, 2);
    // The ciphertext is still in the block: only the keys are gone.
    let b = gb.block(1).unwrap().unwrap();
    assert!(!b.txs[0].payload.is_empty());
}

#[test]
fn wrapped_keys_that_do_not_match_the_commitment_are_refused() {
    let net = Net::new("priv-bad");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let (mut tx, _) = private_put(&net, GB_AEO, &[GB_CUSTOMS, GB_OGA], "LRN-P2");
    tx.wrapped_keys.swap(0, 1);
    assert_eq!(submit_one(&gb, tx.clone()).unwrap_err().code(), "undecryptable");
    tx.wrapped_keys.swap(0, 1);
    tx.wrapped_keys[1].wrapped = "00".repeat(48);
    assert_eq!(submit_one(&gb, tx).unwrap_err().code(), "undecryptable");
    assert!(gb.head().is_none(), "nothing stored");
}
