use borderlink_model::{DeclarationRecord, Lane};
use borderlink_risk::criterion::{Condition, CriteriaSet, Criterion};
use borderlink_risk::engine::EngineConfig;
use borderlink_risk::history::{Entity, Outcome};
use borderlink_risk::import::read_csv;
use borderlink_risk::lane::LanePolicy;
use borderlink_risk::mapping::Mapping;
use borderlink_risk::{RiskEngine, RiskError};

use crate::model::trained;

const HEAD: &str = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud\n";

fn declarations(rows: &str) -> Vec<DeclarationRecord> {
    read_csv(format!("{HEAD}{rows}").as_bytes(), &Mapping::kcs()).unwrap().into_iter().map(|r| r.record).collect()
}

fn engine() -> RiskEngine {
    let config = EngineConfig { lanes: LanePolicy { random_rate: 0.0, ..LanePolicy::default() }, queue_capacity: 0 };
    let mut e = RiskEngine::new(config).unwrap();
    e.set_model(trained(1500).0);
    e
}

#[test]
fn a_declaration_missing_fields_is_scored_and_says_what_is_missing() {
    let mut e = engine();
    let d = declarations("D1,2021-01-05,30,,,,,,,IMP1,,,,AE,CN,,,,,,0,0\n");
    let a = e.assess(&d[0], 0);
    assert!(a.score > 0.0 && a.score < 1.0);
    assert!(a.model_version.as_deref().is_some_and(|v| v.starts_with("test@")));
    for m in ["declarant", "commodity code", "value", "net mass", "tax rate"] {
        assert!(a.missing.iter().any(|x| x == m), "{m} not in {:?}", a.missing);
    }
    assert!(!a.reasons.is_empty());
    assert_eq!(a.day, "2021-01-05");
}

#[test]
fn assessments_carry_lane_reasons_and_criteria_and_feed_back() {
    let mut e = engine();
    let mut set = CriteriaSet::default();
    set.criteria.push(Criterion {
        id: "ROUTE".into(),
        name: "transhipment".into(),
        condition: Condition::RouteDiffers,
        lane: Lane::Yellow,
        weight: 2.0,
        valid_from: None,
        valid_until: None,
        instructions: "ask for the through bill of lading".into(),
        inspected: 0,
        hits: 0,
    });
    e.set_criteria(set).unwrap();
    let d = declarations(
        "R1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,AE,CN,8,A,G,100,2000,1,0\n\
         G1,2021-01-05,30,B,11,21,11,10,DEC1,IMP2,S1,,610910,CN,CN,8,A,G,100,2000,0,0\n",
    );
    let routed = e.assess(&d[0], 0);
    assert!(routed.criteria.iter().any(|c| c.id == "ROUTE" && c.because.contains("depart from AE")));
    assert!(matches!(routed.lane, Lane::Yellow | Lane::Red), "{:?}", routed.lane);
    assert_eq!(routed.reasons[0].feature, "route_differs");
    let direct = e.assess(&d[1], 0);
    assert!(direct.criteria.is_empty());
    assert!(routed.score > direct.score);
    // Assessing again returns the same assessment and does not count the declaration twice.
    let again = e.assess(&d[0], 0);
    assert_eq!(again, routed);
    assert_eq!(e.history().stats(Entity::Importer, &["IMP1"]).map(|s| s.seen), Some(1));
    // The queue: stricter lanes first.
    let q = e.queue();
    assert_eq!(q[0].declaration_id, "R1");
    // Feedback: trader history, criterion hit rate, training set.
    e.record_outcome("R1", Outcome { fraud: true, critical: false, revenue: 160.0 }).unwrap();
    let s = e.history().stats(Entity::Importer, &["IMP1"]).unwrap();
    assert_eq!((s.inspected, s.frauds), (1, 1));
    assert_eq!(e.criteria().criteria[0].hits, 1);
    assert_eq!(e.feedback().len(), 1);
    assert!(e.feedback()[0].outcome.fraud);
    assert!(e.record_outcome("R1", Outcome { fraud: true, critical: false, revenue: 0.0 }).is_err());
}

#[test]
fn an_override_is_recorded_only_with_a_reason() {
    let mut e = engine();
    let d = declarations("O1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,CN,CN,8,A,G,100,2000,0,0\n");
    let a = e.assess(&d[0], 0);
    let to = if a.lane == Lane::Red { Lane::Green } else { Lane::Red };
    let err = e.overrule("O1", to, "", "officer-1", "2021-01-05T10:00:00Z").unwrap_err();
    assert!(matches!(err, RiskError::Override(_)));
    assert!(e.assessment("O1").unwrap().overridden.is_none());
    let o = e
        .overrule("O1", to, "intelligence report 2021/17 on this consignee", "officer-1", "2021-01-05T10:00:00Z")
        .unwrap();
    assert_eq!(o.from, a.lane);
    assert_eq!(e.assessment("O1").unwrap().effective_lane(), to);
    assert!(e.overrule("nope", to, "intelligence report 2021/17", "officer-1", "t").is_err());
}

#[test]
fn inspection_results_export_as_a_training_csv_that_imports_back_to_the_same_items() {
    let mut e = engine();
    let rows = "F1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,C9,610910,AE,CN,8.0,FEU1,G,100.5,2000.0,1,2\n\
                F2,2021-01-06,40,A,12,22,43,40,DEC2,IMP2,,,847130,CN,CN,0.0,A,Y,3.0,150.0,0,0\n\
                F3,2021-01-07,40,A,12,22,43,40,DEC2,IMP3,,,847130,CN,CN,0.0,A,Y,3.0,150.0,0,0\n";
    let d = declarations(rows);
    for r in &d {
        e.assess(r, 0);
    }
    e.record_outcome("F1", Outcome { fraud: true, critical: true, revenue: 160.0 }).unwrap();
    e.record_outcome("F2", Outcome { fraud: false, critical: false, revenue: 0.0 }).unwrap();
    // F3 was never inspected: it is no training row.
    let mut csv = Vec::new();
    assert_eq!(e.write_training_set(&mut csv).unwrap(), 2);
    let text = String::from_utf8(csv).unwrap();
    assert!(text.starts_with(HEAD.trim_end()), "{text}");
    assert!(text.lines().next().unwrap().ends_with(",Revenue,Random Selection"));
    assert!(!text.contains("F3"));
    // The built-in KCS mapping reads it back: the same items and the same labels.
    let back = read_csv(text.as_bytes(), &Mapping::kcs()).unwrap();
    assert_eq!(back.len(), 2);
    for (row, original) in back.iter().zip(&d) {
        assert_eq!(
            borderlink_risk::Item::from_declaration(&row.record),
            borderlink_risk::Item::from_declaration(original)
        );
    }
    let labels: Vec<(bool, bool)> = back.iter().map(|r| r.outcome.map(|o| (o.fraud, o.critical)).unwrap()).collect();
    assert_eq!(labels, vec![(true, true), (false, false)]);
    // With `revenue = Revenue` the duty the inspection recovered is read as it was recorded.
    let mapping = Mapping::parse(&format!("{}revenue = Revenue\n", Mapping::kcs().to_text())).unwrap();
    let back = read_csv(text.as_bytes(), &mapping).unwrap();
    assert_eq!(back[0].outcome.unwrap().revenue, 160.0);
}

fn route_criterion() -> CriteriaSet {
    let mut set = CriteriaSet::default();
    set.criteria.push(Criterion {
        id: "ROUTE".into(),
        name: "transhipment".into(),
        condition: Condition::RouteDiffers,
        lane: Lane::Red,
        weight: 1.0,
        valid_from: None,
        valid_until: None,
        instructions: String::new(),
        inspected: 0,
        hits: 0,
    });
    set
}

#[test]
fn a_what_if_score_changes_nothing_and_never_stands_for_the_committed_declaration() {
    let mut e = engine();
    e.set_criteria(route_criterion()).unwrap();
    // The same reference: a benign copy scored first, then the real (routed) one committed.
    let benign = declarations("X1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,CN,CN,8,A,G,100,2000,0,0\n");
    let real = declarations("X1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,AE,CN,8,A,G,100,2000,0,0\n");
    let seen_before = e.history().totals().0;
    let what_if = e.what_if(&benign[0], 0);
    assert_eq!(what_if.lane, Lane::Green);
    assert_eq!(what_if.version, 0);
    assert!(e.queue().is_empty(), "a what-if never enters the queue");
    assert_eq!(e.history().totals().0, seen_before, "nor the history");
    let committed = e.assess_version(&real[0], 1, 0);
    assert_eq!(committed.lane, Lane::Red, "the committed content is what is scored");
    assert_eq!(e.queue().len(), 1);
}

#[test]
fn a_new_version_of_a_declaration_is_scored_again() {
    let mut e = engine();
    e.set_criteria(route_criterion()).unwrap();
    let v1 = declarations("V1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,CN,CN,8,A,G,100,2000,0,0\n");
    let v2 = declarations("V1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,AE,CN,8,A,G,100,2000,0,0\n");
    assert_eq!(e.assess_version(&v1[0], 1, 0).lane, Lane::Green);
    // The same version again (a replay at start) is the same assessment.
    assert_eq!(e.assess_version(&v2[0], 1, 0).lane, Lane::Green);
    let again = e.assess_version(&v2[0], 2, 0);
    assert_eq!((again.lane, again.version), (Lane::Red, 2));
    assert_eq!(e.queue().len(), 1, "one row per declaration");
    assert_eq!(e.history().totals().0, 1, "counted once");
}

#[test]
fn open_red_declarations_are_not_pushed_out_of_the_queue_by_volume() {
    let config = EngineConfig { lanes: LanePolicy { random_rate: 0.0, ..LanePolicy::default() }, queue_capacity: 5 };
    let mut e = RiskEngine::new(config).unwrap();
    e.set_criteria(route_criterion()).unwrap();
    let red = declarations("RED1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,AE,CN,8,A,G,100,2000,0,0\n");
    assert_eq!(e.assess(&red[0], 0).lane, Lane::Red);
    let rows: String = (0..40)
        .map(|i| format!("J{i},2021-01-05,30,B,11,21,11,10,DEC9,IMP{i},S1,,610910,CN,CN,8,A,G,100,2000,0,0\n"))
        .collect();
    for d in declarations(&rows) {
        e.assess(&d, 0);
    }
    let queue = e.queue();
    assert!(queue.iter().any(|a| a.declaration_id == "RED1"), "the open red declaration stays");
    let closed = queue.iter().filter(|a| matches!(a.effective_lane(), Lane::Green | Lane::Blue)).count();
    assert_eq!(closed, 5, "at most the capacity of closed ones, the newest");
    assert!(queue.iter().any(|a| a.declaration_id == "J39"), "the newest stays");
}

#[test]
fn a_signal_about_a_declaration_fires_its_criterion_and_only_tightens_the_lane() {
    let config = EngineConfig { lanes: LanePolicy { random_rate: 0.0, ..LanePolicy::default() }, queue_capacity: 0 };
    let mut e = RiskEngine::new(config).unwrap();
    let mut set = CriteriaSet::default();
    set.criteria.push(Criterion {
        id: "SEAL".into(),
        name: "seal opened in transit".into(),
        condition: Condition::Signal { signals: vec!["iot:seal-opened".into()] },
        lane: Lane::Red,
        weight: 5.0,
        valid_from: None,
        valid_until: None,
        instructions: "inspect the container; compare with the loading list".into(),
        inspected: 0,
        hits: 0,
    });
    e.set_criteria(set).unwrap();
    let d = declarations(
        "S1,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,CN,CN,8,A,G,100,2000,0,0\n\
         S2,2021-01-05,30,B,11,21,11,10,DEC1,IMP1,S1,,610910,CN,CN,8,A,G,100,2000,0,0\n",
    );
    let before = e.assess(&d[0], 0);
    assert!(before.criteria.is_empty(), "{:?}", before.criteria);
    let lane_before = before.lane;

    // Another signal does not fire it; the right one does, once.
    assert!(e.signal("S1", "iot:low-battery", 0).is_none());
    let after = e.signal("S1", "iot:seal-opened", 0).expect("the lane changed");
    assert_eq!(after.lane, Lane::Red, "from {lane_before:?}");
    assert_eq!(after.criteria.len(), 1);
    assert_eq!(after.criteria[0].id, "SEAL");
    assert!(after.criteria[0].because.contains("iot:seal-opened"), "{:?}", after.criteria[0]);
    assert_eq!(e.assessment("S1").map(|a| a.lane), Some(Lane::Red));
    assert!(e.signal("S1", "iot:seal-opened", 0).is_none(), "a signal counts once");

    // A signal that comes first is kept for when the declaration is assessed.
    assert!(e.signal("S2", "iot:seal-opened", 0).is_none());
    assert_eq!(e.assess(&d[1], 0).lane, Lane::Red);
}
