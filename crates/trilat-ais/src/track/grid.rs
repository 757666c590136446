//! Grid cells (encounter neighbourhoods, reception coverage) and a
//! trigonometry-free distance bound: the cheap tests that keep the
//! per-position work small.

/// Encounter cells per degree: 0.01°, about 1.1 km of latitude, so that two
/// vessels within the encounter distance (GFW: 500 m) are always in the
/// same or neighbouring cells.
const ENCOUNTER_CELLS_PER_DEG: f64 = 100.0;
/// Reception-coverage cells per degree: half a degree, about the reach of
/// one coastal AIS receiver (some 30 nm).
const COVERAGE_CELLS_PER_DEG: f64 = 2.0;

/// Encounter grid cell (see [`ENCOUNTER_CELLS_PER_DEG`]).
pub(super) fn encounter_cell(lat: f64, lon: f64) -> (i32, i32) {
    (
        floor_i32(lat * ENCOUNTER_CELLS_PER_DEG),
        floor_i32(lon * ENCOUNTER_CELLS_PER_DEG),
    )
}

/// Reception-coverage cell (see [`COVERAGE_CELLS_PER_DEG`]).
pub(super) fn coverage_cell(lat: f64, lon: f64) -> (i32, i32) {
    (
        floor_i32(lat * COVERAGE_CELLS_PER_DEG),
        floor_i32(lon * COVERAGE_CELLS_PER_DEG),
    )
}

/// `v.floor() as i32` without the libm call: the baseline x86-64 target has
/// no rounding instruction, so `floor` is a function call, and every
/// position computes two cells (`docs/bench/maritime.md`). Same result for
/// every finite `v` in `i32` range and for NaN (0); cell coordinates are at
/// most ±18,000.
pub(super) fn floor_i32(v: f64) -> i32 {
    let t = v as i32;
    if f64::from(t) > v {
        t - 1
    } else {
        t
    }
}

/// An upper bound of [`trilat_geo::haversine_m`] without trigonometry: the path along
/// the meridian, then along a parallel, is no shorter than the great circle,
/// and a parallel is no longer than the equator. When the bound is within a
/// threshold, the distance is too.
pub(super) fn distance_m_bound(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let dlon = (lon2 - lon1).abs();
    let dlon = if dlon > 180.0 { 360.0 - dlon } else { dlon };
    // The mean Earth radius of `haversine_m`, rounded up for rounding.
    let radius_m = trilat_geo::EARTH_RADIUS_MEAN_M + 0.2;
    (lat2 - lat1).abs().to_radians() * radius_m + dlon.to_radians() * radius_m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use trilat_geo::{haversine_m, LatLon};

    proptest! {
        /// The libm-free floor agrees with `f64::floor` on cell coordinates.
        #[test]
        fn floor_i32_is_floor(v in -20_000.0f64..20_000.0) {
            prop_assert_eq!(floor_i32(v), v.floor() as i32);
        }

        /// The bound used to skip haversine is never below it, anywhere.
        #[test]
        fn distance_bound_is_an_upper_bound(
            lat1 in -90.0f64..90.0, lon1 in -180.0f64..180.0,
            dlat in -0.5f64..0.5, dlon in -0.5f64..0.5,
        ) {
            let lat2 = (lat1 + dlat).clamp(-90.0, 90.0);
            let lon2 = ((lon1 + dlon + 180.0).rem_euclid(360.0)) - 180.0;
            let d = haversine_m(LatLon::new(lat1, lon1), LatLon::new(lat2, lon2));
            prop_assert!(distance_m_bound(lat1, lon1, lat2, lon2) >= d);
        }
    }

    #[test]
    fn floor_i32_edges() {
        for v in [
            0.0,
            -0.0,
            -0.5,
            0.5,
            -1.0,
            1.0,
            -1e-12,
            3_599.999_999,
            -17_999.5,
        ] {
            assert_eq!(floor_i32(v), v.floor() as i32, "{v}");
        }
        assert_eq!(floor_i32(f64::NAN), 0);
    }
}
