//! The web console over real HTTP, without a browser: pages, form handling, assets.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};

use crate::samples::{self, ORIGIN_COUNTRY_PATH};
use crate::test_node::{TestNode, client};

const BOUNDARY: &str = "borderlink-test-boundary";

/// A `multipart/form-data` body of `(name, file name, content)` parts.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                     Content-Type: application/json\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes())
            }
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The start tag of the element with `id`, e.g. `<div class="status valid" id="report-status" …>`.
fn start_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no element #{id} in {html}"));
    let start = html[..at].rfind('<').unwrap_or(0);
    let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
    &html[start..end]
}

async fn post_form(node: &TestNode, body: Vec<u8>) -> (StatusCode, String) {
    let response = client()
        .post(node.url("/validate"))
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .expect("POST /validate");
    let status = response.status();
    (status, response.text().await.expect("HTML body"))
}

async fn get_page(node: &TestNode, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = client().get(node.url(path)).send().await.expect("GET");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

#[tokio::test]
async fn home_page_offers_paste_and_upload() {
    let node = TestNode::start().await;
    let (status, headers, html) = get_page(&node, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with("text/html")));
    assert!(headers.contains_key(CONTENT_SECURITY_POLICY));
    for needle in [
        r#"id="validate-form""#,
        r#"enctype="multipart/form-data""#,
        r#"<textarea id="text" name="text""#,
        r#"type="file" name="document""#,
        r#"<option value="auto" selected>"#,
        ">Borderlink<",
        r#"href="/schemas""#,
        r#"href="/assets/console.css""#,
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(!html.contains("report-status"), "no report before a submission");
}

#[tokio::test]
async fn pasted_invalid_declaration_shows_its_errors() {
    let node = TestNode::start().await;
    let document = samples::declaration_with_unknown_origin().to_string();
    let body = multipart(&[("type", None, b"auto"), ("text", None, document.as_bytes()), ("document", Some(""), b"")]);
    let (status, html) = post_form(&node, body).await;
    assert_eq!(status, StatusCode::OK);
    assert!(start_tag(&html, "report-status").contains(r#"class="status invalid""#), "{html}");
    // The path may break after its separators (`<wbr>`), and reads the same without them.
    let path_cell = html.split(r#"<td class="issue-path">"#).nth(1).and_then(|c| c.split("</td>").next()).unwrap_or("");
    assert_eq!(path_cell.replace("<wbr>", ""), format!(r#"<code class="path">{ORIGIN_COUNTRY_PATH}</code>"#), "{html}");
    assert!(html.contains(r#"<td class="issue-rule"><code>codelist.country</code></td>"#));
    // The pasted text is kept (escaped) so that the user can fix it in place.
    assert!(html.contains("&quot;Declaration&quot;"));
}

#[tokio::test]
async fn uploaded_valid_declaration_is_valid() {
    let node = TestNode::start().await;
    let document = samples::sample_bytes("declaration.json");
    let body =
        multipart(&[("type", None, b"declaration"), ("text", None, b""), ("document", Some("dec.json"), &document)]);
    let (status, html) = post_form(&node, body).await;
    assert_eq!(status, StatusCode::OK);
    assert!(start_tag(&html, "report-status").contains(r#"class="status valid""#), "{html}");
    assert!(html.contains("<code>dec.json</code>"));
    assert!(html.contains(r#"id="quality""#));
}

#[tokio::test]
async fn empty_form_is_a_bad_request_with_a_message() {
    let node = TestNode::start().await;
    let body = multipart(&[("type", None, b"auto"), ("text", None, b"  "), ("document", Some(""), b"")]);
    let (status, html) = post_form(&node, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(r#"id="form-error""#));
    assert!(!html.contains("report-status"));
}

#[tokio::test]
async fn form_over_the_limit_is_413_with_a_message() {
    let node = TestNode::start_with_limit(1024).await;
    let big = vec![b'x'; 4096];
    let (status, html) = post_form(&node, multipart(&[("text", None, &big)])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(html.contains(r#"id="form-error""#));
}

#[tokio::test]
async fn schemas_page_links_every_schema() {
    let node = TestNode::start().await;
    let (status, _, html) = get_page(&node, "/schemas").await;
    assert_eq!(status, StatusCode::OK);
    for name in ["declaration", "aeo-authorization", "transport-movement", "inspection-result", "aeo-consent"] {
        assert!(html.contains(&format!(r#"href="/api/v1/schemas/{name}""#)), "{name}");
    }
    assert!(html.contains(r#"<a href="/schemas" aria-current="page">"#));
}

#[tokio::test]
async fn api_page_lists_the_endpoints() {
    let node = TestNode::start().await;
    let (status, _, html) = get_page(&node, "/api").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<code>/api/v1/validate</code>"));
}

#[tokio::test]
async fn assets_are_served_with_their_types() {
    let node = TestNode::start().await;
    for (path, content_type) in [("/assets/console.css", "text/css"), ("/assets/console.js", "text/javascript")] {
        let (status, headers, body) = get_page(&node, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(headers[CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with(content_type)), "{path}");
        assert!(!body.is_empty());
    }
    let (status, _, _) = get_page(&node, "/assets/missing.css").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_page_is_an_html_404() {
    let node = TestNode::start().await;
    let (status, headers, html) = get_page(&node, "/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers[CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with("text/html")));
    assert!(html.contains("No such page"));
}
