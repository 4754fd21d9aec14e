//! Console sessions: the node operator opens the console with the node's console token (printed
//! at start, kept in `console.token` with mode 0600); the browser then holds it in an HttpOnly,
//! SameSite=Strict cookie and acts as the node's member.

use axum::http::HeaderMap;
use rand_core::{OsRng, RngCore};

/// The cookie that carries the session.
pub(crate) const COOKIE: &str = "borderlink_session";

/// A fresh random token (256 bits, hex).
pub(crate) fn new_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Compares in constant time.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session token of a request, from its cookie.
pub(crate) fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}
