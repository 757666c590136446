//! WGS-84 frames: geodetic ↔ Earth-centred Earth-fixed (ECEF) ↔ local east-north-up (ENU)
//! and the radar's range / azimuth / elevation.

use nalgebra::{Matrix3, Vector3};

/// WGS-84 semi-major axis (m).
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS-84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// WGS-84 first eccentricity squared.
pub const WGS84_E2: f64 = WGS84_F * (2.0 - WGS84_F);
/// Mean Earth radius used for great-circle distances (m): trilat-geo's.
pub use trilat_geo::EARTH_RADIUS_MEAN_M;

/// A geodetic position on the WGS-84 ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Geodetic {
    /// Latitude (degrees, north positive).
    pub lat_deg: f64,
    /// Longitude (degrees, east positive).
    pub lon_deg: f64,
    /// Height above the ellipsoid (m).
    pub height_m: f64,
}

impl Geodetic {
    /// A geodetic position.
    pub fn new(lat_deg: f64, lon_deg: f64, height_m: f64) -> Geodetic {
        Geodetic {
            lat_deg,
            lon_deg,
            height_m,
        }
    }

    /// The ECEF position (m).
    pub fn to_ecef(self) -> Vector3<f64> {
        let (slat, clat) = self.lat_deg.to_radians().sin_cos();
        let (slon, clon) = self.lon_deg.to_radians().sin_cos();
        let n = WGS84_A / (1.0 - WGS84_E2 * slat * slat).sqrt();
        Vector3::new(
            (n + self.height_m) * clat * clon,
            (n + self.height_m) * clat * slon,
            (n * (1.0 - WGS84_E2) + self.height_m) * slat,
        )
    }

    /// The geodetic position of an ECEF point (Bowring's method, then two refinements:
    /// sub-millimetre for heights from the Earth's centre region out to lunar distance).
    pub fn from_ecef(r: &Vector3<f64>) -> Geodetic {
        let p = (r.x * r.x + r.y * r.y).sqrt();
        let lon = r.y.atan2(r.x);
        if p < 1e-6 {
            // On the polar axis: latitude ±90°.
            let b = WGS84_A * (1.0 - WGS84_F);
            let lat = if r.z >= 0.0 { 90.0 } else { -90.0 };
            return Geodetic::new(lat, 0.0, r.z.abs() - b);
        }
        let mut lat = (r.z / (p * (1.0 - WGS84_E2))).atan();
        let mut h = 0.0;
        for _ in 0..4 {
            let s = lat.sin();
            let n = WGS84_A / (1.0 - WGS84_E2 * s * s).sqrt();
            h = p / lat.cos() - n;
            lat = (r.z / (p * (1.0 - WGS84_E2 * n / (n + h)))).atan();
        }
        Geodetic::new(lat.to_degrees(), lon.to_degrees(), h)
    }
}

/// Rotation from ECEF to the local ENU frame at a geodetic point (rows: east, north, up).
pub fn ecef_to_enu_rotation(lat_deg: f64, lon_deg: f64) -> Matrix3<f64> {
    let (slat, clat) = lat_deg.to_radians().sin_cos();
    let (slon, clon) = lon_deg.to_radians().sin_cos();
    Matrix3::new(
        -slon,
        clon,
        0.0,
        -slat * clon,
        -slat * slon,
        clat,
        clat * clon,
        clat * slon,
        slat,
    )
}

/// Range (m), azimuth (degrees from true north, clockwise, in [0, 360)) and elevation
/// (degrees above the local horizontal) of an ENU vector.
pub fn enu_to_rae(enu: &Vector3<f64>) -> (f64, f64, f64) {
    let range = enu.norm();
    let mut az = enu.x.atan2(enu.y).to_degrees();
    if az < 0.0 {
        az += 360.0;
    }
    let el = if range > 0.0 {
        (enu.z / range).clamp(-1.0, 1.0).asin().to_degrees()
    } else {
        0.0
    };
    (range, az, el)
}

/// The ENU vector of a range (m), azimuth and elevation (degrees).
pub fn rae_to_enu(range_m: f64, az_deg: f64, el_deg: f64) -> Vector3<f64> {
    let (saz, caz) = az_deg.to_radians().sin_cos();
    let (sel, cel) = el_deg.to_radians().sin_cos();
    Vector3::new(range_m * cel * saz, range_m * cel * caz, range_m * sel)
}

/// Great-circle distance between two points on the mean sphere (m):
/// [`trilat_geo::haversine_m`] over degrees.
pub fn great_circle_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    trilat_geo::haversine_m(
        trilat_geo::LatLon::new(lat1, lon1),
        trilat_geo::LatLon::new(lat2, lon2),
    )
}

/// Initial great-circle bearing from point 1 to point 2 (degrees clockwise from north, [0, 360)).
pub fn bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lon2 - lon1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// The point at a distance (m) and initial bearing (degrees) along a great circle.
pub fn destination(lat: f64, lon: f64, bearing: f64, distance_m: f64) -> (f64, f64) {
    let d = distance_m / EARTH_RADIUS_MEAN_M;
    let (p1, l1, b) = (lat.to_radians(), lon.to_radians(), bearing.to_radians());
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
    let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    let lon2 = (l2.to_degrees() + 540.0) % 360.0 - 180.0;
    (p2.to_degrees(), lon2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_roundtrip(lat: f64, lon: f64, h: f64) {
        let g = Geodetic::new(lat, lon, h);
        let back = Geodetic::from_ecef(&g.to_ecef());
        assert!((back.lat_deg - lat).abs() < 1e-9, "{back:?}");
        assert!(
            ((back.lon_deg - lon + 540.0) % 360.0 - 180.0).abs() < 1e-9,
            "{back:?}"
        );
        assert!((back.height_m - h).abs() < 1e-3, "{back:?}");
    }

    #[test]
    fn geodetic_ecef_roundtrip() {
        check_roundtrip(0.0, 0.0, 0.0);
        check_roundtrip(39.66, 124.7, 10.0);
        check_roundtrip(-45.0, -170.0, 6_000_000.0);
        check_roundtrip(89.9, 30.0, 100_000.0);
        check_roundtrip(35.0, 139.0, -50.0);
    }

    #[test]
    fn equator_and_pole_radii() {
        let e = Geodetic::new(0.0, 0.0, 0.0).to_ecef();
        assert!((e.x - WGS84_A).abs() < 1e-6);
        let p = Geodetic::new(90.0, 0.0, 0.0).to_ecef();
        assert!((p.z - 6_356_752.314).abs() < 1e-2);
    }

    #[test]
    fn rae_roundtrip_and_convention() {
        // Due east, 10° up.
        let v = rae_to_enu(1000.0, 90.0, 10.0);
        assert!(v.x > 0.0 && v.y.abs() < 1e-9 && v.z > 0.0);
        let (r, az, el) = enu_to_rae(&v);
        assert!((r - 1000.0).abs() < 1e-9 && (az - 90.0).abs() < 1e-9 && (el - 10.0).abs() < 1e-9);
        let (_, az_w, _) = enu_to_rae(&rae_to_enu(5.0, 270.0, 0.0));
        assert!((az_w - 270.0).abs() < 1e-9);
    }

    #[test]
    fn great_circle_and_destination_agree() {
        let (lat, lon) = destination(39.66, 124.7, 80.0, 1_000_000.0);
        let d = great_circle_m(39.66, 124.7, lat, lon);
        assert!((d - 1_000_000.0).abs() < 1.0);
        assert!((bearing_deg(39.66, 124.7, lat, lon) - 80.0).abs() < 1e-6);
    }
}
