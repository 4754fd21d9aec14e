//! A damaged ledger file is reported, never a crash.
//!
//! Copies of a real ledger file with bytes changed, a block zeroed or the end cut off
//! (deterministic seeds, `borderlink_faults::damage`) are opened and checked in child processes,
//! so that a panic, an abort or a hang is caught with its seed. Each copy must be refused at
//! opening with [`LedgerError::Corrupt`] (what `ledger verify` reports with exit 1 and a node
//! refuses to start on) or reported by `verify_all`; a copy that checks clean must still hold the
//! original chain (its damage fell on bytes the ledger does not use: free pages, slack).

use std::path::Path;

use borderlink_faults::{Trial, crashes, damaged_copy, trials};
use borderlink_ledger::genesis::Genesis;
use borderlink_ledger::{Ledger, LedgerError};
use redb::ReadableTable;

use crate::fixtures::*;

/// Commits three blocks, block `i + 1` holding a declaration with LRN `REC-i` whose exporter's
/// name `{tag}-i-MARKER` is in that block's payload only.
fn three_marked_blocks(net: &Net, l: &Ledger, tag: &str) {
    let d = sample("declaration.json");
    for i in 0..3 {
        let mut doc = d.clone();
        doc["Declaration"]["Exporter"]["Name"] = serde_json::json!(format!("{tag}-{i}-MARKER"));
        submit_one(l, put(net, GB_AEO, &doc, &format!("REC-{i}"), 1)).unwrap();
    }
}

/// Flips one bit inside the first `needle` of `bytes`.
fn flip_within(bytes: &mut [u8], needle: &[u8]) {
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("the marker is there");
    bytes[at + 4] ^= 0x01;
}

/// A ledger of four blocks (three records, one of them in a second version), closed cleanly.
fn fixture(head: &mut String) -> TempDir {
    let net = Net::new("damage");
    let l = net.ledger(GB_CUSTOMS, "n1");
    three_marked_blocks(&net, &l, "LRN-DAMAGE");
    submit_one(&l, put(&net, GB_AEO, &sample("declaration.json"), "REC-0", 2)).unwrap();
    assert!(l.verify_all().unwrap().problems.is_empty());
    *head = l.head().unwrap().hash().to_string();
    net.dir
}

/// Opens a damaged copy of the fixture's ledger and checks it: one line saying what was found.
fn check_damaged_copy(fixture: &Path, seed: u64) -> String {
    let dir = fixture.join(format!("trial-{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    let what = damaged_copy(&fixture.join("n1/ledger.redb"), &dir.join("ledger.redb"), seed).unwrap();
    let genesis = Genesis::load(&fixture.join("net/genesis.json")).unwrap();
    let found = match Ledger::open(&dir, genesis, None) {
        Err(LedgerError::Corrupt { detail, .. }) => format!("refused as corrupt: {detail}"),
        Err(e) => format!("refused otherwise: {e:?}"),
        Ok(l) => match l.verify_all() {
            Err(e) => format!("the check failed: {e:?}"),
            Ok(r) => match r.problems.first() {
                Some(p) => format!("reported at block {}: {}", p.height, p.detail),
                None => format!("clean at head {}", l.head().map(|h| h.hash().to_string()).unwrap_or_default()),
            },
        },
    };
    let _ = std::fs::remove_dir_all(&dir);
    format!("{found} [{what}]")
}

/// Runs the damaged-copy trials of `seeds` as the test `test` and checks every outcome.
fn damaged_copies_are_reported(test: &str, seeds: std::ops::Range<u64>) {
    let mut head = String::new();
    let done = trials(test, seeds.clone(), || fixture(&mut head), check_damaged_copy);
    assert_eq!(crashes(&done), Vec::<String>::new(), "a damaged copy crashed the ledger");
    let wrong: Vec<&Trial> = done
        .iter()
        .filter(|t| {
            let line = t.outcome.as_deref().unwrap_or_default();
            let reported = line.starts_with("refused as corrupt: ") || line.starts_with("reported at block ");
            !reported && !line.starts_with(&format!("clean at head {head} "))
        })
        .collect();
    assert!(wrong.is_empty(), "neither reported nor harmless:\n{}", lines(&wrong));
    let reported = done.iter().filter(|t| !t.outcome.as_deref().unwrap_or_default().starts_with("clean")).count();
    // Most damage lands on pages the ledger uses; a run where none is reported tests nothing.
    assert!(reported * 3 > done.len(), "only {reported} of {} copies were reported", done.len());
}

fn lines(trials: &[&Trial]) -> String {
    trials.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[test]
fn damaged_ledger_copies_are_reported_never_a_crash() {
    damaged_copies_are_reported("corruption::damaged_ledger_copies_are_reported_never_a_crash", 0..120);
}

/// The long run of the same trials (CI runs it: `--include-ignored`).
#[test]
#[ignore = "slow: 900 damaged copies; run with --include-ignored"]
fn many_damaged_ledger_copies_are_reported_never_a_crash() {
    damaged_copies_are_reported("corruption::many_damaged_ledger_copies_are_reported_never_a_crash", 120..1020);
}

#[test]
fn a_flipped_byte_in_a_block_is_refused_with_its_height_and_the_storage_message() {
    let net = Net::new("flip");
    three_marked_blocks(&net, &net.ledger(GB_CUSTOMS, "n1"), "LRN-FLIP");
    let path = net.dir.0.join("n1/ledger.redb");
    let mut bytes = std::fs::read(&path).unwrap();
    flip_within(&mut bytes, b"LRN-FLIP-1-MARKER");
    std::fs::write(&path, &bytes).unwrap();
    // redb's page checksums, verified at opening, refuse the file; a read-only look without them
    // finds the block.
    let err = Ledger::open(&net.dir.0.join("n1"), net.genesis.clone(), None).unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt { height: Some(2), .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("the payload differs from its signed digest"), "{text}");
    assert!(text.contains("the storage layer found the file damaged"), "{text}");
}

#[test]
fn a_block_altered_through_the_database_is_refused_with_its_height() {
    // Checksums cannot catch a block rewritten through redb itself (a faulty or malicious
    // writer): the hash chain and Merkle roots do, with the height.
    let net = Net::new("rewrite");
    three_marked_blocks(&net, &net.ledger(GB_CUSTOMS, "n1"), "LRN-REWRITE");
    let blocks: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("blocks");
    let db = redb::Database::create(net.dir.0.join("n1/ledger.redb")).unwrap();
    let w = db.begin_write().unwrap();
    {
        let mut t = w.open_table(blocks).unwrap();
        let mut block = t.get(2).unwrap().unwrap().value().to_vec();
        flip_within(&mut block, b"LRN-REWRITE-1-MARKER");
        t.insert(2, block.as_slice()).unwrap();
    }
    w.commit().unwrap();
    drop(db);
    let err = Ledger::open(&net.dir.0.join("n1"), net.genesis.clone(), None).unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt { height: Some(2), .. }), "{err}");
}

#[test]
fn a_ledger_left_open_by_a_crash_still_opens_with_every_block() {
    // The check at opening must not refuse what redb recovers from: a copy taken while the
    // ledger is open is a file whose writer never closed it.
    let net = Net::new("crashed");
    let l = net.ledger(GB_CUSTOMS, "n1");
    three_marked_blocks(&net, &l, "LRN-CRASHED");
    let crashed = net.dir.0.join("crashed");
    std::fs::create_dir_all(&crashed).unwrap();
    std::fs::copy(net.dir.0.join("n1/ledger.redb"), crashed.join("ledger.redb")).unwrap();
    let head = l.head();
    drop(l);
    let reopened = Ledger::open(&crashed, net.genesis.clone(), None).unwrap();
    assert_eq!(reopened.head(), head);
    assert!(reopened.verify_all().unwrap().problems.is_empty());
}
