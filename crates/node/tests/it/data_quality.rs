//! The data-quality dashboard through the HTTP API, the console and a real browser: declarations
//! committed and refused from two members, transport movements giving the goods' planned
//! arrival, and the figures — failures by rule per organisation, completeness per element,
//! timeliness, weekly buckets — read back as JSON and as the SVG charts of `/data-quality`.

use std::collections::BTreeMap;

use borderlink_ledger::{Transaction, clear_put_body};
use borderlink_model::{RecordType, ValidateOptions, validate};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::browser::{TIMEOUT, in_browser};
use crate::ledger::{LedgerNode, auth_for, keyed, no_redirect, start, test_consortium};
use crate::samples::sample_bytes;
use crate::test_node::client;

/// The trader (the GB AEO) and the two customs administrations of the test consortium.
const GB_CUSTOMS: usize = 0;
const NL_CUSTOMS: usize = 1;
const TRADER: usize = 2;

/// The sample declaration with its LRN set to `lrn`, changed by `change`.
fn declaration(lrn: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut d: Value = serde_json::from_slice(&keyed(&sample_bytes("declaration.json"), lrn)).unwrap();
    change(&mut d);
    serde_json::to_vec(&d).unwrap()
}

/// A transport movement naming the declaration `lrn`, planned to arrive at `arrival`.
fn movement(reference: &str, lrn: &str, departure: &str, arrival: &str) -> Vec<u8> {
    let mut m: Value = serde_json::from_slice(&keyed(&sample_bytes("transport-movement.json"), reference)).unwrap();
    let ext = &mut m["Consignment"]["ext"];
    ext["declarationRefs"] = json!([lrn]);
    ext["plannedDeparture"] = json!(departure);
    ext["plannedArrival"] = json!(arrival);
    serde_json::to_vec(&m).unwrap()
}

/// A transaction that puts `broken` (an invalid declaration) under the id and attributes of
/// `valid`, signed by `signer`: the ledger refuses it for its content alone.
fn broken_put(n: &LedgerNode, signer: usize, valid: &[u8], broken: Vec<u8>, nonce: u64) -> Transaction {
    let record = validate(valid, &ValidateOptions::default()).record.unwrap();
    let k = &n.keys[signer];
    let id = borderlink_ledger::meta::record_id(&record, &k.member).unwrap();
    let body = clear_put_body(n.chain, &record, &id, 1, &broken, &k.member, nonce, 1);
    Transaction::sign(body, broken, vec![], k)
}

/// The rules a document's validation reports as warnings, each once (what a submission counts).
fn warnings_of(payload: &[u8], t: RecordType) -> Vec<String> {
    let report = validate(payload, &ValidateOptions { record_type: Some(t), ..ValidateOptions::default() });
    let mut rules: Vec<String> = report.warnings.iter().map(|i| i.rule.clone()).collect();
    rules.sort();
    rules.dedup();
    rules
}

/// What was submitted, for the assertions.
struct Seeded {
    /// The warnings of the trader's declarations, rule → submissions.
    trader_warnings: BTreeMap<String, u64>,
}

/// Submits, to GB customs' node: from the trader, three valid declarations (one with a tax
/// rate on its first goods item) and two refused ones (a date that does not exist, a goods item
/// without commodity code), one of them twice, and one with a forged signature; from NL customs,
/// a GB declaration the write policy refuses; from GB customs, an AEO authorisation and two
/// movements: the goods of LRN-DQ-1 arrive in 2099 (timely), those of LRN-DQ-2 arrived in 2020
/// (late); LRN-DQ-3 has none (unknown).
async fn seed(n: &LedgerNode) -> Seeded {
    let mut trader_warnings = BTreeMap::new();
    let post = async |tx: &Transaction, status: u16| {
        let (got, body) = n.post(tx).await;
        assert_eq!(got, status, "{body}");
        body
    };
    let valid = [
        declaration("LRN-DQ-1", |_| {}),
        declaration("LRN-DQ-2", |d| {
            d["Declaration"]["GoodsShipment"]["GovernmentAgencyGoodsItem"][0]["Commodity"]["DutyTaxFee"][0]["TaxRateNumeric"] =
                json!(2.5);
        }),
        declaration("LRN-DQ-3", |_| {}),
    ];
    for (i, payload) in valid.iter().enumerate() {
        let id = n.id_of(TRADER, payload);
        post(&n.put_bytes(TRADER, payload.clone(), &id, 1, 100 + i as u64), 201).await;
        for w in warnings_of(payload, RecordType::Declaration) {
            *trader_warnings.entry(w).or_default() += 1;
        }
    }
    let bad_date = declaration("LRN-DQ-4", |d| d["Declaration"]["IssueDateTime"] = json!("2026-02-30T09:30:00Z"));
    let no_hs = declaration("LRN-DQ-5", |d| {
        let item = &mut d["Declaration"]["GoodsShipment"]["GovernmentAgencyGoodsItem"][1]["Commodity"];
        item.as_object_mut().unwrap().remove("Classification");
    });
    let refused_date = broken_put(n, TRADER, &declaration("LRN-DQ-4", |_| {}), bad_date.clone(), 110);
    let body = post(&refused_date, 422).await;
    assert_eq!(body["code"], "invalid_record", "{body}");
    // Sent again by a retrying client: still one submission.
    post(&refused_date, 422).await;
    let body = post(&broken_put(n, TRADER, &declaration("LRN-DQ-5", |_| {}), no_hs.clone(), 111), 422).await;
    assert_eq!(body["code"], "invalid_record", "{body}");
    for payload in [&bad_date, &no_hs] {
        for w in warnings_of(payload, RecordType::Declaration) {
            *trader_warnings.entry(w).or_default() += 1;
        }
    }
    // A forged submission in the trader's name is held against nobody.
    let mut forged = n.put(TRADER, "declaration.json", "LRN-DQ-6", 1, 112);
    forged.signature[5] ^= 1;
    post(&forged, 401).await;
    // NL customs may not write a GB declaration.
    let body = post(&n.put(NL_CUSTOMS, "declaration.json", "LRN-DQ-NL", 1, 120), 403).await;
    assert_eq!(body["code"], "policy_denied");
    post(&n.put(GB_CUSTOMS, "aeo-authorisation.json", "GB AEOC DQ/1", 1, 130), 201).await;
    for (i, (reference, lrn, departure, arrival)) in [
        ("MOV-DQ-1", "LRN-DQ-1", "2099-01-01T00:00:00Z", "2099-02-01T06:00:00Z"),
        ("MOV-DQ-2", "LRN-DQ-2", "2019-12-20T00:00:00Z", "2020-01-02T06:00:00Z"),
    ]
    .into_iter()
    .enumerate()
    {
        let payload = movement(reference, lrn, departure, arrival);
        let id = n.id_of(GB_CUSTOMS, &payload);
        post(&n.put_bytes(GB_CUSTOMS, payload, &id, 1, 140 + i as u64), 201).await;
    }
    Seeded { trader_warnings }
}

/// `GET /api/v1/data-quality?QUERY` signed by NL customs (another customs administration).
async fn figures(n: &LedgerNode, query: &str) -> (u16, Value) {
    n.get_signed(NL_CUSTOMS, &format!("/api/v1/data-quality{query}")).await
}

/// The figures once the projection has read the committed declarations and movements (it
/// follows the commits: poll, with a deadline).
async fn settled(n: &LedgerNode, query: &str, declarations: u64) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = figures(n, query).await;
        assert_eq!(status, 200, "{body}");
        let committed = body["total"]["timeliness"]["declarations"].as_u64().unwrap_or(0);
        let known = body["total"]["timeliness"]["beforeArrival"].as_u64().unwrap_or(0)
            + body["total"]["timeliness"]["afterArrival"].as_u64().unwrap_or(0);
        if committed >= declarations && known >= 2.min(declarations) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "the committed records never reached the figures: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn group<'a>(report: &'a Value, org: &str, t: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["org"] == org && g["type"] == t))
        .unwrap_or_else(|| panic!("no group {org} {t}: {report}"))
}

fn rule<'a>(submissions: &'a Value, name: &str) -> &'a Value {
    submissions["rules"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["rule"] == name))
        .unwrap_or_else(|| panic!("no rule {name}: {submissions}"))
}

fn element<'a>(completeness: &'a Value, name: &str) -> &'a Value {
    completeness["elements"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["element"] == name))
        .unwrap_or_else(|| panic!("no element {name}: {completeness}"))
}

#[tokio::test]
async fn the_figures_count_failures_by_rule_completeness_and_timeliness_per_organisation() {
    let n = start().await;
    let seeded = seed(&n).await;
    let report = settled(&n, "", 3).await;
    let (trader, nl, gb) = (&n.keys[TRADER].member, &n.keys[NL_CUSTOMS].member, &n.keys[GB_CUSTOMS].member);

    // Submissions, per organisation and record type: the forged one and the resubmission are
    // not counted.
    let t = &group(&report, trader, "declaration")["figures"]["submissions"];
    assert_eq!((t["submitted"].as_u64(), t["committed"].as_u64(), t["refused"].as_u64()), (Some(5), Some(3), Some(2)));
    assert_eq!(t["validated"], 5);
    assert_eq!(t["failureRate"], 0.4);
    assert_eq!(t["refusals"], json!([{"code": "invalid_record", "count": 2}]));
    for name in ["format.datetime", "hs.missing"] {
        let r = rule(t, name);
        assert_eq!((r["errors"].as_u64(), r["errorRate"].as_f64()), (Some(1), Some(0.2)), "{name}: {r}");
    }
    for (name, count) in &seeded.trader_warnings {
        assert_eq!(rule(t, name)["warnings"].as_u64(), Some(*count), "warning {name}");
    }
    let nl_figures = &group(&report, nl, "declaration")["figures"];
    assert_eq!(nl_figures["submissions"]["refusals"], json!([{"code": "policy_denied", "count": 1}]));
    assert_eq!(nl_figures["submissions"]["failureRate"], 1.0);
    assert_eq!(nl_figures["completeness"]["declarations"], 0, "nothing of NL's was committed");
    let aeo = &group(&report, gb, "aeo-authorization")["figures"];
    assert_eq!((aeo["submissions"]["submitted"].as_u64(), aeo["submissions"]["refused"].as_u64()), (Some(1), Some(0)));
    assert!(aeo["completeness"].is_null() && aeo["timeliness"].is_null(), "declarations only: {aeo}");
    assert_eq!(group(&report, gb, "transport-movement")["figures"]["submissions"]["committed"], 2);
    let total = &report["total"]["submissions"];
    assert_eq!((total["submitted"].as_u64(), total["refused"].as_u64()), (Some(9), Some(3)));

    // Completeness per goods item: the sample's two items carry a commodity code, neither a
    // seller; one item of LRN-DQ-2 has a tax rate.
    let c = &report["total"]["completeness"];
    assert_eq!((c["declarations"].as_u64(), c["goodsItems"].as_u64()), (Some(3), Some(6)));
    assert_eq!(
        (element(c, "commodity code")["present"].as_u64(), element(c, "commodity code")["share"].as_f64()),
        (Some(6), Some(1.0))
    );
    assert_eq!(element(c, "seller")["share"], 0.0);
    assert_eq!(element(c, "tax rate")["present"], 1);
    assert_eq!(element(c, "tax rate")["required"], true);
    assert_eq!(c["elements"].as_array().map(Vec::len), Some(borderlink_risk::item::ELEMENTS.len()));

    // Timeliness: before the 2099 arrival, after the 2020 one, and one without a movement.
    let tl = &report["total"]["timeliness"];
    assert_eq!(
        (tl["beforeArrival"].as_u64(), tl["afterArrival"].as_u64(), tl["unknown"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{tl}"
    );
    assert_eq!(tl["shareBeforeArrival"], 0.5);

    // Weeks: everything in the current ISO week, the last of the period.
    assert_eq!(report["weeks"].as_array().map(Vec::len), Some(12), "12 weeks by default");
    let week = report["weeks"][11].as_str().unwrap().to_owned();
    assert!(week.len() == 8 && week.as_bytes()[4] == b'-' && week.as_bytes()[5] == b'W', "{week}");
    let trend = report["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    assert_eq!(trend[11]["week"], week.as_str());
    assert_eq!((trend[11]["submitted"].as_u64(), trend[11]["declarations"].as_u64()), (Some(9), Some(3)));
    assert!(trend[..11].iter().all(|w| w["submitted"] == 0 && w["declarations"] == 0), "{trend:?}");

    // One organisation and type, one week: the same figures.
    let (status, one) = figures(&n, &format!("?org={trader}&type=declaration&weeks=1")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!((one["org"].as_str(), one["type"].as_str()), (Some(trader.as_str()), Some("declaration")));
    assert_eq!(one["weeks"], json!([week]));
    assert_eq!(one["total"]["submissions"]["submitted"], 5);
    assert_eq!(one["total"]["completeness"]["declarations"], 3);
    assert_eq!(one["groups"].as_array().map(Vec::len), Some(1));
    let (_, movements) = figures(&n, "?type=transport-movement&weeks=2").await;
    assert_eq!(movements["total"]["submissions"]["submitted"], 2);
    assert!(movements["total"]["completeness"].is_null(), "{movements}");
}

#[tokio::test]
async fn unknown_filters_are_refused_with_a_clear_error_and_traders_see_no_figures() {
    let n = start().await;
    for (query, code, says) in [
        ("?org=nobody", "invalid_query", "no member of the consortium"),
        ("?type=invoice", "unknown_record_type", "`invoice`"),
        ("?weeks=0", "invalid_query", "from 1 to 104"),
        ("?weeks=105", "invalid_query", "from 1 to 104"),
        ("?weeks=twelve", "invalid_query", "from 1 to 104"),
        ("?weeks=", "invalid_query", "from 1 to 104"),
        ("?colour=red", "invalid_query", "colour"),
    ] {
        let (status, body) = figures(&n, query).await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{query}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains(says)), "{query}: {body}");
    }
    let (status, body) = n.get_signed(TRADER, "/api/v1/data-quality").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "a trader: {body}");
    let r = client().get(format!("{}/api/v1/data-quality", n.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // The console refuses a bad filter with the same message, on the page.
    let r = no_redirect()
        .get(format!("{}/data-quality?weeks=0", n.base))
        .header("cookie", n.cookie())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="quality-error""#) && page.contains("from 1 to 104"), "{page}");
    // The filter form with every field emptied asks for the defaults.
    let r = no_redirect()
        .get(format!("{}/data-quality?org=&type=&weeks=", n.base))
        .header("cookie", n.cookie())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(r#"name="weeks" min="1" max="104" value="12""#));
}

#[tokio::test]
async fn the_console_page_draws_the_figures_as_svg_charts() {
    let n = start().await;
    seed(&n).await;
    settled(&n, "", 3).await;
    let r = no_redirect().get(format!("{}/data-quality", n.base)).header("cookie", n.cookie()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let page = r.text().await.unwrap();
    for chart in ["chart-rules", "chart-elements", "chart-timeliness", "chart-trend"] {
        assert!(page.contains(&format!(r#"<svg class="chart" id="{chart}""#)), "{chart} is drawn");
    }
    // Each bar carries its figure: the nine submissions were all validated here (clear records),
    // one of them broke the date rule.
    for needle in [
        r#"data-rule="format.datetime" data-severity="error" data-count="1" data-share="0.1111""#,
        r#"data-element="commodity code" data-present="6" data-share="1.0000""#,
        r#"data-element="tax rate" data-present="1" data-share="0.1667""#,
        r#"data-timeliness="before" data-count="1""#,
        r#"data-timeliness="after" data-count="1""#,
        r#"data-timeliness="unknown" data-count="1""#,
        "format.datetime: an error in 1 of 9 submissions (11.1 %)",
    ] {
        assert!(page.contains(needle), "{needle} not in the page");
    }
    // The trend's points of the current week: a third of the submissions refused.
    assert!(page.contains(r#"data-series="failure-rate" data-week=""#), "a failure-rate point");
    assert!(page.contains(r#"data-value="0.3333""#), "3 of 9 refused");
    // Names from the consortium are escaped; nothing inline for the policy to refuse.
    assert!(page.contains("HM Revenue &amp; Customs"), "the member's name is escaped");
    assert!(!page.contains("style=") && !page.contains("<script>"), "no inline style or script");
    // One organisation's own dashboard is a stable link.
    let trader = &n.keys[TRADER].member;
    let link = format!("/data-quality?org={trader}&amp;type=declaration&amp;weeks=12");
    assert!(page.contains(&link), "{link}");
    let r = no_redirect()
        .get(format!("{}/data-quality?org={trader}&type=declaration&weeks=12", n.base))
        .header("cookie", n.cookie())
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="submitted" data-count="5""#), "the trader's five submissions");
    assert!(page.contains(&format!(r#"<option value="{trader}" selected>"#)), "the filter shows the choice");
}

#[tokio::test]
async fn refused_submissions_are_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (created, keys, config) = test_consortium(dir.path());
    let run = |config: borderlink_node::Config| async move {
        let node = borderlink_node::bind(config).await.unwrap();
        let base = format!("http://{}", node.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(node.serve(async move {
            let _ = stopped.await;
        }));
        (base, stop, task)
    };
    let read = |base: String| {
        let k = keys[NL_CUSTOMS].clone();
        let node = keys[GB_CUSTOMS].member.clone();
        async move {
            let path = "/api/v1/data-quality?type=declaration";
            let auth = auth_for(&k, &node, "GET", path, b"");
            let r = client().get(format!("{base}{path}")).header("authorization", auth).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let (base, stop, task) = run(config.clone()).await;
    let valid = declaration("LRN-DQ-R", |_| {});
    let record = validate(&valid, &ValidateOptions::default()).record.unwrap();
    let id = borderlink_ledger::meta::record_id(&record, &keys[TRADER].member).unwrap();
    let broken = declaration("LRN-DQ-R", |d| d["Declaration"]["IssueDateTime"] = json!("2026-02-30T09:30:00Z"));
    let body = clear_put_body(created.genesis.chain_id(), &record, &id, 1, &broken, &keys[TRADER].member, 1, 1);
    let tx = Transaction::sign(body, broken, vec![], &keys[TRADER]);
    let r = client().post(format!("{base}/api/v1/transactions")).json(&tx.to_wire()).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let before = read(base).await;
    assert_eq!(before["total"]["submissions"]["refused"], 1, "{before}");
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = dir.path().join("data/dataset/quality.redb");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    // A second life on the same data: the refusal is on no ledger, yet still counted.
    let (base, stop, task) = run(config).await;
    let after = read(base).await;
    assert_eq!(after["total"]["submissions"], before["total"]["submissions"]);
    assert_eq!(rule(&after["total"]["submissions"], "format.datetime")["errors"], 1);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

async fn read_charts(
    browser: &Client,
    base: &str,
    token: &str,
) -> Result<(String, f64, String), fantoccini::error::CmdError> {
    browser.goto(&format!("{base}/login?token={token}")).await?;
    browser.goto(&format!("{base}/data-quality")).await?;
    browser.wait().at_most(TIMEOUT).for_element(Locator::Id("chart-elements")).await?;
    let bar = browser.find(Locator::Css(r#"#chart-rules rect[data-rule="hs.missing"][data-severity="error"]"#)).await?;
    let count = bar.attr("data-count").await?.unwrap_or_default();
    // Drawn as SVG, with its colour from the stylesheet: a real width, and not the default black.
    let drawn = browser
        .execute(
            r#"const bar = document.querySelector('#chart-elements rect[data-element="commodity code"]');
               return [bar.getBoundingClientRect().width, getComputedStyle(bar).fill];"#,
            vec![],
        )
        .await?;
    let width = drawn[0].as_f64().unwrap_or_default();
    let fill = drawn[1].as_str().unwrap_or_default().to_owned();
    Ok((count, width, fill))
}

#[tokio::test]
async fn the_dashboard_renders_in_the_browser() {
    let n = start().await;
    seed(&n).await;
    settled(&n, "", 3).await;
    let (base, token) = (n.base.clone(), n.token.clone());
    let (count, width, fill) = in_browser(|b| async move { read_charts(&b, &base, &token).await }).await;
    assert_eq!(count, "1");
    assert!(width > 100.0, "the full commodity-code bar is drawn ({width} px)");
    assert_eq!(fill, "rgb(11, 79, 138)", "the bar takes the stylesheet's brand colour");
}
