//! The canonical encodings are pinned by golden fixtures (a changed byte is a new format, not
//! an accident), and decoders never panic on arbitrary bytes.

use borderlink_ledger::Hash;
use borderlink_ledger::block::{Block, BlockHeader, TxOutcome};
use borderlink_ledger::tx::{PayloadKind, PrivateHeader, RecordMeta, TxBody, TxKind};
use proptest::prelude::*;

/// Compares with the committed fixture; `BORDERLINK_BLESS=1` writes it instead (only when a new
/// format is introduced on purpose — an old format's fixture never changes).
fn pinned(name: &str, actual: &str) {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("BORDERLINK_BLESS").is_some() {
        std::fs::write(&p, format!("{actual}\n")).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(actual, expected.trim(), "{name}: the encoding changed; that is a new format, not an edit of format 1");
}

fn body_v1() -> TxBody {
    TxBody {
        chain: Hash::of(b"golden chain"),
        kind: TxKind::Put,
        record_type: "declaration".into(),
        record_id: "LRN-2026-000123".into(),
        version: 2,
        meta: RecordMeta { country: "GB".into(), declarant: "GB553202734852".into(), issuer: String::new() },
        payload_kind: PayloadKind::Private,
        payload_digest: Hash::of(b"ciphertext"),
        payload_len: 10,
        media_type: "application/json".into(),
        private: Some(PrivateHeader {
            recipients: vec!["gb-customs-hrc".into(), "nl-customs-dn".into()],
            nonce: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            key_commitment: Hash::of(b"keys"),
        }),
        submitter: "gb-aeo-ei".into(),
        nonce: 0x0102_0304_0506_0708,
        timestamp_ms: 1_772_443_800_000,
        endorsement: None,
    }
}

fn header_v1() -> BlockHeader {
    BlockHeader {
        chain: Hash::of(b"golden chain"),
        height: 7,
        prev_hash: Hash::of(b"block 6"),
        tx_root: Hash::of(b"root"),
        results_root: Hash::of(b"results"),
        timestamp_ms: 1_772_443_900_000,
        proposer: "gb-customs-hrc".into(),
        tx_count: 3,
    }
}

#[test]
fn transaction_body_format_1_is_pinned() {
    let bytes = body_v1().encode();
    pinned("tx-body-v1.hex", &hex::encode(&bytes));
    assert_eq!(TxBody::decode(&bytes).unwrap(), body_v1());
}

#[test]
fn transaction_body_format_2_is_format_1_followed_by_the_endorsement() {
    let mut b = body_v1();
    b.endorsement = Some(borderlink_ledger::tx::Endorsement { member: "gb-customs-hrc".into(), signature: [7; 64] });
    let bytes = b.encode();
    pinned("tx-body-v2.hex", &hex::encode(&bytes));
    assert_eq!(TxBody::decode(&bytes).unwrap(), b);
    // The endorser signs the domain tag and the body in format 1.
    let v1 = body_v1().encode();
    assert_eq!(b.endorsement_message(), [b"borderlink/endorse/v1".as_slice(), &v1].concat());
    assert_eq!(bytes[4], 2);
    assert_eq!(&bytes[5..v1.len()], &v1[5..], "format 2 starts with format 1's fields");
    // Format 2 without an endorsement, or format 1 with one, is not canonical: refused.
    let mut no_endorsement = v1.clone();
    no_endorsement[4] = 2;
    assert!(TxBody::decode(&no_endorsement).is_err());
    let mut stray = bytes.clone();
    stray[4] = 1;
    assert!(TxBody::decode(&stray).is_err());
}

#[test]
fn block_header_format_1_is_pinned() {
    let h = header_v1();
    pinned("block-header-v1.hex", &hex::encode(h.encode()));
    pinned("block-header-v1.sha256", &h.hash().to_hex());
}

#[test]
fn results_root_is_pinned() {
    let r = borderlink_ledger::block::results_root(&[
        TxOutcome::Valid,
        TxOutcome::Invalid { code: "bad_signature".into(), reason: "the signature does not verify".into() },
    ]);
    pinned("results-root-v1.sha256", &r.to_hex());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = TxBody::decode(&bytes);
        let _ = BlockHeader::decode(&bytes);
        let _ = Block::decode(&bytes);
    }

    #[test]
    fn mutated_bodies_never_panic_and_round_trip_when_they_decode(pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let mut b = body_v1().encode();
        let i = pos % b.len();
        b[i] = byte;
        b.truncate(b.len() - cut % 8);
        if let Ok(decoded) = TxBody::decode(&b) {
            prop_assert_eq!(decoded.encode(), b);
        }
    }
}
