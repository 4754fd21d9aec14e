//! Codes as categories: the learned model may split a code feature (HS chapter, heading and
//! subheading, origin, departure, office, procedure, …) by a *set* of codes instead of by a
//! threshold on the code's number, which orders codes by an accident of their encoding.
//!
//! A [`CodeBook`] lists, for each code feature of [`crate::features::FEATURES`], the codes
//! seen in the training data, ascending: the code at position `i` is category `i` for the
//! trees. It is learned with the model and saved in the model file ([`CategoryCodes`]), so a
//! model always reads codes the way it was trained. A code the training data never held, like
//! a missing one, takes the split's default direction: the model has nothing to say about it.

use hessboost::data::FeatureType;
use serde::{Deserialize, Serialize};

use crate::error::RiskError;
use crate::features::{FEATURES, FeatureVector, N_FEATURES, Unit};

/// The most codes one feature may hold (HS subheadings: about 5,600 in HS 2022).
pub const MAX_CODES: usize = 1 << 16;

/// The codes of one categorical feature, as written in a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryCodes {
    /// The feature's name.
    pub feature: String,
    /// Its codes (the feature's values) seen in training, ascending.
    pub codes: Vec<f32>,
}

/// The codes of every categorical feature of a model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeBook {
    /// Feature column and its codes, ascending, by column.
    cols: Vec<(usize, Vec<f32>)>,
}

impl CodeBook {
    /// The codes of every code feature in training rows (missing values are not codes). A
    /// code feature that is missing in every row gets no entry.
    pub fn fit(rows: &[FeatureVector]) -> Self {
        let mut cols = Vec::new();
        for (j, def) in FEATURES.iter().enumerate() {
            if def.unit != Unit::Code {
                continue;
            }
            let mut codes: Vec<f32> = rows.iter().map(|r| r[j]).filter(|v| v.is_finite()).collect();
            codes.sort_by(f32::total_cmp);
            codes.dedup();
            codes.truncate(MAX_CODES);
            if !codes.is_empty() {
                cols.push((j, codes));
            }
        }
        CodeBook { cols }
    }

    /// The book of a model file, checked: known code features, each once, codes finite and
    /// strictly ascending.
    pub fn from_meta(list: &[CategoryCodes]) -> Result<Self, RiskError> {
        let mut cols: Vec<(usize, Vec<f32>)> = Vec::with_capacity(list.len());
        for c in list {
            let j = FEATURES.iter().position(|f| f.name == c.feature && f.unit == Unit::Code).ok_or_else(|| {
                RiskError::Model(format!("the model's codes name {:?}, not a code feature", c.feature))
            })?;
            if cols.iter().any(|(k, _)| *k == j) {
                return Err(RiskError::Model(format!("the model lists the codes of {:?} twice", c.feature)));
            }
            if c.codes.is_empty()
                || c.codes.len() > MAX_CODES
                || c.codes.iter().any(|v| !v.is_finite())
                || c.codes.windows(2).any(|w| w[0] >= w[1])
            {
                return Err(RiskError::Model(format!(
                    "the model's codes of {:?} are not 1 to {MAX_CODES} finite values in ascending order",
                    c.feature
                )));
            }
            cols.push((j, c.codes.clone()));
        }
        cols.sort_by_key(|(j, _)| *j);
        Ok(CodeBook { cols })
    }

    /// The book as written in a model file.
    pub fn to_meta(&self) -> Vec<CategoryCodes> {
        self.cols
            .iter()
            .map(|(j, codes)| CategoryCodes { feature: FEATURES[*j].name.to_owned(), codes: codes.clone() })
            .collect()
    }

    /// No categorical feature.
    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// How many codes feature `j` has, when it is categorical.
    pub fn len_of(&self, j: usize) -> Option<usize> {
        self.cols.iter().find(|(k, _)| *k == j).map(|(_, c)| c.len())
    }

    /// The columns of the categorical features.
    pub fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.cols.iter().map(|(j, _)| *j)
    }

    /// Replaces each categorical feature's code in a row (of [`N_FEATURES`] values) by its
    /// category (its position among the codes); a missing or unknown code becomes missing.
    pub fn encode(&self, row: &mut [f32]) {
        for (j, codes) in &self.cols {
            if let Some(v) = row.get_mut(*j) {
                *v = position(codes, *v).map_or(f32::NAN, |i| i as f32);
            }
        }
    }

    /// [`Self::encode`] on every row of a row-major matrix.
    pub fn encode_rows(&self, rows: &mut [f32]) {
        if self.is_empty() {
            return;
        }
        for row in rows.chunks_exact_mut(N_FEATURES) {
            self.encode(row);
        }
    }

    /// The trainer's feature types: categorical for the book's features.
    pub fn feature_types(&self) -> Vec<FeatureType> {
        (0..N_FEATURES)
            .map(|j| if self.len_of(j).is_some() { FeatureType::Categorical } else { FeatureType::Numerical })
            .collect()
    }
}

/// Where `v` is among ascending finite `codes`: a binary search whose steps are selects, not
/// branches (codes arrive in no order a branch predictor could learn).
fn position(codes: &[f32], v: f32) -> Option<usize> {
    if !v.is_finite() || codes.is_empty() {
        return None;
    }
    let (mut base, mut size) = (0, codes.len());
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        base = if codes[mid] <= v { mid } else { base };
        size -= half;
    }
    (codes[base] == v).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str) -> usize {
        FEATURES.iter().position(|f| f.name == name).unwrap()
    }

    #[test]
    fn codes_become_categories_and_unknown_codes_become_missing() {
        let (origin, value) = (col("origin"), col("value"));
        let mut rows = vec![[f32::NAN; N_FEATURES]; 3];
        for (r, code) in rows.iter_mut().zip([730.0, 120.0, 730.0]) {
            r[origin] = code;
            r[value] = 5.0;
        }
        let book = CodeBook::fit(&rows);
        assert_eq!(book.len_of(origin), Some(2));
        assert_eq!(book.len_of(value), None, "a money amount is not a code");
        let mut row = rows[0];
        book.encode(&mut row);
        assert_eq!((row[origin], row[value]), (1.0, 5.0));
        row[origin] = 999.0;
        book.encode(&mut row);
        assert!(row[origin].is_nan(), "a code never seen in training is missing to the model");
        // Saved and read back the same; a book naming a non-code feature is refused.
        assert_eq!(CodeBook::from_meta(&book.to_meta()).unwrap(), book);
        let bad = [CategoryCodes { feature: "value".into(), codes: vec![1.0] }];
        assert!(CodeBook::from_meta(&bad).unwrap_err().to_string().contains("not a code feature"));
        // Every code found where it is, and values between, around or beyond them not found.
        let codes: Vec<f32> = (0..37).map(|i| (i * 3) as f32).collect();
        for (i, c) in codes.iter().enumerate() {
            assert_eq!(position(&codes[..=i], *c), Some(i));
            assert_eq!(position(&codes, *c), Some(i));
            assert_eq!(position(&codes, c + 1.0), None);
        }
        assert_eq!(position(&codes, -1.0), None);
        assert_eq!(position(&codes, f32::NAN), None);
        let unsorted = [CategoryCodes { feature: "origin".into(), codes: vec![2.0, 1.0] }];
        assert!(CodeBook::from_meta(&unsorted).unwrap_err().to_string().contains("ascending"));
    }
}
