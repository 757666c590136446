//! Reports as GeoJSON (RFC 7946) and KML 2.2, for GIS tools (QGIS, ArcGIS,
//! Google Earth).
//!
//! Each report becomes one feature (GeoJSON) or placemark (KML): its
//! geometry, and as properties its identity, kind, times, exercise flag and
//! marking (the banner first, so a reader sees it). GeoJSON keeps reports
//! without a geometry (`"geometry": null`, valid RFC 7946); KML has nowhere
//! to draw them and leaves them out, saying how many in the document's
//! description. The caller decides what may be exported: these functions
//! write what they are given.

use std::io::Cursor;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde_json::{json, Value};
use trilat_core::Report;

/// The KML 2.2 namespace.
pub const KML_NAMESPACE: &str = "http://www.opengis.net/kml/2.2";
/// Deepest nesting of GeometryCollections followed.
const GEOMETRY_DEPTH_MAX: usize = 8;

/// The properties a report's feature carries.
fn properties(report: &Report) -> Value {
    json!({
        "classification": report.marking.banner(),
        "id": report.id.to_string(),
        "owner": report.owner,
        "kind": report.kind.as_str(),
        "version": report.version,
        "observed_at": report.observed_at,
        "created_at": report.created_at,
        "modified": report.modified,
        "exercise": report.exercise,
        "revoked": report.revoked,
        "level": report.marking.level,
        "tlp": report.marking.tlp.to_string(),
        "rel_to": report.marking.rel_to.join(","),
        "payload": report.payload,
    })
}

/// The reports as one GeoJSON FeatureCollection.
pub fn geojson(reports: &[Report]) -> Value {
    let features: Vec<Value> = reports
        .iter()
        .map(|report| {
            json!({
                "type": "Feature",
                "id": format!("{}/{}", report.owner, report.id),
                "geometry": report.geometry.clone().unwrap_or(Value::Null),
                "properties": properties(report),
            })
        })
        .collect();
    assert_eq!(features.len(), reports.len());
    json!({ "type": "FeatureCollection", "features": features })
}

/// The reports as one KML 2.2 document named `title`.
pub fn kml(reports: &[Report], title: &str) -> String {
    let mut writer = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 1);
    write_kml(&mut writer, reports, title).expect("writing to memory does not fail");
    let text = String::from_utf8(writer.into_inner().into_inner()).expect("written from &str");
    debug_assert!(text.contains(KML_NAMESPACE));
    text
}

type W = Writer<Cursor<Vec<u8>>>;

fn write_kml(w: &mut W, reports: &[Report], title: &str) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(
        BytesStart::new("kml").with_attributes([("xmlns", KML_NAMESPACE)]),
    ))?;
    w.write_event(Event::Start(BytesStart::new("Document")))?;
    text_element(w, "name", title)?;
    let placed: Vec<&Report> = reports.iter().filter(|r| r.geometry.is_some()).collect();
    text_element(
        w,
        "description",
        &format!(
            "{} reports, {} without a geometry left out",
            placed.len(),
            reports.len() - placed.len()
        ),
    )?;
    for report in placed {
        write_placemark(w, report)?;
    }
    w.write_event(Event::End(BytesEnd::new("Document")))?;
    w.write_event(Event::End(BytesEnd::new("kml")))?;
    Ok(())
}

fn write_placemark(w: &mut W, report: &Report) -> std::io::Result<()> {
    let id = format!("{}-{}", report.owner, report.id);
    w.write_event(Event::Start(
        BytesStart::new("Placemark").with_attributes([("id", id.as_str())]),
    ))?;
    text_element(w, "name", &format!("{} ({})", report.kind, report.owner))?;
    text_element(w, "description", &report.marking.banner())?;
    w.write_event(Event::Start(BytesStart::new("TimeStamp")))?;
    text_element(w, "when", &report.observed_at.to_string())?;
    w.write_event(Event::End(BytesEnd::new("TimeStamp")))?;
    w.write_event(Event::Start(BytesStart::new("ExtendedData")))?;
    let Value::Object(fields) = properties(report) else {
        unreachable!("properties is an object")
    };
    for (name, value) in fields {
        let text = match value {
            Value::String(text) => text,
            other => other.to_string(),
        };
        w.write_event(Event::Start(
            BytesStart::new("Data").with_attributes([("name", name.as_str())]),
        ))?;
        text_element(w, "value", &text)?;
        w.write_event(Event::End(BytesEnd::new("Data")))?;
    }
    w.write_event(Event::End(BytesEnd::new("ExtendedData")))?;
    if let Some(geometry) = &report.geometry {
        write_geometry(w, geometry, 0)?;
    }
    w.write_event(Event::End(BytesEnd::new("Placemark")))?;
    Ok(())
}

/// A GeoJSON geometry in KML: Point, LineString, Polygon (outer and inner
/// rings), the Multi* forms and GeometryCollection as MultiGeometry.
/// Anything unreadable is left out (the report's own validation already
/// refused malformed geometry).
fn write_geometry(w: &mut W, geometry: &Value, depth: usize) -> std::io::Result<()> {
    if depth > GEOMETRY_DEPTH_MAX {
        return Ok(());
    }
    let coordinates = geometry.get("coordinates");
    match (geometry.get("type").and_then(Value::as_str), coordinates) {
        (Some("Point"), Some(c)) => {
            w.write_event(Event::Start(BytesStart::new("Point")))?;
            text_element(w, "coordinates", &position(c))?;
            w.write_event(Event::End(BytesEnd::new("Point")))?;
        }
        (Some("LineString"), Some(c)) => {
            w.write_event(Event::Start(BytesStart::new("LineString")))?;
            text_element(w, "coordinates", &positions(c))?;
            w.write_event(Event::End(BytesEnd::new("LineString")))?;
        }
        (Some("Polygon"), Some(c)) => write_polygon(w, c)?,
        (Some(multi @ ("MultiPoint" | "MultiLineString" | "MultiPolygon")), Some(c)) => {
            let single = &multi["Multi".len()..];
            w.write_event(Event::Start(BytesStart::new("MultiGeometry")))?;
            for part in c.as_array().into_iter().flatten() {
                write_geometry(w, &json!({"type": single, "coordinates": part}), depth + 1)?;
            }
            w.write_event(Event::End(BytesEnd::new("MultiGeometry")))?;
        }
        (Some("GeometryCollection"), _) => {
            w.write_event(Event::Start(BytesStart::new("MultiGeometry")))?;
            let parts = geometry.get("geometries").and_then(Value::as_array);
            for part in parts.into_iter().flatten() {
                write_geometry(w, part, depth + 1)?;
            }
            w.write_event(Event::End(BytesEnd::new("MultiGeometry")))?;
        }
        _ => {}
    }
    Ok(())
}

fn write_polygon(w: &mut W, rings: &Value) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new("Polygon")))?;
    for (ring_idx, ring) in rings.as_array().into_iter().flatten().enumerate() {
        let boundary = if ring_idx == 0 {
            "outerBoundaryIs"
        } else {
            "innerBoundaryIs"
        };
        w.write_event(Event::Start(BytesStart::new(boundary)))?;
        w.write_event(Event::Start(BytesStart::new("LinearRing")))?;
        text_element(w, "coordinates", &positions(ring))?;
        w.write_event(Event::End(BytesEnd::new("LinearRing")))?;
        w.write_event(Event::End(BytesEnd::new(boundary)))?;
    }
    w.write_event(Event::End(BytesEnd::new("Polygon")))?;
    Ok(())
}

/// `lon,lat[,alt]` of one GeoJSON position.
fn position(position: &Value) -> String {
    position
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .filter_map(Value::as_f64)
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// KML's space-separated tuples of a GeoJSON position array.
fn positions(list: &Value) -> String {
    list.as_array()
        .into_iter()
        .flatten()
        .map(position)
        .collect::<Vec<_>>()
        .join(" ")
}

fn text_element(w: &mut W, name: &str, text: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}
