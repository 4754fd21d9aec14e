//! WCO DM XML (`urn:wco:datamodel:WCO:DEC-DMS:2`) mapped to the same records as JSON.
//!
//! The mapping is driven by the declaration's JSON Schema, so that it can never drift from the
//! types: an element whose schema is a list is collected into a list, a number is parsed as a
//! number, an amount or measure takes its `currencyID` / `unitCode` attribute, and a date given
//! as `<DateTimeString formatCode="102|304">` becomes ISO 8601. Values that do not parse are
//! passed on as text, so that the structural check reports them with every other error, and the
//! JSON paths of a report are turned back into XML element paths by [`json_path_to_xml`].
//!
//! DTDs are refused (no entity expansion), nesting is limited, and every syntax error names the
//! line and column.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Number, Value};

use crate::check::{Issue, Severity};
use crate::records::RecordType;
use crate::schema::schema_ref;
use crate::validate::MAX_DEPTH;

/// The namespace of the WCO DM declaration (DEC-DMS) message.
pub const DEC_DMS_NAMESPACE: &str = "urn:wco:datamodel:WCO:DEC-DMS:2";

#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

fn issue(path: &str, rule: &str, message: String) -> Issue {
    Issue { path: path.to_owned(), rule: rule.to_owned(), message, severity: Severity::Error }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let prefix = &text.as_bytes()[..offset.min(text.len())];
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

fn xml_path(stack: &[Element]) -> String {
    if stack.is_empty() {
        return "/".into();
    }
    stack.iter().map(|e| format!("/{}", e.name)).collect()
}

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => name.to_owned(),
    }
}

/// Parses the XML into an element tree.
fn parse_tree(text: &str) -> Result<(Element, Option<String>), Vec<Issue>> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut root_ns: Option<String> = None;
    let at = |reader: &Reader<&[u8]>, pos: u64| {
        let (l, c) = line_col(text, pos as usize);
        let _ = reader;
        format!("line {l}, column {c}")
    };
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let pos = reader.error_position();
                return Err(vec![issue(
                    &xml_path(&stack),
                    "document.syntax",
                    format!("the document is not well-formed XML at {}: {e}", at(&reader, pos)),
                )]);
            }
        };
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                if root.is_some() {
                    return Err(vec![issue(
                        "/",
                        "document.syntax",
                        "the document has more than one root element".into(),
                    )]);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(vec![issue(
                        &xml_path(&stack),
                        "document.too_deep",
                        "the document is nested too deeply here".into(),
                    )]);
                }
                let mut el = Element { name: local(s.name().as_ref()), ..Default::default() };
                let prefix = s.name().prefix().map(|p| p.as_ref().to_owned());
                for a in s.attributes() {
                    let a = match a {
                        Ok(a) => a,
                        Err(e) => {
                            return Err(vec![issue(
                                &format!("{}/{}", xml_path(&stack), el.name),
                                "document.syntax",
                                format!("malformed attribute at {}: {e}", at(&reader, reader.buffer_position())),
                            )]);
                        }
                    };
                    let key = a.key.as_ref().to_owned();
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    if stack.is_empty() {
                        let ns_key = match &prefix {
                            Some(p) => format!("xmlns:{p}"),
                            None => "xmlns".to_owned(),
                        };
                        if key == ns_key {
                            root_ns = Some(value.clone());
                        }
                    }
                    if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
                        continue;
                    }
                    el.attrs.push((local(&key), value));
                }
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(vec![issue("/", "document.syntax", "unexpected closing tag".into())]);
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(vec![issue("/", "document.syntax", "text outside the root element".into())]);
                }
            }
            Event::CData(c) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content().into_owned();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned),
                    Err(_) => None,
                };
                match (resolved, stack.last_mut()) {
                    (Some(s), Some(el)) => el.text.push_str(&s),
                    (None, _) => {
                        return Err(vec![issue(
                            &xml_path(&stack),
                            "document.syntax",
                            format!(
                                "unknown entity &{name}; at {} (only the predefined XML entities are accepted)",
                                at(&reader, reader.buffer_position())
                            ),
                        )]);
                    }
                    (Some(_), None) => {}
                }
            }
            Event::DocType(_) => {
                return Err(vec![issue(
                    "/",
                    "document.dtd",
                    "document type declarations (DTDs) are not accepted".into(),
                )]);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(vec![issue(
            &xml_path(&stack),
            "document.truncated",
            format!("the document ends before </{}> (truncated?)", open.name),
        )]);
    }
    match root {
        Some(r) => Ok((r, root_ns)),
        None => Err(vec![issue("/", "document.empty", "the document has no root element".into())]),
    }
}

/// Reads a WCO DM XML declaration into the JSON form of a [`crate::DeclarationRecord`].
///
/// Document-level problems (not well-formed, truncated, wrong root or namespace) are returned as
/// issues with XML paths; element-level problems are left to the validator.
pub fn declaration_from_xml(text: &str) -> Result<Value, Vec<Issue>> {
    let (root, ns) = parse_tree(text)?;
    if root.name != "Declaration" {
        return Err(vec![issue(
            &format!("/{}", root.name),
            "xml.root",
            format!("the root element must be Declaration (WCO DM DEC-DMS); got {}", root.name),
        )]);
    }
    if ns.as_deref() != Some(DEC_DMS_NAMESPACE) {
        return Err(vec![issue(
            "/Declaration",
            "xml.namespace",
            format!(
                "the Declaration element must be in the namespace {DEC_DMS_NAMESPACE}; got {}",
                ns.map(|n| format!("\"{n}\"")).unwrap_or_else(|| "no namespace".into())
            ),
        )]);
    }
    let schema = schema_ref(RecordType::Declaration);
    let mapper = Mapper { root: schema };
    let decl_schema = schema.get("properties").and_then(|p| p.get("Declaration")).unwrap_or(&Value::Null);
    let mut out = Map::new();
    out.insert("Declaration".into(), mapper.convert(&root, decl_schema));
    Ok(Value::Object(out))
}

struct Mapper<'a> {
    root: &'a Value,
}

impl<'a> Mapper<'a> {
    /// Resolves `$ref` and strips `anyOf [T, null]` down to `T`.
    fn resolve(&self, mut s: &'a Value) -> &'a Value {
        for _ in 0..16 {
            if let Some(r) = s.get("$ref").and_then(Value::as_str) {
                let name = r.rsplit('/').next().unwrap_or("");
                match self.root.get("$defs").and_then(|d| d.get(name)) {
                    Some(d) => {
                        s = d;
                        continue;
                    }
                    None => return s,
                }
            }
            if let Some(alts) = s.get("anyOf").and_then(Value::as_array)
                && let Some(non_null) = alts.iter().find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            {
                s = non_null;
                continue;
            }
            return s;
        }
        s
    }

    fn main_type(s: &Value) -> Option<&str> {
        match s.get("type") {
            Some(Value::String(t)) => Some(t.as_str()),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
            _ => None,
        }
    }

    fn convert(&self, el: &Element, schema: &'a Value) -> Value {
        let s = self.resolve(schema);
        let props = s.get("properties").and_then(Value::as_object);
        match Self::main_type(s) {
            Some("object") => {
                let mut map = Map::new();
                // Amount / Measure: the text is the value, attributes are the currency or unit.
                if props.is_some_and(|p| p.contains_key("value")) && el.children.is_empty() {
                    map.insert("value".into(), number_or_text(&el.text, false));
                    for (k, v) in &el.attrs {
                        map.insert(k.clone(), Value::String(v.clone()));
                    }
                    return Value::Object(map);
                }
                for (k, v) in &el.attrs {
                    map.insert(format!("@{k}"), Value::String(v.clone()));
                }
                if !el.text.trim().is_empty() {
                    map.insert("#text".into(), Value::String(el.text.clone()));
                }
                for child in &el.children {
                    let child_schema = props.and_then(|p| p.get(&child.name)).map(|cs| self.resolve(cs));
                    match child_schema {
                        Some(cs) if Self::main_type(cs) == Some("array") => {
                            let item_schema = cs.get("items").unwrap_or(&Value::Null);
                            let v = self.convert(child, item_schema);
                            match map.entry(child.name.clone()).or_insert_with(|| Value::Array(Vec::new())) {
                                Value::Array(a) => a.push(v),
                                other => *other = Value::Array(vec![v]),
                            }
                        }
                        Some(cs) => {
                            let v = self.convert(child, cs);
                            insert_once(&mut map, &child.name, v);
                        }
                        None => {
                            // Unknown here: pass it on so that the structural check reports it.
                            let v = self.convert(child, &Value::Null);
                            insert_once(&mut map, &child.name, v);
                        }
                    }
                }
                Value::Object(map)
            }
            Some("integer") => number_or_text(&el.text, true),
            Some("number") => number_or_text(&el.text, false),
            Some("string") | None if !el.children.is_empty() => {
                // A date as <DateTimeString formatCode="102|304">…</DateTimeString>.
                if let [only] = el.children.as_slice()
                    && only.name == "DateTimeString"
                {
                    let code = only.attrs.iter().find(|(k, _)| k == "formatCode").map(|(_, v)| v.as_str());
                    return Value::String(wco_date(only.text.trim(), code));
                }
                let mut map = Map::new();
                for child in &el.children {
                    let v = self.convert(child, &Value::Null);
                    insert_once(&mut map, &child.name, v);
                }
                Value::Object(map)
            }
            _ => Value::String(el.text.trim().to_owned()),
        }
    }
}

fn insert_once(map: &mut Map<String, Value>, key: &str, v: Value) {
    match map.get_mut(key) {
        // A repeated element where one is expected: keep both so the check reports a list.
        Some(Value::Array(a)) => a.push(v),
        Some(existing) => {
            let first = std::mem::take(existing);
            *existing = Value::Array(vec![first, v]);
        }
        None => {
            map.insert(key.to_owned(), v);
        }
    }
}

fn number_or_text(text: &str, integer: bool) -> Value {
    let t = text.trim();
    if integer {
        if let Ok(n) = t.parse::<u64>() {
            return Value::Number(n.into());
        }
    } else if let Some(n) = t.parse::<f64>().ok().and_then(Number::from_f64)
        && !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
    {
        return Value::Number(n);
    }
    Value::String(t.to_owned())
}

/// WCO/UN EDIFACT date formats: 102 = CCYYMMDD, 304 = CCYYMMDDHHMMSS with zone (`Z` or ±hhmm).
fn wco_date(v: &str, format_code: Option<&str>) -> String {
    let d = v.as_bytes();
    let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match format_code {
        Some("102") if d.len() == 8 && all_digits(d) => format!("{}-{}-{}", &v[0..4], &v[4..6], &v[6..8]),
        Some("304") if d.len() >= 15 && all_digits(&d[..14]) => {
            let zone = &v[14..];
            let zone = match zone {
                "Z" | "z" => "Z".to_owned(),
                z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => format!("{}:{}", &z[..3], &z[3..]),
                z => z.to_owned(),
            };
            format!("{}-{}-{}T{}:{}:{}{}", &v[0..4], &v[4..6], &v[6..8], &v[8..10], &v[10..12], &v[12..14], zone)
        }
        // Anything else is passed on unchanged; the date check then reports it.
        _ => v.to_owned(),
    }
}

/// Turns a JSON path of a report (`$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].StatisticalValueAmount.currencyID`)
/// into the XML element path of the same place (`/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/StatisticalValueAmount/@currencyID`).
pub fn json_path_to_xml(path: &str) -> String {
    let rest = path.strip_prefix('$').unwrap_or(path);
    let mut out = String::new();
    for seg in rest.split('.').filter(|s| !s.is_empty()) {
        let (name, index) = match seg.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        match name {
            "value" => continue,
            "currencyID" | "unitCode" => {
                out.push_str("/@");
                out.push_str(name);
            }
            _ => {
                out.push('/');
                out.push_str(name);
            }
        }
        if let Some(i) = index {
            out.push_str(&format!("[{}]", i + 1));
        }
    }
    if out.is_empty() { "/".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_convert_to_xml() {
        assert_eq!(
            json_path_to_xml(
                "$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].StatisticalValueAmount.currencyID"
            ),
            "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/StatisticalValueAmount/@currencyID"
        );
        assert_eq!(json_path_to_xml("$.Declaration.InvoiceAmount.value"), "/Declaration/InvoiceAmount");
        assert_eq!(json_path_to_xml("$"), "/");
    }

    #[test]
    fn wco_dates_become_iso() {
        assert_eq!(wco_date("20260302", Some("102")), "2026-03-02");
        assert_eq!(wco_date("20260302093000Z", Some("304")), "2026-03-02T09:30:00Z");
        assert_eq!(wco_date("20260302093000+0100", Some("304")), "2026-03-02T09:30:00+01:00");
    }

    #[test]
    fn truncated_and_dtd_are_refused() {
        let e =
            declaration_from_xml("<Declaration xmlns=\"urn:wco:datamodel:WCO:DEC-DMS:2\"><FunctionCode>9").unwrap_err();
        assert_eq!(e[0].rule, "document.truncated");
        assert_eq!(e[0].path, "/Declaration/FunctionCode");
        let e = declaration_from_xml("<!DOCTYPE x [<!ENTITY a \"b\">]><Declaration/>").unwrap_err();
        assert_eq!(e[0].rule, "document.dtd");
        let e = declaration_from_xml("<Declaration><FunctionCode>9</FunctionCode></Declaration>").unwrap_err();
        assert_eq!(e[0].rule, "xml.namespace");
    }
}
