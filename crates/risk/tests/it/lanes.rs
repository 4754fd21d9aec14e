use std::collections::HashMap;

use borderlink_model::Lane;
use borderlink_risk::lane::{LanePolicy, LaneSource, Override, Quota, Selector};

use crate::Rng;

fn shares(decisions: &[(Lane, bool)]) -> (f64, f64, f64, f64) {
    let n = decisions.len() as f64;
    let count = |l: Lane| decisions.iter().filter(|d| d.0 == l).count() as f64 / n;
    let random = decisions.iter().filter(|d| d.1).count() as f64 / n;
    (count(Lane::Red), count(Lane::Yellow), count(Lane::Blue), random)
}

#[test]
fn random_rate_and_quotas_hold_over_many_declarations() {
    let mut offices = HashMap::new();
    offices.insert("SMALL".to_owned(), Quota { red: 0.02, yellow: 0.03, blue: 0.0 });
    let policy = LanePolicy {
        random_rate: 0.02,
        default_quota: Quota { red: 0.08, yellow: 0.10, blue: 0.05 },
        offices,
        window: 1000,
        seed: 42,
    };
    policy.check().unwrap();
    let mut sel = Selector::new(policy);
    let mut rng = Rng(9);
    let mut by_office: HashMap<&str, Vec<(Lane, bool)>> = HashMap::new();
    for i in 0..30_000 {
        let office = if i % 3 == 0 { "SMALL" } else { "BIG" };
        // Scores drift upwards over time: quotas must hold anyway.
        let score = (rng.unit() * 0.7 + i as f64 / 30_000.0 * 0.3) as f32;
        // 1 % of declarations hit a criterion requiring documents.
        let criteria = if rng.unit() < 0.01 { Lane::Yellow } else { Lane::Green };
        let d = sel.decide(&format!("DEC-{i}"), office, score, criteria);
        if d.random {
            assert_eq!(d.lane, Lane::Red);
            assert_eq!(d.source, LaneSource::Random);
        }
        by_office.entry(office).or_default().push((d.lane, d.random));
    }
    let (red, yellow, blue, random) = shares(&by_office["BIG"]);
    assert!((random - 0.02).abs() < 0.004, "random {random}");
    assert!((red - 0.08).abs() < 0.01, "red {red}");
    assert!((yellow - 0.10).abs() < 0.01, "yellow {yellow}");
    assert!((blue - 0.05).abs() < 0.01, "blue {blue}");
    let (red, yellow, blue, random) = shares(&by_office["SMALL"]);
    assert!((random - 0.02).abs() < 0.006, "random {random}");
    // The random draw alone fills the small office's red quota.
    assert!((red - 0.02).abs() < 0.008, "red {red}");
    assert!((yellow - 0.03).abs() < 0.01, "yellow {yellow}");
    assert!(blue < 0.002, "blue {blue}");
}

#[test]
fn criteria_lanes_are_mandatory() {
    let mut sel = Selector::new(LanePolicy { random_rate: 0.0, ..LanePolicy::default() });
    for i in 0..100 {
        sel.decide(&format!("warm-{i}"), "O", i as f32 / 100.0, Lane::Green);
    }
    let d = sel.decide("D-low", "O", 0.0, Lane::Red);
    assert_eq!((d.lane, d.source), (Lane::Red, LaneSource::Criterion));
    let d = sel.decide("D-none", "O", 0.0, Lane::Green);
    assert_eq!((d.lane, d.source), (Lane::Green, LaneSource::Release));
}

#[test]
fn the_same_declaration_gets_the_same_draw() {
    let policy = LanePolicy { random_rate: 0.5, ..LanePolicy::default() };
    let mut a = Selector::new(policy.clone());
    let mut b = Selector::new(policy);
    for i in 0..50 {
        let r = format!("D{i}");
        assert_eq!(a.decide(&r, "O", 0.1, Lane::Green).random, b.decide(&r, "O", 0.9, Lane::Green).random);
    }
}

#[test]
fn an_override_without_a_reason_is_refused() {
    for reason in ["", "   ", "ok", "\n\t"] {
        let e = Override::new("D1", Lane::Red, Lane::Green, reason, "officer-7", "2021-03-01T10:00:00Z").unwrap_err();
        assert!(e.to_string().contains("reason"), "{e}");
    }
    let o = Override::new("D1", Lane::Red, Lane::Green, "seal intact, documents verified", "officer-7", "t").unwrap();
    assert_eq!(o.reason, "seal intact, documents verified");
}

#[test]
fn bad_policies_are_refused() {
    let over = LanePolicy { default_quota: Quota { red: 0.6, yellow: 0.5, blue: 0.0 }, ..LanePolicy::default() };
    assert!(over.check().is_err());
    let negative = LanePolicy { random_rate: -0.1, ..LanePolicy::default() };
    assert!(negative.check().is_err());
}
