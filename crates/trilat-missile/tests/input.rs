//! Bad input gets a clear error with its line number; nothing panics.
use proptest::prelude::*;
use trilat_missile::engine::{EngineParams, MissileEngine};
use trilat_missile::sensors::{parse_detections, Detection, SensorRegistry};
use trilat_missile::zones::NoZones;
use trilat_missile::ErrorKind;

const SENSORS: &str = r#"[
 {"id":"r1","party":"JPN","lat":38.0,"lon":138.3,"height_m":300,"kind":"test","sigma_range_m":30,"sigma_az_deg":0.04,"sigma_el_deg":0.04,"max_range_km":1500,"min_elevation_deg":1},
 {"id":"r2","party":"USA","lat":40.9,"lon":140.3,"height_m":60,"kind":"test","sigma_range_m":15,"sigma_az_deg":0.02,"sigma_el_deg":0.02,"sigma_range_rate_mps":1,"max_range_km":2000,"min_elevation_deg":1}
]"#;

fn registry() -> SensorRegistry {
    SensorRegistry::from_json(SENSORS).expect("valid sensors")
}

const GOOD: &str =
    r#"{"sensor":"r1","time":"2026-01-01T00:01:00Z","range_m":500000,"az_deg":270,"el_deg":5}"#;

#[track_caller]
fn check(text: &str, line: usize, expect: fn(&ErrorKind) -> bool) {
    let err = parse_detections(text, &registry()).expect_err("must fail");
    assert_eq!(err.line, Some(line), "{err}");
    assert!(expect(&err.kind), "{err}");
    assert!(
        err.to_string().starts_with(&format!("line {line}:")),
        "{err}"
    );
}

#[test]
fn bad_detections_name_their_line() {
    check(
        &format!("{GOOD}\n{}", GOOD.replace("r1", "r9")),
        2,
        |k| matches!(k, ErrorKind::UnknownSensor(s) if s == "r9"),
    );
    check(
        &format!("{}\n{GOOD}", GOOD.replace("00:01:00", "00:02:00")),
        2,
        |k| matches!(k, ErrorKind::NonMonotonicTime { .. }),
    );
    check(&GOOD.replace("500000", "NaN"), 1, |k| {
        matches!(k, ErrorKind::Malformed(_))
    });
    check(&GOOD.replace("\"el_deg\":5", "\"el_deg\":120"), 1, |k| {
        matches!(k, ErrorKind::ImpossibleGeometry(_))
    });
    check(&GOOD.replace("500000", "-3"), 1, |k| {
        matches!(k, ErrorKind::ImpossibleGeometry(_))
    });
    check(
        &format!("{GOOD}\n\n{}", &GOOD[..40]),
        3,
        |k| matches!(k, ErrorKind::Malformed(m) if m.contains("truncated")),
    );
    check(&GOOD.replace("2026-01-01T00:01:00Z", "yesterday"), 1, |k| {
        matches!(k, ErrorKind::BadTime(_))
    });
    check(&GOOD.replace("500000", "1e999"), 1, |k| {
        matches!(k, ErrorKind::Malformed(_) | ErrorKind::NotFinite(_))
    });
}

#[test]
fn good_detections_parse() {
    let text = format!(
        "{GOOD}\n{}\n",
        GOOD.replace("r1", "r2")
            .replace("}", ",\"range_rate_mps\":-1500}")
    );
    let dets = parse_detections(&text, &registry()).expect("valid");
    assert_eq!(dets.len(), 2);
    assert_eq!(dets[1].sensor_idx, 1);
    assert_eq!(dets[1].range_rate_mps, Some(-1500.0));
}

#[test]
fn bad_sensors_name_their_record() {
    let dup = SENSORS.replace("\"r2\"", "\"r1\"");
    let err = SensorRegistry::from_json(&dup).expect_err("duplicate");
    assert_eq!(err.line, Some(2));
    let neg = SENSORS.replace("\"sigma_range_m\":30", "\"sigma_range_m\":-30");
    assert!(matches!(
        SensorRegistry::from_json(&neg)
            .expect_err("negative sigma")
            .kind,
        ErrorKind::ImpossibleGeometry(_)
    ));
    assert!(SensorRegistry::from_json("[{\"id\":\"x\"}]").is_err());
}

#[test]
fn the_engine_refuses_time_going_backwards_and_non_finite_values() {
    let mut engine = MissileEngine::new(registry(), Box::new(NoZones), EngineParams::default());
    let d = Detection {
        sensor_idx: 0,
        time_s: 1000.0,
        range_m: 5e5,
        az_deg: 270.0,
        el_deg: 5.0,
        range_rate_mps: None,
    };
    engine.feed(&d).expect("valid");
    // A second late is inside the 2 s reordering window: used. Ten seconds late is refused,
    // typed and counted.
    engine
        .feed(&Detection { time_s: 999.0, ..d })
        .expect("a detection inside the late window is used");
    assert!(matches!(
        engine
            .feed(&Detection { time_s: 990.0, ..d })
            .unwrap_err()
            .kind,
        ErrorKind::LateDetection { .. }
    ));
    assert_eq!(engine.diagnostics().late_fused, 1);
    assert_eq!(engine.diagnostics().late_refused, 1);
    assert!(matches!(
        engine
            .feed(&Detection {
                range_m: f64::NAN,
                ..d
            })
            .unwrap_err()
            .kind,
        ErrorKind::NotFinite(_)
    ));
    assert!(matches!(
        engine
            .feed(&Detection { sensor_idx: 7, ..d })
            .unwrap_err()
            .kind,
        ErrorKind::UnknownSensor(_)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsing_never_panics(text in "\\PC{0,300}") {
        let _ = parse_detections(&text, &registry());
    }

    #[test]
    fn the_engine_never_panics(
        steps in proptest::collection::vec((0usize..3, 0.0f64..5.0, -1e7f64..1e7, -720.0f64..720.0, -100.0f64..100.0), 1..60)
    ) {
        let mut engine = MissileEngine::new(registry(), Box::new(NoZones), EngineParams::default());
        let mut t = 1.7e9;
        for (sensor_idx, dt, range_m, az_deg, el_deg) in steps {
            t += dt;
            let _ = engine.feed(&Detection { sensor_idx, time_s: t, range_m, az_deg, el_deg, range_rate_mps: None });
        }
        let _ = engine.finish(t + 100.0);
    }
}
