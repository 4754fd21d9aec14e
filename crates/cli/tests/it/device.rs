//! The IoT device registry from the command line: the node's member registers an e-seal and a
//! tracker, another administration lists them, the owner marks one lost and retires it.

use crate::net::DemoNode;
use crate::{TempDir, borderlink, s, stderr, stdout};

#[test]
fn devices_are_registered_listed_and_retired_from_the_command_line() {
    let dir = TempDir::new("device");
    let node = DemoNode::start(&dir.0.join("data"));
    let (gb, nl) = (node.key("gb-customs"), node.key("nl-customs"));
    let key = "ab".repeat(32);
    let o = borderlink(&[
        "device",
        "register",
        "--node",
        &node.url,
        "--key",
        s(&gb),
        "--id",
        "ESEAL-0A1B2C3D4E",
        "--kind",
        "e-seal",
        "--seal-manufacturer",
        "0A1B",
        "--seal-serial",
        "2C3D4E",
        "--ed25519-key",
        &key,
        "--interval",
        "600",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let entry: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(entry["device"]["identifiers"]["seal"]["serial"], "2C3D4E");
    assert_eq!(entry["version"], 1);

    // From a file: a tracker, its IMEI checked.
    let file = dir.0.join("tracker.json");
    let tracker = serde_json::json!({"deviceId": "TRK-356307042441013", "kind": "gps-tracker",
        "identifiers": {"imei": "356307042441013"}, "credential": {"type": "ed25519", "public_key": key},
        "reportingIntervalSeconds": 120});
    std::fs::write(&file, tracker.to_string()).expect("write");
    let o = borderlink(&["device", "register", "--node", &node.url, "--key", s(&gb), "--file", s(&file)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let o = borderlink(&["device", "list", "--node", &node.url, "--key", s(&nl)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.starts_with("DEVICE"), "{table}");
    assert!(table.contains("ESEAL-0A1B2C3D4E") && table.contains("gps-tracker") && table.contains("600 s"), "{table}");

    let o = borderlink(&["device", "lost", "ESEAL-0A1B2C3D4E", "--node", &node.url, "--key", s(&gb)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("is lost") && stdout(&o).contains("version 2"), "{}", stdout(&o));
    let o = borderlink(&["device", "retire", "ESEAL-0A1B2C3D4E", "--node", &node.url, "--key", s(&gb)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = borderlink(&["device", "list", "--state", "retired", "--json", "--node", &node.url, "--key", s(&nl)]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["version"], 3);

    // Refusals name their reason: another member's device, a bad IMEI, no credential.
    let o = borderlink(&["device", "retire", "TRK-356307042441013", "--node", &node.url, "--key", s(&nl)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error [forbidden]"), "{}", stderr(&o));
    let o = borderlink(&[
        "device",
        "register",
        "--node",
        &node.url,
        "--key",
        s(&gb),
        "--id",
        "TRK-2",
        "--kind",
        "gps-tracker",
        "--imei",
        "356307042441014",
        "--ed25519-key",
        &key,
    ]);
    assert!(stderr(&o).contains("error [invalid_device]") && stderr(&o).contains("Luhn"), "{}", stderr(&o));
    let o = borderlink(&["device", "register", "--node", &node.url, "--key", s(&gb), "--id", "X", "--kind", "scanner"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("credential"), "{}", stderr(&o));
}
