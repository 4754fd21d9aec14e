//! The web console's frame: the shared layout and navigation, embedded assets, the CSRF check of
//! its forms, the API reference and the pages for unknown paths. Each capability's own
//! pages live in its folder and are routed through its `Capability` value.
//!
//! Pages work without JavaScript; script modules only add conveniences (and the interactive API
//! reference). Everything shown is HTML-escaped by maud, including every part of a user's
//! document echoed back.

pub(crate) mod api_reference;
pub(crate) mod assets;
pub(crate) mod charts;
pub(crate) mod csrf;
pub(crate) mod format;
mod layout;

use axum::http::StatusCode;
use maud::html;

pub(crate) use layout::{Page, Section, layout};

/// The page for a path that matches no route. Empty states say "No such …" everywhere: "No such
/// page" here, "No such record" and "No such block" on the ledger's pages.
pub(crate) fn not_found(path: &str) -> Page {
    message_page("No such page", &format!("No such page: {path}.")).with_status(StatusCode::NOT_FOUND)
}

/// The page for a method a route does not accept.
pub(crate) fn method_not_allowed(method: &str, path: &str) -> Page {
    message_page("Method not allowed", &format!("{path} does not accept {method} requests."))
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
}

/// A page that only says something.
pub(crate) fn message_page(title: &str, message: &str) -> Page {
    layout(
        title,
        Section::OTHER,
        html! {
            section.panel {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Validate a document" } }
            }
        },
    )
}
