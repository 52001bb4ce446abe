//! Where units are: longitude and latitude in degrees (CGCS2000, the national datum, which
//! agrees with WGS84 to within a metre, so GIS tools take them as EPSG:4326), checked to lie in
//! Chongqing's extent (roughly 105°17′–110°11′ E, 28°10′–32°13′ N), and bounding boxes for the
//! `units(filter: { within })` filter and the GeoJSON export.

use crate::error::{AppError, AppResult};

/// A longitude/latitude rectangle, edges included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_longitude: f64,
    pub min_latitude: f64,
    pub max_longitude: f64,
    pub max_latitude: f64,
}

/// Chongqing municipality's extent, a little generous at the edges (the administrative
/// boundary's extremes are 105.29–110.19 E and 28.16–32.20 N).
pub const CHONGQING: BoundingBox = BoundingBox {
    min_longitude: 105.28,
    min_latitude: 28.16,
    max_longitude: 110.20,
    max_latitude: 32.21,
};

impl BoundingBox {
    pub fn contains(&self, longitude: f64, latitude: f64) -> bool {
        (self.min_longitude..=self.max_longitude).contains(&longitude)
            && (self.min_latitude..=self.max_latitude).contains(&latitude)
    }

    /// A box a client sent (`field` is its input path): finite degrees, min ≤ max. Boxes across
    /// the antimeridian are not needed in Chongqing and are refused.
    pub fn parse(field: &str, b: BoundingBox) -> AppResult<BoundingBox> {
        let parts = [
            ("minLongitude", b.min_longitude, 180.0),
            ("maxLongitude", b.max_longitude, 180.0),
            ("minLatitude", b.min_latitude, 90.0),
            ("maxLatitude", b.max_latitude, 90.0),
        ];
        for (name, value, bound) in parts {
            if !value.is_finite() || value.abs() > bound {
                return Err(AppError::invalid(
                    format!("{field}.{name}"),
                    format!("degrees between -{bound} and {bound}"),
                ));
            }
        }
        if b.min_longitude > b.max_longitude {
            return Err(AppError::invalid(
                format!("{field}.minLongitude"),
                "must not exceed maxLongitude",
            ));
        }
        if b.min_latitude > b.max_latitude {
            return Err(AppError::invalid(
                format!("{field}.minLatitude"),
                "must not exceed maxLatitude",
            ));
        }
        Ok(b)
    }
}

/// A unit's position as sent: both or neither, and inside Chongqing. `prefix` is the input
/// path of the object holding them (`input`).
pub fn check_position(
    prefix: &str,
    longitude: Option<f64>,
    latitude: Option<f64>,
) -> AppResult<Option<(f64, f64)>> {
    let (lon, lat) = match (longitude, latitude) {
        (None, None) => return Ok(None),
        (Some(lon), Some(lat)) => (lon, lat),
        (Some(_), None) => {
            return Err(AppError::invalid(
                format!("{prefix}.latitude"),
                "longitude and latitude go together",
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::invalid(
                format!("{prefix}.longitude"),
                "longitude and latitude go together",
            ));
        }
    };
    let c = CHONGQING;
    if !(lon.is_finite() && (c.min_longitude..=c.max_longitude).contains(&lon)) {
        return Err(AppError::invalid(
            format!("{prefix}.longitude"),
            format!(
                "must lie in Chongqing: {}–{} degrees east (CGCS2000/WGS84; longitude first)",
                c.min_longitude, c.max_longitude
            ),
        ));
    }
    if !(lat.is_finite() && (c.min_latitude..=c.max_latitude).contains(&lat)) {
        return Err(AppError::invalid(
            format!("{prefix}.latitude"),
            format!(
                "must lie in Chongqing: {}–{} degrees north (CGCS2000/WGS84)",
                c.min_latitude, c.max_latitude
            ),
        ));
    }
    Ok(Some((lon, lat)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_lie_in_chongqing_and_come_in_pairs() {
        assert_eq!(
            check_position("input", Some(106.57), Some(29.55)).ok(),
            Some(Some((106.57, 29.55)))
        );
        assert!(matches!(check_position("input", None, None), Ok(None)));
        let field = |r: AppResult<Option<(f64, f64)>>| match r {
            Err(AppError::InvalidInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        };
        // Beijing; swapped coordinates; one alone; not a number.
        assert_eq!(
            field(check_position("input", Some(116.4), Some(39.9))),
            "input.longitude"
        );
        assert_eq!(
            field(check_position("input", Some(29.55), Some(106.57))),
            "input.longitude"
        );
        assert_eq!(
            field(check_position("input", Some(106.5), Some(33.0))),
            "input.latitude"
        );
        assert_eq!(
            field(check_position("input", Some(106.5), None)),
            "input.latitude"
        );
        assert_eq!(
            field(check_position("input", Some(f64::NAN), Some(29.5))),
            "input.longitude"
        );
    }

    #[test]
    fn boxes_are_ordered() {
        let b = BoundingBox {
            min_longitude: 107.0,
            min_latitude: 29.0,
            max_longitude: 106.0,
            max_latitude: 30.0,
        };
        assert!(BoundingBox::parse("filter.within", b).is_err());
        assert!(CHONGQING.contains(106.57, 29.55));
        assert!(!CHONGQING.contains(116.4, 39.9));
    }
}
