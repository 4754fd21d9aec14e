//! The device registry's entries: e-seals, GPS trackers and e-locks, RFID readers, gate cameras
//! and scanners, each owned by a member organisation, with the identifiers it reports under, the
//! credential it authenticates with, how often it reports, and its state.
//!
//! A device is a record on the ledger (registered, marked lost, retired by its owner); the node
//! admits a message only from an active device, through the credential and on the topic the
//! registry gives it (see [`crate::admission`]).

use serde::{Deserialize, Serialize};

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// An ISO 18185 electronic seal.
    ESeal,
    /// A GPS tracker or an electronic lock with a GNSS receiver.
    GpsTracker,
    RfidReader,
    GateCamera,
    /// A non-intrusive inspection scanner at a portal.
    Scanner,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 5] = [
        DeviceKind::ESeal,
        DeviceKind::GpsTracker,
        DeviceKind::RfidReader,
        DeviceKind::GateCamera,
        DeviceKind::Scanner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::ESeal => "e-seal",
            DeviceKind::GpsTracker => "gps-tracker",
            DeviceKind::RfidReader => "rfid-reader",
            DeviceKind::GateCamera => "gate-camera",
            DeviceKind::Scanner => "scanner",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Whether a device may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceState {
    Active,
    /// Reported lost or stolen: its messages are refused and counted.
    Lost,
    /// Out of service for good.
    Retired,
}

/// An ISO 18185 seal identification: the manufacturer's id and the tag's serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealId {
    pub manufacturer: String,
    pub serial: String,
}

impl std::fmt::Display for SealId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.manufacturer, self.serial)
    }
}

/// The identifiers a device reports under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifiers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<SealId>,
    /// A cellular modem's IMEI (15 digits, Luhn check digit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    /// An RFID reader's or a camera's own id (e.g. its GLN-based SGLN or a serial number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

/// How a device proves who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Credential {
    /// A client certificate issued by the consortium CA (its SHA-256 fingerprint, hex).
    Certificate { sha256: String },
    /// An Ed25519 public key (hex) that signs the device's messages.
    Ed25519 { public_key: String },
}

/// A device as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Device {
    /// The id the device uses in its messages and its topics.
    pub device_id: String,
    pub kind: DeviceKind,
    /// The member organisation that owns and answers for it.
    pub owner: String,
    #[serde(default)]
    pub identifiers: Identifiers,
    pub credential: Credential,
    /// The longest time between two of its reports, in seconds.
    pub reporting_interval_seconds: u32,
    pub state: DeviceState,
}

/// What is wrong with a device entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device {device}: `{field}` {problem}")]
pub struct BadDevice {
    pub device: String,
    pub field: &'static str,
    pub problem: String,
}

/// Whether a text is usable as an id in topics and URLs: 1 to 64 letters, digits or `-_.:`.
pub fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Whether `imei` is 15 digits whose last is the Luhn check digit of the first 14.
pub fn is_imei(imei: &str) -> bool {
    let b = imei.as_bytes();
    b.len() == 15 && b.iter().all(u8::is_ascii_digit) && luhn_digit(&imei[..14]) == Some(b[14] - b'0')
}

/// The Luhn check digit of a string of decimal digits (the 15th digit of an IMEI over its first
/// 14); `None` when it holds anything but digits.
pub fn luhn_digit(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = u32::from(c - b'0');
        sum += if i % 2 == 1 { (d * 2) / 10 + (d * 2) % 10 } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

impl Device {
    /// Checks the entry: ids, the identifiers its kind needs, the credential, the interval.
    pub fn check(&self) -> Result<(), BadDevice> {
        let bad = |field: &'static str, problem: &str| BadDevice {
            device: self.device_id.clone(),
            field,
            problem: problem.to_owned(),
        };
        if !is_id(&self.device_id) {
            return Err(bad("deviceId", "must be 1 to 64 letters, digits or - _ . :"));
        }
        if !is_id(&self.owner) {
            return Err(bad("owner", "must be a member id"));
        }
        let ids = &self.identifiers;
        if let Some(seal) = &ids.seal {
            let ok = |s: &str| !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric());
            if !ok(&seal.manufacturer) || !ok(&seal.serial) {
                return Err(bad("identifiers.seal", "manufacturer and serial must be 1 to 32 letters or digits"));
            }
        }
        if let Some(imei) = &ids.imei
            && !is_imei(imei)
        {
            return Err(bad("identifiers.imei", "must be 15 digits with a valid Luhn check digit"));
        }
        if let Some(reader) = &ids.reader
            && (reader.is_empty() || reader.len() > 128)
        {
            return Err(bad("identifiers.reader", "must be 1 to 128 characters"));
        }
        match self.kind {
            DeviceKind::ESeal if ids.seal.is_none() => {
                return Err(bad("identifiers.seal", "an e-seal needs its ISO 18185 id (manufacturer and serial)"));
            }
            DeviceKind::GpsTracker if ids.imei.is_none() => {
                return Err(bad("identifiers.imei", "a GPS tracker needs its IMEI"));
            }
            _ => {}
        }
        match &self.credential {
            Credential::Certificate { sha256 } if sha256.len() != 64 || hex::decode(sha256).is_err() => {
                return Err(bad("credential.sha256", "must be a SHA-256 fingerprint in 64 hex digits"));
            }
            Credential::Ed25519 { public_key } if public_key.len() != 64 || hex::decode(public_key).is_err() => {
                return Err(bad("credential.public_key", "must be an Ed25519 public key in 64 hex digits"));
            }
            _ => {}
        }
        if !(1..=7 * 86_400).contains(&self.reporting_interval_seconds) {
            return Err(bad("reportingIntervalSeconds", "must be 1 second to 7 days"));
        }
        Ok(())
    }

    /// The MQTT topic prefix the device publishes under: `tenants/<owner>/devices/<id>/`. An
    /// embedded broker pins each client to its certificate's organisation (`tenants/<O>/`); the
    /// node checks the rest against the registry.
    pub fn topic_prefix(&self) -> String {
        format!("tenants/{}/devices/{}/", self.owner, self.device_id)
    }
}

/// The owner and the device a topic names, when it is of the form
/// `tenants/<owner>/devices/<id>/<rest>`.
pub fn topic_device(topic: &str) -> Option<(&str, &str)> {
    let mut parts = topic.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("tenants"), Some(owner), Some("devices"), Some(id), Some(rest))
            if is_id(owner) && is_id(id) && !rest.is_empty() =>
        {
            Some((owner, id))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn seal() -> Device {
        Device {
            device_id: "ESEAL-0A1B2C3D4E".into(),
            kind: DeviceKind::ESeal,
            owner: "nl-customs".into(),
            identifiers: Identifiers {
                seal: Some(SealId { manufacturer: "0A1B".into(), serial: "2C3D4E".into() }),
                ..Identifiers::default()
            },
            credential: Credential::Ed25519 { public_key: "11".repeat(32) },
            reporting_interval_seconds: 300,
            state: DeviceState::Active,
        }
    }

    #[test]
    fn imeis_carry_a_luhn_check_digit() {
        // The IMEI of the vendor's Codec 8 handshake example.
        assert!(is_imei("356307042441013"));
        assert!(!is_imei("356307042441014"));
        assert!(!is_imei("35630704244101"));
        assert!(!is_imei("35630704244101x"));
        // 490154203237518 is the example IMEI of 3GPP TS 23.003's Luhn annex as widely quoted.
        assert!(is_imei("490154203237518"));
    }

    #[test]
    fn devices_are_checked_by_kind() {
        seal().check().unwrap();
        assert_eq!(seal().identifiers.seal.unwrap().to_string(), "0A1B2C3D4E");
        let no_seal = Device { identifiers: Identifiers::default(), ..seal() };
        assert_eq!(no_seal.check().unwrap_err().field, "identifiers.seal");
        let tracker = Device { kind: DeviceKind::GpsTracker, ..seal() };
        assert_eq!(tracker.check().unwrap_err().field, "identifiers.imei");
        let bad_key = Device { credential: Credential::Ed25519 { public_key: "zz".into() }, ..seal() };
        assert!(bad_key.check().unwrap_err().to_string().contains("credential.public_key"));
        let slash = Device { device_id: "a/b".into(), ..seal() };
        assert_eq!(slash.check().unwrap_err().field, "deviceId");
        let never = Device { reporting_interval_seconds: 0, ..seal() };
        assert_eq!(never.check().unwrap_err().field, "reportingIntervalSeconds");
    }

    #[test]
    fn topics_name_their_owner_and_device() {
        let d = seal();
        let topic = format!("{}events", d.topic_prefix());
        assert_eq!(topic_device(&topic), Some(("nl-customs", "ESEAL-0A1B2C3D4E")));
        assert_eq!(topic_device("tenants/nl-customs/devices/X"), None, "no message kind");
        assert_eq!(topic_device("tenants/nl-customs/devices/+/events"), None);
        assert_eq!(topic_device("eseal/ESEAL-1/events"), None);
    }

    #[test]
    fn entries_read_from_json_refuse_unknown_fields() {
        let json = serde_json::to_string(&seal()).unwrap();
        assert!(json.contains(r#""kind":"e-seal""#), "{json}");
        let back: Device = serde_json::from_str(&json).unwrap();
        assert_eq!(back, seal());
        let typo = json.replace("reportingIntervalSeconds", "reportingInterval");
        assert!(serde_json::from_str::<Device>(&typo).is_err());
    }
}
