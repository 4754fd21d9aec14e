//! Who is calling, as a type, and what a route needs of them, in its handler's signature.
//!
//! Authentication runs once per request, in [`identify`] (a middleware in front of every route):
//! a live console session (`session.rs`) makes the caller the person who logged in (with their
//! account's roles) or, for a session opened with the console token, the node's operator; an
//! `Authorization: Borderlink v=2, member=…, node=…, ts=…, nonce=…, sig=…` header makes it the
//! signing member once the signature (over method, path and query, this node, time, nonce and
//! body) verifies, within 30 s of the node's clock, and its nonce was not seen before
//! (`borderlink_ledger::auth`); over HTTPS, a client certificate of the consortium CA makes it
//! the member the certificate names (its common name) while that member is active; anything
//! else is anonymous. The result is a [`Principal`] in the
//! request's extensions.
//!
//! Authorization is the extractor [`Require<P>`]: a handler that takes `Require<ReadLedger>`
//! cannot run for a caller that [`ReadLedger`] does not allow, and the permission is visible in
//! the route table's types. A route that anyone may call says so with `Require<Public>`.
//!
//! Invariant: a handler that reads or writes shared data takes a `Require<P>` with `P` other
//! than [`Public`]; the route-enumeration test (`tests/it/routes.rs`) checks every documented
//! route against anonymous, non-member and stale callers.

use std::marker::PhantomData;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use borderlink_access::Role;
use borderlink_ledger::auth::{AuthError, SignedRequest, Target};

use crate::error::{ApiError, ErrorCode};
use crate::openapi::{CONSOLE_SESSION, DEVICE_SIGNATURE, MEMBER_SIGNATURE};
use crate::server::{AppState, SharedState, is_api};

/// The caller of a request, established once by [`identify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody authenticated.
    Anonymous,
    /// A consortium member, by a request signed with its member key.
    Member {
        /// The member id (e.g. `gb-hmrc`).
        id: String,
    },
    /// The node's operator, by a console session opened with the console token (the bootstrap
    /// administrator); acts as the node's own member. On a node without a ledger (validation
    /// only, loopback by default) there are no identities: whoever reaches it operates it, with
    /// `member: None`.
    Operator {
        /// The node's member, when it keeps a ledger.
        member: Option<String>,
    },
    /// A person of the node's organisation, by a console session opened with their account;
    /// may do what their roles allow ([`role_allows`]).
    Person {
        /// The account's username.
        username: String,
        /// The person's organisation: the node's member.
        organisation: String,
        /// The account's roles.
        roles: Vec<Role>,
    },
}

impl Principal {
    /// The member the caller acts as, if any.
    pub fn member(&self) -> Option<&str> {
        match self {
            Principal::Anonymous => None,
            Principal::Member { id } => Some(id),
            Principal::Operator { member } => member.as_deref(),
            Principal::Person { organisation, .. } => Some(organisation),
        }
    }

    /// A short name of the kind of caller, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::Member { .. } => "member",
            Principal::Operator { .. } => "operator",
            Principal::Person { .. } => "person",
        }
    }

    /// Whether the caller is a person holding one of `roles`.
    fn person_with(&self, roles: &[Role]) -> bool {
        matches!(self, Principal::Person { roles: held, .. } if held.iter().any(|r| roles.contains(r)))
    }
}

/// What [`identify`] leaves in the request: the principal, or why a presented credential was
/// refused (reported only by routes that need a principal).
#[derive(Debug, Clone)]
struct Identified {
    principal: Principal,
    refused: Option<String>,
    /// The CSRF token of the console session the request came with, if any.
    csrf: Option<String>,
    /// The purpose the console session declared, if any.
    purpose: Option<String>,
}

/// The CSRF token of the console session a request came with (its forms carry it back).
pub(crate) fn session_csrf(extensions: &axum::http::Extensions) -> Option<String> {
    extensions.get::<Identified>().and_then(|i| i.csrf.clone())
}

/// The purpose the console session of a request declared, if any.
pub(crate) fn session_purpose(extensions: &axum::http::Extensions) -> Option<String> {
    extensions.get::<Identified>().and_then(|i| i.purpose.clone())
}

/// Authenticates the request once and records the [`Principal`] for the route's extractor.
///
/// A signed request's body is part of what is signed, so it is read here (within the node's
/// body limit) and handed on unchanged.
pub(crate) async fn identify(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let (identified, body) = match authenticate(&state, &parts, body).await {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some(reason) = &identified.refused {
        metrics::counter!("borderlink_auth_rejected_total", crate::metrics::NODE => crate::metrics::node_label(&state))
            .increment(1);
        tracing::debug!(%reason, "credential refused");
    }
    parts.extensions.insert(identified);
    next.run(Request::from_parts(parts, body)).await
}

async fn authenticate(state: &AppState, parts: &Parts, body: Body) -> Result<(Identified, Body), ApiError> {
    let known = |principal| Identified { principal, refused: None, csrf: None, purpose: None };
    let Some(ledger) = state.ledger.as_ref() else {
        return Ok((known(Principal::Operator { member: None }), body));
    };
    let local = ledger.ledger().local_member().map(str::to_owned);
    // A presented signature is checked first and must hold: a request that carries an invalid
    // one is refused even when it also carries a valid console session (fail closed on any bad
    // credential rather than pick the one that works).
    let Some(header) = signed_header(&parts.headers) else {
        if let (Some(id), Some(console)) = (crate::session::session_id(&parts.headers), state.console.as_ref())
            && let Some(session) = console.session(&id, state.clock.now_ms())
        {
            let principal = match session.holder {
                crate::session::Holder::Operator => Principal::Operator { member: local },
                crate::session::Holder::Person { username, organisation, roles } => {
                    Principal::Person { username, organisation, roles }
                }
            };
            return Ok((
                Identified { principal, refused: None, csrf: Some(session.csrf), purpose: session.purpose },
                body,
            ));
        }
        // A system's client certificate (verified against the consortium CA in the handshake)
        // names its member; a suspended or unknown member's is refused.
        if let Some(cert) = parts.extensions.get::<crate::https::ClientCertificate>() {
            let members = ledger.ledger().members();
            return Ok(match crate::peer::peer_member(Some(std::slice::from_ref(&cert.0)), &members) {
                Ok(id) => (known(Principal::Member { id }), body),
                Err(e) => (
                    Identified {
                        principal: Principal::Anonymous,
                        refused: Some(format!("client certificate: {e}")),
                        csrf: None,
                        purpose: None,
                    },
                    body,
                ),
            });
        }
        return Ok((known(Principal::Anonymous), body));
    };
    let bytes = read_body(body, &parts.headers, state.max_body_bytes).await?;
    let identified = match verify(state, header, &parts.method, &parts.uri, &bytes) {
        Ok(id) => known(Principal::Member { id }),
        Err(reason) => Identified { principal: Principal::Anonymous, refused: Some(reason), csrf: None, purpose: None },
    };
    Ok((identified, Body::from(bytes)))
}

fn signed_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if declared.is_some_and(|n: usize| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::PayloadTooLarge { limit })
}

/// Verifies a member's signed request: meant for this node, signed by the member's registered
/// key within the clock skew, and seen once (the replay cache takes only verified requests).
fn verify(
    state: &AppState,
    header: &str,
    method: &Method,
    uri: &axum::http::Uri,
    body: &[u8],
) -> Result<String, String> {
    let ledger = state.ledger.as_ref().ok_or("this node runs without a ledger")?.ledger();
    let this_node = ledger.local_member().ok_or("this node keeps the ledger without a member key")?;
    let req = SignedRequest::parse(header).map_err(|e| e.to_string())?;
    let member = ledger
        .member(&req.member)
        .filter(|m| m.status == borderlink_ledger::identity::MemberStatus::Active)
        .ok_or_else(|| AuthError::UnknownMember(req.member.clone()).to_string())?;
    let key = member.verifying_key().map_err(|e| e.to_string())?;
    let pq = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let now = state.clock.now_ms();
    req.verify(&key, &Target::new(this_node, method.as_str(), pq, body), now).map_err(|e| e.to_string())?;
    state.replay.lock().unwrap_or_else(|e| e.into_inner()).admit(&req, now).map_err(|e| e.to_string())?;
    Ok(member.id)
}

/// A permission a route needs: a marker type whose [`Permission::allows`] decides.
pub(crate) trait Permission: Send + Sync + 'static {
    /// Its name, for refusals and the docs (`x-borderlink-permission` in the OpenAPI document).
    const NAME: &'static str;
    /// The OpenAPI security schemes that can carry it; none for a route anyone may call.
    const SCHEMES: &'static [&'static str];
    /// Whether `principal` has it on this node.
    fn allows(principal: &Principal, state: &AppState) -> Result<(), ApiError>;
}

/// The route needs the caller to have `P`; the handler gets the [`Principal`].
#[derive(Debug)]
pub(crate) struct Require<P: Permission> {
    pub(crate) principal: Principal,
    _permission: PhantomData<fn() -> P>,
}

impl<P: Permission> FromRequestParts<SharedState> for Require<P> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, Refusal> {
        let identified = parts.extensions.get::<Identified>().cloned().unwrap_or(Identified {
            principal: Principal::Anonymous,
            refused: None,
            csrf: None,
            purpose: None,
        });
        let decision = match (&identified.principal, identified.refused) {
            (Principal::Anonymous, Some(reason)) if P::NAME != Public::NAME => Err(ApiError::Unauthenticated(reason)),
            (principal, _) => P::allows(principal, state),
        };
        match decision {
            Ok(()) => Ok(Require { principal: identified.principal, _permission: PhantomData }),
            Err(error) => Err(Refusal { console: !is_api(parts.uri.path()), error }),
        }
    }
}

/// A refused caller: the standard error body on the API, the login page or an explanation in
/// the console.
#[derive(Debug)]
pub(crate) struct Refusal {
    console: bool,
    error: ApiError,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = self.error.error_code().status();
        match (self.console, status) {
            (false, _) => self.error.into_response(),
            (true, StatusCode::UNAUTHORIZED) => Redirect::to("/login").into_response(),
            (true, _) => {
                crate::console::message_page("Not allowed", &self.error.to_string()).with_status(status).into_response()
            }
        }
    }
}

/// A member's signed request or the operator's console session.
const MEMBER_OR_OPERATOR: &[&str] = &[MEMBER_SIGNATURE, CONSOLE_SESSION];

fn needs_member() -> ApiError {
    ApiError::Unauthenticated(
        "this endpoint needs a member's signed request (Authorization: Borderlink v=2, member=…, node=…, ts=…, \
         nonce=…, sig=…) \
         or the console session"
            .into(),
    )
}

/// Declares a permission: a marker type, its name, the security schemes that carry it, and
/// who has it.
macro_rules! permission {
    ($(#[$doc:meta])* $name:ident = $id:literal, $schemes:expr, |$p:pat_param, $s:pat_param| $allows:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub(crate) struct $name;

        impl Permission for $name {
            const NAME: &'static str = $id;
            const SCHEMES: &'static [&'static str] = $schemes;
            fn allows($p: &Principal, $s: &AppState) -> Result<(), ApiError> {
                $allows
            }
        }
    };
}

/// Which roles of a person hold each permission: the one table of who may do what
/// (docs/security.md, "People and roles"; the route matrix test keeps its own copy, so that a
/// change here is made consciously). `read-risk`, `read-quality` and `mra-exchange` need,
/// besides the role, a
/// node of a customs administration.
pub(crate) fn role_allows(permission: &str, role: Role) -> bool {
    use Role::*;
    let roles: &[Role] = match permission {
        "public" | "read-ledger" => &[Officer, Analyst, RiskOfficer, Auditor, TraderUser, Administrator],
        "store-blobs" => &[Officer, RiskOfficer],
        "read-risk" => &[Officer, Analyst, RiskOfficer, Auditor],
        "read-quality" => &[Officer, Analyst, RiskOfficer, Auditor, Administrator],
        "change-risk" => &[Officer, RiskOfficer],
        "mra-exchange" => &[Officer, Analyst, RiskOfficer],
        "operate-node" | "manage-users" => &[Administrator],
        "read-audit" => &[Auditor, Administrator],
        "read-iot" => &[Officer, Analyst, RiskOfficer, Auditor, Administrator],
        "manage-devices" => &[Officer, Administrator],
        "acknowledge-alerts" => &[Officer, RiskOfficer],
        "capture-events" => &[Officer, TraderUser],
        _ => &[],
    };
    roles.contains(&role)
}

fn roles_for(permission: &str) -> Vec<Role> {
    Role::ALL.into_iter().filter(|r| role_allows(permission, *r)).collect()
}

fn person_refused(permission: &str, username: &str) -> ApiError {
    let roles: Vec<&str> = roles_for(permission).iter().map(|r| r.name()).collect();
    ApiError::Forbidden(format!("{username} has no role that may do this ({permission}: {})", roles.join(", ")))
}

/// Any authenticated consortium member, the node's operator, or a person whose role reads the
/// ledger.
fn any_member(principal: &Principal, permission: &str) -> Result<(), ApiError> {
    match principal {
        Principal::Anonymous => Err(needs_member()),
        Principal::Member { .. } | Principal::Operator { .. } => Ok(()),
        Principal::Person { username, roles, .. } => {
            if roles.iter().any(|r| role_allows(permission, *r)) {
                Ok(())
            } else {
                Err(person_refused(permission, username))
            }
        }
    }
}

/// What a node does in its own member's name (signed with its key): its operator, a person of
/// the node whose role holds `permission`, or the node's own member's signed request; another
/// member is told `why`.
fn own_node(p: &Principal, state: &AppState, permission: &str, why: &str) -> Result<(), ApiError> {
    match p {
        Principal::Operator { .. } => Ok(()),
        Principal::Anonymous => Err(needs_member()),
        Principal::Person { username, .. } => {
            if p.person_with(&roles_for(permission)) {
                Ok(())
            } else {
                Err(person_refused(permission, username))
            }
        }
        Principal::Member { id } => {
            let local = state.ledger.as_ref().and_then(|l| l.ledger().local_member().map(str::to_owned));
            if local.as_deref() == Some(id.as_str()) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!("{why}; {id} is not this node's member")))
            }
        }
    }
}

/// Whether this node is a customs administration's.
fn customs_node(state: &AppState) -> bool {
    let ledger = state.ledger.as_ref().map(|l| l.ledger());
    let member = ledger.and_then(|l| l.local_member().and_then(|id| l.member(id)));
    member.is_some_and(|m| m.role == borderlink_ledger::identity::Role::Customs)
}

permission! {
    /// Anyone, authenticated or not: health, validation, schemas, the OpenAPI document, the
    /// public console pages, and transaction submission (authenticated by the transaction's own
    /// signature).
    Public = "public", &[], |_, _| Ok(())
}

permission! {
    /// A registered device's own message (`POST /api/v1/iot/messages`): no member, person or
    /// operator is involved, so any principal passes this guard; the handler also takes
    /// `DeviceSigned` (`iot/ingest/http.rs`), which refuses a request without the device's headers
    /// (`401 device_unauthenticated`), and the ingest pipeline verifies the device's Ed25519
    /// signature over the body against the registry before anything is stored.
    DeviceSignature = "device-signature", &[DEVICE_SIGNATURE], |_, _| Ok(())
}

permission! {
    /// Read the shared ledger: records, history, blocks, proofs, events, the network, blobs.
    ReadLedger = "read-ledger", MEMBER_OR_OPERATOR, |p, _| any_member(p, ReadLedger::NAME)
}

permission! {
    /// Store an off-chain object (a scan, a document) whose hash a transaction will carry.
    StoreBlobs = "store-blobs", MEMBER_OR_OPERATOR, |p, _| any_member(p, StoreBlobs::NAME)
}

/// A customs role: the node's operator, a person of a customs administration's node whose role
/// holds `permission`, or a customs administration's member.
fn customs_role(p: &Principal, state: &AppState, permission: &str, what: &str) -> Result<(), ApiError> {
    match p {
        Principal::Operator { .. } => Ok(()),
        Principal::Anonymous => Err(needs_member()),
        Principal::Person { username, .. } => {
            if !p.person_with(&roles_for(permission)) {
                Err(person_refused(permission, username))
            } else if !customs_node(state) {
                Err(ApiError::Forbidden(format!("{what} is for customs administrations; this node is not one")))
            } else {
                Ok(())
            }
        }
        Principal::Member { id } => {
            let role = state.ledger.as_ref().and_then(|l| l.ledger().member(id));
            match role.map(|m| m.role) {
                Some(borderlink_ledger::identity::Role::Customs) => Ok(()),
                _ => Err(ApiError::Forbidden(format!("{what} is for customs administrations; {id} is not one"))),
            }
        }
    }
}

permission! {
    /// Read risk data — the queue, criteria, the model, the training set — and what-if scoring:
    /// a customs role (a customs administration's member, this node's operator, or a person of a
    /// customs node whose role reads risk), never a trader, who would learn how others are
    /// selected.
    ReadRisk = "read-risk", MEMBER_OR_OPERATOR, |p, state| customs_role(p, state, ReadRisk::NAME, "risk data")
}

permission! {
    /// Read the data-quality figures — validation failures by rule, completeness, timeliness —
    /// per submitting organisation: a customs role (as [`ReadRisk`], administrators included),
    /// never a trader, who would learn other traders' volumes and failures.
    ReadQuality = "read-quality", MEMBER_OR_OPERATOR, |p, state| customs_role(p, state, ReadQuality::NAME, "data quality")
}

permission! {
    /// Read IoT traceability data — the device registry, events, traces, alerts: a customs role
    /// (as [`ReadQuality`]), never a trader, who would see other traders' goods move.
    ReadIot = "read-iot", MEMBER_OR_OPERATOR, |p, state| customs_role(p, state, ReadIot::NAME, "IoT traceability data")
}

permission! {
    /// Acknowledge IoT alerts (recorded on the ledger, signed with this node's member's key): the
    /// node's operator, an officer or a risk officer of this node, or this node's own member's
    /// signed request.
    AcknowledgeAlerts = "acknowledge-alerts", MEMBER_OR_OPERATOR, |p, state| own_node(
        p,
        state,
        AcknowledgeAlerts::NAME,
        "alerts are acknowledged at the acknowledging administration's own node"
    )
}

permission! {
    /// Register devices and change their state on this node's member's behalf (the registry
    /// entry is signed with the member's key): the node's operator, an officer or an
    /// administrator of this node, or this node's own member's signed request.
    ManageDevices = "manage-devices", MEMBER_OR_OPERATOR, |p, state| own_node(
        p,
        state,
        ManageDevices::NAME,
        "devices are registered at their owner's own node"
    )
}

permission! {
    /// Capture EPCIS events into this node's event store (`POST /epcis/capture`, `POST
    /// /epcis/events`) and read back one's own capture jobs: any consortium member's signed
    /// request (the traders whose goods move and the administrations that watch them both
    /// report events), the node's operator, or a person of the node who is an officer or a
    /// trader user. Reading the events back is [`ReadIot`]'s.
    CaptureEvents = "capture-events", MEMBER_OR_OPERATOR, |p, _| any_member(p, CaptureEvents::NAME)
}

permission! {
    /// Change risk decisions and settings: overrides, inspection results, criteria, the model.
    /// A console session only: an officer's or a risk officer's, or the node's operator.
    ChangeRisk = "change-risk", &[CONSOLE_SESSION], |p, _| match p {
        Principal::Operator { .. } => Ok(()),
        Principal::Person { username, .. } => {
            if p.person_with(&roles_for(ChangeRisk::NAME)) { Ok(()) } else { Err(person_refused(ChangeRisk::NAME, username)) }
        }
        Principal::Anonymous => {
            Err(ApiError::Unauthenticated("this change needs the console session (log in at /login)".into()))
        }
        Principal::Member { id } => {
            Err(ApiError::Forbidden(format!("this change needs this node's console session, not member {id}")))
        }
    }
}

permission! {
    /// Read AEO data under mutual recognition (`/api/v1/mra/…`): a customs administration — its
    /// member's signed request, the operator of a customs node, or a person of a customs node
    /// who is an officer, a risk officer or an analyst. Which AEOs and which of their fields the
    /// answer holds, the consortium's agreements and each AEO's consent decide
    /// (`borderlink_ledger::mra`).
    MraExchange = "mra-exchange", MEMBER_OR_OPERATOR, |p, state| {
        let not_customs = |who: &str| {
            ApiError::Forbidden(format!(
                "mutual-recognition data is exchanged between customs administrations; {who} is not one"
            ))
        };
        match p {
            Principal::Anonymous => Err(needs_member()),
            Principal::Operator { .. } if customs_node(state) => Ok(()),
            Principal::Operator { .. } => Err(not_customs("this node's organisation")),
            Principal::Person { username, .. } => {
                if !p.person_with(&roles_for(MraExchange::NAME)) {
                    Err(person_refused(MraExchange::NAME, username))
                } else if !customs_node(state) {
                    Err(not_customs("this node's organisation"))
                } else {
                    Ok(())
                }
            }
            Principal::Member { id } => {
                let role = state.ledger.as_ref().and_then(|l| l.ledger().member(id)).map(|m| m.role);
                match role {
                    Some(borderlink_ledger::identity::Role::Customs) => Ok(()),
                    _ => Err(not_customs(id)),
                }
            }
        }
    }
}

/// The node's operator, its own member's signed request, or a person with `permission`'s role.
fn node_administration(p: &Principal, state: &AppState, permission: &str) -> Result<(), ApiError> {
    let local = state.ledger.as_ref().and_then(|l| l.ledger().local_member());
    match p {
        Principal::Operator { .. } => Ok(()),
        Principal::Member { id } if Some(id.as_str()) == local => Ok(()),
        Principal::Member { id } => {
            Err(ApiError::Forbidden(format!("only this node's operator may do this, not {id}")))
        }
        Principal::Person { username, .. } => {
            if p.person_with(&roles_for(permission)) {
                Ok(())
            } else {
                Err(person_refused(permission, username))
            }
        }
        Principal::Anonymous => Err(needs_member()),
    }
}

permission! {
    /// Operate this node (e.g. its fault switch, its console token): its console operator, an
    /// administrator, or its own member's signed request.
    OperateNode = "operate-node", MEMBER_OR_OPERATOR, |p, state| node_administration(p, state, OperateNode::NAME)
}

permission! {
    /// Read this node's audit trail (who read what, for which purpose), its data subjects'
    /// access reports and its audit proofs: an auditor or an administrator, the node's operator,
    /// or its own member's signed request (`borderlink audit … --node URL --key KEY`).
    ReadAudit = "read-audit", MEMBER_OR_OPERATOR, |p, state| node_administration(p, state, ReadAudit::NAME)
}

permission! {
    /// Manage this node's accounts (add, list, disable, reset passwords): its console operator
    /// (the bootstrap administrator), an administrator, or its own member's signed request (the
    /// member administering its own node: `borderlink user … --node URL --key KEY`).
    ManageUsers = "manage-users", MEMBER_OR_OPERATOR, |p, state| node_administration(p, state, ManageUsers::NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_name_their_member() {
        assert_eq!(Principal::Anonymous.member(), None);
        assert_eq!(Principal::Member { id: "gb-hmrc".into() }.member(), Some("gb-hmrc"));
        assert_eq!(Principal::Operator { member: None }.member(), None);
        assert_eq!(Principal::Operator { member: Some("nl-dou".into()) }.kind(), "operator");
    }

    #[test]
    fn anonymous_needs_a_member_and_members_cannot_change_risk() {
        assert!(any_member(&Principal::Anonymous, ReadLedger::NAME).is_err());
        assert!(any_member(&Principal::Member { id: "x".into() }, ReadLedger::NAME).is_ok());
        let member = Principal::Member { id: "x".into() };
        let state = AppState::bare(crate::DEFAULT_MAX_BODY_BYTES);
        match ChangeRisk::allows(&member, &state) {
            Err(e) => assert_eq!(e.error_code().status(), StatusCode::FORBIDDEN),
            Ok(()) => panic!("a member may not change risk settings"),
        }
        match ChangeRisk::allows(&Principal::Anonymous, &state) {
            Err(e) => assert_eq!(e.error_code().status(), StatusCode::UNAUTHORIZED),
            Ok(()) => panic!("anonymous may not change risk settings"),
        }
    }

    fn person(roles: &[Role]) -> Principal {
        Principal::Person { username: "amina".into(), organisation: "gb-hmrc".into(), roles: roles.to_vec() }
    }

    #[test]
    fn a_persons_roles_decide_and_a_trader_user_only_reads_the_ledger() {
        let state = AppState::bare(crate::DEFAULT_MAX_BODY_BYTES);
        let trader = person(&[Role::TraderUser]);
        assert!(ReadLedger::allows(&trader, &state).is_ok());
        assert!(StoreBlobs::allows(&trader, &state).is_err());
        assert!(ChangeRisk::allows(&trader, &state).is_err());
        assert!(ManageUsers::allows(&trader, &state).is_err());
        let officer = person(&[Role::Officer]);
        assert!(ChangeRisk::allows(&officer, &state).is_ok());
        assert!(ManageUsers::allows(&officer, &state).is_err());
        // A node without a ledger is no customs administration's: no person reads risk there.
        assert!(ReadRisk::allows(&officer, &state).is_err());
        // Mutual recognition: customs roles on a customs node only; never a trader's.
        assert!(MraExchange::allows(&trader, &state).is_err());
        assert!(MraExchange::allows(&officer, &state).is_err(), "a node without a ledger is no customs node");
        assert!(MraExchange::allows(&Principal::Operator { member: None }, &state).is_err());
        assert!(role_allows(MraExchange::NAME, Role::Analyst) && !role_allows(MraExchange::NAME, Role::Auditor));
        assert!(ReadQuality::allows(&officer, &state).is_err());
        assert!(
            role_allows(ReadQuality::NAME, Role::Administrator) && !role_allows(ReadRisk::NAME, Role::Administrator)
        );
        assert!(!role_allows(ReadQuality::NAME, Role::TraderUser));
        assert!(ReadQuality::allows(&Principal::Operator { member: None }, &state).is_ok());
        let admin = person(&[Role::Administrator]);
        assert!(ManageUsers::allows(&admin, &state).is_ok() && OperateNode::allows(&admin, &state).is_ok());
        assert!(ChangeRisk::allows(&admin, &state).is_err());
        assert_eq!(person(&[]).member(), Some("gb-hmrc"));
        match ManageUsers::allows(&officer, &state) {
            Err(e) => assert_eq!(e.error_code().status(), StatusCode::FORBIDDEN),
            Ok(()) => panic!("an officer may not manage users"),
        }
    }
}
