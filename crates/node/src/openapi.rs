//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the API, made from the routes.
//!
//! Each capability registers a handler and its OpenAPI path in one `routes!` call, wrapped in
//! [`guarded`], which writes the route's permission into the operation: its security
//! requirement (`member_signature`, `console_session`, or `{}` for anyone), its 401/403 answers
//! and an `x-borderlink-permission` extension. The server assembles the document from exactly
//! the routes it serves ([`crate::server`]), so the two cannot drift.
//!
//! The validation report is a model type described with schemars (the model knows nothing of
//! HTTP or utoipa), so its schema and those it refers to are generated with schemars and written
//! into `components/schemas`, where the paths' `$ref`s point.

use std::sync::OnceLock;

use axum::Json;
use borderlink_model::Report;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::capability::CAPABILITIES;
use crate::error::{ErrorBody, ErrorType};
use crate::principal::Permission;
use crate::server::SharedState;

/// The security scheme of a member's signed request.
pub(crate) const MEMBER_SIGNATURE: &str = "member_signature";
/// The security scheme of a device's signed message (`Borderlink-Signature` and its companions).
pub(crate) const DEVICE_SIGNATURE: &str = "device_signature";
/// The security scheme of the node operator's console session.
pub(crate) const CONSOLE_SESSION: &str = "console_session";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Borderlink node API",
        description = "Validate customs records against the Borderlink standardized dataset \
                       (WCO Data Model), share them on the consortium's ledger with \
                       offline-verifiable proofs, and score declarations for risk. Every error \
                       body is `{code, type, message}` with a stable `code`. Each operation \
                       names its security requirement: a member's signed request \
                       (`Authorization: Borderlink v=2, member=…, node=…, ts=…, nonce=…, sig=…`, \
                       see docs/ledger-format.md), the node operator's console session, or none."
    ),
    components(schemas(ErrorBody, ErrorType, crate::iot::epcis::EpcisProblem))
)]
struct ApiDoc;

/// The document every router starts from: info, shared schemas, security schemes and the
/// capabilities' tags.
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        MEMBER_SIGNATURE,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`Borderlink v=2, member=ID, node=NODE, ts=MILLISECONDS, nonce=HEX32, sig=BASE64`: an \
             Ed25519 signature by the member's key over the method, path and query, the node's member \
             id (`GET /api/v1/node`), time, nonce and SHA-256 of the body; accepted by that node only, \
             within 30 s of its clock, once (docs/ledger-format.md, \"Signed API requests\").",
        ))),
    );
    components.add_security_scheme(
        DEVICE_SIGNATURE,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Borderlink-Signature",
            "A registered device's message: `Borderlink-Device: ID`, `Borderlink-Sequence: N` (above \
             the last one admitted from the device) and `Borderlink-Signature: HEX128`, the device's \
             Ed25519 signature over `borderlink-iot-v1\\n{ID}\\n{N}\\n` followed by the body \
             (docs/iot.md, \"Device interfaces\").",
        ))),
    );
    components.add_security_scheme(
        CONSOLE_SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::session::COOKIE,
            "The node operator's console session: a random session id set by `POST /login` with the \
             node's console token (never the token itself); it expires when idle and ends at logout \
             or when the token is rotated.",
        ))),
    );
    doc.tags = Some(
        CAPABILITIES
            .iter()
            .flat_map(|c| c.tags.iter())
            .map(|(name, description)| {
                utoipa::openapi::tag::TagBuilder::new().name(*name).description(Some(*description)).build()
            })
            .collect(),
    );
    doc
}

/// A route with its permission written into its OpenAPI operations.
pub(crate) fn guarded<P: Permission>(mut route: UtoipaMethodRouter<SharedState>) -> UtoipaMethodRouter<SharedState> {
    for (path, item) in route.1.paths.iter_mut() {
        let epcis = crate::iot::epcis::is_epcis(path);
        for op in operations_mut(item) {
            op.security = Some(match P::SCHEMES {
                [] => vec![SecurityRequirement::default()],
                schemes => schemes.iter().map(|s| SecurityRequirement::new(*s, std::iter::empty::<String>())).collect(),
            });
            op.extensions
                .get_or_insert_with(Default::default)
                .insert("x-borderlink-permission".into(), Value::String(P::NAME.into()));
            if !P::SCHEMES.is_empty() {
                add_error(op, epcis, "401", "No valid member signature or console session (`unauthenticated`)");
                add_error(op, epcis, "403", "Authenticated, but this caller may not do this");
            }
            add_error(op, epcis, "400", "The request is malformed: a parameter or body that does not parse");
            if let Some(body) = op.request_body.as_mut() {
                // No operation reads an empty body as something: each refuses it with 400.
                if let RefOr::T(body) = body {
                    body.required = Some(utoipa::openapi::Required::True);
                }
                add_error(op, epcis, "413", "The body is larger than the node's limit (`payload_too_large`)");
            }
        }
    }
    route
}

/// Documents an error answer: the standard body, or problem details under `/epcis`.
fn add_error(op: &mut Operation, epcis: bool, status: &str, description: &str) {
    let (media, schema) =
        if epcis { (crate::iot::epcis::PROBLEM_JSON, "EpcisProblem") } else { ("application/json", "ErrorBody") };
    op.responses.responses.entry(status.into()).or_insert_with(|| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(media, Content::new(Some(Ref::from_schema_name(schema))))
                .build(),
        )
    });
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.options, &mut item.head]
        .into_iter()
        .filter_map(Option::as_mut)
}

/// The methods a path item documents, upper case.
pub(crate) fn methods(item: &PathItem) -> Vec<String> {
    [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("PATCH", &item.patch),
        ("OPTIONS", &item.options),
        ("HEAD", &item.head),
    ]
    .into_iter()
    .filter(|(_, op)| op.is_some())
    .map(|(m, _)| m.to_owned())
    .collect()
}

/// The document, once the first router has been built from the capabilities.
static DOCUMENT: OnceLock<Value> = OnceLock::new();

/// Makes `doc` the served document (the first router built wins: every node of a process serves
/// the same capabilities).
pub(crate) fn publish(doc: utoipa::openapi::OpenApi) {
    DOCUMENT.get_or_init(|| with_model_schemas(doc));
}

/// Checks a request body against the schema the document publishes for it (`#/components/schemas/NAME`);
/// the error says where and why it does not match.
///
/// Bodies read by serde alone need it: serde also reads a JSON array as a struct (its fields in
/// order) and ignores unknown keys beside the tag of a unit variant, which the document does not
/// allow. Checking against the published schema keeps what the node accepts and what it says it
/// accepts one thing.
pub(crate) fn check_body(name: &str, body: &Value) -> Result<(), String> {
    static VALIDATORS: OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
    > = OnceLock::new();
    let validators = VALIDATORS.get_or_init(Default::default);
    let cached = validators.lock().map_err(|_| "the schema cache is poisoned".to_owned())?.get(name).cloned();
    let validator = match cached {
        Some(v) => v,
        None => {
            let components = document().get("components").cloned().unwrap_or(Value::Null);
            let schema = serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": components,
            });
            let v = std::sync::Arc::new(
                jsonschema::draft202012::new(&schema)
                    .map_err(|e| format!("the schema {name} does not compile: {e}"))?,
            );
            validators
                .lock()
                .map_err(|_| "the schema cache is poisoned".to_owned())?
                .insert(name.to_owned(), v.clone());
            v
        }
    };
    validator.validate(body).map_err(|e| {
        let at = e.instance_path().to_string();
        if at.is_empty() { e.to_string() } else { format!("at {at}: {e}") }
    })
}

/// The OpenAPI document as JSON (shared with the console's API page).
pub(crate) fn document() -> &'static Value {
    static EMPTY: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get().unwrap_or_else(|| EMPTY.get_or_init(|| Value::Object(Map::new())))
}

fn with_model_schemas(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|e| {
        // Serializing a value built by utoipa's own types cannot fail on data; if it ever does,
        // serve a document that says so rather than crash the node.
        tracing::error!(error = %e, "cannot serialize the OpenAPI document");
        Value::Object(Map::new())
    });
    // The report is an answer: described as serde writes it.
    let mut answers = SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let _report = answers.subschema_for::<Report>();
    let mut definitions = answers.take_definitions(true);
    // The records that request bodies carry are read by serde alone (what-if scoring, inspection
    // feedback): described as serde reads them, their shape without the format rules.
    let mut bodies = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .with_transform(RecordShape)
        .into_generator();
    let declaration = bodies.subschema_for::<borderlink_model::DeclarationRecord>();
    let _inspection = bodies.subschema_for::<borderlink_model::InspectionResultRecord>();
    let mut shapes = bodies.take_definitions(true);
    for (name, kind) in [("DeclarationRecord", "declaration"), ("InspectionResultRecord", "inspection-result")] {
        if let Some(o) = shapes.get_mut(name).and_then(Value::as_object_mut) {
            o.insert(
                "description".into(),
                Value::String(format!(
                    "A {kind} record as this operation reads it: its shape (types, required and unknown \
                     fields). The format rules (lengths, code lists, cross-field rules) are those of \
                     `/api/v1/schemas/{kind}`, applied by `POST /api/v1/validate` and by the ledger."
                )),
            );
        }
    }
    definitions.extend(shapes);
    // The criteria are read by serde, then checked (`CriteriaSet::check`): the schema keeps
    // every rule it can say.
    let mut criteria = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let _criteria = criteria.subschema_for::<borderlink_risk::CriteriaSet>();
    definitions.extend(criteria.take_definitions(true));
    definitions.insert(
        "Document".into(),
        serde_json::json!({
            "description": "Any JSON value: a document that is not a valid record (or not a record at \
                            all) is still validated, and the report says why it is not valid"
        }),
    );
    let declaration = serde_json::to_value(&declaration).unwrap_or(Value::Null);
    definitions.insert(
        "ScoreRequest".into(),
        serde_json::json!({
            "description": "One declaration record, an array of them, or `{\"declarations\": [...]}`",
            "oneOf": [
                declaration,
                {"type": "array", "items": declaration},
                {"type": "object", "required": ["declarations"], "additionalProperties": false,
                 "properties": {"declarations": {"type": "array", "items": declaration}}}
            ]
        }),
    );
    if let Some(schemas) = doc
        .as_object_mut()
        .map(|root| root.entry("components").or_insert_with(|| Value::Object(Map::new())))
        .and_then(Value::as_object_mut)
        .map(|components| components.entry("schemas").or_insert_with(|| Value::Object(Map::new())))
        .and_then(Value::as_object_mut)
    {
        schemas.extend(definitions);
    }
    bound_integers(&mut doc);
    doc
}

/// Makes a record's JSON Schema say what serde reads: the format rules (lengths, patterns) that
/// only validation applies are dropped.
#[derive(Debug, Clone, Copy)]
struct RecordShape;

impl schemars::transform::Transform for RecordShape {
    fn transform(&mut self, schema: &mut schemars::Schema) {
        if let Some(o) = schema.as_object_mut() {
            for keyword in ["minLength", "maxLength", "pattern"] {
                o.remove(keyword);
            }
        }
        schemars::transform::transform_subschemas(self, schema);
    }
}

/// Gives every unsigned integer of the document (parameters, bodies, answers) the range of its
/// Rust type: JSON Schema integers are unbounded, and serde refuses what does not fit
/// (`limit=1e30` is not a `usize`). schemars names the type in `format` (`uint64`, `uint32`, …);
/// utoipa writes a `u64` or `usize` as `minimum: 0` with `format: int64` or none.
fn bound_integers(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let integer = match o.get("type") {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
                _ => false,
            };
            let unsigned = o.get("minimum").and_then(Value::as_f64).is_some_and(|m| m >= 0.0);
            let max: Option<Value> = match o.get("format").and_then(Value::as_str) {
                _ if !integer => None,
                Some("uint8") => Some(u8::MAX.into()),
                Some("uint16") => Some(u16::MAX.into()),
                Some("uint32") => Some(u32::MAX.into()),
                Some("uint64" | "uint") => Some(u64::MAX.into()),
                None | Some("int64") if unsigned => Some(u64::MAX.into()),
                _ => None,
            };
            if let Some(max) = max {
                o.entry("minimum").or_insert(0.into());
                o.entry("maximum").or_insert(max);
            }
            o.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// The OpenAPI document of this node's API.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
pub(crate) async fn serve(_: crate::principal::Require<crate::principal::Public>) -> Json<&'static Value> {
    Json(document())
}
