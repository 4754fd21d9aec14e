//! Integration tests of risk management through its public API: criteria, lanes, features
//! without leakage, the model's explanations and file format, the engine's feedback loop.

mod corruption;
mod criteria;
mod engine;
mod features;
mod lanes;
mod model;
mod parsers;

use borderlink_risk::Item;
use borderlink_risk::features::Example;
use borderlink_risk::history::Outcome;
use borderlink_risk::item::parse_day;

/// A goods item with everything the model uses.
pub(crate) fn item(id: &str, day: &str) -> Item {
    Item {
        declaration_id: id.to_owned(),
        sequence: 1,
        day: parse_day(day),
        office: Some("OFF1".into()),
        declarant: Some("DECL1".into()),
        importer: Some("IMP1".into()),
        seller: Some("SELL1".into()),
        carrier: None,
        hs: Some("61091000".into()),
        departure: Some("CN".into()),
        origin: Some("CN".into()),
        origin_type: Some("1".into()),
        tax_rate: Some(8.0),
        tax_type: Some("A00".into()),
        payment_method: Some("A".into()),
        net_mass_kg: Some(100.0),
        value: Some(2000.0),
        transport_mode: Some("1".into()),
        procedure: Some("40".into()),
        transaction_nature: Some("1".into()),
        circumstances: None,
        aeo_claim: None,
        signals: Vec::new(),
    }
}

/// A tiny deterministic generator (SplitMix64), so tests need no RNG crate.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// `n` labelled items over 200 days where fraud is (mostly) exactly the items whose goods
/// depart from a country other than their origin; everything else is noise.
pub(crate) fn route_fraud_examples(n: usize, seed: u64) -> Vec<Example> {
    let mut rng = Rng(seed);
    let countries = ["CN", "VN", "BD", "TR", "IN"];
    (0..n)
        .map(|i| {
            let day = 18_000 + (i * 200 / n) as i32;
            let origin = rng.pick(&countries);
            let routed = rng.unit() < 0.3;
            let departure = if routed { rng.pick(&["AE", "SG", "PA"]) } else { origin };
            let fraud = if routed { rng.unit() < 0.9 } else { rng.unit() < 0.05 };
            let value = 500.0 + rng.unit() * 5000.0;
            let mut it = item(&format!("D{i}"), "2020-01-01");
            it.day = Some(day);
            it.importer = Some(format!("IMP{}", rng.next() % 400));
            it.declarant = Some(format!("DEC{}", rng.next() % 50));
            it.seller = Some(format!("S{}", rng.next() % 300));
            it.origin = Some(origin.into());
            it.departure = Some(departure.into());
            it.value = Some(value);
            it.net_mass_kg = Some(10.0 + rng.unit() * 100.0);
            it.tax_rate = Some([0.0, 8.0, 13.0][(rng.next() % 3) as usize]);
            let revenue = if fraud { value * it.tax_rate.unwrap_or(0.0) / 100.0 } else { 0.0 };
            Example { item: it, outcome: Some(Outcome { fraud, critical: false, revenue }) }
        })
        .collect()
}
