//! Signed requests (version 2) cannot be replayed: not twice at one node, not at another node,
//! not a minute later. Each refusal is the standard 401 error body.

use borderlink_ledger::auth::{Target, authorization};
use serde_json::Value;

use crate::ledger::{start, start_two};
use crate::test_node::client;

async fn get(base: &str, path: &str, auth: &str) -> (u16, Value) {
    let r = client().get(format!("{base}{path}")).header("authorization", auth).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A 401 with the standard body (`code`, `type`, `message` and nothing else) whose message
/// contains `says`.
fn assert_refused((status, body): &(u16, Value), says: &str) {
    assert_eq!(*status, 401, "{body}");
    assert_eq!(body["code"], "unauthenticated", "{body}");
    assert!(body["type"].is_string(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(3), "only code, type and message: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message:?} does not say {says:?}");
}

#[tokio::test]
async fn a_replayed_signed_request_is_refused() {
    let n = start().await;
    let auth = n.auth(1, "GET", "/api/v1/network", b"");
    assert_eq!(get(&n.base, "/api/v1/network", &auth).await.0, 200);
    let again = get(&n.base, "/api/v1/network", &auth).await;
    assert_refused(&again, "already received");
    // A new signature (a new nonce) for the same request is a new request.
    assert_eq!(get(&n.base, "/api/v1/network", &n.auth(1, "GET", "/api/v1/network", b"")).await.0, 200);
}

#[tokio::test]
async fn a_request_signed_for_one_node_is_refused_by_another() {
    let (gb, nl) = start_two(|_| {}).await;
    assert_ne!(gb.member(), nl.member());
    // Captured at GB customs' node, where it was accepted, and sent on to NL customs' node.
    let auth = gb.auth(2, "GET", "/api/v1/network", b"");
    assert_eq!(get(&gb.base, "/api/v1/network", &auth).await.0, 200);
    let elsewhere = get(&nl.base, "/api/v1/network", &auth).await;
    assert_refused(&elsewhere, &format!("signed for node {}, not this node ({})", gb.member(), nl.member()));
    // Signed for NL's node, the same member's request is accepted there.
    assert_eq!(get(&nl.base, "/api/v1/network", &nl.auth(2, "GET", "/api/v1/network", b"")).await.0, 200);
}

#[tokio::test]
async fn a_request_signed_a_minute_ago_is_refused() {
    let n = start().await;
    let now = borderlink_node::ordering::now_ms();
    let target = Target::new(n.member(), "GET", "/api/v1/network", b"");
    let stale = get(&n.base, "/api/v1/network", &authorization(&n.keys[1], &target, now - 60_000)).await;
    assert_refused(&stale, "more than 30 s away from the node's clock");
    let ahead = get(&n.base, "/api/v1/network", &authorization(&n.keys[1], &target, now + 60_000)).await;
    assert_refused(&ahead, "more than 30 s away");
    let fresh = get(&n.base, "/api/v1/network", &authorization(&n.keys[1], &target, now - 5_000)).await;
    assert_eq!(fresh.0, 200, "{}", fresh.1);
}

#[tokio::test]
async fn version_1_signed_requests_are_refused() {
    let n = start().await;
    // A version 1 header (no version, node nor nonce): refused for its version, whatever its
    // signature.
    let ts = borderlink_node::ordering::now_ms();
    let v1 = format!("Borderlink member={}, ts={ts}, sig={}", n.keys[1].member, "A".repeat(88));
    assert_refused(&get(&n.base, "/api/v1/network", &v1).await, "accepts version 2 only");
}

#[tokio::test]
async fn a_client_learns_the_nodes_member_id_from_a_public_route() {
    let (gb, nl) = start_two(|_| {}).await;
    for n in [&gb, &nl] {
        let r = client().get(format!("{}/api/v1/node", n.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let who: Value = r.json().await.unwrap();
        assert_eq!(who["member"], n.member());
        assert_eq!(who["chain_id"], n.chain.to_hex());
        assert_eq!(who["consortium"], "Test");
    }
}
