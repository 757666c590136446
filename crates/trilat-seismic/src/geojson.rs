//! The USGS GeoJSON event feeds (`summary/*.geojson`, the FDSN event
//! service's `format=geojson`): a `FeatureCollection` of `Point` features,
//! coordinates `[lon, lat, depth km]`, `properties.time` in milliseconds
//! since 1970 UTC, one magnitude (`mag`, `magType`), the contributing
//! network `net`, the event `type` and the `place` text. The summary feeds
//! carry no location uncertainty.

use crate::error::{check_len, Diagnostic, ErrorKind, ParseError, Parsed, EVENTS_MAX};
use crate::event::{Event, Format, Magnitude, MagnitudeScale, Origin};
use serde_json::Value;
use time::OffsetDateTime;

/// Reads a USGS GeoJSON `FeatureCollection` (or a single `Feature`).
/// A feature that cannot be read is reported by its index and skipped.
pub fn parse_usgs_geojson(text: &str) -> Result<Parsed, ParseError> {
    check_len(Format::UsgsGeojson, text)?;
    let root: Value = serde_json::from_str(text).map_err(|e| {
        ParseError::new(
            Some(Format::UsgsGeojson),
            e.line(),
            ErrorKind::Malformed,
            format!("not JSON: {e}"),
        )
    })?;
    let features: Vec<&Value> = match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => root
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| whole("a FeatureCollection without a `features` array"))?
            .iter()
            .collect(),
        Some("Feature") => vec![&root],
        other => {
            return Err(whole(format!(
                "top-level `type` is {other:?}, not \"FeatureCollection\" or \"Feature\""
            )))
        }
    };
    if features.len() > EVENTS_MAX {
        return Err(ParseError::new(
            Some(Format::UsgsGeojson),
            0,
            ErrorKind::LimitExceeded,
            format!("{} features, more than {EVENTS_MAX}", features.len()),
        ));
    }
    let mut parsed = Parsed::default();
    for (idx, feature) in features.into_iter().enumerate() {
        match event(feature) {
            Ok(e) => parsed.events.push(e),
            Err(what) => parsed.diagnostics.push(Diagnostic {
                line: 0,
                what: format!("features[{idx}]: {what}; skipped"),
            }),
        }
    }
    Ok(parsed)
}

fn whole(what: impl Into<String>) -> ParseError {
    ParseError::new(Some(Format::UsgsGeojson), 0, ErrorKind::Malformed, what)
}

fn string(props: &Value, key: &str) -> Option<String> {
    props
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn event(feature: &Value) -> Result<Event, String> {
    let props = feature.get("properties").ok_or("no `properties`")?;
    let coords = feature
        .pointer("/geometry/coordinates")
        .and_then(Value::as_array)
        .ok_or("no `geometry.coordinates` array")?;
    let coord = |i: usize, what: &str| -> Result<Option<f64>, String> {
        match coords.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| format!("geometry.coordinates[{i}] ({what}) is not a number")),
        }
    };
    let lon = coord(0, "longitude")?.ok_or("no longitude")?;
    let lat = coord(1, "latitude")?.ok_or("no latitude")?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(format!("coordinates ({lon}, {lat}) out of range"));
    }
    let millis = props
        .get("time")
        .and_then(Value::as_i64)
        .ok_or("`properties.time` is not an integer (milliseconds since 1970)")?;
    let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|e| format!("`properties.time` {millis} out of range ({e})"))?;
    let net = string(props, "net");
    let mut magnitudes = Vec::new();
    if let Some(value) = props
        .get("mag")
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
    {
        let raw_type = string(props, "magType").unwrap_or_default();
        magnitudes.push(Magnitude {
            scale: MagnitudeScale::from_type(&raw_type),
            raw_type,
            value,
            error: None,
            agency: net.clone(),
            station_count: None,
        });
    }
    let id = feature
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            Some(format!(
                "{}{}",
                string(props, "net")?,
                string(props, "code")?
            ))
        })
        .unwrap_or_default();
    Ok(Event {
        id,
        format: Format::UsgsGeojson,
        agency: net,
        origin: Origin {
            time,
            time_error_s: None,
            lat: Some(lat),
            lon: Some(lon),
            uncertainty: None,
            depth_km: coord(2, "depth")?,
            depth_error_km: None,
            depth_fixed: false,
        },
        magnitudes,
        event_type: string(props, "type"),
        event_type_certainty: None,
        region: string(props, "place"),
    })
}
