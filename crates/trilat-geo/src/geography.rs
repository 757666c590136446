//! `Geography`: land + computed maritime zones + coast index for a bounding box, built from
//! Natural Earth TopoJSON, with official polygons able to replace the computed EEZ of a state.

use std::time::Duration;

use geo::{BooleanOps, BoundingRect, Intersects, MultiPolygon, Polygon, Rect};

use crate::coast::Coastline;
use crate::compute::{
    compute_maritime_zones_with_stats, tag_disputed_coast, MaritimeOptions, MaritimeStats,
};
use crate::error::{Error, ErrorKind};
use crate::index::ZoneIndex;
use crate::topojson::parse_topojson;
use crate::zone::{Zone, ZoneKind};

/// How far beyond the box coast is still loaded, degrees: a coast just outside the box still
/// decides the median line inside it (200 nm ≈ 3.4° of latitude).
const COAST_MARGIN_DEG: f64 = 5.0;

/// A monotonic clock the caller lends a build to time its phases: the time since any fixed
/// origin (the crate reads no clock of its own; `docs/bench/geo.md` quotes these phases).
pub type Stopwatch<'a> = &'a dyn Fn() -> Duration;

/// What a build took, for `docs/bench/geo.md` and logs. The phase times are `None` unless the
/// caller lent a [`Stopwatch`] ([`Geography::from_natural_earth_timed`]).
#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    /// Parsing and decoding the TopoJSON.
    pub parse: Option<Duration>,
    /// Clipping land to the box and building the coastline R-trees.
    pub land_and_coast: Option<Duration>,
    /// Classifying the sea and tracing zone outlines.
    pub maritime: Option<Duration>,
    /// Building the lookup grid (of the last build or rebuild).
    pub index: Option<Duration>,
    /// Coast segments loaded.
    pub n_coast_segments: usize,
    /// Quadtree counts.
    pub maritime_stats: MaritimeStats,
    /// Zones in the result.
    pub n_zones: usize,
    /// Approximate heap bytes of the index.
    pub memory_bytes: usize,
}

/// Land, maritime zones and coast for one bounding box, with a lookup index.
#[derive(Clone, Debug)]
pub struct Geography {
    index: ZoneIndex,
    report: BuildReport,
}

fn clip_to_box(polygon: &MultiPolygon<f64>, bbox: &Rect<f64>) -> MultiPolygon<f64> {
    let box_polygon: Polygon<f64> = bbox.to_polygon();
    let mut kept = Vec::new();
    for part in &polygon.0 {
        let Some(part_box) = part.bounding_rect() else {
            continue;
        };
        let inside = part_box.min().x >= bbox.min().x
            && part_box.max().x <= bbox.max().x
            && part_box.min().y >= bbox.min().y
            && part_box.max().y <= bbox.max().y;
        if inside {
            kept.push(part.clone());
        } else if part_box.intersects(bbox) {
            kept.extend(part.intersection(&box_polygon).0);
        }
    }
    MultiPolygon(kept)
}

fn land_zone(
    id: String,
    name: String,
    owner: &str,
    disputed: bool,
    parts: Vec<Polygon<f64>>,
) -> Zone {
    Zone {
        id,
        name,
        kind: ZoneKind::Land,
        owner: owner.to_string(),
        disputed,
        approximate: true,
        polygon: MultiPolygon(parts),
    }
}

/// The time since `started` on `stopwatch`, when the caller lent one.
fn lap(stopwatch: Option<Stopwatch<'_>>, started: Option<Duration>) -> Option<Duration> {
    Some(stopwatch?().saturating_sub(started?))
}

impl Geography {
    /// Builds from Natural Earth TopoJSON (world-atlas `countries-10m.json` or `-50m`): land of
    /// every country with a known ISO-3 clipped to `options.bbox`, coast from arcs used by one
    /// country, then maritime zones by [`crate::compute_maritime_zones`].
    pub fn from_natural_earth(
        topojson: &[u8],
        options: &MaritimeOptions,
    ) -> Result<Geography, Error> {
        Geography::build_natural_earth(topojson, options, None)
    }

    /// [`Geography::from_natural_earth`], timing each phase on `stopwatch` into
    /// [`Geography::report`] (the benchmark and the real-data tests lend one).
    pub fn from_natural_earth_timed(
        topojson: &[u8],
        options: &MaritimeOptions,
        stopwatch: Stopwatch<'_>,
    ) -> Result<Geography, Error> {
        Geography::build_natural_earth(topojson, options, Some(stopwatch))
    }

    fn build_natural_earth(
        topojson: &[u8],
        options: &MaritimeOptions,
        stopwatch: Option<Stopwatch<'_>>,
    ) -> Result<Geography, Error> {
        let started = stopwatch.map(|now| now());
        let topology = parse_topojson(topojson)?;
        let features = topology.features("countries")?;
        let parse = lap(stopwatch, started);

        let started = stopwatch.map(|now| now());
        let bbox = options.bbox;
        let margin = Rect::new(
            (
                bbox.min().x - COAST_MARGIN_DEG,
                bbox.min().y - COAST_MARGIN_DEG,
            ),
            (
                bbox.max().x + COAST_MARGIN_DEG,
                bbox.max().y + COAST_MARGIN_DEG,
            ),
        );
        let mut segments = topology.coast_segments(&features, Some(margin));
        tag_disputed_coast(&mut segments, &options.disputed_features);
        let coast = Coastline::new(segments);
        let mut land = Vec::new();
        for feature in &features {
            let Some(iso3) = &feature.iso3 else { continue };
            let polygon = clip_to_box(&feature.polygon, &bbox);
            // Islands of a disputed feature become their own land zone, flagged disputed.
            let (mut plain, mut by_feature) = (Vec::new(), std::collections::BTreeMap::new());
            for part in polygon.0 {
                let centre = part.bounding_rect().map(|r| r.center());
                let feature_hit = options.disputed_features.iter().find(|f| {
                    &f.administrator == iso3
                        && centre.is_some_and(|c| f.bbox.intersects(&geo::Point::from(c)))
                });
                match feature_hit {
                    Some(f) => by_feature
                        .entry(f.id.clone())
                        .or_insert_with(|| (f.name.clone(), Vec::new()))
                        .1
                        .push(part),
                    None => plain.push(part),
                }
            }
            let name = feature.name.clone().unwrap_or_else(|| iso3.clone());
            if !plain.is_empty() {
                land.push(land_zone(
                    format!("{iso3}-land"),
                    name.clone(),
                    iso3,
                    false,
                    plain,
                ));
            }
            for (feature_id, (feature_name, parts)) in by_feature {
                let zone_name = format!("{name}: {feature_name} (disputed)");
                land.push(land_zone(
                    format!("{iso3}-land-{feature_id}"),
                    zone_name,
                    iso3,
                    true,
                    parts,
                ));
            }
        }
        let land_and_coast = lap(stopwatch, started);
        let mut geography = Geography::build_from_land(land, coast, options, stopwatch)?;
        geography.report.parse = parse;
        geography.report.land_and_coast = land_and_coast;
        Ok(geography)
    }

    /// Builds from land zones and their coast (e.g. hand-made or loaded from GeoJSON).
    pub fn from_land(
        land: Vec<Zone>,
        coast: Coastline,
        options: &MaritimeOptions,
    ) -> Result<Geography, Error> {
        Geography::build_from_land(land, coast, options, None)
    }

    fn build_from_land(
        land: Vec<Zone>,
        coast: Coastline,
        options: &MaritimeOptions,
        stopwatch: Option<Stopwatch<'_>>,
    ) -> Result<Geography, Error> {
        let started = stopwatch.map(|now| now());
        let (maritime, stats) = compute_maritime_zones_with_stats(&land, &coast, options)
            .map_err(|e| Error::new(ErrorKind::Limit, "maritime options", e.to_string()))?;
        let maritime_time = lap(stopwatch, started);
        let n_coast_segments = coast.len();
        let zones: Vec<Zone> = land.into_iter().chain(maritime).collect();
        let started = stopwatch.map(|now| now());
        let index = ZoneIndex::with_coast(zones, coast);
        let report = BuildReport {
            maritime: maritime_time,
            index: lap(stopwatch, started),
            n_coast_segments,
            maritime_stats: stats,
            n_zones: index.zones().len(),
            memory_bytes: index.memory_bytes(),
            ..BuildReport::default()
        };
        Ok(Geography { index, report })
    }

    /// The lookup index over all zones.
    pub fn index(&self) -> &ZoneIndex {
        &self.index
    }

    /// All zones (land first, then maritime, then any added).
    pub fn zones(&self) -> &[Zone] {
        self.index.zones()
    }

    /// Timings and counts of the build.
    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    /// Replaces the computed EEZ zones of `owner` (including its disputed pieces) with
    /// `official` zones (e.g. Marine Regions polygons from [`crate::parse_geojson_zones`]),
    /// then rebuilds the index. Other states' computed EEZs are left as they are, so they may
    /// overlap an official polygon where the official line differs from the median line.
    pub fn with_official_eez(self, owner: &str, official: Vec<Zone>) -> Geography {
        let coast = self.index.coastline().clone();
        let zones = self
            .index
            .zones()
            .iter()
            .filter(|z| !(z.kind == ZoneKind::Eez && z.owner == owner && z.approximate))
            .cloned()
            .chain(official)
            .collect();
        self.rebuilt(zones, coast)
    }

    /// Adds zones (areas of interest, declared zones) and rebuilds the index.
    pub fn with_zones(self, extra: Vec<Zone>) -> Geography {
        let coast = self.index.coastline().clone();
        let zones = self.index.zones().iter().cloned().chain(extra).collect();
        self.rebuilt(zones, coast)
    }

    fn rebuilt(self, zones: Vec<Zone>, coast: Coastline) -> Geography {
        let index = ZoneIndex::with_coast(zones, coast);
        let mut report = self.report;
        report.index = None; // A rebuild is not timed: the build's figure no longer applies.
        report.n_zones = index.zones().len();
        report.memory_bytes = index.memory_bytes();
        Geography { index, report }
    }
}
