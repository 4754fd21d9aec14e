//! Private records: recipients read them, others cannot; erasure makes them unreadable while the
//! chain still verifies.

use borderlink_ledger::private::seal;
use borderlink_ledger::tx::{PayloadKind, TxBody, TxKind};
use borderlink_ledger::{Hash, LedgerError, Transaction};

use crate::fixtures::*;

/// The GB declarant's private declaration with LRN `key`: its body and the sealed payload, not
/// yet endorsed or signed.
fn private_body(net: &Net, signer: usize, recipients: &[usize], key: &str, clear: &[u8]) -> Sealed {
    let id = format!("declaration:GB553202734852:{key}");
    let rcpt: Vec<(String, x25519_dalek::PublicKey)> = recipients
        .iter()
        .map(|&i| {
            let m = net.genesis.member(&net.keys[i].member).unwrap();
            (m.id.clone(), m.encryption_public().unwrap())
        })
        .collect();
    let (header, ciphertext, wrapped) = seal(clear, &id, &rcpt).unwrap();
    let body = TxBody {
        chain: net.chain(),
        kind: TxKind::Put,
        record_type: "declaration".into(),
        record_id: id,
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
        endorsement: None,
    };
    Sealed { body, ciphertext, wrapped }
}

struct Sealed {
    body: TxBody,
    ciphertext: Vec<u8>,
    wrapped: Vec<borderlink_ledger::tx::WrappedKey>,
}

impl Sealed {
    fn sign(self, net: &Net, signer: usize) -> Transaction {
        Transaction::sign(self.body, self.ciphertext, self.wrapped, &net.keys[signer])
    }
}

fn declaration(key: &str) -> Vec<u8> {
    serde_json::to_vec(&keyed(&sample("declaration.json"), key)).unwrap()
}

/// A private declaration by `signer`, endorsed by the customs node `customs`.
fn private_put(
    net: &Net,
    customs: &borderlink_ledger::Ledger,
    signer: usize,
    recipients: &[usize],
    key: &str,
) -> (Transaction, Vec<u8>) {
    let clear = declaration(key);
    let mut s = private_body(net, signer, recipients, key, &clear);
    s.body.endorsement = Some(customs.endorse(&s.body, &s.ciphertext, &s.wrapped).unwrap());
    (s.sign(net, signer), clear)
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
    let (tx, clear) = private_put(&net, &gb, GB_AEO, &[GB_CUSTOMS, GB_OGA], "LRN-P1");
    submit_one(&gb, tx.clone()).unwrap();
    replicate(&gb, &nl, std::slice::from_ref(&tx));
    replicate(&gb, &oga, &[tx]);
    let id = "declaration:GB553202734852:LRN-P1";
    assert_eq!(gb.read_private(id, None).unwrap(), clear);
    assert_eq!(oga.read_private(id, None).unwrap(), clear);
    // NL stores and orders the ciphertext, verifies the chain, but cannot read.
    assert!(matches!(nl.read_private(id, None), Err(LedgerError::NotRecipient { .. })));
    assert!(nl.verify_all().unwrap().problems.is_empty());
    let v = nl.record(id).unwrap().unwrap();
    assert!(v.payload.is_none(), "no cleartext on a non-recipient node");
    assert_eq!(v.recipients.len(), 2);
}

#[test]
fn an_erased_record_is_unreadable_and_the_chain_still_verifies() {
    let net = Net::new("erase");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let (tx, clear) = private_put(&net, &gb, GB_AEO, &[GB_CUSTOMS, GB_AEO], "LRN-E1");
    submit_one(&gb, tx).unwrap();
    let id = "declaration:GB553202734852:LRN-E1";
    assert_eq!(gb.read_private(id, None).unwrap(), clear);
    // A declaration is kept for customs: neither its declarant nor another country's customs
    // erases it; the customs administration of its country does (its retention policy).
    assert_eq!(submit_one(&gb, erase(&net, NL_CUSTOMS, id, 2)).unwrap_err().code(), "policy_denied");
    assert_eq!(submit_one(&gb, erase(&net, GB_AEO, id, 2)).unwrap_err().code(), "policy_denied");
    submit_one(&gb, erase(&net, GB_CUSTOMS, id, 2)).unwrap();
    assert!(matches!(gb.read_private(id, Some(1)), Err(LedgerError::Erased(_))));
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
    let (mut tx, _) = private_put(&net, &gb, GB_AEO, &[GB_CUSTOMS, GB_OGA], "LRN-P2");
    tx.wrapped_keys.swap(0, 1);
    assert_eq!(submit_one(&gb, tx.clone()).unwrap_err().code(), "undecryptable");
    tx.wrapped_keys.swap(0, 1);
    tx.wrapped_keys[1].wrapped = "00".repeat(48);
    assert_eq!(submit_one(&gb, tx).unwrap_err().code(), "undecryptable");
    assert!(gb.head().is_none(), "nothing stored");
}

#[test]
fn a_declaration_private_to_its_submitter_alone_is_refused() {
    let net = Net::new("priv-self");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let clear = declaration("LRN-SELF");
    let tx = private_body(&net, GB_AEO, &[GB_AEO], "LRN-SELF", &clear).sign(&net, GB_AEO);
    let e = submit_one(&gb, tx).unwrap_err();
    assert_eq!(e.code(), "customs_cannot_read");
    assert!(e.to_string().contains("must include the customs administration of GB"), "{e}");
    // Customs among the recipients is not enough: its node must have opened the payload.
    let tx = private_body(&net, GB_AEO, &[GB_CUSTOMS, GB_AEO], "LRN-SELF", &clear).sign(&net, GB_AEO);
    let e = submit_one(&gb, tx).unwrap_err();
    assert_eq!(e.code(), "customs_cannot_read");
    assert!(e.to_string().contains("endorsement"), "{e}");
    assert!(gb.head().is_none(), "nothing stored");
}

#[test]
fn random_bytes_as_ciphertext_get_no_endorsement_and_no_forged_one_passes() {
    let net = Net::new("priv-junk");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let nl = net.ledger(NL_CUSTOMS, "nl");
    let aeo = net.ledger(GB_AEO, "aeo");
    let mut s = private_body(&net, GB_AEO, &[GB_CUSTOMS, GB_AEO], "LRN-JUNK", &declaration("LRN-JUNK"));
    let junk: Vec<u8> = (0..s.ciphertext.len()).map(|i| (i * 31 % 251) as u8).collect();
    s.body.payload_digest = Hash::of(&junk);
    s.ciphertext = junk;
    let e = gb.endorse(&s.body, &s.ciphertext, &s.wrapped).unwrap_err();
    assert_eq!(e.code(), "customs_cannot_read");
    assert!(e.to_string().contains("does not open"), "{e}");
    // Another country's customs and the trader's own node do not endorse a GB declaration.
    assert_eq!(nl.endorse(&s.body, &s.ciphertext, &s.wrapped).unwrap_err().code(), "customs_cannot_read");
    assert_eq!(aeo.endorse(&s.body, &s.ciphertext, &s.wrapped).unwrap_err().code(), "customs_cannot_read");
    // A signature by the trader itself, or GB customs' endorsement of another body, is refused.
    let mut forged = s.body.clone();
    forged.endorsement = Some(borderlink_ledger::tx::Endorsement {
        member: net.keys[GB_CUSTOMS].member.clone(),
        signature: net.keys[GB_AEO].sign(&forged.endorsement_message()),
    });
    let tx = Transaction::sign(forged, s.ciphertext.clone(), s.wrapped.clone(), &net.keys[GB_AEO]);
    let e = submit_one(&gb, tx).unwrap_err();
    assert_eq!(e.code(), "customs_cannot_read");
    assert!(e.to_string().contains("does not verify"), "{e}");
    let (genuine, _) = private_put(&net, &gb, GB_AEO, &[GB_CUSTOMS, GB_AEO], "LRN-OTHER");
    let mut reused = s.body.clone();
    reused.endorsement = genuine.body.endorsement.clone();
    let tx = Transaction::sign(reused, s.ciphertext, s.wrapped, &net.keys[GB_AEO]);
    assert_eq!(submit_one(&gb, tx).unwrap_err().code(), "customs_cannot_read");
    assert!(gb.head().is_none(), "nothing stored");
}

#[test]
fn customs_endorses_only_the_declaration_the_body_describes() {
    let net = Net::new("priv-mismatch");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    // The ciphertext holds LRN-REAL, the body claims the id of LRN-CLAIMED.
    let clear = declaration("LRN-REAL");
    let s = private_body(&net, GB_AEO, &[GB_CUSTOMS], "LRN-CLAIMED", &clear);
    assert_eq!(gb.endorse(&s.body, &s.ciphertext, &s.wrapped).unwrap_err().code(), "wrong_record_id");
    // The body names another declarant than the declaration.
    let mut s = private_body(&net, GB_AEO, &[GB_CUSTOMS], "LRN-REAL", &clear);
    s.body.meta.declarant = "GB000000000001".into();
    assert_eq!(gb.endorse(&s.body, &s.ciphertext, &s.wrapped).unwrap_err().code(), "meta_mismatch");
    // Not a valid declaration at all.
    let s = private_body(&net, GB_AEO, &[GB_CUSTOMS], "LRN-REAL", b"{\"Declaration\": {}}");
    assert_eq!(gb.endorse(&s.body, &s.ciphertext, &s.wrapped).unwrap_err().code(), "invalid_record");
}

#[test]
fn a_declaration_is_never_carried_off_chain() {
    let net = Net::new("priv-offchain");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let mut s = private_body(&net, GB_AEO, &[GB_CUSTOMS], "LRN-OFF", &declaration("LRN-OFF"));
    s.body.payload_kind = PayloadKind::OffChain;
    s.body.private = None;
    let tx = Transaction::sign(s.body, vec![], vec![], &net.keys[GB_AEO]);
    assert_eq!(submit_one(&gb, tx).unwrap_err().code(), "customs_cannot_read");
}

#[test]
fn expired_private_records_are_crypto_shredded_by_customs_and_the_chain_still_verifies() {
    let net = Net::new("retention");
    let gb = net.ledger(GB_CUSTOMS, "gb");
    let nl = net.ledger(NL_CUSTOMS, "nl");
    let (tx, _) = private_put(&net, &gb, GB_AEO, &[GB_CUSTOMS, GB_AEO], "LRN-OLD");
    submit_one(&gb, tx.clone()).unwrap();
    replicate(&gb, &nl, &[tx]);
    let clear = put(&net, GB_AEO, &sample("declaration.json"), "LRN-CLEAR-OLD", 1);
    submit_one(&gb, clear).unwrap();
    let committed = gb.head().unwrap().timestamp_ms;
    let day = 86_400_000;
    // Declarations are kept 1,096 days after their last version (the genesis' retention).
    assert_eq!(net.genesis.retention_days["declaration"], 1096);
    assert!(gb.retention_review(committed + 1095 * day).unwrap().is_empty());
    let due = gb.retention_review(committed + 1096 * day).unwrap();
    let ids: Vec<(&str, bool)> = due.iter().map(|e| (e.record_id.as_str(), e.private)).collect();
    assert_eq!(
        ids,
        [("declaration:GB553202734852:LRN-CLEAR-OLD", false), ("declaration:GB553202734852:LRN-OLD", true)]
    );
    let old = due.iter().find(|e| e.private).unwrap();
    // Another country's administration may not erase it; GB customs does.
    let e = submit_one(&gb, nl.erasure_by_local(old, 9001, committed).unwrap()).unwrap_err();
    assert_eq!(e.code(), "policy_denied");
    submit_one(&gb, gb.erasure_by_local(old, 9002, committed).unwrap()).unwrap();
    assert!(matches!(gb.read_private(&old.record_id, Some(1)), Err(LedgerError::Erased(_))));
    let report = gb.verify_all().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // Erased records leave the review; the clear one stays listed (it cannot be shredded).
    let left = gb.retention_review(committed + 1096 * day).unwrap();
    assert_eq!(left.len(), 1);
    assert!(!left[0].private);
}
