//! The accounts of the node's organisation, as the node uses them: logins (off the async
//! runtime: a hash costs tens of milliseconds), each client's failures, and the changes an
//! administrator makes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use borderlink_access::{AccessError, Account, Accounts, LoginError, Role, TotpEnrolment};

use crate::error::ApiError;

/// Failed logins from one client (an IPv4 address or an IPv6 /64) within [`CLIENT_WINDOW_MS`]
/// after which its logins are refused until the window ends. Above the per-account lock
/// (5 failures), so that guessing across many accounts from one client is bounded too.
pub(crate) const CLIENT_FAILURES: u32 = 20;

/// The window of [`CLIENT_FAILURES`]: 15 minutes.
pub(crate) const CLIENT_WINDOW_MS: i64 = 15 * 60 * 1000;

/// At most this many clients are remembered; past it, windows that ended are forgotten.
const MAX_CLIENTS: usize = 10_000;

/// The accounts service of a member node.
#[derive(Debug)]
pub(crate) struct AccessService {
    accounts: Arc<Accounts>,
    organisation: String,
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

/// A new account, and what is shown once: a generated password, an enrolled second factor.
#[derive(Debug)]
pub(crate) struct Added {
    pub(crate) account: Account,
    pub(crate) generated_password: Option<String>,
    pub(crate) totp: Option<TotpEnrolment>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AccessError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("the accounts task failed: {e}")))?
        .map_err(ApiError::Account)
}

impl AccessService {
    pub(crate) fn new(accounts: Accounts, organisation: String) -> Self {
        Self { accounts: Arc::new(accounts), organisation, failures: Mutex::default() }
    }

    /// The organisation (member id) whose accounts these are.
    pub(crate) fn organisation(&self) -> &str {
        &self.organisation
    }

    /// Seconds until `client` may try to log in again, when it failed too often lately.
    pub(crate) fn throttled(&self, client: Option<IpAddr>, now_ms: i64) -> Option<u64> {
        let key = crate::connections::client_key(client?);
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (start, count) = *failures.get(&key)?;
        let ends = start + CLIENT_WINDOW_MS;
        (count >= CLIENT_FAILURES && now_ms < ends)
            .then(|| u64::try_from(ends - now_ms).unwrap_or(0).div_ceil(1000).max(1))
    }

    /// Counts a failed login of `client`.
    pub(crate) fn failed(&self, client: Option<IpAddr>, now_ms: i64) {
        let Some(client) = client else { return };
        let key = crate::connections::client_key(client);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_CLIENTS {
            failures.retain(|_, (start, _)| now_ms < *start + CLIENT_WINDOW_MS);
        }
        let entry = failures.entry(key).or_insert((now_ms, 0));
        if now_ms >= entry.0 + CLIENT_WINDOW_MS {
            *entry = (now_ms, 0);
        }
        entry.1 += 1;
    }

    /// Checks a login (see `Accounts::authenticate`).
    pub(crate) async fn authenticate(
        &self,
        username: String,
        password: String,
        code: Option<String>,
        now_ms: i64,
    ) -> Result<Account, LoginError> {
        let accounts = Arc::clone(&self.accounts);
        tokio::task::spawn_blocking(move || accounts.authenticate(&username, &password, code.as_deref(), now_ms))
            .await
            .unwrap_or_else(|e| Err(LoginError::Storage(e.to_string())))
    }

    /// Every account.
    pub(crate) async fn list(&self) -> Result<Vec<Account>, ApiError> {
        let accounts = Arc::clone(&self.accounts);
        blocking(move || accounts.list()).await
    }

    /// Adds an account of this organisation; a missing password is generated (and returned once).
    pub(crate) async fn add(
        &self,
        username: String,
        roles: Vec<Role>,
        password: Option<String>,
        totp: bool,
        now_ms: i64,
    ) -> Result<Added, ApiError> {
        let accounts = Arc::clone(&self.accounts);
        let organisation = self.organisation.clone();
        blocking(move || {
            let generated = password.is_none().then(borderlink_access::password::generate);
            let password = password.or_else(|| generated.clone()).unwrap_or_default();
            let mut account = accounts.add(&username, &organisation, &roles, &password, now_ms)?;
            let totp = if totp { Some(accounts.enroll_totp(&username)?) } else { None };
            if let Some(found) = accounts.get(&username)? {
                account = found;
            }
            Ok(Added { account, generated_password: generated, totp })
        })
        .await
    }

    /// Disables an account.
    pub(crate) async fn disable(&self, username: String) -> Result<Account, ApiError> {
        let accounts = Arc::clone(&self.accounts);
        blocking(move || accounts.disable(&username)).await
    }

    /// Sets a new password (generated when `None`): the account and the generated password.
    pub(crate) async fn reset_password(
        &self,
        username: String,
        password: Option<String>,
    ) -> Result<(Account, Option<String>), ApiError> {
        let accounts = Arc::clone(&self.accounts);
        blocking(move || {
            let generated = password.is_none().then(borderlink_access::password::generate);
            let password = password.or_else(|| generated.clone()).unwrap_or_default();
            Ok((accounts.set_password(&username, &password)?, generated))
        })
        .await
    }
}
