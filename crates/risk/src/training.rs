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

/// The training columns of one goods item ([`COLUMNS`] order), with the four label columns
/// (`Fraud`, `Critical Fraud`, `Revenue`, `Random Selection`) taken from `labels` or left empty
/// for an item not inspected.
pub fn item_values(i: &crate::item::Item, labels: Option<(&crate::history::Outcome, bool)>) -> [String; 24] {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (fraud, critical, revenue, random) = match labels {
        Some((o, random)) => (
            u8::from(o.fraud).to_string(),
            (if o.critical {
                "2"
            } else if o.fraud {
                "1"
            } else {
                "0"
            })
            .to_owned(),
            number(Some(o.revenue)),
            u8::from(random).to_string(),
        ),
        None => Default::default(),
    };
    [
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
        fraud,
        critical,
        revenue,
        random,
    ]
}

/// Writes the feedback rows as CSV (header first) and returns how many rows were written.
pub fn write_csv<W: Write>(rows: &[FeedbackRow], w: W) -> Result<usize, RiskError> {
    let mut out = csv::Writer::from_writer(w);
    let err = |e: csv::Error| RiskError::Io(std::io::Error::other(e.to_string()));
    out.write_record(COLUMNS).map_err(err)?;
    for r in rows {
        out.write_record(item_values(&r.item, Some((&r.outcome, r.random)))).map_err(err)?;
    }
    out.flush()?;
    Ok(rows.len())
}
