//! CSV in, standardized declarations out: each row becomes a [`DeclarationRecord`] with one
//! goods item, and, when the mapping names the labels, the inspection [`Outcome`] of that item.
//!
//! The caller passes the reader: this module opens no file.

use std::io::Read;

use borderlink_model::DeclarationRecord;
use borderlink_model::measure::{Amount, Measure};
use borderlink_model::wco;

use crate::error::RiskError;
use crate::history::Outcome;
use crate::item::parse_day;
use crate::mapping::{Field, Mapping};

/// One imported row: the declaration and, for labelled data, what its inspection found.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRow {
    /// The standardized declaration built from the row.
    pub record: DeclarationRecord,
    /// The inspection outcome, when the mapping names a `fraud` column.
    pub outcome: Option<Outcome>,
    /// The row's line in the file (1-based, the header is line 1).
    pub line: u64,
}

/// Reads a whole CSV (header line first) through `mapping`. Errors name the line and column.
pub fn read_csv<R: Read>(reader: R, mapping: &Mapping) -> Result<Vec<ImportedRow>, RiskError> {
    let mut rows = Vec::new();
    for_each_row(reader, mapping, |row| {
        rows.push(row);
        Ok(())
    })?;
    Ok(rows)
}

/// Streams the rows of a CSV through `mapping` into `f`, stopping at the first error.
pub fn for_each_row<R: Read>(
    reader: R,
    mapping: &Mapping,
    mut f: impl FnMut(ImportedRow) -> Result<(), RiskError>,
) -> Result<(), RiskError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| csv_error(&e, "header"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect::<Vec<_>>();
    let mut index = Vec::with_capacity(mapping.columns.len());
    for (field, column) in &mapping.columns {
        let Some(i) = headers.iter().position(|h| h == column) else {
            return Err(RiskError::Csv {
                line: 1,
                column: column.clone(),
                message: format!("the header has no column {column:?} (mapped to `{field}`)"),
            });
        };
        index.push((*field, i, column.as_str()));
    }
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(&e, "?")),
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut row = RowValues::default();
        for &(field, i, column) in &index {
            let value = record.get(i).unwrap_or("").trim();
            if !value.is_empty() {
                row.set(field, value).map_err(|message| RiskError::Csv { line, column: column.to_owned(), message })?;
            }
        }
        f(row.build(line))?;
    }
    Ok(())
}

/// The labelled goods items of imported rows, for training and evaluation.
pub fn examples(rows: &[ImportedRow]) -> Vec<crate::features::Example> {
    rows.iter()
        .flat_map(|r| {
            crate::item::Item::from_declaration(&r.record)
                .into_iter()
                .map(move |item| crate::features::Example { item, outcome: r.outcome })
        })
        .collect()
}

fn csv_error(e: &csv::Error, column: &str) -> RiskError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not UTF-8", err.field() + 1),
        _ => e.to_string(),
    };
    RiskError::Csv { line, column: column.to_owned(), message }
}

/// `AdditionalInformation/StatementTypeCode` marking a national code whose value does not fit
/// the WCO element's format (KCS transport modes are `10`, `40`; WCO's `ModeCode` is `n1`).
pub const NATIONAL_CODES: [(Field, &str); 3] =
    [(Field::TransportMode, "NTM"), (Field::TaxType, "NTT"), (Field::PaymentMethod, "NPM")];

/// Whether `value` fits the WCO element `field` lands in.
fn fits_wco(field: Field, value: &str) -> bool {
    match field {
        Field::TransportMode => value.len() == 1 && value.bytes().all(|b| b.is_ascii_digit()),
        Field::TaxType => value.chars().count() <= 3,
        Field::PaymentMethod => value.len() == 1 && value.bytes().all(|b| b.is_ascii_alphabetic()),
        _ => true,
    }
}

#[derive(Default)]
struct RowValues {
    text: [Option<String>; Field::ALL.len()],
    numbers: [Option<f64>; Field::ALL.len()],
    day_ok: bool,
}

fn parse_number(s: &str) -> Result<f64, String> {
    s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("{s:?} is not a number"))
}

fn parse_flag(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" | "yes" | "y" | "t" => Ok(true),
        "0" | "0.0" | "false" | "no" | "n" | "f" => Ok(false),
        _ => Err(format!("{s:?} is not a yes/no value (expected 0/1, true/false or yes/no)")),
    }
}

impl RowValues {
    fn set(&mut self, field: Field, value: &str) -> Result<(), String> {
        let slot = field as usize;
        match field {
            Field::TaxRate | Field::NetMass | Field::Value | Field::Revenue => {
                let v = parse_number(value)?;
                if v < 0.0 {
                    return Err(format!("{value:?} is negative"));
                }
                self.numbers[slot] = Some(v);
            }
            Field::Item => {
                let v = value.parse::<u64>().map_err(|_| format!("{value:?} is not an item number"))?;
                self.numbers[slot] = Some(v as f64);
            }
            Field::Fraud => {
                self.numbers[slot] = Some(if parse_flag(value)? { 1.0 } else { 0.0 });
            }
            Field::CriticalFraud => {
                // A level (KCS: 0 none, 1 fraud, 2 critical fraud) or a yes/no flag.
                let critical = match value.parse::<f64>() {
                    Ok(level) if level.is_finite() => level >= 2.0,
                    _ => parse_flag(value)?,
                };
                self.numbers[slot] = Some(if critical { 1.0 } else { 0.0 });
            }
            Field::Date => {
                if parse_day(value).is_none() {
                    return Err(format!("{value:?} is not an ISO 8601 date (YYYY-MM-DD or a zoned date-time)"));
                }
                self.day_ok = true;
            }
            _ => {}
        }
        self.text[slot] = Some(value.to_owned());
        Ok(())
    }

    fn text(&self, f: Field) -> Option<String> {
        self.text[f as usize].clone()
    }

    fn number(&self, f: Field) -> Option<f64> {
        self.numbers[f as usize]
    }

    fn build(self, line: u64) -> ImportedRow {
        // Codes that do not fit their WCO element travel as national additional information.
        let mut national = Vec::new();
        let mut wco_text = |f: Field| -> Option<String> {
            let v = self.text(f)?;
            if fits_wco(f, &v) {
                return Some(v);
            }
            let marker = NATIONAL_CODES.iter().find(|(g, _)| *g == f).map(|(_, m)| *m)?;
            national.push(wco::AdditionalInformation {
                statement_code: Some(v),
                statement_type_code: Some(marker.to_owned()),
                ..Default::default()
            });
            None
        };
        let transport_mode = wco_text(Field::TransportMode);
        let tax_type = wco_text(Field::TaxType);
        let payment_method = wco_text(Field::PaymentMethod);
        let t = |f| self.text(f);
        let date =
            t(Field::Date).filter(|_| self.day_ok).map(|d| if d.len() == 10 { format!("{d}T00:00:00Z") } else { d });
        let commodity = wco::Commodity {
            classification: t(Field::Hs)
                .map(|id| vec![wco::Classification { id: Some(id), identification_type_code: Some("TSP".into()) }])
                .unwrap_or_default(),
            duty_tax_fee: if self.number(Field::TaxRate).is_some() || tax_type.is_some() || payment_method.is_some() {
                vec![wco::DutyTaxFee {
                    tax_rate_numeric: self.number(Field::TaxRate),
                    type_code: tax_type,
                    payment: payment_method.map(|m| wco::Payment { method_code: Some(m), ..Default::default() }),
                    ..Default::default()
                }]
            } else {
                Vec::new()
            },
            goods_measure: self.number(Field::NetMass).map(|kg| wco::GoodsMeasure {
                net_net_weight_measure: Some(Measure { value: kg, unit_code: Some("KGM".into()) }),
                ..Default::default()
            }),
            invoice_line: self.number(Field::Value).map(|v| wco::InvoiceLine {
                item_charge_amount: Some(Amount { value: v, currency_id: t(Field::Currency) }),
            }),
            ..Default::default()
        };
        let goods_item = wco::GovernmentAgencyGoodsItem {
            sequence_numeric: self.number(Field::Item).map_or(1, |v| v as u64),
            commodity: Some(commodity),
            additional_information: national,
            origin: if t(Field::Origin).is_some() || t(Field::OriginType).is_some() {
                vec![wco::Origin { country_code: t(Field::Origin), type_code: t(Field::OriginType), region_id: None }]
            } else {
                Vec::new()
            },
            government_procedure: t(Field::Procedure)
                .map(|c| vec![wco::GovernmentProcedure { current_code: Some(c), previous_code: None }])
                .unwrap_or_default(),
            ..Default::default()
        };
        let importer = t(Field::Importer);
        let shipment = wco::GoodsShipment {
            importer: importer.clone().map(|id| wco::Importer { id: Some(id), ..Default::default() }),
            seller: t(Field::Seller).map(|id| wco::Seller { id: Some(id), ..Default::default() }),
            export_country: t(Field::Departure).map(|id| wco::ExportCountry { id: Some(id) }),
            transaction_nature_code: t(Field::TransactionNature),
            consignment: t(Field::Carrier).map(|id| wco::Consignment {
                carrier: Some(wco::Carrier { id: Some(id), ..Default::default() }),
                ..Default::default()
            }),
            government_agency_goods_item: vec![goods_item],
            ..Default::default()
        };
        let declaration = wco::Declaration {
            function_code: "9".into(),
            id: t(Field::DeclarationId),
            acceptance_date_time: date,
            declaration_office_id: t(Field::Office),
            specific_circumstances_code_code: t(Field::Circumstances),
            declarant: t(Field::Declarant).map(|id| wco::Declarant { id: Some(id), ..Default::default() }),
            border_transport_means: transport_mode
                .map(|m| wco::BorderTransportMeans { mode_code: Some(m), ..Default::default() }),
            authorisation_holder: t(Field::AeoCategory)
                .map(|c| vec![wco::AuthorisationHolder { id: importer, category_code: Some(c) }])
                .unwrap_or_default(),
            goods_shipment: Some(shipment),
            ..Default::default()
        };
        let outcome = self.number(Field::Fraud).map(|fraud| {
            let fraud = fraud > 0.5;
            let revenue = self.number(Field::Revenue).unwrap_or_else(|| {
                if fraud {
                    self.number(Field::Value).unwrap_or(0.0) * self.number(Field::TaxRate).unwrap_or(0.0) / 100.0
                } else {
                    0.0
                }
            });
            Outcome { fraud, critical: self.number(Field::CriticalFraud).is_some_and(|c| c > 0.5), revenue }
        });
        ImportedRow {
            record: DeclarationRecord { schema_version: None, profile: None, meta_data: None, declaration },
            outcome,
            line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Item;

    const KCS_HEAD: &str = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud\n";

    #[test]
    fn kcs_row_becomes_a_declaration() {
        let csv = format!(
            "{KCS_HEAD}97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,8.0,FEU1,G,108.0,372254.4,1,0\n"
        );
        let rows = read_csv(csv.as_bytes(), &Mapping::kcs()).unwrap();
        assert_eq!(rows.len(), 1);
        let item = &Item::from_declaration(&rows[0].record)[0];
        assert_eq!(item.declaration_id, "97061800");
        assert_eq!(item.hs6(), Some("440890"));
        assert_eq!(item.importer.as_deref(), Some("QLRUBN9"));
        assert_eq!(item.carrier, None);
        assert_eq!(item.value, Some(372254.4));
        assert_eq!(item.circumstances.as_deref(), Some("B"));
        // National codes that do not fit their WCO element survive the trip.
        assert_eq!(item.transport_mode.as_deref(), Some("10"));
        assert_eq!(item.tax_type.as_deref(), Some("FEU1"));
        assert_eq!(item.payment_method.as_deref(), Some("11"));
        let o = rows[0].outcome.unwrap();
        assert!(o.fraud && !o.critical);
        assert!((o.revenue - 372254.4 * 0.08).abs() < 1e-6);
        // The record is a valid standardized declaration.
        let json = serde_json::to_vec(&rows[0].record).unwrap();
        let report = borderlink_model::validate(&json, &Default::default());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let csv = format!("{KCS_HEAD}1,2020-01-01,30,B,11,21,11,10,D,I,S,,440890,BE,BE,8.0,A,G,heavy,10,0,0\n");
        let e = read_csv(csv.as_bytes(), &Mapping::kcs()).unwrap_err();
        assert!(matches!(&e, RiskError::Csv { line: 2, column, .. } if column == "Net Mass"), "{e}");
        let csv = format!("{KCS_HEAD}1,2020-01-01,30\n");
        let e = read_csv(csv.as_bytes(), &Mapping::kcs()).unwrap_err();
        assert!(matches!(&e, RiskError::Csv { line: 2, .. }), "{e}");
        let e = read_csv("a,b\n1,2\n".as_bytes(), &Mapping::kcs()).unwrap_err();
        assert!(matches!(&e, RiskError::Csv { line: 1, column, .. } if column == "Declaration ID"), "{e}");
        let csv = format!("{KCS_HEAD}1,01/02/2020,30,B,11,21,11,10,D,I,S,,440890,BE,BE,8.0,A,G,1,10,0,0\n");
        let e = read_csv(csv.as_bytes(), &Mapping::kcs()).unwrap_err();
        assert!(matches!(&e, RiskError::Csv { line: 2, column, .. } if column == "Date"), "{e}");
    }
}
