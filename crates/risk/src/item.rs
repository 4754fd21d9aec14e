//! The goods item as risk management sees it: one `GovernmentAgencyGoodsItem` of a standardized
//! declaration, flattened together with the declaration-level context it was declared in
//! (office, parties, route, transport, date).
//!
//! Selectivity works per item, as ASYCUDA and the KCS data do: a declaration's lane is the
//! strictest lane of its items.

use borderlink_model::DeclarationRecord;
use borderlink_model::wco::{self, GovernmentAgencyGoodsItem};
use serde::{Deserialize, Serialize};

/// A calendar day: days since 1970-01-01 (UTC).
pub type Day = i32;

/// Parses an ISO 8601 date or zoned date-time into its UTC day.
pub fn parse_day(s: &str) -> Option<Day> {
    let secs = borderlink_model::datetime::parse(s.trim())?;
    i32::try_from(secs.div_euclid(86_400)).ok()
}

/// Formats a day as `YYYY-MM-DD`.
pub fn format_day(day: Day) -> String {
    let mut s = borderlink_model::datetime::format_unix_ms(i64::from(day) * 86_400_000);
    s.truncate(10);
    s
}

/// One goods item with its declaration's context. Every field is optional except the
/// references: a declaration missing data is still scored, and [`Item::missing`] says what
/// was missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// The declaration's reference (MRN, else LRN).
    pub declaration_id: String,
    /// The item's sequence number in the declaration (1-based).
    pub sequence: u64,
    /// The day the declaration was accepted (else issued).
    pub day: Option<Day>,
    /// Office of declaration.
    pub office: Option<String>,
    /// Declarant (customs broker) identification.
    pub declarant: Option<String>,
    /// Importer identification.
    pub importer: Option<String>,
    /// Seller identification.
    pub seller: Option<String>,
    /// Carrier or courier identification.
    pub carrier: Option<String>,
    /// Commodity code (HS), digits only.
    pub hs: Option<String>,
    /// Country of departure (export country).
    pub departure: Option<String>,
    /// Country of origin.
    pub origin: Option<String>,
    /// How the origin is evidenced (WCO `Origin/TypeCode`).
    pub origin_type: Option<String>,
    /// Duty rate in percent.
    pub tax_rate: Option<f64>,
    /// Duty or tax type code.
    pub tax_type: Option<String>,
    /// Duty payment method code.
    pub payment_method: Option<String>,
    /// Net mass in kilograms.
    pub net_mass_kg: Option<f64>,
    /// Declared value of the item (invoice line amount, else customs or statistical value).
    pub value: Option<f64>,
    /// Mode of transport at the border.
    pub transport_mode: Option<String>,
    /// Requested customs procedure.
    pub procedure: Option<String>,
    /// Nature of transaction.
    pub transaction_nature: Option<String>,
    /// Specific circumstances (processing type) indicator.
    pub circumstances: Option<String>,
    /// AEO category claimed on the declaration by the importer or declarant (`AEOC`, `AEOS`,
    /// `AEOF`); the engine prefers the shared AEO register when it has one.
    pub aeo_claim: Option<String>,
    /// Signals other capabilities raised about the declaration (e.g. `iot:seal-opened`, an open
    /// IoT alert of the trip that carries it): not in the declaration, set by the engine from
    /// [`crate::engine::RiskEngine::signal`]; criteria test them, the learned model does not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<String>,
}

/// The fields the learned model and the criteria use, in the words a report shows.
pub const REQUIRED_FIELDS: [&str; 9] =
    ["date", "office", "importer", "declarant", "commodity code", "origin", "value", "net mass", "tax rate"];

/// One element of a goods item that risk analysis reads: [`crate::features::extract`] turns it
/// into features (directly, or through the history of the party it names), the criteria test
/// it. `name` is the word reports use (the same as [`REQUIRED_FIELDS`] where it is one of them),
/// `source` where a standardized declaration carries it ([`Item::from_declaration`]).
#[derive(Debug, Clone, Copy)]
pub struct ItemElement {
    /// How reports name it.
    pub name: &'static str,
    /// The WCO elements it is read from, in order of preference.
    pub source: &'static str,
    /// Whether an item has it (as the features read it: a commodity code counts from six digits).
    pub present: fn(&Item) -> bool,
}

/// Every element the features read, in the order of [`Item`]'s fields. The AEO claim is left out:
/// its absence is an answer (no authorisation claimed), not a gap a trader could fill, and the
/// shared AEO register takes precedence over it.
pub const ELEMENTS: [ItemElement; 19] = [
    ItemElement {
        name: "date",
        source: "Declaration/AcceptanceDateTime, else IssueDateTime",
        present: |i| i.day.is_some(),
    },
    ItemElement { name: "office", source: "Declaration/DeclarationOfficeID", present: |i| i.office.is_some() },
    ItemElement { name: "declarant", source: "Declaration/Declarant/ID", present: |i| i.declarant.is_some() },
    ItemElement { name: "importer", source: "GoodsShipment/Importer/ID", present: |i| i.importer.is_some() },
    ItemElement {
        name: "seller",
        source: "GovernmentAgencyGoodsItem/Seller/ID, else GoodsShipment/Seller/ID",
        present: |i| i.seller.is_some(),
    },
    ItemElement { name: "carrier", source: "Consignment/Carrier/ID", present: |i| i.carrier.is_some() },
    ItemElement {
        name: "commodity code",
        source: "Commodity/Classification/ID (six digits or more)",
        present: |i| i.hs6().is_some(),
    },
    ItemElement {
        name: "country of departure",
        source: "GovernmentAgencyGoodsItem/ExportCountry/ID, else GoodsShipment/ExportCountry/ID",
        present: |i| i.departure.is_some(),
    },
    ItemElement { name: "origin", source: "Origin/CountryCode", present: |i| i.origin.is_some() },
    ItemElement { name: "origin evidence", source: "Origin/TypeCode", present: |i| i.origin_type.is_some() },
    ItemElement { name: "tax rate", source: "DutyTaxFee/TaxRateNumeric", present: |i| i.tax_rate.is_some() },
    ItemElement { name: "tax type", source: "DutyTaxFee/TypeCode", present: |i| i.tax_type.is_some() },
    ItemElement {
        name: "payment method",
        source: "DutyTaxFee/Payment/MethodCode",
        present: |i| i.payment_method.is_some(),
    },
    ItemElement {
        name: "net mass",
        source: "GoodsMeasure/NetNetWeightMeasure, else GrossMassMeasure",
        present: |i| i.net_mass_kg.is_some(),
    },
    ItemElement {
        name: "value",
        source: "InvoiceLine/ItemChargeAmount, else CustomsValueAmount, else StatisticalValueAmount",
        present: |i| i.value.is_some(),
    },
    ItemElement {
        name: "mode of transport",
        source: "BorderTransportMeans/ModeCode",
        present: |i| i.transport_mode.is_some(),
    },
    ItemElement { name: "procedure", source: "GovernmentProcedure/CurrentCode", present: |i| i.procedure.is_some() },
    ItemElement {
        name: "nature of transaction",
        source: "TransactionNatureCode (item, else shipment)",
        present: |i| i.transaction_nature.is_some(),
    },
    ItemElement {
        name: "processing type",
        source: "Declaration/SpecificCircumstancesCodeCode",
        present: |i| i.circumstances.is_some(),
    },
];

impl Item {
    /// The first six digits of the commodity code, when there are six.
    pub fn hs6(&self) -> Option<&str> {
        self.hs.as_deref().filter(|h| h.len() >= 6).map(|h| &h[..6])
    }

    /// Declared value per kilogram, when both are known and the mass is positive.
    pub fn unit_value(&self) -> Option<f64> {
        match (self.value, self.net_mass_kg) {
            (Some(v), Some(m)) if m > 0.0 && v.is_finite() && m.is_finite() => Some(v / m),
            _ => None,
        }
    }

    /// The duty at stake on this item: value × rate / 100.
    pub fn duty(&self) -> Option<f64> {
        Some(self.value? * self.tax_rate? / 100.0)
    }

    /// The fields the model uses that this item lacks (see [`REQUIRED_FIELDS`]).
    pub fn missing(&self) -> Vec<&'static str> {
        let present = [
            self.day.is_some(),
            self.office.is_some(),
            self.importer.is_some(),
            self.declarant.is_some(),
            self.hs6().is_some(),
            self.origin.is_some(),
            self.value.is_some(),
            self.net_mass_kg.is_some(),
            self.tax_rate.is_some(),
        ];
        REQUIRED_FIELDS.iter().zip(present).filter(|(_, p)| !p).map(|(f, _)| *f).collect()
    }

    /// The items of a standardized declaration, one per `GovernmentAgencyGoodsItem` (a
    /// declaration without goods items gives one item with the declaration's context only).
    pub fn from_declaration(record: &DeclarationRecord) -> Vec<Item> {
        let d = &record.declaration;
        let shipment = d.goods_shipment.as_ref();
        let consignment = shipment.and_then(|s| s.consignment.as_ref()).or(d.consignment.as_ref());
        let importer = shipment.and_then(|s| s.importer.as_ref()).and_then(|i| i.id.clone());
        let declarant = d.declarant.as_ref().and_then(|x| x.id.clone());
        let aeo_claim = d
            .authorisation_holder
            .iter()
            .filter(|h| {
                h.id.is_some() && (h.id == importer || h.id == declarant) || h.id.is_none() && importer.is_none()
            })
            .filter_map(|h| h.category_code.as_deref())
            .find(|c| c.starts_with("AEO"))
            .map(str::to_owned);
        let base = Item {
            declaration_id: d.id.clone().or_else(|| d.functional_reference_id.clone()).unwrap_or_default(),
            sequence: 0,
            day: d.acceptance_date_time.as_deref().or(d.issue_date_time.as_deref()).and_then(parse_day),
            office: d.declaration_office_id.clone(),
            declarant,
            importer,
            seller: shipment.and_then(|s| s.seller.as_ref()).and_then(|x| x.id.clone()),
            carrier: consignment.and_then(|c| c.carrier.as_ref()).and_then(|x| x.id.clone()),
            departure: shipment.and_then(|s| s.export_country.as_ref()).and_then(|x| x.id.clone()),
            transport_mode: d.border_transport_means.as_ref().and_then(|b| b.mode_code.clone()),
            transaction_nature: shipment.and_then(|s| s.transaction_nature_code.clone()),
            circumstances: d.specific_circumstances_code_code.clone(),
            aeo_claim,
            ..Item::default()
        };
        let items = shipment.map(|s| s.government_agency_goods_item.as_slice()).unwrap_or_default();
        // Every item but the last starts from a copy of the declaration-level fields; the last
        // takes them over.
        let Some((last, rest)) = items.split_last() else {
            return vec![Item { sequence: 1, ..base }];
        };
        let mut out: Vec<Item> = rest.iter().map(|gi| item_of(base.clone(), gi)).collect();
        out.push(item_of(base, last));
        out
    }
}

/// A national code carried as additional information (see [`crate::import::NATIONAL_CODES`]).
fn national(gi: &GovernmentAgencyGoodsItem, marker: &str) -> Option<String> {
    gi.additional_information
        .iter()
        .find(|a| a.statement_type_code.as_deref() == Some(marker))
        .and_then(|a| a.statement_code.clone())
}

fn item_of(mut it: Item, gi: &GovernmentAgencyGoodsItem) -> Item {
    // The declaration-level item is taken by value and completed in place: no copy of its
    // strings is made only to be replaced (one declaration is scored in microseconds).
    let commodity = gi.commodity.as_ref();
    let duty: Option<&wco::DutyTaxFee> = commodity.and_then(|c| c.duty_tax_fee.first());
    let origin = gi.origin.first();
    it.sequence = gi.sequence_numeric;
    it.value = commodity
        .and_then(|c| c.invoice_line.as_ref())
        .and_then(|l| l.item_charge_amount.as_ref())
        .or(gi.customs_value_amount.as_ref())
        .or(gi.statistical_value_amount.as_ref())
        .map(|a| a.value)
        .filter(|v| v.is_finite());
    it.net_mass_kg = commodity
        .and_then(|c| c.goods_measure.as_ref())
        .and_then(|m| m.net_net_weight_measure.as_ref().or(m.gross_mass_measure.as_ref()).and_then(|w| w.kilograms()))
        .filter(|m| m.is_finite());
    it.hs = commodity
        .and_then(|c| c.classification.iter().find(|k| k.identification_type_code.as_deref() != Some("TRA")))
        .and_then(|k| k.id.as_deref())
        .map(|id| id.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|h| !h.is_empty());
    if let Some(country) = gi.export_country.as_ref().and_then(|x| x.id.clone()) {
        it.departure = Some(country);
    }
    it.origin = origin.and_then(|o| o.country_code.clone());
    it.origin_type = origin.and_then(|o| o.type_code.clone());
    it.tax_rate = duty.and_then(|t| t.tax_rate_numeric).filter(|r| r.is_finite());
    it.tax_type = duty.and_then(|t| t.type_code.clone()).or_else(|| national(gi, "NTT"));
    it.payment_method =
        duty.and_then(|t| t.payment.as_ref()).and_then(|p| p.method_code.clone()).or_else(|| national(gi, "NPM"));
    if it.transport_mode.is_none() {
        it.transport_mode = national(gi, "NTM");
    }
    it.procedure = gi.government_procedure.first().and_then(|p| p.current_code.clone());
    if let Some(nature) = gi.transaction_nature_code.clone() {
        it.transaction_nature = Some(nature);
    }
    if let Some(seller) = gi.seller.as_ref().and_then(|x| x.id.clone()) {
        it.seller = Some(seller);
    }
    it
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        for s in ["1970-01-01", "2020-02-29", "2021-03-31", "1999-12-31"] {
            let d = parse_day(s).unwrap();
            assert_eq!(format_day(d), s);
        }
        assert_eq!(parse_day("2020-01-02T23:59:59Z"), parse_day("2020-01-02"));
        assert_eq!(parse_day("not a date"), None);
    }

    #[test]
    fn sample_declaration_gives_two_items() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples/declaration.json");
        // The shared samples sit beside the repository, in CI too: a missing one is a failure,
        // not a skipped test.
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read the shared sample {path}: {e}"));
        let record: DeclarationRecord = serde_json::from_slice(&bytes).unwrap();
        let items = Item::from_declaration(&record);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].hs6(), Some("847130"));
        assert_eq!(items[0].origin.as_deref(), Some("CN"));
        assert_eq!(items[0].departure.as_deref(), Some("CN"));
        assert_eq!(items[0].value, Some(95000.0));
        assert_eq!(items[0].net_mass_kg, Some(910.0));
        assert_eq!(items[0].aeo_claim.as_deref(), Some("AEOC"));
        assert!(items[0].missing().contains(&"tax rate"));
    }
}
