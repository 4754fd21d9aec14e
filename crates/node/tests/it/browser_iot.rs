//! The IoT pages in a real browser: a trip with its trace (the seal's state, the route on the
//! map, the timeline, its alert), the alerts queue where the alert is acknowledged with a reason,
//! and the device list — each page checked with axe-core and for overflow.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{TIMEOUT, in_browser};
use crate::ledger::{LedgerNode, start};

async fn post(n: &LedgerNode, path: &str, body: &Value) -> (u16, Value) {
    let r = n.post_signed(0, path, body.to_string().into_bytes()).await;
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A node with a tracker on an open trip, due an hour ago (so the monitor raises
/// `transit-overdue`), and, when the node takes EPCIS events, the trip's sealing and positions.
pub(crate) async fn with_trip() -> LedgerNode {
    let n = start().await;
    let device = json!({
        "deviceId": "TRK-B1", "kind": "gps-tracker", "identifiers": {"imei": "356307042441013"},
        "credential": {"type": "ed25519", "public_key": "33".repeat(32)}, "reportingIntervalSeconds": 300
    });
    let (status, body) = post(&n, "/api/v1/iot/devices", &device).await;
    assert_eq!(status, 201, "{body}");
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let trip = json!({
        "tripId": "T1-B1", "container": "MSKU1234565", "devices": ["TRK-B1"],
        "deadlineMs": now_ms - 3_600_000,
        "rules": {
            "name": "T1 Felixstowe → Rotterdam",
            "authorised_places": [{"name": "Rotterdam Maasvlakte", "locode": "NLRTM",
                "area": {"shape": "circle", "centre": {"lat": 51.95, "lon": 4.05}, "radius_m": 3000.0}}],
            "corridor": {"route": [{"lat": 51.95, "lon": 1.30}, {"lat": 51.95, "lon": 4.05}], "buffer_m": 20000.0},
            "max_stop_minutes": 30
        }
    });
    let (status, body) = post(&n, "/api/v1/iot/trips", &trip).await;
    assert_eq!(status, 201, "{body}");
    for _ in 0..100 {
        let (_, alerts) = n.get_signed(0, "/api/v1/iot/alerts?state=open").await;
        if alerts.as_array().is_some_and(|a| !a.is_empty()) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no alert was raised");
}

async fn drive(b: &Client, base: &str, token: &str) -> Result<Vec<String>, fantoccini::error::CmdError> {
    b.set_window_size(1280, 900).await?;
    b.goto(&format!("{base}/login?token={token}")).await?;
    let mut problems = Vec::new();

    // The trips: one open, with one open alert; its trace.
    b.goto(&format!("{base}/iot")).await?;
    let row = b.wait().at_most(TIMEOUT).for_element(Locator::Css("#trips tr[data-trip='T1-B1']")).await?;
    let text = row.text().await?;
    assert!(text.contains("MSKU1234565") && text.contains("TRK-B1"), "{text}");
    problems.extend(crate::accessibility::check(b, "/iot").await?);
    row.find(Locator::Css("a[href='/iot/trips/T1-B1']")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("trip-facts")).await?;
    let seal = b.find(Locator::Id("trip-seal")).await?.attr("data-seal").await?.unwrap_or_default();
    assert!(!seal.is_empty(), "the seal's state is said");
    // The map draws the authorised place and the corridor even before any position.
    b.find(Locator::Css("#trace-map .map-place")).await?;
    b.find(Locator::Css("#trace-map .map-corridor")).await?;
    let alert = b.find(Locator::Css("#trace-alerts tr[data-rule='transit-overdue']")).await?.text().await?;
    assert!(alert.contains("time limit"), "{alert}");
    problems.extend(crate::accessibility::check(b, "/iot/trips/{id}").await?);

    // The alerts queue: acknowledge with a reason.
    b.goto(&format!("{base}/iot/alerts")).await?;
    let open = b.wait().at_most(TIMEOUT).for_element(Locator::Css("#alerts tr[data-open='true']")).await?;
    problems.extend(crate::accessibility::check(b, "/iot/alerts").await?);
    open.find(Locator::Css("details summary")).await?.click().await?;
    open.find(Locator::Css("textarea[name=reason]"))
        .await?
        .send_keys("ferry delayed by weather; driver called")
        .await?;
    open.find(Locator::Css("button[type=submit]")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("alert-acknowledged")).await?;
    b.find(Locator::Id("alerts-empty")).await?;
    b.goto(&format!("{base}/iot/alerts?state=acknowledged")).await?;
    let done =
        b.wait().at_most(TIMEOUT).for_element(Locator::Css("#alerts tr[data-open='false']")).await?.text().await?;
    assert!(done.contains("ferry delayed by weather"), "{done}");

    // The devices.
    b.goto(&format!("{base}/iot/devices?kind=gps-tracker")).await?;
    let device = b.wait().at_most(TIMEOUT).for_element(Locator::Css("#devices tr[data-device='TRK-B1']")).await?;
    assert!(device.text().await?.contains("300 s"));
    problems.extend(crate::accessibility::check(b, "/iot/devices").await?);
    Ok(problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_and_the_alerts_queue_work_in_the_browser() {
    let n = with_trip().await;
    let (base, token) = (n.base.clone(), n.token.clone());
    let problems = in_browser(|b| async move { drive(&b, &base, &token).await }).await;
    assert!(problems.is_empty(), "{} accessibility or overflow problems:\n  {}", problems.len(), problems.join("\n  "));
    // The acknowledgement is on the ledger.
    let (_, done) = n.get_signed(0, "/api/v1/iot/alerts?state=acknowledged").await;
    assert_eq!(done[0]["acknowledged"]["reason"], "ferry delayed by weather; driver called", "{done}");
}
