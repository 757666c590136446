//! A small hand-made zone set for tests and demos without `../shared/data`: coarse land of
//! Japan, the Korean peninsula split at the DMZ, a piece of China's coast, and maritime zones
//! computed from them by [`crate::compute_maritime_zones`]. Every zone is `approximate`.
//! Coordinates were drawn by hand from memory of the map at roughly 20–50 km accuracy: good
//! enough for "which side of the Tsushima Strait", not for coastline work.

use std::sync::OnceLock;

use geo::{MultiPolygon, Polygon, Rect};

use crate::coast::Coastline;
use crate::compute::{compute_maritime_zones, tag_disputed_coast, MaritimeOptions};
use crate::zone::{Zone, ZoneKind};

/// Bounding box over which fixture maritime zones are computed (lon 117–150 E, lat 22–47 N).
pub fn fixture_bbox() -> Rect<f64> {
    Rect::new((117.0, 22.0), (150.0, 47.0))
}

/// Korean Military Demarcation Line, west to east: shared verbatim by the KOR and PRK
/// polygons so that it is recognised as a border, not coast.
const DMZ: &[(f64, f64)] = &[
    (126.65, 37.78),
    (127.10, 38.00),
    (127.50, 38.30),
    (128.00, 38.30),
    (128.36, 38.61),
];
/// DPRK–China border (Yalu and Tumen rivers), west to east: shared by PRK and CHN.
const PRK_CHN_BORDER: &[(f64, f64)] = &[
    (124.35, 40.00),
    (125.00, 40.50),
    (126.00, 41.00),
    (127.00, 41.50),
    (128.10, 42.00),
    (129.00, 42.30),
    (130.20, 42.70),
    (130.70, 42.30),
];

const KYUSHU: &[(f64, f64)] = &[
    (130.90, 33.95),
    (131.20, 33.60),
    (131.70, 33.30),
    (131.90, 32.70),
    (131.40, 31.40),
    (131.10, 31.00),
    (130.70, 31.00),
    (130.20, 31.30),
    (130.10, 32.10),
    (130.40, 32.60),
    (129.75, 32.60),
    (129.60, 33.20),
    (129.90, 33.55),
    (130.40, 33.60),
];
const SHIKOKU: &[(f64, f64)] = &[
    (132.50, 33.00),
    (133.00, 32.75),
    (133.50, 33.45),
    (134.20, 33.25),
    (134.70, 33.80),
    (134.60, 34.20),
    (133.50, 34.30),
    (132.60, 34.00),
    (132.00, 33.30),
];
const HONSHU: &[(f64, f64)] = &[
    (130.95, 33.95),
    (131.50, 34.40),
    (132.20, 35.00),
    (132.60, 35.40),
    (133.30, 35.55),
    (134.50, 35.65),
    (135.30, 35.55),
    (135.90, 35.70),
    (136.10, 36.20),
    (136.70, 36.90),
    (136.75, 37.30),
    (137.00, 37.45),
    (137.35, 37.53),
    (137.20, 37.10),
    (137.30, 36.80),
    (138.20, 37.10),
    (139.00, 37.90),
    (139.50, 38.40),
    (139.80, 39.00),
    (139.70, 39.90),
    (140.00, 40.50),
    (139.95, 40.90),
    (140.30, 41.20),
    (141.00, 41.20),
    (141.45, 41.40),
    (141.40, 40.50),
    (142.00, 39.60),
    (141.60, 38.30),
    (141.00, 38.20),
    (141.00, 37.00),
    (140.70, 36.30),
    (140.90, 35.70),
    (140.40, 35.10),
    (139.85, 34.90),
    (139.65, 35.25),
    (139.20, 35.20),
    (138.80, 34.60),
    (138.20, 34.60),
    (137.20, 34.60),
    (136.90, 34.30),
    (136.00, 33.50),
    (135.80, 33.45),
    (135.10, 33.90),
    (135.10, 34.30),
    (135.40, 34.65),
    (134.60, 34.70),
    (133.90, 34.50),
    (132.80, 34.30),
    (132.20, 33.90),
    (131.50, 33.95),
];
const HOKKAIDO: &[(f64, f64)] = &[
    (140.20, 41.40),
    (139.85, 42.20),
    (140.40, 43.30),
    (141.40, 43.30),
    (141.60, 44.30),
    (141.75, 45.45),
    (142.00, 45.50),
    (143.00, 44.60),
    (144.30, 44.00),
    (145.30, 44.35),
    (145.10, 43.60),
    (145.60, 43.30),
    (144.40, 42.95),
    (143.25, 42.00),
    (142.00, 42.50),
    (141.00, 42.35),
    (140.40, 41.75),
];
const TSUSHIMA: &[(f64, f64)] = &[
    (129.20, 34.10),
    (129.45, 34.30),
    (129.50, 34.70),
    (129.35, 34.70),
    (129.20, 34.35),
];
const OKI: &[(f64, f64)] = &[
    (133.10, 36.00),
    (133.40, 36.20),
    (133.30, 36.35),
    (133.10, 36.25),
];
const KOR_MAINLAND_COAST: &[(f64, f64)] = &[
    (128.90, 37.80),
    (129.40, 36.90),
    (129.50, 36.00),
    (129.40, 35.50),
    (129.10, 35.10),
    (128.50, 34.90),
    (127.60, 34.60),
    (126.50, 34.30),
    (126.30, 34.70),
    (126.50, 35.60),
    (126.80, 36.00),
    (126.50, 36.80),
    (126.70, 37.40),
];
const JEJU: &[(f64, f64)] = &[
    (126.15, 33.30),
    (126.60, 33.22),
    (126.95, 33.45),
    (126.50, 33.56),
];
const ULLEUNGDO: &[(f64, f64)] = &[
    (130.80, 37.45),
    (130.92, 37.46),
    (130.91, 37.53),
    (130.82, 37.54),
];
/// Takeshima / Dokdo: a coarse triangle (the rocks are about 0.2 km², drawn larger).
const TAKESHIMA: &[(f64, f64)] = &[(131.855, 37.235), (131.88, 37.235), (131.868, 37.25)];
const PRK_COAST: &[(f64, f64)] = &[
    // From the Tumen mouth south along the east coast to the DMZ.
    (130.00, 41.90),
    (129.70, 41.40),
    (129.20, 40.70),
    (128.60, 40.10),
    (127.50, 39.70),
    (127.50, 39.20),
];
const PRK_WEST_COAST: &[(f64, f64)] = &[
    // From the DMZ's west end north along the west coast to the Yalu mouth.
    (125.60, 37.70),
    (125.20, 37.90),
    (124.70, 38.10),
    (125.10, 38.60),
    (125.20, 39.00),
    (124.60, 39.60),
];
const CHN_COAST: &[(f64, f64)] = &[
    // From the Yalu mouth south-west along the coast to Guangdong.
    (123.00, 39.60),
    (121.60, 38.80),
    (121.20, 39.30),
    (122.10, 40.50),
    (121.00, 40.80),
    (119.50, 39.90),
    (118.00, 39.10),
    (117.70, 38.40),
    (118.90, 37.40),
    (119.50, 37.10),
    (120.70, 37.80),
    (122.60, 37.40),
    (122.00, 36.90),
    (120.60, 36.10),
    (119.30, 35.00),
    (120.30, 34.30),
    (120.90, 32.60),
    (121.90, 31.70),
    (121.90, 30.90),
    (122.10, 30.00),
    (121.50, 29.00),
    (120.60, 27.50),
    (119.60, 26.00),
    (118.50, 24.60),
    (117.20, 23.60),
];
/// Inland closure of the China piece (not coast in reality; far enough from the sea here
/// except the Primorye stretch, which stands in for Russia's coast).
const CHN_INLAND: &[(f64, f64)] = &[(116.00, 23.00), (116.00, 44.00), (131.20, 44.00)];

fn ring(points: impl IntoIterator<Item = (f64, f64)>) -> Polygon<f64> {
    let mut coords: Vec<(f64, f64)> = points.into_iter().collect();
    assert!(coords.len() >= 3, "a ring needs three points");
    coords.push(coords[0]);
    Polygon::new(coords.into(), vec![])
}

fn land_zone(owner: &str, name: &str, polygons: Vec<Polygon<f64>>) -> Zone {
    Zone {
        id: format!("{owner}-land"),
        name: format!("{name} (fixture, coarse)"),
        kind: ZoneKind::Land,
        owner: owner.to_string(),
        disputed: false,
        approximate: true,
        polygon: MultiPolygon(polygons),
    }
}

/// The hand-made land zones only (JPN, KOR, PRK, CHN).
pub fn fixture_land() -> Vec<Zone> {
    let japan = [KYUSHU, SHIKOKU, HONSHU, HOKKAIDO, TSUSHIMA, OKI]
        .iter()
        .map(|p| ring(p.iter().copied()))
        .collect();
    // KOR: the DMZ west to east, then the coast from the east, round the south, up the west.
    let kor_mainland = ring(
        DMZ.iter()
            .copied()
            .chain(KOR_MAINLAND_COAST.iter().copied()),
    );
    let korea = vec![
        kor_mainland,
        ring(JEJU.iter().copied()),
        ring(ULLEUNGDO.iter().copied()),
    ];
    // PRK: the DMZ west to east, the east coast north, the Chinese border west, the west coast south.
    let prk = ring(
        DMZ.iter()
            .copied()
            .chain(PRK_COAST.iter().rev().copied())
            .chain(PRK_CHN_BORDER.iter().rev().copied())
            .chain(PRK_WEST_COAST.iter().rev().copied()),
    );
    let china = ring(
        PRK_CHN_BORDER
            .iter()
            .copied()
            .chain(CHN_INLAND.iter().rev().copied())
            .chain(CHN_COAST.iter().rev().copied()),
    );
    vec![
        land_zone("JPN", "Japan", japan),
        land_zone("KOR", "Republic of Korea", korea),
        Zone {
            id: "KOR-land-takeshima".to_string(),
            disputed: true,
            ..land_zone(
                "KOR",
                "Takeshima / Dokdo (KOR-administered, JPN claims)",
                vec![ring(TAKESHIMA.iter().copied())],
            )
        },
        land_zone("PRK", "Democratic People's Republic of Korea", vec![prk]),
        land_zone("CHN", "China (coastal piece)", vec![china]),
    ]
}

/// A small hand-made zone set: [`fixture_land`] plus territorial seas, contiguous zones,
/// EEZs (median-line clipped) and DPRK's declared military zone computed by this crate at
/// 1/8° resolution, all `approximate: true`. Computed once per process, then cloned.
pub fn fixture_zones() -> Vec<Zone> {
    static ZONES: OnceLock<Vec<Zone>> = OnceLock::new();
    ZONES
        .get_or_init(|| {
            let land = fixture_land();
            let mut options = MaritimeOptions::north_east_asia(fixture_bbox());
            options.cell_min_deg = 1.0 / 8.0;
            let mut segments = Coastline::segments_from_land(&land);
            tag_disputed_coast(&mut segments, &options.disputed_features);
            let coast = Coastline::new(segments);
            let maritime = compute_maritime_zones(&land, &coast, &options)
                .expect("fixture options are valid by construction");
            land.into_iter().chain(maritime).collect()
        })
        .clone()
}
