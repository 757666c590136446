//! `GET /api/v1/geo/zones`: the maritime zones the node's engines actually
//! use (the AIS tracker's zone events, the missile assessments' EEZ and
//! overflight calls), as one GeoJSON `FeatureCollection` for the map. Land
//! is left out (the console has its own basemap). A zone is `approximate`
//! when trilat-geo computed it or when simplifying it for display dropped
//! positions; only an official polygon drawn in full is not.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use trilat_geo::{Zone, ZoneIndex, ZoneKind};

use crate::config::Role;
use crate::{AppError, AppState, Caller};

/// Ramer–Douglas–Peucker tolerance for display, degrees (about 1.1 km).
pub const ZONE_TOLERANCE_DEG: f64 = 0.01;

pub(super) async fn zones_get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    caller.require(Role::Reader)?;
    let engines = state.engines.get()?;
    // The engines' zones are fixed once they start: written once (Natural
    // Earth zones take a fraction of a second to simplify), then served.
    let body = match engines.zones_geojson.get() {
        Some(body) => body.clone(),
        None => {
            let engines_bg = state.clone();
            let body = tokio::task::spawn_blocking(move || {
                let engines = engines_bg.engines.get()?;
                let (maritime, maritime_source) = engines.maritime.zones();
                let (missile, missile_source) = engines.missile.zones();
                let sets = [
                    ("maritime", maritime, maritime_source),
                    ("missile", missile, missile_source),
                ];
                serde_json::to_vec(&feature_collection(&sets)).map_err(AppError::internal)
            })
            .await
            .map_err(AppError::internal)??;
            engines
                .zones_geojson
                .get_or_init(|| Bytes::from(body))
                .clone()
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The zones of every set, each zone once: a zone two engines share (same
/// id, same source) lists both; a different zone under a known id gets its
/// engine's name in front of the id.
fn feature_collection(sets: &[(&str, &ZoneIndex, &str)]) -> Value {
    let mut features: BTreeMap<String, Value> = BTreeMap::new();
    for &(engine, index, source) in sets {
        for zone in index.zones() {
            let Some(kind) = kind_name(zone.kind) else {
                continue;
            };
            if let Some(feature) = features.get_mut(&zone.id) {
                if feature["properties"]["source"] == source_of(zone, source) {
                    push_engine(feature, engine);
                    continue;
                }
            }
            let id = if features.contains_key(&zone.id) {
                format!("{engine}/{}", zone.id)
            } else {
                zone.id.clone()
            };
            features.insert(id.clone(), feature(&id, zone, kind, engine, source));
        }
    }
    let features: Vec<Value> = features.into_values().collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// The console's kind names (land is not served).
fn kind_name(kind: ZoneKind) -> Option<&'static str> {
    match kind {
        ZoneKind::TerritorialSea => Some("territorial_sea"),
        ZoneKind::ContiguousZone => Some("contiguous_zone"),
        ZoneKind::Eez => Some("eez"),
        ZoneKind::Declared => Some("declared_area"),
        ZoneKind::AreaOfInterest => Some("area_of_interest"),
        _ => None,
    }
}

fn source_of(zone: &Zone, source: &str) -> String {
    if zone.approximate {
        format!("{source}; computed by trilat-geo")
    } else {
        format!("{source}; official polygon")
    }
}

fn feature(id: &str, zone: &Zone, kind: &str, engine: &str, source: &str) -> Value {
    let written = trilat_geo::zone_geometry_geojson(&zone.polygon, ZONE_TOLERANCE_DEG);
    let party = (!zone.owner.is_empty()).then_some(zone.owner.as_str());
    json!({
        "type": "Feature",
        "id": id,
        "geometry": written.geometry,
        "properties": {
            "id": id,
            "name": zone.name,
            "kind": kind,
            "party": party,
            "approximate": zone.approximate || written.simplified,
            "disputed": zone.disputed,
            "source": source_of(zone, source),
            "engines": [engine],
        },
    })
}

fn push_engine(feature: &mut Value, engine: &str) {
    if let Some(engines) = feature["properties"]["engines"].as_array_mut() {
        engines.push(json!(engine));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_zones_once_land_never_approximate_honest() {
        let index = ZoneIndex::new(trilat_geo::fixture_zones());
        let collection = feature_collection(&[
            ("maritime", &index, "fixture"),
            ("missile", &index, "fixture"),
        ]);
        let features = collection["features"].as_array().unwrap();
        let n_sea = index
            .zones()
            .iter()
            .filter(|z| z.kind != ZoneKind::Land)
            .count();
        assert_eq!(features.len(), n_sea);
        let jpn_eez = features
            .iter()
            .find(|f| f["id"] == "JPN-eez")
            .expect("JPN EEZ served");
        let props = &jpn_eez["properties"];
        assert_eq!(props["kind"], "eez");
        assert_eq!(props["party"], "JPN");
        assert_eq!(props["approximate"], true);
        assert_eq!(props["engines"], json!(["maritime", "missile"]));
        assert!(features.iter().all(|f| f["properties"]["kind"] != "land"));

        // A different zone set under the same ids keeps both, told apart.
        let mut official = trilat_geo::fixture_zones();
        official.retain(|z| z.id == "JPN-eez");
        official[0].approximate = false;
        let official = ZoneIndex::new(official);
        let collection = feature_collection(&[
            ("maritime", &index, "fixture"),
            ("missile", &official, "Marine Regions"),
        ]);
        let ids: Vec<&str> = collection["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["id"].as_str())
            .filter(|id| id.ends_with("JPN-eez"))
            .collect();
        assert_eq!(ids, ["JPN-eez", "missile/JPN-eez"]);
    }
}
