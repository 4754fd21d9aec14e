//! The checker that walks a typed record and collects every issue with its path.
//!
//! Validation never stops at the first problem: each check appends an [`Issue`] and goes on,
//! so a trader sees every error of a document at once. Paths are kept as a stack of static
//! segments and rendered to text only when an issue is recorded, which keeps the valid path
//! (the common case) free of allocation.

use serde::{Deserialize, Serialize};

use crate::codelists;
use crate::datetime;
use crate::measure::{Amount, Measure};

/// How serious an issue is: errors make a record invalid, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The record is refused.
    Error,
    /// The record is accepted; the issue lowers its data quality.
    Warning,
}

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Issue {
    /// Where: a JSON path such as `$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].Origin[0].CountryCode`,
    /// or, for XML input, an XML element path such as `/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]`.
    pub path: String,
    /// A stable rule name, e.g. `format.length`, `codelist.country`, `totals.invoice_amount`.
    pub rule: String,
    /// A plain-language explanation for the trader.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

/// The code list a coded value is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeList {
    /// ISO 3166-1 alpha-2 country codes.
    Country,
    /// ISO 4217 currency codes.
    Currency,
    /// Incoterms 2020.
    Incoterm,
    /// UN/LOCODE (checked when the value has the shape of a LOCODE).
    Locode,
    /// Country of origin: ISO 3166-1 alpha-2, or `EU` (non-preferential origin in the Union).
    Origin,
}

/// A typed part of a record that knows its own format checks.
pub trait Check {
    /// Appends every issue of `self` (and of its children) to the checker.
    fn check(&self, cx: &mut Checker);
}

#[derive(Debug, Clone, Copy)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Collects issues while walking a record; see the module documentation.
#[derive(Debug, Default)]
pub struct Checker {
    path: Vec<Seg>,
    issues: Vec<Issue>,
}

impl Checker {
    /// A checker positioned at the document root (`$`).
    pub fn new() -> Self {
        Self { path: Vec::with_capacity(16), issues: Vec::new() }
    }

    /// The issues found so far.
    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }

    /// Whether an error (not a warning) has been recorded.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }

    /// Runs `f` with `key` pushed on the path.
    pub fn at<R>(&mut self, key: &'static str, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(Seg::Key(key));
        let r = f(self);
        self.path.pop();
        r
    }

    /// Runs `f` with `key[index]` pushed on the path.
    pub fn at_index<R>(&mut self, key: &'static str, index: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(Seg::Key(key));
        self.path.push(Seg::Index(index));
        let r = f(self);
        self.path.pop();
        self.path.pop();
        r
    }

    /// Checks a nested class.
    pub fn nested<T: Check>(&mut self, key: &'static str, value: &T) {
        self.at(key, |cx| value.check(cx));
    }

    /// Checks a repeated class and its maximum number of occurrences.
    pub fn each<T: Check>(&mut self, key: &'static str, values: &[T], max: usize) {
        if values.len() > max {
            self.error(
                Some(key),
                "format.max_occurs",
                format!("{key} may occur at most {max} times; {} were given", values.len()),
            );
        }
        for (i, v) in values.iter().enumerate() {
            self.at_index(key, i, |cx| v.check(cx));
        }
    }

    /// Records an error at the current path, or at `key` below it.
    pub fn error(&mut self, key: Option<&'static str>, rule: &'static str, message: String) {
        self.push_issue(key, rule, message, Severity::Error);
    }

    /// Records a warning at the current path, or at `key` below it.
    pub fn warning(&mut self, key: Option<&'static str>, rule: &'static str, message: String) {
        self.push_issue(key, rule, message, Severity::Warning);
    }

    fn push_issue(&mut self, key: Option<&'static str>, rule: &'static str, message: String, severity: Severity) {
        let mut path = String::from("$");
        for seg in &self.path {
            push_seg(&mut path, *seg);
        }
        if let Some(k) = key {
            push_seg(&mut path, Seg::Key(k));
        }
        self.issues.push(Issue { path, rule: rule.to_owned(), message, severity });
    }

    /// WCO text formats: `an..N` (up to N characters), `aN` (exactly N letters), `n..N` (digits).
    /// `kind` is `b'x'` for alphanumeric, `b'a'` for alphabetic, `b'n'` for numeric.
    pub fn text(&mut self, key: &'static str, v: &str, kind: u8, max: usize, exact: bool) {
        // Hot path: the checks below allocate only when they report something.
        if v.bytes().all(|b| b == b' ' || b == b'\t' || b == b'\n' || b == b'\r') {
            self.error(Some(key), "format.empty", format!("{key} is empty; leave it out or give a value"));
            return;
        }
        if v.chars().any(char::is_control) {
            self.error(Some(key), "format.control_character", format!("{key} contains a control character"));
        }
        // A string of at most `max` bytes has at most `max` characters: count only when needed.
        let len = if v.len() <= max && !exact { v.len() } else { v.chars().count() };
        if exact && len != max {
            let (fmt, shown) = (format_name(kind, max, exact), display_value(v));
            self.error(
                Some(key),
                "format.length",
                format!("{key} must be exactly {max} characters (format {fmt}); {shown} has {len}"),
            );
        } else if len > max {
            let (fmt, shown) = (format_name(kind, max, exact), display_value(v));
            self.error(
                Some(key),
                "format.length",
                format!("{key} may have at most {max} characters (format {fmt}); {shown} has {len}"),
            );
        }
        let ok = match kind {
            b'a' => v.bytes().all(|b| b.is_ascii_alphabetic()),
            b'n' => v.bytes().all(|b| b.is_ascii_digit()),
            _ => true,
        };
        if !ok {
            let what = if kind == b'a' { "letters" } else { "digits" };
            let (fmt, shown) = (format_name(kind, max, exact), display_value(v));
            self.error(
                Some(key),
                "format.characters",
                format!("{key} must contain only {what} (format {fmt}); got {shown}"),
            );
        }
    }

    /// Checks a coded value against a code list.
    pub fn code(&mut self, key: &'static str, v: &str, list: CodeList) {
        match list {
            CodeList::Country => {
                if !codelists::is_country(v) {
                    self.error(
                        Some(key),
                        "codelist.country",
                        format!("{} is not an ISO 3166-1 alpha-2 country code", display_value(v)),
                    );
                }
            }
            CodeList::Origin if v == "EU" => {}
            CodeList::Origin => self.code(key, v, CodeList::Country),
            CodeList::Currency => self.currency(key, v),
            CodeList::Incoterm => {
                if let Some((edition, successor)) = codelists::incoterm_earlier(v) {
                    self.error(
                        Some(key),
                        "codelist.incoterm_edition",
                        format!(
                            "{} is a rule of {edition}, which Incoterms 2020 replaced: use {successor}",
                            display_value(v)
                        ),
                    );
                } else if !codelists::is_incoterm(v) {
                    self.error(
                        Some(key),
                        "codelist.incoterm",
                        format!(
                            "{} is not an Incoterms 2020 rule (EXW, FCA, CPT, CIP, DAP, DPU, DDP, FAS, FOB, CFR, CIF)",
                            display_value(v)
                        ),
                    );
                }
            }
            CodeList::Locode => {
                if codelists::has_locode_shape(v) {
                    if !codelists::is_locode(v) {
                        self.error(
                            Some(key),
                            "codelist.unlocode",
                            format!("{} is not in UN/LOCODE release {}", display_value(v), codelists::UNLOCODE_RELEASE),
                        );
                    }
                } else {
                    self.warning(
                        Some(key),
                        "codelist.unlocode_shape",
                        format!(
                            "{} is not a UN/LOCODE (two-letter country + three characters); it cannot be checked",
                            display_value(v)
                        ),
                    );
                }
            }
        }
    }

    fn currency(&mut self, key: &'static str, v: &str) {
        if !codelists::is_currency(v) {
            self.error(
                Some(key),
                "codelist.currency",
                format!("{} is not an ISO 4217 currency code", display_value(v)),
            );
        }
    }

    /// An amount with its currency (`{"value": …, "currencyID": …}`).
    pub fn amount(&mut self, key: &'static str, a: &Amount, digits: u32, frac: u32) {
        self.at(key, |cx| {
            cx.decimal("value", a.value, digits, frac);
            match &a.currency_id {
                Some(c) => cx.currency("currencyID", c),
                None => cx.warning(
                    Some("currencyID"),
                    "amount.currency_missing",
                    "the amount gives no currency (currencyID); the declaration currency will be assumed".to_owned(),
                ),
            }
        });
    }

    /// A measure with its unit (`{"value": …, "unitCode": …}`).
    pub fn measure(&mut self, key: &'static str, m: &Measure, digits: u32, frac: u32) {
        self.at(key, |cx| {
            cx.decimal("value", m.value, digits, frac);
            if let Some(u) = &m.unit_code
                && !codelists::is_unit(u)
            {
                cx.warning(
                    Some("unitCode"),
                    "codelist.unit",
                    format!(
                        "{} is not a common UN/ECE Recommendation 20 unit (e.g. KGM, TNE, LTR, MTQ)",
                        display_value(u)
                    ),
                );
            }
        });
    }

    /// A whole number of at most `digits` digits (`n..N`).
    pub fn integer(&mut self, key: &'static str, v: u64, digits: u32) {
        if digits < 20 && v >= 10u64.pow(digits) {
            self.error(Some(key), "format.digits", format!("{key} may have at most {digits} digits; got {v}"));
        }
    }

    /// A non-negative decimal number with at most `digits` digits of which `frac` after the point (`n..16,3`).
    pub fn decimal(&mut self, key: &'static str, v: f64, digits: u32, frac: u32) {
        if !v.is_finite() {
            self.error(Some(key), "format.number", format!("{key} must be a finite number"));
            return;
        }
        if v < 0.0 {
            self.error(Some(key), "format.negative", format!("{key} must not be negative; got {v}"));
        }
        let int_digits = digits.saturating_sub(frac);
        if v.abs() >= 10f64.powi(int_digits as i32) {
            self.error(
                Some(key),
                "format.digits",
                format!("{key} may have at most {int_digits} digits before the decimal point (format n..{digits},{frac}); got {v}"),
            );
        }
        let scaled = v * 10f64.powi(frac as i32);
        if (scaled - scaled.round()).abs() > 1e-6 * scaled.abs().max(1.0) {
            self.error(
                Some(key),
                "format.decimals",
                format!("{key} may have at most {frac} decimal places (format n..{digits},{frac}); got {v}"),
            );
        }
    }

    /// A date or date-time in ISO 8601 form (`2026-03-02` or `2026-03-02T09:30:00Z`); a
    /// date-time without zone is a local time, accepted with a warning.
    pub fn datetime(&mut self, key: &'static str, v: &str, max: usize) {
        if v.chars().count() > max {
            self.error(Some(key), "format.length", format!("{key} may have at most {max} characters"));
        }
        let parsed = datetime::parse_local(v);
        if let Some((_, datetime::Zone::Local)) = parsed {
            self.warning(
                Some(key),
                "datetime.local_time",
                format!(
                    "{key} {} gives no time zone; it is read as a local time (give Z or an offset, e.g. 2026-03-02T09:30:00+01:00)",
                    display_value(v)
                ),
            );
        }
        if parsed.is_none() {
            self.error(
                Some(key),
                "format.datetime",
                format!(
                    "{key} must be an ISO 8601 date (2026-03-02) or date-time with zone (2026-03-02T09:30:00Z); got {}",
                    display_value(v)
                ),
            );
        }
    }
}

fn push_seg(path: &mut String, seg: Seg) {
    use std::fmt::Write;
    match seg {
        Seg::Key(k) => {
            path.push('.');
            path.push_str(k);
        }
        Seg::Index(i) => {
            let _ = write!(path, "[{i}]");
        }
    }
}

fn format_name(kind: u8, max: usize, exact: bool) -> String {
    let k = match kind {
        b'a' => "a",
        b'n' => "n",
        _ => "an",
    };
    if exact { format!("{k}{max}") } else { format!("{k}..{max}") }
}

/// Quotes a value for a message, shortened so that a huge value cannot flood a report.
pub(crate) fn display_value(v: &str) -> String {
    const MAX: usize = 40;
    if v.chars().count() > MAX {
        let head: String = v.chars().take(MAX).collect();
        format!("\"{head}…\"")
    } else {
        format!("\"{v}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_keys_and_indexes() {
        let mut cx = Checker::new();
        cx.at("Declaration", |cx| cx.at_index("Item", 2, |cx| cx.text("ID", "", b'x', 5, false)));
        let issues = cx.into_issues();
        assert_eq!(issues[0].path, "$.Declaration.Item[2].ID");
        assert_eq!(issues[0].rule, "format.empty");
    }

    #[test]
    fn numeric_text_rejects_letters_and_length() {
        let mut cx = Checker::new();
        cx.text("FunctionCode", "9A1", b'n', 2, false);
        let rules: Vec<_> = cx.into_issues().into_iter().map(|i| i.rule).collect();
        assert_eq!(rules, ["format.length", "format.characters"]);
    }

    #[test]
    fn decimals_are_limited() {
        let mut cx = Checker::new();
        cx.decimal("RateNumeric", 0.123456, 12, 5);
        cx.decimal("Ok", 152400.125, 16, 3);
        let issues = cx.into_issues();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].rule, "format.decimals");
    }
}
