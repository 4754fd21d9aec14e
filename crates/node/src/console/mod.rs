//! The web console: server-rendered HTML pages (maud) and their embedded assets.
//!
//! Pages work without JavaScript; the one script module only adds conveniences. Everything
//! shown is HTML-escaped by maud, including every part of a user's document echoed back.

mod api_reference;
mod assets;
mod layout;
mod ledger;
mod network;
mod risk;
mod schemas;
mod validate;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use maud::html;

pub(crate) use layout::{Page, Section, layout};

use crate::server::SharedState;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/", get(validate::page))
        .route("/validate", get(validate::page).post(validate::submit))
        .route("/schemas", get(schemas::page))
        .route("/api", get(api_reference::page))
        .route("/login", get(ledger::login_page).post(ledger::login_submit))
        .route("/ledger", get(ledger::explorer))
        .route("/ledger/blocks/{height}", get(ledger::block))
        .route("/ledger/records/{id}", get(ledger::record))
        .route("/aeo", get(ledger::aeo))
        .route("/network", get(network::page))
        .route("/risk", get(risk::queue))
        .route("/risk/override", axum::routing::post(risk::overrule))
        .route("/risk/criteria", get(risk::criteria))
        .route("/assets/{*path}", get(assets::serve))
}

/// The page for a path that matches no route.
pub(crate) fn not_found(path: &str) -> Page {
    message_page("Page not found", &format!("There is no page at {path}.")).with_status(StatusCode::NOT_FOUND)
}

/// The page for a method a route does not accept.
pub(crate) fn method_not_allowed(method: &str, path: &str) -> Page {
    message_page("Method not allowed", &format!("{path} does not accept {method} requests."))
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
}

fn message_page(title: &str, message: &str) -> Page {
    layout(
        title,
        Section::Other,
        html! {
            section.panel {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Validate a document" } }
            }
        },
    )
}
