//! Property tests: random and mutated documents never panic the parser or the validator, and
//! a valid record survives a serialize/validate round trip unchanged.

use borderlink_model::{Record, ValidateOptions, validate};
use proptest::prelude::*;

use crate::fixtures::sample_bytes;

fn samples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> =
        ["declaration.json", "aeo-authorisation.json", "transport-movement.json", "eseal-mqtt-payload.json"]
            .iter()
            .map(|f| sample_bytes(f))
            .collect();
    v.push(std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/declaration.xml")).unwrap());
    v.push(std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/declaration-wrapped.xml")).unwrap());
    v
}

/// A mutation of a sample: bytes flipped, cut, duplicated, or replaced.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop::collection::vec(prop::sample::select(b"{}[]\":,0123456789-.eE<>/ axZ\\".to_vec()), 1..8)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(doc: &mut Vec<u8>, m: &Mutation) {
    if doc.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, b) => {
            let i = i % doc.len();
            doc[i] = *b;
        }
        Mutation::Truncate(i) => doc.truncate(i % doc.len()),
        Mutation::Insert(i, bytes) => {
            let i = i % doc.len();
            doc.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = i % doc.len();
            let end = (i + n).min(doc.len());
            doc.drain(i..end);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_samples_never_panic(which in 0usize..6, muts in prop::collection::vec(mutation(), 1..6)) {
        let mut doc = samples()[which].clone();
        for m in &muts {
            apply(&mut doc, m);
        }
        let r = validate(&doc, &ValidateOptions::default());
        // A report is always coherent: valid exactly when there are no errors.
        prop_assert_eq!(r.valid, r.errors.is_empty());
        prop_assert_eq!(r.valid, r.record.is_some());
    }

    /// A wrapped declaration whose IssueDateTime is a random DateTimeString: read or refused
    /// with a date error at its path, never a panic, and never another kind of error.
    #[test]
    fn random_date_time_strings_never_panic(
        value in "[0-9+:Z -]{0,20}|[0-9]{8,14}[+-][0-9]{2,4}",
        code in prop::option::of("[0-9]{0,4}|102|203|204|205|303|304"),
    ) {
        let doc = String::from_utf8(samples()[5].clone()).unwrap();
        let attr = code.as_ref().map(|c| format!(" formatCode=\"{c}\"")).unwrap_or_default();
        let doc = doc.replacen(
            "<p1:DateTimeString formatCode=\"304\">20260302093000+01</p1:DateTimeString>",
            &format!("<p1:DateTimeString{attr}>{value}</p1:DateTimeString>"),
            1,
        );
        let r = validate(doc.as_bytes(), &ValidateOptions::default());
        prop_assert_eq!(r.valid, r.errors.is_empty());
        for e in &r.errors {
            prop_assert!(e.path.starts_with("/MetaData/Declaration/IssueDateTime"), "{:?}", e);
            prop_assert!(
                ["datetime.format_code", "datetime.format_mismatch", "format.datetime", "format.length", "dates.order", "format.empty"]
                    .contains(&e.rule.as_str()),
                "{:?}",
                e
            );
        }
    }

    #[test]
    fn random_bytes_never_panic(doc in prop::collection::vec(any::<u8>(), 0..512)) {
        let r = validate(&doc, &ValidateOptions::default());
        prop_assert!(!r.valid || r.record.is_some());
    }

    #[test]
    fn random_json_never_panics(v in arb_json()) {
        let bytes = serde_json::to_vec(&serde_json::json!({"Declaration": v})).unwrap();
        let r = validate(&bytes, &ValidateOptions::default());
        prop_assert_eq!(r.valid, r.errors.is_empty());
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|n| serde_json::json!(n)),
        "[A-Za-z0-9 ]{0,12}".prop_map(serde_json::Value::String),
    ];
    let keys = prop::sample::select(vec![
        "FunctionCode",
        "TypeCode",
        "GoodsShipment",
        "GovernmentAgencyGoodsItem",
        "Commodity",
        "Classification",
        "ID",
        "InvoiceAmount",
        "value",
        "currencyID",
        "SequenceNumeric",
        "Origin",
        "CountryCode",
        "Consignment",
        "TransportEquipment",
    ]);
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn valid_records_round_trip() {
    for s in samples() {
        let first = validate(&s, &ValidateOptions::default());
        let Some(record) = first.record else { continue };
        let bytes = serde_json::to_vec(&record).unwrap();
        let second = validate(&bytes, &ValidateOptions::default());
        assert!(second.valid, "{:#?}", second.errors);
        let again: Record = second.record.unwrap();
        assert_eq!(record, again);
    }
}
