//! `GET /login` and `POST /login`: the node operator opens the console with the node's console
//! token and gets a session (its id in an HttpOnly, SameSite=Strict cookie, see `session.rs`);
//! `POST /logout` ends it.
//!
//! `GET /login?token=…` (the link the demo prints) is served for convenience: the request log
//! never holds a query string (`server.rs`), and the answer is a redirect, so the address bar
//! and the `Referer` of the next page no longer hold the token.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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
    let Some(console) = state.console.as_ref() else {
        return login_form(Some("This node runs without a ledger: there is nothing to log in to."))
            .with_status(StatusCode::NOT_FOUND)
            .into_response();
    };
    match console.login(token, state.clock.now_ms()) {
        Some(id) => with_cookie(Redirect::to("/ledger").into_response(), &session::cookie(&id, state.https)),
        None => login_form(Some("That console token is not this node's."))
            .with_status(StatusCode::UNAUTHORIZED)
            .into_response(),
    }
}

/// `POST /logout`: ends the session of the request (if any) and removes its cookie.
pub(crate) async fn logout(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    if let (Some(console), Some(id)) = (state.console.as_ref(), session::session_id(&headers)) {
        console.logout(&id);
    }
    with_cookie(Redirect::to("/login").into_response(), &session::clear_cookie(state.https))
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
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
