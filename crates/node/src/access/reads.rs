//! Purpose-bound reads: every read of a record's content declares a purpose, the consortium's
//! read policy (`borderlink_ledger::read_policy`, Cedar, in the genesis) decides whether the
//! caller may read the record for it and which groups of fields the answer keeps, and the read
//! is appended to the audit trail ([`super::audit::AuditService`]).
//!
//! The purpose travels as `?purpose=NAME` or the `Borderlink-Purpose` header (the CLI's
//! `--purpose`); a console session carries the purpose its person declared (at login, changed
//! in the header of every page). [`Purposed`] reads it; [`Reads`] decides, shapes and audits.
//!
//! Invariant: a record's content leaves the node only through [`Reads::shape`] (one record) or
//! [`Reads::shape_all`] (several), which refuse a read without an allowed purpose, remove the
//! withheld fields, name them, and audit the read before the answer is sent.

use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use borderlink_access::Purpose;
use borderlink_access::audit::Access;
use borderlink_ledger::policy::ResourceAttrs;
use borderlink_ledger::read_policy::{ReadDecision, ReadPolicy, Reader};
use borderlink_ledger::{Ledger, RecordVersion};
use serde_json::Value;

use super::audit::AuditService;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::server::SharedState;

/// The header that declares a purpose.
pub(crate) const PURPOSE_HEADER: &str = "borderlink-purpose";

/// The purpose a request declared: `?purpose=`, the `Borderlink-Purpose` header, or its console
/// session's; `None` when it declared none. An unknown name is refused (`400 unknown_purpose`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Purposed(pub(crate) Option<Purpose>);

impl FromRequestParts<SharedState> for Purposed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &SharedState) -> Result<Self, ApiError> {
        let header = match parts.headers.get(PURPOSE_HEADER) {
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| ApiError::BadRequest("the Borderlink-Purpose header is not text".into()))?
                    .trim()
                    .to_owned(),
            ),
            None => None,
        };
        let query = parts
            .uri
            .query()
            .and_then(|q| url_pairs(q).into_iter().find(|(k, _)| k == "purpose").map(|(_, v)| v.trim().to_owned()));
        let named = match (header, query) {
            (Some(h), Some(q)) if h != q => {
                return Err(ApiError::BadRequest(format!(
                    "two different purposes declared: {h:?} in the Borderlink-Purpose header and {q:?} in ?purpose="
                )));
            }
            (Some(h), _) => Some(h),
            (None, q) => q,
        };
        let named = named.filter(|n| !n.is_empty()).or_else(|| crate::principal::session_purpose(&parts.extensions));
        match named {
            None => Ok(Purposed(None)),
            Some(n) => Purpose::parse(&n).map(|p| Purposed(Some(p))).ok_or(ApiError::UnknownPurpose(n)),
        }
    }
}

/// The query of a read that takes no other parameter: the declared purpose.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PurposeQuery {
    /// The declared purpose (or the `Borderlink-Purpose` header).
    #[param(inline, value_type = Option<PurposeName>)]
    #[allow(dead_code)] // read by `Purposed`
    purpose: Option<String>,
}

/// The purposes, as the OpenAPI document lists them (the query reads a string and answers an
/// unknown one with `unknown_purpose`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)] // documentation only
pub(crate) enum PurposeName {
    Clearance,
    RiskAnalysis,
    Audit,
    MraExchange,
    Statistics,
    DataSubjectAccess,
}

/// The `name=value` pairs of a query string, percent-decoded.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{query}").parse().unwrap_or_else(|_| axum::http::Uri::from_static("/")),
    )
    .map(|q| q.0)
    .unwrap_or_default()
}

/// A read's answer: the record (fields withheld removed) and what was withheld.
#[derive(Debug)]
pub(crate) struct Shaped {
    /// The record version as JSON, with `purpose` and `withheld` added.
    pub(crate) json: Value,
    /// The paths withheld.
    pub(crate) withheld: Vec<String>,
    /// The version with the withheld fields removed from its payload (a private record's
    /// content is in `json`).
    pub(crate) version: Option<RecordVersion>,
}

/// The read policy in force and the audit trail, for the routes that read records.
pub(crate) struct Reads {
    ledger: Arc<Ledger>,
    compiled: Mutex<Option<Arc<ReadPolicy>>>,
    audit: Arc<AuditService>,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reads").finish_non_exhaustive()
    }
}

/// Who a principal is, for an audit entry: (actor, kind, organisation, roles).
pub(crate) fn actor_of(principal: &Principal) -> (String, &'static str, String, Vec<String>) {
    match principal {
        Principal::Person { username, organisation, roles } => {
            (username.clone(), "person", organisation.clone(), roles.iter().map(|r| r.name().to_owned()).collect())
        }
        Principal::Member { id } => (id.clone(), "member", id.clone(), vec!["system".to_owned()]),
        Principal::Operator { member } => {
            ("operator".to_owned(), "operator", member.clone().unwrap_or_default(), vec!["operator".to_owned()])
        }
        Principal::Anonymous => ("anonymous".to_owned(), "anonymous", String::new(), Vec::new()),
    }
}

impl Reads {
    pub(crate) fn new(ledger: Arc<Ledger>, audit: Arc<AuditService>) -> Self {
        Self { ledger, compiled: Mutex::new(None), audit }
    }

    /// The audit trail.
    pub(crate) fn audit(&self) -> &Arc<AuditService> {
        &self.audit
    }

    /// The read policy in force (recompiled when governance replaced it).
    fn policy(&self) -> Result<Arc<ReadPolicy>, ApiError> {
        let text = self.ledger.read_policy_text()?;
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = compiled.as_ref()
            && p.text() == text
        {
            return Ok(Arc::clone(p));
        }
        let p = Arc::new(ReadPolicy::new(&text)?);
        *compiled = Some(Arc::clone(&p));
        Ok(p)
    }

    fn reader(&self, principal: &Principal) -> Result<Reader, ApiError> {
        let (_, _, organisation, roles) = actor_of(principal);
        let member = self
            .ledger
            .member(&organisation)
            .ok_or_else(|| ApiError::Forbidden(format!("{organisation:?} is not a member of this consortium")))?;
        Ok(Reader::of(&member, roles))
    }

    /// The purpose, or the refusal of a read that declared none.
    pub(crate) fn required(purpose: Purposed, what: &str) -> Result<Purpose, ApiError> {
        purpose.0.ok_or_else(|| {
            ApiError::PurposeRequired(
                what.to_owned(),
                "?purpose=clearance, or the header Borderlink-Purpose: clearance".to_owned(),
            )
        })
    }

    fn attrs(&self, v: &RecordVersion) -> Result<ResourceAttrs, ApiError> {
        let owner = self.ledger.record_state(&v.record_id)?.map(|s| s.owner).unwrap_or_default();
        Ok(ResourceAttrs { record_type: v.record_type.clone(), meta: v.meta.clone(), owner })
    }

    fn decide(&self, principal: &Principal, purpose: Purpose, v: &RecordVersion) -> Result<ReadDecision, ApiError> {
        let reader = self.reader(principal)?;
        Ok(self.policy()?.decide(&reader, purpose.name(), &self.attrs(v)?)?)
    }

    fn not_allowed(purpose: Purpose, v: &RecordVersion, principal: &Principal) -> ApiError {
        let (actor, _, organisation, roles) = actor_of(principal);
        ApiError::PurposeNotAllowed(
            purpose.name().to_owned(),
            format!("{actor} ({organisation}, {}) to read {} {}", roles.join(", "), v.record_type, v.record_id),
            "the consortium's read policy (GET /api/v1/read-policy) says who may read what for which purpose"
                .to_owned(),
        )
    }

    /// One record, read for `purpose` by `principal` through `route`: refused, or shaped and
    /// audited. `payload` is the content to shape when it is not the version's clear payload
    /// (a private record opened by this node).
    pub(crate) fn shape(
        &self,
        principal: &Principal,
        purpose: Purposed,
        route: &str,
        version: RecordVersion,
    ) -> Result<Shaped, ApiError> {
        let what = format!("reading {} {}", version.record_type, version.record_id);
        let purpose = Self::required(purpose, &what)?;
        let decision = self.decide(principal, purpose, &version)?;
        if !decision.allowed {
            return Err(Self::not_allowed(purpose, &version, principal));
        }
        let (json, withheld, subjects, version) = shape_one(version, &decision.withheld_groups, purpose);
        self.record_read(principal, purpose, route, vec![record_id(&json)], withheld.clone(), subjects)?;
        Ok(Shaped { json, withheld, version: Some(version) })
    }

    /// Whether `principal` may read `version` for `purpose`, and if so the field groups the
    /// answer must not hold. Nothing is read and nothing audited: a search uses it to leave out
    /// what the reader may not see before it shapes (and audits) the page it answers.
    pub(crate) fn permits(
        &self,
        principal: &Principal,
        purpose: Purpose,
        version: &RecordVersion,
    ) -> Result<Option<Vec<&'static str>>, ApiError> {
        let decision = self.decide(principal, purpose, version)?;
        Ok(decision.allowed.then_some(decision.withheld_groups))
    }

    /// A private record's content, opened by this node, read for `purpose`.
    pub(crate) fn shape_content(
        &self,
        principal: &Principal,
        purpose: Purposed,
        route: &str,
        version: &RecordVersion,
        mut content: Value,
    ) -> Result<Shaped, ApiError> {
        let what = format!("reading {} {}", version.record_type, version.record_id);
        let purpose = Self::required(purpose, &what)?;
        let decision = self.decide(principal, purpose, version)?;
        if !decision.allowed {
            return Err(Self::not_allowed(purpose, version, principal));
        }
        let mut subjects = borderlink_ledger::read_policy::subjects(&content);
        add_declarant(&mut subjects, version);
        let withheld = borderlink_ledger::read_policy::withhold(&mut content, &decision.withheld_groups);
        self.record_read(principal, purpose, route, vec![version.record_id.clone()], withheld.clone(), subjects)?;
        Ok(Shaped { json: content, withheld, version: None })
    }

    /// Several records (a list, a history) read for `purpose`: those the policy does not allow
    /// are left out when `skip_refused`, else the first refuses the whole read. One audit entry.
    pub(crate) fn shape_all(
        &self,
        principal: &Principal,
        purpose: Purposed,
        route: &str,
        versions: Vec<RecordVersion>,
        skip_refused: bool,
    ) -> Result<Vec<Shaped>, ApiError> {
        let purpose = Self::required(purpose, "reading records")?;
        let mut out = Vec::with_capacity(versions.len());
        let mut ids = Vec::new();
        let mut all_withheld = Vec::new();
        let mut all_subjects = Vec::new();
        for v in versions {
            let decision = self.decide(principal, purpose, &v)?;
            if !decision.allowed {
                if skip_refused {
                    continue;
                }
                return Err(Self::not_allowed(purpose, &v, principal));
            }
            let (json, withheld, subjects, version) = shape_one(v, &decision.withheld_groups, purpose);
            let id = record_id(&json);
            if !ids.contains(&id) {
                ids.push(id);
            }
            for w in &withheld {
                if !all_withheld.contains(w) {
                    all_withheld.push(w.clone());
                }
            }
            all_subjects.extend(subjects);
            out.push(Shaped { json, withheld, version: Some(version) });
        }
        all_subjects.sort();
        all_subjects.dedup();
        if !ids.is_empty() {
            self.record_read(principal, purpose, route, ids, all_withheld, all_subjects)?;
        }
        Ok(out)
    }

    /// A read of the whole record as signed (a proof): refused when the policy does not allow
    /// it or would withhold any field; audited.
    pub(crate) fn whole(
        &self,
        principal: &Principal,
        purpose: Purposed,
        route: &str,
        version: RecordVersion,
    ) -> Result<(), ApiError> {
        let purpose = Self::required(purpose, "a record's proof")?;
        let decision = self.decide(principal, purpose, &version)?;
        if !decision.allowed {
            return Err(Self::not_allowed(purpose, &version, principal));
        }
        if !decision.withheld_groups.is_empty() {
            return Err(ApiError::PurposeNotAllowed(
                purpose.name().to_owned(),
                format!("a proof of {}", version.record_id),
                format!(
                    "a proof carries the whole record as signed, and this purpose withholds its {}",
                    decision.withheld_groups.join(", ")
                ),
            ));
        }
        let (_, _, subjects, _) = shape_one(version.clone(), &[], purpose);
        self.record_read(principal, purpose, route, vec![version.record_id], Vec::new(), subjects)
    }

    /// Audits the read of an off-chain object (its content is not interpreted here).
    pub(crate) fn record_object(
        &self,
        principal: &Principal,
        purpose: Purpose,
        route: &str,
        sha256: &str,
    ) -> Result<(), ApiError> {
        self.record_read(principal, purpose, route, vec![format!("blob:{sha256}")], Vec::new(), Vec::new())
    }

    fn record_read(
        &self,
        principal: &Principal,
        purpose: Purpose,
        route: &str,
        records: Vec<String>,
        withheld: Vec<String>,
        subjects: Vec<String>,
    ) -> Result<(), ApiError> {
        let (actor, actor_kind, organisation, roles) = actor_of(principal);
        self.audit.append(Access {
            actor,
            actor_kind: actor_kind.to_owned(),
            organisation,
            roles,
            purpose: purpose.name().to_owned(),
            action: "read".into(),
            route: route.to_owned(),
            records,
            withheld,
            subjects,
            detail: String::new(),
        })
    }
}

fn record_id(json: &Value) -> String {
    json.get("record_id").and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn add_declarant(subjects: &mut Vec<String>, v: &RecordVersion) {
    if !v.meta.declarant.is_empty() && !subjects.contains(&v.meta.declarant) {
        subjects.push(v.meta.declarant.clone());
        subjects.sort();
    }
}

/// A version as JSON with the withheld groups removed from its payload; (json, withheld paths,
/// subjects named, the version shaped).
fn shape_one(
    mut v: RecordVersion,
    groups: &[&str],
    purpose: Purpose,
) -> (Value, Vec<String>, Vec<String>, RecordVersion) {
    let mut subjects = v.payload.as_ref().map(borderlink_ledger::read_policy::subjects).unwrap_or_default();
    add_declarant(&mut subjects, &v);
    let mut withheld: Vec<String> = match v.payload.as_mut() {
        Some(p) => borderlink_ledger::read_policy::withhold(p, groups)
            .into_iter()
            .map(|path| format!("payload.{path}"))
            .collect(),
        None => Vec::new(),
    };
    // The policy attribute that names the declarant is a party too.
    if groups.contains(&"parties") && !v.meta.declarant.is_empty() {
        v.meta.declarant.clear();
        withheld.push("meta.declarant".into());
    }
    let mut json = serde_json::to_value(&v).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut json {
        map.insert("purpose".into(), Value::from(purpose.name()));
        map.insert("withheld".into(), Value::from(withheld.clone()));
    }
    (json, withheld, subjects, v)
}

/// The read policy in force, for the members who read under it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ReadPolicyView {
    /// The purposes a read may declare, with their meaning.
    purposes: Vec<NamedText>,
    /// The groups of fields a policy may withhold, with the object keys that make them up.
    field_groups: Vec<FieldGroup>,
    /// The Cedar policy text (the genesis', or the last one governance set).
    policy: String,
}

/// A name and what it means.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct NamedText {
    name: String,
    meaning: String,
}

/// A group of fields.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FieldGroup {
    name: String,
    meaning: String,
    keys: Vec<String>,
}

/// The read policy in force: purposes, field groups and the Cedar text.
#[utoipa::path(get, path = "/api/v1/read-policy", tag = "access",
    responses((status = 200, description = "The read policy", body = ReadPolicyView))
)]
pub(crate) async fn read_policy(
    _: crate::principal::Require<crate::principal::ReadLedger>,
    crate::capability::Service(reads): crate::capability::Service<Reads>,
) -> Result<axum::Json<ReadPolicyView>, ApiError> {
    Ok(axum::Json(ReadPolicyView {
        purposes: borderlink_ledger::read_policy::PURPOSES
            .iter()
            .map(|(n, m)| NamedText { name: (*n).to_owned(), meaning: (*m).to_owned() })
            .collect(),
        field_groups: borderlink_ledger::read_policy::FIELD_GROUPS
            .iter()
            .map(|(n, m, k)| FieldGroup {
                name: (*n).to_owned(),
                meaning: (*m).to_owned(),
                keys: k.iter().map(|s| (*s).to_owned()).collect(),
            })
            .collect(),
        policy: reads.policy()?.text().to_owned(),
    }))
}
