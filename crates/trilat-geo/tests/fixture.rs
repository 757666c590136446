//! Known points against the hand-made fixture zone set.
use std::sync::OnceLock;

use trilat_geo::{fixture_zones, LatLon, ZoneIndex, ZoneKind};

fn index() -> &'static ZoneIndex {
    static INDEX: OnceLock<ZoneIndex> = OnceLock::new();
    INDEX.get_or_init(|| ZoneIndex::new(fixture_zones()))
}

/// Zones at a point as sorted `"OWNER kind"` strings (plus `!` when disputed).
fn describe(lat: f64, lon: f64) -> Vec<String> {
    let index = index();
    let mut out = Vec::new();
    index.zones_containing(LatLon::new(lat, lon), &mut out);
    let mut names: Vec<String> = out
        .iter()
        .map(|&id| {
            let z = index.zone(id);
            format!(
                "{} {}{}",
                z.owner,
                z.kind.label(),
                if z.disputed { "!" } else { "" }
            )
        })
        .collect();
    names.sort();
    names
}

#[track_caller]
fn check(lat: f64, lon: f64, expect: &[&str]) {
    assert_eq!(describe(lat, lon), expect, "at {lat}N {lon}E");
}

#[test]
fn known_points() {
    check(35.68, 139.77, &["JPN land"]); // Tokyo
    check(37.57, 126.98, &["KOR land"]); // Seoul
    check(39.02, 125.75, &["PRK land"]); // Pyongyang
    check(37.62, 137.30, &["JPN territorial-sea"]); // ~5 nm off the Noto peninsula
    check(40.0, 137.5, &["JPN eez"]); // DPRK missile splash-down area, west of Akita
}

#[test]
fn print_zone_summary() {
    for zone in index().zones() {
        eprintln!(
            "{} {:?} disputed={} polygons={}",
            zone.id,
            zone.kind,
            zone.disputed,
            zone.polygon.0.len()
        );
    }
    let _ = ZoneKind::Land;
}
