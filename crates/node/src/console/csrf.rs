//! Cross-site request forgery: every console form posted within a session carries that
//! session's CSRF token (a hidden `csrf` field, or an `X-CSRF-Token` header for scripts), and
//! [`check`] refuses a console `POST` without it (`403 csrf_failed`). Any write whose `Origin`
//! names another site is refused too, API included (a browser sends `Origin` on every
//! cross-site `POST`; the session cookie is also `SameSite=Strict`).
//!
//! Exempt: `/login` (no session yet; its `Origin` is still checked) and `/validate` (public; it
//! reads and changes nothing, its report goes back to the browser that sent it).
//!
//! The token of the request's session is in scope while the page renders ([`field`]), so a
//! form template need not be handed it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::error::ApiError;
use crate::server::{SharedState, is_api};

/// The form field that carries the token.
pub(crate) const FIELD: &str = "csrf";

/// The header that carries the token for scripts.
pub(crate) const HEADER: &str = "x-csrf-token";

/// Console forms that need no token.
const EXEMPT: &[&str] = &["/login", "/validate"];

tokio::task_local! {
    static CURRENT: Option<String>;
    static PURPOSE: Option<String>;
    static PAGE: String;
}

/// The path (and query) of the page being rendered, for forms that come back to it.
pub(crate) fn current_page() -> String {
    PAGE.try_with(Clone::clone).unwrap_or_else(|_| "/".to_owned())
}

/// The purpose the request's console session declared, while its page renders.
pub(crate) fn current_purpose() -> Option<String> {
    PURPOSE.try_with(Clone::clone).ok().flatten()
}

/// Whether the page renders within a session (it then has a CSRF token).
pub(crate) fn in_session() -> bool {
    CURRENT.try_with(|t| t.is_some()).unwrap_or(false)
}

/// The hidden field a console form posts back: empty outside a session.
pub(crate) fn field() -> Markup {
    let token = CURRENT.try_with(Clone::clone).ok().flatten();
    html! {
        @if let Some(t) = token { input type="hidden" name=(FIELD) value=(t); }
    }
}

/// Refuses a console `POST` of a session without the session's token, and any write from
/// another site; puts the token in scope for the page that answers.
pub(crate) async fn check(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let token = crate::principal::session_csrf(request.extensions());
    let purpose = crate::principal::session_purpose(request.extensions());
    let page = request.uri().path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(request.headers()) {
        return refuse(&state, request.uri().path(), "this form was sent from another site");
    }
    let path = request.uri().path().to_owned();
    let request = match (&token, safe || is_api(&path) || EXEMPT.contains(&path.as_str())) {
        (Some(expected), false) => match carried(request, expected, state.max_body_bytes).await {
            Ok(request) => request,
            Err(Missing::TooLarge) => {
                let error = ApiError::PayloadTooLarge { limit: state.max_body_bytes };
                let status = crate::error::ErrorCode::error_code(&error).status();
                let message = format!(
                    "This form is larger than the node's limit of {} (max_body_bytes): nothing was kept.",
                    size(state.max_body_bytes)
                );
                return super::message_page("Too large", &message).with_status(status).into_response();
            }
            Err(Missing::Token) => {
                return refuse(
                    &state,
                    &path,
                    "this form did not carry its session's token (it may be stale: reload the page and try again)",
                );
            }
        },
        _ => request,
    };
    CURRENT.scope(token, PURPOSE.scope(purpose, PAGE.scope(page, next.run(request)))).await
}

/// Whether the request's `Origin`, when it names a site, is this node (the `Host` it was sent
/// to). `null` names none: a browser sends it for a page served with `Referrer-Policy:
/// no-referrer`, as the console's pages are, so it proves nothing either way (the session's
/// CSRF token still does).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| *o != "null") else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Why a form was not let through.
enum Missing {
    /// No token, or another session's.
    Token,
    /// The body is larger than the node's limit (its token cannot be read).
    TooLarge,
}

/// A size as people read it: `8 MiB`, `512 KiB`, `100 bytes`.
pub(crate) fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// The request, rebuilt, when it carries `expected` in its header, its url-encoded form, or
/// the `csrf` part of its `multipart/form-data` form (a file upload).
async fn carried(request: Request, expected: &str, limit: usize) -> Result<Request, Missing> {
    if request.headers().get(HEADER).and_then(|v| v.to_str().ok()).is_some_and(|t| crate::session::same(t, expected)) {
        return Ok(request);
    }
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| Missing::TooLarge)?;
    let found = if multipart {
        multipart_token(&bytes).is_some_and(|v| crate::session::same(v, expected))
    } else {
        bytes
            .split(|b| *b == b'&')
            .filter_map(|pair| pair.strip_prefix(FIELD.as_bytes()).and_then(|rest| rest.strip_prefix(b"=")))
            .any(|value| std::str::from_utf8(value).is_ok_and(|v| crate::session::same(v, expected)))
    };
    if found { Ok(Request::from_parts(parts, Body::from(bytes))) } else { Err(Missing::Token) }
}

/// The value of the `csrf` part of a multipart body: the part whose headers name it
/// `name="csrf"`, up to the line break before the next boundary. Console forms put it first.
fn multipart_token(body: &[u8]) -> Option<&str> {
    let marker = b"name=\"csrf\"";
    let at = body.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let rest = &body[at..];
    let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let value = &rest[start..];
    let end = value.windows(2).position(|w| w == b"\r\n")?;
    std::str::from_utf8(&value[..end]).ok()
}

fn refuse(state: &SharedState, path: &str, why: &str) -> Response {
    metrics::counter!("borderlink_csrf_refused_total", crate::metrics::NODE => crate::metrics::node_label(state))
        .increment(1);
    tracing::info!(path, "form refused: no CSRF token");
    let error = ApiError::Csrf(format!("refused: {why}"));
    if is_api(path) {
        error.into_response()
    } else {
        let status = crate::error::ErrorCode::error_code(&error).status();
        super::message_page("Not allowed", &error.to_string()).with_status(status).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_form_carries_its_token_in_its_csrf_part() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok123\r\n--b\r\nContent-Disposition: form-data; name=\"model\"; filename=\"m\"\r\n\r\nxx\r\n--b--\r\n";
        assert_eq!(multipart_token(body), Some("tok123"));
        assert_eq!(multipart_token(b"--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nx\r\n--b--"), None);
        assert_eq!(size(8 << 20), "8 MiB");
        assert_eq!(size(2048), "2 KiB");
    }

    #[test]
    fn the_origin_must_be_the_host_it_was_sent_to() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h), "no Origin: not a browser's cross-site request");
        h.insert(header::HOST, "127.0.0.1:8080".parse().expect("header"));
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().expect("header"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().expect("header"));
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "null".parse().expect("header"));
        assert!(same_origin(&h), "a page with Referrer-Policy: no-referrer posts with Origin: null");
    }
}
