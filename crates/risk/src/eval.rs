//! Evaluation as customs measures it: of the top k % of items by score (the ones an office
//! with capacity for k % of inspections would inspect), how many were frauds (precision),
//! what share of all frauds they hold (recall), and what share of the duty at stake on
//! fraudulent items they hold (revenue); plus the ROC AUC.
//!
//! The top k % is the first `max(1, floor(n × k / 100))` items by descending score, ties
//! broken by input order, so that two tools given the same scores report the same numbers.

use serde::{Deserialize, Serialize};

/// The inspection rates reported, in percent.
pub const K_PERCENT: [f64; 4] = [1.0, 2.0, 5.0, 10.0];

/// Precision, recall and revenue at one inspection rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AtK {
    /// The inspection rate, percent.
    pub k: f64,
    /// Items inspected.
    pub n: usize,
    /// Share of inspected items that were frauds.
    pub precision: f64,
    /// Share of all frauds among the inspected.
    pub recall: f64,
    /// Share of all duty at stake on fraudulent items among the inspected.
    pub revenue: f64,
}

/// The evaluation of one set of scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Items scored.
    pub n: usize,
    /// Frauds among them.
    pub frauds: usize,
    /// Duty at stake on fraudulent items.
    pub revenue_total: f64,
    /// ROC AUC (0.5 when only one class is present).
    pub auc: f64,
    /// At each of [`K_PERCENT`].
    pub at_k: Vec<AtK>,
}

/// Number of items inspected at rate `k` percent of `n`.
pub fn top_count(n: usize, k: f64) -> usize {
    ((n as f64 * k / 100.0).floor() as usize).clamp(usize::from(n > 0), n)
}

/// Indices of `scores` by descending score, ties in input order; `NaN` scores last.
pub fn ranking(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => a.cmp(&b),
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => y.total_cmp(&x).then(a.cmp(&b)),
        }
    });
    order
}

/// ROC AUC with tied scores counted half (the Mann–Whitney statistic).
pub fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let pos = labels.iter().filter(|l| **l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    // Sum of the ranks of the positives, averaging ranks over ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]].total_cmp(&scores[idx[i]]).is_eq() {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * idx[i..=j].iter().filter(|&&t| labels[t]).count() as f64;
        i = j + 1;
    }
    (rank_sum - pos as f64 * (pos as f64 + 1.0) / 2.0) / (pos as f64 * neg as f64)
}

/// Evaluates `scores` against fraud labels and the revenue (duty at stake on fraudulent
/// items; 0 for the others).
pub fn evaluate(scores: &[f32], fraud: &[bool], revenue: &[f64]) -> Metrics {
    let n = scores.len().min(fraud.len()).min(revenue.len());
    let (scores, fraud, revenue) = (&scores[..n], &fraud[..n], &revenue[..n]);
    let order = ranking(scores);
    let frauds = fraud.iter().filter(|f| **f).count();
    let revenue_total: f64 = revenue.iter().zip(fraud).filter(|(_, f)| **f).map(|(r, _)| *r).sum();
    let at_k = K_PERCENT
        .iter()
        .map(|&k| {
            let top = &order[..top_count(n, k)];
            let hits = top.iter().filter(|&&i| fraud[i]).count();
            let rev: f64 = top.iter().filter(|&&i| fraud[i]).map(|&i| revenue[i]).sum();
            let share = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
            AtK {
                k,
                n: top.len(),
                precision: share(hits as f64, top.len() as f64),
                recall: share(hits as f64, frauds as f64),
                revenue: share(rev, revenue_total),
            }
        })
        .collect();
    Metrics { n, frauds, revenue_total, auc: auc(scores, fraud), at_k }
}

/// The ROC curve: (false-positive rate, true-positive rate) as the threshold falls through
/// the scores, from (0, 0) to (1, 1), one point per distinct score (tied scores move together).
/// Empty when either class is absent.
pub fn roc(scores: &[f32], labels: &[bool]) -> Vec<(f64, f64)> {
    let n = scores.len().min(labels.len());
    let pos = labels[..n].iter().filter(|l| **l).count();
    let neg = n - pos;
    if pos == 0 || neg == 0 {
        return Vec::new();
    }
    let order = ranking(&scores[..n]);
    let mut out = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    for (at, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let next_ties = order.get(at + 1).is_some_and(|&j| scores[j].total_cmp(&scores[i]).is_eq());
        if !next_ties {
            out.push((fp as f64 / neg as f64, tp as f64 / pos as f64));
        }
    }
    out
}

/// The lift curve: for each share of the items inspected in `steps` equal steps (highest
/// scores first), the fraud rate found over the overall fraud rate. Empty without frauds.
pub fn lift(scores: &[f32], labels: &[bool], steps: usize) -> Vec<(f64, f64)> {
    let n = scores.len().min(labels.len());
    let frauds = labels[..n].iter().filter(|l| **l).count();
    if n == 0 || frauds == 0 || steps == 0 {
        return Vec::new();
    }
    let base = frauds as f64 / n as f64;
    let order = ranking(&scores[..n]);
    (1..=steps)
        .map(|s| {
            let share = s as f64 / steps as f64;
            let top = ((n as f64 * share).round() as usize).clamp(1, n);
            let hits = order[..top].iter().filter(|&&i| labels[i]).count();
            (share, hits as f64 / top as f64 / base)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_and_lift_of_a_perfect_ranking() {
        let scores = [0.9, 0.8, 0.3, 0.2];
        let labels = [true, true, false, false];
        assert_eq!(roc(&scores, &labels), vec![(0.0, 0.0), (0.0, 0.5), (0.0, 1.0), (0.5, 1.0), (1.0, 1.0)]);
        assert_eq!(lift(&scores, &labels, 2), vec![(0.5, 2.0), (1.0, 1.0)]);
        assert!(roc(&scores, &[false; 4]).is_empty(), "one class only: no curve");
        assert_eq!(roc(&[0.5, 0.5], &[true, false]), vec![(0.0, 0.0), (1.0, 1.0)], "ties move together");
    }

    #[test]
    fn perfect_and_inverted_rankings() {
        let scores: Vec<f32> = (0..200).map(|i| i as f32).collect();
        let fraud: Vec<bool> = (0..200).map(|i| i >= 190).collect();
        let revenue: Vec<f64> = (0..200).map(|i| if i >= 190 { 10.0 } else { 0.0 }).collect();
        let m = evaluate(&scores, &fraud, &revenue);
        assert_eq!(m.auc, 1.0);
        assert_eq!(m.at_k[0].n, 2);
        assert_eq!(m.at_k[0].precision, 1.0);
        assert_eq!(m.at_k[3].recall, 1.0);
        assert_eq!(m.at_k[3].revenue, 1.0);
        let inverted: Vec<f32> = scores.iter().map(|s| -s).collect();
        assert_eq!(evaluate(&inverted, &fraud, &revenue).auc, 0.0);
    }

    #[test]
    fn ties_count_half() {
        assert_eq!(auc(&[1.0, 1.0], &[true, false]), 0.5);
        assert_eq!(auc(&[0.2, 0.4, 0.4, 0.9], &[false, true, false, true]), 0.875);
    }
}
