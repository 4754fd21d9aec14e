//! Borderlink access: the people who use a node, their roles and how they prove who they are.
//!
//! A node belongs to one member organisation (a customs administration, a trader, …); its people
//! hold [`Account`]s of that organisation, each with one or more [`Role`]s. The [`Accounts`] store
//! keeps them in one redb file (`DATA/access/accounts.redb`, mode 0600, opened as untrusted
//! input like the ledger's own files), with passwords as argon2id hashes ([`password`]), a
//! lockout after repeated failures and an optional TOTP second factor ([`totp`]).
//! [`Accounts::authenticate`] is the one way in: it answers an [`Account`] or a [`LoginError`]
//! whose [`LoginError::reason`] is a stable label for metrics.
//!
//! This crate knows nothing of HTTP, sessions or routes: the node maps roles to its permissions
//! (`crates/node/src/principal.rs`). [`Purpose`] is the declared purpose of a read; the [`audit`]
//! log records every read of personal or confidential data, hash-chained and anchored on the
//! ledger.
//!
//! Invariant: no secret (a password, its hash, a TOTP secret) is ever printed by a `Debug`
//! implementation or returned by a listing: [`Account`] keeps them private.

#![forbid(unsafe_code)]

mod account;
pub mod audit;
pub mod password;
mod purpose;
mod role;
mod store;
pub mod totp;

pub use account::{Account, validate_username};
pub use purpose::Purpose;
pub use role::{Role, parse_roles};
pub use store::{Accounts, LOCK_MS, MAX_FAILURES, TotpEnrolment};

/// Why an account could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The username breaks the rules of [`validate_username`].
    #[error(
        "invalid username `{0}`: 3 to 32 characters, lower-case letters, digits, `.`, `_` or `-`, starting with a letter"
    )]
    InvalidUsername(String),
    /// The password breaks the policy of [`password::check_policy`].
    #[error("{0}")]
    WeakPassword(String),
    /// A role name that is not one of [`Role::ALL`].
    #[error("unknown role `{0}`; expected one of: {known}", known = role::names())]
    UnknownRole(String),
    /// An account needs at least one role.
    #[error("an account needs at least one role")]
    NoRoles,
    /// The username is taken.
    #[error("an account `{0}` exists already")]
    Exists(String),
    /// No account has this username.
    #[error("no account `{0}`")]
    NotFound(String),
    /// The accounts file could not be read or written (or is damaged).
    #[error("the accounts store failed: {0}")]
    Storage(String),
}

/// Why a login was refused. The message says no more than the caller may learn: an unknown
/// username and a wrong password read the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Unknown username or wrong password.
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many failures: no login until the time given (milliseconds since the epoch).
    #[error("this account is locked after repeated failed logins; try again later")]
    Locked {
        /// When the lock ends.
        until_ms: i64,
    },
    /// The account was disabled by an administrator (said only to the right password).
    #[error("this account is disabled")]
    Disabled,
    /// The password was right; the account also needs its one-time code.
    #[error("this account needs its one-time code")]
    TotpRequired,
    /// The one-time code is wrong, expired, or was used already.
    #[error("wrong one-time code")]
    TotpWrong,
    /// The accounts store failed.
    #[error("the accounts store failed: {0}")]
    Storage(String),
}

impl LoginError {
    /// A stable label for metrics (`borderlink_login_failed_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            LoginError::BadCredentials => "bad_credentials",
            LoginError::Locked { .. } => "locked",
            LoginError::Disabled => "disabled",
            LoginError::TotpRequired => "totp_required",
            LoginError::TotpWrong => "totp_wrong",
            LoginError::Storage(_) => "storage",
        }
    }
}

impl From<borderlink_ledger::LedgerError> for AccessError {
    fn from(e: borderlink_ledger::LedgerError) -> Self {
        AccessError::Storage(e.to_string())
    }
}
