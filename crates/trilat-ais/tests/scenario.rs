//! The demo scenario and a synthetic day through the streaming analyser.

use trilat_ais::analyser::Analyser;
use trilat_ais::report::validate_payload;
use trilat_ais::synth::{demo_scenario, synthetic_day, DEMO_DPRK_MMSI, DEMO_TANKER_MMSI};
use trilat_ais::track::{AnomalyKind, Config, Detectors, Event, EventDetail, Tracker};

const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn analyse(lines: &[String]) -> (Vec<Event>, Analyser) {
    let mut analyser = Analyser::new(Tracker::new(Config::default()));
    let mut events = Vec::new();
    for line in lines {
        let _ = analyser.feed_line(line.as_bytes(), None, &mut events);
    }
    analyser.finish(&mut events);
    (events, analyser)
}

fn find<'a>(events: &'a [Event], name: &str, mmsi: u32) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| e.name() == name && e.mmsi == mmsi)
        .collect()
}

#[track_caller]
fn check_demo_events(events: &[Event]) {
    let gaps = find(events, "gap", DEMO_DPRK_MMSI);
    assert_eq!(gaps.len(), 1, "{events:#?}");
    let EventDetail::Gap { hours, .. } = gaps[0].detail else {
        unreachable!()
    };
    assert!((12.0..14.0).contains(&hours), "gap {hours} h");
    let enc = find(events, "encounter", DEMO_TANKER_MMSI);
    assert_eq!(
        enc.len(),
        1,
        "{:?}",
        events.iter().map(Event::name).collect::<Vec<_>>()
    );
    let EventDetail::Encounter {
        other_mmsi, hours, ..
    } = enc[0].detail
    else {
        unreachable!()
    };
    assert_eq!(other_mmsi, DEMO_DPRK_MMSI);
    assert!(hours >= 3.0, "encounter {hours} h");
    // The gap ends before the encounter starts.
    assert!(gaps[0].end_unix_ms <= enc[0].start_unix_ms + 60 * 60_000);
    let anomalies: Vec<(u32, AnomalyKind)> = events
        .iter()
        .filter_map(|e| match e.detail {
            EventDetail::IdentityAnomaly { anomaly, .. } => Some((e.mmsi, anomaly)),
            _ => None,
        })
        .collect();
    assert!(
        anomalies.contains(&(DEMO_DPRK_MMSI, AnomalyKind::DprkMid)),
        "{anomalies:?}"
    );
    assert!(
        anomalies.contains(&(DEMO_TANKER_MMSI, AnomalyKind::InvalidImo)),
        "{anomalies:?}"
    );
    // Every event is a valid maritime.event payload.
    for e in events {
        let kind = if e.name() == "sanctioned-vessel" {
            "maritime.sanctioned-vessel"
        } else {
            "maritime.event"
        };
        validate_payload(kind, &serde_json::to_value(e).unwrap()).unwrap();
    }
}

#[test]
fn demo_each_feed_and_both() {
    let feeds = demo_scenario(START);
    assert_eq!(feeds.len(), 2);
    assert_ne!(feeds[0].lines, feeds[1].lines);
    // Each partner alone sees the whole story…
    for feed in &feeds {
        let (events, analyser) = analyse(&feed.lines);
        assert_eq!(analyser.decode_stats().errors, 0);
        check_demo_events(&events);
    }
    // … and so do both feeds merged (duplicates included).
    // A fragment without `c:` keeps the time of the sentence before it.
    let mut both: Vec<(i64, &String)> = Vec::new();
    for feed in &feeds {
        let mut t = 0;
        for l in &feed.lines {
            t = l
                .split("c:")
                .nth(1)
                .and_then(|s| s[..10].parse::<i64>().ok())
                .unwrap_or(t);
            both.push((t, l));
        }
    }
    both.sort_by_key(|(t, _)| *t);
    let both: Vec<String> = both.into_iter().map(|(_, l)| l.clone()).collect();
    let (events, _) = analyse(&both);
    check_demo_events(&events);
}

#[test]
fn synthetic_day_finds_the_demo_and_nothing_spurious() {
    let lines = synthetic_day(7, 30, 120, START);
    let (events, analyser) = analyse(&lines);
    let stats = analyser.decode_stats();
    assert!(
        stats.errors > 0 && stats.errors * 500 < stats.sentences,
        "{stats:?}"
    );
    check_demo_events(&events);
    // The synthetic vessels sail straight at 6–18 knots: no encounters, no
    // loitering, no gaps among them, no jumps.
    let spurious: Vec<&Event> = events
        .iter()
        .filter(|e| {
            e.mmsi != DEMO_DPRK_MMSI
                && e.mmsi != DEMO_TANKER_MMSI
                && !(412_400_001..=412_400_003).contains(&e.mmsi)
        })
        .collect();
    assert!(spurious.is_empty(), "{spurious:#?}");
    assert!(analyser.tracker().vessel_count() >= 30);
}

/// Pins the events of a fixed-seed synthetic day with the fixture zones:
/// counts per kind and a digest of every event's JSON. The tracker's fast
/// paths (cheap reachability bound, integer cells, cached lookups) must not
/// change a single event; a deliberate detector change updates the pins.
#[test]
fn synthetic_day_events_are_pinned() {
    let lines = synthetic_day(1, 30, 60, START);
    let zones = std::sync::Arc::new(trilat_geo::ZoneIndex::new(trilat_geo::fixture_zones()));
    let mut analyser = Analyser::new(Tracker::new(Config::default()).with_zones(zones));
    let mut events = Vec::new();
    for line in &lines {
        let _ = analyser.feed_line(line.as_bytes(), None, &mut events);
    }
    analyser.finish(&mut events);
    let mut counts = std::collections::BTreeMap::new();
    // FNV-1a over the JSON lines: any changed field, order or event shows.
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    for e in &events {
        *counts.entry(e.name()).or_insert(0usize) += 1;
        for b in serde_json::to_vec(e).expect("events serialize") {
            digest = (digest ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let got = format!("{counts:?} digest {digest:016x}");
    assert_eq!(
        got,
        r#"{"encounter": 1, "gap": 1, "identity-anomaly": 2, "loitering": 1, "zone-entry": 174, "zone-exit": 147} digest 06080041dc125568"#,
        "positions {}",
        analyser.tracker().stats().positions
    );
}

/// The analyser of `lines` running `detectors`, after `finish`.
fn analyse_running(lines: &[String], detectors: Detectors) -> Vec<Event> {
    let config = Config {
        detectors,
        ..Config::default()
    };
    let mut analyser = Analyser::new(Tracker::new(config));
    let mut events = Vec::new();
    for line in lines {
        let _ = analyser.feed_line(line.as_bytes(), None, &mut events);
    }
    analyser.finish(&mut events);
    events
}

/// `lines` split into `n` partitions by the MMSI of their message (a
/// message's lines together), as a node's router splits them.
fn partitioned(lines: &[String], n: u32) -> Vec<Vec<String>> {
    let mut decoder = trilat_ais::Decoder::new();
    let mut parts = vec![Vec::new(); n as usize];
    let mut group = Vec::new();
    for line in lines {
        group.push(line.clone());
        match decoder.decode_line(line.as_bytes()) {
            Ok(Some(message)) => parts[(message.mmsi() % n) as usize].append(&mut group),
            Err(_) => group.clear(),
            Ok(None) => {}
        }
    }
    parts
}

/// A node on a bus splits the vessels among trackers running the
/// per-vessel detectors and feeds every vessel to one tracker running the
/// detectors that look across vessels. Together they raise what one
/// tracker running all raises: each event once, the same event.
#[test]
fn split_detectors_raise_what_one_tracker_raises() {
    let lines = synthetic_day(7, 30, 120, START);
    // An event as JSON, without its evidence's line numbers (a partition's
    // tracker numbers only the lines it was given).
    let keys = |events: &[Event]| -> Vec<String> {
        let mut keys: Vec<String> = events
            .iter()
            .map(|e| {
                let mut value = serde_json::to_value(e).unwrap();
                for fix in value["evidence"].as_array_mut().unwrap() {
                    fix.as_object_mut().unwrap().remove("line");
                }
                value.to_string()
            })
            .collect();
        keys.sort();
        keys
    };
    let all = analyse_running(&lines, Detectors::All);
    let across = analyse_running(&lines, Detectors::AcrossVessels);
    let names = |events: &[Event]| {
        let mut names: Vec<&str> = events.iter().map(Event::name).collect();
        names.dedup();
        names
    };
    assert!(
        names(&across).contains(&"encounter"),
        "{:?}",
        names(&across)
    );
    assert!(names(&across).contains(&"gap"), "{:?}", names(&across));
    let mut split = across;
    for part in partitioned(&lines, 4) {
        let per_vessel = analyse_running(&part, Detectors::PerVessel);
        assert!(per_vessel.iter().all(|e| !matches!(
            e.detail,
            EventDetail::Encounter { .. } | EventDetail::Gap { .. }
        )));
        split.extend(per_vessel);
    }
    assert_eq!(keys(&split), keys(&all));
}
