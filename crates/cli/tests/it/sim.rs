//! The trip simulator from the command line, and in the demo: simulated e-seals and trackers are
//! registered, their trips opened, their messages admitted; the trip whose seal is tampered with
//! raises its alert on the ledger; the demo's console shows live traces.

use std::time::Duration;

use borderlink_ledger::identity::MemberKeys;
use serde_json::Value;

use crate::net::{DemoNode, http, poll, signed_get};
use crate::{TempDir, borderlink, s, stderr};

#[test]
fn sim_trips_feed_a_node_and_the_tampered_seal_raises_its_alert() {
    let dir = TempDir::new("sim");
    let node = DemoNode::start(&dir.0.join("data"));
    let gb = node.key("gb-customs");
    // Three trips ten hours ago: the third (index 2) has its seal tampered with halfway.
    let o = borderlink(&[
        "sim",
        "trips",
        "--node",
        &node.url,
        "--key",
        s(&gb),
        "--trips",
        "3",
        "--backfill-minutes",
        "600",
        "--seed",
        "7",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).expect("a JSON summary");
    let sent = summary["sent"].as_u64().unwrap();
    assert!(sent > 50, "{summary}");
    assert_eq!(summary["accepted"].as_u64(), Some(sent), "every message admitted: {summary}");
    assert_eq!(summary["trips"][2]["incident"], "tamper", "{summary}");
    let tampered = summary["trips"][2]["tripId"].as_str().unwrap().to_owned();

    let keys = MemberKeys::load(&gb).expect("key");
    let client = http(Duration::from_secs(10));
    let (status, trips) = signed_get(&client, &node.url, &keys, "/api/v1/iot/trips").expect("the node answers");
    assert_eq!(status, 200, "{trips}");
    assert_eq!(trips.as_array().unwrap().len(), 3, "{trips}");
    // The tampering outside any authorised place is an alert of that trip, and of no other.
    let mut alerts = Value::Null;
    let raised = poll(Duration::from_secs(30), || {
        alerts = signed_get(&client, &node.url, &keys, "/api/v1/iot/alerts?rule=seal-opened")
            .map(|r| r.1)
            .unwrap_or_default();
        alerts.as_array().is_some_and(|a| !a.is_empty())
    });
    assert!(raised, "no seal alert: {alerts}");
    let trips_alerted: Vec<&str> =
        alerts.as_array().unwrap().iter().filter_map(|a| a["alert"]["tripId"].as_str()).collect();
    assert_eq!(trips_alerted, [tampered.as_str()], "{alerts}");
    // Its trace holds the tracker's positions (Codec 8 over HTTP) and the seal's reports.
    let (status, trace) = signed_get(&client, &node.url, &keys, &format!("/api/v1/iot/trips/{tampered}/trace"))
        .expect("the node answers");
    assert_eq!(status, 200, "{trace}");
    assert!(trace["trace"]["positions"].as_array().unwrap().len() > 10, "positions: {}", trace["trace"]["positions"]);
    assert_eq!(trace["trace"]["intactSinceSealing"], false, "tampered: {}", trace["trace"]["seal"]);
}

#[test]
fn the_demo_runs_the_simulator_so_the_console_shows_live_traces() {
    let dir = TempDir::new("demo-sim");
    let data = dir.0.join("data");
    let log = std::fs::File::create(data.with_extension("log")).expect("log file");
    std::fs::create_dir_all(&data).expect("data");
    let mut p = crate::net::Process::spawn("the demo", &["demo", "--port", "0", "--data", s(&data)], |c| {
        c.env("BORDERLINK_LOG", "warn,openraft=error").stdout(std::process::Stdio::piped()).stderr(log)
    });
    let lines = p.lines();
    let banner = lines.until(Duration::from_secs(120), |l| l.starts_with("simulator: ")).expect("the simulator line");
    let url =
        banner.iter().find_map(|l| l.strip_prefix("Borderlink console: ")).expect("console line").trim().to_owned();
    let orgs = data.join("consortium/orgs");
    let gb = std::fs::read_dir(&orgs)
        .expect("orgs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("gb-customs")))
        .expect("GB customs")
        .join("member.key");
    let keys = MemberKeys::load(&gb).expect("key");
    let client = http(Duration::from_secs(10));
    let mut trips = Value::Null;
    let fed = poll(Duration::from_secs(120), || {
        trips = signed_get(&client, &url, &keys, "/api/v1/iot/trips").map(|r| r.1).unwrap_or_default();
        let (_, events) = signed_get(&client, &url, &keys, "/epcis/events?perPage=1").unwrap_or_default();
        trips.as_array().is_some_and(|t| t.len() == 8)
            && events["epcisBody"]["queryResults"]["resultsBody"]["eventList"].as_array().is_some_and(|e| !e.is_empty())
    });
    assert!(fed, "the simulator opened no trips or stored no events: {trips}");
    // Trackers reported over Codec 8: positions on the first trip's trace.
    let first = trips[0]["trip"]["tripId"].as_str().unwrap().to_owned();
    let positions = poll(Duration::from_secs(60), || {
        signed_get(&client, &url, &keys, &format!("/api/v1/iot/trips/{first}/trace"))
            .is_some_and(|(_, t)| t["trace"]["positions"].as_array().is_some_and(|p| p.len() > 3))
    });
    assert!(positions, "no positions on the trace of {first}");
    assert_eq!(p.stop("-INT").code(), Some(0));
}
