//! Each write-policy rule allowing and refusing.

use serde_json::json;

use crate::fixtures::*;

fn code(r: Result<borderlink_ledger::Receipt, borderlink_ledger::TxError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn declaration_by_its_declarant_or_the_customs_of_its_country() {
    let net = Net::new("pol-decl");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let d = sample("declaration.json");
    assert_eq!(
        code(submit_one(&l, put(&net, GB_AEO, &d, "LRN-A", 1))),
        "ok",
        "the declarant (AEO trading as GB553202734852)"
    );
    assert_eq!(code(submit_one(&l, put(&net, GB_CUSTOMS, &d, "LRN-B", 1))), "ok", "customs of GB");
    assert_eq!(
        code(submit_one(&l, put(&net, NL_CUSTOMS, &d, "LRN-C", 1))),
        "policy_denied",
        "customs of another country"
    );
    assert_eq!(code(submit_one(&l, put(&net, NL_AEO, &d, "LRN-D", 1))), "policy_denied", "another trader");
    assert_eq!(code(submit_one(&l, put(&net, GB_OGA, &d, "LRN-E", 1))), "policy_denied", "an agency");
    // An update by the declarant is allowed; nothing of the refused ones was stored.
    assert_eq!(code(submit_one(&l, put(&net, GB_AEO, &d, "LRN-A", 2))), "ok");
    assert!(l.record_state(&id_of(&net, NL_CUSTOMS, &d, "LRN-C")).unwrap().is_none());
    assert_eq!(l.record_state("declaration:GB553202734852:LRN-A").unwrap().unwrap().version, 2);
}

#[test]
fn aeo_status_changes_only_by_the_issuing_administration() {
    let net = Net::new("pol-aeo");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let mut a = sample("aeo-authorisation.json");
    assert_eq!(code(submit_one(&l, put(&net, NL_CUSTOMS, &a, "GB-AEOC-14274", 1))), "policy_denied");
    assert_eq!(code(submit_one(&l, put(&net, GB_AEO, &a, "GB-AEOC-14274", 1))), "policy_denied", "the holder itself");
    assert_eq!(code(submit_one(&l, put(&net, GB_CUSTOMS, &a, "GB-AEOC-14274", 1))), "ok");
    // Suspension: a status change is a new version.
    a["ext"]["status"] = json!("SUSPENDED");
    a["ext"]["statusChangedAt"] = json!("2026-03-01T00:00:00Z");
    assert_eq!(code(submit_one(&l, put(&net, NL_CUSTOMS, &a, "GB-AEOC-14274", 2))), "policy_denied");
    assert_eq!(code(submit_one(&l, put(&net, GB_CUSTOMS, &a, "GB-AEOC-14274", 2))), "ok");
    // Nobody takes a record over by rewriting its issuer: a version naming NL as issuer does not
    // belong under GB's id (the id is bound to the issuer), and under NL's id it is another record.
    a["ext"]["issuingAuthority"]["countryCode"] = json!("NL");
    let gb_id = "aeo-authorization:GB:GB-AEOC-14274";
    assert_eq!(
        code(submit_one(&l, put_as(&net, NL_CUSTOMS, &keyed(&a, "GB-AEOC-14274"), gb_id, 3))),
        "wrong_record_id"
    );
    assert_eq!(l.record_state(gb_id).unwrap().unwrap().version, 2);
}

#[test]
fn inspection_results_only_by_customs_of_the_declarations_country() {
    let net = Net::new("pol-insp");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let doc = json!({
        "Declaration": {"FunctionalReferenceID": "LRN-2026-000123", "DeclarationOfficeID": "GB000040"},
        "Inspection": {
            "lane": "RED",
            "inspectorOrganisation": {"countryCode": "GB", "name": "HM Revenue & Customs"},
            "inspectedAt": "2026-03-10T14:00:00Z",
            "outcome": "CONFORM"
        }
    });
    assert_eq!(code(submit_one(&l, put(&net, GB_OGA, &doc, "INSP-1", 1))), "policy_denied");
    assert_eq!(code(submit_one(&l, put(&net, NL_CUSTOMS, &doc, "INSP-1", 1))), "policy_denied");
    assert_eq!(code(submit_one(&l, put(&net, GB_AEO, &doc, "INSP-1", 1))), "policy_denied");
    assert_eq!(code(submit_one(&l, put(&net, GB_CUSTOMS, &doc, "INSP-1", 1))), "ok");
}

#[test]
fn movements_by_carriers_ports_and_customs_only() {
    let net = Net::new("pol-mov");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let m = sample("transport-movement.json");
    assert_eq!(code(submit_one(&l, put(&net, GB_AEO, &m, "MOV-1", 1))), "policy_denied");
    assert_eq!(code(submit_one(&l, put(&net, GB_CUSTOMS, &m, "MOV-1", 1))), "ok");
}

#[test]
fn governance_needs_the_required_approvals_and_suspension_takes_effect() {
    use borderlink_ledger::governance::{Approval, GovernanceAction, Proposal, approval_message};
    let net = Net::new("pol-gov");
    let l = net.ledger(GB_CUSTOMS, "n1");
    assert_eq!(net.genesis.governance.approvals_required, 2, "a majority of the two customs administrations");
    let change = GovernanceAction::SuspendMember {
        member_id: net.keys[GB_AEO].member.clone(),
        reason: "AEO status suspended".into(),
    };
    let gov = |approvals: Vec<Approval>, id: &str| {
        let payload = serde_json::to_vec(&Proposal { change: change.clone(), approvals }).unwrap();
        let body =
            borderlink_ledger::governance_body(net.chain(), id, &payload, &net.keys[GB_CUSTOMS].member, nonce(), 1);
        signed(&net, GB_CUSTOMS, body, payload)
    };
    // The submitter alone is one approval of the two required.
    assert_eq!(code(submit_one(&l, gov(vec![], "GOV-1"))), "governance_refused");
    // An approval by a non-eligible member (an AEO) does not count.
    let sig = |who: usize, id: &str| Approval {
        member: net.keys[who].member.clone(),
        signature: hex::encode(net.keys[who].sign(&approval_message(&net.chain(), id, &change).unwrap())),
    };
    assert_eq!(code(submit_one(&l, gov(vec![sig(NL_AEO, "GOV-2")], "GOV-2"))), "governance_refused");
    // NL customs approving makes two.
    assert_eq!(code(submit_one(&l, gov(vec![sig(NL_CUSTOMS, "GOV-3")], "GOV-3"))), "ok");
    // The suspended member can no longer submit.
    let d = sample("declaration.json");
    assert_eq!(code(submit_one(&l, put(&net, GB_AEO, &d, "LRN-S", 1))), "suspended_submitter");
}

/// The GB AEO's consent to the mutual-recognition exchange of its authorisation `GB-AEOC-14274`.
fn consent(status: &str) -> serde_json::Value {
    let mut c = json!({"Consent": {
        "authorisation": {"countryCode": "GB", "id": "GB-AEOC-14274"},
        "traderIdentificationNumber": "GB553202734852",
        "scope": "mra-exchange",
        "status": status,
        "givenAt": "2026-03-01T00:00:00Z"
    }});
    if status == "withdrawn" {
        c["Consent"]["withdrawnAt"] = json!("2026-04-01T00:00:00Z");
    }
    c
}

const CONSENT_ID: &str = "aeo-consent:GB553202734852:GB/GB-AEOC-14274";

#[test]
fn an_aeo_consent_is_given_and_withdrawn_by_the_holder_alone_and_kept_for_customs() {
    let net = Net::new("pol-consent");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let given = consent("given");
    assert_eq!(id_of(&net, GB_AEO, &given, "GB-AEOC-14274"), CONSENT_ID);
    for (who, signer) in
        [("another trader", NL_AEO), ("the issuing administration", GB_CUSTOMS), ("a partner", NL_CUSTOMS)]
    {
        assert_eq!(code(submit_one(&l, put(&net, signer, &given, "GB-AEOC-14274", 1))), "policy_denied", "{who}");
    }
    assert_eq!(code(submit_one(&l, put(&net, GB_AEO, &given, "GB-AEOC-14274", 1))), "ok", "the holder");
    let withdrawn = consent("withdrawn");
    assert_eq!(code(submit_one(&l, put(&net, NL_AEO, &withdrawn, "GB-AEOC-14274", 2))), "policy_denied");
    assert_eq!(code(submit_one(&l, put(&net, GB_AEO, &withdrawn, "GB-AEOC-14274", 2))), "ok", "withdrawn");
    let state = l.record_state(CONSENT_ID).unwrap().unwrap();
    assert_eq!(
        (state.version, state.meta.declarant.as_str(), state.meta.country.as_str()),
        (2, "GB553202734852", "GB")
    );
    // The evidence of consent stays: its writer cannot erase it.
    assert_eq!(code(submit_one(&l, erase(&net, GB_AEO, CONSENT_ID, 3))), "policy_denied");
    // Nobody writes a consent under another holder's id: the id is bound to the content's holder.
    let mut mine = consent("given");
    mine["Consent"]["traderIdentificationNumber"] = json!("NL123456789");
    let other = "aeo-consent:GB553202734852:GB/GB-AEOC-99999";
    assert_eq!(code(submit_one(&l, put_as(&net, NL_AEO, &keyed(&mine, "GB-AEOC-99999"), other, 1))), "wrong_record_id");
    assert_eq!(code(submit_one(&l, put(&net, NL_AEO, &mine, "GB-AEOC-99999", 1))), "ok", "in its own name");
}

/// A consent body sealed to GB customs, under `id`.
fn private_consent(net: &Net, id: &str) -> borderlink_ledger::Transaction {
    use borderlink_ledger::tx::{PayloadKind, RecordMeta, TxBody, TxKind};
    let clear = serde_json::to_vec(&keyed(&consent("given"), "GB-AEOC-14274")).unwrap();
    let m = net.genesis.member(&net.keys[GB_CUSTOMS].member).unwrap();
    let (header, ciphertext, wrapped) =
        borderlink_ledger::private::seal(&clear, id, &[(m.id.clone(), m.encryption_public().unwrap())]).unwrap();
    let body = TxBody {
        chain: net.chain(),
        kind: TxKind::Put,
        record_type: "aeo-consent".into(),
        record_id: id.into(),
        version: 1,
        meta: RecordMeta { country: "GB".into(), declarant: "GB553202734852".into(), issuer: String::new() },
        payload_kind: PayloadKind::Private,
        payload_digest: borderlink_ledger::Hash::of(&ciphertext),
        payload_len: ciphertext.len() as u64,
        media_type: "application/json".into(),
        private: Some(header),
        submitter: net.keys[GB_AEO].member.clone(),
        nonce: nonce(),
        timestamp_ms: 1,
        endorsement: None,
    };
    borderlink_ledger::Transaction::sign(body, ciphertext, wrapped, &net.keys[GB_AEO])
}

#[test]
fn a_consent_is_carried_clear_from_rules_3_and_was_a_free_name_before() {
    let net = Net::new("pol-consent-rules");
    assert_eq!(net.genesis.rules, 3, "a new consortium follows rules 3");
    let l = net.ledger(GB_CUSTOMS, "n1");
    let e = submit_one(&l, private_consent(&net, CONSENT_ID)).unwrap_err();
    assert_eq!(e.code(), "malformed_transaction", "{e}");
    // A chain of rules 2 validates the name as it did when its blocks were written: a clear
    // payload of an unknown type is refused in the same words, a private one under any id passes.
    let mut old = Net::new("pol-consent-rules2");
    old.genesis.rules = 2;
    let l = old.ledger(GB_CUSTOMS, "n1");
    let e = submit_one(&l, put(&old, GB_AEO, &consent("given"), "GB-AEOC-14274", 1)).unwrap_err();
    assert_eq!(e.to_string(), "malformed transaction: unknown record type aeo-consent");
    assert!(submit_one(&l, private_consent(&old, "aeo-consent:anything")).is_ok());
}
