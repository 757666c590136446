//! Real Natural Earth data from `../shared/data` (skipped, saying so, when absent).
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use geo::Rect;
use trilat_geo::{parse_geojson_zones, Geography, LatLon, MaritimeOptions, ZoneKind};

use crate::fixture::describe;

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    if dir.join("zones/natural_earth_world_atlas").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP real-data geo test: {} absent (set TRILAT_SHARED_DATA)",
            dir.display()
        );
        None
    }
}

/// Japan–Korea from the 50m data at 1/32° (the full 10m North-East Asia build is
/// benchmarked in release; this smaller one keeps the debug-build test short).
fn geography() -> Option<&'static Geography> {
    static GEOGRAPHY: OnceLock<Option<Geography>> = OnceLock::new();
    GEOGRAPHY
        .get_or_init(|| {
            let Some(dir) = shared_data() else {
                eprintln!(
                    "SKIP real-data geo tests: ../shared/data absent (set TRILAT_SHARED_DATA)"
                );
                return None;
            };
            let bytes =
                std::fs::read(dir.join("zones/natural_earth_world_atlas/countries-50m.json"))
                    .unwrap();
            let mut options =
                MaritimeOptions::north_east_asia(Rect::new((124.0, 31.0), (142.0, 44.0)));
            options.cell_min_deg = 1.0 / 32.0;
            let started = Instant::now();
            let stopwatch = || started.elapsed();
            let geography =
                Geography::from_natural_earth_timed(&bytes, &options, &stopwatch).unwrap();
            eprintln!(
                "built Japan-Korea from 50m in {:?}: {:?}",
                started.elapsed(),
                geography.report()
            );
            Some(geography)
        })
        .as_ref()
}

#[track_caller]
fn check(lat: f64, lon: f64, expect: &[&str]) {
    let Some(geography) = geography() else { return };
    assert_eq!(
        describe(geography.index(), LatLon::new(lat, lon)),
        expect,
        "at {lat}N {lon}E"
    );
}

#[track_caller]
fn check_has(lat: f64, lon: f64, want: &str, present: bool) {
    let Some(geography) = geography() else { return };
    let got = describe(geography.index(), LatLon::new(lat, lon));
    assert_eq!(
        got.iter().any(|z| z == want),
        present,
        "{want} at {lat}N {lon}E: {got:?}"
    );
}

#[test]
fn known_points_on_natural_earth() {
    check(35.68, 139.77, &["JPN land"]); // Tokyo
    check(37.57, 126.98, &["KOR land"]); // Seoul
    check(39.02, 125.75, &["PRK land"]); // Pyongyang
    check(37.61, 137.33, &["JPN territorial-sea"]); // 5 nm north of Noto's Cape Rokko
    check_has(40.0, 137.5, "JPN eez", true); // DPRK missile splash-down area
    check_has(39.0, 133.0, "JPN eez", false);
    // Takeshima/Dokdo is too small for the 50m data: its waters are a disputed area instead.
    check(37.24, 131.85, &["KOR eez!"]);
}

#[test]
fn tsushima_strait_median_line() {
    let Some(geography) = geography() else { return };
    // Across the western channel between Busan and Tsushima.
    let index = geography.index();
    let mut previous_owner = String::new();
    let mut switches = 0;
    for k in 0..=40 {
        let f = k as f64 / 40.0;
        let p = LatLon::new(35.05 + (34.65 - 35.05) * f, 129.05 + (129.30 - 129.05) * f);
        let owner = describe(index, p)
            .into_iter()
            .find(|z| !z.contains("land"))
            .map(|z| z[..3].to_string())
            .unwrap_or_default();
        if !owner.is_empty() && owner != previous_owner {
            if !previous_owner.is_empty() {
                switches += 1;
                // At the switch both coasts are about equally far.
                let (first, second) = index.coastline().nearest_two(p).unwrap();
                let gap_m = second.unwrap().distance_m - first.distance_m;
                // Tolerance: twice the smallest cell's half-diagonal (2.3 km) plus twice the
                // walk's step (1.2 km): the gap changes by up to 2 m per metre moved.
                assert!(
                    gap_m < 8_000.0,
                    "switch {previous_owner}->{owner} at {p:?}, gap {gap_m} m"
                );
            }
            previous_owner = owner;
        }
    }
    assert_eq!(switches, 1, "one KOR->JPN switch across the strait");
}

#[test]
fn eez_rule_holds_on_random_points() {
    let Some(geography) = geography() else { return };
    let n_checked = crate::properties::check_eez_rule(
        geography.index(),
        (124.0, 31.0, 142.0, 44.0),
        5_000,
        8_000.0,
        11,
    );
    assert!(n_checked > 1_000, "{n_checked}");
}

#[test]
fn distances_to_coast() {
    let Some(geography) = geography() else { return };
    let index = geography.index();
    let tokyo = index
        .distance_to_coast_m(LatLon::new(35.68, 139.77))
        .unwrap();
    assert!(tokyo < 10_000.0, "{tokyo}");
    let splash = index.distance_to_coast_m(LatLon::new(40.0, 137.5)).unwrap();
    assert!((150_000.0..300_000.0).contains(&splash), "{splash}");
}

#[test]
fn osm_maritime_borders_load_as_zones() {
    let Some(dir) = shared_data() else { return };
    let text =
        std::fs::read_to_string(dir.join("zones/osm_maritime/osm_borders_maritime_1000m.geo.json"))
            .unwrap();
    let zones = parse_geojson_zones(&text, ZoneKind::TerritorialSea).unwrap();
    let japan = zones
        .iter()
        .find(|z| z.owner == "JPN")
        .expect("JPN in OSM maritime borders");
    let index = trilat_geo::ZoneIndex::new(vec![japan.clone()]);
    let mut out = Vec::new();
    // OSM's JPN boundary includes the territorial sea: 5 nm off Noto is inside, mid-sea is not.
    index.zones_containing(LatLon::new(37.61, 137.33), &mut out);
    assert_eq!(out.len(), 1);
    out.clear();
    index.zones_containing(LatLon::new(40.0, 137.5), &mut out);
    assert!(out.is_empty());
}

/// The 1:10m data holds Takeshima/Dokdo and the Senkaku Islands: their waters come out
/// disputed, owned by the administering state. Small boxes keep this debug test short.
#[test]
fn disputed_features_on_natural_earth_10m() {
    let Some(dir) = shared_data() else { return };
    let bytes =
        std::fs::read(dir.join("zones/natural_earth_world_atlas/countries-10m.json")).unwrap();
    for (bbox, point, expect) in [
        (
            (131.0, 36.8, 132.8, 37.8),
            LatLon::new(37.30, 131.80),
            "KOR territorial-sea!",
        ),
        (
            (123.0, 25.2, 124.8, 26.2),
            LatLon::new(25.80, 123.60),
            "JPN territorial-sea!",
        ),
    ] {
        let mut options =
            MaritimeOptions::north_east_asia(Rect::new((bbox.0, bbox.1), (bbox.2, bbox.3)));
        options.cell_min_deg = 1.0 / 32.0;
        let geography = Geography::from_natural_earth(&bytes, &options).unwrap();
        let got = describe(geography.index(), point);
        assert!(
            got.iter().any(|z| z == expect),
            "{expect} at {point:?}: {got:?}"
        );
        let disputed_ids: Vec<&str> = geography
            .zones()
            .iter()
            .filter(|z| z.disputed)
            .map(|z| z.id.as_str())
            .collect();
        assert!(!disputed_ids.is_empty());
        eprintln!("{bbox:?}: disputed zones {disputed_ids:?}");
    }
}
