//! Places on the earth as the rules need them: WGS 84 points, authorised areas (a circle around
//! a place or a polygon), and the declared corridor of a transit (a route buffered by a
//! distance). Distances are great-circle (haversine on a sphere of the earth's mean radius):
//! metres of error over a few hundred kilometres, far below a GNSS fix's own.

use serde::{Deserialize, Serialize};

/// The earth's mean radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS 84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

/// A position that is not on the earth.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{what} is not a WGS 84 position: latitude must be within ±90 and longitude within ±180 degrees (got {lat}, {lon})"
)]
pub struct OffEarth {
    pub what: String,
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// A checked point: finite, latitude within ±90°, longitude within ±180°.
    pub fn new(lat: f64, lon: f64) -> Result<Self, OffEarth> {
        let p = Self { lat, lon };
        p.check("the point")?;
        Ok(p)
    }

    /// Checks a point read from data; `what` names it in the error.
    pub fn check(&self, what: &str) -> Result<(), OffEarth> {
        if self.lat.is_finite() && self.lon.is_finite() && self.lat.abs() <= 90.0 && self.lon.abs() <= 180.0 {
            Ok(())
        } else {
            Err(OffEarth { what: what.to_owned(), lat: self.lat, lon: self.lon })
        }
    }

    /// The great-circle distance to `other`, in metres.
    pub fn distance_m(&self, other: &Point) -> f64 {
        let (f1, f2) = (self.lat.to_radians(), other.lat.to_radians());
        let df = f2 - f1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (df / 2.0).sin().powi(2) + f1.cos() * f2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }

    /// Metres east and north of `origin`, on a plane tangent there (good within tens of
    /// kilometres, which is all a segment test needs).
    fn local_m(&self, origin: &Point) -> (f64, f64) {
        let mut dl = self.lon - origin.lon;
        if dl > 180.0 {
            dl -= 360.0;
        } else if dl < -180.0 {
            dl += 360.0;
        }
        let east = dl.to_radians() * EARTH_RADIUS_M * origin.lat.to_radians().cos();
        let north = (self.lat - origin.lat).to_radians() * EARTH_RADIUS_M;
        (east, north)
    }
}

/// An area: a circle around a point, or a polygon (a ring of points; closing it is optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Area {
    Circle { centre: Point, radius_m: f64 },
    Polygon { ring: Vec<Point> },
}

/// An area that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BadArea {
    #[error(transparent)]
    OffEarth(#[from] OffEarth),
    #[error("{0}: a circle's radius must be a positive number of metres")]
    Radius(String),
    #[error("{0}: a polygon needs at least three distinct points")]
    Ring(String),
}

impl Area {
    /// Checks the area read from data; `what` names it in the error.
    pub fn check(&self, what: &str) -> Result<(), BadArea> {
        match self {
            Area::Circle { centre, radius_m } => {
                centre.check(&format!("{what}: the centre"))?;
                if !(radius_m.is_finite() && *radius_m > 0.0) {
                    return Err(BadArea::Radius(what.to_owned()));
                }
            }
            Area::Polygon { ring } => {
                for (i, p) in ring.iter().enumerate() {
                    p.check(&format!("{what}: point {i}"))?;
                }
                let mut distinct: Vec<&Point> = Vec::new();
                for p in ring {
                    if !distinct.contains(&p) {
                        distinct.push(p);
                    }
                }
                if distinct.len() < 3 {
                    return Err(BadArea::Ring(what.to_owned()));
                }
            }
        }
        Ok(())
    }

    /// Whether `p` lies in the area (on a polygon's edge counts as in).
    pub fn contains(&self, p: &Point) -> bool {
        match self {
            Area::Circle { centre, radius_m } => centre.distance_m(p) <= *radius_m,
            Area::Polygon { ring } => {
                // Ray casting on the plane tangent at `p`: the ray runs east from the origin.
                let pts: Vec<(f64, f64)> = ring.iter().map(|q| q.local_m(p)).collect();
                let mut inside = false;
                for i in 0..pts.len() {
                    let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
                    if segment_distance((0.0, 0.0), a, b) < 1e-6 {
                        return true;
                    }
                    if (a.1 > 0.0) != (b.1 > 0.0) {
                        let x = a.0 + (0.0 - a.1) * (b.0 - a.0) / (b.1 - a.1);
                        if x > 0.0 {
                            inside = !inside;
                        }
                    }
                }
                inside
            }
        }
    }
}

/// The distance on a plane from `p` to the segment `a`–`b`.
fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 { 0.0 } else { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0) };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// The corridor a transit declared: a route (its waypoints in order) with the distance from it
/// that still counts as on the route, and areas that count as on it too (e.g. a port).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corridor {
    pub route: Vec<Point>,
    pub buffer_m: f64,
    #[serde(default)]
    pub areas: Vec<Area>,
}

impl Corridor {
    /// Checks the corridor read from data.
    pub fn check(&self) -> Result<(), BadArea> {
        for (i, p) in self.route.iter().enumerate() {
            p.check(&format!("corridor: route point {i}"))?;
        }
        if !(self.buffer_m.is_finite() && self.buffer_m > 0.0) {
            return Err(BadArea::Radius("corridor: buffer_m".into()));
        }
        if self.route.is_empty() && self.areas.is_empty() {
            return Err(BadArea::Ring("corridor: neither a route nor an area".into()));
        }
        for (i, a) in self.areas.iter().enumerate() {
            a.check(&format!("corridor: area {i}"))?;
        }
        Ok(())
    }

    /// How far `p` is from the route, in metres (0 inside one of the areas; infinite without a
    /// route and outside every area).
    pub fn distance_m(&self, p: &Point) -> f64 {
        if self.areas.iter().any(|a| a.contains(p)) {
            return 0.0;
        }
        match self.route.as_slice() {
            [] => f64::INFINITY,
            [only] => only.distance_m(p),
            route => route
                .windows(2)
                .map(|w| {
                    // A segment longer than the tangent plane is good for is split by its great-circle
                    // ends: the nearer end bounds the distance from above.
                    if w[0].distance_m(&w[1]) > 200_000.0 {
                        w[0].distance_m(p).min(w[1].distance_m(p)).min(long_segment_distance(p, &w[0], &w[1]))
                    } else {
                        segment_distance((0.0, 0.0), w[0].local_m(p), w[1].local_m(p))
                    }
                })
                .fold(f64::INFINITY, f64::min),
        }
    }

    /// Whether `p` is within the corridor.
    pub fn contains(&self, p: &Point) -> bool {
        self.distance_m(p) <= self.buffer_m
    }
}

/// The distance from `p` to a long segment, by bisecting it along its great circle until the
/// pieces are short enough for the tangent plane.
fn long_segment_distance(p: &Point, a: &Point, b: &Point) -> f64 {
    let pieces = (a.distance_m(b) / 100_000.0).ceil().max(1.0) as usize;
    let mut best = f64::INFINITY;
    let mut prev = *a;
    for i in 1..=pieces {
        let next = interpolate(a, b, i as f64 / pieces as f64);
        best = best.min(segment_distance((0.0, 0.0), prev.local_m(p), next.local_m(p)));
        prev = next;
    }
    best
}

/// The point a fraction `t` of the way from `a` to `b` along their great circle.
fn interpolate(a: &Point, b: &Point, t: f64) -> Point {
    let d = a.distance_m(b) / EARTH_RADIUS_M;
    if d < 1e-12 {
        return *a;
    }
    let (f1, l1, f2, l2) = (a.lat.to_radians(), a.lon.to_radians(), b.lat.to_radians(), b.lon.to_radians());
    let (wa, wb) = (((1.0 - t) * d).sin() / d.sin(), (t * d).sin() / d.sin());
    let x = wa * f1.cos() * l1.cos() + wb * f2.cos() * l2.cos();
    let y = wa * f1.cos() * l1.sin() + wb * f2.cos() * l2.sin();
    let z = wa * f1.sin() + wb * f2.sin();
    Point { lat: z.atan2((x * x + y * y).sqrt()).to_degrees(), lon: y.atan2(x).to_degrees() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> Point {
        Point::new(lat, lon).unwrap()
    }

    #[test]
    fn distances_match_known_figures() {
        // Paris (48.8566, 2.3522) to London (51.5074, -0.1278): about 343.5 km.
        let d = p(48.8566, 2.3522).distance_m(&p(51.5074, -0.1278));
        assert!((d - 343_500.0).abs() < 1_500.0, "{d}");
        // One degree of latitude: about 111.2 km.
        let d = p(0.0, 10.0).distance_m(&p(1.0, 10.0));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    #[test]
    fn positions_off_the_earth_are_refused() {
        assert!(Point::new(91.0, 0.0).is_err());
        assert!(Point::new(0.0, -180.5).is_err());
        assert!(Point::new(f64::NAN, 0.0).is_err());
        let e = Point::new(0.0, 200.0).unwrap_err().to_string();
        assert!(e.contains("200"), "{e}");
    }

    #[test]
    fn polygons_and_circles_contain_what_they_should() {
        // A square of about 2.2 km around the Port of Rotterdam's Maasvlakte entrance.
        let square = Area::Polygon { ring: vec![p(51.95, 4.00), p(51.95, 4.03), p(51.97, 4.03), p(51.97, 4.00)] };
        square.check("square").unwrap();
        assert!(square.contains(&p(51.96, 4.015)));
        assert!(!square.contains(&p(51.98, 4.015)));
        assert!(!square.contains(&p(51.96, 4.05)));
        assert!(square.contains(&p(51.95, 4.01)), "on the edge counts as in");
        let circle = Area::Circle { centre: p(51.96, 4.015), radius_m: 500.0 };
        assert!(circle.contains(&p(51.962, 4.015)));
        assert!(!circle.contains(&p(51.97, 4.015)));
        assert!(Area::Polygon { ring: vec![p(1.0, 1.0), p(1.0, 1.0), p(2.0, 2.0)] }.check("x").is_err());
        assert!(Area::Circle { centre: p(1.0, 1.0), radius_m: -3.0 }.check("x").is_err());
    }

    #[test]
    fn a_corridor_measures_the_distance_to_its_nearest_segment() {
        // Along the equator from 10°E to 11°E, 2 km either side.
        let c = Corridor { route: vec![p(0.0, 10.0), p(0.0, 11.0)], buffer_m: 2_000.0, areas: vec![] };
        c.check().unwrap();
        assert!(c.contains(&p(0.01, 10.5)), "about 1.1 km off");
        assert!(!c.contains(&p(0.03, 10.5)), "about 3.3 km off");
        let d = c.distance_m(&p(0.0, 11.1));
        assert!((d - 11_120.0).abs() < 50.0, "past the end: {d}");
        let with_port = Corridor { areas: vec![Area::Circle { centre: p(0.5, 10.5), radius_m: 1_000.0 }], ..c };
        assert_eq!(with_port.distance_m(&p(0.5, 10.5)), 0.0);
    }

    #[test]
    fn a_long_segment_follows_the_great_circle() {
        // Lisbon to Warsaw in one segment (about 2,760 km): its midpoint lies on it.
        let (a, b) = (p(38.72, -9.14), p(52.23, 21.01));
        let mid = interpolate(&a, &b, 0.5);
        let c = Corridor { route: vec![a, b], buffer_m: 1_000.0, areas: vec![] };
        assert!(c.distance_m(&mid) < 1_000.0, "{}", c.distance_m(&mid));
        assert!(!c.contains(&p(38.72, 21.01)));
    }
}
