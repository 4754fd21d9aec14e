//! The trace page's map: the route drawn on an SVG map (no tiles, no script) — the declared
//! corridor with its buffer, the authorised places (circles and polygons), the positions joined
//! in time order, the stops (a position held longer than the rule set's stop radius allows) and
//! the alerts where they happened.
//!
//! The projection is equirectangular around the middle latitude of what is drawn (east-west
//! distances scaled by its cosine), fitted to the frame with a margin: exact enough for the few
//! hundred kilometres of a trip, and the same scale on both axes.

use borderlink_iot::geo::{Area, Point};
use borderlink_iot::rules::RuleSet;
use maud::{Markup, html};

use crate::console::charts::{WIDTH, frame, n};

const HEIGHT: f64 = 420.0;
const MARGIN: f64 = 24.0;
const EARTH_M_PER_DEG: f64 = 111_320.0;

/// What the map draws.
pub(crate) struct MapInput<'a> {
    pub(crate) rules: Option<&'a RuleSet>,
    /// Positions, oldest first, with their time (ms).
    pub(crate) positions: &'a [(i64, Point)],
    /// Alerts with a position: (rule, detail, where).
    pub(crate) alerts: Vec<(String, String, Point)>,
}

struct Projection {
    min_lat: f64,
    min_lon: f64,
    scale: f64,
    cos: f64,
    off_x: f64,
    off_y: f64,
}

impl Projection {
    fn fit(points: &[Point]) -> Option<Self> {
        let first = points.first()?;
        let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) = (first.lat, first.lat, first.lon, first.lon);
        for p in points {
            min_lat = min_lat.min(p.lat);
            max_lat = max_lat.max(p.lat);
            min_lon = min_lon.min(p.lon);
            max_lon = max_lon.max(p.lon);
        }
        let cos = ((min_lat + max_lat) / 2.0).to_radians().cos().max(0.05);
        // At least about 2 km across, so that one position is not a division by zero.
        let w = ((max_lon - min_lon) * cos).max(0.02);
        let h = (max_lat - min_lat).max(0.02);
        let scale = ((WIDTH - 2.0 * MARGIN) / w).min((HEIGHT - 2.0 * MARGIN) / h);
        let off_x = (WIDTH - w * scale) / 2.0 - ((w - (max_lon - min_lon) * cos) / 2.0) * scale;
        let off_y = (HEIGHT - h * scale) / 2.0 - ((h - (max_lat - min_lat)) / 2.0) * scale;
        Some(Self { min_lat, min_lon, scale, cos, off_x, off_y })
    }

    fn xy(&self, p: &Point) -> (f64, f64) {
        let x = self.off_x + (p.lon - self.min_lon) * self.cos * self.scale;
        let y = HEIGHT - (self.off_y + (p.lat - self.min_lat) * self.scale);
        (x, y)
    }

    /// A length in metres on the map.
    fn metres(&self, m: f64) -> f64 {
        m / EARTH_M_PER_DEG * self.scale
    }
}

fn polyline(proj: &Projection, points: &[Point]) -> String {
    points
        .iter()
        .map(|p| {
            let (x, y) = proj.xy(p);
            format!("{},{}", n(x), n(y))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the positions stayed within `radius_m` for longer than `min_minutes`: (start, end, where).
pub(crate) fn stops(positions: &[(i64, Point)], radius_m: f64, min_minutes: i64) -> Vec<(i64, i64, Point)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < positions.len() {
        let (t0, p0) = positions[i];
        let mut j = i;
        while j + 1 < positions.len() && positions[j + 1].1.distance_m(&p0) <= radius_m {
            j += 1;
        }
        let t1 = positions[j].0;
        if j > i && (t1 - t0) / 60_000 >= min_minutes {
            out.push((t0, t1, p0));
        }
        i = j + 1;
    }
    out
}

/// The map of a trace, or a note when there is nothing to draw.
pub(crate) fn map(input: &MapInput<'_>) -> Markup {
    let mut all: Vec<Point> = input.positions.iter().map(|(_, p)| *p).collect();
    let places: Vec<(&str, &Area)> = input
        .rules
        .map(|r| r.authorised_places.iter().map(|p| (p.name.as_str(), &p.area)).collect())
        .unwrap_or_default();
    for (_, area) in &places {
        match area {
            Area::Circle { centre, .. } => all.push(*centre),
            Area::Polygon { ring } => all.extend(ring.iter().copied()),
        }
    }
    let corridor = input.rules.and_then(|r| r.corridor.as_ref());
    if let Some(c) = corridor {
        all.extend(c.route.iter().copied());
    }
    all.extend(input.alerts.iter().map(|(_, _, p)| *p));
    let Some(proj) = Projection::fit(&all) else {
        return html! { p.empty-state #trace-map-empty { "No position reported yet: nothing to draw on the map." } };
    };
    let radius = input.rules.map_or(150.0, |r| r.stop_radius_m);
    let stop_minutes = input.rules.and_then(|r| r.max_stop_minutes).map_or(30, i64::from);
    let stopped = stops(input.positions, radius, stop_minutes);
    let route: Vec<Point> = input.positions.iter().map(|(_, p)| *p).collect();
    let description = format!(
        "{} positions, {} stops of {stop_minutes} min or more, {} authorised places{}, {} alerts",
        route.len(),
        stopped.len(),
        places.len(),
        if corridor.is_some() { ", the declared corridor" } else { "" },
        input.alerts.len()
    );
    frame(
        "trace-map",
        HEIGHT,
        "Route",
        &description,
        html! {
            rect.map-ground x="0" y="0" width=(n(WIDTH)) height=(n(HEIGHT)) {}
            @if let Some(c) = corridor {
                polyline.map-corridor points=(polyline(&proj, &c.route))
                    stroke-width=(n((2.0 * proj.metres(c.buffer_m)).max(4.0))) {
                    title { "Declared corridor (" (format!("{:.1}", c.buffer_m / 1000.0)) " km either side)" }
                }
                polyline.map-corridor-line points=(polyline(&proj, &c.route)) {}
            }
            @for (name, area) in &places {
                @match area {
                    Area::Circle { centre, radius_m } => {
                        @let (x, y) = proj.xy(centre);
                        circle.map-place cx=(n(x)) cy=(n(y)) r=(n(proj.metres(*radius_m).max(3.0))) {
                            title { "Authorised place: " (name) }
                        }
                    }
                    Area::Polygon { ring } => {
                        polygon.map-place points=(polyline(&proj, ring)) { title { "Authorised place: " (name) } }
                    }
                }
            }
            @if route.len() > 1 {
                polyline.map-route points=(polyline(&proj, &route)) { title { "Route as reported" } }
            }
            @for (i, (t, p)) in input.positions.iter().enumerate() {
                @let (x, y) = proj.xy(p);
                circle.map-position cx=(n(x)) cy=(n(y)) r=(if i + 1 == input.positions.len() { "5" } else { "2.5" })
                    data-lat=(format!("{:.5}", p.lat)) data-lon=(format!("{:.5}", p.lon)) {
                    title { (borderlink_iot::trace::instant(*t)) ": " (format!("{:.4}, {:.4}", p.lat, p.lon)) }
                }
            }
            @for (t0, t1, p) in &stopped {
                @let (x, y) = proj.xy(p);
                rect.map-stop x=(n(x - 5.0)) y=(n(y - 5.0)) width="10" height="10" {
                    title { "Stop of " ((t1 - t0) / 60_000) " min from " (borderlink_iot::trace::instant(*t0)) }
                }
            }
            @for (rule, detail, p) in &input.alerts {
                @let (x, y) = proj.xy(p);
                path.map-alert d=(format!("M{} {} l7 12 h-14 z", n(x), n(y - 8.0))) data-rule=(rule) {
                    title { "Alert " (rule) ": " (detail) }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_are_where_positions_stay_long_enough() {
        let p = Point { lat: 51.9, lon: 4.1 };
        let q = Point { lat: 52.0, lon: 4.4 };
        let positions = [(0, p), (10 * 60_000, p), (40 * 60_000, p), (45 * 60_000, q), (50 * 60_000, q)];
        assert_eq!(stops(&positions, 150.0, 30), vec![(0, 40 * 60_000, p)]);
        assert!(stops(&positions, 150.0, 60).is_empty());
    }

    #[test]
    fn the_map_draws_every_position_and_fits_the_frame() {
        let positions: Vec<(i64, Point)> =
            (0..5).map(|i| (i * 60_000, Point { lat: 51.9 + f64::from(i as i32) * 0.05, lon: 4.1 })).collect();
        let html = map(&MapInput { rules: None, positions: &positions, alerts: vec![] }).into_string();
        assert_eq!(html.matches("class=\"map-position\"").count(), 5, "{html}");
        for cap in html.split("cx=\"").skip(1) {
            let x: f64 = cap.split('"').next().unwrap().parse().unwrap();
            assert!((0.0..=WIDTH).contains(&x), "{x}");
        }
        let none = map(&MapInput { rules: None, positions: &[], alerts: vec![] }).into_string();
        assert!(none.contains("No position"), "{none}");
    }
}
