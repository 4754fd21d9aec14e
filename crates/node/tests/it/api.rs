//! The JSON API over real HTTP.

use reqwest::StatusCode;
use serde_json::Value;

use crate::samples::{self, CONTAINER_ID_PATH, ORIGIN_COUNTRY_PATH, XML_DECLARATION};
use crate::test_node::{TestNode, client};

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

async fn get_json(node: &TestNode, path: &str) -> (StatusCode, Value) {
    let response = client().get(node.url(path)).send().await.expect("GET");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

fn issues<'a>(report: &'a Value, kind: &str) -> &'a [Value] {
    report[kind].as_array().map(Vec::as_slice).unwrap_or_default()
}

fn assert_error_body(body: &Value, code: &str, error_type: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], error_type, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(3), "only code, type and message: {body}");
}

#[tokio::test]
async fn valid_declaration_is_reported_valid() {
    let node = TestNode::start().await;
    let (status, report) = validate(&node, "", samples::sample_bytes("declaration.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(report["record_type"], "declaration");
    assert_eq!(report["format"], "json");
    assert!(issues(&report, "errors").is_empty());
    assert!(report["quality"]["score"].is_number());
    node.stop().await;
}

#[tokio::test]
async fn unknown_origin_country_is_reported_with_its_path_and_rule() {
    let node = TestNode::start().await;
    let body = samples::declaration_with_unknown_origin().to_string();
    let (status, report) = validate(&node, "?type=declaration", body).await;
    assert_eq!(status, StatusCode::OK, "an invalid document is still a successful validation");
    assert_eq!(report["valid"], false);
    assert_eq!(report["record_type"], "declaration");
    let errors = issues(&report, "errors");
    assert!(
        errors
            .iter()
            .any(|e| e["path"] == ORIGIN_COUNTRY_PATH && e["rule"] == "codelist.country" && e["severity"] == "error"),
        "{report:#}"
    );
}

#[tokio::test]
async fn wrong_container_check_digit_is_reported() {
    let node = TestNode::start().await;
    let body = samples::declaration_with_bad_container_check_digit().to_string();
    let (status, report) = validate(&node, "", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["valid"], false);
    let errors = issues(&report, "errors");
    assert!(
        errors.iter().any(|e| e["path"] == CONTAINER_ID_PATH && e["rule"] == "container.check_digit"),
        "{report:#}"
    );
}

#[tokio::test]
async fn non_json_body_is_a_syntax_error() {
    let node = TestNode::start().await;
    let (status, report) = validate(&node, "", "this is not JSON").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["valid"], false);
    assert!(issues(&report, "errors").iter().any(|e| e["rule"] == "document.syntax"), "{report:#}");
}

#[tokio::test]
async fn xml_declaration_is_validated_as_a_declaration() {
    let node = TestNode::start().await;
    let (status, report) = validate(&node, "", XML_DECLARATION).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["record_type"], "declaration", "{report:#}");
    assert_eq!(report["format"], "xml");
    assert!(report["valid"].is_boolean());
    assert!(report["errors"].is_array() && report["warnings"].is_array());
}

#[tokio::test]
async fn other_samples_are_detected_as_their_record_types() {
    let node = TestNode::start().await;
    for (file, expected) in
        [("aeo-authorisation.json", "aeo-authorization"), ("transport-movement.json", "transport-movement")]
    {
        let (status, report) = validate(&node, "", samples::sample_bytes(file)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["record_type"], expected, "{file}: {report:#}");
    }
}

#[tokio::test]
async fn unknown_record_type_is_a_bad_request() {
    let node = TestNode::start().await;
    let (status, body) = validate(&node, "?type=invoice", samples::sample_bytes("declaration.json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_body(&body, "unknown_record_type", "invalid_request");
}

#[tokio::test]
async fn unknown_query_parameter_is_a_bad_request() {
    let node = TestNode::start().await;
    let (status, body) = validate(&node, "?kind=declaration", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_body(&body, "invalid_query", "invalid_request");
}

#[tokio::test]
async fn body_over_the_limit_is_413_with_an_error_body() {
    let node = TestNode::start_with_limit(1024).await;
    let (status, body) = validate(&node, "", vec![b' '; 4096]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error_body(&body, "payload_too_large", "invalid_request");
}

#[tokio::test]
async fn every_record_type_has_a_json_schema() {
    let node = TestNode::start().await;
    let (status, list) = get_json(&node, "/api/v1/schemas").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<&str> = list["record_types"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(listed, ["declaration", "aeo-authorization", "transport-movement", "inspection-result", "aeo-consent"]);
    for name in listed {
        let (status, schema) = get_json(&node, &format!("/api/v1/schemas/{name}")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(schema.get("$schema").is_some() || schema.get("properties").is_some(), "{name}: {schema}");
    }
}

#[tokio::test]
async fn unknown_schema_is_404_with_an_error_body() {
    let node = TestNode::start().await;
    let (status, body) = get_json(&node, "/api/v1/schemas/invoice").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_body(&body, "schema_not_found", "invalid_request");
}

#[tokio::test]
async fn unknown_api_path_is_404_with_an_error_body() {
    let node = TestNode::start().await;
    let (status, body) = get_json(&node, "/api/v2/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_body(&body, "route_not_found", "invalid_request");
}

#[tokio::test]
async fn wrong_method_on_an_api_route_is_405_with_an_error_body() {
    let node = TestNode::start().await;
    let (status, body) = get_json(&node, "/api/v1/validate").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error_body(&body, "method_not_allowed", "invalid_request");
}

#[tokio::test]
async fn openapi_document_describes_the_endpoints() {
    let node = TestNode::start().await;
    let (status, doc) = get_json(&node, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    for path in ["/api/v1/validate", "/api/v1/schemas", "/api/v1/schemas/{type}", "/healthz"] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(doc["components"]["schemas"].get("Report").is_some());
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
}

#[tokio::test]
async fn healthz_says_ok() {
    let node = TestNode::start().await;
    let (status, body) = get_json(&node, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}
