//! Errors under `/epcis` as EPCIS 2.0 answers them: RFC 7807 problem details
//! (`application/problem+json`) whose `type` is an `epcisException:…`.
//!
//! Handlers return [`ApiError::Epcis`](crate::error::ApiError), which renders itself as a problem.
//! Every other error a request under `/epcis` can meet — the guard's refusal, the body limit,
//! an unknown path, the rate limit — is made by the node's shared layers in the standard
//! `{code, type, message}` body; [`problems`] rewrites those into problems on the way out, so
//! an EPCIS client only ever reads one error shape. The node's stable `code` is kept beside
//! the standard members.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use borderlink_iot::epcis::query::ExceptionKind;

/// The media type of problem details.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 7807 problem as `/epcis` answers errors.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct EpcisProblem {
    /// The EPCIS exception: `epcisException:ValidationException`, … (`about:blank` for errors
    /// the standard names no exception for).
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// A short summary of the exception type.
    pub(crate) title: String,
    /// The HTTP status.
    pub(crate) status: u16,
    /// What went wrong in this request: which event, field or parameter, and why.
    pub(crate) detail: String,
    /// The node's stable error code (`epcis_validation`, `unauthenticated`, …).
    pub(crate) code: String,
}

/// A problem response.
pub(crate) fn problem_response(status: StatusCode, kind: &str, title: &str, detail: &str, code: &str) -> Response {
    let body = EpcisProblem {
        kind: kind.to_owned(),
        title: title.to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: code.to_owned(),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    super::version_headers(response.headers_mut());
    response
}

/// The EPCIS exception a node error code stands for under `/epcis`.
fn exception_of(code: &str, status: StatusCode) -> Option<ExceptionKind> {
    Some(match code {
        "unauthenticated" | "forbidden" => ExceptionKind::Security,
        "payload_too_large" => ExceptionKind::CaptureLimitExceeded,
        "route_not_found" => ExceptionKind::NoSuchResource,
        "bad_request" | "invalid_query" => ExceptionKind::Validation,
        _ if status.is_server_error() => ExceptionKind::Implementation,
        _ => return None,
    })
}

/// The standard error body this layer reads.
#[derive(serde::Deserialize)]
struct StandardBody {
    code: String,
    message: String,
}

/// Rewrites the node's standard error bodies under `/epcis` into problem details (the status
/// and the other headers, `Retry-After` among them, are kept).
pub(crate) async fn problems(request: Request, next: Next) -> Response {
    if !super::is_epcis(request.uri().path()) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    let standard =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if !standard || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let Ok(found) = serde_json::from_slice::<StandardBody>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let (kind, title) = match exception_of(&found.code, status) {
        Some(k) => (k.type_uri(), k.title()),
        None => ("about:blank", status.canonical_reason().unwrap_or("Error")),
    };
    let rewritten = problem_response(status, kind, title, &found.message, &found.code);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in rewritten.headers() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, rewritten.into_body())
}
