//! `GET /api`: the interactive API reference — Swagger UI (its files vendored in the binary by
//! `utoipa-swagger-ui`, nothing fetched at run time) rendering the node's own OpenAPI document,
//! with a plain list of the endpoints above it that works without JavaScript.

use std::sync::{Arc, LazyLock};

use axum::http::{HeaderMap, header};
use maud::html;
use serde_json::Value;

use super::{Page, layout};
use crate::openapi;
use crate::principal::{Public, Require};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Swagger UI's settings: our document, the plain layout (no URL bar: this node's API only).
static SWAGGER: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(utoipa_swagger_ui::Config::new(["/api/openapi.json"]).use_base_layout().try_it_out_enabled(false))
});

/// One of Swagger UI's files (`swagger-ui.css`, `swagger-ui-bundle.js`,
/// `swagger-initializer.js` with our settings, …), with its content type.
pub(crate) fn swagger_file(name: &str) -> Option<(String, Vec<u8>)> {
    match utoipa_swagger_ui::serve(name, Arc::clone(&SWAGGER)) {
        Ok(Some(file)) => Some((file.content_type, file.bytes.into_owned())),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(file = name, error = %e, "cannot prepare a Swagger UI file");
            None
        }
    }
}

struct Endpoint<'a> {
    method: &'static str,
    path: &'a str,
    summary: &'a str,
    permission: &'a str,
}

fn endpoints(doc: &Value) -> Vec<Endpoint<'_>> {
    let mut out = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let summary = op.get("summary").and_then(Value::as_str).unwrap_or_default();
                    let permission = op.get("x-borderlink-permission").and_then(Value::as_str).unwrap_or("public");
                    out.push(Endpoint { method, path, summary, permission });
                }
            }
        }
    }
    out
}

pub(crate) async fn page(_: Require<Public>, headers: HeaderMap) -> Page {
    let doc = openapi::document();
    // Only displayed (and escaped): the example works when pasted on the client's side.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:8080");
    let example = format!("curl -s --data-binary @declaration.json 'http://{host}/api/v1/validate?type=declaration'");
    layout(
        "API",
        crate::operations::API,
        html! {
            section.panel {
                h1 { "API" }
                p.lead {
                    "Everything the console does is available over HTTP with JSON. The full description "
                    "is the OpenAPI 3.1 document at " a href="/api/openapi.json" { code { "/api/openapi.json" } }
                    "; the reference below is made from it."
                }
                p {
                    "Every error has the same body, " code { r#"{"code": "…", "type": "…", "message": "…"}"# }
                    ", with a stable " code { "code" } " to match on. Routes marked " em { "public" } " need no "
                    "credentials; the others need a member's signed request or this node's console session."
                }
                h2 { "Example" }
                pre.example { code { (example) } }
                details #endpoint-list {
                    summary { "Endpoints at a glance" }
                    div.table-wrap {
                        table #endpoints .data {
                            thead { tr { th scope="col" { "Method" } th scope="col" { "Path" } th scope="col" { "What it does" } th scope="col" { "Needs" } } }
                            tbody {
                                @for e in endpoints(doc) {
                                    tr {
                                        td { span.method.(e.method) { (e.method.to_uppercase()) } }
                                        td { code { (e.path) } }
                                        td { (e.summary) }
                                        td { (e.permission) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.panel.api-reference {
                link rel="stylesheet" href="/assets/swagger-ui/swagger-ui.css";
                div #swagger-ui { noscript { "The interactive reference needs JavaScript; the list above does not." } }
                script src="/assets/swagger-ui/swagger-ui-bundle.js" {}
                script src="/assets/swagger-ui/swagger-ui-standalone-preset.js" {}
                script src="/assets/swagger-ui/swagger-initializer.js" {}
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swagger_files_are_vendored_and_point_at_our_document() {
        let (kind, css) = swagger_file("swagger-ui.css").expect("the stylesheet is vendored");
        assert!(kind.starts_with("text/css") && !css.is_empty());
        assert!(swagger_file("swagger-ui-bundle.js").is_some_and(|(_, js)| js.len() > 100_000));
        let (_, init) = swagger_file("swagger-initializer.js").expect("the initializer");
        let init = String::from_utf8(init).unwrap_or_default();
        assert!(init.contains("/api/openapi.json"), "{init}");
        assert!(swagger_file("no-such-file.js").is_none());
    }
}
