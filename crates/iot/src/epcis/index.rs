//! An event and its identity into the [`StoredEvent`] the event store indexes: the fields the
//! EPCIS query filters on, normalised the way [`query`](super::query) normalises the filter
//! values, so that a filter matches however the capture spelled the value.
//!
//! - `bizStep`, `disposition`: the CBV 2.0 web vocabulary URI (`shipping`,
//!   `urn:epcglobal:cbv:bizstep:shipping` → `https://ref.gs1.org/cbv/BizStep-shipping`).
//! - `eventTime`: UTC milliseconds (the offset applied); the record time is the caller's.
//! - `action`, `eventType`, `readPoint`, `bizLocation`, `eventID`: as written (EPCIS compares
//!   them as strings).
//! - EPCs (`MATCH_epc` looks in `epcList` and `childEPCs`; `MATCH_anyEPC` also in
//!   `inputEPCList`, `outputEPCList` and `parentID`): each EPC as written **and** its canonical
//!   GS1 Digital Link URI (`urn:epc:id:sgtin:0614141.107346.2017` also indexed as
//!   `https://id.gs1.org/01/10614141073464/21/2017`; a Digital Link on another domain or with
//!   a short name also under its `id.gs1.org` form). The query turns every EPC value into the
//!   same canonical Digital Link besides keeping it as given, so an event written with a URN
//!   is found by its Digital Link and the other way round; an EPC pattern in URN form
//!   (`urn:epc:idpat:sgtin:0614141.107346.*`) matches the URN spelling by prefix (and its
//!   Digital Link prefix when the pattern fixes the whole class). A Digital Link cannot be
//!   turned back into a URN without the company prefix length, which is why both forms are
//!   stored rather than one.
//! - `parentID`: as written (the store keeps one value for `MATCH_parentID`); its Digital Link
//!   form goes with the other EPCs `MATCH_anyEPC` looks in. So `MATCH_parentID` finds a parent
//!   written as a Digital Link by either form, and a parent written as a URN by the URN (or a
//!   URN pattern) only.
//! - The JSON: [`event_json`](super::write::event_json) with `recordTime` set to the record
//!   time.

use super::digital_link::to_digital_link;
use super::hash::{biz_step_uri, disposition_uri, utc_millis, utc_string};
use super::model::Event;
use super::write::event_json;
use crate::store::StoredEvent;

/// Why an event cannot be indexed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// Every event needs an `eventTime` (the store orders by it).
    #[error("the event has no eventTime")]
    NoEventTime,
    /// The `eventTime` is not an ISO 8601 date-time.
    #[error("eventTime {0:?} is not an ISO 8601 date-time")]
    BadEventTime(String),
}

/// The stored form of `event`, identified by its `hash_id`, recorded at `record_time_ms`,
/// reported by `device` (its registered id) when a device sent it.
pub fn stored_event(
    event: &Event,
    hash_id: &str,
    record_time_ms: i64,
    device: Option<&str>,
) -> Result<StoredEvent, IndexError> {
    let time = event.event_time.as_deref().ok_or(IndexError::NoEventTime)?;
    let event_time_ms = utc_millis(time).ok_or_else(|| IndexError::BadEventTime(time.to_owned()))?;
    let mut epcs = Vec::new();
    for epc in event.epc_list.iter().chain(&event.child_epcs) {
        push_with_digital_link(&mut epcs, epc);
    }
    let mut other_epcs = Vec::new();
    for epc in event.input_epc_list.iter().chain(&event.output_epc_list) {
        push_with_digital_link(&mut other_epcs, epc);
    }
    if let Some(parent) = &event.parent_id
        && let Some(dl) = to_digital_link(parent)
        && dl != *parent
    {
        other_epcs.push(dl);
    }
    let mut recorded = event.clone();
    recorded.record_time = Some(utc_string(record_time_ms));
    Ok(StoredEvent {
        hash_id: hash_id.to_owned(),
        event_id: event.event_id.clone(),
        event_type: event.event_type.as_str().to_owned(),
        event_time_ms,
        record_time_ms,
        action: event.action.clone(),
        biz_step: event.biz_step.as_deref().map(biz_step_uri),
        disposition: event.disposition.as_deref().map(disposition_uri),
        read_point: event.read_point.as_ref().and_then(|l| l.id.clone()),
        biz_location: event.biz_location.as_ref().and_then(|l| l.id.clone()),
        epcs,
        parent_id: event.parent_id.clone(),
        other_epcs,
        device: device.map(str::to_owned),
        json: event_json(&recorded).to_string(),
    })
}

/// An EPC as written and, when it differs, its canonical Digital Link form (no duplicates).
fn push_with_digital_link(out: &mut Vec<String>, epc: &str) {
    if !out.iter().any(|e| e == epc) {
        out.push(epc.to_owned());
    }
    if let Some(dl) = to_digital_link(epc)
        && !out.contains(&dl)
    {
        out.push(dl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::{EventType, Location};

    #[test]
    fn fields_are_normalised_and_epcs_indexed_in_both_forms() {
        let mut e = Event::new(EventType::Object);
        e.event_time = Some("2026-03-09T04:41:08.000+02:00".into());
        e.event_time_zone_offset = Some("+02:00".into());
        e.action = Some("OBSERVE".into());
        e.biz_step = Some("urn:epcglobal:cbv:bizstep:shipping".into());
        e.disposition = Some("in_transit".into());
        e.read_point = Some(Location { id: Some("urn:epc:id:sgln:0614141.00777.0".into()), extensions: vec![] });
        e.epc_list = vec!["urn:epc:id:sgtin:0614141.107346.2017".into()];
        let s = stored_event(&e, "ni:///x", 1_773_024_000_000, Some("ESEAL-1")).unwrap();
        assert_eq!(s.event_time_ms, 1_773_024_068_000);
        assert_eq!(s.biz_step.as_deref(), Some("https://ref.gs1.org/cbv/BizStep-shipping"));
        assert_eq!(s.disposition.as_deref(), Some("https://ref.gs1.org/cbv/Disp-in_transit"));
        assert_eq!(s.epcs, ["urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"]);
        assert!(s.json.contains("\"recordTime\":\"2026-03-09T02:40:00.000Z\""), "{}", s.json);
    }

    #[test]
    fn an_event_without_a_time_is_refused() {
        let e = Event::new(EventType::Object);
        assert_eq!(stored_event(&e, "h", 0, None), Err(IndexError::NoEventTime));
    }
}
