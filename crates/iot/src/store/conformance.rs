//! The conformance suite every [`EventStore`] passes: the embedded store in this crate's tests,
//! PostgreSQL in the node's tests against a real server. It starts from an empty store.
//!
//! Each query's answer is compared with [`EventQuery::matches`] applied to every event stored,
//! in descending event time, and read back page by page: the store's indexes must agree with the
//! reference semantics exactly.

use super::{Cursor, EventQuery, EventStore, StoreError, StoredEvent};

const TYPES: [&str; 3] = ["ObjectEvent", "AggregationEvent", "TransformationEvent"];
const STEPS: [&str; 4] = ["departing", "arriving", "sensor_reporting", "inspecting"];
const DISPOSITIONS: [&str; 3] = ["in_transit", "container_closed", "container_open"];

/// The `i`th event of the suite's fixed set: attributes vary with `i`, event times collide on
/// purpose (every third pair shares one), some events have an `eventID`.
pub fn sample_event(i: u64) -> StoredEvent {
    let n = i as usize;
    StoredEvent {
        hash_id: format!("ni:///sha-256;{i:064x}?ver=CBV2.0"),
        event_id: i.is_multiple_of(4).then(|| format!("urn:uuid:00000000-0000-4000-8000-{i:012}")),
        event_type: TYPES[n % 3].to_owned(),
        event_time_ms: 1_770_000_000_000 + (i as i64 / 2) * 60_000,
        record_time_ms: 1_770_000_100_000 + i as i64,
        action: Some(["ADD", "OBSERVE", "DELETE"][n % 3].to_owned()),
        biz_step: Some(format!("https://ref.gs1.org/cbv/BizStep-{}", STEPS[n % 4])),
        disposition: (!i.is_multiple_of(5)).then(|| format!("https://ref.gs1.org/cbv/Disp-{}", DISPOSITIONS[n % 3])),
        read_point: Some(format!("urn:epc:id:sgln:0614141.00001.{}", i % 3)),
        biz_location: i.is_multiple_of(2).then(|| "urn:epc:id:sgln:0614141.00002.0".to_owned()),
        epcs: vec![
            format!("urn:epc:id:sgtin:0614141.107346.{}", 2000 + i % 7),
            format!("urn:epc:id:sscc:0614141.{i:010}"),
        ],
        parent_id: (i % 3 == 1).then(|| format!("urn:epc:id:grai:0614141.12345.{}", i % 2)),
        other_epcs: if i % 6 == 2 { vec!["urn:epc:id:sgtin:4012345.011111.9".to_owned()] } else { vec![] },
        device: Some(format!("ESEAL-{}", i % 2)),
        json: format!(r#"{{"type":"{}","n":{i}}}"#, TYPES[n % 3]),
    }
}

/// The queries the suite asks, each with a name for the failure message.
fn queries() -> Vec<(&'static str, EventQuery)> {
    let t0 = 1_770_000_000_000;
    let q = EventQuery::default;
    vec![
        ("everything", q()),
        ("eventType", EventQuery { event_types: vec!["ObjectEvent".into(), "TransformationEvent".into()], ..q() }),
        (
            "GE/LT_eventTime",
            EventQuery { ge_event_time_ms: Some(t0 + 120_000), lt_event_time_ms: Some(t0 + 480_000), ..q() },
        ),
        ("GE_recordTime", EventQuery { ge_record_time_ms: Some(1_770_000_100_010), ..q() }),
        ("EQ_action", EventQuery { actions: vec!["OBSERVE".into()], ..q() }),
        ("EQ_bizStep", EventQuery { biz_steps: vec!["https://ref.gs1.org/cbv/BizStep-arriving".into()], ..q() }),
        (
            "EQ_disposition",
            EventQuery { dispositions: vec!["https://ref.gs1.org/cbv/Disp-container_open".into()], ..q() },
        ),
        ("EQ_readPoint", EventQuery { read_points: vec!["urn:epc:id:sgln:0614141.00001.2".into()], ..q() }),
        ("EQ_bizLocation", EventQuery { biz_locations: vec!["urn:epc:id:sgln:0614141.00002.0".into()], ..q() }),
        ("MATCH_epc exact", EventQuery { match_epc: vec!["urn:epc:id:sgtin:0614141.107346.2003".into()], ..q() }),
        ("MATCH_epc pattern", EventQuery { match_epc: vec!["urn:epc:id:sgtin:0614141.107346.200*".into()], ..q() }),
        ("MATCH_parentID", EventQuery { match_parent_id: vec!["urn:epc:id:grai:0614141.12345.1".into()], ..q() }),
        ("MATCH_anyEPC (input)", EventQuery { match_any_epc: vec!["urn:epc:id:sgtin:4012345.011111.9".into()], ..q() }),
        ("MATCH_anyEPC (parent)", EventQuery { match_any_epc: vec!["urn:epc:id:grai:0614141.12345.0".into()], ..q() }),
        (
            "EQ_eventID",
            EventQuery {
                event_ids: vec!["urn:uuid:00000000-0000-4000-8000-000000000008".into(), "urn:uuid:none".into()],
                ..q()
            },
        ),
        ("device", EventQuery { devices: vec!["ESEAL-1".into()], ..q() }),
        (
            "combined",
            EventQuery {
                event_types: vec!["ObjectEvent".into()],
                match_epc: vec!["urn:epc:id:sscc:*".into()],
                lt_event_time_ms: Some(t0 + 600_000),
                ..q()
            },
        ),
        ("nothing", EventQuery { actions: vec!["NOPE".into()], ..q() }),
    ]
}

/// Runs the suite against an empty store; panics with the failing check.
pub async fn run(store: &dyn EventStore) {
    const N: u64 = 40;
    assert_eq!(store.count().await.unwrap(), 0, "the suite starts from an empty store");

    // Insert in two batches; sequence numbers follow the order of storage.
    let all: Vec<StoredEvent> = (0..N).map(sample_event).collect();
    let first = store.insert(&all[..25]).await.unwrap();
    assert_eq!(first.new, (1..=25).collect::<Vec<_>>());
    assert!(first.duplicates.is_empty());
    let second = store.insert(&all[20..]).await.unwrap();
    assert_eq!(second.new, (26..=N).collect::<Vec<_>>(), "events 20–24 were already stored");
    assert_eq!(second.duplicates, all[20..25].iter().map(|e| e.hash_id.clone()).collect::<Vec<_>>());
    assert_eq!(store.count().await.unwrap(), N);

    // A taken eventID refuses the whole batch, the new event before it included.
    let fresh = StoredEvent { hash_id: "ni:///sha-256;fresh?ver=CBV2.0".into(), ..sample_event(1) };
    let clash = StoredEvent {
        hash_id: "ni:///sha-256;clash?ver=CBV2.0".into(),
        event_id: all[8].event_id.clone(),
        ..sample_event(2)
    };
    match store.insert(&[fresh.clone(), clash]).await {
        Err(StoreError::EventIdTaken { event_id, existing }) => {
            assert_eq!(Some(event_id), all[8].event_id);
            assert_eq!(existing, all[8].hash_id);
        }
        other => panic!("a taken eventID must refuse the batch, got {other:?}"),
    }
    assert_eq!(store.count().await.unwrap(), N, "rolled back");
    assert!(store.get(&fresh.hash_id).await.unwrap().is_none(), "the batch's first event rolled back too");

    // By hash ID and by eventID.
    let got = store.get(&all[7].hash_id).await.unwrap().expect("by hash ID");
    assert_eq!((got.seq, &got.event), (8, &all[7]));
    let got = store.get(all[12].event_id.as_deref().unwrap()).await.unwrap().expect("by eventID");
    assert_eq!(got.event, all[12]);
    assert!(store.get("ni:///sha-256;missing?ver=CBV2.0").await.unwrap().is_none());

    // Every query, whole and page by page, against the reference semantics.
    let numbered: Vec<(u64, &StoredEvent)> = all.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)).collect();
    for (name, q) in queries() {
        let mut expected: Vec<(i64, u64)> =
            numbered.iter().filter(|(_, e)| q.matches(e)).map(|(s, e)| (e.event_time_ms, *s)).collect();
        expected.sort_by(|a, b| b.cmp(a));
        let whole = store.query(&q, 1000, None).await.unwrap();
        let got: Vec<(i64, u64)> = whole.events.iter().map(|n| (n.event.event_time_ms, n.seq)).collect();
        assert_eq!(got, expected, "query {name:?}: whole answer");
        assert!(whole.next.is_none(), "query {name:?}: one page holds everything");
        for per_page in [1, 3, 7] {
            let mut paged = Vec::new();
            let mut after: Option<Cursor> = None;
            let mut pages = 0;
            loop {
                let page = store.query(&q, per_page, after).await.unwrap();
                assert!(page.events.len() <= per_page, "query {name:?}: page larger than {per_page}");
                paged.extend(page.events.iter().map(|n| (n.event.event_time_ms, n.seq)));
                pages += 1;
                assert!(pages <= N as usize + 1, "query {name:?}: paging does not end");
                match page.next {
                    // The token round-trips through its text form, as clients carry it.
                    Some(c) => after = Some(Cursor::from_token(&c.token()).unwrap()),
                    None => break,
                }
            }
            assert_eq!(paged, expected, "query {name:?}: pages of {per_page}");
        }
    }
    assert!(matches!(Cursor::from_token("not-a-token"), Err(StoreError::BadToken)));

    // In store order, for anchoring.
    let since = store.since(30, 5).await.unwrap();
    assert_eq!(since.iter().map(|n| n.seq).collect::<Vec<_>>(), vec![31, 32, 33, 34, 35]);
    assert_eq!(since[0].event, all[30]);
    assert!(store.since(N, 10).await.unwrap().is_empty());
}
