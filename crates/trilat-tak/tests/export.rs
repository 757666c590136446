//! GeoJSON and KML of reports: valid shapes, one feature per report, the
//! marking carried.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::json;
use trilat_tak::export::{geojson, kml, KML_NAMESPACE};

use crate::common::*;

fn reports() -> Vec<trilat_core::Report> {
    let mut quake = report(
        "USA",
        "seismic.event",
        marking("UNCLASSIFIED", &["TRILAT"]),
        seismic_payload(),
        T0_MS,
    );
    quake.geometry = Some(json!({"type": "Point", "coordinates": [129.036, 41.343]}));
    let mut area = report(
        "JPN",
        "note",
        marking("CONFIDENTIAL", &["JPN", "USA"]),
        json!({"text": "area"}),
        T0_MS,
    );
    area.geometry = Some(
        json!({"type": "Polygon", "coordinates": [[[130.0, 35.0], [131.0, 35.0], [131.0, 36.0], [130.0, 35.0]]]}),
    );
    let bare = report(
        "KOR",
        "note",
        marking("UNCLASSIFIED", &["TRILAT"]),
        json!({"text": "no place"}),
        T0_MS,
    );
    vec![quake, area, bare]
}

#[test]
fn geojson_is_a_feature_collection_with_every_report() {
    let reports = reports();
    let doc = geojson(&reports);
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    assert_eq!(features[0]["geometry"]["type"], "Point");
    assert_eq!(
        features[0]["geometry"]["coordinates"],
        json!([129.036, 41.343])
    );
    assert_eq!(features[0]["properties"]["kind"], "seismic.event");
    assert_eq!(
        features[1]["properties"]["classification"],
        "CONFIDENTIAL//REL TO JPN, USA//TLP:AMBER"
    );
    assert_eq!(features[1]["id"], format!("JPN/{}", reports[1].id));
    assert!(features[2]["geometry"].is_null(), "kept, without a place");
}

#[test]
fn kml_is_kml_2_2_with_a_placemark_per_placed_report() {
    let reports = reports();
    let text = kml(&reports, "Test & export");
    let mut reader = Reader::from_str(&text);
    let mut names = Vec::new();
    let mut namespace = None;
    let mut coordinates = Vec::new();
    let mut in_coordinates = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if name == "kml" {
                    namespace = e
                        .try_get_attribute("xmlns")
                        .unwrap()
                        .map(|a| a.unescape_value().unwrap().into_owned());
                }
                in_coordinates = name == "coordinates";
                names.push(name);
            }
            Event::Text(t) if in_coordinates => coordinates.push(t.decode().unwrap().into_owned()),
            Event::End(_) => in_coordinates = false,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(namespace.as_deref(), Some(KML_NAMESPACE));
    assert_eq!(
        names.iter().filter(|n| *n == "Placemark").count(),
        2,
        "the report without geometry is left out"
    );
    assert!(names.contains(&"outerBoundaryIs".to_string()));
    assert_eq!(coordinates[0], "129.036,41.343");
    assert_eq!(coordinates[1], "130,35 131,35 131,36 130,35");
    assert!(text.contains("1 without a geometry left out"));
    assert!(text.contains("Test &amp; export"));
}
