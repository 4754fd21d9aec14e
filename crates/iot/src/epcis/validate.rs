//! What EPCIS 2.0 requires of a captured document beyond being readable: the rules of the
//! standard's JSON Schema and of its event definitions (EPCIS 2.0 sections 7.4 and 12), checked
//! here so that a document that breaks them is refused, with the event and the field at fault,
//! before anything is stored.
//!
//! The passes:
//! - [`xml_document`]: the root of an XML document: an `EPCISDocument` with `schemaVersion`
//!   and `creationDate`.
//! - [`json_document`]: the JSON / JSON-LD shape: the document's `type`, `schemaVersion`,
//!   `creationDate`, `@context` and `epcisBody.eventList`, and each event field's JSON type
//!   (a string where the schema says string, an array for the lists, an object for `readPoint`,
//!   numbers for `quantity`). The parsers read every scalar as text, so this is the only place
//!   that sees a number where a date-time belongs.
//! - [`event`]: the rules of each event, in either format: `eventTime` and `eventTimeZoneOffset`
//!   present and well-formed, `action` present and one of `ADD`, `OBSERVE`, `DELETE` (and absent
//!   on a `TransformationEvent`), the `parentID` of an `AssociationEvent` (and of an
//!   `AggregationEvent` that adds or deletes), the `bizTransactionList` of a `TransactionEvent`,
//!   `eventID` an absolute URI, `recordTime` and `errorDeclaration.declarationTime` date-times,
//!   `quantity` a number.
//!
//! A [`Violation`] names its event (0-based, document order) and field, and has a [`Reason`]
//! whose name is stable (metrics count refusals by it).

use std::fmt;

use serde_json::Value;

use super::EpcisError;
use super::hash::utc_millis;
use super::model::{Event, EventType, QuantityElement};

/// The kind of a violation, with a stable name for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not well-formed JSON / XML.
    Syntax,
    /// Well-formed, but not an EPCIS document (no event list, wrong `type`).
    NotEpcis,
    /// A required field is missing.
    MissingField,
    /// A field has the wrong JSON type or structure.
    WrongType,
    /// A field's value is not one the standard allows.
    BadValue,
    /// An event type that is not one of the five.
    UnknownEventType,
    /// Over a size limit.
    TooLarge,
}

impl Reason {
    /// The stable name (`missing-field`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::NotEpcis => "not-epcis",
            Self::MissingField => "missing-field",
            Self::WrongType => "wrong-type",
            Self::BadValue => "bad-value",
            Self::UnknownEventType => "unknown-event-type",
            Self::TooLarge => "too-large",
        }
    }
}

/// One broken rule: where (the event, the field) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The event's position in the document (0-based), or `None` for the document itself.
    pub event: Option<usize>,
    /// The field's path (`readPoint.id`, `quantityList[0].quantity`), empty for the whole.
    pub field: String,
    /// The kind of violation.
    pub reason: Reason,
    /// What is wrong, for a person.
    pub message: String,
}

impl Violation {
    fn new(event: Option<usize>, field: impl Into<String>, reason: Reason, message: impl Into<String>) -> Self {
        Self { event, field: field.into(), reason, message: message.into() }
    }

    /// A parser's refusal as a violation.
    pub fn from_parse_error(e: &EpcisError) -> Self {
        match e {
            EpcisError::Syntax { .. } => Self::new(None, "", Reason::Syntax, e.to_string()),
            EpcisError::NotEpcis(_) => Self::new(None, "", Reason::NotEpcis, e.to_string()),
            EpcisError::Limit { .. } => Self::new(None, "", Reason::TooLarge, e.to_string()),
            EpcisError::UnknownEventType { index, found } => Self::new(
                Some(*index),
                "type",
                Reason::UnknownEventType,
                format!(
                    "`{found}` is not one of ObjectEvent, AggregationEvent, TransformationEvent, AssociationEvent, TransactionEvent"
                ),
            ),
            EpcisError::Field { index, field, message } => {
                Self::new(Some(*index), field.clone(), Reason::WrongType, message.clone())
            }
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.event, self.field.is_empty()) {
            (Some(i), false) => write!(f, "event {i}, field `{}`: {}", self.field, self.message),
            (Some(i), true) => write!(f, "event {i}: {}", self.message),
            (None, false) => write!(f, "document, field `{}`: {}", self.field, self.message),
            (None, true) => write!(f, "document: {}", self.message),
        }
    }
}

/// Event fields whose JSON value is a string.
const STRING_FIELDS: [&str; 9] = [
    "eventTime",
    "eventTimeZoneOffset",
    "recordTime",
    "eventID",
    "parentID",
    "action",
    "bizStep",
    "disposition",
    "transformationID",
];

/// Event fields whose JSON value is an array of EPC strings.
const EPC_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];

/// Event fields whose JSON value is an array of quantity elements.
const QUANTITY_LISTS: [&str; 4] = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"];

/// Event fields whose JSON value is an array of typed references, with their item key.
const REFERENCE_LISTS: [(&str, &str); 3] =
    [("bizTransactionList", "bizTransaction"), ("sourceList", "source"), ("destinationList", "destination")];

/// Event fields whose JSON value is an object.
const OBJECT_FIELDS: [&str; 5] = ["readPoint", "bizLocation", "persistentDisposition", "ilmd", "errorDeclaration"];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The shape of a JSON / JSON-LD `EPCISDocument` (the document fields and each event's field
/// types); every violation found, in document order.
pub fn json_document(doc: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(obj) = doc.as_object() else {
        out.push(Violation::new(
            None,
            "",
            Reason::NotEpcis,
            format!("the document is {}, not an object", type_name(doc)),
        ));
        return out;
    };
    match obj.get("type") {
        Some(Value::String(t)) if t == "EPCISDocument" => {}
        Some(Value::String(t)) => out.push(Violation::new(
            None,
            "type",
            Reason::NotEpcis,
            format!("is `{t}`; capture takes an `EPCISDocument`"),
        )),
        Some(v) => {
            out.push(Violation::new(None, "type", Reason::WrongType, format!("is {}, not a string", type_name(v))))
        }
        None => out.push(Violation::new(None, "type", Reason::MissingField, "is required (`EPCISDocument`)")),
    }
    if obj.get("@context").is_none() {
        out.push(Violation::new(None, "@context", Reason::MissingField, "is required (the EPCIS 2.0 JSON-LD context)"));
    }
    match obj.get("schemaVersion") {
        Some(Value::String(_)) => {}
        Some(v) => out.push(Violation::new(
            None,
            "schemaVersion",
            Reason::WrongType,
            format!("is {}, not a string (\"2.0\")", type_name(v)),
        )),
        None => out.push(Violation::new(None, "schemaVersion", Reason::MissingField, "is required (\"2.0\")")),
    }
    match obj.get("creationDate") {
        Some(Value::String(s)) if is_date_time(s) => {}
        Some(Value::String(s)) => out.push(Violation::new(
            None,
            "creationDate",
            Reason::BadValue,
            format!("`{s}` is not a date-time with a time zone (2026-03-09T02:41:08Z)"),
        )),
        Some(v) => out.push(Violation::new(
            None,
            "creationDate",
            Reason::WrongType,
            format!("is {}, not a date-time string", type_name(v)),
        )),
        None => out.push(Violation::new(None, "creationDate", Reason::MissingField, "is required")),
    }
    let events = match obj.get("epcisBody") {
        Some(Value::Object(body)) => match body.get("eventList") {
            Some(Value::Array(events)) => events,
            Some(v) => {
                out.push(Violation::new(
                    None,
                    "epcisBody.eventList",
                    Reason::WrongType,
                    format!("is {}, not an array", type_name(v)),
                ));
                return out;
            }
            None => {
                out.push(Violation::new(None, "epcisBody.eventList", Reason::MissingField, "is required"));
                return out;
            }
        },
        Some(v) => {
            out.push(Violation::new(
                None,
                "epcisBody",
                Reason::WrongType,
                format!("is {}, not an object", type_name(v)),
            ));
            return out;
        }
        None => {
            out.push(Violation::new(None, "epcisBody", Reason::MissingField, "is required"));
            return out;
        }
    };
    for (i, e) in events.iter().enumerate() {
        json_event(i, e, &mut out);
    }
    out
}

fn json_event(i: usize, e: &Value, out: &mut Vec<Violation>) {
    let at = Some(i);
    let Some(e) = e.as_object() else {
        out.push(Violation::new(at, "", Reason::WrongType, format!("the event is {}, not an object", type_name(e))));
        return;
    };
    match e.get("type") {
        Some(Value::String(_)) => {}
        Some(v) => {
            out.push(Violation::new(at, "type", Reason::WrongType, format!("is {}, not a string", type_name(v))))
        }
        None => out.push(Violation::new(at, "type", Reason::MissingField, "is required (ObjectEvent, …)")),
    }
    for name in STRING_FIELDS {
        if let Some(v) = e.get(name)
            && !v.is_string()
        {
            out.push(Violation::new(at, name, Reason::WrongType, format!("is {}, not a string", type_name(v))));
        }
    }
    if let Some(v) = e.get("certificationInfo")
        && !(v.is_string() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
    {
        out.push(Violation::new(
            at,
            "certificationInfo",
            Reason::WrongType,
            format!("is {}, not a string or an array of strings", type_name(v)),
        ));
    }
    for name in EPC_LISTS {
        match e.get(name) {
            None => {}
            Some(Value::Array(items)) => {
                for (k, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        out.push(Violation::new(
                            at,
                            format!("{name}[{k}]"),
                            Reason::WrongType,
                            format!("is {}, not an EPC string", type_name(item)),
                        ));
                    }
                }
            }
            Some(v) => {
                out.push(Violation::new(at, name, Reason::WrongType, format!("is {}, not an array", type_name(v))));
            }
        }
    }
    for name in QUANTITY_LISTS {
        match e.get(name) {
            None => {}
            Some(Value::Array(items)) => {
                for (k, item) in items.iter().enumerate() {
                    let path = format!("{name}[{k}]");
                    let Some(q) = item.as_object() else {
                        out.push(Violation::new(
                            at,
                            path,
                            Reason::WrongType,
                            format!("is {}, not an object", type_name(item)),
                        ));
                        continue;
                    };
                    match q.get("epcClass") {
                        Some(Value::String(_)) => {}
                        Some(v) => out.push(Violation::new(
                            at,
                            format!("{path}.epcClass"),
                            Reason::WrongType,
                            format!("is {}, not a string", type_name(v)),
                        )),
                        None => out.push(Violation::new(
                            at,
                            format!("{path}.epcClass"),
                            Reason::MissingField,
                            "is required",
                        )),
                    }
                    if let Some(v) = q.get("quantity")
                        && !v.is_number()
                    {
                        out.push(Violation::new(
                            at,
                            format!("{path}.quantity"),
                            Reason::WrongType,
                            format!("is {}, not a number", type_name(v)),
                        ));
                    }
                    if let Some(v) = q.get("uom")
                        && !v.is_string()
                    {
                        out.push(Violation::new(
                            at,
                            format!("{path}.uom"),
                            Reason::WrongType,
                            format!("is {}, not a string", type_name(v)),
                        ));
                    }
                }
            }
            Some(v) => {
                out.push(Violation::new(at, name, Reason::WrongType, format!("is {}, not an array", type_name(v))));
            }
        }
    }
    for (name, key) in REFERENCE_LISTS {
        match e.get(name) {
            None => {}
            Some(Value::Array(items)) => {
                for (k, item) in items.iter().enumerate() {
                    let path = format!("{name}[{k}]");
                    match item.as_object().map(|o| o.get(key)) {
                        Some(Some(Value::String(_))) => {}
                        Some(Some(v)) => out.push(Violation::new(
                            at,
                            format!("{path}.{key}"),
                            Reason::WrongType,
                            format!("is {}, not a string", type_name(v)),
                        )),
                        Some(None) => {
                            out.push(Violation::new(at, format!("{path}.{key}"), Reason::MissingField, "is required"));
                        }
                        None => out.push(Violation::new(
                            at,
                            path,
                            Reason::WrongType,
                            format!("is {}, not an object", type_name(item)),
                        )),
                    }
                }
            }
            Some(v) => {
                out.push(Violation::new(at, name, Reason::WrongType, format!("is {}, not an array", type_name(v))));
            }
        }
    }
    if let Some(v) = e.get("sensorElementList")
        && !v.is_array()
    {
        out.push(Violation::new(
            at,
            "sensorElementList",
            Reason::WrongType,
            format!("is {}, not an array", type_name(v)),
        ));
    }
    for name in OBJECT_FIELDS {
        if let Some(v) = e.get(name)
            && !v.is_object()
        {
            out.push(Violation::new(at, name, Reason::WrongType, format!("is {}, not an object", type_name(v))));
        }
    }
    for name in ["readPoint", "bizLocation"] {
        if let Some(Value::Object(loc)) = e.get(name) {
            match loc.get("id") {
                Some(Value::String(_)) => {}
                Some(v) => out.push(Violation::new(
                    at,
                    format!("{name}.id"),
                    Reason::WrongType,
                    format!("is {}, not a string", type_name(v)),
                )),
                None => out.push(Violation::new(at, format!("{name}.id"), Reason::MissingField, "is required")),
            }
        }
    }
}

/// The root of an XML `EPCISDocument`: its name and its `schemaVersion` and `creationDate`
/// attributes (the XML parser reads the event list wherever it is, so this is the check that
/// the document is an `EPCISDocument`). A document that does not parse is left to the parser.
pub fn xml_document(bytes: &[u8]) -> Vec<Violation> {
    use quick_xml::events::Event as XmlEvent;
    let mut out = Vec::new();
    let Ok(text) = std::str::from_utf8(bytes) else { return out };
    let mut reader = quick_xml::Reader::from_str(text);
    let root = loop {
        match reader.read_event() {
            Ok(XmlEvent::Start(e) | XmlEvent::Empty(e)) => break e.into_owned(),
            Ok(XmlEvent::Eof) | Err(_) => return out,
            Ok(_) => {}
        }
    };
    let name = root.local_name().as_ref().to_owned();
    if name != "EPCISDocument" {
        out.push(Violation::new(
            None,
            "",
            Reason::NotEpcis,
            format!("the root element is `{name}`; capture takes an `EPCISDocument`"),
        ));
        return out;
    }
    let mut version = false;
    let mut created = None;
    for a in root.attributes().flatten() {
        match a.key.local_name().as_ref() {
            "schemaVersion" => version = true,
            "creationDate" => created = Some(a.value.trim().to_owned()),
            _ => {}
        }
    }
    if !version {
        out.push(Violation::new(None, "@schemaVersion", Reason::MissingField, "is required (\"2.0\")"));
    }
    match created {
        None => out.push(Violation::new(None, "@creationDate", Reason::MissingField, "is required")),
        Some(d) if !is_date_time(&d) => out.push(Violation::new(
            None,
            "@creationDate",
            Reason::BadValue,
            format!("`{d}` is not a date-time with a time zone (2026-03-09T02:41:08Z)"),
        )),
        Some(_) => {}
    }
    out
}

/// Whether `s` is an ISO 8601 date-time with a time zone (`Z` or `±hh:mm`).
fn is_date_time(s: &str) -> bool {
    let zoned = s.ends_with('Z') || s.ends_with('z') || s.len() > 6 && is_offset(&s[s.len() - 6..]);
    zoned && s.len() >= 20 && utc_millis(s).is_some()
}

/// Whether `s` is a time zone offset `±hh:mm` from -14:00 to +14:00.
fn is_offset(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        return false;
    }
    let digits = |x: &[u8]| -> Option<u32> {
        x.iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    match (digits(&b[1..3]), digits(&b[4..6])) {
        (Some(h), Some(m)) => m < 60 && (h < 14 || (h == 14 && m == 0)),
        _ => false,
    }
}

/// Whether `s` starts with a URI scheme (`urn:`, `https:`, `ni:`).
fn is_absolute_uri(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

fn quantities(i: usize, name: &str, list: &[QuantityElement], out: &mut Vec<Violation>) {
    for (k, q) in list.iter().enumerate() {
        if let Some(v) = &q.quantity
            && !v.parse::<f64>().is_ok_and(f64::is_finite)
        {
            out.push(Violation::new(
                Some(i),
                format!("{name}[{k}].quantity"),
                Reason::BadValue,
                format!("`{v}` is not a number"),
            ));
        }
    }
}

/// The rules of one event (the `index`-th of its document), in either format; every violation
/// found.
pub fn event(index: usize, e: &Event) -> Vec<Violation> {
    let at = Some(index);
    let mut out = Vec::new();
    match e.event_time.as_deref() {
        None => out.push(Violation::new(at, "eventTime", Reason::MissingField, "is required")),
        Some(t) if !is_date_time(t) => out.push(Violation::new(
            at,
            "eventTime",
            Reason::BadValue,
            format!("`{t}` is not a date-time with a time zone (2026-03-09T02:41:08.000+01:00)"),
        )),
        Some(_) => {}
    }
    match e.event_time_zone_offset.as_deref() {
        None => out.push(Violation::new(at, "eventTimeZoneOffset", Reason::MissingField, "is required (+01:00)")),
        Some(o) if !is_offset(o) => out.push(Violation::new(
            at,
            "eventTimeZoneOffset",
            Reason::BadValue,
            format!("`{o}` is not an offset from -14:00 to +14:00 (+01:00)"),
        )),
        Some(_) => {}
    }
    if let Some(t) = e.record_time.as_deref()
        && !is_date_time(t)
    {
        out.push(Violation::new(
            at,
            "recordTime",
            Reason::BadValue,
            format!("`{t}` is not a date-time with a time zone"),
        ));
    }
    if let Some(id) = e.event_id.as_deref()
        && !is_absolute_uri(id)
    {
        out.push(Violation::new(
            at,
            "eventID",
            Reason::BadValue,
            format!("`{id}` is not an absolute URI (ni:///sha-256;…, urn:uuid:…)"),
        ));
    }
    match (e.event_type, e.action.as_deref()) {
        (EventType::Transformation, Some(_)) => {
            out.push(Violation::new(at, "action", Reason::BadValue, "a TransformationEvent has no action"))
        }
        (EventType::Transformation, None) => {}
        (_, None) => {
            out.push(Violation::new(at, "action", Reason::MissingField, "is required (ADD, OBSERVE or DELETE)"))
        }
        (_, Some("ADD" | "OBSERVE" | "DELETE")) => {}
        (_, Some(a)) => {
            out.push(Violation::new(at, "action", Reason::BadValue, format!("`{a}` is not ADD, OBSERVE or DELETE")))
        }
    }
    let adds_or_deletes = matches!(e.action.as_deref(), Some("ADD" | "DELETE"));
    match e.event_type {
        EventType::Association if e.parent_id.is_none() => {
            out.push(Violation::new(at, "parentID", Reason::MissingField, "is required in an AssociationEvent"));
        }
        EventType::Aggregation if e.parent_id.is_none() && adds_or_deletes => out.push(Violation::new(
            at,
            "parentID",
            Reason::MissingField,
            "is required in an AggregationEvent that adds or deletes",
        )),
        EventType::Transaction if e.biz_transaction_list.is_empty() => out.push(Violation::new(
            at,
            "bizTransactionList",
            Reason::MissingField,
            "is required in a TransactionEvent",
        )),
        _ => {}
    }
    if let Some(d) = &e.error_declaration {
        match d.declaration_time.as_deref() {
            None => {
                out.push(Violation::new(at, "errorDeclaration.declarationTime", Reason::MissingField, "is required"))
            }
            Some(t) if !is_date_time(t) => out.push(Violation::new(
                at,
                "errorDeclaration.declarationTime",
                Reason::BadValue,
                format!("`{t}` is not a date-time with a time zone"),
            )),
            Some(_) => {}
        }
    }
    quantities(index, "quantityList", &e.quantity_list, &mut out);
    quantities(index, "childQuantityList", &e.child_quantity_list, &mut out);
    quantities(index, "inputQuantityList", &e.input_quantity_list, &mut out);
    quantities(index, "outputQuantityList", &e.output_quantity_list, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn good_event() -> Value {
        json!({"type": "ObjectEvent", "eventTime": "2026-03-09T04:41:08.000+02:00", "eventTimeZoneOffset": "+02:00",
               "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"]})
    }

    fn doc(events: Vec<Value>) -> Value {
        json!({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
               "schemaVersion": "2.0", "creationDate": "2026-03-09T04:41:08Z", "epcisBody": {"eventList": events}})
    }

    #[test]
    fn a_good_document_has_no_violation() {
        assert_eq!(json_document(&doc(vec![good_event()])), vec![]);
    }

    #[test]
    fn json_types_and_document_fields_are_checked() {
        let mut e = good_event();
        e["eventTime"] = json!(1_773_024_068);
        e["epcList"] = json!("urn:epc:id:sgtin:0614141.107346.2017");
        e["readPoint"] = json!({"id": 5});
        let mut d = doc(vec![good_event(), e]);
        d.as_object_mut().unwrap().remove("creationDate");
        let v = json_document(&d);
        let found: Vec<(Option<usize>, &str, Reason)> =
            v.iter().map(|v| (v.event, v.field.as_str(), v.reason)).collect();
        assert_eq!(
            found,
            [
                (None, "creationDate", Reason::MissingField),
                (Some(1), "eventTime", Reason::WrongType),
                (Some(1), "epcList", Reason::WrongType),
                (Some(1), "readPoint.id", Reason::WrongType),
            ]
        );
        assert_eq!(v[1].to_string(), "event 1, field `eventTime`: is a number, not a string");
    }

    #[test]
    fn event_rules_name_the_field() {
        let mut e = Event::new(EventType::Association);
        e.event_time = Some("2026-03-09T04:41:08".into());
        e.event_time_zone_offset = Some("+15:00".into());
        e.action = Some("MOVE".into());
        e.event_id = Some("not a uri".into());
        let v = event(3, &e);
        let found: Vec<(&str, Reason)> = v.iter().map(|v| (v.field.as_str(), v.reason)).collect();
        assert_eq!(
            found,
            [
                ("eventTime", Reason::BadValue),
                ("eventTimeZoneOffset", Reason::BadValue),
                ("eventID", Reason::BadValue),
                ("action", Reason::BadValue),
                ("parentID", Reason::MissingField),
            ]
        );
        assert!(v.iter().all(|v| v.event == Some(3)));
    }

    #[test]
    fn transformation_events_have_no_action_and_others_need_one() {
        let mut t = Event::new(EventType::Transformation);
        t.event_time = Some("2026-03-09T04:41:08Z".into());
        t.event_time_zone_offset = Some("+00:00".into());
        assert_eq!(event(0, &t), vec![]);
        t.action = Some("ADD".into());
        assert_eq!(event(0, &t)[0].field, "action");
        let mut o = t.clone();
        o.event_type = EventType::Object;
        o.action = None;
        assert_eq!(event(0, &o)[0].reason, Reason::MissingField);
    }

    #[test]
    fn an_xml_document_is_an_epcis_document_with_its_attributes() {
        let good = br#"<?xml version="1.0"?><epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-03-09T02:41:08Z"/>"#;
        assert_eq!(xml_document(good), vec![]);
        let v = xml_document(br#"<epcis:EPCISDocument xmlns:epcis="urn:x" creationDate="yesterday"/>"#);
        let fields: Vec<&str> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["@schemaVersion", "@creationDate"]);
        assert_eq!(xml_document(b"<Other/>")[0].reason, Reason::NotEpcis);
    }

    #[test]
    fn offsets_and_uris() {
        assert!(is_offset("+14:00") && is_offset("-03:30") && !is_offset("+14:30") && !is_offset("0100"));
        assert!(
            is_absolute_uri("ni:///sha-256;ab?ver=CBV2.0") && is_absolute_uri("urn:uuid:1") && !is_absolute_uri("x")
        );
    }
}
