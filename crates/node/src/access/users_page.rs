//! `/admin/users`: the administrator's page of this node's accounts — list, add, disable,
//! reset a password. Every form carries the session's CSRF token; every name shown is escaped
//! (maud). A generated password or TOTP URI is shown once, on the answer to the form, which is
//! never cached.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use borderlink_access::{Account, Role};
use maud::{Markup, html};

use super::users_api::service;
use crate::console::{csrf, layout};
use crate::error::{ApiError, ErrorCode};
use crate::principal::{ManageUsers, Require};
use crate::server::SharedState;

/// What the page says after a change.
enum Notice {
    Done(String),
    Secret { what: String, password: Option<String>, totp_uri: Option<String> },
    Error(ApiError),
}

/// `GET /admin/users`.
pub(crate) async fn page(_: Require<ManageUsers>, State(state): State<SharedState>) -> Response {
    render(&state, None).await
}

/// `POST /admin/users`: adds an account from the form (roles as `role-NAME` checkboxes).
pub(crate) async fn add(
    who: Require<ManageUsers>,
    State(state): State<SharedState>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let username = f.get("username").map(|s| s.trim().to_owned()).unwrap_or_default();
    let roles: Vec<Role> = Role::ALL.into_iter().filter(|r| f.contains_key(&format!("role-{}", r.name()))).collect();
    let password = f.get("password").filter(|p| !p.is_empty()).cloned();
    let totp = f.contains_key("totp");
    let result = match (service(&state), roles.is_empty()) {
        (Err(e), _) => Err(e),
        (_, true) => Err(ApiError::Account(borderlink_access::AccessError::NoRoles)),
        (Ok(s), false) => s.add(username, roles, password, totp, state.clock.now_ms()).await,
    };
    let notice = match result {
        Ok(added) => {
            tracing::info!(username = %added.account.username, roles = ?added.account.roles, by = who.principal.kind(), "account added");
            Notice::Secret {
                what: format!("Account {} added.", added.account.username),
                password: added.generated_password,
                totp_uri: added.totp.map(|t| t.uri),
            }
        }
        Err(e) => Notice::Error(e),
    };
    render(&state, Some(notice)).await
}

/// `POST /admin/users/{username}/disable`.
pub(crate) async fn disable(
    who: Require<ManageUsers>,
    State(state): State<SharedState>,
    Path(username): Path<String>,
) -> Response {
    let result = match service(&state) {
        Ok(s) => s.disable(username).await,
        Err(e) => Err(e),
    };
    let notice = match result {
        Ok(account) => {
            if let Some(console) = &state.console {
                console.end_sessions_of(&account.username);
            }
            tracing::info!(username = %account.username, by = who.principal.kind(), "account disabled");
            Notice::Done(format!("Account {} disabled; its sessions ended.", account.username))
        }
        Err(e) => Notice::Error(e),
    };
    render(&state, Some(notice)).await
}

/// `POST /admin/users/{username}/password`: a new generated password, shown once.
pub(crate) async fn reset_password(
    who: Require<ManageUsers>,
    State(state): State<SharedState>,
    Path(username): Path<String>,
) -> Response {
    let result = match service(&state) {
        Ok(s) => s.reset_password(username, None).await,
        Err(e) => Err(e),
    };
    let notice = match result {
        Ok((account, password)) => {
            if let Some(console) = &state.console {
                console.end_sessions_of(&account.username);
            }
            tracing::info!(username = %account.username, by = who.principal.kind(), "password reset");
            Notice::Secret { what: format!("New password for {}.", account.username), password, totp_uri: None }
        }
        Err(e) => Notice::Error(e),
    };
    render(&state, Some(notice)).await
}

async fn render(state: &SharedState, notice: Option<Notice>) -> Response {
    let (accounts, organisation) = match service(state) {
        Ok(s) => (s.list().await, s.organisation().to_owned()),
        Err(e) => (Err(e), String::new()),
    };
    let status = match (&notice, &accounts) {
        (Some(Notice::Error(e)), _) | (_, Err(e)) => e.error_code().status(),
        _ => axum::http::StatusCode::OK,
    };
    let body = html! {
        section.panel {
            h1 { "Users" }
            p.lead { "The people of " strong { (organisation) } " who log in to this node, and their roles. Disabling an account or resetting its password ends its sessions." }
            @match &notice {
                Some(Notice::Done(text)) => p.notice role="status" { (text) },
                Some(Notice::Secret { what, password, totp_uri }) => div.notice role="status" {
                    p { (what) }
                    @if let Some(p) = password { p { "Password (shown once): " code #generated-password { (p) } } }
                    @if let Some(u) = totp_uri { p { "Second factor (enter in an authenticator app, shown once): " code #new-totp { (u) } } }
                },
                Some(Notice::Error(e)) => p.error role="alert" { (e.to_string()) },
                None => {},
            }
            @match &accounts {
                Ok(list) => (table(list)),
                Err(e) => p.error role="alert" { (e.to_string()) },
            }
        }
        section.panel {
            h2 { "Add an account" }
            form #add-user method="post" action="/admin/users" {
                (csrf::field())
                label for="new-username" { "Username" }
                input #new-username type="text" name="username" required pattern="[a-z][a-z0-9._\\-]{2,31}" autocomplete="off";
                fieldset {
                    legend { "Roles" }
                    @for r in Role::ALL {
                        label { input type="checkbox" name=(format!("role-{}", r.name())); " " (r.name()) }
                    }
                }
                label for="new-password" { "Password (at least 12 characters; leave empty to generate one)" }
                input #new-password type="password" name="password" autocomplete="new-password";
                label { input type="checkbox" name="totp"; " Second factor (TOTP)" }
                button type="submit" { "Add" }
            }
        }
    };
    let mut response = layout("Users", super::USERS, body).with_status(status).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn table(accounts: &[Account]) -> Markup {
    html! {
        table.users {
            thead { tr { th { "Username" } th { "Roles" } th { "Status" } th { "Second factor" } th { "Actions" } } }
            tbody {
                @for a in accounts {
                    tr {
                        td { (a.username) }
                        td { (a.roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")) }
                        td { @if a.disabled { "disabled" } @else if a.locked_until_ms.is_some() { "locked after failed logins" } @else { "active" } }
                        td { @if a.has_totp() { "TOTP" } @else { "—" } }
                        td {
                            @if !a.disabled {
                                form.inline method="post" action=(format!("/admin/users/{}/disable", a.username)) {
                                    (csrf::field())
                                    button type="submit" { "Disable" }
                                }
                            }
                            form.inline method="post" action=(format!("/admin/users/{}/password", a.username)) {
                                (csrf::field())
                                button type="submit" { "Reset password" }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_the_table() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let accounts = borderlink_access::Accounts::open(&dir.path().join("a.redb")).expect("open");
        let mut a = accounts.add("amina", "gb-hmrc", &[Role::Officer], "a long enough password", 0).expect("add");
        a.username = "<script>alert(1)</script>".into();
        let html = table(&[a]).into_string();
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
    }
}
