//! Selectivity criteria as data, as ASYCUDA keeps them: each criterion is a condition on the
//! declaration's fields and features, the lane it sends a declaration to, a weight, validity
//! dates, the instructions the officer follows, and its running hit rate. Criteria refer to
//! named lists (importers, countries, commodities) and to value-control bands (minimum and
//! maximum unit value per HS subheading and origin).
//!
//! A criteria file is JSON ([`CriteriaSet`]); [`CriteriaSet::check`] refuses one that refers to
//! a list, band or feature that does not exist, or whose dates do not parse. Its JSON Schema
//! (`schemars`) says as much of this as a schema can: references to lists and unique ids are
//! left to [`CriteriaSet::check`].

use std::collections::BTreeMap;

use borderlink_model::Lane;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::RiskError;
use crate::features::{self, FeatureVector};
use crate::item::{Day, Item, parse_day};

/// The item field a list is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListField {
    /// Importer identification.
    Importer,
    /// Declarant identification.
    Declarant,
    /// Seller identification.
    Seller,
    /// Country of origin.
    Origin,
    /// Country of departure.
    Departure,
    /// Commodity code: an entry matches every code it is a prefix of.
    Commodity,
    /// Office of declaration.
    Office,
}

impl ListField {
    fn words(self) -> &'static str {
        match self {
            ListField::Importer => "importer",
            ListField::Declarant => "declarant",
            ListField::Seller => "seller",
            ListField::Origin => "origin",
            ListField::Departure => "country of departure",
            ListField::Commodity => "commodity code",
            ListField::Office => "office",
        }
    }

    fn value(self, item: &Item) -> Option<&str> {
        match self {
            ListField::Importer => item.importer.as_deref(),
            ListField::Declarant => item.declarant.as_deref(),
            ListField::Seller => item.seller.as_deref(),
            ListField::Origin => item.origin.as_deref(),
            ListField::Departure => item.departure.as_deref(),
            ListField::Commodity => item.hs.as_deref(),
            ListField::Office => item.office.as_deref(),
        }
    }
}

/// A condition on one goods item. Conditions on data the item lacks do not fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The commodity code starts with one of `prefixes`.
    HsPrefix {
        /// HS prefixes (digits).
        prefixes: Vec<String>,
    },
    /// The field's value is in the named list (for commodities: starts with an entry).
    InList {
        /// Which field.
        field: ListField,
        /// The list's name in [`CriteriaSet::lists`].
        list: String,
    },
    /// The unit value is below the minimum of the item's value-control band.
    UnitValueBelowBand,
    /// The unit value is above the maximum of the item's value-control band.
    UnitValueAboveBand,
    /// The goods depart from a country other than their origin.
    RouteDiffers,
    /// A feature (by name, see [`crate::features::FEATURES`]) is at least `value`.
    FeatureAtLeast {
        /// Feature name.
        #[schemars(schema_with = "feature_name")]
        feature: String,
        /// Threshold.
        value: f64,
    },
    /// A feature is below `value`.
    FeatureBelow {
        /// Feature name.
        #[schemars(schema_with = "feature_name")]
        feature: String,
        /// Threshold.
        value: f64,
    },
    /// The importer holds no active AEO authorisation (or none is known).
    NotAeo,
    /// Another capability raised one of these signals about the declaration (e.g.
    /// `iot:seal-opened`, `iot:route-deviation`: an open IoT alert of the trip that carries the
    /// goods); any signal when the list is empty.
    Signal {
        /// The signals (any of them).
        #[serde(default)]
        signals: Vec<String>,
    },
    /// Every condition holds.
    All {
        /// The conditions.
        conditions: Vec<Condition>,
    },
    /// At least one condition holds.
    Any {
        /// The conditions.
        conditions: Vec<Condition>,
    },
    /// The condition does not hold.
    Not {
        /// The condition.
        condition: Box<Condition>,
    },
}

/// The schema of a feature's name: one of the feature set's.
fn feature_name(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "description": "A feature of the feature set",
        "enum": features::names(),
    })
}

/// A named list used by criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct List {
    /// What the list is for, in words.
    #[serde(default)]
    pub description: String,
    /// The entries (identifiers, country codes or HS prefixes).
    pub entries: Vec<String>,
}

/// A value-control band: the range of unit values (per kg) accepted without control for an
/// HS code (prefix) and, optionally, an origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    {"required": ["min"], "properties": {"min": {"type": "number"}}},
    {"required": ["max"], "properties": {"max": {"type": "number"}}},
]))]
pub struct ValueBand {
    /// HS code or prefix (digits).
    #[schemars(regex(pattern = r"^[0-9]+$"))]
    pub hs: String,
    /// Country of origin; `None` for every origin.
    #[serde(default)]
    pub origin: Option<String>,
    /// Lowest unit value accepted.
    #[serde(default)]
    pub min: Option<f64>,
    /// Highest unit value accepted.
    #[serde(default)]
    pub max: Option<f64>,
}

/// A selectivity criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Criterion {
    /// Stable identifier (not blank; unique in the set).
    #[schemars(regex(pattern = r"\S"))]
    pub id: String,
    /// Short name an officer recognises.
    pub name: String,
    /// When it fires.
    pub condition: Condition,
    /// The lane it sends the declaration to (at least).
    pub lane: Lane,
    /// Points added to the declaration's risk (for ordering the queue).
    #[serde(default = "one")]
    pub weight: f64,
    /// First day in force (`YYYY-MM-DD`), inclusive.
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub valid_from: Option<String>,
    /// Last day in force (`YYYY-MM-DD`), inclusive.
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub valid_until: Option<String>,
    /// What the officer is to check.
    #[serde(default)]
    pub instructions: String,
    /// Declarations it selected whose inspection result is known.
    #[serde(default)]
    pub inspected: u64,
    /// Of those, how many inspections found fraud.
    #[serde(default)]
    pub hits: u64,
}

fn one() -> f64 {
    1.0
}

impl Criterion {
    /// Whether the criterion is in force on `day`.
    pub fn in_force(&self, day: Day) -> bool {
        let from = self.valid_from.as_deref().and_then(parse_day);
        let until = self.valid_until.as_deref().and_then(parse_day);
        from.is_none_or(|f| day >= f) && until.is_none_or(|u| day <= u)
    }

    /// Share of its inspected selections that found fraud.
    pub fn hit_rate(&self) -> Option<f64> {
        (self.inspected > 0).then(|| self.hits as f64 / self.inspected as f64)
    }
}

/// A criterion that fired on an item, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fired {
    /// The criterion's identifier.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The lane it requires.
    pub lane: Lane,
    /// Its weight.
    pub weight: f64,
    /// Why it fired, in words.
    pub because: String,
    /// What the officer is to check.
    pub instructions: String,
    /// Its hit rate so far.
    pub hit_rate: Option<f64>,
}

/// Criteria, the lists they use and the value-control bands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriteriaSet {
    /// The criteria, in the order they are shown.
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// Named lists.
    #[serde(default)]
    pub lists: BTreeMap<String, List>,
    /// Value-control bands.
    #[serde(default)]
    pub value_bands: Vec<ValueBand>,
}

impl CriteriaSet {
    /// Parses and checks a criteria file (JSON).
    pub fn from_json(bytes: &[u8]) -> Result<Self, RiskError> {
        let set: CriteriaSet = serde_json::from_slice(bytes)
            .map_err(|e| RiskError::Criteria(format!("line {}, column {}: {e}", e.line(), e.column())))?;
        set.check()?;
        Ok(set)
    }

    /// Refuses references to unknown lists or features, bad dates and duplicate ids.
    pub fn check(&self) -> Result<(), RiskError> {
        let mut ids = std::collections::BTreeSet::new();
        for c in &self.criteria {
            let err = |m: String| RiskError::Criteria(format!("criterion {:?}: {m}", c.id));
            if c.id.trim().is_empty() {
                return Err(RiskError::Criteria(format!("criterion {:?} has no id", c.name)));
            }
            if !ids.insert(c.id.as_str()) {
                return Err(err("the id is used twice".into()));
            }
            for (what, d) in [("validFrom", &c.valid_from), ("validUntil", &c.valid_until)] {
                if let Some(s) = d
                    && parse_day(s).is_none()
                {
                    return Err(err(format!("{what} {s:?} is not a date (YYYY-MM-DD)")));
                }
            }
            if !c.weight.is_finite() {
                return Err(err("the weight is not a number".into()));
            }
            self.check_condition(&c.condition).map_err(err)?;
        }
        for (i, b) in self.value_bands.iter().enumerate() {
            if b.hs.is_empty() || !b.hs.bytes().all(|c| c.is_ascii_digit()) {
                return Err(RiskError::Criteria(format!("value band {}: hs {:?} is not an HS code", i + 1, b.hs)));
            }
            if b.min.is_none() && b.max.is_none() {
                return Err(RiskError::Criteria(format!("value band {}: neither min nor max", i + 1)));
            }
        }
        Ok(())
    }

    fn check_condition(&self, c: &Condition) -> Result<(), String> {
        match c {
            Condition::InList { list, .. } if !self.lists.contains_key(list) => Err(format!("unknown list {list:?}")),
            Condition::FeatureAtLeast { feature, .. } | Condition::FeatureBelow { feature, .. }
                if features::index_of(feature).is_none() =>
            {
                Err(format!("unknown feature {feature:?}"))
            }
            Condition::All { conditions } | Condition::Any { conditions } => {
                conditions.iter().try_for_each(|c| self.check_condition(c))
            }
            Condition::Not { condition } => self.check_condition(condition),
            _ => Ok(()),
        }
    }

    /// The most specific value band for an item: the longest HS prefix, an origin-specific
    /// band before an any-origin one.
    pub fn band_for(&self, item: &Item) -> Option<&ValueBand> {
        let hs = item.hs.as_deref()?;
        self.value_bands
            .iter()
            .filter(|b| hs.starts_with(&b.hs))
            .filter(|b| b.origin.is_none() || b.origin == item.origin)
            .max_by_key(|b| (b.hs.len(), b.origin.is_some()))
    }

    /// The criteria in force on `day` that fire on `item`.
    pub fn fire(&self, item: &Item, x: &FeatureVector, day: Day) -> Vec<Fired> {
        let mut out = Vec::new();
        for c in self.criteria.iter().filter(|c| c.in_force(day)) {
            let mut because = Vec::new();
            if self.holds(&c.condition, item, x, &mut because) {
                out.push(Fired {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    lane: c.lane,
                    weight: c.weight,
                    because: because.join("; "),
                    instructions: c.instructions.clone(),
                    hit_rate: c.hit_rate(),
                });
            }
        }
        out
    }

    fn holds(&self, c: &Condition, item: &Item, x: &FeatureVector, why: &mut Vec<String>) -> bool {
        match c {
            Condition::HsPrefix { prefixes } => {
                let Some(hs) = item.hs.as_deref() else { return false };
                match prefixes.iter().find(|p| hs.starts_with(p.as_str())) {
                    Some(p) => {
                        why.push(format!("commodity code {hs} is under {p}"));
                        true
                    }
                    None => false,
                }
            }
            Condition::InList { field, list } => {
                let (Some(v), Some(l)) = (field.value(item), self.lists.get(list)) else { return false };
                let hit = if *field == ListField::Commodity {
                    l.entries.iter().any(|e| v.starts_with(e.as_str()))
                } else {
                    l.entries.iter().any(|e| e == v)
                };
                if hit {
                    why.push(format!("{} {v} is on the list {list:?}", field.words()));
                }
                hit
            }
            Condition::UnitValueBelowBand | Condition::UnitValueAboveBand => {
                let (Some(uv), Some(band)) = (item.unit_value(), self.band_for(item)) else { return false };
                let origin = band.origin.as_deref().map(|o| format!(" from {o}")).unwrap_or_default();
                match c {
                    Condition::UnitValueBelowBand => match band.min {
                        Some(min) if uv < min => {
                            why.push(format!(
                                "unit value {uv:.2}/kg is below the minimum {min:.2}/kg for HS {}{origin}",
                                band.hs
                            ));
                            true
                        }
                        _ => false,
                    },
                    _ => match band.max {
                        Some(max) if uv > max => {
                            why.push(format!(
                                "unit value {uv:.2}/kg is above the maximum {max:.2}/kg for HS {}{origin}",
                                band.hs
                            ));
                            true
                        }
                        _ => false,
                    },
                }
            }
            Condition::RouteDiffers => match (&item.departure, &item.origin) {
                (Some(d), Some(o)) if d != o => {
                    why.push(format!("goods of origin {o} depart from {d}"));
                    true
                }
                _ => false,
            },
            Condition::FeatureAtLeast { feature, value } | Condition::FeatureBelow { feature, value } => {
                let Some(i) = features::index_of(feature) else { return false };
                let v = x[i];
                if v.is_nan() {
                    return false;
                }
                let at_least = matches!(c, Condition::FeatureAtLeast { .. });
                let hit = if at_least { f64::from(v) >= *value } else { f64::from(v) < *value };
                if hit {
                    let shown = features::describe_value(i, v, item);
                    let op = if at_least { "at least" } else { "below" };
                    why.push(format!("{} is {shown} ({op} {value})", features::words(i)));
                }
                hit
            }
            Condition::Signal { signals } => {
                let hit = item.signals.iter().find(|s| signals.is_empty() || signals.contains(s));
                if let Some(s) = hit {
                    why.push(format!("signal {s} was raised about the declaration"));
                }
                hit.is_some()
            }
            Condition::NotAeo => {
                let aeo = features::index_of("aeo").map(|i| x[i]);
                let hit = aeo.is_none_or(|v| v.is_nan() || v < 0.5);
                if hit {
                    why.push("the importer holds no active AEO authorisation".into());
                }
                hit
            }
            Condition::All { conditions } => {
                let mut sub = Vec::new();
                let hit = conditions.iter().all(|c| self.holds(c, item, x, &mut sub));
                if hit {
                    why.extend(sub);
                }
                hit
            }
            Condition::Any { conditions } => {
                let mut hit = false;
                for c in conditions {
                    let mut sub = Vec::new();
                    if self.holds(c, item, x, &mut sub) {
                        why.extend(sub);
                        hit = true;
                    }
                }
                hit
            }
            Condition::Not { condition } => {
                let mut sub = Vec::new();
                let hit = !self.holds(condition, item, x, &mut sub);
                if hit {
                    why.push(format!("not ({})", describe(condition)));
                }
                hit
            }
        }
    }

    /// Records an inspection result of a declaration the criterion selected.
    pub fn record_result(&mut self, id: &str, fraud: bool) {
        if let Some(c) = self.criteria.iter_mut().find(|c| c.id == id) {
            c.inspected += 1;
            c.hits += u64::from(fraud);
        }
    }
}

/// A condition in words (for lists of criteria and negations).
pub fn describe(c: &Condition) -> String {
    match c {
        Condition::HsPrefix { prefixes } => format!("commodity code under {}", prefixes.join(" or ")),
        Condition::InList { field, list } => format!("{} on the list {list:?}", field.words()),
        Condition::UnitValueBelowBand => "unit value below the value-control band".into(),
        Condition::UnitValueAboveBand => "unit value above the value-control band".into(),
        Condition::RouteDiffers => "departure country differs from origin".into(),
        Condition::FeatureAtLeast { feature, value } => format!("{feature} ≥ {value}"),
        Condition::FeatureBelow { feature, value } => format!("{feature} < {value}"),
        Condition::NotAeo => "importer not an AEO".into(),
        Condition::Signal { signals } if signals.is_empty() => "any signal raised about the declaration".into(),
        Condition::Signal { signals } => format!("signal {} raised about the declaration", signals.join(" or ")),
        Condition::All { conditions } => conditions.iter().map(describe).collect::<Vec<_>>().join(" and "),
        Condition::Any { conditions } => {
            format!("({})", conditions.iter().map(describe).collect::<Vec<_>>().join(" or "))
        }
        Condition::Not { condition } => format!("not {}", describe(condition)),
    }
}
