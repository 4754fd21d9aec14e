//! The training set fed back by inspections, as a CSV that `borderlink risk train` reads.
//!
//! Every inspection result recorded by the engine ([`crate::RiskEngine::record_inspection`])
//! leaves a [`crate::engine::FeedbackRow`]: the goods item as it was declared and what the
//! inspection found. [`write_csv`] writes them in the column layout of the KCS benchmark data
//! (the built-in mapping, [`crate::mapping::Mapping::kcs`]), so the exported file is read by
//! the same importer and its history features are recomputed by replaying it in time order —
//! the same no-leakage rule as for any other training data. Two columns follow the KCS ones:
//! the duty the inspection recovered (`Revenue`, read with `revenue = Revenue` in a mapping)
//! and whether the declaration was drawn by the random selection (`Random Selection`: an
//! unbiased label).

use std::io::Write;

use crate::engine::FeedbackRow;
use crate::error::RiskError;
use crate::item::format_day;

/// The header: the KCS columns, then the two feedback columns.
pub const COLUMNS: [&str; 24] = [
    "Declaration ID",
    "Date",
    "Office ID",
    "Process Type",
    "Import Type",
    "Import Use",
    "Payment Type",
    "Mode of Transport",
    "Declarant ID",
    "Importer ID",
    "Seller ID",
    "Courier ID",
    "HS6 Code",
    "Country of Departure",
    "Country of Origin",
    "Tax Rate",
    "Tax Type",
    "Country of Origin Indicator",
    "Net Mass",
    "Item Price",
    "Fraud",
    "Critical Fraud",
    "Revenue",
    "Random Selection",
];

fn number(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map(|x| x.to_string()).unwrap_or_default()
}

/// Writes the feedback rows as CSV (header first) and returns how many rows were written.
pub fn write_csv<W: Write>(rows: &[FeedbackRow], w: W) -> Result<usize, RiskError> {
    let mut out = csv::Writer::from_writer(w);
    let err = |e: csv::Error| RiskError::Io(std::io::Error::other(e.to_string()));
    out.write_record(COLUMNS).map_err(err)?;
    for r in rows {
        let i = &r.item;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let critical = if r.outcome.critical {
            "2"
        } else if r.outcome.fraud {
            "1"
        } else {
            "0"
        };
        let record: [String; 24] = [
            i.declaration_id.clone(),
            i.day.map(format_day).unwrap_or_default(),
            text(&i.office),
            text(&i.circumstances),
            text(&i.procedure),
            text(&i.transaction_nature),
            text(&i.payment_method),
            text(&i.transport_mode),
            text(&i.declarant),
            text(&i.importer),
            text(&i.seller),
            text(&i.carrier),
            text(&i.hs),
            text(&i.departure),
            text(&i.origin),
            number(i.tax_rate),
            text(&i.tax_type),
            text(&i.origin_type),
            number(i.net_mass_kg),
            number(i.value),
            u8::from(r.outcome.fraud).to_string(),
            critical.to_owned(),
            number(Some(r.outcome.revenue)),
            u8::from(r.random).to_string(),
        ];
        out.write_record(&record).map_err(err)?;
    }
    out.flush()?;
    Ok(rows.len())
}
