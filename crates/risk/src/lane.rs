//! Lanes, as ASYCUDA assigns them: red (physical inspection), yellow (documents), blue
//! (post-clearance audit), green (release).
//!
//! A declaration's lane is the strictest of:
//! 1. the lanes its fired criteria require (mandatory);
//! 2. red, for a declaration drawn by the random selection (at least `random_rate` of all
//!    declarations, so that inspections keep giving unbiased labels);
//! 3. the lane its score earns against the office's **quotas**: the expected share of each lane
//!    matching the office's inspection capacity. The score thresholds are the quantiles of the
//!    office's recent scores, lowered by what criteria and random selection already sent there,
//!    so that the shares hold whatever the score distribution does.
//!
//! An officer may overrule a lane only with a recorded reason ([`Override`]): automated
//! decisions with legal effect need human review.

use std::collections::{HashMap, VecDeque};

use borderlink_model::Lane;
use serde::{Deserialize, Serialize};

use crate::error::RiskError;

/// Expected share of declarations per lane (0..1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quota {
    /// Physical inspections.
    pub red: f64,
    /// Documentary checks.
    pub yellow: f64,
    /// Post-clearance audits.
    pub blue: f64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota { red: 0.05, yellow: 0.10, blue: 0.05 }
    }
}

/// How lanes are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LanePolicy {
    /// Minimum share of declarations sent to red at random.
    pub random_rate: f64,
    /// Quotas of offices not listed in `offices`.
    pub default_quota: Quota,
    /// Quotas per office of declaration.
    #[serde(default)]
    pub offices: HashMap<String, Quota>,
    /// Recent scores per office used for the thresholds.
    pub window: usize,
    /// Seed of the random selection (the draw is a hash of the seed and the declaration).
    pub seed: u64,
}

impl Default for LanePolicy {
    fn default() -> Self {
        LanePolicy {
            random_rate: 0.01,
            default_quota: Quota::default(),
            offices: HashMap::new(),
            window: 2000,
            seed: 1,
        }
    }
}

impl LanePolicy {
    /// Refuses rates outside 0..1 or quotas adding up to more than 1.
    pub fn check(&self) -> Result<(), RiskError> {
        let bad = |q: &Quota| {
            [q.red, q.yellow, q.blue].iter().any(|r| !(0.0..=1.0).contains(r)) || q.red + q.yellow + q.blue > 1.0
        };
        if !(0.0..=1.0).contains(&self.random_rate) {
            return Err(RiskError::Criteria("the random rate must be between 0 and 1".into()));
        }
        if bad(&self.default_quota) || self.offices.values().any(bad) {
            return Err(RiskError::Criteria(
                "each lane quota must be between 0 and 1 and they must add up to at most 1".into(),
            ));
        }
        if self.window < 10 {
            return Err(RiskError::Criteria("the score window must hold at least 10 scores".into()));
        }
        Ok(())
    }

    fn quota(&self, office: &str) -> Quota {
        self.offices.get(office).copied().unwrap_or(self.default_quota)
    }
}

/// Why a declaration got its lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneSource {
    /// A selectivity criterion required it.
    Criterion,
    /// The random selection drew it.
    Random,
    /// Its score ranked within the office's quota.
    Score,
    /// Nothing selected it.
    Release,
}

/// The strictness order of lanes: red > yellow > blue > green.
pub fn severity(l: Lane) -> u8 {
    match l {
        Lane::Red => 3,
        Lane::Yellow => 2,
        Lane::Blue => 1,
        Lane::Green => 0,
    }
}

/// The stricter of two lanes.
pub fn stricter(a: Lane, b: Lane) -> Lane {
    if severity(b) > severity(a) { b } else { a }
}

/// A uniform draw in [0, 1) from a seed and a declaration reference (SplitMix64 of FNV-1a):
/// the same declaration always gets the same draw, so a selection can be re-checked.
pub fn draw(seed: u64, reference: &str) -> f64 {
    let mut h = reference
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64 ^ seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Debug, Clone, Default)]
struct OfficeState {
    recent: VecDeque<f32>,
    sorted: Vec<f32>,
    total: u64,
    /// Declarations sent to red / yellow / blue by criteria.
    forced: [u64; 3],
    /// Declarations that ended in red / yellow / blue, whatever sent them.
    selected: [u64; 3],
}

impl OfficeState {
    fn push(&mut self, score: f32, window: usize) {
        if self.recent.len() == window
            && let Some(old) = self.recent.pop_front()
            && let Ok(i) = self.sorted.binary_search_by(|v| v.total_cmp(&old))
        {
            self.sorted.remove(i);
        }
        self.recent.push_back(score);
        let at = self.sorted.partition_point(|v| v.total_cmp(&score).is_lt());
        self.sorted.insert(at, score);
    }

    /// The share of recent scores strictly above `score`.
    fn share_above(&self, score: f32) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        let at = self.sorted.partition_point(|v| v.total_cmp(&score).is_le());
        (self.sorted.len() - at) as f64 / self.sorted.len() as f64
    }
}

/// Assigns lanes, keeping per-office state. Not thread-safe by itself: the caller serialises.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    policy: LanePolicy,
    offices: HashMap<String, OfficeState>,
}

/// The lane decided for a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneDecision {
    /// The lane.
    pub lane: Lane,
    /// What decided it.
    pub source: LaneSource,
    /// Whether the random selection drew it (its result is an unbiased label).
    pub random: bool,
}

fn lane_index(l: Lane) -> Option<usize> {
    match l {
        Lane::Red => Some(0),
        Lane::Yellow => Some(1),
        Lane::Blue => Some(2),
        Lane::Green => None,
    }
}

impl Selector {
    /// A selector with `policy` (checked by the caller with [`LanePolicy::check`]).
    pub fn new(policy: LanePolicy) -> Self {
        Selector { policy, offices: HashMap::new() }
    }

    /// The policy in force.
    pub fn policy(&self) -> &LanePolicy {
        &self.policy
    }

    /// Decides the lane of a declaration of `office` with risk `score` (0..1) whose fired
    /// criteria require `criteria_lane` (green when none fired).
    pub fn decide(&mut self, reference: &str, office: &str, score: f32, criteria_lane: Lane) -> LaneDecision {
        let quota = self.policy.quota(office);
        let random = draw(self.policy.seed, reference) < self.policy.random_rate;
        let window = self.policy.window;
        let state = self.offices.entry(office.to_owned()).or_default();
        let score = if score.is_nan() { 0.0 } else { score };
        // Rank against the scores seen before this one.
        let above = state.share_above(score);
        let warm = state.sorted.len() >= 20;
        state.push(score, window);
        state.total += 1;
        let total = state.total as f64;
        // What criteria sent to each lane, and the random draw's expected share of red, take
        // from the lane's quota. (The draw's expected rate, not its realised count: following
        // the realised count would add the draw's noise on top of the quota.)
        // Then a proportional correction: a lane behind (or ahead of) its quota by `g`
        // declarations widens (or narrows) its band by `g / window`, so that drifting scores
        // cannot make the quantile bands over- or under-select for long.
        let n = state.sorted.len().max(1) as f64;
        let band = |i: usize, q: f64, base: f64| {
            let gap = q * total - state.selected[i] as f64;
            (base - state.forced[i] as f64 / total + gap / n).clamp(0.0, 1.0)
        };
        let r = band(0, quota.red, (quota.red - self.policy.random_rate).max(0.0));
        let (y, b) = (band(1, quota.yellow, quota.yellow), band(2, quota.blue, quota.blue));
        let by_score = if !warm {
            // Until the office has a score history, fixed cut-offs on the probability.
            match score {
                s if s >= 0.9 => Lane::Red,
                s if s >= 0.7 => Lane::Yellow,
                s if s >= 0.5 => Lane::Blue,
                _ => Lane::Green,
            }
        } else if above < r {
            Lane::Red
        } else if above < r + y {
            Lane::Yellow
        } else if above < r + y + b {
            Lane::Blue
        } else {
            Lane::Green
        };
        if let Some(i) = lane_index(criteria_lane) {
            state.forced[i] += 1;
        }
        let forced = if random { stricter(criteria_lane, Lane::Red) } else { criteria_lane };
        let lane = stricter(forced, by_score);
        if let Some(i) = lane_index(lane) {
            state.selected[i] += 1;
        }
        let source = if random {
            LaneSource::Random
        } else if forced != Lane::Green && severity(forced) >= severity(by_score) {
            LaneSource::Criterion
        } else if by_score != Lane::Green {
            LaneSource::Score
        } else {
            LaneSource::Release
        };
        LaneDecision { lane, source, random }
    }
}

/// An officer's decision to change a lane, with the reason that makes it reviewable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    /// The declaration.
    pub declaration_id: String,
    /// The lane decided automatically.
    pub from: Lane,
    /// The lane the officer set.
    pub to: Lane,
    /// Why, in the officer's words.
    pub reason: String,
    /// Who.
    pub officer: String,
    /// When (ISO 8601, given by the caller).
    pub at: String,
}

/// Reasons shorter than this are refused: "ok" is not a reason.
pub const MIN_REASON_CHARS: usize = 10;

impl Override {
    /// Records an override, refusing one without a reason or officer, or one that changes
    /// nothing.
    pub fn new(
        declaration_id: &str,
        from: Lane,
        to: Lane,
        reason: &str,
        officer: &str,
        at: &str,
    ) -> Result<Self, RiskError> {
        let reason = reason.trim();
        if reason.chars().count() < MIN_REASON_CHARS {
            return Err(RiskError::Override(format!(
                "a lane can only be overruled with a reason of at least {MIN_REASON_CHARS} characters"
            )));
        }
        if officer.trim().is_empty() {
            return Err(RiskError::Override("the officer overruling the lane must be named".into()));
        }
        if from == to {
            return Err(RiskError::Override("the new lane is the lane already decided".into()));
        }
        Ok(Override {
            declaration_id: declaration_id.to_owned(),
            from,
            to,
            reason: reason.to_owned(),
            officer: officer.trim().to_owned(),
            at: at.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid() {
        assert!(LanePolicy::default().check().is_ok());
    }

    #[test]
    fn draws_are_uniform_and_stable() {
        let n = 20_000;
        let below: usize = (0..n).filter(|i| draw(3, &format!("D{i}")) < 0.1).count();
        assert!((below as f64 / n as f64 - 0.1).abs() < 0.01, "{below}");
        assert_eq!(draw(3, "X"), draw(3, "X"));
        assert_ne!(draw(3, "X"), draw(4, "X"));
    }

    #[test]
    fn override_needs_a_reason() {
        assert!(Override::new("D1", Lane::Red, Lane::Green, "", "officer-7", "2026-01-01T00:00:00Z").is_err());
        assert!(Override::new("D1", Lane::Red, Lane::Green, "   ok   ", "officer-7", "t").is_err());
        assert!(Override::new("D1", Lane::Red, Lane::Green, "documents verified at the port", "", "t").is_err());
        assert!(Override::new("D1", Lane::Red, Lane::Red, "documents verified at the port", "o", "t").is_err());
        let o = Override::new("D1", Lane::Red, Lane::Yellow, "documents verified at the port", "o", "t").unwrap();
        assert_eq!(o.to, Lane::Yellow);
    }
}
