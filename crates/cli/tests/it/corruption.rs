//! Damaged storage files, as a user meets them: `borderlink ledger verify` reports every damaged
//! copy of a ledger with exit 1 and a message naming the damage, never a panic or a signal (among
//! them the security review's case: a `&str` key of the state table made invalid UTF-8, which
//! used to panic inside redb with `Utf8Error`), and a node refuses to start on a damaged ledger or
//! Raft log, saying which.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::{Ledger, Transaction, clear_put_body, consortium};
use borderlink_model::{ValidateOptions, validate};

use crate::net::DemoNode;
use crate::{TempDir, borderlink, sample, stdout};

/// A node's data folder (`DATA/consortium`, `DATA/ledger`) with three blocks of declarations whose
/// record ids and LRNs are `CORRUPT-0..3`, closed cleanly. Returns the ledger file's bytes.
fn data_folder(data: &Path) -> Vec<u8> {
    let orgs = consortium::demo_organisations();
    let created =
        consortium::create(&data.join("consortium"), "Damage", &orgs, "2026-11-26T00:00:00Z").expect("consortium");
    let (_, key) = created.key_files.iter().find(|(id, _)| id.starts_with("gb-customs")).expect("British customs");
    let keys = MemberKeys::load(key).expect("member key");
    let ledger = Ledger::open(&data.join("ledger"), created.genesis.clone(), Some(keys.clone())).expect("ledger");
    let template: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample("declaration.json")).expect("sample")).expect("JSON");
    for n in 0..3u64 {
        let mut doc = template.clone();
        doc["Declaration"]["FunctionalReferenceID"] = serde_json::json!(format!("CORRUPT-{n}"));
        let payload = serde_json::to_vec(&doc).expect("JSON");
        let record = validate(&payload, &ValidateOptions::default()).record.expect("a valid declaration");
        let id = borderlink_ledger::meta::record_id(&record, &keys.member).expect("a ledger id");
        let body =
            clear_put_body(created.genesis.chain_id(), &record, &id, 1, &payload, &keys.member, n, 1_772_444_000_000);
        let committed =
            ledger.submit(vec![Transaction::sign(body, payload, Vec::new(), &keys)], 1_772_444_000_000).expect("block");
        assert!(committed.results.iter().all(Result::is_ok), "{:?}", committed.results);
    }
    drop(ledger);
    std::fs::read(data.join("ledger/ledger.redb")).expect("ledger file")
}

fn verify(data: &Path) -> Output {
    borderlink(&["ledger", "verify", "--data", data.to_str().expect("UTF-8 path")])
}

/// Every position of `needle` in `bytes`.
fn positions(bytes: &[u8], needle: &[u8]) -> Vec<usize> {
    bytes.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect()
}

#[test]
fn ledger_verify_reports_every_damaged_copy_with_exit_1_never_a_crash() {
    let dir = TempDir::new("damaged-ledger");
    let data = dir.0.join("data");
    let original = data_folder(&data);
    let o = verify(&data);
    assert_eq!(o.status.code(), Some(0), "the undamaged ledger verifies: {}", stdout(&o));

    let marker = positions(&original, b"CORRUPT-1");
    assert!(!marker.is_empty(), "the record id is in the file");
    // Every copy is damaged, since copy-on-write leaves stale ones in free pages nothing reads.
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        // Keys of a leaf are stored one after another: "…:CORRUPT-1declaration:…:CORRUPT-2" is the
        // state table's (and the indexes' record-id values); the blocks hold the id quoted or
        // length-prefixed, so the chain itself is untouched.
        ("a `&str` key of the state table made invalid UTF-8", {
            let mut b = original.clone();
            let keys = positions(&original, b"CORRUPT-1declaration:GB553202734852:CORRUPT-2");
            assert!(!keys.is_empty(), "the state table's keys are in the file");
            for i in keys {
                b[i + 1] = 0xff;
            }
            b
        }),
        ("one bit of the record id flipped", {
            let mut b = original.clone();
            for &i in &marker {
                b[i + 4] ^= 0x01;
            }
            b
        }),
        ("the file's magic number changed", {
            let mut b = original.clone();
            b[0] ^= 0x20;
            b
        }),
        ("the pages holding the record id zeroed", {
            let mut b = original.clone();
            for &i in &marker {
                let page = i / 4096 * 4096;
                b[page..(page + 4096).min(original.len())].fill(0);
            }
            b
        }),
        ("the file cut in half", original[..original.len() / 2].to_vec()),
        ("the file emptied", Vec::new()),
    ];
    for (what, bytes) in damaged {
        std::fs::write(data.join("ledger/ledger.redb"), &bytes).expect("damaged copy");
        let o = verify(&data);
        let (out, err) = (stdout(&o), String::from_utf8_lossy(&o.stderr).into_owned());
        assert!(!err.contains("panicked") && !out.contains("panicked"), "{what}: a panic\n{out}{err}");
        assert_eq!(o.status.code(), Some(1), "{what}: exit 1 (a status without a code is a signal)\n{out}{err}");
        assert!(out.contains("does NOT verify"), "{what}\n{out}{err}");
        assert!(out.contains("damaged") || out.contains("not a redb database"), "{what}: names the damage\n{out}");
    }
}

/// Runs `borderlink demo` on `data` and expects it to stop by itself, refusing to start: returns
/// its exit code and standard error. A node that starts (and so would serve forever) fails.
fn demo_refuses(data: &Path) -> (Option<i32>, String) {
    let mut demo = Command::new(env!("CARGO_BIN_EXE_borderlink"));
    demo.args(["demo", "--port", "0", "--no-sim", "--data"]).arg(data).env("BORDERLINK_LOG", "warn,openraft=error");
    let mut child = demo.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("the demo starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the node started on a damaged file instead of refusing it");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("its output");
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// One byte changed in every 4 KiB page after the first (redb's header stays readable, so the
/// damage is found by the page checksums).
fn damage_every_page(file: &Path) {
    let mut bytes = std::fs::read(file).expect("the file");
    for i in (4096 + 100..bytes.len()).step_by(4096) {
        bytes[i] ^= 0x5a;
    }
    std::fs::write(file, bytes).expect("the damaged file");
}

#[test]
fn a_node_refuses_to_start_on_a_damaged_ledger_or_raft_log() {
    let dir = TempDir::new("damaged-node");
    let data = dir.0.join("data");
    let mut node = DemoNode::start(&data);
    node.stop();
    let ledger = data.join("ledger/ledger.redb");
    let log = data.join("raft/log.redb");
    let (ledger_bytes, log_bytes) = (std::fs::read(&ledger).expect("ledger"), std::fs::read(&log).expect("log"));
    for (file, says) in [(&ledger, "corrupt ledger data"), (&log, "the Raft log")] {
        damage_every_page(file);
        let (code, err) = demo_refuses(&data);
        assert!(!err.contains("panicked"), "{}: a panic\n{err}", file.display());
        assert_eq!(code, Some(4), "{}: exit 4 (a status without a code is a signal)\n{err}", file.display());
        assert!(err.contains(says) && err.contains("damaged"), "{}: says what is damaged\n{err}", file.display());
        std::fs::write(&ledger, &ledger_bytes).expect("ledger restored");
        std::fs::write(&log, &log_bytes).expect("log restored");
    }
}
