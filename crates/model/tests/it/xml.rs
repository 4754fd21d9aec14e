//! WCO DM XML declarations give the same record as their JSON form.

use borderlink_model::{InputFormat, ValidateOptions, validate};

use crate::fixtures::sample_bytes;

fn xml_sample() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/declaration.xml")).expect("xml fixture")
}

#[test]
fn xml_and_json_forms_give_equal_records() {
    let json = validate(&sample_bytes("declaration.json"), &ValidateOptions::default());
    let xml = validate(xml_sample().as_bytes(), &ValidateOptions::default());
    assert!(xml.valid, "{:#?}", xml.errors);
    assert_eq!(xml.format, InputFormat::Xml);
    assert_eq!(json.record, xml.record);
    assert!(json.record.is_some());
}

#[test]
fn xml_errors_carry_xml_element_paths() {
    let doc = xml_sample()
        .replace(
            "<md:CountryCode>CN</md:CountryCode>\n        <md:TypeCode>1</md:TypeCode>",
            "<md:CountryCode>XX</md:CountryCode>\n        <md:TypeCode>1</md:TypeCode>",
        )
        .replace("<md:ItemChargeAmount currencyID=\"USD\">57400", "<md:ItemChargeAmount currencyID=\"ZZZ\">57400")
        .replace("<md:GoodsItemQuantity>2<", "<md:GoodsItemQuantity>two<");
    let r = validate(doc.as_bytes(), &ValidateOptions::default());
    assert!(!r.valid);
    let paths: Vec<(&str, &str)> = r.errors.iter().map(|i| (i.path.as_str(), i.rule.as_str())).collect();
    assert!(
        paths.contains(&(
            "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Origin[1]/CountryCode",
            "codelist.country"
        )),
        "{paths:#?}"
    );
    assert!(
        paths.contains(&("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/InvoiceLine/ItemChargeAmount/@currencyID", "codelist.currency")),
        "{paths:#?}"
    );
    assert!(paths.contains(&("/Declaration/GoodsItemQuantity", "type.integer")), "{paths:#?}");
}

#[test]
fn unknown_xml_elements_are_reported() {
    let doc = xml_sample()
        .replace("<md:TypeCode>IMA</md:TypeCode>", "<md:TypeCode>IMA</md:TypeCode><md:Colour>red</md:Colour>");
    let r = validate(doc.as_bytes(), &ValidateOptions::default());
    assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
    assert_eq!(r.errors[0].path, "/Declaration/Colour");
    assert_eq!(r.errors[0].rule, "structure.unknown_element");
}

#[test]
fn truncated_xml_names_the_open_element() {
    let doc = xml_sample();
    let cut = &doc[..doc.find("<md:Commodity>").unwrap() + 20];
    let r = validate(cut.as_bytes(), &ValidateOptions::default());
    assert!(!r.valid);
    assert_eq!(r.errors[0].rule, "document.truncated");
    assert!(
        r.errors[0].path.starts_with("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity"),
        "{}",
        r.errors[0].path
    );
}
