//! The device registry over HTTP: `GET /api/v1/iot/devices` (filters by owner, kind, state),
//! `GET /api/v1/iot/devices/{id}`, `POST /api/v1/iot/devices` (register one of this node's
//! member's devices) and `POST /api/v1/iot/devices/{id}/state` (mark it lost, retired, or
//! active again). Every change is a new version of the device's registry record on the ledger.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use borderlink_iot::device::{Device, DeviceKind, DeviceState};
use serde::Deserialize;

use super::{IotService, Registered};
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{ManageDevices, ReadIot, Require};

/// Filters of `GET /api/v1/iot/devices`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceFilter {
    /// Only the devices of this member organisation.
    owner: Option<String>,
    /// Only devices of this kind: `e-seal`, `gps-tracker`, `rfid-reader`, `gate-camera`, `scanner`.
    #[param(inline, value_type = Option<KindName>)]
    kind: Option<String>,
    /// Only devices in this state: `active`, `lost`, `retired`.
    #[param(inline, value_type = Option<StateName>)]
    state: Option<String>,
}

/// The kinds of device, as the API documents them.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)] // documentation only: the parameter is read as text.
pub(crate) enum KindName {
    ESeal,
    GpsTracker,
    RfidReader,
    GateCamera,
    Scanner,
}

/// The states of a device.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum StateName {
    Active,
    Lost,
    Retired,
}

fn parse_state(s: &str) -> Result<DeviceState, String> {
    match s {
        "active" => Ok(DeviceState::Active),
        "lost" => Ok(DeviceState::Lost),
        "retired" => Ok(DeviceState::Retired),
        other => Err(format!("unknown device state {other:?}; the states are active, lost, retired")),
    }
}

/// The registered devices, by id.
#[utoipa::path(get, path = "/api/v1/iot/devices", tag = "iot",
    params(DeviceFilter),
    responses(
        (status = 200, description = "The devices, in device id order", body = [Registered]),
        (status = 400, description = "An unknown filter or value (`invalid_query`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    query: Result<Query<DeviceFilter>, QueryRejection>,
) -> Result<Json<Vec<Registered>>, ApiError> {
    let Query(f) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let kind = match f.kind.as_deref() {
        Some(k) => Some(DeviceKind::from_name(k).ok_or_else(|| {
            ApiError::InvalidQuery(format!(
                "unknown device kind {k:?}; the kinds are {}",
                DeviceKind::ALL.map(DeviceKind::as_str).join(", ")
            ))
        })?),
        None => None,
    };
    let state = f.state.as_deref().map(parse_state).transpose().map_err(ApiError::InvalidQuery)?;
    let registry = iot.devices()?;
    Ok(Json(
        registry
            .values()
            .filter(|r| f.owner.as_deref().is_none_or(|o| r.device.owner == o))
            .filter(|r| kind.is_none_or(|k| r.device.kind == k))
            .filter(|r| state.is_none_or(|s| r.device.state == s))
            .cloned()
            .collect(),
    ))
}

/// One device.
#[utoipa::path(get, path = "/api/v1/iot/devices/{id}", tag = "iot",
    params(("id" = String, Path, description = "The device id")),
    responses(
        (status = 200, description = "The device", body = Registered),
        (status = 404, description = "No such device (`device_not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn one(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
) -> Result<Json<Registered>, ApiError> {
    iot.devices()?.get(&id).cloned().map(Json).ok_or(ApiError::DeviceNotFound(id))
}

/// Registers a device of this node's member (the `owner`, when given, must be that member).
/// Its entry is recorded on the ledger, signed by the member's key.
#[utoipa::path(post, path = "/api/v1/iot/devices", tag = "iot",
    request_body(content = Object, description = "The device entry: deviceId, kind, identifiers (seal {manufacturer, serial}, imei, reader), credential ({type: certificate, sha256} or {type: ed25519, public_key}), reportingIntervalSeconds; owner and state may be left out (this node's member; active)"),
    responses(
        (status = 201, description = "The device, registered", body = Registered),
        (status = 400, description = "The body is not JSON of that shape (`bad_request`)", body = crate::error::ErrorBody),
        (status = 409, description = "The device id is registered already (`device_exists`)", body = crate::error::ErrorBody),
        (status = 422, description = "The entry breaks a rule: which field, and why (`invalid_device`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn register(
    who: Require<ManageDevices>,
    Service(iot): Service<IotService>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let Json(mut value) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let member = iot.local_member().ok_or_else(|| ApiError::Forbidden("this node holds no member keys".into()))?;
    if let Some(obj) = value.as_object_mut() {
        obj.entry("owner").or_insert_with(|| member.clone().into());
        obj.entry("state").or_insert_with(|| "active".into());
    }
    let device: Device =
        serde_json::from_value(value).map_err(|e| ApiError::BadRequest(format!("not a device entry: {e}")))?;
    if device.owner != member {
        return Err(ApiError::InvalidDevice(format!(
            "device {}: `owner` is {:?}, but this node registers the devices of {member:?} only (register it at its owner's node)",
            device.device_id, device.owner
        )));
    }
    device.check().map_err(|e| ApiError::InvalidDevice(e.to_string()))?;
    if let Some(existing) = iot.devices()?.get(&device.device_id) {
        return Err(ApiError::DeviceExists(device.device_id.clone(), existing.device.owner.clone()));
    }
    let registered = iot.record(&device).await?;
    tracing::info!(device = %device.device_id, kind = device.kind.as_str(), by = who.principal.kind(), "device registered");
    Ok((StatusCode::CREATED, Json(registered)))
}

/// The new state of a device: `active`, `lost` or `retired`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewState {
    // No field doc: with one, utoipa wraps the inlined enum in an allOf with an object type.
    #[schema(inline)]
    state: StateName,
}

/// Changes the state of one of this node's member's devices: `lost` and `retired` devices are
/// refused when they report.
#[utoipa::path(post, path = "/api/v1/iot/devices/{id}/state", tag = "iot",
    params(("id" = String, Path, description = "The device id")),
    request_body = NewState,
    responses(
        (status = 200, description = "The device, in its new state", body = Registered),
        (status = 404, description = "No such device (`device_not_found`)", body = crate::error::ErrorBody),
        (status = 400, description = "An unknown state or a body of another shape (`bad_request`)", body = crate::error::ErrorBody),
        (status = 422, description = "A device of another member (`invalid_device`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn set_state(
    who: Require<ManageDevices>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
    body: Result<Json<NewState>, JsonRejection>,
) -> Result<Json<Registered>, ApiError> {
    let Json(new) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let state = match new.state {
        StateName::Active => DeviceState::Active,
        StateName::Lost => DeviceState::Lost,
        StateName::Retired => DeviceState::Retired,
    };
    let existing = iot.devices()?.get(&id).cloned().ok_or_else(|| ApiError::DeviceNotFound(id.clone()))?;
    let member = iot.local_member().unwrap_or_default();
    if existing.device.owner != member {
        return Err(ApiError::InvalidDevice(format!(
            "device {id} belongs to {}; only its owner's node changes its state",
            existing.device.owner
        )));
    }
    if existing.device.state == state {
        return Ok(Json(existing));
    }
    let device = Device { state, ..existing.device };
    let registered = iot.record(&device).await?;
    tracing::info!(device = %id, state = ?new.state, by = who.principal.kind(), "device state changed");
    Ok(Json(registered))
}
