//! Console pages of the ledger: the explorer (records and blocks, filtered and paged by stable
//! URLs), a block, a record as a document with its history (each change named, every version
//! viewable, two versions compared field by field), and the AEO status page (every AEO
//! authorisation and its current status, as CADENA shares it, filtered by status and country).
//!
//! A record's content is read through `Reads` (the session's purpose, the read policy, the
//! audit trail); a private record is opened by this node only for a person of a recipient.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use borderlink_ledger::block::TxOutcome;
use borderlink_ledger::{Ledger, RecordVersion};
use borderlink_model::{AeoAuthorizationRecord, RecordType};
use maud::{Markup, html};

use super::paging;
use crate::access::reads::{Purposed, Reads};
use crate::capability::Service;
use crate::console::{Section, layout};
use crate::principal::{ReadLedger, Require};
use crate::server::SharedState;

/// The ledger as a console handler's argument; on a node without one, the page that says so.
pub(crate) struct ConsoleLedger(pub(crate) Arc<Ledger>);

impl axum::extract::FromRequestParts<SharedState> for ConsoleLedger {
    type Rejection = Response;

    async fn from_request_parts(_: &mut axum::http::request::Parts, state: &SharedState) -> Result<Self, Response> {
        match state.ledger.as_ref() {
            Some(svc) => Ok(ConsoleLedger(Arc::clone(svc.ledger()))),
            None => Err(layout(
                "No ledger",
                Section::OTHER,
                html! { section.panel { h1 { "No ledger" } p { "This node runs without a ledger (validation only)." } } },
            )
            .with_status(StatusCode::NOT_FOUND)
            .into_response()),
        }
    }
}

/// Milliseconds since the epoch as a `<time>` (`YYYY-MM-DD hh:mm:ss UTC`, the reader's zone once
/// script runs): `crate::console::format::when`, which new code should call directly.
pub(crate) fn fmt_ms(ms: i64) -> maud::Markup {
    crate::console::format::when(ms)
}

/// Percent-encodes a record id for a URL path segment (ids may hold spaces and slashes).
pub(crate) fn enc(id: &str) -> String {
    borderlink_ledger::auth::path_segment(id)
}

pub(super) fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

fn records_table(records: &[RecordVersion]) -> Markup {
    html! {
        table.data #records {
            thead { tr { th { "Record" } th { "Type" } th { "Version" } th { "Last change by" } th { "Signed at" } th { "Block" } } }
            tbody {
                @for r in records {
                    tr {
                        td { a href={"/ledger/records/" (enc(&r.record_id))} { (r.record_id) } }
                        td { (r.record_type) }
                        td { (r.version) }
                        td { (r.submitter) }
                        td { (fmt_ms(r.timestamp_ms)) }
                        td { a href={"/ledger/blocks/" (r.height)} { (r.height) } }
                    }
                }
            }
        }
    }
}

/// Records (or blocks) shown on one page of the explorer.
const PER_PAGE: usize = 20;
/// The most records or blocks the explorer's filters look through.
const SCAN_LIMIT: usize = 10_000;

/// The explorer's filters, from its query string (every one optional; an empty one is none).
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct LedgerFilter {
    /// Records of this type only.
    #[serde(rename = "type")]
    record_type: Option<String>,
    /// Records written by (blocks proposed by) this member.
    member: Option<String>,
    /// From this day (inclusive, `YYYY-MM-DD`, UTC).
    from: Option<String>,
    /// To this day (inclusive).
    to: Option<String>,
    /// The page of records.
    page: Option<String>,
    /// The page of blocks.
    blocks: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A day's first millisecond (`to`: the next day's), or the problem with it.
fn day_ms(v: Option<&str>, end: bool) -> Result<Option<i64>, String> {
    let Some(v) = v else { return Ok(None) };
    match borderlink_model::datetime::parse(v) {
        Some(s) if v.len() == 10 => Ok(Some((s + if end { 86_400 } else { 0 }) * 1000)),
        _ => Err(format!("{v:?} is not a day (YYYY-MM-DD)")),
    }
}

/// `GET /ledger`: the explorer — records and blocks, filtered and paged by a stable URL.
pub(super) async fn explorer(
    _: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    query: Result<Query<LedgerFilter>, QueryRejection>,
) -> Response {
    let f = query.map(|Query(q)| q).unwrap_or_default();
    let record_type = nonempty(&f.record_type).map(str::to_owned);
    let member = nonempty(&f.member).map(str::to_owned);
    let mut problems = Vec::new();
    if let Some(t) = &record_type
        && RecordType::from_name(t).is_none()
    {
        problems.push(format!("{t:?} is not a record type"));
    }
    let from = day_ms(nonempty(&f.from), false).unwrap_or_else(|e| {
        problems.push(e);
        None
    });
    let to = day_ms(nonempty(&f.to), true).unwrap_or_else(|e| {
        problems.push(e);
        None
    });
    let (page, block_page) = (paging::page_of(f.page.as_deref()), paging::page_of(f.blocks.as_deref()));
    let in_range = move |ms: i64| from.is_none_or(|f| ms >= f) && to.is_none_or(|t| ms < t);
    let (rt, m) = (record_type.clone().and_then(|t| RecordType::from_name(&t)), member.clone());
    let data = tokio::task::spawn_blocking(move || -> Result<_, borderlink_ledger::LedgerError> {
        let head = l.head();
        let mut blocks = Vec::new();
        if let Some(h) = &head {
            let filtered = m.is_some() || from.is_some() || to.is_some();
            let lowest = h.height.saturating_sub(SCAN_LIMIT as u64).max(1);
            for height in (lowest..=h.height).rev() {
                if !filtered && blocks.len() >= block_page * PER_PAGE {
                    break;
                }
                if let Some(b) = l.block(height)? {
                    let mine = m.as_deref().is_none_or(|m| b.header.proposer == m);
                    if mine && in_range(b.header.timestamp_ms) {
                        let invalid = b.results.iter().filter(|r| !r.is_valid()).count();
                        blocks.push((b.header.clone(), b.header.hash().to_hex(), invalid));
                    }
                }
            }
        }
        let block_total = if m.is_some() || from.is_some() || to.is_some() {
            blocks.len()
        } else {
            head.as_ref().map_or(0, |h| h.height as usize)
        };
        let mut records = l.list(rt.map(RecordType::name), SCAN_LIMIT)?;
        records.retain(|r| m.as_deref().is_none_or(|m| r.submitter == m) && in_range(r.timestamp_ms));
        Ok((
            l.genesis().consortium.clone(),
            l.chain_id().to_hex(),
            l.local_member().map(str::to_owned),
            head,
            (blocks, block_total),
            records,
            l.members(),
        ))
    })
    .await;
    let (consortium, chain, local, head, (blocks, block_total), records, members) = match data {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return read_failed(&e.to_string()),
        Err(e) => return read_failed(&e.to_string()),
    };
    let pairs: Vec<(&str, String)> = vec![
        ("type", record_type.clone().unwrap_or_default()),
        ("member", member.clone().unwrap_or_default()),
        ("from", nonempty(&f.from).unwrap_or_default().to_owned()),
        ("to", nonempty(&f.to).unwrap_or_default().to_owned()),
        ("page", if page > 1 { page.to_string() } else { String::new() }),
        ("blocks", if block_page > 1 { block_page.to_string() } else { String::new() }),
    ];
    let (rs, re) = paging::window(page, PER_PAGE, records.len());
    let (bs, be) = paging::window(block_page, PER_PAGE, blocks.len());
    let filtered =
        record_type.is_some() || member.is_some() || nonempty(&f.from).is_some() || nonempty(&f.to).is_some();
    // Without a filter only the blocks up to this page were read, so its window is their last rows.
    let shown_blocks = &blocks[bs..be];
    layout(
        "Ledger",
        super::LEDGER,
        html! {
            section.panel {
                h1 { "Ledger" }
                dl.facts #ledger-facts {
                    dt { "Consortium" } dd { (consortium) }
                    dt { "Chain id" } dd { code { (chain) } }
                    dt { "This node" } dd { (local.unwrap_or_default()) }
                    dt { "Height" } dd #height { (head.as_ref().map_or(0, |h| h.height)) }
                }
                form #ledger-filter method="get" action="/ledger" {
                    div.filters {
                        label { "Record type "
                            select name="type" {
                                option value="" { "any" }
                                @for t in RecordType::ALL {
                                    option value=(t.name()) selected[record_type.as_deref() == Some(t.name())] { (t.name()) }
                                }
                            }
                        }
                        label { "Member "
                            select name="member" {
                                option value="" { "any" }
                                @for mb in &members {
                                    option value=(mb.id) selected[member.as_deref() == Some(mb.id.as_str())] { (mb.name) " (" (mb.id) ")" }
                                }
                            }
                        }
                        label { "From " input type="date" name="from" value=(nonempty(&f.from).unwrap_or_default()); }
                        label { "To " input type="date" name="to" value=(nonempty(&f.to).unwrap_or_default()); }
                    }
                    button type="submit" { "Filter" }
                    @if filtered { " " a href="/ledger" { "Clear the filters" } }
                }
                @if !problems.is_empty() {
                    p.alert.alert-error role="alert" { "Ignored: " (problems.join("; ")) "." }
                }
            }
            section.panel {
                h2 { "Records" }
                @if records.is_empty() {
                    p.none #records-empty { @if filtered { "No records match these filters." } @else { "No record yet." } }
                } @else {
                    (records_table(&records[rs..re]))
                }
                (paging::pager("records-pager", "/ledger", &pairs, "page", page, PER_PAGE, records.len(), "records"))
            }
            section.panel {
                h2 { "Blocks" }
                @if shown_blocks.is_empty() {
                    p.none #blocks-empty { @if filtered { "No blocks match these filters." } @else { "No block yet." } }
                } @else {
                    table.data #blocks {
                        thead { tr { th { "Height" } th { "Hash" } th { "Cut at" } th { "Transactions" } th { "Invalid" } th { "Proposer" } } }
                        tbody {
                            @for (h, hash, invalid) in shown_blocks {
                                tr {
                                    td { a href={"/ledger/blocks/" (h.height)} { (h.height) } }
                                    td { code { (short(hash)) } }
                                    td { (fmt_ms(h.timestamp_ms)) }
                                    td { (h.tx_count) }
                                    td { (invalid) }
                                    td { (h.proposer) }
                                }
                            }
                        }
                    }
                }
                (paging::pager("blocks-pager", "/ledger", &pairs, "blocks", block_page, PER_PAGE, block_total, "blocks"))
            }
            section.panel {
                h2 { "Members" }
                table.data #members {
                    thead { tr { th { "Id" } th { "Organisation" } th { "Role" } th { "Country" } th { "Status" } } }
                    tbody {
                        @for m in &members {
                            tr { td { code { (m.id) } } td { (m.name) } td { (m.role.name()) } td { (crate::console::format::code(crate::console::format::Code::Country, &m.country)) } td { (format!("{:?}", m.status).to_lowercase()) } }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// `GET /ledger/blocks/{height}`.
pub(super) async fn block(
    _: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    Path(height): Path<u64>,
) -> Response {
    let view = match super::views::block_view(&l, height) {
        Ok(v) => v,
        Err(crate::error::ApiError::BlockNotFound(_)) => {
            return crate::console::message_page(
                "No such block",
                &format!("There is no block at height {height} yet."),
            )
            .with_status(StatusCode::NOT_FOUND)
            .into_response();
        }
        Err(e) => return read_failed(&e.to_string()),
    };
    let h = &view.header;
    layout(
        &format!("Block {height}"),
        super::LEDGER,
        html! {
            section.panel {
                h1 { "Block " (height) }
                dl.facts #block-facts {
                    dt { "Hash" } dd { code { (view.hash) } }
                    dt { "Previous hash" } dd { code { (h.prev_hash.to_hex()) } }
                    dt { "Transaction root" } dd { code { (h.tx_root.to_hex()) } }
                    dt { "Cut at" } dd { (fmt_ms(h.timestamp_ms)) }
                    dt { "Proposer" } dd { (h.proposer) }
                    dt { "Checkpoints" } dd {
                        @for c in &view.checkpoints { span.badge { (c.member) } " " }
                    }
                }
                @if height > 1 { a href={"/ledger/blocks/" (height - 1)} { "← previous block" } " " }
                a href={"/ledger/blocks/" (height + 1)} { "next block →" }
            }
            section.panel {
                h2 { "Transactions" }
                table.data #transactions {
                    thead { tr { th { "#" } th { "Record" } th { "Type" } th { "Version" } th { "Kind" } th { "Submitter" } th { "Outcome" } } }
                    tbody {
                        @for (i, t) in view.transactions.iter().enumerate() {
                            tr {
                                td { (i) }
                                td { a href={"/ledger/records/" (enc(&t.record_id))} { (t.record_id) } }
                                td { (t.record_type) }
                                td { (t.version) }
                                td { (kind_name(t.kind, t.version)) }
                                td { (t.submitter) }
                                td {
                                    @match &t.outcome {
                                        TxOutcome::Valid => span.badge.ok { "valid" },
                                        TxOutcome::Invalid { code, reason } => { span.badge.bad { "invalid: " (code) } " " (reason) }
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

/// What a transaction did to its record, as a person names it (a record's page also tells a
/// status change, which needs the content).
fn kind_name(k: borderlink_ledger::tx::TxKind, version: u64) -> &'static str {
    use borderlink_ledger::tx::TxKind;
    match k {
        TxKind::Put if version <= 1 => "created",
        TxKind::Put => "updated",
        TxKind::Erase => "erased",
        TxKind::Governance => "governance",
    }
}

/// How an AEO status is named (as in the record).
fn status_name(s: borderlink_model::records::AeoStatus) -> &'static str {
    use borderlink_model::records::AeoStatus;
    match s {
        AeoStatus::Active => "ACTIVE",
        AeoStatus::Suspended => "SUSPENDED",
        AeoStatus::Revoked => "REVOKED",
    }
}

/// The page for a ledger that could not be read (logged: it is the node's failure, not the user's).
pub(super) fn read_failed(detail: &str) -> Response {
    tracing::error!(error = %detail, "the console could not read the ledger");
    crate::console::message_page("The ledger could not be read", detail)
        .with_status(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

/// AEO authorisations on one page of `/aeo`.
const AEO_PER_PAGE: usize = 25;

/// The AEO page's filters.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct AeoFilter {
    /// `ACTIVE`, `SUSPENDED` or `REVOKED`.
    status: Option<String>,
    /// The issuing administration's country (ISO 3166 alpha-2).
    country: Option<String>,
    page: Option<String>,
}

/// `GET /aeo`: every AEO authorisation and its current status, filtered by status and issuing
/// country, paged.
pub(super) async fn aeo(
    who: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    Service(reads): Service<Reads>,
    purpose: Result<Purposed, crate::error::ApiError>,
    query: Result<Query<AeoFilter>, QueryRejection>,
) -> Response {
    let purpose = match purpose {
        Ok(p) => p,
        Err(e) => return read_failed(&e.to_string()),
    };
    let f = query.map(|Query(q)| q).unwrap_or_default();
    let status = nonempty(&f.status).map(str::to_uppercase);
    let country = nonempty(&f.country).map(str::to_uppercase);
    let page = paging::page_of(f.page.as_deref());
    let principal = who.principal.clone();
    let shaped = tokio::task::spawn_blocking(move || {
        let versions = l.list(Some(RecordType::AeoAuthorization.name()), SCAN_LIMIT)?;
        reads.shape_all(&principal, purpose, "GET /aeo", versions, true)
    })
    .await;
    let records: Vec<RecordVersion> = match shaped {
        Ok(Ok(r)) => r.into_iter().filter_map(|s| s.version).collect(),
        Ok(Err(e)) => return read_failed(&e.to_string()),
        Err(e) => return read_failed(&e.to_string()),
    };
    // Private authorisations are listed without their content; a clear one that no longer reads
    // as an authorisation is shown as such, never as an empty row.
    let all: Vec<(&RecordVersion, Option<Result<AeoAuthorizationRecord, String>>)> = records
        .iter()
        .map(|r| (r, r.payload.as_ref().map(|p| serde_json::from_value(p.clone()).map_err(|e| e.to_string()))))
        .collect();
    let filtered = status.is_some() || country.is_some();
    let mut countries: Vec<String> = all
        .iter()
        .filter_map(|(_, a)| {
            a.as_ref().and_then(|a| a.as_ref().ok()).map(|a| a.ext.issuing_authority.country_code.clone())
        })
        .collect();
    countries.sort();
    countries.dedup();
    // A filter keeps only the authorisations whose content says they match.
    let rows: Vec<&(&RecordVersion, Option<Result<AeoAuthorizationRecord, String>>)> = all
        .iter()
        .filter(|(_, a)| {
            !filtered
                || a.as_ref().and_then(|a| a.as_ref().ok()).is_some_and(|a| {
                    status.as_deref().is_none_or(|s| status_name(a.ext.status) == s)
                        && country.as_deref().is_none_or(|c| a.ext.issuing_authority.country_code == c)
                })
        })
        .collect();
    let pairs: Vec<(&str, String)> = vec![
        ("status", status.clone().unwrap_or_default()),
        ("country", country.clone().unwrap_or_default()),
        ("page", if page > 1 { page.to_string() } else { String::new() }),
    ];
    let (start, end) = paging::window(page, AEO_PER_PAGE, rows.len());
    layout(
        "AEO status",
        super::AEO,
        html! {
            section.panel {
                h1 { "AEO status" }
                p.lead { "Every AEO authorisation on the ledger with its current status, as the issuing administrations recorded it — shared in real time instead of a monthly exchange of lists." }
                form #aeo-filter method="get" action="/aeo" {
                    div.filters {
                        label { "Status "
                            select name="status" {
                                option value="" { "any" }
                                @for s in ["ACTIVE", "SUSPENDED", "REVOKED"] {
                                    option value=(s) selected[status.as_deref() == Some(s)] { (s) }
                                }
                            }
                        }
                        label { "Issued in "
                            select name="country" {
                                option value="" { "any country" }
                                @for c in &countries {
                                    option value=(c) selected[country.as_deref() == Some(c.as_str())] { (c) }
                                }
                            }
                        }
                    }
                    button type="submit" { "Filter" }
                    @if filtered { " " a href="/aeo" { "Clear the filters" } }
                }
                @if records.is_empty() { p.none #aeo-empty { "No AEO authorisation yet." } }
                @else if rows.is_empty() { p.none #aeo-empty { "No records match these filters." } }
                @else {
                    table.data #aeo {
                        thead { tr { th { "Authorisation" } th { "Holder" } th { "Trader id" } th { "Category" } th { "Issued by" } th { "Status" } th { "Since" } th { "Valid until" } th { "MRA programmes" } th { "Version" } } }
                        tbody {
                            @for (r, aeo) in &rows[start..end] {
                                tr {
                                    td { a href={"/ledger/records/" (enc(&r.record_id))} { (r.record_id) } }
                                    @match aeo {
                                        Some(Ok(a)) => {
                                            td { (a.ext.holder.name) }
                                            td { (a.authorisation_holder.id.as_deref().unwrap_or("—")) }
                                            td { (a.authorisation_holder.category_code.as_deref().unwrap_or("—")) }
                                            td { (a.ext.issuing_authority.name) " (" (a.ext.issuing_authority.country_code) ")" }
                                            td { span class={"badge status-" (status_name(a.ext.status).to_lowercase())} { (status_name(a.ext.status)) } }
                                            td { (a.ext.status_changed_at) }
                                            td { (a.ext.valid_until.as_deref().unwrap_or("no end date")) }
                                            td { (a.ext.mra_partner_programmes.join(", ")) }
                                        }
                                        Some(Err(e)) => { td colspan="8" { "unreadable as an AEO authorisation: " (e) } }
                                        None => { td colspan="8" { "private to " (r.recipients.join(", ")) } }
                                    }
                                    td { (r.version) }
                                }
                            }
                        }
                    }
                }
                (paging::pager("aeo-pager", "/aeo", &pairs, "page", page, AEO_PER_PAGE, rows.len(), "authorisations"))
            }
        },
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_encoded_for_links() {
        assert_eq!(enc("GB AEOC 14274/19"), "GB%20AEOC%2014274%2F19");
        assert_eq!(enc("LRN-2026-000123"), "LRN-2026-000123");
    }

    #[test]
    fn times_are_rendered_in_utc() {
        assert!(fmt_ms(0).into_string().ends_with(">1970-01-01 00:00:00 UTC</time>"));
        assert!(fmt_ms(1_772_443_800_000).into_string().ends_with(">2026-03-02 09:30:00 UTC</time>"));
    }
}
