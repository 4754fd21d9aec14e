//! `POST /api/v1/validate` with WCO DM message wrappers and validation profiles: the node's
//! default profile from `[validation]`, `?profile=NAME`, and a profile that cannot be used.

use reqwest::StatusCode;
use serde_json::Value;

use crate::test_node::{TestNode, client, refused_start};

const GB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/profiles/gb.toml");
const WRAPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/tests/data/declaration-wrapped.xml");

async fn validate(node: &TestNode, query: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let response = client()
        .post(node.url(&format!("/api/v1/validate{query}")))
        .body(body)
        .send()
        .await
        .expect("POST /api/v1/validate");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

fn rules(report: &Value, kind: &str) -> Vec<(String, String)> {
    report[kind]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| (i["path"].as_str().unwrap_or("").to_owned(), i["rule"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The wrapped fixture with its delivery terms and commodity code changed.
fn wrapped_with(incoterm: &str, hs: &str) -> String {
    std::fs::read_to_string(WRAPPED)
        .expect("wrapped fixture")
        .replace("<ConditionCode>FOB</ConditionCode>", &format!("<ConditionCode>{incoterm}</ConditionCode>"))
        .replace("<ID>85176200</ID>", &format!("<ID>{hs}</ID>"))
}

#[tokio::test]
async fn a_wrapped_declaration_is_validated_with_its_category() {
    let node = TestNode::start().await;
    let (status, report) = validate(&node, "", std::fs::read(WRAPPED).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(report["format"], "xml");
    assert_eq!(report["profile"], "core");
    assert_eq!(report["category"]["category"], "standard");
    assert_eq!(report["category"]["typeCode"], "IMA");
    // A wrapper with two declarations: refused at the second.
    let doc = std::fs::read_to_string(WRAPPED).unwrap();
    let start = doc.find("  <Declaration>").unwrap();
    let end = doc.find("</md:MetaData>").unwrap();
    let twice = format!("{}{}{}", &doc[..end], &doc[start..end], &doc[end..]);
    let (status, report) = validate(&node, "", twice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rules(&report, "errors"),
        [("/MetaData/Declaration[2]".to_owned(), "wrapper.declaration_count".to_owned())]
    );
    node.stop().await;
}

#[tokio::test]
async fn the_configured_profile_applies_and_a_request_can_choose_another() {
    let dir = tempfile::tempdir().unwrap();
    let lenient = dir.path().join("lenient.json");
    std::fs::write(&lenient, r#"{"name": "lenient", "rules": {"hs.earlier_edition": "warning"}}"#).unwrap();
    let node = TestNode::start_with(|c| {
        c.validation.profile = Some(GB.into());
        c.validation.profiles = vec![lenient.clone()];
    })
    .await;
    // XXX is a UK delivery-terms code: valid under the node's default profile (gb), not under core.
    let doc = wrapped_with("XXX", "85176200");
    let (_, report) = validate(&node, "", doc.clone()).await;
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(report["profile"], "gb");
    let (_, report) = validate(&node, "?profile=core", doc).await;
    assert_eq!(report["valid"], false);
    assert_eq!(
        rules(&report, "errors"),
        [("/MetaData/Declaration/GoodsShipment/TradeTerms/ConditionCode".to_owned(), "codelist.incoterm".to_owned())]
    );
    // An HS 2017 code: an error naming its successors, a warning under the lenient profile.
    let doc = wrapped_with("FOB", "85171200");
    let (_, report) = validate(&node, "?profile=gb", doc.clone()).await;
    assert_eq!(report["valid"], false);
    let message = report["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("8517.13") && message.contains("8517.14"), "{report:#}");
    let (_, report) = validate(&node, "?profile=lenient&type=declaration", doc).await;
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(report["profile"], "lenient");
    assert_eq!(report["warnings"][0]["rule"], "hs.earlier_edition");
    // Incoterms 2010 DAT names DPU.
    let (_, report) = validate(&node, "", wrapped_with("DAT", "85176200")).await;
    assert_eq!(report["errors"][0]["rule"], "codelist.incoterm_edition");
    assert!(report["errors"][0]["message"].as_str().unwrap_or("").contains("DPU"), "{report:#}");
    // An unknown profile is a bad request with the standard error body.
    let (status, body) = validate(&node, "?profile=fr", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "unknown_profile", "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains("gb"), "{body}");
    node.stop().await;
}

#[tokio::test]
async fn a_profile_that_cannot_be_used_stops_the_node_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"bad\"\n[rules]\n\"document.syntax\" = \"off\"\n").unwrap();
    let why = refused_start(|c| c.validation.profile = Some(bad.clone())).await;
    assert!(why.contains("document.syntax"), "{why}");
    let why = refused_start(|c| c.validation.profile = Some(dir.path().join("missing.toml"))).await;
    assert!(why.contains("missing.toml"), "{why}");
}
