use borderlink_model::Lane;
use borderlink_risk::criterion::{Condition, CriteriaSet, Criterion, List, ListField, ValueBand};
use borderlink_risk::features::{FeatureVector, N_FEATURES, extract, index_of};
use borderlink_risk::history::{History, Keys};
use borderlink_risk::item::parse_day;

use crate::item;

fn criterion(id: &str, condition: Condition) -> Criterion {
    Criterion {
        id: id.into(),
        name: format!("criterion {id}"),
        condition,
        lane: Lane::Yellow,
        weight: 1.0,
        valid_from: None,
        valid_until: None,
        instructions: "check the invoice".into(),
        inspected: 0,
        hits: 0,
    }
}

fn set(criteria: Vec<Criterion>) -> CriteriaSet {
    let mut lists = std::collections::BTreeMap::new();
    lists
        .insert("watch".to_owned(), List { description: "importers under watch".into(), entries: vec!["IMP9".into()] });
    lists.insert("textiles".to_owned(), List { description: String::new(), entries: vec!["61".into(), "62".into()] });
    lists.insert("origins".to_owned(), List { description: String::new(), entries: vec!["KP".into()] });
    let value_bands = vec![
        ValueBand { hs: "6109".into(), origin: None, min: Some(5.0), max: Some(200.0) },
        ValueBand { hs: "610910".into(), origin: Some("CN".into()), min: Some(15.0), max: None },
    ];
    let s = CriteriaSet { criteria, lists, value_bands };
    s.check().expect("a consistent criteria set");
    s
}

fn x_of(it: &borderlink_risk::Item) -> FeatureVector {
    extract(it, &Keys::of(it), &History::new())
}

fn fires(s: &CriteriaSet, it: &borderlink_risk::Item) -> bool {
    let day = it.day.unwrap_or(0);
    !s.fire(it, &x_of(it), day).is_empty()
}

#[test]
fn each_condition_kind_fires_and_does_not_fire() {
    let base = item("D1", "2021-03-01");
    // (condition, an item it fires on, an item it does not fire on)
    let mut cases: Vec<(Condition, borderlink_risk::Item, borderlink_risk::Item)> = Vec::new();
    let mut other_hs = base.clone();
    other_hs.hs = Some("84713000".into());
    cases.push((Condition::HsPrefix { prefixes: vec!["6109".into()] }, base.clone(), other_hs.clone()));
    let mut watched = base.clone();
    watched.importer = Some("IMP9".into());
    cases.push((Condition::InList { field: ListField::Importer, list: "watch".into() }, watched, base.clone()));
    cases.push((
        Condition::InList { field: ListField::Commodity, list: "textiles".into() },
        base.clone(),
        other_hs.clone(),
    ));
    let mut from_kp = base.clone();
    from_kp.origin = Some("KP".into());
    cases.push((Condition::InList { field: ListField::Origin, list: "origins".into() }, from_kp, base.clone()));
    // 2000 / 100 kg = 20/kg: above the CN band minimum of 15, below 200.
    let mut cheap = base.clone();
    cheap.value = Some(1000.0); // 10/kg < 15 (the CN band, more specific than 6109's 5)
    cases.push((Condition::UnitValueBelowBand, cheap, base.clone()));
    let mut dear = base.clone();
    dear.origin = Some("VN".into());
    dear.departure = Some("VN".into());
    dear.value = Some(30_000.0); // 300/kg > 200 under the any-origin 6109 band
    cases.push((Condition::UnitValueAboveBand, dear, base.clone()));
    let mut routed = base.clone();
    routed.departure = Some("AE".into());
    cases.push((Condition::RouteDiffers, routed.clone(), base.clone()));
    let mut high_rate = base.clone();
    high_rate.tax_rate = Some(30.0);
    cases.push((
        Condition::FeatureAtLeast { feature: "tax_rate".into(), value: 20.0 },
        high_rate.clone(),
        base.clone(),
    ));
    cases.push((Condition::FeatureBelow { feature: "tax_rate".into(), value: 10.0 }, base.clone(), high_rate));
    let mut aeo = base.clone();
    aeo.aeo_claim = Some("AEOC".into());
    cases.push((Condition::NotAeo, base.clone(), aeo));
    cases.push((
        Condition::All {
            conditions: vec![Condition::RouteDiffers, Condition::HsPrefix { prefixes: vec!["61".into()] }],
        },
        routed.clone(),
        base.clone(),
    ));
    cases.push((
        Condition::Any {
            conditions: vec![Condition::RouteDiffers, Condition::HsPrefix { prefixes: vec!["99".into()] }],
        },
        routed,
        base.clone(),
    ));
    cases.push((
        Condition::Not { condition: Box::new(Condition::HsPrefix { prefixes: vec!["61".into()] }) },
        other_hs,
        base,
    ));
    for (i, (condition, yes, no)) in cases.into_iter().enumerate() {
        let s = set(vec![criterion(&format!("C{i}"), condition.clone())]);
        assert!(fires(&s, &yes), "{condition:?} should fire on {yes:?}");
        assert!(!fires(&s, &no), "{condition:?} should not fire on {no:?}");
    }
}

#[test]
fn a_fired_criterion_says_why_and_what_to_do() {
    let mut c = criterion("UV", Condition::UnitValueBelowBand);
    c.lane = Lane::Red;
    let s = set(vec![c]);
    let mut cheap = item("D1", "2021-03-01");
    cheap.value = Some(1000.0);
    let fired = s.fire(&cheap, &x_of(&cheap), 0);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].lane, Lane::Red);
    assert!(fired[0].because.contains("below the minimum 15.00/kg for HS 610910 from CN"), "{}", fired[0].because);
    assert_eq!(fired[0].instructions, "check the invoice");
}

#[test]
fn conditions_on_missing_data_do_not_fire() {
    let mut bare = item("D1", "2021-03-01");
    bare.hs = None;
    bare.value = None;
    bare.departure = None;
    bare.tax_rate = None;
    for condition in [
        Condition::HsPrefix { prefixes: vec!["6".into()] },
        Condition::UnitValueBelowBand,
        Condition::RouteDiffers,
        Condition::FeatureAtLeast { feature: "tax_rate".into(), value: 0.0 },
    ] {
        let s = set(vec![criterion("C", condition.clone())]);
        assert!(!fires(&s, &bare), "{condition:?}");
    }
}

#[test]
fn validity_dates_are_respected() {
    let mut c = criterion("DATED", Condition::HsPrefix { prefixes: vec!["61".into()] });
    c.valid_from = Some("2021-02-01".into());
    c.valid_until = Some("2021-02-28".into());
    let s = set(vec![c]);
    let it = item("D1", "2021-03-01");
    let x = [f32::NAN; N_FEATURES];
    let day = |d: &str| parse_day(d).unwrap();
    assert!(s.fire(&it, &x, day("2021-01-31")).is_empty());
    assert_eq!(s.fire(&it, &x, day("2021-02-01")).len(), 1);
    assert_eq!(s.fire(&it, &x, day("2021-02-28")).len(), 1);
    assert!(s.fire(&it, &x, day("2021-03-01")).is_empty());
}

#[test]
fn hit_rates_run_with_results() {
    let mut s = set(vec![criterion("C", Condition::RouteDiffers)]);
    assert_eq!(s.criteria[0].hit_rate(), None);
    s.record_result("C", true);
    s.record_result("C", false);
    s.record_result("C", true);
    s.record_result("unknown", true);
    assert_eq!(s.criteria[0].inspected, 3);
    assert!((s.criteria[0].hit_rate().unwrap() - 2.0 / 3.0).abs() < 1e-12);
}

#[test]
fn inconsistent_criteria_files_are_refused() {
    let ok = r#"{"criteria":[{"id":"A","name":"textiles","lane":"RED","condition":{"kind":"hs_prefix","prefixes":["61"]}}]}"#;
    let parsed = CriteriaSet::from_json(ok.as_bytes()).unwrap();
    assert_eq!(parsed.criteria[0].weight, 1.0);
    for (bad, says) in [
        (
            r#"{"criteria":[{"id":"A","name":"x","lane":"RED","condition":{"kind":"in_list","field":"importer","list":"nope"}}]}"#,
            "unknown list",
        ),
        (
            r#"{"criteria":[{"id":"A","name":"x","lane":"RED","condition":{"kind":"feature_below","feature":"nope","value":1}}]}"#,
            "unknown feature",
        ),
        (
            r#"{"criteria":[{"id":"A","name":"x","lane":"RED","validFrom":"March","condition":{"kind":"route_differs"}}]}"#,
            "not a date",
        ),
        (r#"{"criteria":[{"id":"A","name":"x","lane":"PURPLE","condition":{"kind":"route_differs"}}]}"#, "line 1"),
        (
            r#"{"criteria":[{"id":"A","name":"x","lane":"RED","condition":{"kind":"route_differs"}},{"id":"A","name":"y","lane":"RED","condition":{"kind":"route_differs"}}]}"#,
            "twice",
        ),
    ] {
        let e = CriteriaSet::from_json(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }
    assert!(index_of("tax_rate").is_some());
}
