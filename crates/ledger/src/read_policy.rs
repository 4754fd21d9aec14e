//! The read policy as data, evaluated with Cedar: who may read which record, for which declared
//! purpose, and which groups of fields the answer keeps.
//!
//! The text lives in the genesis (`read_policy`; absent means [`DEFAULT_READ_POLICY`]) and is
//! replaced by governance (`set_read_policy`). Two actions:
//!
//! - `Action::"read"` on `Record::"record"`: may this reader read this record for this purpose?
//! - `Action::"read-fields"` on the same record, with `context.group` naming a group of fields
//!   (see [`FIELD_GROUPS`]): does the answer keep them? A group the policy does not permit is
//!   withheld, and the answer says which paths were.
//!
//! Entities: `Reader` (attributes `member`, `org_role` — the member's role in the consortium,
//! `country`, `trader_ids`, `roles` — a person's roles, `system` for a member's signed request,
//! `operator` for the node's console token), `Record` (attributes `type`, `country`,
//! `declarant`, `issuer`, `owner`, as in the write policy). Context: `purpose`, and `group` for
//! `read-fields`.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Mutex;

use cedar_policy::{Authorizer, Context, Decision, Entities, Entity, PolicySet, Request, RestrictedExpression};

use crate::LedgerError;
use crate::identity::Member;
use crate::policy::{ResourceAttrs, record_attrs, s, uid};

/// The purposes a read may declare, with what each means.
pub const PURPOSES: &[(&str, &str)] = &[
    ("clearance", "clearing goods: assessing and releasing a declaration, an inspection"),
    ("risk-analysis", "analysing risk: criteria, models, targeting"),
    ("audit", "checking what was done, after the fact"),
    ("mra-exchange", "exchanging AEO status with a mutual-recognition partner"),
    ("statistics", "statistics and analysis, without the parties' identities"),
    ("data-subject-access", "answering a trader's or a person's request for the data held on them"),
];

/// Whether `name` is one of [`PURPOSES`].
pub fn is_purpose(name: &str) -> bool {
    PURPOSES.iter().any(|(p, _)| *p == name)
}

/// The groups of fields a read policy can withhold: a name, what it holds, and the object keys
/// that make it up (found at any depth of a record, so every record type and nesting is covered).
pub const FIELD_GROUPS: &[(&str, &str, &[&str])] = &[
    (
        "parties",
        "names, addresses and identifiers of the traders and persons a record names",
        &[
            "Declarant",
            "Exporter",
            "Importer",
            "Agent",
            "Representative",
            "AuthorisationHolder",
            "Buyer",
            "Seller",
            "Consignee",
            "Consignor",
            "Carrier",
            "Notify",
            "AEOMutualRecognitionParty",
            "holder",
            "traderIdentificationNumber",
            "inspector",
            "Inspector",
        ],
    ),
    (
        "values",
        "commercial values: invoice and customs values, prices, valuation adjustments",
        &[
            "InvoiceAmount",
            "StatisticalValueAmount",
            "CustomsValuation",
            "CustomsValueAmount",
            "ValuationAdjustment",
            "ItemChargeAmount",
        ],
    ),
];

/// The read policy every new consortium starts with (Cedar); see the module documentation for
/// its entities.
pub const DEFAULT_READ_POLICY: &str = r#"// Clearance: a customs administration's officers, risk officers, systems and operator.
@id("clearance-by-customs")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "clearance" && principal.org_role == "customs" &&
  principal.roles.containsAny(["officer", "risk-officer", "system", "operator"])
};

// Clearance: a trader, carrier or port reads the records it is party to (it created them, or
// it is their declarant).
@id("clearance-by-party")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "clearance" && principal.org_role != "customs" &&
  (resource.owner == principal.member || principal.trader_ids.contains(resource.declarant))
};

// Risk analysis: a customs administration's analysts, officers, risk officers, systems, operator.
@id("risk-analysis-by-customs")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "risk-analysis" && principal.org_role == "customs" &&
  principal.roles.containsAny(["analyst", "officer", "risk-officer", "system", "operator"])
};

// Audit: a customs administration's auditors read everything; another organisation's auditors
// what it is party to.
@id("audit-by-customs")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "audit" && principal.org_role == "customs" &&
  principal.roles.containsAny(["auditor", "system", "operator"])
};
@id("audit-by-party")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "audit" && principal.org_role != "customs" &&
  principal.roles.containsAny(["auditor", "system", "operator"]) &&
  (resource.owner == principal.member || principal.trader_ids.contains(resource.declarant))
};

// A data subject's access request is answered by a customs administration's auditors.
@id("subject-access")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "data-subject-access" && principal.org_role == "customs" &&
  principal.roles.containsAny(["auditor", "operator"])
};

// Statistics: customs analysts and risk officers, systems, operator (parties withheld below).
@id("statistics-by-customs")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "statistics" && principal.org_role == "customs" &&
  principal.roles.containsAny(["analyst", "risk-officer", "system", "operator"])
};

// Mutual recognition: AEO authorisations only, between customs administrations.
@id("mra-exchange")
permit (principal, action == Action::"read", resource)
when {
  context.purpose == "mra-exchange" && principal.org_role == "customs" &&
  resource.type == "aeo-authorization" &&
  principal.roles.containsAny(["officer", "risk-officer", "analyst", "system", "operator"])
};

// Fields: a read keeps every group, except as forbidden here.
@id("fields")
permit (principal, action == Action::"read-fields", resource);

// Statistics never sees who the parties are.
@id("statistics-without-parties")
forbid (principal, action == Action::"read-fields", resource)
when { context.purpose == "statistics" && context.group == "parties" };

// A data subject's report is about the subject, not the trade's commercial values.
@id("subject-access-without-values")
forbid (principal, action == Action::"read-fields", resource)
when { context.purpose == "data-subject-access" && context.group == "values" };
"#;

/// Who reads: the member organisation and, for a person, their roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reader {
    /// The member the reader acts for.
    pub member: String,
    /// The member's role in the consortium (`customs`, `aeo`, …).
    pub org_role: String,
    /// The member's country.
    pub country: String,
    /// The trader ids the member trades under.
    pub trader_ids: Vec<String>,
    /// A person's roles; `system` for a member's signed request; `operator` for the node's
    /// console token.
    pub roles: Vec<String>,
}

impl Reader {
    /// The reader for `member` with `roles`.
    pub fn of(member: &Member, roles: Vec<String>) -> Self {
        Self {
            member: member.id.clone(),
            org_role: member.role.name().to_owned(),
            country: member.country.clone(),
            trader_ids: member.trader_ids.clone(),
            roles,
        }
    }
}

/// What the policy decided for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDecision {
    /// Whether the record may be read at all.
    pub allowed: bool,
    /// The field groups the answer must not contain (empty when the record is not readable).
    pub withheld_groups: Vec<&'static str>,
}

/// A compiled read policy with a decision cache.
#[derive(Debug)]
pub struct ReadPolicy {
    text: String,
    set: PolicySet,
    cache: Mutex<HashMap<(Reader, String, ResourceAttrs), ReadDecision>>,
}

const CACHE_LIMIT: usize = 50_000;

fn set_of(v: &[String]) -> RestrictedExpression {
    RestrictedExpression::new_set(v.iter().map(|t| s(t)))
}

fn policy_error(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Policy(e.to_string())
}

impl ReadPolicy {
    /// Compiles a Cedar read policy.
    pub fn new(text: &str) -> Result<Self, LedgerError> {
        let set = PolicySet::from_str(text)
            .map_err(|e| LedgerError::Policy(format!("the read policy does not compile: {e}")))?;
        Ok(Self { text: text.to_owned(), set, cache: Mutex::new(HashMap::new()) })
    }

    /// The policy's source text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What `reader` may read of a record with `resource`'s attributes, for `purpose`.
    pub fn decide(
        &self,
        reader: &Reader,
        purpose: &str,
        resource: &ResourceAttrs,
    ) -> Result<ReadDecision, LedgerError> {
        let key = (reader.clone(), purpose.to_owned(), resource.clone());
        if let Some(d) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(d);
        }
        let allowed = self.evaluate(reader, "read", purpose, None, resource)?;
        let mut withheld_groups = Vec::new();
        if allowed {
            for (group, _, _) in FIELD_GROUPS {
                if !self.evaluate(reader, "read-fields", purpose, Some(group), resource)? {
                    withheld_groups.push(*group);
                }
            }
        }
        let decision = ReadDecision { allowed, withheld_groups };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, decision.clone());
        }
        Ok(decision)
    }

    fn evaluate(
        &self,
        reader: &Reader,
        action: &str,
        purpose: &str,
        group: Option<&str>,
        r: &ResourceAttrs,
    ) -> Result<bool, LedgerError> {
        let principal = uid("Reader", &reader.member)?;
        let resource = uid("Record", "record")?;
        let reader_attrs = HashMap::from([
            ("member".to_owned(), s(&reader.member)),
            ("org_role".to_owned(), s(&reader.org_role)),
            ("country".to_owned(), s(&reader.country)),
            ("trader_ids".to_owned(), set_of(&reader.trader_ids)),
            ("roles".to_owned(), set_of(&reader.roles)),
        ]);
        let record_attrs = record_attrs(r);
        let entities = Entities::from_entities(
            [
                Entity::new(principal.clone(), reader_attrs, HashSet::new()).map_err(policy_error)?,
                Entity::new(resource.clone(), record_attrs, HashSet::new()).map_err(policy_error)?,
            ],
            None,
        )
        .map_err(policy_error)?;
        let mut context = vec![("purpose".to_owned(), s(purpose))];
        context.push(("group".to_owned(), s(group.unwrap_or(""))));
        let context = Context::from_pairs(context).map_err(policy_error)?;
        let request = Request::new(principal, uid("Action", action)?, resource, context, None).map_err(policy_error)?;
        let response = Authorizer::new().is_authorized(&request, &self.set, &entities);
        Ok(response.decision() == Decision::Allow)
    }
}

/// Removes the withheld groups' fields from `value` (at any depth) and returns the paths
/// removed (`Declaration.Exporter`, `Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].
/// StatisticalValueAmount`, …), in document order.
pub fn withhold(value: &mut serde_json::Value, groups: &[&str]) -> Vec<String> {
    let keys: HashSet<&str> = FIELD_GROUPS
        .iter()
        .filter(|(g, _, _)| groups.contains(g))
        .flat_map(|(_, _, keys)| keys.iter().copied())
        .collect();
    let mut removed = Vec::new();
    if !keys.is_empty() {
        strip(value, &keys, String::new(), &mut removed);
    }
    removed
}

fn strip(value: &mut serde_json::Value, keys: &HashSet<&str>, path: String, removed: &mut Vec<String>) {
    let join = |k: &str| if path.is_empty() { k.to_owned() } else { format!("{path}.{k}") };
    match value {
        serde_json::Value::Object(map) => {
            let names: Vec<String> = map.keys().cloned().collect();
            for k in names {
                if keys.contains(k.as_str()) {
                    map.remove(&k);
                    removed.push(join(&k));
                } else if let Some(v) = map.get_mut(&k) {
                    strip(v, keys, join(&k), removed);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                strip(v, keys, format!("{path}[{i}]"), removed);
            }
        }
        _ => {}
    }
}

/// The identifiers of the traders and persons a record names: every string `ID` (and the
/// trader identification number) under a `parties` field, for the data subject's report.
pub fn subjects(value: &serde_json::Value) -> Vec<String> {
    let keys: HashSet<&str> =
        FIELD_GROUPS.iter().filter(|(g, _, _)| *g == "parties").flat_map(|(_, _, k)| k.iter().copied()).collect();
    let mut out = Vec::new();
    collect_subjects(value, &keys, false, &mut out);
    out.sort();
    out.dedup();
    out
}

fn collect_subjects(value: &serde_json::Value, keys: &HashSet<&str>, inside: bool, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let party = inside || keys.contains(k.as_str());
                match v {
                    serde_json::Value::String(id)
                        if party && (k == "ID" || k == "traderIdentificationNumber") && !id.is_empty() =>
                    {
                        out.push(id.clone());
                    }
                    _ => collect_subjects(v, keys, party, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_subjects(v, keys, inside, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::RecordMeta;

    fn reader(org_role: &str, roles: &[&str]) -> Reader {
        Reader {
            member: "m1".into(),
            org_role: org_role.into(),
            country: "GB".into(),
            trader_ids: vec!["GB1".into()],
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    fn declaration(owner: &str, declarant: &str) -> ResourceAttrs {
        ResourceAttrs {
            record_type: "declaration".into(),
            meta: RecordMeta { country: "GB".into(), declarant: declarant.into(), issuer: String::new() },
            owner: owner.into(),
        }
    }

    #[test]
    fn the_default_policy_binds_reads_to_purposes_and_roles() {
        let p = ReadPolicy::new(DEFAULT_READ_POLICY).expect("compiles");
        let rec = declaration("other", "GB9");
        let officer = reader("customs", &["officer"]);
        assert!(p.decide(&officer, "clearance", &rec).unwrap().allowed);
        assert!(!p.decide(&officer, "statistics", &rec).unwrap().allowed, "an officer does no statistics");
        let analyst = reader("customs", &["analyst"]);
        let stats = p.decide(&analyst, "statistics", &rec).unwrap();
        assert!(stats.allowed);
        assert_eq!(stats.withheld_groups, vec!["parties"]);
        assert!(p.decide(&analyst, "risk-analysis", &rec).unwrap().withheld_groups.is_empty());
        // A trader reads, for clearance, what it declared; not another trader's declaration.
        let trader = reader("aeo", &["system"]);
        assert!(p.decide(&trader, "clearance", &declaration("x", "GB1")).unwrap().allowed);
        assert!(!p.decide(&trader, "clearance", &rec).unwrap().allowed);
        assert!(!p.decide(&trader, "risk-analysis", &declaration("x", "GB1")).unwrap().allowed);
        // MRA exchange reads AEO authorisations only.
        assert!(!p.decide(&officer, "mra-exchange", &rec).unwrap().allowed);
        let mut aeo = rec.clone();
        aeo.record_type = "aeo-authorization".into();
        assert!(p.decide(&officer, "mra-exchange", &aeo).unwrap().allowed);
    }

    #[test]
    fn withholding_removes_the_groups_fields_at_any_depth_and_names_them() {
        let mut v = serde_json::json!({"Declaration": {"TypeCode": "IM", "Exporter": {"Name": "A"},
            "GoodsShipment": {"Importer": {"ID": "GB1"}, "GovernmentAgencyGoodsItem": [{"StatisticalValueAmount": 5}]}}});
        assert_eq!(subjects(&v), vec!["GB1".to_owned()]);
        let removed = withhold(&mut v, &["parties", "values"]);
        assert_eq!(
            removed,
            vec![
                "Declaration.Exporter",
                "Declaration.GoodsShipment.Importer",
                "Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].StatisticalValueAmount"
            ]
        );
        assert_eq!(v["Declaration"]["TypeCode"], "IM");
        assert!(v["Declaration"].get("Exporter").is_none());
    }

    #[test]
    fn a_policy_that_does_not_compile_is_refused() {
        assert!(ReadPolicy::new("permit (principal, action, resource) when {").is_err());
    }
}
