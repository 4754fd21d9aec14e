//! The EPCIS 2.0 REST bindings (`/epcis`): documents captured in JSON-LD and XML and queried
//! back (filters, pipe lists, paging by `Link`), rollback and proceed, `eventID` conflicts,
//! duplicates, schema violations refused with their reason, the guard, and `OPTIONS`.

use std::collections::BTreeSet;

use borderlink_iot::epcis::Format;
use borderlink_iot::epcis::hash::document_hash_ids;
use reqwest::Method;
use serde_json::{Value, json};

use crate::ledger::{LedgerNode, start};
use crate::test_node::client;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/epcis-hash");

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!("{VECTORS}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected_hashes(name: &str) -> Vec<String> {
    String::from_utf8(vector(name)).unwrap().lines().map(str::to_owned).collect()
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A request signed by member `signer` (none: anonymous) with a body of `content_type`.
async fn call(
    n: &LedgerNode,
    signer: Option<usize>,
    method: Method,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = client().request(method.clone(), format!("{}{path}", n.base));
    if let Some(s) = signer {
        req = req.header("authorization", n.auth(s, method.as_str(), path, &body));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if !body.is_empty() {
        req = req.body(body);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

async fn capture(n: &LedgerNode, body: Vec<u8>, content_type: &str, behaviour: Option<&str>) -> Answer {
    let mut headers = vec![("content-type", content_type)];
    if let Some(b) = behaviour {
        headers.push(("GS1-Capture-Error-Behaviour", b));
    }
    call(n, Some(0), Method::POST, "/epcis/capture", body, &headers).await
}

async fn get(n: &LedgerNode, path: &str) -> Answer {
    call(n, Some(1), Method::GET, path, Vec::new(), &[]).await
}

/// The hash IDs of the events of a query document, in its order.
fn hashes_of(doc: &Value) -> Vec<String> {
    document_hash_ids(doc.to_string().as_bytes(), Format::Json)
        .unwrap_or_else(|e| panic!("the query document does not parse: {e}\n{doc}"))
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

/// Every page of a query, following `Link: <…>; rel="next"`; the hash IDs of the events.
async fn query_all(n: &LedgerNode, query: &str) -> (Vec<String>, usize) {
    let mut path = format!("/epcis/events?{query}");
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let a = get(n, &path).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.body["type"], "EPCISQueryDocument", "{}", a.body);
        assert_eq!(a.header("GS1-EPCIS-Version"), "2.0.0");
        ids.extend(hashes_of(&a.body));
        pages += 1;
        let link = a.header("link").to_owned();
        if link.is_empty() {
            return (ids, pages);
        }
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        path = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
        assert!(pages < 100, "paging does not end");
    }
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

fn pick(all: &[String], indices: &[usize]) -> BTreeSet<String> {
    indices.iter().map(|i| all[*i].clone()).collect()
}

#[tokio::test]
async fn json_ld_and_xml_captures_are_queried_back_with_filters_and_paging() {
    let n = start().await;
    let expected = expected_hashes("epcisDocWithVariousEventTypes.hashes");
    assert_eq!(expected.len(), 13);

    let a = capture(&n, vector("epcisDocWithVariousEventTypes.jsonld"), "application/ld+json", None).await;
    assert_eq!(a.status, 202, "{}", a.body);
    let location = a.header("location").to_owned();
    assert!(location.starts_with("/epcis/capture/"), "{location}");
    let job = call(&n, Some(0), Method::GET, &location, Vec::new(), &[]).await;
    assert_eq!(job.status, 200, "{}", job.body);
    assert_eq!(job.body["captureID"], location.trim_start_matches("/epcis/capture/"));
    assert_eq!(
        (&job.body["running"], &job.body["success"], &job.body["captureErrorBehaviour"]),
        (&json!(false), &json!(true), &json!("rollback")),
        "{}",
        job.body
    );
    assert_eq!((job.body["stored"].as_u64(), job.body["errors"].as_array().map(Vec::len)), (Some(13), Some(0)));
    assert!(job.body["finishedAt"].is_string() && job.body["createdAt"].is_string());

    // The XML twin: the same 13 events by their hash IDs, so all duplicates, none an error.
    let a = capture(&n, vector("epcisDocWithVariousEventTypes.xml"), "application/xml", None).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!((a.body["success"].as_bool(), a.body["stored"].as_u64()), (Some(true), Some(0)), "{}", a.body);
    assert_eq!(a.body["duplicates"], 13);

    // Everything, 5 per page: three pages, each event once.
    let (all, pages) = query_all(&n, "perPage=5").await;
    assert_eq!((all.len(), pages), (13, 3));
    assert_eq!(set(&all), set(&expected), "the events come back with the hash IDs of the reference");

    // Filters, lists among them, with paging.
    let cases: [(&str, &[usize]); 9] = [
        ("eventType=AggregationEvent|TransactionEvent&perPage=4", &[4, 5, 6, 7, 8, 9]),
        ("EQ_bizStep=packing", &[4, 5]),
        ("EQ_bizStep=urn:epcglobal:cbv:bizstep:packing|unpacking&perPage=1", &[4, 5, 6, 7]),
        ("EQ_action=DELETE", &[6, 7]),
        ("MATCH_epc=urn:epc:id:sscc:5200001.0111111146", &[0, 1]),
        ("MATCH_parentID=urn:epc:id:sscc:4012344.0111111144", &[6]),
        ("EQ_readPoint=urn:epc:id:sgln:4012345.00025.0&EQ_action=ADD|DELETE", &[5, 6, 9]),
        // LT is exclusive: events 9 to 12 are at 12:58:56.591Z exactly; `+` written as `%2B`.
        ("GE_eventTime=2019-10-21T13:00:00%2B01:00&LT_eventTime=2019-10-21T12:58:56.591Z", &[3, 7]),
        ("GE_eventTime=2019-10-21T12:58:56.591Z&eventType=TransformationEvent", &[10, 11, 12]),
    ];
    for (query, want) in cases {
        let (found, _) = query_all(&n, query).await;
        assert_eq!(set(&found), pick(&expected, want), "{query}");
        assert_eq!(found.len(), want.len(), "{query}: an event twice");
    }

    // The same page in XML, for `Accept: application/xml`: the same events, the same hash IDs.
    let xml =
        call(&n, Some(1), Method::GET, "/epcis/events?perPage=20", Vec::new(), &[("accept", "application/xml")]).await;
    assert_eq!((xml.status, xml.header("content-type")), (200, "application/xml"));
    let Value::String(text) = &xml.body else { panic!("not XML: {}", xml.body) };
    assert!(text.contains("EPCISQueryDocument") && text.contains("<EventList>"), "{text}");
    let from_xml: Vec<String> = document_hash_ids(text.as_bytes(), Format::Xml)
        .expect("the XML reads back")
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    assert_eq!(set(&from_xml), set(&expected));
    let csv = call(&n, Some(1), Method::GET, "/epcis/events", Vec::new(), &[("accept", "text/csv")]).await;
    assert_eq!((csv.status, csv.body["type"].as_str()), (406, Some("epcisException:NotAcceptableException")));

    // One event, by its hash ID (URL-encoded).
    let id = &expected[4];
    let path = format!("/epcis/events/{}", borderlink_ledger::auth::path_segment(id));
    let one = get(&n, &path).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(one.body["recordTime"].is_string(), "{}", one.body);
    let wrapped = json!({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
        "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": [one.body]}});
    assert_eq!(hashes_of(&wrapped), std::slice::from_ref(id));
}

/// A document of `events`.
fn document(events: Vec<Value>) -> Vec<u8> {
    json!({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
        "schemaVersion": "2.0", "creationDate": "2026-03-09T04:41:08Z", "epcisBody": {"eventList": events}})
    .to_string()
    .into_bytes()
}

fn observe(serial: u32) -> Value {
    json!({"type": "ObjectEvent", "eventTime": format!("2026-03-09T04:{:02}:08.000+02:00", serial % 60),
        "eventTimeZoneOffset": "+02:00", "action": "OBSERVE", "bizStep": "shipping",
        "epcList": [format!("urn:epc:id:sgtin:0614141.107346.{serial}")]})
}

async fn count(n: &LedgerNode, query: &str) -> usize {
    query_all(n, query).await.0.len()
}

#[tokio::test]
async fn rollback_stores_nothing_and_proceed_stores_the_valid_events() {
    let n = start().await;
    let mut bad = observe(2);
    bad["action"] = "MOVE".into();
    let doc = document(vec![observe(1), bad, observe(3)]);

    let a = capture(&n, doc.clone(), "application/json", None).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!((a.body["success"].as_bool(), a.body["stored"].as_u64()), (Some(false), Some(0)), "{}", a.body);
    let errors = a.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", a.body);
    assert_eq!(errors[0]["type"], "epcisException:ValidationException");
    let detail = errors[0]["detail"].as_str().unwrap();
    assert!(detail.contains("event 1") && detail.contains("`action`") && detail.contains("MOVE"), "{detail}");
    assert_eq!(count(&n, "MATCH_epc=urn:epc:id:sgtin:0614141.107346.*").await, 0, "rollback stored something");

    let a = capture(&n, doc, "application/json", Some("proceed")).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.body["captureErrorBehaviour"], "proceed");
    assert_eq!((a.body["success"].as_bool(), a.body["stored"].as_u64()), (Some(false), Some(2)), "{}", a.body);
    assert_eq!(a.body["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(count(&n, "MATCH_epc=urn:epc:id:sgtin:0614141.107346.*").await, 2);

    let a = capture(&n, document(vec![observe(4)]), "application/json", Some("sometimes")).await;
    assert_eq!((a.status, a.body["type"].as_str()), (400, Some("epcisException:ValidationException")), "{}", a.body);
}

#[tokio::test]
async fn an_event_id_naming_another_event_is_a_conflict_and_a_resent_event_a_duplicate() {
    let n = start().await;
    let mut e = observe(7);
    e["eventID"] = "urn:uuid:6c4e2e0a-0000-4000-8000-000000000001".into();
    let post = |body: Value| {
        let n = &n;
        async move {
            let bytes = body.to_string().into_bytes();
            call(n, Some(2), Method::POST, "/epcis/events", bytes, &[("content-type", "application/ld+json")]).await
        }
    };
    let a = post(e.clone()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let location = a.header("location").to_owned();
    assert!(location.starts_with("/epcis/events/ni%3A%2F%2F%2Fsha-256"), "{location}");
    assert_eq!(get(&n, &location).await.status, 200);
    let by_id = get(&n, "/epcis/events/urn%3Auuid%3A6c4e2e0a-0000-4000-8000-000000000001").await;
    assert_eq!((by_id.status, &by_id.body["action"]), (200, &json!("OBSERVE")), "{}", by_id.body);

    let again = post(e.clone()).await;
    assert_eq!((again.status, again.header("location")), (200, location.as_str()), "a re-sent event is a duplicate");

    let mut other = e.clone();
    other["action"] = "ADD".into();
    let a = post(other).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.body["type"], "epcisException:ResourceAlreadyExistsException");
    assert!(a.body["detail"].as_str().unwrap().contains("urn:uuid:6c4e2e0a"), "{}", a.body);
    assert_eq!(a.header("content-type"), "application/problem+json");

    // In a document, the same conflict is the job's error for that event, nothing stored.
    let mut twin = observe(8);
    twin["eventID"] = e["eventID"].clone();
    let a = capture(&n, document(vec![observe(9), twin]), "application/json", None).await;
    assert_eq!((a.body["success"].as_bool(), a.body["stored"].as_u64()), (Some(false), Some(0)), "{}", a.body);
    assert_eq!(a.body["errors"][0]["type"], "epcisException:ResourceAlreadyExistsException");
    assert_eq!(count(&n, "MATCH_epc=urn:epc:id:sgtin:0614141.107346.9").await, 0);

    let missing = get(&n, "/epcis/events/urn%3Auuid%3Anobody").await;
    assert_eq!((missing.status, missing.body["type"].as_str()), (404, Some("epcisException:NoSuchResourceException")));
}

#[tokio::test]
async fn schema_violations_are_refused_with_their_reason_and_nothing_is_stored() {
    let n = start().await;
    let problem = |a: &Answer, status: u16, kind: &str, needle: &str| {
        assert_eq!(a.status, status, "{}", a.body);
        assert_eq!(a.body["type"], format!("epcisException:{kind}"), "{}", a.body);
        assert_eq!(a.body["status"], status);
        let detail = a.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "`{needle}` not in: {detail}");
    };
    let a = capture(&n, b"{\"type\": \"EPCISDocument\",".to_vec(), "application/json", None).await;
    problem(&a, 400, "ValidationException", "malformed JSON");
    let a = capture(&n, b"<epcis:EPCISDocument xmlns:epcis=\"urn:x\"><unclosed>".to_vec(), "text/xml", None).await;
    problem(&a, 400, "ValidationException", "XML");
    let not_a_document = b"<Other><EventList><ObjectEvent/></EventList></Other>".to_vec();
    let a = capture(&n, not_a_document, "application/xml", None).await;
    problem(&a, 400, "ValidationException", "the root element is `Other`");

    let mut no_date: Value = serde_json::from_slice(&document(vec![observe(1)])).unwrap();
    no_date.as_object_mut().unwrap().remove("creationDate");
    let a = capture(&n, no_date.to_string().into_bytes(), "application/json", None).await;
    problem(&a, 400, "ValidationException", "creationDate");

    let mut numeric_time = observe(2);
    numeric_time["eventTime"] = json!(1_773_024_068);
    let mut no_offset = observe(3);
    no_offset.as_object_mut().unwrap().remove("eventTimeZoneOffset");
    let mut transformation_action = observe(4);
    transformation_action["type"] = "TransformationEvent".into();
    let a = capture(&n, document(vec![numeric_time, no_offset, transformation_action]), "application/json", None).await;
    assert_eq!(a.status, 202, "{}", a.body);
    let details: Vec<&str> = a.body["errors"].as_array().unwrap().iter().filter_map(|e| e["detail"].as_str()).collect();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details[0].contains("event 0, field `eventTime`: is a number"), "{details:?}");
    assert!(details[1].contains("event 1, field `eventTimeZoneOffset`: is required"), "{details:?}");
    assert!(details[2].contains("event 2, field `action`: a TransformationEvent has no action"), "{details:?}");

    let a = capture(&n, document(vec![observe(5)]), "text/plain", None).await;
    problem(&a, 415, "UnsupportedMediaTypeException", "text/plain");

    let many: Vec<Value> = (0..10_001).map(|_| json!({"type": "ObjectEvent"})).collect();
    let a = capture(&n, document(many), "application/json", None).await;
    problem(&a, 413, "CaptureLimitExceededException", "10000");

    assert_eq!(count(&n, "").await, 0, "a refused document stored events");
}

#[tokio::test]
async fn callers_without_the_permission_are_refused_as_problem_details() {
    let n = start().await;
    let anonymous = call(&n, None, Method::GET, "/epcis/events", Vec::new(), &[]).await;
    assert_eq!((anonymous.status, anonymous.body["type"].as_str()), (401, Some("epcisException:SecurityException")));
    assert_eq!(anonymous.header("content-type"), "application/problem+json");
    // A trader captures events but does not read others' back.
    let trader = call(&n, Some(2), Method::GET, "/epcis/events", Vec::new(), &[]).await;
    assert_eq!((trader.status, trader.body["code"].as_str()), (403, Some("forbidden")), "{}", trader.body);
    let doc = document(vec![observe(1)]);
    let a = call(&n, Some(2), Method::POST, "/epcis/capture", doc, &[("content-type", "application/json")]).await;
    assert_eq!(a.status, 202, "{}", a.body);
    // Its job is its own: another member does not see it.
    let location = a.header("location").to_owned();
    assert_eq!(call(&n, Some(2), Method::GET, &location, Vec::new(), &[]).await.status, 200);
    let other = call(&n, Some(1), Method::GET, &location, Vec::new(), &[]).await;
    assert_eq!(other.status, 404, "{}", other.body);
    let listed = call(&n, Some(1), Method::GET, "/epcis/capture", Vec::new(), &[]).await;
    assert_eq!(listed.body, json!([]), "{}", listed.body);
    let unknown = get(&n, "/epcis/nothing-here").await;
    assert_eq!((unknown.status, unknown.body["type"].as_str()), (404, Some("epcisException:NoSuchResourceException")));
    let bad = get(&n, "/epcis/events?EQ_colour=red").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.body["type"], "epcisException:QueryParameterException");
    assert!(bad.body["detail"].as_str().unwrap().contains("EQ_colour"), "{}", bad.body);
}

#[tokio::test]
async fn options_name_the_methods_the_versions_and_the_capture_limits() {
    let n = start().await;
    let a = call(&n, Some(2), Method::OPTIONS, "/epcis/capture", Vec::new(), &[]).await;
    assert_eq!(a.status, 204);
    assert_eq!(a.header("allow"), "OPTIONS, GET, POST");
    assert_eq!((a.header("GS1-EPCIS-Version"), a.header("GS1-CBV-Version")), ("2.0.0", "2.0.0"));
    assert_eq!(a.header("GS1-EPCIS-Capture-Limit"), "10000");
    let bytes: usize = a.header("GS1-EPCIS-Capture-File-Size-Limit").parse().unwrap();
    assert_eq!(bytes, borderlink_node::DEFAULT_MAX_BODY_BYTES);
    assert!(a.headers.contains_key("GS1-Extensions"));
    let e = call(&n, Some(1), Method::OPTIONS, "/epcis/events", Vec::new(), &[]).await;
    assert_eq!((e.status, e.header("allow"), e.header("GS1-EPCIS-Version")), (204, "OPTIONS, GET, POST", "2.0.0"));
    let anonymous = call(&n, None, Method::OPTIONS, "/epcis/events", Vec::new(), &[]).await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn refused_events_are_counted_by_reason_in_the_metrics() {
    let n = crate::ledger::start_configured(|c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let url = format!("http://{}/metrics", n.metrics.expect("the metrics listener"));
    // Nodes of other tests in this process share the member id, so counts only grow.
    let read = |text: &str, reason: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("borderlink_epcis_refused_total{") && l.contains(&format!("reason=\"{reason}\"")))
            .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
            .sum()
    };
    let before = client().get(&url).send().await.unwrap().text().await.unwrap();
    let mut bad = observe(1);
    bad["action"] = "MOVE".into();
    let mut missing = observe(2);
    missing.as_object_mut().unwrap().remove("eventTimeZoneOffset");
    let a = capture(&n, document(vec![bad, missing, observe(3)]), "application/json", Some("proceed")).await;
    assert_eq!(a.body["stored"], 1, "{}", a.body);
    let a = capture(&n, b"not json".to_vec(), "application/json", None).await;
    assert_eq!(a.status, 400);
    let after = client().get(&url).send().await.unwrap().text().await.unwrap();
    for reason in ["bad-value", "missing-field", "invalid-document"] {
        assert!(read(&after, reason) >= read(&before, reason) + 1.0, "{reason} not counted:\n{after}");
    }
}
