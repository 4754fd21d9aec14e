//! GS1 EPCIS 2.0 events and their CBV 2.0 event hash IDs.
//!
//! - [`model`]: the five event types (EPCIS 2.0 section 7.4) with every standard field and user
//!   extensions (section 9.2) as a tree of qualified names.
//! - [`parse_document`]: an `EPCISDocument`, or the results body of an `EPCISQueryDocument`, in
//!   JSON / JSON-LD (EPCIS 2.0 section 12; `@context` prefixes expand extension names and compact
//!   values) or in XML (section 11; the EPCIS 1.2 `extension` / `baseExtension` wrappers are
//!   tolerated and flattened). Events keep document order.
//! - [`hash`]: the canonical pre-hash string and the event hash ID `ni:///sha-256;…?ver=CBV2.0`
//!   (CBV 2.0 section 8.9), which also identifies a re-sent event as a duplicate.
//! - [`write`]: events back into EPCIS 2.0 JSON-LD (one event, a document, a query document);
//!   [`write_xml`]: a query document in EPCIS 2.0 XML.
//! - [`index`]: an event with its identity into the store's indexed form.
//! - [`query`]: the EPCIS 2.0 REST query parameters into the store's query, with EPCIS
//!   exception types and RFC 7807 problem details for bad ones.
//! - [`validate`]: what the standard requires of a captured document beyond being readable
//!   (the JSON Schema's types and required fields, each event type's rules).
//!
//! Parsing never panics on input: malformed documents are [`EpcisError`]s naming the event index
//! and the field; [`Limits`] bound the size, the nesting depth and the number of events.

pub mod digital_link;
pub mod hash;
pub mod index;
pub mod model;
pub mod query;
pub mod validate;
pub mod write;
pub mod write_xml;

mod build;
mod json;
mod xml;

pub use model::{
    Document, ErrorDeclaration, Event, EventType, Extension, Location, PersistentDisposition, QName, QuantityElement,
    SensorElement, SensorFields, TypedReference,
};

use std::fmt;

/// The serialisation of an EPCIS document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON or JSON-LD (EPCIS 2.0 section 12).
    Json,
    /// XML (EPCIS 2.0 section 11).
    Xml,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "JSON",
            Self::Xml => "XML",
        })
    }
}

/// Bounds on what a parser accepts, so that a hostile document costs bounded memory and stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting (XML elements, JSON objects and arrays).
    pub max_depth: usize,
    /// Most events in one document.
    pub max_events: usize,
    /// Most elements (XML) or values (JSON) in one document.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: 16 * 1024 * 1024, max_depth: 64, max_events: 100_000, max_nodes: 2_000_000 }
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpcisError {
    /// The bytes are not well-formed JSON / XML (or not UTF-8).
    #[error("malformed {format} document: {message}")]
    Syntax {
        /// The format being parsed.
        format: Format,
        /// The parser's message, with its position.
        message: String,
    },
    /// The document is well-formed but is not an EPCIS document with an event list.
    #[error("not an EPCIS document: {0}")]
    NotEpcis(String),
    /// A document exceeds one of the [`Limits`].
    #[error("document exceeds the limit on {what} ({limit})")]
    Limit {
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: usize,
    },
    /// An event's type is not one of the five EPCIS event types.
    #[error("event {index}: unknown event type `{found}`")]
    UnknownEventType {
        /// The event's position in the document (0-based).
        index: usize,
        /// The type found.
        found: String,
    },
    /// A field of an event has the wrong shape.
    #[error("event {index}: field `{field}`: {message}")]
    Field {
        /// The event's position in the document (0-based).
        index: usize,
        /// The path of the field inside the event (`bizTransactionList[1].type`).
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Parses an EPCIS document (or query document) with the default [`Limits`].
pub fn parse_document(bytes: &[u8], format: Format) -> Result<Document, EpcisError> {
    parse_document_with(bytes, format, &Limits::default())
}

/// Parses an EPCIS document (or query document) within the given limits.
pub fn parse_document_with(bytes: &[u8], format: Format, limits: &Limits) -> Result<Document, EpcisError> {
    let parsed = parse_events_with(bytes, format, limits)?;
    let events = parsed.events.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(Document { events, ignore_fields: parsed.ignore_fields })
}

/// A document read event by event: each event built, or why it could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventResults {
    /// Each event in document order, or the error that names its field.
    pub events: Vec<Result<Event, EpcisError>>,
    /// As [`Document::ignore_fields`].
    pub ignore_fields: Vec<QName>,
}

/// Parses an EPCIS document within `limits`, building each event on its own, so that one bad
/// event does not hide the others (EPCIS capture's `proceed`). A document that cannot be read
/// at all (syntax, not EPCIS, over a limit) is an error.
pub fn parse_events_with(bytes: &[u8], format: Format, limits: &Limits) -> Result<EventResults, EpcisError> {
    if bytes.len() > limits.max_bytes {
        return Err(EpcisError::Limit { what: "document size in bytes", limit: limits.max_bytes });
    }
    let text =
        std::str::from_utf8(bytes).map_err(|e| EpcisError::Syntax { format, message: format!("not UTF-8: {e}") })?;
    let raw = match format {
        Format::Json => json::parse(text, limits)?,
        Format::Xml => xml::parse(text, limits)?,
    };
    if raw.events.len() > limits.max_events {
        return Err(EpcisError::Limit { what: "number of events", limit: limits.max_events });
    }
    let events = raw
        .events
        .into_iter()
        .enumerate()
        .map(|(index, (type_name, node))| build::event(index, &type_name, node))
        .collect();
    Ok(EventResults { events, ignore_fields: raw.ignore_fields })
}

/// A format-neutral element: what both parsers produce before the typed model is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) name: QName,
    pub(crate) value: Option<String>,
    pub(crate) children: Vec<Node>,
}

/// What a parser hands to the model builder: each event's type name and content.
pub(crate) struct RawDocument {
    pub(crate) events: Vec<(String, Node)>,
    pub(crate) ignore_fields: Vec<QName>,
}
