//! Validation of transactions: signatures (verified in batches, with a cache of successes), then
//! the deterministic checks of one transaction against the committed state, and the application
//! of governance changes to the membership and the policy.
//!
//! **Invariant:** [`Ledger::validate`] is deterministic: it reads only the transaction, the state
//! it is given (the committed state seen through the transactions before it in the same block,
//! [`Overlay`]), the membership and policy (committed, or as changed by a governance transaction
//! earlier in the block) and the genesis — never a clock or the node's identity — so every node
//! that applies the same transactions reaches the same outcomes. The caches (verified
//! signatures, clear records already checked) hold only successes keyed by everything the check
//! reads, so they give the answer the check would.

use std::collections::HashMap;
use std::sync::Arc;

use borderlink_model::{RecordType, ValidateOptions};
use ed25519_dalek::Signature;
use redb::{ReadableDatabase, ReadableTable};

use super::tables::{RecordState, STATE, TXS, db};
use super::{Ledger, Members};
use crate::governance::{GovernanceAction, Proposal, approval_message};
use crate::identity::{Member, MemberStatus, Role};
use crate::policy::{Action, Policy, ResourceAttrs};
use crate::tx::{MAX_NAME, PayloadKind, Transaction, TxKind, WrappedKey};
use crate::{Denial, Hash, LedgerError, TxError, meta, private};

/// Most entries kept in the verified-signature cache before it is emptied.
const VERIFIED_CACHE: usize = 262_144;

/// The members a refusal may name as allowed instead: the active ones, in id order.
fn active_members(members: &Members) -> Vec<&Member> {
    let mut list: Vec<&Member> = members.by_id.values().filter(|m| m.status == MemberStatus::Active).collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    list
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME && !s.chars().any(char::is_control)
}

/// What the validation of one transaction needs to know about state.
pub(super) trait StateView {
    fn record(&self, id: &str) -> Result<Option<RecordState>, LedgerError>;
    fn tx_known(&self, id: &Hash) -> Result<bool, LedgerError>;
}

pub(super) struct TableView<
    'a,
    S: ReadableTable<&'static str, &'static [u8]>,
    T: ReadableTable<&'static [u8], &'static [u8]>,
> {
    pub(super) state: &'a S,
    pub(super) txs: &'a T,
}

impl<S: ReadableTable<&'static str, &'static [u8]>, T: ReadableTable<&'static [u8], &'static [u8]>> StateView
    for TableView<'_, S, T>
{
    fn record(&self, id: &str) -> Result<Option<RecordState>, LedgerError> {
        match self.state.get(id).map_err(db)? {
            Some(v) => Ok(Some(RecordState::decode(v.value())?)),
            None => Ok(None),
        }
    }
    fn tx_known(&self, id: &Hash) -> Result<bool, LedgerError> {
        Ok(self.txs.get(id.0.as_slice()).map_err(db)?.is_some())
    }
}

/// State seen through the transactions already accepted in the block being built.
pub(super) struct Overlay<'a, V: StateView> {
    pub(super) base: &'a V,
    pub(super) records: HashMap<String, RecordState>,
    pub(super) txs: std::collections::HashSet<Hash>,
}

impl<V: StateView> StateView for Overlay<'_, V> {
    fn record(&self, id: &str) -> Result<Option<RecordState>, LedgerError> {
        match self.records.get(id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.base.record(id),
        }
    }
    fn tx_known(&self, id: &Hash) -> Result<bool, LedgerError> {
        Ok(self.txs.contains(id) || self.base.tx_known(id)?)
    }
}

/// The effect of a valid transaction, applied when the block is written.
pub(super) enum Effect {
    Put { state: RecordState, wrapped: Vec<WrappedKey> },
    Erase { record_id: String, versions: u64 },
    Governance { action: GovernanceAction },
}

impl Ledger {
    /// Checks transactions against the committed state without committing them, as a node does
    /// before it proposes them for ordering (signatures verified as one batch). Every node
    /// validates them again when it applies the ordered block; this only keeps garbage off the
    /// chain.
    pub fn precheck(&self, txs: &[Transaction]) -> Vec<Result<(), TxError>> {
        let (members, policy) = {
            let live = self.live.read().unwrap_or_else(|e| e.into_inner());
            (Arc::clone(&live.members), Arc::clone(&live.policy))
        };
        let sig_ok = self.verify_cached(txs, &members);
        let read = self.db.begin_read().map_err(|e| TxError::Internal(db(e).to_string()));
        let tables = read.and_then(|r| {
            let state = r.open_table(STATE).map_err(|e| TxError::Internal(db(e).to_string()))?;
            let txt = r.open_table(TXS).map_err(|e| TxError::Internal(db(e).to_string()))?;
            Ok((state, txt))
        });
        let (state, txt) = match tables {
            Ok(t) => t,
            Err(e) => return txs.iter().map(|_| Err(e.clone())).collect(),
        };
        let view = TableView { state: &state, txs: &txt };
        txs.iter()
            .zip(sig_ok)
            .map(|(tx, ok)| {
                if !members.keys.contains_key(&tx.body.submitter) {
                    return Err(TxError::UnknownSubmitter(tx.body.submitter.clone()));
                }
                if !ok {
                    return Err(TxError::BadSignature);
                }
                self.validate(tx, &tx.id(), &view, &members, &policy, false).map(|_| ())
            })
            .collect()
    }

    /// Checks only who signed: the submitter is a member and its signature verifies (what a
    /// leader checks of transactions another node already prechecked fully).
    pub fn precheck_signatures(&self, txs: &[Transaction]) -> Vec<Result<(), TxError>> {
        let members = Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()).members);
        let ok = self.verify_cached(txs, &members);
        txs.iter()
            .zip(ok)
            .map(|(t, ok)| {
                if !members.keys.contains_key(&t.body.submitter) {
                    Err(TxError::UnknownSubmitter(t.body.submitter.clone()))
                } else if ok {
                    Ok(())
                } else {
                    Err(TxError::BadSignature)
                }
            })
            .collect()
    }

    /// Verifies signatures, skipping those verified here before (the cache holds only
    /// successes, keyed by key, body and signature, so the outcome is the same as verifying).
    pub(super) fn verify_cached(&self, txs: &[Transaction], members: &Members) -> Vec<bool> {
        let keys: Vec<Option<Hash>> = txs
            .iter()
            .map(|t| {
                members
                    .keys
                    .get(&t.body.submitter)
                    .map(|k| Hash::of_parts(&[k.as_bytes(), &t.body_bytes, &t.signature]))
            })
            .collect();
        let (todo, mut ok): (Vec<usize>, Vec<bool>) = {
            let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            let ok: Vec<bool> = keys.iter().map(|k| k.is_some_and(|k| cache.contains(&k))).collect();
            ((0..txs.len()).filter(|i| !ok[*i]).collect(), ok)
        };
        if todo.is_empty() {
            return ok;
        }
        let subset: Vec<&Transaction> = todo.iter().map(|i| &txs[*i]).collect();
        let results = verify_signatures(&subset, members);
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() + todo.len() > VERIFIED_CACHE {
            cache.clear();
        }
        for (i, r) in todo.into_iter().zip(results) {
            ok[i] = r;
            if r && let Some(k) = keys[i] {
                cache.insert(k);
            }
        }
        ok
    }

    /// Checks one transaction against the committed state without committing it.
    pub fn check(&self, tx: &Transaction) -> Result<(), TxError> {
        let (members, policy) = {
            let live = self.live.read().unwrap_or_else(|e| e.into_inner());
            (Arc::clone(&live.members), Arc::clone(&live.policy))
        };
        let Some(vk) = members.keys.get(&tx.body.submitter) else {
            return Err(TxError::UnknownSubmitter(tx.body.submitter.clone()));
        };
        let sig = Signature::from_bytes(&tx.signature);
        if vk.verify_strict(&tx.body_bytes, &sig).is_err() {
            return Err(TxError::BadSignature);
        }
        let r = self.db.begin_read().map_err(|e| TxError::Internal(db(e).to_string()))?;
        let state = r.open_table(STATE).map_err(|e| TxError::Internal(db(e).to_string()))?;
        let txt = r.open_table(TXS).map_err(|e| TxError::Internal(db(e).to_string()))?;
        let view = TableView { state: &state, txs: &txt };
        self.validate(tx, &tx.id(), &view, &members, &policy, false).map(|_| ())
    }

    /// Deterministic validation of one transaction whose signature is already verified.
    pub(super) fn validate<V: StateView>(
        &self,
        tx: &Transaction,
        id: &Hash,
        view: &V,
        members: &Members,
        policy: &Policy,
        replay: bool,
    ) -> Result<Effect, TxError> {
        let b = &tx.body;
        if b.chain != self.chain {
            return Err(TxError::WrongChain);
        }
        let submitter =
            members.by_id.get(&b.submitter).ok_or_else(|| TxError::UnknownSubmitter(b.submitter.clone()))?;
        if submitter.status != MemberStatus::Active {
            return Err(TxError::SuspendedSubmitter(b.submitter.clone()));
        }
        if !valid_name(&b.record_id) || !valid_name(&b.record_type) {
            return Err(TxError::Malformed("record id and type must be 1 to 128 printable characters".into()));
        }
        if tx.payload.len() as u64 != b.payload_len && b.payload_kind != PayloadKind::OffChain {
            return Err(TxError::PayloadMismatch("payload length differs from the signed length".into()));
        }
        if b.payload_len > self.genesis.limits.max_payload_bytes && b.payload_kind != PayloadKind::OffChain {
            return Err(TxError::PayloadTooLarge { len: b.payload_len, max: self.genesis.limits.max_payload_bytes });
        }
        if matches!(b.payload_kind, PayloadKind::Clear | PayloadKind::Private)
            && Hash::of(&tx.payload) != b.payload_digest
        {
            return Err(TxError::PayloadMismatch("the payload's SHA-256 differs from the signed digest".into()));
        }
        if view.tx_known(id).map_err(|e| TxError::Internal(e.to_string()))? {
            return Err(TxError::Replay);
        }
        let current = view.record(&b.record_id).map_err(|e| TxError::Internal(e.to_string()))?;
        let current_version = current.as_ref().map_or(0, |c| c.version);
        match b.kind {
            TxKind::Put => {
                if b.version != current_version + 1 {
                    return Err(TxError::StaleVersion { expected: current_version + 1, got: b.version });
                }
                if let Some(c) = &current {
                    if c.record_type != b.record_type {
                        return Err(TxError::Malformed(format!(
                            "record {} is a {}, not a {}",
                            b.record_id, c.record_type, b.record_type
                        )));
                    }
                    if c.erased {
                        return Err(TxError::Erased(b.record_id.clone()));
                    }
                }
                if b.record_type == "governance" {
                    return Err(TxError::Malformed("governance changes use the governance transaction kind".into()));
                }
                let owner = current.as_ref().map_or_else(|| b.submitter.clone(), |c| c.owner.clone());
                // A record type newer than the chain's rules is a name like any other there,
                // its id unconstrained, as when the chain's blocks were validated.
                let newer_type = RecordType::from_name(&b.record_type)
                    .is_some_and(|t| meta::dataset_type(&b.record_type, self.genesis.rules) != Some(t));
                if self.genesis.rules >= 2 {
                    if !newer_type {
                        meta::check_id_namespace(&b.record_type, &b.record_id, &b.meta, &owner)
                            .map_err(|e| TxError::WrongRecordId(e.to_string()))?;
                    }
                    self.check_customs_can_read(tx, members)?;
                }
                if meta::dataset_type(&b.record_type, self.genesis.rules) == Some(RecordType::AeoConsent)
                    && b.payload_kind != PayloadKind::Clear
                {
                    return Err(TxError::Malformed(
                        "an aeo-consent is carried clear: every administration it is shared with checks it".into(),
                    ));
                }
                let wrapped = self.check_payload(tx, id, replay)?;
                let new_attrs =
                    ResourceAttrs { record_type: b.record_type.clone(), meta: b.meta.clone(), owner: owner.clone() };
                let action = if current.is_some() { Action::Update } else { Action::Create };
                let allowed =
                    policy.allows(submitter, action, &new_attrs).map_err(|e| TxError::Internal(e.to_string()))?;
                // An update must be allowed on the record as it was too: nobody takes over a
                // record by rewriting the attributes that gave someone else authority over it.
                let allowed_before = match &current {
                    Some(c) => policy
                        .allows(
                            submitter,
                            Action::Update,
                            &ResourceAttrs { record_type: c.record_type.clone(), meta: c.meta.clone(), owner },
                        )
                        .map_err(|e| TxError::Internal(e.to_string()))?,
                    None => true,
                };
                if !(allowed && allowed_before) {
                    let before = current.as_ref().map(|c| ResourceAttrs {
                        record_type: c.record_type.clone(),
                        meta: c.meta.clone(),
                        owner: c.owner.clone(),
                    });
                    return Err(TxError::PolicyDenied(Denial {
                        reason: format!(
                            "{} ({} of {}) may not {} {} {}",
                            submitter.id,
                            submitter.role.name(),
                            submitter.country,
                            if current.is_some() { "update" } else { "create" },
                            b.record_type,
                            b.record_id
                        ),
                        explanation: policy.explain(
                            submitter,
                            action,
                            &new_attrs,
                            before.as_ref(),
                            active_members(members),
                        ),
                    }));
                }
                Ok(Effect::Put {
                    state: RecordState {
                        record_type: b.record_type.clone(),
                        version: b.version,
                        owner: current.map_or_else(|| b.submitter.clone(), |c| c.owner),
                        meta: b.meta.clone(),
                        height: 0,
                        index: 0,
                        erased: false,
                    },
                    wrapped,
                })
            }
            TxKind::Erase => {
                let Some(c) = current else { return Err(TxError::UnknownRecord(b.record_id.clone())) };
                if b.version != c.version + 1 {
                    return Err(TxError::StaleVersion { expected: c.version + 1, got: b.version });
                }
                let attrs =
                    ResourceAttrs { record_type: c.record_type.clone(), meta: c.meta.clone(), owner: c.owner.clone() };
                if !policy.allows(submitter, Action::Erase, &attrs).map_err(|e| TxError::Internal(e.to_string()))? {
                    return Err(TxError::PolicyDenied(Denial {
                        reason: format!("{} may not erase {}", submitter.id, b.record_id),
                        explanation: policy.explain(submitter, Action::Erase, &attrs, None, active_members(members)),
                    }));
                }
                Ok(Effect::Erase { record_id: b.record_id.clone(), versions: c.version })
            }
            TxKind::Governance => {
                if b.version != current_version + 1 || current.is_some() {
                    return Err(TxError::StaleVersion { expected: 1, got: b.version });
                }
                let proposal: Proposal = crate::governance::decode_proposal(&tx.payload, self.genesis.rules)
                    .map_err(|e| TxError::Malformed(format!("governance payload: {e}")))?;
                self.check_approvals(tx, &proposal, members)?;
                // The change must make sense against current membership.
                apply_governance(
                    &Arc::new(Members {
                        by_id: members.by_id.clone(),
                        keys: members.keys.clone(),
                        nodes: members.nodes.clone(),
                    }),
                    &Arc::new(Policy::new(policy.text()).map_err(|e| TxError::Internal(e.to_string()))?),
                    &proposal.change,
                )
                .map_err(|e| TxError::Governance(e.to_string()))?;
                Ok(Effect::Governance { action: proposal.change })
            }
        }
    }

    fn check_approvals(&self, tx: &Transaction, p: &Proposal, members: &Members) -> Result<(), TxError> {
        let g = &self.genesis.governance;
        let eligible = |id: &str| {
            members
                .by_id
                .get(id)
                .is_some_and(|m| m.status == MemberStatus::Active && g.eligible_roles.contains(&m.role))
        };
        let msg = approval_message(&self.chain, &tx.body.record_id, &p.change)
            .map_err(|e| TxError::Malformed(e.to_string()))?;
        let mut approvers = std::collections::BTreeSet::new();
        if eligible(&tx.body.submitter) {
            approvers.insert(tx.body.submitter.clone());
        }
        for a in &p.approvals {
            let key = members
                .keys
                .get(&a.member)
                .ok_or_else(|| TxError::Governance(format!("approval by unknown member {}", a.member)))?;
            let sig = hex::decode(&a.signature)
                .ok()
                .and_then(|s| Signature::from_slice(&s).ok())
                .ok_or_else(|| TxError::Governance(format!("approval of {} is not a signature", a.member)))?;
            if key.verify_strict(&msg, &sig).is_err() {
                return Err(TxError::Governance(format!("approval of {} does not verify", a.member)));
            }
            if eligible(&a.member) {
                approvers.insert(a.member.clone());
            }
        }
        if (approvers.len() as u32) < g.approvals_required {
            return Err(TxError::Governance(format!(
                "{} approvals from eligible members ({}) are required; {} given",
                g.approvals_required,
                g.eligible_roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "),
                approvers.len()
            )));
        }
        Ok(())
    }

    /// A declaration must stay readable by the customs administration of its country: carried
    /// clear, or private with that administration among the recipients and endorsed by it (its
    /// node opened the payload with its own key and found this declaration: a valid record with
    /// the signed attributes and id). Every node checks this from the body alone, so the outcome
    /// is the same everywhere. Only a private declaration carries an endorsement.
    fn check_customs_can_read(&self, tx: &Transaction, members: &Members) -> Result<(), TxError> {
        let b = &tx.body;
        let private_declaration = b.record_type == "declaration" && b.payload_kind == PayloadKind::Private;
        if !private_declaration {
            if b.endorsement.is_some() {
                return Err(TxError::Malformed("only a private declaration carries an endorsement".into()));
            }
            if b.record_type == "declaration" && b.payload_kind == PayloadKind::OffChain {
                return Err(TxError::CustomsCannotRead(
                    "a declaration is carried clear or private, never off-chain".into(),
                ));
            }
            return Ok(());
        }
        let country = &b.meta.country;
        let mut customs: Vec<&Member> = members
            .by_id
            .values()
            .filter(|m| m.role == Role::Customs && m.status == MemberStatus::Active && &m.country == country)
            .collect();
        customs.sort_by(|a, b| a.id.cmp(&b.id));
        if customs.is_empty() {
            return Err(TxError::CustomsCannotRead(format!(
                "no active customs administration of {country:?} is a member, so a declaration for it cannot be private"
            )));
        }
        let recipients: &[String] = b.private.as_ref().map_or(&[], |h| h.recipients.as_slice());
        let names = || customs.iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ");
        if !customs.iter().any(|m| recipients.contains(&m.id)) {
            return Err(TxError::CustomsCannotRead(format!(
                "the recipients ({}) must include the customs administration of {country} ({})",
                recipients.join(", "),
                names()
            )));
        }
        let Some(e) = &b.endorsement else {
            return Err(TxError::CustomsCannotRead(format!(
                "a private declaration needs the endorsement of the customs administration of {country} ({}): \
                 its node opens the payload and checks the declaration (POST /api/v1/endorsements)",
                names()
            )));
        };
        if !customs.iter().any(|m| m.id == e.member) || !recipients.contains(&e.member) {
            return Err(TxError::CustomsCannotRead(format!(
                "the endorsement is by {}, which is not a customs administration of {country} among the recipients",
                e.member
            )));
        }
        let key = members.keys.get(&e.member).ok_or_else(|| TxError::UnknownSubmitter(e.member.clone()))?;
        key.verify_strict(&b.endorsement_message(), &Signature::from_bytes(&e.signature))
            .map_err(|_| TxError::CustomsCannotRead(format!("the endorsement of {} does not verify", e.member)))
    }

    /// Checks a put's payload: a valid record of the dataset whose attributes match the signed
    /// ones (clear), a well-formed private header and key set (private).
    fn check_payload(&self, tx: &Transaction, id: &Hash, replay: bool) -> Result<Vec<WrappedKey>, TxError> {
        let b = &tx.body;
        match b.payload_kind {
            // The same body (its hash is the id) with the same payload (its digest was checked)
            // passed here before: the record check gives the same answer.
            PayloadKind::Clear if self.payload_ok.lock().unwrap_or_else(|e| e.into_inner()).contains(id) => {
                Ok(Vec::new())
            }
            PayloadKind::Clear => {
                if let Some(t) = meta::dataset_type(&b.record_type, self.genesis.rules) {
                    if t.name() != b.record_type {
                        return Err(TxError::Malformed(format!("record type must be written {}", t.name())));
                    }
                    let report = borderlink_model::validate(
                        &tx.payload,
                        &ValidateOptions { record_type: Some(t), ..Default::default() },
                    );
                    let Some(record) = report.record.filter(|_| report.valid) else {
                        let first = report
                            .errors
                            .first()
                            .map(|e| format!("{} [{}] {}", e.path, e.rule, e.message))
                            .unwrap_or_default();
                        return Err(TxError::InvalidRecord(format!(
                            "{} error(s); first: {first}",
                            report.errors.len()
                        )));
                    };
                    let derived = meta::derive(&record);
                    if derived != b.meta {
                        return Err(TxError::MetaMismatch(format!(
                            "the record says country {:?}, declarant {:?}, issuer {:?}",
                            derived.country, derived.declarant, derived.issuer
                        )));
                    }
                    // The namespace (type and authority) was checked against the signed
                    // attributes, which now match the record; what is left is the business key.
                    if self.genesis.rules >= 2 {
                        check_business_key(&record, &b.record_id)?;
                    }
                } else if b.record_type != "document" {
                    return Err(TxError::Malformed(format!("unknown record type {}", b.record_type)));
                }
                if b.private.is_some() || !tx.wrapped_keys.is_empty() {
                    return Err(TxError::Malformed("a clear record has no recipients".into()));
                }
                let mut ok = self.payload_ok.lock().unwrap_or_else(|e| e.into_inner());
                if ok.len() >= VERIFIED_CACHE {
                    ok.clear();
                }
                ok.insert(*id);
                Ok(Vec::new())
            }
            PayloadKind::Private => {
                let Some(h) = &b.private else {
                    return Err(TxError::Undecryptable("the private header is missing".into()));
                };
                if replay && tx.wrapped_keys.is_empty() {
                    return Ok(Vec::new());
                }
                private::check_key_set(h, &tx.wrapped_keys).map_err(TxError::Undecryptable)?;
                let live = self.live.read().unwrap_or_else(|e| e.into_inner());
                if let Some(r) = h.recipients.iter().find(|r| !live.members.by_id.contains_key(*r)) {
                    return Err(TxError::Undecryptable(format!("recipient {r} is not a member")));
                }
                Ok(tx.wrapped_keys.clone())
            }
            PayloadKind::OffChain => {
                if self.genesis.rules >= 2 && meta::dataset_type(&b.record_type, self.genesis.rules).is_some() {
                    return Err(TxError::Malformed(format!(
                        "a {} is a record of the dataset: it is carried clear or private, never off-chain",
                        b.record_type
                    )));
                }
                if !tx.payload.is_empty() {
                    return Err(TxError::Malformed(
                        "an off-chain object's bytes go to the blob store, not the transaction".into(),
                    ));
                }
                Ok(Vec::new())
            }
            PayloadKind::Empty => Err(TxError::Malformed("a put needs a payload".into())),
        }
    }
}

/// Checks that a record's id ends with its business key (escaped), the part every node can only
/// check on a record it can read.
fn check_business_key(record: &borderlink_model::Record, record_id: &str) -> Result<(), TxError> {
    let t = record.record_type().name();
    let key = meta::business_key(record).ok_or_else(|| {
        TxError::WrongRecordId(format!(
            "a {t} needs its business key to be stored on the ledger (its id is {})",
            meta::id_pattern(t)
        ))
    })?;
    let want = meta::escape_part(&key);
    match record_id.rsplit_once(':') {
        Some((_, k)) if k == want => Ok(()),
        split => Err(TxError::WrongRecordId(format!(
            "the record's business key is {key:?}: its id is {:?} ({}); got {record_id:?}",
            format!("{}:{want}", split.map_or("…", |(p, _)| p)),
            meta::id_pattern(t)
        ))),
    }
}

/// Verifies every signature in one batch (a batch of n costs far less than n single
/// verifications); when the batch fails, one by one to find the bad ones. Unknown submitters
/// fail.
fn verify_signatures(txs: &[&Transaction], members: &Members) -> Vec<bool> {
    let mut msgs = Vec::with_capacity(txs.len());
    let mut sigs = Vec::with_capacity(txs.len());
    let mut keys = Vec::with_capacity(txs.len());
    let mut known = Vec::with_capacity(txs.len());
    for t in txs {
        match members.keys.get(&t.body.submitter) {
            Some(k) => {
                msgs.push(t.body_bytes.as_slice());
                sigs.push(Signature::from_bytes(&t.signature));
                keys.push(*k);
                known.push(true);
            }
            None => known.push(false),
        }
    }
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return known;
    }
    txs.iter()
        .map(|t| {
            members
                .keys
                .get(&t.body.submitter)
                .is_some_and(|k| k.verify_strict(&t.body_bytes, &Signature::from_bytes(&t.signature)).is_ok())
        })
        .collect()
}

pub(super) fn apply_governance(
    members: &Arc<Members>,
    policy: &Arc<Policy>,
    action: &GovernanceAction,
) -> Result<(Arc<Members>, Arc<Policy>), LedgerError> {
    let mut list: Vec<Member> = members.by_id.values().cloned().collect();
    let mut nodes = members.nodes.clone();
    let mut policy = Arc::clone(policy);
    match action {
        GovernanceAction::AdmitMember { member } => {
            if list.iter().any(|m| m.id == member.id) {
                return Err(LedgerError::Governance(format!("{} is already a member", member.id)));
            }
            member.verifying_key()?;
            member.encryption_public()?;
            let mut m = member.clone();
            m.status = MemberStatus::Active;
            list.push(m);
        }
        GovernanceAction::SuspendMember { member_id, .. } | GovernanceAction::ReinstateMember { member_id } => {
            let target = matches!(action, GovernanceAction::SuspendMember { .. });
            let m = list
                .iter_mut()
                .find(|m| &m.id == member_id)
                .ok_or_else(|| LedgerError::Governance(format!("{member_id} is not a member")))?;
            m.status = if target { MemberStatus::Suspended } else { MemberStatus::Active };
        }
        GovernanceAction::SetPolicy { policy: text } => {
            policy = Arc::new(Policy::new(text)?);
        }
        GovernanceAction::SetReadPolicy { policy: text } => {
            crate::read_policy::ReadPolicy::new(text)?;
        }
        GovernanceAction::AddNode { node } => {
            if node.id == 0 || nodes.iter().any(|n| n.id == node.id) {
                return Err(LedgerError::Governance(format!("node id {} is zero or already taken", node.id)));
            }
            if !list.iter().any(|m| m.id == node.member && m.status == MemberStatus::Active) {
                return Err(LedgerError::Governance(format!("{} is not an active member", node.member)));
            }
            if node.peer_addr.is_empty() || node.api_url.is_empty() {
                return Err(LedgerError::Governance("a node needs its peer address and API URL".into()));
            }
            nodes.push(node.clone());
        }
        GovernanceAction::RemoveNode { node_id } => {
            let before = nodes.len();
            nodes.retain(|n| n.id != *node_id);
            if nodes.len() == before {
                return Err(LedgerError::Governance(format!("node {node_id} is not an ordering node")));
            }
            if nodes.is_empty() {
                return Err(LedgerError::Governance("the last ordering node cannot be removed".into()));
            }
        }
    }
    Ok((Arc::new(Members::new(list, nodes)?), policy))
}
