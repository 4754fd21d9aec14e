use borderlink_risk::features::{Example, extract, index_of, replay_features};
use borderlink_risk::history::{Entity, History, Keys, Outcome};
use borderlink_risk::{Item, Replay};

use crate::{item, route_fraud_examples};

fn ex(it: Item, fraud: bool) -> Example {
    Example { item: it, outcome: Some(Outcome { fraud, critical: false, revenue: if fraud { 100.0 } else { 0.0 } }) }
}

fn at(x: &[f32], name: &str) -> f32 {
    x[index_of(name).expect("a feature")]
}

#[test]
fn no_future_information_in_features() {
    let data = route_fraud_examples(600, 5);
    let mut r = Replay::new(History::new(), 7);
    let full = replay_features(&data, &mut r);
    // Cut the data at every 50th item: the features of what remains must not change, whatever
    // came later (their labels, their values, their existence).
    for cut in (50..600).step_by(50) {
        let mut r = Replay::new(History::new(), 7);
        let prefix = replay_features(&data[..cut], &mut r);
        for (i, (a, b)) in prefix.iter().zip(&full).enumerate() {
            let same = a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "item {i} changed when data after item {cut} was added");
        }
    }
    // And flipping every later label changes nothing earlier either.
    let mut flipped = data.clone();
    for e in &mut flipped[300..] {
        if let Some(o) = &mut e.outcome {
            o.fraud = !o.fraud;
        }
    }
    let mut r = Replay::new(History::new(), 7);
    let other = replay_features(&flipped, &mut r);
    let first_day_after = data[300].item.day;
    for i in 0..300 {
        if data[i].item.day < first_day_after {
            assert_eq!(format!("{:?}", other[i]), format!("{:?}", full[i]), "item {i}");
        }
    }
}

#[test]
fn same_day_items_and_pending_outcomes_are_invisible() {
    let day = |d: &str| item("X", d);
    let data = vec![
        ex(day("2021-01-01"), true),
        ex(day("2021-01-01"), true),
        ex(day("2021-01-02"), false),
        ex(day("2021-01-08"), false),
        ex(day("2021-01-09"), false),
    ];
    let mut r = Replay::new(History::new(), 7);
    let x = replay_features(&data, &mut r);
    // Day 1: nothing known, not even the other item of the same day.
    assert_eq!(at(&x[0], "importer_seen"), 0.0);
    assert_eq!(at(&x[1], "importer_seen"), 0.0);
    // Day 2: the two declarations are known, their outcomes are not yet.
    assert_eq!(at(&x[2], "importer_seen"), 2.0);
    assert_eq!(at(&x[2], "importer_inspected"), 0.0);
    // Day 8 = day 1 + 7: the day-1 outcomes have arrived, the day-2 one has not.
    assert_eq!(at(&x[3], "importer_seen"), 3.0);
    assert_eq!(at(&x[3], "importer_inspected"), 2.0);
    assert!(at(&x[3], "importer_hit_rate") > 0.3);
    assert_eq!(at(&x[4], "importer_inspected"), 3.0);
}

#[test]
fn unit_value_deviation_compares_with_the_same_subheading_and_origin() {
    let mut h = History::new();
    for i in 0..20 {
        let mut it = item(&format!("P{i}"), "2021-01-01");
        it.value = Some(2000.0 + f64::from(i) * 10.0); // about 20/kg
        h.observe(&it, &Keys::of(&it));
    }
    let mut cheap = item("Q", "2021-01-02");
    cheap.value = Some(200.0); // 2/kg
    let x = extract(&cheap, &Keys::of(&cheap), &h);
    assert!(at(&x, "uv_z_hs6_origin") < -3.0, "{}", at(&x, "uv_z_hs6_origin"));
    assert_eq!(at(&x, "uv_refs_hs6_origin"), 20.0);
    // Another origin has no references yet.
    let mut other = cheap.clone();
    other.origin = Some("VN".into());
    let x = extract(&other, &Keys::of(&other), &h);
    assert!(at(&x, "uv_z_hs6_origin").is_nan());
    assert!(at(&x, "uv_z_hs6") < -3.0);
}

#[test]
fn aeo_status_comes_from_the_register_first() {
    let mut h = History::new();
    let mut it = item("A", "2021-01-01");
    it.aeo_claim = Some("AEOC".into());
    assert_eq!(at(&extract(&it, &Keys::of(&it), &h), "aeo"), 1.0);
    h.set_aeo("IMP1", false); // suspended in the shared register
    assert_eq!(at(&extract(&it, &Keys::of(&it), &h), "aeo"), 0.0);
    let mut plain = item("B", "2021-01-01");
    plain.aeo_claim = None;
    assert!(at(&extract(&plain, &Keys::of(&plain), &History::new()), "aeo").is_nan());
    assert!(Keys::of(&plain).get(Entity::ImporterHs6).is_some());
}

#[test]
fn missing_fields_give_missing_features_not_made_up_ones() {
    let mut it = item("M", "2021-01-01");
    it.value = None;
    it.hs = None;
    let x = extract(&it, &Keys::of(&it), &History::new());
    for name in ["value", "unit_value", "duty", "hs_chapter", "uv_z_hs6", "hs6_seen"] {
        assert!(at(&x, name).is_nan(), "{name}");
    }
    assert_eq!(it.missing(), vec!["commodity code", "value"]);
}

/// The item with every element the features read, and that item without the element `name`.
fn complete_item() -> Item {
    Item {
        declaration_id: "FULL".into(),
        sequence: 1,
        day: Some(18_700),
        office: Some("GB000040".into()),
        declarant: Some("DEC1".into()),
        importer: Some("IMP1".into()),
        seller: Some("SEL1".into()),
        carrier: Some("CAR1".into()),
        hs: Some("84713000".into()),
        departure: Some("AE".into()),
        origin: Some("CN".into()),
        origin_type: Some("1".into()),
        tax_rate: Some(2.5),
        tax_type: Some("A00".into()),
        payment_method: Some("E".into()),
        net_mass_kg: Some(910.0),
        value: Some(95_000.0),
        transport_mode: Some("1".into()),
        procedure: Some("40".into()),
        transaction_nature: Some("1".into()),
        circumstances: Some("A".into()),
        aeo_claim: None,
        signals: Vec::new(),
    }
}

fn without(mut it: Item, name: &str) -> Item {
    match name {
        "date" => it.day = None,
        "office" => it.office = None,
        "declarant" => it.declarant = None,
        "importer" => it.importer = None,
        "seller" => it.seller = None,
        "carrier" => it.carrier = None,
        "commodity code" => it.hs = Some("8471".into()),
        "country of departure" => it.departure = None,
        "origin" => it.origin = None,
        "origin evidence" => it.origin_type = None,
        "tax rate" => it.tax_rate = None,
        "tax type" => it.tax_type = None,
        "payment method" => it.payment_method = None,
        "net mass" => it.net_mass_kg = None,
        "value" => it.value = None,
        "mode of transport" => it.transport_mode = None,
        "procedure" => it.procedure = None,
        "nature of transaction" => it.transaction_nature = None,
        "processing type" => it.circumstances = None,
        other => panic!("the test does not know how to remove {other}: add it"),
    }
    it
}

#[test]
fn every_element_the_data_quality_counts_is_read_by_the_features() {
    // An element whose absence left every feature unchanged would be counted as a gap that
    // risk analysis does not feel: each one must move at least one feature.
    let mut history = History::new();
    let full = complete_item();
    // The importer is known from a day before, so that its age is a feature too.
    let earlier = Item { day: Some(18_600), ..complete_item() };
    history.observe(&earlier, &Keys::of(&earlier));
    let x = extract(&full, &Keys::of(&full), &history);
    for e in borderlink_risk::item::ELEMENTS {
        assert!((e.present)(&full), "{} is present in the complete item", e.name);
        let lacking = without(full.clone(), e.name);
        assert!(!(e.present)(&lacking), "{} is absent once removed", e.name);
        let y = extract(&lacking, &Keys::of(&lacking), &history);
        let moved = x.iter().zip(&y).any(|(a, b)| a.to_bits() != b.to_bits());
        assert!(moved, "no feature reads {}", e.name);
    }
    // The fields the model needs (what a risk assessment lists as missing) are among them.
    let names: Vec<&str> = borderlink_risk::item::ELEMENTS.iter().map(|e| e.name).collect();
    for f in borderlink_risk::item::REQUIRED_FIELDS {
        assert!(names.contains(&f), "{f}");
        assert_eq!(without(full.clone(), f).missing(), vec![f]);
    }
}
