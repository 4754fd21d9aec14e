//! `epcis::query` and `epcis::index` together: a filter given the way a client writes it finds
//! an event however the capture spelled the same value; bad parameters are EPCIS exceptions.

use borderlink_iot::epcis::hash::event_hash_id;
use borderlink_iot::epcis::index::stored_event;
use borderlink_iot::epcis::query::{DEFAULT_PER_PAGE, ExceptionKind, MAX_PER_PAGE, parse_events_query};
use borderlink_iot::epcis::{Event, EventType};
use borderlink_iot::store::Cursor;

fn event(epc: &str, parent: Option<&str>, step: &str) -> Event {
    let mut e = Event::new(if parent.is_some() { EventType::Aggregation } else { EventType::Object });
    e.event_time = Some("2026-03-09T04:41:08.000+02:00".into());
    e.event_time_zone_offset = Some("+02:00".into());
    e.action = Some("OBSERVE".into());
    e.biz_step = Some(step.into());
    e.disposition = Some("urn:epcglobal:cbv:disp:in_transit".into());
    if parent.is_some() {
        e.child_epcs = vec![epc.into()];
    } else {
        e.epc_list = vec![epc.into()];
    }
    e.parent_id = parent.map(str::to_owned);
    e
}

fn matches(query: &str, e: &Event) -> bool {
    let stored = stored_event(e, &event_hash_id(e), 1_773_024_000_000, None).unwrap();
    parse_events_query(query).unwrap().query.matches(&stored)
}

#[test]
fn an_epc_matches_in_urn_and_digital_link_form() {
    let urn = event("urn:epc:id:sgtin:0614141.107346.2017", None, "shipping");
    let dl = event("https://example.com/gtin/10614141073464/ser/2017", None, "shipping");
    for e in [&urn, &dl] {
        assert!(matches("MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017", e));
        assert!(matches("MATCH_epc=https://id.gs1.org/01/10614141073464/21/2017", e));
        assert!(matches("MATCH_anyEPC=https%3A%2F%2Fid.gs1.org%2F01%2F10614141073464%2F21%2F2017", e));
        assert!(!matches("MATCH_epc=urn:epc:id:sgtin:0614141.107346.2018", e));
    }
    assert!(matches("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*", &urn));
    assert!(matches("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*", &dl));
    assert!(matches("MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*", &urn));
}

#[test]
fn parent_ids_match_by_either_form_in_match_any_epc() {
    let e = event("urn:epc:id:sgtin:0614141.107346.1", Some("urn:epc:id:sscc:0614141.1234567890"), "packing");
    assert!(matches("MATCH_parentID=urn:epc:id:sscc:0614141.1234567890", &e));
    assert!(matches("MATCH_anyEPC=https://id.gs1.org/00/106141412345678908", &e));
}

#[test]
fn cbv_values_match_in_every_spelling() {
    let e = event("urn:x:1", None, "https://ref.gs1.org/cbv/BizStep-shipping");
    assert!(matches("EQ_bizStep=shipping", &e));
    assert!(matches("EQ_bizStep=receiving|urn:epcglobal:cbv:bizstep:shipping", &e));
    assert!(!matches("EQ_bizStep=receiving", &e));
    assert!(matches("EQ_disposition=in_transit&EQ_action=OBSERVE&eventType=ObjectEvent", &e));
    assert!(matches("GE_eventTime=2026-03-09T02:41:08Z&LT_eventTime=2026-03-09T02:41:08.001Z", &e));
    assert!(!matches("LT_eventTime=2026-03-09T04:41:08%2B02:00", &e));
    assert!(matches("GE_recordTime=2026-03-09T02:40:00Z", &e));
}

#[test]
fn paging_has_a_default_a_cap_and_tokens() {
    assert_eq!(parse_events_query("").unwrap().per_page, DEFAULT_PER_PAGE);
    assert_eq!(parse_events_query("perPage=100000").unwrap().per_page, MAX_PER_PAGE);
    let cursor = Cursor { event_time_ms: 1_773_024_068_000, seq: 42 };
    let r = parse_events_query(&format!("nextPageToken={}", cursor.token())).unwrap();
    assert_eq!(r.after, Some(cursor));
}

#[test]
fn bad_parameters_are_query_parameter_exceptions_naming_the_parameter() {
    for (query, parameter) in [
        ("colour=red", "colour"),
        ("eventType=SealEvent", "eventType"),
        ("GE_eventTime=yesterday", "GE_eventTime"),
        ("EQ_action=MOVE", "EQ_action"),
        ("perPage=0", "perPage"),
        ("perPage=ten", "perPage"),
        ("nextPageToken=zz", "nextPageToken"),
        ("EQ_bizStep=", "EQ_bizStep"),
        ("EQ_bizStep=a||b", "EQ_bizStep"),
        ("EQ_bizStep=a&EQ_bizStep=b", "EQ_bizStep"),
        ("MATCH_epc=urn:epc:idpat:sgtin:0614141", "MATCH_epc"),
        ("orderDirection=ASC", "orderDirection"),
    ] {
        let err = parse_events_query(query).expect_err(query);
        assert_eq!(err.kind, ExceptionKind::QueryParameter, "{query}");
        assert_eq!(err.parameter, parameter, "{query}");
        let problem = err.problem("/events?x").to_json();
        assert_eq!(problem["type"], "epcisException:QueryParameterException");
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["instance"], "/events?x");
        assert!(problem["detail"].as_str().unwrap().contains(parameter), "{problem}");
        assert!(problem["title"].is_string());
    }
}
