//! The Borderlink standardized dataset: the records that customs administrations, other border
//! agencies and authorised economic operators share, aligned with the WCO Data Model.
//!
//! - [`records`]: the record types ([`DeclarationRecord`], [`AeoAuthorizationRecord`],
//!   [`TransportMovementRecord`], [`InspectionResultRecord`]) and the [`Record`] enum;
//! - [`wco`]: the WCO DM declaration classes, generated from the DEC-DMS tree;
//! - [`validate()`]: JSON or WCO DM XML in, a [`Report`] out with every error at once, each with
//!   its path, rule name and a plain message, plus warnings and a data-quality score;
//! - [`schema`]: JSON Schema of every record type, generated from the types;
//! - [`codelists`], [`container`], [`datetime`]: the code lists and formats the checks use.
//!
//! Everything here is synchronous and pure: no I/O, no clock, no global state but the code
//! lists compiled into the binary.

pub mod check;
pub mod codelists;
pub mod container;
pub mod datetime;
pub mod measure;
pub mod quality;
pub mod records;
mod rules;
pub mod schema;
mod structure;
pub mod validate;
#[allow(clippy::upper_case_acronyms, missing_docs)]
pub mod wco;
pub mod xml;

pub use check::{Issue, Severity};
pub use quality::Quality;
pub use records::{
    AeoAuthorizationRecord, DeclarationRecord, InspectionResultRecord, Lane, Record, RecordType, SCHEMA_VERSION,
    TransportMovementRecord,
};
pub use schema::json_schema;
pub use validate::{InputFormat, Report, ValidateOptions, parse_record, validate};
