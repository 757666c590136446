//! No reader panics, whatever the input: arbitrary text, and the real
//! files cut short or with bytes changed.

use crate::common::seismic_data;
use crate::declared::{geojson, ims1, quakeml, Row};
use proptest::prelude::*;
use std::sync::OnceLock;
use trilat_seismic::{assess_all, parse_ims1, parse_quakeml, parse_usgs_geojson, read, Params};

/// The real inputs, read once (empty when the shared data is absent).
fn real_inputs() -> &'static Vec<String> {
    static INPUTS: OnceLock<Vec<String>> = OnceLock::new();
    INPUTS.get_or_init(|| {
        [
            "obspy_testdata/quakeml/usgs_event.xml",
            "obspy_testdata/quakeml/qml-example-1.2-RC3.xml",
            "obspy_testdata/iaspei/ipe202409sel_ims.txt",
            "obspy_testdata/iaspei/ipe202409sel_ims.xml",
            "usgs_geojson_example.json",
        ]
        .iter()
        .filter_map(|rel| seismic_data(rel))
        .collect()
    })
}

/// Every reader and the assessment on one text: no panic, and whatever is
/// read is assessable.
fn all_readers(text: &str) {
    for parsed in [
        parse_quakeml(text),
        parse_ims1(text),
        parse_usgs_geojson(text),
        read(text),
    ]
    .into_iter()
    .flatten()
    {
        let out = assess_all(&parsed.events, &Params::default());
        assert_eq!(out.len(), parsed.events.len());
    }
}

/// A text with `edits` (position, byte) applied and cut at `cut`.
fn mutate(base: &str, edits: &[(usize, u8)], cut: usize) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for &(at, b) in edits {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = b;
        }
    }
    bytes.truncate(cut.min(bytes.len()));
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        all_readers(&text);
    }

    #[test]
    fn arbitrary_ims_like_lines_never_panic(lines in proptest::collection::vec("[ 0-9./:a-zA-Z()#-]{0,140}", 0..12)) {
        let text = format!("DATA_TYPE BULLETIN IMS1.0:short\nT\nEVENT 1 X\n   Date       Time        Err   RMS Latitude\n{}\nMagnitude  Err Nsta Author\n{}\n", lines.join("\n"), lines.join("\n"));
        all_readers(&text);
    }

    /// Any event written in the three formats reads back with the same
    /// figures (at each format's printed precision).
    #[test]
    fn written_events_read_back_the_same(
        lat_e4 in -899_999i64..=899_999,
        lon_e4 in -1_799_999i64..=1_799_999,
        // Centiseconds since 1970, from 1900 to 2100.
        unix_cs in -220_898_880_000_i64..410_244_480_000,
        mb_e1 in 20u32..90,
        ms_e1 in proptest::option::of(10u32..90),
    ) {
        let row = Row {
            date: "rt".into(),
            time: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_cs) * 10_000_000).unwrap(),
            lat: lat_e4 as f64 / 1e4,
            lon: lon_e4 as f64 / 1e4,
            mb: f64::from(mb_e1) / 10.0,
            ms: ms_e1.map(|m| f64::from(m) / 10.0),
            yields: String::new(),
        };
        for (name, text) in [("QuakeML", quakeml(&row)), ("IMS1.0", ims1(&row)), ("GeoJSON", geojson(&row))] {
            let parsed = read(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            prop_assert!(parsed.diagnostics.is_empty(), "{}: {:?}", name, parsed.diagnostics);
            prop_assert_eq!(parsed.events.len(), 1);
            let e = &parsed.events[0];
            prop_assert_eq!((e.origin.lat, e.origin.lon), (Some(row.lat), Some(row.lon)), "{}", name);
            let dt = (e.origin.time - row.time).as_seconds_f64().abs();
            prop_assert!(dt < 1e-6, "{}: time off by {} s", name, dt);
            prop_assert_eq!(e.magnitude(trilat_seismic::MagnitudeScale::Mb).map(|m| m.value), Some(row.mb));
            if name != "GeoJSON" {
                prop_assert_eq!(e.magnitude(trilat_seismic::MagnitudeScale::Ms).map(|m| m.value), row.ms);
            }
        }
    }

    #[test]
    fn real_files_mutated_never_panic(
        which in 0usize..5,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in any::<usize>(),
    ) {
        let inputs = real_inputs();
        if !inputs.is_empty() {
            let base = &inputs[which % inputs.len()];
            all_readers(&mutate(base, &edits, cut));
        }
    }
}
