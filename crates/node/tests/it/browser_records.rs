//! Records in a real browser: an officer searches from the header's box and opens the
//! declaration found, reads it as a document (parties, containers, goods items with their HS
//! descriptions), opens its older version and the diff between the two, then pages through the
//! ledger's declarations with a filter whose URL stays stable.

use fantoccini::{Client, Locator};

use crate::browser::{TIMEOUT, in_browser};
use crate::ledger::{keyed, start};
use crate::samples::sample_bytes;

const PASSWORD: &str = "correct horse battery 9";
const NEW_DESCRIPTION: &str = "Laptop computers, 15-inch, 1.8 kg each";

/// Waits until the address bar holds `part`.
async fn wait_for_url(b: &Client, part: &str) -> Result<(), fantoccini::error::CmdError> {
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !b.current_url().await?.as_str().contains(part) {
        assert!(std::time::Instant::now() < deadline, "the page did not reach {part}: {}", b.current_url().await?);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn text_of(b: &Client, id: &str) -> Result<String, fantoccini::error::CmdError> {
    b.wait().at_most(TIMEOUT).for_element(Locator::Id(id)).await?.text().await
}

struct Setup {
    base: String,
    laptops: &'static str,
}

async fn drive(b: &Client, s: &Setup) -> Result<(), fantoccini::error::CmdError> {
    let base = &s.base;
    b.goto(&format!("{base}/login")).await?;
    b.find(Locator::Id("username")).await?.send_keys("bea.officer").await?;
    b.find(Locator::Id("password")).await?.send_keys(PASSWORD).await?;
    b.find(Locator::Css("#login-form button[type=submit]")).await?.click().await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("purpose-form")).await?;

    // Search from the box in the header, open the result.
    b.find(Locator::Id("site-search-q")).await?.send_keys("lrn-browse-1").await?;
    b.find(Locator::Css("#site-search button[type=submit]")).await?.click().await?;
    wait_for_url(b, "/search?q=lrn-browse-1").await?;
    let results = text_of(b, "search-results").await?;
    assert!(results.contains("Declarations") && results.contains("LRN-BROWSE-1"), "{results}");
    assert!(results.contains("Declaration number (LRN)"), "what matched is said: {results}");
    b.find(Locator::Css("a.search-hit")).await?.click().await?;
    wait_for_url(b, "/ledger/records/").await?;

    // The declaration as a document, its current version.
    let doc = text_of(b, "declaration-document").await?;
    for expected in [
        "LRN-BROWSE-1",
        "Shenzhen Example Electronics",
        "MSKU1234565",
        "CN7788990",
        "84713000",
        s.laptops,
        NEW_DESCRIPTION,
    ] {
        assert!(doc.contains(expected), "{expected} is not in the document: {doc}");
    }
    let history = text_of(b, "history").await?;
    assert!(history.contains("created") && history.contains("updated") && !history.contains(" put "), "{history}");
    assert!(b.find(Locator::Id("record-json")).await?.text().await?.is_empty(), "the JSON is folded away");
    b.find(Locator::Css("details.record-json summary")).await?.click().await?;
    assert!(
        b.find(Locator::Id("record-json")).await?.text().await?.contains("FunctionalReferenceID"),
        "one click away"
    );

    // The older version.
    b.find(Locator::Css("#history a[href$='?version=1']")).await?.click().await?;
    wait_for_url(b, "version=1").await?;
    let title = text_of(b, "version-title").await?;
    assert!(title.contains("Version 1 of 2"), "{title}");
    let doc = text_of(b, "declaration-document").await?;
    assert!(doc.contains("Portable laptop computers") && !doc.contains(NEW_DESCRIPTION), "{doc}");

    // The diff between the two versions.
    b.find(Locator::Css("a.diff-link")).await?.click().await?;
    wait_for_url(b, "/diff?from=1&to=2").await?;
    let diff = text_of(b, "diff").await?;
    assert!(diff.contains("Commodity › Description"), "{diff}");
    assert!(diff.contains("Portable laptop computers") && diff.contains(NEW_DESCRIPTION), "{diff}");
    let changed = b.find_all(Locator::Css("#diff tbody tr")).await?.len();
    assert_eq!(changed, 1, "only the description changed: {diff}");

    // The ledger's declarations, filtered and paged; the URL says it all.
    b.goto(&format!("{base}/ledger")).await?;
    b.wait().at_most(TIMEOUT).for_element(Locator::Id("ledger-filter")).await?;
    b.find(Locator::Css("#ledger-filter select[name=type] option[value='declaration']")).await?.click().await?;
    b.find(Locator::Css("#ledger-filter button[type=submit]")).await?.click().await?;
    wait_for_url(b, "type=declaration").await?;
    let pager = text_of(b, "records-pager").await?;
    assert!(pager.contains("Showing 1–20 of 23 records"), "{pager}");
    b.find(Locator::Css("#records-pager a.next")).await?.click().await?;
    wait_for_url(b, "page=2").await?;
    let url = b.current_url().await?;
    assert_eq!(url.query(), Some("type=declaration&page=2"), "{url}");
    let second = text_of(b, "records-pager").await?;
    assert!(second.contains("Showing 21–23 of 23 records"), "{second}");
    let rows = b.find_all(Locator::Css("#records tbody tr")).await?.len();
    assert_eq!(rows, 3);
    // The same address shows the same page again.
    b.goto(url.as_str()).await?;
    assert!(text_of(b, "records-pager").await?.contains("Showing 21–23 of 23 records"));
    b.find(Locator::Css("#records-pager a.prev")).await?.click().await?;
    wait_for_url(b, "/ledger?type=declaration").await?;
    assert!(text_of(b, "records-pager").await?.contains("Showing 1–20 of 23 records"));
    Ok(())
}

#[tokio::test]
async fn an_officer_searches_reads_a_declaration_and_its_changes_and_pages_the_ledger_in_the_browser() {
    let n = start().await;
    // The declaration, then a second version whose second goods item is described anew.
    let v1 = keyed(&sample_bytes("declaration.json"), "LRN-BROWSE-1");
    let id = n.id_of(2, &v1);
    assert_eq!(n.post(&n.put_bytes(2, v1.clone(), &id, 1, 1)).await.0, 201);
    let mut v2: serde_json::Value = serde_json::from_slice(&v1).unwrap();
    v2["Declaration"]["GoodsShipment"]["GovernmentAgencyGoodsItem"][0]["Commodity"]["Description"] =
        NEW_DESCRIPTION.into();
    let (status, reply) = n.post(&n.put_bytes(2, serde_json::to_vec(&v2).unwrap(), &id, 2, 2)).await;
    assert_eq!(status, 201, "{reply}");
    for i in 0..22u64 {
        assert_eq!(n.post(&n.put(2, "declaration.json", &format!("LRN-PAGE-{i:02}"), 1, 10 + i)).await.0, 201);
    }
    assert_eq!(n.add_user("bea.officer", &["officer"], PASSWORD, false).await.0, 201);
    crate::search::wait_for(&n, "LRN-BROWSE-1", 1).await;
    let laptops = borderlink_model::codelists::hs_subheading("847130").expect("HS 847130 is described");
    let setup = Setup { base: n.base.clone(), laptops };
    in_browser(|b| async move { drive(&b, &setup).await }).await;
}
