//! Retention through the API: the review lists what outlived the consortium's periods, and the
//! customs administration's node crypto-shreds its expired private records.

use serde_json::{Value, json};

use crate::ledger::{LedgerNode, serve_node, test_consortium};
use crate::test_node::client;

/// GB customs' node of a consortium that keeps inspection results 0 days (they expire when
/// committed) and declarations the default 1,096.
async fn start_short_retention() -> LedgerNode {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, config) = test_consortium(dir.path());
    let mut genesis = created.genesis.clone();
    genesis.retention_days.insert("inspection-result".into(), 0);
    std::fs::write(&created.genesis_path, serde_json::to_vec_pretty(&genesis).unwrap()).unwrap();
    serve_node(config, keys, genesis.chain_id(), dir).await
}

async fn get(n: &LedgerNode, path: &str) -> (u16, Value) {
    let r = client().get(format!("{}{path}", n.base)).header("cookie", n.cookie()).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn expired_private_records_are_listed_and_crypto_shredded_by_customs() {
    let n = start_short_retention().await;
    // A private inspection result of GB customs (to GB and NL customs), and a clear declaration.
    let inspection = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/demo/inspection-result.json")).unwrap();
    let id = n.id_of(0, &inspection);
    let tx = n.private_put(0, inspection, &id, &[0, 1], 1);
    let (status, reply) = n.post(&tx).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(n.post(&n.put(2, "declaration.json", "LRN-KEPT", 1, 2)).await.0, 201);

    // Only members' administrators see the review; the trader does not.
    let auth = n.auth(2, "GET", "/api/v1/retention", b"");
    let r = client().get(format!("{}/api/v1/retention", n.base)).header("authorization", auth).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let (status, review) = get(&n, "/api/v1/retention").await;
    assert_eq!(status, 200, "{review}");
    assert_eq!(review["retention_days"]["declaration"], 1096);
    let expired = review["expired"].as_array().unwrap();
    assert_eq!(expired.len(), 1, "{review}");
    assert_eq!((&expired[0]["record_id"], &expired[0]["private"]), (&json!(id), &json!(true)));
    // Four years on, the declaration is due too: a clear record, listed but not erasable.
    let (_, later) = get(&n, "/api/v1/retention?at=2031-01-01").await;
    assert_eq!(later["expired"].as_array().unwrap().len(), 2, "{later}");
    assert_eq!(get(&n, "/api/v1/retention?at=yesterday").await.0, 400);

    let r = client().post(format!("{}/api/v1/retention/apply", n.base)).header("cookie", n.cookie());
    let applied: Value = r.send().await.unwrap().json().await.unwrap();
    assert_eq!(applied["erased"], json!([id]), "{applied}");
    let path = format!("/api/v1/records/{}/private", borderlink_ledger::auth::path_segment(&id));
    let (status, body) = n.get_signed(0, &path).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("erased_record")), "{body}");
    let (_, review) = get(&n, "/api/v1/retention").await;
    assert!(review["expired"].as_array().unwrap().is_empty(), "{review}");
    // The audit trail keeps the fact of the erasure.
    let (status, audit) = get(&n, "/api/v1/audit?action=erase").await;
    assert_eq!(status, 200, "{audit}");
    let erased = audit["entries"].as_array().unwrap();
    assert_eq!(erased.len(), 1, "{audit}");
    assert_eq!(erased[0]["records"], json!([id]));
    assert!(erased[0]["detail"].as_str().unwrap().contains("crypto-shredded"), "{audit}");
}
