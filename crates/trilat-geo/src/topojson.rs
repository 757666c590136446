//! TopoJSON (as shipped by npm `world-atlas@2`: Natural Earth countries and land) → polygons
//! and owned coast segments. Pure: takes bytes.
//!
//! TopoJSON stores each shared boundary once, as an *arc*; polygons list arc indices (a
//! negative index `!i` means arc `i` reversed). An arc used by exactly one country of a
//! collection is coast; an arc used by two is a land border. That is how the coastline
//! keeps the DMZ and the Yalu out of the coast even after polygons are clipped.

use std::collections::{BTreeMap, HashMap};

use geo::{Coord, LineString, MultiPolygon, Polygon, Rect};
use serde::Deserialize;

use crate::error::{Error, ErrorKind};
use crate::iso::iso3_of;
use crate::{CoastSegment, LatLon};

/// Largest TopoJSON input accepted, bytes (world-atlas 10m countries is 3.7 MB).
pub const TOPOJSON_BYTES_MAX: usize = 128 << 20;
/// Most positions over all arcs.
pub const TOPOJSON_POSITIONS_MAX: usize = 20_000_000;
/// Most geometries in one object.
pub const TOPOJSON_GEOMETRIES_MAX: usize = 100_000;

#[derive(Deserialize)]
struct RawTopology {
    #[serde(rename = "type")]
    kind: String,
    objects: BTreeMap<String, RawGeometry>,
    arcs: Vec<Vec<Vec<f64>>>,
    transform: Option<RawTransform>,
}

#[derive(Deserialize)]
struct RawTransform {
    scale: [f64; 2],
    translate: [f64; 2],
}

#[derive(Deserialize)]
struct RawGeometry {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    geometries: Vec<RawGeometry>,
    #[serde(default)]
    arcs: serde_json::Value,
    #[serde(default)]
    id: serde_json::Value,
    #[serde(default)]
    properties: serde_json::Map<String, serde_json::Value>,
}

/// One polygon feature of a TopoJSON object, with the state it belongs to when known.
#[derive(Clone, Debug)]
pub struct TopoFeature {
    /// The `id` as text (Natural Earth: ISO 3166-1 numeric, e.g. `"392"`), if any.
    pub id: Option<String>,
    /// `properties.name`, if any.
    pub name: Option<String>,
    /// ISO 3166-1 alpha-3 from the id or name, when known (see [`crate::iso3_of`]).
    pub iso3: Option<String>,
    /// The area (x = lon, y = lat).
    pub polygon: MultiPolygon<f64>,
    /// Arc indices used by this feature (non-negative).
    arcs_used: Vec<usize>,
}

/// A decoded topology: absolute arc coordinates and the named objects.
pub struct Topology {
    arcs: Vec<Vec<Coord<f64>>>,
    objects: BTreeMap<String, RawGeometry>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("n_arcs", &self.arcs.len())
            .field("objects", &self.objects.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a TopoJSON `Topology`, decoding quantised, delta-encoded arcs to degrees.
pub fn parse_topojson(bytes: &[u8]) -> Result<Topology, Error> {
    if bytes.len() > TOPOJSON_BYTES_MAX {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!("{} bytes", bytes.len()),
            format!("TopoJSON input larger than {TOPOJSON_BYTES_MAX} bytes"),
        ));
    }
    let raw: RawTopology = serde_json::from_slice(bytes).map_err(|e| Error::json(&e))?;
    if raw.kind != "Topology" {
        return Err(Error::new(
            ErrorKind::Format,
            "top level \"type\"",
            format!("expected \"Topology\", found {:?}", raw.kind),
        ));
    }
    let n_positions: usize = raw.arcs.iter().map(Vec::len).sum();
    if n_positions > TOPOJSON_POSITIONS_MAX {
        return Err(Error::new(
            ErrorKind::Limit,
            "arcs",
            format!("{n_positions} positions > {TOPOJSON_POSITIONS_MAX}"),
        ));
    }
    let mut arcs = Vec::with_capacity(raw.arcs.len());
    for (arc_idx, raw_arc) in raw.arcs.iter().enumerate() {
        let mut arc = Vec::with_capacity(raw_arc.len());
        let (mut qx, mut qy) = (0.0f64, 0.0f64);
        for (pos_idx, position) in raw_arc.iter().enumerate() {
            let (Some(&x), Some(&y)) = (position.first(), position.get(1)) else {
                return Err(Error::new(
                    ErrorKind::Coordinate,
                    format!("arc {arc_idx}, position {pos_idx}"),
                    "a position needs two numbers",
                ));
            };
            let (lon, lat) = match &raw.transform {
                Some(t) => {
                    qx += x;
                    qy += y;
                    (
                        qx * t.scale[0] + t.translate[0],
                        qy * t.scale[1] + t.translate[1],
                    )
                }
                None => (x, y),
            };
            if !(lon.is_finite()
                && lat.is_finite()
                && (-180.0..=180.0).contains(&lon)
                && (-90.0..=90.0).contains(&lat))
            {
                return Err(Error::new(
                    ErrorKind::Coordinate,
                    format!("arc {arc_idx}, position {pos_idx}"),
                    format!("({lon}, {lat}) is not a longitude/latitude"),
                ));
            }
            arc.push(Coord { x: lon, y: lat });
        }
        arcs.push(arc);
    }
    Ok(Topology {
        arcs,
        objects: raw.objects,
    })
}

impl Topology {
    /// Names of the top-level objects (world-atlas: `countries`, `land`).
    pub fn object_names(&self) -> impl Iterator<Item = &str> {
        self.objects.keys().map(String::as_str)
    }

    fn ring(
        &self,
        arc_refs: &serde_json::Value,
        location: &dyn Fn() -> String,
        used: &mut Vec<usize>,
    ) -> Result<LineString<f64>, Error> {
        let refs = arc_refs.as_array().ok_or_else(|| {
            Error::new(
                ErrorKind::Format,
                location(),
                "a ring must be an array of arc indices",
            )
        })?;
        let mut coords: Vec<Coord<f64>> = Vec::new();
        for arc_ref in refs {
            let index = arc_ref.as_i64().ok_or_else(|| {
                Error::new(
                    ErrorKind::Format,
                    location(),
                    format!("arc index {arc_ref} is not an integer"),
                )
            })?;
            let (arc_idx, reversed) = if index >= 0 {
                (index as u64, false)
            } else {
                ((!index) as u64, true)
            };
            let arc = usize::try_from(arc_idx)
                .ok()
                .and_then(|i| self.arcs.get(i))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::ArcIndex,
                        location(),
                        format!("arc {index} does not exist ({} arcs)", self.arcs.len()),
                    )
                })?;
            used.push(arc_idx as usize);
            let points: Box<dyn Iterator<Item = &Coord<f64>>> = if reversed {
                Box::new(arc.iter().rev())
            } else {
                Box::new(arc.iter())
            };
            // Consecutive arcs share their joining point: skip the duplicate.
            let skip = usize::from(!coords.is_empty());
            coords.extend(points.skip(skip));
        }
        if coords.len() < 4 {
            return Err(Error::new(
                ErrorKind::Ring,
                location(),
                format!("a ring needs 4 positions, has {}", coords.len()),
            ));
        }
        Ok(LineString::new(coords))
    }

    fn polygon(
        &self,
        rings: &serde_json::Value,
        location: &dyn Fn() -> String,
        used: &mut Vec<usize>,
    ) -> Result<Option<Polygon<f64>>, Error> {
        let rings = rings.as_array().ok_or_else(|| {
            Error::new(
                ErrorKind::Format,
                location(),
                "a polygon must be an array of rings",
            )
        })?;
        let mut lines = Vec::with_capacity(rings.len());
        for ring in rings {
            match self.ring(ring, location, used) {
                Ok(line) => lines.push(line),
                // Natural Earth has a few degenerate slivers: drop them, keep the rest.
                Err(e) if e.kind == ErrorKind::Ring => continue,
                Err(e) => return Err(e),
            }
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let exterior = lines.remove(0);
        Ok(Some(Polygon::new(exterior, lines)))
    }

    /// Polygon features of object `name` (a GeometryCollection, or one geometry).
    /// Geometries other than Polygon / MultiPolygon are skipped.
    pub fn features(&self, name: &str) -> Result<Vec<TopoFeature>, Error> {
        let object = self.objects.get(name).ok_or_else(|| {
            Error::new(
                ErrorKind::Missing,
                format!("objects.{name}"),
                "no such object",
            )
        })?;
        let geometries: Vec<&RawGeometry> = if object.kind.as_deref() == Some("GeometryCollection")
        {
            object.geometries.iter().collect()
        } else {
            vec![object]
        };
        if geometries.len() > TOPOJSON_GEOMETRIES_MAX {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("objects.{name}"),
                format!(
                    "{} geometries > {TOPOJSON_GEOMETRIES_MAX}",
                    geometries.len()
                ),
            ));
        }
        let mut features = Vec::new();
        for (geometry_idx, geometry) in geometries.into_iter().enumerate() {
            let id = id_text(&geometry.id);
            let location = || {
                format!(
                    "objects.{name}, geometry {geometry_idx} (id {})",
                    id.as_deref().unwrap_or("none")
                )
            };
            let mut used = Vec::new();
            let polygons: Vec<Polygon<f64>> = match geometry.kind.as_deref() {
                Some("Polygon") => self
                    .polygon(&geometry.arcs, &location, &mut used)?
                    .into_iter()
                    .collect(),
                Some("MultiPolygon") => {
                    let parts = geometry.arcs.as_array().ok_or_else(|| {
                        Error::new(
                            ErrorKind::Format,
                            location(),
                            "MultiPolygon arcs must be an array",
                        )
                    })?;
                    let mut polygons = Vec::new();
                    for part in parts {
                        polygons.extend(self.polygon(part, &location, &mut used)?);
                    }
                    polygons
                }
                _ => continue,
            };
            let name_prop = geometry
                .properties
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let iso3 = iso3_of(id.as_deref(), name_prop.as_deref()).map(str::to_string);
            used.sort_unstable();
            features.push(TopoFeature {
                id,
                name: name_prop,
                iso3,
                polygon: MultiPolygon(polygons),
                arcs_used: used,
            });
        }
        Ok(features)
    }

    /// Coast segments of object `name`'s features: arcs used by exactly one feature, owned by
    /// that feature's state (features with no known ISO-3 give no coast). Only segments with
    /// an end inside `within` (if given) are returned.
    pub fn coast_segments(
        &self,
        features: &[TopoFeature],
        within: Option<Rect<f64>>,
    ) -> Vec<CoastSegment> {
        let mut users: HashMap<usize, u32> = HashMap::new();
        for feature in features {
            let mut arcs = feature.arcs_used.clone();
            arcs.dedup();
            for arc_idx in arcs {
                *users.entry(arc_idx).or_insert(0) += 1;
            }
        }
        let inside = |c: &Coord<f64>| {
            within.is_none_or(|r| {
                c.x >= r.min().x && c.x <= r.max().x && c.y >= r.min().y && c.y <= r.max().y
            })
        };
        let mut segments = Vec::new();
        for feature in features {
            let Some(owner) = &feature.iso3 else { continue };
            let mut arcs = feature.arcs_used.clone();
            arcs.dedup();
            for arc_idx in arcs.into_iter().filter(|a| users.get(a) == Some(&1)) {
                for pair in self.arcs[arc_idx].windows(2) {
                    if inside(&pair[0]) || inside(&pair[1]) {
                        segments.push(CoastSegment {
                            a: LatLon::new(pair[0].y, pair[0].x),
                            b: LatLon::new(pair[1].y, pair[1].x),
                            owner: owner.clone(),
                            dispute: None,
                        });
                    }
                }
            }
        }
        segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;

    /// Two unit squares sharing arc 0 (their border); quantised with a transform.
    const TWO_SQUARES: &str = r#"{"type":"Topology",
      "transform":{"scale":[0.5,0.5],"translate":[130,30]},
      "objects":{"countries":{"type":"GeometryCollection","geometries":[
        {"type":"Polygon","arcs":[[0,1]],"id":"392","properties":{"name":"Japan"}},
        {"type":"Polygon","arcs":[[-1,2]],"id":"410","properties":{"name":"South Korea"}},
        {"type":"Point","coordinates":[0,0]}
      ]}},
      "arcs":[[[2,0],[0,2]],[[2,2],[-2,0],[0,-2],[2,0]],[[2,0],[2,0],[0,2],[-2,0]]]}"#;

    #[test]
    fn decodes_arcs_owners_and_coast() {
        let topology = parse_topojson(TWO_SQUARES.as_bytes()).unwrap();
        assert_eq!(topology.object_names().collect::<Vec<_>>(), ["countries"]);
        let features = topology.features("countries").unwrap();
        assert_eq!(features.len(), 2);
        assert_eq!(features[0].iso3.as_deref(), Some("JPN"));
        assert_eq!(features[1].iso3.as_deref(), Some("KOR"));
        assert!((features[0].polygon.unsigned_area() - 1.0).abs() < 1e-12);
        assert!((features[1].polygon.unsigned_area() - 1.0).abs() < 1e-12);
        // Arc 0 (x = 131, the shared border) is not coast: 3 + 3 coast segments remain.
        let coast = topology.coast_segments(&features, None);
        assert_eq!(coast.len(), 6);
        assert!(coast
            .iter()
            .all(|s| !(s.a.lon == 131.0 && s.b.lon == 131.0)));
    }

    #[track_caller]
    fn check_err(input: &str, kind: ErrorKind, location_part: &str) {
        let err = parse_topojson(input.as_bytes())
            .and_then(|t| t.features("countries"))
            .unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.location.contains(location_part), "{err}");
    }

    #[test]
    fn errors_say_what_and_where() {
        check_err(
            "{\"type\":\"Topology\",\n\"objects\":{}, \"arcs\":[[[0,0]] ",
            ErrorKind::Json,
            "line 2",
        );
        check_err(
            r#"{"type":"FeatureCollection","objects":{},"arcs":[]}"#,
            ErrorKind::Format,
            "type",
        );
        check_err(
            r#"{"type":"Topology","objects":{},"arcs":[]}"#,
            ErrorKind::Missing,
            "countries",
        );
        check_err(
            r#"{"type":"Topology","objects":{"countries":{"type":"Polygon","arcs":[[7]],"id":"392"}},"arcs":[]}"#,
            ErrorKind::ArcIndex,
            "id 392",
        );
        check_err(
            r#"{"type":"Topology","objects":{},"arcs":[[[0,0],[500,0]]]}"#,
            ErrorKind::Coordinate,
            "arc 0, position 1",
        );
        check_err(
            r#"{"type":"Topology","objects":{},"arcs":[[[0]]]}"#,
            ErrorKind::Coordinate,
            "arc 0, position 0",
        );
    }
}
