//! The data-quality page's charts: SVG written on the server, inline in the page (no script, no
//! style attribute: colours and fonts come from `console.css` by class, so the page keeps its
//! content security policy).
//!
//! Every mark carries its figure twice: for people in a `<title>` (shown on hover, read by screen
//! readers) and for machines in `data-*` attributes (the tests read them). Each chart is an
//! `img` with a title and a description; the page also gives the figures as tables.

use maud::{Markup, html};

use super::quality::{ElementFigures, RuleFigures, Timeliness, WeekFigures};
pub(super) use crate::console::charts::pct;
use crate::console::charts::{WIDTH, data, frame, n};

/// Where the bars start: the labels are right-aligned before it.
const BARS_X: f64 = 280.0;
/// The length of a full (100 %) bar.
const BARS_LEN: f64 = 360.0;

fn bar_len(share: Option<f64>) -> f64 {
    share.unwrap_or(0.0).clamp(0.0, 1.0) * BARS_LEN
}

/// Validation failures by rule: per rule, the share of validated submissions it reported as an
/// error, and as a warning.
pub(super) fn rules(rules: &[RuleFigures], validated: u64) -> Markup {
    const ROW: f64 = 32.0;
    let height = 12.0 + ROW * rules.len().max(1) as f64;
    let description = format!(
        "For each validation rule, the share of the {validated} submissions validated here that it reported as an \
         error (upper bar) and as a warning (lower bar)."
    );
    frame(
        "chart-rules",
        height,
        "Validation failures by rule",
        &description,
        html! {
            @if rules.is_empty() {
                text.empty x=(n(WIDTH / 2.0)) y="28" text-anchor="middle" { "No rule reported anything in this period." }
            }
            @for (i, r) in rules.iter().enumerate() {
                @let y = 6.0 + ROW * i as f64;
                g.rule data-rule=(r.rule) {
                    text.label x=(n(BARS_X - 8.0)) y=(n(y + ROW / 2.0)) text-anchor="end" dominant-baseline="middle" { (r.rule) }
                    rect.track x=(n(BARS_X)) y=(n(y + 2.0)) width=(n(BARS_LEN)) height="26" {}
                    rect.bar.error x=(n(BARS_X)) y=(n(y + 3.0)) width=(n(bar_len(r.error_rate))) height="12"
                        data-rule=(r.rule) data-severity="error" data-count=(r.errors) data-share=(data(r.error_rate)) {
                        title { (r.rule) ": an error in " (r.errors) " of " (validated) " submissions (" (pct(r.error_rate)) ")" }
                    }
                    rect.bar.warning x=(n(BARS_X)) y=(n(y + 15.0)) width=(n(bar_len(r.warning_rate))) height="12"
                        data-rule=(r.rule) data-severity="warning" data-count=(r.warnings) data-share=(data(r.warning_rate)) {
                        title { (r.rule) ": a warning in " (r.warnings) " of " (validated) " submissions (" (pct(r.warning_rate)) ")" }
                    }
                    text.value x=(n(BARS_X + BARS_LEN + 8.0)) y=(n(y + 9.0)) dominant-baseline="middle" { (r.errors) " · " (pct(r.error_rate)) }
                    text.value.minor x=(n(BARS_X + BARS_LEN + 8.0)) y=(n(y + 21.0)) dominant-baseline="middle" { (r.warnings) " · " (pct(r.warning_rate)) }
                }
            }
        },
    )
}

/// Completeness per element: the share of goods items that carry it.
pub(super) fn elements(elements: &[ElementFigures], items: u64) -> Markup {
    const ROW: f64 = 24.0;
    let height = 12.0 + ROW * elements.len() as f64;
    let description = format!(
        "For each element risk analysis reads, the share of the {items} goods items of the committed declarations that \
         carry it. Elements the risk model and the criteria need are drawn darker."
    );
    frame(
        "chart-elements",
        height,
        "Completeness of the elements risk analysis reads",
        &description,
        html! {
            @for (i, e) in elements.iter().enumerate() {
                @let y = 6.0 + ROW * i as f64;
                g.element data-element=(e.element) {
                    text.label x=(n(BARS_X - 8.0)) y=(n(y + ROW / 2.0)) text-anchor="end" dominant-baseline="middle" {
                        (e.element) @if e.required { " *" }
                    }
                    rect.track x=(n(BARS_X)) y=(n(y + 3.0)) width=(n(BARS_LEN)) height="18" {}
                    rect.bar.completeness.required[e.required] x=(n(BARS_X)) y=(n(y + 3.0)) width=(n(bar_len(e.share))) height="18"
                        data-element=(e.element) data-present=(e.present) data-share=(data(e.share)) {
                        title { (e.element) ": in " (e.present) " of " (items) " goods items (" (pct(e.share)) "); read from " (e.source) }
                    }
                    text.value x=(n(BARS_X + BARS_LEN + 8.0)) y=(n(y + ROW / 2.0)) dominant-baseline="middle" { (pct(e.share)) }
                }
            }
        },
    )
}

/// Timeliness: one bar of the declarations, split into committed before the planned arrival,
/// after it, and unknown.
pub(super) fn timeliness(t: &Timeliness) -> Markup {
    let total = t.declarations.max(1) as f64;
    let parts = [
        ("before", "before the planned arrival", t.before_arrival),
        ("after", "at or after the planned arrival", t.after_arrival),
        ("unknown", "without a known arrival", t.unknown),
    ];
    let mut x = 0.0;
    let segments: Vec<(&str, &str, u64, f64, f64)> = parts
        .iter()
        .map(|(class, words, count)| {
            let w = (WIDTH - 20.0) * *count as f64 / total;
            let s = (*class, *words, *count, 10.0 + x, w);
            x += w;
            s
        })
        .collect();
    let description = format!(
        "Of {} committed declarations: {} before the planned arrival of their goods, {} at or after it, {} without a \
         known arrival.",
        t.declarations, t.before_arrival, t.after_arrival, t.unknown
    );
    frame(
        "chart-timeliness",
        48.0,
        "Timeliness of the committed declarations",
        &description,
        html! {
            rect.track x="10" y="8" width=(n(WIDTH - 20.0)) height="32" {}
            @for (class, words, count, at, w) in &segments {
                rect.segment.(class) x=(n(*at)) y="8" width=(n(*w)) height="32" data-timeliness=(class) data-count=(count) {
                    title { (count) " of " (t.declarations) " declarations committed " (words) }
                }
            }
        },
    )
}

/// The three lines of the weekly trend, in the order of their legend.
pub(super) const SERIES: [(&str, &str); 3] = [
    ("failure-rate", "submissions refused"),
    ("completeness", "completeness of the committed declarations"),
    ("before-arrival", "declarations committed before the planned arrival (of those with one)"),
];

fn series_value(w: &WeekFigures, series: &str) -> Option<f64> {
    match series {
        "failure-rate" => w.failure_rate,
        "completeness" => w.completeness,
        _ => w.share_before_arrival,
    }
}

/// The weekly trend: one line per figure of [`SERIES`], 0–100 %, a point per week with data.
pub(super) fn trend(weeks: &[WeekFigures]) -> Markup {
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 56.0;
    // Room for half a week label right of the last point.
    const RIGHT: f64 = WIDTH - 40.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 216.0;
    let x = |i: usize| {
        if weeks.len() <= 1 {
            (LEFT + RIGHT) / 2.0
        } else {
            LEFT + (RIGHT - LEFT) * i as f64 / (weeks.len() - 1) as f64
        }
    };
    let y = |share: f64| BOTTOM - (BOTTOM - TOP) * share.clamp(0.0, 1.0);
    // At most 7 week labels (they are about 60 units wide), counted back from the current week,
    // which always has one.
    let every = weeks.len().div_ceil(7).max(1);
    frame(
        "chart-trend",
        HEIGHT,
        "Trends by week",
        "Week by week: the share of submissions refused, the completeness of the declarations committed, and the share \
         of them committed before the planned arrival of their goods.",
        html! {
            @for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                line.grid x1=(n(LEFT)) x2=(n(RIGHT)) y1=(n(y(tick))) y2=(n(y(tick))) {}
                text.axis x=(n(LEFT - 8.0)) y=(n(y(tick))) text-anchor="end" dominant-baseline="middle" { (format!("{:.0} %", tick * 100.0)) }
            }
            @for (i, w) in weeks.iter().enumerate() {
                @if (weeks.len() - 1 - i).is_multiple_of(every) {
                    text.axis x=(n(x(i))) y=(n(BOTTOM + 20.0)) text-anchor="middle" { (w.week) }
                }
            }
            @for (series, words) in SERIES {
                g.series.(series) data-series=(series) {
                    @for run in runs(weeks, series) {
                        @if run.len() > 1 {
                            polyline.line points=(run.iter().map(|(i, v)| format!("{},{}", n(x(*i)), n(y(*v)))).collect::<Vec<_>>().join(" ")) {}
                        }
                    }
                    @for (i, w) in weeks.iter().enumerate() {
                        @if let Some(v) = series_value(w, series) {
                            circle.point cx=(n(x(i))) cy=(n(y(v))) r="4" data-series=(series) data-week=(w.week) data-value=(data(Some(v))) {
                                title { (w.week) ": " (pct(Some(v))) " " (words) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The runs of consecutive weeks that have a value for `series` (a line is not drawn across a
/// week without one).
fn runs(weeks: &[WeekFigures], series: &str) -> Vec<Vec<(usize, f64)>> {
    let mut out: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, w) in weeks.iter().enumerate() {
        match series_value(w, series) {
            Some(v) => current.push((i, v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(name: &str, failure_rate: Option<f64>) -> WeekFigures {
        WeekFigures {
            week: name.into(),
            submitted: 4,
            refused: 1,
            failure_rate,
            declarations: 0,
            completeness: None,
            before_arrival: 0,
            after_arrival: 0,
            unknown: 0,
            share_before_arrival: None,
        }
    }

    #[test]
    fn a_line_breaks_at_a_week_without_a_value() {
        let weeks = [week("W1", Some(0.1)), week("W2", Some(0.2)), week("W3", None), week("W4", Some(0.4))];
        let r = runs(&weeks, "failure-rate");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].len(), 2);
        assert_eq!(r[1], vec![(3, 0.4)]);
        assert!(runs(&weeks, "completeness").is_empty());
    }

    #[test]
    fn names_are_escaped_and_every_mark_carries_its_figure() {
        let rule = RuleFigures {
            rule: "<script>x</script>".into(),
            errors: 1,
            warnings: 0,
            error_rate: Some(0.25),
            warning_rate: Some(0.0),
        };
        let svg = rules(&[rule], 4).into_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert!(svg.contains(r#"data-severity="error" data-count="1" data-share="0.2500""#), "{svg}");
        assert!(svg.contains("an error in 1 of 4 submissions (25.0 %)"), "{svg}");
        // SVG elements are closed explicitly: an unclosed `<rect>` would swallow what follows.
        assert_eq!(svg.matches("<rect").count(), svg.matches("</rect>").count());
        let t = trend(&[week("2026-W10", Some(0.5))]).into_string();
        assert!(t.contains(r#"data-series="failure-rate" data-week="2026-W10" data-value="0.5000""#), "{t}");
        assert!(!t.contains("style="), "no inline style: the page's policy forbids it");
    }

    #[test]
    fn week_labels_never_crowd_and_the_current_week_has_one() {
        for n in [1, 7, 12, 52, 104] {
            let weeks: Vec<WeekFigures> = (0..n).map(|i| week(&format!("W{i:03}"), None)).collect();
            let svg = trend(&weeks).into_string();
            let labels = svg.matches(r#"text-anchor="middle">W"#).count();
            assert!((1..=7).contains(&labels), "{n} weeks: {labels} labels");
            assert!(
                svg.contains(&format!(r#"text-anchor="middle">W{:03}<"#, n - 1)),
                "{n} weeks: the last is labelled"
            );
        }
    }
}
