//! Console pages of the ledger: the explorer (blocks, transactions, a record's history — who
//! changed what and when) and the AEO status page (every AEO authorisation and its current
//! status, as CADENA shares it), behind the operator's console session.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use borderlink_ledger::tx::PayloadKind;
use borderlink_ledger::{Ledger, RecordVersion};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Page, Section, layout};
use crate::server::SharedState;
use crate::session;

/// The ledger, when the browser holds the console session; otherwise the response to send.
pub(super) fn guard(state: &SharedState, headers: &HeaderMap) -> Result<Arc<Ledger>, Box<Response>> {
    let Some(svc) = state.ledger.as_ref() else {
        return Err(Box::new(layout(
            "No ledger",
            Section::Other,
            html! { section.panel { h1 { "No ledger" } p { "This node runs without a ledger (validation only)." } } },
        )
        .with_status(StatusCode::NOT_FOUND)
        .into_response()));
    };
    let ok = match (session::token(headers), state.console_token.as_deref()) {
        (Some(t), Some(expected)) => session::same(&t, expected),
        _ => false,
    };
    if ok { Ok(Arc::clone(svc.ledger())) } else { Err(Box::new(Redirect::to("/login").into_response())) }
}

/// Milliseconds since the epoch as `YYYY-MM-DD hh:mm:ss UTC`.
pub(crate) fn fmt_ms(ms: i64) -> String {
    borderlink_model::datetime::format_unix_ms(ms).replace('T', " ").replace('Z', " UTC")
}

/// Percent-encodes a record id for a URL path segment (ids may hold spaces and slashes).
pub(crate) fn enc(id: &str) -> String {
    borderlink_ledger::auth::path_segment(id)
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub(super) struct LoginQuery {
    token: Option<String>,
}

/// `GET /login`: the token form, or (with `?token=`) the login itself.
pub(super) async fn login_page(State(state): State<SharedState>, Query(q): Query<LoginQuery>) -> Response {
    match q.token {
        Some(t) => login(&state, &t),
        None => login_form(None).into_response(),
    }
}

/// The login form's body.
#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    token: String,
}

/// `POST /login`.
pub(super) async fn login_submit(State(state): State<SharedState>, Form(f): Form<LoginForm>) -> Response {
    login(&state, &f.token)
}

fn login(state: &SharedState, token: &str) -> Response {
    match state.console_token.as_deref() {
        Some(expected) if session::same(token.trim(), expected) => {
            let mut r = Redirect::to("/ledger").into_response();
            let cookie = format!("{}={}; HttpOnly; SameSite=Strict; Path=/", session::COOKIE, token.trim());
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Some(_) => login_form(Some("That console token is not this node's."))
            .with_status(StatusCode::UNAUTHORIZED)
            .into_response(),
        None => login_form(Some("This node runs without a ledger: there is nothing to log in to."))
            .with_status(StatusCode::NOT_FOUND)
            .into_response(),
    }
}

fn login_form(error: Option<&str>) -> Page {
    layout(
        "Log in",
        Section::Other,
        html! {
            section.panel {
                h1 { "Open the ledger console" }
                p.lead { "The ledger holds shared border data: the console opens with this node's console token, printed when the node starts and kept in its data folder (" code { "console.token" } ")." }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form method="post" action="/login" {
                    label for="token" { "Console token" }
                    input #token type="password" name="token" autocomplete="off" required;
                    button type="submit" { "Open" }
                }
            }
        },
    )
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
pub(super) async fn explorer(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let l = match guard(&state, &headers) {
        Ok(l) => l,
        Err(r) => return *r,
    };
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
        let records = l.list(None, 25).unwrap_or_default();
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
    let Ok((consortium, chain, local, head, blocks, records, members)) = data else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the ledger could not be read").into_response();
    };
    layout(
        "Ledger",
        Section::Ledger,
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
                            tr { td { code { (m.id) } } td { (m.name) } td { (m.role.name()) } td { (m.country) } td { (format!("{:?}", m.status).to_lowercase()) } }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// `GET /ledger/blocks/{height}`.
pub(super) async fn block(State(state): State<SharedState>, headers: HeaderMap, Path(height): Path<u64>) -> Response {
    let l = match guard(&state, &headers) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let view = match crate::api::ledger::block_view(&l, height) {
        Ok(v) => v,
        Err(_) => return super::not_found(&format!("/ledger/blocks/{height}")).into_response(),
    };
    let v = serde_json::to_value(&view).unwrap_or_default();
    let h = &v["header"];
    layout(
        &format!("Block {height}"),
        Section::Ledger,
        html! {
            section.panel {
                h1 { "Block " (height) }
                dl.facts #block-facts {
                    dt { "Hash" } dd { code { (v["hash"].as_str().unwrap_or_default()) } }
                    dt { "Previous hash" } dd { code { (h["prev_hash"].as_str().unwrap_or_default()) } }
                    dt { "Transaction root" } dd { code { (h["tx_root"].as_str().unwrap_or_default()) } }
                    dt { "Cut at" } dd { (fmt_ms(h["timestamp_ms"].as_i64().unwrap_or_default())) }
                    dt { "Proposer" } dd { (h["proposer"].as_str().unwrap_or_default()) }
                    dt { "Checkpoints" } dd {
                        @for c in v["checkpoints"].as_array().into_iter().flatten() { span.badge { (c["member"].as_str().unwrap_or_default()) } " " }
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
                        @for (i, t) in v["transactions"].as_array().into_iter().flatten().enumerate() {
                            tr {
                                td { (i) }
                                td { a href={"/ledger/records/" (enc(t["record_id"].as_str().unwrap_or_default()))} { (t["record_id"].as_str().unwrap_or_default()) } }
                                td { (t["record_type"].as_str().unwrap_or_default()) }
                                td { (t["version"]) }
                                td { (t["kind"].as_str().unwrap_or_default()) }
                                td { (t["submitter"].as_str().unwrap_or_default()) }
                                td {
                                    @if t["outcome"]["status"] == "valid" { span.badge.ok { "valid" } }
                                    @else { span.badge.bad { "invalid: " (t["outcome"]["code"].as_str().unwrap_or_default()) } " " (t["outcome"]["reason"].as_str().unwrap_or_default()) }
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

/// `GET /ledger/records/{id}`: a record's history.
pub(super) async fn record(State(state): State<SharedState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let l = match guard(&state, &headers) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let id2 = id.clone();
    let versions = match tokio::task::spawn_blocking(move || l.history(&id2)).await {
        Ok(Ok(v)) if !v.is_empty() => v,
        _ => return super::not_found(&format!("/ledger/records/{id}")).into_response(),
    };
    let current = versions.iter().rev().find(|v| v.payload.is_some() || v.payload_kind == PayloadKind::Private);
    layout(
        &format!("Record {id}"),
        Section::Ledger,
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
                    @if let Some(p) = &c.payload {
                        pre.record #record-json { (serde_json::to_string_pretty(p).unwrap_or_default()) }
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
pub(super) async fn aeo(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let l = match guard(&state, &headers) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let records = tokio::task::spawn_blocking(move || l.list(Some("aeo-authorization"), 1000))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    layout(
        "AEO status",
        Section::Aeo,
        html! {
            section.panel {
                h1 { "AEO status" }
                p.lead { "Every AEO authorisation on the ledger with its current status, as the issuing administrations recorded it — shared in real time instead of a monthly exchange of lists." }
                @if records.is_empty() { p { "No AEO authorisation yet." } } @else {
                    table.data #aeo {
                        thead { tr { th { "Authorisation" } th { "Holder" } th { "Trader id" } th { "Category" } th { "Issued by" } th { "Status" } th { "Since" } th { "Valid until" } th { "MRA programmes" } th { "Version" } } }
                        tbody {
                            @for r in &records {
                                @let p = r.payload.clone().unwrap_or_default();
                                @let e = &p["ext"];
                                @let status = e["status"].as_str().unwrap_or("private");
                                tr {
                                    td { a href={"/ledger/records/" (enc(&r.record_id))} { (r.record_id) } }
                                    td { (e["holder"]["Name"].as_str().unwrap_or("—")) }
                                    td { (p["AuthorisationHolder"]["ID"].as_str().unwrap_or("—")) }
                                    td { (p["AuthorisationHolder"]["CategoryCode"].as_str().unwrap_or("—")) }
                                    td { (e["issuingAuthority"]["name"].as_str().unwrap_or("—")) " (" (e["issuingAuthority"]["countryCode"].as_str().unwrap_or("")) ")" }
                                    td { span class={"badge status-" (status.to_lowercase())} { (status) } }
                                    td { (e["statusChangedAt"].as_str().unwrap_or("—")) }
                                    td { (e["validUntil"].as_str().unwrap_or("no end date")) }
                                    td { (e["mraPartnerProgrammes"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
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
        assert_eq!(fmt_ms(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(fmt_ms(1_772_443_800_000), "2026-03-02 09:30:00 UTC");
    }
}
