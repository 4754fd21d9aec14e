//! Attacks a member of the consortium could mount on another's risk assessment, through the
//! real HTTP API of a ledger node (GB customs' node; an AEO and NL customs as the other members).

use base64::Engine;
use borderlink_ledger::Transaction;
use borderlink_ledger::tx::{Endorsement, PayloadKind, TxBody, TxKind, WrappedKey};
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
    let real = serde_json::to_vec(&real).unwrap();
    let (status, reply) = n.post(&n.put_bytes(2, real.clone(), &n.id_of(2, &real), 1, 1)).await;
    assert_eq!(status, 201, "{reply}");
    let queue = n.queue_of(1).await;
    assert_eq!((&queue[0]["declarationId"], &queue[0]["lane"]), (&json!(lrn), &json!("RED")), "{queue:?}");
}

#[tokio::test]
async fn a_new_version_of_a_committed_declaration_is_assessed_again() {
    let n = with_route_red().await;
    let v1 = samples::declaration();
    let id = n.id_of(2, &serde_json::to_vec(&v1).unwrap());
    let (status, _) = n.post(&n.put_bytes(2, serde_json::to_vec(&v1).unwrap(), &id, 1, 1)).await;
    assert_eq!(status, 201);
    assert_eq!(n.queue_of(1).await[0]["lane"], "GREEN");
    let mut v2 = v1;
    routed(&mut v2);
    let (status, reply) = n.post(&n.put_bytes(2, serde_json::to_vec(&v2).unwrap(), &id, 2, 2)).await;
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

/// A private declaration built by the GB AEO (member 2) for `recipients`, not yet endorsed.
fn private_declaration(
    n: &crate::ledger::LedgerNode,
    recipients: &[usize],
    lrn: &str,
) -> (TxBody, Vec<u8>, Vec<WrappedKey>) {
    let mut d = samples::declaration();
    d["Declaration"]["FunctionalReferenceID"] = json!(lrn);
    let clear = serde_json::to_vec(&d).unwrap();
    let record = borderlink_model::validate(&clear, &Default::default()).record.unwrap();
    let id = borderlink_ledger::meta::record_id(&record, &n.keys[2].member).unwrap();
    let rcpt: Vec<(String, x25519_dalek::PublicKey)> = recipients
        .iter()
        .map(|&i| (n.keys[i].member.clone(), x25519_dalek::PublicKey::from(&n.keys[i].encryption)))
        .collect();
    let (header, ciphertext, wrapped) = borderlink_ledger::private::seal(&clear, &id, &rcpt).unwrap();
    let body = TxBody {
        chain: n.chain,
        kind: TxKind::Put,
        record_type: "declaration".into(),
        record_id: id,
        version: 1,
        meta: borderlink_ledger::meta::derive(&record),
        payload_kind: PayloadKind::Private,
        payload_digest: borderlink_ledger::Hash::of(&ciphertext),
        payload_len: ciphertext.len() as u64,
        media_type: "application/json".into(),
        private: Some(header),
        submitter: n.keys[2].member.clone(),
        nonce: 77,
        timestamp_ms: 1,
        endorsement: None,
    };
    (body, ciphertext, wrapped)
}

/// Asks the node, as member `signer`, to endorse a private declaration.
async fn endorse(
    n: &crate::ledger::LedgerNode,
    signer: usize,
    body: &TxBody,
    ct: &[u8],
    wk: &[WrappedKey],
) -> (u16, Value) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let req = serde_json::to_vec(&json!({
        "body": b64.encode(body.encode()), "payload": b64.encode(ct), "wrapped_keys": wk,
    }))
    .unwrap();
    let auth = n.auth(signer, "POST", "/api/v1/endorsements", &req);
    let r = client().post(format!("{}/api/v1/endorsements", n.base)).header("authorization", auth).body(req);
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_declaration_cannot_be_hidden_from_customs() {
    let n = start().await;
    // Private to the trader alone: refused, whoever orders it.
    let (body, ct, wk) = private_declaration(&n, &[2], "LRN-HIDDEN-1");
    let (status, reply) = n.post(&Transaction::sign(body, ct, wk, &n.keys[2])).await;
    assert_eq!((status, reply["code"].as_str()), (422, Some("customs_cannot_read")), "{reply}");
    // GB customs among the recipients but the ciphertext random bytes: its node does not endorse,
    // and without the endorsement the ledger refuses the declaration.
    let (mut body, _, wk) = private_declaration(&n, &[0, 2], "LRN-HIDDEN-2");
    let junk: Vec<u8> = (0..body.payload_len).map(|i| (i * 7 % 256) as u8).collect();
    body.payload_digest = borderlink_ledger::Hash::of(&junk);
    let (status, reply) = endorse(&n, 2, &body, &junk, &wk).await;
    assert_eq!((status, reply["code"].as_str()), (422, Some("customs_cannot_read")), "{reply}");
    let (status, reply) = n.post(&Transaction::sign(body, junk, wk, &n.keys[2])).await;
    assert_eq!((status, reply["code"].as_str()), (422, Some("customs_cannot_read")), "{reply}");
    // Only the submitter asks for its endorsement.
    let (body, ct, wk) = private_declaration(&n, &[0, 2], "LRN-PRIVATE-3");
    assert_eq!(endorse(&n, 1, &body, &ct, &wk).await.0, 403);
    // The genuine private declaration: endorsed, committed, and assessed by GB customs.
    let (status, reply) = endorse(&n, 2, &body, &ct, &wk).await;
    assert_eq!(status, 200, "{reply}");
    let sig = base64::engine::general_purpose::STANDARD.decode(reply["signature"].as_str().unwrap()).unwrap();
    let mut body = body;
    body.endorsement =
        Some(Endorsement { member: reply["member"].as_str().unwrap().into(), signature: sig.try_into().unwrap() });
    let id = body.record_id.clone();
    let (status, reply) = n.post(&Transaction::sign(body, ct, wk, &n.keys[2])).await;
    assert_eq!(status, 201, "{reply}");
    let queue = n.queue_of(1).await;
    assert_eq!(queue[0]["declarationId"], "LRN-PRIVATE-3", "customs scores the private declaration: {queue:?}");
    let (status, clear) =
        n.get_signed(0, &format!("/api/v1/records/{}/private", borderlink_ledger::auth::path_segment(&id))).await;
    assert_eq!((status, &clear["Declaration"]["FunctionalReferenceID"]), (200, &json!("LRN-PRIVATE-3")));
    // The trader cannot erase it: that is for customs' retention policy.
    let erase = borderlink_ledger::erase_body(n.chain, "declaration", &id, 1, &n.keys[2].member, 78, 1);
    let (status, reply) = n.post(&Transaction::sign(erase, vec![], vec![], &n.keys[2])).await;
    assert_eq!((status, reply["code"].as_str()), (403, Some("policy_denied")), "{reply}");
}

#[tokio::test]
async fn an_id_cannot_be_squatted() {
    let n = start().await;
    // The AEO takes the id of an authorisation GB customs has yet to issue, with a declaration.
    let decl = serde_json::to_vec(&samples::declaration()).unwrap();
    let squat = "aeo-authorization:GB:GB AEOC 14274/19";
    let (status, reply) = n.post(&n.put_bytes(2, decl.clone(), squat, 1, 90)).await;
    assert_eq!((status, reply["code"].as_str()), (422, Some("wrong_record_id")), "{reply}");
    // One LRN under an id of the trader's choice.
    let (status, _) = n.post(&n.put_bytes(2, decl.clone(), "LRN-2026-000123", 1, 91)).await;
    assert_eq!(status, 422);
    // GB customs issues its authorisation under that id.
    let (status, reply) = n.post(&n.put(0, "aeo-authorisation.json", "GB AEOC 14274/19", 1, 92)).await;
    assert_eq!(status, 201, "{reply}");
    let (status, rec) = n.get_signed(0, "/api/v1/records/aeo-authorization%3AGB%3AGB%20AEOC%2014274%2F19").await;
    assert_eq!((status, rec["record_type"].as_str()), (200, Some("aeo-authorization")), "{rec}");
}
