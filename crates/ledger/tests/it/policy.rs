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
