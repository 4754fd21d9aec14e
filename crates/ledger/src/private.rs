//! Private records: a fresh data key per record, the payload sealed with ChaCha20-Poly1305, and
//! the data key wrapped for each recipient with a key agreed by X25519 (an ephemeral key of the
//! sender, the recipient's static key), hashed with SHA-256 into a key-encryption key.
//!
//! Nodes that are not recipients store and order the ciphertext and check its digest and the
//! commitment to the wrapped keys; only recipients can open it. Deleting a record's wrapped keys
//! (erasure) leaves a ciphertext no one can open, while every hash of the chain still verifies.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand_core::{OsRng, RngCore};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::tx::{PrivateHeader, WrappedKey};
use crate::{Hash, LedgerError};

fn kek(shared: &[u8; 32], ephemeral: &PublicKey, recipient: &PublicKey, record_id: &str) -> Key {
    let h = Hash::of_parts(&[
        b"borderlink/wrap/v1",
        shared,
        ephemeral.as_bytes(),
        recipient.as_bytes(),
        record_id.as_bytes(),
    ]);
    Key::from(h.0)
}

/// The commitment to a list of wrapped keys, as carried in the signed body.
pub fn key_commitment(keys: &[WrappedKey]) -> Hash {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(keys.len() * 3);
    for k in keys {
        parts.push(k.member.as_bytes());
        parts.push(k.ephemeral.as_bytes());
        parts.push(k.wrapped.as_bytes());
    }
    Hash::of_parts(&parts)
}

/// Checks that `wrapped` holds one key per recipient of `header`, in recipient order, matching
/// the signed commitment; the error says what is wrong.
pub fn check_key_set(header: &PrivateHeader, wrapped: &[WrappedKey]) -> Result<(), String> {
    if header.recipients.is_empty() || header.recipients.len() != wrapped.len() {
        return Err("one wrapped key per recipient is required".into());
    }
    if let Some((r, _)) = header.recipients.iter().zip(wrapped).find(|(r, k)| *r != &k.member) {
        return Err(format!("the wrapped keys are not in recipient order at {r}"));
    }
    if key_commitment(wrapped) != header.key_commitment {
        return Err("the wrapped keys do not match the signed commitment".into());
    }
    Ok(())
}

/// Encrypts `cleartext` to the recipients; returns the private header, the ciphertext and the wrapped keys.
pub fn seal(
    cleartext: &[u8],
    record_id: &str,
    recipients: &[(String, PublicKey)],
) -> Result<(PrivateHeader, Vec<u8>, Vec<WrappedKey>), LedgerError> {
    if recipients.is_empty() {
        return Err(LedgerError::Private("a private record needs at least one recipient".into()));
    }
    let mut data_key = [0u8; 32];
    OsRng.fill_bytes(&mut data_key);
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let cipher = ChaCha20Poly1305::new(&Key::from(data_key));
    let ciphertext = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: cleartext, aad: record_id.as_bytes() })
        .map_err(|_| LedgerError::Private("encryption failed".into()))?;
    // One ephemeral key per record, used for every recipient of that record only.
    let eph = StaticSecret::random_from_rng(OsRng);
    let eph_pub = PublicKey::from(&eph);
    let shared: Vec<(String, PublicKey, [u8; 32])> =
        recipients.iter().map(|(m, pk)| (m.clone(), *pk, *eph.diffie_hellman(pk).as_bytes())).collect();
    let mut wrapped = Vec::with_capacity(shared.len());
    for (member, pk, secret) in shared {
        let k = ChaCha20Poly1305::new(&kek(&secret, &eph_pub, &pk, record_id));
        // Each key-encryption key is used exactly once, so a zero nonce is safe.
        let w = k
            .encrypt(&Nonce::default(), Payload { msg: &data_key, aad: member.as_bytes() })
            .map_err(|_| LedgerError::Private("key wrapping failed".into()))?;
        wrapped.push(WrappedKey { member, ephemeral: hex::encode(eph_pub.as_bytes()), wrapped: hex::encode(w) });
    }
    let header = PrivateHeader {
        recipients: recipients.iter().map(|(m, _)| m.clone()).collect(),
        nonce,
        key_commitment: key_commitment(&wrapped),
    };
    Ok((header, ciphertext, wrapped))
}

/// Opens a private payload with the recipient's secret and its wrapped key.
pub fn open(
    ciphertext: &[u8],
    header: &PrivateHeader,
    record_id: &str,
    wrapped: &WrappedKey,
    secret: &StaticSecret,
) -> Result<Vec<u8>, LedgerError> {
    let mut eph = [0u8; 32];
    hex::decode_to_slice(&wrapped.ephemeral, &mut eph)
        .map_err(|_| LedgerError::Private("malformed ephemeral key".into()))?;
    let eph_pub = PublicKey::from(eph);
    let shared = secret.diffie_hellman(&eph_pub);
    let me = PublicKey::from(secret);
    let k = ChaCha20Poly1305::new(&kek(shared.as_bytes(), &eph_pub, &me, record_id));
    let w = hex::decode(&wrapped.wrapped).map_err(|_| LedgerError::Private("malformed wrapped key".into()))?;
    let data_key = k
        .decrypt(&Nonce::default(), Payload { msg: &w, aad: wrapped.member.as_bytes() })
        .map_err(|_| LedgerError::Private("the wrapped key does not open with this member's key".into()))?;
    let data_key: [u8; 32] =
        data_key.as_slice().try_into().map_err(|_| LedgerError::Private("the data key has a wrong length".into()))?;
    ChaCha20Poly1305::new(&Key::from(data_key))
        .decrypt(&Nonce::from(header.nonce), Payload { msg: ciphertext, aad: record_id.as_bytes() })
        .map_err(|_| LedgerError::Private("the ciphertext does not open: altered or not for this record".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_open_others_cannot() {
        let a = StaticSecret::random_from_rng(OsRng);
        let b = StaticSecret::random_from_rng(OsRng);
        let c = StaticSecret::random_from_rng(OsRng);
        let (h, ct, keys) =
            seal(b"secret record", "R1", &[("a".into(), PublicKey::from(&a)), ("b".into(), PublicKey::from(&b))])
                .unwrap();
        assert_eq!(h.key_commitment, key_commitment(&keys));
        assert_eq!(open(&ct, &h, "R1", &keys[0], &a).unwrap(), b"secret record");
        assert_eq!(open(&ct, &h, "R1", &keys[1], &b).unwrap(), b"secret record");
        assert!(open(&ct, &h, "R1", &keys[0], &c).is_err());
        assert!(open(&ct, &h, "R2", &keys[0], &a).is_err(), "bound to the record id");
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(open(&bad, &h, "R1", &keys[0], &a).is_err());
    }
}
