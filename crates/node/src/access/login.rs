//! `GET /login` and `POST /login`: a person opens the console with their account (username,
//! password and, when the account has one, the one-time code), or the bootstrap operator with
//! the node's console token; either gets a session (its id in an HttpOnly, SameSite=Strict
//! cookie, see `session.rs`). `POST /logout` ends it.
//!
//! `GET /login?token=…` (the link the demo prints) is served for convenience: the request log
//! never holds a query string (`server.rs`), and the answer is a redirect, so the address bar
//! and the `Referer` of the next page no longer hold the token.
//!
//! Every refusal is counted in `borderlink_login_failed_total{reason}` and logged with its
//! reason and the username tried (never a password, a token or a session id).

use std::net::{IpAddr, SocketAddr};

use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::AccessService;
use crate::console::{Page, Section, layout};
use crate::server::SharedState;
use crate::session::{self, Holder};

/// The client's address (an in-process request has none).
#[derive(Debug)]
pub(crate) struct ClientIp(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    token: Option<String>,
}

/// `GET /login`: the login form, or (with `?token=`) the operator's login itself.
pub(crate) async fn page(State(state): State<SharedState>, ip: ClientIp, Query(q): Query<LoginQuery>) -> Response {
    match q.token {
        Some(t) => token_login(&state, ip.0, &t),
        None => login_form(None, "").into_response(),
    }
}

/// The login form's body: an account's credentials, or the console token.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    /// The purpose the person declares for the session's reads (empty: their role's usual one).
    #[serde(default)]
    purpose: String,
}

/// The purpose a session reads for unless its person declares another: their first role's
/// usual work.
pub(crate) fn usual_purpose(roles: &[borderlink_access::Role]) -> borderlink_access::Purpose {
    use borderlink_access::{Purpose, Role};
    match roles.first() {
        Some(Role::Analyst | Role::RiskOfficer) => Purpose::RiskAnalysis,
        Some(Role::Auditor | Role::Administrator) => Purpose::Audit,
        _ => Purpose::Clearance,
    }
}

/// `POST /login`.
pub(crate) async fn submit(State(state): State<SharedState>, ip: ClientIp, Form(f): Form<LoginForm>) -> Response {
    if !f.token.trim().is_empty() {
        return token_login(&state, ip.0, &f.token);
    }
    let (Some(console), Some(access)) = (state.console.as_ref(), state.services.get::<AccessService>()) else {
        return no_ledger();
    };
    let now = state.clock.now_ms();
    if let Some(secs) = access.throttled(ip.0, now) {
        return refused(
            &state,
            "throttled",
            &f.username,
            &format!("Too many failed logins from here; try again in {secs} s."),
        )
        .with_status(StatusCode::TOO_MANY_REQUESTS)
        .into_response();
    }
    let username = f.username.trim().to_owned();
    let code = Some(f.code).filter(|c| !c.trim().is_empty());
    let declared = match f.purpose.trim() {
        "" => None,
        name => match borderlink_access::Purpose::parse(name) {
            Some(p) => Some(p),
            None => {
                return login_form(Some(&format!("{name:?} is not a purpose.")), &username)
                    .with_status(StatusCode::BAD_REQUEST)
                    .into_response();
            }
        },
    };
    match access.authenticate(username.clone(), f.password, code, now).await {
        Ok(account) => {
            tracing::info!(username = %account.username, roles = ?account.roles, "login");
            let purpose = declared.unwrap_or_else(|| usual_purpose(&account.roles));
            let holder =
                Holder::Person { username: account.username, organisation: account.organisation, roles: account.roles };
            let id = console.open_session_for(holder, Some(purpose.name().to_owned()), now);
            with_cookie(Redirect::to("/ledger").into_response(), &session::cookie(&id, state.https))
        }
        Err(e) => {
            if !matches!(e, borderlink_access::LoginError::TotpRequired) {
                access.failed(ip.0, now);
            }
            refused(&state, e.reason(), &username, &sentence(&e.to_string())).into_response()
        }
    }
}

fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".").unwrap_or_default()
}

/// Counts and logs a refused login, and answers the form again with `message`.
fn refused(state: &SharedState, reason: &'static str, username: &str, message: &str) -> Page {
    metrics::counter!("borderlink_login_failed_total", "reason" => reason, crate::metrics::NODE => crate::metrics::node_label(state))
        .increment(1);
    // The username tried is logged as typed only when it is a valid name: no markup or
    // control characters reach the log.
    let shown = if borderlink_access::validate_username(username).is_ok() { username } else { "(not a username)" };
    tracing::info!(reason, username = %shown, "login refused");
    login_form(Some(message), username).with_status(StatusCode::UNAUTHORIZED)
}

fn no_ledger() -> Response {
    login_form(Some("This node runs without a ledger: there is nothing to log in to."), "")
        .with_status(StatusCode::NOT_FOUND)
        .into_response()
}

fn token_login(state: &SharedState, ip: Option<IpAddr>, token: &str) -> Response {
    let Some(console) = state.console.as_ref() else {
        return no_ledger();
    };
    let now = state.clock.now_ms();
    let access = state.services.get::<AccessService>();
    if let Some(secs) = access.as_ref().and_then(|a| a.throttled(ip, now)) {
        return refused(state, "throttled", "", &format!("Too many failed logins from here; try again in {secs} s."))
            .with_status(StatusCode::TOO_MANY_REQUESTS)
            .into_response();
    }
    match console.login(token, now) {
        Some(id) => {
            tracing::info!("login with the console token");
            with_cookie(Redirect::to("/ledger").into_response(), &session::cookie(&id, state.https))
        }
        None => {
            if let Some(a) = &access {
                a.failed(ip, now);
            }
            refused(state, "bad_token", "", "That console token is not this node's.").into_response()
        }
    }
}

/// The body of `POST /session/purpose`.
#[derive(Debug, Deserialize)]
pub(crate) struct PurposeForm {
    purpose: String,
    /// The page to go back to (a path of this node).
    #[serde(default)]
    back: String,
}

/// `POST /session/purpose`: the session's person declares another purpose for their reads.
pub(crate) async fn set_purpose(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(f): Form<PurposeForm>,
) -> Response {
    let Some(purpose) = borderlink_access::Purpose::parse(&f.purpose) else {
        return crate::console::message_page(
            "Unknown purpose",
            &format!("{:?} is not a purpose; the purposes are: {}.", f.purpose, borderlink_access::Purpose::names()),
        )
        .with_status(StatusCode::BAD_REQUEST)
        .into_response();
    };
    match (state.console.as_ref(), session::session_id(&headers)) {
        (Some(console), Some(id)) if console.set_purpose(&id, purpose.name()) => {
            tracing::info!(purpose = purpose.name(), "session purpose changed");
            // Only a path of this node: never another site (an open redirect).
            let back = Some(f.back)
                .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'))
                .unwrap_or_else(|| "/ledger".to_owned());
            Redirect::to(&back).into_response()
        }
        _ => Redirect::to("/login").into_response(),
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

fn login_form(error: Option<&str>, username: &str) -> Page {
    layout(
        "Log in",
        Section::OTHER,
        html! {
            section.panel {
                h1 { "Log in" }
                p.lead { "The ledger holds shared border data: log in with your account of this node's organisation." }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form #login-form method="post" action="/login" {
                    label for="username" { "Username" }
                    input #username type="text" name="username" autocomplete="username" value=(username);
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password";
                    label for="code" { "One-time code (when your account has a second factor)" }
                    input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6";
                    label for="purpose" { "Purpose of your reads (recorded with every read; change it at the foot of any page)" }
                    select #purpose name="purpose" {
                        option value="" selected { "the usual one of my role" }
                        @for (name, meaning) in borderlink_ledger::read_policy::PURPOSES {
                            option value=(name) { (name) " — " (meaning) }
                        }
                    }
                    button type="submit" { "Log in" }
                }
                details {
                    summary { "Bootstrap administrator: the console token" }
                    p { "The node's console token is printed when the node starts and kept in its data folder (" code { "console.token" } "); it opens the console as the node's operator, to create the first accounts." }
                    form #token-form method="post" action="/login" {
                        label for="token" { "Console token" }
                        input #token type="password" name="token" autocomplete="off" required;
                        button type="submit" { "Open" }
                    }
                }
            }
        },
    )
}
