//! trilat-geo: shared geography for Trilat's engines.
//!
//! Purpose: answer "where is this point?" fast and honestly: on whose land, in whose
//! territorial sea, contiguous zone or EEZ, inside which declared or user-drawn area, and how
//! far from the nearest coast. The AIS/maritime and missile-warning engines call it per
//! position report, so lookups are designed for well under a microsecond.
//!
//! Main types and how they fit:
//! - [`LatLon`] with [`distance_m`], [`bearing_deg`], [`destination`]: geodesics on the
//!   WGS-84 ellipsoid (Karney's algorithm through the `geo` crate).
//! - [`Zone`] (kind, owner, `disputed`, `approximate`, polygon) and [`ZoneIndex`], a grid
//!   index over zones with exact point-in-polygon tests at boundary cells, plus a coastline
//!   R-tree for [`ZoneIndex::distance_to_coast_m`].
//! - [`Coastline`]: owned coast segments in `rstar` R-trees (one per owner and disputed
//!   feature), giving nearest-coast distances and the equidistance (median-line) rule.
//! - [`compute_maritime_zones`]: territorial sea (12 nm), contiguous zone (24 nm), EEZ
//!   (200 nm, median line) and DPRK's declared zone from land and coast, on an adaptive
//!   quadtree whose leaves are traced into polygons; disputes per [`DisputedFeature`] and
//!   [`DisputedArea`]. Every computed zone is `approximate`.
//! - Loaders: [`parse_topojson`] (Natural Earth via world-atlas; arcs used by one country are
//!   coast) and [`parse_geojson_zones`] (official EEZs, OSM borders, user areas), with typed
//!   [`Error`]s naming what and where; [`iso3_of`] maps ISO numeric ids and names to ISO-3.
//! - [`Geography`]: land + zones + coast for a box, built from Natural Earth; official
//!   polygons can replace a state's computed EEZ.
//! - [`shipped_countries_topojson`]: Natural Earth 1:10m countries embedded in the binary
//!   (`data/PROVENANCE.md`), so land and zones need no file on disk.
//! - [`fixture_zones`]: a small hand-made set (coarse Japan, Korea, a piece of China) whose
//!   maritime zones are computed by this crate, for tests and demos without real data.
//!
//! The crate is pure: loaders take bytes or strings, callers read files. Model, limits and
//! the disputed list: `docs/geo.md`; figures: `docs/bench/geo.md`.
//!
//! ```
//! use trilat_geo::{fixture_zones, LatLon, ZoneIndex, ZoneKind};
//! let index = ZoneIndex::new(fixture_zones());
//! let mut out = Vec::new();
//! index.zones_containing(LatLon { lat: 35.68, lon: 139.77 }, &mut out);
//! assert!(out.iter().any(|&id| index.zone(id).kind == ZoneKind::Land));
//! ```
#![deny(missing_docs)]

mod coast;
mod compute;
mod error;
mod fixture;
mod geography;
mod geojson;
mod index;
mod iso;
mod shipped;
mod topojson;
mod trace;
mod zone;

pub use coast::{CoastHit, CoastKey, CoastSegment, Coastline, EARTH_RADIUS_MEAN_M};
pub use compute::{
    compute_maritime_zones, compute_maritime_zones_with_stats, north_east_asia_disputed_areas,
    north_east_asia_disputed_features, tag_disputed_coast, ComputeError, DisputedArea,
    DisputedFeature, MaritimeOptions, MaritimeStats, CONTIGUOUS_ZONE_M, DPRK_MILITARY_ZONE_EAST_M,
    EEZ_M, QUADTREE_LEAVES_MAX, TERRITORIAL_SEA_M,
};
pub use error::{Error, ErrorKind};
pub use fixture::{fixture_bbox, fixture_land, fixture_zones};
pub use geography::{BuildReport, Geography, Stopwatch};
pub use geojson::{
    parse_geojson_zones, zone_geometry_geojson, ZoneGeometry, GEOJSON_BYTES_MAX,
    GEOJSON_FEATURES_MAX,
};
pub use index::{ZoneIndex, GRID_CELLS_MAX, ZONES_MAX};
pub use iso::{iso3_from_name, iso3_from_numeric, iso3_of};
pub use shipped::{shipped_countries_topojson, SHIPPED_COUNTRIES_SOURCE};
pub use topojson::{
    parse_topojson, TopoFeature, Topology, TOPOJSON_BYTES_MAX, TOPOJSON_GEOMETRIES_MAX,
    TOPOJSON_POSITIONS_MAX,
};
pub use zone::{Zone, ZoneId, ZoneKind};

use geo::{Bearing, Destination, Distance, Geodesic, Point};

/// One international nautical mile in metres.
pub const NM_M: f64 = 1852.0;

/// A WGS-84 position in degrees.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatLon {
    /// Latitude, degrees north, in [-90, 90].
    pub lat: f64,
    /// Longitude, degrees east, in [-180, 180].
    pub lon: f64,
}

impl LatLon {
    /// Builds a position; no validation (see [`LatLon::is_valid`]).
    pub const fn new(lat: f64, lon: f64) -> LatLon {
        LatLon { lat, lon }
    }

    /// True when both coordinates are finite and in range.
    pub fn is_valid(self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }

    fn point(self) -> Point<f64> {
        Point::new(self.lon, self.lat)
    }
}

/// Geodesic distance in metres on the WGS-84 ellipsoid (Karney's algorithm, via `geo::Geodesic`).
///
/// Non-finite input gives a non-finite result rather than a panic.
pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    Geodesic.distance(a.point(), b.point())
}

/// Great-circle distance in metres on the mean sphere (haversine, radius
/// [`EARTH_RADIUS_MEAN_M`]): Trilat's one spherical distance. Several times
/// cheaper than [`distance_m`] and within 0.6 % of it (the sphere against
/// the ellipsoid), which the engines' per-position checks tolerate (500 m
/// encounters, 25-knot jumps, kilometres of missile range). The nearest-coast
/// search keeps its own chord form over precomputed unit vectors
/// (`coast::chord_to_m`); a test holds the two to each other.
#[inline]
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (lat_a, lat_b) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat_b - lat_a;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat_a.cos() * lat_b.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_MEAN_M * h.sqrt().min(1.0).asin()
}

/// Initial bearing, degrees clockwise from true north, in [0, 360).
pub fn bearing_deg(a: LatLon, b: LatLon) -> f64 {
    let bearing = Geodesic.bearing(a.point(), b.point());
    // geo returns (azi + 360) % 360, which can be exactly 360.0 after rounding.
    if bearing >= 360.0 {
        bearing - 360.0
    } else {
        bearing
    }
}

/// The point at `distance_m` along `bearing_deg` from `a` (WGS-84 geodesic, Karney's algorithm).
pub fn destination(a: LatLon, bearing_deg: f64, distance_m: f64) -> LatLon {
    let p = Geodesic.destination(a.point(), bearing_deg, distance_m);
    LatLon {
        lat: p.y(),
        lon: p.x(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_distance(a: (f64, f64), b: (f64, f64), expect_km: f64, tolerance_km: f64) {
        let d = distance_m(LatLon::new(a.0, a.1), LatLon::new(b.0, b.1)) / 1000.0;
        assert!(
            (d - expect_km).abs() <= tolerance_km,
            "distance {a:?} -> {b:?} = {d} km, expected {expect_km}"
        );
    }

    #[test]
    fn distances() {
        // Vincenty's (1975) published example, Flinders Peak to Buninyong: 54 972.271 m.
        let flinders = (
            -(37.0 + 57.0 / 60.0 + 3.72030 / 3600.0),
            144.0 + 25.0 / 60.0 + 29.52440 / 3600.0,
        );
        let buninyong = (
            -(37.0 + 39.0 / 60.0 + 10.15610 / 3600.0),
            143.0 + 55.0 / 60.0 + 35.38390 / 3600.0,
        );
        check_distance(flinders, buninyong, 54.972_271, 0.000_01);
        let azimuth = bearing_deg(
            LatLon::new(flinders.0, flinders.1),
            LatLon::new(buninyong.0, buninyong.1),
        );
        let azimuth_expect = 306.0 + 52.0 / 60.0 + 5.37 / 3600.0;
        assert!((azimuth - azimuth_expect).abs() < 1e-4, "{azimuth}");
        // One degree of latitude at the equator on WGS-84 is 110.574 km.
        check_distance((0.0, 0.0), (1.0, 0.0), 110.574, 0.01);
        check_distance((10.0, 10.0), (10.0, 10.0), 0.0, 1e-9);
    }

    #[test]
    fn distance_is_symmetric_and_close_to_the_sphere() {
        let (tokyo, seoul) = (
            LatLon::new(35.6812, 139.7671),
            LatLon::new(37.5663, 126.9779),
        );
        let d = distance_m(tokyo, seoul);
        assert!((d - distance_m(seoul, tokyo)).abs() < 1e-6);
        let sphere = haversine_m(tokyo, seoul);
        assert!(
            (d / sphere - 1.0).abs() < 0.005,
            "ellipsoid {d} vs sphere {sphere}"
        );
    }

    fn chord_m(a: LatLon, b: LatLon) -> f64 {
        crate::coast::chord_to_m(
            crate::coast::unit_vector(a)
                .iter()
                .zip(crate::coast::unit_vector(b))
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt(),
        )
    }

    proptest::proptest! {
        /// The two spherical distances (haversine for the engines, the chord
        /// form of the nearest-coast search) agree, and stay within 0.6 % of
        /// the ellipsoid.
        #[test]
        fn haversine_agrees_with_the_chord_and_the_ellipsoid(
            lat_a in -89.0f64..89.0, lon_a in -180.0f64..180.0,
            lat_b in -89.0f64..89.0, lon_b in -180.0f64..180.0,
        ) {
            let (a, b) = (LatLon::new(lat_a, lon_a), LatLon::new(lat_b, lon_b));
            let haversine = haversine_m(a, b);
            proptest::prop_assert!((haversine - chord_m(a, b)).abs() <= 1e-6 * haversine.max(1.0));
            proptest::prop_assert!((haversine - haversine_m(b, a)).abs() <= 1e-6);
            let ellipsoid = distance_m(a, b);
            // Karney's geodesic is defined for any pair; near-antipodal pairs
            // are where the sphere and the ellipsoid part most.
            if ellipsoid > 1_000.0 && ellipsoid < 19_000_000.0 {
                proptest::prop_assert!((haversine / ellipsoid - 1.0).abs() < 0.006, "{haversine} vs {ellipsoid}");
            }
        }
    }

    #[test]
    fn bearing_and_destination_round_trip() {
        let tokyo = LatLon::new(35.6812, 139.7671);
        let b = bearing_deg(tokyo, LatLon::new(36.6812, 139.7671));
        assert!(!(0.5..=359.5).contains(&b), "north is 0°, got {b}");
        let p = destination(tokyo, 45.0, 100_000.0);
        assert!((distance_m(tokyo, p) - 100_000.0).abs() < 1e-3);
        assert!((bearing_deg(tokyo, p) - 45.0).abs() < 1e-6);
    }
}
