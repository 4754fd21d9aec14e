//! Endorsement of private declarations by the competent customs administration.
//!
//! A trader may keep a declaration private, but never from the customs administration that must
//! read and assess it. Before signing a private declaration, the submitter asks that
//! administration's node for an endorsement: the node opens the payload with its own key, checks
//! the declaration (a valid record, the signed attributes and the id it gives), and signs the
//! body. Every node then checks the endorsement from the body alone ([`Ledger::validate`]), so
//! no declaration that customs cannot read reaches the chain.

use borderlink_model::{RecordType, ValidateOptions};

use super::Ledger;
use crate::identity::{MemberStatus, Role};
use crate::tx::{Endorsement, PayloadKind, TxBody, TxKind, WrappedKey};
use crate::{Hash, TxError, meta, private};

impl Ledger {
    /// Opens a private declaration addressed to this node's member and, when it is a valid
    /// declaration with the attributes and id of `body`, endorses it. `body` is the unsigned
    /// body (without endorsement); `ciphertext` and `wrapped` travel beside it as in a
    /// transaction.
    pub fn endorse(&self, body: &TxBody, ciphertext: &[u8], wrapped: &[WrappedKey]) -> Result<Endorsement, TxError> {
        let keys = self.local.as_ref().ok_or_else(|| {
            TxError::CustomsCannotRead("this node holds no member keys, so it cannot open or endorse records".into())
        })?;
        let me = keys.member.as_str();
        if body.chain != self.chain {
            return Err(TxError::WrongChain);
        }
        if body.endorsement.is_some() {
            return Err(TxError::Malformed("the body to endorse already carries an endorsement".into()));
        }
        if body.kind != TxKind::Put || body.payload_kind != PayloadKind::Private || body.record_type != "declaration" {
            return Err(TxError::Malformed(
                "only a private declaration (a put with a private payload) is endorsed".into(),
            ));
        }
        let member = self.member(me).ok_or_else(|| TxError::UnknownSubmitter(me.to_owned()))?;
        if member.role != Role::Customs || member.status != MemberStatus::Active || member.country != body.meta.country
        {
            return Err(TxError::CustomsCannotRead(format!(
                "{me} is not an active customs administration of {:?}: ask that administration's node",
                body.meta.country
            )));
        }
        let header =
            body.private.as_ref().ok_or_else(|| TxError::Undecryptable("the private header is missing".into()))?;
        if ciphertext.len() as u64 != body.payload_len || Hash::of(ciphertext) != body.payload_digest {
            return Err(TxError::PayloadMismatch("the ciphertext differs from the body's digest or length".into()));
        }
        private::check_key_set(header, wrapped).map_err(TxError::Undecryptable)?;
        let mine = wrapped.iter().find(|w| w.member == me).ok_or_else(|| {
            TxError::CustomsCannotRead(format!("{me} is not among the recipients ({})", header.recipients.join(", ")))
        })?;
        let clear = private::open(ciphertext, header, &body.record_id, mine, &keys.encryption)
            .map_err(|e| TxError::CustomsCannotRead(format!("the payload does not open with {me}'s key: {e}")))?;
        let report = borderlink_model::validate(
            &clear,
            &ValidateOptions { record_type: Some(RecordType::Declaration), ..Default::default() },
        );
        let Some(record) = report.record.filter(|_| report.valid) else {
            let first =
                report.errors.first().map(|e| format!("{} [{}] {}", e.path, e.rule, e.message)).unwrap_or_default();
            return Err(TxError::InvalidRecord(format!("{} error(s); first: {first}", report.errors.len())));
        };
        let derived = meta::derive(&record);
        if derived != body.meta {
            return Err(TxError::MetaMismatch(format!(
                "the declaration says country {:?}, declarant {:?}",
                derived.country, derived.declarant
            )));
        }
        let want = meta::record_id(&record, &body.submitter).map_err(|e| TxError::WrongRecordId(e.to_string()))?;
        if want != body.record_id {
            return Err(TxError::WrongRecordId(format!("the declaration's id is {want:?}; got {:?}", body.record_id)));
        }
        Ok(Endorsement { member: me.to_owned(), signature: keys.sign(&body.endorsement_message()) })
    }
}
