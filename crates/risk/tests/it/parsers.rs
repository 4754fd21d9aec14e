//! No input makes a parser panic: mapping files, CSV, criteria files, model files.

use borderlink_risk::import::read_csv;
use borderlink_risk::mapping::Mapping;
use borderlink_risk::{CriteriaSet, RiskModel};
use proptest::prelude::*;

const HEAD: &str = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mapping_files_never_panic(text in "\\PC{0,200}") {
        let _ = Mapping::parse(&text);
    }

    #[test]
    fn mapping_lines_with_known_fields_parse(column in "[A-Za-z][A-Za-z0-9 _]{0,20}") {
        let m = Mapping::parse(&format!("hs = \"{column}\"\n")).unwrap();
        prop_assert_eq!(m.columns.len(), 1);
    }

    #[test]
    fn csv_rows_never_panic(rows in proptest::collection::vec("[-0-9A-Za-z.,\" ]{0,120}", 0..8)) {
        let text = format!("{HEAD}{}", rows.join("\n"));
        let _ = read_csv(text.as_bytes(), &Mapping::kcs());
    }

    #[test]
    fn criteria_files_never_panic(text in "\\PC{0,300}") {
        let _ = CriteriaSet::from_json(text.as_bytes());
    }

    #[test]
    fn model_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = RiskModel::read(bytes.as_slice());
    }
}
