//! Features: the numbers the learned model sees for one goods item, computed from the item and
//! the [`History`] known before it.
//!
//! The feature set is fixed in code ([`FEATURES`]); its identity ([`feature_set_id`]) is written
//! into every model file, and a model trained on another set is refused at load. A missing
//! value is `NaN` (the trees route it), never a made-up number.
//!
//! Codes (office, procedure, transport mode, …) are encoded without any learned dictionary:
//! numeric codes by their value, alphanumeric ones by a fixed base-37 value of their first
//! characters (a model may then read them as categories: [`crate::codes`]). High-cardinality identifiers (importer, declarant, seller, …) are never fed as
//! codes: only their history (declarations seen, inspections, smoothed fraud rate) is, and
//! that history holds only what was known before (see [`crate::history`]).

use crate::history::{Entity, History, Keys, Outcome, Replay, Stats};
use crate::item::Item;

/// How a feature's value is shown to an officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// An amount of money.
    Money,
    /// Kilograms.
    Kilograms,
    /// Money per kilogram.
    PerKilogram,
    /// A percentage (stored as percent).
    Percent,
    /// A share 0..1 shown as percent.
    Share,
    /// A count.
    Count,
    /// Standard deviations.
    Sigma,
    /// Yes (1) or no (0).
    Flag,
    /// An encoded code (shown from the item, not from the number).
    Code,
    /// Days.
    Days,
}

/// One feature: its stable name, the words an officer reads, and its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureDef {
    /// Stable machine name (CSV header, model file).
    pub name: &'static str,
    /// What it is, in words.
    pub words: &'static str,
    /// How to show its value.
    pub unit: Unit,
}

const fn f(name: &'static str, words: &'static str, unit: Unit) -> FeatureDef {
    FeatureDef { name, words, unit }
}

/// Number of base (item) features before the history families.
const BASE: usize = 23;
/// Number of features.
pub const N_FEATURES: usize = BASE + 3 * Entity::ALL.len() + 3;

/// The feature set, in model column order.
pub static FEATURES: [FeatureDef; N_FEATURES] = {
    let base = [
        f("value", "declared value", Unit::Money),
        f("net_mass", "net mass", Unit::Kilograms),
        f("unit_value", "declared value per kg", Unit::PerKilogram),
        f("tax_rate", "tariff rate", Unit::Percent),
        f("duty", "duty at stake (value × tariff rate)", Unit::Money),
        f("hs_chapter", "HS chapter", Unit::Code),
        f("hs_heading", "HS heading", Unit::Code),
        f("hs_subheading", "HS subheading", Unit::Code),
        f("route_differs", "goods depart from a country other than their origin", Unit::Flag),
        f("office", "office of declaration", Unit::Code),
        f("circumstances", "processing type", Unit::Code),
        f("procedure", "customs procedure", Unit::Code),
        f("transaction_nature", "nature of transaction", Unit::Code),
        f("payment_method", "duty payment method", Unit::Code),
        f("transport_mode", "mode of transport", Unit::Code),
        f("tax_type", "tax type", Unit::Code),
        f("origin_type", "origin evidence type", Unit::Code),
        f("origin", "country of origin", Unit::Code),
        f("departure", "country of departure", Unit::Code),
        f("aeo", "the importer is an authorised economic operator (AEO)", Unit::Flag),
        f(
            "uv_z_hs6_origin",
            "unit value compared with earlier declarations of this HS subheading and origin",
            Unit::Sigma,
        ),
        f("uv_z_hs6", "unit value compared with earlier declarations of this HS subheading", Unit::Sigma),
        f("uv_refs_hs6_origin", "earlier declarations of this HS subheading and origin", Unit::Count),
    ];
    let extra = [
        f("importer_revenue_per_inspection", "duty recovered per inspection of the importer", Unit::Money),
        f("declarant_revenue_per_inspection", "duty recovered per inspection of the declarant", Unit::Money),
        f("importer_days_known", "days since the importer's first declaration", Unit::Days),
    ];
    let mut out = [f("", "", Unit::Count); N_FEATURES];
    let mut i = 0;
    while i < BASE {
        out[i] = base[i];
        i += 1;
    }
    // History families: their words are built from the entity (see `words`).
    let mut e = 0;
    while e < FAMILY_NAMES.len() {
        out[BASE + 3 * e] = f(FAMILY_NAMES[e][0], "", Unit::Count);
        out[BASE + 3 * e + 1] = f(FAMILY_NAMES[e][1], "", Unit::Count);
        out[BASE + 3 * e + 2] = f(FAMILY_NAMES[e][2], "", Unit::Share);
        e += 1;
    }
    let mut x = 0;
    while x < extra.len() {
        out[BASE + 3 * FAMILY_NAMES.len() + x] = extra[x];
        x += 1;
    }
    out
};

const FAMILY_NAMES: [[&str; 3]; Entity::ALL.len()] = [
    ["importer_seen", "importer_inspected", "importer_hit_rate"],
    ["declarant_seen", "declarant_inspected", "declarant_hit_rate"],
    ["seller_seen", "seller_inspected", "seller_hit_rate"],
    ["carrier_seen", "carrier_inspected", "carrier_hit_rate"],
    ["hs6_seen", "hs6_inspected", "hs6_hit_rate"],
    ["origin_seen", "origin_inspected", "origin_hit_rate"],
    ["office_seen", "office_inspected", "office_hit_rate"],
    ["importer_hs6_seen", "importer_hs6_inspected", "importer_hs6_hit_rate"],
    ["declarant_importer_seen", "declarant_importer_inspected", "declarant_importer_hit_rate"],
    ["seller_importer_seen", "seller_importer_inspected", "seller_importer_hit_rate"],
    ["hs6_origin_seen", "hs6_origin_inspected", "hs6_origin_hit_rate"],
];

/// The history family a feature belongs to, and which of (seen, inspected, hit rate) it is.
pub fn family(index: usize) -> Option<(Entity, usize)> {
    let i = index.checked_sub(BASE)?;
    let e = Entity::ALL.get(i / 3)?;
    Some((*e, i % 3))
}

/// Index of a feature by name.
pub fn index_of(name: &str) -> Option<usize> {
    FEATURES.iter().position(|d| d.name == name)
}

/// The names of the feature set, in column order.
pub fn names() -> Vec<&'static str> {
    FEATURES.iter().map(|d| d.name).collect()
}

/// A stable identity of a list of feature names (FNV-1a), written into model files.
pub fn set_id(names: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for n in names {
        for b in n.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("fs-{:016x}", h)
}

/// The identity of this release's feature set.
pub fn feature_set_id() -> String {
    set_id(&names())
}

/// One item's features, in [`FEATURES`] order; `NaN` is missing.
pub type FeatureVector = [f32; N_FEATURES];

/// How strongly a party's fraud rate is pulled towards the overall rate (in inspections).
const SMOOTHING: f64 = 3.0;

/// A code as a number: digit codes by their value, others by a base-37 value of their first
/// four characters (stable across runs and releases, no dictionary to ship).
pub fn code_value(code: &str) -> f32 {
    let c = code.trim();
    if !c.is_empty() && c.len() <= 9 && c.bytes().all(|b| b.is_ascii_digit()) {
        return c.parse::<u32>().map_or(f32::NAN, |v| v as f32);
    }
    let mut v: u32 = 0;
    for b in c.bytes().take(4) {
        let d = match b.to_ascii_uppercase() {
            d @ b'0'..=b'9' => u32::from(d - b'0') + 1,
            d @ b'A'..=b'Z' => u32::from(d - b'A') + 11,
            _ => 0,
        };
        v = v * 37 + d;
    }
    if c.is_empty() { f32::NAN } else { v as f32 }
}

fn opt(v: Option<f64>) -> f32 {
    v.map_or(f32::NAN, |x| x as f32)
}

fn code(v: &Option<String>) -> f32 {
    v.as_deref().map_or(f32::NAN, code_value)
}

fn hs_part(item: &Item, len: usize) -> f32 {
    item.hs
        .as_deref()
        .filter(|h| h.len() >= len)
        .and_then(|h| h[..len].parse::<u32>().ok())
        .map_or(f32::NAN, |v| v as f32)
}

/// Computes the features of `item` from `history` (which must hold only what was known
/// before the item: see the module invariant of [`crate::history`]).
pub fn extract(item: &Item, keys: &Keys, history: &History) -> FeatureVector {
    let mut x = [f32::NAN; N_FEATURES];
    let uv = item.unit_value();
    x[0] = opt(item.value);
    x[1] = opt(item.net_mass_kg);
    x[2] = opt(uv);
    x[3] = opt(item.tax_rate);
    x[4] = opt(item.duty());
    x[5] = hs_part(item, 2);
    x[6] = hs_part(item, 4);
    x[7] = hs_part(item, 6);
    x[8] = match (&item.departure, &item.origin) {
        (Some(d), Some(o)) => f32::from(u8::from(d != o)),
        _ => f32::NAN,
    };
    x[9] = code(&item.office);
    x[10] = code(&item.circumstances);
    x[11] = code(&item.procedure);
    x[12] = code(&item.transaction_nature);
    x[13] = code(&item.payment_method);
    x[14] = code(&item.transport_mode);
    x[15] = code(&item.tax_type);
    x[16] = code(&item.origin_type);
    x[17] = code(&item.origin);
    x[18] = code(&item.departure);
    let register = item.importer.as_deref().and_then(|i| history.aeo(i));
    x[19] = match (register, &item.aeo_claim) {
        (Some(active), _) => f32::from(u8::from(active)),
        (None, Some(_)) => 1.0,
        (None, None) => f32::NAN,
    };
    if let Some(uv) = uv {
        let by_origin = keys.get(Entity::Hs6Origin).and_then(|k| history.values_hs6_origin(k));
        x[20] = opt(by_origin.and_then(|s| s.z(uv)));
        x[21] = opt(keys.get(Entity::Hs6).and_then(|k| history.values_hs6(k)).and_then(|s| s.z(uv)));
        x[22] = by_origin.map_or(0.0, |s| s.n as f32);
    }
    let prior = history.base_rate();
    let mut importer: Option<Stats> = None;
    let mut declarant: Option<Stats> = None;
    for (e, entity) in Entity::ALL.iter().enumerate() {
        let Some(key) = keys.get(*entity) else { continue };
        let s = history.stats_by_key(*entity, key).copied().unwrap_or_default();
        let at = BASE + 3 * e;
        x[at] = s.seen as f32;
        x[at + 1] = s.inspected as f32;
        x[at + 2] = s.hit_rate(prior, SMOOTHING) as f32;
        match entity {
            Entity::Importer => importer = Some(s),
            Entity::Declarant => declarant = Some(s),
            _ => {}
        }
    }
    let extra = BASE + 3 * Entity::ALL.len();
    let per_inspection = |s: Stats| if s.inspected > 0 { s.revenue / f64::from(s.inspected) } else { 0.0 };
    x[extra] = opt(importer.map(per_inspection));
    x[extra + 1] = opt(declarant.map(per_inspection));
    x[extra + 2] = match (importer, item.day) {
        (Some(s), Some(day)) if s.seen > 0 => (day - s.first_day) as f32,
        (Some(_), Some(_)) => 0.0,
        _ => f32::NAN,
    };
    x
}

/// A labelled item, as training and evaluation take them.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The item.
    pub item: Item,
    /// What its inspection found, when it was inspected.
    pub outcome: Option<Outcome>,
}

/// Features of `examples` (any order) replayed in time order through `replay`: each item sees
/// only earlier days and the outcomes that had arrived. Returns the features in the order of
/// `examples`. Items without a day are placed after every dated item of the batch.
pub fn replay_features(examples: &[Example], replay: &mut Replay) -> Vec<FeatureVector> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| (examples[i].item.day.is_none(), examples[i].item.day));
    let mut out = vec![[f32::NAN; N_FEATURES]; examples.len()];
    let mut start = 0;
    while start < order.len() {
        let day = examples[order[start]].item.day;
        let mut end = start;
        while end < order.len() && examples[order[end]].item.day == day {
            end += 1;
        }
        if let Some(d) = day {
            replay.advance_to(d);
        }
        let keys: Vec<Keys> = order[start..end].iter().map(|&i| Keys::of(&examples[i].item)).collect();
        // The whole day is featurized before any of it is observed.
        for (&i, k) in order[start..end].iter().zip(&keys) {
            out[i] = extract(&examples[i].item, k, &replay.history);
        }
        for (&i, k) in order[start..end].iter().zip(keys) {
            replay.observe(&examples[i].item, k, examples[i].outcome);
        }
        start = end;
    }
    out
}

/// Describes a feature's value for an officer, using the item for codes.
pub fn describe_value(index: usize, value: f32, item: &Item) -> String {
    let Some(def) = FEATURES.get(index) else { return String::new() };
    if value.is_nan() {
        return "unknown".into();
    }
    let item_code = match def.name {
        "office" => item.office.clone(),
        "circumstances" => item.circumstances.clone(),
        "procedure" => item.procedure.clone(),
        "transaction_nature" => item.transaction_nature.clone(),
        "payment_method" => item.payment_method.clone(),
        "transport_mode" => item.transport_mode.clone(),
        "tax_type" => item.tax_type.clone(),
        "origin_type" => item.origin_type.clone(),
        "origin" => item.origin.clone(),
        "departure" => item.departure.clone(),
        // Each HS feature names the code at its own level: the model split on the chapter or the
        // heading, so the officer is shown that, not the full commodity code.
        "hs_chapter" => hs_prefix(item, 2),
        "hs_heading" => hs_prefix(item, 4),
        "hs_subheading" => hs_prefix(item, 6),
        _ => None,
    };
    match def.unit {
        Unit::Code => item_code.unwrap_or_else(|| format!("{value}")),
        Unit::Money => format!("{value:.0}"),
        Unit::Kilograms => format!("{value:.1} kg"),
        Unit::PerKilogram => format!("{value:.2} per kg"),
        Unit::Percent => format!("{value} %"),
        Unit::Share => format!("{:.1} %", value * 100.0),
        // Counts are whole numbers: integer formatting says the same as `{:.0}`, for less.
        Unit::Count if value.fract() == 0.0 && value.abs() < 1e15 => (value as i64).to_string(),
        Unit::Count => format!("{value:.0}"),
        Unit::Sigma => format!("{value:+.1} σ"),
        Unit::Flag => (if value > 0.5 { "yes" } else { "no" }).into(),
        Unit::Days => format!("{value:.0} days"),
    }
}

/// The first `len` digits of the item's commodity code, when it has that many.
fn hs_prefix(item: &Item, len: usize) -> Option<String> {
    item.hs.as_deref().and_then(|h| h.get(..len)).map(str::to_owned)
}

/// The words for a feature (history families are phrased from their entity).
pub fn words(index: usize) -> String {
    phrase(index).to_owned()
}

/// [`words`], phrased once per process: reasons are written for every score.
pub fn phrase(index: usize) -> &'static str {
    static PHRASES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PHRASES.get_or_init(|| (0..N_FEATURES).map(phrase_of).collect()).get(index).map_or("", String::as_str)
}

fn phrase_of(index: usize) -> String {
    if let Some((entity, which)) = family(index) {
        return match which {
            0 => format!("earlier declarations of {}", entity.words()),
            1 => format!("earlier inspections of {}", entity.words()),
            _ => format!("fraud rate found when inspecting {}", entity.words()),
        };
    }
    FEATURES.get(index).map_or_else(String::new, |d| d.words.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_complete() {
        let n = names();
        assert!(n.iter().all(|s| !s.is_empty()));
        let mut sorted = n.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), N_FEATURES);
        assert_eq!(family(index_of("seller_hit_rate").unwrap()), Some((Entity::Seller, 2)));
        assert!(words(index_of("importer_hit_rate").unwrap()).contains("importer"));
    }

    #[test]
    fn hs_reasons_name_the_code_at_their_level() {
        let item = Item { hs: Some("84713000".into()), ..Item::default() };
        let at = |name: &str| describe_value(index_of(name).unwrap(), 1.0, &item);
        assert_eq!(at("hs_chapter"), "84");
        assert_eq!(at("hs_heading"), "8471");
        assert_eq!(at("hs_subheading"), "847130");
        let short = Item { hs: Some("84".into()), ..Item::default() };
        assert_eq!(describe_value(index_of("hs_heading").unwrap(), 8.0, &short), "8", "too short: the value itself");
    }

    #[test]
    fn codes_are_stable_numbers() {
        assert_eq!(code_value("30"), 30.0);
        assert_eq!(code_value("B"), 12.0);
        assert_ne!(code_value("FEU1"), code_value("FEU2"));
        assert!(code_value("").is_nan());
    }
}
