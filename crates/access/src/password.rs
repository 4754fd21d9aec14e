//! Password policy and hashes.
//!
//! Hashes are argon2id (RFC 9106) in PHC string form (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`)
//! with [`PARAMS`]: 19 MiB of memory, 2 passes, 1 lane — OWASP's recommended minimum for
//! argon2id, about 50 ms per hash on one core of the 2-core reference machine. The parameters
//! are stored in each hash, so raising them later still verifies the older hashes.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::AccessError;

/// The shortest password accepted.
pub const MIN_LEN: usize = 12;

/// The longest password accepted (hashing is bounded work).
pub const MAX_LEN: usize = 256;

/// argon2id memory (KiB), passes and lanes.
pub const PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

fn argon2() -> Argon2<'static> {
    let (m, t, p) = PARAMS;
    // The constants are within argon2's bounds; `Params::DEFAULT` is the same family.
    let params = Params::new(m, t, p, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Refuses a password that is too short, too long, or the username itself.
pub fn check_policy(username: &str, password: &str) -> Result<(), AccessError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(AccessError::WeakPassword(format!("a password has at least {MIN_LEN} characters")));
    }
    if len > MAX_LEN {
        return Err(AccessError::WeakPassword(format!("a password has at most {MAX_LEN} characters")));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(AccessError::WeakPassword("a password is not the username".into()));
    }
    Ok(())
}

/// The argon2id hash of `password` with a fresh random salt, as a PHC string.
pub fn hash(password: &str) -> Result<String, AccessError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccessError::Storage(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC string `hash`. A hash that does not parse matches
/// nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    password.len() <= 4 * MAX_LEN && argon2().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Spends the time of one verification, for an unknown username: a login then takes as long
/// whether the account exists or not.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not a password of anyone").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// A strong random password: 20 characters from 56 letters and digits (no look-alikes), about
/// 116 bits.
pub fn generate() -> String {
    use argon2::password_hash::rand_core::RngCore;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let b = (OsRng.next_u32() & 0xff) as usize;
        // Rejection sampling keeps the characters uniform.
        if b < ALPHABET.len() * (256 / ALPHABET.len()) {
            out.push(char::from(ALPHABET[b % ALPHABET.len()]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("correct horse battery", "not a hash"));
    }

    #[test]
    fn the_policy_refuses_short_long_and_username_passwords() {
        assert!(check_policy("amina", "short").is_err());
        assert!(check_policy("amina", &"x".repeat(MAX_LEN + 1)).is_err());
        assert!(check_policy("amina.officer", "AMINA.OFFICER").is_err());
        assert!(check_policy("amina", "twelve chars").is_ok());
        let generated = generate();
        assert_eq!(generated.len(), 20);
        assert!(check_policy("amina", &generated).is_ok());
        assert_ne!(generate(), generated);
    }
}
