//! `POST /api/v1/iot/messages`: a device's message over HTTP, signed by the device.
//!
//! The device names itself and its sequence number in headers and signs them with the body
//! ([`super::signed_bytes`]); [`DeviceSigned`] reads the headers (a request without them is
//! refused before its body is read), the pipeline verifies the signature against the registry.

use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::extract::rejection::BytesRejection;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};

use super::{Admitted, Interface, MAX_MESSAGE_BYTES, Message, PayloadKind};
use crate::capability::Service;
use crate::error::{ApiError, bytes_rejection};
use crate::iot::IotService;
use crate::principal::{DeviceSignature, Require};
use crate::server::SharedState;

/// The header naming the device.
pub(crate) const DEVICE_HEADER: &str = "borderlink-device";
/// The header carrying the message's sequence number (decimal).
pub(crate) const SEQUENCE_HEADER: &str = "borderlink-sequence";
/// The header carrying the device's Ed25519 signature (128 hex digits).
pub(crate) const SIGNATURE_HEADER: &str = "borderlink-signature";

/// The content type of a Teltonika Codec 8/8E packet sent over HTTP.
pub(crate) const CODEC8_CONTENT_TYPE: &str = "application/vnd.teltonika.codec8";

/// A device's claim to a request: who it says it is, its sequence number and its signature
/// (verified with the body by the pipeline). Taking it marks a route as device-authenticated.
#[derive(Debug, Clone)]
pub(crate) struct DeviceSigned {
    pub(crate) device: String,
    pub(crate) sequence: u64,
    pub(crate) signature: String,
}

impl FromRequestParts<SharedState> for DeviceSigned {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &SharedState) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<String, ApiError> {
            let value = parts.headers.get(name).ok_or_else(|| {
                ApiError::DeviceUnauthenticated(format!(
                    "a device message needs the headers {DEVICE_HEADER}, {SEQUENCE_HEADER} and {SIGNATURE_HEADER}; {name} is missing"
                ))
            })?;
            value
                .to_str()
                .map(str::to_owned)
                .map_err(|_| ApiError::DeviceUnauthenticated(format!("header {name} is not ASCII text")))
        };
        let device = text(DEVICE_HEADER)?;
        if !borderlink_iot::device::is_id(&device) {
            return Err(ApiError::DeviceUnauthenticated(format!(
                "header {DEVICE_HEADER} must be a device id (1 to 64 letters, digits or - _ . :)"
            )));
        }
        let sequence = text(SEQUENCE_HEADER)?.parse::<u64>().map_err(|_| {
            ApiError::DeviceUnauthenticated(format!("header {SEQUENCE_HEADER} must be a decimal number"))
        })?;
        let signature = text(SIGNATURE_HEADER)?;
        if signature.len() != 128 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::DeviceUnauthenticated(format!("header {SIGNATURE_HEADER} must be 128 hex digits")));
        }
        Ok(DeviceSigned { device, sequence, signature })
    }
}

/// Takes one device message: an e-seal's or tracker's JSON uplink, an EPCIS 2.0 document
/// (JSON-LD), or a Teltonika Codec 8 packet (`Content-Type: application/vnd.teltonika.codec8`).
/// Answers once its events are stored, with their CBV 2.0 hash IDs. Refusals are counted in
/// `borderlink_iot_refused_total` and nothing of them is stored.
#[utoipa::path(post, path = "/api/v1/iot/messages", tag = "iot",
    params(
        ("Borderlink-Device" = String, Header, description = "The device id, as registered"),
        ("Borderlink-Sequence" = u64, Header, description = "Above the last sequence number admitted from the device; equal to an uplink's `seq`"),
        ("Borderlink-Signature" = String, Header, description = "Ed25519 signature (hex) by the device's registered key over `borderlink-iot-v1\\n{device}\\n{sequence}\\n` followed by the body"),
    ),
    request_body(content = Object, description = "The message: a vendor uplink JSON, an EPCIS 2.0 JSON-LD document, or a Codec 8 packet (binary)"),
    responses(
        (status = 200, description = "Stored: the events' hash IDs (new and already stored)", body = Admitted),
        (status = 401, description = "No or unreadable device headers (`device_unauthenticated`), an unknown device (`iot_unknown_device`) or a signature that does not verify (`iot_bad_credential`)", body = crate::error::ErrorBody),
        (status = 403, description = "The device is lost or retired (`iot_device_not_active`)", body = crate::error::ErrorBody),
        (status = 409, description = "A sequence number not above the last admitted (`iot_replay`)", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than 256 KiB (`payload_too_large`)", body = crate::error::ErrorBody),
        (status = 422, description = "A payload that does not parse or map (`iot_malformed`), or dated too far from the node's clock (`iot_clock_off`)", body = crate::error::ErrorBody),
        (status = 429, description = "The device sends faster than its rate (`iot_rate_limited`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn post_message(
    _: Require<DeviceSignature>,
    signed: DeviceSigned,
    Service(iot): Service<IotService>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Admitted>), ApiError> {
    let body = body.map_err(|r| bytes_rejection(r, MAX_MESSAGE_BYTES))?;
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_MESSAGE_BYTES });
    }
    let codec8 = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(CODEC8_CONTENT_TYPE));
    let ingest = iot.ingest();
    let message = Message {
        interface: Interface::Http,
        device: signed.device,
        channel: None,
        sequence: Some(signed.sequence),
        signature: Some(signed.signature),
        kind: if codec8 { PayloadKind::Codec8 } else { PayloadKind::Json },
        payload: body.to_vec(),
        received_ms: ingest.now_ms(),
    };
    let admitted = ingest.accept(message).await?;
    Ok((StatusCode::OK, Json(admitted)))
}
