//! `GET /api`: the API's endpoints, listed from the OpenAPI document itself so the page cannot
//! drift from what the node serves.

use axum::http::{HeaderMap, header};
use maud::html;
use serde_json::Value;

use super::{Page, Section, layout};
use crate::api::openapi;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

struct Endpoint<'a> {
    method: &'static str,
    path: &'a str,
    summary: &'a str,
}

fn endpoints(doc: &Value) -> Vec<Endpoint<'_>> {
    let mut out = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let summary = op.get("summary").and_then(Value::as_str).unwrap_or_default();
                    out.push(Endpoint { method, path, summary });
                }
            }
        }
    }
    out
}

pub(super) async fn page(headers: HeaderMap) -> Page {
    let doc = openapi::document();
    // Only displayed (and escaped): the example works when pasted on the client's side.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:8080");
    let example = format!("curl -s --data-binary @declaration.json 'http://{host}/api/v1/validate?type=declaration'");
    layout(
        "API",
        Section::Api,
        html! {
            section.panel {
                h1 { "API" }
                p.lead {
                    "Everything the console does is available over HTTP with JSON. The full description "
                    "is the OpenAPI 3.1 document at " a href="/api/openapi.json" { code { "/api/openapi.json" } } "."
                }
                p {
                    "Every error has the same body, " code { r#"{"code": "…", "type": "…", "message": "…"}"# }
                    ", with a stable " code { "code" } " to match on."
                }
                table #endpoints .data {
                    thead { tr { th scope="col" { "Method" } th scope="col" { "Path" } th scope="col" { "What it does" } } }
                    tbody {
                        @for e in endpoints(doc) {
                            tr {
                                td { span.method.(e.method) { (e.method.to_uppercase()) } }
                                td { code { (e.path) } }
                                td { (e.summary) }
                            }
                        }
                    }
                }
                h2 { "Example" }
                pre.example { code { (example) } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_validate_endpoint() {
        let doc = openapi::document();
        let found = endpoints(doc);
        assert!(found.iter().any(|e| e.method == "post" && e.path == "/api/v1/validate"));
    }
}
