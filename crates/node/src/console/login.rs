//! `GET /login` and `POST /login`: the node operator opens the console with the node's console
//! token; the browser then holds it in an HttpOnly, SameSite=Strict cookie (see `session.rs`).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::{Page, Section, layout};
use crate::server::SharedState;
use crate::session;

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    token: Option<String>,
}

/// `GET /login`: the token form, or (with `?token=`) the login itself.
pub(crate) async fn page(State(state): State<SharedState>, Query(q): Query<LoginQuery>) -> Response {
    match q.token {
        Some(t) => login(&state, &t),
        None => login_form(None).into_response(),
    }
}

/// The login form's body.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
}

/// `POST /login`.
pub(crate) async fn submit(State(state): State<SharedState>, Form(f): Form<LoginForm>) -> Response {
    login(&state, &f.token)
}

fn login(state: &SharedState, token: &str) -> Response {
    match state.console_token.as_deref() {
        Some(expected) if session::same(token.trim(), expected) => {
            let mut r = Redirect::to("/ledger").into_response();
            let cookie = format!("{}={}; HttpOnly; SameSite=Strict; Path=/", session::COOKIE, token.trim());
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Some(_) => login_form(Some("That console token is not this node's."))
            .with_status(StatusCode::UNAUTHORIZED)
            .into_response(),
        None => login_form(Some("This node runs without a ledger: there is nothing to log in to."))
            .with_status(StatusCode::NOT_FOUND)
            .into_response(),
    }
}

fn login_form(error: Option<&str>) -> Page {
    layout(
        "Log in",
        Section::OTHER,
        html! {
            section.panel {
                h1 { "Open the ledger console" }
                p.lead { "The ledger holds shared border data: the console opens with this node's console token, printed when the node starts and kept in its data folder (" code { "console.token" } ")." }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form method="post" action="/login" {
                    label for="token" { "Console token" }
                    input #token type="password" name="token" autocomplete="off" required;
                    button type="submit" { "Open" }
                }
            }
        },
    )
}
