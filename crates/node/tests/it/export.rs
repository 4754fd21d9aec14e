//! Pseudonymized exports through the API: a declared purpose, no identifier in clear, and
//! re-identification only by the operator with a reason.

use serde_json::{Value, json};

use crate::ledger::start;
use crate::test_node::client;

#[tokio::test]
async fn an_export_needs_a_purpose_and_a_pseudonym_is_reidentified_only_with_a_reason() {
    let n = start().await;
    assert_eq!(n.post(&n.put(2, "declaration.json", "LRN-EXPORT-1", 1, 1)).await.0, 201);
    let get =
        |q: &'static str| client().get(format!("{}/api/v1/export?{q}", n.base)).header("cookie", n.cookie()).send();
    let r = get("type=declaration").await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "purpose_required", "{body}");
    let r = get("type=declaration&purpose=audit").await.unwrap();
    assert_eq!(r.status(), 403);
    let r = get("type=declaration&purpose=statistics&format=csv").await.unwrap();
    assert_eq!(r.status(), 400);
    let r = get("type=declaration&purpose=statistics&scope=q4").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.apache.parquet");
    let rows = borderlink_analytics::read_parquet(r.bytes().await.unwrap().to_vec()).unwrap();
    assert!(!rows.is_empty());
    let declarant = rows[0][8].clone();
    assert!(declarant.starts_with("ps_"), "{:?}", rows[0]);

    let reid = |body: Value| {
        client().post(format!("{}/api/v1/export/reidentify", n.base)).header("cookie", n.cookie()).json(&body).send()
    };
    let r = reid(json!({"scope": "q4", "pseudonym": declarant, "reason": "why"})).await.unwrap();
    assert_eq!(r.status(), 400, "a reason is required");
    let r = reid(json!({"scope": "q4", "pseudonym": declarant, "reason": "fraud case 2026-114, court order"}))
        .await
        .unwrap();
    let found: Value = r.json().await.unwrap();
    assert_eq!(found, json!({"class": "party", "identifiers": ["GB553202734852"]}));
    let r = reid(json!({"scope": "q4", "pseudonym": "ps_0000", "reason": "fraud case 2026-114, court order"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a pseudonym that does not resolve");
    // A member's signed request (not the operator's console) may not re-identify.
    let body =
        serde_json::to_vec(&json!({"scope": "q4", "pseudonym": declarant, "reason": "fraud case 2026-114"})).unwrap();
    let r = n.post_signed(0, "/api/v1/export/reidentify", body).await;
    assert_eq!(r.status(), 403);
}
