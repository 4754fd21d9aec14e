//! Broken copies of the shared samples: each error is reported at its exact path with its rule.

use serde_json::json;

use crate::fixtures::{check, errors, has_error, sample, set};

const ITEM0: &str = "$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0]";

#[test]
fn declaration_errors_are_all_reported_at_once() {
    let mut d = sample("declaration.json");
    set(&mut d, "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/0/Origin/0/CountryCode", json!("XX"));
    set(&mut d, "/Declaration/GoodsShipment/Consignment/TransportEquipment/0/ID", json!("MSKU1234566"));
    set(
        &mut d,
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/1/Commodity/Classification/0/ID",
        json!("84719900"),
    );
    set(&mut d, "/Declaration/InvoiceAmount/currencyID", json!("USX"));
    set(&mut d, "/Declaration/GoodsItemQuantity", json!(3));
    set(&mut d, "/Declaration/GoodsShipment/TradeTerms/ConditionCode", json!("FOX"));
    let r = check(&d);
    assert!(!r.valid);
    let want = [
        (format!("{ITEM0}.Origin[0].CountryCode"), "codelist.country"),
        ("$.Declaration.GoodsShipment.Consignment.TransportEquipment[0].ID".into(), "container.check_digit"),
        (
            "$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[1].Commodity.Classification[0].ID".into(),
            "hs.unknown_subheading",
        ),
        ("$.Declaration.InvoiceAmount.currencyID".into(), "codelist.currency"),
        ("$.Declaration.GoodsItemQuantity".into(), "totals.item_count"),
        ("$.Declaration.GoodsShipment.TradeTerms.ConditionCode".into(), "codelist.incoterm"),
    ];
    for (path, rule) in &want {
        assert!(has_error(&r, path, rule), "missing {rule} at {path}; got {:#?}", errors(&r));
    }
    assert_eq!(r.errors.len(), want.len(), "unexpected extra errors: {:#?}", errors(&r));
}

#[test]
fn totals_must_agree() {
    let mut d = sample("declaration.json");
    set(&mut d, "/Declaration/TotalPackageQuantity", json!(25));
    set(&mut d, "/Declaration/TotalGrossMassMeasure/value", json!(2000.0));
    set(&mut d, "/Declaration/InvoiceAmount/value", json!(150000.0));
    let r = check(&d);
    assert!(has_error(&r, "$.Declaration.TotalPackageQuantity", "totals.packages"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.Declaration.TotalGrossMassMeasure", "totals.gross_mass"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.Declaration.InvoiceAmount", "totals.invoice_amount"), "{:#?}", errors(&r));
}

#[test]
fn formats_are_checked_with_the_wco_format_in_the_message() {
    let mut d = sample("declaration.json");
    set(&mut d, "/Declaration/FunctionCode", json!("9A"));
    set(&mut d, "/Declaration/FunctionalReferenceID", json!("L".repeat(36)));
    set(&mut d, "/Declaration/BorderTransportMeans/RegistrationNationalityCode", json!("DNK"));
    set(&mut d, "/Declaration/CurrencyExchange/0/RateNumeric", json!(0.123456));
    set(&mut d, "/Declaration/IssueDateTime", json!("02/03/2026"));
    let r = check(&d);
    assert!(has_error(&r, "$.Declaration.FunctionCode", "format.characters"), "{:#?}", errors(&r));
    let long = r.errors.iter().find(|i| i.path == "$.Declaration.FunctionalReferenceID").expect("length error");
    assert_eq!(long.rule, "format.length");
    assert!(long.message.contains("an..35"), "{}", long.message);
    assert!(
        has_error(&r, "$.Declaration.BorderTransportMeans.RegistrationNationalityCode", "format.length"),
        "{:#?}",
        errors(&r)
    );
    assert!(has_error(&r, "$.Declaration.CurrencyExchange[0].RateNumeric", "format.decimals"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.Declaration.IssueDateTime", "format.datetime"), "{:#?}", errors(&r));
}

#[test]
fn structural_errors_are_all_reported_and_the_rest_is_still_checked() {
    let mut d = sample("declaration.json");
    set(&mut d, "/Declaration/GoodsItemQuantity", json!("two"));
    d["Declaration"]["GoodsShipment"]["Importer"]["Nmae"] = json!("Typo Ltd");
    set(&mut d, "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/1/Packaging/0/QuantityQuantity", json!(-6));
    set(&mut d, "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/0/Origin/0/CountryCode", json!("XX"));
    let r = check(&d);
    assert!(!r.valid);
    assert!(has_error(&r, "$.Declaration.GoodsItemQuantity", "type.integer"), "{:#?}", errors(&r));
    let unknown = r.errors.iter().find(|i| i.rule == "structure.unknown_element").expect("unknown element");
    assert_eq!(unknown.path, "$.Declaration.GoodsShipment.Importer.Nmae");
    assert!(unknown.message.contains("did you mean Name"), "{}", unknown.message);
    assert!(
        has_error(
            &r,
            "$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[1].Packaging[0].QuantityQuantity",
            "type.integer"
        ),
        "{:#?}",
        errors(&r)
    );
    // The code-list error elsewhere is still found in the same report.
    assert!(has_error(&r, &format!("{ITEM0}.Origin[0].CountryCode"), "codelist.country"), "{:#?}", errors(&r));
}

#[test]
fn missing_required_elements_are_named() {
    let mut d = sample("declaration.json");
    d["Declaration"].as_object_mut().unwrap().remove("FunctionCode");
    d["Declaration"]["GoodsShipment"]["GovernmentAgencyGoodsItem"][1]
        .as_object_mut()
        .unwrap()
        .remove("SequenceNumeric");
    let r = check(&d);
    assert!(has_error(&r, "$.Declaration.FunctionCode", "structure.missing_element"), "{:#?}", errors(&r));
    assert!(
        has_error(
            &r,
            "$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[1].SequenceNumeric",
            "structure.missing_element"
        ),
        "{:#?}",
        errors(&r)
    );
}

#[test]
fn aeo_rules() {
    let mut a = sample("aeo-authorisation.json");
    set(&mut a, "/AuthorisationHolder/CategoryCode", json!("AEOX"));
    set(&mut a, "/ext/validUntil", json!("2019-01-01T00:00:00Z"));
    set(&mut a, "/ext/status", json!("SUSPENDED"));
    set(&mut a, "/ext/mraPartnerProgrammes/0", json!("C-TPAT"));
    a["ext"]["statusHistory"] = json!([
        {"status": "ACTIVE", "at": "2019-06-01T00:00:00Z"},
        {"status": "SUSPENDED", "at": "2026-01-10T00:00:00Z"}
    ]);
    let r = check(&a);
    assert!(has_error(&r, "$.AuthorisationHolder.CategoryCode", "aeo.category"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.ext.validUntil", "aeo.validity"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.ext.mraPartnerProgrammes[0]", "aeo.mra_programme"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.ext.statusHistory[1].reason", "aeo.reason_required"), "{:#?}", errors(&r));
    set(&mut a, "/ext/status", json!("ON_HOLD"));
    let r = check(&a);
    assert!(has_error(&r, "$.ext.status", "type.enum"), "{:#?}", errors(&r));
}

#[test]
fn movement_rules() {
    let mut m = sample("transport-movement.json");
    set(&mut m, "/Consignment/TransportEquipment/0/ID", json!("MSKU123456"));
    set(&mut m, "/Consignment/Itinerary/1/RoutingCountryCode", json!("QQ"));
    set(&mut m, "/Consignment/ext/plannedArrival", json!("2026-02-01T00:00:00Z"));
    set(&mut m, "/Consignment/GoodsLocation/ID", json!("GBZZZ"));
    let r = check(&m);
    assert!(has_error(&r, "$.Consignment.TransportEquipment[0].ID", "container.format"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.Consignment.Itinerary[1].RoutingCountryCode", "codelist.country"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.Consignment.ext.plannedArrival", "dates.order"), "{:#?}", errors(&r));
    assert!(has_error(&r, "$.Consignment.GoodsLocation.ID", "codelist.unlocode"), "{:#?}", errors(&r));
}

#[test]
fn warnings_do_not_invalidate() {
    let mut d = sample("declaration.json");
    d["Declaration"]["GoodsShipment"]["GovernmentAgencyGoodsItem"][0]["StatisticalValueAmount"]
        .as_object_mut()
        .unwrap()
        .remove("currencyID");
    let r = check(&d);
    assert!(r.valid, "{:#?}", errors(&r));
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].rule, "amount.currency_missing");
    assert_eq!(r.warnings[0].path, format!("{ITEM0}.StatisticalValueAmount.currencyID"));
}

#[test]
fn data_quality_names_what_is_missing() {
    let mut d = sample("declaration.json");
    d["Declaration"]["GoodsShipment"]["GovernmentAgencyGoodsItem"][1].as_object_mut().unwrap().remove("Origin");
    let full = check(&sample("declaration.json")).quality.unwrap();
    let r = check(&d);
    let q = r.quality.unwrap();
    assert!(q.score < full.score);
    assert!(q.missing.contains(&"$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[1].Origin".to_owned()), "{q:?}");
}
