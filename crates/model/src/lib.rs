//! The Borderlink standardized dataset: the records that customs administrations, other border
//! agencies and authorised economic operators share, aligned with the WCO Data Model.
//!
//! - [`records`]: the record types ([`DeclarationRecord`], [`AeoAuthorizationRecord`],
//!   [`TransportMovementRecord`], [`InspectionResultRecord`], [`AeoConsentRecord`]) and the
//!   [`Record`] enum;
//! - [`wco`]: the WCO DM declaration classes, generated from the DEC-DMS tree;
//! - [`validate()`]: JSON or WCO DM XML in, a [`Report`] out with every error at once, each with
//!   its path, rule name and a plain message, plus warnings and a data-quality score;
//! - [`schema`]: JSON Schema of every record type, generated from the types;
//! - [`codelists`], [`container`], [`datetime`]: the code lists (and their earlier editions)
//!   and formats the checks use, WCO DM `DateTimeString` format codes included;
//! - [`category`]: declaration categories (`TypeCode`) and the elements each requires, as tables;
//! - [`rulebook`]: every rule with its default severity; [`Profile`]: what a national profile
//!   makes of them, and its national code lists.
//!
//! Everything here is synchronous and pure: no I/O, no clock, no global state but the code
//! lists compiled into the binary.

pub mod category;
pub mod check;
pub mod codelists;
pub mod container;
pub mod datetime;
pub mod measure;
pub mod profile;
pub mod quality;
pub mod records;
pub mod rulebook;
mod rules;
pub mod schema;
mod structure;
pub mod validate;
#[allow(clippy::upper_case_acronyms, missing_docs)]
pub mod wco;
pub mod xml;

pub use category::{AppliedCategory, Category};
pub use check::{Issue, Severity};
pub use profile::{Profile, ProfileError};
pub use quality::Quality;
pub use records::{
    AeoAuthorizationRecord, AeoConsentRecord, DeclarationRecord, DocumentMetaData, InspectionResultRecord, Lane,
    Record, RecordType, SCHEMA_VERSION, TransportMovementRecord,
};
pub use rulebook::Level;
pub use schema::json_schema;
pub use validate::{InputFormat, Report, ValidateOptions, parse_record, validate};
