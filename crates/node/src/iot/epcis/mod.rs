//! The GS1 EPCIS 2.0 REST bindings under `/epcis` (EPCIS 2.0 section 12 and its OpenAPI):
//! capture (`POST /epcis/capture` with its jobs, `POST /epcis/events` for one event) into the
//! node's event store, and the events query (`GET /epcis/events` with the standard's
//! parameters and `nextPageToken` paging, `GET /epcis/events/{eventID}`).
//!
//! Reading needs `read-iot`, capturing `capture-events`; `OPTIONS` answers any authenticated
//! caller with the methods and the standard's headers (`GS1-EPCIS-Version`, the capture limits).
//! Every error is RFC 7807 problem details with an `epcisException:…` type ([`problem`]).
//!
//! Parsing, validation and identity are `borderlink_iot::epcis` (pure); this module maps HTTP
//! onto them and onto `IotService::store()`. A capture is processed before its `202` is
//! answered: the job it names is finished by the time the client reads it.

mod capture;
mod problem;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use borderlink_iot::epcis::Format;
use borderlink_iot::epcis::hash::utc_string;
use borderlink_iot::epcis::query::{ExceptionKind, parse_events_query};
use borderlink_iot::epcis::write::{EPCIS_CONTEXT, SCHEMA_VERSION};

pub(crate) use capture::{CaptureJob, CaptureJobs};
pub(crate) use problem::{EpcisProblem, PROBLEM_JSON, problem_response, problems};

use super::IotService;
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{CaptureEvents, ReadIot, ReadLedger, Require};
use crate::server::SharedState;
use capture::{Checked, ErrorBehaviour, MAX_CAPTURE_EVENTS, Refused};

/// The EPCIS version served (`GS1-EPCIS-Version`).
pub(crate) const EPCIS_VERSION: &str = "2.0.0";
/// The CBV version the hash IDs and vocabularies follow (`GS1-CBV-Version`).
pub(crate) const CBV_VERSION: &str = "2.0.0";
/// The query name of `GET /epcis/events` answers.
const QUERY_NAME: &str = "SimpleEventQuery";

/// Whether a path is under `/epcis`.
pub(crate) fn is_epcis(path: &str) -> bool {
    path == "/epcis" || path.starts_with("/epcis/")
}

fn static_header(headers: &mut HeaderMap, name: &'static str, value: &'static str) {
    headers.insert(name, HeaderValue::from_static(value));
}

/// The version headers every `/epcis` answer carries.
pub(crate) fn version_headers(headers: &mut HeaderMap) {
    static_header(headers, "GS1-EPCIS-Version", EPCIS_VERSION);
    static_header(headers, "GS1-CBV-Version", CBV_VERSION);
}

fn epcis_error(kind: ExceptionKind, detail: impl Into<String>) -> ApiError {
    ApiError::Epcis { kind, detail: detail.into() }
}

fn node_label(iot: &IotService) -> String {
    iot.local_member().unwrap_or_else(|| "-".to_owned())
}

/// The format of a body by its `Content-Type`.
fn body_format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "application/ld+json" => Ok(Format::Json),
        "application/xml" | "text/xml" => Ok(Format::Xml),
        "" => Err(epcis_error(
            ExceptionKind::UnsupportedMediaType,
            "no Content-Type: send application/ld+json, application/json, application/xml or text/xml",
        )),
        other => Err(epcis_error(
            ExceptionKind::UnsupportedMediaType,
            format!(
                "Content-Type {other} is not read here: send application/ld+json, application/json, application/xml or text/xml"
            ),
        )),
    }
}

/// A JSON-LD answer (events, query documents) with the version headers: `application/ld+json`
/// unless the client asked for plain `application/json`.
fn json_ld_answer(status: StatusCode, request: &HeaderMap, value: &serde_json::Value) -> Response {
    let accept = request.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let plain = accept.contains("application/json") && !accept.contains("application/ld+json");
    json_answer(status, if plain { "application/json" } else { "application/ld+json" }, value)
}

/// The query document in XML: the stored JSON-LD events read back into the event model (each
/// carries its own `@context`) and written by `borderlink_iot::epcis::write_xml`.
fn xml_answer(doc: &serde_json::Value, created: String) -> Result<Response, ApiError> {
    let bytes = serde_json::to_vec(doc).map_err(|e| epcis_error(ExceptionKind::Implementation, e.to_string()))?;
    let parsed = borderlink_iot::epcis::parse_document(&bytes, Format::Json)
        .map_err(|e| epcis_error(ExceptionKind::Implementation, format!("a stored event does not read back: {e}")))?;
    let info = borderlink_iot::epcis::write::DocumentInfo { creation_date: Some(created), id: None };
    let xml = borderlink_iot::epcis::write_xml::query_document(&parsed.events, QUERY_NAME, &info);
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    version_headers(response.headers_mut());
    Ok(response)
}

/// A JSON answer of `media` type with the version headers.
fn json_answer(status: StatusCode, media: &'static str, value: &serde_json::Value) -> Response {
    let mut response = (status, serde_json::to_vec(value).unwrap_or_default()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    version_headers(response.headers_mut());
    response
}

/// The answer formats of the read endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    JsonLd,
    Xml,
}

/// The format `Accept` asks for: JSON-LD unless only XML is acceptable; `xml` says whether the
/// endpoint can answer XML at all.
fn negotiate(request: &HeaderMap, xml: bool) -> Result<Answer, ApiError> {
    let Some(accept) = request.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Ok(Answer::JsonLd) };
    let media: Vec<&str> = accept.split(',').map(|item| item.split(';').next().unwrap_or("").trim()).collect();
    if media.iter().any(|m| matches!(*m, "*/*" | "application/*" | "application/json" | "application/ld+json" | "")) {
        return Ok(Answer::JsonLd);
    }
    if xml && media.iter().any(|m| matches!(*m, "application/xml" | "text/xml" | "text/*")) {
        return Ok(Answer::Xml);
    }
    let offered = if xml {
        "application/ld+json, application/json or application/xml"
    } else {
        "application/ld+json or application/json"
    };
    Err(epcis_error(
        ExceptionKind::NotAcceptable,
        format!("Accept: {accept} allows no answer this endpoint gives: ask for {offered}"),
    ))
}

fn new_capture_id() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads, validates and identifies a document on a blocking thread.
async fn check(bytes: Bytes, format: Format, max_bytes: usize, record_ms: i64) -> Result<Vec<Checked>, ApiError> {
    tokio::task::spawn_blocking(move || capture::check_document(&bytes, format, max_bytes, record_ms))
        .await
        .map_err(|e| epcis_error(ExceptionKind::Implementation, format!("the capture task failed: {e}")))?
        .map_err(|refused| match refused {
            Refused::TooLarge(detail) => epcis_error(ExceptionKind::CaptureLimitExceeded, detail),
            Refused::Invalid(violations) => {
                let detail = violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                epcis_error(ExceptionKind::Validation, capture::bounded(detail, capture::MAX_DETAIL_CHARS))
            }
        })
}

/// Captures an EPCIS document (JSON-LD or XML): each event validated, identified by its CBV 2.0
/// event hash ID and stored; with `GS1-Capture-Error-Behaviour: rollback` (the default) nothing
/// is stored when an event is invalid, with `proceed` the valid events are. Answers `202` with
/// the capture job (finished) and its `Location`.
#[utoipa::path(post, path = "/epcis/capture", tag = "epcis",
    params(
        ("GS1-Capture-Error-Behaviour" = Option<String>, Header,
            description = "`rollback` (default: nothing is stored if an event is invalid) or `proceed` (the valid events are stored)"),
    ),
    request_body(
        description = "An EPCIS 2.0 `EPCISDocument` in JSON / JSON-LD or XML (at most 10,000 events and the node's body limit)",
        content((Object = "application/ld+json"), (Object = "application/json"), (String = "application/xml"), (String = "text/xml"))
    ),
    responses(
        (status = 202, description = "Captured: the job (`Location: /epcis/capture/{captureID}`) says what was stored and which events failed", body = CaptureJob,
            headers(("Location" = String, description = "The capture job"))),
        (status = 400, description = "Unreadable, not an EPCISDocument, or a bad header (`epcisException:ValidationException`)", body = EpcisProblem, content_type = "application/problem+json"),
        (status = 413, description = "Over the capture limits (`epcisException:CaptureLimitExceededException`)", body = EpcisProblem, content_type = "application/problem+json"),
        (status = 415, description = "A Content-Type other than JSON, JSON-LD or XML (`epcisException:UnsupportedMediaTypeException`)", body = EpcisProblem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn capture(
    who: Require<CaptureEvents>,
    Service(iot): Service<IotService>,
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let node = node_label(&iot);
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            epcis_error(
                ExceptionKind::CaptureLimitExceeded,
                format!("the document is larger than {} bytes", state.max_body_bytes),
            )
        } else {
            epcis_error(ExceptionKind::Validation, r.body_text())
        }
    })?;
    let format = body_format(&headers)?;
    let behaviour =
        ErrorBehaviour::parse(headers.get("GS1-Capture-Error-Behaviour").map(|v| v.to_str().unwrap_or("(not text)")))
            .map_err(|m| epcis_error(ExceptionKind::Validation, m))?;
    let created_ms = iot.clock.now_ms();
    let checked = match check(body, format, state.max_body_bytes, created_ms).await {
        Ok(c) => c,
        Err(e) => {
            let reason = match &e {
                ApiError::Epcis { kind: ExceptionKind::CaptureLimitExceeded, .. } => "too-large",
                _ => "invalid-document",
            };
            metrics::counter!("borderlink_epcis_refused_total", "reason" => reason, crate::metrics::NODE => node.clone())
                .increment(1);
            return Err(e);
        }
    };
    let event_count = checked.len();
    let outcome = capture::store(iot.store().as_ref(), checked, behaviour, &node).await;
    metrics::counter!("borderlink_epcis_captured_total", crate::metrics::NODE => node.clone())
        .increment(outcome.stored as u64);
    let id = new_capture_id();
    let job = capture::finished_job(
        id.clone(),
        created_ms,
        iot.clock.now_ms(),
        behaviour,
        event_count,
        outcome,
        capture::owner_of(&who.principal),
    );
    tracing::info!(capture = %id, events = event_count, stored = job.stored, success = job.success, by = who.principal.kind(), "EPCIS capture");
    iot.captures.record(job.clone());
    let mut response =
        json_answer(StatusCode::ACCEPTED, "application/json", &serde_json::to_value(&job).unwrap_or_default());
    if let Ok(location) = HeaderValue::from_str(&format!("/epcis/capture/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The capture jobs of the caller (every job for the node's operator), newest first; the
/// node keeps the last 1,000.
#[utoipa::path(get, path = "/epcis/capture", tag = "epcis",
    responses((status = 200, description = "The capture jobs", body = [CaptureJob]))
)]
pub(crate) async fn jobs(who: Require<CaptureEvents>, Service(iot): Service<IotService>) -> Result<Response, ApiError> {
    let jobs = iot.captures.visible(&who.principal);
    Ok(json_answer(StatusCode::OK, "application/json", &serde_json::to_value(jobs).unwrap_or_default()))
}

/// One capture job: `running`, `success`, and a problem per failing event in `errors`.
#[utoipa::path(get, path = "/epcis/capture/{captureID}", tag = "epcis",
    params(("captureID" = String, Path, description = "The job's id, from the capture's Location")),
    responses(
        (status = 200, description = "The job", body = CaptureJob),
        (status = 404, description = "No such job of the caller's (`epcisException:NoSuchResourceException`)", body = EpcisProblem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn job(
    who: Require<CaptureEvents>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = iot.captures.get(&id).filter(|j| capture::may_see(&who.principal, j)).ok_or_else(|| {
        epcis_error(
            ExceptionKind::NoSuchResource,
            format!("no capture job {id} of yours (the node keeps the last 1,000)"),
        )
    })?;
    Ok(json_answer(StatusCode::OK, "application/json", &serde_json::to_value(job).unwrap_or_default()))
}

/// A document around one event (which keeps its own `@context`), so that the document parser
/// and validation read it.
fn wrap_event(body: &[u8], now_ms: i64) -> Result<Vec<u8>, ApiError> {
    let event: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| epcis_error(ExceptionKind::Validation, format!("the event is not JSON: {e}")))?;
    if !event.is_object() {
        return Err(epcis_error(ExceptionKind::Validation, "the event is not a JSON object"));
    }
    let mut context = vec![serde_json::Value::String(EPCIS_CONTEXT.to_owned())];
    if let Some(serde_json::Value::Array(items)) = event.get("@context") {
        context.extend(items.iter().filter(|v| v.is_object()).cloned());
    } else if let Some(obj @ serde_json::Value::Object(_)) = event.get("@context") {
        context.push(obj.clone());
    }
    let doc = serde_json::json!({
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": utc_string(now_ms),
        "epcisBody": {"eventList": [event]},
    });
    serde_json::to_vec(&doc).map_err(|e| epcis_error(ExceptionKind::Implementation, e.to_string()))
}

/// Captures one event (JSON-LD): `201` with its `Location` (by its hash ID) when stored, `200`
/// when it was stored already; `409` when its `eventID` names a different stored event.
#[utoipa::path(post, path = "/epcis/events", tag = "epcis",
    request_body(description = "One EPCIS 2.0 event in JSON-LD (`type`, `eventTime`, `eventTimeZoneOffset`, …)",
        content((Object = "application/ld+json"), (Object = "application/json"))),
    responses(
        (status = 201, description = "Stored: the event as stored (JSON-LD, with its recordTime)", content((Object = "application/ld+json"), (Object = "application/json")),
            headers(("Location" = String, description = "The event, by its hash ID"))),
        (status = 200, description = "Stored already (the same event, re-sent)", content((Object = "application/ld+json"), (Object = "application/json")),
            headers(("Location" = String, description = "The event, by its hash ID"))),
        (status = 400, description = "Not an event, or one that breaks the EPCIS 2.0 rules (`epcisException:ValidationException`)", body = EpcisProblem, content_type = "application/problem+json"),
        (status = 409, description = "Its eventID names another stored event (`epcisException:ResourceAlreadyExistsException`)", body = EpcisProblem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the node's body limit (`epcisException:CaptureLimitExceededException`)", body = EpcisProblem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON (`epcisException:UnsupportedMediaTypeException`)", body = EpcisProblem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn capture_event(
    who: Require<CaptureEvents>,
    Service(iot): Service<IotService>,
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let node = node_label(&iot);
    let body = body.map_err(|r| {
        let kind = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ExceptionKind::CaptureLimitExceeded
        } else {
            ExceptionKind::Validation
        };
        epcis_error(kind, r.body_text())
    })?;
    if body_format(&headers)? != Format::Json {
        return Err(epcis_error(
            ExceptionKind::UnsupportedMediaType,
            "POST /epcis/events takes one event in JSON-LD; capture XML documents at /epcis/capture",
        ));
    }
    let now = iot.clock.now_ms();
    let doc = wrap_event(&body, now)?;
    let mut checked = check(Bytes::from(doc), Format::Json, state.max_body_bytes.saturating_mul(2), now).await?;
    let stored = match checked.pop() {
        Some(Checked::Valid(e)) if checked.is_empty() => *e,
        Some(Checked::Invalid(v)) => {
            capture::count_refused(&node, &v);
            return Err(epcis_error(ExceptionKind::Validation, capture::event_problem(&v).detail));
        }
        _ => return Err(epcis_error(ExceptionKind::Validation, "the body is not one event")),
    };
    let location = format!("/epcis/events/{}", borderlink_ledger::auth::path_segment(&stored.hash_id));
    let done = iot.store().insert(std::slice::from_ref(&stored)).await.map_err(|e| match e {
        borderlink_iot::store::StoreError::EventIdTaken { event_id, existing } => epcis_error(
            ExceptionKind::ResourceAlreadyExists,
            format!("eventID {event_id} already names another stored event ({existing})"),
        ),
        other => epcis_error(ExceptionKind::Implementation, format!("the event store failed: {other}")),
    })?;
    let status = if done.new.is_empty() { StatusCode::OK } else { StatusCode::CREATED };
    metrics::counter!("borderlink_epcis_captured_total", crate::metrics::NODE => node).increment(done.new.len() as u64);
    tracing::info!(event = %stored.hash_id, new = !done.new.is_empty(), by = who.principal.kind(), "EPCIS event captured");
    let value: serde_json::Value = serde_json::from_str(&stored.json).unwrap_or_default();
    let mut response = json_ld_answer(status, &headers, &value);
    if let Ok(l) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, l);
    }
    Ok(response)
}

/// The query parameters of `GET /epcis/events` (for the OpenAPI document: the handler reads
/// the raw query string, as `borderlink_iot::epcis::query` parses it). A list is `a|b`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case)] // documentation only
pub(crate) struct EventsQuery {
    /// ObjectEvent, AggregationEvent, TransformationEvent, AssociationEvent, TransactionEvent (a `|` list).
    eventType: Option<String>,
    /// Events at or after this time (ISO 8601 with a zone).
    GE_eventTime: Option<String>,
    /// Events before this time.
    LT_eventTime: Option<String>,
    /// Recorded at or after this time.
    GE_recordTime: Option<String>,
    /// Recorded before this time.
    LT_recordTime: Option<String>,
    /// ADD, OBSERVE, DELETE (a `|` list).
    EQ_action: Option<String>,
    /// Business steps: CBV terms, 1.x URNs or 2.0 URIs (a `|` list).
    EQ_bizStep: Option<String>,
    /// Dispositions (a `|` list).
    EQ_disposition: Option<String>,
    /// Read point ids (a `|` list).
    EQ_readPoint: Option<String>,
    /// Business location ids (a `|` list).
    EQ_bizLocation: Option<String>,
    /// EPCs in epcList or childEPCs, as URNs, URN patterns or Digital Links (a `|` list).
    MATCH_epc: Option<String>,
    /// Parent ids (a `|` list).
    MATCH_parentID: Option<String>,
    /// EPCs anywhere in the event (a `|` list).
    MATCH_anyEPC: Option<String>,
    /// Event ids (a `|` list).
    EQ_eventID: Option<String>,
    /// Events per page (30 by default, 1000 at most).
    perPage: Option<String>,
    /// The next page, from the previous page's `Link: <…>; rel="next"`.
    nextPageToken: Option<String>,
}

/// The query string without its `nextPageToken`.
fn without_token(query: &str) -> String {
    query.split('&').filter(|p| !p.is_empty() && !p.starts_with("nextPageToken=")).collect::<Vec<_>>().join("&")
}

/// Events matching the standard's query parameters, newest event time first, as an
/// `EPCISQueryDocument` (JSON-LD, or XML for `Accept: application/xml`); a further page is announced by `Link: <…>; rel="next"`.
#[utoipa::path(get, path = "/epcis/events", tag = "epcis",
    params(EventsQuery),
    responses(
        (status = 200, description = "An EPCISQueryDocument with one page of events: JSON-LD, or XML for `Accept: application/xml`", content((Object = "application/ld+json"), (Object = "application/json"), (String = "application/xml")),
            headers(("Link" = String, description = "`</epcis/events?…&nextPageToken=…>; rel=\"next\"` when there are more"))),
        (status = 400, description = "An unknown, repeated or malformed parameter (`epcisException:QueryParameterException`)", body = EpcisProblem, content_type = "application/problem+json"),
        (status = 406, description = "An Accept that allows neither JSON nor XML (`epcisException:NotAcceptableException`)", body = EpcisProblem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn events(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let answer = negotiate(&headers, true)?;
    let query = query.unwrap_or_default();
    let request = parse_events_query(&query).map_err(|e| epcis_error(e.kind, e.problem("").detail))?;
    let page = iot
        .store()
        .query(&request.query, request.per_page, request.after)
        .await
        .map_err(|e| epcis_error(ExceptionKind::Implementation, format!("the event store failed: {e}")))?;
    let events: Vec<serde_json::Value> =
        page.events.iter().map(|n| serde_json::from_str(&n.event.json).unwrap_or_default()).collect();
    let created = utc_string(iot.clock.now_ms());
    let doc = serde_json::json!({
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": created,
        "epcisBody": {"queryResults": {"queryName": QUERY_NAME, "resultsBody": {"eventList": events}}},
    });
    let mut response = match answer {
        Answer::JsonLd => json_ld_answer(StatusCode::OK, &headers, &doc),
        Answer::Xml => xml_answer(&doc, created)?,
    };
    if let Some(next) = page.next {
        let rest = without_token(&query);
        let sep = if rest.is_empty() { "" } else { "&" };
        let link = format!("</epcis/events?{rest}{sep}nextPageToken={}>; rel=\"next\"", next.token());
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

/// One event by its `eventID` or its CBV 2.0 hash ID (URL-encoded).
#[utoipa::path(get, path = "/epcis/events/{eventID}", tag = "epcis",
    params(("eventID" = String, Path, description = "The event's eventID or hash ID (`ni:///sha-256;…?ver=CBV2.0`), URL-encoded")),
    responses(
        (status = 200, description = "The event in JSON-LD, with its own @context and recordTime", content((Object = "application/ld+json"), (Object = "application/json"))),
        (status = 404, description = "No such event (`epcisException:NoSuchResourceException`)", body = EpcisProblem, content_type = "application/problem+json"),
        (status = 406, description = "An Accept that allows no JSON (`epcisException:NotAcceptableException`)", body = EpcisProblem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn event(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    negotiate(&headers, false)?;
    let found = iot
        .store()
        .get(&id)
        .await
        .map_err(|e| epcis_error(ExceptionKind::Implementation, format!("the event store failed: {e}")))?
        .ok_or_else(|| epcis_error(ExceptionKind::NoSuchResource, format!("no event {id} (by eventID or hash ID)")))?;
    let value: serde_json::Value = serde_json::from_str(&found.event.json).unwrap_or_default();
    Ok(json_ld_answer(StatusCode::OK, &headers, &value))
}

/// An `OPTIONS` answer: `Allow` and the standard's headers.
fn options_answer(allow: &'static str, capture_limits: Option<usize>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(allow));
    version_headers(h);
    static_header(h, "GS1-EPCIS-Min", EPCIS_VERSION);
    static_header(h, "GS1-EPCIS-Max", EPCIS_VERSION);
    static_header(h, "GS1-CBV-Min", CBV_VERSION);
    static_header(h, "GS1-CBV-Max", CBV_VERSION);
    static_header(h, "GS1-Vendor-Version", concat!("borderlink/", env!("CARGO_PKG_VERSION")));
    // User extensions are stored and queried as written; none is given a meaning here.
    static_header(h, "GS1-Extensions", "");
    if let Some(max_bytes) = capture_limits {
        h.insert("GS1-EPCIS-Capture-Limit", HeaderValue::from(MAX_CAPTURE_EVENTS));
        h.insert("GS1-EPCIS-Capture-File-Size-Limit", HeaderValue::from(max_bytes));
        static_header(h, "GS1-Capture-Error-Behaviour", "rollback, proceed");
    }
    response
}

/// What `/epcis/capture` takes: methods, versions, and the capture limits
/// (`GS1-EPCIS-Capture-Limit` events, `GS1-EPCIS-Capture-File-Size-Limit` bytes).
#[utoipa::path(options, path = "/epcis/capture", tag = "epcis",
    responses((status = 204, description = "Allow, GS1-EPCIS-Version, GS1-CBV-Version, GS1-Extensions, GS1-EPCIS-Capture-Limit, GS1-EPCIS-Capture-File-Size-Limit"))
)]
pub(crate) async fn capture_options(_: Require<ReadLedger>, State(state): State<SharedState>) -> Response {
    options_answer("OPTIONS, GET, POST", Some(state.max_body_bytes))
}

/// What `/epcis/events` takes: methods and versions.
#[utoipa::path(options, path = "/epcis/events", tag = "epcis",
    responses((status = 204, description = "Allow, GS1-EPCIS-Version, GS1-CBV-Version, GS1-Extensions"))
)]
pub(crate) async fn events_options(_: Require<ReadLedger>) -> Response {
    options_answer("OPTIONS, GET, POST", None)
}
