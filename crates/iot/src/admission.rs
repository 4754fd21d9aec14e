//! Whether a device's message is let in: the checks every interface runs before anything is
//! stored, with a named reason for every refusal (the node counts refusals by reason).
//!
//! In order: the device is in the registry and active; the channel's identity is the device's
//! (the topic names it and its owner, the certificate is its certificate, or its Ed25519 key
//! signed the bytes); the message parses; its sequence number is above the last one admitted (a
//! replay is refused); its clock is not far off the node's (a seal's clock drifts seconds a day;
//! a tracker may send buffered positions hours old, but not from next week).

use std::collections::HashMap;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::device::{Credential, Device, DeviceState, topic_device};
use crate::rules::UnixMillis;

/// Why a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    UnknownDevice,
    DeviceNotActive,
    /// The topic names another device or owner than the one that connected.
    WrongTopic,
    /// The certificate or the signature is not the device's.
    BadCredential,
    Malformed,
    Replay,
    ClockOff,
    RateLimited,
}

impl Refusal {
    pub const ALL: [Refusal; 8] = [
        Refusal::UnknownDevice,
        Refusal::DeviceNotActive,
        Refusal::WrongTopic,
        Refusal::BadCredential,
        Refusal::Malformed,
        Refusal::Replay,
        Refusal::ClockOff,
        Refusal::RateLimited,
    ];

    /// The reason's name in metrics and error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownDevice => "unknown-device",
            Refusal::DeviceNotActive => "device-not-active",
            Refusal::WrongTopic => "wrong-topic",
            Refusal::BadCredential => "bad-credential",
            Refusal::Malformed => "malformed",
            Refusal::Replay => "replay",
            Refusal::ClockOff => "clock-off",
            Refusal::RateLimited => "rate-limited",
        }
    }
}

/// A refusal and what exactly was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", reason.as_str())]
pub struct Refused {
    pub reason: Refusal,
    pub detail: String,
}

fn refuse(reason: Refusal, detail: impl Into<String>) -> Refused {
    Refused { reason, detail: detail.into() }
}

/// How far a device's clock may be off the node's.
#[derive(Debug, Clone, Copy)]
pub struct ClockWindow {
    /// How far ahead of the node a message may be dated.
    pub ahead_ms: i64,
    /// How old a (buffered) message may be.
    pub behind_ms: i64,
}

impl Default for ClockWindow {
    fn default() -> Self {
        Self { ahead_ms: 5 * 60_000, behind_ms: 72 * 3_600_000 }
    }
}

/// Checks that `device` may report: registered and active.
pub fn active<'a>(device: Option<&'a Device>, id: &str) -> Result<&'a Device, Refused> {
    let d = device.ok_or_else(|| refuse(Refusal::UnknownDevice, format!("no device {id:?} in the registry")))?;
    if d.state != DeviceState::Active {
        return Err(refuse(Refusal::DeviceNotActive, format!("device {id:?} is {:?}", d.state)));
    }
    Ok(d)
}

/// Checks an MQTT topic against the device that connected (the broker authenticated its
/// certificate, whose fingerprint is `certificate_sha256`).
pub fn check_topic(device: &Device, topic: &str, certificate_sha256: Option<&str>) -> Result<(), Refused> {
    match topic_device(topic) {
        Some((owner, id)) if owner == device.owner && id == device.device_id => {}
        _ => {
            return Err(refuse(
                Refusal::WrongTopic,
                format!(
                    "device {:?} may publish only under {:?}, not on {topic:?}",
                    device.device_id,
                    device.topic_prefix()
                ),
            ));
        }
    }
    if let (Credential::Certificate { sha256 }, Some(presented)) = (&device.credential, certificate_sha256)
        && !sha256.eq_ignore_ascii_case(presented)
    {
        return Err(refuse(Refusal::BadCredential, "the client certificate is not the one registered for the device"));
    }
    Ok(())
}

/// Checks a device's Ed25519 signature (hex) over the message bytes.
pub fn check_signature(device: &Device, body: &[u8], signature_hex: &str) -> Result<(), Refused> {
    let Credential::Ed25519 { public_key } = &device.credential else {
        return Err(refuse(Refusal::BadCredential, "the device authenticates with a certificate, not a signature"));
    };
    let key: [u8; 32] = hex::decode(public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| refuse(Refusal::BadCredential, "the registered key is not an Ed25519 key"))?;
    let key = VerifyingKey::from_bytes(&key)
        .map_err(|_| refuse(Refusal::BadCredential, "the registered key is not an Ed25519 key"))?;
    let sig: [u8; 64] = hex::decode(signature_hex)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| refuse(Refusal::BadCredential, "the signature is not 128 hex digits"))?;
    key.verify(body, &Signature::from_bytes(&sig))
        .map_err(|_| refuse(Refusal::BadCredential, "the signature does not verify with the device's key"))
}

/// Checks a message's time against the node's clock.
pub fn check_clock(at: UnixMillis, now: UnixMillis, window: ClockWindow) -> Result<(), Refused> {
    if at > now + window.ahead_ms {
        return Err(refuse(Refusal::ClockOff, format!("dated {} s ahead of the node's clock", (at - now) / 1000)));
    }
    if at < now - window.behind_ms {
        return Err(refuse(Refusal::ClockOff, format!("dated {} h before the node's clock", (now - at) / 3_600_000)));
    }
    Ok(())
}

/// The last sequence number admitted per device: a message must carry a higher one.
#[derive(Debug, Clone, Default)]
pub struct Sequences {
    last: HashMap<String, u64>,
}

impl Sequences {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last number admitted from `device`.
    pub fn last(&self, device: &str) -> Option<u64> {
        self.last.get(device).copied()
    }

    /// Restores a number from storage (at start).
    pub fn restore(&mut self, device: &str, seq: u64) {
        let e = self.last.entry(device.to_owned()).or_insert(seq);
        *e = (*e).max(seq);
    }

    /// Checks `seq` without recording it.
    pub fn check(&self, device: &str, seq: u64) -> Result<(), Refused> {
        match self.last(device) {
            Some(last) if seq <= last => Err(refuse(
                Refusal::Replay,
                format!("sequence number {seq} of device {device:?} is not above the last admitted, {last}"),
            )),
            _ => Ok(()),
        }
    }

    /// Records `seq` once the message is stored.
    pub fn admit(&mut self, device: &str, seq: u64) {
        self.restore(device, seq);
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;
    use crate::device::{DeviceKind, Identifiers, SealId};

    fn device(credential: Credential) -> Device {
        Device {
            device_id: "ESEAL-1".into(),
            kind: DeviceKind::ESeal,
            owner: "nl-customs".into(),
            identifiers: Identifiers {
                seal: Some(SealId { manufacturer: "0A1B".into(), serial: "01".into() }),
                ..Identifiers::default()
            },
            credential,
            reporting_interval_seconds: 300,
            state: DeviceState::Active,
        }
    }

    #[test]
    fn only_active_registered_devices_report() {
        let d = device(Credential::Certificate { sha256: "ab".repeat(32) });
        assert_eq!(active(None, "X").unwrap_err().reason, Refusal::UnknownDevice);
        let lost = Device { state: DeviceState::Lost, ..d.clone() };
        assert_eq!(active(Some(&lost), "ESEAL-1").unwrap_err().reason, Refusal::DeviceNotActive);
        assert!(active(Some(&d), "ESEAL-1").is_ok());
    }

    #[test]
    fn a_device_publishes_only_on_its_own_topics_with_its_own_certificate() {
        let d = device(Credential::Certificate { sha256: "ab".repeat(32) });
        let own = "tenants/nl-customs/devices/ESEAL-1/events";
        check_topic(&d, own, Some(&"AB".repeat(32))).unwrap();
        for other in
            ["tenants/nl-customs/devices/ESEAL-2/events", "tenants/gb-customs/devices/ESEAL-1/events", "eseal/ESEAL-1"]
        {
            assert_eq!(check_topic(&d, other, None).unwrap_err().reason, Refusal::WrongTopic, "{other}");
        }
        assert_eq!(check_topic(&d, own, Some(&"cd".repeat(32))).unwrap_err().reason, Refusal::BadCredential);
    }

    #[test]
    fn signatures_verify_with_the_registered_key_only() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let d = device(Credential::Ed25519 { public_key: hex::encode(key.verifying_key().to_bytes()) });
        let body = br#"{"seq":1}"#;
        let sig = hex::encode(key.sign(body).to_bytes());
        check_signature(&d, body, &sig).unwrap();
        assert_eq!(check_signature(&d, br#"{"seq":2}"#, &sig).unwrap_err().reason, Refusal::BadCredential);
        let other = SigningKey::from_bytes(&[8; 32]);
        let forged = hex::encode(other.sign(body).to_bytes());
        assert_eq!(check_signature(&d, body, &forged).unwrap_err().reason, Refusal::BadCredential);
        assert_eq!(check_signature(&d, body, "00").unwrap_err().reason, Refusal::BadCredential);
    }

    #[test]
    fn replays_and_far_off_clocks_are_refused() {
        let mut s = Sequences::new();
        s.check("d", 5).unwrap();
        s.admit("d", 5);
        assert_eq!(s.check("d", 5).unwrap_err().reason, Refusal::Replay);
        assert_eq!(s.check("d", 4).unwrap_err().reason, Refusal::Replay);
        s.check("d", 6).unwrap();
        s.check("e", 1).unwrap();
        let now = 1_800_000_000_000;
        let w = ClockWindow::default();
        check_clock(now - 3_600_000, now, w).unwrap();
        check_clock(now + 60_000, now, w).unwrap();
        assert_eq!(check_clock(now + 3_600_000, now, w).unwrap_err().reason, Refusal::ClockOff);
        assert_eq!(check_clock(now - 30 * 86_400_000, now, w).unwrap_err().reason, Refusal::ClockOff);
        assert_eq!(Refusal::ALL.len(), 8);
    }
}
