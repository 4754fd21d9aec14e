use borderlink_risk::engine::reasons;
use borderlink_risk::features::{Example, FeatureVector, N_FEATURES, index_of, replay_features};
use borderlink_risk::history::Outcome;
use borderlink_risk::model::{self, Grid, SplitSearch, TrainParams};
use borderlink_risk::{History, Replay, RiskError, RiskModel, eval};

use crate::route_fraud_examples;

pub(crate) fn small_params() -> TrainParams {
    // Column sampling pinned: with half the columns per tree, small models on this synthetic
    // pattern credit the correlated `departure` as often as `route_differs`.
    TrainParams {
        max_depth: 4,
        rounds: 40,
        eta: 0.2,
        bag: 2,
        colsample: 0.8,
        revenue_weight: 0.0,
        ..TrainParams::default()
    }
}

pub(crate) fn trained(n: usize) -> (RiskModel, Vec<Example>, Vec<FeatureVector>) {
    let data = route_fraud_examples(n, 11);
    let mut r = Replay::new(History::new(), 7);
    let x = replay_features(&data, &mut r);
    let o: Vec<Outcome> = data.iter().map(|e| e.outcome.unwrap()).collect();
    let m = model::train("test", &x, &o, &[], &small_params(), None, |_, _| {}).expect("training");
    (m, data, x)
}

/// Feature rows of the synthetic route-fraud data and their outcomes.
fn labelled(n: usize, seed: u64) -> (Vec<FeatureVector>, Vec<Outcome>) {
    let data = route_fraud_examples(n, seed);
    let mut r = Replay::new(History::new(), 7);
    let x = replay_features(&data, &mut r);
    (x, data.iter().map(|e| e.outcome.unwrap()).collect())
}

#[test]
fn explanations_name_the_feature_that_decides() {
    let (m, data, x) = trained(3000);
    let route = index_of("route_differs").unwrap();
    let mut checked = 0;
    for (e, row) in data.iter().zip(&x).skip(2500).take(200) {
        let p = m.predict(row);
        let top = reasons(&e.item, row, &p.contributions, 3);
        let routed = e.item.departure != e.item.origin;
        assert_eq!(top[0].feature, "route_differs", "{:?} for {:?}", top, e.item);
        // Routed goods: raises the risk; direct goods: lowers it.
        assert_eq!(top[0].effect > 0.0, routed, "{top:?}");
        assert_eq!(p.contributions[route] > 0.0, routed);
        assert!(top[0].text.starts_with("goods depart from a country other than their origin: "), "{}", top[0].text);
        checked += 1;
    }
    assert_eq!(checked, 200);
}

#[test]
fn contributions_add_up_and_match_the_booster() {
    let (m, _, x) = trained(1500);
    let flat: Vec<f32> = x.iter().flatten().copied().collect();
    let batch = m.predict_batch(&flat).unwrap();
    for (row, b) in x.iter().zip(&batch).step_by(37) {
        let p = m.predict(row);
        assert!((p.probability - b).abs() < 1e-5, "{} vs {b}", p.probability);
        assert!((m.probability(row).unwrap() - b).abs() < 1e-6);
        assert!((m.probability_fast(row) - b).abs() < 1e-5);
    }
}

#[test]
fn the_model_learns_the_pattern() {
    let (m, _, _) = trained(3000);
    let data = route_fraud_examples(2000, 99);
    let mut r = Replay::new(History::new(), 7);
    let x = replay_features(&data, &mut r);
    let flat: Vec<f32> = x.iter().flatten().copied().collect();
    let s = m.predict_batch(&flat).unwrap();
    let fraud: Vec<bool> = data.iter().map(|e| e.outcome.unwrap().fraud).collect();
    let revenue: Vec<f64> = data.iter().map(|e| e.outcome.unwrap().revenue).collect();
    let metrics = eval::evaluate(&s, &fraud, &revenue);
    assert!(metrics.auc > 0.85, "{}", metrics.auc);
    assert!(metrics.at_k[1].precision > 0.8, "{:?}", metrics.at_k);
}

#[test]
fn model_files_round_trip_with_their_version() {
    let (m, _, x) = trained(1000);
    let mut bytes = Vec::new();
    m.write(&mut bytes).unwrap();
    let back = RiskModel::read(bytes.as_slice()).unwrap();
    assert_eq!(back.version(), m.version());
    assert!(back.version().starts_with("test@"));
    assert_eq!(back.meta().params, small_params());
    assert_eq!(back.meta().features.len(), N_FEATURES);
    for row in x.iter().step_by(50) {
        assert_eq!(back.predict(row).probability.to_bits(), m.predict(row).probability.to_bits());
    }
    // XGBoost JSON export works (the benchmark loads it into XGBoost).
    let json = m.xgboost_json().unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
}

#[test]
fn a_model_for_another_feature_set_is_refused_at_load() {
    let (m, _, _) = trained(1000);
    let mut bytes = Vec::new();
    m.write(&mut bytes).unwrap();
    let nl = bytes.iter().position(|b| *b == b'\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[..nl]).unwrap();
    // A model trained when the feature set had one feature less.
    header["features"].as_array_mut().unwrap().pop();
    let mut changed = serde_json::to_vec(&header).unwrap();
    changed.extend_from_slice(&bytes[nl..]);
    let e = RiskModel::read(changed.as_slice()).unwrap_err();
    assert!(matches!(e, RiskError::Model(_)), "{e}");
    assert!(e.to_string().contains("the model lacks: importer_days_known"), "{e}");
    // Renamed features are refused too.
    header = serde_json::from_slice(&bytes[..nl]).unwrap();
    header["features"][0] = "price".into();
    let mut renamed = serde_json::to_vec(&header).unwrap();
    renamed.extend_from_slice(&bytes[nl..]);
    assert!(RiskModel::read(renamed.as_slice()).is_err());
    // Not a model at all.
    assert!(RiskModel::read(&b"hello\nworld"[..]).is_err());
    assert!(RiskModel::read(&b""[..]).is_err());
    // A truncated booster.
    assert!(RiskModel::read(&bytes[..nl + 10]).is_err());
}

#[test]
fn tuning_chooses_on_the_later_data() {
    let (x, o) = labelled(2000, 3);
    let grid = Grid { depths: vec![2, 4], etas: vec![0.3], rounds: vec![10, 30], max_levels: 0 };
    let base = TrainParams { bag: 1, ..small_params() };
    let (chosen, points) =
        model::tune(&x[..1500], &o[..1500], &[], &x[1500..], &o[1500..], &base, &grid, |_, _| {}).unwrap();
    assert_eq!(points.len(), 4);
    let best = points.iter().map(|p| p.auc).fold(0.0, f64::max);
    assert!(points.iter().any(|p| p.auc == best && p.depth == chosen.max_depth && p.rounds == chosen.rounds));
    // Within a scoring budget: the best of the points that fit it, though all are reported.
    let tune_within = |max_levels| {
        let g = Grid { max_levels, ..grid.clone() };
        model::tune(&x[..1500], &o[..1500], &[], &x[1500..], &o[1500..], &base, &g, |_, _| {})
    };
    let (small, all) = tune_within(60).unwrap();
    assert_eq!(all.len(), 4);
    assert!(small.rounds * small.max_depth <= 60);
    let best_small = points.iter().filter(|p| p.rounds * p.depth <= 60).map(|p| p.auc).fold(0.0, f64::max);
    assert!(points.iter().any(|p| p.auc == best_small && p.depth == small.max_depth && p.rounds == small.rounds));
    assert_eq!(tune_within(20).unwrap().0.rounds * tune_within(20).unwrap().0.max_depth, 20);
    assert!(matches!(tune_within(19), Err(RiskError::Training(_))));
}

#[test]
fn training_needs_both_classes() {
    let data = route_fraud_examples(200, 3);
    let mut r = Replay::new(History::new(), 7);
    let x = replay_features(&data, &mut r);
    let clean: Vec<Outcome> = data.iter().map(|_| Outcome { fraud: false, critical: false, revenue: 0.0 }).collect();
    assert!(matches!(
        model::train("t", &x, &clean, &[], &small_params(), None, |_, _| {}),
        Err(RiskError::Training(_))
    ));
}

#[test]
fn the_split_search_is_recorded_and_older_files_read_as_hist() {
    let (x, o) = labelled(1500, 5);
    assert_eq!(TrainParams::default().split_search, SplitSearch::Exact);
    let exact = model::train("t", &x, &o, &[], &small_params(), None, |_, _| {}).unwrap();
    let few_bins = TrainParams { split_search: SplitSearch::Hist, max_bin: 4, ..small_params() };
    let hist = model::train("t", &x, &o, &[], &few_bins, None, |_, _| {}).unwrap();
    // The search changes the trees: four bins cannot place every threshold exact search finds.
    assert!(x.iter().any(|row| exact.predict(row).probability != hist.predict(row).probability));
    let mut bytes = Vec::new();
    hist.write(&mut bytes).unwrap();
    let back = RiskModel::read(bytes.as_slice()).unwrap();
    assert_eq!((back.meta().params.split_search, back.meta().params.max_bin), (SplitSearch::Hist, 4));
    // A file written before the search was recorded: hessboost's histogram with 256 bins.
    let nl = bytes.iter().position(|b| *b == b'\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[..nl]).unwrap();
    let params = header["params"].as_object_mut().unwrap();
    assert!(params.remove("splitSearch").is_some() && params.remove("maxBin").is_some());
    let mut older = serde_json::to_vec(&header).unwrap();
    older.extend_from_slice(&bytes[nl..]);
    let old = RiskModel::read(older.as_slice()).unwrap();
    assert_eq!((old.meta().params.split_search, old.meta().params.max_bin), (SplitSearch::Hist, 256));
    // One bin is no split at all: refused before training.
    let one_bin = TrainParams { split_search: SplitSearch::Hist, max_bin: 1, ..small_params() };
    let e = model::train("t", &x, &o, &[], &one_bin, None, |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("max bin must be at least 2"), "{e}");
}
