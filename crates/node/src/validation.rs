//! Running the model's validation for the API and the console.
//!
//! Validation is pure and synchronous, and a large document takes milliseconds of CPU: it runs
//! on tokio's blocking pool so that it never stalls the threads that serve other requests.

use axum::body::Bytes;
use borderlink_model::{RecordType, Report, ValidateOptions};

use crate::error::ApiError;

/// Validates one document, JSON or WCO DM XML, as `record_type` (detected when `None`).
pub(crate) async fn validate(
    document: Bytes,
    record_type: Option<RecordType>,
    max_bytes: usize,
) -> Result<Report, ApiError> {
    let opts = ValidateOptions { record_type, max_bytes };
    let report = tokio::task::spawn_blocking(move || borderlink_model::validate(&document, &opts))
        .await
        .map_err(|e| ApiError::Internal(format!("validation task failed: {e}")))?;
    tracing::debug!(
        valid = report.valid,
        record_type = report.record_type.map(RecordType::name),
        errors = report.errors.len(),
        warnings = report.warnings.len(),
        "validated"
    );
    Ok(report)
}
