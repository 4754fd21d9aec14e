//! EPCIS 2.0 JSON / JSON-LD (EPCIS 2.0 section 12) into format-neutral [`Node`]s.
//!
//! JSON-LD is not run through a JSON-LD processor: the EPCIS context is fixed, so only what
//! changes names and values is applied: the prefixes of the `@context` (the standard EPCIS
//! context's own prefixes, then the document's, which may override them) expand `prefix:local`
//! keys into qualified names and `prefix:rest` string values into IRIs. Object key order is
//! kept (a small ordered value type, not `serde_json::Value`, whose maps are sorted).

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

use super::{EpcisError, Format, Limits, Node, QName, RawDocument};

/// Prefixes that the standard EPCIS 2.0 JSON-LD context defines.
pub(crate) const STANDARD_PREFIXES: [(&str, &str); 8] = [
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("cbvmda", "urn:epcglobal:cbv:mda:"),
    ("gs1", "https://gs1.org/voc/"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcterms", "http://purl.org/dc/terms/"),
];

/// Event-level lists whose JSON array items are, in XML, child elements with this name.
const LIST_ITEMS: [(&str, &str); 13] = [
    ("epcList", "epc"),
    ("childEPCs", "epc"),
    ("inputEPCList", "epc"),
    ("outputEPCList", "epc"),
    ("quantityList", "quantityElement"),
    ("childQuantityList", "quantityElement"),
    ("inputQuantityList", "quantityElement"),
    ("outputQuantityList", "quantityElement"),
    ("bizTransactionList", "bizTransaction"),
    ("sourceList", "source"),
    ("destinationList", "destination"),
    ("sensorElementList", "sensorElement"),
    ("correctiveEventIDs", "correctiveEventID"),
];

/// A JSON value that keeps object keys in document order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Scalar(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Scalar(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Scalar(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Scalar(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        // Shortest representation that reads back as the same number; canonicalised later.
        Ok(Json::Scalar(format!("{v:?}")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Scalar(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Scalar(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            entries.push((k, v));
        }
        Ok(Json::Object(entries))
    }
}

fn get<'a>(entries: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn not_epcis(message: &str) -> EpcisError {
    EpcisError::NotEpcis(message.to_owned())
}

struct Converter {
    prefixes: HashMap<String, String>,
    nodes: usize,
    limits: Limits,
}

impl Converter {
    fn count(&mut self) -> Result<(), EpcisError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(EpcisError::Limit { what: "number of values", limit: self.limits.max_nodes });
        }
        Ok(())
    }

    fn collect_context(&mut self, context: &Json) {
        match context {
            Json::Array(items) => items.iter().for_each(|c| self.collect_context(c)),
            Json::Object(entries) => {
                for (k, v) in entries {
                    if let Json::Scalar(iri) = v
                        && !k.starts_with('@')
                    {
                        self.prefixes.insert(k.clone(), iri.clone());
                    }
                }
            }
            _ => {}
        }
    }

    fn qname(&self, key: &str) -> QName {
        if let Some((prefix, local)) = key.split_once(':')
            && let Some(ns) = self.prefixes.get(prefix)
        {
            return QName { namespace: Some(ns.clone()), local: local.to_owned() };
        }
        QName::local(key)
    }

    /// `prefix:rest` with a known prefix becomes the IRI; anything else is kept.
    fn expand_value(&self, value: &str) -> String {
        if let Some((prefix, rest)) = value.split_once(':')
            && let Some(ns) = self.prefixes.get(prefix)
        {
            return format!("{ns}{rest}");
        }
        value.to_owned()
    }

    /// Converts `key: value` into the nodes it stands for (several for an array of an
    /// extension, none for an empty one), appending to `out`.
    fn member(&mut self, key: &str, value: &Json, out: &mut Vec<Node>, depth: usize) -> Result<(), EpcisError> {
        if depth > self.limits.max_depth {
            return Err(EpcisError::Limit { what: "nesting depth", limit: self.limits.max_depth });
        }
        // Comments carry no event data (the reference algorithm ignores them too).
        if key.starts_with('@') || key == "comment" || key == "rdfs:comment" || key == "#text" {
            return Ok(());
        }
        let name = self.qname(key);
        if let Json::Array(items) = value {
            if let Some((_, item_name)) = LIST_ITEMS.iter().find(|(list, _)| name.namespace.is_none() && *list == key) {
                let mut children = Vec::with_capacity(items.len());
                for item in items {
                    self.member(item_name, item, &mut children, depth + 1)?;
                }
                out.push(Node { name, value: None, children });
            } else {
                for item in items {
                    self.member(key, item, out, depth + 1)?;
                }
            }
            return Ok(());
        }
        out.push(self.node(name, value, depth)?);
        Ok(())
    }

    fn node(&mut self, name: QName, value: &Json, depth: usize) -> Result<Node, EpcisError> {
        self.count()?;
        Ok(match value {
            Json::Null => Node { name, value: None, children: Vec::new() },
            Json::Scalar(s) => Node { name, value: Some(self.expand_value(s)), children: Vec::new() },
            Json::Array(items) => {
                // Arrays under a key are flattened by `member`; an array directly in an array is
                // one element holding its items, each under the same name.
                if depth + 1 > self.limits.max_depth {
                    return Err(EpcisError::Limit { what: "nesting depth", limit: self.limits.max_depth });
                }
                let children =
                    items.iter().map(|item| self.node(name.clone(), item, depth + 1)).collect::<Result<Vec<_>, _>>()?;
                Node { name, value: None, children }
            }
            Json::Object(entries) => {
                for (k, v) in entries {
                    if let (Some(prefix), Json::Scalar(iri)) = (k.strip_prefix("@xmlns:"), v) {
                        self.prefixes.insert(prefix.to_owned(), iri.clone());
                    }
                }
                let text = match get(entries, "#text") {
                    Some(Json::Scalar(s)) => Some(self.expand_value(s)),
                    _ => None,
                };
                let mut children = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    self.member(k, v, &mut children, depth + 1)?;
                }
                Node { name, value: text, children }
            }
        })
    }
}

pub(crate) fn parse(text: &str, limits: &Limits) -> Result<RawDocument, EpcisError> {
    // serde_json bounds its own recursion (128 levels), so a deeply nested document is an error,
    // not a stack overflow.
    let root: Json =
        serde_json::from_str(text).map_err(|e| EpcisError::Syntax { format: Format::Json, message: e.to_string() })?;
    let Json::Object(root) = root else {
        return Err(not_epcis("the top level is not a JSON object"));
    };
    let mut conv = Converter {
        prefixes: STANDARD_PREFIXES.iter().map(|(p, iri)| ((*p).to_owned(), (*iri).to_owned())).collect(),
        nodes: 0,
        limits: *limits,
    };
    if let Some(context) = get(&root, "@context") {
        conv.collect_context(context);
    }
    let mut ignore_fields = Vec::new();
    // `ignoreFields` is a document-level declaration: on the document, its body, or the query
    // results that hold the events.
    let body = match get(&root, "epcisBody") {
        Some(Json::Object(body)) => body.as_slice(),
        _ => &[],
    };
    let results = match get(body, "queryResults") {
        Some(Json::Object(r)) => r.as_slice(),
        _ => &[],
    };
    let results_body = match get(results, "resultsBody") {
        Some(Json::Object(r)) => r.as_slice(),
        _ => &[],
    };
    for (k, v) in root.iter().chain(body).chain(results).chain(results_body) {
        if conv.qname(k).local == "ignoreFields" {
            let names: Vec<&Json> = match v {
                Json::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for n in names {
                if let Json::Scalar(s) = n {
                    ignore_fields.push(conv.qname(s));
                }
            }
        }
    }
    let Some(Json::Object(body)) = get(&root, "epcisBody") else {
        return Err(not_epcis("no `epcisBody` object"));
    };
    let list: Vec<&Json> = if let Some(list) = get(body, "eventList") {
        match list {
            Json::Array(items) => items.iter().collect(),
            _ => return Err(not_epcis("`epcisBody.eventList` is not an array")),
        }
    } else if let Some(event) = get(body, "event") {
        vec![event]
    } else if let Some(Json::Object(results)) = get(body, "queryResults") {
        match get(results, "resultsBody") {
            Some(Json::Object(rb)) => match get(rb, "eventList") {
                Some(Json::Array(items)) => items.iter().collect(),
                _ => return Err(not_epcis("no `queryResults.resultsBody.eventList` array")),
            },
            _ => return Err(not_epcis("no `queryResults.resultsBody` object")),
        }
    } else {
        return Err(not_epcis("`epcisBody` has no `eventList`, `event` or `queryResults`"));
    };
    if list.len() > limits.max_events {
        return Err(EpcisError::Limit { what: "number of events", limit: limits.max_events });
    }
    let mut events = Vec::with_capacity(list.len());
    for (index, event) in list.into_iter().enumerate() {
        let Json::Object(entries) = event else {
            return Err(EpcisError::Field {
                index,
                field: String::new(),
                message: "an event must be a JSON object".into(),
            });
        };
        let type_name = match get(entries, "type") {
            Some(Json::Scalar(t)) => t.clone(),
            _ => {
                return Err(EpcisError::Field {
                    index,
                    field: "type".into(),
                    message: "missing or not a string".into(),
                });
            }
        };
        // An event may carry its own `@context` (a single event as `GET /events/{id}` answers
        // it): its prefixes apply inside that event only.
        let saved = get(entries, "@context").map(|context| {
            let saved = conv.prefixes.clone();
            conv.collect_context(context);
            saved
        });
        let mut children = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            if k == "type" {
                continue;
            }
            conv.member(k, v, &mut children, 1)?;
        }
        if let Some(saved) = saved {
            conv.prefixes = saved;
        }
        events.push((type_name, Node { name: QName::local("event"), value: None, children }));
    }
    Ok(RawDocument { events, ignore_fields })
}
