//! Records as people read them in the console: a private record opened for a person of a
//! recipient (and the read audited), versions named by what they changed and compared field by
//! field, consistent empty states, filtered lists with stable URLs.

use serde_json::{Value, json};

use crate::ledger::{LedgerNode, keyed, login_person, start};
use crate::samples::sample_bytes;
use crate::test_node::client;

const PASSWORD: &str = "correct horse battery 9";

fn enc(s: &str) -> String {
    borderlink_ledger::auth::path_segment(s)
}

async fn page(n: &LedgerNode, session: &str, path: &str) -> (u16, String) {
    let r = client()
        .get(format!("{}{path}", n.base))
        .header("cookie", format!("borderlink_session={session}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn officer(n: &LedgerNode, name: &str) -> String {
    assert_eq!(n.add_user(name, &["officer"], PASSWORD, false).await.0, 201);
    login_person(&n.base, name, PASSWORD, None).await.unwrap()
}

#[tokio::test]
async fn a_private_record_is_shown_decrypted_to_an_entitled_person_and_the_read_is_audited() {
    let n = start().await;
    // A private inspection result of GB customs, to GB and NL customs.
    let inspection = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/demo/inspection-result.json")).unwrap();
    let id = n.id_of(0, &inspection);
    let (status, reply) = n.post(&n.private_put(0, inspection, &id, &[0, 1], 1)).await;
    assert_eq!(status, 201, "{reply}");
    let session = officer(&n, "olu.officer").await;
    let (status, html) = page(&n, &session, &format!("/ledger/records/{}", enc(&id))).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"id="private-note""#), "said to be private and opened: {html}");
    assert!(html.contains("DISCREPANCY") && html.contains("Invoice found in the container"), "decrypted: {html}");
    assert!(!html.contains("its SHA-256 on the ledger is"), "more than its digest: {html}");
    assert!(html.contains("Read for <strong>clearance</strong>"), "{html}");
    // The read is in the audit trail: who, for which purpose, through which page.
    let (status, audit) = n.get_signed(0, &format!("/api/v1/audit?record={}", enc(&id))).await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    let read = entries.iter().find(|e| e["actor"] == "olu.officer").unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(
        (&read["purpose"], &read["route"], &read["action"]),
        (&json!("clearance"), &json!("GET /ledger/records/{id}"), &json!("read"))
    );
    assert_eq!(read["records"], json!([id]));
    // Search finds it by the declaration it refers to, for a recipient, and not for the trader.
    crate::search::wait_for(&n, "LRN-2026-000123", 1).await;
    let (status, html) = page(&n, &session, "/search?q=LRN-2026-000123").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Inspection results") && html.contains(r#"<span class="badge">private</span>"#), "{html}");
    let (_, found) = crate::search::search(&n, 2, "LRN-2026-000123", "", "clearance").await;
    assert_eq!(found["total"], 0, "{found}");
    // The trader is not a recipient: its node's API says so, as before.
    let (status, body) = n.get_signed(2, &format!("/api/v1/records/{}/private", enc(&id))).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_recipient")), "{body}");
}

/// An AEO authorisation in two versions: issued ACTIVE, then SUSPENDED.
async fn suspended_authorisation(n: &LedgerNode) -> String {
    let v1 = keyed(&sample_bytes("aeo-authorisation.json"), "GB AEOC 14274/19");
    let id = n.id_of(0, &v1);
    assert_eq!(n.post(&n.put_bytes(0, v1.clone(), &id, 1, 1)).await.0, 201);
    let mut v2: Value = serde_json::from_slice(&v1).unwrap();
    v2["ext"]["status"] = json!("SUSPENDED");
    v2["ext"]["statusChangedAt"] = json!("2026-11-10T00:00:00Z");
    let (status, reply) = n.post(&n.put_bytes(0, serde_json::to_vec(&v2).unwrap(), &id, 2, 2)).await;
    assert_eq!(status, 201, "{reply}");
    id
}

#[tokio::test]
async fn versions_are_named_by_their_change_viewable_and_compared() {
    let n = start().await;
    let id = suspended_authorisation(&n).await;
    let session = officer(&n, "ola.officer").await;
    let record = format!("/ledger/records/{}", enc(&id));
    let (status, html) = page(&n, &session, &record).await;
    assert_eq!(status, 200);
    assert!(html.contains("created") && html.contains("status changed: ACTIVE → SUSPENDED"), "{html}");
    assert!(!html.contains(">put<"), "no transaction kinds in the history: {html}");
    assert!(html.contains(r#"id="record-fields""#) && html.contains("SUSPENDED"), "a readable view: {html}");
    assert!(html.contains(r#"id="record-json""#), "the JSON one click away: {html}");
    // A block names what its transactions did too.
    let (_, html) = page(&n, &session, "/ledger/blocks/2").await;
    assert!(html.contains("<td>updated</td>") && !html.contains("<td>put</td>"), "{html}");
    // The first version, as it was.
    let (status, html) = page(&n, &session, &format!("{record}?version=1")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Version 1 of 2") && html.contains("older version"), "{html}");
    // The diff: the status and its date changed, nothing else.
    let (status, html) = page(&n, &session, &format!("{record}/diff?from=1&to=2")).await;
    assert_eq!(status, 200, "{html}");
    let table = &html[html.find(r#"id="diff""#).unwrap_or_else(|| panic!("{html}"))..];
    assert!(
        table.contains("ext › status") && table.contains("<del>ACTIVE</del>") && table.contains("<ins>SUSPENDED</ins>"),
        "{table}"
    );
    assert_eq!(table.matches("<tr class=").count(), 2, "status and its date: {table}");
    // The same version twice: nothing changed.
    let (_, html) = page(&n, &session, &format!("{record}/diff?from=2&to=2")).await;
    assert!(html.contains("No field changed between version 2 and version 2"), "{html}");
    // Consistent empty states, with 404.
    let (status, html) = page(&n, &session, &format!("{record}?version=7")).await;
    assert_eq!(status, 404);
    assert!(html.contains("No such version"), "{html}");
    let (status, html) = page(&n, &session, "/ledger/records/no-such-record").await;
    assert_eq!(status, 404);
    assert!(html.contains("No such record") && !html.contains("there is no page"), "{html}");
    let (status, _) = page(&n, &session, "/ledger/records/no-such-record/diff?from=1&to=2").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_ledger_and_aeo_lists_filter_and_page_by_stable_urls() {
    let n = start().await;
    suspended_authorisation(&n).await;
    for i in 0..23u64 {
        let tx = n.put(2, "declaration.json", &format!("LRN-LIST-{i:02}"), 1, 10 + i);
        assert_eq!(n.post(&tx).await.0, 201);
    }
    let session = officer(&n, "oli.officer").await;
    let (_, html) = page(&n, &session, "/ledger?type=declaration").await;
    assert!(html.contains("Showing 1–20 of 23 records"), "{html}");
    assert!(html.contains(r#"href="/ledger?type=declaration&amp;page=2""#), "{html}");
    let (_, html) = page(&n, &session, "/ledger?type=declaration&page=2").await;
    assert!(html.contains("Showing 21–23 of 23 records") && html.contains(r#"rel="prev""#), "{html}");
    let (_, html) = page(&n, &session, &format!("/ledger?member={}", n.keys[0].member)).await;
    assert!(html.contains("of 1 records") && html.contains("aeo-authorization"), "{html}");
    let (_, html) = page(&n, &session, "/ledger?type=inspection-result").await;
    assert!(html.contains("No records match these filters."), "{html}");
    let (_, html) = page(&n, &session, "/ledger?from=2031-01-01").await;
    assert!(
        html.contains("No records match these filters.") && html.contains("No blocks match these filters."),
        "{html}"
    );
    let (_, html) = page(&n, &session, "/aeo?status=SUSPENDED&country=GB").await;
    assert!(html.contains("Example Imports Ltd") && html.contains("Showing 1–1 of 1 authorisations"), "{html}");
    let (_, html) = page(&n, &session, "/aeo?status=REVOKED").await;
    assert!(html.contains("No records match these filters."), "{html}");
    // The API's list pages too, and filters by submitter; its first page is as it always was.
    let (status, first) = n.get_signed(0, "/api/v1/records?type=declaration&limit=20").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!((first["records"].as_array().unwrap().len(), first["next_page"].as_u64()), (20, Some(2)));
    let (_, second) = n.get_signed(0, "/api/v1/records?type=declaration&limit=20&page=2").await;
    assert_eq!((second["records"].as_array().unwrap().len(), &second["next_page"]), (3, &Value::Null), "{second}");
    let (_, mine) = n.get_signed(0, &format!("/api/v1/records?submitter={}&limit=5", n.keys[0].member)).await;
    let ids: Vec<&str> =
        mine["records"].as_array().unwrap().iter().map(|r| r["record_type"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["aeo-authorization"], "{mine}");
    assert_eq!(n.get_signed(0, "/api/v1/records?page=0").await.0, 400);
}
