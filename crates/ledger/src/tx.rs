//! Transactions: what a member signs, and how it travels.
//!
//! A transaction has a **body** (canonical bytes, signed), the **signature**, and two parts that
//! travel beside the body without being signed directly: the **payload** (the record's JSON, or
//! its ciphertext), committed to by `payload_digest` in the body, and the **wrapped keys** of a
//! private record, committed to by `key_commitment`. Keeping them outside the signed bytes is what
//! lets a proof carry only a private record's digest, and lets an erasure delete the wrapped keys
//! while every hash of the chain still verifies.
//!
//! Identity: `tx_id = SHA-256(body)` (replay protection: one body commits once);
//! `leaf = SHA-256(body ‖ signature)` (what the block's Merkle tree commits to).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, Reader, Writer};
use crate::identity::MemberKeys;
use crate::{Hash, LedgerError};

const TX_MAGIC: &[u8; 4] = b"BLTX";
/// The transaction body format written by this release for bodies without an endorsement.
pub const TX_FORMAT: u8 = 1;
/// The body format of an endorsed transaction: format 1 followed by the endorsement.
pub const TX_FORMAT_ENDORSED: u8 = 2;
/// Domain tag of the message a customs administration signs to endorse a private record.
pub const ENDORSE_TAG: &[u8] = b"borderlink/endorse/v1";
/// Longest record id, record type, member id, country or trader id accepted in a body.
pub const MAX_NAME: usize = 128;
/// Most recipients of one private record.
pub const MAX_RECIPIENTS: usize = 64;

/// What a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxKind {
    /// Creates a record (version 1) or a new version of it.
    Put,
    /// Erases a private record: every node deletes its wrapped keys (crypto-shredding).
    Erase,
    /// Changes the consortium: a member admitted, suspended or reinstated, the policy replaced.
    Governance,
}

impl TxKind {
    fn code(self) -> u8 {
        match self {
            TxKind::Put => 1,
            TxKind::Erase => 2,
            TxKind::Governance => 3,
        }
    }
    fn from_code(c: u8) -> Result<Self, DecodeError> {
        Ok(match c {
            1 => TxKind::Put,
            2 => TxKind::Erase,
            3 => TxKind::Governance,
            v => return Err(DecodeError::Unknown { what: "transaction kind", value: v.into() }),
        })
    }
}

/// How the payload is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayloadKind {
    /// The record in clear (canonical JSON), readable by every member.
    Clear,
    /// The record encrypted to a recipient set.
    Private,
    /// A large object kept off-chain in the content-addressed blob store; only its digest is on the ledger.
    OffChain,
    /// No payload (erasures).
    Empty,
}

impl PayloadKind {
    fn code(self) -> u8 {
        match self {
            PayloadKind::Clear => 0,
            PayloadKind::Private => 1,
            PayloadKind::OffChain => 2,
            PayloadKind::Empty => 3,
        }
    }
    fn from_code(c: u8) -> Result<Self, DecodeError> {
        Ok(match c {
            0 => PayloadKind::Clear,
            1 => PayloadKind::Private,
            2 => PayloadKind::OffChain,
            3 => PayloadKind::Empty,
            v => return Err(DecodeError::Unknown { what: "payload kind", value: v.into() }),
        })
    }
}

/// The attributes of a record that write policies decide on. For clear records every node
/// derives them from the payload and checks they match; for private records they are the
/// submitter's signed statement (recipients check them on decryption).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordMeta {
    /// The country whose administration has authority over the record.
    pub country: String,
    /// The declarant's trader id (declarations).
    pub declarant: String,
    /// The issuing administration's country (AEO authorisations).
    pub issuer: String,
}

/// The header of a private payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateHeader {
    /// The members the record is encrypted to.
    pub recipients: Vec<String>,
    /// AEAD nonce of the payload encryption.
    pub nonce: [u8; 12],
    /// SHA-256 over the wrapped keys, in recipient order.
    pub key_commitment: Hash,
}

/// A customs administration's statement that it opened a private record's payload with its own
/// key and found the record the body describes (a valid record of its type, with the signed
/// attributes and the id its content gives). Signed over [`TxBody::endorsement_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    /// The endorsing member (a recipient of the record).
    pub member: String,
    /// Its Ed25519 signature.
    pub signature: [u8; 64],
}

/// The signed part of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxBody {
    /// The chain (genesis hash) this transaction is for: no replay across networks.
    pub chain: Hash,
    /// What it does.
    pub kind: TxKind,
    /// Record type (`declaration`, `aeo-authorization`, …, `document`, `governance`).
    pub record_type: String,
    /// The record's id, unique in the ledger.
    pub record_id: String,
    /// The version this transaction writes: 1 creates, n + 1 updates version n.
    pub version: u64,
    /// Policy attributes.
    pub meta: RecordMeta,
    /// How the payload is carried.
    pub payload_kind: PayloadKind,
    /// SHA-256 of the payload bytes (clear JSON, ciphertext or off-chain object).
    pub payload_digest: Hash,
    /// Length of the payload bytes.
    pub payload_len: u64,
    /// Media type of an off-chain object (`image/tiff` …); empty otherwise.
    pub media_type: String,
    /// Present for private payloads.
    pub private: Option<PrivateHeader>,
    /// The submitting member.
    pub submitter: String,
    /// Random value that makes the body unique.
    pub nonce: u64,
    /// Submitter's clock, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The competent customs administration's endorsement (private declarations).
    pub endorsement: Option<Endorsement>,
}

impl TxBody {
    /// The canonical bytes (see `docs/ledger-format.md`): format 1 without an endorsement,
    /// format 2 (format 1's fields, then the endorsement) with one.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = self.encode_fields(if self.endorsement.is_some() { TX_FORMAT_ENDORSED } else { TX_FORMAT });
        if let Some(e) = &self.endorsement {
            w.str(&e.member).raw(&e.signature);
        }
        w.finish()
    }

    /// What an endorser signs: the domain tag, then the body in format 1 (every field but the
    /// endorsement itself), so the endorsement binds the chain, the record, its version and
    /// attributes, the ciphertext's digest, the recipients and key commitment, and the submitter.
    pub fn endorsement_message(&self) -> Vec<u8> {
        let mut m = ENDORSE_TAG.to_vec();
        m.extend_from_slice(&self.encode_fields(TX_FORMAT).finish());
        m
    }

    fn encode_fields(&self, format: u8) -> Writer {
        let mut w = Writer::new();
        w.raw(TX_MAGIC).u8(format).hash(&self.chain).u8(self.kind.code());
        w.str(&self.record_type).str(&self.record_id).u64(self.version);
        w.str(&self.meta.country).str(&self.meta.declarant).str(&self.meta.issuer);
        w.u8(self.payload_kind.code()).hash(&self.payload_digest).u64(self.payload_len).str(&self.media_type);
        match &self.private {
            None => {
                w.u8(0);
            }
            Some(p) => {
                w.u8(1).u32(p.recipients.len() as u32);
                for r in &p.recipients {
                    w.str(r);
                }
                w.raw(&p.nonce).hash(&p.key_commitment);
            }
        }
        w.str(&self.submitter).u64(self.nonce).i64(self.timestamp_ms);
        w
    }

    /// Decodes canonical bytes, refusing anything else.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.raw(4, "magic")? != TX_MAGIC {
            return Err(DecodeError::Unknown { what: "transaction magic", value: 0 });
        }
        let format = r.u8("format")?;
        if format != TX_FORMAT && format != TX_FORMAT_ENDORSED {
            return Err(DecodeError::Unknown { what: "transaction format", value: format.into() });
        }
        let chain = r.hash("chain")?;
        let kind = TxKind::from_code(r.u8("kind")?)?;
        let record_type = r.str("record type", MAX_NAME)?.to_owned();
        let record_id = r.str("record id", MAX_NAME)?.to_owned();
        let version = r.u64("version")?;
        let meta = RecordMeta {
            country: r.str("country", MAX_NAME)?.to_owned(),
            declarant: r.str("declarant", MAX_NAME)?.to_owned(),
            issuer: r.str("issuer", MAX_NAME)?.to_owned(),
        };
        let payload_kind = PayloadKind::from_code(r.u8("payload kind")?)?;
        let payload_digest = r.hash("payload digest")?;
        let payload_len = r.u64("payload length")?;
        let media_type = r.str("media type", MAX_NAME)?.to_owned();
        let private = match r.u8("private flag")? {
            0 => None,
            1 => {
                let n = r.u32("recipients")? as usize;
                if n > MAX_RECIPIENTS {
                    return Err(DecodeError::TooLong { what: "recipients", len: n, max: MAX_RECIPIENTS });
                }
                let recipients =
                    (0..n).map(|_| r.str("recipient", MAX_NAME).map(str::to_owned)).collect::<Result<_, _>>()?;
                let mut nonce = [0u8; 12];
                nonce.copy_from_slice(r.raw(12, "nonce")?);
                Some(PrivateHeader { recipients, nonce, key_commitment: r.hash("key commitment")? })
            }
            v => return Err(DecodeError::Unknown { what: "private flag", value: v.into() }),
        };
        let submitter = r.str("submitter", MAX_NAME)?.to_owned();
        let nonce = r.u64("nonce")?;
        let timestamp_ms = r.i64("timestamp")?;
        // Format 2 always carries an endorsement, so each body has exactly one encoding.
        let endorsement = if format == TX_FORMAT_ENDORSED {
            let member = r.str("endorser", MAX_NAME)?.to_owned();
            let mut signature = [0u8; 64];
            signature.copy_from_slice(r.raw(64, "endorsement signature")?);
            Some(Endorsement { member, signature })
        } else {
            None
        };
        r.end()?;
        Ok(Self {
            chain,
            kind,
            record_type,
            record_id,
            version,
            meta,
            payload_kind,
            payload_digest,
            payload_len,
            media_type,
            private,
            submitter,
            nonce,
            timestamp_ms,
            endorsement,
        })
    }
}

/// A wrapped data key of a private record, for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The recipient member.
    pub member: String,
    /// The sender's ephemeral X25519 public key, hex.
    pub ephemeral: String,
    /// The data key encrypted under the key agreed with the recipient, hex.
    pub wrapped: String,
}

/// A transaction: body, signature, payload and wrapped keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The signed body.
    pub body: TxBody,
    /// Its canonical bytes (kept so that they are hashed and verified exactly as received).
    pub body_bytes: Vec<u8>,
    /// Ed25519 signature of the submitter over `body_bytes`.
    pub signature: [u8; 64],
    /// The payload bytes (empty for off-chain objects and erasures).
    pub payload: Vec<u8>,
    /// Wrapped data keys of a private record.
    pub wrapped_keys: Vec<WrappedKey>,
}

impl Transaction {
    /// Signs a body.
    pub fn sign(body: TxBody, payload: Vec<u8>, wrapped_keys: Vec<WrappedKey>, keys: &MemberKeys) -> Self {
        let body_bytes = body.encode();
        let signature = keys.sign(&body_bytes);
        Self { body, body_bytes, signature, payload, wrapped_keys }
    }

    /// `SHA-256(body)`: the transaction id.
    pub fn id(&self) -> Hash {
        Hash::of(&self.body_bytes)
    }

    /// `SHA-256(body ‖ signature)`: the Merkle leaf.
    pub fn leaf(&self) -> Hash {
        Hash::of_parts(&[&self.body_bytes, &self.signature])
    }

    /// The JSON form that travels over HTTP.
    pub fn to_wire(&self) -> WireTransaction {
        WireTransaction {
            body: B64.encode(&self.body_bytes),
            signature: B64.encode(self.signature),
            payload: B64.encode(&self.payload),
            wrapped_keys: self.wrapped_keys.clone(),
        }
    }

    /// Reads the JSON form, decoding the body.
    pub fn from_wire(w: &WireTransaction) -> Result<Self, LedgerError> {
        let body_bytes = B64.decode(&w.body).map_err(|e| LedgerError::Malformed(format!("body is not base64: {e}")))?;
        let sig =
            B64.decode(&w.signature).map_err(|e| LedgerError::Malformed(format!("signature is not base64: {e}")))?;
        let signature: [u8; 64] = sig
            .as_slice()
            .try_into()
            .map_err(|_| LedgerError::Malformed(format!("signature must be 64 bytes; got {}", sig.len())))?;
        let payload =
            B64.decode(&w.payload).map_err(|e| LedgerError::Malformed(format!("payload is not base64: {e}")))?;
        let body = TxBody::decode(&body_bytes).map_err(|e| LedgerError::Malformed(format!("body: {e}")))?;
        Ok(Self { body, body_bytes, signature, payload, wrapped_keys: w.wrapped_keys.clone() })
    }
}

/// A transaction as JSON: base64 of the exact signed bytes, so that no re-encoding can alter them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireTransaction {
    /// Base64 of the canonical body.
    pub body: String,
    /// Base64 of the Ed25519 signature.
    pub signature: String,
    /// Base64 of the payload.
    #[serde(default)]
    pub payload: String,
    /// Wrapped keys of a private record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrapped_keys: Vec<WrappedKey>,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn body() -> TxBody {
        TxBody {
            chain: Hash::of(b"chain"),
            kind: TxKind::Put,
            record_type: "declaration".into(),
            record_id: "LRN-1".into(),
            version: 1,
            meta: RecordMeta { country: "GB".into(), declarant: "GB1".into(), issuer: String::new() },
            payload_kind: PayloadKind::Private,
            payload_digest: Hash::of(b"p"),
            payload_len: 1,
            media_type: String::new(),
            private: Some(PrivateHeader {
                recipients: vec!["a".into(), "b".into()],
                nonce: [7; 12],
                key_commitment: Hash::of(b"k"),
            }),
            submitter: "gb-hmrc".into(),
            nonce: 42,
            timestamp_ms: 1_772_443_800_000,
            endorsement: None,
        }
    }

    #[test]
    fn body_round_trips_and_refuses_trailing_bytes() {
        let b = body();
        let bytes = b.encode();
        assert_eq!(TxBody::decode(&bytes).unwrap(), b);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(TxBody::decode(&longer), Err(DecodeError::Trailing(1)));
        for cut in 0..bytes.len() {
            assert!(TxBody::decode(&bytes[..cut]).is_err());
        }
    }
}
