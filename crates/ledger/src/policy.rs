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
    ActionConstraint, Authorizer, Context, Decision, Effect, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, Response, RestrictedExpression,
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

/// The `Record` entity's attributes, as both the write and the read policy see them.
pub(crate) fn record_attrs(r: &ResourceAttrs) -> HashMap<String, RestrictedExpression> {
    HashMap::from([
        ("type".to_owned(), s(&r.record_type)),
        ("country".to_owned(), s(&r.meta.country)),
        ("declarant".to_owned(), s(&r.meta.declarant)),
        ("issuer".to_owned(), s(&r.meta.issuer)),
        ("owner".to_owned(), s(&r.owner)),
    ])
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
        Ok(self.decide(member, action, r)?.decision() == Decision::Allow)
    }

    /// Why `member` may not perform `action` on the record, for the person who asked — never part
    /// of what a block records. Lines: the rules of the policy in force that could permit the
    /// action on this record type (their `@id`, and the comment above them or their
    /// `@description`), a `forbid` rule that applied, the attributes the rules compare, and the
    /// members of `candidates` the policy would allow instead (`before`: an update must also be
    /// allowed on the record as it was).
    pub fn explain<'a>(
        &self,
        member: &Member,
        action: Action,
        resource: &ResourceAttrs,
        before: Option<&ResourceAttrs>,
        candidates: impl IntoIterator<Item = &'a Member>,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        let forbids: Vec<String> = match self.decide(member, action, resource) {
            Ok(response) => self.forbids(&response),
            Err(e) => return vec![format!("(the policy cannot be evaluated: {e})")],
        };
        for id in &forbids {
            lines.push(format!(
                "rule {id} forbids it{}",
                self.sentence(id).map(|s| format!(": {s}")).unwrap_or_default()
            ));
        }
        let permits = self.permits_for(action, &resource.record_type);
        if permits.is_empty() {
            lines.push(format!("no rule of the policy permits to {} a {}", action.name(), resource.record_type));
        }
        for (id, sentence) in &permits {
            lines.push(format!("rule {id} permits it: {sentence}"));
        }
        let r = resource;
        let mut facts = vec![format!("type {}", r.record_type)];
        for (name, value) in
            [("country", &r.meta.country), ("declarant", &r.meta.declarant), ("issuer", &r.meta.issuer)]
        {
            if !value.is_empty() {
                facts.push(format!("{name} {value}"));
            }
        }
        if !r.owner.is_empty() && r.owner != member.id {
            facts.push(format!("created by {}", r.owner));
        }
        let traders = if member.trader_ids.is_empty() { "none".to_owned() } else { member.trader_ids.join(", ") };
        lines.push(format!(
            "the record: {}; {}: {} of {}, trader ids {traders}",
            facts.join(", "),
            member.id,
            member.role.name(),
            member.country
        ));
        // The rule users meet first: a declaration is its declarant's (or its country's customs).
        if r.record_type == "declaration"
            && !r.meta.declarant.is_empty()
            && !member.trader_ids.contains(&r.meta.declarant)
            && self.text.contains("trader_ids.contains(resource.declarant)")
        {
            lines.push(format!(
                "a declaration's submitter must trade under its declarant's id (or be the customs administration of \
                 {}): the declarant is {}, and the trader ids of {} ({traders}) do not contain it",
                if r.meta.country.is_empty() { "its country" } else { &r.meta.country },
                r.meta.declarant,
                member.id
            ));
        }
        let mut allowed: Vec<&str> = candidates
            .into_iter()
            .filter(|m| m.id != member.id)
            .filter(|m| {
                self.allows(m, action, resource).unwrap_or(false)
                    && before.is_none_or(|b| self.allows(m, Action::Update, b).unwrap_or(false))
            })
            .map(|m| m.id.as_str())
            .collect();
        allowed.sort_unstable();
        match allowed.len() {
            0 => lines.push("no member of the consortium may do it".to_owned()),
            n if n <= 8 => lines.push(format!("members the policy allows to do it: {}", allowed.join(", "))),
            n => lines.push(format!(
                "members the policy allows to do it: {}, and {} more",
                allowed[..8].join(", "),
                n - 8
            )),
        }
        lines
    }

    /// The `forbid` rules that decided a refusal.
    fn forbids(&self, response: &Response) -> Vec<String> {
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .filter_map(|id| self.set.policy(id))
            .filter(|p| p.effect() == Effect::Forbid)
            .map(|p| p.annotation("id").map_or_else(|| p.id().to_string(), str::to_owned))
            .collect();
        ids.sort();
        ids
    }

    /// The `permit` rules that can allow `action` on a record of type `record_type`: their
    /// action scope admits it, and their text names the type or does not test the type at all.
    /// With their sentence, in the order of the policy text.
    fn permits_for(&self, action: Action, record_type: &str) -> Vec<(String, String)> {
        let Ok(action_uid) = uid("Action", action.name()) else { return Vec::new() };
        let quoted = format!("\"{record_type}\"");
        let mut found: Vec<(usize, String, String)> = self
            .set
            .policies()
            .filter(|p| p.effect() == Effect::Permit)
            .filter(|p| match p.action_constraint() {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(a) => a == action_uid,
                ActionConstraint::In(list) => list.contains(&action_uid),
            })
            .filter_map(|p| {
                let text = p.to_string();
                let tests_type = text.contains("resource.type");
                (!tests_type || text.contains(&quoted)).then(|| {
                    let id = p.annotation("id").map_or_else(|| p.id().to_string(), str::to_owned);
                    let sentence = self.sentence(&id).unwrap_or_else(|| condensed(&text));
                    let at = self.text.find(&format!("@id(\"{id}\")")).unwrap_or(usize::MAX);
                    (at, id, sentence)
                })
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, id, sentence)| (id, sentence)).collect()
    }

    /// What the rule `id` means in words: its `@description` annotation, else the `//` comment
    /// lines right above its `@id("…")` in the policy text.
    fn sentence(&self, id: &str) -> Option<String> {
        if let Some(d) =
            self.set.policies().find(|p| p.annotation("id") == Some(id)).and_then(|p| p.annotation("description"))
        {
            return Some(d.to_owned());
        }
        let at = self.text.find(&format!("@id(\"{id}\")"))?;
        let above: Vec<&str> = self.text[..at]
            .lines()
            .rev()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| l.trim_start().starts_with("//"))
            .map(|l| l.trim_start().trim_start_matches('/').trim())
            .collect();
        let words = above.into_iter().rev().collect::<Vec<_>>().join(" ");
        (!words.is_empty()).then_some(words)
    }

    fn decide(&self, member: &Member, action: Action, r: &ResourceAttrs) -> Result<Response, LedgerError> {
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
        let record_attrs = record_attrs(r);
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
        Ok(Authorizer::new().is_authorized(&request, &self.set, &entities))
    }
}

/// A rule's text on one line, for a rule without a comment: whitespace collapsed, cut at 240
/// characters.
fn condensed(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(240) {
        Some((at, _)) => format!("{}…", &one[..at]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::DEFAULT_POLICY;
    use crate::identity::Role;

    fn member(id: &str, role: Role, country: &str, traders: &[&str]) -> Member {
        Member {
            id: id.into(),
            name: id.into(),
            role,
            country: country.into(),
            trader_ids: traders.iter().map(|t| (*t).to_owned()).collect(),
            signing_key: String::new(),
            encryption_key: String::new(),
            certificate: String::new(),
            status: MemberStatus::Active,
        }
    }

    #[test]
    fn a_refused_declaration_names_its_rule_the_declarant_and_who_may() {
        let policy = Policy::new(DEFAULT_POLICY).expect("the default policy compiles");
        let other = member("gb-aeo-other", Role::Aeo, "GB", &["GB111"]);
        let declarant = member("gb-aeo-ei", Role::Aeo, "GB", &["GB553202734852"]);
        let customs = member("gb-customs-hrc", Role::Customs, "GB", &[]);
        let nl = member("nl-customs-dn", Role::Customs, "NL", &[]);
        let record = ResourceAttrs {
            record_type: "declaration".into(),
            meta: RecordMeta { country: "GB".into(), declarant: "GB553202734852".into(), issuer: String::new() },
            owner: "gb-aeo-other".into(),
        };
        assert!(!policy.allows(&other, Action::Create, &record).unwrap());
        let lines = policy.explain(&other, Action::Create, &record, None, [&other, &declarant, &customs, &nl]);
        let text = lines.join("\n");
        assert!(
            text.contains("rule declaration-write permits it: A declaration is written by its declarant"),
            "{text}"
        );
        assert!(text.contains("the declarant is GB553202734852, and the trader ids of gb-aeo-other (GB111)"), "{text}");
        assert!(text.contains("members the policy allows to do it: gb-aeo-ei, gb-customs-hrc"), "{text}");
        assert!(!text.contains("aeo-issuer-only") && !text.contains("nl-customs-dn"), "{text}");
    }

    #[test]
    fn a_forbid_rule_that_applied_is_named() {
        let policy = Policy::new(DEFAULT_POLICY).expect("the default policy compiles");
        let mut customs = member("gb-customs-hrc", Role::Customs, "GB", &[]);
        customs.status = MemberStatus::Suspended;
        let record = ResourceAttrs {
            record_type: "inspection-result".into(),
            meta: RecordMeta { country: "GB".into(), ..RecordMeta::default() },
            owner: String::new(),
        };
        let text = policy.explain(&customs, Action::Create, &record, None, [&customs]).join("\n");
        assert!(text.contains("rule suspended-members forbids it: A suspended member can do nothing."), "{text}");
        assert!(text.contains("rule inspection-by-customs permits it"), "{text}");
        assert!(text.contains("no member of the consortium may do it"), "{text}");
    }

    #[test]
    fn a_rule_without_a_comment_is_shown_as_its_text() {
        let policy = Policy::new(DEFAULT_POLICY).expect("the default policy compiles");
        let aeo = member("gb-aeo-ei", Role::Aeo, "GB", &[]);
        let record = ResourceAttrs {
            record_type: "document".into(),
            meta: RecordMeta::default(),
            owner: "nl-customs-dn".into(),
        };
        let text = policy.explain(&aeo, Action::Update, &record, None, [&aeo]).join("\n");
        assert!(text.contains("rule document-update permits it: @id(\"document-update\") permit"), "{text}");
        assert!(text.contains("resource.owner == principal.id"), "{text}");
    }
}
