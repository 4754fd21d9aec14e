//! A damaged model file is refused or read, never a crash: copies of a real model file (trained
//! here on the synthetic route-fraud data) with bytes changed, a block zeroed or the end cut off
//! are read with `RiskModel::read` in child processes that catch a panic, an abort (an allocation
//! sized by a damaged length) or a hang with its seed.
//!
//! The reader needed no change: the header line is bounded (1 MiB) and parsed by serde_json, and
//! hessboost's container checks its checksum and bounds decompression before it decodes a length.
//! What no check covers is the header's values (a digit changed in `rows`, a category code): the
//! JSON line carries no digest, so such a change reads as a valid model.

use std::path::Path;

use borderlink_faults::{crashes, damaged_copy, trials};
use borderlink_risk::features::{FeatureVector, replay_features};
use borderlink_risk::{History, Replay, RiskModel};

use crate::model::trained;
use crate::route_fraud_examples;

/// Feature rows to compare the predictions of a damaged model with the original's.
fn rows() -> Vec<FeatureVector> {
    let data = route_fraud_examples(60, 23);
    replay_features(&data, &mut Replay::new(History::new(), 7))
}

fn read(path: &Path) -> Result<RiskModel, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    RiskModel::read(file).map_err(|e| e.to_string())
}

/// Reads a damaged copy of the fixture's model: one line saying what was found.
fn check_damaged_copy(fixture: &Path, seed: u64) -> String {
    let original = fixture.join("model.blrm");
    let copy = fixture.join(format!("trial-{seed}.blrm"));
    let what = damaged_copy(&original, &copy, seed).expect("damaged copy");
    let found = match read(&copy) {
        Err(e) => format!("refused: {e}"),
        Ok(m) => {
            let o = read(&original).expect("the original model");
            let same = rows().iter().all(|r| m.predict(r).probability.to_bits() == o.predict(r).probability.to_bits());
            format!("read, {} predictions, version {}", if same { "same" } else { "DIFFERENT" }, m.version())
        }
    };
    let _ = std::fs::remove_file(&copy);
    format!("{found} [{what}]")
}

#[test]
fn damaged_model_files_are_refused_or_read_never_a_crash() {
    let done = trials(
        "corruption::damaged_model_files_are_refused_or_read_never_a_crash",
        0..1000,
        || {
            let dir = tempfile::tempdir().expect("temporary folder");
            let (m, _, _) = trained(600);
            let mut bytes = Vec::new();
            m.write(&mut bytes).expect("model bytes");
            std::fs::write(dir.path().join("model.blrm"), bytes).expect("model file");
            dir
        },
        check_damaged_copy,
    );
    assert_eq!(crashes(&done), Vec::<String>::new(), "a damaged model file crashed the reader");
    // The booster is checksummed (hessboost's container): a copy that still reads scores as the
    // original did.
    let changed: Vec<String> = done
        .iter()
        .filter(|t| t.outcome.as_deref().unwrap_or_default().contains("DIFFERENT"))
        .map(ToString::to_string)
        .collect();
    assert!(changed.is_empty(), "read, but scoring differently:\n{}", changed.join("\n"));
}
