//! The record types of the standardized dataset and their envelopes.
//!
//! Every record is a JSON object whose WCO Data Model parts keep their WCO tag names, whose
//! non-WCO parts live under `ext`, and which carries an explicit `schemaVersion` (absent on
//! input means the current version; it is always written on output). A leading `_profile`
//! string is accepted as a free-text comment, as partners' sample files carry one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wco;

/// The schema version written into every record by this release.
pub const SCHEMA_VERSION: &str = "1.0";

/// The kinds of record in the standardized dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecordType {
    /// A goods declaration (import, export or transit), WCO DM DEC.
    Declaration,
    /// An AEO authorisation with its status, as administrations share it under MRAs.
    AeoAuthorization,
    /// A consignment's transport movement: conveyance, route, containers and seals.
    TransportMovement,
    /// The result of a customs inspection of a declaration.
    InspectionResult,
    /// An AEO's consent (given or withdrawn) to the exchange of its authorisation's data with
    /// the administrations of mutual-recognition partner programmes.
    AeoConsent,
}

impl RecordType {
    /// Every record type, in documentation order.
    pub const ALL: [RecordType; 5] = [
        RecordType::Declaration,
        RecordType::AeoAuthorization,
        RecordType::TransportMovement,
        RecordType::InspectionResult,
        RecordType::AeoConsent,
    ];

    /// The name used on the command line, in URLs and in reports.
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Declaration => "declaration",
            RecordType::AeoAuthorization => "aeo-authorization",
            RecordType::TransportMovement => "transport-movement",
            RecordType::InspectionResult => "inspection-result",
            RecordType::AeoConsent => "aeo-consent",
        }
    }

    /// Parses a record type name; a few spellings are accepted (`aeo`, `aeo-authorisation`, …).
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "declaration" | "dec" | "goods-declaration" => RecordType::Declaration,
            "aeo-authorization" | "aeo-authorisation" | "aeo" => RecordType::AeoAuthorization,
            "transport-movement" | "movement" | "consignment" => RecordType::TransportMovement,
            "inspection-result" | "inspection" => RecordType::InspectionResult,
            "aeo-consent" => RecordType::AeoConsent,
            _ => return None,
        })
    }

    /// Recognises a record type from the top-level keys of a JSON document.
    pub fn detect(keys: &[&str]) -> Option<Self> {
        let has = |k: &str| keys.contains(&k);
        if has("Declaration") && !has("Inspection") {
            Some(RecordType::Declaration)
        } else if has("Inspection") {
            Some(RecordType::InspectionResult)
        } else if has("AuthorisationHolder") {
            Some(RecordType::AeoAuthorization)
        } else if has("Consignment") || has("BorderTransportMeans") {
            Some(RecordType::TransportMovement)
        } else if has("Consent") {
            Some(RecordType::AeoConsent)
        } else {
            None
        }
    }
}

impl std::fmt::Display for RecordType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A goods declaration: the WCO DM `Declaration` class (42A) and everything below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationRecord {
    /// Schema version of this record (`1.0`); absent on input means the current version.
    #[serde(rename = "schemaVersion", default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Free-text description of the document's profile; not part of the record's data.
    #[serde(rename = "_profile", default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The WCO DocumentMetaData wrapper the declaration arrived in, when it had one.
    #[serde(rename = "MetaData", default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<DocumentMetaData>,
    /// The declaration. WCO 42A.
    #[serde(rename = "Declaration")]
    pub declaration: wco::Declaration,
}

/// The fields of the WCO DocumentMetaData wrapper (`urn:wco:datamodel:WCO:DocumentMetaData-DMS:2`,
/// root `MetaData`) that administrations put around a declaration: which WCO DM version and
/// message type it is, and whose customisation of the data model it follows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentMetaData {
    /// The WCO Data Model version (`3.6`).
    #[serde(rename = "WCODataModelVersionCode", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub wco_data_model_version_code: Option<String>,
    /// The WCO message type (`DEC` for a declaration).
    #[serde(rename = "WCOTypeName", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub wco_type_name: Option<String>,
    /// The country whose administration customised the data model (ISO 3166-1 alpha-2).
    #[serde(rename = "ResponsibleCountryCode", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub responsible_country_code: Option<String>,
    /// That administration (`HMRC`).
    #[serde(rename = "ResponsibleAgencyName", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub responsible_agency_name: Option<String>,
    /// The administration's customisation, coded.
    #[serde(rename = "AgencyAssignedCustomizationCode", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub agency_assigned_customization_code: Option<String>,
    /// The version of that customisation (`v2.1`).
    #[serde(rename = "AgencyAssignedCustomizationVersionCode", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub agency_assigned_customization_version_code: Option<String>,
}

impl DocumentMetaData {
    /// The wrapper's elements, in the order of the WCO schema, with their values.
    pub fn fields(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("WCODataModelVersionCode", self.wco_data_model_version_code.as_deref()),
            ("WCOTypeName", self.wco_type_name.as_deref()),
            ("ResponsibleCountryCode", self.responsible_country_code.as_deref()),
            ("ResponsibleAgencyName", self.responsible_agency_name.as_deref()),
            ("AgencyAssignedCustomizationCode", self.agency_assigned_customization_code.as_deref()),
            ("AgencyAssignedCustomizationVersionCode", self.agency_assigned_customization_version_code.as_deref()),
        ]
    }

    /// The names of the wrapper's elements other than the declaration.
    pub const FIELD_NAMES: [&'static str; 6] = [
        "WCODataModelVersionCode",
        "WCOTypeName",
        "ResponsibleCountryCode",
        "ResponsibleAgencyName",
        "AgencyAssignedCustomizationCode",
        "AgencyAssignedCustomizationVersionCode",
    ];
}

/// An AEO authorisation, shared between administrations (the data the EU–US MRA exchanges:
/// holder name and address, status, validation date, suspensions and revocations, unique ID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AeoAuthorizationRecord {
    /// Schema version of this record (`1.0`); absent on input means the current version.
    #[serde(rename = "schemaVersion", default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Free-text description of the document's profile; not part of the record's data.
    #[serde(rename = "_profile", default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The holder's identification (EORI/TIN) and the AEO category (`AEOC`, `AEOS`, `AEOF`). WCO 17C.
    #[serde(rename = "AuthorisationHolder")]
    pub authorisation_holder: wco::AuthorisationHolder,
    /// The authorisation document: its reference number and effective date. WCO 02A.
    #[serde(rename = "AdditionalDocument", default, skip_serializing_if = "Option::is_none")]
    pub additional_document: Option<wco::AdditionalDocument>,
    /// Mutual-recognition parties. WCO 16C.
    #[serde(rename = "AEOMutualRecognitionParty", default, skip_serializing_if = "Vec::is_empty")]
    pub aeo_mutual_recognition_party: Vec<wco::AEOMutualRecognitionParty>,
    /// Non-WCO data: issuing administration, status and its history, validity, MRA programmes.
    pub ext: AeoExt,
}

/// The status of an AEO authorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AeoStatus {
    /// Valid (in force).
    #[serde(rename = "ACTIVE", alias = "VALID")]
    Active,
    /// Suspended by the issuing administration.
    #[serde(rename = "SUSPENDED")]
    Suspended,
    /// Revoked by the issuing administration.
    #[serde(rename = "REVOKED")]
    Revoked,
}

/// An administration that issues authorisations or inspects goods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Authority {
    /// ISO 3166-1 alpha-2 code of the administration's country.
    pub country_code: String,
    /// The administration's name.
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    /// The administration's identifier in the consortium, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One change of an AEO authorisation's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AeoStatusChange {
    /// The status from this moment on.
    pub status: AeoStatus,
    /// When the status took effect (ISO 8601 with zone).
    pub at: String,
    /// Why, in words (required for suspensions and revocations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Name and address of the authorisation holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AeoHolder {
    /// Holder name. WCO R037-like party name, `an..70`.
    #[serde(rename = "Name")]
    #[schemars(length(min = 1, max = 70))]
    pub name: String,
    /// Holder address. WCO 04A.
    #[serde(rename = "Address", default, skip_serializing_if = "Option::is_none")]
    pub address: Option<wco::Address>,
}

/// Non-WCO elements of an AEO authorisation (EU UCC Annex A / WCO TIN-guideline concepts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AeoExt {
    /// The administration that issued the authorisation (the only one that may change its status).
    pub issuing_authority: Authority,
    /// The current status.
    pub status: AeoStatus,
    /// When the current status took effect.
    pub status_changed_at: String,
    /// End of validity; `null` for an authorisation without end date.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Partner programmes recognised under MRAs, as `CC:PROGRAMME` (e.g. `US:C-TPAT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mra_partner_programmes: Vec<String>,
    /// The holder's trader identification number (TIN/EORI).
    #[schemars(length(min = 1, max = 17))]
    pub trader_identification_number: String,
    /// Holder name and address.
    pub holder: AeoHolder,
    /// Every status change, oldest first; the last one is the current status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_history: Vec<AeoStatusChange>,
}

/// An AEO's consent to the exchange of its authorisation's data under mutual recognition: the
/// AEO gives it, and withdraws it, itself (a new version of the same record). Without a
/// consent in force, no partner administration receives the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AeoConsentRecord {
    /// Schema version of this record (`1.0`); absent on input means the current version.
    #[serde(rename = "schemaVersion", default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Free-text description of the document's profile; not part of the record's data.
    #[serde(rename = "_profile", default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The consent (non-WCO).
    #[serde(rename = "Consent")]
    pub consent: AeoConsent,
}

/// The AEO authorisation a consent is about: the `aeo-authorization` record
/// `aeo-authorization:{countryCode}:{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthorisationReference {
    /// ISO 3166-1 alpha-2 code of the issuing administration's country.
    #[schemars(length(min = 2, max = 2))]
    pub country_code: String,
    /// The authorisation's reference number (its `AdditionalDocument/ID`).
    #[schemars(length(min = 1, max = 70))]
    pub id: String,
}

/// What a consent allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConsentScope {
    /// The mutual-recognition exchange: the agreed fields, to the administrations of partner
    /// programmes.
    #[serde(rename = "mra-exchange")]
    MraExchange,
}

/// Whether a consent is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConsentStatus {
    /// Given: the data may be shared.
    Given,
    /// Withdrawn: the data is no longer shared.
    Withdrawn,
}

/// The consent itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AeoConsent {
    /// The authorisation whose data the consent covers.
    pub authorisation: AuthorisationReference,
    /// The holder's trader identification number (TIN/EORI): the AEO giving the consent, as
    /// the authorisation names it (`ext/traderIdentificationNumber`).
    #[schemars(length(min = 1, max = 17))]
    pub trader_identification_number: String,
    /// What the consent allows: `mra-exchange`.
    pub scope: ConsentScope,
    /// The partner programmes, by the ISO 3166-1 alpha-2 code of their country, the data may be
    /// shared with; empty or absent: every partner programme of the consortium's agreements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partner_programmes: Vec<String>,
    /// `given` or `withdrawn`.
    pub status: ConsentStatus,
    /// When the consent was given (ISO 8601 with zone).
    pub given_at: String,
    /// When it was withdrawn (ISO 8601 with zone); required with status `withdrawn`, absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<String>,
}

/// A transport movement: the consignment's conveyance, route, containers and seals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransportMovementRecord {
    /// Schema version of this record (`1.0`); absent on input means the current version.
    #[serde(rename = "schemaVersion", default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Free-text description of the document's profile; not part of the record's data.
    #[serde(rename = "_profile", default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The active means of transport crossing the border. WCO 15A.
    #[serde(rename = "BorderTransportMeans", default, skip_serializing_if = "Option::is_none")]
    pub border_transport_means: Option<wco::BorderTransportMeans>,
    /// Office of exit. WCO 56A.
    #[serde(rename = "ExitOffice", default, skip_serializing_if = "Option::is_none")]
    pub exit_office: Option<wco::ExitOffice>,
    /// The transport documents of the shipment.
    #[serde(rename = "GoodsShipment", default, skip_serializing_if = "Option::is_none")]
    pub goods_shipment: Option<MovementGoodsShipment>,
    /// The consignment moved. WCO 28A.
    #[serde(rename = "Consignment")]
    pub consignment: MovementConsignment,
}

/// The shipment-level documents of a movement (bill of lading, master airway bill…).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementGoodsShipment {
    /// Transport documents. WCO 99A.
    #[serde(rename = "PreviousDocument", default, skip_serializing_if = "Vec::is_empty")]
    pub previous_document: Vec<wco::PreviousDocument>,
}

/// A consignment as it moves: the header- and shipment-level WCO consignment elements together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementConsignment {
    /// Container transport indicator. WCO 096, `an..3`.
    #[serde(rename = "ContainerCode", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3))]
    pub container_code: Option<String>,
    /// The carrier. WCO 18A.
    #[serde(rename = "Carrier", default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<wco::Carrier>,
    /// The consignor. WCO 30A.
    #[serde(rename = "Consignor", default, skip_serializing_if = "Option::is_none")]
    pub consignor: Option<wco::Consignor>,
    /// Place of loading. WCO 83A.
    #[serde(rename = "LoadingLocation", default, skip_serializing_if = "Option::is_none")]
    pub loading_location: Option<wco::LoadingLocation>,
    /// Location of goods (destination place). WCO 64A.
    #[serde(rename = "GoodsLocation", default, skip_serializing_if = "Option::is_none")]
    pub goods_location: Option<wco::GoodsLocation>,
    /// Countries of routing, in order. WCO 81A.
    #[serde(rename = "Itinerary", default, skip_serializing_if = "Vec::is_empty")]
    pub itinerary: Vec<wco::Itinerary>,
    /// Containers and their seals. WCO 31B.
    #[serde(rename = "TransportEquipment", default, skip_serializing_if = "Vec::is_empty")]
    pub transport_equipment: Vec<wco::TransportEquipment>,
    /// Means of transport at departure. WCO 46A.
    #[serde(rename = "DepartureTransportMeans", default, skip_serializing_if = "Option::is_none")]
    pub departure_transport_means: Option<wco::DepartureTransportMeans>,
    /// Means of transport at arrival. WCO 10A.
    #[serde(rename = "ArrivalTransportMeans", default, skip_serializing_if = "Option::is_none")]
    pub arrival_transport_means: Option<wco::ArrivalTransportMeans>,
    /// Non-WCO tracking links: movement reference, declarations, e-seals, EPCIS events, plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<MovementExt>,
}

/// Non-WCO elements of a movement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MovementExt {
    /// The movement's own reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub movement_reference: Option<String>,
    /// References (LRN/MRN) of the declarations covering the goods moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declaration_refs: Vec<String>,
    /// Electronic seals (ISO 18185) on the containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eseals: Vec<ElectronicSeal>,
    /// References of EPCIS events about this movement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epcis_event_refs: Vec<String>,
    /// Planned departure (ISO 8601 with zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_departure: Option<String>,
    /// Planned arrival (ISO 8601 with zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_arrival: Option<String>,
}

/// Seal status as an ISO 18185 e-seal reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SealStatus {
    /// Armed and closed.
    Sealed,
    /// Opened.
    Opened,
    /// Tampering detected.
    Tampered,
}

/// An electronic seal on a container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ElectronicSeal {
    /// Device identifier (manufacturer ID + tag serial).
    #[schemars(length(min = 1, max = 35))]
    pub device_id: String,
    /// The standard the seal follows (e.g. `ISO 18185`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
    /// When the seal was armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armed_at: Option<String>,
    /// The last status reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<SealStatus>,
}

/// The result of a customs inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionResultRecord {
    /// Schema version of this record (`1.0`); absent on input means the current version.
    #[serde(rename = "schemaVersion", default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Free-text description of the document's profile; not part of the record's data.
    #[serde(rename = "_profile", default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The declaration inspected, by its references. WCO 42A (ID D014, FunctionalReferenceID D026, DeclarationOfficeID 065).
    #[serde(rename = "Declaration")]
    pub declaration: InspectedDeclaration,
    /// Extra duties and taxes assessed after the inspection. WCO 50A.
    #[serde(rename = "DutyTaxFee", default, skip_serializing_if = "Vec::is_empty")]
    pub duty_tax_fee: Vec<wco::DutyTaxFee>,
    /// The inspection itself (non-WCO).
    #[serde(rename = "Inspection")]
    pub inspection: Inspection,
}

/// The references of an inspected declaration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectedDeclaration {
    /// Document reference number (MRN). WCO D014, `an..70`.
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub id: Option<String>,
    /// Functional reference number (LRN). WCO D026, `an..35`.
    #[serde(rename = "FunctionalReferenceID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub functional_reference_id: Option<String>,
    /// Office of declaration. WCO 065, `an..17`.
    #[serde(rename = "DeclarationOfficeID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub declaration_office_id: Option<String>,
}

/// A selectivity lane (ASYCUDA): how a declaration is controlled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Lane {
    /// Physical inspection.
    Red,
    /// Documentary check.
    Yellow,
    /// Post-clearance audit.
    Blue,
    /// Release.
    Green,
}

/// The overall outcome of an inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionOutcome {
    /// Goods as declared.
    Conform,
    /// Discrepancies found (value, classification, origin, quantity…).
    Discrepancy,
    /// Goods seized.
    Seizure,
}

/// The kind of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Customs value under- or over-declared.
    Undervaluation,
    /// Wrong HS classification.
    Misclassification,
    /// Wrong origin.
    Origin,
    /// Quantity or mass differs.
    Quantity,
    /// Goods found that were not declared.
    UndeclaredGoods,
    /// Prohibited or restricted goods.
    ProhibitedGoods,
    /// Seal broken or missing.
    SealIntegrity,
    /// Anything else (described in words).
    Other,
}

/// One finding of an inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Finding {
    /// The goods item concerned (its SequenceNumeric), when the finding concerns one item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_item: Option<u64>,
    /// What was found.
    pub kind: FindingKind,
    /// In words.
    #[schemars(length(min = 1, max = 512))]
    pub description: String,
}

/// What was seized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Seizure {
    /// What was seized, in words.
    #[schemars(length(min = 1, max = 512))]
    pub description: String,
    /// Seizure record number of the administration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The inspection: who, when, lane, outcome and findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Inspection {
    /// The lane the declaration was controlled in.
    pub lane: Lane,
    /// The inspecting organisation.
    pub inspector_organisation: Authority,
    /// When the inspection ended (ISO 8601 with zone).
    pub inspected_at: String,
    /// The outcome.
    pub outcome: InspectionOutcome,
    /// What was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The seizure, when goods were seized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seizure: Option<Seizure>,
}

/// Any record of the standardized dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Record {
    /// A goods declaration.
    Declaration(Box<DeclarationRecord>),
    /// An AEO authorisation.
    AeoAuthorization(Box<AeoAuthorizationRecord>),
    /// A transport movement.
    TransportMovement(Box<TransportMovementRecord>),
    /// An inspection result.
    InspectionResult(Box<InspectionResultRecord>),
    /// An AEO's consent to the mutual-recognition exchange.
    AeoConsent(Box<AeoConsentRecord>),
}

impl Record {
    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        match self {
            Record::Declaration(_) => RecordType::Declaration,
            Record::AeoAuthorization(_) => RecordType::AeoAuthorization,
            Record::TransportMovement(_) => RecordType::TransportMovement,
            Record::InspectionResult(_) => RecordType::InspectionResult,
            Record::AeoConsent(_) => RecordType::AeoConsent,
        }
    }

    /// Sets the schema version to the current one and drops the free-text profile, giving the
    /// canonical form stored and shared.
    pub fn normalize(&mut self) {
        macro_rules! norm {
            ($r:expr) => {{
                $r.schema_version = Some(SCHEMA_VERSION.to_owned());
                $r.profile = None;
            }};
        }
        match self {
            Record::Declaration(r) => norm!(r),
            Record::AeoAuthorization(r) => norm!(r),
            Record::TransportMovement(r) => norm!(r),
            Record::InspectionResult(r) => norm!(r),
            Record::AeoConsent(r) => norm!(r),
        }
    }

    /// A business identifier of the record, when it has one (LRN/MRN, authorisation number, movement
    /// reference; for a consent, the number of the authorisation it covers).
    pub fn business_id(&self) -> Option<&str> {
        match self {
            Record::Declaration(r) => r.declaration.id.as_deref().or(r.declaration.functional_reference_id.as_deref()),
            Record::AeoAuthorization(r) => r.additional_document.as_ref().and_then(|d| d.id.as_deref()),
            Record::TransportMovement(r) => r.consignment.ext.as_ref().and_then(|e| e.movement_reference.as_deref()),
            Record::InspectionResult(r) => {
                r.declaration.id.as_deref().or(r.declaration.functional_reference_id.as_deref())
            }
            Record::AeoConsent(r) => Some(&r.consent.authorisation.id),
        }
    }
}
