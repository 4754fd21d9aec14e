//! The policy attributes of a record, derived from its content.

use borderlink_model::Record;

use crate::tx::RecordMeta;

fn office_country(office: Option<&str>) -> Option<String> {
    let o = office?;
    let b = o.as_bytes();
    (b.len() >= 2 && b[..2].iter().all(u8::is_ascii_uppercase)).then(|| o[..2].to_owned())
}

/// Derives the attributes write policies decide on: the country with authority over the record,
/// the declarant of a declaration, the issuer of an AEO authorisation.
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
        Record::TransportMovement(r) => {
            let c = &r.consignment;
            let place = c.goods_location.as_ref().and_then(|g| g.id.as_deref()).and_then(|id| office_country(Some(id)));
            let last = c.itinerary.last().and_then(|i| i.routing_country_code.clone());
            RecordMeta { country: place.or(last).unwrap_or_default(), declarant: String::new(), issuer: String::new() }
        }
    }
}
