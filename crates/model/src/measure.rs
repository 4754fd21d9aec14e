//! Amounts and measures: a number with its currency or unit, as WCO DM `AmountType` and
//! `MeasureType` carry them (in XML, the currency or unit is an attribute of the element).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A monetary amount. In WCO DM XML: `<InvoiceAmount currencyID="USD">152400</InvoiceAmount>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    /// The amount.
    pub value: f64,
    /// ISO 4217 currency code of the amount.
    #[serde(rename = "currencyID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 3))]
    pub currency_id: Option<String>,
}

/// A physical measure. In WCO DM XML: `<GrossMassMeasure unitCode="KGM">1120</GrossMassMeasure>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// The quantity measured.
    pub value: f64,
    /// UN/ECE Recommendation 20 unit code (e.g. `KGM`).
    #[serde(rename = "unitCode", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3))]
    pub unit_code: Option<String>,
}

impl Measure {
    /// The value in kilograms when the unit is a mass unit (KGM, GRM, TNE) or absent (kg assumed).
    pub fn kilograms(&self) -> Option<f64> {
        match self.unit_code.as_deref() {
            None | Some("KGM") => Some(self.value),
            Some("GRM") => Some(self.value / 1000.0),
            Some("TNE") => Some(self.value * 1000.0),
            _ => None,
        }
    }
}
