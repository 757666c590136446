//! The three readers on ObsPy's real test inputs: every figure checked
//! against the file's own text, and the IMS1.0 reader against ObsPy's
//! QuakeML conversion of the same bulletin.

use crate::common::{close, seismic_data};
use trilat_seismic::{
    assess_all, detect, parse_ims1, parse_quakeml, read, ErrorKind, Event, Format,
    HorizontalUncertainty, Likelihood, MagnitudeScale, Params,
};

fn events(rel: &str) -> Option<Vec<Event>> {
    let text = seismic_data(rel)?;
    let parsed = read(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    Some(parsed.events)
}

#[test]
fn usgs_comcat_quakeml() {
    let Some(events) = events("obspy_testdata/quakeml/usgs_event.xml") else {
        return;
    };
    assert_eq!(events.len(), 2);
    let e = &events[0];
    // The attribute's `&amp;amp;` unescaped once, as XML says.
    assert_eq!(
        e.id,
        "quakeml:comcat.cr.usgs.gov/fdsnws/event/1/query?eventid=ci37285320&amp;format=quakeml"
    );
    assert_eq!(e.format, Format::Quakeml);
    assert_eq!(
        trilat_seismic::format_utc(e.origin.time),
        "2014-11-06T00:24:42.24Z"
    );
    close(e.origin.lat.unwrap(), 35.047_666_7, 1e-9);
    close(e.origin.lon.unwrap(), -117.662_333_3, 1e-9);
    // QuakeML depths are metres: 10 m, error 31,610 m.
    close(e.origin.depth_km.unwrap(), 0.010, 1e-12);
    close(e.origin.depth_error_km.unwrap(), 31.61, 1e-9);
    assert_eq!(
        e.origin.uncertainty,
        Some(HorizontalUncertainty::Circle {
            radius_km: 0.5,
            confidence_pct: None
        })
    );
    assert_eq!(e.agency.as_deref(), Some("CI"));
    // ComCat wrote `quarry_blast`; QuakeML's vocabulary (and ObsPy) say "quarry blast".
    assert_eq!(e.event_type.as_deref(), Some("quarry blast"));
    let m = &e.magnitudes[0];
    assert_eq!(
        (m.scale, m.raw_type.as_str(), m.value),
        (MagnitudeScale::Ml, "ml", 1.54)
    );
    assert_eq!(
        (m.error, m.station_count, m.agency.as_deref()),
        (Some(0.1), Some(21), Some("CI"))
    );
    let e = &events[1];
    assert_eq!(
        trilat_seismic::format_utc(e.origin.time),
        "2014-11-14T21:07:48.2Z"
    );
    // The origin names no agency; the event's creationInfo does.
    assert_eq!(e.agency.as_deref(), Some("uw"));
    assert_eq!(e.magnitudes[0].scale, MagnitudeScale::Md);
    assert_eq!(e.event_type.as_deref(), Some("quarry"));
}

#[test]
fn iris_quakeml() {
    let Some(events) = events("obspy_testdata/quakeml/iris_events.xml") else {
        return;
    };
    assert_eq!(events.len(), 2);
    let japan = &events[0];
    assert_eq!(
        japan.region.as_deref(),
        Some("NEAR EAST COAST OF HONSHU, JAPAN")
    );
    assert_eq!(
        trilat_seismic::format_utc(japan.origin.time),
        "2011-03-11T05:46:24.12Z"
    );
    assert_eq!(
        (japan.origin.lat, japan.origin.lon),
        (Some(38.297), Some(142.373))
    );
    close(japan.origin.depth_km.unwrap(), 0.029, 1e-12);
    assert_eq!(japan.agency.as_deref(), Some("NEIC"));
    let mw = japan.magnitude(MagnitudeScale::Mw).unwrap();
    assert_eq!((mw.value, mw.agency.as_deref()), (9.1, Some("GCMT")));
    let sulu = &events[1];
    let ms = sulu.magnitude(MagnitudeScale::Ms).unwrap();
    assert_eq!((ms.value, ms.raw_type.as_str()), (9.8, "MS"));
}

#[test]
fn geonet_quakeml_example_with_per_coordinate_uncertainty() {
    let Some(events) = events("obspy_testdata/quakeml/qml-example-1.2-RC3.xml") else {
        return;
    };
    assert_eq!(events.len(), 1);
    let e = &events[0];
    close(e.origin.time_error_s.unwrap(), 0.51424, 1e-12);
    let Some(HorizontalUncertainty::LatLon {
        lat_error_km,
        lon_error_km,
        confidence_pct,
    }) = e.origin.uncertainty
    else {
        panic!("{:?}", e.origin.uncertainty)
    };
    close(lat_error_km, 0.02711 * 111.195, 1e-6);
    close(
        lon_error_km,
        0.02229 * 111.195 * 38.28462_f64.to_radians().cos(),
        1e-6,
    );
    assert_eq!(confidence_pct, Some(99.0));
    let ml = e.magnitude(MagnitudeScale::Ml).unwrap();
    assert_eq!(
        (ml.value, ml.error, ml.station_count),
        (3.662, Some(0.217), Some(15))
    );
}

#[test]
fn quakeml_1_0_is_refused_by_name() {
    let Some(text) = seismic_data("obspy_testdata/quakeml/neries_events.xml") else {
        return;
    };
    let e = parse_quakeml(&text).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedVersion);
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().contains("quakeml/1.0"), "{e}");
}

#[test]
fn ims1_bulletin() {
    let Some(text) = seismic_data("obspy_testdata/iaspei/ipe202409sel_ims.txt") else {
        return;
    };
    assert_eq!(detect(&text), Some(Format::Ims1));
    let parsed = parse_ims1(&text).unwrap();
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let ids: Vec<&str> = parsed.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["2032247", "2032257", "2032696"]);
    let first = &parsed.events[0];
    assert_eq!(
        (first.origin.lat, first.origin.lon),
        (None, None),
        "time only"
    );
    assert_eq!(
        first.event_type.as_deref(),
        Some("induced or triggered event")
    );
    let e = &parsed.events[1];
    assert_eq!(
        trilat_seismic::format_utc(e.origin.time),
        "2024-09-01T12:33:19.91Z"
    );
    assert_eq!((e.origin.lat, e.origin.lon), (Some(49.8219), Some(18.5593)));
    assert_eq!(e.origin.time_error_s, Some(0.34));
    assert_eq!(
        e.origin.uncertainty,
        Some(HorizontalUncertainty::Ellipse {
            semi_major_km: 2.2,
            semi_minor_km: 1.7,
            azimuth_deg: 61.0,
            confidence_pct: Some(90.0)
        })
    );
    assert_eq!((e.origin.depth_km, e.origin.depth_fixed), (Some(1.0), true));
    assert_eq!(e.agency.as_deref(), Some("IPEC"));
    assert_eq!(e.event_type.as_deref(), Some("mining explosion"));
    assert_eq!(e.event_type_certainty.as_deref(), Some("known"));
    let ml = &e.magnitudes[0];
    assert_eq!(
        (ml.scale, ml.value, ml.error, ml.station_count),
        (MagnitudeScale::Ml, 1.2, Some(0.1), Some(5))
    );
    assert_eq!(
        parsed.events[2].event_type_certainty.as_deref(),
        Some("suspected")
    );
}

/// ObsPy's expected QuakeML for the same bulletin, read by our QuakeML
/// reader, gives the same events and figures as our IMS1.0 reader.
#[test]
fn ims1_reader_agrees_with_obspys_conversion() {
    let (Some(ims), Some(xml)) = (
        seismic_data("obspy_testdata/iaspei/ipe202409sel_ims.txt"),
        seismic_data("obspy_testdata/iaspei/ipe202409sel_ims.xml"),
    ) else {
        return;
    };
    let ours = parse_ims1(&ims).unwrap().events;
    let theirs = parse_quakeml(&xml).unwrap().events;
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert!(
            b.id.ends_with(&format!("/event/{}", a.id)),
            "{} vs {}",
            a.id,
            b.id
        );
        assert_eq!(a.origin.time, b.origin.time);
        assert_eq!((a.origin.lat, a.origin.lon), (b.origin.lat, b.origin.lon));
        assert_eq!(a.origin.depth_km, b.origin.depth_km);
        assert_eq!(a.origin.depth_fixed, b.origin.depth_fixed, "{}", a.id);
        assert_eq!(a.origin.uncertainty, b.origin.uncertainty, "{}", a.id);
        assert_eq!(a.origin.time_error_s, b.origin.time_error_s);
        assert_eq!(a.event_type, b.event_type);
        assert_eq!(a.event_type_certainty, b.event_type_certainty);
        assert_eq!(a.region, b.region);
        let ma: Vec<(String, f64)> = a
            .magnitudes
            .iter()
            .map(|m| (m.raw_type.clone(), m.value))
            .collect();
        let mb: Vec<(String, f64)> = b
            .magnitudes
            .iter()
            .map(|m| (m.raw_type.clone(), m.value))
            .collect();
        assert_eq!(ma, mb, "{}", a.id);
    }
}

#[test]
fn usgs_geojson_summary_feed() {
    let Some(events) = events("usgs_geojson_example.json") else {
        return;
    };
    assert_eq!(events.len(), 2);
    let e = &events[0];
    assert_eq!(e.id, "us700061e9");
    assert_eq!(e.format, Format::UsgsGeojson);
    assert_eq!(
        trilat_seismic::format_utc(e.origin.time),
        "2019-10-31T01:11:19.125Z"
    );
    assert_eq!(
        (e.origin.lat, e.origin.lon, e.origin.depth_km),
        (Some(6.908), Some(125.1534), Some(10.0))
    );
    assert_eq!(e.agency.as_deref(), Some("us"));
    assert_eq!(e.region.as_deref(), Some("1km S of Kisante, Philippines"));
    let m = &e.magnitudes[0];
    assert_eq!(
        (m.scale, m.raw_type.as_str(), m.value),
        (MagnitudeScale::Mw, "mww", 6.5)
    );
    assert_eq!(events[1].origin.depth_km, Some(15.32));
}

#[test]
fn other_formats_are_refused_with_a_reason() {
    for rel in [
        "obspy_testdata/gse2_bulletin/event.txt",
        "obspy_testdata/gse2_bulletin/gse_2.0_standard.txt",
        "obspy_testdata/cmtsolution/CMTSOLUTION_EXPLOSION",
    ] {
        let Some(text) = seismic_data(rel) else {
            return;
        };
        let e = read(&text).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnknownFormat, "{rel}");
        assert!(e.to_string().contains("IMS1.0"), "{e}");
    }
}

/// No natural event in the test inputs is flagged; the quarry and mining
/// blasts are explosions the agencies name, never nuclear tests.
#[test]
fn no_event_in_the_test_inputs_is_flagged_as_a_test() {
    let files = [
        "obspy_testdata/quakeml/usgs_event.xml",
        "obspy_testdata/quakeml/iris_events.xml",
        "obspy_testdata/quakeml/qml-example-1.2-RC3.xml",
        "obspy_testdata/iaspei/ipe202409sel_ims.txt",
        "usgs_geojson_example.json",
    ];
    let mut n_natural = 0;
    for rel in files {
        let Some(events) = events(rel) else { return };
        for (e, a) in events.iter().zip(assess_all(&events, &Params::default())) {
            assert!(!a.likely_nuclear_test, "{rel} {}: {:?}", e.id, a.reasons);
            let t = e.event_type.as_deref().unwrap_or("");
            if t == "earthquake" || t.starts_with("induced") {
                n_natural += 1;
                assert_eq!(
                    a.explosion,
                    Likelihood::Unlikely,
                    "{rel} {}: {:?}",
                    e.id,
                    a.reasons
                );
            }
        }
    }
    assert_eq!(n_natural, 7);
}
