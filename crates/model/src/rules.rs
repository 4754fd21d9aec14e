//! Business rules: the format checks of the non-generated parts and the cross-field rules
//! (item count, totals, dates in order, HS subheadings, container check digits, AEO validity).
//!
//! Rule names are stable: partners' systems and our tests match on them.

use crate::category::{self, Category};
use crate::check::{Check, Checker, CodeList, display_value};
use crate::codelists;
use crate::container::{ContainerIdError, check_container_id};
use crate::datetime;
use crate::records::{
    AeoAuthorizationRecord, AeoConsentRecord, AeoStatus, Authority, ConsentStatus, DeclarationRecord,
    InspectionOutcome, InspectionResultRecord, Record, SCHEMA_VERSION, TransportMovementRecord,
};
use crate::wco::{self, TransportEquipment};

/// Relative tolerance for totals that are sums of item values (rounding of declared values).
const TOTAL_TOLERANCE: f64 = 0.005;

pub(crate) fn check_record(record: &Record, cx: &mut Checker) {
    match record {
        Record::Declaration(r) => check_declaration(r, cx),
        Record::AeoAuthorization(r) => check_aeo(r, cx),
        Record::TransportMovement(r) => check_movement(r, cx),
        Record::InspectionResult(r) => check_inspection(r, cx),
        Record::AeoConsent(r) => check_consent(r, cx),
    }
}

fn check_version(v: &Option<String>, cx: &mut Checker) {
    if let Some(v) = v
        && v != SCHEMA_VERSION
    {
        cx.error(
            Some("schemaVersion"),
            "schema.version",
            format!("schema version {} is not supported; this node reads version {SCHEMA_VERSION}", display_value(v)),
        );
    }
}

fn check_datetime(cx: &mut Checker, key: &'static str, v: &str) {
    cx.datetime(key, v, 35);
}

// ---------------------------------------------------------------------------------------------
// Declaration

fn check_declaration(r: &DeclarationRecord, cx: &mut Checker) {
    check_version(&r.schema_version, cx);
    if let Some(m) = &r.meta_data {
        cx.at("MetaData", |cx| metadata_rules(m, cx));
    }
    cx.at("Declaration", |cx| {
        let d = &r.declaration;
        d.check(cx);
        declaration_rules(d, cx);
    });
}

fn metadata_rules(m: &crate::records::DocumentMetaData, cx: &mut Checker) {
    for (key, v) in m.fields() {
        if let Some(v) = v {
            let max = if key == "ResponsibleAgencyName" { 70 } else { 35 };
            cx.text(key, v, b'x', max, false);
        }
    }
    if let Some(c) = &m.responsible_country_code {
        cx.code("ResponsibleCountryCode", c, CodeList::Country);
    }
    if let Some(t) = &m.wco_type_name
        && t != "DEC"
    {
        cx.error(
            Some("WCOTypeName"),
            "wrapper.type_name",
            format!("the wrapper says its message is {}; a declaration's WCOTypeName is DEC", display_value(t)),
        );
    }
    if let Some(v) = &m.wco_data_model_version_code
        && !v.starts_with("3.")
    {
        cx.warning(
            Some("WCODataModelVersionCode"),
            "wrapper.version",
            format!("WCO Data Model version {} is not a 3.x version; the dataset follows WCO DM 3.6", display_value(v)),
        );
    }
}

/// Reports `rule` at `key` when the declaration's category requires the element and it is
/// absent (see [`category::REQUIREMENTS`]).
fn require(
    category: Category,
    present: bool,
    cx: &mut Checker,
    key: &'static str,
    rule: &'static str,
    message: impl FnOnce() -> String,
) -> bool {
    let required = category::requires(category, rule);
    if required && !present {
        cx.error(Some(key), rule, message());
    }
    required
}

fn declaration_rules(d: &wco::Declaration, cx: &mut Checker) {
    let applied = category::categorize(d.type_code.as_deref());
    let cat = applied.category;
    if let (Category::Unknown, Some(t)) = (cat, &d.type_code) {
        cx.error(
            Some("TypeCode"),
            "declaration.type_code",
            format!("{} is not a declaration category: {}", display_value(t), category::unknown_reason(t)),
        );
    }
    let what = applied.category.name();
    require(cat, d.id.is_some(), cx, "ID", "declaration.reference_missing", || {
        format!("an {what} request must give the ID (MRN) of the declaration it applies to")
    });
    if let (Some(issue), Some(acc)) = (&d.issue_date_time, &d.acceptance_date_time)
        && let (Some((i, zi)), Some((a, za))) = (datetime::parse_local(issue), datetime::parse_local(acc))
        && (zi == datetime::Zone::Local) == (za == datetime::Zone::Local)
        && a < i
    {
        cx.error(
            Some("AcceptanceDateTime"),
            "dates.order",
            "the acceptance date is before the issuing date (IssueDateTime)".to_owned(),
        );
    }
    let Some(gs) = &d.goods_shipment else {
        require(cat, false, cx, "GoodsShipment", "declaration.goods_shipment_missing", || {
            format!("a {what} declaration needs a GoodsShipment with at least one goods item")
        });
        return;
    };
    cx.at("GoodsShipment", |cx| {
        let has_previous = !gs.previous_document.is_empty()
            || gs.government_agency_goods_item.iter().any(|i| !i.previous_document.is_empty());
        // A warning in the core profile (the rule table decides the severity, not the call).
        require(cat, has_previous, cx, "PreviousDocument", "declaration.previous_document_missing", || {
            format!("a {what} declaration refers to its previous document (DE 2/1: the DUCR, the simplified declaration or the entry in the records)")
        });
    });
    let items = &gs.government_agency_goods_item;
    cx.at("GoodsShipment", |cx| {
        require(cat, !items.is_empty(), cx, "GovernmentAgencyGoodsItem", "declaration.no_items", || {
            format!("a {what} declaration needs at least one goods item (GovernmentAgencyGoodsItem)")
        })
    });
    if let Some(n) = d.goods_item_quantity
        && n != items.len() as u64
    {
        cx.error(
            Some("GoodsItemQuantity"),
            "totals.item_count",
            format!("GoodsItemQuantity says {n} goods items but {} are given", items.len()),
        );
    }
    // Sequence numbers 1, 2, 3… in order.
    cx.at("GoodsShipment", |cx| {
        for (i, item) in items.iter().enumerate() {
            let expected = i as u64 + 1;
            if item.sequence_numeric != expected {
                cx.at_index("GovernmentAgencyGoodsItem", i, |cx| {
                    cx.error(
                        Some("SequenceNumeric"),
                        "items.sequence",
                        format!(
                            "goods items must be numbered 1, 2, 3… in order; item {expected} has SequenceNumeric {}",
                            item.sequence_numeric
                        ),
                    )
                });
            }
        }
    });
    // Total packages = sum of the items' packages.
    if let Some(total) = d.total_package_quantity {
        let sum: u64 = items.iter().flat_map(|i| i.packaging.iter()).filter_map(|p| p.quantity_quantity).sum();
        let any = items.iter().any(|i| i.packaging.iter().any(|p| p.quantity_quantity.is_some()));
        if any && sum != total {
            cx.error(
                Some("TotalPackageQuantity"),
                "totals.packages",
                format!("TotalPackageQuantity is {total} but the goods items' packages add up to {sum}"),
            );
        }
    }
    // Total gross mass = sum of the items' gross masses (when every item gives one, in a mass unit).
    if let Some(total) = d.total_gross_mass_measure.as_ref().and_then(|m| m.kilograms()) {
        let masses: Vec<Option<f64>> = items
            .iter()
            .map(|i| {
                i.commodity
                    .as_ref()
                    .and_then(|c| c.goods_measure.as_ref())
                    .and_then(|g| g.gross_mass_measure.as_ref())
                    .and_then(|m| m.kilograms())
            })
            .collect();
        if !masses.is_empty() && masses.iter().all(Option::is_some) {
            let sum: f64 = masses.iter().flatten().sum();
            if !close(sum, total) {
                cx.error(
                    Some("TotalGrossMassMeasure"),
                    "totals.gross_mass",
                    format!("TotalGrossMassMeasure is {total} kg but the goods items' gross masses add up to {sum} kg"),
                );
            }
        }
    }
    // Invoice amount = sum of item amounts (same currency).
    if let Some(inv) = &d.invoice_amount {
        let lines: Vec<&crate::measure::Amount> = items
            .iter()
            .filter_map(|i| {
                i.commodity.as_ref().and_then(|c| c.invoice_line.as_ref()).and_then(|l| l.item_charge_amount.as_ref())
            })
            .collect();
        if !lines.is_empty() && lines.len() == items.len() {
            let currencies_agree = lines.iter().all(|a| a.currency_id.is_none() || a.currency_id == inv.currency_id);
            if currencies_agree {
                let sum: f64 = lines.iter().map(|a| a.value).sum();
                if !close(sum, inv.value) {
                    cx.error(
                        Some("InvoiceAmount"),
                        "totals.invoice_amount",
                        format!("InvoiceAmount is {} but the goods items' ItemChargeAmount add up to {sum}", inv.value),
                    );
                }
            } else {
                cx.warning(
                    Some("InvoiceAmount"),
                    "totals.invoice_currency",
                    "item amounts are in another currency than InvoiceAmount; the total cannot be checked".to_owned(),
                );
            }
        }
    }
    // Every foreign currency used has an exchange rate.
    let invoice_ccy = d.invoice_amount.as_ref().and_then(|a| a.currency_id.as_deref());
    for (i, x) in d.currency_exchange.iter().enumerate() {
        if x.rate_numeric.is_some_and(|r| r <= 0.0) {
            cx.at_index("CurrencyExchange", i, |cx| {
                cx.error(Some("RateNumeric"), "currency.rate", "an exchange rate must be greater than zero".to_owned())
            });
        }
    }
    if let Some(ccy) = invoice_ccy {
        let covered = d.currency_exchange.iter().any(|x| x.currency_type_code.as_deref() == Some(ccy));
        if !d.currency_exchange.is_empty() && !covered {
            cx.warning(
                Some("CurrencyExchange"),
                "currency.rate_missing",
                format!("no exchange rate is given for the invoice currency {ccy}"),
            );
        }
    }
    let containerised = gs.consignment.as_ref().and_then(|c| c.container_code.as_deref()) == Some("1");
    cx.at("GoodsShipment", |cx| {
        if let Some(c) = &gs.consignment {
            cx.at("Consignment", |cx| equipment_rules(&c.transport_equipment, containerised, cx));
        }
        for (i, item) in items.iter().enumerate() {
            cx.at_index("GovernmentAgencyGoodsItem", i, |cx| item_rules(item, cat, cx));
        }
    });
}

fn item_rules(item: &wco::GovernmentAgencyGoodsItem, cat: Category, cx: &mut Checker) {
    let what = cat.name();
    if let Some(c) = &item.commodity {
        cx.at("Commodity", |cx| {
            require(cat, !c.classification.is_empty(), cx, "Classification", "hs.missing", || {
                format!("each goods item of a {what} declaration needs a commodity classification (HS code)")
            });
            for (j, cl) in c.classification.iter().enumerate() {
                // TSP (tariff), or no type given: the first six digits are the HS subheading.
                let is_hs = matches!(cl.identification_type_code.as_deref(), None | Some("TSP" | "HS" | "TSH"));
                if let (true, Some(id)) = (is_hs, &cl.id) {
                    cx.at_index("Classification", j, |cx| hs_rule(id, cx));
                }
            }
            if let Some(m) = &c.goods_measure
                && let (Some(net), Some(gross)) = (
                    m.net_net_weight_measure.as_ref().and_then(|x| x.kilograms()),
                    m.gross_mass_measure.as_ref().and_then(|x| x.kilograms()),
                )
                && net > gross * (1.0 + TOTAL_TOLERANCE)
            {
                cx.at("GoodsMeasure", |cx| {
                    cx.error(
                        Some("NetNetWeightMeasure"),
                        "mass.net_above_gross",
                        format!("the net mass ({net} kg) is greater than the gross mass ({gross} kg)"),
                    )
                });
            }
        });
    } else {
        require(cat, false, cx, "Commodity", "item.commodity_missing", || {
            format!("each goods item of a {what} declaration needs a Commodity (description and HS code)")
        });
    }
}

fn hs_rule(id: &str, cx: &mut Checker) {
    let digits_only = id.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || !matches!(id.len(), 6 | 8 | 10) {
        cx.error(Some("ID"), "hs.format", format!("an HS code has 6, 8 or 10 digits; got {}", display_value(id)));
        return;
    }
    if let Some((successors, change)) = codelists::hs2017_successors(&id[..6]) {
        let list: Vec<String> = successors.split(',').map(dotted).collect();
        cx.error(
            Some("ID"),
            "hs.earlier_edition",
            format!(
                "{} is HS 2017 subheading {}, which HS 2022 replaced ({change}): use {}",
                display_value(id),
                dotted(&id[..6]),
                list.join(" or ")
            ),
        );
    } else if codelists::hs_subheading(&id[..6]).is_none() {
        cx.error(
            Some("ID"),
            "hs.unknown_subheading",
            format!("{} is not an HS 2022 subheading ({} does not exist)", display_value(id), &id[..6]),
        );
    }
}

/// `851713` → `8517.13`, as subheadings are written.
fn dotted(code6: &str) -> String {
    if code6.len() == 6 && code6.is_ascii() { format!("{}.{}", &code6[..4], &code6[4..]) } else { code6.to_owned() }
}

fn equipment_rules(equipment: &[TransportEquipment], containerised: bool, cx: &mut Checker) {
    for (i, e) in equipment.iter().enumerate() {
        let Some(id) = &e.id else { continue };
        cx.at_index("TransportEquipment", i, |cx| match check_container_id(id) {
            Ok(()) => {}
            Err(ContainerIdError::CheckDigit(expected)) => cx.error(
                Some("ID"),
                "container.check_digit",
                format!("{} has a wrong ISO 6346 check digit: expected {expected}", display_value(id)),
            ),
            Err(ContainerIdError::Shape) if containerised => cx.error(
                Some("ID"),
                "container.format",
                format!("{} is not an ISO 6346 container number (e.g. MSKU1234565)", display_value(id)),
            ),
            Err(ContainerIdError::Shape) => {}
        });
        let mut seen = Vec::new();
        for (j, s) in e.seal.iter().enumerate() {
            if let Some(sid) = &s.id {
                if seen.contains(&sid) {
                    cx.at_index("TransportEquipment", i, |cx| {
                        cx.at_index("Seal", j, |cx| {
                            cx.error(
                                Some("ID"),
                                "seal.duplicate",
                                format!("seal {} is given twice", display_value(sid)),
                            )
                        })
                    });
                }
                seen.push(sid);
            }
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOTAL_TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------------------------
// AEO authorisation

fn check_authority(a: &Authority, cx: &mut Checker) {
    cx.text("countryCode", &a.country_code, b'a', 2, true);
    cx.code("countryCode", &a.country_code, CodeList::Country);
    cx.text("name", &a.name, b'x', 256, false);
}

fn check_aeo(r: &AeoAuthorizationRecord, cx: &mut Checker) {
    check_version(&r.schema_version, cx);
    cx.nested("AuthorisationHolder", &r.authorisation_holder);
    if let Some(doc) = &r.additional_document {
        cx.nested("AdditionalDocument", doc);
    }
    cx.each("AEOMutualRecognitionParty", &r.aeo_mutual_recognition_party, usize::MAX);
    match r.authorisation_holder.category_code.as_deref() {
        Some("AEOC" | "AEOS" | "AEOF") => {}
        Some(other) => cx.at("AuthorisationHolder", |cx| {
            cx.error(
                Some("CategoryCode"),
                "aeo.category",
                format!(
                    "{} is not an AEO category (AEOC customs simplifications, AEOS security and safety, AEOF full)",
                    display_value(other)
                ),
            )
        }),
        None => cx.at("AuthorisationHolder", |cx| {
            cx.error(
                Some("CategoryCode"),
                "aeo.category",
                "the AEO category (AEOC, AEOS or AEOF) is missing".to_owned(),
            )
        }),
    }
    if r.authorisation_holder.id.is_none() {
        cx.at("AuthorisationHolder", |cx| {
            cx.error(
                Some("ID"),
                "aeo.holder_id",
                "the authorisation holder's identification (EORI/TIN) is missing".to_owned(),
            )
        });
    }
    let e = &r.ext;
    cx.at("ext", |cx| {
        cx.at("issuingAuthority", |cx| check_authority(&e.issuing_authority, cx));
        check_datetime(cx, "statusChangedAt", &e.status_changed_at);
        if let Some(v) = &e.valid_until {
            check_datetime(cx, "validUntil", v);
        }
        cx.text("traderIdentificationNumber", &e.trader_identification_number, b'x', 17, false);
        cx.at("holder", |cx| {
            cx.text("Name", &e.holder.name, b'x', 70, false);
            if let Some(a) = &e.holder.address {
                cx.nested("Address", a);
            }
        });
        for (i, p) in e.mra_partner_programmes.iter().enumerate() {
            let ok = p.split_once(':').is_some_and(|(c, name)| codelists::is_country(c) && !name.trim().is_empty());
            if !ok {
                cx.at_index("mraPartnerProgrammes", i, |cx| {
                    cx.error(
                        None,
                        "aeo.mra_programme",
                        format!("{} must be COUNTRY:PROGRAMME, e.g. US:C-TPAT", display_value(p)),
                    )
                });
            }
        }
        if let Some(id) = &r.authorisation_holder.id
            && id != &e.trader_identification_number
        {
            cx.warning(
                Some("traderIdentificationNumber"),
                "aeo.holder_mismatch",
                "traderIdentificationNumber differs from AuthorisationHolder.ID".to_owned(),
            );
        }
        // Validity: effective date ≤ status change ≤ …; valid until after effective date.
        let effective =
            r.additional_document.as_ref().and_then(|d| d.effective_date_time.as_deref()).and_then(datetime::parse);
        let until = e.valid_until.as_deref().and_then(datetime::parse);
        if let (Some(from), Some(to)) = (effective, until)
            && to <= from
        {
            cx.error(
                Some("validUntil"),
                "aeo.validity",
                "validUntil must be after the authorisation's EffectiveDateTime".to_owned(),
            );
        }
        if let (Some(from), Some(changed)) = (effective, datetime::parse(&e.status_changed_at))
            && changed < from
        {
            cx.error(
                Some("statusChangedAt"),
                "aeo.validity",
                "statusChangedAt is before the authorisation's EffectiveDateTime".to_owned(),
            );
        }
        let mut last = None;
        for (i, h) in e.status_history.iter().enumerate() {
            cx.at_index("statusHistory", i, |cx| {
                check_datetime(cx, "at", &h.at);
                let at = datetime::parse(&h.at);
                if let (Some(prev), Some(at)) = (last, at)
                    && at < prev
                {
                    cx.error(Some("at"), "aeo.history_order", "status changes must be listed oldest first".to_owned());
                }
                if at.is_some() {
                    last = at;
                }
                if h.status != AeoStatus::Active && h.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    cx.error(
                        Some("reason"),
                        "aeo.reason_required",
                        "a suspension or revocation must give its reason".to_owned(),
                    );
                }
            });
        }
        if let Some(latest) = e.status_history.last()
            && latest.status != e.status
        {
            cx.error(
                Some("status"),
                "aeo.status_history",
                "status differs from the last entry of statusHistory".to_owned(),
            );
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Transport movement

fn check_movement(r: &TransportMovementRecord, cx: &mut Checker) {
    check_version(&r.schema_version, cx);
    if let Some(b) = &r.border_transport_means {
        cx.nested("BorderTransportMeans", b);
    }
    if let Some(x) = &r.exit_office {
        cx.nested("ExitOffice", x);
    }
    if let Some(gs) = &r.goods_shipment {
        cx.at("GoodsShipment", |cx| cx.each("PreviousDocument", &gs.previous_document, usize::MAX));
    }
    let c = &r.consignment;
    cx.at("Consignment", |cx| {
        if let Some(v) = &c.container_code {
            cx.text("ContainerCode", v, b'x', 3, false);
        }
        if let Some(v) = &c.carrier {
            cx.nested("Carrier", v);
        }
        if let Some(v) = &c.consignor {
            cx.nested("Consignor", v);
        }
        if let Some(v) = &c.loading_location {
            cx.nested("LoadingLocation", v);
        }
        if let Some(v) = &c.goods_location {
            cx.nested("GoodsLocation", v);
            if let Some(id) = &v.id {
                cx.at("GoodsLocation", |cx| cx.code("ID", id, CodeList::Locode));
            }
        }
        cx.each("Itinerary", &c.itinerary, usize::MAX);
        for (i, it) in c.itinerary.iter().enumerate() {
            if it.sequence_numeric != i as u64 + 1 {
                cx.at_index("Itinerary", i, |cx| {
                    cx.error(
                        Some("SequenceNumeric"),
                        "itinerary.sequence",
                        "itinerary stops must be numbered 1, 2, 3… in order".to_owned(),
                    )
                });
            }
        }
        cx.each("TransportEquipment", &c.transport_equipment, usize::MAX);
        equipment_rules(&c.transport_equipment, c.container_code.as_deref() != Some("0"), cx);
        if let Some(v) = &c.departure_transport_means {
            cx.nested("DepartureTransportMeans", v);
        }
        if let Some(v) = &c.arrival_transport_means {
            cx.nested("ArrivalTransportMeans", v);
        }
        if let Some(e) = &c.ext {
            cx.at("ext", |cx| {
                for (key, v) in [("plannedDeparture", &e.planned_departure), ("plannedArrival", &e.planned_arrival)] {
                    if let Some(v) = v {
                        check_datetime(cx, key, v);
                    }
                }
                if let (Some(d), Some(a)) = (
                    e.planned_departure.as_deref().and_then(datetime::parse),
                    e.planned_arrival.as_deref().and_then(datetime::parse),
                ) && a <= d
                {
                    cx.error(
                        Some("plannedArrival"),
                        "dates.order",
                        "the planned arrival is not after the planned departure".to_owned(),
                    );
                }
                let seal_ids: Vec<&str> =
                    c.transport_equipment.iter().flat_map(|t| t.seal.iter()).filter_map(|s| s.id.as_deref()).collect();
                for (i, s) in e.eseals.iter().enumerate() {
                    cx.at_index("eseals", i, |cx| {
                        cx.text("deviceId", &s.device_id, b'x', 35, false);
                        if let Some(a) = &s.armed_at {
                            check_datetime(cx, "armedAt", a);
                        }
                        if !seal_ids.contains(&s.device_id.as_str()) {
                            cx.warning(
                                Some("deviceId"),
                                "seal.not_on_equipment",
                                format!(
                                    "e-seal {} is not listed among the transport equipment's seals",
                                    display_value(&s.device_id)
                                ),
                            );
                        }
                    });
                }
            });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// AEO consent

fn check_consent(r: &AeoConsentRecord, cx: &mut Checker) {
    check_version(&r.schema_version, cx);
    let c = &r.consent;
    cx.at("Consent", |cx| {
        cx.at("authorisation", |cx| {
            cx.text("countryCode", &c.authorisation.country_code, b'a', 2, true);
            cx.code("countryCode", &c.authorisation.country_code, CodeList::Country);
            cx.text("id", &c.authorisation.id, b'x', 70, false);
        });
        cx.text("traderIdentificationNumber", &c.trader_identification_number, b'x', 17, false);
        let mut seen: Vec<&str> = Vec::new();
        for (i, p) in c.partner_programmes.iter().enumerate() {
            cx.at_index("partnerProgrammes", i, |cx| {
                if !codelists::is_country(p) {
                    cx.error(
                        None,
                        "codelist.country",
                        format!("{} is not an ISO 3166-1 alpha-2 country code", display_value(p)),
                    );
                } else if seen.contains(&p.as_str()) || *p == c.authorisation.country_code {
                    cx.error(
                        None,
                        "consent.partner_programmes",
                        format!(
                            "{} is listed twice or is the issuing country's own programme; list each partner once",
                            display_value(p)
                        ),
                    );
                }
            });
            seen.push(p);
        }
        check_datetime(cx, "givenAt", &c.given_at);
        match (c.status, &c.withdrawn_at) {
            (ConsentStatus::Given, Some(_)) => cx.error(
                Some("withdrawnAt"),
                "consent.withdrawal",
                "a consent in force (status given) has no withdrawnAt; to withdraw it, set status withdrawn".to_owned(),
            ),
            (ConsentStatus::Withdrawn, None) => cx.error(
                Some("withdrawnAt"),
                "consent.withdrawal",
                "a withdrawn consent says when it was withdrawn (withdrawnAt)".to_owned(),
            ),
            (ConsentStatus::Withdrawn, Some(at)) => {
                check_datetime(cx, "withdrawnAt", at);
                if let (Some(given), Some(withdrawn)) = (datetime::parse(&c.given_at), datetime::parse(at))
                    && withdrawn < given
                {
                    cx.error(Some("withdrawnAt"), "consent.dates", "withdrawnAt is before givenAt".to_owned());
                }
            }
            (ConsentStatus::Given, None) => {}
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Inspection result

fn check_inspection(r: &InspectionResultRecord, cx: &mut Checker) {
    check_version(&r.schema_version, cx);
    let d = &r.declaration;
    cx.at("Declaration", |cx| {
        if d.id.is_none() && d.functional_reference_id.is_none() {
            cx.error(
                None,
                "inspection.declaration_ref",
                "give the inspected declaration's ID (MRN) or FunctionalReferenceID (LRN)".to_owned(),
            );
        }
        for (key, v, max) in [
            ("ID", &d.id, 70),
            ("FunctionalReferenceID", &d.functional_reference_id, 35),
            ("DeclarationOfficeID", &d.declaration_office_id, 17),
        ] {
            if let Some(v) = v {
                cx.text(key, v, b'x', max, false);
            }
        }
    });
    cx.each("DutyTaxFee", &r.duty_tax_fee, usize::MAX);
    let i = &r.inspection;
    cx.at("Inspection", |cx| {
        cx.at("inspectorOrganisation", |cx| check_authority(&i.inspector_organisation, cx));
        check_datetime(cx, "inspectedAt", &i.inspected_at);
        for (j, f) in i.findings.iter().enumerate() {
            cx.at_index("findings", j, |cx| cx.text("description", &f.description, b'x', 512, false));
        }
        match i.outcome {
            InspectionOutcome::Conform if !i.findings.is_empty() => cx.error(
                Some("outcome"),
                "inspection.outcome",
                "the outcome is CONFORM but findings are listed".to_owned(),
            ),
            InspectionOutcome::Discrepancy if i.findings.is_empty() => cx.error(
                Some("findings"),
                "inspection.findings_required",
                "a DISCREPANCY outcome needs at least one finding".to_owned(),
            ),
            InspectionOutcome::Seizure if i.seizure.is_none() => cx.error(
                Some("seizure"),
                "inspection.seizure_required",
                "a SEIZURE outcome needs the seizure's description".to_owned(),
            ),
            _ => {}
        }
        if let Some(s) = &i.seizure {
            cx.at("seizure", |cx| cx.text("description", &s.description, b'x', 512, false));
        }
    });
}
