//! `/api/v1/users…`: the accounts of this node's organisation, for its administrators (and the
//! node's own member by signed request: `borderlink user … --node URL --key KEY`).
//!
//! A generated password and an enrolled second factor are in the answer once, with
//! `Cache-Control: no-store`; no answer ever holds a password hash or a TOTP secret again.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use borderlink_access::Account;
use serde::{Deserialize, Serialize};

use super::AccessService;
use crate::error::ApiError;
use crate::principal::{ManageUsers, Require};
use crate::server::SharedState;

/// An account as shown to administrators: no secrets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    /// The login name.
    #[schema(example = "amina")]
    username: String,
    /// The organisation (member id).
    #[schema(example = "gb-hmrc")]
    organisation: String,
    /// The roles: officer, analyst, risk-officer, auditor, trader-user, administrator.
    #[schema(example = json!(["officer"]))]
    roles: Vec<String>,
    /// Disabled accounts cannot log in.
    disabled: bool,
    /// Whether logins need a one-time code.
    totp: bool,
    /// Locked after repeated failed logins, until `lockedUntilMs`.
    locked_until_ms: Option<i64>,
    /// When it was created (milliseconds since the epoch).
    created_at_ms: i64,
}

impl From<&Account> for User {
    fn from(a: &Account) -> Self {
        Self {
            username: a.username.clone(),
            organisation: a.organisation.clone(),
            roles: a.roles.iter().map(|r| r.name().to_owned()).collect(),
            disabled: a.disabled,
            totp: a.has_totp(),
            locked_until_ms: a.locked_until_ms,
            created_at_ms: a.created_at_ms,
        }
    }
}

/// A new account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewUser {
    /// 3 to 32 characters: lower-case letters, digits, `.`, `_`, `-`, starting with a letter.
    #[schema(example = "amina")]
    username: String,
    /// At least one role.
    #[schema(example = json!(["officer"]))]
    roles: Vec<String>,
    /// At least 12 characters; when absent, one is generated and returned once.
    #[serde(default)]
    password: Option<String>,
    /// Enrol a TOTP second factor (its `otpauth://` URI is returned once).
    #[serde(default)]
    totp: bool,
}

/// The answer to a new account or a new password: what is shown only now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Credentials {
    /// The account.
    user: User,
    /// The generated password, when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    /// The second factor's enrolment URI, when one was enrolled.
    #[serde(skip_serializing_if = "Option::is_none")]
    totp_uri: Option<String>,
}

/// A new password.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewPassword {
    /// At least 12 characters; when absent, one is generated and returned once.
    #[serde(default)]
    password: Option<String>,
}

pub(super) fn service(state: &SharedState) -> Result<Arc<AccessService>, ApiError> {
    state.services.get::<AccessService>().ok_or(ApiError::LedgerDisabled)
}

fn once(status: StatusCode, body: Credentials) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Lists this node's accounts.
#[utoipa::path(get, path = "/api/v1/users", tag = "access",
    responses(
        (status = 200, description = "Every account, by username", body = [User]),
        (status = 404, description = "This node runs without a ledger (`ledger_disabled`): it has no accounts", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list(
    _: Require<ManageUsers>,
    State(state): State<SharedState>,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(service(&state)?.list().await?.iter().map(User::from).collect()))
}

/// Adds an account of this node's organisation.
#[utoipa::path(post, path = "/api/v1/users", tag = "access",
    request_body = NewUser,
    responses(
        (status = 201, description = "The account, with its generated password and TOTP URI (shown once)", body = Credentials),
        (status = 400, description = "A username, password or role that breaks the rules (`invalid_account`)", body = crate::error::ErrorBody),
        (status = 409, description = "The username is taken (`account_exists`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn add(
    who: Require<ManageUsers>,
    State(state): State<SharedState>,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(new) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let roles = borderlink_access::parse_roles(&new.roles).map_err(ApiError::Account)?;
    let added = service(&state)?.add(new.username, roles, new.password, new.totp, state.clock.now_ms()).await?;
    tracing::info!(username = %added.account.username, roles = ?added.account.roles, by = who.principal.kind(), "account added");
    Ok(once(
        StatusCode::CREATED,
        Credentials {
            user: User::from(&added.account),
            password: added.generated_password,
            totp_uri: added.totp.map(|t| t.uri),
        },
    ))
}

/// Disables an account: it can no longer log in, and its sessions end now.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "access",
    params(("username" = String, Path, description = "The account's username")),
    responses(
        (status = 200, description = "The account, disabled", body = User),
        (status = 404, description = "No such account (`account_not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn disable(
    who: Require<ManageUsers>,
    State(state): State<SharedState>,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    let account = service(&state)?.disable(username).await?;
    if let Some(console) = &state.console {
        console.end_sessions_of(&account.username);
    }
    tracing::info!(username = %account.username, by = who.principal.kind(), "account disabled");
    Ok(Json(User::from(&account)))
}

/// Sets a new password (generated when none is given) and lifts a lock; the account's sessions
/// end now.
#[utoipa::path(post, path = "/api/v1/users/{username}/password", tag = "access",
    params(("username" = String, Path, description = "The account's username")),
    request_body = NewPassword,
    responses(
        (status = 200, description = "The account, with the generated password (shown once)", body = Credentials),
        (status = 400, description = "A password that breaks the policy (`invalid_account`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such account (`account_not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn reset_password(
    who: Require<ManageUsers>,
    State(state): State<SharedState>,
    Path(username): Path<String>,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(new) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (account, generated) = service(&state)?.reset_password(username, new.password).await?;
    if let Some(console) = &state.console {
        console.end_sessions_of(&account.username);
    }
    tracing::info!(username = %account.username, by = who.principal.kind(), "password reset");
    Ok(once(StatusCode::OK, Credentials { user: User::from(&account), password: generated, totp_uri: None }))
}
