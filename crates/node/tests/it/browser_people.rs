//! People in a real browser: an administrator logs in with a password and adds an account on
//! the users page; an analyst reads a declaration for the purpose of their session and changes
//! it (the parties are then withheld); an auditor logs in for `audit`, sees those reads on the
//! audit page, filters them by a stable URL and finds the CSV export.

use fantoccini::{Client, Locator};

use crate::browser::{TIMEOUT, in_browser};
use crate::ledger::{LedgerNode, start};

const PASSWORD: &str = "correct horse battery 9";

async fn log_in(b: &Client, base: &str, username: &str, purpose: &str) -> Result<(), fantoccini::error::CmdError> {
    b.goto(&format!("{base}/login")).await?;
    b.find(Locator::Id("username")).await?.send_keys(username).await?;
    b.find(Locator::Id("password")).await?.send_keys(PASSWORD).await?;
    if !purpose.is_empty() {
        b.find(Locator::Css(&format!("#purpose option[value='{purpose}']"))).await?.click().await?;
    }
    b.find(Locator::Css("#login-form button[type=submit]")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("purpose-form")).await?;
    assert!(b.current_url().await?.path().starts_with("/ledger"));
    Ok(())
}

/// Waits until the address bar holds `part`.
async fn wait_for_url(b: &Client, part: &str) -> Result<(), fantoccini::error::CmdError> {
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !b.current_url().await?.as_str().contains(part) {
        assert!(std::time::Instant::now() < deadline, "the page did not reach {part}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn log_out(b: &Client) -> Result<(), fantoccini::error::CmdError> {
    b.find(Locator::Css("form.logout button")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("login-form")).await?;
    Ok(())
}

async fn drive(b: &Client, n: &NodeView) -> Result<(), fantoccini::error::CmdError> {
    let base = &n.base;
    // The administrator: the users page, and a new account through its form.
    log_in(b, base, "ada.admin", "").await?;
    b.goto(&format!("{base}/admin/users")).await?;
    let table = b.wait().at_most(TIMEOUT).for_element(Locator::Css("table.users")).await?.text().await?;
    assert!(table.contains("amina.analyst") && table.contains("olu.auditor"), "{table}");
    b.find(Locator::Id("new-username")).await?.send_keys("new.officer").await?;
    b.find(Locator::Css("input[name='role-officer']")).await?.click().await?;
    b.find(Locator::Css("#add-user button[type=submit]")).await?.click().await?;
    let shown = b.wait().at_most(TIMEOUT).for_element(Locator::Id("generated-password")).await?.text().await?;
    assert!(shown.len() >= 12, "a generated password, shown once: {shown}");
    let table = b.find(Locator::Css("table.users")).await?.text().await?;
    assert!(table.contains("new.officer"), "{table}");
    log_out(b).await?;

    // The analyst reads for risk analysis (the role's usual purpose), then for statistics.
    log_in(b, base, "amina.analyst", "").await?;
    b.goto(&format!("{base}/ledger/records/{}", n.record)).await?;
    let json = b.wait().at_most(TIMEOUT).for_element(Locator::Id("record-document")).await?.text().await?;
    assert!(json.contains("Shenzhen Example Electronics"), "{json}");
    b.find(Locator::Css("#session-purpose option[value='statistics']")).await?.click().await?;
    b.find(Locator::Css("#purpose-form button[type=submit]")).await?.click().await?;
    let withheld = b.wait().at_most(TIMEOUT).for_element(Locator::Id("withheld")).await?.text().await?;
    assert!(withheld.contains("payload.Declaration.Exporter"), "{withheld}");
    let json = b.find(Locator::Id("record-document")).await?.text().await?;
    assert!(!json.contains("Shenzhen Example Electronics"), "{json}");
    log_out(b).await?;

    // The auditor sees both reads, filters them, and can export them.
    log_in(b, base, "olu.auditor", "audit").await?;
    b.goto(&format!("{base}/audit")).await?;
    let rows =
        b.wait().at_most(TIMEOUT).for_element(Locator::Id("audit")).await?.find_all(Locator::Css("tbody tr")).await?;
    assert!(rows.len() >= 2, "the analyst's reads");
    b.find(Locator::Css("#audit-filter input[name=actor]")).await?.send_keys("amina.analyst").await?;
    b.find(Locator::Css("#audit-filter select[name=purpose] option[value='statistics']")).await?.click().await?;
    b.find(Locator::Css("#audit-filter button[type=submit]")).await?.click().await?;
    wait_for_url(b, "actor=amina.analyst").await?;
    let table = b.find(Locator::Id("audit")).await?;
    let rows = table.find_all(Locator::Css("tbody tr")).await?;
    assert_eq!(rows.len(), 1, "one read for statistics");
    let text = rows[0].text().await?;
    assert!(text.contains("amina.analyst") && text.contains("payload.Declaration.Exporter"), "{text}");
    let csv = b.find(Locator::Id("audit-csv")).await?.attr("href").await?.unwrap_or_default();
    assert!(
        csv.starts_with("/api/v1/audit?actor=amina.analyst&purpose=statistics") && csv.contains("format=csv"),
        "{csv}"
    );
    Ok(())
}

struct NodeView {
    base: String,
    record: String,
}

#[tokio::test]
async fn people_log_in_with_passwords_and_the_users_and_audit_pages_work_in_the_browser() {
    let n: LedgerNode = start().await;
    let tx = n.put(2, "declaration.json", "LRN-BROWSER-PEOPLE", 1, 1);
    let record = borderlink_ledger::auth::path_segment(&tx.body.record_id);
    assert_eq!(n.post(&tx).await.0, 201);
    for (user, role) in [("ada.admin", "administrator"), ("amina.analyst", "analyst"), ("olu.auditor", "auditor")] {
        assert_eq!(n.add_user(user, &[role], PASSWORD, false).await.0, 201);
    }
    let view = NodeView { base: n.base.clone(), record };
    in_browser(|b| async move { drive(&b, &view).await }).await;
}
