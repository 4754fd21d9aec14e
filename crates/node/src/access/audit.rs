//! The node's audit trail: the hash-chained log of `borderlink_access::audit` in
//! `DATA/access/audit.redb`, a task that anchors its new entries on the ledger every
//! `[access] audit_anchor_seconds` (60), the API (`GET /api/v1/audit` with filters, as JSON or
//! CSV; `GET /api/v1/audit/subjects/{id}`, a data subject's access report;
//! `GET /api/v1/audit/proofs/{seq}`, an offline-verifiable proof; `POST /api/v1/audit/anchor`,
//! anchor now) and the auditor's console page (`/audit`).
//!
//! Invariants: an entry is durable before the answer it records is sent (a read whose entry
//! cannot be written is refused, `500`); the log holds no secret (no session id, token or
//! password; re-identification reasons are the officer's words); an anchor is recorded in the
//! log only once the ledger committed it, so a proof is only ever offered for a committed anchor.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use borderlink_access::audit::{Access, AuditLog, AuditProof, Entry, Filter, PROOF_FORMAT, anchor_record_id};
use serde::{Deserialize, Serialize};

use crate::capability::Service;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::ordering::LedgerService;
use crate::principal::{OperateNode, ReadAudit, Require};

/// The audit trail of this node.
pub(crate) struct AuditService {
    log: AuditLog,
    ledger: Arc<LedgerService>,
    clock: Arc<dyn Clock>,
    /// Serialises anchoring (the timer and `POST /api/v1/audit/anchor`).
    anchoring: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AuditService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditService").field("entries", &self.log.len()).finish_non_exhaustive()
    }
}

fn storage(e: borderlink_access::AccessError) -> ApiError {
    ApiError::Internal(format!("the audit trail: {e}"))
}

impl AuditService {
    pub(crate) fn new(log: AuditLog, ledger: Arc<LedgerService>, clock: Arc<dyn Clock>) -> Self {
        Self { log, ledger, clock, anchoring: tokio::sync::Mutex::new(()) }
    }

    /// Appends an entry now; durable when this returns.
    pub(crate) fn append(&self, access: Access) -> Result<(), ApiError> {
        self.log.append(access, self.clock.now_ms()).map_err(storage)?;
        metrics::counter!("borderlink_audit_entries_total").increment(1);
        Ok(())
    }

    /// The log.
    pub(crate) fn log(&self) -> &AuditLog {
        &self.log
    }

    /// Commits the entries since the last anchor to the ledger; answers the anchor's record id,
    /// or `None` when there was nothing new.
    pub(crate) async fn anchor_now(&self) -> Result<Option<String>, ApiError> {
        let _one = self.anchoring.lock().await;
        let Some(anchor) = self.log.next_anchor(self.clock.now_ms()).map_err(storage)? else { return Ok(None) };
        let payload = serde_json::to_vec(&anchor).map_err(|e| ApiError::Internal(e.to_string()))?;
        let name = format!("audit-anchor-{:012}", anchor.last_seq);
        let tx = self.ledger.ledger().document_by_local(&name, &payload, nonce(), self.clock.now_ms())?;
        let record_id = tx.body.record_id.clone();
        self.ledger.submit(tx).await.map_err(ApiError::Tx)?;
        self.log.anchored(&anchor, &record_id).map_err(storage)?;
        metrics::counter!("borderlink_audit_anchors_total").increment(1);
        tracing::info!(record = %record_id, first = anchor.first_seq, last = anchor.last_seq, "audit log anchored");
        Ok(Some(record_id))
    }

    /// Anchors every `every` until the node stops (the task holds the service weakly, so a
    /// stopped node's ledger is released).
    pub(crate) fn spawn_anchoring(self: &Arc<Self>, every: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(me) = weak.upgrade() else { return };
                if let Err(e) = me.anchor_now().await {
                    metrics::counter!("borderlink_audit_anchor_failed_total").increment(1);
                    tracing::warn!(error = %e, "the audit log could not be anchored; retrying at the next interval");
                }
            }
        });
    }

    /// The proof of entry `seq`.
    pub(crate) fn proof(&self, seq: u64) -> Result<AuditProof, ApiError> {
        let Some((entry, stored, merkle_path)) = self.log.proof_parts(seq).map_err(storage)? else {
            return Err(if seq == 0 || seq > self.log.len() {
                ApiError::RecordNotFound(format!("audit entry {seq}"))
            } else {
                ApiError::NotAnchoredYet(seq)
            });
        };
        let record_id =
            stored.record_id.unwrap_or_else(|| anchor_record_id(&stored.anchor.node, stored.anchor.last_seq));
        let ledger_proof = self.ledger.ledger().proof(&record_id)?;
        Ok(AuditProof { format: PROOF_FORMAT.into(), entry, merkle_path, anchor: stored.anchor, ledger_proof })
    }
}

/// What an audited act is, beyond who did it.
#[derive(Debug, Default)]
pub(crate) struct Act<'a> {
    /// The declared purpose.
    pub(crate) purpose: &'a str,
    /// `reidentify`, `erase`, `export`, …
    pub(crate) action: &'a str,
    /// The route.
    pub(crate) route: &'a str,
    /// The records concerned.
    pub(crate) records: Vec<String>,
    /// The traders and persons concerned.
    pub(crate) subjects: Vec<String>,
    /// A reason, or other detail.
    pub(crate) detail: String,
}

/// Appends `act` by `principal` to the node's audit trail (a node without one — no ledger,
/// no member — keeps none).
pub(crate) fn note(
    state: &crate::server::AppState,
    principal: &crate::principal::Principal,
    act: Act<'_>,
) -> Result<(), ApiError> {
    let Some(reads) = state.services.get::<super::reads::Reads>() else { return Ok(()) };
    let (actor, actor_kind, organisation, roles) = super::reads::actor_of(principal);
    reads.audit().append(Access {
        actor,
        actor_kind: actor_kind.to_owned(),
        organisation,
        roles,
        purpose: act.purpose.to_owned(),
        action: act.action.to_owned(),
        route: act.route.to_owned(),
        records: act.records,
        withheld: Vec::new(),
        subjects: act.subjects,
        detail: act.detail,
    })
}

fn nonce() -> u64 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u64()
}

/// Filters of the audit log (every one optional).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Who read (a username, a member id, or `operator`).
    pub(crate) actor: Option<String>,
    /// The reader's organisation (member id).
    pub(crate) organisation: Option<String>,
    /// The declared purpose.
    #[param(inline, value_type = Option<crate::access::reads::PurposeName>)]
    pub(crate) purpose: Option<String>,
    /// `read`, `reidentify`, `erase`, `export`.
    pub(crate) action: Option<String>,
    /// A record id the entry concerns.
    pub(crate) record: Option<String>,
    /// A trader's or person's identifier the records named.
    pub(crate) subject: Option<String>,
    /// From this instant (ISO 8601 date; a date-time with zone is accepted too).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) from: Option<String>,
    /// Before this instant (ISO 8601 date; a date-time with zone is accepted too).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) to: Option<String>,
    /// Skip this many (newest first).
    pub(crate) offset: Option<usize>,
    /// At most this many (100 by default, 10,000 at most).
    pub(crate) limit: Option<usize>,
    /// `json` (the default) or `csv`.
    #[param(inline, value_type = Option<AuditFormat>)]
    pub(crate) format: Option<String>,
}

/// The formats of the audit log's export.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AuditFormat {
    /// `{"entries": [...]}`.
    Json,
    /// One line per entry, with a header line.
    Csv,
}

fn instant(name: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| {
            borderlink_model::datetime::parse(s.trim())
                .map(|secs| secs.saturating_mul(1000))
                .ok_or_else(|| ApiError::InvalidQuery(format!("{name}: {s:?} is not an ISO 8601 date or date-time")))
        })
        .transpose()
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl AuditQuery {
    /// The API's reading: an empty `purpose`, `from` or `to` is a value that does not parse.
    /// (The console's filter form sends its empty fields; it clears them first, see
    /// [`AuditQuery::without_empty`].)
    pub(crate) fn filter(&self) -> Result<Filter, ApiError> {
        for (name, v) in [("from", &self.from), ("to", &self.to)] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(ApiError::InvalidQuery(format!("{name}: an empty value is not a date")));
            }
        }
        if let Some(p) = &self.purpose
            && borderlink_access::Purpose::parse(p).is_none()
        {
            return Err(ApiError::UnknownPurpose(p.clone()));
        }
        Ok(Filter {
            actor: nonempty(&self.actor),
            organisation: nonempty(&self.organisation),
            purpose: nonempty(&self.purpose),
            action: nonempty(&self.action),
            record: nonempty(&self.record),
            subject: nonempty(&self.subject),
            from_ms: instant("from", self.from.as_deref())?,
            to_ms: instant("to", self.to.as_deref())?,
        })
    }

    /// The same filter with the empty fields a form sends removed.
    pub(crate) fn without_empty(mut self) -> Self {
        for v in [
            &mut self.actor,
            &mut self.organisation,
            &mut self.purpose,
            &mut self.action,
            &mut self.record,
            &mut self.subject,
            &mut self.from,
            &mut self.to,
            &mut self.format,
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *v = None;
            }
        }
        self
    }

    fn csv(&self) -> Result<bool, ApiError> {
        match self.format.as_deref().map(str::trim) {
            None | Some("" | "json") => Ok(false),
            Some("csv") => Ok(true),
            Some(other) => Err(ApiError::InvalidQuery(format!("format: {other:?} is not json or csv"))),
        }
    }
}

/// Entries of the audit log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditEntries {
    /// How many entries the log holds in all.
    total: u64,
    /// The entries that match, newest first.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<Entry>,
}

/// The columns of the CSV export.
const CSV_HEADER: &str =
    "seq,at,node,actor,actor_kind,organisation,roles,purpose,action,route,records,withheld,subjects,detail,hash";

/// A CSV field: quoted, inner quotes doubled; a leading `=`, `+`, `-` or `@` is prefixed with
/// `'` so that a spreadsheet does not run it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The entries as CSV.
pub(crate) fn to_csv(entries: &[Entry]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for e in entries {
        let a = &e.access;
        let cells = [
            e.seq.to_string(),
            borderlink_model::datetime::format_unix_ms(e.at_ms),
            e.node.clone(),
            a.actor.clone(),
            a.actor_kind.clone(),
            a.organisation.clone(),
            a.roles.join(" "),
            a.purpose.clone(),
            a.action.clone(),
            a.route.clone(),
            a.records.join(" "),
            a.withheld.join(" "),
            a.subjects.join(" "),
            a.detail.clone(),
            e.hash().to_hex(),
        ];
        out.push_str(&cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// Runs a query of the log off the async runtime.
pub(crate) async fn query(audit: &Arc<AuditService>, q: &AuditQuery) -> Result<Vec<Entry>, ApiError> {
    let filter = q.filter()?;
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let audit = Arc::clone(audit);
    tokio::task::spawn_blocking(move || audit.log().query(&filter, offset, limit))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(storage)
}

fn answer(entries: Vec<Entry>, total: u64, csv: bool) -> Response {
    if csv {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
            ],
            to_csv(&entries),
        )
            .into_response()
    } else {
        Json(AuditEntries { total, entries }).into_response()
    }
}

/// The audit log: who read what, for which purpose, when; filtered, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "The matching entries (JSON, or CSV with `format=csv`)", content(
            (AuditEntries = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A filter that does not parse (`invalid_query`, `unknown_purpose`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list(
    _: Require<ReadAudit>,
    Service(reads): Service<super::reads::Reads>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let csv = q.csv()?;
    let entries = query(reads.audit(), &q).await?;
    Ok(answer(entries, reads.audit().log().len(), csv))
}

/// A data subject's access report: every recorded read, re-identification or erasure of records
/// that name the trader or person `id` (GDPR Art. 15).
#[utoipa::path(get, path = "/api/v1/audit/subjects/{id}", tag = "audit",
    params(("id" = String, Path, description = "The trader's or person's identifier (e.g. an EORI number)"), AuditQuery),
    responses(
        (status = 200, description = "The entries naming the subject, newest first (JSON, or CSV with `format=csv`)", content(
            (AuditEntries = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A filter that does not parse (`invalid_query`, `unknown_purpose`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn subject(
    _: Require<ReadAudit>,
    Service(reads): Service<super::reads::Reads>,
    Path(id): Path<String>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(mut q) = q.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let csv = q.csv()?;
    q.subject = Some(id);
    let entries = query(reads.audit(), &q).await?;
    Ok(answer(entries, reads.audit().log().len(), csv))
}

/// An offline-verifiable proof that an audit entry is untouched since it was anchored on the
/// ledger (`borderlink verify FILE --genesis genesis.json`).
#[utoipa::path(get, path = "/api/v1/audit/proofs/{seq}", tag = "audit",
    params(("seq" = u64, Path, minimum = 1, description = "The entry's sequence number")),
    responses(
        (status = 200, description = "The proof: entry, Merkle path, anchor, the ledger's proof of the anchor", body = Object),
        (status = 404, description = "No such entry (`record_not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "The entry is not anchored yet (`not_anchored_yet`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn proof(
    _: Require<ReadAudit>,
    Service(reads): Service<super::reads::Reads>,
    Path(seq): Path<u64>,
) -> Result<Json<AuditProof>, ApiError> {
    let audit = Arc::clone(reads.audit());
    tokio::task::spawn_blocking(move || audit.proof(seq))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map(Json)
}

/// What anchoring did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Anchored {
    /// The anchor record committed, if there were new entries.
    record_id: Option<String>,
    /// Entries in the log.
    entries: u64,
}

/// Anchors the audit log's new entries on the ledger now (they are anchored every
/// `[access] audit_anchor_seconds` anyway).
#[utoipa::path(post, path = "/api/v1/audit/anchor", tag = "audit",
    responses((status = 200, description = "The anchor committed, or none when nothing was new", body = Anchored))
)]
pub(crate) async fn anchor(
    _: Require<OperateNode>,
    Service(reads): Service<super::reads::Reads>,
) -> Result<Json<Anchored>, ApiError> {
    let record_id = reads.audit().anchor_now().await?;
    Ok(Json(Anchored { record_id, entries: reads.audit().log().len() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_fields_and_defuses_formulas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
