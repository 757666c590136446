//! One missile, one track, from launch to impact: flights of the simulator through deliberate
//! coverage gaps (every radar silent), a missile that leaves coverage for good, a salvo from one
//! site minutes apart, and a radar reporting late.
use trilat_missile::assess::{Assessment, Coverage};
use trilat_missile::engine::{EngineEvent, EngineParams, MissileEngine};
use trilat_missile::frames::Geodetic;
use trilat_missile::gaps::{run_gap_scenario, GapScenario, GAP_AFTER_BURNOUT_S};
use trilat_missile::sensors::SensorRegistry;
use trilat_missile::sim::{self, FlightSpec, RadarSettings, Trajectory};
use trilat_missile::warning::WarningStatus;
use trilat_missile::zones::NoZones;
use trilat_missile::ErrorKind;

fn registry() -> SensorRegistry {
    SensorRegistry::new(sim::default_sensors()).expect("default sensors are valid")
}

fn fly(site: (f64, f64), bearing: f64, apogee_km: f64, range_km: f64) -> Trajectory {
    let spec = FlightSpec::typical(
        Geodetic::new(site.0, site.1, 20.0),
        1.7e9,
        bearing,
        apogee_km,
        range_km,
    );
    sim::fly(&spec).expect("flyable")
}

fn assessments(events: &[EngineEvent]) -> Vec<&Assessment> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Assessment(a) => Some(&**a),
            _ => None,
        })
        .collect()
}

fn issued(events: &[EngineEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, EngineEvent::Warning(w) if w.status == WarningStatus::Issued))
        .count()
}

/// A gap opening a minute after burnout and lasting `fraction` of the flight.
fn gap(flight: &Trajectory, fraction: f64) -> (f64, f64) {
    let start = flight.burnout_time_s + GAP_AFTER_BURNOUT_S;
    (start, start + fraction * flight.flight_time_s())
}

#[test]
fn a_lofted_icbm_like_hwasong_19_stays_one_track_through_a_long_gap() {
    // 31 October 2024: apogee about 7,700 km, range about 1,000 km, 86 minutes.
    let icbm = fly((39.02, 125.75), 85.0, 7_700.0, 1_000.0);
    assert!(
        (icbm.flight_time_s() / 60.0 - 86.0).abs() < 5.0,
        "{} s",
        icbm.flight_time_s()
    );
    let scenario = GapScenario {
        label: "hwasong-19",
        gap: gap(&icbm, 0.6),
        flights: vec![icbm],
        late_s: None,
    };
    let (outcome, events) = run_gap_scenario(
        &registry(),
        &scenario,
        &RadarSettings::default(),
        7,
        Box::new(NoZones),
    )
    .expect("runs");
    assert!(outcome.one_track_per_missile, "{outcome:?}");
    assert_eq!(outcome.n_tracks, 1);
    assert_eq!(
        outcome.reacquired,
        [true],
        "coasted through the gap and re-acquired"
    );
    assert_eq!(issued(&events), 1, "one warning for one missile");
    // The re-acquired track kept the launch estimate made from the boost-phase data.
    assert!(
        outcome.launch_km[0] < 10.0,
        "launch error {:?} km",
        outcome.launch_km
    );
    assert!(
        outcome.impact_km[0] < 5.0,
        "impact error {:?} km",
        outcome.impact_km
    );
    // Through the gap the assessments are predictions, their ellipse growing with the
    // predicted covariance, and the track is tracked again at the end.
    let all = assessments(&events);
    let coasting: Vec<&&Assessment> = all
        .iter()
        .filter(|a| a.coverage == Coverage::Coasting)
        .collect();
    assert!(
        coasting.len() >= 10,
        "{} coasting assessments",
        coasting.len()
    );
    assert!(coasting.iter().all(|a| a.coasting_since.is_some()));
    let first = coasting[0].impact_ellipse.semi_major_km;
    let widest = coasting
        .iter()
        .map(|a| a.impact_ellipse.semi_major_km)
        .fold(0.0, f64::max);
    // The impact ellipse already holds the velocity uncertainty at the gap's start; the
    // prediction's process noise can only add to it.
    assert!(widest >= first, "ellipse {first} km → {widest} km");
    assert_eq!(all.last().map(|a| a.coverage), Some(Coverage::Tracked));
}

#[test]
fn an_irbm_over_japan_is_re_acquired_under_its_first_track() {
    // Like the Hwasong-12 of 4 October 2022: apogee about 970 km, range about 4,600 km.
    let irbm = fly((40.61, 126.43), 88.0, 970.0, 4_600.0);
    let scenario = GapScenario {
        label: "hwasong-12",
        gap: gap(&irbm, 0.3),
        flights: vec![irbm],
        late_s: None,
    };
    let (outcome, events) = run_gap_scenario(
        &registry(),
        &scenario,
        &RadarSettings::default(),
        3,
        Box::new(NoZones),
    )
    .expect("runs");
    assert!(outcome.one_track_per_missile, "{outcome:?}");
    assert_eq!(issued(&events), 1);
    assert!(
        outcome.launch_km[0] < 10.0,
        "launch error {:?} km",
        outcome.launch_km
    );
    assert!(
        outcome.impact_km[0] < 10.0,
        "impact error {:?} km",
        outcome.impact_km
    );
}

#[test]
fn a_missile_that_leaves_coverage_for_good_is_said_lost_with_a_grown_ellipse() {
    let irbm = fly((40.61, 126.43), 88.0, 970.0, 4_600.0);
    let start = irbm.burnout_time_s + GAP_AFTER_BURNOUT_S;
    let scenario = GapScenario {
        label: "out of coverage",
        gap: (start, f64::INFINITY),
        flights: vec![irbm],
        late_s: None,
    };
    let (_, events) = run_gap_scenario(
        &registry(),
        &scenario,
        &RadarSettings::default(),
        5,
        Box::new(NoZones),
    )
    .expect("runs");
    let all = assessments(&events);
    let tracked = all
        .iter()
        .rev()
        .find(|a| a.coverage == Coverage::Tracked)
        .expect("assessed while tracked");
    let last = all.last().expect("assessed");
    assert_eq!(last.coverage, Coverage::Lost, "{last:?}");
    assert!(!last.track_live);
    assert!(last.coasting_since.is_some());
    assert!(
        last.impact_ellipse.semi_major_km >= tracked.impact_ellipse.semi_major_km,
        "{} km after coasting vs {} km when last seen",
        last.impact_ellipse.semi_major_km,
        tracked.impact_ellipse.semi_major_km
    );
    assert_eq!(issued(&events), 1);
}

#[test]
fn two_missiles_minutes_apart_on_similar_azimuths_stay_two_tracks_through_a_gap() {
    let first = FlightSpec::typical(
        Geodetic::new(sim::SITE_SUNAN.0, sim::SITE_SUNAN.1, 20.0),
        1.7e9,
        85.0,
        2_500.0,
        900.0,
    );
    let mut second = first.clone();
    second.launch_time_s += 180.0;
    second.bearing_deg += 1.0;
    let flights = vec![
        sim::fly(&first).expect("flyable"),
        sim::fly(&second).expect("flyable"),
    ];
    let scenario = GapScenario {
        label: "salvo",
        gap: gap(&flights[1], 0.3),
        flights,
        late_s: None,
    };
    let (outcome, events) = run_gap_scenario(
        &registry(),
        &scenario,
        &RadarSettings::default(),
        11,
        Box::new(NoZones),
    )
    .expect("runs");
    assert!(outcome.one_track_per_missile, "{outcome:?}");
    assert_eq!(outcome.n_tracks, 2);
    assert_eq!(issued(&events), 2);
    assert!(
        outcome.launch_km.iter().all(|&km| km < 10.0),
        "{:?}",
        outcome.launch_km
    );
}

#[test]
fn late_detections_within_the_window_are_used_and_later_ones_refused() {
    let irbm = fly((40.61, 126.43), 88.0, 970.0, 4_600.0);
    let scenario = GapScenario {
        label: "late radar",
        gap: gap(&irbm, 0.2),
        flights: vec![irbm],
        late_s: Some(1.5),
    };
    let (outcome, events) = run_gap_scenario(
        &registry(),
        &scenario,
        &RadarSettings::default(),
        9,
        Box::new(NoZones),
    )
    .expect("runs");
    assert!(
        outcome.diagnostics.late_fused > 100,
        "{:?}",
        outcome.diagnostics
    );
    assert_eq!(outcome.diagnostics.late_refused, 0);
    assert!(outcome.one_track_per_missile, "{outcome:?}");
    assert_eq!(issued(&events), 1);
    assert!(outcome.impact_km[0] < 10.0, "{:?}", outcome.impact_km);

    // Beyond the window: refused, typed and counted; the engine carries on.
    let registry = registry();
    let window = EngineParams::default().late_window_s;
    let mut engine =
        MissileEngine::new(registry.clone(), Box::new(NoZones), EngineParams::default());
    let d = trilat_missile::sensors::Detection {
        sensor_idx: 0,
        time_s: 1.7e9,
        range_m: 5e5,
        az_deg: 270.0,
        el_deg: 5.0,
        range_rate_mps: None,
    };
    engine.feed(&d).expect("first");
    let late = trilat_missile::sensors::Detection {
        time_s: d.time_s - window - 0.5,
        ..d
    };
    let err = engine.feed(&late).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::LateDetection { .. }), "{err}");
    assert!(err.to_string().contains("late"), "{err}");
    assert_eq!(engine.diagnostics().late_refused, 1);
    engine
        .feed(&trilat_missile::sensors::Detection {
            time_s: d.time_s + 1.0,
            ..d
        })
        .expect("the engine carries on");
}
