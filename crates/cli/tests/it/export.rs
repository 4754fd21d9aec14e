//! `borderlink export`: pseudonymized Parquet exports, checked for raw identifiers, read back by
//! DuckDB (the Python package the test script installs) and by `borderlink risk import`.

use std::path::Path;
use std::process::Command;

use crate::net::DemoNode;
use crate::{TempDir, borderlink, s, stderr, stdout};

/// The Python with `duckdb` that `scripts/test.sh` prepares (`BORDERLINK_PYTHON`).
fn python() -> String {
    std::env::var("BORDERLINK_PYTHON")
        .unwrap_or_else(|_| format!("{}/../../target/py-venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

/// Rows counted by DuckDB reading the file.
fn duckdb_count(file: &Path) -> u64 {
    let py = python();
    let script = "import sys, duckdb\nprint(duckdb.sql(\"select count(*) from read_parquet(?)\", params=[sys.argv[1]]).fetchone()[0])";
    let o = Command::new(&py).args(["-c", script, s(file)]).output().unwrap_or_else(|e| {
        panic!(
            "{py} does not run ({e}): run scripts/test.sh, which installs duckdb in a venv, or set BORDERLINK_PYTHON"
        )
    });
    assert!(o.status.success(), "duckdb failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().parse().expect("a count")
}

/// Every identifier of the demo's declaration: LRN, declarant, importer, exporter, seller ids.
fn identifiers() -> Vec<String> {
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/declaration.json")).unwrap())
            .unwrap();
    let mut ids = vec![d["Declaration"]["FunctionalReferenceID"].as_str().unwrap().to_owned()];
    fn walk(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| walk(x, Some(k), out)),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, key, out)),
            serde_json::Value::String(s) if key == Some("ID") && s.len() >= 8 && s.starts_with("GB") => {
                out.push(s.clone())
            }
            _ => {}
        }
    }
    walk(&d, None, &mut ids);
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn a_pseudonymized_export_holds_no_raw_identifier_and_duckdb_reads_it() {
    let dir = TempDir::new("export");
    let node = DemoNode::start(&dir.0.join("data"));
    let customs = node.key("gb-customs");
    let out = dir.0.join("out");
    let export = |purpose: &str, kind: &str| {
        borderlink(&[
            "export",
            "--node",
            &node.url,
            "--key",
            s(&customs),
            "--purpose",
            purpose,
            "--type",
            kind,
            "--format",
            "parquet",
            "--out",
            s(&out),
        ])
    };
    // The purpose is checked: clearance does not allow an analytics export.
    let o = export("clearance", "declaration");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("error [purpose_not_allowed]"), "{}", stderr(&o));
    let o = export("curiosity", "declaration");
    assert!(stderr(&o).contains("error [unknown_purpose]"), "{}", stderr(&o));
    // A trader may not export at all.
    let o = borderlink(&[
        "export",
        "--node",
        &node.url,
        "--key",
        s(&node.key("gb-aeo")),
        "--purpose",
        "statistics",
        "--type",
        "declaration",
        "--out",
        s(&out),
    ]);
    assert!(stderr(&o).contains("error [forbidden]"), "{}", stderr(&o));

    let o = export("statistics", "declaration");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("wrote 2 goods item(s)"), "{}", stdout(&o));
    let file = out.join("declaration-statistics-declaration.parquet");
    let bytes = std::fs::read(&file).unwrap();
    let rows = borderlink_analytics::read_parquet(bytes.clone()).unwrap();
    assert_eq!(rows.len(), 2, "the demo declaration's two goods items");
    let ids = identifiers();
    assert!(ids.iter().any(|i| i == "GB553202734852") && ids.len() >= 2, "{ids:?}");
    let raw = String::from_utf8_lossy(&bytes);
    for id in &ids {
        assert!(!raw.contains(id.as_str()), "{id} in the file's bytes");
        assert!(rows.iter().flatten().all(|cell| !cell.contains(id.as_str())), "{id} in a cell");
    }
    assert!(rows[0][8].starts_with("ps_"), "the declarant is a pseudonym: {:?}", rows[0]);
    assert!(rows[0][12].starts_with("847130"), "the HS code stays: {:?}", rows[0]);
    assert_eq!(duckdb_count(&file), 2);

    // The training set (the demo's inspection result, opened by GB customs) exports too, and
    // the risk importer reads the Parquet file like the CSV.
    let o = export("statistics", "training");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let training = out.join("training-statistics-training.parquet");
    let n = borderlink_analytics::read_parquet(std::fs::read(&training).unwrap()).unwrap().len();
    assert!(n >= 1, "the inspected items");
    assert_eq!(duckdb_count(&training), n as u64);
    let o = borderlink(&["risk", "import", "--data", s(&training)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = stdout(&o);
    assert_eq!(lines.lines().count(), n, "{lines}");
    assert!(lines.contains("ps_") && !lines.contains("GB553202734852"), "{lines}");
}
