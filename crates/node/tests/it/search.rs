//! `GET /api/v1/search`: records found by declaration number, trader id, HS code prefix,
//! container, seal and record id, grouped by type and paged; only what the read policy lets the
//! caller read for the declared purpose, audited; bad queries refused with 400, anonymous
//! callers with 401.

use serde_json::Value;

use crate::ledger::{LedgerNode, keyed, start};
use crate::samples::sample_bytes;
use crate::test_node::client;

const GB: usize = 0;
const AEO: usize = 2;

fn enc(s: &str) -> String {
    borderlink_ledger::auth::path_segment(s)
}

/// GB customs' node with: a declaration of the AEO (the sample: LRN-SEARCH-1, HS 8471…,
/// container MSKU1234565, seal CN7788990), one of another declarant lodged by GB customs
/// (LRN-SEARCH-2, HS 6109…, container CSQU3054383, seal SEAL-XYZ-9) and the AEO's
/// authorisation. Returns the node and the two declarations' ids.
pub(crate) async fn node_with_records() -> (LedgerNode, String, String) {
    let n = start().await;
    let own = n.put(AEO, "declaration.json", "LRN-SEARCH-1", 1, 1);
    let own_id = own.body.record_id.clone();
    assert_eq!(n.post(&own).await.0, 201);
    let mut d: Value = serde_json::from_slice(&keyed(&sample_bytes("declaration.json"), "LRN-SEARCH-2")).unwrap();
    let text = d.to_string().replace("GB553202734852", "GB123456789000");
    d = serde_json::from_str(&text).unwrap();
    let shipment = &mut d["Declaration"]["GoodsShipment"];
    shipment["GovernmentAgencyGoodsItem"][0]["Commodity"]["Classification"][0]["ID"] = "61091000".into();
    shipment["GovernmentAgencyGoodsItem"][1]["Commodity"]["Classification"][0]["ID"] = "61091000".into();
    shipment["Consignment"]["TransportEquipment"][0]["ID"] = "CSQU3054383".into();
    shipment["Consignment"]["TransportEquipment"][0]["Seal"][0]["ID"] = "SEAL-XYZ-9".into();
    let other = serde_json::to_vec(&d).unwrap();
    let other_id = n.id_of(GB, &other);
    let (status, reply) = n.post(&n.put_bytes(GB, other, &other_id, 1, 2)).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(n.post(&n.put(GB, "aeo-authorisation.json", "GB AEOC 14274/19", 1, 3)).await.0, 201);
    // The index follows commits: wait until the last record is in it.
    wait_for(&n, "GB AEOC 14274/19", 1).await;
    (n, own_id, other_id)
}

/// `GET /api/v1/search?q=…&rest` signed by member `signer`, for `purpose` (none when empty).
pub(crate) async fn search(n: &LedgerNode, signer: usize, q: &str, rest: &str, purpose: &str) -> (u16, Value) {
    let path = format!("/api/v1/search?q={}{rest}", enc(q));
    let auth = n.auth(signer, "GET", &path, b"");
    let mut r = client().get(format!("{}{path}", n.base)).header("authorization", auth);
    if !purpose.is_empty() {
        r = r.header("borderlink-purpose", purpose);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Polls a search by GB customs for clearance until it finds `n` records.
pub(crate) async fn wait_for(node: &LedgerNode, q: &str, n: u64) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = search(node, GB, q, "", "clearance").await;
        assert_eq!(status, 200, "{body}");
        if body["total"].as_u64() >= Some(n) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "the search for {q} never found {n}: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The record ids found, in the order answered.
fn ids(body: &Value) -> Vec<String> {
    body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["results"].as_array().unwrap().iter().map(|r| r["record_id"].as_str().unwrap().to_owned()))
        .collect()
}

fn fields(body: &Value) -> Vec<String> {
    body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["results"].as_array().unwrap().iter())
        .flat_map(|r| r["matched"].as_array().unwrap().iter().map(|m| m["field"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn search_finds_by_lrn_trader_hs_prefix_container_seal_and_record_id() {
    let (n, own, other) = node_with_records().await;
    let (status, body) = search(&n, GB, "LRN-SEARCH-1", "", "clearance").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((ids(&body), fields(&body)), (vec![own.clone()], vec!["lrn".to_owned()]), "{body}");
    assert_eq!(body["groups"][0]["record_type"], "declaration");
    assert_eq!(body["groups"][0]["results"][0]["title"], "LRN-SEARCH-1");

    // A trader id: its declaration and its AEO authorisation, grouped by type.
    let (_, body) = search(&n, GB, "GB553202734852", "", "clearance").await;
    let groups: Vec<(&str, u64)> = body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["record_type"].as_str().unwrap(), g["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(groups, vec![("declaration", 1), ("aeo-authorization", 1)], "{body}");
    assert_eq!(ids(&body)[0], own);

    // An HS code by its prefix, written with or without the dot.
    for (q, expected) in [("8471", &own), ("8471.30", &own), ("6109", &other), ("61091000", &other)] {
        let (_, body) = search(&n, GB, q, "", "clearance").await;
        assert_eq!(ids(&body), vec![expected.clone()], "{q}: {body}");
        assert_eq!(fields(&body), vec!["hs".to_owned()], "{q}: {body}");
    }
    // A container (case and spaces do not matter), a seal.
    let (_, body) = search(&n, GB, "msku 123456 5", "", "clearance").await;
    assert_eq!((ids(&body), fields(&body)), (vec![own.clone()], vec!["container".to_owned()]), "{body}");
    let (_, body) = search(&n, GB, "CSQU", "", "clearance").await;
    assert_eq!(ids(&body), vec![other.clone()], "{body}");
    let (_, body) = search(&n, GB, "SEAL-XYZ-9", "", "clearance").await;
    assert_eq!((ids(&body), fields(&body)), (vec![other.clone()], vec!["seal".to_owned()]), "{body}");
    let (_, body) = search(&n, GB, "CN7788990", "", "clearance").await;
    assert_eq!(ids(&body), vec![own.clone()], "{body}");
    // A record id, as the ledger writes it.
    let (_, body) = search(&n, GB, &other, "", "clearance").await;
    assert_eq!(ids(&body), vec![other.clone()], "{body}");
    assert!(fields(&body).contains(&"record-id".to_owned()), "{body}");
    // Nothing found is an empty answer, not an error.
    let (status, body) = search(&n, GB, "NO-SUCH-THING", "", "clearance").await;
    assert_eq!((status, body["total"].as_u64()), (200, Some(0)), "{body}");

    // Paging: one record a page, the next page named until the last.
    let (_, first) = search(&n, GB, "LRN-SEARCH", "&limit=1", "clearance").await;
    assert_eq!((first["total"].as_u64(), first["next_page"].as_u64()), (Some(2), Some(2)), "{first}");
    let (_, second) = search(&n, GB, "LRN-SEARCH", "&limit=1&page=2", "clearance").await;
    assert_eq!(second["next_page"], Value::Null, "{second}");
    let both: Vec<String> = ids(&first).into_iter().chain(ids(&second)).collect();
    assert_eq!(both.len(), 2);
    assert!(both.contains(&own) && both.contains(&other), "{both:?}");
}

#[tokio::test]
async fn search_finds_only_what_the_read_policy_lets_the_caller_read_for_the_purpose() {
    let (n, own, _) = node_with_records().await;
    // The AEO reads for clearance what it is party to: its own declaration, not the other.
    let (status, body) = search(&n, AEO, "LRN-SEARCH", "", "clearance").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), vec![own.clone()], "{body}");
    assert_eq!(body["total"], 1);
    // Not for risk analysis (customs only).
    let (_, body) = search(&n, AEO, "LRN-SEARCH", "", "risk-analysis").await;
    assert_eq!(body["total"], 0, "{body}");
    // For statistics the parties are withheld: a trader id finds nothing, the LRN still finds it.
    let (_, body) = search(&n, GB, "GB553202734852", "", "statistics").await;
    assert_eq!(body["total"], 0, "a withheld value finds nothing: {body}");
    let (_, body) = search(&n, GB, "LRN-SEARCH-1", "", "statistics").await;
    assert_eq!(ids(&body), vec![own.clone()], "{body}");
    // No purpose, an unknown one.
    let (status, body) = search(&n, GB, "LRN-SEARCH-1", "", "").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("purpose_required")), "{body}");
    let (status, body) = search(&n, GB, "LRN-SEARCH-1", "", "curiosity").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("unknown_purpose")), "{body}");
    // The reads of the search are in the audit trail, with their route and purpose.
    let (status, audit) = n.get_signed(GB, &format!("/api/v1/audit?record={}", enc(&own))).await;
    assert_eq!(status, 200, "{audit}");
    let searches: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["route"] == "GET /api/v1/search")
        .map(|e| (e["actor"].as_str().unwrap(), e["purpose"].as_str().unwrap()))
        .collect();
    let (gb, aeo) = (n.keys[GB].member.as_str(), n.keys[AEO].member.as_str());
    assert!(searches.contains(&(aeo, "clearance")) && searches.contains(&(gb, "statistics")), "{searches:?}");
    assert!(!searches.contains(&(aeo, "risk-analysis")), "nothing read, nothing audited: {searches:?}");
}

#[tokio::test]
async fn search_refuses_a_bad_query_with_400_and_an_anonymous_caller_with_401() {
    let n = start().await;
    for rest in ["&limit=0", "&limit=101", "&page=0", "&limit=ten", "&colour=blue"] {
        let (status, body) = search(&n, GB, "LRN", rest, "clearance").await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_query")), "{rest}: {body}");
    }
    let (status, body) = search(&n, GB, "", "", "clearance").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_query")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("1 to 200 characters"), "a clear message: {body}");
    let (status, body) = search(&n, GB, &"x".repeat(201), "", "clearance").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_query")), "{body}");
    let (status, _) = search(&n, GB, &"é".repeat(200), "", "clearance").await;
    assert_eq!(status, 200, "200 characters are fine, whatever their bytes");
    let path = format!("{}/api/v1/search?q=LRN", n.base);
    let r = client().get(path).header("borderlink-purpose", "clearance").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated", "{body}");
    // The parameters are documented exactly.
    let doc: Value = client().get(format!("{}/api/openapi.json", n.base)).send().await.unwrap().json().await.unwrap();
    let params = doc["paths"]["/api/v1/search"]["get"]["parameters"].as_array().unwrap();
    let q = params.iter().find(|p| p["name"] == "q").unwrap();
    assert_eq!(
        (&q["required"], &q["schema"]["minLength"], &q["schema"]["maxLength"]),
        (&Value::Bool(true), &Value::from(1), &Value::from(200))
    );
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["q", "limit", "page", "purpose"]);
}
