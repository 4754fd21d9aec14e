//! The risk console over HTTP: the queue's CSV export (its type, header, filters, quoting) and
//! the permission checks of the criteria and model forms.

use serde_json::Value;

use crate::browser_risk::{model_bytes, setup};
use crate::ledger::{csrf_of, form_body, login_person, no_redirect, start, start_configured};

const PASSWORD: &str = "risk console password 2026";

/// A `multipart/form-data` body with the session's token first and `bytes` as the `model` file.
fn model_form(csrf: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----borderlinkRiskTest7";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"model\"; filename=\"m.blrm\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_queue_exports_as_csv_with_its_filters() {
    let n = start().await;
    let queued = setup(&n).await;
    let http = no_redirect();
    let r = http.get(format!("{}/risk/queue.csv", n.base)).header("cookie", n.cookie()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let kind = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(kind, "text/csv; charset=utf-8");
    let disposition =
        r.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("declaration,ledger_record,office,day,lane,"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + queued.len(), "{text}");
    assert!(text.contains(",goods depart from a country other than their origin"), "reasons in words: {text}");
    let lane = queued[0]["lane"].as_str().unwrap().to_owned();
    let expected = queued.iter().filter(|a| a["lane"] == lane.as_str()).count();
    let r =
        http.get(format!("{}/risk/queue.csv?lane={lane}", n.base)).header("cookie", n.cookie()).send().await.unwrap();
    let text = r.text().await.unwrap();
    let rows: Vec<&str> = text.split("\r\n").skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), expected, "{text}");
    assert!(rows.iter().all(|l| l.split(',').nth(4) == Some(lane.as_str())), "{text}");
    // An office no declaration came through: only the header.
    let r = http
        .get(format!("{}/risk/queue.csv?office=XX999999", n.base))
        .header("cookie", n.cookie())
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().split("\r\n").filter(|l| !l.is_empty()).count(), 1);
    // An officer's text with a comma, quotes and a leading `=`: quoted, and never a formula.
    let r = crate::test_node::client()
        .post(format!("{}/api/v1/risk/overrides", n.base))
        .header("cookie", n.cookie())
        .json(&serde_json::json!({"declarationId": "LRN-RISK-001", "lane": "RED",
            "reason": "=HYPERLINK(\"x\"), checked by phone", "officer": "o-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(format!("{}/risk/queue.csv", n.base)).header("cookie", n.cookie()).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains(",o-1,\"'=HYPERLINK(\"\"x\"\"), checked by phone\","), "{text}");

    // Without a session: no export.
    let r = http.get(format!("{}/risk/queue.csv", n.base)).send().await.unwrap();
    assert!(r.status() == 303 || r.status() == 401, "{}", r.status());
}

#[tokio::test]
async fn reading_risk_does_not_allow_changing_criteria_or_the_model() {
    let n = start().await;
    let (status, body) = n.add_user("analyst.risk", &["analyst"], PASSWORD, false).await;
    assert_eq!(status, 201, "{body}");
    let session = login_person(&n.base, "analyst.risk", PASSWORD, None).await.expect("the analyst logs in");
    let cookie = format!("borderlink_session={session}");
    let csrf = csrf_of(&n.base, &cookie).await;
    let http = no_redirect();
    let r = http.get(format!("{}/risk/criteria", n.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 200, "an analyst reads the criteria");
    let criterion = [
        ("csrf", csrf.as_str()),
        ("id", "ANALYST"),
        ("name", "Not allowed"),
        ("lane", "RED"),
        ("weight", "1"),
        ("condition", r#"{"kind": "route_differs"}"#),
    ];
    let post = |path: &str, body: String, cookie: &str| {
        http.post(format!("{}{path}", n.base))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    for path in ["/risk/criteria", "/risk/criteria/ANALYST", "/risk/criteria/ANALYST/retire", "/risk/model/activate"] {
        let r = post(path, form_body(&criterion), &cookie).send().await.unwrap();
        assert_eq!(r.status(), 403, "POST {path} by read-risk");
    }
    let r = http.get(format!("{}/risk/criteria/new", n.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 403, "the new-criterion form needs change-risk");
    let (kind, body) = model_form(&csrf, &model_bytes());
    let r = http
        .post(format!("{}/risk/model", n.base))
        .header("cookie", &cookie)
        .header("content-type", kind)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "uploading a model needs change-risk");
    let (_, criteria) = n.get_signed(0, "/api/v1/risk/criteria").await;
    assert_eq!(criteria["criteria"].as_array().map(Vec::len), Some(0), "{criteria}");

    // The operator may; a bad form is refused field by field with 422.
    let operator = n.cookie();
    let csrf = csrf_of(&n.base, &operator).await;
    let mut ok = criterion;
    ok[0] = ("csrf", csrf.as_str());
    let r = post("/risk/criteria", form_body(&ok), &operator).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(location, "/risk/criteria/ANALYST?saved=created");
    let mut bad = ok;
    bad[5] = ("condition", r#"{"kind": "in_list", "field": "importer", "list": "nowhere"}"#);
    let r = post("/risk/criteria", form_body(&bad), &operator).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("already exists") && page.contains("unknown list"), "{page}");
    // The API still reads and replaces the set the editor wrote.
    let (_, criteria) = n.get_signed(0, "/api/v1/risk/criteria").await;
    assert_eq!(criteria["criteria"][0]["id"], "ANALYST", "{criteria}");
    let r = crate::test_node::client()
        .put(format!("{}/api/v1/risk/criteria", n.base))
        .header("cookie", &operator)
        .body(serde_json::to_vec(&criteria).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["criteria"], 1);
}

#[tokio::test]
async fn a_model_larger_than_the_limit_is_refused_with_a_clear_error() {
    let limit = 64 * 1024;
    let n = start_configured(|c| c.max_body_bytes = limit).await;
    let csrf = csrf_of(&n.base, &n.cookie()).await;
    let http = no_redirect();
    let upload = |bytes: Vec<u8>| {
        let (kind, body) = model_form(&csrf, &bytes);
        http.post(format!("{}/risk/model", n.base)).header("cookie", n.cookie()).header("content-type", kind).body(body)
    };
    let r = upload(vec![b'x'; limit + 1]).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("larger than the node&#39;s limit of 64 KiB")
            || page.contains("larger than the node's limit of 64 KiB"),
        "{page}"
    );
    let r = upload(b"not a model".to_vec()).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("The model was not uploaded"));
    // A real one is kept aside, not activated, until its report is read and it is activated.
    let r = upload(model_bytes()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (status, _) = n.get_signed(0, "/api/v1/risk/model").await;
    assert_eq!(status, 404, "uploaded is not active");
}
