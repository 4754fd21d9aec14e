//! Events into EPCIS 2.0 JSON-LD (EPCIS 2.0 section 12): one event ([`event_json`]), an
//! `EPCISDocument` ([`document`]) or an `EPCISQueryDocument` ([`query_document`]).
//!
//! Standard fields take their standard names and shapes (`readPoint: {id}`,
//! `bizTransactionList: [{type, bizTransaction}]`, `sensorElementList: [{sensorMetadata,
//! sensorReport: [...]}]`, …); user extensions are written as `prefix:local` keys, with the
//! prefix declared in the `@context` next to the standard context URL. Namespaces get the
//! standard prefixes where the EPCIS context defines them, `bl` for Borderlink's
//! (`https://borderlink.dev/epcis/`), and `ext1`, `ext2`, … otherwise, in order of first use.
//!
//! Values are written as the model holds them, so that parsing the output gives the event back
//! ([`parse_document`](super::parse_document)`(write(e)) == e`), with two exceptions that JSON
//! itself imposes and that leave the hash ID unchanged:
//! - the numeric fields the EPCIS JSON Schema types as numbers (`quantity`, sensor `value`,
//!   `minValue`, `maxValue`, `meanValue`, `sDev`, `percRank`, `percValue`) are JSON numbers, so a
//!   number an XML document spelled unusually (`20.50`, `1E3`) comes back in JSON's spelling
//!   (`20.5`, `1000.0`); `booleanValue` `true`/`false` are JSON booleans;
//! - JSON objects are unordered (and `serde_json` sorts keys), so sibling extension elements of
//!   *different* names come back sorted by name; same-named siblings keep their order.

use serde_json::{Map, Value, json};

use super::json::STANDARD_PREFIXES;
use super::model::{
    ErrorDeclaration, Event, EventType, Extension, Location, QuantityElement, SensorElement, SensorFields,
    TypedReference,
};

/// The standard EPCIS 2.0 JSON-LD context.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld";

/// Borderlink's namespace for its own extension fields, written with the prefix `bl`.
pub const BORDERLINK_NS: &str = "https://borderlink.dev/epcis/";

/// The schema version written in documents.
pub const SCHEMA_VERSION: &str = "2.0";

/// Sensor report fields the EPCIS JSON Schema types as numbers.
const NUMERIC_REPORT_FIELDS: [&str; 8] =
    ["value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "quantity"];

/// The namespace prefixes a JSON-LD output uses, in order of first use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefixes {
    declared: Vec<(String, String)>,
}

impl Prefixes {
    /// The prefix for a namespace, declaring one if it is new.
    fn prefix(&mut self, namespace: &str) -> String {
        if let Some((p, _)) = self.declared.iter().find(|(_, ns)| ns == namespace) {
            return p.clone();
        }
        let standard = STANDARD_PREFIXES.iter().find(|(_, ns)| *ns == namespace).map(|(p, _)| (*p).to_owned());
        let p = standard.unwrap_or_else(|| {
            if namespace == BORDERLINK_NS && !self.declared.iter().any(|(p, _)| p == "bl") {
                "bl".to_owned()
            } else {
                let mut n = self.declared.len() + 1;
                loop {
                    let candidate = format!("ext{n}");
                    if !self.declared.iter().any(|(p, _)| *p == candidate) {
                        break candidate;
                    }
                    n += 1;
                }
            }
        });
        self.declared.push((p.clone(), namespace.to_owned()));
        p
    }

    /// The `@context` value: the standard context, then an object with the prefixes used (the
    /// standard ones too: harmless, and explicit for readers that do not fetch the context).
    pub fn context(&self) -> Value {
        if self.declared.is_empty() {
            return Value::Array(vec![Value::String(EPCIS_CONTEXT.to_owned())]);
        }
        let prefixes: Map<String, Value> =
            self.declared.iter().map(|(p, ns)| (p.clone(), Value::String(ns.clone()))).collect();
        Value::Array(vec![Value::String(EPCIS_CONTEXT.to_owned()), Value::Object(prefixes)])
    }

    /// The prefixes in order of first use: `(prefix, namespace)`.
    pub fn declared(&self) -> &[(String, String)] {
        &self.declared
    }
}

/// One event as a JSON-LD object carrying its own `@context` (what `GET /events/{id}` answers
/// and what the event store keeps).
pub fn event_json(event: &Event) -> Value {
    let mut prefixes = Prefixes::default();
    let mut value = event_value(event, &mut prefixes);
    if let Value::Object(map) = &mut value {
        map.insert("@context".to_owned(), prefixes.context());
    }
    value
}

/// Document-level attributes of an `EPCISDocument`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentInfo {
    /// `creationDate` (the caller's clock: this crate reads none).
    pub creation_date: Option<String>,
    /// `id` of the document, if any.
    pub id: Option<String>,
}

/// An `EPCISDocument` with the events in order.
pub fn document(events: &[Event], info: &DocumentInfo) -> Value {
    let mut prefixes = Prefixes::default();
    let list: Vec<Value> = events.iter().map(|e| event_value(e, &mut prefixes)).collect();
    let mut doc = Map::new();
    doc.insert("@context".to_owned(), prefixes.context());
    doc.insert("type".to_owned(), json!("EPCISDocument"));
    doc.insert("schemaVersion".to_owned(), json!(SCHEMA_VERSION));
    if let Some(d) = &info.creation_date {
        doc.insert("creationDate".to_owned(), json!(d));
    }
    if let Some(id) = &info.id {
        doc.insert("id".to_owned(), json!(id));
    }
    doc.insert("epcisBody".to_owned(), json!({ "eventList": list }));
    Value::Object(doc)
}

/// An `EPCISQueryDocument` answering a query: `queryName` (`SimpleEventQuery`) and the
/// events of one page.
pub fn query_document(events: &[Event], query_name: &str, info: &DocumentInfo) -> Value {
    let mut prefixes = Prefixes::default();
    let list: Vec<Value> = events.iter().map(|e| event_value(e, &mut prefixes)).collect();
    let mut doc = Map::new();
    doc.insert("@context".to_owned(), prefixes.context());
    doc.insert("type".to_owned(), json!("EPCISQueryDocument"));
    doc.insert("schemaVersion".to_owned(), json!(SCHEMA_VERSION));
    if let Some(d) = &info.creation_date {
        doc.insert("creationDate".to_owned(), json!(d));
    }
    if let Some(id) = &info.id {
        doc.insert("id".to_owned(), json!(id));
    }
    doc.insert(
        "epcisBody".to_owned(),
        json!({ "queryResults": { "queryName": query_name, "resultsBody": { "eventList": list } } }),
    );
    Value::Object(doc)
}

/// One event as a JSON-LD object whose extension prefixes are added to `prefixes` (the caller
/// puts `prefixes.context()` on the enclosing document).
pub fn event_value(e: &Event, prefixes: &mut Prefixes) -> Value {
    let mut m = Map::new();
    m.insert("type".to_owned(), json!(e.event_type.as_str()));
    let text = |m: &mut Map<String, Value>, key: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(key.to_owned(), json!(v));
        }
    };
    text(&mut m, "eventID", &e.event_id);
    text(&mut m, "eventTime", &e.event_time);
    text(&mut m, "eventTimeZoneOffset", &e.event_time_zone_offset);
    text(&mut m, "recordTime", &e.record_time);
    if let Some(ed) = &e.error_declaration {
        m.insert("errorDeclaration".to_owned(), error_declaration(ed, prefixes));
    }
    match e.certification_info.as_slice() {
        [] => {}
        [one] => {
            m.insert("certificationInfo".to_owned(), json!(one));
        }
        many => {
            m.insert("certificationInfo".to_owned(), json!(many));
        }
    }
    text(&mut m, "parentID", &e.parent_id);
    let epc_list_required = matches!(e.event_type, EventType::Object | EventType::Transaction);
    for (key, list, always) in [
        ("epcList", &e.epc_list, epc_list_required),
        ("childEPCs", &e.child_epcs, false),
        ("inputEPCList", &e.input_epc_list, false),
        ("outputEPCList", &e.output_epc_list, false),
    ] {
        if always || !list.is_empty() {
            m.insert(key.to_owned(), json!(list));
        }
    }
    for (key, list) in [
        ("quantityList", &e.quantity_list),
        ("childQuantityList", &e.child_quantity_list),
        ("inputQuantityList", &e.input_quantity_list),
        ("outputQuantityList", &e.output_quantity_list),
    ] {
        if !list.is_empty() {
            m.insert(key.to_owned(), Value::Array(list.iter().map(|q| quantity(q, prefixes)).collect()));
        }
    }
    text(&mut m, "action", &e.action);
    text(&mut m, "transformationID", &e.transformation_id);
    text(&mut m, "bizStep", &e.biz_step);
    text(&mut m, "disposition", &e.disposition);
    if let Some(pd) = &e.persistent_disposition {
        let mut p = Map::new();
        if !pd.set.is_empty() {
            p.insert("set".to_owned(), json!(pd.set));
        }
        if !pd.unset.is_empty() {
            p.insert("unset".to_owned(), json!(pd.unset));
        }
        m.insert("persistentDisposition".to_owned(), Value::Object(p));
    }
    if let Some(l) = &e.read_point {
        m.insert("readPoint".to_owned(), location(l, prefixes));
    }
    if let Some(l) = &e.biz_location {
        m.insert("bizLocation".to_owned(), location(l, prefixes));
    }
    for (key, item, list) in [
        ("bizTransactionList", "bizTransaction", &e.biz_transaction_list),
        ("sourceList", "source", &e.source_list),
        ("destinationList", "destination", &e.destination_list),
    ] {
        if !list.is_empty() {
            m.insert(key.to_owned(), Value::Array(list.iter().map(|r| reference(item, r)).collect()));
        }
    }
    if !e.sensor_element_list.is_empty() {
        m.insert(
            "sensorElementList".to_owned(),
            Value::Array(e.sensor_element_list.iter().map(|s| sensor_element(s, prefixes)).collect()),
        );
    }
    if let Some(ilmd) = &e.ilmd {
        let mut i = Map::new();
        extensions_into(&mut i, ilmd, prefixes);
        m.insert("ilmd".to_owned(), Value::Object(i));
    }
    extensions_into(&mut m, &e.extensions, prefixes);
    Value::Object(m)
}

fn error_declaration(ed: &ErrorDeclaration, prefixes: &mut Prefixes) -> Value {
    let mut m = Map::new();
    if let Some(t) = &ed.declaration_time {
        m.insert("declarationTime".to_owned(), json!(t));
    }
    if let Some(r) = &ed.reason {
        m.insert("reason".to_owned(), json!(r));
    }
    if !ed.corrective_event_ids.is_empty() {
        m.insert("correctiveEventIDs".to_owned(), json!(ed.corrective_event_ids));
    }
    extensions_into(&mut m, &ed.extensions, prefixes);
    Value::Object(m)
}

fn quantity(q: &QuantityElement, prefixes: &mut Prefixes) -> Value {
    let mut m = Map::new();
    m.insert("epcClass".to_owned(), json!(q.epc_class));
    if let Some(v) = &q.quantity {
        m.insert("quantity".to_owned(), number(v));
    }
    if let Some(v) = &q.uom {
        m.insert("uom".to_owned(), json!(v));
    }
    extensions_into(&mut m, &q.extensions, prefixes);
    Value::Object(m)
}

fn location(l: &Location, prefixes: &mut Prefixes) -> Value {
    let mut m = Map::new();
    if let Some(id) = &l.id {
        m.insert("id".to_owned(), json!(id));
    }
    extensions_into(&mut m, &l.extensions, prefixes);
    Value::Object(m)
}

fn reference(item: &str, r: &TypedReference) -> Value {
    let mut m = Map::new();
    if let Some(k) = &r.kind {
        m.insert("type".to_owned(), json!(k));
    }
    m.insert(item.to_owned(), json!(r.value));
    Value::Object(m)
}

fn sensor_element(s: &SensorElement, prefixes: &mut Prefixes) -> Value {
    let mut m = Map::new();
    if let Some(md) = &s.metadata {
        m.insert("sensorMetadata".to_owned(), sensor_fields(md, prefixes));
    }
    if !s.reports.is_empty() {
        m.insert(
            "sensorReport".to_owned(),
            Value::Array(s.reports.iter().map(|r| sensor_fields(r, prefixes)).collect()),
        );
    }
    extensions_into(&mut m, &s.extensions, prefixes);
    Value::Object(m)
}

fn sensor_fields(f: &SensorFields, prefixes: &mut Prefixes) -> Value {
    let mut m = Map::new();
    for (name, v) in &f.fields {
        let value = if NUMERIC_REPORT_FIELDS.contains(name) {
            number(v)
        } else if *name == "booleanValue" && (v == "true" || v == "false") {
            Value::Bool(v == "true")
        } else {
            json!(v)
        };
        m.insert((*name).to_owned(), value);
    }
    extensions_into(&mut m, &f.extensions, prefixes);
    Value::Object(m)
}

/// A JSON number for a numeric string (JSON grammar, finite); anything else stays a string.
fn number(v: &str) -> Value {
    let is_json_number = {
        let t = v.strip_prefix('-').unwrap_or(v);
        let (int, rest) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
        !int.is_empty()
            && (int == "0" || !int.starts_with('0'))
            && (rest.is_empty() || rest.starts_with('.') || rest.starts_with('e') || rest.starts_with('E'))
    };
    if is_json_number && let Ok(n) = serde_json::from_str::<serde_json::Number>(v) {
        return Value::Number(n);
    }
    // Other decimal spellings (`+1.5`, `.5`, `1.`) are still numbers to EPCIS.
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && !v.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') => {
            serde_json::Number::from_f64(x).map_or_else(|| json!(v), Value::Number)
        }
        _ => json!(v),
    }
}

/// The JSON key of an extension name.
fn key(name: &super::QName, prefixes: &mut Prefixes) -> String {
    match &name.namespace {
        Some(ns) => format!("{}:{}", prefixes.prefix(ns), name.local),
        None => name.local.clone(),
    }
}

/// Writes extensions as members of `m`: one key per name, an array for several of one name.
fn extensions_into(m: &mut Map<String, Value>, extensions: &[Extension], prefixes: &mut Prefixes) {
    for ext in extensions {
        let k = key(&ext.name, prefixes);
        let v = extension_value(ext, prefixes);
        match m.get_mut(&k) {
            Some(Value::Array(items)) if extensions.iter().filter(|e| e.name == ext.name).count() > 1 => {
                items.push(v);
            }
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                let several = extensions.iter().filter(|e| e.name == ext.name).count() > 1;
                m.insert(k, if several { Value::Array(vec![v]) } else { v });
            }
        }
    }
}

fn extension_value(ext: &Extension, prefixes: &mut Prefixes) -> Value {
    if ext.children.is_empty() {
        return ext.value.as_ref().map_or(Value::Null, |v| json!(v));
    }
    let mut m = Map::new();
    if let Some(v) = &ext.value {
        m.insert("#text".to_owned(), json!(v));
    }
    extensions_into(&mut m, &ext.children, prefixes);
    Value::Object(m)
}
