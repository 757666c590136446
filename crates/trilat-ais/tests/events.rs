//! Each detector on scripted tracks, with near misses that must not fire.

use std::sync::Arc;
use trilat_ais::ports::{Port, PortIndex};
use trilat_ais::track::{
    AnomalyKind, Config, Event, EventDetail, SanctionedVesselEvidence, Tracker, VesselScreener,
};
use trilat_ais::{AisText, Position, StaticData, StationClass};

const T0: i64 = 1_700_000_000_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const TANKER: u32 = 352_001_234;
const DARK: u32 = 445_112_233; // DPRK MID
const OTHER: u32 = 440_123_456;

fn pos(lat: f64, lon: f64, speed: f32) -> Position {
    Position {
        lat: Some(lat),
        lon: Some(lon),
        speed_knots: Some(speed),
        course_deg: Some(90.0),
        heading_deg: None,
        status: Some(0),
        second: None,
        accuracy: false,
        class: StationClass::A,
    }
}

/// Feeds (mmsi, time, lat, lon, speed) fixes in time order; returns events.
fn run(tracker: &mut Tracker, fixes: &mut [(u32, i64, f64, f64, f32)]) -> Vec<Event> {
    fixes.sort_by_key(|f| f.1);
    let mut events = Vec::new();
    for (i, &(mmsi, t, lat, lon, speed)) in fixes.iter().enumerate() {
        tracker
            .position(mmsi, &pos(lat, lon, speed), t, i as u64 + 1, &mut events)
            .unwrap();
    }
    tracker.finish(&mut events);
    events
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::name).collect()
}

fn count(events: &[Event], name: &str) -> usize {
    events.iter().filter(|e| e.name() == name).count()
}

/// A vessel drifting slowly east from `(lat, lon)`, fixes every `step`.
fn drift(
    mmsi: u32,
    from: i64,
    to: i64,
    step: i64,
    lat: f64,
    lon: f64,
    speed: f32,
) -> Vec<(u32, i64, f64, f64, f32)> {
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        let hours = (t - from) as f64 / HOUR as f64;
        out.push((
            mmsi,
            t,
            lat,
            lon + hours * f64::from(speed) * 1852.0 / 111_000.0 / lat.to_radians().cos(),
            speed,
        ));
        t += step;
    }
    out
}

#[test]
fn gap_fires_when_covered_and_long() {
    // TANKER silent 13 h while OTHER, 20 km away in the same cell, keeps transmitting.
    let mut fixes = drift(TANKER, T0, T0 + HOUR, 10 * MIN, 36.2, 124.2, 10.0);
    fixes.extend(drift(
        TANKER,
        T0 + 14 * HOUR,
        T0 + 15 * HOUR,
        10 * MIN,
        36.3,
        124.3,
        10.0,
    ));
    fixes.extend(drift(
        OTHER,
        T0,
        T0 + 15 * HOUR,
        30 * MIN,
        36.25,
        124.1,
        0.5,
    ));
    let events = run(&mut Tracker::new(Config::default()), &mut fixes);
    let gaps: Vec<&Event> = events.iter().filter(|e| e.name() == "gap").collect();
    assert_eq!(gaps.len(), 1, "{:?}", names(&events));
    assert_eq!(gaps[0].mmsi, TANKER);
    let EventDetail::Gap {
        hours,
        covered,
        ongoing,
        ..
    } = gaps[0].detail
    else {
        unreachable!()
    };
    assert!(
        (hours - 13.0).abs() < 0.01 && covered && !ongoing,
        "{hours}"
    );
    assert_eq!(gaps[0].evidence.len(), 2);
}

#[test]
fn gap_near_misses() {
    // 11 h silence: under the threshold.
    let mut fixes = drift(TANKER, T0, T0 + HOUR, 10 * MIN, 36.2, 124.2, 10.0);
    fixes.extend(drift(
        TANKER,
        T0 + 12 * HOUR,
        T0 + 13 * HOUR,
        10 * MIN,
        36.3,
        124.3,
        10.0,
    ));
    fixes.extend(drift(
        OTHER,
        T0,
        T0 + 13 * HOUR,
        30 * MIN,
        36.25,
        124.1,
        0.5,
    ));
    assert_eq!(
        count(
            &run(&mut Tracker::new(Config::default()), &mut fixes),
            "gap"
        ),
        0
    );
    // 13 h silence but nobody else heard there: no coverage, no gap.
    let mut fixes = drift(TANKER, T0, T0 + HOUR, 10 * MIN, 36.2, 124.2, 10.0);
    fixes.extend(drift(
        TANKER,
        T0 + 14 * HOUR,
        T0 + 15 * HOUR,
        10 * MIN,
        36.3,
        124.3,
        10.0,
    ));
    fixes.extend(drift(OTHER, T0, T0 + 15 * HOUR, 30 * MIN, 30.0, 130.0, 0.5));
    assert_eq!(
        count(
            &run(&mut Tracker::new(Config::default()), &mut fixes),
            "gap"
        ),
        0
    );
}

fn encounter_fixes(hours: i64, offset_deg: f64, speed: f32) -> Vec<(u32, i64, f64, f64, f32)> {
    let mut fixes = drift(TANKER, T0, T0 + hours * HOUR, 5 * MIN, 35.5, 124.0, speed);
    fixes.extend(drift(
        OTHER,
        T0 + MIN,
        T0 + hours * HOUR + MIN,
        5 * MIN,
        35.5 + offset_deg,
        124.0,
        speed,
    ));
    fixes
}

#[test]
fn encounter_fires() {
    // 3 h side by side, 220 m apart, 0.5 knots.
    let events = run(
        &mut Tracker::new(Config::default()),
        &mut encounter_fixes(3, 0.002, 0.5),
    );
    let enc: Vec<&Event> = events.iter().filter(|e| e.name() == "encounter").collect();
    assert_eq!(enc.len(), 1, "{:?}", names(&events));
    let EventDetail::Encounter {
        other_mmsi,
        hours,
        median_speed_knots,
        distance_m_min,
        ..
    } = enc[0].detail
    else {
        unreachable!()
    };
    assert_eq!((enc[0].mmsi, other_mmsi), (TANKER, OTHER));
    assert!(
        hours >= 2.9 && median_speed_knots < 2.0 && distance_m_min < 300.0,
        "{hours} {median_speed_knots} {distance_m_min}"
    );
    assert_eq!(enc[0].evidence.len(), 4);
}

#[test]
fn encounter_near_misses() {
    let config = Config::default;
    // Too short (1.5 h), too far apart (700 m), too fast (3 knots).
    let mut short = drift(TANKER, T0, T0 + 90 * MIN, 5 * MIN, 35.5, 124.0, 0.5);
    short.extend(drift(
        OTHER,
        T0 + MIN,
        T0 + 91 * MIN,
        5 * MIN,
        35.502,
        124.0,
        0.5,
    ));
    assert_eq!(
        count(&run(&mut Tracker::new(config()), &mut short), "encounter"),
        0
    );
    assert_eq!(
        count(
            &run(
                &mut Tracker::new(config()),
                &mut encounter_fixes(3, 0.0063, 0.5)
            ),
            "encounter"
        ),
        0
    );
    assert_eq!(
        count(
            &run(
                &mut Tracker::new(config()),
                &mut encounter_fixes(3, 0.002, 3.0)
            ),
            "encounter"
        ),
        0
    );
    // At an anchorage: a port 3 km away.
    let ports = PortIndex::new(vec![Port {
        wpi: 1,
        name: "Test Anchorage".into(),
        country: "Nowhere".into(),
        locode: String::new(),
        lat: 35.52,
        lon: 124.0,
    }]);
    let mut tracker = Tracker::new(config()).with_ports(Arc::new(ports));
    assert_eq!(
        count(
            &run(&mut tracker, &mut encounter_fixes(3, 0.002, 0.5)),
            "encounter"
        ),
        0
    );
}

#[test]
fn loitering_fires_and_near_miss() {
    let mut fixes = drift(TANKER, T0, T0 + 5 * HOUR, 10 * MIN, 34.0, 126.0, 1.0);
    fixes.extend(drift(
        TANKER,
        T0 + 5 * HOUR + 10 * MIN,
        T0 + 6 * HOUR,
        10 * MIN,
        34.0,
        126.1,
        12.0,
    ));
    let events = run(&mut Tracker::new(Config::default()), &mut fixes);
    assert_eq!(count(&events, "loitering"), 1, "{:?}", names(&events));
    let mut fixes = drift(TANKER, T0, T0 + 3 * HOUR, 10 * MIN, 34.0, 126.0, 1.0);
    fixes.extend(drift(
        TANKER,
        T0 + 3 * HOUR + 10 * MIN,
        T0 + 4 * HOUR,
        10 * MIN,
        34.0,
        126.1,
        12.0,
    ));
    assert_eq!(
        count(
            &run(&mut Tracker::new(Config::default()), &mut fixes),
            "loitering"
        ),
        0
    );
}

fn anomalies(events: &[Event]) -> Vec<AnomalyKind> {
    events
        .iter()
        .filter_map(|e| match e.detail {
            EventDetail::IdentityAnomaly { anomaly, .. } => Some(anomaly),
            _ => None,
        })
        .collect()
}

#[test]
fn identity_mmsi_rules() {
    let mut tracker = Tracker::new(Config::default());
    let mut events = Vec::new();
    tracker
        .position(DARK, &pos(38.7, 125.0, 5.0), T0, 1, &mut events)
        .unwrap();
    tracker
        .position(123_456_789, &pos(38.7, 125.0, 5.0), T0, 2, &mut events)
        .unwrap();
    tracker
        .position(OTHER, &pos(38.7, 125.0, 5.0), T0, 3, &mut events)
        .unwrap();
    assert_eq!(
        anomalies(&events),
        vec![AnomalyKind::DprkMid, AnomalyKind::InvalidMmsi]
    );
    assert_eq!((events[0].mmsi, events[1].mmsi), (DARK, 123_456_789));
}

fn statics(imo: Option<u32>, name: &str, callsign: &str) -> StaticData {
    StaticData {
        imo,
        shipname: Some(AisText::from_str_lossy(name)),
        callsign: Some(AisText::from_str_lossy(callsign)),
        ..StaticData::default()
    }
}

#[test]
fn static_data_before_any_position_is_kept_and_counted_once() {
    let mut tracker = Tracker::new(Config::default());
    let mut events = Vec::new();
    let data = statics(Some(9_134_270), "EVER DIADEM", "3FOF8");
    tracker.static_data(TANKER, &data, T0, 1, &mut events);
    assert_eq!(tracker.stats().statics, 1);
    assert_eq!(tracker.vessel_count(), 1);
    tracker.static_data(TANKER, &data, T0 + 1, 2, &mut events);
    assert_eq!(tracker.stats().statics, 2);
    assert!(events.is_empty(), "a valid identity, repeated: {events:?}");
}

#[test]
fn identity_changes_and_imo_rules() {
    let mut tracker = Tracker::new(Config::default());
    let mut events = Vec::new();
    tracker.static_data(
        TANKER,
        &statics(Some(9_134_270), "EVER DIADEM", "3FOF8"),
        T0,
        1,
        &mut events,
    );
    assert!(events.is_empty(), "valid first identity: {events:?}");
    tracker.static_data(
        TANKER,
        &statics(Some(9_134_270), "EVER DIADEM", "3FOF8"),
        T0 + 1,
        2,
        &mut events,
    );
    assert!(events.is_empty(), "repeat: nothing new");
    tracker.static_data(
        TANKER,
        &statics(Some(8_814_881), "A LI", "3FOF8"),
        T0 + 2,
        3,
        &mut events,
    );
    assert_eq!(
        anomalies(&events),
        vec![
            AnomalyKind::ImoChange,
            AnomalyKind::InvalidImo,
            AnomalyKind::NameChange
        ]
    );
    events.clear();
    tracker.static_data(
        OTHER,
        &statics(Some(8_814_881), "YU PHUNG", "XUAM7"),
        T0 + 3,
        4,
        &mut events,
    );
    assert_eq!(
        anomalies(&events),
        vec![AnomalyKind::InvalidImo, AnomalyKind::ImoSharedByMmsis]
    );
    events.clear();
    tracker.static_data(
        OTHER,
        &statics(Some(8_814_881), "YU PHUNG", "XUAM8"),
        T0 + 4,
        5,
        &mut events,
    );
    assert_eq!(anomalies(&events), vec![AnomalyKind::CallsignChange]);
}

#[test]
fn impossible_jump_starts_a_segment() {
    // Two ships on one MMSI, 300 km apart, alternating every 10 minutes.
    let mut fixes = Vec::new();
    for k in 0..12 {
        let (lat, lon) = if k % 2 == 0 {
            (35.0, 125.0)
        } else {
            (37.5, 126.5)
        };
        fixes.push((TANKER, T0 + k * 10 * MIN, lat, lon, 0.5));
    }
    let mut tracker = Tracker::new(Config::default());
    let events = run(&mut tracker, &mut fixes);
    // One jump creates segment 1; the ship then alternates between two
    // reachable segments without new events.
    assert_eq!(anomalies(&events), vec![AnomalyKind::ImpossibleJump]);
    assert_eq!(tracker.summaries()[0].segments, 2);
    // Near miss: 20 knots is reachable.
    let mut fixes = drift(TANKER, T0, T0 + 2 * HOUR, 10 * MIN, 35.0, 125.0, 20.0);
    assert!(anomalies(&run(&mut Tracker::new(Config::default()), &mut fixes)).is_empty());
}

#[test]
fn zone_entry_exit_with_hysteresis() {
    use trilat_geo::{Zone, ZoneIndex, ZoneKind};
    let square = geo::MultiPolygon::new(vec![geo::Polygon::new(
        geo::LineString::from(vec![
            (124.0, 37.0),
            (125.0, 37.0),
            (125.0, 38.0),
            (124.0, 38.0),
            (124.0, 37.0),
        ]),
        vec![],
    )]);
    let zone = Zone {
        id: "aoi-test".into(),
        name: "Test box".into(),
        kind: ZoneKind::AreaOfInterest,
        owner: String::new(),
        disputed: false,
        approximate: false,
        polygon: square,
    };
    let index = Arc::new(ZoneIndex::new(vec![zone]));
    // Outside, 2 fixes inside, 2 outside: entry then exit.
    let track = [
        (123.90, 0),
        (124.10, 1),
        (124.30, 2),
        (124.50, 3),
        (124.70, 4),
        (124.90, 5),
        (125.05, 6),
        (125.20, 7),
    ];
    let mut fixes: Vec<_> = track
        .iter()
        .map(|&(lon, k)| (TANKER, T0 + k * HOUR, 37.5, lon, 10.0))
        .collect();
    let events = run(
        &mut Tracker::new(Config::default()).with_zones(index.clone()),
        &mut fixes,
    );
    assert_eq!(names(&events), vec!["zone-entry", "zone-exit"]);
    // Near miss: one fix inside (position noise), then out again.
    let track = [(123.90, 0), (124.01, 1), (123.95, 2), (123.90, 3)];
    let mut fixes: Vec<_> = track
        .iter()
        .map(|&(lon, k)| (TANKER, T0 + k * HOUR, 37.5, lon, 10.0))
        .collect();
    let events = run(
        &mut Tracker::new(Config::default()).with_zones(index),
        &mut fixes,
    );
    assert!(events.is_empty(), "{:?}", names(&events));
}

#[test]
fn port_call_and_near_miss() {
    let nampo = Port {
        wpi: 60280,
        name: "Nampo".into(),
        country: "North Korea".into(),
        locode: String::new(),
        lat: 38.716667,
        lon: 125.4,
    };
    let ports = Arc::new(PortIndex::new(vec![nampo]));
    let mut fixes = drift(TANKER, T0, T0 + 3 * HOUR, 10 * MIN, 38.72, 125.38, 0.1);
    fixes.push((TANKER, T0 + 4 * HOUR, 38.5, 125.0, 11.0));
    let events = run(
        &mut Tracker::new(Config::default()).with_ports(ports.clone()),
        &mut fixes,
    );
    assert_eq!(count(&events, "port-call"), 1, "{:?}", names(&events));
    let mut fixes = drift(TANKER, T0, T0 + HOUR, 10 * MIN, 38.72, 125.38, 0.1);
    fixes.push((TANKER, T0 + 2 * HOUR, 38.5, 125.0, 11.0));
    assert_eq!(
        count(
            &run(
                &mut Tracker::new(Config::default()).with_ports(ports),
                &mut fixes
            ),
            "port-call"
        ),
        0
    );
}

struct ListScreener;

impl VesselScreener for ListScreener {
    fn screen_vessel(
        &self,
        _: u32,
        imo: Option<u32>,
        name: &str,
        _: Option<&str>,
        _: Option<u16>,
    ) -> Option<SanctionedVesselEvidence> {
        (imo == Some(8_314_881) || name == "CHON MA SAN").then(|| SanctionedVesselEvidence {
            list_entry: "test list 1".into(),
            listed_name: "CHON MA SAN".into(),
            listed_imo: Some(8_314_881),
            matched_on: if imo == Some(8_314_881) {
                "imo".into()
            } else {
                "name".into()
            },
            score: 1.0,
        })
    }
}

#[test]
fn sanctioned_vessel_screening() {
    let mut tracker = Tracker::new(Config::default()).with_screener(Box::new(ListScreener));
    let mut events = Vec::new();
    tracker.static_data(
        TANKER,
        &statics(Some(9_134_270), "EVER DIADEM", "3FOF8"),
        T0,
        1,
        &mut events,
    );
    assert_eq!(count(&events, "sanctioned-vessel"), 0);
    tracker.static_data(
        DARK,
        &statics(None, "CHON MA SAN", "HMXX"),
        T0,
        2,
        &mut events,
    );
    assert_eq!(count(&events, "sanctioned-vessel"), 1);
    // Same identity again: screened once.
    tracker.static_data(
        DARK,
        &statics(None, "CHON MA SAN", "HMXX"),
        T0 + 1,
        3,
        &mut events,
    );
    assert_eq!(count(&events, "sanctioned-vessel"), 1);
}

#[test]
fn trail_is_the_latest_ships_recent_fixes_bounded() {
    use trilat_ais::track::RECENT_FIXES;
    let times = |tracker: &Tracker, mmsi| -> Vec<i64> {
        tracker.trail(mmsi).iter().map(|f| f.time_unix_ms).collect()
    };
    let mut tracker = Tracker::new(Config::default());
    let mut fixes = drift(TANKER, T0, T0 + 20 * MIN, 10 * MIN, 35.0, 125.0, 8.0);
    run(&mut tracker, &mut fixes);
    assert_eq!(times(&tracker, TANKER), [T0, T0 + 10 * MIN, T0 + 20 * MIN]);
    assert!(tracker.trail(OTHER).is_empty());

    // Past the ring's size the oldest fixes fall out, order kept.
    let mut tracker = Tracker::new(Config::default());
    let mut fixes = drift(TANKER, T0, T0 + 19 * 10 * MIN, 10 * MIN, 35.0, 125.0, 8.0);
    run(&mut tracker, &mut fixes);
    let expect: Vec<i64> = (20 - RECENT_FIXES as i64..20)
        .map(|k| T0 + k * 10 * MIN)
        .collect();
    assert_eq!(times(&tracker, TANKER), expect);

    // Two ships on one MMSI: the trail is the one heard last, never a zigzag.
    let mut fixes: Vec<_> = (0..12)
        .map(|k| {
            let (lat, lon) = if k % 2 == 0 {
                (35.0, 125.0)
            } else {
                (37.5, 126.5)
            };
            (TANKER, T0 + k * 10 * MIN, lat, lon, 0.5)
        })
        .collect();
    let mut tracker = Tracker::new(Config::default());
    run(&mut tracker, &mut fixes);
    let trail = tracker.trail(TANKER);
    assert_eq!(trail.len(), 6);
    assert!(trail.iter().all(|f| f.lat == 37.5), "{trail:?}");
}

#[test]
fn summary_carries_motion_and_type() {
    let mut tracker = Tracker::new(Config::default());
    let mut events = Vec::new();
    let mut with_heading = pos(35.0, 125.0, 12.5);
    with_heading.heading_deg = Some(271);
    tracker
        .position(TANKER, &with_heading, T0, 1, &mut events)
        .unwrap();
    // A later position without a heading keeps the last one reported.
    tracker
        .position(TANKER, &pos(35.0, 125.01, 11.0), T0 + MIN, 2, &mut events)
        .unwrap();
    let data = StaticData {
        shiptype: Some(80),
        ..StaticData::default()
    };
    tracker.static_data(TANKER, &data, T0 + 2 * MIN, 3, &mut events);
    let summary = &tracker.summaries()[0];
    assert_eq!(summary.speed_knots, Some(11.0));
    assert_eq!(summary.course_deg, Some(90.0));
    assert_eq!(summary.heading_deg, Some(271));
    assert_eq!(summary.shiptype, Some(80));
    // No MID table loaded: the flag is unknown, not guessed.
    assert_eq!(summary.flag_country, None);
}
