//! The audit trail from the command line: reads declare a purpose, `borderlink audit list` and
//! `audit subject ID` show them, `audit anchor` commits the log's head to the ledger, and the
//! proof of an entry (`audit proof SEQ`) verifies offline with `borderlink verify`; an altered
//! one does not.

use crate::net::DemoNode;
use crate::{TempDir, borderlink, s, stderr, stdout};

#[test]
fn reads_are_audited_and_an_entry_is_proven_offline() {
    let dir = TempDir::new("audit-cli");
    let node = DemoNode::start(&dir.0.join("data"));
    let customs = node.key("gb-customs");
    let id = "declaration:GB553202734852:LRN-2026-000123";
    // A proof is a read of the whole record: declared for audit by default, or as given.
    let o = borderlink(&["proof", id, "--node", &node.url, "--key", s(&customs), "--purpose", "clearance"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A purpose that does not allow the whole record is refused, with the reason.
    let o = borderlink(&["proof", id, "--node", &node.url, "--key", s(&customs), "--purpose", "statistics"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error [purpose_not_allowed]"), "{}", stderr(&o));

    let o = borderlink(&["audit", "subject", "GB553202734852", "--node", &node.url, "--key", s(&customs)]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.starts_with("access report for GB553202734852: "), "{out}");
    assert!(out.lines().any(|l| l.contains("read") && l.contains("for clearance") && l.contains(id)), "{out}");

    let o = borderlink(&["audit", "anchor", "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("audit-anchor-"), "{}", stdout(&o));

    let o = borderlink(&[
        "audit",
        "list",
        "--purpose",
        "clearance",
        "--format",
        "json",
        "--node",
        &node.url,
        "--key",
        s(&customs),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let entry = list["entries"].as_array().unwrap().iter().find(|e| e["records"][0] == id).expect("the proof's read");
    let seq = entry["seq"].as_u64().unwrap().to_string();

    let o = borderlink(&["audit", "proof", &seq, "--node", &node.url, "--key", s(&customs)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let proof = dir.0.join("audit.json");
    std::fs::write(&proof, &o.stdout).expect("write");
    let o = borderlink(&["verify", s(&proof), "--genesis", s(&node.genesis())]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.starts_with(&format!("verified: audit entry {seq} of node gb-customs-")), "{out}");
    assert!(out.contains("for clearance"), "{out}");

    // The entry altered (another reader): not verified, exit 1.
    let mut altered: serde_json::Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    altered["entry"]["actor"] = serde_json::json!("somebody-else");
    std::fs::write(&proof, serde_json::to_vec(&altered).unwrap()).unwrap();
    let o = borderlink(&["verify", s(&proof), "--genesis", s(&node.genesis())]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("NOT verified: altered audit entry"), "{}", stdout(&o));
}
