//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the API, generated from the handlers.
//!
//! Paths and the node's own bodies come from utoipa. The validation report is a model type
//! described with schemars (the model knows nothing of HTTP or utoipa), so its schema and those
//! it refers to are generated with schemars and written into `components/schemas`, where the
//! paths' `$ref`s point.

use std::sync::LazyLock;

use axum::Json;
use borderlink_model::Report;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};
use utoipa::OpenApi;

use crate::error::{ErrorBody, ErrorType};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Borderlink node API",
        description = "Validate customs records against the Borderlink standardized dataset \
                       (WCO Data Model) and fetch their JSON Schemas. Every error body is \
                       `{code, type, message}` with a stable `code`."
    ),
    paths(
        super::validate::validate,
        super::schemas::list,
        super::schemas::get,
        super::health,
        super::risk::score,
        super::risk::queue,
        super::risk::overrule,
        super::risk::inspection,
        super::risk::criteria,
        super::risk::put_criteria,
        super::risk::model,
        super::risk::training_set,
        super::risk::put_model,
        super::cluster::status,
        super::cluster::faults
    ),
    components(schemas(ErrorBody, ErrorType)),
    tags(
        (name = "validation", description = "Validate documents"),
        (name = "schemas", description = "JSON Schemas of the record types"),
        (name = "operations", description = "Health of the node"),
        (name = "risk", description = "Risk management: scores, lanes, the risk queue, overrides, criteria, the model"),
        (name = "replication", description = "The consortium's Raft group as this node sees it"),
    )
)]
struct ApiDoc;

/// The OpenAPI document, built once.
static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The OpenAPI document as JSON (shared with the console's API page).
pub(crate) fn document() -> &'static Value {
    &DOCUMENT
}

fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|e| {
        // Serializing a value built by utoipa's own macros cannot fail on data; if it ever
        // does, serve a document that says so rather than crash the node.
        tracing::error!(error = %e, "cannot serialize the OpenAPI document");
        Value::Object(Map::new())
    });
    let mut generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    // Registers `Report` (and everything it refers to) as definitions under components/schemas.
    let _report_ref = generator.subschema_for::<Report>();
    let definitions = generator.take_definitions(true);
    if let Some(root) = doc.as_object_mut() {
        let components = root.entry("components").or_insert_with(|| Value::Object(Map::new()));
        if let Some(components) = components.as_object_mut() {
            let schemas = components.entry("schemas").or_insert_with(|| Value::Object(Map::new()));
            if let Some(schemas) = schemas.as_object_mut() {
                schemas.extend(definitions);
            }
        }
    }
    doc
}

pub(super) async fn serve() -> Json<&'static Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ref_resolves() {
        let doc = document();
        let mut refs = Vec::new();
        collect_refs(doc, &mut refs);
        assert!(refs.iter().any(|r| r == "#/components/schemas/Report"));
        assert!(doc.pointer("/paths/~1api~1v1~1cluster/get").is_some(), "the cluster status is described");
        for r in refs {
            let pointer = r.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => collect_refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
