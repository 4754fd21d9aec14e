//! Console pages of the ledger: the explorer (blocks, transactions, a record's history — who
//! changed what and when) and the AEO status page (every AEO authorisation and its current
//! status, as CADENA shares it), behind the operator's console session.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use borderlink_ledger::block::TxOutcome;
use borderlink_ledger::tx::PayloadKind;
use borderlink_ledger::{Ledger, RecordVersion};
use borderlink_model::{AeoAuthorizationRecord, RecordType};
use maud::{Markup, html};

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

fn short(h: &str) -> &str {
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

/// `GET /ledger`: the explorer's front page.
pub(super) async fn explorer(_: Require<ReadLedger>, ConsoleLedger(l): ConsoleLedger) -> Response {
    let data = tokio::task::spawn_blocking(move || {
        let head = l.head();
        let mut blocks = Vec::new();
        if let Some(h) = &head {
            let from = h.height.saturating_sub(19).max(1);
            for height in (from..=h.height).rev() {
                if let Ok(Some(b)) = l.block(height) {
                    let invalid = b.results.iter().filter(|r| !r.is_valid()).count();
                    blocks.push((b.header.clone(), b.header.hash().to_hex(), invalid));
                }
            }
        }
        let records = l.list(None, 25);
        (
            l.genesis().consortium.clone(),
            l.chain_id().to_hex(),
            l.local_member().map(str::to_owned),
            head,
            blocks,
            records,
            l.members(),
        )
    })
    .await;
    let (consortium, chain, local, head, blocks, records, members) = match data {
        Ok((c, ch, lo, h, b, Ok(records), m)) => (c, ch, lo, h, b, records, m),
        Ok((.., Err(e), _)) => return read_failed(&e.to_string()),
        Err(e) => return read_failed(&e.to_string()),
    };
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
            }
            section.panel {
                h2 { "Latest blocks" }
                @if blocks.is_empty() { p { "No block yet." } } @else {
                    table.data #blocks {
                        thead { tr { th { "Height" } th { "Hash" } th { "Cut at" } th { "Transactions" } th { "Invalid" } th { "Proposer" } } }
                        tbody {
                            @for (h, hash, invalid) in &blocks {
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
            }
            section.panel {
                h2 { "Latest records" }
                (records_table(&records))
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
                                td { (kind_name(t.kind)) }
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

/// How a transaction kind is named (as in the API).
fn kind_name(k: borderlink_ledger::tx::TxKind) -> &'static str {
    use borderlink_ledger::tx::TxKind;
    match k {
        TxKind::Put => "put",
        TxKind::Erase => "erase",
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
fn read_failed(detail: &str) -> Response {
    tracing::error!(error = %detail, "the console could not read the ledger");
    crate::console::message_page("The ledger could not be read", detail)
        .with_status(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

/// `GET /ledger/records/{id}`: a record's history.
pub(super) async fn record(
    who: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    Service(reads): Service<Reads>,
    purpose: Result<Purposed, crate::error::ApiError>,
    Path(id): Path<String>,
) -> Response {
    let id2 = id.clone();
    let versions = match tokio::task::spawn_blocking(move || l.history(&id2)).await {
        Ok(Ok(v)) if !v.is_empty() => v,
        _ => {
            return crate::console::message_page("No such record", &format!("There is no record {id} on this ledger."))
                .with_status(StatusCode::NOT_FOUND)
                .into_response();
        }
    };
    let current = versions.iter().rev().find(|v| v.payload.is_some() || v.payload_kind == PayloadKind::Private);
    // The content is read for the session's declared purpose, under the read policy, audited.
    let content = match (current, purpose) {
        (Some(c), Ok(p)) if c.payload.is_some() => {
            Some(reads.shape(&who.principal, p, "GET /ledger/records/{id}", c.clone()).map(|s| (s.json, s.withheld)))
        }
        (Some(_), Err(e)) => Some(Err(e)),
        _ => None,
    };
    layout(
        &format!("Record {id}"),
        super::LEDGER,
        html! {
            section.panel {
                h1 { "Record " (id) }
                p { a href={"/api/v1/proofs/" (enc(&id))} download={(id) ".proof.json"} { "Download an offline-verifiable proof" } " (check it with " code { "borderlink verify FILE --genesis genesis.json" } ")" }
                h2 { "History" }
                table.data #history {
                    thead { tr { th { "Version" } th { "Change" } th { "By" } th { "Signed at" } th { "Block" } th { "Transaction" } th { "Carried" } } }
                    tbody {
                        @for v in &versions {
                            tr {
                                td { (v.version) }
                                td { (format!("{:?}", v.kind).to_lowercase()) }
                                td { (v.submitter) }
                                td { (fmt_ms(v.timestamp_ms)) }
                                td { a href={"/ledger/blocks/" (v.height)} { (v.height) } }
                                td { code { (short(&v.tx_id.to_hex())) } }
                                td {
                                    @match v.payload_kind {
                                        PayloadKind::Clear => "in clear",
                                        PayloadKind::Private => { "private to " (v.recipients.join(", ")) },
                                        PayloadKind::OffChain => "off-chain (hash on the ledger)",
                                        PayloadKind::Empty => "—",
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(c) = current {
                section.panel {
                    h2 { "Version " (c.version) }
                    @if let Some(shown) = &content {
                        @match shown {
                            Ok((json, withheld)) => {
                                p.purpose-note { "Read for " strong { (json.get("purpose").and_then(|p| p.as_str()).unwrap_or("")) } "; this read is recorded in the audit trail." }
                                @if !withheld.is_empty() {
                                    p.withheld #withheld { "Withheld for this purpose: " (withheld.join(", ")) }
                                }
                                pre.record #record-json { (serde_json::to_string_pretty(json.get("payload").unwrap_or(&serde_json::Value::Null)).unwrap_or_default()) }
                            }
                            Err(e) => { p.error #record-refused role="alert" { (e.to_string()) " Change the purpose of your reads at the foot of the page." } }
                        }
                    } @else {
                        p { "This record is private to " (c.recipients.join(", ")) "; its SHA-256 on the ledger is " code { (c.payload_digest.to_hex()) } "." }
                    }
                }
            }
        },
    )
    .into_response()
}

/// `GET /aeo`: every AEO authorisation and its current status.
pub(super) async fn aeo(
    who: Require<ReadLedger>,
    ConsoleLedger(l): ConsoleLedger,
    Service(reads): Service<Reads>,
    purpose: Result<Purposed, crate::error::ApiError>,
) -> Response {
    let purpose = match purpose {
        Ok(p) => p,
        Err(e) => return read_failed(&e.to_string()),
    };
    let principal = who.principal.clone();
    let shaped = tokio::task::spawn_blocking(move || {
        let versions = l.list(Some(RecordType::AeoAuthorization.name()), 1000)?;
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
    let rows: Vec<(&RecordVersion, Option<Result<AeoAuthorizationRecord, String>>)> = records
        .iter()
        .map(|r| (r, r.payload.as_ref().map(|p| serde_json::from_value(p.clone()).map_err(|e| e.to_string()))))
        .collect();
    layout(
        "AEO status",
        super::AEO,
        html! {
            section.panel {
                h1 { "AEO status" }
                p.lead { "Every AEO authorisation on the ledger with its current status, as the issuing administrations recorded it — shared in real time instead of a monthly exchange of lists." }
                @if records.is_empty() { p { "No AEO authorisation yet." } } @else {
                    table.data #aeo {
                        thead { tr { th { "Authorisation" } th { "Holder" } th { "Trader id" } th { "Category" } th { "Issued by" } th { "Status" } th { "Since" } th { "Valid until" } th { "MRA programmes" } th { "Version" } } }
                        tbody {
                            @for (r, aeo) in &rows {
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
