//! Search across the node's records: by declaration number (LRN, MRN), trader id (declarant,
//! exporter, importer, carrier, AEO holder…), AEO authorisation number, HS code (a prefix of the
//! commodity classification), container number, seal id, movement reference and record id.
//!
//! [`SearchIndex`] is a projection of the ledger: rebuilt from every committed block when the
//! node opens, then kept up to date as blocks commit (the projection driver feeds it, so it
//! indexes exactly what this node may read: clear records and private ones addressed to it).
//! It maps normalised terms to record ids; it holds no content.
//!
//! Invariant: the index only proposes candidates. [`find`] keeps a candidate only when the
//! reader may read it for the declared purpose (the read policy, [`Reads::permits`]), when a
//! private record names the reader's organisation among its recipients, and when the term still
//! matches what the reader would see once the withheld fields are removed — so a search never
//! tells which record holds a value the reader may not see. The page answered is read through
//! [`Reads`] (shaped and audited) like any other read of records.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::RwLock;

use borderlink_access::Purpose;
use borderlink_ledger::tx::PayloadKind;
use borderlink_ledger::{Ledger, LedgerError, RecordVersion};
use borderlink_model::RecordType;
use serde_json::Value;

use crate::access::reads::{Purposed, Reads};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::projection::{Committed, Projection};

/// The longest query, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 200;
/// At most this many candidate records are considered for one query.
const MAX_CANDIDATES: usize = 2000;

/// What a term identifies in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    /// A declaration's functional reference (LRN), also in the records that refer to it.
    Lrn,
    /// A declaration's id given by customs (MRN).
    Mrn,
    /// A party's identifier (EORI, TIN): declarant, exporter, importer, carrier, AEO holder…
    Trader,
    /// An AEO authorisation's number.
    Aeo,
    /// A commodity classification (HS code and its national extensions).
    Hs,
    /// A transport equipment (container) number.
    Container,
    /// A seal's id (or an electronic seal's device id).
    Seal,
    /// A transport movement's reference.
    Movement,
    /// The ledger's record id.
    RecordId,
}

impl Field {
    /// Its stable name (the API's `field`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Lrn => "lrn",
            Field::Mrn => "mrn",
            Field::Trader => "trader",
            Field::Aeo => "aeo",
            Field::Hs => "hs",
            Field::Container => "container",
            Field::Seal => "seal",
            Field::Movement => "movement",
            Field::RecordId => "record-id",
        }
    }

    /// How a person reads it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Field::Lrn => "Declaration number (LRN)",
            Field::Mrn => "Declaration id (MRN)",
            Field::Trader => "Trader id",
            Field::Aeo => "AEO authorisation",
            Field::Hs => "HS code",
            Field::Container => "Container",
            Field::Seal => "Seal",
            Field::Movement => "Movement reference",
            Field::RecordId => "Record id",
        }
    }
}

/// The WCO classes whose `ID` identifies a party (a trader or an authority acting as one).
const PARTIES: &[&str] = &[
    "Declarant",
    "Exporter",
    "Importer",
    "Consignee",
    "Consignor",
    "Seller",
    "Buyer",
    "Carrier",
    "Agent",
    "Representative",
    "AuthorisationHolder",
    "AEOMutualRecognitionParty",
    "Holder",
    "holder",
];

/// The field a string value at `parent.key` identifies, if any.
fn field_of(record_type: RecordType, parent: &str, key: &str) -> Option<Field> {
    Some(match (parent, key) {
        ("Declaration", "FunctionalReferenceID") => Field::Lrn,
        ("Declaration", "ID") => Field::Mrn,
        (p, "ID") if PARTIES.contains(&p) => Field::Trader,
        (_, "traderIdentificationNumber" | "traderId" | "holderId") => Field::Trader,
        ("AdditionalDocument", "ID") if record_type == RecordType::AeoAuthorization => Field::Aeo,
        (_, "authorisationId" | "authorizationId" | "authorisationNumber") => Field::Aeo,
        ("Classification", "ID") => Field::Hs,
        ("TransportEquipment", "ID") => Field::Container,
        ("Seal", "ID") => Field::Seal,
        ("eseals", "deviceId") => Field::Seal,
        (_, "movementReference") => Field::Movement,
        _ => return None,
    })
}

/// The field of each string in a list named `key`, if any.
fn list_field(key: &str) -> Option<Field> {
    match key {
        "declarationRefs" => Some(Field::Lrn),
        _ => None,
    }
}

/// The searchable values of a record: (field, value as written).
pub(crate) fn terms(record_type: RecordType, content: &Value) -> Vec<(Field, String)> {
    fn walk(record_type: RecordType, v: &Value, name: &str, out: &mut Vec<(Field, String)>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    match child {
                        Value::String(s) => {
                            if let Some(f) = field_of(record_type, name, k) {
                                out.push((f, s.clone()));
                            }
                        }
                        _ => walk(record_type, child, k, out),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => {
                            if let Some(f) = list_field(name) {
                                out.push((f, s.clone()));
                            }
                        }
                        _ => walk(record_type, item, name, out),
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(record_type, content, "", &mut out);
    out.retain(|(_, s)| !normalise(s).is_empty());
    out.sort();
    out.dedup();
    out
}

/// A term or a query as compared: upper case, without spaces and dots (`8471.30` is `847130`,
/// `MSKU 123456 5` is `MSKU1234565`).
pub(crate) fn normalise(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '.').flat_map(char::to_uppercase).collect()
}

/// The index: normalised term → ids of the records that hold it.
#[derive(Debug, Default)]
pub(crate) struct SearchIndex {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    terms: BTreeMap<String, BTreeSet<String>>,
    /// The terms indexed for each record (its current version), to replace them on a new one.
    by_record: HashMap<String, Vec<String>>,
}

impl SearchIndex {
    /// Indexes the current version of `record_id` (its earlier terms are forgotten).
    pub(crate) fn index(&self, record_id: &str, record_type: RecordType, content: &Value) {
        let mut new: Vec<String> = terms(record_type, content).into_iter().map(|(_, t)| normalise(&t)).collect();
        new.push(normalise(record_id));
        new.sort();
        new.dedup();
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = inner.by_record.remove(record_id) {
            for t in old {
                if let Some(ids) = inner.terms.get_mut(&t) {
                    ids.remove(record_id);
                    if ids.is_empty() {
                        inner.terms.remove(&t);
                    }
                }
            }
        }
        for t in &new {
            inner.terms.entry(t.clone()).or_default().insert(record_id.to_owned());
        }
        inner.by_record.insert(record_id.to_owned(), new);
    }

    /// The ids of the records holding a term that starts with `normalised`, at most `limit`.
    pub(crate) fn candidates(&self, normalised: &str, limit: usize) -> BTreeSet<String> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut out = BTreeSet::new();
        for (term, ids) in inner.terms.range(normalised.to_owned()..) {
            if !term.starts_with(normalised) || out.len() >= limit {
                break;
            }
            out.extend(ids.iter().cloned());
        }
        out
    }

    /// How many records are indexed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).by_record.len()
    }
}

impl Projection for SearchIndex {
    fn name(&self) -> &'static str {
        "search"
    }

    fn record_types(&self) -> &'static [RecordType] {
        &RecordType::ALL
    }

    fn apply(&self, record: &Committed<'_>) {
        self.index(record.record_id, record.record_type, record.payload);
    }
}

/// One record found.
#[derive(Debug)]
pub(crate) struct Hit {
    /// Its current version, as shaped for the reader (a private record's content is in
    /// `content`).
    pub(crate) version: RecordVersion,
    /// Its content as the reader may see it, when readable here.
    pub(crate) content: Option<Value>,
    /// What matched: (field, value as written).
    pub(crate) matched: Vec<(Field, String)>,
}

/// A page of what a search found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Every record found (all pages).
    pub(crate) total: usize,
    /// Records found per record type (all pages), in the order the groups are shown.
    pub(crate) per_type: Vec<(String, usize)>,
    /// This page's records, grouped by type (in `per_type`'s order), newest first in a group.
    pub(crate) hits: Vec<Hit>,
}

/// A query's problem, as the API and the console say it.
pub(crate) fn check_query(q: &str) -> Result<(), ApiError> {
    let n = q.chars().count();
    if n == 0 || n > MAX_QUERY_CHARS {
        return Err(ApiError::InvalidQuery(format!(
            "q must hold 1 to {MAX_QUERY_CHARS} characters (a declaration number, trader id, HS code prefix, container, seal or record id); it holds {n}"
        )));
    }
    Ok(())
}

fn type_rank(t: &str) -> usize {
    RecordType::ALL.iter().position(|r| r.name() == t).unwrap_or(RecordType::ALL.len())
}

/// Whether `principal` is among the recipients of a private version.
fn recipient(principal: &Principal, v: &RecordVersion) -> bool {
    principal.member().is_some_and(|m| v.recipients.iter().any(|r| r == m))
}

/// The content this node can read of `v` for `principal`, before shaping: the clear payload,
/// or a private record opened when the reader's organisation is a recipient.
fn readable(ledger: &Ledger, principal: &Principal, v: &RecordVersion) -> Result<Option<Value>, ApiError> {
    if let Some(p) = &v.payload {
        return Ok(Some(p.clone()));
    }
    if v.payload_kind != PayloadKind::Private || !recipient(principal, v) {
        return Ok(None);
    }
    match ledger.read_private(&v.record_id, Some(v.version)) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(
            LedgerError::Erased(_)
            | LedgerError::NotFound(_)
            | LedgerError::NotRecipient { .. }
            | LedgerError::Private(_),
        ) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Searches for `q` as `principal` reading for `purpose`: page `page` (from 1) of `limit`.
/// Blocking (reads the ledger); the page answered is audited as one read through `route`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn find(
    ledger: &Ledger,
    index: &SearchIndex,
    reads: &Reads,
    principal: &Principal,
    purpose: Purpose,
    route: &str,
    q: &str,
    page: usize,
    limit: usize,
) -> Result<Found, ApiError> {
    let q = q.trim();
    let wanted = normalise(q);
    if wanted.is_empty() {
        return Ok(Found::default());
    }
    let mut ids = index.candidates(&wanted, MAX_CANDIDATES);
    // Record ids as written (ids are case-sensitive; every record is in the ledger's state,
    // private ones not addressed to this node included).
    for (id, _) in ledger.records_from(q, q, 50)? {
        ids.insert(id);
    }
    let mut visible: Vec<(RecordVersion, Vec<(Field, String)>)> = Vec::new();
    for id in ids {
        let Some(v) = ledger.record(&id)? else { continue };
        let Some(groups) = reads.permits(principal, purpose, &v)? else { continue };
        let mut matched = Vec::new();
        if let Some(mut content) = readable(ledger, principal, &v)? {
            borderlink_ledger::read_policy::withhold(&mut content, &groups);
            let t = RecordType::from_name(&v.record_type).unwrap_or(RecordType::Declaration);
            matched.extend(terms(t, &content).into_iter().filter(|(_, s)| normalise(s).starts_with(&wanted)));
        }
        if v.record_id.starts_with(q) || normalise(&v.record_id).starts_with(&wanted) {
            matched.push((Field::RecordId, v.record_id.clone()));
        }
        if !matched.is_empty() {
            visible.push((v, matched));
        }
    }
    visible.sort_by(|(a, _), (b, _)| {
        type_rank(&a.record_type)
            .cmp(&type_rank(&b.record_type))
            .then(b.height.cmp(&a.height))
            .then(b.index.cmp(&a.index))
    });
    let mut per_type: Vec<(String, usize)> = Vec::new();
    for (v, _) in &visible {
        match per_type.last_mut() {
            Some((t, n)) if *t == v.record_type => *n += 1,
            _ => per_type.push((v.record_type.clone(), 1)),
        }
    }
    let total = visible.len();
    let start = page.saturating_sub(1).saturating_mul(limit);
    let on_page: Vec<(RecordVersion, Vec<(Field, String)>)> = visible.into_iter().skip(start).take(limit).collect();
    // The page is read like any list of records: shaped for the purpose, audited once (a
    // private record opened here is audited as its own read).
    let clear: Vec<RecordVersion> =
        on_page.iter().filter(|(v, _)| v.payload.is_some()).map(|(v, _)| v.clone()).collect();
    let mut shaped: HashMap<String, (RecordVersion, Value)> = HashMap::new();
    for s in reads.shape_all(principal, Purposed(Some(purpose)), route, clear, true)? {
        if let Some(v) = s.version {
            let content = v.payload.clone().unwrap_or(Value::Null);
            shaped.insert(v.record_id.clone(), (v, content));
        }
    }
    let mut hits = Vec::with_capacity(on_page.len());
    for (v, matched) in on_page {
        if let Some((version, content)) = shaped.remove(&v.record_id) {
            hits.push(Hit { version, content: Some(content), matched });
        } else if v.payload.is_none() && recipient(principal, &v) {
            let content = match readable(ledger, principal, &v)? {
                Some(c) => Some(reads.shape_content(principal, Purposed(Some(purpose)), route, &v, c)?.json),
                None => None,
            };
            hits.push(Hit { version: v, content, matched });
        } else if v.payload.is_none() {
            // Found by its id alone (a private record for others, or erased): nothing to shape.
            hits.push(Hit { version: v, content: None, matched });
        }
    }
    Ok(Found { total, per_type, hits })
}

/// The title a person recognises a record by: a declaration's LRN, an authorisation's holder…
pub(crate) fn title(record_type: &str, content: Option<&Value>) -> Option<String> {
    let c = content?;
    let at = |p: &str| c.pointer(p).and_then(Value::as_str).map(str::to_owned);
    match record_type {
        "declaration" => at("/Declaration/FunctionalReferenceID").or_else(|| at("/Declaration/ID")),
        "aeo-authorization" => match (at("/AdditionalDocument/ID"), at("/ext/holder/Name")) {
            (Some(n), Some(h)) => Some(format!("{n} — {h}")),
            (n, h) => n.or(h),
        },
        "transport-movement" => at("/Consignment/ext/movementReference"),
        "inspection-result" => at("/Declaration/FunctionalReferenceID")
            .map(|lrn| format!("{lrn}: {}", at("/Inspection/outcome").unwrap_or_default())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Value {
        let path = format!("{}/../../../shared/data/samples/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).expect("JSON")
    }

    #[test]
    fn a_declarations_numbers_parties_codes_containers_and_seals_are_terms() {
        let t = terms(RecordType::Declaration, &sample("declaration.json"));
        for expected in [
            (Field::Lrn, "LRN-2026-000123"),
            (Field::Trader, "GB553202734852"),
            (Field::Hs, "84713000"),
            (Field::Hs, "85176200"),
            (Field::Container, "MSKU1234565"),
            (Field::Seal, "CN7788990"),
        ] {
            assert!(t.contains(&(expected.0, expected.1.to_owned())), "{expected:?} not in {t:?}");
        }
        // A loading location's id or a previous document's is not a party.
        assert!(!t.iter().any(|(_, v)| v == "CNSGH" || v == "MAEU260301234"), "{t:?}");
    }

    #[test]
    fn authorisations_and_movements_are_found_by_their_numbers() {
        let t = terms(RecordType::AeoAuthorization, &sample("aeo-authorisation.json"));
        assert!(
            t.contains(&(Field::Aeo, "GB AEOC 14274/19".into()))
                && t.contains(&(Field::Trader, "GB553202734852".into()))
        );
        let t = terms(RecordType::TransportMovement, &sample("transport-movement.json"));
        assert!(t.contains(&(Field::Seal, "ESEAL-0A1B2C3D4E".into())), "{t:?}");
        assert!(
            t.contains(&(Field::Movement, "MOV-2026-000987".into()))
                && t.contains(&(Field::Lrn, "LRN-2026-000123".into()))
        );
        assert!(t.contains(&(Field::Trader, "DK12345678".into())), "the carrier: {t:?}");
    }

    #[test]
    fn the_index_finds_by_prefix_and_forgets_a_versions_old_terms() {
        let index = SearchIndex::default();
        let mut d = sample("declaration.json");
        index.index("declaration:GB1:LRN-1", RecordType::Declaration, &d);
        assert_eq!(index.candidates(&normalise("8471.30"), 10).len(), 1);
        assert_eq!(index.candidates(&normalise("msku 1234565"), 10).len(), 1);
        d["Declaration"]["GoodsShipment"]["Consignment"]["TransportEquipment"][0]["ID"] = "TGHU0000001".into();
        index.index("declaration:GB1:LRN-1", RecordType::Declaration, &d);
        assert!(index.candidates("MSKU", 10).is_empty());
        assert_eq!(index.candidates("TGHU", 10).len(), 1);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn queries_hold_one_to_two_hundred_characters() {
        assert!(check_query("").is_err());
        assert!(check_query(&"x".repeat(201)).is_err());
        assert!(check_query(&"é".repeat(200)).is_ok());
    }
}
