//! The one error type of risk management, with the context a user needs to fix the input.

/// What can go wrong in risk management.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// A mapping file is malformed.
    #[error("mapping line {line}, column {column}: {message}")]
    Mapping {
        /// 1-based line.
        line: usize,
        /// 1-based column (character position).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A CSV file is malformed or a value does not parse.
    #[error("CSV line {line}, column {column:?}: {message}")]
    Csv {
        /// 1-based line of the file.
        line: u64,
        /// The column's name (or its number when the header is the problem).
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A criteria file is malformed or inconsistent.
    #[error("criteria: {0}")]
    Criteria(String),
    /// A model file cannot be used.
    #[error("model: {0}")]
    Model(String),
    /// Training failed or was asked something impossible.
    #[error("training: {0}")]
    Training(String),
    /// An officer's override was refused.
    #[error("override refused: {0}")]
    Override(String),
    /// The declaration was not assessed here (or has left the queue).
    #[error("declaration {0:?} was not assessed by this node (or has left the risk queue)")]
    NotAssessed(String),
    /// Reading or writing through a caller's reader or writer failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}
