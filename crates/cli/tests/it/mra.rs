//! AEO mutual recognition from the command line: the demo's AEO has consented; NL customs reads
//! it with `borderlink mra aeo`, until the AEO withdraws its consent with `borderlink submit`.

use crate::net::DemoNode;
use crate::{TempDir, borderlink, s, stderr, stdout};

const AUTHORISATION: &str = "aeo-authorization:GB:GB AEOC 14274/19";

#[test]
fn a_partner_reads_the_demo_aeo_until_the_aeo_withdraws_its_consent() {
    let dir = TempDir::new("mra");
    let node = DemoNode::start(&dir.0.join("data"));
    let (nl, aeo) = (node.key("nl-customs"), node.key("gb-aeo"));
    let o = borderlink(&["mra", "aeo", AUTHORISATION, "--node", &node.url, "--key", s(&nl)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let shared: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(shared["uniqueId"], "GB553202734852");
    assert_eq!(shared["category"], "AEOC", "the demo agreement shares the category: {shared}");
    assert!(shared.get("mraPartnerProgrammes").is_none(), "nothing beyond the agreed fields: {shared}");
    let o = borderlink(&["mra", "aeo", "--node", &node.url, "--key", s(&nl)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("GB553202734852"), "{}", stdout(&o));

    // The AEO withdraws its consent: the next version of its consent record.
    let withdrawal = dir.0.join("withdrawal.json");
    let doc = serde_json::json!({"Consent": {
        "authorisation": {"countryCode": "GB", "id": "GB AEOC 14274/19"},
        "traderIdentificationNumber": "GB553202734852",
        "scope": "mra-exchange",
        "status": "withdrawn",
        "givenAt": "2026-01-15T09:00:00Z",
        "withdrawnAt": "2026-02-01T09:00:00Z"
    }});
    std::fs::write(&withdrawal, serde_json::to_vec_pretty(&doc).expect("JSON")).expect("write");
    let o = borderlink(&["submit", s(&withdrawal), "--node", &node.url, "--key", s(&aeo)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("aeo-consent:GB553202734852:GB/GB AEOC 14274/19 version 2"), "{}", stdout(&o));
    let o = borderlink(&["mra", "aeo", AUTHORISATION, "--node", &node.url, "--key", s(&nl)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error [aeo_not_shared]"), "{}", stderr(&o));
    // The AEO itself is no administration.
    let o = borderlink(&["mra", "aeo", "--node", &node.url, "--key", s(&aeo)]);
    assert!(stderr(&o).contains("error [forbidden]"), "{}", stderr(&o));
}
