//! A point on the Earth, in fixed-point degrees.
//!
//! Coordinates are stored as integers of 1e-7 degree (about 1 cm) rather than
//! floats, so that every record that carries a position encodes to the same
//! canonical bytes on every platform (signed minutes must not contain floats).

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// Degrees × 10^7.
const SCALE: f64 = 10_000_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude in units of 1e-7 degree, -90° ..= 90°.
    pub lat_e7: i32,
    /// Longitude in units of 1e-7 degree, -180° ..= 180°.
    pub lon_e7: i32,
}

impl GeoPoint {
    /// Builds a point from decimal degrees, refusing values off the globe or not finite.
    pub fn from_degrees(lat: f64, lon: f64) -> Result<Self, ValidationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::OutOfRange {
                field: "latitude",
                reason: format!("{lat} is not between -90 and 90"),
            });
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::OutOfRange {
                field: "longitude",
                reason: format!("{lon} is not between -180 and 180"),
            });
        }
        Ok(Self {
            lat_e7: (lat * SCALE).round() as i32,
            lon_e7: (lon * SCALE).round() as i32,
        })
    }

    pub fn lat(&self) -> f64 {
        f64::from(self.lat_e7) / SCALE
    }

    pub fn lon(&self) -> f64 {
        f64::from(self.lon_e7) / SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_hai_phong() {
        let p = GeoPoint::from_degrees(20.844_912, 106.688_084).unwrap();
        assert_eq!(p.lat_e7, 208_449_120);
        assert!((p.lon() - 106.688_084).abs() < 1e-7);
    }

    #[test]
    fn refuses_points_off_the_globe() {
        assert!(GeoPoint::from_degrees(91.0, 0.0).is_err());
        assert!(GeoPoint::from_degrees(0.0, -180.5).is_err());
        assert!(GeoPoint::from_degrees(f64::NAN, 0.0).is_err());
    }
}
