//! The exported table: the risk training set's columns (`borderlink_risk::training::COLUMNS`),
//! typed, with the identifier columns pseudonymized, as a Parquet file; and back to the
//! training CSV that `borderlink risk train` reads.

use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::parser::parse_message_type;

use crate::{ExportError, Pseudonymizer};

/// A column's Parquet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// A 64-bit float.
    Double,
    /// A 32-bit integer.
    Int,
}

/// What a column holds, for pseudonymization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// No identifier.
    Plain,
    /// A trader or person identifier (declarant, importer, seller, courier): one pseudonym per
    /// party across these columns.
    Party,
    /// A declaration reference.
    Declaration,
}

impl Class {
    /// The class name hashed with the value.
    pub fn name(self) -> &'static str {
        match self {
            Class::Plain => "plain",
            Class::Party => "party",
            Class::Declaration => "declaration",
        }
    }
}

/// One column: its training-CSV header, its Parquet name, type and class.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header in the training CSV.
    pub csv: &'static str,
    /// The Parquet column name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether it holds an identifier.
    pub class: Class,
}

const fn col(csv: &'static str, name: &'static str, kind: Kind, class: Class) -> Column {
    Column { csv, name, kind, class }
}

/// The columns, in the training CSV's order.
pub const COLUMNS: [Column; 24] = [
    col("Declaration ID", "declaration_id", Kind::Text, Class::Declaration),
    col("Date", "date", Kind::Text, Class::Plain),
    col("Office ID", "office_id", Kind::Text, Class::Plain),
    col("Process Type", "process_type", Kind::Text, Class::Plain),
    col("Import Type", "import_type", Kind::Text, Class::Plain),
    col("Import Use", "import_use", Kind::Text, Class::Plain),
    col("Payment Type", "payment_type", Kind::Text, Class::Plain),
    col("Mode of Transport", "transport_mode", Kind::Text, Class::Plain),
    col("Declarant ID", "declarant_id", Kind::Text, Class::Party),
    col("Importer ID", "importer_id", Kind::Text, Class::Party),
    col("Seller ID", "seller_id", Kind::Text, Class::Party),
    col("Courier ID", "courier_id", Kind::Text, Class::Party),
    col("HS6 Code", "hs6", Kind::Text, Class::Plain),
    col("Country of Departure", "departure_country", Kind::Text, Class::Plain),
    col("Country of Origin", "origin_country", Kind::Text, Class::Plain),
    col("Tax Rate", "tax_rate", Kind::Double, Class::Plain),
    col("Tax Type", "tax_type", Kind::Text, Class::Plain),
    col("Country of Origin Indicator", "origin_indicator", Kind::Text, Class::Plain),
    col("Net Mass", "net_mass_kg", Kind::Double, Class::Plain),
    col("Item Price", "item_price", Kind::Double, Class::Plain),
    col("Fraud", "fraud", Kind::Int, Class::Plain),
    col("Critical Fraud", "critical_fraud", Kind::Int, Class::Plain),
    col("Revenue", "revenue", Kind::Double, Class::Plain),
    col("Random Selection", "random_selection", Kind::Int, Class::Plain),
];

fn schema() -> String {
    let fields: Vec<String> = COLUMNS
        .iter()
        .map(|c| match c.kind {
            Kind::Text => format!("OPTIONAL BYTE_ARRAY {} (UTF8);", c.name),
            Kind::Double => format!("OPTIONAL DOUBLE {};", c.name),
            Kind::Int => format!("OPTIONAL INT32 {};", c.name),
        })
        .collect();
    format!("message borderlink_goods_items {{ {} }}", fields.join(" "))
}

/// Writes rows (each the 24 values of [`COLUMNS`] as text, empty for none) as a Parquet file,
/// pseudonymizing the identifier columns with `p`. Returns the file's bytes.
pub fn write_parquet(rows: &[[String; 24]], p: &Pseudonymizer) -> Result<Vec<u8>, ExportError> {
    let schema = Arc::new(parse_message_type(&schema())?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("borderlink {} (pseudonym scope {})", env!("CARGO_PKG_VERSION"), p.scope()))
            .build(),
    );
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, props)?;
    let mut group = writer.next_row_group()?;
    let mut index = 0;
    while let Some(mut column) = group.next_column()? {
        let c = COLUMNS[index];
        let cells = rows.iter().enumerate().map(|(line, r)| (line, r[index].trim()));
        let mut levels = Vec::with_capacity(rows.len());
        match c.kind {
            Kind::Text => {
                let mut values = Vec::with_capacity(rows.len());
                for (_, v) in cells {
                    levels.push(i16::from(!v.is_empty()));
                    if !v.is_empty() {
                        let v = match c.class {
                            Class::Plain => v.to_owned(),
                            class => p.pseudonym(class.name(), v),
                        };
                        values.push(ByteArray::from(v.into_bytes()));
                    }
                }
                column.typed::<ByteArrayType>().write_batch(&values, Some(&levels), None)?;
            }
            Kind::Double => {
                let mut values = Vec::with_capacity(rows.len());
                for (line, v) in cells {
                    levels.push(i16::from(!v.is_empty()));
                    if !v.is_empty() {
                        values.push(v.parse::<f64>().map_err(|_| {
                            ExportError::Data(format!("row {}: {} {v:?} is not a number", line + 1, c.csv))
                        })?);
                    }
                }
                column.typed::<DoubleType>().write_batch(&values, Some(&levels), None)?;
            }
            Kind::Int => {
                let mut values = Vec::with_capacity(rows.len());
                for (line, v) in cells {
                    levels.push(i16::from(!v.is_empty()));
                    if !v.is_empty() {
                        values.push(v.parse::<i32>().map_err(|_| {
                            ExportError::Data(format!("row {}: {} {v:?} is not an integer", line + 1, c.csv))
                        })?);
                    }
                }
                column.typed::<Int32Type>().write_batch(&values, Some(&levels), None)?;
            }
        }
        column.close()?;
        index += 1;
    }
    group.close()?;
    Ok(writer.into_inner()?)
}

/// Reads a Parquet file of [`COLUMNS`] back into rows of text (empty for null), in column order.
/// A file with other columns is refused with the names it lacks.
pub fn read_parquet(bytes: Vec<u8>) -> Result<Vec<[String; 24]>, ExportError> {
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))?;
    let names: Vec<String> =
        reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.name().to_owned()).collect();
    let missing: Vec<&str> = COLUMNS.iter().map(|c| c.name).filter(|n| !names.iter().any(|x| x == n)).collect();
    if !missing.is_empty() {
        return Err(ExportError::Data(format!(
            "not a Borderlink goods-item export: the Parquet file lacks the column(s) {}",
            missing.join(", ")
        )));
    }
    let mut rows = Vec::new();
    for row in reader.get_row_iter(None)? {
        let row = row?;
        let mut out: [String; 24] = Default::default();
        for (name, field) in row.get_column_iter() {
            let Some(i) = COLUMNS.iter().position(|c| c.name == name) else { continue };
            out[i] = match field {
                Field::Null => String::new(),
                Field::Str(s) => s.clone(),
                Field::Double(d) => d.to_string(),
                Field::Int(n) => n.to_string(),
                other => {
                    return Err(ExportError::Data(format!("column {name}: unexpected value {other}")));
                }
            };
        }
        rows.push(out);
    }
    Ok(rows)
}

/// The rows as the training CSV (`borderlink_risk::training::COLUMNS` header).
pub fn to_training_csv(rows: &[[String; 24]]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let quoted: Vec<String> = cells
            .map(
                |v| if v.contains([',', '"', '\n']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_owned() },
            )
            .collect();
        out.extend_from_slice(quoted.join(",").as_bytes());
        out.push(b'\n');
    };
    line(&mut COLUMNS.iter().map(|c| c.csv));
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(decl: &str, importer: &str, fraud: &str) -> [String; 24] {
        let mut r: [String; 24] = Default::default();
        r[0] = decl.into();
        r[1] = "2026-03-02".into();
        r[8] = importer.into();
        r[9] = importer.into();
        r[12] = "847130".into();
        r[18] = "12.5".into();
        r[20] = fraud.into();
        r
    }

    #[test]
    fn a_written_file_reads_back_with_identifiers_pseudonymized() {
        assert_eq!(COLUMNS.map(|c| c.csv), borderlink_risk::training::COLUMNS, "the training set's columns");
        let p = Pseudonymizer::new("t", [7; 32]);
        let rows = vec![row("LRN-1", "GB553202734852", "1"), row("LRN-2", "GB553202734852", "")];
        let bytes = write_parquet(&rows, &p).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("GB553202734852") && !text.contains("LRN-1"), "no identifier in clear");
        let back = read_parquet(bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0][8], p.pseudonym("party", "GB553202734852"));
        assert_eq!(back[0][8], back[0][9], "one pseudonym per party across columns");
        assert_eq!(back[0][0], p.pseudonym("declaration", "LRN-1"));
        assert_eq!((back[0][12].as_str(), back[0][18].as_str(), back[0][20].as_str()), ("847130", "12.5", "1"));
        assert_eq!(back[1][20], "", "a null stays empty");
        let csv = String::from_utf8(to_training_csv(&back)).unwrap();
        assert!(csv.starts_with("Declaration ID,Date,"), "{csv}");
        assert_eq!(csv.lines().count(), 3);
    }

    #[test]
    fn bad_values_and_foreign_files_are_refused_with_what_and_where() {
        let p = Pseudonymizer::new("t", [7; 32]);
        let mut bad = row("LRN-1", "GB1", "1");
        bad[18] = "heavy".into();
        let e = write_parquet(&[bad], &p).unwrap_err().to_string();
        assert!(e.contains("row 1: Net Mass \"heavy\" is not a number"), "{e}");
        assert!(read_parquet(b"not parquet".to_vec()).is_err());
    }
}
