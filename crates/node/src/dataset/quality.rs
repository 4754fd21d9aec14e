//! Data quality: what the node's submitters send, in figures — per submitting organisation,
//! record type and ISO week.
//!
//! Two sources, kept apart because they are seen in different places:
//! - **submissions** ([`Submissions`]): every transaction submitted to this node whose submitter
//!   is established, committed or refused, with the rules its record broke (errors) or bent
//!   (warnings) under the core validation the ledger applies. Refusals never reach the ledger,
//!   so these are kept in a file of their own (`quality_service.rs`);
//! - **committed records** ([`Committed`]): the declarations on the ledger that this node can
//!   read, for the completeness of the elements risk analysis reads
//!   ([`borderlink_risk::item::ELEMENTS`], per goods item as the risk engine sees them) and for
//!   timeliness — committed before the goods' planned arrival, or not. A declaration carries no
//!   arrival date of its own (the WCO DEC classes of the model have none); the arrival is the
//!   `ext.plannedArrival` of the transport movements whose `ext.declarationRefs` name its LRN or
//!   MRN (the earliest, when several do). Without one, its timeliness is unknown, not late.
//!
//! Everything here is pure: the figures are built from rows and committed records handed in,
//! and [`report`] computes what a filter selects.

use std::collections::{BTreeMap, HashMap};

use borderlink_model::{DeclarationRecord, RecordType, TransportMovementRecord};
use borderlink_risk::Item;
use borderlink_risk::item::ELEMENTS;
use serde::{Deserialize, Serialize};

/// How many elements completeness counts.
const N: usize = ELEMENTS.len();

const DAY_MS: i64 = 86_400_000;

/// An ISO 8601 week: Monday to Sunday (UTC), numbered within the year of its Thursday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct IsoWeek {
    year: i32,
    week: u8,
}

impl IsoWeek {
    /// The week of an instant (ms since the Unix epoch).
    pub(crate) fn of_ms(ms: i64) -> Self {
        Self::of_day(ms.div_euclid(DAY_MS))
    }

    /// The week of a day (days since 1970-01-01).
    fn of_day(day: i64) -> Self {
        let thursday = day - weekday(day) + 3;
        let (year, _, _) = civil_from_days(thursday);
        let jan1 = days_from_civil(year, 1, 1);
        let week = u8::try_from((thursday - jan1) / 7 + 1).unwrap_or(53);
        IsoWeek { year: i32::try_from(year).unwrap_or(i32::MAX), week }
    }

    /// Its Monday (days since 1970-01-01).
    fn monday(self) -> i64 {
        // The 4th of January is always in week 1.
        let jan4 = days_from_civil(i64::from(self.year), 1, 4);
        jan4 - weekday(jan4) + 7 * (i64::from(self.week) - 1)
    }

    /// The `n` weeks up to and including the week of `now_ms`, oldest first.
    pub(crate) fn last(n: u32, now_ms: i64) -> Vec<IsoWeek> {
        let monday = Self::of_ms(now_ms).monday();
        (0..i64::from(n)).rev().map(|k| Self::of_day(monday - 7 * k)).collect()
    }
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

/// Monday 0 … Sunday 6 (1970-01-01 was a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// (year, month, day) of a day since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a (year, month, day).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One submission as it is kept: who, what, when, how it ended and which rules its record
/// broke or bent. Its key in the file is the transaction id, so a submission sent again (a
/// client retrying) is counted once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SubmissionRow {
    /// The submitting member.
    pub(crate) member: String,
    /// Its record type's name.
    pub(crate) record_type: String,
    /// When this node received it (its clock), ms since the Unix epoch.
    pub(crate) at_ms: i64,
    /// The refusal's code (`invalid_record`, `policy_denied`, …); `None` when committed.
    pub(crate) refused: Option<String>,
    /// Whether its record was read and validated here (clear, and the payload the one signed);
    /// a private record is validated by the administration it is addressed to, at endorsement.
    pub(crate) read: bool,
    /// The rules that reported an error, each once.
    pub(crate) errors: Vec<String>,
    /// The rules that reported a warning, each once.
    pub(crate) warnings: Vec<String>,
}

/// Submission counts of one organisation, record type and week (or of any selection of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SubmissionCounts {
    submitted: u64,
    refused: u64,
    read: u64,
    refusals: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    warnings: BTreeMap<String, u64>,
}

impl SubmissionCounts {
    fn add_row(&mut self, row: &SubmissionRow) {
        self.submitted += 1;
        if let Some(code) = &row.refused {
            self.refused += 1;
            *self.refusals.entry(code.clone()).or_default() += 1;
        }
        if row.read {
            self.read += 1;
        }
        for r in &row.errors {
            *self.errors.entry(r.clone()).or_default() += 1;
        }
        for r in &row.warnings {
            *self.warnings.entry(r.clone()).or_default() += 1;
        }
    }

    fn add(&mut self, other: &SubmissionCounts) {
        self.submitted += other.submitted;
        self.refused += other.refused;
        self.read += other.read;
        for (into, from) in [
            (&mut self.refusals, &other.refusals),
            (&mut self.errors, &other.errors),
            (&mut self.warnings, &other.warnings),
        ] {
            for (k, v) in from {
                *into.entry(k.clone()).or_default() += v;
            }
        }
    }
}

/// Every submission counted, by (organisation, record type, week).
#[derive(Debug, Default)]
pub(crate) struct Submissions {
    counts: BTreeMap<(String, &'static str, IsoWeek), SubmissionCounts>,
}

impl Submissions {
    /// Counts one submission; a row of a type outside the dataset is ignored.
    pub(crate) fn add(&mut self, row: &SubmissionRow) {
        let Some(t) = RecordType::from_name(&row.record_type) else { return };
        let key = (row.member.clone(), t.name(), IsoWeek::of_ms(row.at_ms));
        self.counts.entry(key).or_default().add_row(row);
    }
}

/// A committed declaration as the figures keep it (its latest version's content; the
/// organisation and week of its first).
#[derive(Debug, Clone)]
struct DeclarationEntry {
    org: String,
    first_ms: i64,
    items: u64,
    present: [u64; N],
    /// Its LRN and MRN: what a transport movement names it by.
    refs: Vec<String>,
}

/// A committed transport movement: the declarations it names and its planned arrival.
#[derive(Debug, Clone)]
struct MovementEntry {
    refs: Vec<String>,
    arrival_ms: Option<i64>,
}

/// The committed records the figures read, by record id.
#[derive(Debug, Default)]
pub(crate) struct Committed {
    declarations: HashMap<String, DeclarationEntry>,
    movements: HashMap<String, MovementEntry>,
}

impl Committed {
    /// Takes a committed declaration or movement into account (a later version replaces the
    /// earlier one's content). Returns whether the payload was read.
    pub(crate) fn apply(
        &mut self,
        record_type: RecordType,
        record_id: &str,
        submitter: &str,
        committed_ms: i64,
        payload: &serde_json::Value,
    ) -> bool {
        match record_type {
            RecordType::Declaration => {
                let Ok(d) = DeclarationRecord::deserialize(payload) else { return false };
                let items = Item::from_declaration(&d);
                let mut present = [0u64; N];
                for item in &items {
                    for (count, e) in present.iter_mut().zip(&ELEMENTS) {
                        *count += u64::from((e.present)(item));
                    }
                }
                let dec = &d.declaration;
                let refs = [&dec.functional_reference_id, &dec.id].into_iter().flatten().cloned().collect();
                let entry = self.declarations.entry(record_id.to_owned()).or_insert_with(|| DeclarationEntry {
                    org: submitter.to_owned(),
                    first_ms: committed_ms,
                    items: 0,
                    present: [0; N],
                    refs: Vec::new(),
                });
                entry.items = items.len() as u64;
                entry.present = present;
                entry.refs = refs;
                true
            }
            RecordType::TransportMovement => {
                let Ok(m) = TransportMovementRecord::deserialize(payload) else { return false };
                let ext = m.consignment.ext.unwrap_or_default();
                let arrival_ms = ext.planned_arrival.as_deref().and_then(borderlink_model::datetime::parse);
                let arrival_ms = arrival_ms.and_then(|s| s.checked_mul(1000));
                self.movements.insert(record_id.to_owned(), MovementEntry { refs: ext.declaration_refs, arrival_ms });
                true
            }
            RecordType::AeoAuthorization | RecordType::InspectionResult | RecordType::AeoConsent => false,
        }
    }

    /// The earliest planned arrival of the goods of each declaration reference.
    fn arrivals(&self) -> HashMap<&str, i64> {
        let mut out: HashMap<&str, i64> = HashMap::new();
        for m in self.movements.values() {
            let Some(at) = m.arrival_ms else { continue };
            for r in &m.refs {
                out.entry(r.as_str()).and_modify(|a| *a = (*a).min(at)).or_insert(at);
            }
        }
        out
    }
}

/// What a dashboard shows: a period of weeks, and optionally one organisation and record type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Only this submitting organisation.
    pub(crate) org: Option<String>,
    /// Only this record type.
    pub(crate) record_type: Option<RecordType>,
    /// The weeks, oldest first (at least one).
    pub(crate) weeks: Vec<IsoWeek>,
}

impl Filter {
    fn period(&self, w: IsoWeek) -> bool {
        self.weeks.first().is_some_and(|first| *first <= w) && self.weeks.last().is_some_and(|last| w <= *last)
    }

    fn selects(&self, org: &str, t: &str) -> bool {
        self.org.as_deref().is_none_or(|o| o == org) && self.record_type.is_none_or(|r| r.name() == t)
    }

    /// Whether declarations are in the selection (completeness and timeliness apply).
    fn declarations(&self) -> bool {
        self.record_type.is_none_or(|t| t == RecordType::Declaration)
    }
}

/// Committed declarations summed: goods items and elements present, and timeliness.
#[derive(Debug, Clone, Default)]
struct DeclarationCounts {
    declarations: u64,
    items: u64,
    present: [u64; N],
    before: u64,
    after: u64,
    unknown: u64,
}

impl DeclarationCounts {
    fn add_entry(&mut self, d: &DeclarationEntry, arrival: Option<i64>) {
        self.declarations += 1;
        self.items += d.items;
        for (into, from) in self.present.iter_mut().zip(&d.present) {
            *into += from;
        }
        match arrival {
            Some(at) if d.first_ms < at => self.before += 1,
            Some(_) => self.after += 1,
            None => self.unknown += 1,
        }
    }

    fn add(&mut self, o: &DeclarationCounts) {
        self.declarations += o.declarations;
        self.items += o.items;
        for (into, from) in self.present.iter_mut().zip(&o.present) {
            *into += from;
        }
        self.before += o.before;
        self.after += o.after;
        self.unknown += o.unknown;
    }

    /// Share of (goods item, element) pairs present.
    fn share(&self) -> Option<f64> {
        ratio(self.present.iter().sum(), self.items * N as u64)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The figures of a selection of submissions and committed records.
#[derive(Debug, Clone, Default)]
struct Tally {
    submissions: SubmissionCounts,
    declarations: DeclarationCounts,
}

/// The data-quality figures of a period, as `GET /api/v1/data-quality` answers them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QualityReport {
    /// The organisation selected, if one was.
    pub(crate) org: Option<String>,
    /// The record type selected, if one was.
    #[serde(rename = "type")]
    pub(crate) record_type: Option<String>,
    /// The ISO weeks of the period, oldest first (e.g. `2026-W10`).
    pub(crate) weeks: Vec<String>,
    /// Everything selected.
    pub(crate) total: Figures,
    /// Per submitting organisation and record type with anything in the period.
    pub(crate) groups: Vec<Group>,
    /// Everything selected, week by week (one entry per week of the period).
    pub(crate) trend: Vec<WeekFigures>,
}

/// The figures of one submitting organisation and record type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Group {
    /// The submitting member.
    pub(crate) org: String,
    /// The record type.
    #[serde(rename = "type")]
    pub(crate) record_type: String,
    /// Its figures.
    pub(crate) figures: Figures,
}

/// Submissions, and for declarations completeness and timeliness.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Figures {
    /// Submissions to this node and how they ended.
    pub(crate) submissions: SubmissionFigures,
    /// Completeness of the committed declarations; absent when no declarations are selected.
    pub(crate) completeness: Option<Completeness>,
    /// Timeliness of the committed declarations; absent when no declarations are selected.
    pub(crate) timeliness: Option<Timeliness>,
}

/// Submissions and their validation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SubmissionFigures {
    /// Submissions whose submitter is established (signature verified), each transaction once.
    pub(crate) submitted: u64,
    /// Committed.
    pub(crate) committed: u64,
    /// Refused, for whatever reason.
    pub(crate) refused: u64,
    /// `refused / submitted`; `null` without submissions.
    pub(crate) failure_rate: Option<f64>,
    /// Whose record was read and validated here (clear payloads): the denominator of each
    /// rule's rate.
    pub(crate) validated: u64,
    /// The refusals by code, most frequent first.
    pub(crate) refusals: Vec<Refusal>,
    /// The validation rules that reported something, most errors first.
    pub(crate) rules: Vec<RuleFigures>,
}

/// How many submissions were refused with one code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Refusal {
    /// The error code of the refusal (as `POST /api/v1/transactions` answered it).
    pub(crate) code: String,
    /// How many.
    pub(crate) count: u64,
}

/// One validation rule's failures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuleFigures {
    /// The rule's stable name (docs/validation-rules.md).
    pub(crate) rule: String,
    /// Submissions whose record it reported as an error.
    pub(crate) errors: u64,
    /// Submissions whose record it reported as a warning.
    pub(crate) warnings: u64,
    /// `errors / validated`.
    pub(crate) error_rate: Option<f64>,
    /// `warnings / validated`.
    pub(crate) warning_rate: Option<f64>,
}

/// Completeness of the elements risk analysis reads, per goods item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Completeness {
    /// Committed declarations.
    pub(crate) declarations: u64,
    /// Their goods items (a declaration without any counts as one).
    pub(crate) goods_items: u64,
    /// Share of (goods item, element) pairs present.
    pub(crate) share: Option<f64>,
    /// Each element.
    pub(crate) elements: Vec<ElementFigures>,
}

/// One element's completeness.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ElementFigures {
    /// Its name, as risk assessments name what is missing.
    pub(crate) element: String,
    /// Where a declaration carries it.
    pub(crate) source: String,
    /// Whether the learned model and the criteria need it (a risk assessment lists it as
    /// missing).
    pub(crate) required: bool,
    /// Goods items that carry it.
    pub(crate) present: u64,
    /// `present / goodsItems`.
    pub(crate) share: Option<f64>,
}

/// Timeliness: committed before the goods' planned arrival or not.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Timeliness {
    /// Committed declarations.
    pub(crate) declarations: u64,
    /// First committed before the planned arrival of their goods.
    pub(crate) before_arrival: u64,
    /// First committed at or after it.
    pub(crate) after_arrival: u64,
    /// No transport movement names them with a planned arrival.
    pub(crate) unknown: u64,
    /// `beforeArrival / (beforeArrival + afterArrival)`.
    pub(crate) share_before_arrival: Option<f64>,
}

/// One week of the trend.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WeekFigures {
    /// The ISO week, e.g. `2026-W10`.
    pub(crate) week: String,
    /// Submissions received that week.
    pub(crate) submitted: u64,
    /// Of which refused.
    pub(crate) refused: u64,
    /// `refused / submitted`.
    pub(crate) failure_rate: Option<f64>,
    /// Declarations first committed that week.
    pub(crate) declarations: u64,
    /// Their completeness (share of goods item × element pairs present).
    pub(crate) completeness: Option<f64>,
    /// Of them, committed before the planned arrival.
    pub(crate) before_arrival: u64,
    /// Committed at or after it.
    pub(crate) after_arrival: u64,
    /// Without a known arrival.
    pub(crate) unknown: u64,
    /// `beforeArrival / (beforeArrival + afterArrival)`.
    pub(crate) share_before_arrival: Option<f64>,
}

/// Computes the figures `filter` selects.
pub(crate) fn report(submissions: &Submissions, committed: &Committed, filter: &Filter) -> QualityReport {
    let mut total = Tally::default();
    let mut groups: BTreeMap<(String, &'static str), Tally> = BTreeMap::new();
    let mut weekly: BTreeMap<IsoWeek, Tally> = filter.weeks.iter().map(|w| (*w, Tally::default())).collect();
    for ((org, t, week), counts) in &submissions.counts {
        if !filter.period(*week) || !filter.selects(org, t) {
            continue;
        }
        total.submissions.add(counts);
        groups.entry((org.clone(), t)).or_default().submissions.add(counts);
        weekly.entry(*week).or_default().submissions.add(counts);
    }
    if filter.declarations() {
        let arrivals = committed.arrivals();
        let declaration = RecordType::Declaration.name();
        for d in committed.declarations.values() {
            let week = IsoWeek::of_ms(d.first_ms);
            if !filter.period(week) || !filter.selects(&d.org, declaration) {
                continue;
            }
            let arrival = d.refs.iter().filter_map(|r| arrivals.get(r.as_str()).copied()).min();
            let mut one = DeclarationCounts::default();
            one.add_entry(d, arrival);
            total.declarations.add(&one);
            groups.entry((d.org.clone(), declaration)).or_default().declarations.add(&one);
            weekly.entry(week).or_default().declarations.add(&one);
        }
    }
    let figures = |t: &Tally, declarations: bool| Figures {
        submissions: submission_figures(&t.submissions),
        completeness: declarations.then(|| completeness(&t.declarations)),
        timeliness: declarations.then(|| timeliness(&t.declarations)),
    };
    QualityReport {
        org: filter.org.clone(),
        record_type: filter.record_type.map(|t| t.name().to_owned()),
        weeks: filter.weeks.iter().map(ToString::to_string).collect(),
        total: figures(&total, filter.declarations()),
        groups: groups
            .iter()
            .map(|((org, t), tally)| Group {
                org: org.clone(),
                record_type: (*t).to_owned(),
                figures: figures(tally, *t == RecordType::Declaration.name()),
            })
            .collect(),
        trend: weekly
            .iter()
            .map(|(week, t)| {
                let d = &t.declarations;
                WeekFigures {
                    week: week.to_string(),
                    submitted: t.submissions.submitted,
                    refused: t.submissions.refused,
                    failure_rate: ratio(t.submissions.refused, t.submissions.submitted),
                    declarations: d.declarations,
                    completeness: d.share(),
                    before_arrival: d.before,
                    after_arrival: d.after,
                    unknown: d.unknown,
                    share_before_arrival: ratio(d.before, d.before + d.after),
                }
            })
            .collect(),
    }
}

fn submission_figures(c: &SubmissionCounts) -> SubmissionFigures {
    let mut refusals: Vec<Refusal> =
        c.refusals.iter().map(|(code, count)| Refusal { code: code.clone(), count: *count }).collect();
    refusals.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    let mut names: Vec<&String> = c.errors.keys().chain(c.warnings.keys()).collect();
    names.sort();
    names.dedup();
    let mut rules: Vec<RuleFigures> = names
        .into_iter()
        .map(|rule| {
            let errors = c.errors.get(rule).copied().unwrap_or(0);
            let warnings = c.warnings.get(rule).copied().unwrap_or(0);
            RuleFigures {
                rule: rule.clone(),
                errors,
                warnings,
                error_rate: ratio(errors, c.read),
                warning_rate: ratio(warnings, c.read),
            }
        })
        .collect();
    rules.sort_by(|a, b| b.errors.cmp(&a.errors).then(b.warnings.cmp(&a.warnings)).then_with(|| a.rule.cmp(&b.rule)));
    SubmissionFigures {
        submitted: c.submitted,
        committed: c.submitted - c.refused,
        refused: c.refused,
        failure_rate: ratio(c.refused, c.submitted),
        validated: c.read,
        refusals,
        rules,
    }
}

fn completeness(d: &DeclarationCounts) -> Completeness {
    Completeness {
        declarations: d.declarations,
        goods_items: d.items,
        share: d.share(),
        elements: ELEMENTS
            .iter()
            .zip(&d.present)
            .map(|(e, present)| ElementFigures {
                element: e.name.to_owned(),
                source: e.source.to_owned(),
                required: borderlink_risk::item::REQUIRED_FIELDS.contains(&e.name),
                present: *present,
                share: ratio(*present, d.items),
            })
            .collect(),
    }
}

fn timeliness(d: &DeclarationCounts) -> Timeliness {
    Timeliness {
        declarations: d.declarations,
        before_arrival: d.before,
        after_arrival: d.after,
        unknown: d.unknown,
        share_before_arrival: ratio(d.before, d.before + d.after),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// 2026-03-02T09:30:00Z, a Monday of week 10.
    const MONDAY_W10: i64 = 1_772_443_800_000;

    fn day(s: &str) -> i64 {
        borderlink_model::datetime::parse(s).map(|secs| secs * 1000).unwrap_or_else(|| panic!("{s} is a date"))
    }

    #[test]
    fn iso_weeks_follow_the_thursday() {
        for (date, week) in [
            ("2026-03-02", "2026-W10"),
            ("2026-01-01", "2026-W01"),
            ("2024-12-30", "2025-W01"),
            ("2021-01-03", "2020-W53"),
            ("2021-01-04", "2021-W01"),
            ("1970-01-01", "1970-W01"),
            ("2026-12-31", "2026-W53"),
        ] {
            assert_eq!(IsoWeek::of_ms(day(date)).to_string(), week, "{date}");
        }
        for w in [IsoWeek::of_ms(MONDAY_W10), IsoWeek::of_ms(day("2020-12-31")), IsoWeek::of_ms(day("2025-01-01"))] {
            assert_eq!(IsoWeek::of_day(w.monday()), w);
            assert_eq!(weekday(w.monday()), 0);
        }
        let last: Vec<String> = IsoWeek::last(3, day("2021-01-12")).iter().map(ToString::to_string).collect();
        assert_eq!(last, ["2020-W53", "2021-W01", "2021-W02"]);
    }

    fn row(member: &str, at_ms: i64, refused: Option<&str>, errors: &[&str], warnings: &[&str]) -> SubmissionRow {
        SubmissionRow {
            member: member.into(),
            record_type: "declaration".into(),
            at_ms,
            refused: refused.map(str::to_owned),
            read: true,
            errors: errors.iter().map(|s| (*s).to_owned()).collect(),
            warnings: warnings.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn filter(weeks: u32) -> Filter {
        Filter { org: None, record_type: None, weeks: IsoWeek::last(weeks, MONDAY_W10) }
    }

    #[test]
    fn failures_are_counted_by_rule_organisation_and_week() {
        let mut s = Submissions::default();
        s.add(&row("trader", MONDAY_W10, None, &[], &["quality.completeness"]));
        s.add(&row("trader", MONDAY_W10, Some("invalid_record"), &["format.date", "codelist.country"], &[]));
        s.add(&row("trader", MONDAY_W10 - 7 * DAY_MS, Some("invalid_record"), &["format.date"], &[]));
        s.add(&row("customs", MONDAY_W10, Some("policy_denied"), &[], &[]));
        // Another week, outside a one-week period; a type outside the dataset is not counted.
        s.add(&row("trader", MONDAY_W10 - 70 * DAY_MS, Some("invalid_record"), &["format.date"], &[]));
        s.add(&SubmissionRow { record_type: "document".into(), ..row("trader", MONDAY_W10, None, &[], &[]) });
        let all = report(&s, &Committed::default(), &filter(2));
        let t = &all.total.submissions;
        assert_eq!((t.submitted, t.committed, t.refused, t.validated), (4, 1, 3, 4));
        assert_eq!(t.failure_rate, Some(0.75));
        assert_eq!((t.rules[0].rule.as_str(), t.rules[0].errors, t.rules[0].error_rate), ("format.date", 2, Some(0.5)));
        assert_eq!(t.refusals[0].code, "invalid_record");
        assert_eq!(t.refusals[0].count, 2);
        assert_eq!(all.groups.len(), 2);
        assert_eq!(all.trend.iter().map(|w| w.submitted).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(all.weeks, ["2026-W09", "2026-W10"]);
        let trader = Filter { org: Some("trader".into()), ..filter(1) };
        let one = report(&s, &Committed::default(), &trader);
        assert_eq!(one.total.submissions.submitted, 2);
        assert_eq!(
            one.total.submissions.rules.iter().find(|r| r.rule == "quality.completeness").map(|r| r.warnings),
            Some(1)
        );
        let aeo = Filter { record_type: Some(RecordType::AeoAuthorization), ..filter(2) };
        let none = report(&s, &Committed::default(), &aeo);
        assert_eq!(none.total.submissions.submitted, 0);
        assert_eq!(none.total.submissions.failure_rate, None);
        assert!(none.total.completeness.is_none() && none.total.timeliness.is_none());
    }

    fn declaration(lrn: &str, hs: Option<&str>) -> serde_json::Value {
        let mut item = json!({"SequenceNumeric": 1, "Origin": [{"CountryCode": "CN"}]});
        if let Some(hs) = hs {
            item["Commodity"] = json!({"Classification": [{"ID": hs, "IdentificationTypeCode": "TSP"}]});
        }
        json!({"Declaration": {"FunctionCode": "9", "FunctionalReferenceID": lrn, "TypeCode": "IMA", "DeclarationOfficeID": "GB000040",
            "GoodsShipment": {"GovernmentAgencyGoodsItem": [item]}}})
    }

    fn movement(refs: &[&str], arrival: &str) -> serde_json::Value {
        json!({"Consignment": {"ext": {"movementReference": "M", "declarationRefs": refs, "plannedArrival": arrival}}})
    }

    #[test]
    fn completeness_and_timeliness_come_from_the_committed_declarations() {
        let mut c = Committed::default();
        let d = RecordType::Declaration;
        assert!(c.apply(d, "declaration:T:A", "trader", MONDAY_W10, &declaration("A", None)));
        assert!(c.apply(d, "declaration:T:B", "trader", MONDAY_W10, &declaration("B", Some("84713000"))));
        assert!(c.apply(d, "declaration:T:C", "trader", MONDAY_W10, &declaration("C", Some("84713000"))));
        let m = RecordType::TransportMovement;
        assert!(c.apply(m, "transport-movement:x:1", "carrier", MONDAY_W10, &movement(&["A"], "2026-03-09T06:00:00Z")));
        assert!(c.apply(m, "transport-movement:x:2", "carrier", MONDAY_W10, &movement(&["B"], "2026-03-01T06:00:00Z")));
        // A later movement naming A does not make it late: the earliest arrival counts.
        assert!(c.apply(m, "transport-movement:x:3", "carrier", MONDAY_W10, &movement(&["A"], "2026-03-20T06:00:00Z")));
        assert!(!c.apply(d, "declaration:T:Z", "trader", MONDAY_W10, &json!({"not": "a declaration"})));
        let r = report(&Submissions::default(), &c, &filter(1));
        let t = r.total.timeliness.expect("declarations are selected");
        assert_eq!((t.declarations, t.before_arrival, t.after_arrival, t.unknown), (3, 1, 1, 1));
        assert_eq!(t.share_before_arrival, Some(0.5));
        let k = r.total.completeness.expect("declarations are selected");
        assert_eq!((k.declarations, k.goods_items), (3, 3));
        let by = |name: &str| k.elements.iter().find(|e| e.element == name).expect("an element");
        assert_eq!((by("commodity code").present, by("origin").present, by("importer").present), (2, 3, 0));
        assert!(by("commodity code").required && !by("carrier").required);
        // A new version replaces the content; the declaration keeps its organisation and week.
        assert!(c.apply(
            d,
            "declaration:T:A",
            "customs",
            MONDAY_W10 + 14 * DAY_MS,
            &declaration("A", Some("85176200"))
        ));
        let r = report(&Submissions::default(), &c, &filter(1));
        let k = r.total.completeness.expect("declarations are selected");
        assert_eq!(k.elements.iter().find(|e| e.element == "commodity code").map(|e| e.present), Some(3));
        assert_eq!(r.groups.len(), 1);
        assert_eq!(r.groups[0].org, "trader");
        assert_eq!(r.trend[0].declarations, 3);
    }
}
