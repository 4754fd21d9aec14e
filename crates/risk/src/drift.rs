//! Drift between the data a model was trained on and the data it now scores: the population
//! stability index (PSI) of every feature, over ten quantile bins of the reference data plus a
//! bin for missing values. Rule of thumb: below 0.1 stable, 0.1–0.25 watch, above 0.25 the
//! population has moved and the model should be retrained.

use serde::Serialize;

use crate::features::{FEATURES, FeatureVector, N_FEATURES};

/// The drift of one feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureDrift {
    /// Feature name.
    pub feature: &'static str,
    /// Population stability index.
    pub psi: f64,
}

/// PSI of `actual` against `reference`.
pub fn psi(reference: &[f32], actual: &[f32]) -> f64 {
    if reference.is_empty() || actual.is_empty() {
        return 0.0;
    }
    let mut present: Vec<f32> = reference.iter().copied().filter(|v| !v.is_nan()).collect();
    present.sort_by(f32::total_cmp);
    let mut edges: Vec<f32> = (1..10).filter_map(|q| present.get(q * present.len() / 10).copied()).collect();
    edges.dedup();
    let bins = edges.len() + 2;
    let hist = |xs: &[f32]| {
        let mut h = vec![0f64; bins];
        for &v in xs {
            let b = if v.is_nan() { bins - 1 } else { edges.partition_point(|e| *e <= v) };
            h[b] += 1.0;
        }
        let n = xs.len() as f64;
        h.into_iter().map(|c| (c / n).max(1e-4)).collect::<Vec<_>>()
    };
    let (e, a) = (hist(reference), hist(actual));
    e.iter().zip(&a).map(|(e, a)| (a - e) * (a / e).ln()).sum()
}

/// PSI of every feature, largest first.
pub fn drift(reference: &[FeatureVector], actual: &[FeatureVector]) -> Vec<FeatureDrift> {
    let mut out: Vec<FeatureDrift> = (0..N_FEATURES)
        .map(|j| {
            let r: Vec<f32> = reference.iter().map(|x| x[j]).collect();
            let a: Vec<f32> = actual.iter().map(|x| x[j]).collect();
            FeatureDrift { feature: FEATURES[j].name, psi: psi(&r, &a) }
        })
        .collect();
    out.sort_by(|a, b| b.psi.total_cmp(&a.psi));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_population_is_stable_and_shift_is_not() {
        let a: Vec<f32> = (0..1000).map(|i| (i % 100) as f32).collect();
        assert!(psi(&a, &a) < 1e-9);
        let shifted: Vec<f32> = a.iter().map(|v| v + 50.0).collect();
        assert!(psi(&a, &shifted) > 0.25);
    }
}
