//! Purpose-bound reads and the audit trail, through the API and the console: a read without a
//! purpose is refused, the read policy decides per purpose and reader, withheld fields are
//! removed and named, every read is audited, and an audit entry's proof verifies offline
//! against the genesis (and fails once the entry is altered).

use serde_json::Value;

use crate::ledger::{LedgerNode, login_person, start_configured};
use crate::test_node::client;

const AEO: usize = 2;
const GB: usize = 0;
const NL: usize = 1;

fn enc(s: &str) -> String {
    borderlink_ledger::auth::path_segment(s)
}

/// GB customs' node with two declarations: one the AEO declared, one of another declarant
/// (lodged by GB customs).
async fn node_with_declarations() -> (LedgerNode, String, String) {
    let n = start_configured(|c| c.access.audit_anchor_seconds = 3600).await;
    let own = n.put(AEO, "declaration.json", "LRN-PURPOSE-1", 1, 1);
    let own_id = own.body.record_id.clone();
    assert_eq!(n.post(&own).await.0, 201);
    let sample = String::from_utf8(crate::samples::sample_bytes("declaration.json"))
        .unwrap()
        .replace("GB553202734852", "GB123456789000");
    let other = crate::ledger::keyed(sample.as_bytes(), "LRN-PURPOSE-2");
    let other_id = n.id_of(GB, &other);
    let (status, reply) = n.post(&n.put_bytes(GB, other, &other_id, 1, 2)).await;
    assert_eq!(status, 201, "{reply}");
    (n, own_id, other_id)
}

async fn get_with(n: &LedgerNode, signer: usize, path: &str, purpose: Option<&str>) -> (u16, Value, Option<String>) {
    let auth = n.auth(signer, "GET", path, b"");
    let mut r = client().get(format!("{}{path}", n.base)).header("authorization", auth);
    if let Some(p) = purpose {
        r = r.header("borderlink-purpose", p);
    }
    let r = r.send().await.unwrap();
    let withheld = r.headers().get("borderlink-withheld").map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null), withheld)
}

async fn audit(n: &LedgerNode, query: &str) -> Vec<Value> {
    let (status, body) = n.get_signed(GB, &format!("/api/v1/audit{query}")).await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn reads_need_an_allowed_purpose_and_withheld_fields_are_named() {
    let (n, own, other) = node_with_declarations().await;
    let record = format!("/api/v1/records/{}", enc(&own));

    // No purpose: refused, on every content read.
    for path in [
        record.clone(),
        format!("{record}/history"),
        "/api/v1/records".to_owned(),
        format!("/api/v1/proofs/{}", enc(&own)),
    ] {
        let (status, body, _) = get_with(&n, GB, &path, None).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("purpose_required")), "{path}: {body}");
    }
    // A purpose that does not exist.
    let (status, body, _) = get_with(&n, GB, &record, Some("curiosity")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("unknown_purpose")), "{body}");
    // Two different purposes.
    let (status, _, _) = get_with(&n, GB, &format!("{record}?purpose=audit"), Some("clearance")).await;
    assert_eq!(status, 400);

    // Customs clears with everything; the purpose is in the answer.
    let (status, body, withheld) = get_with(&n, GB, &record, Some("clearance")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["purpose"], "clearance");
    assert_eq!(body["withheld"], serde_json::json!([]));
    assert!(withheld.is_none());
    assert_eq!(body["payload"]["Declaration"]["Exporter"]["Name"], "Shenzhen Example Electronics Co., Ltd.");

    // Statistics: the parties are withheld, named in the body and the header.
    let (status, body, withheld) = get_with(&n, GB, &format!("{record}?purpose=statistics"), None).await;
    assert_eq!(status, 200, "{body}");
    let named: Vec<&str> = body["withheld"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(named.contains(&"payload.Declaration.Exporter"), "{named:?}");
    assert!(named.contains(&"payload.Declaration.Declarant"), "{named:?}");
    assert!(body["payload"]["Declaration"].get("Exporter").is_none(), "{body}");
    assert!(named.contains(&"meta.declarant"), "{named:?}");
    assert!(!body["payload"].to_string().contains("GB553202734852"), "no party identifier left: {body}");
    assert_eq!(body["meta"]["declarant"], "");
    assert!(withheld.unwrap().contains("payload.Declaration.Exporter"));
    // A proof carries the whole record: not for statistics.
    let (status, body, _) = get_with(&n, GB, &format!("/api/v1/proofs/{}", enc(&own)), Some("statistics")).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("purpose_not_allowed")), "{body}");

    // The AEO reads its own declaration for clearance, not another's, and not for risk analysis.
    assert_eq!(get_with(&n, AEO, &record, Some("clearance")).await.0, 200);
    let (status, body, _) = get_with(&n, AEO, &format!("/api/v1/records/{}", enc(&other)), Some("clearance")).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("purpose_not_allowed")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("read-policy"), "the refusal says where the rules are: {body}");
    let (status, _, _) = get_with(&n, AEO, &record, Some("risk-analysis")).await;
    assert_eq!(status, 403);
    // Its list leaves out what it may not read.
    let (status, body, _) = get_with(&n, AEO, "/api/v1/records?type=declaration&purpose=clearance", None).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["records"].as_array().unwrap().iter().map(|r| r["record_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![own.as_str()]);

    // Every allowed read was audited, with who, purpose and withheld fields; refusals were not.
    let entries = audit(&n, &format!("?record={}", enc(&own))).await;
    let reads: Vec<(&str, &str)> =
        entries.iter().map(|e| (e["actor"].as_str().unwrap(), e["purpose"].as_str().unwrap())).collect();
    let (gb, aeo) = (n.keys[GB].member.as_str(), n.keys[AEO].member.as_str());
    assert_eq!(
        reads,
        vec![(aeo, "clearance"), (aeo, "clearance"), (gb, "statistics"), (gb, "clearance")],
        "{entries:?}"
    );
    let stats = &entries[2];
    assert_eq!(stats["organisation"], gb);
    assert_eq!(stats["roles"], serde_json::json!(["system"]));
    assert!(stats["withheld"].as_array().unwrap().iter().any(|w| w == "payload.Declaration.Exporter"));
    // The data subject's report: every read of records naming the AEO's trader id.
    let (status, report) = n.get_signed(GB, "/api/v1/audit/subjects/GB553202734852").await;
    assert_eq!(status, 200);
    assert_eq!(report["entries"].as_array().unwrap().len(), 4, "{report}");
    // The other declarant's report has the one read of GB customs… none: only refused reads.
    let (_, report) = n.get_signed(GB, "/api/v1/audit/subjects/GB123456789000").await;
    assert_eq!(report["entries"].as_array().unwrap().len(), 0, "{report}");
    // CSV export with a filter.
    let auth = n.auth(GB, "GET", "/api/v1/audit?purpose=statistics&format=csv", b"");
    let r = client()
        .get(format!("{}/api/v1/audit?purpose=statistics&format=csv", n.base))
        .header("authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains("\"statistics\""), "{csv}");
    // The trader may not read the audit trail.
    assert_eq!(n.get_signed(AEO, "/api/v1/audit").await.0, 403);
    assert_eq!(n.get_signed(NL, "/api/v1/audit").await.0, 403);
}

#[tokio::test]
async fn an_audit_entry_is_proven_untouched_offline_and_an_altered_one_is_not() {
    let (n, own, _) = node_with_declarations().await;
    let record = format!("/api/v1/records/{}", enc(&own));
    assert_eq!(get_with(&n, GB, &record, Some("clearance")).await.0, 200);
    let seq = audit(&n, "").await[0]["seq"].as_u64().unwrap();
    // Not anchored yet: a clear refusal.
    let (status, body) = n.get_signed(GB, &format!("/api/v1/audit/proofs/{seq}")).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_anchored_yet")), "{body}");
    let r = n.post_signed(GB, "/api/v1/audit/anchor", Vec::new()).await;
    let anchored: Value = r.json().await.unwrap();
    let anchor_id = anchored["record_id"].as_str().expect("an anchor").to_owned();
    assert!(anchor_id.starts_with(&format!("document:{}:audit-anchor-", n.member())), "{anchored}");
    // Nothing new: no second anchor.
    let again: Value = n.post_signed(GB, "/api/v1/audit/anchor", Vec::new()).await.json().await.unwrap();
    assert!(again["record_id"].is_null(), "{again}");

    let (status, proof) = n.get_signed(GB, &format!("/api/v1/audit/proofs/{seq}")).await;
    assert_eq!(status, 200, "{proof}");
    let genesis = borderlink_ledger::genesis::Genesis::load(&n._dir.path().join("net").join("genesis.json")).unwrap();
    let parsed: borderlink_access::audit::AuditProof = serde_json::from_value(proof.clone()).unwrap();
    let verified = parsed.verify(&genesis).expect("the proof verifies offline");
    assert_eq!((verified.seq, verified.anchor_record.as_str()), (seq, anchor_id.as_str()));

    // An entry altered after anchoring (another purpose) no longer leads to the anchored root.
    let mut altered = proof.clone();
    altered["entry"]["purpose"] = Value::from("audit");
    let altered: borderlink_access::audit::AuditProof = serde_json::from_value(altered).unwrap();
    let err = altered.verify(&genesis).expect_err("altered");
    assert!(err.contains("altered audit entry"), "{err}");
    // An anchor swapped for another: refused too.
    let mut swapped = proof;
    swapped["anchor"]["last_seq"] = Value::from(seq + 7);
    let swapped: borderlink_access::audit::AuditProof = serde_json::from_value(swapped).unwrap();
    assert!(swapped.verify(&genesis).is_err());
}

#[tokio::test]
async fn a_person_reads_in_the_console_for_the_purpose_declared_and_is_audited() {
    let (n, own, _) = node_with_declarations().await;
    assert_eq!(n.add_user("amina.analyst", &["analyst"], "correct horse battery 9", false).await.0, 201);
    let session = login_person(&n.base, "amina.analyst", "correct horse battery 9", None).await.unwrap();
    let cookie = format!("borderlink_session={session}");
    let page = |path: String| {
        let cookie = cookie.clone();
        let base = n.base.clone();
        async move {
            let r = client().get(format!("{base}{path}")).header("cookie", cookie).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // An analyst reads for risk analysis by default: everything shown, the purpose said.
    let (status, html) = page(format!("/ledger/records/{}", enc(&own))).await;
    assert_eq!(status, 200);
    assert!(html.contains("Read for <strong>risk-analysis</strong>"), "{html}");
    assert!(html.contains("Shenzhen Example Electronics"), "{html}");
    // Declared statistics: the exporter is withheld and named.
    let csrf = crate::ledger::csrf_of(&n.base, &cookie).await;
    let body = crate::ledger::form_body(&[("csrf", &csrf), ("purpose", "statistics"), ("back", "/aeo")]);
    let r = crate::ledger::no_redirect()
        .post(format!("{}/session/purpose", n.base))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/aeo"));
    let (_, html) = page(format!("/ledger/records/{}", enc(&own))).await;
    assert!(html.contains("Withheld for this purpose: payload.Declaration.Declarant"), "{html}");
    assert!(!html.contains("Shenzhen Example Electronics"), "{html}");
    // The analyst may not read the audit trail; the audit shows both reads as the analyst's.
    assert_eq!(page("/audit".into()).await.0, 403);
    let entries = audit(&n, "?actor=amina.analyst").await;
    let purposes: Vec<&str> = entries.iter().map(|e| e["purpose"].as_str().unwrap()).collect();
    assert_eq!(purposes, vec!["statistics", "risk-analysis"]);
    assert_eq!(entries[0]["actor_kind"], "person");
    assert_eq!(entries[0]["roles"], serde_json::json!(["analyst"]));
    // An auditor sees the audit page with the analyst's reads, filtered by a stable URL.
    assert_eq!(n.add_user("olu.auditor", &["auditor"], "correct horse battery 9", false).await.0, 201);
    let auditor = login_person(&n.base, "olu.auditor", "correct horse battery 9", None).await.unwrap();
    let r = client()
        .get(format!("{}/audit?actor=amina.analyst&purpose=statistics", n.base))
        .header("cookie", format!("borderlink_session={auditor}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("<td>amina.analyst (person)</td>").count(), 1, "{html}");
}
