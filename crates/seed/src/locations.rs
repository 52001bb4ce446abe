//! Plausible positions for demo units: each district's seat (approximate, CGCS2000 degrees) and
//! a jitter about as wide as the district's built-up area, so a map of the demo shows units in
//! their district (not a survey: the points are synthetic).

use permit_core::domain::locations::CHONGQING;
use permit_core::rng::Rng;

/// (district code, longitude, latitude, jitter in degrees).
#[rustfmt::skip]
const SEATS: &[(&str, f64, f64, f64)] = &[
    ("500101", 108.38, 30.81, 0.06), ("500102", 107.39, 29.70, 0.06), ("500103", 106.57, 29.55, 0.015),
    ("500104", 106.48, 29.48, 0.02), ("500105", 106.57, 29.61, 0.03), ("500106", 106.45, 29.54, 0.03),
    ("500107", 106.51, 29.50, 0.03), ("500108", 106.56, 29.52, 0.03), ("500109", 106.40, 29.81, 0.04),
    ("500110", 106.65, 29.03, 0.06), ("500111", 105.72, 29.70, 0.05), ("500112", 106.63, 29.72, 0.04),
    ("500113", 106.54, 29.40, 0.05), ("500114", 108.77, 29.53, 0.05), ("500115", 107.08, 29.86, 0.05),
    ("500116", 106.26, 29.29, 0.06), ("500117", 106.28, 29.97, 0.06), ("500118", 105.93, 29.36, 0.05),
    ("500119", 107.10, 29.16, 0.05), ("500120", 106.23, 29.59, 0.04), ("500151", 106.06, 29.84, 0.05),
    ("500152", 105.84, 30.19, 0.05), ("500153", 105.59, 29.41, 0.04), ("500154", 108.39, 31.16, 0.06),
    ("500155", 107.80, 30.67, 0.05), ("500156", 107.76, 29.33, 0.05), ("500229", 108.66, 31.95, 0.05),
    ("500230", 107.73, 29.86, 0.05), ("500231", 107.35, 30.33, 0.05), ("500233", 108.04, 30.30, 0.05),
    ("500235", 108.70, 30.93, 0.05), ("500236", 109.46, 31.02, 0.05), ("500237", 109.88, 31.07, 0.05),
    ("500238", 109.63, 31.40, 0.05), ("500240", 108.11, 30.00, 0.05), ("500241", 108.99, 28.45, 0.05),
    ("500242", 108.77, 28.84, 0.05), ("500243", 108.17, 29.29, 0.05), ("500191", 106.65, 29.68, 0.04),
    ("500192", 106.33, 29.58, 0.03), ("500193", 106.93, 28.96, 0.03),
];

/// The seat of a district (the municipal government's for a district the table lacks).
pub fn seat(district: &str) -> (f64, f64, f64) {
    SEATS
        .iter()
        .find(|(code, ..)| *code == district)
        .map(|&(_, lon, lat, jitter)| (lon, lat, jitter))
        .unwrap_or((106.55, 29.56, 0.03))
}

/// A position near the district's seat, rounded to six decimals (about 0.1 m), inside the
/// extent the API accepts.
pub fn place(rng: &mut Rng, district: &str) -> (f64, f64) {
    let (lon, lat, jitter) = seat(district);
    let round = |v: f64| (v * 1e6).round() / 1e6;
    let lon = (lon + rng.uniform(-jitter, jitter))
        .clamp(CHONGQING.min_longitude, CHONGQING.max_longitude);
    let lat =
        (lat + rng.uniform(-jitter, jitter)).clamp(CHONGQING.min_latitude, CHONGQING.max_latitude);
    (round(lon), round(lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_district_has_a_seat_inside_chongqing() {
        for d in super::super::names::DISTRICTS {
            assert!(SEATS.iter().any(|(c, ..)| *c == d.code), "{}", d.code);
        }
        for &(code, lon, lat, _) in SEATS {
            assert!(CHONGQING.contains(lon, lat), "{code}");
        }
        let mut rng = Rng::new(1);
        let (lon, lat) = place(&mut rng, "500103");
        assert!((lon - 106.57).abs() <= 0.015 + 1e-9 && (lat - 29.55).abs() <= 0.015 + 1e-9);
    }
}
