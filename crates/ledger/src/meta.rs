//! The policy attributes of a record, derived from its content.

use std::borrow::Cow;

use borderlink_model::{Record, RecordType};

use crate::tx::RecordMeta;

fn office_country(office: Option<&str>) -> Option<String> {
    let o = office?;
    let b = o.as_bytes();
    (b.len() >= 2 && b[..2].iter().all(u8::is_ascii_uppercase)).then(|| o[..2].to_owned())
}

/// Derives the attributes write policies decide on: the country with authority over the record,
/// the declarant of a declaration (for an AEO consent: the AEO, the authorisation's holder), the
/// issuer of an AEO authorisation.
pub fn derive(record: &Record) -> RecordMeta {
    match record {
        Record::Declaration(r) => {
            let d = &r.declaration;
            let destination =
                d.goods_shipment.as_ref().and_then(|g| g.destination.as_ref()).and_then(|x| x.country_code.clone());
            RecordMeta {
                country: office_country(d.declaration_office_id.as_deref()).or(destination).unwrap_or_default(),
                declarant: d.declarant.as_ref().and_then(|p| p.id.clone()).unwrap_or_default(),
                issuer: String::new(),
            }
        }
        Record::AeoAuthorization(r) => RecordMeta {
            country: r.ext.issuing_authority.country_code.clone(),
            declarant: String::new(),
            issuer: r.ext.issuing_authority.country_code.clone(),
        },
        Record::InspectionResult(r) => RecordMeta {
            country: office_country(r.declaration.declaration_office_id.as_deref())
                .unwrap_or_else(|| r.inspection.inspector_organisation.country_code.clone()),
            declarant: String::new(),
            issuer: String::new(),
        },
        Record::AeoConsent(r) => RecordMeta {
            country: r.consent.authorisation.country_code.clone(),
            declarant: r.consent.trader_identification_number.clone(),
            issuer: String::new(),
        },
        Record::TransportMovement(r) => {
            let c = &r.consignment;
            let place = c.goods_location.as_ref().and_then(|g| g.id.as_deref()).and_then(|id| office_country(Some(id)));
            let last = c.itinerary.last().and_then(|i| i.routing_country_code.clone());
            RecordMeta { country: place.or(last).unwrap_or_default(), declarant: String::new(), issuer: String::new() }
        }
    }
}

/// The separator between the parts of a record id.
const SEP: char = ':';

/// Escapes one part of a record id so that the id splits back into the same parts (`%` and the
/// separator are percent-encoded; everything else is kept).
pub fn escape_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        match c {
            '%' => out.push_str("%25"),
            SEP => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out
}

/// Who a record's id is namespaced under: the authority part of `{type}:{authority}:{key}`.
///
/// - declaration: the declarant's trader id (signed attribute `declarant`);
/// - aeo-authorization: the issuing administration's country (`issuer`);
/// - inspection-result: the country of the inspecting administration (`country`);
/// - aeo-consent (rules 3): the authorisation holder's trader id, the AEO giving it (`declarant`);
/// - transport-movement and document: the member that created the record (`owner`).
///
/// Every node checks this part against the signed attributes (or the creator), for clear and
/// private records alike, so nobody creates a record in another party's namespace; the write
/// policy decides who may write in each namespace. An empty authority is refused.
pub fn id_authority<'a>(record_type: &str, meta: &'a RecordMeta, owner: &'a str) -> Option<&'a str> {
    let a = match record_type {
        "declaration" | "aeo-consent" => meta.declarant.as_str(),
        "aeo-authorization" => meta.issuer.as_str(),
        "inspection-result" => meta.country.as_str(),
        "transport-movement" | "document" => owner,
        _ => return None,
    };
    (!a.is_empty()).then_some(a)
}

/// The business key of a record: the part of its id after the authority.
///
/// - declaration: its LRN (`FunctionalReferenceID`, D026), else its document reference (`ID`, D014);
/// - aeo-authorization: the authorisation's reference number (`AdditionalDocument/ID`);
/// - inspection-result: the inspected declaration's MRN (`ID`), else its LRN;
/// - transport-movement: its movement reference;
/// - aeo-consent: the authorisation it covers, `{issuing country}/{authorisation number}` (one
///   consent per authorisation; the country is two letters, so the key splits back).
pub fn business_key(record: &Record) -> Option<Cow<'_, str>> {
    let k = match record {
        Record::Declaration(r) => r.declaration.functional_reference_id.as_deref().or(r.declaration.id.as_deref()),
        Record::AeoAuthorization(r) => r.additional_document.as_ref().and_then(|d| d.id.as_deref()),
        Record::InspectionResult(r) => r.declaration.id.as_deref().or(r.declaration.functional_reference_id.as_deref()),
        Record::TransportMovement(r) => r.consignment.ext.as_ref().and_then(|e| e.movement_reference.as_deref()),
        Record::AeoConsent(r) => {
            let a = &r.consent.authorisation;
            if a.id.trim().is_empty() {
                return None;
            }
            return Some(Cow::Owned(consent_key(&a.country_code, &a.id)));
        }
    }?;
    (!k.trim().is_empty()).then_some(Cow::Borrowed(k))
}

/// The business key of the consent that covers the authorisation `number` issued by `country`.
pub fn consent_key(country: &str, number: &str) -> String {
    format!("{country}/{number}")
}

/// The validation rules that made each record type of the dataset a type of its own: a chain
/// whose genesis predates them reads the name like any other (as it did when its blocks were
/// validated), so its old blocks replay to the same outcomes.
pub fn rules_since(t: RecordType) -> u32 {
    match t {
        RecordType::AeoConsent => 3,
        _ => 1,
    }
}

/// The record type of the dataset that `name` is on a chain with validation rules `rules`.
pub fn dataset_type(name: &str, rules: u32) -> Option<RecordType> {
    RecordType::from_name(name).filter(|t| rules >= rules_since(*t))
}

/// Builds a record id from its parts: `{type}:{authority}:{key}`.
pub fn compose_id(record_type: &str, authority: &str, key: &str) -> String {
    format!("{record_type}{SEP}{}{SEP}{}", escape_part(authority), escape_part(key))
}

/// Why a record id is not the one its content gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The content lacks the attribute the id is namespaced under.
    #[error("a {record_type} needs {what} to be stored on the ledger (its id is {pattern})")]
    MissingPart {
        /// The record type.
        record_type: String,
        /// What is missing.
        what: &'static str,
        /// The id pattern of the type.
        pattern: &'static str,
    },
    /// The id differs from the one the content gives.
    #[error("the record id must be {expected:?} (derived from the record: {pattern}); got {got:?}")]
    Mismatch {
        /// The id the content gives (or its prefix, for records only recipients can read).
        expected: String,
        /// The id given.
        got: String,
        /// The id pattern of the type.
        pattern: &'static str,
    },
}

/// How each type's id is written, for messages and documentation.
pub fn id_pattern(record_type: &str) -> &'static str {
    match record_type {
        "declaration" => "declaration:{declarant id}:{LRN, else MRN}",
        "aeo-authorization" => "aeo-authorization:{issuing country}:{authorisation number}",
        "inspection-result" => "inspection-result:{inspecting country}:{declaration MRN, else LRN}",
        "transport-movement" => "transport-movement:{creating member}:{movement reference}",
        "aeo-consent" => "aeo-consent:{holder's trader id}:{issuing country}/{authorisation number}",
        "document" => "document:{creating member}:{name of the submitter's choice}",
        _ => "{type}:{authority}:{key}",
    }
}

/// The id a record of the dataset has on the ledger, given the member that created (or
/// creates) it: `{type}:{authority}:{business key}`, parts escaped.
pub fn record_id(record: &Record, owner: &str) -> Result<String, IdError> {
    let t = record.record_type().name();
    let meta = derive(record);
    let missing = |what| IdError::MissingPart { record_type: t.to_owned(), what, pattern: id_pattern(t) };
    let authority = id_authority(t, &meta, owner).ok_or_else(|| {
        missing(match t {
            "declaration" => "its declarant's id (Declarant/ID)",
            "aeo-authorization" => "its issuing administration's country",
            "inspection-result" => "the country of its declaration office or inspecting administration",
            "aeo-consent" => "the trader id of the authorisation's holder (Consent/traderIdentificationNumber)",
            _ => "the id of the member creating it",
        })
    })?;
    let key = business_key(record).ok_or_else(|| {
        missing(match t {
            "declaration" => "its LRN (FunctionalReferenceID) or MRN (ID)",
            "aeo-authorization" => "its authorisation number (AdditionalDocument/ID)",
            "inspection-result" => "its declaration's MRN (Declaration/ID) or LRN (FunctionalReferenceID)",
            "aeo-consent" => "the number of the authorisation it covers (Consent/authorisation/id)",
            _ => "its movement reference (Consignment/ext/movementReference)",
        })
    })?;
    Ok(compose_id(t, authority, &key))
}

/// Checks the parts of a record id that every node can check without reading the record: the
/// type prefix and the authority (from the signed attributes, or the creator). Ids of record
/// types outside the dataset and `document` are not constrained.
pub fn check_id_namespace(record_type: &str, record_id: &str, meta: &RecordMeta, owner: &str) -> Result<(), IdError> {
    let pattern = id_pattern(record_type);
    let Some(authority) = id_authority(record_type, meta, owner) else {
        if matches!(
            record_type,
            "declaration"
                | "aeo-authorization"
                | "inspection-result"
                | "transport-movement"
                | "document"
                | "aeo-consent"
        ) {
            return Err(IdError::MissingPart {
                record_type: record_type.to_owned(),
                what: "the attribute its id is namespaced under",
                pattern,
            });
        }
        return Ok(());
    };
    let prefix = format!("{record_type}{SEP}{}{SEP}", escape_part(authority));
    match record_id.strip_prefix(&prefix) {
        Some(key) if !key.is_empty() && !key.contains(SEP) => Ok(()),
        _ => Err(IdError::Mismatch { expected: format!("{prefix}…"), got: record_id.to_owned(), pattern }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_back_into_their_parts() {
        // A separator inside a part cannot make two different records share an id.
        let a = compose_id("declaration", "GB1:X", "L");
        let b = compose_id("declaration", "GB1", "X:L");
        assert_ne!(a, b);
        assert_eq!(a, "declaration:GB1%3AX:L");
        assert_eq!(compose_id("aeo-authorization", "GB", "GB AEOC 14274/19"), "aeo-authorization:GB:GB AEOC 14274/19");
        assert_eq!(compose_id("document", "m", "100%"), "document:m:100%25");
    }

    #[test]
    fn the_namespace_is_checked_against_the_signed_attributes() {
        let meta = RecordMeta { country: "GB".into(), declarant: "GB553202734852".into(), issuer: String::new() };
        assert!(check_id_namespace("declaration", "declaration:GB553202734852:LRN-1", &meta, "gb-aeo").is_ok());
        // Another declarant's namespace, another type's, an empty key, an unescaped separator.
        for bad in [
            "declaration:GB000000000001:LRN-1",
            "aeo-authorization:GB:LRN-1",
            "declaration:GB553202734852:",
            "declaration:GB553202734852:a:b",
            "LRN-1",
        ] {
            let e = check_id_namespace("declaration", bad, &meta, "gb-aeo").unwrap_err();
            assert!(e.to_string().contains("declaration:GB553202734852:"), "{bad}: {e}");
        }
        // A document lives in its creator's namespace.
        assert!(check_id_namespace("document", "document:gb-aeo:scan-1", &meta, "gb-aeo").is_ok());
        assert!(check_id_namespace("document", "document:nl-customs:scan-1", &meta, "gb-aeo").is_err());
        // A declaration without a declarant has no namespace.
        let none = RecordMeta { country: "GB".into(), ..Default::default() };
        assert!(matches!(
            check_id_namespace("declaration", "declaration::L", &none, "x"),
            Err(IdError::MissingPart { .. })
        ));
    }
}
