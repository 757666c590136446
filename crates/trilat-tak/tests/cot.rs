//! Reports and vessels as CoT events: types, uids, positions, stale times,
//! marking, and well-formed XML that reads back.

use serde_json::json;
use trilat_ais::track::VesselSummary;
use trilat_core::Timestamp;
use trilat_tak::report::{
    STALE_MS_AFTER_IMPACT, STALE_MS_MARITIME_EVENT, STALE_MS_MISSILE_TRACK, STALE_MS_SEISMIC_EVENT,
    TRACKS_MAX,
};
use trilat_tak::vessel::STALE_MS_VESSEL;
use trilat_tak::{report_event, vessel_event, Affiliation, CourseMemory};

use crate::common::*;

fn now() -> Timestamp {
    Timestamp::from_unix_ms(T0_MS + 1_000)
}

#[track_caller]
fn event_of(report: &trilat_core::Report, courses: &mut CourseMemory) -> Parsed {
    let cot = report_event(report, now(), courses)
        .unwrap()
        .expect("has a CoT form");
    parse(&cot.to_xml())
}

#[test]
fn a_missile_track_is_a_hostile_ballistic_missile_with_course_and_speed() {
    let mut courses = CourseMemory::default();
    let m = marking("SECRET", &["TRILAT"]);
    let first = report(
        "KOR",
        "missile.track",
        m.clone(),
        track_payload(3, 39.0, 127.0, "live"),
        T0_MS - 2_000,
    );
    let second = report(
        "KOR",
        "missile.track",
        m,
        track_payload(3, 39.0, 127.1, "live"),
        T0_MS,
    );
    let one = event_of(&first, &mut courses);
    assert!(!one.has("track"), "one fix gives no course");
    let two = event_of(&second, &mut courses);
    assert_eq!(two.attr("event", "type"), "a-h-A-W-M-B");
    assert_eq!(two.attr("event", "uid"), "trilat.KOR.missile.3");
    assert_eq!(
        one.attr("event", "uid"),
        two.attr("event", "uid"),
        "one uid per track"
    );
    assert_eq!(two.f64("point", "lat"), 39.0);
    assert_eq!(two.f64("point", "lon"), 127.1);
    assert_eq!(two.f64("point", "hae"), 120_500.0);
    let course = two.f64("track", "course");
    assert!((course - 90.0).abs() < 0.1, "due east, got {course}");
    assert_eq!(two.f64("track", "speed"), 2500.0);
    assert_eq!(two.ms_between("time", "stale"), STALE_MS_MISSILE_TRACK);
    assert_eq!(
        two.ms_between("start", "time"),
        1_000,
        "start is the observation"
    );
}

#[test]
fn a_lost_track_and_a_revoked_report_become_deletes_of_their_uid() {
    let mut courses = CourseMemory::default();
    let lost = report(
        "KOR",
        "missile.track",
        marking("SECRET", &["TRILAT"]),
        track_payload(9, 39.0, 127.0, "lost"),
        T0_MS,
    );
    let cot = event_of(&lost, &mut courses);
    assert_eq!(cot.attr("event", "type"), "t-x-d-d");
    assert_eq!(cot.attr("link", "uid"), "trilat.KOR.missile.9");
    assert!(cot.has("__forcedelete"));

    let mut revoked = report(
        "JPN",
        "seismic.event",
        marking("UNCLASSIFIED", &["TRILAT"]),
        seismic_payload(),
        T0_MS,
    );
    revoked.revoked = true;
    let cot = event_of(&revoked, &mut courses);
    assert_eq!(cot.attr("event", "type"), "t-x-d-d");
    assert_eq!(
        cot.attr("link", "uid"),
        format!("trilat.JPN.{}", revoked.id)
    );
}

#[test]
fn an_assessment_is_its_predicted_impact_with_the_ellipse() {
    let assessment = report(
        "USA",
        "missile.assessment",
        marking("SECRET", &["TRILAT"]),
        assessment_payload(),
        T0_MS,
    );
    let cot = event_of(&assessment, &mut CourseMemory::default());
    assert_eq!(cot.attr("event", "type"), "u-d-c-e");
    assert_eq!(cot.attr("event", "uid"), "trilat.USA.impact.3");
    assert_eq!(cot.f64("point", "lat"), 40.5);
    assert_eq!(cot.f64("point", "lon"), 137.25);
    assert_eq!(cot.f64("point", "ce"), 12_000.0);
    assert_eq!(cot.f64("ellipse", "major"), 12_000.0);
    assert_eq!(cot.f64("ellipse", "minor"), 4_000.0);
    assert_eq!(cot.f64("ellipse", "angle"), 80.0);
    // Stale ten minutes after the predicted impact.
    let stale = Timestamp::parse(cot.attr("event", "stale")).unwrap();
    let impact = Timestamp::parse(&impact_time()).unwrap();
    assert_eq!(stale.unix_ms() - impact.unix_ms(), STALE_MS_AFTER_IMPACT);
}

#[test]
fn maritime_and_seismic_events_are_spot_markers_with_their_stale_times() {
    let gap = report(
        "JPN",
        "maritime.event",
        marking("CONFIDENTIAL", &["TRILAT"]),
        maritime_event_payload(),
        T0_MS,
    );
    let cot = event_of(&gap, &mut CourseMemory::default());
    assert_eq!(cot.attr("event", "type"), "b-m-p-s-m");
    assert_eq!(cot.attr("event", "uid"), format!("trilat.JPN.{}", gap.id));
    assert_eq!(
        (cot.f64("point", "lat"), cot.f64("point", "lon")),
        (37.5, 124.25)
    );
    assert_eq!(cot.attr("contact", "callsign"), "gap MMSI-445123000");
    assert_eq!(cot.ms_between("time", "stale"), STALE_MS_MARITIME_EVENT);

    let quake = report(
        "USA",
        "seismic.event",
        marking("UNCLASSIFIED", &["TRILAT"]),
        seismic_payload(),
        T0_MS,
    );
    let cot = event_of(&quake, &mut CourseMemory::default());
    assert_eq!(cot.attr("event", "type"), "b-m-p-s-m");
    assert_eq!(
        (cot.f64("point", "lat"), cot.f64("point", "lon")),
        (41.343, 129.036)
    );
    assert_eq!(cot.f64("point", "ce"), 9_000.0);
    assert_eq!(cot.f64("ellipse", "angle"), 30.0);
    assert_eq!(cot.ms_between("time", "stale"), STALE_MS_SEISMIC_EVENT);
}

#[test]
fn the_marking_is_in_the_detail_and_opens_the_remarks() {
    let gap = report(
        "JPN",
        "maritime.event",
        marking("CONFIDENTIAL", &["JPN", "USA"]),
        maritime_event_payload(),
        T0_MS,
    );
    let cot = event_of(&gap, &mut CourseMemory::default());
    assert_eq!(cot.attr("__trilat", "level"), "CONFIDENTIAL");
    assert_eq!(cot.attr("__trilat", "tlp"), "AMBER");
    assert_eq!(cot.attr("__trilat", "rel_to"), "JPN,USA");
    assert_eq!(cot.attr("__trilat", "owner"), "JPN");
    assert_eq!(cot.attr("__trilat", "report"), gap.id.to_string());
    assert_eq!(cot.attr("__trilat", "version"), "1");
    assert!(
        cot.remarks
            .starts_with("CONFIDENTIAL//REL TO JPN, USA//TLP:AMBER — "),
        "{}",
        cot.remarks
    );
    assert!(
        !cot.elements["event"].contains_key("opex"),
        "real-world events carry no opex"
    );

    let mut exercise = gap.clone();
    exercise.exercise = true;
    let cot = event_of(&exercise, &mut CourseMemory::default());
    assert_eq!(cot.attr("event", "opex"), "e");
    assert!(cot
        .remarks
        .starts_with("EXERCISE EXERCISE EXERCISE — CONFIDENTIAL"));
}

#[test]
fn kinds_without_a_place_on_the_map_have_no_event() {
    let note = report(
        "JPN",
        "note",
        marking("UNCLASSIFIED", &["TRILAT"]),
        json!({"text": "hello"}),
        T0_MS,
    );
    assert!(report_event(&note, now(), &mut CourseMemory::default())
        .unwrap()
        .is_none());
}

#[test]
fn an_unreadable_payload_is_an_error_naming_the_report() {
    let bad = report(
        "JPN",
        "note",
        marking("UNCLASSIFIED", &["TRILAT"]),
        json!({"lat": "north"}),
        T0_MS,
    );
    let mut bad = bad;
    bad.kind = trilat_core::Kind::new("missile.track").unwrap();
    let e = report_event(&bad, now(), &mut CourseMemory::default()).unwrap_err();
    assert!(e.to_string().contains(&bad.id.to_string()), "{e}");
    assert!(e.to_string().contains("missile.track"), "{e}");
}

fn vessel(mmsi: u32, shiptype: Option<u8>, name: &str) -> VesselSummary {
    VesselSummary {
        mmsi,
        segments: 1,
        positions: 10,
        shipname: Some(name.into()),
        imo: Some(9_876_543),
        callsign: None,
        last_seen_unix_ms: T0_MS,
        lat: 34.5,
        lon: 129.25,
        speed_knots: Some(10.0),
        course_deg: Some(200.0),
        heading_deg: None,
        shiptype,
        flag_country: Some("Korea (Republic of)".into()),
    }
}

#[test]
fn vessels_are_unknown_surface_tracks_by_mmsi_and_suspect_when_sanctioned() {
    let owner = party("KOR");
    let m = marking("UNCLASSIFIED", &["KOR"]);
    let check = |v: &VesselSummary, affiliation, cot_type: &str| {
        let cot = parse(&vessel_event(v, affiliation, &owner, &m, false, now()).to_xml());
        assert_eq!(cot.attr("event", "type"), cot_type);
        assert_eq!(cot.attr("event", "uid"), format!("MMSI-{}", v.mmsi));
        cot
    };
    let cot = check(
        &vessel(440_000_001, Some(70), "CARGO ONE"),
        Affiliation::Unknown,
        "a-u-S-X-M",
    );
    assert_eq!(
        (cot.f64("point", "lat"), cot.f64("point", "lon")),
        (34.5, 129.25)
    );
    assert_eq!(cot.f64("track", "course"), 200.0);
    assert_eq!(cot.f64("track", "speed"), 5.1, "10 kn in m/s, one decimal");
    assert_eq!(cot.attr("contact", "callsign"), "CARGO ONE");
    assert_eq!(cot.ms_between("time", "stale"), STALE_MS_VESSEL);
    check(
        &vessel(440_000_002, Some(70), "DARK"),
        Affiliation::Suspect,
        "a-s-S-X-M",
    );
    check(
        &vessel(440_000_003, Some(30), "TRAWLER"),
        Affiliation::Unknown,
        "a-u-S-X-F",
    );
    check(
        &vessel(440_000_004, Some(37), "YACHT"),
        Affiliation::Unknown,
        "a-u-S-X-R",
    );
    check(
        &vessel(440_000_005, Some(55), "PATROL"),
        Affiliation::Unknown,
        "a-u-S-X-L",
    );
}

#[test]
fn text_from_the_feed_is_escaped() {
    let v = vessel(440_000_006, None, r#"<A&B "Q">"#);
    let xml = vessel_event(
        &v,
        Affiliation::Unknown,
        &party("KOR"),
        &marking("UNCLASSIFIED", &["KOR"]),
        false,
        now(),
    )
    .to_xml();
    assert!(!xml.contains("<A&B"), "{xml}");
    let cot = parse(&xml);
    assert_eq!(cot.attr("contact", "callsign"), r#"<A&B "Q">"#);
}

#[test]
fn course_memory_is_bounded_and_forgets_the_oldest_track() {
    let mut courses = CourseMemory::default();
    let at = |lon| trilat_geo::LatLon { lat: 10.0, lon };
    for idx in 0..=TRACKS_MAX {
        assert_eq!(courses.course(&format!("t{idx}"), at(0.0), 0), None);
    }
    // t0 was forgotten (no course; remembering it again forgets t1); the newest is known.
    assert_eq!(courses.course("t0", at(1.0), 1_000), None);
    assert!(courses
        .course(&format!("t{TRACKS_MAX}"), at(1.0), 1_000)
        .is_some());
}
