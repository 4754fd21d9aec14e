//! Risk management over the real HTTP API and in a real browser: a model and criteria
//! activated through the API, declarations scored (lane, score, model version, reasons), the
//! risk queue page, an override refused without a reason and recorded with one, the criteria
//! page.

use borderlink_risk::features::{Example, replay_features};
use borderlink_risk::history::Outcome;
use borderlink_risk::model::{self, TrainParams};
use borderlink_risk::{History, Item, Replay};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{TIMEOUT, in_browser};
use crate::ledger::{LedgerNode, start};
use crate::samples;
use crate::test_node::client;

/// A small model where goods departing from a country other than their origin are the frauds.
fn model_bytes() -> Vec<u8> {
    let mut x: u64 = 7;
    let mut next = move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as u32
    };
    let data: Vec<Example> = (0..1500)
        .map(|i| {
            let origin = ["CN", "VN", "TR"][(next() % 3) as usize];
            let routed = next() % 10 < 3;
            let fraud = if routed { next() % 10 < 9 } else { next() % 20 == 0 };
            let item = Item {
                declaration_id: format!("T{i}"),
                sequence: 1,
                day: Some(18_000 + i / 10),
                office: Some("GB000040".into()),
                importer: Some(format!("I{}", next() % 200)),
                declarant: Some(format!("D{}", next() % 30)),
                hs: Some("84713000".into()),
                origin: Some(origin.into()),
                departure: Some(if routed { "AE".into() } else { origin.into() }),
                value: Some(f64::from(1000 + next() % 90_000)),
                net_mass_kg: Some(f64::from(10 + next() % 900)),
                tax_rate: Some(0.0),
                ..Item::default()
            };
            Example { item, outcome: Some(Outcome { fraud, critical: false, revenue: 0.0 }) }
        })
        .collect();
    let mut replay = Replay::new(History::new(), 7);
    let x = replay_features(&data, &mut replay);
    let o: Vec<Outcome> = data.iter().filter_map(|e| e.outcome).collect();
    let params = TrainParams { max_depth: 4, rounds: 40, eta: 0.2, bag: 2, ..TrainParams::default() };
    let m = model::train("browser", &x, &o, &[], &params, None, |_, _| {}).expect("a model");
    let mut bytes = Vec::new();
    m.write(&mut bytes).expect("model bytes");
    bytes
}

const CRITERIA: &str = r#"{
  "criteria": [
    {"id": "TRANSHIP", "name": "Transhipment of electronics", "lane": "YELLOW",
     "condition": {"kind": "all", "conditions": [{"kind": "route_differs"}, {"kind": "hs_prefix", "prefixes": ["8471"]}]},
     "validFrom": "2020-01-01", "instructions": "Ask for the through bill of lading"},
    {"id": "OLD", "name": "Expired watch", "lane": "RED", "condition": {"kind": "route_differs"},
     "validUntil": "2020-12-31"}
  ],
  "lists": {"watch": {"entries": ["GB000000000000"], "description": "importers under watch"}},
  "valueBands": [{"hs": "847130", "origin": "CN", "min": 20.0}]
}"#;

/// The sample declaration with another reference and, for some, goods routed through AE.
fn declaration(i: usize, routed: bool) -> Value {
    let mut d = samples::declaration();
    d["Declaration"]["FunctionalReferenceID"] = json!(format!("LRN-RISK-{i:03}"));
    if routed {
        d["Declaration"]["GoodsShipment"]["ExportCountry"]["ID"] = json!("AE");
    }
    d
}

/// Activates the model and the criteria in the console session, asks for what-if scores of 12
/// declarations, then has the trader commit them and waits until the node has assessed them.
/// Returns the what-if assessments.
pub(crate) async fn setup(n: &LedgerNode) -> Vec<Value> {
    let http = client();
    let r = http.put(format!("{}/api/v1/risk/model", n.base)).header("cookie", n.cookie()).body(model_bytes());
    let r = r.send().await.expect("PUT model");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let r = http.put(format!("{}/api/v1/risk/criteria", n.base)).header("cookie", n.cookie()).body(CRITERIA);
    let r = r.send().await.expect("PUT criteria");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let batch: Vec<Value> = (0..12).map(|i| declaration(i, i % 3 == 0)).collect();
    let r = http
        .post(format!("{}/api/v1/risk/score", n.base))
        .header("cookie", n.cookie())
        .json(&json!({ "declarations": batch }))
        .send()
        .await
        .expect("score");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("JSON");
    assert!(n.queue_of(0).await.is_empty(), "what-if scores never enter the queue");
    for (i, d) in batch.iter().enumerate() {
        let bytes = serde_json::to_vec(d).expect("JSON");
        let tx = n.put_bytes(2, bytes.clone(), &n.id_of(2, &bytes), 1, i as u64 + 1);
        let (status, reply) = n.post(&tx).await;
        assert_eq!(status, 201, "{reply}");
    }
    n.queue_of(12).await;
    body["assessments"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn declarations_are_scored_with_lane_model_version_and_reasons() {
    let node = start().await;
    let assessments = setup(&node).await;
    assert_eq!(assessments.len(), 12);
    for a in &assessments {
        assert!(a["modelVersion"].as_str().is_some_and(|v| v.starts_with("browser@")), "{a}");
        assert!(["RED", "YELLOW", "BLUE", "GREEN"].contains(&a["lane"].as_str().unwrap_or_default()), "{a}");
        assert!(a["score"].as_f64().is_some_and(|s| (0.0..=1.0).contains(&s)));
        assert!(!a["reasons"].as_array().unwrap().is_empty(), "{a}");
    }
    let routed = &assessments[0];
    assert_eq!(routed["reasons"][0]["feature"], "route_differs", "{routed}");
    assert!(routed["criteria"].as_array().unwrap().iter().any(|c| c["id"] == "TRANSHIP"), "{routed}");
    // The expired criterion never fires.
    assert!(assessments.iter().all(|a| a["criteria"].as_array().unwrap().iter().all(|c| c["id"] != "OLD")));
    // One declaration alone, missing data the model uses: scored, and the reply says what was missing.
    let mut bare = declaration(99, false);
    let item = &mut bare["Declaration"]["GoodsShipment"]["GovernmentAgencyGoodsItem"][0];
    item["Commodity"]["InvoiceLine"] = Value::Null;
    item["StatisticalValueAmount"] = Value::Null;
    let r = client().post(format!("{}/api/v1/risk/score", node.base)).header("cookie", node.cookie()).json(&bare);
    let r = r.send().await.expect("score one");
    assert_eq!(r.status(), 200);
    let one: Value = r.json().await.expect("JSON");
    assert!(one["missing"].as_array().unwrap().iter().any(|m| m == "value"), "{one}");
    assert!(one["score"].as_f64().is_some());
    // The queue, the model, the criteria.
    let (status, q) = node.get_signed(0, "/api/v1/risk/queue?limit=5").await;
    assert_eq!((status, q.as_array().map(Vec::len)), (200, Some(5)));
    // Committed from the same content, the queue's assessments are the what-if ones.
    let queued = node.queue_of(12).await;
    for a in &assessments {
        let q = queued.iter().find(|q| q["declarationId"] == a["declarationId"]).expect("committed and queued");
        assert_eq!((&q["lane"], q["version"].as_u64()), (&a["lane"], Some(1)), "{q}");
    }
    let (_, m) = node.get_signed(0, "/api/v1/risk/model").await;
    assert_eq!(m["trees"], 40);
}

#[tokio::test]
async fn bad_risk_requests_get_codes() {
    let node = start().await;
    let http = client();
    let officer = |r: reqwest::RequestBuilder| r.header("cookie", node.cookie());
    let url = |path: &str| format!("{}{path}", node.base);
    let r = officer(http.get(url("/api/v1/risk/model"))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "no_risk_model");
    // A model for another feature set is refused at load.
    let mut bytes = model_bytes();
    let nl = bytes.iter().position(|b| *b == b'\n').unwrap();
    let mut header: Value = serde_json::from_slice(&bytes[..nl]).unwrap();
    header["features"].as_array_mut().unwrap().pop();
    let mut other = serde_json::to_vec(&header).unwrap();
    other.extend_from_slice(&bytes.split_off(nl));
    let r = officer(http.put(url("/api/v1/risk/model"))).body(other).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_model");
    let r = officer(http.put(url("/api/v1/risk/criteria"))).body(r#"{"criteria":[{"id":"A","name":"a","lane":"RED","condition":{"kind":"in_list","field":"importer","list":"none"}}]}"#).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_criteria");
    let r = officer(http.post(url("/api/v1/risk/score"))).body("{\"Declaration\": 3}").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_declaration");
    let r = officer(http.post(url("/api/v1/risk/overrides")))
        .json(&json!({"declarationId": "nope", "lane": "GREEN", "reason": "documents verified", "officer": "o"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_assessed");
    setup(&node).await;
    let r = officer(http.post(url("/api/v1/risk/overrides")))
        .json(&json!({"declarationId": "LRN-RISK-001", "lane": "RED", "reason": "", "officer": "o"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "override_refused");
}

async fn drive(browser: &Client, base: &str, token: &str) -> Result<(), fantoccini::error::CmdError> {
    browser.goto(&format!("{base}/login?token={token}")).await?;
    browser.goto(&format!("{base}/risk")).await?;
    let table = browser.wait().at_most(TIMEOUT).for_element(Locator::Id("risk-queue")).await?;
    let rows = table.find_all(Locator::Css("tbody tr")).await?;
    assert_eq!(rows.len(), 12, "queue rows");
    // Strictest lane first.
    let first_lane = rows[0].attr("data-lane").await?.unwrap_or_default();
    assert_ne!(first_lane, "GREEN", "the queue starts with a controlled lane");
    let model = browser.find(Locator::Id("risk-model")).await?.text().await?;
    assert!(model.contains("browser@"), "{model}");
    let page = browser.source().await?;
    assert!(page.contains("goods depart from a country other than their origin"), "reasons in words");
    assert!(page.contains("Ask for the through bill of lading"), "officer instructions");

    // An override without a reason is refused and says why.
    let target = "LRN-RISK-001";
    let row = browser.find(Locator::Css(&format!("tr[data-declaration='{target}']"))).await?;
    let before = row.attr("data-lane").await?.unwrap_or_default();
    row.find(Locator::Css("input[name=officer]")).await?.send_keys("officer-12").await?;
    row.find(Locator::Css("button[type=submit]")).await?.click().await?;
    let error = browser.wait().at_most(TIMEOUT).for_element(Locator::Id("risk-error")).await?.text().await?;
    assert!(error.contains("reason"), "{error}");
    let row = browser.find(Locator::Css(&format!("tr[data-declaration='{target}']"))).await?;
    assert_eq!(row.attr("data-lane").await?.unwrap_or_default(), before, "the lane did not change");

    // With a reason, it is recorded and shown.
    row.find(Locator::Css("input[name=reason]"))
        .await?
        .send_keys("intelligence report 2026/17 on this consignee")
        .await?;
    let officer = row.find(Locator::Css("input[name=officer]")).await?;
    officer.clear().await?;
    officer.send_keys("officer-12").await?;
    row.find(Locator::Css("button[type=submit]")).await?.click().await?;
    browser.wait().at_most(TIMEOUT).for_element(Locator::Id("risk-notice")).await?;
    let row = browser.find(Locator::Css(&format!("tr[data-declaration='{target}']"))).await?;
    let after = row.attr("data-lane").await?.unwrap_or_default();
    assert_ne!(after, before);
    let text = row.text().await?;
    assert!(text.contains("overruled from") && text.contains("officer-12"), "{text}");

    // The criteria page: validity and hit rate.
    browser.goto(&format!("{base}/risk/criteria")).await?;
    let c = browser.wait().at_most(TIMEOUT).for_element(Locator::Css("tr[data-criterion='TRANSHIP']")).await?;
    let text = c.text().await?;
    assert!(text.contains("in force") && text.contains("no result yet"), "{text}");
    let old = browser.find(Locator::Css("tr[data-criterion='OLD']")).await?.text().await?;
    assert!(old.contains("not in force"), "{old}");
    Ok(())
}

#[tokio::test]
async fn the_risk_queue_works_in_the_browser() {
    let node = start().await;
    setup(&node).await;
    let (base, token) = (node.base.clone(), node.token.clone());
    in_browser(|b| async move { drive(&b, &base, &token).await }).await;
}
