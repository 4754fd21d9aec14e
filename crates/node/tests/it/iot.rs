//! The IoT device registry over HTTP: devices recorded on the ledger by their owner's node,
//! read by the customs administrations, refused with the field at fault.

use serde_json::{Value, json};

use crate::ledger::start;

fn seal(id: &str) -> Value {
    json!({
        "deviceId": id,
        "kind": "e-seal",
        "identifiers": {"seal": {"manufacturer": "0A1B", "serial": "2C3D4E"}},
        "credential": {"type": "ed25519", "public_key": "11".repeat(32)},
        "reportingIntervalSeconds": 300
    })
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn devices_are_registered_on_the_ledger_and_their_state_changes_as_new_versions() {
    let n = start().await;
    let (status, body) =
        json_of(n.post_signed(0, "/api/v1/iot/devices", seal("ESEAL-1").to_string().into_bytes()).await).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["device"]["owner"], n.member(), "the owner is the node's member");
    assert_eq!(body["device"]["state"], "active");
    assert_eq!(body["version"], 1);
    let record_id = body["recordId"].as_str().unwrap().to_owned();
    assert!(record_id.starts_with("document:") && record_id.ends_with(":device-ESEAL-1"), "{record_id}");

    // The registry entry is a ledger record like any other: its history is there.
    let (status, record) = n.get_signed(0, &format!("/api/v1/records/{record_id}")).await;
    assert_eq!(status, 200, "{record}");

    // Another customs administration reads the registry; a trader does not.
    let (status, list) = n.get_signed(1, "/api/v1/iot/devices?kind=e-seal&state=active").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["device"]["deviceId"], "ESEAL-1");
    let (status, refused) = n.get_signed(2, "/api/v1/iot/devices").await;
    assert_eq!(status, 403, "{refused}");

    // Lost: a new version.
    let r = n.post_signed(0, "/api/v1/iot/devices/ESEAL-1/state", br#"{"state":"lost"}"#.to_vec()).await;
    let (status, body) = json_of(r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["device"]["state"].as_str(), body["version"].as_u64()), (Some("lost"), Some(2)));
    let (_, one) = n.get_signed(1, "/api/v1/iot/devices/ESEAL-1").await;
    assert_eq!(one["device"]["state"], "lost");
    let (_, active) = n.get_signed(1, "/api/v1/iot/devices?state=active").await;
    assert_eq!(active, json!([]));
}

#[tokio::test]
async fn bad_entries_and_other_members_are_refused_with_their_reason() {
    let n = start().await;
    let post = |signer: usize, body: Value| n.post_signed(signer, "/api/v1/iot/devices", body.to_string().into_bytes());
    let mut no_seal = seal("ESEAL-2");
    no_seal["identifiers"] = json!({});
    let (status, body) = json_of(post(0, no_seal).await).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_device")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("identifiers.seal"), "{body}");

    let mut tracker = seal("TRK-1");
    tracker["kind"] = "gps-tracker".into();
    tracker["identifiers"] = json!({"imei": "356307042441014"});
    let (status, body) = json_of(post(0, tracker).await).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("Luhn"), "{body}");

    let mut typo = seal("ESEAL-3");
    typo["reportingInterval"] = 5.into();
    let (status, body) = json_of(post(0, typo).await).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "{body}");

    let mut foreign = seal("ESEAL-4");
    foreign["owner"] = "someone-else".into();
    let (status, body) = json_of(post(0, foreign).await).await;
    assert_eq!(status, 422, "{body}");

    assert_eq!(post(0, seal("ESEAL-5")).await.status(), 201);
    let (status, body) = json_of(post(0, seal("ESEAL-5")).await).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("device_exists")), "{body}");

    // Another member registers at its own node, not at this one; nobody unauthenticated.
    let (status, body) = json_of(post(1, seal("ESEAL-6")).await).await;
    assert_eq!(status, 403, "{body}");
    let r = crate::test_node::client()
        .post(format!("{}/api/v1/iot/devices", n.base))
        .json(&seal("ESEAL-7"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = n.post_signed(0, "/api/v1/iot/devices/NOPE/state", br#"{"state":"lost"}"#.to_vec()).await;
    assert_eq!(json_of(r).await.1["code"], "device_not_found");
    let r = n.post_signed(0, "/api/v1/iot/devices/ESEAL-5/state", br#"{"state":"misplaced"}"#.to_vec()).await;
    assert_eq!(json_of(r).await.0, 400);
    let (status, body) = n.get_signed(1, "/api/v1/iot/devices?kind=toaster").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_query")), "{body}");
}
