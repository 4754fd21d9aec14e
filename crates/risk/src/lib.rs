//! Risk management for Borderlink: which declarations to control, and why.
//!
//! - [`item`]: the goods item as risk sees it ([`Item`]), flattened from a standardized
//!   [`borderlink_model::DeclarationRecord`];
//! - [`history`]: what was known before a declaration ([`History`], [`Replay`]) — trader
//!   records, inspection hit rates, unit values — with no leakage from the future;
//! - [`features`]: the feature vector of an item ([`features::extract`]);
//! - [`codes`]: code features (HS, origin, office, …) as categories the trees split by sets;
//! - [`model`]: the learned fraud model ([`RiskModel`]), gradient-boosted trees with
//!   per-feature path contributions, saved with its feature set and version;
//! - [`criterion`]: selectivity criteria as data ([`CriteriaSet`]): conditions, lists,
//!   value-control bands, validity dates, officer instructions, hit rates;
//! - [`lane`]: lanes from criteria, random selection and per-office quotas; overrides with
//!   reasons;
//! - [`engine`]: all of it together for a node ([`RiskEngine`]): assess, queue, overrule,
//!   feed inspection results back;
//! - [`eval`] and [`drift`]: AUC and precision / recall / revenue at k % of inspections; the
//!   population stability of each feature;
//! - [`mapping`] and [`import`]: CSV with a column mapping in, standardized declarations out;
//!   [`training`]: the inspection results fed back, out as a CSV in the same layout.
//!
//! **Architecture invariant:** this crate does no I/O but through the readers and writers its
//! callers pass in, knows nothing of HTTP, reads no clock (days are passed in) and depends on
//! `borderlink-model` alone among Borderlink crates. Every function is synchronous.

#![forbid(unsafe_code)]

pub mod aeo;
pub mod codes;
pub mod criterion;
pub mod drift;
pub mod engine;
pub mod error;
pub mod eval;
pub mod features;
pub mod history;
pub mod import;
pub mod item;
pub mod lane;
pub mod mapping;
pub mod model;
pub mod training;

pub use criterion::{Condition, CriteriaSet, Criterion};
pub use engine::{Assessment, RiskEngine};
pub use error::RiskError;
pub use history::{History, Outcome, Replay};
pub use item::Item;
pub use model::{RiskModel, TrainParams};
