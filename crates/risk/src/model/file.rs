//! The model file (`.blrm`): one line of JSON ([`ModelMeta`], with `format` and
//! `formatVersion`), a newline, then the booster in hessboost's native binary encoding.
//!
//! **Invariant:** a file is read only when it says it is a Borderlink risk model in the format
//! version this release writes, with a header line of at most 1 MiB (a wrong file is not read
//! whole), and then only through `RiskModel::new`, which refuses a model trained on another
//! feature set.

use std::io::{BufRead, Read, Write};

use hessboost::prelude::*;
use serde::{Deserialize, Serialize};

use super::{RiskModel, TrainParams, model_err};
use crate::codes::CategoryCodes;
use crate::error::RiskError;
use crate::eval::Metrics;

/// The `format` written in model files.
pub const FORMAT: &str = "borderlink-risk-model";
/// The version of the file layout.
pub const FORMAT_VERSION: u32 = 1;

/// What a model file says about its model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelMeta {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`FORMAT_VERSION`] for files this release writes.
    pub format_version: u32,
    /// `name@hash`: what every score names as the model that produced it.
    pub version: String,
    /// Identity of the feature set ([`crate::features::feature_set_id`]).
    pub feature_set: String,
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Training parameters.
    pub params: TrainParams,
    /// Training rows and frauds among them.
    pub rows: usize,
    /// Frauds in the training rows.
    pub positives: usize,
    /// First and last day of the training data (`YYYY-MM-DD`).
    pub period: Option<(String, String)>,
    /// Metrics on the validation data, when some was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Metrics>,
    /// The codes of each categorical feature ([`TrainParams::categorical`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryCodes>,
}

impl RiskModel {
    /// Writes the model file.
    pub fn write<W: Write>(&self, mut w: W) -> Result<(), RiskError> {
        let header = serde_json::to_string(&self.meta).map_err(model_err)?;
        w.write_all(header.as_bytes())?;
        w.write_all(b"\n")?;
        w.write_all(&self.booster.encode(ModelFormat::Binary).map_err(model_err)?)?;
        w.flush()?;
        Ok(())
    }

    /// Reads a model file, refusing one written for another feature set.
    pub fn read<R: Read>(r: R) -> Result<Self, RiskError> {
        let mut r = std::io::BufReader::new(r);
        let mut header = Vec::new();
        // The header is one JSON line; bound it so that a wrong file is not read whole.
        (&mut r).take(1 << 20).read_until(b'\n', &mut header)?;
        let meta: ModelMeta = serde_json::from_slice(&header)
            .map_err(|e| RiskError::Model(format!("not a Borderlink risk model (header: {e})")))?;
        if meta.format != FORMAT {
            return Err(RiskError::Model(format!("not a Borderlink risk model (format {:?})", meta.format)));
        }
        if meta.format_version != FORMAT_VERSION {
            return Err(RiskError::Model(format!(
                "model file format {} is not supported (this release reads {FORMAT_VERSION})",
                meta.format_version
            )));
        }
        let mut body = Vec::new();
        r.read_to_end(&mut body)?;
        let booster = BoostedModel::decode(&body, ModelFormat::Binary).map_err(model_err)?;
        RiskModel::new(meta, booster)
    }

    /// The booster as an XGBoost JSON model (for XGBoost and other tools).
    pub fn xgboost_json(&self) -> Result<Vec<u8>, RiskError> {
        self.booster.encode(ModelFormat::XgboostJson).map_err(model_err)
    }
}
