//! Signed API requests: members authenticate to a node with the same Ed25519 key they sign
//! transactions with — no passwords, no shared secrets.
//!
//! Header: `Authorization: Borderlink member=<id>, ts=<unix ms>, sig=<base64>`, the signature
//! over `BLRQ\n<METHOD>\n<path and query>\n<ts>\n<hex SHA-256 of the body>`. A node accepts it
//! when the member is known and active, the signature verifies and `ts` is within
//! [`MAX_SKEW_MS`] of its clock.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::Hash;
use crate::identity::MemberKeys;

/// The largest clock difference accepted between a client and a node.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters), so that a
/// record id such as `GB AEOC 14274/19` stays one segment and the signed path is the path sent.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The bytes a request signature covers.
pub fn request_message(method: &str, path_and_query: &str, ts_ms: i64, body: &[u8]) -> Vec<u8> {
    format!("BLRQ\n{}\n{}\n{}\n{}", method.to_ascii_uppercase(), path_and_query, ts_ms, Hash::of(body).to_hex())
        .into_bytes()
}

/// The `Authorization` header value for a request.
pub fn authorization(keys: &MemberKeys, method: &str, path_and_query: &str, ts_ms: i64, body: &[u8]) -> String {
    let sig = keys.sign(&request_message(method, path_and_query, ts_ms, body));
    format!("Borderlink member={}, ts={ts_ms}, sig={}", keys.member, B64.encode(sig))
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The member claiming to send the request.
    pub member: String,
    /// Its timestamp.
    pub ts_ms: i64,
    /// Its signature.
    pub signature: [u8; 64],
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No or malformed header.
    #[error("missing or malformed Authorization header: expected `Borderlink member=…, ts=…, sig=…`")]
    Malformed,
    /// Timestamp too far from the node's clock.
    #[error("the request timestamp is more than 5 minutes away from the node's clock")]
    Skew,
    /// Unknown or suspended member.
    #[error("{0} is not an active member")]
    UnknownMember(String),
    /// Wrong signature.
    #[error("the request signature does not verify")]
    BadSignature,
}

impl SignedRequest {
    /// Parses the header value.
    pub fn parse(header: &str) -> Result<Self, AuthError> {
        let rest = header.strip_prefix("Borderlink ").ok_or(AuthError::Malformed)?;
        let (mut member, mut ts, mut sig) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or(AuthError::Malformed)?;
            match k {
                "member" => member = Some(v.to_owned()),
                "ts" => ts = v.parse::<i64>().ok(),
                "sig" => sig = B64.decode(v).ok().and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok()),
                _ => return Err(AuthError::Malformed),
            }
        }
        Ok(Self {
            member: member.ok_or(AuthError::Malformed)?,
            ts_ms: ts.ok_or(AuthError::Malformed)?,
            signature: sig.ok_or(AuthError::Malformed)?,
        })
    }

    /// Verifies the request against the member's key and the node's clock.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now_ms: i64,
    ) -> Result<(), AuthError> {
        if (now_ms - self.ts_ms).abs() > MAX_SKEW_MS {
            return Err(AuthError::Skew);
        }
        key.verify_strict(
            &request_message(method, path_and_query, self.ts_ms, body),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| AuthError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_requests_verify_and_tampering_fails() {
        let keys = MemberKeys {
            member: "gb-customs-hrc".into(),
            signing: ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
            encryption: x25519_dalek::StaticSecret::from([4; 32]),
        };
        let vk = keys.signing.verifying_key();
        let h = authorization(&keys, "GET", "/api/v1/records?limit=5", 1_000_000, b"");
        let r = SignedRequest::parse(&h).unwrap();
        assert_eq!(r.member, "gb-customs-hrc");
        assert_eq!(r.verify(&vk, "GET", "/api/v1/records?limit=5", b"", 1_000_500), Ok(()));
        assert_eq!(r.verify(&vk, "GET", "/api/v1/records?limit=6", b"", 1_000_500), Err(AuthError::BadSignature));
        assert_eq!(
            r.verify(&vk, "GET", "/api/v1/records?limit=5", b"", 1_000_000 + MAX_SKEW_MS + 1),
            Err(AuthError::Skew)
        );
        assert_eq!(SignedRequest::parse("Bearer x"), Err(AuthError::Malformed));
    }
}
