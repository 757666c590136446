//! GeoJSON FeatureCollections → zones: official EEZ polygons (Marine Regions), OSM maritime
//! borders, user-drawn areas of interest. Pure: takes a string.
//!
//! Properties read (first found wins): owner from `owner`, `iso3`, `isoA3`, `ISO_A3`,
//! `ISO_SOV1`, `ISO_TER1`; name from `name`, `GEONAME`, `NAME`; kind from `kind` (kebab-case
//! [`ZoneKind`]) else the caller's default; `disputed` from a boolean `disputed`, or Marine
//! Regions' `POL_TYPE` "Overlapping claim" / "Joint regime"; `approximate` from a boolean
//! `approximate` (default false: a loaded polygon is taken as authoritative).

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::zone::{Zone, ZoneKind};

/// Largest GeoJSON input accepted, bytes.
pub const GEOJSON_BYTES_MAX: usize = 256 << 20;
/// Most features in one collection.
pub const GEOJSON_FEATURES_MAX: usize = 100_000;
/// Deepest GeometryCollection nesting followed.
const GEOMETRY_DEPTH_MAX: usize = 8;

fn first_str<'a>(props: &'a serde_json::Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| props.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

fn position(value: &Value, location: &dyn Fn() -> String) -> Result<Coord<f64>, Error> {
    let pair = value.as_array().filter(|a| a.len() >= 2);
    let (x, y) = match pair {
        Some(a) => (a[0].as_f64(), a[1].as_f64()),
        None => (None, None),
    };
    match (x, y) {
        (Some(x), Some(y))
            if x.is_finite()
                && y.is_finite()
                && (-180.0..=180.0).contains(&x)
                && (-90.0..=90.0).contains(&y) =>
        {
            Ok(Coord { x, y })
        }
        _ => Err(Error::new(
            ErrorKind::Coordinate,
            location(),
            format!("{value} is not a [longitude, latitude] position"),
        )),
    }
}

fn polygon(rings: &Value, location: &dyn Fn() -> String) -> Result<Polygon<f64>, Error> {
    let rings = rings.as_array().filter(|r| !r.is_empty()).ok_or_else(|| {
        Error::new(
            ErrorKind::Format,
            location(),
            "a Polygon needs an array of rings",
        )
    })?;
    let mut lines = Vec::with_capacity(rings.len());
    for (ring_idx, ring) in rings.iter().enumerate() {
        let ring_location = || format!("{}, ring {ring_idx}", location());
        let positions = ring.as_array().ok_or_else(|| {
            Error::new(
                ErrorKind::Format,
                ring_location(),
                "a ring must be an array of positions",
            )
        })?;
        if positions.len() < 4 {
            return Err(Error::new(
                ErrorKind::Ring,
                ring_location(),
                format!("a ring needs 4 positions, has {}", positions.len()),
            ));
        }
        let coords = positions
            .iter()
            .map(|p| position(p, &ring_location))
            .collect::<Result<Vec<_>, _>>()?;
        lines.push(LineString::new(coords));
    }
    let exterior = lines.remove(0);
    Ok(Polygon::new(exterior, lines))
}

fn collect_polygons(
    geometry: &Value,
    depth: usize,
    location: &dyn Fn() -> String,
    out: &mut Vec<Polygon<f64>>,
) -> Result<(), Error> {
    if depth > GEOMETRY_DEPTH_MAX {
        return Err(Error::new(
            ErrorKind::Limit,
            location(),
            format!("GeometryCollection nested deeper than {GEOMETRY_DEPTH_MAX}"),
        ));
    }
    let kind = geometry.get("type").and_then(Value::as_str);
    match kind {
        Some("Polygon") => out.push(polygon(
            geometry.get("coordinates").unwrap_or(&Value::Null),
            location,
        )?),
        Some("MultiPolygon") => {
            let parts = geometry
                .get("coordinates")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Format,
                        location(),
                        "a MultiPolygon needs an array of polygons",
                    )
                })?;
            for (part_idx, part) in parts.iter().enumerate() {
                out.push(polygon(part, &|| {
                    format!("{}, polygon {part_idx}", location())
                })?);
            }
        }
        Some("GeometryCollection") => {
            let members = geometry
                .get("geometries")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Format,
                        location(),
                        "a GeometryCollection needs \"geometries\"",
                    )
                })?;
            for (member_idx, member) in members.iter().enumerate() {
                collect_polygons(
                    member,
                    depth + 1,
                    &|| format!("{}, member {member_idx}", location()),
                    out,
                )?;
            }
        }
        // Points and lines carry no area: skipped, not an error.
        Some("Point" | "MultiPoint" | "LineString" | "MultiLineString") => {}
        other => {
            return Err(Error::new(
                ErrorKind::Format,
                location(),
                format!("unknown geometry type {other:?}"),
            ))
        }
    }
    Ok(())
}

/// Parses a GeoJSON FeatureCollection of (Multi)Polygon features into zones of
/// `default_kind` (overridden per feature by a `kind` property). Features without area are
/// skipped; a malformed feature is an error naming its index and id.
pub fn parse_geojson_zones(text: &str, default_kind: ZoneKind) -> Result<Vec<Zone>, Error> {
    if text.len() > GEOJSON_BYTES_MAX {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!("{} bytes", text.len()),
            format!("GeoJSON input larger than {GEOJSON_BYTES_MAX} bytes"),
        ));
    }
    let root: Value = serde_json::from_str(text).map_err(|e| Error::json(&e))?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(Error::new(
            ErrorKind::Format,
            "top level \"type\"",
            "expected a FeatureCollection",
        ));
    }
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Format,
                "features",
                "a FeatureCollection needs a \"features\" array",
            )
        })?;
    if features.len() > GEOJSON_FEATURES_MAX {
        return Err(Error::new(
            ErrorKind::Limit,
            "features",
            format!("{} features > {GEOJSON_FEATURES_MAX}", features.len()),
        ));
    }
    let empty = serde_json::Map::new();
    let mut zones = Vec::new();
    for (feature_idx, feature) in features.iter().enumerate() {
        let props = feature
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let feature_id = feature
            .get("id")
            .and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_i64().map(|n| n.to_string()))
            })
            .or_else(|| first_str(props, &["id", "MRGID", "mrgid"]).map(str::to_string));
        let location = || {
            format!(
                "feature {feature_idx} (id {})",
                feature_id.as_deref().unwrap_or("none")
            )
        };
        let mut polygons = Vec::new();
        if let Some(geometry) = feature.get("geometry").filter(|g| !g.is_null()) {
            collect_polygons(geometry, 0, &location, &mut polygons)?;
        }
        if polygons.is_empty() {
            continue;
        }
        let kind = match props.get("kind") {
            Some(v) => serde_json::from_value::<ZoneKind>(v.clone()).map_err(|_| {
                Error::new(
                    ErrorKind::Format,
                    location(),
                    format!("unknown zone kind {v}"),
                )
            })?,
            None => default_kind,
        };
        let owner = first_str(
            props,
            &[
                "owner", "iso3", "isoA3", "ISO_A3", "ISO_SOV1", "ISO_TER1", "iso_sov1",
            ],
        )
        .unwrap_or("")
        .to_string();
        let name = first_str(props, &["name", "GEONAME", "NAME", "geoname"])
            .map(str::to_string)
            .unwrap_or_else(|| format!("{owner} {}", kind.label()));
        let pol_type = first_str(props, &["POL_TYPE", "pol_type"]).unwrap_or("");
        let disputed = props
            .get("disputed")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || pol_type.contains("Overlapping claim")
            || pol_type.contains("Joint regime");
        let approximate = props
            .get("approximate")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let id = feature_id.clone().unwrap_or_else(|| {
            format!(
                "{}-{}-{feature_idx}",
                if owner.is_empty() { "zone" } else { &owner },
                kind.label()
            )
        });
        zones.push(Zone {
            id,
            name,
            kind,
            owner,
            disputed,
            approximate,
            polygon: MultiPolygon(polygons),
        });
    }
    Ok(zones)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AREAS: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","id":"watch-1","properties":{"name":"Watch box","kind":"area-of-interest"},
       "geometry":{"type":"Polygon","coordinates":[[[134,38],[136,38],[136,40],[134,40],[134,38]]]}},
      {"type":"Feature","properties":{"isoA3":"JPN"},
       "geometry":{"type":"GeometryCollection","geometries":[
         {"type":"Polygon","coordinates":[[[139,35],[140,35],[140,36],[139,35]]]},
         {"type":"Point","coordinates":[139,35]}]}},
      {"type":"Feature","properties":{"GEONAME":"Overlapping claim X","ISO_SOV1":"KOR","POL_TYPE":"Overlapping claim"},
       "geometry":{"type":"MultiPolygon","coordinates":[[[[125,33],[126,33],[126,34],[125,33]]]]}},
      {"type":"Feature","properties":{},"geometry":null}
    ]}"#;

    #[test]
    fn reads_kinds_owners_and_disputes() {
        let zones = parse_geojson_zones(AREAS, ZoneKind::Eez).unwrap();
        assert_eq!(zones.len(), 3);
        assert_eq!(
            (zones[0].id.as_str(), zones[0].kind, zones[0].name.as_str()),
            ("watch-1", ZoneKind::AreaOfInterest, "Watch box")
        );
        assert_eq!(
            (
                zones[1].owner.as_str(),
                zones[1].kind,
                zones[1].polygon.0.len()
            ),
            ("JPN", ZoneKind::Eez, 1)
        );
        assert!(zones[2].disputed && zones[2].owner == "KOR" && !zones[2].approximate);
    }

    #[track_caller]
    fn check_err(input: &str, kind: ErrorKind, location_part: &str) {
        let err = parse_geojson_zones(input, ZoneKind::Eez).unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.location.contains(location_part), "{err}");
    }

    #[test]
    fn errors_say_what_and_where() {
        check_err(
            "{\"type\":\n\n\"FeatureCollection\",",
            ErrorKind::Json,
            "line 3",
        );
        check_err(r#"{"type":"Feature"}"#, ErrorKind::Format, "type");
        check_err(
            r#"{"type":"FeatureCollection","features":[{"id":7,"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}"#,
            ErrorKind::Ring,
            "feature 0 (id 7), ring 0",
        );
        check_err(
            r#"{"type":"FeatureCollection","features":[{},{"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,"x"],[0,0]]]}}]}"#,
            ErrorKind::Coordinate,
            "feature 1",
        );
        check_err(
            r#"{"type":"FeatureCollection","features":[{"properties":{"kind":"moon"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#,
            ErrorKind::Format,
            "feature 0",
        );
    }
}

/// A zone's area as a GeoJSON `MultiPolygon` geometry for display, and what
/// writing it did. Rings are simplified (Ramer–Douglas–Peucker) within
/// `tolerance_deg` and positions rounded to 1e-4° (about 11 m); a ring the
/// simplification reduces below a triangle is left out. The output is for
/// drawing, not for point-in-zone tests: use the [`crate::ZoneIndex`] for
/// those.
pub fn zone_geometry_geojson(area: &MultiPolygon<f64>, tolerance_deg: f64) -> ZoneGeometry {
    use geo::{CoordsIter, Simplify};
    assert!(tolerance_deg >= 0.0, "tolerance_deg must not be negative");
    let simplified = area.simplify(&tolerance_deg);
    let mut n_positions = 0;
    let ring = |line: &LineString<f64>, n_positions: &mut usize| -> Option<Value> {
        // A closed ring needs four positions (a triangle plus the closing one).
        if line.0.len() < 4 {
            return None;
        }
        *n_positions += line.0.len();
        let round = |v: f64| (v * 1e4).round() / 1e4;
        Some(Value::Array(
            line.0
                .iter()
                .map(|c| serde_json::json!([round(c.x), round(c.y)]))
                .collect(),
        ))
    };
    let mut polygons = Vec::new();
    for poly in &simplified {
        let Some(exterior) = ring(poly.exterior(), &mut n_positions) else {
            continue;
        };
        let mut rings = vec![exterior];
        rings.extend(
            poly.interiors()
                .iter()
                .filter_map(|inner| ring(inner, &mut n_positions)),
        );
        polygons.push(Value::Array(rings));
    }
    let n_positions_in = area.coords_count();
    debug_assert!(n_positions <= n_positions_in);
    ZoneGeometry {
        geometry: serde_json::json!({"type": "MultiPolygon", "coordinates": polygons}),
        n_positions,
        simplified: n_positions < n_positions_in,
    }
}

/// What [`zone_geometry_geojson`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneGeometry {
    /// The GeoJSON geometry (`MultiPolygon`).
    pub geometry: Value,
    /// Positions written.
    pub n_positions: usize,
    /// Whether positions were dropped: the shape is then approximate.
    pub simplified: bool,
}
