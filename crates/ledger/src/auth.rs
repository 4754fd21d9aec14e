//! Signed API requests (version 2): members authenticate to a node with the same Ed25519 key they
//! sign transactions with — no passwords, no shared secrets.
//!
//! Header: `Authorization: Borderlink v=2, member=<id>, node=<node's member id>, ts=<unix ms>,
//! nonce=<32 hex digits>, sig=<base64>`, the signature over [`request_message`]: a domain
//! separator with the version, the method, path and query, the node it is meant for, the member,
//! the time, the nonce and the SHA-256 of the body (`docs/ledger-format.md`, "Signed API
//! requests").
//!
//! A captured request must not open anything else, anywhere else, later: the node accepts it
//! only when `node` is its own member (not another node of the consortium), `ts` is within
//! [`MAX_SKEW_MS`] of its clock, the signature verifies against the active member's key, and the
//! (member, nonce) pair was not seen before while the request could still be accepted
//! ([`ReplayCache`]). Version 1 headers (no `v=`, no node, no nonce) are refused.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};
use rand_core::{OsRng, RngCore};

use crate::Hash;
use crate::identity::MemberKeys;

/// The version of the request signature scheme this release signs and accepts.
pub const VERSION: u32 = 2;

/// The largest clock difference accepted between a client and a node: 30 seconds each way.
pub const MAX_SKEW_MS: i64 = 30 * 1000;

/// A nonce's length: 128 random bits.
pub const NONCE_BYTES: usize = 16;

/// The default number of (member, nonce) pairs a node remembers (about 10 MB at most): one
/// signed request every 0.6 ms, sustained over the whole 60 s window.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

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

/// What a request signature binds besides its sender, time and nonce: which node, which
/// operation, which body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The member id of the node the request is meant for (`GET /api/v1/node` tells it).
    pub node: &'a str,
    /// The HTTP method (compared upper case).
    pub method: &'a str,
    /// The path and query exactly as sent (`/api/v1/records?limit=5`).
    pub path_and_query: &'a str,
    /// The request body (empty for a GET).
    pub body: &'a [u8],
}

impl<'a> Target<'a> {
    /// A request for `node`: `method path_and_query` with `body`.
    pub fn new(node: &'a str, method: &'a str, path_and_query: &'a str, body: &'a [u8]) -> Self {
        Self { node, method, path_and_query, body }
    }
}

/// The bytes a request signature covers:
/// `BLRQ/2\n METHOD \n path-and-query \n node \n member \n ts \n hex(nonce) \n hex(SHA-256(body))`.
pub fn request_message(member: &str, target: &Target<'_>, ts_ms: i64, nonce: &[u8; NONCE_BYTES]) -> Vec<u8> {
    format!(
        "BLRQ/{VERSION}\n{}\n{}\n{}\n{member}\n{ts_ms}\n{}\n{}",
        target.method.to_ascii_uppercase(),
        target.path_and_query,
        target.node,
        hex::encode(nonce),
        Hash::of(target.body).to_hex()
    )
    .into_bytes()
}

/// A fresh random nonce.
pub fn new_nonce() -> [u8; NONCE_BYTES] {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    nonce
}

/// The `Authorization` header value for a request, with a fresh nonce: valid once, at
/// `target.node` only, for [`MAX_SKEW_MS`] around `ts_ms`.
pub fn authorization(keys: &MemberKeys, target: &Target<'_>, ts_ms: i64) -> String {
    authorization_with_nonce(keys, target, ts_ms, &new_nonce())
}

/// The `Authorization` header value for a request with a given nonce (fixtures and tests; a
/// client uses [`authorization`]).
pub fn authorization_with_nonce(
    keys: &MemberKeys,
    target: &Target<'_>,
    ts_ms: i64,
    nonce: &[u8; NONCE_BYTES],
) -> String {
    let sig = keys.sign(&request_message(&keys.member, target, ts_ms, nonce));
    format!(
        "Borderlink v={VERSION}, member={}, node={}, ts={ts_ms}, nonce={}, sig={}",
        keys.member,
        target.node,
        hex::encode(nonce),
        B64.encode(sig)
    )
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The member claiming to send the request.
    pub member: String,
    /// The node it was signed for.
    pub node: String,
    /// Its timestamp.
    pub ts_ms: i64,
    /// Its nonce.
    pub nonce: [u8; NONCE_BYTES],
    /// Its signature.
    pub signature: [u8; 64],
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No or malformed header.
    #[error(
        "missing or malformed Authorization header: expected `Borderlink v=2, member=…, node=…, ts=…, nonce=…, sig=…`"
    )]
    Malformed,
    /// A version of the scheme this node does not accept.
    #[error(
        "signed requests of version {0} are not accepted: this node accepts version 2 only \
         (`Borderlink v=2, member=…, node=…, ts=…, nonce=…, sig=…`, see docs/ledger-format.md)"
    )]
    Version(String),
    /// Signed for another node.
    #[error("the request was signed for node {signed_for}, not this node ({this_node})")]
    WrongNode {
        /// The node named in the request.
        signed_for: String,
        /// This node's member id.
        this_node: String,
    },
    /// Timestamp too far from the node's clock.
    #[error("the request timestamp is more than 30 s away from the node's clock (now {now_ms} ms, request {ts_ms} ms)")]
    Skew {
        /// The request's time.
        ts_ms: i64,
        /// The node's time.
        now_ms: i64,
    },
    /// Unknown or suspended member.
    #[error("{0} is not an active member")]
    UnknownMember(String),
    /// Wrong signature.
    #[error("the request signature does not verify")]
    BadSignature,
    /// The (member, nonce) pair was seen before.
    #[error("this signed request was already received (same member and nonce): a signed request is accepted once")]
    Replayed,
    /// The replay cache is full of requests that could still be replayed.
    #[error(
        "the node has accepted too many signed requests in the last minute to remember another; retry in a few seconds"
    )]
    ReplayCacheFull,
}

impl SignedRequest {
    /// Parses the header value: `Borderlink v=2, member=…, node=…, ts=…, nonce=…, sig=…`, each
    /// field once, `v` first.
    pub fn parse(header: &str) -> Result<Self, AuthError> {
        let rest = header.strip_prefix("Borderlink ").ok_or(AuthError::Malformed)?;
        let mut fields = rest.split(',').map(|part| part.trim().split_once('='));
        match fields.next().flatten() {
            Some(("v", v)) if v == VERSION.to_string() => {}
            Some(("v", v)) => return Err(AuthError::Version(v.chars().take(8).collect())),
            // Version 1 had no version field: it started with the member.
            Some(("member", _)) => return Err(AuthError::Version("1".into())),
            _ => return Err(AuthError::Malformed),
        }
        let (mut member, mut node, mut ts, mut nonce, mut sig) = (None, None, None, None, None);
        for field in fields {
            let (k, v) = field.ok_or(AuthError::Malformed)?;
            let slot_was_empty = match k {
                "member" => member.replace(v.to_owned()).is_none(),
                "node" => node.replace(v.to_owned()).is_none(),
                "ts" => ts.replace(v.parse::<i64>().map_err(|_| AuthError::Malformed)?).is_none(),
                "nonce" => {
                    let bytes = hex::decode(v).ok().and_then(|b| <[u8; NONCE_BYTES]>::try_from(b.as_slice()).ok());
                    nonce.replace(bytes.ok_or(AuthError::Malformed)?).is_none()
                }
                "sig" => {
                    let bytes = B64.decode(v).ok().and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok());
                    sig.replace(bytes.ok_or(AuthError::Malformed)?).is_none()
                }
                _ => return Err(AuthError::Malformed),
            };
            if !slot_was_empty {
                return Err(AuthError::Malformed);
            }
        }
        Ok(Self {
            member: member.filter(|m| !m.is_empty()).ok_or(AuthError::Malformed)?,
            node: node.filter(|n| !n.is_empty()).ok_or(AuthError::Malformed)?,
            ts_ms: ts.ok_or(AuthError::Malformed)?,
            nonce: nonce.ok_or(AuthError::Malformed)?,
            signature: sig.ok_or(AuthError::Malformed)?,
        })
    }

    /// Verifies the request against the member's key, the receiving node and its clock. The
    /// replay check is separate ([`ReplayCache::admit`]), after this one, so that only
    /// authentic requests take room in the cache.
    pub fn verify(&self, key: &VerifyingKey, target: &Target<'_>, now_ms: i64) -> Result<(), AuthError> {
        if self.node != target.node {
            return Err(AuthError::WrongNode { signed_for: self.node.clone(), this_node: target.node.to_owned() });
        }
        if now_ms.abs_diff(self.ts_ms) > MAX_SKEW_MS.unsigned_abs() {
            return Err(AuthError::Skew { ts_ms: self.ts_ms, now_ms });
        }
        key.verify_strict(
            &request_message(&self.member, target, self.ts_ms, &self.nonce),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| AuthError::BadSignature)
    }
}

/// The (member, nonce) pairs of the signed requests a node accepted, each kept while its
/// request could still pass the clock check (until `ts + MAX_SKEW_MS`), so that each signed
/// request is accepted at most once.
///
/// Invariant: memory is bounded by the capacity. When the cache is full of pairs that have not
/// expired, a new request is **refused** ([`AuthError::ReplayCacheFull`]) rather than an entry
/// forgotten: forgetting one would reopen its request to replay.
#[derive(Debug)]
pub struct ReplayCache {
    /// (member, nonce) → the last node time at which the request could be accepted.
    seen: HashMap<(String, [u8; NONCE_BYTES]), i64>,
    capacity: usize,
    /// No entry expires before this time: a full cache is not swept again until then.
    next_expiry: i64,
    /// The last sweep of expired entries.
    swept_at: i64,
}

impl ReplayCache {
    /// A cache that remembers at most `capacity` pairs.
    pub fn new(capacity: usize) -> Self {
        Self { seen: HashMap::new(), capacity: capacity.max(1), next_expiry: i64::MAX, swept_at: i64::MIN }
    }

    /// The pairs remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Admits a verified request once: refuses a (member, nonce) pair already seen, remembers a
    /// new one until its request expires.
    pub fn admit(&mut self, request: &SignedRequest, now_ms: i64) -> Result<(), AuthError> {
        let key = (request.member.clone(), request.nonce);
        if self.seen.get(&key).is_some_and(|until| *until >= now_ms) {
            return Err(AuthError::Replayed);
        }
        // Expired pairs go once per window, or sooner when the cache is full and one can go.
        let full = self.seen.len() >= self.capacity;
        if now_ms.saturating_sub(self.swept_at) >= MAX_SKEW_MS || (full && now_ms > self.next_expiry) {
            self.sweep(now_ms);
        }
        if self.seen.len() >= self.capacity && !self.seen.contains_key(&key) {
            return Err(AuthError::ReplayCacheFull);
        }
        let until = request.ts_ms.saturating_add(MAX_SKEW_MS);
        self.next_expiry = self.next_expiry.min(until);
        self.seen.insert(key, until);
        Ok(())
    }

    fn sweep(&mut self, now_ms: i64) {
        self.seen.retain(|_, until| *until >= now_ms);
        self.next_expiry = self.seen.values().copied().min().unwrap_or(i64::MAX);
        self.swept_at = now_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> MemberKeys {
        MemberKeys {
            member: "gb-customs-hrc".into(),
            signing: ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
            encryption: x25519_dalek::StaticSecret::from([4; 32]),
        }
    }

    const NODE: &str = "nl-douane";

    #[test]
    fn signed_requests_verify_and_tampering_fails() {
        let keys = keys();
        let vk = keys.signing.verifying_key();
        let target = Target::new(NODE, "GET", "/api/v1/records?limit=5", b"");
        let h = authorization(&keys, &target, 1_000_000);
        let r = SignedRequest::parse(&h).unwrap();
        assert_eq!((r.member.as_str(), r.node.as_str()), ("gb-customs-hrc", NODE));
        assert_eq!(r.verify(&vk, &target, 1_000_500), Ok(()));
        let other_path = Target::new(NODE, "GET", "/api/v1/records?limit=6", b"");
        assert_eq!(r.verify(&vk, &other_path, 1_000_500), Err(AuthError::BadSignature));
        let other_body = Target::new(NODE, "GET", "/api/v1/records?limit=5", b"x");
        assert_eq!(r.verify(&vk, &other_body, 1_000_500), Err(AuthError::BadSignature));
        let mut other_nonce = r.clone();
        other_nonce.nonce[0] ^= 1;
        assert_eq!(other_nonce.verify(&vk, &target, 1_000_500), Err(AuthError::BadSignature));
        assert_eq!(SignedRequest::parse("Bearer x"), Err(AuthError::Malformed));
    }

    #[test]
    fn a_request_signed_for_one_node_is_refused_by_another() {
        let keys = keys();
        let h = authorization(&keys, &Target::new(NODE, "GET", "/api/v1/network", b""), 1_000_000);
        let r = SignedRequest::parse(&h).unwrap();
        let elsewhere = Target::new("gb-hmrc", "GET", "/api/v1/network", b"");
        assert_eq!(
            r.verify(&keys.signing.verifying_key(), &elsewhere, 1_000_000),
            Err(AuthError::WrongNode { signed_for: NODE.into(), this_node: "gb-hmrc".into() })
        );
        // Rewriting the node field breaks the signature.
        let forged = h.replace(&format!("node={NODE}"), "node=gb-hmrc");
        let r = SignedRequest::parse(&forged).unwrap();
        assert_eq!(r.verify(&keys.signing.verifying_key(), &elsewhere, 1_000_000), Err(AuthError::BadSignature));
    }

    #[test]
    fn only_thirty_seconds_of_clock_skew_are_accepted() {
        let keys = keys();
        let vk = keys.signing.verifying_key();
        let target = Target::new(NODE, "GET", "/api/v1/network", b"");
        let r = SignedRequest::parse(&authorization(&keys, &target, 1_000_000)).unwrap();
        assert_eq!(r.verify(&vk, &target, 1_000_000 + MAX_SKEW_MS), Ok(()));
        assert_eq!(r.verify(&vk, &target, 1_000_000 - MAX_SKEW_MS), Ok(()));
        assert!(matches!(r.verify(&vk, &target, 1_000_000 + MAX_SKEW_MS + 1), Err(AuthError::Skew { .. })));
        assert!(matches!(r.verify(&vk, &target, 1_000_000 + 60_000), Err(AuthError::Skew { .. })));
        assert!(matches!(r.verify(&vk, &target, 1_000_000 - MAX_SKEW_MS - 1), Err(AuthError::Skew { .. })));
    }

    #[test]
    fn version_one_headers_are_refused_with_their_version() {
        let v1 = "Borderlink member=gb-hmrc, ts=1000, sig=AAAA";
        assert_eq!(SignedRequest::parse(v1), Err(AuthError::Version("1".into())));
        let v3 = "Borderlink v=3, member=gb-hmrc, node=x, ts=1, nonce=00, sig=AA";
        assert_eq!(SignedRequest::parse(v3), Err(AuthError::Version("3".into())));
        assert!(AuthError::Version("1".into()).to_string().contains("version 2 only"));
    }

    #[test]
    fn duplicate_or_missing_fields_are_malformed() {
        let keys = keys();
        let h = authorization(&keys, &Target::new(NODE, "GET", "/", b""), 5);
        assert!(SignedRequest::parse(&h).is_ok());
        assert_eq!(SignedRequest::parse(&format!("{h}, node=x")), Err(AuthError::Malformed));
        let without_nonce: Vec<&str> = h.split(", ").filter(|f| !f.starts_with("nonce=")).collect();
        assert_eq!(SignedRequest::parse(&without_nonce.join(", ")), Err(AuthError::Malformed));
        let short_nonce = h.split(", ").map(|f| if f.starts_with("nonce=") { "nonce=00ff" } else { f });
        assert_eq!(SignedRequest::parse(&short_nonce.collect::<Vec<_>>().join(", ")), Err(AuthError::Malformed));
    }

    /// The signed message is part of the format: pinned, so that a change is a new version.
    #[test]
    fn the_signed_message_of_version_2_is_pinned() {
        let target = Target::new("nl-douane", "get", "/api/v1/records?limit=5", b"");
        let msg = request_message("gb-hmrc", &target, 1_700_000_000_000, &[0xab; NONCE_BYTES]);
        assert_eq!(
            String::from_utf8(msg).unwrap(),
            "BLRQ/2\nGET\n/api/v1/records?limit=5\nnl-douane\ngb-hmrc\n1700000000000\n\
             abababababababababababababababab\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let h = authorization_with_nonce(&keys(), &target, 1_700_000_000_000, &[0xab; NONCE_BYTES]);
        assert!(h.starts_with(
            "Borderlink v=2, member=gb-customs-hrc, node=nl-douane, ts=1700000000000, \
             nonce=abababababababababababababababab, sig="
        ));
    }

    fn request(member: &str, nonce: u8, ts_ms: i64) -> SignedRequest {
        SignedRequest {
            member: member.into(),
            node: NODE.into(),
            ts_ms,
            nonce: [nonce; NONCE_BYTES],
            signature: [0; 64],
        }
    }

    #[test]
    fn a_nonce_is_accepted_once_per_member() {
        let mut cache = ReplayCache::new(10);
        assert_eq!(cache.admit(&request("a", 1, 1_000), 1_000), Ok(()));
        assert_eq!(cache.admit(&request("a", 1, 1_000), 1_001), Err(AuthError::Replayed));
        assert_eq!(cache.admit(&request("a", 1, 1_000), 1_000 + MAX_SKEW_MS), Err(AuthError::Replayed));
        // The same nonce from another member is another request.
        assert_eq!(cache.admit(&request("b", 1, 1_000), 1_001), Ok(()));
    }

    #[test]
    fn a_full_cache_refuses_rather_than_forgets_and_frees_room_as_requests_expire() {
        let mut cache = ReplayCache::new(3);
        for n in 0..3 {
            assert_eq!(cache.admit(&request("a", n, 1_000 + i64::from(n)), 1_000), Ok(()));
        }
        assert_eq!(cache.admit(&request("a", 9, 1_000), 1_000), Err(AuthError::ReplayCacheFull));
        // Still remembered: the full cache forgot nothing.
        assert_eq!(cache.admit(&request("a", 0, 1_000), 1_001), Err(AuthError::Replayed));
        // Once the first request can no longer pass the clock check, its pair makes room.
        let later = 1_000 + MAX_SKEW_MS + 1;
        assert_eq!(cache.admit(&request("a", 9, later), later), Ok(()));
        assert_eq!(cache.len(), 3);
        // Every pair expires within a window of its request.
        let much_later = later + 2 * MAX_SKEW_MS;
        assert_eq!(cache.admit(&request("a", 10, much_later), much_later), Ok(()));
        assert_eq!(cache.len(), 1);
    }
}
