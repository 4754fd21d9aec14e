//! Server-rendered SVG charts for every console page: written by the server, inline in the page
//! (no script, no style attribute: colours and fonts come from `console.css` by class, so pages
//! keep their content security policy). No JavaScript charting library, no Node.js build.
//!
//! Every mark carries its figure twice: for people in a `<title>` (shown on hover, read by screen
//! readers) and for machines in `data-*` attributes (the tests read them). Each chart is an
//! `img` with a title and a description; pages also give the figures as a table or text.
//!
//! The generic charts here ([`hbars`], [`columns`], [`curves`]) cover bars by category,
//! histograms and x/y lines; a page with a chart of its own shape builds it inside [`frame`].

use maud::{Markup, html};

/// The width of every chart, in SVG units (the chart scales to its container).
pub(crate) const WIDTH: f64 = 720.0;

/// A share as people read it: `37.5 %`.
pub(crate) fn pct(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.1} %", s * 100.0))
}

/// A figure for machines: four decimals, empty when unknown.
pub(crate) fn data(value: Option<f64>) -> String {
    value.map(|s| format!("{s:.4}")).unwrap_or_default()
}

/// An SVG coordinate, one decimal.
pub(crate) fn n(x: f64) -> String {
    format!("{x:.1}")
}

/// The frame of a chart: an `img` with its title and description.
pub(crate) fn frame(id: &str, height: f64, title: &str, description: &str, body: Markup) -> Markup {
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    html! {
        svg.chart id=(id) xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n(WIDTH)) " " (n(height)) }
            role="img" aria-labelledby={ (title_id) " " (desc_id) } {
            title id=(title_id) { (title) }
            desc id=(desc_id) { (description) }
            (body)
        }
    }
}

/// One bar of [`hbars`] or [`columns`].
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    /// What the bar counts (a lane, a bin, a criterion).
    pub(crate) label: String,
    /// Its value; bars are scaled to the largest.
    pub(crate) value: f64,
    /// The value as people read it, next to the bar and in its tooltip.
    pub(crate) shown: String,
    /// A CSS class for its colour (e.g. `lane-red`); empty for the default.
    pub(crate) class: String,
}

impl Bar {
    pub(crate) fn new(label: impl Into<String>, value: f64, shown: impl Into<String>) -> Self {
        Self { label: label.into(), value, shown: shown.into(), class: String::new() }
    }

    pub(crate) fn class(mut self, class: impl Into<String>) -> Self {
        self.class = class.into();
        self
    }
}

/// Horizontal bars, one row per category, scaled to the largest value.
pub(crate) fn hbars(id: &str, title: &str, description: &str, bars: &[Bar]) -> Markup {
    const ROW: f64 = 26.0;
    const X: f64 = 220.0;
    const LEN: f64 = 400.0;
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let len = |v: f64| if max > 0.0 { (v / max).clamp(0.0, 1.0) * LEN } else { 0.0 };
    let height = 12.0 + ROW * bars.len().max(1) as f64;
    frame(
        id,
        height,
        title,
        description,
        html! {
            @if bars.is_empty() {
                text.empty x=(n(WIDTH / 2.0)) y="24" text-anchor="middle" { "Nothing to show yet." }
            }
            @for (i, b) in bars.iter().enumerate() {
                @let y = 6.0 + ROW * i as f64;
                g data-label=(b.label) {
                    text.label x=(n(X - 8.0)) y=(n(y + ROW / 2.0)) text-anchor="end" dominant-baseline="middle" { (b.label) }
                    rect.track x=(n(X)) y=(n(y + 4.0)) width=(n(LEN)) height="18" {}
                    rect.bar.(b.class) x=(n(X)) y=(n(y + 4.0)) width=(n(len(b.value))) height="18"
                        data-label=(b.label) data-value=(data(Some(b.value))) {
                        title { (b.label) ": " (b.shown) }
                    }
                    text.value x=(n(X + LEN + 8.0)) y=(n(y + ROW / 2.0)) dominant-baseline="middle" { (b.shown) }
                }
            }
        },
    )
}

/// Vertical columns side by side (a histogram): one per bar, labelled below, scaled to the
/// largest. Labels are thinned out so that at most about twelve are written.
pub(crate) fn columns(id: &str, title: &str, description: &str, bars: &[Bar]) -> Markup {
    const HEIGHT: f64 = 240.0;
    const LEFT: f64 = 48.0;
    const RIGHT: f64 = WIDTH - 16.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 200.0;
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let slot = (RIGHT - LEFT) / bars.len().max(1) as f64;
    let h = |v: f64| if max > 0.0 { (v / max).clamp(0.0, 1.0) * (BOTTOM - TOP) } else { 0.0 };
    let every = bars.len().div_ceil(12).max(1);
    frame(
        id,
        HEIGHT,
        title,
        description,
        html! {
            line.grid x1=(n(LEFT)) x2=(n(RIGHT)) y1=(n(BOTTOM)) y2=(n(BOTTOM)) {}
            text.axis x=(n(LEFT - 6.0)) y=(n(TOP)) text-anchor="end" dominant-baseline="middle" { (fmt_axis(max)) }
            text.axis x=(n(LEFT - 6.0)) y=(n(BOTTOM)) text-anchor="end" dominant-baseline="middle" { "0" }
            @if bars.is_empty() {
                text.empty x=(n(WIDTH / 2.0)) y=(n(BOTTOM / 2.0)) text-anchor="middle" { "Nothing to show yet." }
            }
            @for (i, b) in bars.iter().enumerate() {
                @let x = LEFT + slot * i as f64;
                rect.bar.(b.class) x=(n(x + slot * 0.1)) y=(n(BOTTOM - h(b.value))) width=(n(slot * 0.8)) height=(n(h(b.value)))
                    data-label=(b.label) data-value=(data(Some(b.value))) {
                    title { (b.label) ": " (b.shown) }
                }
                @if i % every == 0 {
                    text.axis x=(n(x + slot / 2.0)) y=(n(BOTTOM + 18.0)) text-anchor="middle" { (b.label) }
                }
            }
        },
    )
}

/// One line of [`curves`]: its name (legend, class) and its points.
#[derive(Debug, Clone)]
pub(crate) struct Curve {
    pub(crate) name: String,
    /// A CSS class for its colour (`series-a`, `series-b`, `reference` for a dashed baseline).
    pub(crate) class: String,
    pub(crate) points: Vec<(f64, f64)>,
}

/// The axes of [`curves`]: their names and ranges.
#[derive(Debug, Clone)]
pub(crate) struct Axes {
    pub(crate) x_name: String,
    pub(crate) x: (f64, f64),
    pub(crate) y_name: String,
    pub(crate) y: (f64, f64),
}

/// Lines on numeric axes (ROC and lift curves, a rate over time), with a legend and five ticks
/// per axis. `x_label` writes an x tick (e.g. a time of day).
pub(crate) fn curves(
    id: &str,
    title: &str,
    description: &str,
    axes: &Axes,
    lines: &[Curve],
    x_label: &dyn Fn(f64) -> String,
) -> Markup {
    const HEIGHT: f64 = 300.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = WIDTH - 170.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 250.0;
    let span = |(a, b): (f64, f64)| if b > a { b - a } else { 1.0 };
    let x = |v: f64| LEFT + (RIGHT - LEFT) * ((v - axes.x.0) / span(axes.x)).clamp(0.0, 1.0);
    let y = |v: f64| BOTTOM - (BOTTOM - TOP) * ((v - axes.y.0) / span(axes.y)).clamp(0.0, 1.0);
    let ticks = |(a, b): (f64, f64)| (0..=4).map(move |i| a + span((a, b)) * f64::from(i) / 4.0);
    frame(
        id,
        HEIGHT,
        title,
        description,
        html! {
            @for t in ticks(axes.y) {
                line.grid x1=(n(LEFT)) x2=(n(RIGHT)) y1=(n(y(t))) y2=(n(y(t))) {}
                text.axis x=(n(LEFT - 8.0)) y=(n(y(t))) text-anchor="end" dominant-baseline="middle" { (fmt_axis(t)) }
            }
            @for t in ticks(axes.x) {
                text.axis x=(n(x(t))) y=(n(BOTTOM + 18.0)) text-anchor="middle" { (x_label(t)) }
            }
            text.axis x=(n((LEFT + RIGHT) / 2.0)) y=(n(BOTTOM + 40.0)) text-anchor="middle" { (axes.x_name) }
            text.axis x="12" y=(n((TOP + BOTTOM) / 2.0)) text-anchor="middle" transform={ "rotate(-90 12 " (n((TOP + BOTTOM) / 2.0)) ")" } { (axes.y_name) }
            @if lines.iter().all(|l| l.points.is_empty()) {
                text.empty x=(n((LEFT + RIGHT) / 2.0)) y=(n((TOP + BOTTOM) / 2.0)) text-anchor="middle" { "Nothing to show yet." }
            }
            @for (i, l) in lines.iter().enumerate() {
                g.series.(l.class) data-series=(l.name) {
                    @if l.points.len() > 1 {
                        polyline.line points=(l.points.iter().map(|(a, b)| format!("{},{}", n(x(*a)), n(y(*b)))).collect::<Vec<_>>().join(" ")) {}
                    }
                    @if l.points.len() <= 40 {
                        @for (a, b) in &l.points {
                            circle.point cx=(n(x(*a))) cy=(n(y(*b))) r="3" data-x=(data(Some(*a))) data-y=(data(Some(*b))) {
                                title { (l.name) ": " (x_label(*a)) ", " (fmt_axis(*b)) }
                            }
                        }
                    }
                    line.line x1=(n(RIGHT + 16.0)) x2=(n(RIGHT + 40.0)) y1=(n(TOP + 8.0 + 20.0 * i as f64)) y2=(n(TOP + 8.0 + 20.0 * i as f64)) {}
                    text.label x=(n(RIGHT + 46.0)) y=(n(TOP + 8.0 + 20.0 * i as f64)) dominant-baseline="middle" { (l.name) }
                }
            }
        },
    )
}

/// An axis figure: whole numbers plainly, small ones with two decimals.
pub(crate) fn fmt_axis(v: f64) -> String {
    if v.fract().abs() < 1e-9 && v.abs() < 1e12 { format!("{v:.0}") } else { format!("{v:.2}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg =
            hbars("c", "T", "D", &[Bar::new("<a>", 2.0, "2"), Bar::new("b", 4.0, "4").class("lane-red")]).into_string();
        assert!(svg.contains("&lt;a&gt;") && !svg.contains("<a>"), "{svg}");
        assert!(svg.contains(r#"class="bar lane-red" x="220.0" y="36.0" width="400.0""#), "{svg}");
        assert!(svg.contains(r#"width="200.0" height="18" data-label="&lt;a&gt;" data-value="2.0000""#), "{svg}");
        assert_eq!(svg.matches("<rect").count(), svg.matches("</rect>").count());
        assert!(!svg.contains("style="));
    }

    #[test]
    fn columns_thin_out_their_labels() {
        let bars: Vec<Bar> = (0..50).map(|i| Bar::new(format!("L{i}"), f64::from(i), i.to_string())).collect();
        let svg = columns("h", "T", "D", &bars).into_string();
        let labels = svg.matches(r#"text-anchor="middle">L"#).count();
        assert!((1..=13).contains(&labels), "{labels}");
        assert_eq!(svg.matches("data-label=").count(), 50);
    }

    #[test]
    fn curves_place_points_on_their_axes() {
        let axes = Axes { x_name: "x".into(), x: (0.0, 1.0), y_name: "y".into(), y: (0.0, 1.0) };
        let line = Curve { name: "roc".into(), class: "series-a".into(), points: vec![(0.0, 0.0), (1.0, 1.0)] };
        let svg = curves("r", "T", "D", &axes, &[line], &|v| format!("{v:.1}")).into_string();
        assert!(svg.contains(r#"<circle class="point" cx="64.0" cy="250.0""#), "{svg}");
        assert!(svg.contains(r#"cx="550.0" cy="16.0""#), "{svg}");
        assert!(svg.contains(r#"points="64.0,250.0 550.0,16.0""#), "{svg}");
    }
}
