//! A record as a person reads it: `/ledger/records/{id}[?version=N]` (the record as a document,
//! its history with each change named) and `/ledger/records/{id}/diff?from=A&to=B` (what changed
//! between two versions). Every version is read through `Reads`, for the session's purpose.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use borderlink_ledger::tx::PayloadKind;
use borderlink_ledger::{Ledger, RecordVersion};
use maud::{Markup, html};
use serde_json::Value;

use super::console::{ConsoleLedger, enc, fmt_ms, read_failed, short};
use super::document;
use crate::access::reads::{Purposed, Reads};
use crate::capability::Service;
use crate::console::layout;
use crate::principal::{ReadLedger, Require};

/// The versions of a record as this reader may read them.
struct Reading {
    /// Each version's content, shaped for the purpose (`None`: not readable here, or erased).
    contents: Vec<Option<Value>>,
    /// Each version's withheld paths.
    withheld: Vec<Vec<String>>,
    /// Why the content is not shown, when the read was refused.
    refused: Option<String>,
    /// The purpose read for.
    purpose: Option<&'static str>,
}

/// Reads every version of a record for `principal`: the clear ones in one audited read, a
/// private one opened with this node's key when the reader's organisation is a recipient
/// (each audited). A refusal is kept to be said on the page, not an error of the page.
fn read_versions(
    l: &Ledger,
    reads: &Reads,
    principal: &crate::principal::Principal,
    purpose: Result<Purposed, crate::error::ApiError>,
    route: &str,
    versions: &[RecordVersion],
) -> Reading {
    let n = versions.len();
    let mut reading = Reading { contents: vec![None; n], withheld: vec![Vec::new(); n], refused: None, purpose: None };
    let purpose = match purpose {
        Ok(p) => p,
        Err(e) => {
            reading.refused = Some(e.to_string());
            return reading;
        }
    };
    reading.purpose = purpose.0.map(|p| p.name());
    let clear: Vec<RecordVersion> = versions.iter().filter(|v| v.payload.is_some()).cloned().collect();
    if !clear.is_empty() {
        match reads.shape_all(principal, purpose, route, clear.clone(), true) {
            Ok(shaped) if shaped.is_empty() => {
                // Refused for every version: the refusal of the newest says why.
                if let Some(last) = clear.last()
                    && let Err(e) = reads.shape(principal, purpose, route, last.clone())
                {
                    reading.refused = Some(e.to_string());
                }
            }
            Ok(shaped) => {
                for s in shaped {
                    if let Some(v) = s.version
                        && let Some(i) = versions.iter().position(|x| x.version == v.version && x.kind == v.kind)
                    {
                        reading.contents[i] = v.payload;
                        reading.withheld[i] = s.withheld;
                    }
                }
            }
            Err(e) => reading.refused = Some(e.to_string()),
        }
    }
    let me = principal.member().unwrap_or_default();
    for (i, v) in versions.iter().enumerate() {
        if v.payload_kind != PayloadKind::Private || !v.recipients.iter().any(|r| r == me) {
            continue;
        }
        let content = match l.read_private(&v.record_id, Some(v.version)) {
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(record = %v.record_id, version = v.version, error = %e, "a private record does not read as JSON");
                    continue;
                }
            },
            // Erased (crypto-shredded), or not addressed to this node: nothing to open.
            Err(_) => continue,
        };
        match reads.shape_content(principal, purpose, route, v, content) {
            Ok(s) => {
                reading.contents[i] = Some(s.json);
                reading.withheld[i] = s.withheld;
            }
            Err(e) => {
                reading.refused = Some(e.to_string());
                break;
            }
        }
    }
    reading
}

/// The query of a record's page: which version to show.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct VersionQuery {
    version: Option<String>,
}

fn no_such_record(id: &str) -> Response {
    crate::console::message_page("No such record", &format!("There is no record {id} on this ledger."))
        .with_status(StatusCode::NOT_FOUND)
        .into_response()
}

fn no_such_version(id: &str, asked: &str, last: u64) -> Response {
    crate::console::message_page(
        "No such version",
        &format!("Record {id} has no version {asked}: its versions are 1 to {last}."),
    )
    .with_status(StatusCode::NOT_FOUND)
    .into_response()
}

/// How a version's payload is carried, as a person reads it.
fn carried(v: &RecordVersion) -> Markup {
    html! {
        @match v.payload_kind {
            PayloadKind::Clear => "in clear",
            PayloadKind::Private => { "private to " (v.recipients.join(", ")) },
            PayloadKind::OffChain => "off-chain (hash on the ledger)",
            PayloadKind::Empty => "—",
        }
    }
}

/// The change each version made, named (created, status changed, updated, erased).
fn change_names(versions: &[RecordVersion], contents: &[Option<Value>]) -> Vec<String> {
    versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let prev = i.checked_sub(1).and_then(|p| contents[p].as_ref());
            document::change_name(v.kind, v.version, prev, contents[i].as_ref())
        })
        .collect()
}

/// Every version of record `id`, read for the session's purpose (audited as `route`), or the
/// page to answer instead: no such record, or the read failed.
async fn history(
    l: Arc<Ledger>,
    reads: Arc<Reads>,
    principal: crate::principal::Principal,
    purpose: Result<Purposed, crate::error::ApiError>,
    route: &'static str,
    id: &str,
) -> Result<(Vec<RecordVersion>, Reading), Response> {
    let id2 = id.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        let versions = l.history(&id2)?;
        let reading = read_versions(&l, &reads, &principal, purpose, route, &versions);
        Ok::<_, borderlink_ledger::LedgerError>((versions, reading))
    })
    .await;
    match read {
        Ok(Ok((v, r))) if !v.is_empty() => Ok((v, r)),
        Ok(Ok(_)) => Err(no_such_record(id)),
        Ok(Err(e)) => Err(read_failed(&e.to_string())),
        Err(e) => Err(read_failed(&e.to_string())),
    }
}

/// `GET /ledger/records/{id}[?version=N]`: a record as a document (its current version or
/// version N), its history with each change named, links to compare versions and to the JSON.
pub(super) async fn record(
    who: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    Service(reads): Service<Reads>,
    purpose: Result<Purposed, crate::error::ApiError>,
    Path(id): Path<String>,
    query: Result<Query<VersionQuery>, QueryRejection>,
) -> Response {
    let asked = query.ok().and_then(|Query(q)| q.version).filter(|v| !v.trim().is_empty());
    let (versions, reading) =
        match history(l, reads, who.principal.clone(), purpose, "GET /ledger/records/{id}", &id).await {
            Ok(read) => read,
            Err(page) => return page,
        };
    let last = versions.last().map_or(0, |v| v.version);
    let shown = match &asked {
        None => versions.len() - 1,
        Some(a) => match a.trim().parse::<u64>().ok().and_then(|n| versions.iter().rposition(|v| v.version == n)) {
            Some(i) => i,
            None => return no_such_version(&id, a, last),
        },
    };
    let names = change_names(&versions, &reading.contents);
    let v = &versions[shown];
    let content = reading.contents[shown].as_ref();
    let withheld = &reading.withheld[shown];
    let base = format!("/ledger/records/{}", enc(&id));
    let json_link = if v.payload_kind == PayloadKind::Private {
        format!("/api/v1/records/{}/private", enc(&id))
    } else {
        format!("/api/v1/records/{}/history", enc(&id))
    };
    let title = super::search::title(&v.record_type, content);
    layout(
        &format!("Record {id}"),
        super::LEDGER,
        html! {
            section.panel {
                h1 { "Record " (id) }
                dl.facts #record-facts {
                    dt { "Type" } dd { (v.record_type) }
                    @if let Some(t) = &title { dt { "Reference" } dd { (t) } }
                    dt { "Current version" } dd { (last) " (" (names[versions.len() - 1]) ")" }
                    dt { "Carried" } dd { (carried(versions.last().unwrap_or(v))) }
                }
                p { a href={"/api/v1/proofs/" (enc(&id))} download={(id) ".proof.json"} { "Download an offline-verifiable proof" } " (check it with " code { "borderlink verify FILE --genesis genesis.json" } ")" }
                h2 { "History" }
                table.data #history {
                    thead { tr { th { "Version" } th { "Change" } th { "By" } th { "Signed at" } th { "Block" } th { "Transaction" } th { "Carried" } th { "Compare" } } }
                    tbody {
                        @for (i, x) in versions.iter().enumerate() {
                            tr.current[i == shown] {
                                td { a href={(base) "?version=" (x.version)} { (x.version) } }
                                td.change { (names[i]) }
                                td { (x.submitter) }
                                td { (fmt_ms(x.timestamp_ms)) }
                                td { a href={"/ledger/blocks/" (x.height)} { (x.height) } }
                                td { code { (short(&x.tx_id.to_hex())) } }
                                td { (carried(x)) }
                                td { @if i > 0 { a.diff-link href={(base) "/diff?from=" (versions[i - 1].version) "&to=" (x.version)} { "changes from " (versions[i - 1].version) } } }
                            }
                        }
                    }
                }
            }
            section.panel #version {
                h2 #version-title {
                    "Version " (v.version) " of " (last)
                    @if shown + 1 < versions.len() { " " span.badge.older { "older version" } }
                }
                p.version-meta { (names[shown]) " by " strong { (v.submitter) } ", signed " (fmt_ms(v.timestamp_ms)) ", block " (v.height) "."
                    @if shown + 1 < versions.len() { " " a href=(base) { "See the current version" } }
                }
                @if let Some(why) = &reading.refused {
                    p.error #record-refused role="alert" { (why) " Change the purpose of your reads at the foot of the page." }
                } @else if let Some(c) = content {
                    @if let Some(p) = reading.purpose {
                        p.purpose-note { "Read for " strong { (p) } "; this read is recorded in the audit trail." }
                    }
                    @if !withheld.is_empty() {
                        p.withheld #withheld { "Withheld for this purpose: " (withheld.join(", ")) }
                    }
                    @if v.payload_kind == PayloadKind::Private {
                        p.private-note #private-note { "Private to " (v.recipients.join(", ")) ": opened by this node for you." }
                    }
                    section #record-document { (document::document(&v.record_type, c)) }
                    details.record-json {
                        summary { "JSON of this version" }
                        pre.record #record-json { (serde_json::to_string_pretty(c).unwrap_or_default()) }
                    }
                    p { a #json-link href=(json_link) { "The record as JSON from the API" } }
                } @else if v.kind == borderlink_ledger::tx::TxKind::Erase {
                    p #erased { "This version erased the record: its content is no longer held." }
                } @else if v.payload_kind == PayloadKind::Private {
                    p #private-digest { "This record is private to " (v.recipients.join(", ")) "; its SHA-256 on the ledger is " code { (v.payload_digest.to_hex()) } "." }
                } @else {
                    p #no-content { "The content of this version is not held here; its SHA-256 is " code { (v.payload_digest.to_hex()) } "." }
                }
            }
        },
    )
    .into_response()
}

/// The query of the comparison page.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /ledger/records/{id}/diff?from=A&to=B`: which fields changed between two versions,
/// old → new, who changed them and when.
pub(super) async fn diff(
    who: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    Service(reads): Service<Reads>,
    purpose: Result<Purposed, crate::error::ApiError>,
    Path(id): Path<String>,
    query: Result<Query<DiffQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let (versions, reading) =
        match history(l, reads, who.principal.clone(), purpose, "GET /ledger/records/{id}/diff", &id).await {
            Ok(read) => read,
            Err(page) => return page,
        };
    let last = versions.last().map_or(0, |v| v.version);
    let find = |asked: Option<&str>, default: u64| -> Result<usize, String> {
        let a = asked.map(str::trim).filter(|a| !a.is_empty());
        let n = match a {
            Some(a) => a.parse::<u64>().map_err(|_| a.to_owned())?,
            None => default,
        };
        versions.iter().rposition(|v| v.version == n).ok_or_else(|| n.to_string())
    };
    let to = match find(q.to.as_deref(), last) {
        Ok(i) => i,
        Err(a) => return no_such_version(&id, &a, last),
    };
    let from = match find(q.from.as_deref(), versions[to].version.saturating_sub(1).max(1)) {
        Ok(i) => i,
        Err(a) => return no_such_version(&id, &a, last),
    };
    let names = change_names(&versions, &reading.contents);
    let (a, b) = (&versions[from], &versions[to]);
    let changes = match (&reading.contents[from], &reading.contents[to]) {
        (Some(x), Some(y)) => Some(document::diff(x, y)),
        _ => None,
    };
    let base = format!("/ledger/records/{}", enc(&id));
    layout(
        &format!("Changes to {id}"),
        super::LEDGER,
        html! {
            section.panel {
                h1 { "Changes to " a href=(base) { (id) } }
                form #diff-form method="get" action={(base) "/diff"} {
                    div.filters {
                        label { "From version "
                            select name="from" { @for x in &versions { option value=(x.version) selected[x.version == a.version] { (x.version) } } }
                        }
                        label { "To version "
                            select name="to" { @for x in &versions { option value=(x.version) selected[x.version == b.version] { (x.version) } } }
                        }
                    }
                    button type="submit" { "Compare" }
                }
                table.data #diff-versions {
                    thead { tr { th { "" } th { "Version" } th { "Change" } th { "By" } th { "Signed at" } th { "Block" } } }
                    tbody {
                        @for (label, i, x) in [("Before", from, a), ("After", to, b)] {
                            tr {
                                th scope="row" { (label) }
                                td { a href={(base) "?version=" (x.version)} { (x.version) } }
                                td { (names[i]) }
                                td { (x.submitter) }
                                td { (fmt_ms(x.timestamp_ms)) }
                                td { a href={"/ledger/blocks/" (x.height)} { (x.height) } }
                            }
                        }
                    }
                }
            }
            section.panel {
                h2 { "Fields changed" }
                @if let Some(why) = &reading.refused {
                    p.error #record-refused role="alert" { (why) " Change the purpose of your reads at the foot of the page." }
                } @else {
                    @if let Some(p) = reading.purpose {
                        p.purpose-note { "Read for " strong { (p) } "; this read is recorded in the audit trail." }
                    }
                    @let withheld: Vec<&String> = reading.withheld[from].iter().chain(&reading.withheld[to]).collect();
                    @if !withheld.is_empty() {
                        p.withheld #withheld { "Withheld for this purpose (not compared): " (withheld.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) }
                    }
                    @match &changes {
                        None => { p.none #diff-unavailable { "The content of one of these versions is not readable here (private to others, or erased): only what the history says can be compared." } }
                        Some(c) if c.is_empty() => { p.none #diff-empty { "No field changed between version " (a.version) " and version " (b.version) "." } }
                        Some(c) => {
                            table.data.diff #diff {
                                thead { tr { th { "Field" } th { "Version " (a.version) } th { "Version " (b.version) } } }
                                tbody {
                                    @for ch in c {
                                        tr class=(match (&ch.old, &ch.new) { (None, _) => "added", (_, None) => "removed", _ => "changed" }) {
                                            td.field { (ch.field) }
                                            td.old { @if let Some(o) = &ch.old { del { (o) } } @else { span.none { "absent" } } }
                                            td.new { @if let Some(n) = &ch.new { ins { (n) } } @else { span.none { "removed" } } }
                                        }
                                    }
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
