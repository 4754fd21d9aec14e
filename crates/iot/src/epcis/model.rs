//! The EPCIS 2.0 event model (EPCIS 2.0 sections 7.3 and 7.4): the five event types with their
//! standard fields, and user extensions kept as a tree of qualified names.
//!
//! Values are kept as the document wrote them (after namespace prefixes are expanded): the model
//! is what was captured, the [`hash`](super::hash) module decides what is canonical.

use std::fmt;

/// The five EPCIS 2.0 event types (EPCIS 2.0 section 7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `ObjectEvent`: something happened to the listed objects.
    Object,
    /// `AggregationEvent`: objects were put into or taken out of a parent (a pallet, a container).
    Aggregation,
    /// `TransformationEvent`: inputs were consumed and outputs produced.
    Transformation,
    /// `AssociationEvent`: assets were attached to or detached from a parent (a sensor, a seal).
    Association,
    /// `TransactionEvent`: objects were tied to or untied from a business transaction.
    Transaction,
}

impl EventType {
    /// The type name as EPCIS writes it (`ObjectEvent`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Object => "ObjectEvent",
            Self::Aggregation => "AggregationEvent",
            Self::Transformation => "TransformationEvent",
            Self::Association => "AssociationEvent",
            Self::Transaction => "TransactionEvent",
        }
    }

    /// The event type for an EPCIS type name, if it is one of the five.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ObjectEvent" => Self::Object,
            "AggregationEvent" => Self::Aggregation,
            "TransformationEvent" => Self::Transformation,
            "AssociationEvent" => Self::Association,
            "TransactionEvent" => Self::Transaction,
            _ => return None,
        })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name in a namespace: `{namespace}local`, or just `local` for an unqualified name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QName {
    /// The namespace IRI exactly as declared (`xmlns:p="…"` or the JSON-LD `@context`).
    pub namespace: Option<String>,
    /// The local part of the name.
    pub local: String,
}

impl QName {
    /// An unqualified name.
    pub fn local(local: impl Into<String>) -> Self {
        Self { namespace: None, local: local.into() }
    }
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{{{ns}}}{}", self.local),
            None => f.write_str(&self.local),
        }
    }
}

/// A user extension (EPCIS 2.0 section 9.2 "extension mechanisms"): a named element with an
/// optional text value and child elements, in document order. XML attributes on an extension
/// element are children too, as JSON-LD writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The element name.
    pub name: QName,
    /// The text content, if any (an empty string is kept as `Some("")`).
    pub value: Option<String>,
    /// The child elements.
    pub children: Vec<Extension>,
}

/// One `quantityElement` (EPCIS 2.0 section 7.3.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuantityElement {
    /// The class identifier (`urn:epc:class:lgtin:…`, a GS1 Digital Link URI, …).
    pub epc_class: String,
    /// The quantity as written (a decimal number).
    pub quantity: Option<String>,
    /// The UN/CEFACT unit of measure code (`KGM`).
    pub uom: Option<String>,
    /// User extensions inside the element.
    pub extensions: Vec<Extension>,
}

/// A `readPoint` or a `bizLocation` (EPCIS 2.0 sections 7.3.4 and 7.3.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The location identifier (`urn:epc:id:sgln:…` or a GS1 Digital Link URI).
    pub id: Option<String>,
    /// User extensions inside the element.
    pub extensions: Vec<Extension>,
}

/// A business transaction reference, a source or a destination (EPCIS 2.0 section 7.3.5.3):
/// an optional type and the identifier.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypedReference {
    /// The type (`po`, `urn:epcglobal:cbv:btt:po`, `https://ref.gs1.org/cbv/BTT-po`, …).
    pub kind: Option<String>,
    /// The transaction, source or destination identifier.
    pub value: String,
}

/// `persistentDisposition` (EPCIS 2.0 section 7.3.5.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersistentDisposition {
    /// Dispositions set by this event.
    pub set: Vec<String>,
    /// Dispositions unset by this event.
    pub unset: Vec<String>,
}

/// `errorDeclaration` (EPCIS 2.0 section 7.4.1.2). It is excluded from the event hash.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorDeclaration {
    /// When the error was declared.
    pub declaration_time: Option<String>,
    /// Why (`incorrect_data`, `urn:epcglobal:cbv:er:incorrect_data`, …).
    pub reason: Option<String>,
    /// The events that correct the erroneous one.
    pub corrective_event_ids: Vec<String>,
    /// User extensions inside the declaration.
    pub extensions: Vec<Extension>,
}

/// The fields of `sensorMetadata` (EPCIS 2.0 section 7.3.8), in the order of the hash algorithm.
pub const SENSOR_METADATA_FIELDS: [&str; 8] =
    ["time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"];

/// The fields of `sensorReport` (EPCIS 2.0 section 7.3.8), in the order of the hash algorithm.
pub const SENSOR_REPORT_FIELDS: [&str; 23] = [
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
];

/// `sensorMetadata` or one `sensorReport`: the standard fields present, each at most once, in
/// the order of [`SENSOR_METADATA_FIELDS`] / [`SENSOR_REPORT_FIELDS`], and user extensions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorFields {
    /// `(field name, value)` pairs; the names are the standard ones.
    pub fields: Vec<(&'static str, String)>,
    /// User extensions (extra attributes or elements in a foreign namespace).
    pub extensions: Vec<Extension>,
}

impl SensorFields {
    /// The value of a standard field, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// One `sensorElement` (EPCIS 2.0 section 7.3.8).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorElement {
    /// The metadata shared by the reports.
    pub metadata: Option<SensorFields>,
    /// The reports (measurements).
    pub reports: Vec<SensorFields>,
    /// User extensions at the element level.
    pub extensions: Vec<Extension>,
}

/// One EPCIS 2.0 event with all standard fields; fields that do not apply to an event type stay
/// empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Which of the five event types.
    pub event_type: EventType,
    /// `eventTime` as written.
    pub event_time: Option<String>,
    /// `eventTimeZoneOffset` (`+01:00`).
    pub event_time_zone_offset: Option<String>,
    /// `recordTime`: excluded from the hash.
    pub record_time: Option<String>,
    /// `eventID`: excluded from the hash.
    pub event_id: Option<String>,
    /// `errorDeclaration`: excluded from the hash.
    pub error_declaration: Option<ErrorDeclaration>,
    /// `certificationInfo` (one or several URIs).
    pub certification_info: Vec<String>,
    /// `parentID` (aggregation, association, transaction).
    pub parent_id: Option<String>,
    /// `epcList` (object, transaction).
    pub epc_list: Vec<String>,
    /// `childEPCs` (aggregation, association).
    pub child_epcs: Vec<String>,
    /// `inputEPCList` (transformation).
    pub input_epc_list: Vec<String>,
    /// `outputEPCList` (transformation).
    pub output_epc_list: Vec<String>,
    /// `quantityList` (object, transaction).
    pub quantity_list: Vec<QuantityElement>,
    /// `childQuantityList` (aggregation, association).
    pub child_quantity_list: Vec<QuantityElement>,
    /// `inputQuantityList` (transformation).
    pub input_quantity_list: Vec<QuantityElement>,
    /// `outputQuantityList` (transformation).
    pub output_quantity_list: Vec<QuantityElement>,
    /// `action` (`ADD`, `OBSERVE`, `DELETE`).
    pub action: Option<String>,
    /// `transformationID` (transformation).
    pub transformation_id: Option<String>,
    /// `bizStep`.
    pub biz_step: Option<String>,
    /// `disposition`.
    pub disposition: Option<String>,
    /// `persistentDisposition`.
    pub persistent_disposition: Option<PersistentDisposition>,
    /// `readPoint`.
    pub read_point: Option<Location>,
    /// `bizLocation`.
    pub biz_location: Option<Location>,
    /// `bizTransactionList`.
    pub biz_transaction_list: Vec<TypedReference>,
    /// `sourceList`.
    pub source_list: Vec<TypedReference>,
    /// `destinationList`.
    pub destination_list: Vec<TypedReference>,
    /// `sensorElementList`.
    pub sensor_element_list: Vec<SensorElement>,
    /// `ilmd` (instance/lot master data): its content is extension elements.
    pub ilmd: Option<Vec<Extension>>,
    /// User extensions at the event level, in document order.
    pub extensions: Vec<Extension>,
}

impl Event {
    /// An event of the given type with no fields set.
    pub fn new(event_type: EventType) -> Self {
        Self {
            event_type,
            event_time: None,
            event_time_zone_offset: None,
            record_time: None,
            event_id: None,
            error_declaration: None,
            certification_info: Vec::new(),
            parent_id: None,
            epc_list: Vec::new(),
            child_epcs: Vec::new(),
            input_epc_list: Vec::new(),
            output_epc_list: Vec::new(),
            quantity_list: Vec::new(),
            child_quantity_list: Vec::new(),
            input_quantity_list: Vec::new(),
            output_quantity_list: Vec::new(),
            action: None,
            transformation_id: None,
            biz_step: None,
            disposition: None,
            persistent_disposition: None,
            read_point: None,
            biz_location: None,
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
            sensor_element_list: Vec::new(),
            ilmd: None,
            extensions: Vec::new(),
        }
    }
}

/// The events of an `EPCISDocument` or of the results body of an `EPCISQueryDocument`, in
/// document order, with the document-level `ignoreFields` list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// The events, in document order.
    pub events: Vec<Event>,
    /// Qualified names of user extension fields that the document declares as not part of the
    /// event hash (a document-level `ignoreFields` element in any namespace).
    pub ignore_fields: Vec<QName>,
}
