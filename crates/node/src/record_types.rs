//! How the node names and describes the record types of the standardized dataset to its users:
//! the `type` parameter of the API and the console, titles and one-line summaries.

use borderlink_model::RecordType;

use crate::error::ApiError;

/// The `type` value that asks for detection from the document (also the default).
pub(crate) const AUTO: &str = "auto";

/// Reads a `type` parameter: absent, empty or `auto` means "detect from the document".
pub(crate) fn parse(name: Option<&str>) -> Result<Option<RecordType>, ApiError> {
    match name.map(str::trim) {
        None | Some("") | Some(AUTO) => Ok(None),
        Some(name) => RecordType::from_name(name).map(Some).ok_or_else(|| ApiError::UnknownRecordType(name.to_owned())),
    }
}

/// A title for people, e.g. "Goods declaration".
pub(crate) fn title(t: RecordType) -> &'static str {
    match t {
        RecordType::Declaration => "Goods declaration",
        RecordType::AeoAuthorization => "AEO authorisation",
        RecordType::TransportMovement => "Transport movement",
        RecordType::InspectionResult => "Inspection result",
        RecordType::AeoConsent => "AEO consent",
    }
}

/// One sentence saying what the record is for.
pub(crate) fn summary(t: RecordType) -> &'static str {
    match t {
        RecordType::Declaration => {
            "An import, export or transit declaration (WCO DM DEC): parties, goods items with HS \
             code, origin, quantities and customs value, transport and location."
        }
        RecordType::AeoAuthorization => {
            "An Authorised Economic Operator authorisation as administrations exchange it under \
             mutual recognition: holder, issuing administration, type, status and validity."
        }
        RecordType::TransportMovement => {
            "A consignment's movement: conveyance, route, places (UN/LOCODE), containers \
             (ISO 6346) and seals."
        }
        RecordType::InspectionResult => {
            "The outcome of a customs inspection of a declaration, fed back to risk management."
        }
        RecordType::AeoConsent => {
            "An AEO's consent, given or withdrawn by the AEO itself, to the exchange of its \
             authorisation's agreed fields with the administrations of mutual-recognition partners."
        }
    }
}

/// The `type` parameter of validation, as the API documents it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)] // documentation only: the parameter is read as text by [`parse`].
pub(crate) enum ValidateType {
    /// Detect the type from the document (the default).
    Auto,
    Declaration,
    AeoAuthorization,
    TransportMovement,
    InspectionResult,
    AeoConsent,
}

/// The `type` parameter of a record list, as the API documents it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)] // documentation only: the parameter is read as text.
pub(crate) enum ListType {
    /// Every type (the default).
    All,
    Declaration,
    AeoAuthorization,
    TransportMovement,
    InspectionResult,
    AeoConsent,
}

/// The API path of a record type's JSON Schema.
pub(crate) fn schema_path(t: RecordType) -> String {
    format!("/api/v1/schemas/{}", t.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_and_absent_mean_detect() {
        for name in [None, Some(""), Some("auto"), Some(" auto ")] {
            assert!(matches!(parse(name), Ok(None)), "{name:?}");
        }
    }

    #[test]
    fn every_record_type_name_parses_back() {
        for t in RecordType::ALL {
            assert!(matches!(parse(Some(t.name())), Ok(Some(parsed)) if parsed == t));
        }
    }

    #[test]
    fn unknown_type_is_an_error_naming_it() {
        match parse(Some("invoice")) {
            Err(e @ ApiError::UnknownRecordType(_)) => assert!(e.to_string().contains("`invoice`")),
            other => panic!("expected UnknownRecordType, got {other:?}"),
        }
    }
}
