//! EPCIS 2.0 from the command line: `epcis hash` against every reference vector (JSON-LD and
//! XML twins), `--prehash`, and `epcis capture` + `epcis query` against a demo node.

use std::path::PathBuf;

use borderlink_iot::epcis::hash::hash_id_of_prehash;

use crate::net::DemoNode;
use crate::{TempDir, borderlink, s, stderr, stdout};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/epcis-hash")
}

/// Every document of the reference vectors that has expected hashes, with them.
fn documents_with_hashes() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(vectors()).expect("the vectors folder").filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "jsonld" && ext != "xml" {
            continue;
        }
        if let Ok(hashes) = std::fs::read_to_string(path.with_extension("hashes")) {
            out.push((path, hashes));
        }
    }
    out
}

#[test]
fn epcis_hash_prints_the_reference_hash_ids_of_every_vector() {
    let docs = documents_with_hashes();
    let xml = docs.iter().filter(|(p, _)| p.extension().is_some_and(|e| e == "xml")).count();
    assert!(docs.len() >= 20 && xml >= 8, "only {} documents ({xml} XML) found", docs.len());
    for (path, hashes) in &docs {
        let o = borderlink(&["epcis", "hash", s(path)]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", path.display(), stderr(&o));
        let want: Vec<&str> = hashes.lines().collect();
        let got = stdout(&o);
        assert_eq!(got.lines().collect::<Vec<_>>(), want, "{}", path.display());
    }
}

#[test]
fn epcis_hash_prehash_prints_the_reference_pre_hash_strings() {
    let mut checked = 0;
    for (path, hashes) in documents_with_hashes() {
        let Ok(prehashes) = std::fs::read_to_string(path.with_extension("prehashes")) else { continue };
        let o = borderlink(&["epcis", "hash", "--prehash", s(&path)]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", path.display(), stderr(&o));
        let got: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
        let hashes: Vec<&str> = hashes.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(got.len(), hashes.len(), "{}", path.display());
        for (i, want) in prehashes.lines().filter(|l| !l.is_empty()).enumerate() {
            // A few vector lines are stale (their SHA-256 is not the hash on the same line; the
            // hash is the reference's): those are compared by their hash, the others as text.
            assert_eq!(hash_id_of_prehash(&got[i]), hashes[i], "{} event {i}", path.display());
            if hash_id_of_prehash(want) == hashes[i] {
                assert_eq!(got[i], want, "{} event {i}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} pre-hash strings compared");
}

#[test]
fn epcis_hash_refuses_what_is_not_an_epcis_document() {
    let dir = TempDir::new("epcis-hash-bad");
    let file = dir.0.join("broken.json");
    std::fs::write(&file, "{\"type\": \"EPCISDocument\", ").expect("write");
    let o = borderlink(&["epcis", "hash", s(&file)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("malformed JSON"), "{}", stderr(&o));
    let o = borderlink(&["epcis", "hash", s(&dir.0.join("missing.json"))]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[test]
fn epcis_capture_then_query_from_the_command_line() {
    let dir = TempDir::new("epcis");
    let node = DemoNode::start(&dir.0.join("data"));
    let (gb, nl) = (node.key("gb-customs"), node.key("nl-customs"));
    let doc = vectors().join("epcisDocWithVariousEventTypes.jsonld");
    let o = borderlink(&["epcis", "capture", s(&doc), "--node", &node.url, "--key", s(&gb)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("13 event(s), 13 stored, 0 already stored, 0 refused"), "{}", stdout(&o));

    // The XML twin: the same events, all already stored.
    let xml = vectors().join("epcisDocWithVariousEventTypes.xml");
    let o = borderlink(&["epcis", "capture", s(&xml), "--node", &node.url, "--key", s(&nl)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("0 stored, 13 already stored"), "{}", stdout(&o));

    // Every page (2 per page), as one query document whose events hash as the reference says.
    let o = borderlink(&["epcis", "query", "--node", &node.url, "--key", s(&nl), "perPage=2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = dir.0.join("all.jsonld");
    std::fs::write(&out, &o.stdout).expect("write");
    let h = borderlink(&["epcis", "hash", s(&out)]);
    assert_eq!(h.status.code(), Some(0), "{}", stderr(&h));
    let mut got: Vec<String> = stdout(&h).lines().map(str::to_owned).collect();
    let mut want: Vec<String> = std::fs::read_to_string(vectors().join("epcisDocWithVariousEventTypes.hashes"))
        .expect("hashes")
        .lines()
        .map(str::to_owned)
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // A filter with a list, one event per line.
    let o = borderlink(&[
        "epcis",
        "query",
        "--node",
        &node.url,
        "--key",
        s(&nl),
        "--format",
        "lines",
        "EQ_bizStep=packing|unpacking",
        "perPage=1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).expect("one JSON event per line")).collect();
    assert_eq!(lines.len(), 4, "{}", stdout(&o));
    assert!(lines.iter().all(|e| e["type"] == "AggregationEvent"), "{}", stdout(&o));

    // A refused event: exit 1, the event and field named, nothing stored.
    let bad = dir.0.join("bad.json");
    let mut value: serde_json::Value = serde_json::from_slice(&std::fs::read(&doc).expect("read")).expect("JSON");
    value["epcisBody"]["eventList"][0]["action"] = "MOVE".into();
    value["epcisBody"]["eventList"][1]["eventTime"] = "2026-13-45T99:00:00Z".into();
    std::fs::write(&bad, value.to_string()).expect("write");
    let o = borderlink(&["epcis", "capture", s(&bad), "--node", &node.url, "--key", s(&gb)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("event 0, field `action`") && err.contains("MOVE"), "{err}");
    assert!(err.contains("nothing was stored (rollback)"), "{err}");
    // --proceed: the 11 valid events (stored already by the first capture) go through, the two
    // refused ones are still reported and the exit code still says so.
    let o = borderlink(&["epcis", "capture", s(&bad), "--proceed", "--node", &node.url, "--key", s(&gb)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("(proceed): 13 event(s), 0 stored, 11 already stored, 2 refused"), "{}", stdout(&o));
    assert!(stderr(&o).contains("event 1, field `eventTime`"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("nothing was stored"), "{}", stderr(&o));

    // A bad parameter: the node's problem, exit 1.
    let o = borderlink(&["epcis", "query", "--node", &node.url, "--key", s(&nl), "EQ_colour=red"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("epcisException:QueryParameterException"), "{}", stderr(&o));
    let o = borderlink(&["epcis", "query", "--node", &node.url, "--key", s(&nl), "no-equals-sign"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}
