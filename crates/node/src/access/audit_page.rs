//! `/audit`: the auditor's page of the audit trail — filters (who, organisation, purpose,
//! action, record, subject, period) as a GET form, so a filtered view is a stable URL; the
//! matching entries newest first with paging; a CSV export of the same filter; the anchors on
//! the ledger; and, with `subject=ID`, a data subject's access report. Every value shown is
//! escaped (maud).

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::audit::{AuditQuery, query};
use super::reads::Reads;
use crate::capability::Service;
use crate::console::{layout, message_page};
use crate::principal::{ReadAudit, Require};

const PAGE: usize = 50;

fn link(q: &AuditQuery, offset: usize, format: Option<&str>) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let fields = [
        ("actor", &q.actor),
        ("organisation", &q.organisation),
        ("purpose", &q.purpose),
        ("action", &q.action),
        ("record", &q.record),
        ("subject", &q.subject),
        ("from", &q.from),
        ("to", &q.to),
    ];
    for (name, v) in fields {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            pairs.push((name, v.to_owned()));
        }
    }
    if offset > 0 {
        pairs.push(("offset", offset.to_string()));
    }
    if let Some(f) = format {
        pairs.push(("format", f.to_owned()));
        pairs.push(("limit", "10000".to_owned()));
    }
    let query: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{k}={}", borderlink_ledger::auth::path_segment(v))).collect();
    let base = if format.is_some() { "/api/v1/audit" } else { "/audit" };
    if query.is_empty() { base.to_owned() } else { format!("{base}?{}", query.join("&")) }
}

/// `GET /audit`.
pub(crate) async fn page(
    _: Require<ReadAudit>,
    Service(reads): Service<Reads>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return message_page("Bad filter", "A filter of this page does not read: check the values.")
            .with_status(StatusCode::BAD_REQUEST)
            .into_response();
    };
    let mut q = q.without_empty();
    let offset = q.offset.unwrap_or(0);
    q.limit = Some(PAGE + 1);
    q.format = None;
    let mut entries = match query(reads.audit(), &q).await {
        Ok(e) => e,
        Err(e) => {
            return message_page("Bad filter", &e.to_string()).with_status(StatusCode::BAD_REQUEST).into_response();
        }
    };
    let more = entries.len() > PAGE;
    entries.truncate(PAGE);
    let log = reads.audit().log();
    let anchors = log.anchors(5).unwrap_or_default();
    let anchored = log.anchor_count().unwrap_or(0);
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let subject = q.subject.as_deref().filter(|s| !s.trim().is_empty());
    layout(
        "Audit trail",
        super::AUDIT,
        html! {
            section.panel {
                h1 { @if let Some(s) = subject { "Access report for " (s) } @else { "Audit trail" } }
                p.lead {
                    "Every read of personal or confidential data on this node — who, for which organisation and purpose, which records and which fields were withheld — "
                    "and every re-identification and erasure. The log is hash-chained; its head is anchored on the ledger ("
                    (anchored) " anchors so far), so each entry can be proven untouched offline."
                }
                form #audit-filter method="get" action="/audit" {
                    div.filters {
                        label { "Who " input type="text" name="actor" value=(value(&q.actor)); }
                        label { "Organisation " input type="text" name="organisation" value=(value(&q.organisation)); }
                        label { "Purpose "
                            select name="purpose" {
                                option value="" { "any" }
                                @for (name, _) in borderlink_ledger::read_policy::PURPOSES {
                                    option value=(name) selected[q.purpose.as_deref() == Some(*name)] { (name) }
                                }
                            }
                        }
                        label { "Action "
                            select name="action" {
                                option value="" { "any" }
                                @for a in ["read", "mra-read", "reidentify", "erase", "export"] {
                                    option value=(a) selected[q.action.as_deref() == Some(a)] { (a) }
                                }
                            }
                        }
                        label { "Record " input type="text" name="record" value=(value(&q.record)); }
                        label { "Subject (trader or person id) " input type="text" name="subject" value=(value(&q.subject)); }
                        label { "From " input type="date" name="from" value=(value(&q.from)); }
                        label { "Before " input type="date" name="to" value=(value(&q.to)); }
                    }
                    button type="submit" { "Filter" }
                    " "
                    a #audit-csv href=(link(&q, 0, Some("csv"))) download="audit.csv" { "Export CSV" }
                }
                @if entries.is_empty() {
                    p #audit-empty { "No entry matches." }
                } @else {
div.table-wrap {                     table.data #audit {
                        thead { tr { th { "#" } th { "When" } th { "Who" } th { "Organisation" } th { "Roles" } th { "Purpose" } th { "Action" } th { "Records" } th { "Withheld" } th { "Subjects" } th { "Detail" } th { "Proof" } } }
                        tbody {
                            @for e in &entries {
                                tr {
                                    td { (e.seq) }
                                    td { (crate::console::format::when(e.at_ms)) }
                                    td { (e.access.actor) " (" (e.access.actor_kind) ")" }
                                    td { (e.access.organisation) }
                                    td { (e.access.roles.join(", ")) }
                                    td { (e.access.purpose) }
                                    td { (e.access.action) }
                                    td.wrap { (e.access.records.join(", ")) }
                                    td.wrap { (e.access.withheld.join(", ")) }
                                    td { (e.access.subjects.join(", ")) }
                                    td { (e.access.detail) }
                                    td { a href={"/api/v1/audit/proofs/" (e.seq)} download={"audit-" (e.seq) ".proof.json"} { "proof" } }
                                }
                            }
                        }
                    } }
                    nav.pager aria-label="Pages" {
                        @if offset > 0 { a rel="prev" href=(link(&q, offset.saturating_sub(PAGE), None)) { "Newer" } " " }
                        @if more { a rel="next" href=(link(&q, offset + PAGE, None)) { "Older" } }
                    }
                }
            }
            section.panel {
                h2 { "Anchors on the ledger" }
                @if anchors.is_empty() { p { "None yet: the log is anchored every interval once it has entries." } } @else {
                    table.data #anchors {
                        thead { tr { th { "Entries" } th { "Head" } th { "Merkle root" } th { "Record" } } }
                        tbody {
                            @for a in &anchors {
                                tr {
                                    td { (a.anchor.first_seq) "–" (a.anchor.last_seq) }
                                    td { code { (&a.anchor.head.to_hex()[..16]) } }
                                    td { code { (&a.anchor.root.to_hex()[..16]) } }
                                    td { @if let Some(r) = &a.record_id { a href={"/ledger/records/" (crate::ledger::enc(r))} { (r) } } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}
