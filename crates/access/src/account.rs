//! One person's account.

use serde::{Deserialize, Serialize};

use crate::{AccessError, Role};

/// A person of a member organisation who may log in to its node.
///
/// The password hash and the TOTP secret are private: they leave this crate only through
/// [`crate::Accounts`]' checks, never through `Debug`, serialization to a caller or a listing.
#[derive(Clone, Serialize, Deserialize)]
pub struct Account {
    /// The login name (see [`validate_username`]).
    pub username: String,
    /// The member organisation the person belongs to (its member id, e.g. `gb-hmrc`).
    pub organisation: String,
    /// The person's roles, sorted, at least one.
    pub roles: Vec<Role>,
    /// A disabled account cannot log in; its sessions end.
    pub disabled: bool,
    /// When the account was created (milliseconds since the epoch).
    pub created_at_ms: i64,
    /// Failed logins since the last success (or the last lock).
    pub failed_logins: u32,
    /// No login until then (milliseconds since the epoch), after [`crate::MAX_FAILURES`] failures.
    pub locked_until_ms: Option<i64>,
    /// The argon2id PHC string.
    pub(crate) password_hash: String,
    /// The TOTP secret, when the account has a second factor.
    #[serde(default, with = "hex_bytes")]
    pub(crate) totp_secret: Option<Vec<u8>>,
    /// The last TOTP step accepted: a code is good once.
    #[serde(default)]
    pub(crate) totp_last_step: Option<u64>,
}

impl Account {
    /// Whether the account logs in with a one-time code as well.
    pub fn has_totp(&self) -> bool {
        self.totp_secret.is_some()
    }

    /// Whether the account holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether a lock is in force at `now_ms`.
    pub fn locked_at(&self, now_ms: i64) -> bool {
        self.locked_until_ms.is_some_and(|until| now_ms < until)
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("organisation", &self.organisation)
            .field("roles", &self.roles)
            .field("disabled", &self.disabled)
            .field("totp", &self.has_totp())
            .finish_non_exhaustive()
    }
}

/// Refuses a username that is not 3 to 32 characters of lower-case ASCII letters, digits, `.`,
/// `_` or `-` starting with a letter. Names are shown in pages, logs and URLs: the narrow
/// alphabet keeps them free of markup, separators and look-alikes.
pub fn validate_username(name: &str) -> Result<(), AccessError> {
    let ok = (3..=32).contains(&name.len())
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(AccessError::InvalidUsername(name.chars().take(64).collect())) }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        if text.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd hex length"));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_short_lower_case_names() {
        for good in ["amina", "j.smith", "officer_2", "a-b"] {
            assert!(validate_username(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Amina", "1abc", "a b", "<script>", "a'--", "é-user", &"a".repeat(33), ""] {
            assert!(matches!(validate_username(bad), Err(AccessError::InvalidUsername(_))), "{bad}");
        }
    }
}
