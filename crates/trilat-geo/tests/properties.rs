//! Properties over random points: EEZ exclusivity, the nearest-coast rule, distances.
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use trilat_geo::{distance_m, LatLon, ZoneIndex, ZoneKind};

/// Checks on `n_points` random points in the box: no point is in two states' EEZs unless
/// both are flagged disputed, and outside disputed water the EEZ owner is the owner of the
/// nearest coast (skipping points within `margin_m` of a median line: the raster's cell).
pub fn check_eez_rule(
    index: &ZoneIndex,
    bbox: (f64, f64, f64, f64),
    n_points: usize,
    margin_m: f64,
    seed: u64,
) -> usize {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut out, mut n_checked) = (Vec::new(), 0);
    for _ in 0..n_points {
        let p = LatLon::new(rng.gen_range(bbox.1..bbox.3), rng.gen_range(bbox.0..bbox.2));
        out.clear();
        index.zones_containing(p, &mut out);
        let eezs: Vec<_> = out
            .iter()
            .map(|&id| index.zone(id))
            .filter(|z| z.kind == ZoneKind::Eez)
            .collect();
        let owners: std::collections::BTreeSet<&str> =
            eezs.iter().map(|z| z.owner.as_str()).collect();
        if owners.len() > 1 {
            assert!(
                eezs.iter().all(|z| z.disputed),
                "{p:?} in EEZs of {owners:?} without a dispute flag"
            );
        }
        let Some(eez) = eezs.first() else { continue };
        let Some((first, second)) = index.coastline().nearest_two(p) else {
            continue;
        };
        let clear = second.is_none_or(|s| s.distance_m - first.distance_m > margin_m);
        if clear && first.distance_m < 199.0 * 1852.0 && first.distance_m > 13.0 * 1852.0 {
            assert_eq!(
                eez.owner,
                index.coastline().keys()[first.key_idx].owner,
                "EEZ owner at {p:?}"
            );
            n_checked += 1;
        }
    }
    n_checked
}

#[test]
fn fixture_eez_rule() {
    let index = crate::fixture::index();
    let n_checked = check_eez_rule(index, (117.0, 22.0, 150.0, 47.0), 20_000, 30_000.0, 7);
    assert!(n_checked > 2_000, "{n_checked}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn distance_is_symmetric_and_triangle_ish(
        a in (-80.0f64..80.0, -180.0f64..180.0),
        b in (-80.0f64..80.0, -180.0f64..180.0),
        c in (-80.0f64..80.0, -180.0f64..180.0),
    ) {
        let (a, b, c) = (LatLon::new(a.0, a.1), LatLon::new(b.0, b.1), LatLon::new(c.0, c.1));
        let ab = distance_m(a, b);
        prop_assert!((ab - distance_m(b, a)).abs() < 1e-6 * ab.max(1.0));
        prop_assert!(ab <= distance_m(a, c) + distance_m(c, b) + 1e-3);
        prop_assert!(ab <= 20_004_000.0);
    }

    #[test]
    fn lookups_never_panic(lat in proptest::num::f64::ANY, lon in proptest::num::f64::ANY) {
        let index = crate::fixture::index();
        let mut out = Vec::new();
        index.zones_containing(LatLon::new(lat, lon), &mut out);
        let _ = index.distance_to_coast_m(LatLon::new(lat, lon));
        prop_assert!(out.len() <= index.zones().len());
    }
}
