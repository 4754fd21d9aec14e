//! Code lists carried in the project (see `codelists/README.md` for sources and licences).
//!
//! The lists are compiled into the binary and parsed once, on first use, into sorted tables;
//! lookups are binary searches over fixed-size keys and allocate nothing.

use std::sync::LazyLock;

/// The UN/LOCODE release carried in `codelists/`.
pub const UNLOCODE_RELEASE: &str = "2023-2";

const ISO3166: &str = include_str!("../codelists/iso3166-1.tsv");
const ISO4217: &str = include_str!("../codelists/iso4217.tsv");
const HS2022: &str = include_str!("../codelists/hs2022.tsv");
const HS2017_TO_2022: &str = include_str!("../codelists/hs2017-to-2022.tsv");
const UNLOCODE: &str = include_str!("../codelists/unlocode-2023-2.txt");
const UNLOCODE_NAMES: &str = include_str!("../codelists/unlocode-2023-2-names.tsv");

/// Incoterms 2020 (International Chamber of Commerce), the eleven rules.
pub const INCOTERMS_2020: [&str; 11] = ["CFR", "CIF", "CIP", "CPT", "DAP", "DDP", "DPU", "EXW", "FAS", "FCA", "FOB"];

/// Rules of earlier Incoterms editions that Incoterms 2020 does not have, with the edition that
/// last had them and the Incoterms 2020 rule for the same delivery.
///
/// Source: ICC, Incoterms 2010 (DAT and DAP replaced the Incoterms 2000 rules DAF, DES, DEQ and
/// DDU) and Incoterms 2020 (DAT renamed DPU, "delivered at place unloaded"; the only change of
/// rule codes between 2010 and 2020).
pub const INCOTERMS_EARLIER: [(&str, &str, &str); 5] = [
    ("DAF", "Incoterms 2000", "DAP"),
    ("DAT", "Incoterms 2010", "DPU"),
    ("DDU", "Incoterms 2000", "DAP"),
    ("DEQ", "Incoterms 2000", "DPU"),
    ("DES", "Incoterms 2000", "DAP"),
];

/// Common UN/ECE Recommendation 20 units seen on customs declarations.
const UNITS: [&str; 22] = [
    "CMQ", "CMT", "DZN", "GRM", "HLT", "KGM", "KMT", "KWH", "LTR", "MTK", "MTQ", "MTR", "NAR", "NPR", "PCE", "SET",
    "TNE", "C62", "H87", "GFI", "KNI", "MLT",
];

/// A parsed tab-separated list: sorted codes with their names.
struct Table {
    entries: Vec<(&'static str, &'static str)>,
}

impl Table {
    fn parse(text: &'static str) -> Self {
        let mut entries: Vec<(&str, &str)> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| l.split_once('\t').unwrap_or((l, "")))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Self { entries }
    }

    fn get(&self, code: &str) -> Option<&'static str> {
        self.entries.binary_search_by(|e| e.0.cmp(code)).ok().map(|i| self.entries[i].1)
    }
}

static COUNTRIES: LazyLock<Table> = LazyLock::new(|| Table::parse(ISO3166));
static CURRENCIES: LazyLock<Table> = LazyLock::new(|| Table::parse(ISO4217));
static HS: LazyLock<Table> = LazyLock::new(|| Table::parse(HS2022));
static HS2017: LazyLock<Table> = LazyLock::new(|| Table::parse(HS2017_TO_2022));
static LOCODE_NAMES: LazyLock<Table> = LazyLock::new(|| Table::parse(UNLOCODE_NAMES));
static LOCODES: LazyLock<Vec<[u8; 5]>> = LazyLock::new(|| {
    let mut v: Vec<[u8; 5]> =
        UNLOCODE.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.as_bytes().try_into().ok()).collect();
    v.sort_unstable();
    v
});

/// Whether `code` is an ISO 3166-1 alpha-2 country code.
pub fn is_country(code: &str) -> bool {
    COUNTRIES.get(code).is_some()
}

/// The English short name of an ISO 3166-1 alpha-2 country.
pub fn country_name(code: &str) -> Option<&'static str> {
    COUNTRIES.get(code)
}

/// The name of an ISO 4217 currency.
pub fn currency_name(code: &str) -> Option<&'static str> {
    CURRENCIES.get(code)
}

/// Whether `code` is an ISO 4217 currency code.
pub fn is_currency(code: &str) -> bool {
    CURRENCIES.get(code).is_some()
}

/// Whether `code` is one of the Incoterms 2020 rules.
pub fn is_incoterm(code: &str) -> bool {
    INCOTERMS_2020.binary_search(&code).is_ok()
}

/// Whether `code` is a common UN/ECE Recommendation 20 unit.
pub fn is_unit(code: &str) -> bool {
    UNITS.contains(&code)
}

/// The description of an HS 2022 six-digit subheading.
pub fn hs_subheading(code6: &str) -> Option<&'static str> {
    HS.get(code6)
}

/// The HS 2022 six-digit subheadings under a heading or chapter (`prefix` of two or four
/// digits), in code order, with their descriptions.
pub fn hs_subheadings_under(prefix: &str) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    let start = HS.entries.partition_point(|e| e.0 < prefix);
    HS.entries[start..].iter().take_while(move |e| e.0.starts_with(prefix)).copied()
}

/// How many HS 2022 six-digit subheadings are carried.
pub fn hs_subheading_count() -> usize {
    HS.entries.len()
}

/// An HS 2017 subheading that HS 2022 deleted: its HS 2022 successors (comma-separated) and what
/// changed, from the carried part of the WCO correlation table (`codelists/hs2017-to-2022.tsv`).
pub fn hs2017_successors(code6: &str) -> Option<(&'static str, &'static str)> {
    let row = HS2017.get(code6)?;
    Some(row.split_once('\t').unwrap_or((row, "")))
}

/// The HS 2017 subheadings of the carried correlation table, with their successors.
pub fn hs2017_correlation() -> impl Iterator<Item = (&'static str, &'static str)> {
    HS2017.entries.iter().map(|(code, row)| (*code, row.split_once('\t').map_or(*row, |(s, _)| s)))
}

/// An Incoterms rule of an earlier edition: the edition that last had it and its Incoterms 2020
/// successor.
pub fn incoterm_earlier(code: &str) -> Option<(&'static str, &'static str)> {
    INCOTERMS_EARLIER.iter().find(|(c, _, _)| *c == code).map(|(_, e, s)| (*e, *s))
}

/// Whether `code` has the shape of a UN/LOCODE: a country code then three letters or digits 2–9.
pub fn has_locode_shape(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..].iter().all(|c| c.is_ascii_uppercase() || (b'2'..=b'9').contains(c))
}

/// The name of a location of the carried UN/LOCODE release (as the release writes it, with
/// diacritics), e.g. `NLRTM` → `Rotterdam`.
pub fn locode_name(code: &str) -> Option<&'static str> {
    LOCODE_NAMES.get(code)
}

/// Whether `code` is in the carried UN/LOCODE release.
pub fn is_locode(code: &str) -> bool {
    match <[u8; 5]>::try_from(code.as_bytes()) {
        Ok(k) => LOCODES.binary_search(&k).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_currencies_and_headings_have_names() {
        assert_eq!(locode_name("NLRTM"), Some("Rotterdam"));
        assert_eq!(locode_name("GBFXT"), Some("Felixstowe"));
        assert_eq!(locode_name("XXXXX"), None);
        // Every carried code has a name, and no name belongs to a code that is not carried.
        assert_eq!(LOCODE_NAMES.entries.len(), LOCODES.len());
        assert!(LOCODE_NAMES.entries.iter().all(|(c, n)| is_locode(c) && !n.is_empty()));
        assert_eq!(currency_name("EUR"), Some("Euro"));
        let horses: Vec<_> = hs_subheadings_under("0101").map(|(c, _)| c).collect();
        assert_eq!(horses, ["010121", "010129", "010130", "010190"]);
        assert!(hs_subheadings_under("01").count() > horses.len());
    }

    #[test]
    fn lists_are_complete() {
        assert!(is_country("GB") && is_country("CN") && !is_country("XX") && !is_country("gb"));
        assert!(is_currency("USD") && is_currency("EUR") && !is_currency("ABC"));
        assert_eq!(hs_subheading_count(), 5612);
        assert!(hs_subheading("999999").is_none(), "999999 is a statistical code, not an HS subheading");
        assert!(hs_subheading("847130").is_some() && hs_subheading("847199").is_none());
        assert!(is_locode("CNSGH") && is_locode("GBFXT") && !is_locode("ADXXX") && !is_locode("ZZZZZ"));
        assert!(is_incoterm("FOB") && !is_incoterm("FOX"));
    }

    #[test]
    fn earlier_editions_point_to_current_codes() {
        let mut n = 0;
        for (old, successors) in hs2017_correlation() {
            n += 1;
            assert!(hs_subheading(old).is_none(), "{old} is still an HS 2022 subheading");
            for s in successors.split(',') {
                assert!(hs_subheading(s).is_some(), "{old} -> {s}: not an HS 2022 subheading");
            }
        }
        assert!(n >= 10);
        assert_eq!(hs2017_successors("851712").map(|s| s.0), Some("851713,851714"));
        for (old, _, new) in INCOTERMS_EARLIER {
            assert!(!is_incoterm(old) && is_incoterm(new), "{old} -> {new}");
        }
        assert_eq!(incoterm_earlier("DAT"), Some(("Incoterms 2010", "DPU")));
    }
}
