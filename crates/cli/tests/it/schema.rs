use serde_json::Value;

use crate::borderlink;

#[test]
fn schema_prints_json_schema_for_every_type() {
    for t in ["declaration", "aeo-authorization", "transport-movement", "inspection-result", "aeo-consent"] {
        let o = borderlink(&["schema", t]);
        assert_eq!(o.status.code(), Some(0));
        let s: Value = serde_json::from_slice(&o.stdout).expect("schema is JSON");
        assert!(s["$id"].as_str().unwrap().contains(t), "{t}");
    }
    assert_eq!(borderlink(&["schema", "passport"]).status.code(), Some(2));
}
