//! EPCIS capture: a document read, validated and identified event by event (pure, on a
//! blocking thread), then stored whole (`rollback`) or event by event (`proceed`), and the
//! capture jobs that report it.
//!
//! Invariant: an event that breaks a rule is never stored; under `rollback` (the default) one
//! such event keeps the whole document out of the store. A re-sent event (same CBV 2.0 hash ID)
//! is a duplicate, counted, never an error; an `eventID` that names a different stored event
//! is a `ResourceAlreadyExistsException` for that event.
//!
//! Jobs live in memory, the newest [`KEPT_JOBS`] of them: a job is the answer to one capture,
//! not data (the events are in the store). Each caller sees its own jobs; the operator sees all.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use borderlink_iot::epcis::hash::{hash_id_of_prehash, prehash_ignoring, utc_string};
use borderlink_iot::epcis::index::stored_event;
use borderlink_iot::epcis::query::{ExceptionKind, Problem};
use borderlink_iot::epcis::validate::{self, Reason, Violation};
use borderlink_iot::epcis::{EpcisError, Format, Limits, parse_events_with};
use borderlink_iot::store::{EventStore, StoreError, StoredEvent};

use crate::principal::Principal;

/// The most events one capture takes (`GS1-EPCIS-Capture-Limit`).
pub(crate) const MAX_CAPTURE_EVENTS: usize = 10_000;

/// How many finished jobs the node remembers.
pub(crate) const KEPT_JOBS: usize = 1_000;

/// How many problems a job lists; the rest are summed up in one more. With [`KEPT_JOBS`] and
/// [`MAX_DETAIL_CHARS`], this bounds what the jobs hold (about 100 MB at worst).
pub(crate) const MAX_JOB_ERRORS: usize = 100;

/// The longest `detail` of a problem (a document's values are quoted in it).
pub(crate) const MAX_DETAIL_CHARS: usize = 1_000;

/// What a capture does with invalid events (`GS1-Capture-Error-Behaviour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorBehaviour {
    /// Nothing is stored if any event is invalid.
    Rollback,
    /// The valid events are stored, the invalid ones reported.
    Proceed,
}

impl ErrorBehaviour {
    pub(crate) fn parse(header: Option<&str>) -> Result<Self, String> {
        match header.map(str::trim) {
            None | Some("rollback") => Ok(Self::Rollback),
            Some("proceed") => Ok(Self::Proceed),
            Some(other) => Err(format!("GS1-Capture-Error-Behaviour is `{other}`; it is `rollback` or `proceed`")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Rollback => "rollback",
            Self::Proceed => "proceed",
        }
    }
}

/// A capture job, as `GET /epcis/capture/{captureID}` answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CaptureJob {
    /// The job's id.
    #[serde(rename = "captureID")]
    pub(crate) capture_id: String,
    /// When the capture arrived (UTC).
    pub(crate) created_at: String,
    /// When it was done (UTC).
    pub(crate) finished_at: Option<String>,
    /// Whether it is still being processed.
    pub(crate) running: bool,
    /// Whether every event was stored (or was stored already).
    pub(crate) success: bool,
    /// `rollback` or `proceed`.
    pub(crate) capture_error_behaviour: String,
    /// One problem per failing event (its index and field in `detail`).
    #[schema(value_type = Vec<Object>)]
    pub(crate) errors: Vec<Problem>,
    /// Events in the document.
    pub(crate) event_count: usize,
    /// Events stored by this capture.
    pub(crate) stored: usize,
    /// Events that were stored already (re-sent).
    pub(crate) duplicates: usize,
    /// Who captured (`member:gb-hmrc`, `person:amina`, `operator`).
    #[serde(skip)]
    pub(crate) owner: String,
}

/// Who a job belongs to.
pub(crate) fn owner_of(p: &Principal) -> String {
    match p {
        Principal::Anonymous => "anonymous".to_owned(),
        Principal::Member { id } => format!("member:{id}"),
        Principal::Operator { .. } => "operator".to_owned(),
        Principal::Person { username, .. } => format!("person:{username}"),
    }
}

/// Whether `p` may see `job`.
pub(crate) fn may_see(p: &Principal, job: &CaptureJob) -> bool {
    matches!(p, Principal::Operator { .. }) || owner_of(p) == job.owner
}

/// The node's capture jobs, newest last.
#[derive(Debug, Default)]
pub(crate) struct CaptureJobs {
    jobs: Mutex<VecDeque<CaptureJob>>,
}

impl CaptureJobs {
    pub(crate) fn record(&self, job: CaptureJob) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = jobs.iter_mut().find(|j| j.capture_id == job.capture_id) {
            *existing = job;
            return;
        }
        if jobs.len() >= KEPT_JOBS {
            jobs.pop_front();
        }
        jobs.push_back(job);
    }

    pub(crate) fn get(&self, id: &str) -> Option<CaptureJob> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|j| j.capture_id == id).cloned()
    }

    /// The jobs `p` may see, newest first.
    pub(crate) fn visible(&self, p: &Principal) -> Vec<CaptureJob> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).iter().rev().filter(|j| may_see(p, j)).cloned().collect()
    }
}

/// One event of a document: ready to store, or refused with its violations.
pub(crate) enum Checked {
    Valid(Box<StoredEvent>),
    Invalid(Vec<Violation>),
}

/// Why a document was refused as a whole.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Over a limit (413).
    TooLarge(String),
    /// Unreadable, not an EPCIS document, or a document-level field broken (400).
    Invalid(Vec<Violation>),
}

/// Reads, validates and identifies every event of a document (pure work: run it on a
/// blocking thread). Events keep document order.
pub(crate) fn check_document(
    bytes: &[u8],
    format: Format,
    max_bytes: usize,
    record_time_ms: i64,
) -> Result<Vec<Checked>, Refused> {
    let limits = Limits { max_bytes, max_events: MAX_CAPTURE_EVENTS, ..Limits::default() };
    if bytes.len() > max_bytes {
        return Err(Refused::TooLarge(format!("the document is larger than {max_bytes} bytes")));
    }
    let mut per_event: Vec<Vec<Violation>> = Vec::new();
    if format == Format::Json {
        // The JSON types the parsers do not keep (they read every scalar as text).
        let value: serde_json::Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                return Err(Refused::Invalid(vec![Violation::from_parse_error(&EpcisError::Syntax {
                    format,
                    message: e.to_string(),
                })]));
            }
        };
        let mut document_level = Vec::new();
        for v in validate::json_document(&value) {
            match v.event {
                Some(i) if i < MAX_CAPTURE_EVENTS => {
                    if per_event.len() <= i {
                        per_event.resize_with(i + 1, Vec::new);
                    }
                    per_event[i].push(v);
                }
                Some(_) => {}
                None => document_level.push(v),
            }
        }
        if !document_level.is_empty() {
            return Err(Refused::Invalid(document_level));
        }
    }
    let parsed = parse_events_with(bytes, format, &limits).map_err(|e| match e {
        EpcisError::Limit { what, limit } => {
            Refused::TooLarge(format!("the document exceeds the limit on {what} ({limit})"))
        }
        other => Refused::Invalid(vec![Violation::from_parse_error(&other)]),
    })?;
    if format == Format::Xml {
        // After parsing, so that a document that is not well-formed says so first.
        let document_level = validate::xml_document(bytes);
        if !document_level.is_empty() {
            return Err(Refused::Invalid(document_level));
        }
    }
    let mut out = Vec::with_capacity(parsed.events.len());
    for (i, built) in parsed.events.into_iter().enumerate() {
        let mut violations = per_event.get_mut(i).map(std::mem::take).unwrap_or_default();
        let event = match built {
            Ok(e) => e,
            Err(e) => {
                if violations.is_empty() {
                    violations.push(Violation::from_parse_error(&e));
                }
                out.push(Checked::Invalid(violations));
                continue;
            }
        };
        violations.extend(validate::event(i, &event));
        if !violations.is_empty() {
            out.push(Checked::Invalid(violations));
            continue;
        }
        let hash_id = hash_id_of_prehash(&prehash_ignoring(&event, &parsed.ignore_fields));
        match stored_event(&event, &hash_id, record_time_ms, None) {
            Ok(s) => out.push(Checked::Valid(Box::new(s))),
            Err(e) => out.push(Checked::Invalid(vec![Violation {
                event: Some(i),
                field: "eventTime".into(),
                reason: Reason::BadValue,
                message: e.to_string(),
            }])),
        }
    }
    Ok(out)
}

/// `text` cut to `max` characters, marked when cut.
pub(crate) fn bounded(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}… (cut)", &text[..at]),
        None => text,
    }
}

/// One problem for an invalid event: every violation of it in `detail`.
pub(crate) fn event_problem(violations: &[Violation]) -> Problem {
    let detail = violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    Problem::new(ExceptionKind::Validation, bounded(detail, MAX_DETAIL_CHARS), "")
}

/// At most [`MAX_JOB_ERRORS`] problems: the first ones, then one that counts the rest.
fn at_most(mut errors: Vec<Problem>) -> Vec<Problem> {
    if errors.len() > MAX_JOB_ERRORS {
        let more = errors.len() - (MAX_JOB_ERRORS - 1);
        errors.truncate(MAX_JOB_ERRORS - 1);
        errors.push(Problem::new(
            ExceptionKind::Validation,
            format!("… and {more} more refused events (a job lists the first {})", MAX_JOB_ERRORS - 1),
            "",
        ));
    }
    errors
}

/// Counts a refusal by its reason (`borderlink_epcis_refused_total{reason}`).
pub(crate) fn count_refused(node: &str, violations: &[Violation]) {
    if let Some(v) = violations.first() {
        metrics::counter!("borderlink_epcis_refused_total", "reason" => v.reason.as_str(), crate::metrics::NODE => node.to_owned())
            .increment(1);
    }
}

/// What storing a capture did.
pub(crate) struct Outcome {
    pub(crate) stored: usize,
    pub(crate) duplicates: usize,
    pub(crate) errors: Vec<Problem>,
}

/// The problem for an `eventID` taken by another event.
fn taken(event_id: &str, existing: &str) -> Problem {
    Problem::new(
        ExceptionKind::ResourceAlreadyExists,
        format!("eventID {event_id} already names another stored event ({existing}); nothing was stored under it"),
        "",
    )
}

fn backend(e: &StoreError) -> Problem {
    Problem::new(ExceptionKind::Implementation, format!("the event store failed: {e}"), "")
}

/// Stores the valid events: all or nothing under `rollback` (and only when no event was
/// invalid), the valid ones under `proceed`, leaving out those whose `eventID` is taken.
pub(crate) async fn store(
    store: &dyn EventStore,
    checked: Vec<Checked>,
    behaviour: ErrorBehaviour,
    node: &str,
) -> Outcome {
    let mut errors = Vec::new();
    let mut batch = Vec::new();
    for c in checked {
        match c {
            Checked::Valid(e) => batch.push(*e),
            Checked::Invalid(v) => {
                count_refused(node, &v);
                errors.push(event_problem(&v));
            }
        }
    }
    if behaviour == ErrorBehaviour::Rollback && !errors.is_empty() {
        return Outcome { stored: 0, duplicates: 0, errors };
    }
    // Each conflict takes one `eventID` out of the batch, so this ends.
    loop {
        if batch.is_empty() {
            return Outcome { stored: 0, duplicates: 0, errors };
        }
        match store.insert(&batch).await {
            Ok(done) => {
                return Outcome { stored: done.new.len(), duplicates: done.duplicates.len(), errors };
            }
            Err(StoreError::EventIdTaken { event_id, existing }) => {
                errors.push(taken(&event_id, &existing));
                if behaviour == ErrorBehaviour::Rollback {
                    return Outcome { stored: 0, duplicates: 0, errors };
                }
                let before = batch.len();
                batch.retain(|e| e.event_id.as_deref() != Some(event_id.as_str()));
                if batch.len() == before {
                    // The store named an eventID the batch does not hold: stop rather than loop.
                    return Outcome { stored: 0, duplicates: 0, errors };
                }
            }
            Err(e) => {
                errors.push(backend(&e));
                return Outcome { stored: 0, duplicates: 0, errors };
            }
        }
    }
}

/// A finished job.
pub(crate) fn finished_job(
    id: String,
    created_ms: i64,
    finished_ms: i64,
    behaviour: ErrorBehaviour,
    event_count: usize,
    outcome: Outcome,
    owner: String,
) -> CaptureJob {
    CaptureJob {
        capture_id: id,
        created_at: utc_string(created_ms),
        finished_at: Some(utc_string(finished_ms)),
        running: false,
        success: outcome.errors.is_empty(),
        capture_error_behaviour: behaviour.as_str().to_owned(),
        errors: at_most(outcome.errors),
        event_count,
        stored: outcome.stored,
        duplicates: outcome.duplicates,
        owner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_lists_at_most_its_limit_of_problems_and_details_are_bounded() {
        let many: Vec<Problem> =
            (0..250).map(|i| Problem::new(ExceptionKind::Validation, format!("event {i}"), "")).collect();
        let kept = at_most(many);
        assert_eq!(kept.len(), MAX_JOB_ERRORS);
        assert_eq!(kept[MAX_JOB_ERRORS - 2].detail, "event 98");
        assert!(kept[MAX_JOB_ERRORS - 1].detail.starts_with("… and 151 more"), "{}", kept[MAX_JOB_ERRORS - 1].detail);
        let long = "é".repeat(5_000);
        let cut = bounded(long, MAX_DETAIL_CHARS);
        assert_eq!(cut.chars().count(), MAX_DETAIL_CHARS + "… (cut)".chars().count());
        assert_eq!(bounded("short".into(), 10), "short");
    }

    #[test]
    fn the_error_behaviour_header_is_rollback_or_proceed() {
        assert_eq!(ErrorBehaviour::parse(None), Ok(ErrorBehaviour::Rollback));
        assert_eq!(ErrorBehaviour::parse(Some(" proceed ")), Ok(ErrorBehaviour::Proceed));
        assert!(ErrorBehaviour::parse(Some("retry")).unwrap_err().contains("`retry`"));
    }
}
