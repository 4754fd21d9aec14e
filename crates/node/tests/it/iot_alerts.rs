//! Trips and their alerts over HTTP: a trip opened by a customs administration and sealed for the
//! administrations concerned; the rules of its procedure watched by the node (here the time
//! limit of the transit, noticed by the passing of time); the alert committed to the ledger as a
//! private record, listed, acknowledged with a reason, never raised twice while open.

use std::time::Duration;

use serde_json::{Value, json};

use crate::ledger::{LedgerNode, start};

fn tracker(id: &str) -> Value {
    json!({
        "deviceId": id,
        "kind": "gps-tracker",
        "identifiers": {"imei": "356307042441013"},
        "credential": {"type": "ed25519", "public_key": "22".repeat(32)},
        "reportingIntervalSeconds": 60
    })
}

fn trip(id: &str, device: &str, administrations: &[&str]) -> Value {
    json!({
        "tripId": id,
        "container": "MSKU1234565",
        "devices": [device],
        "rules": {"name": "T1 Felixstowe → Rotterdam"},
        "administrations": administrations,
    })
}

async fn post(n: &LedgerNode, signer: usize, path: &str, body: &Value) -> (u16, Value) {
    let r = n.post_signed(signer, path, body.to_string().into_bytes()).await;
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Polls the open alerts until one of `trip` shows (at most 20 s).
async fn open_alert_of(n: &LedgerNode, trip: &str) -> Value {
    for _ in 0..100 {
        let (status, alerts) = n.get_signed(0, &format!("/api/v1/iot/alerts?state=open&trip={trip}")).await;
        assert_eq!(status, 200, "{alerts}");
        if let Some(a) = alerts.as_array().and_then(|a| a.first()) {
            return a.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no alert was raised for trip {trip}");
}

#[tokio::test]
async fn an_overdue_transit_raises_one_private_alert_that_an_officer_acknowledges() {
    let n = start().await;
    let nl = n.keys[1].member.clone();
    let (status, body) = post(&n, 0, "/api/v1/iot/devices", &tracker("TRK-7")).await;
    assert_eq!(status, 201, "{body}");

    // Due an hour ago: the monitor notices at its next tick.
    let mut t = trip("T1-0001", "TRK-7", &[&nl]);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    t["deadlineMs"] = (now_ms - 3_600_000).into();
    let (status, opened) = post(&n, 0, "/api/v1/iot/trips", &t).await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(opened["trip"]["owner"], n.member());
    assert_eq!(opened["trip"]["state"], "open");

    let alert = open_alert_of(&n, "T1-0001").await;
    assert_eq!(alert["alert"]["rule"], "transit-overdue", "{alert}");
    assert_eq!(alert["alert"]["container"], "MSKU1234565");
    assert!(alert["alert"]["detail"].as_str().unwrap().contains("time limit"), "{alert}");
    let record_id = alert["recordId"].as_str().unwrap().to_owned();
    assert!(record_id.contains(":iot-alert-"), "{record_id}");

    // On the ledger as a private record, sealed for this administration and NL's.
    let (status, record) = n.get_signed(0, &format!("/api/v1/records/{record_id}/history")).await;
    assert_eq!(status, 200, "{record}");
    let text = record.to_string();
    assert!(text.contains("\"private\"") || text.contains("Private"), "a private record: {record}");
    assert!(text.contains(&nl), "sealed for NL customs too: {record}");

    // Raised once while open, however often the monitor ticks.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (_, all) = n.get_signed(0, "/api/v1/iot/alerts?trip=T1-0001").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");

    // A trader reads no alert; a bad filter says which values exist.
    let (status, _) = n.get_signed(2, "/api/v1/iot/alerts").await;
    assert_eq!(status, 403);
    let (status, bad) = n.get_signed(0, "/api/v1/iot/alerts?rule=smoke").await;
    assert_eq!((status, bad["code"].as_str()), (400, Some("invalid_query")), "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("transit-overdue"), "{bad}");

    // Acknowledged with a reason, once.
    let id = alert["alert"]["alertId"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/iot/alerts/{id}/acknowledge");
    let (status, refused) = post(&n, 0, &path, &json!({"reason": "  "})).await;
    assert_eq!((status, refused["code"].as_str()), (400, Some("bad_request")), "{refused}");
    let (status, acked) = post(&n, 0, &path, &json!({"reason": "delayed by the ferry; driver called"})).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["acknowledged"]["reason"], "delayed by the ferry; driver called");
    assert_eq!(acked["acknowledged"]["organisation"], n.member());
    let (status, again) = post(&n, 0, &path, &json!({"reason": "again"})).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("alert_acknowledged")), "{again}");
    let (_, open) = n.get_signed(0, "/api/v1/iot/alerts?state=open").await;
    assert_eq!(open, json!([]));
    let (_, done) = n.get_signed(0, "/api/v1/iot/alerts?state=acknowledged").await;
    assert_eq!(done.as_array().unwrap().len(), 1, "{done}");
    let (status, missing) = post(&n, 0, "/api/v1/iot/alerts/0000/acknowledge", &json!({"reason": "x"})).await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("alert_not_found")), "{missing}");

    // Closing the trip stops its watch.
    let (status, closed) = post(&n, 0, "/api/v1/iot/trips/T1-0001/close", &json!({})).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["trip"]["state"], "closed");
    assert_eq!(closed["version"], 2);
}

#[tokio::test]
async fn bad_trips_are_refused_with_the_field_at_fault() {
    let n = start().await;
    let (status, body) = post(&n, 0, "/api/v1/iot/devices", &tracker("TRK-8")).await;
    assert_eq!(status, 201, "{body}");

    let mut bad_container = trip("T-2", "TRK-8", &[]);
    bad_container["container"] = "MSKU1234566".into();
    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &bad_container).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_trip")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("check digit should be 5"), "{body}");

    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &trip("T-3", "NO-SUCH", &[])).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_trip")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("NO-SUCH"), "{body}");

    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &trip("T-4", "TRK-8", &["nobody"])).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_trip")), "{body}");

    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &trip("T-5", "TRK-8", &[])).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &trip("T-5", "TRK-8", &[])).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("trip_conflict")), "{body}");
    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &trip("T-6", "TRK-8", &[])).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("trip_conflict")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("T-5"), "names the other trip: {body}");

    let mut typo = trip("T-7", "TRK-8", &[]);
    typo["deadline"] = 1.into();
    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &typo).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "{body}");

    // Another administration reads the trip list (clear to it only when sealed for it); a trader
    // opens none.
    let (status, body) = post(&n, 2, "/api/v1/iot/trips", &trip("T-8", "TRK-8", &[])).await;
    assert_eq!(status, 403, "{body}");
    let (status, list) = n.get_signed(0, "/api/v1/iot/trips").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (status, body) = n.get_signed(0, "/api/v1/iot/trips/T-404").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("trip_not_found")), "{body}");
    let (status, body) = n.get_signed(0, "/api/v1/iot/proofs/ni:no-such-event").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("event_not_found")), "{body}");
}

#[tokio::test]
async fn an_alert_reaches_the_risk_engine_as_a_signal_a_criterion_tests() {
    let n = start().await;
    let criteria = r#"{"criteria": [{"id": "SEAL", "name": "Transit alert", "lane": "RED",
      "condition": {"kind": "signal", "signals": ["iot:transit-overdue", "iot:seal-opened"]}}]}"#;
    let r = crate::test_node::client()
        .put(format!("{}/api/v1/risk/criteria", n.base))
        .header("cookie", n.cookie())
        .body(criteria);
    assert_eq!(r.send().await.unwrap().status(), 200);
    let declaration = crate::samples::declaration();
    let lrn = declaration["Declaration"]["FunctionalReferenceID"].as_str().unwrap().to_owned();
    let bytes = serde_json::to_vec(&declaration).unwrap();
    let record_id = n.id_of(2, &bytes);
    let (status, reply) = n.post(&n.put_bytes(2, bytes, &record_id, 1, 1)).await;
    assert_eq!(status, 201, "{reply}");
    let queue = n.queue_of(1).await;
    assert_eq!((&queue[0]["declarationId"], &queue[0]["lane"]), (&json!(lrn), &json!("GREEN")), "{queue:?}");

    let (status, body) = post(&n, 0, "/api/v1/iot/devices", &tracker("TRK-9")).await;
    assert_eq!(status, 201, "{body}");
    let mut t = trip("T1-0009", "TRK-9", &[]);
    t["declaration"] = record_id.clone().into();
    t["deadlineMs"] = 1_000.into();
    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &t).await;
    assert_eq!(status, 201, "{body}");
    let alert = open_alert_of(&n, "T1-0009").await;
    assert_eq!(alert["alert"]["declaration"], json!(record_id));

    // The declaration goes red, with the criterion's reason naming the signal.
    let mut lane = Value::Null;
    for _ in 0..100 {
        let q = n.queue_of(1).await;
        lane = q[0]["lane"].clone();
        if lane == "RED" {
            let text = q[0].to_string();
            assert!(text.contains("iot:transit-overdue"), "{text}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the lane stayed {lane}");
}

#[tokio::test]
async fn the_gate_holds_with_every_reason_and_trusts_only_the_trips_devices() {
    let n = start().await;
    let (status, body) = post(&n, 0, "/api/v1/iot/gate", &json!({})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "{body}");
    let (status, body) = post(&n, 0, "/api/v1/iot/gate", &json!({"container": "MSKU1234565"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "hold");
    assert!(body["reasons"][0].as_str().unwrap().contains("no open trip"), "{body}");

    // A green declaration and a trip, but no sealing reported by the trip's e-seal.
    let declaration = crate::samples::declaration();
    let bytes = serde_json::to_vec(&declaration).unwrap();
    let record_id = n.id_of(2, &bytes);
    let (status, reply) = n.post(&n.put_bytes(2, bytes, &record_id, 1, 1)).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(n.queue_of(1).await[0]["lane"], "GREEN");
    let (status, body) = post(&n, 0, "/api/v1/iot/devices", &tracker("TRK-G")).await;
    assert_eq!(status, 201, "{body}");
    let mut t = trip("T-GATE", "TRK-G", &[]);
    t["declaration"] = record_id.into();
    let (status, body) = post(&n, 0, "/api/v1/iot/trips", &t).await;
    assert_eq!(status, 201, "{body}");

    // Someone captures a "sealed" event naming the container through EPCIS: not the trip's device.
    let sealed = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "AssociationEvent", "eventTime": "2026-03-02T09:00:00.000Z", "eventTimeZoneOffset": "+00:00",
        "parentID": "https://borderlink.dev/id/iso6346/MSKU1234565",
        "childEPCs": ["https://borderlink.dev/id/iso18185/0A1B/2C3D4E"],
        "action": "ADD", "bizStep": "installing", "disposition": "container_closed"
    });
    let body = sealed.to_string().into_bytes();
    let auth = n.auth(2, "POST", "/epcis/events", &body);
    let r = crate::test_node::client()
        .post(format!("{}/epcis/events", n.base))
        .header("authorization", auth)
        .header("content-type", "application/ld+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let (status, body) =
        post(&n, 0, "/api/v1/iot/gate", &json!({"container": "MSKU1234565", "gate": "NLRTM-G3"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["decision"].as_str(), body["trip"].as_str(), body["lane"].as_str()),
        (Some("hold"), Some("T-GATE"), Some("GREEN")),
        "{body}"
    );
    let checks: Vec<(String, bool)> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap().to_owned(), c["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        checks,
        [("trip".into(), true), ("lane".into(), true), ("seal".into(), false), ("alerts".into(), true)],
        "{body}"
    );
    assert!(body["reasons"][0].as_str().unwrap().contains("no sealing is reported by the trip's devices"), "{body}");
    // The trace shows the captured event all the same.
    let (status, trace) = n.get_signed(0, "/api/v1/iot/trips/T-GATE/trace").await;
    assert_eq!(status, 200, "{trace}");
    assert_eq!(trace["trace"]["events"].as_array().unwrap().len(), 1, "{trace}");
}
