//! Known points against the hand-made fixture zone set.
use std::sync::OnceLock;

use trilat_geo::{destination, fixture_zones, LatLon, ZoneIndex, ZoneKind};

pub fn index() -> &'static ZoneIndex {
    static INDEX: OnceLock<ZoneIndex> = OnceLock::new();
    INDEX.get_or_init(|| ZoneIndex::new(fixture_zones()))
}

/// Zones at a point as sorted `"OWNER kind"` strings (`!` marks disputed).
pub fn describe(index: &ZoneIndex, p: LatLon) -> Vec<String> {
    let mut out = Vec::new();
    index.zones_containing(p, &mut out);
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
    assert_eq!(
        describe(index(), LatLon::new(lat, lon)),
        expect,
        "at {lat}N {lon}E"
    );
}

#[test]
fn known_points() {
    check(35.68, 139.77, &["JPN land"]); // Tokyo
    check(37.57, 126.98, &["KOR land"]); // Seoul
    check(39.02, 125.75, &["PRK land"]); // Pyongyang
    check(37.62, 137.30, &["JPN territorial-sea"]); // ~5 nm off the Noto peninsula
    check(40.0, 137.5, &["JPN eez"]); // DPRK missile splash-down area, west of Akita
    check(30.0, 146.0, &[]); // Pacific, > 200 nm from every fixture coast
    check(37.243, 131.80, &["KOR territorial-sea!"]); // next to Takeshima/Dokdo
    check(39.6, 129.0, &["PRK declared", "PRK eez"]); // 35 nm off the fixture PRK east coast
    check(30.0, 125.0, &["CHN eez!"]); // East China Sea, disputed area
}

#[test]
fn tsushima_strait_follows_the_median_line() {
    // Busan (KOR) and the north tip of Tsushima (JPN) in the fixture; their midpoint.
    let (busan, tsushima) = (LatLon::new(35.10, 129.10), LatLon::new(34.70, 129.45));
    let mid = LatLon::new(
        (busan.lat + tsushima.lat) / 2.0,
        (busan.lon + tsushima.lon) / 2.0,
    );
    let toward = |target: LatLon| destination(mid, trilat_geo::bearing_deg(mid, target), 8_000.0);
    let owners = |p: LatLon| describe(index(), p);
    assert!(
        owners(toward(busan)).iter().any(|z| z.starts_with("KOR")),
        "{:?}",
        owners(toward(busan))
    );
    assert!(
        owners(toward(tsushima))
            .iter()
            .any(|z| z.starts_with("JPN")),
        "{:?}",
        owners(toward(tsushima))
    );
}

#[test]
fn every_fixture_zone_is_approximate_with_unique_id() {
    let zones = index().zones();
    assert!(zones.len() >= 20, "{}", zones.len());
    assert!(zones.iter().all(|z| z.approximate));
    let mut ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), zones.len());
    for kind in [
        ZoneKind::Land,
        ZoneKind::TerritorialSea,
        ZoneKind::ContiguousZone,
        ZoneKind::Eez,
        ZoneKind::Declared,
    ] {
        assert!(zones.iter().any(|z| z.kind == kind), "no {kind:?}");
    }
}

#[test]
fn distance_to_coast_in_the_fixture() {
    let index = index();
    // The DMZ is a border, not coast: its middle is far from the sea.
    let dmz = index.distance_to_coast_m(LatLon::new(38.3, 127.5)).unwrap();
    assert!(dmz > 50_000.0, "{dmz}");
    let noto = index
        .distance_to_coast_m(LatLon::new(37.62, 137.30))
        .unwrap();
    assert!((5_000.0..15_000.0).contains(&noto), "{noto}");
    let noto_sphere = index
        .distance_to_coast_sphere_m(LatLon::new(37.62, 137.30))
        .unwrap();
    assert!(
        (noto_sphere / noto - 1.0).abs() < 0.005,
        "{noto_sphere} vs {noto}"
    );
}

#[test]
fn official_eez_replaces_the_computed_one_and_areas_can_be_added() {
    use geo::Rect;
    use trilat_geo::{fixture_land, parse_geojson_zones, Coastline, Geography, MaritimeOptions};
    let land = fixture_land();
    let coast = Coastline::from_land(&land);
    let mut options = MaritimeOptions::north_east_asia(Rect::new((128.0, 33.0), (142.0, 43.0)));
    options.cell_min_deg = 0.25;
    let geography = Geography::from_land(land, coast, &options).unwrap();
    let splash = LatLon::new(40.0, 137.5);
    assert_eq!(describe(geography.index(), splash), ["JPN eez"]);
    let official = parse_geojson_zones(
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"JPN-eez-official",
        "properties":{"name":"JPN EEZ (test polygon)","owner":"JPN"},
        "geometry":{"type":"Polygon","coordinates":[[[137,39.5],[138,39.5],[138,40.5],[137,40.5],[137,39.5]]]}}]}"#,
        ZoneKind::Eez,
    )
    .unwrap();
    let geography = geography.with_official_eez("JPN", official);
    let index = geography.index();
    assert!(!index
        .zones()
        .iter()
        .any(|z| z.kind == ZoneKind::Eez && z.owner == "JPN" && z.approximate));
    let mut out = Vec::new();
    index.zones_containing(splash, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(index.zone(out[0]).id, "JPN-eez-official");
    assert!(!index.zone(out[0]).approximate);
    // Outside the official polygon the computed JPN EEZ is gone; KOR's is untouched.
    assert_eq!(
        describe(index, LatLon::new(41.0, 138.5)),
        Vec::<String>::new()
    );
    assert!(describe(index, LatLon::new(36.5, 130.5))
        .iter()
        .any(|z| z.starts_with("KOR eez")));
    let watch = parse_geojson_zones(
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"watch"},
        "geometry":{"type":"Polygon","coordinates":[[[137.4,39.9],[137.6,39.9],[137.6,40.1],[137.4,39.9]]]}}]}"#,
        ZoneKind::AreaOfInterest,
    )
    .unwrap();
    let geography = geography.with_zones(watch);
    assert_eq!(
        describe(geography.index(), LatLon::new(39.95, 137.55)),
        [" area-of-interest", "JPN eez"]
    );
}

/// The zones written as GeoJSON for display and read back classify the
/// same known points (away from the boundaries the simplification moves).
#[test]
fn zones_written_as_geojson_read_back_the_same() {
    let zones = fixture_zones();
    let mut features = Vec::new();
    let (mut n_in, mut n_out) = (0, 0);
    for zone in &zones {
        let written = trilat_geo::zone_geometry_geojson(&zone.polygon, 0.005);
        n_in += geo::CoordsIter::coords_count(&zone.polygon);
        n_out += written.n_positions;
        features.push(serde_json::json!({
            "type": "Feature",
            "geometry": written.geometry,
            "properties": {
                "owner": zone.owner, "name": zone.name, "kind": zone.kind.label(),
                "disputed": zone.disputed, "approximate": zone.approximate,
            },
        }));
    }
    assert!(n_out <= n_in, "{n_out} > {n_in}");
    let text = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    let read = trilat_geo::parse_geojson_zones(&text, ZoneKind::AreaOfInterest).unwrap();
    assert_eq!(read.len(), zones.len());
    let read_back = ZoneIndex::new(read);
    for (lat, lon) in [
        (35.68, 139.77),
        (37.57, 126.98),
        (37.62, 137.30),
        (40.0, 137.5),
        (30.0, 146.0),
        (39.6, 129.0),
        (30.0, 125.0),
    ] {
        let p = LatLon::new(lat, lon);
        assert_eq!(
            describe(&read_back, p),
            describe(index(), p),
            "at {lat}N {lon}E"
        );
    }
    // Tolerance zero keeps every position.
    let jpn_eez = zones.iter().find(|z| z.id == "JPN-eez").unwrap();
    let exact = trilat_geo::zone_geometry_geojson(&jpn_eez.polygon, 0.0);
    assert!(!exact.simplified);
}

#[test]
fn a_build_is_timed_only_on_the_stopwatch_it_is_lent() {
    use geo::Rect;
    use std::cell::Cell;
    use std::time::Duration;
    use trilat_geo::{Geography, MaritimeOptions};
    // Japan and Korea as two one-degree squares (world-atlas quantised TopoJSON).
    let topo = r#"{"type":"Topology","transform":{"scale":[0.5,0.5],"translate":[130,30]},"objects":{"countries":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[0,1]],"id":"392","properties":{"name":"Japan"}},{"type":"MultiPolygon","arcs":[[[-1,2]]],"id":"410"}]}},"arcs":[[[2,0],[0,2]],[[2,2],[-2,0],[0,-2],[2,0]],[[2,0],[2,0],[0,2],[-2,0]]]}"#;
    let mut options = MaritimeOptions::north_east_asia(Rect::new((129.0, 29.0), (134.0, 33.0)));
    options.cell_min_deg = 0.25;

    let untimed = Geography::from_natural_earth(topo.as_bytes(), &options).unwrap();
    let report = untimed.report();
    assert_eq!(
        (
            report.parse,
            report.land_and_coast,
            report.maritime,
            report.index
        ),
        (None, None, None, None)
    );
    assert!(
        report.n_zones > 2,
        "land and computed zones: {}",
        report.n_zones
    );

    // A stopwatch that advances one second per reading: each phase reads it twice.
    let readings = Cell::new(0u64);
    let stopwatch = || {
        readings.set(readings.get() + 1);
        Duration::from_secs(readings.get())
    };
    let timed = Geography::from_natural_earth_timed(topo.as_bytes(), &options, &stopwatch).unwrap();
    let second = Some(Duration::from_secs(1));
    let report = timed.report();
    assert_eq!(
        (
            report.parse,
            report.land_and_coast,
            report.maritime,
            report.index
        ),
        (second, second, second, second)
    );
    assert_eq!(readings.get(), 8);
    assert_eq!(timed.zones().len(), untimed.zones().len());
    // A rebuild is not timed: the build's index figure no longer applies.
    assert_eq!(timed.with_zones(Vec::new()).report().index, None);
}
