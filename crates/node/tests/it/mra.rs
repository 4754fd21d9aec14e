//! AEO mutual recognition through HTTP: a partner administration reads exactly the agreed fields
//! of an AEO while the AEO's consent is recorded on the ledger, and nobody else reads anything.

use borderlink_ledger::auth::path_segment;
use borderlink_ledger::consortium::{self, OrgSpec};
use borderlink_ledger::identity::{MemberKeys, Role};
use borderlink_ledger::mra::{Agreement, CORE_FIELDS};
use borderlink_node::{Config, LedgerConfig};
use serde_json::{Value, json};

use crate::ledger::{LedgerNode, serve_node};
use crate::samples::sample_bytes;
use crate::test_node::client;

const GB_CUSTOMS: usize = 0;
const NL_CUSTOMS: usize = 1;
const US_CUSTOMS: usize = 2;
const GB_AEO: usize = 3;
const NL_AEO: usize = 4;

/// The GB AEO's authorisation, as its record id.
const AUTHORISATION: &str = "aeo-authorization:GB:GB AEOC 14274/19";
/// The GB AEO's trader identification number (the sample authorisation's holder).
const TIN: &str = "GB553202734852";
/// Another trader id the GB AEO trades under (a second company of its group).
const OTHER_TIN: &str = "GB000000000002";

/// GB customs' node in a consortium of GB, NL and US customs and a GB and an NL AEO, whose only
/// agreement makes the GB and NL programmes partners, sharing the authorisation number beyond
/// the core fields (US customs is a member, but no partner).
async fn start() -> LedgerNode {
    let dir = tempfile::tempdir().unwrap();
    let org = |name: &str, role, country: &str, trader_ids: &[&str]| OrgSpec {
        name: name.into(),
        role,
        country: country.into(),
        trader_ids: trader_ids.iter().map(|t| (*t).to_owned()).collect(),
    };
    let orgs = vec![
        org("HM Revenue & Customs", Role::Customs, "GB", &[]),
        org("Douane Nederland", Role::Customs, "NL", &[]),
        org("U.S. Customs and Border Protection", Role::Customs, "US", &[]),
        org("Example Imports Ltd", Role::Aeo, "GB", &[TIN, OTHER_TIN]),
        org("Voorbeeld Logistiek BV", Role::Aeo, "NL", &["NL123456789"]),
    ];
    let mut created = consortium::create(&dir.path().join("net"), "MRA test", &orgs, "2026-11-26T00:00:00Z").unwrap();
    created.genesis.mra = vec![Agreement {
        name: "GB–NL AEO mutual recognition".into(),
        programmes: vec!["GB".into(), "NL".into()],
        extras: vec!["authorisationNumber".into()],
    }];
    std::fs::write(&created.genesis_path, serde_json::to_string_pretty(&created.genesis).unwrap()).unwrap();
    let keys: Vec<MemberKeys> = created.key_files.iter().map(|(_, p)| MemberKeys::load(p).unwrap()).collect();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ledger: Some(LedgerConfig {
            genesis: created.genesis_path.clone(),
            key: created.key_files[GB_CUSTOMS].1.clone(),
        }),
        ..Config::default()
    };
    serve_node(config, keys, created.genesis.chain_id(), dir).await
}

/// `GET path`, signed by member `signer`, with extra headers.
async fn get(n: &LedgerNode, signer: usize, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut r = client().get(format!("{}{path}", n.base)).header("authorization", n.auth(signer, "GET", path, b""));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The single read of the GB AEO's authorisation, with the purpose `mra-exchange`.
async fn read(n: &LedgerNode, signer: usize) -> (u16, Value) {
    get(n, signer, &format!("/api/v1/mra/aeo/{}?purpose=mra-exchange", path_segment(AUTHORISATION)), &[]).await
}

/// The unique ids the list shows `signer`.
async fn listed(n: &LedgerNode, signer: usize) -> Vec<String> {
    let (status, body) = get(n, signer, "/api/v1/mra/aeo?purpose=mra-exchange", &[]).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().iter().map(|i| i["uniqueId"].as_str().unwrap().to_owned()).collect()
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

/// The consent of the holder `tin` to sharing the GB authorisation, as `status` says.
fn consent(tin: &str, status: &str) -> Vec<u8> {
    consent_to("GB AEOC 14274/19", tin, status)
}

/// The consent of the holder `tin` to sharing the GB authorisation `number`.
fn consent_to(number: &str, tin: &str, status: &str) -> Vec<u8> {
    let mut c = json!({"Consent": {
        "authorisation": {"countryCode": "GB", "id": number},
        "traderIdentificationNumber": tin,
        "scope": "mra-exchange",
        "status": status,
        "givenAt": "2026-11-01T09:00:00Z"
    }});
    if status == "withdrawn" {
        c["Consent"]["withdrawnAt"] = json!("2026-11-20T09:00:00Z");
    }
    serde_json::to_vec(&c).unwrap()
}

/// Commits `payload` as version `version` of its record, written by `signer`.
async fn commit(n: &LedgerNode, signer: usize, payload: Vec<u8>, version: u64, nonce: u64) -> (u16, Value) {
    let id = n.id_of(signer, &payload);
    n.post(&n.put_bytes(signer, payload, &id, version, nonce)).await
}

async fn authorise(n: &LedgerNode) {
    let (status, body) = n.post(&n.put(GB_CUSTOMS, "aeo-authorisation.json", "GB AEOC 14274/19", 1, 1)).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_partner_administration_reads_exactly_the_agreed_fields_while_the_aeo_consents() {
    let n = start().await;
    authorise(&n).await;
    // Before any consent: refused, in the words an unknown id gets, and absent from the list.
    let (status, before) = read(&n, NL_CUSTOMS).await;
    assert_eq!((status, code(&before)), (404, "aeo_not_shared"), "{before}");
    let unknown = "aeo-authorization:GB:NO SUCH NUMBER";
    let (status, body) =
        get(&n, NL_CUSTOMS, &format!("/api/v1/mra/aeo/{}?purpose=mra-exchange", path_segment(unknown)), &[]).await;
    assert_eq!((status, code(&body)), (404, "aeo_not_shared"));
    assert_eq!(
        body["message"].as_str().unwrap().replace(unknown, "ID"),
        before["message"].as_str().unwrap().replace(AUTHORISATION, "ID"),
        "an AEO without consent reads like no AEO"
    );
    assert!(listed(&n, NL_CUSTOMS).await.is_empty());

    let (status, body) = commit(&n, GB_AEO, consent(TIN, "given"), 1, 2).await;
    assert_eq!(status, 201, "{body}");
    let (status, aeo) = read(&n, NL_CUSTOMS).await;
    assert_eq!(status, 200, "{aeo}");
    let mut keys: Vec<&str> = aeo.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut agreed: Vec<&str> = CORE_FIELDS.iter().map(|(f, _)| *f).chain(["authorisationNumber"]).collect();
    agreed.sort_unstable();
    assert_eq!(keys, agreed, "exactly the core fields and the agreement's extra");
    assert_eq!(aeo["uniqueId"], TIN);
    assert_eq!(aeo["name"], "Example Imports Ltd");
    assert_eq!(aeo["address"]["CityName"], "Felixstowe");
    assert_eq!(aeo["status"], "ACTIVE");
    assert_eq!(aeo["validationDate"], "2019-06-01T00:00:00Z");
    assert_eq!(aeo["authorisationNumber"], "GB AEOC 14274/19");
    assert_eq!(aeo["suspensionsAndRevocations"], json!([]));
    // The purpose may come in the header instead; the list holds the same answer.
    let path = format!("/api/v1/mra/aeo/{}", path_segment(AUTHORISATION));
    let (status, by_header) = get(&n, NL_CUSTOMS, &path, &[("borderlink-purpose", "mra-exchange")]).await;
    assert_eq!((status, &by_header), (200, &aeo));
    let (status, page) = get(&n, NL_CUSTOMS, "/api/v1/mra/aeo?purpose=mra-exchange", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page, json!({"items": [aeo], "next": null}));
    let (_, one) = get(&n, NL_CUSTOMS, &format!("/api/v1/mra/aeo?purpose=mra-exchange&unique_id={TIN}"), &[]).await;
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    let (_, none) = get(&n, NL_CUSTOMS, &format!("/api/v1/mra/aeo?purpose=mra-exchange&after={TIN}"), &[]).await;
    assert_eq!(none, json!({"items": [], "next": null}));

    // Every read that shared the AEO is in the node's audit trail, naming the AEO as subject:
    // the read by id, by header, and the three list reads that returned it (not the empty one).
    let (status, audit) = n.get_signed(0, "/api/v1/audit?action=mra-read").await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{audit}");
    assert!(entries.iter().all(|e| e["subjects"] == json!([TIN]) && e["purpose"] == "mra-exchange"), "{audit}");
    assert_eq!(entries.last().unwrap()["records"], json!([AUTHORISATION]));

    // Withdrawn: refused again, and gone from the list.
    let (status, body) = commit(&n, GB_AEO, consent(TIN, "withdrawn"), 2, 3).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = read(&n, NL_CUSTOMS).await;
    assert_eq!((status, code(&body)), (404, "aeo_not_shared"), "{body}");
    assert!(listed(&n, NL_CUSTOMS).await.is_empty());
}

#[tokio::test]
async fn only_customs_of_a_partner_programme_with_the_purpose_mra_exchange_read() {
    let n = start().await;
    authorise(&n).await;
    assert_eq!(commit(&n, GB_AEO, consent(TIN, "given"), 1, 2).await.0, 201);
    assert_eq!(read(&n, NL_CUSTOMS).await.0, 200);
    // A customs administration whose programme is in no agreement with GB's.
    let (status, body) = read(&n, US_CUSTOMS).await;
    assert_eq!((status, code(&body)), (403, "not_mra_partner"), "{body}");
    let (status, body) = get(&n, US_CUSTOMS, "/api/v1/mra/aeo?purpose=mra-exchange", &[]).await;
    assert_eq!((status, code(&body)), (403, "not_mra_partner"), "{body}");
    // The issuing administration is no partner of itself: it reads its records on the ledger.
    assert_eq!(code(&read(&n, GB_CUSTOMS).await.1), "not_mra_partner");
    // Traders never read the exchange, not even their own.
    for trader in [GB_AEO, NL_AEO] {
        let (status, body) = read(&n, trader).await;
        assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    }
    // The purpose: none, another one, one that does not exist.
    let path = format!("/api/v1/mra/aeo/{}", path_segment(AUTHORISATION));
    let (status, body) = get(&n, NL_CUSTOMS, &path, &[]).await;
    assert_eq!((status, code(&body)), (403, "purpose_required"), "{body}");
    let (status, body) = get(&n, NL_CUSTOMS, &format!("{path}?purpose=clearance"), &[]).await;
    assert_eq!((status, code(&body)), (403, "purpose_not_allowed"), "{body}");
    let (status, body) = get(&n, NL_CUSTOMS, &format!("{path}?purpose=curiosity"), &[]).await;
    assert_eq!((status, code(&body)), (400, "unknown_purpose"), "{body}");
    let (status, body) = get(&n, NL_CUSTOMS, "/api/v1/mra/aeo", &[]).await;
    assert_eq!((status, code(&body)), (403, "purpose_required"), "{body}");
    let (status, body) = get(&n, NL_CUSTOMS, "/api/v1/mra/aeo?purpose=mra-exchange&limit=0", &[]).await;
    assert_eq!((status, code(&body)), (400, "invalid_query"), "{body}");
}

#[tokio::test]
async fn only_the_aeo_itself_gives_its_consent() {
    let n = start().await;
    authorise(&n).await;
    // In the holder's name, by another trader, by the issuing and by a partner administration:
    // refused by the write policy.
    for signer in [NL_AEO, GB_CUSTOMS, NL_CUSTOMS] {
        let (status, body) = commit(&n, signer, consent(TIN, "given"), 1, 10 + signer as u64).await;
        assert_eq!((status, code(&body)), (403, "policy_denied"), "consent by {signer}: {body}");
    }
    // Another trader may record a consent in its own name about the authorisation, but it is
    // not the holder's: nothing is shared.
    let (status, body) = commit(&n, NL_AEO, consent("NL123456789", "given"), 1, 20).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(code(&read(&n, NL_CUSTOMS).await.1), "aeo_not_shared");
    assert!(listed(&n, NL_CUSTOMS).await.is_empty());
    // The holder's own consent opens the exchange.
    assert_eq!(commit(&n, GB_AEO, consent(TIN, "given"), 1, 21).await.0, 201);
    assert_eq!(read(&n, NL_CUSTOMS).await.0, 200);
    assert_eq!(listed(&n, NL_CUSTOMS).await, [TIN]);
}

#[tokio::test]
async fn a_suspension_is_shared_with_its_period_and_without_its_reason() {
    let n = start().await;
    authorise(&n).await;
    assert_eq!(commit(&n, GB_AEO, consent(TIN, "given"), 1, 2).await.0, 201);
    let mut suspended: Value = serde_json::from_slice(&sample_bytes("aeo-authorisation.json")).unwrap();
    suspended["AdditionalDocument"]["ID"] = json!("GB AEOC 14274/19");
    suspended["ext"]["status"] = json!("SUSPENDED");
    suspended["ext"]["statusChangedAt"] = json!("2026-11-10T00:00:00Z");
    suspended["ext"]["statusHistory"] = json!([
        {"status": "ACTIVE", "at": "2019-06-01T00:00:00Z"},
        {"status": "SUSPENDED", "at": "2026-11-10T00:00:00Z", "reason": "security audit findings"}
    ]);
    let (status, body) = commit(&n, GB_CUSTOMS, serde_json::to_vec(&suspended).unwrap(), 2, 3).await;
    assert_eq!(status, 201, "{body}");
    let (status, aeo) = read(&n, NL_CUSTOMS).await;
    assert_eq!(status, 200, "{aeo}");
    assert_eq!(aeo["status"], "SUSPENDED");
    assert_eq!(
        aeo["suspensionsAndRevocations"],
        json!([{"status": "SUSPENDED", "from": "2026-11-10T00:00:00Z", "until": null}])
    );
    assert!(!aeo.to_string().contains("security audit"), "the reason stays with the issuing administration");
}

/// A GB authorisation `number` held by `tin`.
fn authorisation(number: &str, tin: &str) -> Vec<u8> {
    let mut a: Value = serde_json::from_slice(&sample_bytes("aeo-authorisation.json")).unwrap();
    a["AdditionalDocument"]["ID"] = json!(number);
    a["AuthorisationHolder"]["ID"] = json!(tin);
    a["AEOMutualRecognitionParty"][0]["ID"] = json!(tin);
    a["ext"]["traderIdentificationNumber"] = json!(tin);
    serde_json::to_vec(&a).unwrap()
}

#[tokio::test]
async fn the_list_pages_by_unique_id_and_keeps_a_holders_authorisations_together() {
    let n = start().await;
    let held = [("GB AEOC 14274/19", TIN), ("GB AEOS 2", TIN), ("GB AEOC 3", OTHER_TIN)];
    for (i, (number, tin)) in held.into_iter().enumerate() {
        let nonce = 10 * i as u64;
        assert_eq!(commit(&n, GB_CUSTOMS, authorisation(number, tin), 1, nonce + 1).await.0, 201);
        assert_eq!(commit(&n, GB_AEO, consent_to(number, tin, "given"), 1, nonce + 2).await.0, 201);
    }
    let page = |query: String| {
        let n = &n;
        async move {
            let (status, body) = get(n, NL_CUSTOMS, &format!("/api/v1/mra/aeo?purpose=mra-exchange{query}"), &[]).await;
            assert_eq!(status, 200, "{body}");
            let ids: Vec<String> =
                body["items"].as_array().unwrap().iter().map(|i| i["uniqueId"].as_str().unwrap().to_owned()).collect();
            (ids, body["next"].as_str().map(str::to_owned))
        }
    };
    assert_eq!(page("&limit=1".into()).await, (vec![OTHER_TIN.to_owned()], Some(OTHER_TIN.to_owned())));
    // The next page is one holder's two authorisations, though the limit is 1; it is the last.
    assert_eq!(page(format!("&limit=1&after={OTHER_TIN}")).await, (vec![TIN.to_owned(), TIN.to_owned()], None));
    assert_eq!(page(format!("&unique_id={TIN}")).await.0.len(), 2);
    assert_eq!(page(String::new()).await.0, [OTHER_TIN, TIN, TIN]);
}
