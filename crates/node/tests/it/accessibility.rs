//! Every console page checked in a real browser for accessibility and horizontal overflow.
//!
//! A node with sample data (declarations committed, scored and queued, criteria and a model
//! active) is visited by a person holding every staff role. On each page the test injects
//! axe-core (`tests/fixtures/axe-core`, vendored), runs `axe.run()` and fails on any violation of
//! impact "serious" or "critical", listing each with the elements concerned; and at a window of
//! 1280×900 it checks that the page does not scroll sideways.
//!
//! To cover a new page, add its path to [`PAGES`].

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{TIMEOUT, in_browser};
use crate::ledger::start;

/// axe-core's engine, run in each page (never served by the node).
const AXE: &str = include_str!("../fixtures/axe-core/axe.min.js");

/// The console pages visited once logged in. `{record}` is the first record the ledger page
/// links to. The login page, a page with a validation report and the page for an unknown path
/// are visited besides.
const PAGES: &[&str] = &[
    "/",
    "/validate",
    "/schemas",
    "/data-quality",
    "/api",
    "/ledger",
    "/ledger/blocks/1",
    "/ledger/records/{record}",
    "/aeo",
    "/network",
    "/risk",
    "/risk/criteria",
    "/risk/criteria/new",
    "/risk/model",
    "/search?q=GB",
    "/ledger/records/{record}/diff?from=1&to=1",
    "/iot",
    "/iot/alerts",
    "/iot/devices",
    "/admin/users",
    "/audit",
    "/no-such-page",
    "/ledger/records/no-such-record",
];

/// Rules left unchecked on a page, with the reason: only for markup the project does not write.
const THIRD_PARTY: &[(&str, &str, &str)] = &[(
    "/api",
    "nested-interactive",
    "Swagger UI's operation summaries are buttons holding a copy-to-clipboard button; its markup is not ours",
)];

const PASSWORD: &str = "accessible password 2026";

/// Every staff role (a trader user reads only its own trader's records, so it is left out).
const ROLES: &[&str] = &["officer", "analyst", "risk-officer", "auditor", "administrator"];

/// What was wrong with one page (also used by other browser tests on pages only they can set up,
/// e.g. the network page of a replicated node in `browser_network.rs`).
pub(crate) async fn check(b: &Client, what: &str) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let mut problems = Vec::new();
    let skipped: Vec<Value> =
        THIRD_PARTY.iter().filter(|(page, _, _)| *page == what).map(|(_, rule, _)| Value::from(*rule)).collect();
    let loaded: Value = b.execute("return typeof window.axe === 'object';", vec![]).await?;
    if loaded != Value::Bool(true) {
        b.execute(AXE, vec![]).await?;
    }
    let found = b
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const skipped = arguments[0];
            axe.run(document, { resultTypes: ["violations"] })
              .then((r) => done(r.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .filter((v) => !skipped.includes(v.id))
                .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.filter((n, i, all) => all.findIndex((m) => m.html.split('>')[0] === n.html.split('>')[0]) === i).slice(0, 12).map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 200), why: n.failureSummary })) }))))
              .catch((e) => done([{ id: "axe-error", impact: "critical", help: String(e), nodes: [] }]));"#,
            vec![Value::Array(skipped)],
        )
        .await?;
    for v in found.as_array().into_iter().flatten() {
        let mut text = format!(
            "{what}: [{}] {} — {}",
            v["impact"].as_str().unwrap_or(""),
            v["id"].as_str().unwrap_or(""),
            v["help"].as_str().unwrap_or("")
        );
        for n in v["nodes"].as_array().into_iter().flatten() {
            text.push_str(&format!(
                "\n      at {}\n         {}\n         {}",
                n["target"].as_str().unwrap_or(""),
                n["html"].as_str().unwrap_or(""),
                n["why"].as_str().unwrap_or("").replace('\n', " ")
            ));
        }
        problems.push(text);
    }
    let widths: Value = b.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await?;
    let (scroll, inner) = (widths[0].as_u64().unwrap_or(0), widths[1].as_u64().unwrap_or(0));
    if scroll > inner {
        let culprits: Value = b
            .execute(
                "const w = window.innerWidth; return [...document.querySelectorAll('body *')]\
                 .filter((e) => e.getBoundingClientRect().right > w + 1 || (e.scrollWidth > e.clientWidth + 1 \
                   && getComputedStyle(e).overflowX === 'visible'))\
                 .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'));",
                vec![],
            )
            .await?;
        problems.push(format!("{what}: overflows sideways ({scroll} px wide in a {inner} px window): {culprits}"));
    }
    Ok(problems)
}

async fn drive(b: &Client, base: &str, username: &str) -> Result<Vec<String>, fantoccini::error::CmdError> {
    b.set_window_size(1280, 900).await?;
    let mut problems = Vec::new();
    // Logged out: the login page.
    b.goto(&format!("{base}/login")).await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("login-form")).await?;
    problems.extend(check(b, "/login").await?);

    b.find(Locator::Id("username")).await?.send_keys(username).await?;
    b.find(Locator::Id("password")).await?.send_keys(PASSWORD).await?;
    b.find(Locator::Css("#login-form button[type=submit]")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("purpose-form")).await?;

    b.goto(&format!("{base}/ledger")).await?;
    let link = b.wait().at_most(TIMEOUT).for_element(Locator::Css("a[href^='/ledger/records/']")).await?;
    let href = link.attr("href").await?.unwrap_or_default();
    let record = href.trim_start_matches("/ledger/records/").to_owned();

    // Dates: written in UTC by the server, rewritten to the reader's zone by console.js, the ISO
    // instant kept on hover.
    let times: Value = b
        .execute(
            "return [...document.querySelectorAll('time[datetime]')].map((t) => [t.getAttribute('datetime'), t.title, t.textContent]);",
            vec![],
        )
        .await?;
    let times = times.as_array().cloned().unwrap_or_default();
    assert!(!times.is_empty(), "the ledger page shows its blocks' times");
    for t in &times {
        assert_eq!(t[0], t[1], "the ISO instant is the title: {t}");
        let text = t[2].as_str().unwrap_or("");
        let server_form = t[0].as_str().unwrap_or("").replacen('T', " ", 1).replace('Z', " UTC");
        assert!(!text.is_empty() && text != server_form, "rewritten by console.js: {t}");
    }

    for page in PAGES {
        let path = page.replace("{record}", &record);
        b.goto(&format!("{base}{path}")).await?;
        b.wait().at_most(TIMEOUT).for_element(Locator::Css("main")).await?;
        if *page == "/api" {
            // Swagger UI renders after loading the OpenAPI document.
            b.wait().at_most(TIMEOUT).for_element(Locator::Css("#swagger-ui .opblock")).await?;
        }
        problems.extend(check(b, page).await?);
    }

    // A validation report, for an invalid document.
    b.goto(&format!("{base}/")).await?;
    let document = crate::samples::declaration_with_unknown_origin().to_string();
    // Typing 2 KB key by key is slow: set the value, as a paste would.
    b.execute("document.getElementById('text').value = arguments[0];", vec![Value::String(document)]).await?;
    b.find(Locator::Id("validate-submit")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("report-status")).await?;
    problems.extend(check(b, "/validate (an invalid document's report)").await?);
    Ok(problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_passes_axe_and_fits_the_window() {
    let n = start().await;
    crate::browser_risk::setup(&n).await;
    let (status, reply) = n.add_user("ally.all", ROLES, PASSWORD, false).await;
    assert_eq!(status, 201, "{reply}");
    let base = n.base.clone();
    let problems = in_browser(|b| async move { drive(&b, &base, "ally.all").await }).await;
    assert!(problems.is_empty(), "{} accessibility or overflow problems:\n  {}", problems.len(), problems.join("\n  "));
}
