//! `GET /assets/*`: the console's stylesheet, script and icon, embedded in the binary; and the
//! icon again at `/favicon.svg` and `/favicon.ico`, where browsers look for it unasked.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use sha2::Digest;

use crate::principal::{Public, Require};

/// The files of `crates/node/assets/`, compiled into the binary (no CDN, no files to deploy).
#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

pub(crate) async fn serve(auth: Require<Public>, Path(path): Path<String>, request_headers: HeaderMap) -> Response {
    file(auth, path, request_headers)
}

/// `GET /favicon.svg` and `GET /favicon.ico`: the icon (an SVG also at `.ico`, which browsers
/// request by habit; pages name `/favicon.svg` with `link rel="icon"`).
pub(crate) async fn favicon(auth: Require<Public>, request_headers: HeaderMap) -> Response {
    file(auth, "favicon.svg".to_owned(), request_headers)
}

fn file(_: Require<Public>, path: String, request_headers: HeaderMap) -> Response {
    let (content_type, data, hash) = match path.strip_prefix("swagger-ui/") {
        Some(name) => match super::api_reference::swagger_file(name) {
            Some((kind, bytes)) => {
                let hash: [u8; 32] = sha2::Sha256::digest(&bytes).into();
                (HeaderValue::from_str(&kind).ok(), bytes.into(), hash)
            }
            None => return super::not_found(&format!("/assets/{path}")).into_response(),
        },
        None => match Assets::get(&path) {
            Some(file) => (Some(HeaderValue::from_static(content_type(&path))), file.data, file.metadata.sha256_hash()),
            None => return super::not_found(&format!("/assets/{path}")).into_response(),
        },
    };
    // Asset URLs carry no version, so clients revalidate every time; the hash makes that cheap.
    let etag = format!("\"{}\"", hex(&hash[..16]));
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut headers = HeaderMap::new();
    if let Some(kind) = content_type {
        headers.insert(header::CONTENT_TYPE, kind);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, data).into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stylesheet_and_script_are_embedded() {
        assert!(Assets::get("console.css").is_some());
        assert!(Assets::get("console.js").is_some());
        assert!(Assets::get("favicon.svg").is_some());
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("console.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("console.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
