//! The second factor: time-based one-time codes (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps),
//! accepted one step either side of now, each code once.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use totp_rs::{Algorithm, TOTP};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;

/// Digits per code.
pub const DIGITS: usize = 6;

/// A new random secret: 160 bits, the size RFC 4226 recommends.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8]) -> Option<TOTP> {
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS, secret.to_vec()).ok()
}

/// The step a code of `now_ms` belongs to.
pub fn step(now_ms: i64) -> u64 {
    u64::try_from(now_ms).unwrap_or(0) / 1000 / STEP_SECS
}

/// The step within one of now whose code `code` is, if any. A caller refuses a step it has
/// seen used (each code once).
pub fn matching_step(secret: &[u8], code: &str, now_ms: i64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret)?;
    let now = step(now_ms);
    [now.saturating_sub(1), now, now + 1].into_iter().find(|s| {
        let expected = totp.generate(s * STEP_SECS);
        // Constant time: a code is compared byte by byte without stopping early.
        expected.len() == code.len() && expected.bytes().zip(code.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
    })
}

/// The code of `secret` at `now_ms` (for tests and for a client that holds the secret).
pub fn code(secret: &[u8], now_ms: i64) -> String {
    totp(secret).map(|t| t.generate(step(now_ms) * STEP_SECS)).unwrap_or_default()
}

/// RFC 4648 base32 without padding, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (35 - 5 * i)) & 31) as usize]));
        }
    }
    out
}

/// Decodes RFC 4648 base32 (upper or lower case, padding and spaces ignored).
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b'=' | b' ')) {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The current code of the secret in an `otpauth://` URI (what an authenticator app shows).
pub fn code_of_uri(uri: &str, now_ms: i64) -> Option<String> {
    let secret = uri.split(['?', '&']).find_map(|kv| kv.strip_prefix("secret="))?;
    Some(code(&from_base32(secret)?, now_ms))
}

/// The `otpauth://` URI an authenticator app enrols from (Key Uri Format).
pub fn uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let secret = base32(secret);
    let (issuer, account) = (escape(issuer), escape(account));
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    )
}

/// Percent-encodes all but unreserved characters (RFC 3986).
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) → 287082 (6 digits).
        let secret = b"12345678901234567890";
        assert_eq!(code(secret, 59_000), "287082");
        assert_eq!(matching_step(secret, "287082", 59_000), Some(1));
    }

    #[test]
    fn a_code_holds_one_step_either_side_and_no_further() {
        let secret = new_secret();
        let now = 1_700_000_000_000;
        let c = code(&secret, now);
        assert_eq!(matching_step(&secret, &c, now), Some(step(now)));
        assert!(matching_step(&secret, &c, now + 30_000).is_some());
        assert!(matching_step(&secret, &c, now - 30_000).is_some());
        assert_eq!(matching_step(&secret, &c, now + 90_000), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn base32_and_the_uri() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(from_base32("MZXW6YTBOI").expect("decodes"), b"foobar");
        assert_eq!(from_base32("mzxw6ytboi======").expect("decodes"), b"foobar");
        assert_eq!(from_base32("MZ1"), None);
        let u = uri(b"12345678901234567890", "gb-hmrc", "amina");
        assert_eq!(code_of_uri(&u, 59_000).as_deref(), Some("287082"));
        assert_eq!(
            u,
            "otpauth://totp/gb-hmrc:amina?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=gb-hmrc&algorithm=SHA1&digits=6&period=30"
        );
    }
}
