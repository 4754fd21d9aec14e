//! The risk console's editors in a real browser: a criterion created in the criteria editor, a
//! bad one refused with its errors next to its fields, the first edited and retired; a model
//! file uploaded, its report read, and the model activated.

use fantoccini::{Client, Locator};

use crate::browser::{TIMEOUT, in_browser};
use crate::browser_risk::model_bytes;
use crate::ledger::start;

/// Waits until the address bar holds `part`.
async fn wait_for_url(b: &Client, part: &str) -> Result<(), fantoccini::error::CmdError> {
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !b.current_url().await?.as_str().contains(part) {
        assert!(std::time::Instant::now() < deadline, "the page did not reach {part}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Replaces the text of the field `id`.
async fn fill(b: &Client, id: &str, text: &str) -> Result<(), fantoccini::error::CmdError> {
    let field = b.find(Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(text).await
}

async fn criteria(b: &Client, base: &str, token: &str) -> Result<(), fantoccini::error::CmdError> {
    b.goto(&format!("{base}/login?token={token}")).await?;
    b.goto(&format!("{base}/risk/criteria")).await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("criteria-empty")).await?;

    // Create.
    b.find(Locator::Id("criterion-new")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("criterion-form")).await?;
    fill(b, "criterion-id", "ELEC-TRANSHIP").await?;
    fill(b, "criterion-name", "Electronics routed through a third country").await?;
    b.find(Locator::Css("#criterion-lane option[value='RED']")).await?.click().await?;
    fill(b, "criterion-instructions", "Ask for the through bill of lading").await?;
    fill(
        b,
        "criterion-condition",
        r#"{"kind": "all", "conditions": [{"kind": "route_differs"}, {"kind": "hs_prefix", "prefixes": ["8471"]}]}"#,
    )
    .await?;
    b.find(Locator::Css("#criterion-form button[type=submit]")).await?.click().await?;
    let saved = b.wait().at_most(TIMEOUT).for_element(Locator::Id("criterion-saved")).await?.text().await?;
    assert!(saved.contains("created"), "{saved}");
    wait_for_url(b, "/risk/criteria/ELEC-TRANSHIP").await?;
    let validity = b.find(Locator::Id("criterion-validity")).await?.text().await?;
    assert!(validity.contains("in force") && !validity.contains("not in force"), "{validity}");
    b.find(Locator::Id("criterion-weeks-empty")).await?;

    // A bad one: its id taken, its weight not a number, its condition not JSON.
    b.goto(&format!("{base}/risk/criteria/new")).await?;
    fill(b, "criterion-id", "ELEC-TRANSHIP").await?;
    fill(b, "criterion-name", "Duplicate").await?;
    fill(b, "criterion-weight", "heavy").await?;
    fill(b, "criterion-condition", "{\"kind\": ").await?;
    b.find(Locator::Css("#criterion-form button[type=submit]")).await?.click().await?;
    let summary = b.wait().at_most(TIMEOUT).for_element(Locator::Id("criterion-errors")).await?.text().await?;
    assert!(summary.contains("3 fields"), "{summary}");
    let id_error = b.find(Locator::Id("criterion-id-error")).await?.text().await?;
    assert!(id_error.contains("already exists"), "{id_error}");
    assert!(b.find(Locator::Id("criterion-weight-error")).await?.text().await?.contains("not a number"));
    assert!(b.find(Locator::Id("criterion-condition-error")).await?.text().await?.contains("Not a condition"));
    let name = b.find(Locator::Id("criterion-name")).await?.prop("value").await?;
    assert_eq!(name.as_deref(), Some("Duplicate"), "the refused form comes back filled in");
    let invalid = b.find(Locator::Id("criterion-weight")).await?.attr("aria-invalid").await?;
    assert_eq!(invalid.as_deref(), Some("true"));

    // Edit.
    b.goto(&format!("{base}/risk/criteria/ELEC-TRANSHIP")).await?;
    fill(b, "criterion-name", "Electronics transhipped").await?;
    fill(b, "criterion-weight", "2.5").await?;
    b.find(Locator::Css("#criterion-form button[type=submit]")).await?.click().await?;
    let saved = b.wait().at_most(TIMEOUT).for_element(Locator::Id("criterion-saved")).await?.text().await?;
    assert!(saved.contains("saved"), "{saved}");
    let title = b.find(Locator::Css("h1")).await?.text().await?;
    assert!(title.contains("Electronics transhipped"), "{title}");

    // Retire.
    b.find(Locator::Css("#criterion-retire button[type=submit]")).await?.click().await?;
    let saved = b.wait().at_most(TIMEOUT).for_element(Locator::Id("criterion-saved")).await?.text().await?;
    assert!(saved.contains("retired"), "{saved}");
    let validity = b.find(Locator::Id("criterion-validity")).await?.text().await?;
    assert!(validity.contains("not in force"), "{validity}");
    b.goto(&format!("{base}/risk/criteria")).await?;
    let row = b.wait().at_most(TIMEOUT).for_element(Locator::Css("tr[data-criterion='ELEC-TRANSHIP']")).await?;
    let text = row.text().await?;
    assert!(text.contains("Electronics transhipped") && text.contains("not in force"), "{text}");
    Ok(())
}

#[tokio::test]
async fn criteria_are_created_refused_edited_and_retired_in_the_browser() {
    let node = start().await;
    let (base, token) = (node.base.clone(), node.token.clone());
    in_browser(|b| async move { criteria(&b, &base, &token).await }).await;
    let (_, set) = node.get_signed(0, "/api/v1/risk/criteria").await;
    let c = &set["criteria"][0];
    assert_eq!(
        (c["id"].as_str(), c["lane"].as_str(), c["weight"].as_f64()),
        (Some("ELEC-TRANSHIP"), Some("RED"), Some(2.5))
    );
    assert!(c["validUntil"].as_str().is_some(), "retired: {c}");
}

async fn model(b: &Client, base: &str, token: &str, file: &str) -> Result<(), fantoccini::error::CmdError> {
    b.goto(&format!("{base}/login?token={token}")).await?;
    b.goto(&format!("{base}/risk/model")).await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("model-none")).await?;
    b.find(Locator::Id("model-file")).await?.send_keys(file).await?;
    b.find(Locator::Css(".model-form button[type=submit]")).await?.click().await?;
    wait_for_url(b, "/risk/model/report").await?;
    let version = b.wait().at_most(TIMEOUT).for_element(Locator::Id("report-version")).await?.text().await?;
    assert!(version.starts_with("browser@"), "{version}");
    // No inspection fed back on this node yet: the report says so instead of drawing nothing.
    b.find(Locator::Id("report-no-data")).await?;
    b.find(Locator::Id("report-no-drift")).await?;
    // Still not active.
    b.goto(&format!("{base}/risk/model")).await?;
    b.find(Locator::Id("model-none")).await?;
    let pending = b.find(Locator::Id("model-pending")).await?.text().await?;
    assert!(pending.contains(&version), "{pending}");
    b.find(Locator::Css("#model-pending a")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("model-activate")).await?;
    b.find(Locator::Css("#model-activate button[type=submit]")).await?.click().await?;
    let done = b.wait().at_most(TIMEOUT).for_element(Locator::Id("model-activated")).await?.text().await?;
    assert!(done.contains(&version), "{done}");
    let shown = b.find(Locator::Id("model-version")).await?.text().await?;
    assert_eq!(shown, version);
    let place = b.find(Locator::Id("model-where")).await?.text().await?;
    assert!(place.contains("since"), "where and when it was activated: {place}");
    // Announced on the ledger: the consortium panel lists this node with the version.
    let here = b
        .find(Locator::XPath("//section[@id='model-consortium']//tr[th[contains(., '(this node)')]]"))
        .await?
        .text()
        .await?;
    assert!(here.contains(&version) && here.ends_with("yes"), "{here}");
    Ok(())
}

#[tokio::test]
async fn a_model_is_uploaded_reported_on_and_activated_in_the_browser() {
    let node = start().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("browser.blrm");
    std::fs::write(&file, model_bytes()).expect("the model file");
    let (base, token, path) = (node.base.clone(), node.token.clone(), file.display().to_string());
    in_browser(|b| async move { model(&b, &base, &token, &path).await }).await;
    let (status, m) = node.get_signed(0, "/api/v1/risk/model").await;
    assert_eq!(status, 200, "{m}");
    assert!(m["version"].as_str().is_some_and(|v| v.starts_with("browser@")), "{m}");
    // The announcement is a ledger record every member reads.
    let (status, doc) =
        node.get_signed(1, &format!("/api/v1/records/document:{}:risk-model-active", node.member())).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["payload"]["version"], m["version"], "{doc}");
}
