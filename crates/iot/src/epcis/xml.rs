//! EPCIS 2.0 XML (EPCIS 2.0 section 11) into format-neutral [`Node`]s.
//!
//! Namespaces are resolved here (prefix → IRI, scoped per element); attributes become child
//! nodes, as JSON-LD writes them; the EPCIS 1.2 `extension` and `baseExtension` wrappers are
//! removed and their content lifted into the parent, so 1.2-style and 2.0-style documents give
//! the same events. Text is trimmed; comments and processing instructions are ignored.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event as XmlEvent};

use super::{EpcisError, Format, Limits, Node, QName, RawDocument};

struct Open {
    node: Node,
    text: String,
    bindings: Vec<(String, Option<String>)>,
}

fn syntax(message: impl Into<String>) -> EpcisError {
    EpcisError::Syntax { format: Format::Xml, message: message.into() }
}

struct Scope {
    /// Prefix ("" for the default namespace) → stack of IRIs.
    map: HashMap<String, Vec<String>>,
}

impl Scope {
    fn resolve(&self, prefix: &str) -> Option<String> {
        self.map.get(prefix).and_then(|v| v.last()).filter(|iri| !iri.is_empty()).cloned()
    }

    fn push(&mut self, prefix: &str, iri: &str) {
        self.map.entry(prefix.to_owned()).or_default().push(iri.to_owned());
    }

    fn pop(&mut self, prefix: &str) {
        if let Some(v) = self.map.get_mut(prefix) {
            v.pop();
        }
    }

    fn element_name(&self, raw: &str) -> Result<QName, EpcisError> {
        match raw.split_once(':') {
            Some((prefix, local)) => match self.resolve(prefix) {
                Some(ns) => Ok(QName { namespace: Some(ns), local: local.to_owned() }),
                None => Err(syntax(format!("undeclared namespace prefix `{prefix}` in `{raw}`"))),
            },
            None => Ok(QName { namespace: self.resolve(""), local: raw.to_owned() }),
        }
    }

    fn attribute_name(&self, raw: &str) -> Result<QName, EpcisError> {
        match raw.split_once(':') {
            Some((prefix, local)) => match self.resolve(prefix) {
                Some(ns) => Ok(QName { namespace: Some(ns), local: local.to_owned() }),
                None => Err(syntax(format!("undeclared namespace prefix `{prefix}` in `{raw}`"))),
            },
            // Unprefixed attributes are in no namespace (XML Namespaces 1.0, section 6.2).
            None => Ok(QName::local(raw)),
        }
    }
}

fn open(start: &BytesStart<'_>, scope: &mut Scope) -> Result<Open, EpcisError> {
    let mut bindings = Vec::new();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| syntax(format!("attribute: {e}")))?;
        let key: String = attr.key.as_ref().to_owned();
        let value =
            attr.normalized_value(XmlVersion::Implicit1_0).map_err(|e| syntax(format!("attribute `{key}`: {e}")))?;
        if key == "xmlns" {
            scope.push("", &value);
            bindings.push((String::new(), None));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            scope.push(prefix, &value);
            bindings.push((prefix.to_owned(), None));
        } else {
            attributes.push((key, value.into_owned()));
        }
    }
    let raw: String = start.name().as_ref().to_owned();
    let name = scope.element_name(&raw)?;
    let mut children = Vec::with_capacity(attributes.len());
    for (key, value) in attributes {
        let name = scope.attribute_name(&key)?;
        // Schema plumbing, not event data.
        if name.namespace.as_deref() == Some("http://www.w3.org/2001/XMLSchema-instance") {
            continue;
        }
        children.push(Node { name, value: Some(value), children: Vec::new() });
    }
    Ok(Open { node: Node { name, value: None, children }, text: String::new(), bindings })
}

fn close(mut element: Open, scope: &mut Scope, parent: Option<&mut Open>) -> Option<Node> {
    for (prefix, _) in &element.bindings {
        scope.pop(prefix);
    }
    let text = element.text.trim();
    if !text.is_empty() {
        element.node.value = Some(text.to_owned());
    }
    let node = element.node;
    let is_wrapper =
        node.name.namespace.is_none() && (node.name.local == "extension" || node.name.local == "baseExtension");
    match parent {
        Some(parent) if is_wrapper => {
            parent.node.children.extend(node.children);
            None
        }
        Some(parent) => {
            parent.node.children.push(node);
            None
        }
        None => Some(node),
    }
}

/// Parses the whole document into one tree.
fn tree(text: &str, limits: &Limits) -> Result<Node, EpcisError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut scope = Scope { map: HashMap::new() };
    scope.push("xml", "http://www.w3.org/XML/1998/namespace");
    let mut stack: Vec<Open> = Vec::new();
    let mut nodes = 0usize;
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|e| syntax(format!("at byte {}: {e}", reader.error_position())))?;
        match event {
            XmlEvent::Start(_) | XmlEvent::Empty(_) if root.is_some() => {
                return Err(syntax("content after the root element"));
            }
            XmlEvent::Start(start) => {
                nodes += 1;
                if nodes > limits.max_nodes {
                    return Err(EpcisError::Limit { what: "number of elements", limit: limits.max_nodes });
                }
                if stack.len() >= limits.max_depth {
                    return Err(EpcisError::Limit { what: "nesting depth", limit: limits.max_depth });
                }
                let element = open(&start, &mut scope)?;
                stack.push(element);
            }
            XmlEvent::Empty(start) => {
                nodes += 1;
                if nodes > limits.max_nodes {
                    return Err(EpcisError::Limit { what: "number of elements", limit: limits.max_nodes });
                }
                let element = open(&start, &mut scope)?;
                root = close(element, &mut scope, stack.last_mut());
            }
            XmlEvent::End(_) => {
                let Some(element) = stack.pop() else {
                    return Err(syntax("unbalanced end tag"));
                };
                root = close(element, &mut scope, stack.last_mut());
            }
            XmlEvent::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(syntax("text outside the root element"));
                }
            }
            XmlEvent::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            XmlEvent::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.xml10_content();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => s.to_owned(),
                            None => return Err(syntax(format!("unknown entity `&{name};`"))),
                        }
                    }
                    Err(e) => return Err(syntax(format!("character reference: {e}"))),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            XmlEvent::Eof => break,
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(syntax("unexpected end of document: unclosed elements"));
    }
    root.ok_or_else(|| syntax("no root element"))
}

/// The first element named `EventList` (any namespace), depth first.
fn find_event_list(node: &Node) -> Option<&Node> {
    if node.name.local == "EventList" {
        return Some(node);
    }
    node.children.iter().find_map(find_event_list)
}

/// `ignoreFields` elements anywhere outside the event list (a document-level declaration).
fn collect_ignore_fields(node: &Node, out: &mut Vec<QName>) {
    for child in &node.children {
        if child.name.local == "ignoreFields" {
            out.extend(child.children.iter().map(|c| c.name.clone()));
        } else if child.name.local != "EventList" {
            collect_ignore_fields(child, out);
        }
    }
}

pub(crate) fn parse(text: &str, limits: &Limits) -> Result<RawDocument, EpcisError> {
    let root = tree(text, limits)?;
    if root.name.local != "EPCISDocument" && root.name.local != "EPCISQueryDocument" {
        return Err(EpcisError::NotEpcis(format!("the root element is `{}`", root.name)));
    }
    let mut ignore_fields = Vec::new();
    collect_ignore_fields(&root, &mut ignore_fields);
    let list = find_event_list(&root).ok_or_else(|| EpcisError::NotEpcis("no `EventList` element".into()))?;
    if list.children.len() > limits.max_events {
        return Err(EpcisError::Limit { what: "number of events", limit: limits.max_events });
    }
    // The event's element name is its type; EPCIS 1.2 wrappers were flattened by `close`.
    let events = list.children.iter().map(|n| (n.name.local.clone(), n.clone())).collect();
    Ok(RawDocument { events, ignore_fields })
}
