//! Trips on the node: opened by a customs administration (`POST /api/v1/iot/trips`) as a private
//! document `document:{member}:trip-{id}` sealed for the administrations concerned, listed and
//! read back with their trace (`GET /api/v1/iot/trips`, `/{id}`), closed at arrival
//! (`POST /api/v1/iot/trips/{id}/close`). A device reports for at most one open trip at a time.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use borderlink_iot::trip::{Trip, TripState};
use serde::Serialize;

use super::IotService;
use crate::capability::Service;
use crate::error::ApiError;
use crate::principal::{ManageDevices, ReadIot, Require};

/// The name prefix of trip documents.
pub(crate) const TRIP_DOCUMENT: &str = "trip-";

/// A trip as recorded, with where and when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TripEntry {
    /// The trip.
    #[schema(value_type = Object)]
    pub(crate) trip: Trip,
    /// The ledger record that holds it.
    pub(crate) record_id: String,
    /// Its version.
    pub(crate) version: u64,
    /// When this version was signed (ms since the epoch).
    pub(crate) updated_ms: i64,
}

/// Every trip this node can read, by `(owner, trip id)`.
pub(crate) type Trips = Arc<BTreeMap<(String, String), TripEntry>>;

impl IotService {
    /// The trips at the ledger's head (clear to this node or sealed for it).
    pub(crate) fn trips(&self) -> Result<Trips, ApiError> {
        let height = self.height();
        if let Some((at, trips)) = self.trips.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *at == height
        {
            return Ok(Arc::clone(trips));
        }
        let mut out = BTreeMap::new();
        for d in self.documents(TRIP_DOCUMENT)? {
            let Ok(trip) = serde_json::from_value::<Trip>(d.payload) else { continue };
            // A trip is its owner's: an entry signed by another member is not a trip.
            if trip.owner != d.submitter || trip.check().is_err() {
                continue;
            }
            out.insert(
                (trip.owner.clone(), trip.trip_id.clone()),
                TripEntry { trip, record_id: d.record_id, version: d.version, updated_ms: d.timestamp_ms },
            );
        }
        let trips = Arc::new(out);
        *self.trips.lock().unwrap_or_else(|e| e.into_inner()) = Some((height, Arc::clone(&trips)));
        Ok(trips)
    }

    /// The open trip `device` reports for, if any.
    pub(crate) fn trip_of_device(&self, device: &str) -> Result<Option<TripEntry>, ApiError> {
        Ok(self.trips()?.values().find(|t| t.trip.state == TripState::Open && t.trip.has_device(device)).cloned())
    }

    /// A trip by id: this node's member's first, then any other member's.
    pub(crate) fn trip(&self, id: &str) -> Result<Option<TripEntry>, ApiError> {
        let trips = self.trips()?;
        let member = self.local_member().unwrap_or_default();
        Ok(trips.get(&(member, id.to_owned())).or_else(|| trips.values().find(|t| t.trip.trip_id == id)).cloned())
    }

    /// Records `trip` (new, or a new version of this member's own) on the ledger, sealed for
    /// its administrations.
    pub(crate) async fn record_trip(&self, trip: &Trip) -> Result<TripEntry, ApiError> {
        let payload = serde_json::to_vec(trip).map_err(|e| ApiError::Internal(e.to_string()))?;
        let name = format!("{TRIP_DOCUMENT}{}", trip.trip_id);
        let (record_id, version, updated_ms) = self.commit(&name, &payload, Some(&trip.administrations)).await?;
        Ok(TripEntry { trip: trip.clone(), record_id, version, updated_ms })
    }
}

/// The trips this node can read, open ones first.
#[utoipa::path(get, path = "/api/v1/iot/trips", tag = "iot",
    responses((status = 200, description = "The trips: open ones first, then by owner and id", body = [TripEntry])))]
pub(crate) async fn list(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
) -> Result<Json<Vec<TripEntry>>, ApiError> {
    let mut trips: Vec<TripEntry> = iot.trips()?.values().cloned().collect();
    trips.sort_by_key(|t| t.trip.state != TripState::Open);
    Ok(Json(trips))
}

/// One trip.
#[utoipa::path(get, path = "/api/v1/iot/trips/{id}", tag = "iot",
    params(("id" = String, Path, description = "The trip id")),
    responses(
        (status = 200, description = "The trip", body = TripEntry),
        (status = 404, description = "No such trip readable here (`trip_not_found`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn one(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
) -> Result<Json<TripEntry>, ApiError> {
    iot.trip(&id)?.map(Json).ok_or(ApiError::TripNotFound(id))
}

/// Opens a trip of this node's member: the container, seal or vehicle it watches, the devices
/// that report for it, the declaration and movement it belongs to, its rules and time limit,
/// and the administrations its alerts are shared with. Recorded on the ledger as a private
/// document sealed for them.
#[utoipa::path(post, path = "/api/v1/iot/trips", tag = "iot",
    request_body(content = Object, description = "The trip: tripId, container (ISO 6346) / seal / vehicle, devices, declaration and movement (record ids), rules ({name, authorisedPlaces, corridor, max_stop_minutes, …}), deadlineMs, administrations (member ids)"),
    responses(
        (status = 201, description = "The trip, opened", body = TripEntry),
        (status = 400, description = "The body is not JSON of that shape (`bad_request`)", body = crate::error::ErrorBody),
        (status = 409, description = "The trip id is taken, or a device reports for another open trip (`trip_conflict`)", body = crate::error::ErrorBody),
        (status = 422, description = "The trip breaks a rule: which field, and why (`invalid_trip`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn open(
    who: Require<ManageDevices>,
    Service(iot): Service<IotService>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<(StatusCode, Json<TripEntry>), ApiError> {
    let Json(mut value) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let member = iot.local_member().ok_or_else(|| ApiError::Forbidden("this node holds no member keys".into()))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("owner".into(), member.clone().into());
        obj.entry("state").or_insert_with(|| "open".into());
    }
    let trip: Trip = serde_json::from_value(value).map_err(|e| ApiError::BadRequest(format!("not a trip: {e}")))?;
    trip.check().map_err(|e| ApiError::InvalidTrip(e.to_string()))?;
    let members = iot.member_ids();
    if let Some(unknown) = trip.administrations.iter().find(|a| !members.contains(a)) {
        return Err(ApiError::InvalidTrip(format!(
            "trip: administrations: {unknown:?} is not a member of the consortium"
        )));
    }
    let devices = iot.devices()?;
    if let Some(d) = trip.devices.iter().find(|d| !devices.contains_key(*d)) {
        return Err(ApiError::InvalidTrip(format!("trip: devices: {d:?} is not registered")));
    }
    if iot.trips()?.contains_key(&(member.clone(), trip.trip_id.clone())) {
        return Err(ApiError::TripConflict(format!("trip {} is opened already", trip.trip_id)));
    }
    for d in &trip.devices {
        if let Some(other) = iot.trip_of_device(d)? {
            return Err(ApiError::TripConflict(format!(
                "device {d} reports for the open trip {} of {}; close it first",
                other.trip.trip_id, other.trip.owner
            )));
        }
    }
    let entry = iot.record_trip(&trip).await?;
    tracing::info!(trip = %trip.trip_id, by = who.principal.kind(), "trip opened");
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Closes one of this node's member's trips (arrived and discharged): its devices are no
/// longer watched for it.
#[utoipa::path(post, path = "/api/v1/iot/trips/{id}/close", tag = "iot",
    params(("id" = String, Path, description = "The trip id")),
    responses(
        (status = 200, description = "The trip, closed", body = TripEntry),
        (status = 404, description = "No such trip of this node's member (`trip_not_found`)", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn close(
    who: Require<ManageDevices>,
    Service(iot): Service<IotService>,
    Path(id): Path<String>,
) -> Result<Json<TripEntry>, ApiError> {
    let member = iot.local_member().unwrap_or_default();
    let existing =
        iot.trips()?.get(&(member, id.clone())).cloned().ok_or_else(|| ApiError::TripNotFound(id.clone()))?;
    if existing.trip.state == TripState::Closed {
        return Ok(Json(existing));
    }
    let trip = Trip { state: TripState::Closed, ..existing.trip };
    let entry = iot.record_trip(&trip).await?;
    tracing::info!(trip = %id, by = who.principal.kind(), "trip closed");
    Ok(Json(entry))
}
