//! Maritime zones computed from land and coast: the honest simple method.
//!
//! A sea point belongs to the state whose coast is nearest (the equidistance or median-line
//! rule); it is in that state's territorial sea within 12 nm, contiguous zone from 12 to
//! 24 nm, EEZ from 12 to 200 nm. Distances are great circles on the mean sphere
//! (R = 6371.0088 km; within about 0.3 % of the WGS-84 geodesic, ≤ 0.6 nm at 200 nm).
//!
//! The rule is evaluated on an adaptive quadtree of longitude/latitude cells: a cell whose
//! distance bounds prove a single answer for every point in it (nearest owner certain, no
//! zone limit crossing it, not straddling a disputed area) is kept whole; other cells are
//! split down to `cell_min_deg`, where the cell centre decides. So zone limits and median
//! lines are exact to within one smallest cell (≈ 1.7 km at 1/64°), and the coast side of the
//! territorial sea is exact to the land data (land is subtracted as polygons).

use std::collections::BTreeMap;

use geo::orient::{Direction, Orient};
use geo::{BooleanOps, MultiPolygon, Rect};

use crate::coast::{unit_vector, Coastline};
use crate::index::ZoneIndex;
use crate::trace::trace_squares;
use crate::zone::{Zone, ZoneKind};
use crate::{haversine_m, LatLon, NM_M};

/// Territorial sea breadth, metres (12 nm).
pub const TERRITORIAL_SEA_M: f64 = 12.0 * NM_M;
/// Contiguous zone outer limit, metres (24 nm).
pub const CONTIGUOUS_ZONE_M: f64 = 24.0 * NM_M;
/// EEZ outer limit, metres (200 nm).
pub const EEZ_M: f64 = 200.0 * NM_M;
/// DPRK's 1977 military boundary zone in the East Sea, metres (50 nm).
pub const DPRK_MILITARY_ZONE_EAST_M: f64 = 50.0 * NM_M;
/// Most quadtree leaves one computation may produce (bounds memory and time).
pub const QUADTREE_LEAVES_MAX: usize = 4_000_000;

/// An island or group whose sovereignty is disputed: coast inside `bbox` generates disputed water.
#[derive(Clone, Debug, PartialEq)]
pub struct DisputedFeature {
    /// Short id used in zone ids, e.g. `"takeshima"`.
    pub id: String,
    /// Human-readable name with both names, e.g. `"Takeshima / Dokdo"`.
    pub name: String,
    /// ISO-3 codes of the states claiming it (the administering state included).
    pub claimants: Vec<String>,
    /// ISO-3 of the state whose land the feature is in the data (Natural Earth: de facto
    /// administration); only that state's coast inside `bbox` is tagged, so e.g. Hokkaido's
    /// Nemuro peninsula (JPN) next to the Habomai islets (RUS-administered) is not.
    pub administrator: String,
    /// Area containing the feature's coast (lon/lat).
    pub bbox: Rect<f64>,
}

/// A sea area where the EEZ boundary is unagreed: EEZ water inside is flagged disputed.
#[derive(Clone, Debug, PartialEq)]
pub struct DisputedArea {
    /// Short id used in zone ids, e.g. `"yellow-sea"`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// ISO-3 codes of the states whose claims overlap there.
    pub claimants: Vec<String>,
    /// The area (lon/lat box).
    pub bbox: Rect<f64>,
}

/// Settings for [`compute_maritime_zones`].
#[derive(Clone, Debug)]
pub struct MaritimeOptions {
    /// Area over which zones are computed (lon/lat); water outside is not assigned.
    pub bbox: Rect<f64>,
    /// Smallest quadtree cell, degrees: the resolution of zone limits and median lines.
    pub cell_min_deg: f64,
    /// Disputed features (their coast keys are set when the coastline is built).
    pub disputed_features: Vec<DisputedFeature>,
    /// Disputed EEZ boundary areas.
    pub disputed_areas: Vec<DisputedArea>,
    /// Add DPRK's declared military zone (approximate) when PRK coast is present.
    pub dprk_military_zone: bool,
}

/// Counts from one computation, for build reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaritimeStats {
    /// Quadtree cells classified.
    pub n_cells_classified: usize,
    /// Leaves kept as sea inside 200 nm.
    pub n_leaves: usize,
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
    Rect::new((x0, y0), (x1, y1))
}

/// The disputed features this crate knows in North-East Asia (documented in `docs/geo.md`).
pub fn north_east_asia_disputed_features() -> Vec<DisputedFeature> {
    let feature = |id: &str, name: &str, claimants: &[&str], bbox| DisputedFeature {
        id: id.to_string(),
        name: name.to_string(),
        claimants: claimants.iter().map(|c| c.to_string()).collect(),
        administrator: claimants[0].to_string(),
        bbox,
    };
    vec![
        feature("takeshima", "Takeshima / Dokdo (Liancourt Rocks)", &["KOR", "JPN"], rect(131.80, 37.18, 131.92, 37.30)),
        feature("senkaku", "Senkaku / Diaoyu Islands", &["JPN", "CHN", "TWN"], rect(123.40, 25.60, 124.65, 26.05)),
        feature(
            "northern-territories",
            "Northern Territories / Southern Kurils (Etorofu/Iturup, Kunashiri/Kunashir, Shikotan, Habomai)",
            &["RUS", "JPN"],
            rect(145.35, 43.20, 148.95, 45.60),
        ),
        feature(
            "scarborough",
            "Scarborough Shoal / Huangyan Dao (Natural Earth: Scarborough Reef)",
            &["PHL", "CHN", "TWN"],
            rect(117.60, 15.00, 117.90, 15.30),
        ),
    ]
}

/// The disputed EEZ boundary areas this crate knows (documented in `docs/geo.md`).
pub fn north_east_asia_disputed_areas() -> Vec<DisputedArea> {
    let area = |id: &str, name: &str, claimants: &[&str], bbox| DisputedArea {
        id: id.to_string(),
        name: name.to_string(),
        claimants: claimants.iter().map(|c| c.to_string()).collect(),
        bbox,
    };
    vec![
        area(
            "yellow-sea",
            "Yellow Sea: unagreed CHN–KOR–PRK EEZ boundaries (incl. Provisional Measures Zone, Ieodo/Suyan Rock, Northern Limit Line)",
            &["CHN", "KOR", "PRK"],
            rect(122.0, 32.0, 125.8, 39.8),
        ),
        area(
            "takeshima-waters",
            "Waters around Takeshima / Dokdo (for data too coarse to hold the rocks)",
            &["KOR", "JPN"],
            rect(131.55, 37.00, 132.20, 37.50),
        ),
        area(
            "east-china-sea",
            "East China Sea: median line (JPN) vs continental-shelf claim to the Okinawa Trough (CHN); JPN–KOR Joint Development Zone",
            &["JPN", "CHN", "KOR", "TWN"],
            rect(122.5, 25.5, 129.0, 32.0),
        ),
    ]
}

impl MaritimeOptions {
    /// North-East Asia defaults over `bbox`: 1/64° cells, the known disputes, DPRK's zone.
    pub fn north_east_asia(bbox: Rect<f64>) -> MaritimeOptions {
        MaritimeOptions {
            bbox,
            cell_min_deg: 1.0 / 64.0,
            disputed_features: north_east_asia_disputed_features(),
            disputed_areas: north_east_asia_disputed_areas(),
            dprk_military_zone: true,
        }
    }
}

/// Answer of the rule at one point: nearest coast key, distance band, disputed area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SeaClass {
    key_idx: u16,
    /// 0: ≤ 12 nm, 1: ≤ 24 nm, 2: ≤ 50 nm, 3: ≤ 200 nm.
    band: u8,
    /// 0 = none, else 1 + index into `disputed_areas`.
    area: u8,
    /// East of the DPRK declared-zone split meridian.
    east: bool,
}

const BAND_LIMITS_M: [f64; 4] = [
    TERRITORIAL_SEA_M,
    CONTIGUOUS_ZONE_M,
    DPRK_MILITARY_ZONE_EAST_M,
    EEZ_M,
];
/// Meridian splitting DPRK's west-coast (Yellow Sea) and east-coast (East Sea) waters.
const DPRK_SPLIT_LON: f64 = 127.5;

/// Distance band at `distance_m`; the 50 nm limit only matters for DPRK's declared zone, so
/// for other coasts bands 2 and 3 are one (fewer limits to resolve, fewer cells).
fn band_of(distance_m: f64, with_50nm: bool) -> Option<u8> {
    let band = BAND_LIMITS_M
        .iter()
        .position(|&limit| distance_m <= limit)? as u8;
    Some(if band == 2 && !with_50nm { 3 } else { band })
}

struct Classifier<'a> {
    coast: &'a Coastline,
    land: &'a ZoneIndex,
    options: &'a MaritimeOptions,
    leaves: BTreeMap<SeaClass, Vec<Rect<f64>>>,
    n_leaves: usize,
    n_cells_classified: usize,
    /// Per coast key: whether the 50 nm limit applies (DPRK's declared zone).
    needs_50nm: Vec<bool>,
    scratch: Vec<crate::ZoneId>,
}

impl Classifier<'_> {
    fn area_at(&self, p: LatLon) -> u8 {
        let position = self.options.disputed_areas.iter().position(|a| {
            let (min, max) = (a.bbox.min(), a.bbox.max());
            p.lon >= min.x && p.lon < max.x && p.lat >= min.y && p.lat < max.y
        });
        position.map_or(0, |i| i as u8 + 1)
    }

    /// True when a vertical or horizontal line of some disputed area (or the DPRK split
    /// meridian) passes through the cell's interior.
    fn straddles_lines(&self, cell: &Rect<f64>) -> bool {
        let (min, max) = (cell.min(), cell.max());
        let cuts_x = |x: f64| x > min.x && x < max.x;
        let cuts_y = |y: f64| y > min.y && y < max.y;
        let area_cut = self.options.disputed_areas.iter().any(|a| {
            let (amin, amax) = (a.bbox.min(), a.bbox.max());
            let overlaps_x = amax.x > min.x && amin.x < max.x;
            let overlaps_y = amax.y > min.y && amin.y < max.y;
            (overlaps_y && (cuts_x(amin.x) || cuts_x(amax.x)))
                || (overlaps_x && (cuts_y(amin.y) || cuts_y(amax.y)))
        });
        area_cut || (self.options.dprk_military_zone && cuts_x(DPRK_SPLIT_LON))
    }

    fn on_land(&mut self, p: LatLon) -> bool {
        self.scratch.clear();
        self.land.zones_containing(p, &mut self.scratch);
        !self.scratch.is_empty()
    }

    /// Classifies `cell`, splitting it when needed. `candidates` are the coast keys that can
    /// be nearest or second-nearest anywhere in the cell (proved by the parent's bounds).
    fn classify(&mut self, cell: Rect<f64>, candidates: &[u16]) {
        self.n_cells_classified += 1;
        let c = cell.center();
        let center = LatLon::new(c.y, c.x);
        let (min, max) = (cell.min(), cell.max());
        let half_diagonal_m = [
            (min.x, min.y),
            (min.x, max.y),
            (max.x, min.y),
            (max.x, max.y),
        ]
        .iter()
        .map(|&(x, y)| haversine_m(center, LatLon::new(y, x)))
        .fold(0.0f64, f64::max);
        let q = unit_vector(center);
        let mut distances: Vec<(f64, u16)> = candidates
            .iter()
            .filter_map(|&k| self.coast.key_distance_m(&q, k as usize).map(|d| (d, k)))
            .collect();
        distances.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let Some(&(d1, key1)) = distances.first() else {
            return;
        };
        let d2 = distances.get(1).map_or(f64::INFINITY, |s| s.0);
        let r = half_diagonal_m;
        if d1 - r > EEZ_M {
            return; // Every point of the cell is beyond 200 nm of every coast.
        }
        let is_min = cell.width() <= self.options.cell_min_deg * 1.000_001;
        let owner_certain = d2 - r > d1 + r;
        let with_50nm = self.needs_50nm[key1 as usize];
        let limit_crossed = BAND_LIMITS_M
            .iter()
            .filter(|&&limit| with_50nm || limit != DPRK_MILITARY_ZONE_EAST_M)
            .any(|&limit| d1 - r < limit && d1 + r > limit);
        // Coast may cross the cell when it is within the cell's reach of the centre.
        let coast_crossed = d1 <= r;
        // A cell the coast crosses can still be one leaf when all of it is within 12 nm of
        // one owner: its land part is subtracted exactly from the territorial sea later.
        let coast_settled = !coast_crossed || d1 + r <= TERRITORIAL_SEA_M;
        let uniform =
            owner_certain && !limit_crossed && coast_settled && !self.straddles_lines(&cell);
        if !uniform && !is_min {
            // A key farther than the second-nearest by more than the cell's reach can be
            // neither nearest nor second-nearest anywhere inside it.
            let child_candidates: Vec<u16> = distances
                .iter()
                .filter(|(d, _)| d - r <= d2 + r)
                .map(|&(_, k)| k)
                .collect();
            let (w, h) = (cell.width() / 2.0, cell.height() / 2.0);
            for (x0, y0) in [
                (min.x, min.y),
                (min.x + w, min.y),
                (min.x, min.y + h),
                (min.x + w, min.y + h),
            ] {
                self.classify(rect(x0, y0, x0 + w, y0 + h), &child_candidates);
            }
            return;
        }
        // Leaves touching the coast keep their sea part; land is subtracted exactly later.
        if !coast_crossed && self.on_land(center) {
            return;
        }
        let Some(band) = band_of(d1, with_50nm) else {
            return;
        };
        let class = SeaClass {
            key_idx: key1,
            band,
            area: self.area_at(center),
            east: center.lon >= DPRK_SPLIT_LON,
        };
        self.leaves.entry(class).or_default().push(cell);
        self.n_leaves += 1;
    }
}

/// Why a maritime computation could not finish.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ComputeError {
    /// The bounding box is empty, inverted or not finite.
    #[error("bounding box {0:?} is empty or not finite")]
    BadBbox(Rect<f64>),
    /// The smallest cell size is not a positive finite number of degrees.
    #[error("cell_min_deg {0} must be a positive finite number of degrees")]
    BadCellSize(f64),
    /// The quadtree needed more than [`QUADTREE_LEAVES_MAX`] leaves (cell too small for the area).
    #[error(
        "more than {QUADTREE_LEAVES_MAX} quadtree leaves: raise cell_min_deg or shrink the box"
    )]
    TooManyLeaves,
}

/// Computes territorial seas, contiguous zones, EEZs (equidistance-clipped) and, when asked,
/// DPRK's declared military zone, from `land` zones and their `coast`.
///
/// All zones come out `approximate: true`; zones generated by a disputed feature's coast or
/// lying in a disputed area come out `disputed: true` with the dispute id in their id.
pub fn compute_maritime_zones(
    land: &[Zone],
    coast: &Coastline,
    options: &MaritimeOptions,
) -> Result<Vec<Zone>, ComputeError> {
    compute_maritime_zones_with_stats(land, coast, options).map(|(zones, _)| zones)
}

/// [`compute_maritime_zones`], also returning counts for build reports.
pub fn compute_maritime_zones_with_stats(
    land: &[Zone],
    coast: &Coastline,
    options: &MaritimeOptions,
) -> Result<(Vec<Zone>, MaritimeStats), ComputeError> {
    let (min, max) = (options.bbox.min(), options.bbox.max());
    if !(min.x.is_finite() && min.y.is_finite() && max.x.is_finite() && max.y.is_finite())
        || options.bbox.width() <= 0.0
        || options.bbox.height() <= 0.0
    {
        return Err(ComputeError::BadBbox(options.bbox));
    }
    if !(options.cell_min_deg.is_finite() && options.cell_min_deg > 0.0) {
        return Err(ComputeError::BadCellSize(options.cell_min_deg));
    }
    let land_zones: Vec<Zone> = land
        .iter()
        .filter(|z| z.kind == ZoneKind::Land)
        .cloned()
        .collect();
    let land_index = ZoneIndex::with_coast(land_zones.clone(), Coastline::default());
    let mut classifier = Classifier {
        coast,
        land: &land_index,
        options,
        leaves: BTreeMap::new(),
        n_leaves: 0,
        n_cells_classified: 0,
        needs_50nm: coast
            .keys()
            .iter()
            .map(|k| options.dprk_military_zone && k.owner == "PRK")
            .collect(),
        scratch: Vec::new(),
    };
    let all_keys: Vec<u16> = (0..coast.keys().len() as u16).collect();
    // Top cells: 2^k times the smallest cell, about 1° wide.
    let top_deg = options.cell_min_deg * (1.0 / options.cell_min_deg).log2().ceil().max(0.0).exp2();
    let n_cols = (options.bbox.width() / top_deg).ceil() as usize;
    let n_rows = (options.bbox.height() / top_deg).ceil() as usize;
    for row in 0..n_rows {
        for col in 0..n_cols {
            let (x0, y0) = (min.x + col as f64 * top_deg, min.y + row as f64 * top_deg);
            classifier.classify(rect(x0, y0, x0 + top_deg, y0 + top_deg), &all_keys);
            if classifier.n_leaves > QUADTREE_LEAVES_MAX {
                return Err(ComputeError::TooManyLeaves);
            }
        }
    }
    let stats = MaritimeStats {
        n_cells_classified: classifier.n_cells_classified,
        n_leaves: classifier.n_leaves,
    };
    let leaves = classifier.leaves;
    // geo's union picks its fill rule from the first ring's winding: orient everything alike.
    let land_oriented: Vec<MultiPolygon<f64>> = land_zones
        .iter()
        .map(|z| z.polygon.orient(Direction::Default))
        .collect();
    // Countries do not overlap, so all their polygons together serve as the clip shape.
    let land_union = MultiPolygon(land_oriented.into_iter().flat_map(|m| m.0).collect());
    Ok((assemble_zones(&leaves, coast, options, &land_union), stats))
}

/// One output zone being gathered: which leaves belong to it.
struct ZonePlan {
    owner: String,
    kind: ZoneKind,
    dispute: Option<(String, String, Vec<String>)>,
    classes: Vec<SeaClass>,
}

fn assemble_zones(
    leaves: &BTreeMap<SeaClass, Vec<Rect<f64>>>,
    coast: &Coastline,
    options: &MaritimeOptions,
    land_union: &MultiPolygon<f64>,
) -> Vec<Zone> {
    let mut plans: BTreeMap<(String, ZoneKind, Option<String>), ZonePlan> = BTreeMap::new();
    for &class in leaves.keys() {
        let key = &coast.keys()[class.key_idx as usize];
        let feature = key
            .dispute
            .as_ref()
            .and_then(|id| options.disputed_features.iter().find(|f| &f.id == id))
            .map(|f| (f.id.clone(), f.name.clone(), f.claimants.clone()));
        let area = (class.area > 0)
            .then(|| &options.disputed_areas[class.area as usize - 1])
            .map(|a| (a.id.clone(), a.name.clone(), a.claimants.clone()));
        let mut kinds = Vec::new();
        match class.band {
            0 => kinds.push(ZoneKind::TerritorialSea),
            1 => kinds.extend([ZoneKind::ContiguousZone, ZoneKind::Eez]),
            _ => kinds.push(ZoneKind::Eez),
        }
        let declared =
            options.dprk_military_zone && key.owner == "PRK" && (class.band <= 2 || !class.east);
        if declared {
            kinds.push(ZoneKind::Declared);
        }
        for kind in kinds {
            // A disputed feature marks every zone it generates; a disputed area marks EEZ water.
            let dispute = match kind {
                ZoneKind::Declared => None,
                ZoneKind::Eez => feature.clone().or_else(|| area.clone()),
                _ => feature.clone(),
            };
            let plan_key = (
                key.owner.clone(),
                kind,
                dispute.as_ref().map(|d| d.0.clone()),
            );
            plans
                .entry(plan_key)
                .or_insert_with(|| ZonePlan {
                    owner: key.owner.clone(),
                    kind,
                    dispute,
                    classes: Vec::new(),
                })
                .classes
                .push(class);
        }
    }
    let (x0, y0) = (options.bbox.min().x, options.bbox.min().y);
    let step = options.cell_min_deg;
    let lattice = |r: &Rect<f64>| {
        let i0 = ((r.min().x - x0) / step).round() as i32;
        let j0 = ((r.min().y - y0) / step).round() as i32;
        let size = (r.width() / step).round() as i32;
        (i0, j0, size)
    };
    let mut zones = Vec::new();
    for plan in plans.into_values() {
        let squares = plan
            .classes
            .iter()
            .flat_map(|class| leaves[class].iter().map(lattice));
        let mut polygon = trace_squares(squares, x0, y0, step);
        if matches!(plan.kind, ZoneKind::TerritorialSea | ZoneKind::Declared) {
            polygon = polygon.difference(land_union);
        }
        if polygon.0.is_empty() {
            continue;
        }
        zones.push(maritime_zone(plan, polygon));
    }
    zones
}

fn maritime_zone(plan: ZonePlan, polygon: MultiPolygon<f64>) -> Zone {
    let kind_name = match plan.kind {
        ZoneKind::TerritorialSea => "territorial sea (12 nm)",
        ZoneKind::ContiguousZone => "contiguous zone (12–24 nm)",
        ZoneKind::Eez => "exclusive economic zone (200 nm, median line)",
        ZoneKind::Declared => {
            "declared military boundary zone (1977; 50 nm east, to EEZ limit west)"
        }
        _ => "zone",
    };
    let (id, name) = match &plan.dispute {
        None => (
            format!("{}-{}", plan.owner, plan.kind.label()),
            format!("{} {} (computed)", plan.owner, kind_name),
        ),
        Some((dispute_id, dispute_name, claimants)) => (
            format!("{}-{}-{}", plan.owner, plan.kind.label(), dispute_id),
            format!(
                "{} {} (computed) — disputed: {} (claimants {})",
                plan.owner,
                kind_name,
                dispute_name,
                claimants.join(", ")
            ),
        ),
    };
    Zone {
        id,
        name,
        kind: plan.kind,
        owner: plan.owner,
        disputed: plan.dispute.is_some(),
        approximate: true,
        polygon,
    }
}

/// Tags coast segments that lie in a disputed feature's box with the feature id.
pub fn tag_disputed_coast(segments: &mut [crate::CoastSegment], features: &[DisputedFeature]) {
    for segment in segments.iter_mut() {
        let mid = LatLon::new(
            (segment.a.lat + segment.b.lat) / 2.0,
            (segment.a.lon + segment.b.lon) / 2.0,
        );
        let feature = features.iter().find(|f| {
            let (min, max) = (f.bbox.min(), f.bbox.max());
            f.administrator == segment.owner
                && mid.lon >= min.x
                && mid.lon <= max.x
                && mid.lat >= min.y
                && mid.lat <= max.y
        });
        if let Some(feature) = feature {
            segment.dispute = Some(feature.id.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CoastSegment;

    fn segment(lat: f64, lon: f64, owner: &str) -> CoastSegment {
        CoastSegment {
            a: LatLon::new(lat, lon),
            b: LatLon::new(lat + 0.01, lon + 0.01),
            owner: owner.to_string(),
            dispute: None,
        }
    }

    #[test]
    fn only_the_administering_state_coast_is_tagged() {
        // Nemuro peninsula (JPN) and Kunashiri (RUS) both lie in the Northern Territories box.
        let mut segments = vec![
            segment(43.35, 145.60, "JPN"),
            segment(44.00, 145.80, "RUS"),
            segment(35.0, 135.0, "JPN"),
        ];
        tag_disputed_coast(&mut segments, &north_east_asia_disputed_features());
        let tags: Vec<Option<&str>> = segments.iter().map(|s| s.dispute.as_deref()).collect();
        assert_eq!(tags, [None, Some("northern-territories"), None]);
    }

    #[test]
    fn bands() {
        assert_eq!(band_of(5.0 * NM_M, false), Some(0));
        assert_eq!(band_of(20.0 * NM_M, false), Some(1));
        assert_eq!(band_of(40.0 * NM_M, true), Some(2));
        assert_eq!(band_of(40.0 * NM_M, false), Some(3));
        assert_eq!(band_of(150.0 * NM_M, true), Some(3));
        assert_eq!(band_of(201.0 * NM_M, true), None);
    }

    #[test]
    fn bad_options_are_errors() {
        let coast = Coastline::default();
        let mut options = MaritimeOptions::north_east_asia(rect(130.0, 30.0, 130.0, 31.0));
        assert!(matches!(
            compute_maritime_zones(&[], &coast, &options),
            Err(ComputeError::BadBbox(_))
        ));
        options.bbox = rect(130.0, 30.0, 131.0, 31.0);
        options.cell_min_deg = f64::NAN;
        assert!(matches!(
            compute_maritime_zones(&[], &coast, &options),
            Err(ComputeError::BadCellSize(_))
        ));
        // No coast at all: nothing to assign, no error.
        options.cell_min_deg = 0.25;
        assert!(compute_maritime_zones(&[], &coast, &options)
            .unwrap()
            .is_empty());
    }
}
