//! Validation throughput: full Borderlink validation against the `jsonschema` crate validating
//! the same documents against the generated JSON Schema, in the same run, on one core.
//!
//! Run: `cargo bench -p borderlink-model --bench validate` (add `-- --quick` for a short run).
//!
//! Both sides start from the document's bytes: Borderlink parses and runs format, code-list,
//! cross-field and data-quality checks; the peer parses into a `serde_json::Value` and checks
//! structure, types and lengths (JSON Schema cannot express code lists or totals), so the peer
//! does strictly less work per document.

use std::hint::black_box;
use std::time::{Duration, Instant};

use borderlink_model::{RecordType, ValidateOptions, json_schema, validate};
use serde_json::{Value, json};

/// A small deterministic generator (xorshift), so that every run validates the same documents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sample() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/samples/declaration.json");
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {p}: {e}"));
    serde_json::from_slice(&bytes).expect("sample declaration is JSON")
}

/// Declarations of the sample's shape with varied references, values, masses and HS codes.
fn corpus(n: usize) -> Vec<Vec<u8>> {
    let base = sample();
    let hs = ["84713000", "85176200", "61091000", "94036090", "87089997", "39269097", "85044090", "64039900"];
    let origins = ["CN", "VN", "IN", "TR", "US", "BD", "DE", "JP"];
    let mut rng = Rng(0x5eed_2026);
    (0..n)
        .map(|i| {
            let mut d = base.clone();
            let decl = &mut d["Declaration"];
            decl["FunctionalReferenceID"] = json!(format!("LRN-2026-{i:06}"));
            let mut total = 0.0;
            let mut mass = 0.0;
            for item in decl["GoodsShipment"]["GovernmentAgencyGoodsItem"].as_array_mut().unwrap() {
                let value = (rng.below(2_000_000) + 1_000) as f64 / 10.0;
                let gross = (rng.below(50_000) + 10) as f64 / 10.0;
                total += value;
                mass += gross;
                item["StatisticalValueAmount"]["value"] = json!(value);
                item["Commodity"]["InvoiceLine"]["ItemChargeAmount"]["value"] = json!(value);
                item["Commodity"]["GoodsMeasure"]["GrossMassMeasure"]["value"] = json!(gross);
                item["Commodity"]["GoodsMeasure"]["NetNetWeightMeasure"]["value"] =
                    json!((gross * 0.8 * 10.0).round() / 10.0);
                item["Commodity"]["Classification"][0]["ID"] = json!(hs[rng.below(hs.len() as u64) as usize]);
                item["Origin"][0]["CountryCode"] = json!(origins[rng.below(origins.len() as u64) as usize]);
            }
            decl["InvoiceAmount"]["value"] = json!((total * 10.0_f64).round() / 10.0);
            decl["TotalGrossMassMeasure"]["value"] = json!((mass * 10.0_f64).round() / 10.0);
            serde_json::to_vec(&d).unwrap()
        })
        .collect()
}

/// Runs `f` over the corpus repeatedly for about `budget`, `rounds` times; returns the median docs/s.
fn measure(docs: &[Vec<u8>], rounds: usize, budget: Duration, mut f: impl FnMut(&[u8]) -> bool) -> f64 {
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let mut n = 0usize;
        while start.elapsed() < budget {
            for d in docs {
                assert!(f(d), "a benchmark document was refused");
                n += 1;
            }
        }
        rates.push(n as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, budget) = if quick { (3, Duration::from_millis(300)) } else { (5, Duration::from_secs(2)) };
    let docs = corpus(2_000);
    let avg = docs.iter().map(Vec::len).sum::<usize>() / docs.len();
    let opts = ValidateOptions::default();
    // Warm up the code lists and schemas outside the timed region.
    assert!(validate(&docs[0], &opts).valid, "{:#?}", validate(&docs[0], &opts).errors);

    let schema = json_schema(RecordType::Declaration);
    let peer = jsonschema::validator_for(&schema).expect("schema compiles");

    let ours = measure(&docs, rounds, budget, |d| black_box(validate(black_box(d), &opts)).valid);
    if std::env::args().any(|a| a == "--only-ours") {
        println!("borderlink validate: {ours:.0} decl/s/core");
        return;
    }
    let theirs = measure(&docs, rounds, budget, |d| {
        let v: Value = serde_json::from_slice(black_box(d)).expect("JSON");
        black_box(peer.is_valid(&v))
    });
    let parse_only = measure(&docs, rounds, budget, |d| {
        let v: Value = serde_json::from_slice(black_box(d)).expect("JSON");
        black_box(v.is_object())
    });

    println!("validation throughput, one thread, {} declarations of ~{} bytes (2 goods items)", docs.len(), avg);
    println!("{:<62} {:>14}", "validator", "decl/s/core");
    println!("{:<62} {:>14.0}", "borderlink validate (formats, code lists, totals, quality)", ours);
    println!("{:<62} {:>14.0}", "jsonschema 0.61 on the generated schema (structure only)", theirs);
    println!("{:<62} {:>14.0}", "(serde_json parse to Value alone, for reference)", parse_only);
    println!(
        "ratio borderlink / jsonschema: {:.2}x; goal >= 50000 decl/s/core: {}",
        ours / theirs,
        if ours >= 50_000.0 { "met" } else { "NOT met" }
    );
}
