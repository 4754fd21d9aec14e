//! Every error the node can return, mapped in **one table** to a stable machine code, an error
//! type and an HTTP status.
//!
//! Invariant: every error that reaches a client — from a handler, an extractor rejection, an
//! unknown route or the body limit — goes through [`ApiError`] and so has the same body shape,
//! `{"code": "...", "type": "...", "message": "..."}`. Codes are part of the API: clients match on
//! them, so a code, once published, is never renamed or reused for another meaning.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Something that maps to one entry of the [`Code`] table.
pub trait ErrorCode {
    /// The table entry for this error.
    fn error_code(&self) -> Code;
}

/// The broad class of an error: whose fault it is, and whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// The request is wrong; retrying it unchanged gives the same error.
    InvalidRequest,
    /// A bug in the node; the request may be fine.
    Internal,
    /// The machine the node runs on refused something (a port, a directory).
    System,
}

macro_rules! make_error_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal, $kind:ident, $status:ident;)*) => {
        /// The table of every error code the node returns.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable machine code, e.g. `schema_not_found`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// The class of the error.
            pub fn error_type(self) -> ErrorType {
                match self {
                    $(Code::$variant => ErrorType::$kind,)*
                }
            }

            /// The HTTP status the error is returned with.
            pub fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

make_error_codes! {
    /// The request is malformed in a way no more specific code describes.
    BadRequest => "bad_request", InvalidRequest, BAD_REQUEST;
    /// The query string could not be read.
    InvalidQuery => "invalid_query", InvalidRequest, BAD_REQUEST;
    /// A `type` names no record type.
    UnknownRecordType => "unknown_record_type", InvalidRequest, BAD_REQUEST;
    /// A `profile` names no validation profile this node has.
    UnknownProfile => "unknown_profile", InvalidRequest, BAD_REQUEST;
    /// A multipart form could not be read.
    InvalidMultipart => "invalid_multipart", InvalidRequest, BAD_REQUEST;
    /// A form carried neither a pasted document nor a file.
    MissingDocument => "missing_document", InvalidRequest, BAD_REQUEST;
    /// The request body is larger than `max_body_bytes`.
    PayloadTooLarge => "payload_too_large", InvalidRequest, PAYLOAD_TOO_LARGE;
    /// No JSON Schema exists for the requested record type.
    SchemaNotFound => "schema_not_found", InvalidRequest, NOT_FOUND;
    /// No route matches the path.
    RouteNotFound => "route_not_found", InvalidRequest, NOT_FOUND;
    /// The route exists but not for this method.
    MethodNotAllowed => "method_not_allowed", InvalidRequest, METHOD_NOT_ALLOWED;
    /// The request carries no valid member signature (`Authorization: Borderlink …`).
    Unauthenticated => "unauthenticated", InvalidRequest, UNAUTHORIZED;
    /// This node runs without a ledger.
    LedgerDisabled => "ledger_disabled", InvalidRequest, NOT_FOUND;
    /// The node keeps its ledger alone (no `[cluster]` section): there is no Raft group to show.
    ClusterDisabled => "cluster_disabled", InvalidRequest, NOT_FOUND;
    /// An authenticated caller may not do this.
    Forbidden => "forbidden", InvalidRequest, FORBIDDEN;
    /// A read of personal or confidential data declared no purpose (`?purpose=NAME`).
    PurposeRequired => "purpose_required", InvalidRequest, FORBIDDEN;
    /// The declared purpose does not allow this read.
    PurposeNotAllowed => "purpose_not_allowed", InvalidRequest, FORBIDDEN;
    /// The declared purpose is not one the consortium knows.
    UnknownPurpose => "unknown_purpose", InvalidRequest, BAD_REQUEST;
    /// Mutual recognition: the caller's AEO programme is in no agreement with the AEO's (or with
    /// any programme).
    NotMraPartner => "not_mra_partner", InvalidRequest, FORBIDDEN;
    /// Mutual recognition: no AEO authorisation with this id is shared with the caller — none
    /// exists, or its holder's consent is not in force for the caller's programme (the answer
    /// does not say which).
    AeoNotShared => "aeo_not_shared", InvalidRequest, NOT_FOUND;
    /// No record with this id.
    RecordNotFound => "record_not_found", InvalidRequest, NOT_FOUND;
    /// The audit entry is not anchored on the ledger yet: its proof comes with the next anchor.
    NotAnchoredYet => "not_anchored_yet", InvalidRequest, CONFLICT;
    /// No block at this height.
    BlockNotFound => "block_not_found", InvalidRequest, NOT_FOUND;
    /// The caller's organisation is not a recipient of the private record.
    NotRecipient => "not_recipient", InvalidRequest, FORBIDDEN;
    /// The record was erased (crypto-shredded).
    ErasedRecord => "erased_record", InvalidRequest, GONE;
    /// Transaction: does not decode or breaks a format rule.
    MalformedTransaction => "malformed_transaction", InvalidRequest, BAD_REQUEST;
    /// Transaction: for another consortium.
    WrongChain => "wrong_chain", InvalidRequest, BAD_REQUEST;
    /// Transaction: the signature does not verify.
    BadSignature => "bad_signature", InvalidRequest, UNAUTHORIZED;
    /// Transaction: the submitter is not a member.
    UnknownSubmitter => "unknown_submitter", InvalidRequest, FORBIDDEN;
    /// Transaction: the submitter is suspended.
    SuspendedSubmitter => "suspended_submitter", InvalidRequest, FORBIDDEN;
    /// Transaction: refused by the write policy.
    PolicyDenied => "policy_denied", InvalidRequest, FORBIDDEN;
    /// Transaction: already committed.
    Replay => "replay", InvalidRequest, CONFLICT;
    /// Transaction: the version is not the next one.
    StaleVersion => "stale_version", InvalidRequest, CONFLICT;
    /// Transaction: another transaction changed the record first.
    VersionConflict => "version_conflict", InvalidRequest, CONFLICT;
    /// Transaction: payload over the consortium's limit.
    TxPayloadTooLarge => "tx_payload_too_large", InvalidRequest, PAYLOAD_TOO_LARGE;
    /// Transaction: payload differs from its signed digest.
    PayloadMismatch => "payload_mismatch", InvalidRequest, BAD_REQUEST;
    /// Transaction: the record is not valid.
    InvalidRecord => "invalid_record", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Transaction: the signed attributes differ from the record.
    MetaMismatch => "meta_mismatch", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Transaction: a private record its recipients could not open.
    Undecryptable => "undecryptable", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Transaction: the record id is not the one the record's business keys give.
    WrongRecordId => "wrong_record_id", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Transaction or endorsement: the competent customs administration cannot read the declaration.
    CustomsCannotRead => "customs_cannot_read", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Transaction: erasure of a record that does not exist.
    UnknownRecord => "unknown_record", InvalidRequest, NOT_FOUND;
    /// Transaction: a governance change not approved or not applicable.
    GovernanceRefused => "governance_refused", InvalidRequest, FORBIDDEN;
    /// The client sent more requests than `[limits] requests_per_second` allows; retry after
    /// the `Retry-After` header's seconds.
    RateLimited => "rate_limited", InvalidRequest, TOO_MANY_REQUESTS;
    /// The request body did not arrive within `[limits] body_timeout_ms`.
    RequestTimeout => "request_timeout", InvalidRequest, REQUEST_TIMEOUT;
    /// A console form (or a console-session write) without this session's CSRF token, or posted
    /// from another site (`Origin`).
    CsrfFailed => "csrf_failed", InvalidRequest, FORBIDDEN;
    /// Login: too many failed logins from this client lately; retry after `Retry-After`.
    LoginThrottled => "login_throttled", InvalidRequest, TOO_MANY_REQUESTS;
    /// Accounts: a username, password or role that breaks the rules.
    InvalidAccount => "invalid_account", InvalidRequest, BAD_REQUEST;
    /// Accounts: the username is taken.
    AccountExists => "account_exists", InvalidRequest, CONFLICT;
    /// Accounts: no account has this username.
    AccountNotFound => "account_not_found", InvalidRequest, NOT_FOUND;
    /// Risk: the body is not a declaration (or a batch of them).
    InvalidDeclaration => "invalid_declaration", InvalidRequest, BAD_REQUEST;
    /// Risk: an override without a reason or officer, or to the lane already decided.
    OverrideRefused => "override_refused", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Risk: the declaration was not assessed by this node.
    NotAssessed => "not_assessed", InvalidRequest, NOT_FOUND;
    /// Risk: a criteria set that names unknown lists or features, or bad dates.
    InvalidCriteria => "invalid_criteria", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Risk: not a model file, or a model trained on another feature set.
    InvalidModel => "invalid_model", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// Risk: no model is active.
    NoRiskModel => "no_risk_model", InvalidRequest, NOT_FOUND;
    /// IoT: a device entry that breaks a rule (which field, and why).
    InvalidDevice => "invalid_device", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// IoT: a device with this id is registered already.
    DeviceExists => "device_exists", InvalidRequest, CONFLICT;
    /// IoT: no device with this id is registered.
    DeviceNotFound => "device_not_found", InvalidRequest, NOT_FOUND;
    /// IoT: no event with this hash ID or eventID is stored on this node.
    EventNotFound => "event_not_found", InvalidRequest, NOT_FOUND;
    /// IoT: a trip that breaks a rule (which field, and why).
    InvalidTrip => "invalid_trip", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// IoT: the trip id is taken, or a device reports for another open trip.
    TripConflict => "trip_conflict", InvalidRequest, CONFLICT;
    /// IoT: no trip with this id is readable on this node.
    TripNotFound => "trip_not_found", InvalidRequest, NOT_FOUND;
    /// IoT: no alert with this id is readable on this node.
    AlertNotFound => "alert_not_found", InvalidRequest, NOT_FOUND;
    /// IoT: the alert is acknowledged already.
    AlertAcknowledged => "alert_acknowledged", InvalidRequest, CONFLICT;
    /// IoT: a device message without the device's headers (`Borderlink-Device`,
    /// `Borderlink-Sequence`, `Borderlink-Signature`) or with unreadable ones.
    DeviceUnauthenticated => "device_unauthenticated", InvalidRequest, UNAUTHORIZED;
    /// IoT message refused: no such device in the registry.
    IotUnknownDevice => "iot_unknown_device", InvalidRequest, UNAUTHORIZED;
    /// IoT message refused: the device is lost or retired.
    IotDeviceNotActive => "iot_device_not_active", InvalidRequest, FORBIDDEN;
    /// IoT message refused: a topic or a channel of another device or owner.
    IotWrongTopic => "iot_wrong_topic", InvalidRequest, FORBIDDEN;
    /// IoT message refused: the signature or certificate is not the device's.
    IotBadCredential => "iot_bad_credential", InvalidRequest, UNAUTHORIZED;
    /// IoT message refused: the payload does not parse or cannot be mapped to events.
    IotMalformed => "iot_malformed", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// IoT message refused: its sequence number is not above the last admitted (a replay).
    IotReplay => "iot_replay", InvalidRequest, CONFLICT;
    /// IoT message refused: dated too far ahead of or behind the node's clock.
    IotClockOff => "iot_clock_off", InvalidRequest, UNPROCESSABLE_ENTITY;
    /// IoT message refused: the device sends faster than `[iot] device_messages_per_second`.
    IotRateLimited => "iot_rate_limited", InvalidRequest, TOO_MANY_REQUESTS;
    /// The consortium did not commit in time (no Raft leader or no quorum reachable): the
    /// outcome is unknown, the transaction may still commit when the quorum returns; resubmit the
    /// same signed transaction to learn it (a transaction is committed at most once).
    /// EPCIS: a captured document or event breaks the EPCIS 2.0 rules (or is not readable), or
    /// a header has a bad value (`epcisException:ValidationException`).
    EpcisValidation => "epcis_validation", InvalidRequest, BAD_REQUEST;
    /// EPCIS: a query parameter is unknown, repeated or has a bad value
    /// (`epcisException:QueryParameterException`).
    EpcisQueryParameter => "epcis_query_parameter", InvalidRequest, BAD_REQUEST;
    /// EPCIS: no event or capture job by this id (`epcisException:NoSuchResourceException`).
    EpcisNoSuchResource => "epcis_no_such_resource", InvalidRequest, NOT_FOUND;
    /// EPCIS: a capture over the events or bytes taken at once
    /// (`epcisException:CaptureLimitExceededException`).
    EpcisCaptureLimitExceeded => "epcis_capture_limit_exceeded", InvalidRequest, PAYLOAD_TOO_LARGE;
    /// EPCIS: a query that would answer more than is served at once
    /// (`epcisException:QueryTooLargeException`).
    EpcisQueryTooLarge => "epcis_query_too_large", InvalidRequest, PAYLOAD_TOO_LARGE;
    /// EPCIS: the event's `eventID` names a different stored event
    /// (`epcisException:ResourceAlreadyExistsException`).
    EpcisEventExists => "epcis_event_exists", InvalidRequest, CONFLICT;
    /// EPCIS: a body of a media type the endpoint does not read
    /// (`epcisException:UnsupportedMediaTypeException`).
    EpcisUnsupportedMediaType => "epcis_unsupported_media_type", InvalidRequest, UNSUPPORTED_MEDIA_TYPE;
    /// EPCIS: no answer in a media type the client accepts (`epcisException:NotAcceptableException`).
    EpcisNotAcceptable => "epcis_not_acceptable", InvalidRequest, NOT_ACCEPTABLE;
    OrderingUnavailable => "ordering_unavailable", System, SERVICE_UNAVAILABLE;
    /// The node serves as many connections as `[limits]` allows (from all clients, or from this
    /// one); retry after the `Retry-After` header's seconds.
    TooManyConnections => "too_many_connections", System, SERVICE_UNAVAILABLE;
    /// A bug: the node failed while handling a request.
    Internal => "internal", Internal, INTERNAL_SERVER_ERROR;
    /// A member's off-chain storage quota on this node would be exceeded.
    BlobQuotaExceeded => "blob_quota_exceeded", System, INSUFFICIENT_STORAGE;
    /// The node's storage failed to read or write (disk, database).
    StorageFailed => "storage_failed", System, INTERNAL_SERVER_ERROR;
    /// Stored ledger data does not check out (a block or record fails its hash or decoding).
    CorruptLedger => "corrupt_ledger", System, INTERNAL_SERVER_ERROR;
    /// The node's genesis, key or policy cannot be used.
    LedgerMisconfigured => "ledger_misconfigured", System, INTERNAL_SERVER_ERROR;
    /// The ledger could not be opened (wrong genesis, corrupt data, unreadable key).
    LedgerUnavailable => "ledger_unavailable", System, INTERNAL_SERVER_ERROR;
    /// The data directory could not be created.
    DataDirUnavailable => "data_dir_unavailable", System, INTERNAL_SERVER_ERROR;
    /// The accounts store (`DATA/access/accounts.redb`) could not be opened.
    AccessUnavailable => "access_unavailable", System, INTERNAL_SERVER_ERROR;
    /// The listen address could not be bound.
    BindFailed => "bind_failed", System, INTERNAL_SERVER_ERROR;
    /// The server stopped on an I/O error.
    ServeFailed => "serve_failed", System, INTERNAL_SERVER_ERROR;
    /// The configuration cannot be served as it is (a limit of 0, a public address without TLS).
    InvalidConfig => "invalid_config", System, INTERNAL_SERVER_ERROR;
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `schema_not_found`.
    pub code: &'static str,
    /// Error class: `invalid_request`, `internal` or `system`.
    #[serde(rename = "type")]
    pub error_type: ErrorType,
    /// A plain-language explanation.
    pub message: String,
}

/// An error returned by an HTTP handler.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The query string could not be read.
    #[error("invalid query string: {0}")]
    InvalidQuery(String),
    /// A `type` names no record type.
    #[error("unknown record type `{0}`; expected one of: {known}", known = known_types())]
    UnknownRecordType(String),
    /// A `profile` names no validation profile of this node (the name, the node's profiles).
    #[error("unknown validation profile `{0}`; this node has: {1}")]
    UnknownProfile(String, String),
    /// A multipart form could not be read.
    #[error("the form could not be read: {0}")]
    InvalidMultipart(String),
    /// A form carried no document.
    #[error("no document: send one as the request body (in the console: paste one or choose a file)")]
    MissingDocument,
    /// The body is larger than the configured limit.
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The configured `max_body_bytes`.
        limit: usize,
    },
    /// No JSON Schema for the requested type.
    #[error("no JSON Schema for `{0}`; expected one of: {known}", known = known_types())]
    SchemaNotFound(String),
    /// No route matches.
    #[error("no route for {method} {path}")]
    RouteNotFound {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// Wrong method for an existing route.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// A bug; the message is logged and returned.
    #[error("internal error: {0}")]
    Internal(String),
    /// Missing or invalid request signature.
    #[error("{0}")]
    Unauthenticated(String),
    /// The node has no ledger.
    #[error("this node runs without a ledger")]
    LedgerDisabled,
    /// The node is not replicated.
    #[error("this node keeps its ledger alone: it has no [cluster] section")]
    ClusterDisabled,
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No purpose declared for a read that needs one.
    #[error("{0} needs a declared purpose: add {1}")]
    PurposeRequired(String, String),
    /// The purpose does not allow the read.
    #[error("the purpose {0:?} does not allow {1}; {2}")]
    PurposeNotAllowed(String, String, String),
    /// Not a purpose.
    #[error(
        "{0:?} is not a purpose; the purposes are: clearance, risk-analysis, audit, mra-exchange, statistics, data-subject-access"
    )]
    UnknownPurpose(String),
    /// A mutual-recognition read refused (or failed).
    #[error("{0}")]
    Mra(borderlink_ledger::mra::MraError),
    /// No such record.
    #[error("no record {0}")]
    RecordNotFound(String),
    /// An audit entry not anchored yet.
    #[error(
        "audit entry {0} is not anchored on the ledger yet; its proof is available after the next anchor (POST /api/v1/audit/anchor anchors now)"
    )]
    NotAnchoredYet(u64),
    /// No such block.
    #[error("no block at height {0}")]
    BlockNotFound(u64),
    /// A ledger error on read.
    #[error("{0}")]
    Ledger(borderlink_ledger::LedgerError),
    /// A transaction refused.
    #[error("{0}")]
    Tx(borderlink_ledger::TxError),
    /// Not a declaration.
    #[error("{0}")]
    InvalidDeclaration(String),
    /// Risk management refused the request.
    #[error("{0}")]
    Risk(borderlink_risk::RiskError),
    /// A device entry that cannot be registered.
    #[error("{0}")]
    InvalidDevice(String),
    /// A device id taken.
    #[error("device {0:?} is registered already (by {1}); choose another id or change its state")]
    DeviceExists(String, String),
    /// No such device.
    #[error("no device {0:?} is registered")]
    DeviceNotFound(String),
    /// No such IoT event.
    #[error("no event {0:?} is stored on this node (give its event hash ID or its eventID)")]
    EventNotFound(String),
    /// A trip that cannot be opened.
    #[error("{0}")]
    InvalidTrip(String),
    /// A trip id taken, or a device busy.
    #[error("{0}")]
    TripConflict(String),
    /// No such trip.
    #[error("no trip {0:?} is readable on this node")]
    TripNotFound(String),
    /// No such alert.
    #[error("no alert {0:?} is readable on this node")]
    AlertNotFound(String),
    /// An alert acknowledged already.
    #[error("alert {0} is acknowledged already (by {1} of {2})")]
    AlertAcknowledged(String, String, String),
    /// An IoT event not anchored yet.
    #[error(
        "event {0:?} is not anchored on the ledger yet; its proof is available after the next anchor (POST /api/v1/iot/anchor anchors now)"
    )]
    EventNotAnchoredYet(String),
    /// A device message without readable device headers.
    #[error("{0}")]
    DeviceUnauthenticated(String),
    /// A device message refused by admission (counted by reason, never stored).
    #[error("device message refused: {0}")]
    IotRefused(borderlink_iot::admission::Refused),
    /// No risk model is active.
    #[error("no risk model is active: lanes come from the criteria and the random selection")]
    NoRiskModel,
    /// Over the client's request rate.
    #[error(
        "too many requests from this client: at most {per_second} per second (burst {burst}); retry in {retry_after_secs} s"
    )]
    RateLimited {
        /// The configured sustained rate.
        per_second: u32,
        /// The configured burst.
        burst: u32,
        /// Whole seconds until a request would be accepted (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The body did not arrive in time.
    #[error("the request body did not arrive within {0} ms")]
    RequestTimeout(u64),
    /// The connection caps are reached.
    #[error("the node serves as many connections as it allows ({0}); retry shortly")]
    TooManyConnections(&'static str),
    /// A console form without its session's CSRF token (or from another site).
    #[error("{0}")]
    Csrf(String),
    /// Too many failed logins from this client.
    #[error("too many failed logins from this client; retry in {0} s")]
    LoginThrottled(u64),
    /// An account could not be created or changed.
    #[error("{0}")]
    Account(borderlink_access::AccessError),
    /// An EPCIS 2.0 exception: answered as RFC 7807 problem details (`crate::iot::epcis`).
    #[error("{detail}")]
    Epcis {
        /// The EPCIS exception type.
        kind: borderlink_iot::epcis::query::ExceptionKind,
        /// What went wrong, naming the field or parameter.
        detail: String,
    },
}

fn account_code(e: &borderlink_access::AccessError) -> Code {
    use borderlink_access::AccessError as A;
    match e {
        A::InvalidUsername(_) | A::WeakPassword(_) | A::UnknownRole(_) | A::NoRoles => Code::InvalidAccount,
        A::Exists(_) => Code::AccountExists,
        A::NotFound(_) => Code::AccountNotFound,
        A::Storage(_) => Code::StorageFailed,
    }
}

impl From<borderlink_ledger::LedgerError> for ApiError {
    fn from(e: borderlink_ledger::LedgerError) -> Self {
        ApiError::Ledger(e)
    }
}

impl From<borderlink_ledger::TxError> for ApiError {
    fn from(e: borderlink_ledger::TxError) -> Self {
        ApiError::Tx(e)
    }
}

fn tx_code(e: &borderlink_ledger::TxError) -> Code {
    use borderlink_ledger::TxError as T;
    match e {
        T::Malformed(_) => Code::MalformedTransaction,
        T::WrongChain => Code::WrongChain,
        T::BadSignature => Code::BadSignature,
        T::UnknownSubmitter(_) => Code::UnknownSubmitter,
        T::SuspendedSubmitter(_) => Code::SuspendedSubmitter,
        T::PolicyDenied(_) => Code::PolicyDenied,
        T::Replay => Code::Replay,
        T::StaleVersion { .. } => Code::StaleVersion,
        T::Conflict(_) | T::Rejected(_) => Code::VersionConflict,
        T::PayloadTooLarge { .. } => Code::TxPayloadTooLarge,
        T::PayloadMismatch(_) => Code::PayloadMismatch,
        T::InvalidRecord(_) => Code::InvalidRecord,
        T::MetaMismatch(_) => Code::MetaMismatch,
        T::Undecryptable(_) => Code::Undecryptable,
        T::WrongRecordId(_) => Code::WrongRecordId,
        T::CustomsCannotRead(_) => Code::CustomsCannotRead,
        T::UnknownRecord(_) => Code::UnknownRecord,
        T::Erased(_) => Code::ErasedRecord,
        T::Governance(_) => Code::GovernanceRefused,
        T::Internal(_) => Code::Internal,
        T::Unavailable(_) => Code::OrderingUnavailable,
    }
}

fn ledger_code(e: &borderlink_ledger::LedgerError) -> Code {
    use borderlink_ledger::LedgerError as L;
    match e {
        L::NotFound(_) => Code::RecordNotFound,
        L::NotRecipient { .. } => Code::NotRecipient,
        L::Erased(_) => Code::ErasedRecord,
        L::Private(_) | L::Malformed(_) | L::Usage(_) => Code::BadRequest,
        L::Governance(_) => Code::GovernanceRefused,
        L::Io(_) | L::Storage(_) => Code::StorageFailed,
        L::Corrupt { .. } => Code::CorruptLedger,
        L::Genesis(_) | L::Key(_) | L::Policy(_) => Code::LedgerMisconfigured,
        L::QuotaExceeded { .. } => Code::BlobQuotaExceeded,
    }
}

fn mra_code(e: &borderlink_ledger::mra::MraError) -> Code {
    use borderlink_ledger::mra::MraError as M;
    match e {
        M::NotPartner(_) => Code::NotMraPartner,
        M::NotShared(_) => Code::AeoNotShared,
        M::PolicyDenied(_) => Code::Forbidden,
        M::Ledger(e) => ledger_code(e),
    }
}

impl From<borderlink_ledger::mra::MraError> for ApiError {
    fn from(e: borderlink_ledger::mra::MraError) -> Self {
        ApiError::Mra(e)
    }
}

fn epcis_code(kind: borderlink_iot::epcis::query::ExceptionKind) -> Code {
    use borderlink_iot::epcis::query::ExceptionKind as K;
    match kind {
        K::Validation => Code::EpcisValidation,
        K::QueryParameter => Code::EpcisQueryParameter,
        K::NoSuchName | K::NoSuchResource => Code::EpcisNoSuchResource,
        K::CaptureLimitExceeded => Code::EpcisCaptureLimitExceeded,
        K::QueryTooLarge => Code::EpcisQueryTooLarge,
        K::ResourceAlreadyExists => Code::EpcisEventExists,
        K::Security => Code::Forbidden,
        K::UnsupportedMediaType => Code::EpcisUnsupportedMediaType,
        K::NotAcceptable => Code::EpcisNotAcceptable,
        K::Implementation => Code::Internal,
    }
}

fn known_types() -> String {
    let names: Vec<&str> = borderlink_model::RecordType::ALL.iter().map(|t| t.name()).collect();
    names.join(", ")
}

impl ErrorCode for ApiError {
    fn error_code(&self) -> Code {
        match self {
            ApiError::BadRequest(_) => Code::BadRequest,
            ApiError::InvalidQuery(_) => Code::InvalidQuery,
            ApiError::UnknownRecordType(_) => Code::UnknownRecordType,
            ApiError::UnknownProfile(..) => Code::UnknownProfile,
            ApiError::InvalidMultipart(_) => Code::InvalidMultipart,
            ApiError::MissingDocument => Code::MissingDocument,
            ApiError::PayloadTooLarge { .. } => Code::PayloadTooLarge,
            ApiError::SchemaNotFound(_) => Code::SchemaNotFound,
            ApiError::RouteNotFound { .. } => Code::RouteNotFound,
            ApiError::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            ApiError::Internal(_) => Code::Internal,
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::LedgerDisabled => Code::LedgerDisabled,
            ApiError::ClusterDisabled => Code::ClusterDisabled,
            ApiError::Forbidden(_) => Code::Forbidden,
            ApiError::PurposeRequired(..) => Code::PurposeRequired,
            ApiError::PurposeNotAllowed(..) => Code::PurposeNotAllowed,
            ApiError::UnknownPurpose(_) => Code::UnknownPurpose,
            ApiError::Mra(e) => mra_code(e),
            ApiError::RecordNotFound(_) => Code::RecordNotFound,
            ApiError::NotAnchoredYet(_) => Code::NotAnchoredYet,
            ApiError::BlockNotFound(_) => Code::BlockNotFound,
            ApiError::Ledger(e) => ledger_code(e),
            ApiError::Tx(e) => tx_code(e),
            ApiError::InvalidDeclaration(_) => Code::InvalidDeclaration,
            ApiError::Risk(e) => crate::risk::code(e),
            ApiError::NoRiskModel => Code::NoRiskModel,
            ApiError::InvalidDevice(_) => Code::InvalidDevice,
            ApiError::DeviceExists(..) => Code::DeviceExists,
            ApiError::DeviceNotFound(_) => Code::DeviceNotFound,
            ApiError::EventNotFound(_) => Code::EventNotFound,
            ApiError::InvalidTrip(_) => Code::InvalidTrip,
            ApiError::TripConflict(_) => Code::TripConflict,
            ApiError::TripNotFound(_) => Code::TripNotFound,
            ApiError::AlertNotFound(_) => Code::AlertNotFound,
            ApiError::AlertAcknowledged(..) => Code::AlertAcknowledged,
            ApiError::EventNotAnchoredYet(_) => Code::NotAnchoredYet,
            ApiError::DeviceUnauthenticated(_) => Code::DeviceUnauthenticated,
            ApiError::IotRefused(r) => refusal_code(r.reason),
            ApiError::RateLimited { .. } => Code::RateLimited,
            ApiError::RequestTimeout(_) => Code::RequestTimeout,
            ApiError::TooManyConnections(_) => Code::TooManyConnections,
            ApiError::Csrf(_) => Code::CsrfFailed,
            ApiError::LoginThrottled(_) => Code::LoginThrottled,
            ApiError::Account(e) => account_code(e),
            ApiError::Epcis { kind, .. } => epcis_code(*kind),
        }
    }
}

impl ApiError {
    /// The status and body this error is returned with.
    pub fn body(&self) -> ErrorBody {
        let code = self.error_code();
        ErrorBody { code: code.name(), error_type: code.error_type(), message: self.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.error_code();
        if code.error_type() != ErrorType::InvalidRequest {
            tracing::error!(code = code.name(), error = %self, "request failed");
        }
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            ApiError::TooManyConnections(_) => Some(1),
            ApiError::LoginThrottled(secs) => Some(*secs),
            _ => None,
        };
        if let ApiError::Epcis { kind, detail } = &self {
            return crate::iot::epcis::problem_response(
                code.status(),
                kind.type_uri(),
                kind.title(),
                detail,
                code.name(),
            );
        }
        let mut response = (code.status(), Json(self.body())).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// The code of each reason a device message is refused for.
fn refusal_code(reason: borderlink_iot::admission::Refusal) -> Code {
    use borderlink_iot::admission::Refusal as R;
    match reason {
        R::UnknownDevice => Code::IotUnknownDevice,
        R::DeviceNotActive => Code::IotDeviceNotActive,
        R::WrongTopic => Code::IotWrongTopic,
        R::BadCredential => Code::IotBadCredential,
        R::Malformed => Code::IotMalformed,
        R::Replay => Code::IotReplay,
        R::ClockOff => Code::IotClockOff,
        R::RateLimited => Code::IotRateLimited,
    }
}

/// Maps a body that could not be read: too large is `payload_too_large`, anything else is the
/// client's broken request.
pub(crate) fn body_rejection(status: StatusCode, text: String, limit: usize) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::BadRequest(text)
    }
}

/// Maps a body extractor's rejection.
pub(crate) fn bytes_rejection(rejection: axum::extract::rejection::BytesRejection, limit: usize) -> ApiError {
    body_rejection(rejection.status(), rejection.body_text(), limit)
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::InvalidQuery(rejection.body_text())
    }
}

/// Gives every API answer with an error status the standard body: an extractor's rejection
/// (a path segment that does not parse, a JSON body that does not deserialize, …) arrives as
/// plain text and leaves as `{code, type, message}` with the code its status implies.
pub(crate) async fn standard_errors(
    axum::extract::State(state): axum::extract::State<crate::server::SharedState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = crate::server::is_api(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/plain"));
    if !api || !plain || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: state.max_body_bytes },
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            ApiError::BadRequest(text)
        }
        s if s.is_server_error() => ApiError::Internal(text),
        _ => ApiError::BadRequest(text),
    };
    error.into_response()
}

/// An error that stops the node from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    DataDir {
        /// The configured `data_dir`.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The configured `listen` address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The server stopped on an I/O error.
    #[error("the server stopped: {0}")]
    Serve(#[source] io::Error),
    /// The ledger could not be opened.
    #[error("cannot open the ledger: {0}")]
    Ledger(borderlink_ledger::LedgerError),
    /// The configuration cannot be served as it is.
    #[error("{0}")]
    Config(String),
    /// The accounts store could not be opened.
    #[error("cannot open the accounts: {0}")]
    Access(borderlink_access::AccessError),
    /// A capability's file could not be opened or read (which file, and why).
    #[error("cannot open {0}")]
    Storage(String),
}

impl ErrorCode for NodeError {
    fn error_code(&self) -> Code {
        match self {
            NodeError::DataDir { .. } => Code::DataDirUnavailable,
            NodeError::Bind { .. } => Code::BindFailed,
            NodeError::Serve(_) => Code::ServeFailed,
            NodeError::Ledger(_) => Code::LedgerUnavailable,
            NodeError::Config(_) => Code::InvalidConfig,
            NodeError::Access(_) => Code::AccessUnavailable,
            NodeError::Storage(_) => Code::StorageFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let name = code.name();
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name} is not snake_case");
        }
    }

    #[test]
    fn client_errors_are_4xx_and_others_5xx() {
        for code in Code::ALL {
            let status = code.status();
            match code.error_type() {
                ErrorType::InvalidRequest => assert!(status.is_client_error(), "{code:?}"),
                ErrorType::Internal | ErrorType::System => {
                    assert!(status.is_server_error(), "{code:?}")
                }
            }
        }
    }

    #[test]
    fn an_unavailable_ordering_says_the_outcome_is_unknown_and_how_to_learn_it() {
        let e = ApiError::Tx(borderlink_ledger::TxError::Unavailable("no quorum reachable".into()));
        let body = e.body();
        assert_eq!((body.code, e.error_code().status()), ("ordering_unavailable", StatusCode::SERVICE_UNAVAILABLE));
        assert!(body.message.contains("outcome unknown"), "{}", body.message);
        assert!(body.message.contains("resubmit the same signed transaction"), "{}", body.message);
    }

    #[test]
    fn error_body_has_code_type_and_message() {
        let body = serde_json::to_value(ApiError::SchemaNotFound("nope".into()).body()).unwrap_or_default();
        assert_eq!(body["code"], "schema_not_found");
        assert_eq!(body["type"], "invalid_request");
        assert!(body["message"].as_str().unwrap_or_default().contains("`nope`"));
    }
}
