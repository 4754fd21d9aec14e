//! Column mappings: which CSV column holds which declaration field.
//!
//! A mapping file is plain text, one `field = Column name` a line (the column name may be
//! quoted; `#` starts a comment). The fields are [`Field`]'s names. The KCS benchmark mapping
//! ([`Mapping::kcs`]) is built in; any other CSV is read through a mapping file.
//!
//! ```text
//! # my-export.mapping
//! declaration_id = "MRN"
//! date           = Acceptance date
//! hs             = Commodity code
//! fraud          = Fraud found
//! ```

use std::fmt;

use crate::error::RiskError;

/// A declaration field (or an inspection label) that a CSV column can fill, with the WCO DM
/// element it lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `Declaration/ID` (MRN).
    DeclarationId,
    /// `GovernmentAgencyGoodsItem/SequenceNumeric`.
    Item,
    /// `Declaration/AcceptanceDateTime` (ISO 8601 date or zoned date-time).
    Date,
    /// `Declaration/DeclarationOfficeID`.
    Office,
    /// `Declaration/Declarant/ID`.
    Declarant,
    /// `GoodsShipment/Importer/ID`.
    Importer,
    /// `GoodsShipment/Seller/ID`.
    Seller,
    /// `GoodsShipment/Consignment/Carrier/ID` (carrier or courier).
    Carrier,
    /// `Commodity/Classification/ID` (HS code).
    Hs,
    /// `GoodsShipment/ExportCountry/ID` (country of departure).
    Departure,
    /// `GovernmentAgencyGoodsItem/Origin/CountryCode`.
    Origin,
    /// `GovernmentAgencyGoodsItem/Origin/TypeCode` (how origin is evidenced).
    OriginType,
    /// `Commodity/DutyTaxFee/TaxRateNumeric` (percent).
    TaxRate,
    /// `Commodity/DutyTaxFee/TypeCode`.
    TaxType,
    /// `Commodity/DutyTaxFee/Payment/MethodCode`.
    PaymentMethod,
    /// `Commodity/GoodsMeasure/NetNetWeightMeasure` (kg).
    NetMass,
    /// `Commodity/InvoiceLine/ItemChargeAmount`.
    Value,
    /// `Commodity/InvoiceLine/ItemChargeAmount/@currencyID`.
    Currency,
    /// `Declaration/BorderTransportMeans/ModeCode`.
    TransportMode,
    /// `GovernmentAgencyGoodsItem/GovernmentProcedure/CurrentCode`.
    Procedure,
    /// `GoodsShipment/TransactionNatureCode`.
    TransactionNature,
    /// `Declaration/SpecificCircumstancesCodeCode` (processing type).
    Circumstances,
    /// `Declaration/AuthorisationHolder/CategoryCode` for the importer (AEOC, AEOS, AEOF).
    AeoCategory,
    /// Label: the inspection found fraud (0/1, true/false, yes/no).
    Fraud,
    /// Label: the fraud was critical: a yes/no flag, or a level as KCS codes it (0 none,
    /// 1 fraud, 2 critical fraud).
    CriticalFraud,
    /// Label: duty at stake recovered by the inspection; when not mapped it is
    /// fraud × value × tax rate / 100.
    Revenue,
}

impl Field {
    /// Every field, in documentation order.
    pub const ALL: [Field; 26] = [
        Field::DeclarationId,
        Field::Item,
        Field::Date,
        Field::Office,
        Field::Declarant,
        Field::Importer,
        Field::Seller,
        Field::Carrier,
        Field::Hs,
        Field::Departure,
        Field::Origin,
        Field::OriginType,
        Field::TaxRate,
        Field::TaxType,
        Field::PaymentMethod,
        Field::NetMass,
        Field::Value,
        Field::Currency,
        Field::TransportMode,
        Field::Procedure,
        Field::TransactionNature,
        Field::Circumstances,
        Field::AeoCategory,
        Field::Fraud,
        Field::CriticalFraud,
        Field::Revenue,
    ];

    /// The name used in mapping files.
    pub fn name(self) -> &'static str {
        match self {
            Field::DeclarationId => "declaration_id",
            Field::Item => "item",
            Field::Date => "date",
            Field::Office => "office",
            Field::Declarant => "declarant",
            Field::Importer => "importer",
            Field::Seller => "seller",
            Field::Carrier => "carrier",
            Field::Hs => "hs",
            Field::Departure => "departure",
            Field::Origin => "origin",
            Field::OriginType => "origin_type",
            Field::TaxRate => "tax_rate",
            Field::TaxType => "tax_type",
            Field::PaymentMethod => "payment_method",
            Field::NetMass => "net_mass",
            Field::Value => "value",
            Field::Currency => "currency",
            Field::TransportMode => "transport_mode",
            Field::Procedure => "procedure",
            Field::TransactionNature => "transaction_nature",
            Field::Circumstances => "circumstances",
            Field::AeoCategory => "aeo_category",
            Field::Fraud => "fraud",
            Field::CriticalFraud => "critical_fraud",
            Field::Revenue => "revenue",
        }
    }

    /// The field of a mapping-file name.
    pub fn from_name(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == s)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which CSV column fills which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// `(field, column name)` pairs, in file order.
    pub columns: Vec<(Field, String)>,
}

/// The built-in mapping of the KCS benchmark data (`kcs_df_syn_*_eng.csv`).
const KCS: &str = "\
declaration_id = Declaration ID
date = Date
office = Office ID
circumstances = Process Type
procedure = Import Type
transaction_nature = Import Use
payment_method = Payment Type
transport_mode = Mode of Transport
declarant = Declarant ID
importer = Importer ID
seller = Seller ID
carrier = Courier ID
hs = HS6 Code
departure = Country of Departure
origin = Country of Origin
tax_rate = Tax Rate
tax_type = Tax Type
origin_type = Country of Origin Indicator
net_mass = Net Mass
value = Item Price
fraud = Fraud
critical_fraud = Critical Fraud
";

impl Mapping {
    /// The mapping of the KCS benchmark CSV files.
    pub fn kcs() -> Mapping {
        match Mapping::parse(KCS) {
            Ok(m) => m,
            // The text is a constant checked by a unit test.
            Err(_) => Mapping { columns: Vec::new() },
        }
    }

    /// The mapping-file text of this mapping.
    pub fn to_text(&self) -> String {
        self.columns.iter().map(|(f, c)| format!("{f} = \"{c}\"\n")).collect()
    }

    /// Parses a mapping file; errors name the line and column (1-based).
    pub fn parse(text: &str) -> Result<Mapping, RiskError> {
        let mut columns: Vec<(Field, String)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |column: usize, message: String| RiskError::Mapping { line, column, message };
            let content = strip_comment(raw);
            if content.trim().is_empty() {
                continue;
            }
            let Some(eq) = content.find('=') else {
                let col = content.len() - content.trim_start().len() + 1;
                return Err(err(col, "expected `field = Column name`".into()));
            };
            let key = content[..eq].trim();
            let key_col = content.len() - content.trim_start().len() + 1;
            if key.is_empty() {
                return Err(err(key_col, "a field name is missing before `=`".into()));
            }
            let Some(field) = Field::from_name(key) else {
                let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                return Err(err(key_col, format!("unknown field `{key}`; expected one of: {}", names.join(", "))));
            };
            let rest = &content[eq + 1..];
            let value_col = eq + 2 + (rest.len() - rest.trim_start().len());
            let value = rest.trim();
            let value = if let Some(q) = value.strip_prefix('"') {
                match q.strip_suffix('"') {
                    Some(inner) => inner,
                    None => return Err(err(value_col, "unterminated quoted column name".into())),
                }
            } else {
                value
            };
            if value.is_empty() {
                return Err(err(value_col, format!("field `{key}` has no column name")));
            }
            if columns.iter().any(|(f, _)| *f == field) {
                return Err(err(key_col, format!("field `{key}` is mapped twice")));
            }
            columns.push((field, value.to_owned()));
        }
        if columns.is_empty() {
            return Err(RiskError::Mapping { line: 1, column: 1, message: "the mapping maps no column".into() });
        }
        Ok(Mapping { columns })
    }

    /// The column mapped to `field`.
    pub fn column(&self, field: Field) -> Option<&str> {
        self.columns.iter().find(|(f, _)| *f == field).map(|(_, c)| c.as_str())
    }
}

fn strip_comment(line: &str) -> &str {
    // A `#` inside a quoted column name is part of the name.
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcs_mapping_parses() {
        let m = Mapping::parse(KCS).unwrap();
        assert_eq!(m.columns.len(), 22);
        assert_eq!(m.column(Field::Hs), Some("HS6 Code"));
        assert_eq!(Mapping::parse(&m.to_text()).unwrap(), m);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = Mapping::parse("hs = HS\n  bogus = X\n").unwrap_err();
        assert!(matches!(e, RiskError::Mapping { line: 2, column: 3, .. }), "{e}");
        let e = Mapping::parse("hs HS\n").unwrap_err();
        assert!(matches!(e, RiskError::Mapping { line: 1, column: 1, .. }), "{e}");
        let e = Mapping::parse("# c\nhs = \n").unwrap_err();
        assert!(matches!(e, RiskError::Mapping { line: 2, column: 6, .. }), "{e}");
        let e = Mapping::parse("hs = \"HS\nx").unwrap_err();
        assert!(matches!(e, RiskError::Mapping { line: 1, .. }), "{e}");
        let e = Mapping::parse("hs = A\nhs = B").unwrap_err();
        assert!(matches!(e, RiskError::Mapping { line: 2, column: 1, .. }), "{e}");
        assert!(Mapping::parse("# nothing\n").is_err());
        assert_eq!(Mapping::parse("hs = \"A # B\" # note").unwrap().column(Field::Hs), Some("A # B"));
    }
}
