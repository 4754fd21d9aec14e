//! The rule table: every rule the validator reports, declared once, with its default severity
//! and a one-line description.
//!
//! A rule's severity is decided here, not where the rule is checked: the checks record what
//! they find, and the report gives each issue the level the validation [`crate::Profile`] sets
//! for its rule, or the default below. Rules that say whether a document could be read at all
//! (syntax, structure, types, wrapper, date formats) are *fixed*: a profile cannot lower them,
//! because a record built from an unreadable document would not be the document.
//!
//! Invariant: every rule name the crate reports is in [`RULES`] (a test scans the sources), and
//! `docs/validation-rules.md` is [`markdown()`] of this table (a test compares them).

use serde::{Deserialize, Serialize};

/// What a profile makes of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The record is refused.
    Error,
    /// The record is accepted; the issue is reported.
    Warning,
    /// The rule is not checked.
    Off,
}

impl Level {
    /// The name used in profiles and reports.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Off => "off",
        }
    }
}

/// One rule of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The stable rule name reports carry (`dates.order`).
    pub name: &'static str,
    /// Its severity in the consortium's core profile.
    pub default: Level,
    /// Whether a profile may change it (false for the rules that say a document can be read).
    pub adjustable: bool,
    /// What it checks, in one line.
    pub description: &'static str,
}

macro_rules! rules {
    ($($name:literal $level:ident $adj:ident $desc:literal;)*) => {
        /// Every rule, grouped by family, in documentation order.
        pub const RULES: &[Rule] = &[$(Rule {
            name: $name,
            default: Level::$level,
            adjustable: rules!(@adj $adj),
            description: $desc,
        }),*];
    };
    (@adj fixed) => { false };
    (@adj profile) => { true };
}

rules! {
    // Reading the document.
    "document.too_large" Error fixed "The document is larger than the size limit (8 MiB by default).";
    "document.encoding" Error fixed "The document is not valid UTF-8.";
    "document.syntax" Error fixed "The document is not well-formed JSON or XML (line and column given).";
    "document.truncated" Error fixed "The document ends too early.";
    "document.too_deep" Error fixed "The document is nested more deeply than any record can be.";
    "document.empty" Error fixed "The XML document has no root element.";
    "document.dtd" Error fixed "The XML document has a DTD (refused: no entity expansion).";
    "document.not_object" Error fixed "The JSON document is not an object.";
    "document.unknown_type" Error fixed "The record type cannot be told from the top-level elements.";
    "document.structure" Error fixed "The document does not have the shape of its record type.";
    "xml.root" Error fixed "The XML root is neither a WCO DM Declaration nor a DocumentMetaData wrapper around one.";
    "xml.namespace" Error fixed "An XML element is not in the namespace the WCO DM schema puts it in.";
    "wrapper.declaration_count" Error fixed "A DocumentMetaData wrapper carries no Declaration, or more than one.";
    "wrapper.unknown_element" Error fixed "An element of a DocumentMetaData wrapper is not one the wrapper has.";
    "wrapper.type_name" Error profile "The wrapper's WCOTypeName is not DEC (a declaration).";
    "wrapper.version" Warning profile "The wrapper's WCODataModelVersionCode is not a WCO DM 3.x version.";
    "schema.version" Error fixed "The record's schemaVersion is not one this node reads.";
    // Structure and types (the JSON Schema).
    "structure.unknown_element" Error fixed "An element that the record's schema does not have at this place.";
    "structure.missing_element" Error fixed "An element the schema requires is missing.";
    "type.object" Error fixed "An element must be an object with elements.";
    "type.array" Error fixed "An element must be a list.";
    "type.string" Error fixed "An element must be text.";
    "type.integer" Error fixed "An element must be a whole number.";
    "type.number" Error fixed "An element must be a number.";
    "type.boolean" Error fixed "An element must be true or false.";
    "type.enum" Error fixed "An element must be one of the listed values.";
    "type.mismatch" Error fixed "An element has another type than the schema's.";
    // WCO formats.
    "format.empty" Error profile "A text element is empty or blank.";
    "format.control_character" Error profile "A text element contains a control character.";
    "format.length" Error profile "A text element is longer (or, for aN, other) than its WCO format allows.";
    "format.characters" Error profile "A text element has characters its WCO format (a, n) does not allow.";
    "format.digits" Error profile "A number has more digits than its WCO format allows.";
    "format.decimals" Error profile "A number has more decimal places than its WCO format allows.";
    "format.negative" Error profile "A quantity or amount is negative.";
    "format.number" Error profile "A number is not finite.";
    "format.max_occurs" Error profile "An element occurs more often than the WCO DM allows.";
    "format.datetime" Error profile "A date-time element is not an ISO 8601 date or date-time.";
    "datetime.format_code" Error fixed "A DateTimeString has a formatCode that is not a UN/EDIFACT 2379 code WCO DM uses (102, 203, 204, 205, 303, 304).";
    "datetime.format_mismatch" Error fixed "A DateTimeString does not have the form its formatCode says (e.g. 102 = CCYYMMDD).";
    "datetime.local_time" Warning profile "A date-time gives no time zone (ISO 8601 without offset, or formatCode 203/204).";
    // Declaration category (TypeCode) and what it requires.
    "declaration.type_code" Error profile "TypeCode is not a known declaration category (DE 1/1 IM, EX, CO, EU, TR + DE 1/2 A-F, J, K, X-Z; or INV, COR).";
    "declaration.goods_shipment_missing" Error profile "The declaration's category requires a GoodsShipment.";
    "declaration.no_items" Error profile "The declaration's category requires at least one goods item.";
    "item.commodity_missing" Error profile "The declaration's category requires a Commodity on each goods item.";
    "hs.missing" Error profile "The declaration's category requires a commodity code (Classification) on each goods item.";
    "declaration.reference_missing" Error profile "An amendment or invalidation request must name the declaration it changes (ID, the MRN).";
    "declaration.previous_document_missing" Warning profile "A simplified or supplementary declaration gives no previous document (DE 2/1).";
    // Cross-field rules.
    "dates.order" Error profile "Dates are out of order (acceptance before issue; arrival before departure).";
    "totals.item_count" Error profile "GoodsItemQuantity differs from the number of goods items.";
    "totals.packages" Error profile "TotalPackageQuantity differs from the sum of the items' packages.";
    "totals.gross_mass" Error profile "TotalGrossMassMeasure differs from the sum of the items' gross masses.";
    "totals.invoice_amount" Error profile "InvoiceAmount differs from the sum of the items' ItemChargeAmount.";
    "totals.invoice_currency" Warning profile "Item amounts are in another currency than InvoiceAmount, so the total cannot be checked.";
    "items.sequence" Error profile "Goods items are not numbered 1, 2, 3... in order.";
    "currency.rate" Error profile "An exchange rate is zero or negative.";
    "currency.rate_missing" Warning profile "No exchange rate is given for the invoice currency.";
    "amount.currency_missing" Warning profile "An amount gives no currency (currencyID).";
    "mass.net_above_gross" Error profile "A goods item's net mass is greater than its gross mass.";
    "container.check_digit" Error profile "A container number has a wrong ISO 6346 check digit.";
    "container.format" Error profile "Containerised goods give an equipment ID that is not an ISO 6346 container number.";
    "seal.duplicate" Error profile "A seal is given twice on the same equipment.";
    "seal.not_on_equipment" Warning profile "An e-seal is not listed among the transport equipment's seals.";
    "itinerary.sequence" Error profile "Itinerary stops are not numbered 1, 2, 3... in order.";
    // Code lists and their editions.
    "hs.format" Error profile "A commodity code does not have 6, 8 or 10 digits.";
    "hs.unknown_subheading" Error profile "A commodity code's first six digits are not an HS 2022 subheading.";
    "hs.earlier_edition" Error profile "A commodity code is an HS 2017 subheading that HS 2022 deleted or split (its successors are named).";
    "codelist.country" Error profile "Not an ISO 3166-1 alpha-2 country code.";
    "codelist.currency" Error profile "Not an ISO 4217 currency code.";
    "codelist.incoterm" Error profile "Not an Incoterms 2020 rule.";
    "codelist.incoterm_edition" Error profile "An Incoterms 2010 (or 2000) rule that Incoterms 2020 replaced (DAT is now DPU).";
    "codelist.unit" Warning profile "Not a common UN/ECE Recommendation 20 unit of measure.";
    "codelist.unlocode" Error profile "Has the shape of a UN/LOCODE but is not in the carried release.";
    "codelist.unlocode_shape" Warning profile "A location that is not a UN/LOCODE and so cannot be checked.";
    "codelist.national" Error profile "Not in a national code list of the validation profile.";
    // AEO authorisations.
    "aeo.category" Error profile "The AEO category is missing or not AEOC, AEOS or AEOF.";
    "aeo.holder_id" Error profile "The authorisation holder's identification (EORI/TIN) is missing.";
    "aeo.holder_mismatch" Warning profile "traderIdentificationNumber differs from AuthorisationHolder.ID.";
    "aeo.mra_programme" Error profile "An MRA partner programme is not COUNTRY:PROGRAMME.";
    "aeo.validity" Error profile "validUntil or statusChangedAt is before the authorisation's EffectiveDateTime.";
    "aeo.history_order" Error profile "Status changes are not listed oldest first.";
    "aeo.reason_required" Error profile "A suspension or revocation gives no reason.";
    "aeo.status_history" Error profile "The status differs from the last entry of statusHistory.";
    // AEO consents.
    "consent.withdrawal" Error profile "A withdrawn consent gives no withdrawnAt, or a given one gives one.";
    "consent.dates" Error profile "withdrawnAt is before givenAt.";
    "consent.partner_programmes" Error profile "A partner programme is listed twice, or is the issuing country's own.";
    // Inspection results.
    "inspection.declaration_ref" Error profile "An inspection result does not name the inspected declaration (MRN or LRN).";
    "inspection.outcome" Error profile "The outcome is CONFORM but findings are listed.";
    "inspection.findings_required" Error profile "A DISCREPANCY outcome lists no finding.";
    "inspection.seizure_required" Error profile "A SEIZURE outcome does not describe the seizure.";
}

/// The rule of this name, when there is one.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// The rule table as Markdown: the text of `docs/validation-rules.md`
/// (`borderlink rules --markdown > docs/validation-rules.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Validation rules\n\n\
         <!-- Generated from crates/model/src/rulebook.rs by `borderlink rules --markdown > docs/validation-rules.md`; \
         do not edit by hand (a test compares this file with the table). -->\n\n\
         Every rule a Borderlink report can name, with its severity in the consortium's core \
         profile. A validation profile (`borderlink validate --profile FILE`, `[validation]` in the \
         node configuration, `POST /api/v1/validate?profile=NAME`) may set an adjustable rule to \
         `error`, `warning` or `off`; the fixed rules say whether a document can be read at all and \
         keep their severity.\n\n\
         | rule | core severity | profile may change | what it checks |\n|---|---|---|---|\n",
    );
    for r in RULES {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            r.name,
            r.default.name(),
            if r.adjustable { "yes" } else { "no" },
            r.description.replace('|', "\\|")
        ));
    }
    out.push('\n');
    out.push_str(&crate::category::markdown());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_well_formed() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a rule is declared twice");
        for r in RULES {
            assert!(r.name.split_once('.').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty()), "{}", r.name);
            assert!(r.description.ends_with('.'), "{}", r.name);
            assert!(r.default != Level::Off || r.adjustable, "{}", r.name);
        }
    }

    /// Every rule name the crate's sources report is declared in the table.
    #[test]
    fn every_reported_rule_is_in_the_table() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("rulebook.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for lit in text.split('"').skip(1).step_by(2) {
                let looks_like_rule = lit.split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().all(|c| c.is_ascii_lowercase() || c == b'_')
                        && b.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
                });
                if looks_like_rule && rule(lit).is_none() {
                    missing.push(format!("{}: {lit}", path.display()));
                }
            }
        }
        assert!(missing.is_empty(), "rules reported but not in the table: {missing:#?}");
    }
}
