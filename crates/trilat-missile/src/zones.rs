//! Maritime and land zones as the assessment needs them: is a point on land, inside a party's
//! territory (land + 12 nm territorial sea), inside its exclusive economic zone?
//!
//! The assessment asks a [`ZoneOracle`]; [`CoastZones`] answers from coastline polygons
//! (Natural Earth countries as GeoJSON) with the **approximate** rules: territorial sea = within
//! 12 nm of the coast, EEZ = within 200 nm and nearer this party's coast than any other's
//! (equidistance). Official EEZ polygons, when a user has them, replace the computed ones for
//! their owner. The shared geography crate (`trilat-geo`) can implement [`ZoneOracle`] too.

use rstar::{primitives::GeomWithData, RTree};

use crate::error::{Error, ErrorKind, Result};

/// Territorial sea breadth: 12 nautical miles (m).
pub const TERRITORIAL_SEA_M: f64 = 12.0 * 1852.0;
/// EEZ breadth: 200 nautical miles (m).
pub const EEZ_M: f64 = 200.0 * 1852.0;
/// Most polygon vertices accepted from one zone file.
pub const ZONE_VERTICES_MAX: usize = 5_000_000;

/// A ring of (lon, lat) positions in degrees.
pub type Ring = Vec<(f64, f64)>;
/// A polygon: outer ring first, then holes.
pub type PolygonRings = Vec<Ring>;

/// A party code (ISO 3166 alpha-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyCode(pub [u8; 3]);

impl PartyCode {
    /// From a three-letter code; `None` unless three ASCII uppercase letters.
    pub fn new(code: &str) -> Option<PartyCode> {
        let b = code.as_bytes();
        (b.len() == 3 && b.iter().all(u8::is_ascii_uppercase))
            .then(|| PartyCode([b[0], b[1], b[2]]))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

/// Japan.
pub const JPN: PartyCode = PartyCode(*b"JPN");

/// What a point is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZoneCall {
    /// On land (any country).
    pub on_land: bool,
    /// Owner of the territory (land or territorial sea) the point is in.
    pub territory: Option<PartyCode>,
    /// Owner of the EEZ the point is in (sea only).
    pub eez: Option<PartyCode>,
}

/// Answers zone questions for the assessment.
pub trait ZoneOracle {
    /// Classifies a point (degrees).
    fn classify(&self, lat_deg: f64, lon_deg: f64) -> ZoneCall;
    /// Whether the zones are approximate (computed, not official).
    fn approximate(&self) -> bool;
}

/// No zones known: everything is open sea. Assessments then report zero probabilities and say
/// zones were unavailable.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoZones;

impl ZoneOracle for NoZones {
    fn classify(&self, _: f64, _: f64) -> ZoneCall {
        ZoneCall::default()
    }
    fn approximate(&self) -> bool {
        true
    }
}

/// Latitude bin height for the edge index (degrees).
const EDGE_BIN_DEG: f64 = 0.1;

/// A polygon (outer ring first, then holes) in (lon, lat) degrees, with its bounding box and its
/// edges binned by latitude, so a point test looks only at edges spanning the point's latitude.
#[derive(Debug, Clone)]
struct Polygon {
    bbox: (f64, f64, f64, f64),
    bins: Vec<Vec<[f64; 4]>>,
}

impl Polygon {
    fn new(rings: Vec<Vec<(f64, f64)>>) -> Polygon {
        let mut bbox = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in rings.iter().flatten() {
            bbox = (bbox.0.min(x), bbox.1.min(y), bbox.2.max(x), bbox.3.max(y));
        }
        let n_bins = if bbox.3 >= bbox.1 {
            (((bbox.3 - bbox.1) / EDGE_BIN_DEG).floor() as usize) + 1
        } else {
            0
        };
        let mut bins: Vec<Vec<[f64; 4]>> = vec![Vec::new(); n_bins];
        for ring in &rings {
            let n = ring.len();
            for i in 0..n {
                let (xi, yi) = ring[i];
                let (xj, yj) = ring[(i + n - 1) % n];
                let lo = ((yi.min(yj) - bbox.1) / EDGE_BIN_DEG).floor().max(0.0) as usize;
                let hi = (((yi.max(yj) - bbox.1) / EDGE_BIN_DEG).floor() as usize)
                    .min(n_bins.saturating_sub(1));
                for bin in bins.iter_mut().take(hi + 1).skip(lo) {
                    bin.push([xi, yi, xj, yj]);
                }
            }
        }
        Polygon { bbox, bins }
    }

    /// Even-odd ray casting over the edges spanning the latitude (holes subtract).
    fn contains(&self, lon: f64, lat: f64) -> bool {
        if lon < self.bbox.0 || lat < self.bbox.1 || lon > self.bbox.2 || lat > self.bbox.3 {
            return false;
        }
        let bin = ((lat - self.bbox.1) / EDGE_BIN_DEG).floor() as usize;
        let Some(edges) = self.bins.get(bin) else {
            return false;
        };
        let mut inside = false;
        for &[xi, yi, xj, yj] in edges {
            if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                inside = !inside;
            }
        }
        inside
    }
}

type CoastPoint = GeomWithData<[f64; 3], u16>;

/// Zones computed from coastline polygons, optionally with official EEZ polygons.
pub struct CoastZones {
    owners: Vec<PartyCode>,
    land: Vec<(u16, Polygon)>,
    coast: RTree<CoastPoint>,
    official_eez: Vec<(PartyCode, Polygon)>,
}

impl std::fmt::Debug for CoastZones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoastZones")
            .field("owners", &self.owners)
            .field("land_polygons", &self.land.len())
            .field("coast_vertices", &self.coast.size())
            .finish()
    }
}

fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (sp, cp) = lat.to_radians().sin_cos();
    let (sl, cl) = lon.to_radians().sin_cos();
    [cp * cl, cp * sl, sp]
}

/// Great-circle distance (m) from a chord length on the unit sphere.
fn chord_to_m(chord: f64) -> f64 {
    2.0 * crate::frames::EARTH_RADIUS_MEAN_M * (chord / 2.0).min(1.0).asin()
}

/// ISO 3166 alpha-3 codes for the country names used by Natural Earth in North-East Asia.
pub fn iso3_for_country_name(name: &str) -> Option<PartyCode> {
    let code = match name {
        "Japan" => "JPN",
        "South Korea" | "Korea" | "Republic of Korea" => "KOR",
        "North Korea" | "Dem. Rep. Korea" => "PRK",
        "China" => "CHN",
        "Russia" => "RUS",
        "Taiwan" => "TWN",
        "Philippines" => "PHL",
        "United States" | "United States of America" => "USA",
        "Mongolia" => "MNG",
        _ => return None,
    };
    PartyCode::new(code)
}

fn rings_of(geometry: &serde_json::Value) -> std::result::Result<Vec<PolygonRings>, String> {
    let kind = geometry
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or("geometry without type")?;
    let coords = geometry
        .get("coordinates")
        .ok_or("geometry without coordinates")?;
    let ring = |r: &serde_json::Value| -> std::result::Result<Vec<(f64, f64)>, String> {
        r.as_array()
            .ok_or("ring is not an array")?
            .iter()
            .map(|p| {
                let lon = p.get(0).and_then(|v| v.as_f64()).ok_or("bad position")?;
                let lat = p.get(1).and_then(|v| v.as_f64()).ok_or("bad position")?;
                if !lon.is_finite() || !lat.is_finite() || lat.abs() > 90.0 {
                    return Err("position out of range".to_string());
                }
                Ok((lon, lat))
            })
            .collect()
    };
    let polygon = |p: &serde_json::Value| -> std::result::Result<Vec<Vec<(f64, f64)>>, String> {
        p.as_array()
            .ok_or("polygon is not an array")?
            .iter()
            .map(ring)
            .collect()
    };
    match kind {
        "Polygon" => Ok(vec![polygon(coords)?]),
        "MultiPolygon" => coords
            .as_array()
            .ok_or("multipolygon is not an array")?
            .iter()
            .map(polygon)
            .collect(),
        other => Err(format!("unsupported geometry {other}")),
    }
}

impl CoastZones {
    /// Builds zones from a GeoJSON FeatureCollection of countries whose `properties.name` (or
    /// `properties.iso3`) names the owner. Features of unknown owners are skipped. Errors name
    /// the feature number.
    pub fn from_countries_geojson(text: &str) -> Result<CoastZones> {
        let root: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::at(e.line(), ErrorKind::Malformed(e.to_string())))?;
        let features = root
            .get("features")
            .and_then(|f| f.as_array())
            .ok_or_else(|| Error::new(ErrorKind::Malformed("no features array".into())))?;
        let mut countries = Vec::new();
        for (idx, feature) in features.iter().enumerate() {
            let props = feature.get("properties");
            let owner = props
                .and_then(|p| p.get("iso3"))
                .and_then(|v| v.as_str())
                .and_then(PartyCode::new)
                .or_else(|| {
                    props
                        .and_then(|p| p.get("name"))
                        .and_then(|v| v.as_str())
                        .and_then(iso3_for_country_name)
                });
            let Some(owner) = owner else { continue };
            let geometry = feature.get("geometry").ok_or_else(|| {
                Error::at(
                    idx + 1,
                    ErrorKind::Malformed("feature without geometry".into()),
                )
            })?;
            let polygons = rings_of(geometry).map_err(|e| {
                Error::at(
                    idx + 1,
                    ErrorKind::Malformed(format!("feature {}: {e}", idx + 1)),
                )
            })?;
            countries.push((owner, polygons));
        }
        CoastZones::new(countries)
    }

    /// Builds zones from owners and their land polygons (rings of (lon, lat)).
    pub fn new(countries: Vec<(PartyCode, Vec<PolygonRings>)>) -> Result<CoastZones> {
        let mut owners: Vec<PartyCode> = Vec::new();
        let mut land = Vec::new();
        let mut coast_points = Vec::new();
        for (owner, polygons) in countries {
            let owner_idx = match owners.iter().position(|o| *o == owner) {
                Some(i) => i,
                None => {
                    owners.push(owner);
                    owners.len() - 1
                }
            } as u16;
            for rings in polygons {
                for &(lon, lat) in rings.iter().flatten() {
                    coast_points.push(CoastPoint::new(unit_vector(lat, lon), owner_idx));
                }
                if coast_points.len() > ZONE_VERTICES_MAX {
                    return Err(Error::new(ErrorKind::Limit {
                        what: "zone vertices",
                        max: ZONE_VERTICES_MAX,
                    }));
                }
                land.push((owner_idx, Polygon::new(rings)));
            }
        }
        Ok(CoastZones {
            owners,
            land,
            coast: RTree::bulk_load(coast_points),
            official_eez: Vec::new(),
        })
    }

    /// Replaces the computed EEZ of `owner` by official polygons (rings of (lon, lat)).
    pub fn set_official_eez(&mut self, owner: PartyCode, polygons: Vec<PolygonRings>) {
        self.official_eez.retain(|(o, _)| *o != owner);
        self.official_eez.extend(
            polygons
                .into_iter()
                .map(|rings| (owner, Polygon::new(rings))),
        );
    }

    /// The owner of the nearest coast vertex and its distance (m).
    pub fn nearest_coast(&self, lat: f64, lon: f64) -> Option<(PartyCode, f64)> {
        let q = unit_vector(lat, lon);
        let p = self.coast.nearest_neighbor(&q)?;
        let g = p.geom();
        let chord = ((g[0] - q[0]).powi(2) + (g[1] - q[1]).powi(2) + (g[2] - q[2]).powi(2)).sqrt();
        Some((self.owners[p.data as usize], chord_to_m(chord)))
    }
}

impl ZoneOracle for CoastZones {
    fn classify(&self, lat: f64, lon: f64) -> ZoneCall {
        if let Some((owner_idx, _)) = self.land.iter().find(|(_, p)| p.contains(lon, lat)) {
            let owner = self.owners[*owner_idx as usize];
            return ZoneCall {
                on_land: true,
                territory: Some(owner),
                eez: None,
            };
        }
        let nearest = self.nearest_coast(lat, lon);
        let territory = nearest
            .filter(|(_, d)| *d <= TERRITORIAL_SEA_M)
            .map(|(o, _)| o);
        let official = self
            .official_eez
            .iter()
            .find(|(_, p)| p.contains(lon, lat))
            .map(|(o, _)| *o);
        let computed = nearest
            .filter(|(o, d)| *d <= EEZ_M && !self.official_eez.iter().any(|(x, _)| x == o))
            .map(|(o, _)| o);
        ZoneCall {
            on_land: false,
            territory,
            eez: official.or(computed),
        }
    }

    fn approximate(&self) -> bool {
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A toy archipelago: "JPN" is a 2°×2° square island at 36–38°N, 136–138°E; "KOR" a square
    /// at 36–38°N, 127–129°E. Vertices every 0.1° so distances to the coast are close to exact.
    pub fn toy_zones() -> CoastZones {
        let square = |lon0: f64, lat0: f64| {
            let mut ring = Vec::new();
            for i in 0..20 {
                ring.push((lon0 + 0.1 * f64::from(i), lat0));
            }
            for i in 0..20 {
                ring.push((lon0 + 2.0, lat0 + 0.1 * f64::from(i)));
            }
            for i in 0..20 {
                ring.push((lon0 + 2.0 - 0.1 * f64::from(i), lat0 + 2.0));
            }
            for i in 0..20 {
                ring.push((lon0, lat0 + 2.0 - 0.1 * f64::from(i)));
            }
            vec![vec![ring]]
        };
        CoastZones::new(vec![
            (JPN, square(136.0, 36.0)),
            (PartyCode::new("KOR").expect("code"), square(127.0, 36.0)),
        ])
        .expect("toy zones")
    }

    #[track_caller]
    fn check(lat: f64, lon: f64, on_land: bool, territory: Option<&str>, eez: Option<&str>) {
        let call = toy_zones().classify(lat, lon);
        assert_eq!(call.on_land, on_land, "{lat},{lon}");
        assert_eq!(
            call.territory.map(|p| p.as_str().to_string()).as_deref(),
            territory,
            "{lat},{lon}"
        );
        assert_eq!(
            call.eez.map(|p| p.as_str().to_string()).as_deref(),
            eez,
            "{lat},{lon}"
        );
    }

    #[test]
    fn classifies_land_territorial_sea_eez_and_high_seas() {
        check(37.0, 137.0, true, Some("JPN"), None);
        check(37.0, 138.2, false, Some("JPN"), Some("JPN")); // ≈17.6 km off the coast
        check(37.0, 139.0, false, None, Some("JPN")); // ≈89 km
        check(37.0, 142.5, false, None, None); // ≈400 km: beyond 200 nm
        check(37.0, 132.6, false, None, Some("JPN")); // past the equidistance line at 132.5°E
    }

    #[test]
    fn equidistance_splits_between_neighbours() {
        let z = toy_zones();
        // Midway between the coasts at 129°E and 136°E is 132.5°E.
        assert_eq!(
            z.classify(37.0, 132.3)
                .eez
                .map(|p| p.as_str().to_string())
                .as_deref(),
            Some("KOR")
        );
        assert_eq!(
            z.classify(37.0, 132.7)
                .eez
                .map(|p| p.as_str().to_string())
                .as_deref(),
            Some("JPN")
        );
    }

    #[test]
    fn official_polygons_replace_the_computed_eez() {
        let mut z = toy_zones();
        z.set_official_eez(
            JPN,
            vec![vec![vec![
                (138.0, 35.0),
                (140.0, 35.0),
                (140.0, 39.0),
                (138.0, 39.0),
            ]]],
        );
        assert_eq!(z.classify(37.0, 139.0).eez, Some(JPN));
        assert_eq!(z.classify(37.0, 141.0).eez, None);
    }

    #[test]
    fn geojson_errors_name_the_feature() {
        let bad = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Japan"},"geometry":{"type":"Polygon","coordinates":[[[1,"x"]]]}}]}"#;
        let err = CoastZones::from_countries_geojson(bad).unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(CoastZones::from_countries_geojson("{").is_err());
    }
}
