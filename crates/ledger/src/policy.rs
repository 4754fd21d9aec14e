//! Write policies as data, evaluated with Cedar.
//!
//! The policy text lives in the genesis (and can be replaced by governance). A request is
//! `Member::"<id>"` doing `Action::"create" | "update" | "erase"` on `Record::"<id>"`; the
//! member's attributes come from the consortium's membership, the record's from its metadata.
//! Decisions are pure functions of those attributes, so they are memoised: at ledger rates the
//! same (member, action, type, country…) combinations recur constantly.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Mutex;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
    RestrictedExpression,
};

use crate::LedgerError;
use crate::identity::{Member, MemberStatus};
use crate::tx::RecordMeta;

/// The action a write performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A new record.
    Create,
    /// A new version of an existing record.
    Update,
    /// Crypto-shredding of a record.
    Erase,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Erase => "erase",
        }
    }
}

/// The attributes of the record a write concerns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceAttrs {
    /// Record type.
    pub record_type: String,
    /// Policy metadata.
    pub meta: RecordMeta,
    /// The member that created the record (empty for a new record).
    pub owner: String,
}

/// A compiled write policy with a decision cache.
#[derive(Debug)]
pub struct Policy {
    text: String,
    set: PolicySet,
    cache: Mutex<HashMap<CacheKey, bool>>,
}

type CacheKey = (String, MemberStatus, Action, ResourceAttrs);

const CACHE_LIMIT: usize = 100_000;

/// A Cedar entity uid `ty::"id"` (shared with the read policy).
pub(crate) fn uid(ty: &str, id: &str) -> Result<EntityUid, LedgerError> {
    let t = EntityTypeName::from_str(ty).map_err(|e| LedgerError::Policy(e.to_string()))?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)))
}

/// A Cedar string literal (shared with the read policy).
pub(crate) fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_owned())
}

impl Policy {
    /// Compiles a Cedar policy text.
    pub fn new(text: &str) -> Result<Self, LedgerError> {
        let set =
            PolicySet::from_str(text).map_err(|e| LedgerError::Policy(format!("the policy does not compile: {e}")))?;
        Ok(Self { text: text.to_owned(), set, cache: Mutex::new(HashMap::new()) })
    }

    /// The policy's source text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `member` may perform `action` on the record.
    pub fn allows(&self, member: &Member, action: Action, resource: &ResourceAttrs) -> Result<bool, LedgerError> {
        let key: CacheKey = (member.id.clone(), member.status, action, resource.clone());
        if let Ok(cache) = self.cache.lock()
            && let Some(d) = cache.get(&key)
        {
            return Ok(*d);
        }
        let decision = self.evaluate(member, action, resource)?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, decision);
        }
        Ok(decision)
    }

    fn evaluate(&self, member: &Member, action: Action, r: &ResourceAttrs) -> Result<bool, LedgerError> {
        let principal = uid("Member", &member.id)?;
        let resource = uid("Record", "record")?;
        let status = match member.status {
            MemberStatus::Active => "active",
            MemberStatus::Suspended => "suspended",
        };
        let member_attrs = HashMap::from([
            ("id".to_owned(), s(&member.id)),
            ("role".to_owned(), s(member.role.name())),
            ("country".to_owned(), s(&member.country)),
            ("status".to_owned(), s(status)),
            ("trader_ids".to_owned(), RestrictedExpression::new_set(member.trader_ids.iter().map(|t| s(t)))),
        ]);
        let record_attrs = HashMap::from([
            ("type".to_owned(), s(&r.record_type)),
            ("country".to_owned(), s(&r.meta.country)),
            ("declarant".to_owned(), s(&r.meta.declarant)),
            ("issuer".to_owned(), s(&r.meta.issuer)),
            ("owner".to_owned(), s(&r.owner)),
        ]);
        let entities = Entities::from_entities(
            [
                Entity::new(principal.clone(), member_attrs, HashSet::new())
                    .map_err(|e| LedgerError::Policy(e.to_string()))?,
                Entity::new(resource.clone(), record_attrs, HashSet::new())
                    .map_err(|e| LedgerError::Policy(e.to_string()))?,
            ],
            None,
        )
        .map_err(|e| LedgerError::Policy(e.to_string()))?;
        let request = Request::new(principal, uid("Action", action.name())?, resource, Context::empty(), None)
            .map_err(|e| LedgerError::Policy(e.to_string()))?;
        let response = Authorizer::new().is_authorized(&request, &self.set, &entities);
        Ok(response.decision() == Decision::Allow)
    }
}
