//! The accounts of one node, in one redb file.
//!
//! Invariants kept here:
//! - the file is opened as untrusted input (`borderlink_ledger::store::open_verified`: every
//!   page's checksum checked, mode 0600, an existing file never re-initialised), and an account
//!   that does not decode is an error, never a panic;
//! - a login fails the same way, in about the same time, for an unknown username and a wrong
//!   password (a dummy hash is verified for unknown names);
//! - after [`MAX_FAILURES`] failures in a row an account is locked for [`LOCK_MS`], whatever is
//!   presented meanwhile; a success resets the count; a one-time code is accepted once.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{AccessError, Account, LoginError, Role, password, totp, validate_username};

const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");

/// Failed logins in a row that lock an account.
pub const MAX_FAILURES: u32 = 5;

/// How long a lock lasts: 15 minutes.
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// A second factor just enrolled: shown once to the person, never again.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The secret, base32 (for typing into an authenticator app).
    pub secret_base32: String,
    /// The `otpauth://` URI (for a QR code or a link).
    pub uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment { .. }")
    }
}

/// The accounts store.
#[derive(Debug)]
pub struct Accounts {
    db: Database,
}

fn storage<E: std::fmt::Display>(e: E) -> AccessError {
    AccessError::Storage(e.to_string())
}

fn decode(username: &str, bytes: &[u8]) -> Result<Account, AccessError> {
    serde_json::from_slice(bytes)
        .map_err(|e| AccessError::Storage(format!("account `{username}` does not decode: {e}")))
}

impl Accounts {
    /// Opens (or creates) the accounts file at `path`, verifying it.
    pub fn open(path: &Path) -> Result<Self, AccessError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| storage(format!("{}: {e}", dir.display())))?;
        }
        let db = borderlink_ledger::store::open_verified(path)
            .map_err(|e| AccessError::Storage(format!("{}: {e}", path.display())))?;
        let w = db.begin_write().map_err(storage)?;
        w.open_table(ACCOUNTS).map_err(storage)?;
        w.commit().map_err(storage)?;
        Ok(Self { db })
    }

    /// The account `username`, if any.
    pub fn get(&self, username: &str) -> Result<Option<Account>, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        let t = r.open_table(ACCOUNTS).map_err(storage)?;
        let found = t.get(username).map_err(storage)?;
        found.map(|v| decode(username, v.value())).transpose()
    }

    /// Every account, by username.
    pub fn list(&self) -> Result<Vec<Account>, AccessError> {
        let r = self.db.begin_read().map_err(storage)?;
        let t = r.open_table(ACCOUNTS).map_err(storage)?;
        let mut out = Vec::new();
        for entry in t.iter().map_err(storage)? {
            let (k, v) = entry.map_err(storage)?;
            out.push(decode(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// Whether any account is an active administrator.
    pub fn has_administrator(&self) -> Result<bool, AccessError> {
        Ok(self.list()?.iter().any(|a| !a.disabled && a.has(Role::Administrator)))
    }

    fn put(&self, account: &Account) -> Result<(), AccessError> {
        let bytes = serde_json::to_vec(account).map_err(storage)?;
        let w = self.db.begin_write().map_err(storage)?;
        {
            let mut t = w.open_table(ACCOUNTS).map_err(storage)?;
            t.insert(account.username.as_str(), bytes.as_slice()).map_err(storage)?;
        }
        w.commit().map_err(storage)
    }

    /// Creates an account of `organisation` with `roles` and `password` (checked against the
    /// policy, stored as an argon2id hash).
    pub fn add(
        &self,
        username: &str,
        organisation: &str,
        roles: &[Role],
        password: &str,
        now_ms: i64,
    ) -> Result<Account, AccessError> {
        validate_username(username)?;
        password::check_policy(username, password)?;
        if roles.is_empty() {
            return Err(AccessError::NoRoles);
        }
        if self.get(username)?.is_some() {
            return Err(AccessError::Exists(username.to_owned()));
        }
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        let account = Account {
            username: username.to_owned(),
            organisation: organisation.to_owned(),
            roles,
            disabled: false,
            created_at_ms: now_ms,
            failed_logins: 0,
            locked_until_ms: None,
            password_hash: password::hash(password)?,
            totp_secret: None,
            totp_last_step: None,
        };
        self.put(&account)?;
        Ok(account)
    }

    fn existing(&self, username: &str) -> Result<Account, AccessError> {
        self.get(username)?.ok_or_else(|| AccessError::NotFound(username.to_owned()))
    }

    /// Gives `username` a new TOTP secret (replacing any) and returns it, once.
    pub fn enroll_totp(&self, username: &str) -> Result<TotpEnrolment, AccessError> {
        let mut account = self.existing(username)?;
        let secret = totp::new_secret();
        let enrolment = TotpEnrolment {
            secret_base32: totp::base32(&secret),
            uri: totp::uri(&secret, &format!("Borderlink-{}", account.organisation), username),
        };
        account.totp_secret = Some(secret);
        account.totp_last_step = None;
        self.put(&account)?;
        Ok(enrolment)
    }

    /// Disables `username`: it can no longer log in (the node also ends its sessions).
    pub fn disable(&self, username: &str) -> Result<Account, AccessError> {
        let mut account = self.existing(username)?;
        account.disabled = true;
        self.put(&account)?;
        Ok(account)
    }

    /// Sets a new password for `username` (checked against the policy) and lifts any lock.
    pub fn set_password(&self, username: &str, password: &str) -> Result<Account, AccessError> {
        let mut account = self.existing(username)?;
        password::check_policy(username, password)?;
        account.password_hash = password::hash(password)?;
        account.failed_logins = 0;
        account.locked_until_ms = None;
        self.put(&account)?;
        Ok(account)
    }

    /// Checks a login: the password, then (when the account has one) the one-time code.
    /// Failures count towards the lock; a success resets the count.
    pub fn authenticate(
        &self,
        username: &str,
        password: &str,
        totp_code: Option<&str>,
        now_ms: i64,
    ) -> Result<Account, LoginError> {
        let found = self.get(username).map_err(|e| LoginError::Storage(e.to_string()))?;
        let Some(mut account) = found else {
            password::verify_nothing(password);
            return Err(LoginError::BadCredentials);
        };
        if account.locked_at(now_ms) {
            return Err(LoginError::Locked { until_ms: account.locked_until_ms.unwrap_or(now_ms) });
        }
        let outcome = self.check(&mut account, password, totp_code, now_ms);
        match &outcome {
            Ok(()) => {
                account.failed_logins = 0;
                account.locked_until_ms = None;
            }
            // Asking for the code after a right password is no failure.
            Err(LoginError::TotpRequired | LoginError::Disabled) => {}
            Err(_) => {
                // A lock that has run out starts a fresh count.
                if account.locked_until_ms.is_some() {
                    account.failed_logins = 0;
                    account.locked_until_ms = None;
                }
                account.failed_logins += 1;
                if account.failed_logins >= MAX_FAILURES {
                    account.locked_until_ms = Some(now_ms + LOCK_MS);
                }
            }
        }
        self.put(&account).map_err(|e| LoginError::Storage(e.to_string()))?;
        outcome.map(|()| account)
    }

    fn check(
        &self,
        account: &mut Account,
        password: &str,
        totp_code: Option<&str>,
        now_ms: i64,
    ) -> Result<(), LoginError> {
        if !password::verify(password, &account.password_hash) {
            return Err(LoginError::BadCredentials);
        }
        if account.disabled {
            return Err(LoginError::Disabled);
        }
        let Some(secret) = &account.totp_secret else {
            return Ok(());
        };
        let code = totp_code.map(str::trim).filter(|c| !c.is_empty()).ok_or(LoginError::TotpRequired)?;
        match totp::matching_step(secret, code, now_ms) {
            Some(step) if account.totp_last_step.is_none_or(|last| step > last) => {
                account.totp_last_step = Some(step);
                Ok(())
            }
            _ => Err(LoginError::TotpWrong),
        }
    }

    /// The current one-time code of `username` (tests drive a second factor with it).
    #[doc(hidden)]
    pub fn current_totp_code(&self, username: &str, now_ms: i64) -> Option<String> {
        let account = self.get(username).ok()??;
        account.totp_secret.as_ref().map(|s| totp::code(s, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "a long enough password";
    const T0: i64 = 1_700_000_000_000;

    fn store() -> (tempfile::TempDir, Accounts) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let accounts = Accounts::open(&dir.path().join("access/accounts.redb")).expect("open");
        (dir, accounts)
    }

    fn with_amina() -> (tempfile::TempDir, Accounts) {
        let (dir, a) = store();
        a.add("amina", "gb-hmrc", &[Role::Officer], PASSWORD, T0).expect("add");
        (dir, a)
    }

    #[test]
    fn the_right_password_logs_in_and_the_file_is_private_and_holds_no_password() {
        let (dir, a) = with_amina();
        let account = a.authenticate("amina", PASSWORD, None, T0).expect("login");
        assert_eq!((account.username.as_str(), account.organisation.as_str()), ("amina", "gb-hmrc"));
        assert_eq!(account.roles, vec![Role::Officer]);
        assert!(!format!("{account:?}").contains("argon2"), "Debug shows no hash");
        drop(a);
        let path = dir.path().join("access/accounts.redb");
        let bytes = std::fs::read(&path).expect("read");
        assert!(!bytes.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()), "no clear password on disk");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
        let reopened = Accounts::open(&path).expect("reopen");
        assert_eq!(reopened.list().expect("list").len(), 1);
    }

    #[test]
    fn a_wrong_password_and_an_unknown_user_read_the_same() {
        let (_dir, a) = with_amina();
        assert_eq!(a.authenticate("amina", "wrong password!!", None, T0).unwrap_err(), LoginError::BadCredentials);
        assert_eq!(a.authenticate("nobody", PASSWORD, None, T0).unwrap_err(), LoginError::BadCredentials);
        assert_eq!(
            a.authenticate("amina", "wrong", None, T0).unwrap_err().to_string(),
            a.authenticate("nobody", "wrong", None, T0).unwrap_err().to_string()
        );
    }

    #[test]
    fn five_failures_lock_the_account_for_fifteen_minutes_even_for_the_right_password() {
        let (_dir, a) = with_amina();
        for i in 0..MAX_FAILURES {
            assert_eq!(
                a.authenticate("amina", "wrong password!!", None, T0 + i64::from(i)).unwrap_err().reason(),
                "bad_credentials"
            );
        }
        let locked = a.authenticate("amina", PASSWORD, None, T0 + 10).unwrap_err();
        assert!(matches!(locked, LoginError::Locked { until_ms } if until_ms == T0 + 4 + LOCK_MS), "{locked:?}");
        assert!(a.authenticate("amina", PASSWORD, None, T0 + 4 + LOCK_MS).is_ok(), "the lock runs out");
        assert_eq!(a.get("amina").expect("get").expect("amina").failed_logins, 0);
    }

    #[test]
    fn a_password_reset_lifts_the_lock() {
        let (_dir, a) = with_amina();
        for _ in 0..MAX_FAILURES {
            let _ = a.authenticate("amina", "wrong password!!", None, T0);
        }
        a.set_password("amina", "another long password").expect("reset");
        assert!(a.authenticate("amina", "another long password", None, T0 + 1).is_ok());
        assert_eq!(a.authenticate("amina", PASSWORD, None, T0 + 2).unwrap_err(), LoginError::BadCredentials);
    }

    #[test]
    fn a_disabled_account_cannot_log_in_and_says_so_only_to_the_right_password() {
        let (_dir, a) = with_amina();
        a.disable("amina").expect("disable");
        assert_eq!(a.authenticate("amina", PASSWORD, None, T0).unwrap_err(), LoginError::Disabled);
        assert_eq!(a.authenticate("amina", "wrong password!!", None, T0).unwrap_err(), LoginError::BadCredentials);
    }

    #[test]
    fn totp_is_required_checked_and_good_once() {
        let (_dir, a) = with_amina();
        let enrolment = a.enroll_totp("amina").expect("enroll");
        assert!(enrolment.uri.starts_with("otpauth://totp/Borderlink-gb-hmrc:amina?secret="), "{}", enrolment.uri);
        assert!(!format!("{enrolment:?}").contains(&enrolment.secret_base32));
        assert_eq!(a.authenticate("amina", PASSWORD, None, T0).unwrap_err(), LoginError::TotpRequired);
        let code = a.current_totp_code("amina", T0).expect("code");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert_eq!(a.authenticate("amina", PASSWORD, Some(wrong), T0).unwrap_err(), LoginError::TotpWrong);
        assert!(a.authenticate("amina", PASSWORD, Some(&code), T0).is_ok());
        assert_eq!(a.authenticate("amina", PASSWORD, Some(&code), T0 + 1).unwrap_err(), LoginError::TotpWrong, "once");
        assert_eq!(a.get("amina").expect("get").expect("amina").failed_logins, 1, "a wrong code counts");
    }

    #[test]
    fn additions_are_validated() {
        let (_dir, a) = with_amina();
        assert!(matches!(a.add("amina", "gb-hmrc", &[Role::Auditor], PASSWORD, T0), Err(AccessError::Exists(_))));
        assert!(matches!(
            a.add("<b>x</b>", "gb-hmrc", &[Role::Auditor], PASSWORD, T0),
            Err(AccessError::InvalidUsername(_))
        ));
        assert!(matches!(a.add("bob", "gb-hmrc", &[Role::Auditor], "short", T0), Err(AccessError::WeakPassword(_))));
        assert!(matches!(a.add("bob", "gb-hmrc", &[], PASSWORD, T0), Err(AccessError::NoRoles)));
        assert!(matches!(a.disable("nobody"), Err(AccessError::NotFound(_))));
        assert!(!a.has_administrator().expect("list"));
        a.add("root", "gb-hmrc", &[Role::Administrator, Role::Administrator], PASSWORD, T0).expect("add");
        assert!(a.has_administrator().expect("list"));
        assert_eq!(a.get("root").expect("get").expect("root").roles, vec![Role::Administrator]);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("accounts.redb");
        std::fs::write(&path, b"not a database at all").expect("write");
        assert!(matches!(Accounts::open(&path), Err(AccessError::Storage(_))));
    }
}
