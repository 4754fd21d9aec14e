//! WCO DM XML (`urn:wco:datamodel:WCO:DEC-DMS:2`) mapped to the same records as JSON.
//!
//! A declaration arrives on its own (root `Declaration`) or, as administrations exchange it,
//! inside the WCO DocumentMetaData wrapper (root `MetaData` in
//! `urn:wco:datamodel:WCO:DocumentMetaData-DMS:2`: `WCODataModelVersionCode`, `WCOTypeName`,
//! `ResponsibleCountryCode`, `ResponsibleAgencyName`, `AgencyAssignedCustomization[Version]Code`,
//! then exactly one `Declaration`). The wrapper's fields become the record's `MetaData`
//! envelope. Namespaces are resolved wherever they are declared (on the wrapper only, on the
//! declaration, default or prefixed), and every element is checked to be in its WCO namespace.
//!
//! The mapping is driven by the declaration's JSON Schema, so that it can never drift from the
//! types: an element whose schema is a list is collected into a list, a number is parsed as a
//! number, an amount or measure takes its `currencyID` / `unitCode` attribute, and a date given
//! as `<DateTimeString formatCode="…">` becomes the JSON `{"DateTimeString": {"formatCode",
//! "value"}}` that validation normalises to ISO 8601 (see [`crate::datetime`]). Values that do not
//! parse are passed on as text, so that the structural check reports them with every other
//! error, and the JSON paths of a report are turned back into XML element paths by
//! [`json_path_to_xml`].
//!
//! DTDs are refused (no entity expansion), nesting is limited, and every syntax error names the
//! line and column.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use serde_json::{Map, Number, Value};

use crate::check::{Issue, Severity};
use crate::records::{DocumentMetaData, RecordType};
use crate::schema::schema_ref;
use crate::validate::MAX_DEPTH;

/// The namespace of the WCO DM declaration (DEC-DMS) message.
pub const DEC_DMS_NAMESPACE: &str = "urn:wco:datamodel:WCO:DEC-DMS:2";

/// The namespace of the WCO DocumentMetaData wrapper.
pub const METADATA_NAMESPACE: &str = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2";

#[derive(Debug, Default)]
struct Element {
    name: String,
    /// The namespace the element's name resolves to, wherever it was declared.
    ns: Option<String>,
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

fn describe_ns(ns: Option<&str>) -> String {
    ns.map(|n| format!("\"{n}\"")).unwrap_or_else(|| "no namespace".into())
}

/// Parses the XML into an element tree, every element name resolved to its namespace.
fn parse_tree(text: &str) -> Result<Element, Vec<Issue>> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |pos: u64| {
        let (l, c) = line_col(text, pos as usize);
        format!("line {l}, column {c}")
    };
    loop {
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((r, e)) => {
                let ns = match r {
                    ResolveResult::Bound(ns) => Ok(Some(ns.as_ref().to_owned())),
                    ResolveResult::Unbound => Ok(None),
                    ResolveResult::Unknown(p) => Err(p),
                };
                (ns, e)
            }
            Err(e) => {
                let pos = reader.error_position();
                return Err(vec![issue(
                    &xml_path(&stack),
                    "document.syntax",
                    format!("the document is not well-formed XML at {}: {e}", at(pos)),
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
                let name = local(s.name().as_ref());
                let ns = match resolved {
                    Ok(ns) => ns,
                    Err(prefix) => {
                        return Err(vec![issue(
                            &format!("{}/{name}", xml_path(&stack).trim_end_matches('/')),
                            "xml.namespace",
                            format!(
                                "the prefix {prefix}: of {name} is not declared (no xmlns:{prefix} on this element or an enclosing one), at {}",
                                at(reader.buffer_position())
                            ),
                        )]);
                    }
                };
                let mut el = Element { name, ns, ..Default::default() };
                for a in s.attributes() {
                    let a = match a {
                        Ok(a) => a,
                        Err(e) => {
                            return Err(vec![issue(
                                &format!("{}/{}", xml_path(&stack).trim_end_matches('/'), el.name),
                                "document.syntax",
                                format!("malformed attribute at {}: {e}", at(reader.buffer_position())),
                            )]);
                        }
                    };
                    let key = a.key.as_ref();
                    // Namespace declarations and namespaced attributes (xsi:schemaLocation,
                    // xml:lang) are not data of the WCO DM.
                    if key == "xmlns" || key.contains(':') {
                        continue;
                    }
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    el.attrs.push((local(key), value));
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
                                at(reader.buffer_position())
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
        Some(r) => Ok(r),
        None => Err(vec![issue("/", "document.empty", "the document has no root element".into())]),
    }
}

/// A WCO DM XML declaration read into the JSON form of a [`crate::DeclarationRecord`].
#[derive(Debug)]
pub struct XmlDeclaration {
    /// The JSON form (with the `MetaData` envelope when the declaration was wrapped).
    pub value: Value,
    /// Whether the declaration arrived in a DocumentMetaData wrapper (its XML paths then start
    /// with `/MetaData`).
    pub wrapped: bool,
    /// Problems found while reading that do not stop validation (an element in a foreign
    /// namespace), with XML paths.
    pub issues: Vec<Issue>,
}

/// Reads a WCO DM XML declaration, bare or in a DocumentMetaData wrapper.
///
/// Document-level problems (not well-formed, truncated, wrong root or namespace, a wrapper
/// without exactly one declaration) are returned as issues with XML paths; element-level
/// problems are left to the validator.
pub fn read_declaration(text: &str) -> Result<XmlDeclaration, Vec<Issue>> {
    let root = parse_tree(text)?;
    let mut issues = Vec::new();
    let mut out = Map::new();
    let (declaration, wrapped) = match root.name.as_str() {
        "MetaData" => {
            if root.ns.as_deref() != Some(METADATA_NAMESPACE) {
                return Err(vec![issue(
                    "/MetaData",
                    "xml.namespace",
                    format!(
                        "the MetaData wrapper must be in the namespace {METADATA_NAMESPACE}; got {}",
                        describe_ns(root.ns.as_deref())
                    ),
                )]);
            }
            let (meta, declaration) = unwrap_metadata(root)?;
            out.insert("MetaData".into(), Value::Object(meta));
            (declaration, true)
        }
        "Declaration" => (root, false),
        other => {
            return Err(vec![issue(
                &format!("/{other}"),
                "xml.root",
                format!(
                    "the root element must be a WCO DM Declaration (DEC-DMS) or a DocumentMetaData MetaData \
                     wrapper around one; got {other}{}",
                    root.ns.as_deref().map(|n| format!(" in the namespace \"{n}\"")).unwrap_or_default()
                ),
            )]);
        }
    };
    let base = if wrapped { "/MetaData/Declaration" } else { "/Declaration" };
    if declaration.ns.as_deref() != Some(DEC_DMS_NAMESPACE) {
        return Err(vec![issue(
            base,
            "xml.namespace",
            format!(
                "the Declaration element must be in the namespace {DEC_DMS_NAMESPACE}; got {}",
                describe_ns(declaration.ns.as_deref())
            ),
        )]);
    }
    let schema = schema_ref(RecordType::Declaration);
    let mapper = Mapper { root: schema };
    let decl_schema = schema.get("properties").and_then(|p| p.get("Declaration")).unwrap_or(&Value::Null);
    let mut path = base.to_owned();
    out.insert("Declaration".into(), mapper.convert(&declaration, decl_schema, &mut path, &mut issues));
    Ok(XmlDeclaration { value: Value::Object(out), wrapped, issues })
}

/// Reads a WCO DM XML declaration into the JSON form of a [`crate::DeclarationRecord`]; element
/// namespace problems are reported as errors too. See [`read_declaration`].
pub fn declaration_from_xml(text: &str) -> Result<Value, Vec<Issue>> {
    let d = read_declaration(text)?;
    if d.issues.is_empty() { Ok(d.value) } else { Err(d.issues) }
}

/// Splits a DocumentMetaData wrapper into its fields and its one declaration.
fn unwrap_metadata(root: Element) -> Result<(Map<String, Value>, Element), Vec<Issue>> {
    let mut meta = Map::new();
    let mut declarations = Vec::new();
    let mut errors = Vec::new();
    for child in root.children {
        let path = format!("/MetaData/{}", child.name);
        if child.name == "Declaration" {
            declarations.push(child);
            continue;
        }
        if !DocumentMetaData::FIELD_NAMES.contains(&child.name.as_str()) {
            let what = if matches!(child.name.as_str(), "Response" | "Request" | "Notification") {
                format!("the wrapper carries a {}; only a Declaration is accepted here", child.name)
            } else {
                format!(
                    "{} is not an element of the DocumentMetaData wrapper ({}, Declaration)",
                    child.name,
                    DocumentMetaData::FIELD_NAMES.join(", ")
                )
            };
            errors.push(issue(&path, "wrapper.unknown_element", what));
            continue;
        }
        if child.ns.as_deref() != Some(METADATA_NAMESPACE) {
            errors.push(issue(
                &path,
                "xml.namespace",
                format!(
                    "{} must be in the namespace {METADATA_NAMESPACE}; got {}",
                    child.name,
                    describe_ns(child.ns.as_deref())
                ),
            ));
            continue;
        }
        if !child.children.is_empty() {
            errors.push(issue(&path, "wrapper.unknown_element", format!("{} must be text", child.name)));
            continue;
        }
        let text = child.text.trim();
        // An empty wrapper field (<ResponsibleCountryCode/>) is the same as an absent one.
        if !text.is_empty() {
            insert_once(&mut meta, &child.name, Value::String(text.to_owned()));
        }
    }
    match declarations.len() {
        1 if errors.is_empty() => Ok((meta, declarations.remove(0))),
        1 => Err(errors),
        0 => {
            errors.push(issue(
                "/MetaData",
                "wrapper.declaration_count",
                "the DocumentMetaData wrapper carries no Declaration".into(),
            ));
            Err(errors)
        }
        n => {
            errors.push(issue(
                "/MetaData/Declaration[2]",
                "wrapper.declaration_count",
                format!("a DocumentMetaData wrapper carries exactly one Declaration; this one carries {n}"),
            ));
            Err(errors)
        }
    }
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

    fn convert(&self, el: &Element, schema: &'a Value, path: &mut String, issues: &mut Vec<Issue>) -> Value {
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
                self.children(
                    el,
                    path,
                    issues,
                    |child| props.and_then(|p| p.get(&child.name)).map(|cs| self.resolve(cs)),
                    &mut map,
                );
                Value::Object(map)
            }
            Some("integer") => number_or_text(&el.text, true),
            Some("number") => number_or_text(&el.text, false),
            Some("string") | None if !el.children.is_empty() => {
                // A date as <DateTimeString formatCode="…">…</DateTimeString>: passed on as
                // {"DateTimeString": {"formatCode", "value"}} for validation to normalise.
                if let [only] = el.children.as_slice()
                    && only.name == "DateTimeString"
                    && only.children.is_empty()
                {
                    let mut dts = Map::new();
                    for (k, v) in &only.attrs {
                        dts.insert(k.clone(), Value::String(v.clone()));
                    }
                    dts.insert("value".into(), Value::String(only.text.trim().to_owned()));
                    let mut map = Map::new();
                    map.insert("DateTimeString".into(), Value::Object(dts));
                    return Value::Object(map);
                }
                let mut map = Map::new();
                self.children(el, path, issues, |_| None, &mut map);
                Value::Object(map)
            }
            _ => Value::String(el.text.trim().to_owned()),
        }
    }

    /// Converts the children of `el` into `map`, checking that each is in the DEC-DMS namespace.
    fn children(
        &self,
        el: &Element,
        path: &mut String,
        issues: &mut Vec<Issue>,
        schema_of: impl Fn(&Element) -> Option<&'a Value>,
        map: &mut Map<String, Value>,
    ) {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for child in &el.children {
            let n = match seen.iter_mut().find(|(name, _)| *name == child.name) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((&child.name, 1));
                    1
                }
            };
            let len = path.len();
            path.push('/');
            path.push_str(&child.name);
            if el.children.iter().filter(|c| c.name == child.name).count() > 1 {
                path.push_str(&format!("[{n}]"));
            }
            if child.ns.as_deref() != Some(DEC_DMS_NAMESPACE) {
                issues.push(issue(
                    path,
                    "xml.namespace",
                    format!(
                        "{} must be in the namespace {DEC_DMS_NAMESPACE}, as the Declaration; got {}",
                        child.name,
                        describe_ns(child.ns.as_deref())
                    ),
                ));
            }
            match schema_of(child) {
                Some(cs) if Self::main_type(cs) == Some("array") => {
                    let item_schema = cs.get("items").unwrap_or(&Value::Null);
                    let v = self.convert(child, item_schema, path, issues);
                    match map.entry(child.name.clone()).or_insert_with(|| Value::Array(Vec::new())) {
                        Value::Array(a) => a.push(v),
                        other => *other = Value::Array(vec![v]),
                    }
                }
                Some(cs) => {
                    let v = self.convert(child, cs, path, issues);
                    insert_once(map, &child.name, v);
                }
                None => {
                    // Unknown here: pass it on so that the structural check reports it.
                    let v = self.convert(child, &Value::Null, path, issues);
                    insert_once(map, &child.name, v);
                }
            }
            path.truncate(len);
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

/// Turns a JSON path of a report (`$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].StatisticalValueAmount.currencyID`)
/// into the XML element path of the same place (`/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/StatisticalValueAmount/@currencyID`);
/// `wrapped` when the declaration arrived in a DocumentMetaData wrapper (paths then start with `/MetaData`).
pub fn json_path_to_xml(path: &str, wrapped: bool) -> String {
    let rest = path.strip_prefix('$').unwrap_or(path);
    let mut out = String::new();
    if wrapped && !rest.starts_with(".MetaData") {
        out.push_str("/MetaData");
    }
    for seg in rest.split('.').filter(|s| !s.is_empty()) {
        let (name, index) = match seg.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        match name {
            "value" => continue,
            "currencyID" | "unitCode" | "formatCode" => {
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
    if out.is_empty() { if wrapped { "/MetaData".into() } else { "/".into() } } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_convert_to_xml() {
        assert_eq!(
            json_path_to_xml(
                "$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].StatisticalValueAmount.currencyID",
                false
            ),
            "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/StatisticalValueAmount/@currencyID"
        );
        assert_eq!(json_path_to_xml("$.Declaration.InvoiceAmount.value", false), "/Declaration/InvoiceAmount");
        assert_eq!(json_path_to_xml("$", false), "/");
        assert_eq!(
            json_path_to_xml("$.Declaration.AcceptanceDateTime.DateTimeString.formatCode", true),
            "/MetaData/Declaration/AcceptanceDateTime/DateTimeString/@formatCode"
        );
        assert_eq!(json_path_to_xml("$.MetaData.ResponsibleCountryCode", true), "/MetaData/ResponsibleCountryCode");
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
