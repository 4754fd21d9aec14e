//! Running the model's validation for the API and the console.
//!
//! Validation is pure and synchronous, and a large document takes milliseconds of CPU: it runs
//! on tokio's blocking pool so that it never stalls the threads that serve other requests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use borderlink_model::{Profile, RecordType, Report, ValidateOptions};

use crate::config::ValidationSection;
use crate::error::{ApiError, NodeError};

/// The validation profiles a node applies: the core profile, the ones its configuration
/// names, and which of them applies when a request names none.
#[derive(Debug)]
pub(crate) struct Profiles {
    default: Arc<Profile>,
    by_name: BTreeMap<String, Arc<Profile>>,
}

impl Default for Profiles {
    fn default() -> Self {
        let core = Arc::clone(Profile::core());
        Self { by_name: BTreeMap::from([(core.name.clone(), Arc::clone(&core))]), default: core }
    }
}

impl Profiles {
    /// Reads the profile files of a `[validation]` section; a file that cannot be read or used,
    /// or two profiles of the same name, stop the node from starting.
    pub(crate) async fn load(section: &ValidationSection) -> Result<Self, NodeError> {
        let mut profiles = Self::default();
        let read = |path: &Path| {
            let path = path.to_owned();
            async move {
                let text = tokio::fs::read_to_string(&path).await.map_err(|e| {
                    NodeError::Config(format!("cannot read the validation profile {}: {e}", path.display()))
                })?;
                Profile::parse(&text)
                    .map(Arc::new)
                    .map_err(|e| NodeError::Config(format!("the validation profile {}: {e}", path.display())))
            }
        };
        for (i, path) in section.profile.iter().chain(&section.profiles).enumerate() {
            let p = read(path).await?;
            if let Some(other) = profiles.by_name.get(&p.name)
                && other != &p
            {
                return Err(NodeError::Config(format!(
                    "two validation profiles are named {:?} ({})",
                    p.name,
                    path.display()
                )));
            }
            // The first file is `profile`, when given: the node's default.
            if i == 0 && section.profile.is_some() {
                profiles.default = Arc::clone(&p);
            }
            profiles.by_name.insert(p.name.clone(), p);
        }
        Ok(profiles)
    }

    /// The profile a request names, or the node's default one.
    pub(crate) fn get(&self, name: Option<&str>) -> Result<Arc<Profile>, ApiError> {
        match name {
            None => Ok(Arc::clone(&self.default)),
            Some(n) => self.by_name.get(n).cloned().ok_or_else(|| {
                ApiError::UnknownProfile(n.to_owned(), self.by_name.keys().cloned().collect::<Vec<_>>().join(", "))
            }),
        }
    }
}

/// Validates one document, JSON or WCO DM XML, as `record_type` (detected when `None`), under
/// `profile`.
pub(crate) async fn validate(
    document: Bytes,
    record_type: Option<RecordType>,
    max_bytes: usize,
    profile: Arc<Profile>,
) -> Result<Report, ApiError> {
    let opts = ValidateOptions { record_type, max_bytes, profile };
    let report = tokio::task::spawn_blocking(move || borderlink_model::validate(&document, &opts))
        .await
        .map_err(|e| ApiError::Internal(format!("validation task failed: {e}")))?;
    tracing::debug!(
        valid = report.valid,
        record_type = report.record_type.map(RecordType::name),
        profile = %report.profile,
        errors = report.errors.len(),
        warnings = report.warnings.len(),
        "validated"
    );
    Ok(report)
}
