//! The EPCIS 2.0 REST query (`GET /events?…`, EPCIS 2.0 section 12.6 and its OpenAPI) from a
//! URL query string into the store's [`EventQuery`] and a page request; errors carry the EPCIS
//! exception type and become RFC 7807 problem details ([`Problem`]).
//!
//! Parameters: `eventType`, `GE_eventTime`, `LT_eventTime`, `GE_recordTime`, `LT_recordTime`,
//! `EQ_action`, `EQ_bizStep`, `EQ_disposition`, `EQ_readPoint`, `EQ_bizLocation`, `MATCH_epc`,
//! `MATCH_parentID`, `MATCH_anyEPC`, `EQ_eventID`, `perPage`, `nextPageToken`, and `orderBy`
//! / `orderDirection` where they ask for the only order the store gives (`eventTime`, `DESC`).
//! A list is pipe-separated (`EQ_bizStep=shipping|receiving`) and matches any of its values.
//! Values are normalised as [`index`](super::index) normalises the stored fields: bare CBV
//! terms and CBV 1.x URNs to CBV 2.0 URIs, times to UTC milliseconds (a `+` of an offset that a
//! client left unencoded arrives as a space and is read as `+`), EPCs to their written form
//! plus their canonical GS1 Digital Link, URN EPC patterns (`urn:epc:idpat:sgtin:0614141.*.*`)
//! to prefixes. `perPage` defaults to [`DEFAULT_PER_PAGE`] and is capped at [`MAX_PER_PAGE`]
//! (a larger value is served as the maximum, as the standard allows a server to).
//!
//! Every other parameter, a parameter given twice, an empty or malformed value is a
//! `QueryParameterException` naming the parameter.

use serde::Serialize;

use super::digital_link::to_digital_link;
use super::hash::{biz_step_uri, disposition_uri, utc_millis};
use super::model::EventType;
use crate::store::{Cursor, EventQuery};

/// Events per page when the client does not say.
pub const DEFAULT_PER_PAGE: usize = 30;
/// The most events per page.
pub const MAX_PER_PAGE: usize = 1000;

/// A parsed `GET /events` request: the filters and the page wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsRequest {
    /// The filters.
    pub query: EventQuery,
    /// Events per page (1 to [`MAX_PER_PAGE`]).
    pub per_page: usize,
    /// Where the page starts (`nextPageToken`), or the first page.
    pub after: Option<Cursor>,
}

/// The EPCIS 2.0 exception types (EPCIS 2.0 OpenAPI, `epcisException:` problem types) this
/// crate reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionKind {
    /// A query parameter is unknown, repeated or has a bad value (HTTP 400).
    QueryParameter,
    /// A captured document or event fails validation (HTTP 400).
    Validation,
    /// The query would answer more than the server serves at once (HTTP 413).
    QueryTooLarge,
    /// A named query does not exist (HTTP 404).
    NoSuchName,
    /// A resource (an event, a capture job) does not exist (HTTP 404).
    NoSuchResource,
    /// A capture exceeds the number of events or the bytes the server takes at once (HTTP 413).
    CaptureLimitExceeded,
    /// An event's `eventID` already names a different event (HTTP 409).
    ResourceAlreadyExists,
    /// The caller is not authenticated (HTTP 401) or may not do this (HTTP 403).
    Security,
    /// The body's media type is not one the endpoint reads (HTTP 415).
    UnsupportedMediaType,
    /// No media type the client accepts can be answered (HTTP 406).
    NotAcceptable,
    /// The server failed (HTTP 500).
    Implementation,
}

impl ExceptionKind {
    /// The problem `type`: `epcisException:QueryParameterException`, ….
    pub fn type_uri(self) -> &'static str {
        match self {
            Self::QueryParameter => "epcisException:QueryParameterException",
            Self::Validation => "epcisException:ValidationException",
            Self::QueryTooLarge => "epcisException:QueryTooLargeException",
            Self::NoSuchName => "epcisException:NoSuchNameException",
            Self::NoSuchResource => "epcisException:NoSuchResourceException",
            Self::CaptureLimitExceeded => "epcisException:CaptureLimitExceededException",
            Self::ResourceAlreadyExists => "epcisException:ResourceAlreadyExistsException",
            Self::Security => "epcisException:SecurityException",
            Self::UnsupportedMediaType => "epcisException:UnsupportedMediaTypeException",
            Self::NotAcceptable => "epcisException:NotAcceptableException",
            Self::Implementation => "epcisException:ImplementationException",
        }
    }

    /// The problem `title`.
    pub fn title(self) -> &'static str {
        match self {
            Self::QueryParameter => "Invalid query parameter",
            Self::Validation => "Validation failed",
            Self::QueryTooLarge => "Query result too large",
            Self::NoSuchName => "Not found",
            Self::NoSuchResource => "No such resource",
            Self::CaptureLimitExceeded => "Capture limit exceeded",
            Self::ResourceAlreadyExists => "A resource with this identifier already exists",
            Self::Security => "Not allowed",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::NotAcceptable => "Not acceptable",
            Self::Implementation => "Implementation error",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::QueryParameter | Self::Validation => 400,
            Self::QueryTooLarge | Self::CaptureLimitExceeded => 413,
            Self::NoSuchName | Self::NoSuchResource => 404,
            Self::ResourceAlreadyExists => 409,
            Self::Security => 403,
            Self::UnsupportedMediaType => 415,
            Self::NotAcceptable => 406,
            Self::Implementation => 500,
        }
    }
}

/// Why a query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct QueryError {
    /// The EPCIS exception type.
    pub kind: ExceptionKind,
    /// The parameter at fault, as the client wrote it.
    pub parameter: String,
    /// What is wrong with it.
    pub message: String,
}

impl QueryError {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        Self { kind: ExceptionKind::QueryParameter, parameter: parameter.to_owned(), message: message.into() }
    }

    /// The RFC 7807 problem details for this error; `instance` is the request path the node
    /// answers (`/events?…`).
    pub fn problem(&self, instance: &str) -> Problem {
        Problem::new(self.kind, format!("query parameter `{}`: {}", self.parameter, self.message), instance)
    }
}

/// RFC 7807 problem details, as EPCIS 2.0 answers errors (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `epcisException:…`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the exception type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    /// The request it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl Problem {
    /// A problem of an exception type with its detail and the request it is about (empty for
    /// none).
    pub fn new(kind: ExceptionKind, detail: impl Into<String>, instance: &str) -> Self {
        Self {
            kind: kind.type_uri().to_owned(),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail: detail.into(),
            instance: (!instance.is_empty()).then(|| instance.to_owned()),
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Parses a URL query string (without the `?`) into filters and a page request.
pub fn parse_events_query(query_string: &str) -> Result<EventsRequest, QueryError> {
    let mut req = EventsRequest { query: EventQuery::default(), per_page: DEFAULT_PER_PAGE, after: None };
    let mut seen: Vec<String> = Vec::new();
    for pair in query_string.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(raw_name).map_err(|m| QueryError::new(raw_name, m))?;
        let value = percent_decode(raw_value).map_err(|m| QueryError::new(&name, m))?;
        if seen.contains(&name) {
            return Err(QueryError::new(&name, "given more than once (give a list as `a|b`)"));
        }
        seen.push(name.clone());
        if value.is_empty() {
            return Err(QueryError::new(&name, "has no value"));
        }
        let q = &mut req.query;
        let n = name.as_str();
        match n {
            "eventType" => {
                q.event_types = list(n, &value, |v| {
                    EventType::from_name(v)
                        .map(|t| t.as_str().to_owned())
                        .ok_or_else(|| format!("`{v}` is not one of ObjectEvent, AggregationEvent, TransformationEvent, AssociationEvent, TransactionEvent"))
                })?;
            }
            "GE_eventTime" => q.ge_event_time_ms = Some(time(n, &value)?),
            "LT_eventTime" => q.lt_event_time_ms = Some(time(n, &value)?),
            "GE_recordTime" => q.ge_record_time_ms = Some(time(n, &value)?),
            "LT_recordTime" => q.lt_record_time_ms = Some(time(n, &value)?),
            "EQ_action" => {
                q.actions = list(n, &value, |v| match v {
                    "ADD" | "OBSERVE" | "DELETE" => Ok(v.to_owned()),
                    _ => Err(format!("`{v}` is not ADD, OBSERVE or DELETE")),
                })?;
            }
            "EQ_bizStep" => q.biz_steps = list(n, &value, |v| Ok(biz_step_uri(v)))?,
            "EQ_disposition" => q.dispositions = list(n, &value, |v| Ok(disposition_uri(v)))?,
            "EQ_readPoint" => q.read_points = list(n, &value, |v| Ok(v.to_owned()))?,
            "EQ_bizLocation" => q.biz_locations = list(n, &value, |v| Ok(v.to_owned()))?,
            "EQ_eventID" => q.event_ids = list(n, &value, |v| Ok(v.to_owned()))?,
            "MATCH_epc" => q.match_epc = epc_list(n, &value)?,
            "MATCH_parentID" => q.match_parent_id = epc_list(n, &value)?,
            "MATCH_anyEPC" => q.match_any_epc = epc_list(n, &value)?,
            "perPage" => {
                let p: usize = value
                    .parse()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| QueryError::new(n, format!("`{value}` is not a positive whole number")))?;
                req.per_page = p.min(MAX_PER_PAGE);
            }
            "nextPageToken" => {
                req.after = Some(
                    Cursor::from_token(&value)
                        .map_err(|_| QueryError::new(n, "is not a token this server gave (it may have expired)"))?,
                );
            }
            "orderBy" if value == "eventTime" => {}
            "orderBy" => return Err(QueryError::new(n, "only `eventTime` is supported")),
            "orderDirection" if value == "DESC" => {}
            "orderDirection" => return Err(QueryError::new(n, "only `DESC` is supported")),
            _ => return Err(QueryError::new(n, "is not a query parameter this server knows")),
        }
    }
    Ok(req)
}

/// A pipe-separated list, each item converted; empty items are errors.
fn list(
    name: &str,
    value: &str,
    mut convert: impl FnMut(&str) -> Result<String, String>,
) -> Result<Vec<String>, QueryError> {
    let mut out = Vec::new();
    for item in value.split('|') {
        let item = item.trim();
        if item.is_empty() {
            return Err(QueryError::new(name, "has an empty item in its list"));
        }
        let v = convert(item).map_err(|m| QueryError::new(name, m))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn time(name: &str, value: &str) -> Result<i64, QueryError> {
    // An unencoded `+` in `…T10:00:00+01:00` arrives as a space.
    let v = match value.rfind(' ') {
        Some(i) if i > 10 => format!("{}+{}", &value[..i], &value[i + 1..]),
        _ => value.to_owned(),
    };
    if v.len() < 19 {
        return Err(QueryError::new(name, format!("`{value}` is not a date-time (2026-03-09T02:41:08Z)")));
    }
    utc_millis(&v)
        .ok_or_else(|| QueryError::new(name, format!("`{value}` is not an ISO 8601 date-time (2026-03-09T02:41:08Z)")))
}

/// EPC filter values: each as given and as its canonical Digital Link; URN patterns as prefixes.
fn epc_list(name: &str, value: &str) -> Result<Vec<String>, QueryError> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: String| {
        if !out.contains(&v) {
            out.push(v);
        }
    };
    for item in value.split('|') {
        let item = item.trim();
        if item.is_empty() {
            return Err(QueryError::new(name, "has an empty item in its list"));
        }
        if let Some(rest) = item.strip_prefix("urn:epc:idpat:") {
            let Some(star) = rest.find('*') else {
                return Err(QueryError::new(name, format!("`{item}` is an EPC pattern without `*`")));
            };
            if rest[star..].chars().any(|c| c != '*' && c != '.') || !rest[..star].contains(':') {
                return Err(QueryError::new(name, format!("`{item}` is not an EPC pattern (… `.*` at the end)")));
            }
            push(format!("urn:epc:id:{}*", &rest[..star]));
            // A pattern that fixes all but the serial is a class, whose Digital Link prefixes
            // the Digital Links of its instances.
            if rest.matches('*').count() == 1
                && let Some(dl) = to_digital_link(item)
            {
                push(format!("{dl}*"));
            }
            continue;
        }
        push(item.to_owned());
        if !item.ends_with('*')
            && let Some(dl) = to_digital_link(item)
        {
            push(dl);
        }
    }
    Ok(out)
}

/// `%XX` and `+` (form encoding's space) decoded; the result must be UTF-8.
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or("has a truncated %-escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("has a bad %-escape `%{hex}`"))?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once %-decoded".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_cbv_terms_are_normalised() {
        let r = parse_events_query("EQ_bizStep=shipping|urn:epcglobal:cbv:bizstep:receiving&perPage=5").unwrap();
        assert_eq!(
            r.query.biz_steps,
            ["https://ref.gs1.org/cbv/BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-receiving"]
        );
        assert_eq!(r.per_page, 5);
    }

    #[test]
    fn an_unencoded_plus_in_an_offset_is_read_as_plus() {
        let a = parse_events_query("GE_eventTime=2026-03-09T04:41:08+02:00").unwrap();
        let b = parse_events_query("GE_eventTime=2026-03-09T02:41:08Z").unwrap();
        assert_eq!(a.query.ge_event_time_ms, b.query.ge_event_time_ms);
    }

    #[test]
    fn epc_patterns_become_prefixes() {
        let r = parse_events_query("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*").unwrap();
        assert_eq!(r.query.match_epc, ["urn:epc:id:sgtin:0614141.107346.*", "https://id.gs1.org/01/10614141073464*"]);
        let r = parse_events_query("MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*").unwrap();
        assert_eq!(r.query.match_epc, ["urn:epc:id:sgtin:0614141.*"]);
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decode("a%7Cb+c").unwrap(), "a|b c");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%4").is_err());
    }
}
