//! `GET /search?q=TEXT`: the console's search (the box in every page's header leads here),
//! results grouped by record type, each linking to the record as a document.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::console::ConsoleLedger;
use super::search::{self, SearchIndex};
use super::search_api::{DEFAULT_LIMIT, SearchReply, reply};
use super::{enc, paging};
use crate::access::reads::{Purposed, Reads};
use crate::capability::Service;
use crate::console::layout;
use crate::principal::{ReadLedger, Require};

/// The query of the search page.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct PageQuery {
    q: Option<String>,
    page: Option<String>,
}

/// How a group of records is headed.
fn plural(record_type: &str) -> &'static str {
    match record_type {
        "declaration" => "Declarations",
        "aeo-authorization" => "AEO authorisations",
        "transport-movement" => "Transport movements",
        "inspection-result" => "Inspection results",
        "aeo-consent" => "AEO consents",
        _ => "Other records",
    }
}

/// `GET /search`.
pub(super) async fn page(
    who: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    Service(reads): Service<Reads>,
    Service(index): Service<SearchIndex>,
    purpose: Result<Purposed, crate::error::ApiError>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let pq = query.map(|Query(q)| q).unwrap_or_default();
    let q = pq.q.unwrap_or_default();
    let page = paging::page_of(pq.page.as_deref()).min(super::search_api::MAX_PAGE as usize);
    let mut status = StatusCode::OK;
    let outcome: Option<Result<SearchReply, String>> = if q.trim().is_empty() {
        None
    } else if let Err(e) = search::check_query(&q) {
        status = StatusCode::BAD_REQUEST;
        Some(Err(e.to_string()))
    } else {
        let declared = purpose.and_then(|p| Reads::required(p, "searching records"));
        match declared {
            Err(e) => Some(Err(format!("{e} Change the purpose of your reads at the foot of the page."))),
            Ok(declared) => {
                let text = q.clone();
                let principal = who.principal.clone();
                let found = tokio::task::spawn_blocking(move || {
                    search::find(
                        &l,
                        &index,
                        &reads,
                        &principal,
                        declared,
                        "GET /search",
                        &text,
                        page,
                        DEFAULT_LIMIT as usize,
                    )
                })
                .await;
                Some(match found {
                    Ok(Ok(f)) => Ok(reply(&q, declared.name(), page as u32, DEFAULT_LIMIT, f)),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                })
            }
        }
    };
    layout(
        if q.trim().is_empty() { "Search".to_owned() } else { format!("Search: {q}") }.as_str(),
        super::LEDGER,
        html! {
            section.panel {
                h1 { "Search" }
                form #search-form role="search" method="get" action="/search" {
                    div.filters {
                        label { "Declaration number, trader id, HS code, container, seal or record id "
                            input #search-q type="search" name="q" value=(q) maxlength="200" required;
                        }
                    }
                    button type="submit" { "Search" }
                }
                p.hint { "Case, spaces and dots do not matter, and every value starting with what you type matches: "
                    code { "8471" } " finds every laptop's HS code, " code { "MSKU" } " every container of that owner." }
            }
            @match &outcome {
                None => {}
                Some(Err(e)) => { section.panel { p.error #search-error role="alert" { (e) } } }
                Some(Ok(r)) if r.total == 0 => {
                    section.panel { p.none #search-empty { "No record matches “" (q) "” that you may read for " strong { (r.purpose) } "." } }
                }
                Some(Ok(r)) => {
                    section.panel #search-results {
                        p.purpose-note { (r.total) " record" @if r.total != 1 { "s" } " found, read for " strong { (r.purpose) } "; this read is recorded in the audit trail." }
                        @for g in &r.groups {
                            h2.search-group { (plural(&g.record_type)) " " span.badge { (g.count) } }
                            table.data.search-results data-type=(g.record_type) {
                                thead { tr { th { "Record" } th { "Matched" } th { "Version" } th { "Last change by" } th { "Signed at" } } }
                                tbody {
                                    @for hit in &g.results {
                                        tr {
                                            td {
                                                a.search-hit href={"/ledger/records/" (enc(&hit.record_id))} {
                                                    (hit.title.as_deref().unwrap_or(&hit.record_id))
                                                }
                                                @if hit.title.is_some() { br; code.hint { (hit.record_id) } }
                                                @if hit.private { " " span.badge { "private" } }
                                            }
                                            td {
                                                @for m in &hit.matched { span.matched { (m.label) ": " mark { (m.value) } } br; }
                                            }
                                            td { (hit.version) }
                                            td { (hit.submitter) }
                                            td { (hit.signed_at.replace('T', " ").replace('Z', " UTC")) }
                                        }
                                    }
                                }
                            }
                        }
                        (paging::pager("search-pager", "/search", &[("q", q.clone()), ("page", page.to_string())], "page", page, DEFAULT_LIMIT as usize, r.total, "records"))
                    }
                }
            }
        },
    )
    .with_status(status)
    .into_response()
}
