//! The CBV 2.0 event hash ID (CBV 2.0 section 8.9, "Event hash ID"): a canonical pre-hash string
//! for each event, hashed with SHA-256 into `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920). Two
//! captures of the same event (XML or JSON-LD, re-sent, reordered, with other time zones or
//! identifier syntaxes) get the same ID, so it both names and de-duplicates events.
//!
//! The pre-hash string is `eventType=<type>` followed by the fields as `name=value` (a
//! structure is its name followed by its content), concatenated without separators:
//!
//! 1. In this order: `eventTime`, `eventTimeZoneOffset`, `certificationInfo`, `parentID`,
//!    `epcList`, `inputEPCList`, `childEPCs`, `quantityList`, `childQuantityList`,
//!    `inputQuantityList`, `outputEPCList`, `outputQuantityList`, `action`, `transformationID`,
//!    `bizStep`, `disposition`, `persistentDisposition` (`set`, `unset`), `readPoint` (`id`),
//!    `bizLocation` (`id`), `sensorElementList` (`sensorMetadata` then `sensorReport`, each with
//!    its fields in the order of [`SENSOR_METADATA_FIELDS`]
//!    and [`SENSOR_REPORT_FIELDS`]). Repeated items (EPCs,
//!    quantity elements, sensor elements and reports) are sorted by their strings; user
//!    extensions nested in a structure follow its standard fields, sorted.
//! 2. Then, sorted together by their strings: `bizTransactionList`, `sourceList`,
//!    `destinationList` (each `type=…` then the identifier, items sorted), `ilmd` and the
//!    event-level user extensions (`{namespace}local=value`, children sorted). This is where the
//!    reference implementation (and the published reference vectors) put the three lists, after
//!    `sensorElementList`, although its ordering table lists them before it.
//! 3. Never: `recordTime`, `eventID`, `errorDeclaration`, and the user extensions named in the
//!    document's `ignoreFields`.
//!
//! Values are normalised: timestamps (`eventTime` and the sensor `time`, `startTime`,
//! `endTime`) to UTC with millisecond precision (`2020-03-04T10:00:30.000Z`); EPC URIs and
//! Digital Link URIs to canonical GS1 Digital Link URIs ([`digital_link`](super::digital_link));
//! CBV 1.x URNs (`urn:epcglobal:cbv:bizstep:…`, `disp`, `btt`, `sdt`, `er`) and bare CBV terms
//! (`shipping`, `po`, `owning_party`, `Temperature`) to the CBV 2.0 web vocabulary
//! (`https://ref.gs1.org/cbv/BizStep-shipping`, `https://gs1.org/voc/Temperature`); compact IRIs
//! `gs1:` and `cbv:` expanded; numbers to their shortest form (`452.0` → `452`, `+1.50` → `1.5`).
//! Empty values and empty standard structures are left out; an empty user extension element (or
//! an empty `ilmd`) still counts, by its name.
//!
//! # Agreement with the reference implementation
//!
//! The published reference vectors (`shared/data/epcis-hash/`) all match, and generated
//! documents hash as `epcis-event-hash-generator` 1.9.3 does (`tests/it/oracle.rs`). Where that
//! implementation's result depends on an accident of its tree code rather than on the event,
//! this one takes the reading that gives XML and JSON-LD twins the same ID:
//!
//! - Nested user extensions are the *qualified* names in a structure, whatever their namespace
//!   ends with (the reference requires a trailing `/` and a structure with more than one child,
//!   else the extension moves to the tail). Unqualified non-standard names (`bizRules` on a
//!   `sensorReport`) do move to the tail, under their structure path, as in the reference.
//! - Compact `gs1:` / `cbv:` values are expanded in JSON-LD too (the reference expands them only
//!   in XML, or when the document's own `@context` repeats the prefix); bare CBV terms are
//!   expanded by field (`bizStep`, `disposition`, `set`/`unset`, the `type` of
//!   `bizTransaction`/`source`/`destination`, sensor `type`/`exception`/`component`), not by
//!   the reference's document-wide suffix match.
//! - JSON booleans hash as `true`/`false` (as XML writes them; the reference writes `True`),
//!   JSON `null` as an empty value (the reference: `None`).
//! - A `bizTransaction` (or source, destination) without a type hashes as the identifier alone,
//!   and the type always comes first (the reference fails on the first and follows JSON key
//!   order for the second). Empty lists are left out in XML as in JSON.
//! - A time without an offset is UTC (the reference: the local time of the machine); rounding to
//!   the millisecond carries into the second (the reference drops such an event); `inf` and
//!   `nan` are not numbers.
//! - `ignoreFields` (declared on the document, its body or the query results) removes
//!   event-level user extensions only.

use sha2::{Digest, Sha256};

use super::digital_link::to_digital_link;
use super::model::{SENSOR_METADATA_FIELDS, SENSOR_REPORT_FIELDS};
use super::{
    Document, EpcisError, Event, Extension, Format, Location, QName, QuantityElement, SensorElement, SensorFields,
    TypedReference, parse_document,
};

/// The canonical pre-hash string of an event (no document-level `ignoreFields`).
pub fn prehash(event: &Event) -> String {
    prehash_ignoring(event, &[])
}

/// The canonical pre-hash string of an event, leaving out the user extensions named in
/// `ignore_fields` (a document's `ignoreFields`).
pub fn prehash_ignoring(event: &Event, ignore_fields: &[QName]) -> String {
    let mut out = format!("eventType={}", event.event_type);
    if let Some(t) = &event.event_time {
        out.push_str(&field("eventTime", &timestamp(t)));
    }
    if let Some(v) = &event.event_time_zone_offset {
        out.push_str(&field("eventTimeZoneOffset", &canonical_value(v)));
    }
    out.push_str(&sorted(event.certification_info.iter().map(|v| field("certificationInfo", &canonical_value(v)))));
    if let Some(v) = &event.parent_id {
        out.push_str(&field("parentID", &canonical_value(v)));
    }
    out.push_str(&epc_list("epcList", &event.epc_list));
    out.push_str(&epc_list("inputEPCList", &event.input_epc_list));
    out.push_str(&epc_list("childEPCs", &event.child_epcs));
    out.push_str(&quantity_list("quantityList", &event.quantity_list));
    out.push_str(&quantity_list("childQuantityList", &event.child_quantity_list));
    out.push_str(&quantity_list("inputQuantityList", &event.input_quantity_list));
    out.push_str(&epc_list("outputEPCList", &event.output_epc_list));
    out.push_str(&quantity_list("outputQuantityList", &event.output_quantity_list));
    if let Some(v) = &event.action {
        out.push_str(&field("action", &canonical_value(v)));
    }
    if let Some(v) = &event.transformation_id {
        out.push_str(&field("transformationID", &canonical_value(v)));
    }
    if let Some(v) = &event.biz_step {
        out.push_str(&field("bizStep", &cbv_value(Vocabulary::BizStep, v)));
    }
    if let Some(v) = &event.disposition {
        out.push_str(&field("disposition", &cbv_value(Vocabulary::Disposition, v)));
    }
    if let Some(pd) = &event.persistent_disposition {
        let inner = sorted(pd.set.iter().map(|v| field("set", &cbv_value(Vocabulary::Disposition, v))))
            + &sorted(pd.unset.iter().map(|v| field("unset", &cbv_value(Vocabulary::Disposition, v))));
        out.push_str(&structure("persistentDisposition", &inner));
    }
    if let Some(loc) = &event.read_point {
        out.push_str(&location("readPoint", loc));
    }
    if let Some(loc) = &event.biz_location {
        out.push_str(&location("bizLocation", loc));
    }
    out.push_str(&structure("sensorElementList", &sorted(event.sensor_element_list.iter().map(sensor_element))));

    let mut tail = Vec::new();
    tail.push(references(
        "bizTransactionList",
        "bizTransaction",
        Vocabulary::BizTransactionType,
        &event.biz_transaction_list,
    ));
    tail.push(references("sourceList", "source", Vocabulary::SourceDestType, &event.source_list));
    tail.push(references("destinationList", "destination", Vocabulary::SourceDestType, &event.destination_list));
    if let Some(ilmd) = &event.ilmd {
        // An `ilmd` element is kept even when empty, as the reference implementation does.
        tail.push(format!("ilmd{}", sorted(ilmd.iter().map(extension))));
    }
    tail.extend(stray_entries(event));
    tail.extend(event.extensions.iter().filter(|e| !ignore_fields.contains(&e.name)).map(extension));
    out.push_str(&sorted(tail.into_iter()));
    out
}

/// The event hash ID `ni:///sha-256;<64 hex digits>?ver=CBV2.0` of a pre-hash string.
pub fn hash_id_of_prehash(prehash: &str) -> String {
    format!("ni:///sha-256;{}?ver=CBV2.0", hex::encode(Sha256::digest(prehash.as_bytes())))
}

/// The CBV 2.0 event hash ID of an event.
pub fn event_hash_id(event: &Event) -> String {
    hash_id_of_prehash(&prehash(event))
}

/// The pre-hash strings and hash IDs of a parsed document's events, in document order, with the
/// document's `ignoreFields` applied.
pub fn hash_ids(document: &Document) -> Vec<(String, String)> {
    document
        .events
        .iter()
        .map(|e| {
            let p = prehash_ignoring(e, &document.ignore_fields);
            let h = hash_id_of_prehash(&p);
            (p, h)
        })
        .collect()
}

/// Parses a document and returns `(pre-hash string, hash ID)` for each event, in document order.
pub fn document_hash_ids(bytes: &[u8], format: Format) -> Result<Vec<(String, String)>, EpcisError> {
    Ok(hash_ids(&parse_document(bytes, format)?))
}

fn field(name: &str, value: &str) -> String {
    if value.is_empty() { String::new() } else { format!("{name}={value}") }
}

fn structure(name: &str, content: &str) -> String {
    if content.is_empty() { String::new() } else { format!("{name}{content}") }
}

fn sorted(parts: impl Iterator<Item = String>) -> String {
    let mut parts: Vec<String> = parts.filter(|p| !p.is_empty()).collect();
    parts.sort_unstable();
    parts.concat()
}

fn epc_list(name: &str, epcs: &[String]) -> String {
    structure(name, &sorted(epcs.iter().map(|e| field("epc", &canonical_value(e)))))
}

fn quantity_element(q: &QuantityElement) -> String {
    let mut inner = field("epcClass", &canonical_value(&q.epc_class));
    if let Some(v) = &q.quantity {
        inner.push_str(&field("quantity", &canonical_value(v)));
    }
    if let Some(v) = &q.uom {
        inner.push_str(&field("uom", &canonical_value(v)));
    }
    inner.push_str(&sorted(qualified(&q.extensions)));
    structure("quantityElement", &inner)
}

fn quantity_list(name: &str, list: &[QuantityElement]) -> String {
    structure(name, &sorted(list.iter().map(quantity_element)))
}

fn location(name: &str, loc: &Location) -> String {
    let mut inner = loc.id.as_deref().map(|v| field("id", &canonical_value(v))).unwrap_or_default();
    inner.push_str(&sorted(qualified(&loc.extensions)));
    structure(name, &inner)
}

fn references(list: &str, item: &str, vocabulary: Vocabulary, refs: &[TypedReference]) -> String {
    structure(
        list,
        &sorted(refs.iter().map(|r| {
            let kind = r.kind.as_deref().map(|k| field("type", &cbv_value(vocabulary, k))).unwrap_or_default();
            kind + &field(item, &canonical_value(&r.value))
        })),
    )
}

fn sensor_fields(name: &str, fields: &SensorFields, known: &[&str]) -> String {
    let mut inner = String::new();
    for k in known {
        if let Some(v) = fields.get(k) {
            let v = match *k {
                "time" | "startTime" | "endTime" => timestamp(v),
                "type" | "exception" => cbv_value(Vocabulary::Gs1, v),
                "component" => cbv_value(Vocabulary::Component, v),
                _ => canonical_value(v),
            };
            inner.push_str(&field(k, &v));
        }
    }
    inner.push_str(&sorted(qualified(&fields.extensions)));
    structure(name, &inner)
}

fn sensor_element(element: &SensorElement) -> String {
    let mut inner = element
        .metadata
        .as_ref()
        .map(|m| sensor_fields("sensorMetadata", m, &SENSOR_METADATA_FIELDS))
        .unwrap_or_default();
    inner.push_str(&sorted(element.reports.iter().map(|r| sensor_fields("sensorReport", r, &SENSOR_REPORT_FIELDS))));
    inner.push_str(&sorted(qualified(&element.extensions)));
    structure("sensorElement", &inner)
}

/// User extensions (qualified names) in a structure: they follow its standard fields.
fn qualified(extensions: &[Extension]) -> impl Iterator<Item = String> + '_ {
    extensions.iter().filter(|e| e.name.namespace.is_some()).map(extension)
}

/// Unqualified names that are not standard fields of the structure they appear in (a `bizRules`
/// on a `sensorReport`) are not user extensions: they are hashed after the ordered fields, with
/// the path of structures that holds them, as the reference implementation does.
fn strays(extensions: &[Extension]) -> impl Iterator<Item = String> + '_ {
    extensions.iter().filter(|e| e.name.namespace.is_none()).map(extension)
}

fn stray_entries(event: &Event) -> Vec<String> {
    let mut out = Vec::new();
    for (name, loc) in [("readPoint", &event.read_point), ("bizLocation", &event.biz_location)] {
        if let Some(loc) = loc {
            out.push(structure(name, &sorted(strays(&loc.extensions))));
        }
    }
    for (name, list) in [
        ("quantityList", &event.quantity_list),
        ("childQuantityList", &event.child_quantity_list),
        ("inputQuantityList", &event.input_quantity_list),
        ("outputQuantityList", &event.output_quantity_list),
    ] {
        out.push(structure(
            name,
            &sorted(list.iter().map(|q| structure("quantityElement", &sorted(strays(&q.extensions))))),
        ));
    }
    let elements = event.sensor_element_list.iter().map(|element| {
        let mut parts: Vec<String> = strays(&element.extensions).collect();
        if let Some(m) = &element.metadata {
            parts.push(structure("sensorMetadata", &sorted(strays(&m.extensions))));
        }
        parts.extend(element.reports.iter().map(|r| structure("sensorReport", &sorted(strays(&r.extensions)))));
        structure("sensorElement", &sorted(parts.into_iter()))
    });
    out.push(structure("sensorElementList", &sorted(elements)));
    out
}

/// A user extension: `name`, `=value` if it has one, then its children sorted. An empty element
/// still contributes its name: its presence is information.
fn extension(e: &Extension) -> String {
    let mut out = e.name.to_string();
    if let Some(v) = e.value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        out.push('=');
        out.push_str(&canonical_value(v));
    }
    out.push_str(&sorted(e.children.iter().map(extension)));
    out
}

/// A `bizStep` in its CBV 2.0 web vocabulary form (`shipping`,
/// `urn:epcglobal:cbv:bizstep:shipping` → `https://ref.gs1.org/cbv/BizStep-shipping`).
pub fn biz_step_uri(value: &str) -> String {
    cbv_value(Vocabulary::BizStep, value)
}

/// A `disposition` in its CBV 2.0 web vocabulary form (`in_transit` →
/// `https://ref.gs1.org/cbv/Disp-in_transit`).
pub fn disposition_uri(value: &str) -> String {
    cbv_value(Vocabulary::Disposition, value)
}

/// CBV vocabularies whose bare terms (JSON-LD writes `"bizStep": "shipping"`) expand to IRIs.
#[derive(Clone, Copy)]
enum Vocabulary {
    BizStep,
    Disposition,
    BizTransactionType,
    SourceDestType,
    Component,
    /// GS1 Web Vocabulary terms: sensor measurement types and exceptions.
    Gs1,
}

fn cbv_value(vocabulary: Vocabulary, value: &str) -> String {
    let v = value.trim();
    let is_bare = !v.is_empty() && !v.contains(':') && !v.contains('/');
    if !is_bare {
        return canonical_value(v);
    }
    let prefix = match vocabulary {
        Vocabulary::BizStep => "https://ref.gs1.org/cbv/BizStep-",
        Vocabulary::Disposition => "https://ref.gs1.org/cbv/Disp-",
        Vocabulary::BizTransactionType => "https://ref.gs1.org/cbv/BTT-",
        Vocabulary::SourceDestType => "https://ref.gs1.org/cbv/SDT-",
        Vocabulary::Component => "https://ref.gs1.org/cbv/Comp-",
        Vocabulary::Gs1 => "https://gs1.org/voc/",
    };
    format!("{prefix}{v}")
}

/// CBV 1.x URN prefixes and their CBV 2.0 web vocabulary equivalents.
const CBV_URNS: [(&str, &str); 5] = [
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
];

/// The normal form of any value: CBV web vocabulary, expanded `gs1:` / `cbv:` compact IRIs,
/// shortest numbers, canonical GS1 Digital Link URIs.
pub fn canonical_value(value: &str) -> String {
    let mut v = value.trim().to_owned();
    if let Some(rest) = v.strip_prefix("gs1:") {
        v = format!("https://gs1.org/voc/{rest}");
    } else if let Some(rest) = v.strip_prefix("cbv:") {
        v = format!("https://ref.gs1.org/cbv/{rest}");
    }
    for (urn, iri) in CBV_URNS {
        if v.contains(urn) {
            v = v.replace(urn, iri);
        }
    }
    if let Some(n) = canonical_number(&v) {
        return n;
    }
    to_digital_link(&v).unwrap_or(v)
}

/// `[+-]digits[.digits][e[+-]digits]` (or `.5`, `5.`) in its shortest form: integers without a
/// fraction (`452.0` → `452`), others as the shortest decimal that reads back the same, in
/// exponent notation below 1e-4 (`1e-05`), as the reference implementation prints them.
fn canonical_number(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let x: f64 = s.parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 {
        // Exact integer value of the double, as Python's int(float) prints it.
        return Some(if x == 0.0 { "0".to_owned() } else { format!("{x:.0}") });
    }
    let a = x.abs();
    if a < 1e-4 {
        // Python's repr: shortest mantissa, exponent with a sign and at least two digits.
        let e = format!("{x:e}");
        let (mantissa, exp) = e.split_once('e')?;
        let (sign, exp_digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return Some(format!("{mantissa}e{sign}{exp_digits:0>2}"));
    }
    Some(format!("{x}"))
}

/// An ISO 8601 / RFC 3339 date-time in UTC with millisecond precision; a value that is not one
/// is kept as it is. A time without an offset is taken as UTC.
pub fn timestamp(value: &str) -> String {
    normalise_time(value.trim()).unwrap_or_else(|| value.trim().to_owned())
}

fn digits(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(range)?;
    if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
}

fn time_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    let (hour, minute, second) = (digits(s, 11..13)?, digits(s, 14..16)?, digits(s, 17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    // Fraction to microseconds (truncated beyond six digits), then rounded half to even to ms.
    let mut micros: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i];
        let six: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
        micros = six.parse().ok()?;
    }
    let offset_minutes = match &s[i..] {
        "" | "Z" | "z" => 0,
        tz => {
            let tb = tz.as_bytes();
            if tb.len() != 6 || !(tb[0] == b'+' || tb[0] == b'-') || tb[3] != b':' {
                return None;
            }
            let (h, m) = (digits(tz, 1..3)?, digits(tz, 4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let sign = if tb[0] == b'-' { -1 } else { 1 };
            sign * (h * 60 + m)
        }
    };
    let millis = {
        let q = micros / 1000;
        let r = micros % 1000;
        if r > 500 || (r == 500 && q % 2 == 1) { q + 1 } else { q }
    };
    let total_ms = ((borderlink_model::datetime::days_from_civil_date(year, month, day) * 86_400
        + hour * 3600
        + minute * 60
        + second)
        - offset_minutes * 60)
        * 1000
        + millis;
    Some(total_ms)
}

/// An ISO 8601 / RFC 3339 date-time as milliseconds since the epoch (UTC; rounded to the
/// millisecond as [`timestamp`] rounds; no offset means UTC), or `None` if it is not one.
pub fn utc_millis(value: &str) -> Option<i64> {
    let total_ms = time_millis(value.trim())?;
    let (y, _, _) = borderlink_model::datetime::civil_from_days(total_ms.div_euclid(86_400_000));
    (0..=9999).contains(&y).then_some(total_ms)
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn utc_string(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let ms_of_day = ms.rem_euclid(86_400_000);
    let (y, mo, d) = borderlink_model::datetime::civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

fn normalise_time(s: &str) -> Option<String> {
    let total_ms = time_millis(s)?;
    let days = total_ms.div_euclid(86_400_000);
    let ms_of_day = total_ms.rem_euclid(86_400_000);
    let (y, mo, d) = borderlink_model::datetime::civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    Some(format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    ))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::{canonical_number, timestamp};

    #[test]
    fn timestamps_become_utc_milliseconds() {
        assert_eq!(timestamp("2020-03-04T11:00:30.000+01:00"), "2020-03-04T10:00:30.000Z");
        assert_eq!(timestamp("2022-02-16T08:40:21.3142715Z"), "2022-02-16T08:40:21.314Z");
        assert_eq!(timestamp("2019-10-21T14:45:00Z"), "2019-10-21T14:45:00.000Z");
        assert_eq!(timestamp("2005-04-04T20:33:31.116-06:00"), "2005-04-05T02:33:31.116Z");
        assert_eq!(timestamp("2020-12-31T23:59:59.9996Z"), "2021-01-01T00:00:00.000Z");
        assert_eq!(timestamp("not a time"), "not a time");
    }

    #[test]
    fn numbers_take_their_shortest_form() {
        assert_eq!(canonical_number("452.0").as_deref(), Some("452"));
        assert_eq!(canonical_number("+1.50").as_deref(), Some("1.5"));
        assert_eq!(canonical_number("0.00001").as_deref(), Some("1e-05"));
        assert_eq!(canonical_number("-0").as_deref(), Some("0"));
        assert_eq!(canonical_number("2019-10-21"), None);
        assert_eq!(canonical_number("inf"), None);
    }
}
