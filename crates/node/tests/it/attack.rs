//! Attacks a member of the consortium could mount on another's risk assessment, through the
//! real HTTP API of a ledger node (GB customs' node; an AEO and NL customs as the other members).

use serde_json::{Value, json};

use crate::ledger::{start, start_configured};
use crate::samples;
use crate::test_node::client;

/// Criteria that send goods routed through a third country to the red lane.
const ROUTE_RED: &str = r#"{"criteria": [{"id": "ROUTE", "name": "Transhipment", "lane": "RED",
  "condition": {"kind": "route_differs"}}]}"#;

/// GB customs' node with the ROUTE_RED criteria in force.
async fn with_route_red() -> crate::ledger::LedgerNode {
    let n = start().await;
    let r = client().put(format!("{}/api/v1/risk/criteria", n.base)).header("cookie", n.cookie()).body(ROUTE_RED);
    assert_eq!(r.send().await.unwrap().status(), 200);
    n
}

fn routed(d: &mut Value) {
    d["Declaration"]["GoodsShipment"]["ExportCountry"]["ID"] = json!("AE");
}

#[tokio::test]
async fn a_trader_cannot_pre_score_a_benign_copy_and_the_committed_content_is_assessed() {
    let n = with_route_red().await;
    let benign = samples::declaration();
    let lrn = benign["Declaration"]["FunctionalReferenceID"].as_str().expect("LRN").to_owned();
    // The trader may not score at all (risk is a customs role)…
    let body = serde_json::to_vec(&benign).unwrap();
    let auth = n.auth(2, "POST", "/api/v1/risk/score", &body);
    let r = client().post(format!("{}/api/v1/risk/score", n.base)).header("authorization", auth).body(body);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 403, "a trader's what-if scoring is refused");
    // …and customs' own what-if of the benign copy stands for nothing.
    let body = serde_json::to_vec(&json!({"declarations": [benign.clone(), benign.clone()]})).unwrap();
    let auth = n.auth(0, "POST", "/api/v1/risk/score", &body);
    let r = client().post(format!("{}/api/v1/risk/score", n.base)).header("authorization", auth).body(body);
    let what_if: Value = r.send().await.unwrap().json().await.unwrap();
    assert_eq!(what_if["assessments"][0]["lane"], "GREEN", "{what_if}");
    assert!(n.queue_of(0).await.is_empty(), "a what-if never enters the queue");
    // The real declaration, routed through AE, is committed under the same LRN: it is red.
    let mut real = benign;
    routed(&mut real);
    let (status, reply) = n.post(&n.put_bytes(2, serde_json::to_vec(&real).unwrap(), &lrn, 1, 1)).await;
    assert_eq!(status, 201, "{reply}");
    let queue = n.queue_of(1).await;
    assert_eq!((&queue[0]["declarationId"], &queue[0]["lane"]), (&json!(lrn), &json!("RED")), "{queue:?}");
}

#[tokio::test]
async fn a_new_version_of_a_committed_declaration_is_assessed_again() {
    let n = with_route_red().await;
    let v1 = samples::declaration();
    let lrn = v1["Declaration"]["FunctionalReferenceID"].as_str().expect("LRN").to_owned();
    let (status, _) = n.post(&n.put_bytes(2, serde_json::to_vec(&v1).unwrap(), &lrn, 1, 1)).await;
    assert_eq!(status, 201);
    assert_eq!(n.queue_of(1).await[0]["lane"], "GREEN");
    let mut v2 = v1;
    routed(&mut v2);
    let (status, reply) = n.post(&n.put_bytes(2, serde_json::to_vec(&v2).unwrap(), &lrn, 2, 2)).await;
    assert_eq!(status, 201, "{reply}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let q = n.queue_of(1).await;
        assert_eq!(q.len(), 1, "one row per declaration");
        if q[0]["version"] == 2 {
            assert_eq!(q[0]["lane"], "RED", "{q:?}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "version 2 was never assessed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn malformed_requests_get_the_standard_error_body() {
    let n = start().await;
    let shape = |body: &Value| {
        assert!(body["code"].is_string() && body["type"].is_string() && body["message"].is_string(), "{body}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(3), "{body}");
    };
    for path in ["/api/v1/blocks/abc", "/api/v1/records?limit=-1"] {
        let (status, body) = n.get_signed(0, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        shape(&body);
    }
    let (status, body) = n.get_signed(0, "/api/v1/records?limit=0").await;
    assert_eq!((status, body["records"].as_array().map(Vec::len)), (200, Some(0)), "limit=0 is no record: {body}");
    let r = client()
        .post(format!("{}/api/v1/risk/overrides", n.base))
        .header("cookie", n.cookie())
        .header("content-type", "application/json")
        .body("{\"declarationId\": 5}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    shape(&r.json().await.unwrap());
    let big = vec![b'x'; borderlink_node::DEFAULT_MAX_BODY_BYTES + 10];
    for path in ["/api/v1/transactions", "/api/v1/blobs"] {
        let method = if path.ends_with("blobs") { reqwest::Method::PUT } else { reqwest::Method::POST };
        let r = client().request(method, format!("{}{path}", n.base)).header("cookie", n.cookie()).body(big.clone());
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 413, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "payload_too_large", "{path}");
        shape(&body);
    }
}

#[tokio::test]
async fn a_member_cannot_fill_the_nodes_disk_with_off_chain_objects() {
    let n = start_configured(|c| c.blob_quota_bytes = 1000).await;
    let put = |signer: usize, byte: u8| {
        let body = vec![byte; 600];
        let auth = n.auth(signer, "PUT", "/api/v1/blobs", &body);
        client().put(format!("{}/api/v1/blobs", n.base)).header("authorization", auth).body(body).send()
    };
    assert_eq!(put(2, 1).await.unwrap().status(), 201);
    let r = put(2, 2).await.unwrap();
    assert_eq!(r.status(), 507);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "blob_quota_exceeded", "{body}");
    // The refused object was not stored; another member has its own quota.
    let missing = borderlink_ledger::Hash::of(&[2u8; 600]).to_hex();
    let (status, _) = n.get_signed(0, &format!("/api/v1/blobs/{missing}")).await;
    assert_eq!(status, 404);
    assert_eq!(put(1, 2).await.unwrap().status(), 201);
}

#[tokio::test]
async fn a_request_with_a_valid_session_and_a_forged_signature_is_refused() {
    let n = start().await;
    let forged = "Borderlink v=2, member=gb-hmrc, node=x, ts=0, nonce=00, sig=AAAA";
    let r = client()
        .get(format!("{}/api/v1/risk/queue", n.base))
        .header("cookie", n.cookie())
        .header("authorization", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a bad credential is refused, whatever else the request carries");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
    // The session alone still opens it.
    let r = client().get(format!("{}/api/v1/risk/queue", n.base)).header("cookie", n.cookie()).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
