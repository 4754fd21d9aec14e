//! Anchoring over HTTP: events captured through the EPCIS interface are anchored on the ledger
//! as a Merkle root of their hash IDs; each one's proof verifies offline against the genesis, and
//! an altered event, path or anchor does not.

use borderlink_iot::anchor::{EventProof, EventProofError};
use serde_json::{Value, json};

use crate::ledger::start_configured;
use crate::test_node::client;

fn event(i: u32) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "ObjectEvent",
        "eventTime": format!("2026-03-02T09:{:02}:00.000Z", i % 60),
        "eventTimeZoneOffset": "+00:00",
        "epcList": [format!("https://borderlink.dev/id/iso6346/MSKU1234565")],
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "readPoint": {"id": format!("geo:51.9{i},4.1")},
    })
}

#[tokio::test]
async fn stored_events_are_anchored_and_each_proof_verifies_offline() {
    // Anchored on request only (the timer would cut the batch at an arbitrary place).
    let n = start_configured(|c| c.iot.anchor_seconds = Some(3_600)).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = event(i).to_string().into_bytes();
        let auth = n.auth(0, "POST", "/epcis/events", &body);
        let r = client()
            .post(format!("{}/epcis/events", n.base))
            .header("authorization", auth)
            .header("content-type", "application/ld+json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        ids.push(location.rsplit('/').next().unwrap().to_owned());
    }
    // Not anchored yet, then anchored on request.
    let (status, body) = n.get_signed(0, &format!("/api/v1/iot/proofs/{}", ids[0])).await;
    assert!(status == 409 || status == 200, "{status} {body}");
    let r = n.post_signed(0, "/api/v1/iot/anchor", Vec::new()).await;
    assert_eq!(r.status(), 200);
    let anchored: Value = r.json().await.unwrap();
    assert!(anchored["count"].as_u64().unwrap() >= 1, "{anchored}");

    let genesis = borderlink_ledger::genesis::Genesis::load(&n._dir.path().join("net/genesis.json")).unwrap();
    let mut proofs = Vec::new();
    for id in &ids {
        let mut got = None;
        for _ in 0..50 {
            let (status, body) = n.get_signed(0, &format!("/api/v1/iot/proofs/{id}")).await;
            if status == 200 {
                got = Some(body);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let proof: EventProof = serde_json::from_value(got.expect("a proof")).unwrap();
        let v = proof.verify(&genesis).expect("verifies offline");
        assert_eq!(&v.hash_id, &proof.hash_id);
        assert!(v.anchor_record.contains(":iot-anchor-"), "{}", v.anchor_record);
        proofs.push(proof);
    }
    // The batch is one anchor: five leaves.
    assert!(proofs.iter().all(|p| p.anchor == proofs[0].anchor) && proofs[0].anchor.count == 5);

    // Tampering is caught: the event, the path, the anchor.
    let mut altered = proofs[1].clone();
    altered.event["readPoint"]["id"] = "geo:40.0,2.0".into();
    assert!(matches!(altered.verify(&genesis), Err(EventProofError::AlteredEvent { .. })));
    let mut swapped = proofs[1].clone();
    swapped.index = 0;
    assert!(matches!(swapped.verify(&genesis), Err(EventProofError::WrongPath(_))));
    let mut forged = proofs[1].clone();
    forged.anchor.count = 6;
    assert!(forged.verify(&genesis).is_err());

    // Nothing new: no anchor; an unknown event: 404.
    let r = n.post_signed(0, "/api/v1/iot/anchor", Vec::new()).await;
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["count"], 0, "{again}");
}
