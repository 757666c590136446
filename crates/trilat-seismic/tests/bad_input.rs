//! Bad input: a typed error naming the line when nothing can be read, a
//! diagnostic naming the line when one part is skipped.

use trilat_seismic::{parse_ims1, parse_quakeml, parse_usgs_geojson, read, ErrorKind, Format};

const HEADER: &str = "   Date       Time        Err   RMS Latitude Longitude  Smaj  Smin  Az Depth   Err Ndef Nsta Gap  mdist  Mdist Qual   Author      OrigID";
const GOOD: &str = "2024/09/01 12:33:19.91   0.34  0.17  49.8219   18.5593   2.2   1.7  61   1.0f         9    5 280   0.66   1.60 a i km IPEC       2032257";

#[test]
fn ims1_bad_lines_are_skipped_with_their_line_number() {
    let bad_lat = GOOD.replace(" 49.8219", " 4x.8219");
    let text = format!(
        "DATA_TYPE BULLETIN IMS1.0:short\nTitle\n\nEVENT 7 SOMEWHERE\n{HEADER}\n{bad_lat}\n{GOOD}\n (#PRIME)\nMagnitude  Err Nsta Author      OrigID\nmb     nope\nmb     4.1 0.1   12 IDC\nEVENT 8 NO ORIGIN\nSTOP\n"
    );
    let parsed = parse_ims1(&text).unwrap();
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!((e.id.as_str(), e.origin.lat), ("7", Some(49.8219)));
    assert_eq!(e.magnitudes.len(), 1);
    let lines: Vec<(usize, bool)> = parsed
        .diagnostics
        .iter()
        .map(|d| (d.line, d.what.contains("columns")))
        .collect();
    assert_eq!(
        lines,
        [(6, true), (10, true), (12, false)],
        "{:?}",
        parsed.diagnostics
    );
    assert!(parsed.diagnostics[0]
        .what
        .contains("latitude \"4x.8219\" (columns 37-44)"));
    assert!(parsed.diagnostics[2].what.contains("event 8 has no origin"));
}

#[test]
fn ims1_without_its_data_type_line_or_in_long_form_is_refused() {
    let e = parse_ims1("EVENT 1 X\n").unwrap_err();
    assert_eq!(
        (e.format, e.kind),
        (Some(Format::Ims1), ErrorKind::Malformed)
    );
    let e = parse_ims1("x\nDATA_TYPE BULLETIN IMS1.0:long\n").unwrap_err();
    assert_eq!((e.line, e.kind), (2, ErrorKind::UnsupportedVersion));
}

#[test]
fn quakeml_errors_name_the_line() {
    let e = parse_quakeml("<?xml version=\"1.0\"?>\n<q:quakeml xmlns=\"http://quakeml.org/xmlns/bed/1.2\">\n<eventParameters>\n<event></origin>\n").unwrap_err();
    assert_eq!((e.kind, e.line), (ErrorKind::Malformed, 4), "{e}");
    let e = parse_quakeml("<catalog xmlns=\"urn:other\"/>").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Malformed);
    // An event whose origin has a bad time is skipped, with its line.
    let text = "<q:quakeml xmlns=\"http://quakeml.org/xmlns/bed/1.2\" xmlns:q=\"http://quakeml.org/xmlns/quakeml/1.2\">\n<eventParameters>\n\n<event publicID=\"a\"><origin><time><value>2020-02-30T00:00:00Z</value></time></origin></event>\n</eventParameters></q:quakeml>";
    let parsed = parse_quakeml(text).unwrap();
    assert!(parsed.events.is_empty());
    assert_eq!(parsed.diagnostics[0].line, 4, "{:?}", parsed.diagnostics);
    assert!(parsed.diagnostics[0].what.contains("2020-02-30"));
}

#[test]
fn geojson_errors_name_the_line_or_the_feature() {
    let e = parse_usgs_geojson("{\n\"type\": \"FeatureCollection\",\n\"features\": [,]\n}")
        .unwrap_err();
    assert_eq!((e.kind, e.line), (ErrorKind::Malformed, 3), "{e}");
    let e = parse_usgs_geojson("{\"type\":\"Topology\"}").unwrap_err();
    assert!(e.to_string().contains("Topology"), "{e}");
    let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"time":"yesterday"},"geometry":{"type":"Point","coordinates":[1,2,3]}}]}"#;
    let parsed = parse_usgs_geojson(text).unwrap();
    assert!(parsed.events.is_empty());
    assert!(
        parsed.diagnostics[0]
            .what
            .starts_with("features[0]: `properties.time`"),
        "{:?}",
        parsed.diagnostics
    );
}

#[test]
fn unknown_format_is_refused() {
    let e = read("hello").unwrap_err();
    assert_eq!(
        (e.format, e.kind, e.line),
        (None, ErrorKind::UnknownFormat, 1)
    );
}
