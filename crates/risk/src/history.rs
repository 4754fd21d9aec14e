//! What was known before a declaration: how often each trader, broker, commodity, route and
//! office was seen, how often inspecting them found fraud, and the unit values declared for
//! each HS subheading and origin.
//!
//! **Invariant (no leakage from the future):** features read a [`History`] that holds only
//! declarations of *earlier days* and only inspection outcomes that had *arrived* by the day
//! scored. [`Replay`] enforces this when data is replayed in time order: a day's items are
//! all featurized before any of them is observed, and an outcome is released
//! `label_delay_days` after its declaration's day.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::item::{Day, Item};

/// What an inspection of one goods item found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Fraud (any irregularity with duty or prohibition consequences) was found.
    pub fraud: bool,
    /// The fraud was critical.
    pub critical: bool,
    /// Duty at stake recovered (0 when no fraud).
    pub revenue: f64,
}

/// The parties and groupings whose history is kept, each a feature family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// The importer.
    Importer,
    /// The declarant (customs broker).
    Declarant,
    /// The seller.
    Seller,
    /// The carrier or courier.
    Carrier,
    /// The HS subheading.
    Hs6,
    /// The country of origin.
    Origin,
    /// The office of declaration.
    Office,
    /// The importer with this HS subheading.
    ImporterHs6,
    /// The declarant with this importer.
    DeclarantImporter,
    /// The seller with this importer.
    SellerImporter,
    /// The HS subheading from this origin.
    Hs6Origin,
}

impl Entity {
    /// Every entity kept, in feature order.
    pub const ALL: [Entity; 11] = [
        Entity::Importer,
        Entity::Declarant,
        Entity::Seller,
        Entity::Carrier,
        Entity::Hs6,
        Entity::Origin,
        Entity::Office,
        Entity::ImporterHs6,
        Entity::DeclarantImporter,
        Entity::SellerImporter,
        Entity::Hs6Origin,
    ];

    /// Short name used in feature names.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Importer => "importer",
            Entity::Declarant => "declarant",
            Entity::Seller => "seller",
            Entity::Carrier => "carrier",
            Entity::Hs6 => "hs6",
            Entity::Origin => "origin",
            Entity::Office => "office",
            Entity::ImporterHs6 => "importer_hs6",
            Entity::DeclarantImporter => "declarant_importer",
            Entity::SellerImporter => "seller_importer",
            Entity::Hs6Origin => "hs6_origin",
        }
    }

    /// How an officer calls it.
    pub fn words(self) -> &'static str {
        match self {
            Entity::Importer => "the importer",
            Entity::Declarant => "the declarant",
            Entity::Seller => "the seller",
            Entity::Carrier => "the carrier",
            Entity::Hs6 => "this HS subheading",
            Entity::Origin => "this origin",
            Entity::Office => "this office",
            Entity::ImporterHs6 => "this importer with this HS subheading",
            Entity::DeclarantImporter => "this declarant with this importer",
            Entity::SellerImporter => "this seller with this importer",
            Entity::Hs6Origin => "this HS subheading from this origin",
        }
    }
}

/// A history key: a 64-bit hash of the entity's identifier(s). Hashing once, without building
/// strings, keeps a declaration's history look-ups allocation-free; with 64 bits, two keys of
/// one entity collide with odds of about n² / 2⁶⁵ (for a million traders, 1 in 36 million).
pub type Key = u64;

/// FNV-1a of `parts`, separated by 0x1f (so `("ab", "c")` and `("a", "bc")` differ).
pub fn key_of(parts: &[&str]) -> Key {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ 0x1f).wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    // A final mix so that the identity hasher below spreads nearby keys.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The hasher of maps keyed by [`Key`]: the key is already a hash.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap<V> = HashMap<Key, V, BuildHasherDefault<KeyHasher>>;

/// The history keys of one item, one per [`Entity`] (`None` when the item lacks the data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keys(pub [Option<Key>; Entity::ALL.len()]);

impl Keys {
    /// The keys of `item`.
    pub fn of(item: &Item) -> Keys {
        let one = |a: Option<&str>| a.map(|a| key_of(&[a]));
        let two = |a: Option<&str>, b: Option<&str>| Some(key_of(&[a?, b?]));
        let imp = item.importer.as_deref();
        let hs6 = item.hs6();
        let origin = item.origin.as_deref();
        Keys([
            one(imp),
            one(item.declarant.as_deref()),
            one(item.seller.as_deref()),
            one(item.carrier.as_deref()),
            one(hs6),
            one(origin),
            one(item.office.as_deref()),
            two(imp, hs6),
            two(item.declarant.as_deref(), imp),
            two(item.seller.as_deref(), imp),
            two(hs6, origin),
        ])
    }

    /// The key of one entity.
    pub fn get(&self, e: Entity) -> Option<Key> {
        self.0[e as usize]
    }
}

/// The record of one party or grouping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Declarations (items) seen.
    pub seen: u32,
    /// Items whose inspection outcome is known.
    pub inspected: u32,
    /// Inspections that found fraud.
    pub frauds: u32,
    /// Inspections that found critical fraud.
    pub critical: u32,
    /// Duty recovered by those inspections.
    pub revenue: f64,
    /// First day seen.
    pub first_day: Day,
}

impl Stats {
    /// The share of inspections that found fraud, shrunk towards `prior` with the weight of
    /// `strength` inspections, so that one lucky hit does not make a trader high-risk.
    pub fn hit_rate(&self, prior: f64, strength: f64) -> f64 {
        (f64::from(self.frauds) + prior * strength) / (f64::from(self.inspected) + strength)
    }
}

/// Running mean and spread of log unit values (Welford), for value control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueStats {
    /// Observations.
    pub n: u32,
    /// Mean of ln(unit value).
    pub mean: f64,
    m2: f64,
}

impl ValueStats {
    fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / f64::from(self.n);
        self.m2 += d * (x - self.mean);
    }

    /// Standard deviation of ln(unit value), floored so that a few identical values do not
    /// make every other value an outlier.
    pub fn sd(&self) -> f64 {
        if self.n < 2 { 1.0 } else { (self.m2 / f64::from(self.n - 1)).sqrt().max(0.05) }
    }

    /// How many standard deviations `ln(uv)` lies from the mean; `None` with fewer than 3
    /// references.
    pub fn z(&self, uv: f64) -> Option<f64> {
        (self.n >= 3 && uv > 0.0).then(|| (uv.ln() - self.mean) / self.sd())
    }
}

/// Everything known before the day being scored.
#[derive(Debug, Clone, Default)]
pub struct History {
    stats: [KeyMap<Stats>; Entity::ALL.len()],
    values_hs6_origin: KeyMap<ValueStats>,
    values_hs6: KeyMap<ValueStats>,
    aeo: HashMap<String, bool>,
    seen: u64,
    inspected: u64,
    frauds: u64,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The record of an entity by its identifier (for a pair, both identifiers in the order
    /// [`Keys::of`] uses), when it was seen.
    pub fn stats(&self, e: Entity, ids: &[&str]) -> Option<&Stats> {
        self.stats[e as usize].get(&key_of(ids))
    }

    /// The record of an entity by key.
    pub fn stats_by_key(&self, e: Entity, key: Key) -> Option<&Stats> {
        self.stats[e as usize].get(&key)
    }

    /// Unit values declared for an HS subheading from an origin ([`Entity::Hs6Origin`] key).
    pub fn values_hs6_origin(&self, key: Key) -> Option<&ValueStats> {
        self.values_hs6_origin.get(&key)
    }

    /// Unit values declared for an HS subheading ([`Entity::Hs6`] key).
    pub fn values_hs6(&self, key: Key) -> Option<&ValueStats> {
        self.values_hs6.get(&key)
    }

    /// The share of all known inspections that found fraud (0.5 % before any is known).
    pub fn base_rate(&self) -> f64 {
        (self.frauds as f64 + 0.5 * 0.01) / (self.inspected as f64 + 0.5)
    }

    /// Items seen and inspections known.
    pub fn totals(&self) -> (u64, u64, u64) {
        (self.seen, self.inspected, self.frauds)
    }

    /// Records a trader's AEO status from the shared register (`true` while the authorisation
    /// is active).
    pub fn set_aeo(&mut self, trader: &str, active: bool) {
        self.aeo.insert(trader.to_owned(), active);
    }

    /// Records a trader's AEO status as the administration's register reads it: `None` forgets
    /// it (no recognised authorisation).
    pub fn set_aeo_status(&mut self, trader: &str, status: Option<bool>) {
        match status {
            Some(active) => self.set_aeo(trader, active),
            None => {
                self.aeo.remove(trader);
            }
        }
    }

    /// The trader's AEO status per the register, `None` when the register does not know it.
    pub fn aeo(&self, trader: &str) -> Option<bool> {
        if self.aeo.is_empty() {
            return None;
        }
        self.aeo.get(trader).copied()
    }

    /// Records that `item` was declared (its outcome is not known yet).
    pub fn observe(&mut self, item: &Item, keys: &Keys) {
        self.seen += 1;
        let day = item.day.unwrap_or(0);
        for (map, key) in self.stats.iter_mut().zip(&keys.0) {
            if let Some(k) = key {
                let s = map.entry(*k).or_insert(Stats { first_day: day, ..Stats::default() });
                s.seen += 1;
            }
        }
        if let Some(uv) = item.unit_value().filter(|v| *v > 0.0) {
            let x = uv.ln();
            if let Some(k) = keys.get(Entity::Hs6Origin) {
                self.values_hs6_origin.entry(k).or_default().push(x);
            }
            if let Some(k) = keys.get(Entity::Hs6) {
                self.values_hs6.entry(k).or_default().push(x);
            }
        }
    }

    /// Records what the inspection of an observed item found.
    pub fn record(&mut self, keys: &Keys, outcome: &Outcome) {
        self.inspected += 1;
        self.frauds += u64::from(outcome.fraud);
        for (map, key) in self.stats.iter_mut().zip(&keys.0) {
            if let Some(k) = key {
                let s = map.entry(*k).or_default();
                s.inspected += 1;
                s.frauds += u32::from(outcome.fraud);
                s.critical += u32::from(outcome.critical);
                s.revenue += outcome.revenue;
            }
        }
    }
}

/// Replays items in time order through a [`History`], holding outcomes back until they
/// would have arrived.
#[derive(Debug)]
pub struct Replay {
    /// The history as of the current day.
    pub history: History,
    delay: Day,
    day: Option<Day>,
    pending: VecDeque<(Day, Keys, Outcome)>,
}

impl Replay {
    /// A replay over `history` where an outcome is known `label_delay_days` after its
    /// declaration's day (at least 1: outcomes of the same day are never known).
    pub fn new(history: History, label_delay_days: Day) -> Self {
        Replay { history, delay: label_delay_days.max(1), day: None, pending: VecDeque::new() }
    }

    /// Moves the replay to `day`, releasing the outcomes that arrived by then. Days must not go
    /// backwards; an item without a day is treated as of the current day.
    pub fn advance_to(&mut self, day: Day) {
        if self.day.is_some_and(|d| day < d) {
            return;
        }
        self.day = Some(day);
        while self.pending.front().is_some_and(|(release, _, _)| *release <= day) {
            if let Some((_, keys, outcome)) = self.pending.pop_front() {
                self.history.record(&keys, &outcome);
            }
        }
    }

    /// Observes an item of the current day, with its outcome to be released later.
    pub fn observe(&mut self, item: &Item, keys: Keys, outcome: Option<Outcome>) {
        self.history.observe(item, &keys);
        if let Some(o) = outcome {
            let release = item.day.or(self.day).unwrap_or(0) + self.delay;
            // Releases are in day order as long as items come in day order.
            let at = self.pending.partition_point(|(r, _, _)| *r <= release);
            self.pending.insert(at, (release, keys, o));
        }
    }

    /// Releases every outcome still held back (the end of the replayed period).
    pub fn flush(&mut self) {
        while let Some((_, keys, outcome)) = self.pending.pop_front() {
            self.history.record(&keys, &outcome);
        }
    }
}
