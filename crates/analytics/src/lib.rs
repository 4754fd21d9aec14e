//! Pseudonymized analytics: the training columns of goods items as Parquet files in which every
//! trader and declaration identifier is a keyed pseudonym.
//!
//! - [`pseudonym`]: HMAC-SHA-256 pseudonyms under a key per export scope (GDPR Art. 4(5): the
//!   key that could re-identify is held apart from the data, on the node, 0600), and
//!   re-identification by recomputing candidates.
//! - [`table`]: the columns ([`COLUMNS`]: the risk training set's, with Parquet names and types)
//!   and the Parquet writer and reader (the low-level `parquet` API: no arrow, Snappy).
//!
//! Invariant: an exported file never holds an identifier in clear: every column of class
//! [`Class::Party`] or [`Class::Declaration`] is pseudonymized before it is written.

pub mod pseudonym;
pub mod table;

pub use pseudonym::{Pseudonymizer, ScopeKeys};
pub use table::{COLUMNS, Class, Column, Kind, read_parquet, to_training_csv, write_parquet};

/// Errors of exports.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The Parquet library refused.
    #[error("parquet: {0}")]
    Parquet(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// A row does not have the expected columns or a value its column's type.
    #[error("{0}")]
    Data(String),
    /// A scope name that cannot name a key file.
    #[error("invalid export scope {0:?}: use 1 to 64 letters, digits, '-', '_' or '.'")]
    Scope(String),
}

impl From<parquet::errors::ParquetError> for ExportError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        ExportError::Parquet(e.to_string())
    }
}
