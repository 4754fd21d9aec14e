//! Mutual recognition of AEO programmes: which administrations receive which fields of an AEO's
//! authorisation, and only while the AEO consents.
//!
//! Under a mutual-recognition arrangement (MRA) the customs administrations of partner
//! programmes exchange, for each AEO, exactly the agreed data — in the EU–US arrangement: name,
//! address, status, validation date, suspensions and revocations, the unique identification
//! number, and details agreed beyond these — and only with the AEO's consent. Here:
//!
//! - the agreements are data in the genesis ([`Agreement`]: the programmes, by the country of
//!   their issuing administration, that recognise each other, and the [`EXTRA_FIELDS`] agreed
//!   beyond the [`CORE_FIELDS`]);
//! - the consent is a record on the ledger (`aeo-consent`, given and withdrawn by the AEO
//!   itself: the write policy admits only a member trading under the holder's trader id), whose
//!   id [`consent_id`] derives from the authorisation, so a consent in another trader's name can
//!   never be taken for the holder's;
//! - [`aeo`] and [`list`] answer a partner administration with [`Shared`] views built from the
//!   authorisation's current version and its history, never the record itself.
//!
//! Invariant: an answer holds exactly the agreed fields of an authorisation whose holder's
//! current consent is `given`, for the reader's programme, and which the read policy lets the
//! reader read for the purpose `mra-exchange`; an authorisation that is absent, erased,
//! unreadable here or without such a consent is refused in the same words ([`MraError::NotShared`]),
//! so that a refusal says nothing about the AEO.

use std::borrow::Cow;
use std::collections::BTreeSet;

use borderlink_model::datetime;
use borderlink_model::records::{AeoAuthorizationRecord, AeoConsentRecord, AeoStatus, ConsentScope, ConsentStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::policy::ResourceAttrs;
use crate::read_policy::{ReadPolicy, Reader};
use crate::tx::{PayloadKind, TxKind};
use crate::{Ledger, LedgerError, RecordVersion, meta};

/// The declared purpose of every read this module answers.
pub const PURPOSE: &str = "mra-exchange";

/// The fields every agreement shares: (name, what it holds).
pub const CORE_FIELDS: &[(&str, &str)] = &[
    ("uniqueId", "the holder's trader identification number (TIN/EORI)"),
    ("name", "the holder's name"),
    ("address", "the holder's address (WCO Address: Line, CityName, PostcodeID, CountryCode…), or null"),
    ("status", "ACTIVE, SUSPENDED or REVOKED"),
    ("validationDate", "when the authorisation took effect (its EffectiveDateTime), or null"),
    (
        "suspensionsAndRevocations",
        "every suspension and revocation, oldest first: {status, from, until} (until null while in force)",
    ),
];

/// The fields an agreement may add (`extras`): (name, what it holds).
pub const EXTRA_FIELDS: &[(&str, &str)] = &[
    ("authorisationNumber", "the authorisation's reference number (AdditionalDocument/ID)"),
    ("category", "the AEO category: AEOC, AEOS or AEOF"),
    ("validUntil", "the end of validity, or null for an authorisation without end date"),
    ("issuingAuthority", "the name of the issuing administration"),
];

/// The fields of the read policy's group `parties` (withheld when the policy says so).
const PARTY_FIELDS: &[&str] = &["uniqueId", "name", "address"];

/// Most items one page of [`list`] holds.
pub const MAX_PAGE: usize = 1000;

/// A mutual-recognition agreement between AEO programmes, as the genesis lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// The agreement's name (e.g. `EU–UK TCA AEO mutual recognition`).
    pub name: String,
    /// The programmes that recognise each other, by the ISO 3166-1 alpha-2 code of their issuing
    /// administration's country: at least two.
    pub programmes: Vec<String>,
    /// Fields shared beyond the core ones (names from [`EXTRA_FIELDS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
}

/// Checks a genesis's agreements: named once each, two or more distinct countries, known extras.
pub fn check_agreements(agreements: &[Agreement]) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for a in agreements {
        let what = format!("mutual-recognition agreement {:?}", a.name);
        if a.name.trim().is_empty() || !names.insert(a.name.as_str()) {
            return Err(format!("{what}: every agreement needs a name of its own"));
        }
        let countries: BTreeSet<&str> = a.programmes.iter().map(String::as_str).collect();
        if countries.len() < 2 || countries.len() != a.programmes.len() {
            return Err(format!("{what}: list two or more programmes (countries), each once"));
        }
        if let Some(c) = a.programmes.iter().find(|c| !borderlink_model::codelists::is_country(c)) {
            return Err(format!("{what}: {c:?} is not an ISO 3166-1 alpha-2 country code"));
        }
        if let Some(x) = a.extras.iter().find(|x| !EXTRA_FIELDS.iter().any(|(f, _)| f == x)) {
            let known: Vec<&str> = EXTRA_FIELDS.iter().map(|(f, _)| *f).collect();
            return Err(format!("{what}: extra field {x:?} is not one of {}", known.join(", ")));
        }
    }
    Ok(())
}

/// The programmes (countries) whose AEOs an administration of `country` recognises.
pub fn partners_of(agreements: &[Agreement], country: &str) -> BTreeSet<String> {
    agreements
        .iter()
        .filter(|a| a.programmes.iter().any(|p| p == country))
        .flat_map(|a| a.programmes.iter().filter(|p| *p != country).cloned())
        .collect()
}

/// The fields an administration of `reader` receives of an AEO of `issuer`'s programme: the
/// core fields and the extras of every agreement between the two, in a fixed order; `None`
/// when no agreement makes them partners (an administration is no partner of itself).
pub fn shared_fields(agreements: &[Agreement], reader: &str, issuer: &str) -> Option<Vec<&'static str>> {
    let between: Vec<&Agreement> = agreements
        .iter()
        .filter(|a| {
            reader != issuer && a.programmes.iter().any(|p| p == reader) && a.programmes.iter().any(|p| p == issuer)
        })
        .collect();
    if between.is_empty() {
        return None;
    }
    let mut fields: Vec<&'static str> = CORE_FIELDS.iter().map(|(f, _)| *f).collect();
    fields.extend(
        EXTRA_FIELDS.iter().map(|(f, _)| *f).filter(|f| between.iter().any(|a| a.extras.iter().any(|x| x == f))),
    );
    Some(fields)
}

/// The id of the consent record that covers an authorisation: `aeo-consent:{holder's trader
/// id}:{issuing country}/{authorisation number}`; `None` for an authorisation without number.
pub fn consent_id(authorisation: &AeoAuthorizationRecord) -> Option<String> {
    let number = authorisation.additional_document.as_ref()?.id.as_deref()?;
    let ext = &authorisation.ext;
    Some(meta::compose_id(
        "aeo-consent",
        &ext.trader_identification_number,
        &meta::consent_key(&ext.issuing_authority.country_code, number),
    ))
}

/// Whether `consent` lets the data of `authorisation` go to an administration of `reader`: given,
/// for the mutual-recognition exchange, about this very authorisation and by its holder, and for
/// the reader's programme (or every partner).
pub fn consent_allows(consent: &AeoConsentRecord, authorisation: &AeoAuthorizationRecord, reader: &str) -> bool {
    let c = &consent.consent;
    let ext = &authorisation.ext;
    let number = authorisation.additional_document.as_ref().and_then(|d| d.id.as_deref());
    c.status == ConsentStatus::Given
        && c.scope == ConsentScope::MraExchange
        && c.trader_identification_number == ext.trader_identification_number
        && c.authorisation.country_code == ext.issuing_authority.country_code
        && Some(c.authorisation.id.as_str()) == number
        && (c.partner_programmes.is_empty() || c.partner_programmes.iter().any(|p| p == reader))
}

/// The agreed fields of an authorisation: `fields` (from [`shared_fields`]) built from its
/// current version and its earlier versions (oldest first), and nothing else.
pub fn exchange_view(current: &AeoAuthorizationRecord, earlier: &[AeoAuthorizationRecord], fields: &[&str]) -> Shared {
    let ext = &current.ext;
    let doc = current.additional_document.as_ref();
    let mut out = Map::new();
    for f in fields {
        let v = match *f {
            "uniqueId" => Value::from(ext.trader_identification_number.clone()),
            "name" => Value::from(ext.holder.name.clone()),
            "address" => ext.holder.address.as_ref().and_then(|a| serde_json::to_value(a).ok()).unwrap_or(Value::Null),
            "status" => status_value(ext.status),
            "validationDate" => doc.and_then(|d| d.effective_date_time.clone()).map_or(Value::Null, Value::from),
            "suspensionsAndRevocations" => Value::Array(suspensions(current, earlier)),
            "authorisationNumber" => doc.and_then(|d| d.id.clone()).map_or(Value::Null, Value::from),
            "category" => current.authorisation_holder.category_code.clone().map_or(Value::Null, Value::from),
            "validUntil" => ext.valid_until.clone().map_or(Value::Null, Value::from),
            "issuingAuthority" => Value::from(ext.issuing_authority.name.clone()),
            _ => continue,
        };
        out.insert((*f).to_owned(), v);
    }
    out
}

fn status_value(s: AeoStatus) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// Every suspension and revocation, oldest first, from the status changes that any version of
/// the authorisation records (its `statusHistory` and its status at `statusChangedAt`): each
/// period from the change that began it until the next change to another status. Reasons stay
/// with the issuing administration: they are not among the agreed fields.
fn suspensions(current: &AeoAuthorizationRecord, earlier: &[AeoAuthorizationRecord]) -> Vec<Value> {
    let mut changes: Vec<(AeoStatus, &str)> = Vec::new();
    for r in earlier.iter().chain(std::iter::once(current)) {
        changes.extend(r.ext.status_history.iter().map(|h| (h.status, h.at.as_str())));
        changes.push((r.ext.status, r.ext.status_changed_at.as_str()));
    }
    // Oldest first; a time that does not parse sorts by its text, after those that do.
    changes.sort_by(|a, b| {
        let key = |at: &str| (datetime::parse(at).is_none(), datetime::parse(at), at.to_owned());
        key(a.1).cmp(&key(b.1))
    });
    changes.dedup();
    let mut periods: Vec<Value> = Vec::new();
    let mut open: Option<(AeoStatus, &str)> = None;
    let mut last = None;
    for (status, at) in changes {
        if last == Some(status) {
            continue;
        }
        last = Some(status);
        if let Some((s, from)) = open.take() {
            periods.push(serde_json::json!({"status": status_value(s), "from": from, "until": at}));
        }
        if status != AeoStatus::Active {
            open = Some((status, at));
        }
    }
    if let Some((s, from)) = open {
        periods.push(serde_json::json!({"status": status_value(s), "from": from, "until": Value::Null}));
    }
    periods
}

/// What a partner administration receives of one AEO: exactly the agreed fields.
pub type Shared = Map<String, Value>;

/// One page of [`list`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    /// The AEOs shared with the reader, by unique id (a holder's authorisations together).
    pub items: Vec<Shared>,
    /// The `uniqueId` to ask for the next page after (`after`), when there may be one.
    pub next: Option<String>,
}

/// Why a mutual-recognition read is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MraError {
    /// The reader's programme is in no agreement with the AEO's (or with any programme).
    #[error("{0}")]
    NotPartner(String),
    /// No authorisation with this id is shared with the reader: it does not exist, or its holder's
    /// consent is not in force for the reader's programme (the refusal does not say which).
    #[error(
        "no AEO authorisation {0} is shared with your administration: none exists, or its holder has not \
         consented (aeo-consent, status given) to the mutual-recognition exchange with your programme"
    )]
    NotShared(String),
    /// The read policy does not let the reader read AEO authorisations for `mra-exchange`.
    #[error("the consortium's read policy does not let {0} read AEO authorisations for the purpose mra-exchange")]
    PolicyDenied(String),
    /// Reading the ledger failed.
    #[error("{0}")]
    Ledger(#[from] LedgerError),
}

/// Who reads and under which rules.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The ledger read.
    pub ledger: &'a Ledger,
    /// The agreements in force.
    pub agreements: &'a [Agreement],
    /// The read policy in force.
    pub policy: &'a ReadPolicy,
    /// The reader: an administration (its `country` is its programme), with its roles.
    pub reader: &'a Reader,
}

/// The AEO authorisation `id` (`aeo-authorization:{issuing country}:{number}`) as the reader
/// receives it under mutual recognition.
pub fn aeo(x: Exchange<'_>, id: &str) -> Result<Shared, MraError> {
    let partners = partners_of(x.agreements, &x.reader.country);
    if partners.is_empty() {
        return Err(no_partners(&x.reader.country));
    }
    let not_shared = || MraError::NotShared(id.to_owned());
    let issuer = id
        .strip_prefix("aeo-authorization:")
        .and_then(|rest| rest.split_once(':'))
        .map(|(country, _)| country)
        .ok_or_else(not_shared)?;
    if !partners.contains(issuer) {
        return Err(MraError::NotPartner(format!(
            "no mutual-recognition agreement of the consortium makes the programme of {} a partner of {issuer}'s; \
             your administration's partners are: {}",
            x.reader.country,
            partners.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    shared(x, id, None)?.ok_or_else(not_shared)
}

/// The AEOs shared with the reader, ordered by unique id, at most `limit` (up to [`MAX_PAGE`]) —
/// a holder's authorisations always on the same page — after the unique id `after`, only those of
/// `unique_id` when given.
pub fn list(x: Exchange<'_>, after: Option<&str>, unique_id: Option<&str>, limit: usize) -> Result<Page, MraError> {
    if partners_of(x.agreements, &x.reader.country).is_empty() {
        return Err(no_partners(&x.reader.country));
    }
    let limit = limit.clamp(1, MAX_PAGE);
    // A holder's consents share the prefix `aeo-consent:{trader id}:`; the byte after its
    // separator, `;`, starts whatever sorts after every one of them.
    let holder_prefix = |tin: &str| format!("aeo-consent:{}:", meta::escape_part(tin));
    let prefix = unique_id.map_or_else(|| "aeo-consent:".to_owned(), holder_prefix);
    let mut from: Cow<'_, str> = match after {
        Some(tin) => Cow::Owned(format!("aeo-consent:{};", meta::escape_part(tin))),
        None => Cow::Borrowed(prefix.as_str()),
    };
    let mut items: Vec<Shared> = Vec::new();
    // Once the page is full, only the last holder's other authorisations still join it.
    let mut closing: Option<(String, String)> = None;
    loop {
        let batch = x.ledger.records_from(&prefix, &from, 256)?;
        let Some((last, _)) = batch.last() else { return Ok(Page { items, next: None }) };
        from = Cow::Owned(format!("{last}\0"));
        for (consent, state) in &batch {
            if let Some((holder, _)) = &closing
                && !consent.starts_with(holder.as_str())
            {
                return Ok(Page { items, next: closing.map(|(_, tin)| tin) });
            }
            if state.erased || state.record_type != "aeo-consent" {
                continue;
            }
            let Some(authorisation) = authorisation_of(x, consent)? else { continue };
            let item = match shared(x, &authorisation, Some(consent)) {
                Ok(Some(item)) => item,
                // The read policy may deny some authorisations (by country, say): the list
                // leaves them out, as it leaves out what the single read refuses.
                Ok(None) | Err(MraError::PolicyDenied(_)) => continue,
                Err(e) => return Err(e),
            };
            items.push(item);
            if items.len() >= limit && closing.is_none() {
                // The holder's trader id: the id's authority, which validation bound to it.
                let tin = state.meta.declarant.clone();
                closing = Some((holder_prefix(&tin), tin));
            }
        }
    }
}

fn no_partners(country: &str) -> MraError {
    MraError::NotPartner(format!(
        "the programme of {country} is in no mutual-recognition agreement of the consortium (genesis `mra`)"
    ))
}

/// The id of the authorisation a consent record covers, when the consent is one in force for
/// the reader's programme (read first: most consents that do not count are refused here, before
/// the authorisation is read).
fn authorisation_of(x: Exchange<'_>, consent_id: &str) -> Result<Option<String>, LedgerError> {
    let Some(v) = x.ledger.record(consent_id)? else { return Ok(None) };
    let Some(c) = v.payload.and_then(|p| serde_json::from_value::<AeoConsentRecord>(p).ok()) else {
        return Ok(None);
    };
    let c = &c.consent;
    let for_reader = c.partner_programmes.is_empty() || c.partner_programmes.contains(&x.reader.country);
    Ok((c.status == ConsentStatus::Given && for_reader)
        .then(|| meta::compose_id("aeo-authorization", &c.authorisation.country_code, &c.authorisation.id)))
}

/// The authorisation `id` as the reader receives it, or `None` when it is not shared with them
/// (or, listing from the consent `via`, when `via` is not its holder's consent: another trader's
/// consent about it shares nothing, and the holder's is listed once, from itself).
fn shared(x: Exchange<'_>, id: &str, via: Option<&str>) -> Result<Option<Shared>, MraError> {
    let Some(state) = x.ledger.record_state(id)? else { return Ok(None) };
    if state.erased || state.record_type != "aeo-authorization" {
        return Ok(None);
    }
    let Some(fields) = shared_fields(x.agreements, &x.reader.country, &state.meta.issuer) else {
        return Ok(None);
    };
    let mut versions = versions(x.ledger, id)?;
    let Some(current) = versions.pop() else { return Ok(None) };
    let Some(consent_id) = consent_id(&current) else { return Ok(None) };
    if via.is_some_and(|v| v != consent_id) {
        return Ok(None);
    }
    let consent = match x.ledger.record_state(&consent_id)? {
        Some(s) if !s.erased && s.record_type == "aeo-consent" => x.ledger.record(&consent_id)?,
        _ => None,
    };
    let consent = consent.and_then(|v| v.payload).and_then(|p| serde_json::from_value::<AeoConsentRecord>(p).ok());
    if !consent.is_some_and(|c| consent_allows(&c, &current, &x.reader.country)) {
        return Ok(None);
    }
    let attrs = ResourceAttrs { record_type: state.record_type.clone(), meta: state.meta.clone(), owner: state.owner };
    let decision = x.policy.decide(x.reader, PURPOSE, &attrs)?;
    if !decision.allowed {
        return Err(MraError::PolicyDenied(x.reader.member.clone()));
    }
    let mut view = exchange_view(&current, &versions, &fields);
    if decision.withheld_groups.contains(&"parties") {
        view.retain(|k, _| !PARTY_FIELDS.contains(&k.as_str()));
    }
    Ok(Some(view))
}

/// Every version of an authorisation this node can read, oldest first (clear, or private with
/// this node's member among the recipients).
fn versions(ledger: &Ledger, id: &str) -> Result<Vec<AeoAuthorizationRecord>, LedgerError> {
    let mut out = Vec::new();
    for v in ledger.history(id)? {
        if v.kind != TxKind::Put {
            continue;
        }
        if let Some(r) = readable(ledger, v)? {
            out.push(r);
        }
    }
    Ok(out)
}

fn readable(ledger: &Ledger, v: RecordVersion) -> Result<Option<AeoAuthorizationRecord>, LedgerError> {
    let value = match (v.payload, v.payload_kind) {
        (Some(p), _) => p,
        (None, PayloadKind::Private) if ledger.local_member().is_some_and(|m| v.recipients.iter().any(|r| r == m)) => {
            match ledger.read_private(&v.record_id, Some(v.version)) {
                Ok(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(p) => p,
                    Err(_) => return Ok(None),
                },
                Err(LedgerError::Erased(_) | LedgerError::NotRecipient { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        _ => return Ok(None),
    };
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreements() -> Vec<Agreement> {
        vec![
            Agreement { name: "GB–NL".into(), programmes: vec!["GB".into(), "NL".into()], extras: vec![] },
            Agreement {
                name: "GB–US".into(),
                programmes: vec!["GB".into(), "US".into()],
                extras: vec!["category".into(), "authorisationNumber".into()],
            },
        ]
    }

    fn authorisation() -> AeoAuthorizationRecord {
        serde_json::from_value(serde_json::json!({
            "AuthorisationHolder": {"ID": "GB553202734852", "CategoryCode": "AEOC"},
            "AdditionalDocument": {"ID": "GB AEOC 14274/19", "EffectiveDateTime": "2019-06-01T00:00:00Z"},
            "ext": {
                "issuingAuthority": {"countryCode": "GB", "name": "HM Revenue & Customs"},
                "status": "ACTIVE",
                "statusChangedAt": "2026-05-01T00:00:00Z",
                "traderIdentificationNumber": "GB553202734852",
                "holder": {"Name": "Example Imports Ltd", "Address": {"Line": "1 Harbour Way", "CountryCode": "GB"}},
                "statusHistory": [
                    {"status": "ACTIVE", "at": "2019-06-01T00:00:00Z"},
                    {"status": "SUSPENDED", "at": "2026-03-01T00:00:00Z", "reason": "audit findings"},
                    {"status": "ACTIVE", "at": "2026-05-01T00:00:00Z"}
                ]
            }
        }))
        .unwrap()
    }

    fn consent(status: &str, partners: &[&str]) -> AeoConsentRecord {
        let mut c = serde_json::json!({"Consent": {
            "authorisation": {"countryCode": "GB", "id": "GB AEOC 14274/19"},
            "traderIdentificationNumber": "GB553202734852",
            "scope": "mra-exchange",
            "partnerProgrammes": partners,
            "status": status,
            "givenAt": "2026-01-01T00:00:00Z"
        }});
        if status == "withdrawn" {
            c["Consent"]["withdrawnAt"] = "2026-02-01T00:00:00Z".into();
        }
        serde_json::from_value(c).unwrap()
    }

    #[test]
    fn partners_are_the_other_programmes_of_an_agreement_and_extras_add_up() {
        let a = agreements();
        assert_eq!(partners_of(&a, "GB").into_iter().collect::<Vec<_>>(), ["NL", "US"]);
        assert_eq!(partners_of(&a, "NL").into_iter().collect::<Vec<_>>(), ["GB"]);
        assert!(partners_of(&a, "FR").is_empty());
        let core: Vec<&str> = CORE_FIELDS.iter().map(|(f, _)| *f).collect();
        assert_eq!(shared_fields(&a, "NL", "GB").unwrap(), core);
        assert_eq!(shared_fields(&a, "US", "GB").unwrap().len(), core.len() + 2);
        assert_eq!(shared_fields(&a, "NL", "US"), None, "NL and US have no agreement");
        assert_eq!(shared_fields(&a, "GB", "GB"), None, "no administration is its own partner");
    }

    #[test]
    fn agreements_name_two_countries_and_known_extras() {
        assert!(check_agreements(&agreements()).is_ok());
        let mut bad = agreements();
        bad[0].programmes = vec!["GB".into(), "GB".into()];
        assert!(check_agreements(&bad).is_err());
        let mut bad = agreements();
        bad[1].extras = vec!["turnover".into()];
        assert!(check_agreements(&bad).unwrap_err().contains("turnover"));
        let mut bad = agreements();
        bad[1].name = "GB–NL".into();
        assert!(check_agreements(&bad).is_err(), "names are unique");
        let mut bad = agreements();
        bad[0].programmes[1] = "XX".into();
        assert!(check_agreements(&bad).is_err());
    }

    #[test]
    fn the_view_holds_exactly_the_agreed_fields_and_the_suspension_periods() {
        let a = authorisation();
        let fields = shared_fields(&agreements(), "NL", "GB").unwrap();
        let v = exchange_view(&a, &[], &fields);
        let keys: Vec<&str> = v.keys().map(String::as_str).collect();
        let want: Vec<&str> = CORE_FIELDS.iter().map(|(f, _)| *f).collect();
        assert_eq!(keys, want, "the core fields, in their order");
        assert_eq!(v["uniqueId"], "GB553202734852");
        assert_eq!(v["validationDate"], "2019-06-01T00:00:00Z");
        assert_eq!(
            v["suspensionsAndRevocations"],
            serde_json::json!([{"status": "SUSPENDED", "from": "2026-03-01T00:00:00Z", "until": "2026-05-01T00:00:00Z"}])
        );
        assert!(!serde_json::to_string(&v).unwrap().contains("audit findings"), "reasons are not shared");
        // A revocation recorded only by a later version's status is still open.
        let mut revoked = a.clone();
        revoked.ext.status = AeoStatus::Revoked;
        revoked.ext.status_changed_at = "2026-07-01T00:00:00Z".into();
        let v = exchange_view(&revoked, &[a], &fields);
        assert_eq!(v["suspensionsAndRevocations"][1]["status"], "REVOKED");
        assert_eq!(v["suspensionsAndRevocations"][1]["until"], Value::Null);
    }

    #[test]
    fn only_a_given_consent_by_the_holder_for_the_readers_programme_counts() {
        let a = authorisation();
        assert!(consent_allows(&consent("given", &[]), &a, "NL"));
        assert!(consent_allows(&consent("given", &["NL"]), &a, "NL"));
        assert!(!consent_allows(&consent("given", &["US"]), &a, "NL"));
        assert!(!consent_allows(&consent("withdrawn", &[]), &a, "NL"));
        let mut other = consent("given", &[]);
        other.consent.trader_identification_number = "NL123456789".into();
        assert!(!consent_allows(&other, &a, "NL"), "a consent in another trader's name");
        assert_eq!(consent_id(&a).unwrap(), "aeo-consent:GB553202734852:GB/GB AEOC 14274/19");
    }
}
