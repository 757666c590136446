//! The seismic and sanctions_hit injects: what the file says becomes the
//! request a node's route reads (a bulletin the seismic reader parses back
//! to the same event; a screening and the decision on its hit), and bad
//! fields are named.

use trilat_exercise::scenario::HitDecision;
use trilat_exercise::{plan, Scenario, StepAction};

const START_MS: i64 = 1_800_000_000_000;

fn scenario(inject: &str) -> Scenario {
    Scenario::parse("t.toml", &format!("name = \"t\"\n[[inject]]\n{inject}")).unwrap()
}

#[track_caller]
fn check_error(inject: &str, expect: &str) {
    let err =
        Scenario::parse("t.toml", &format!("name = \"t\"\n[[inject]]\n{inject}")).unwrap_err();
    assert_eq!(err.to_string(), expect);
}

/// The plan's one bulletin, read back by the seismic engine's own reader.
fn bulletin_event(inject: &str) -> (String, trilat_seismic::Event) {
    let steps = plan(&scenario(inject), START_MS).unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].at_ms, 60_000.0);
    let StepAction::Bulletin { party, text } = &steps[0].action else {
        panic!("a bulletin: {:?}", steps[0].action);
    };
    assert_eq!(party.as_str(), "KOR");
    let parsed = trilat_seismic::read(text).unwrap();
    assert_eq!(parsed.diagnostics, vec![], "{text}");
    assert_eq!(parsed.events.len(), 1, "{text}");
    (text.clone(), parsed.events.into_iter().next().unwrap())
}

const SEISMIC: &str = "at_s = 60\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 129.08]\ndepth_km = 0.7\nmagnitude_mb = 5.6\nmagnitude_ms = 4.2\norigin_before_s = 20\n";

#[test]
fn a_seismic_inject_is_a_bulletin_the_seismic_reader_reads_back() {
    for format in ["quakeml", "ims1"] {
        let (text, event) = bulletin_event(&format!("{SEISMIC}format = \"{format}\"\n"));
        assert!(text.contains("EXERCISE"), "{text}");
        // The origin time is the inject's, less origin_before_s (IMS1.0
        // writes hundredths of a second).
        let origin_ms = (event.origin.time.unix_timestamp_nanos() / 1_000_000) as i64;
        assert!(
            (origin_ms - (START_MS + 40_000)).abs() < 10,
            "{format}: {origin_ms}"
        );
        assert_eq!(event.origin.lat, Some(41.3), "{format}");
        assert_eq!(event.origin.lon, Some(129.08), "{format}");
        let depth_km = event.origin.depth_km.unwrap();
        assert!((depth_km - 0.7).abs() < 1e-9, "{format}: {depth_km}");
        let magnitudes: Vec<(String, f64)> = event
            .magnitudes
            .iter()
            .map(|m| (m.raw_type.clone(), m.value))
            .collect();
        assert_eq!(
            magnitudes,
            vec![("mb".to_string(), 5.6), ("Ms".to_string(), 4.2)],
            "{format}"
        );
        assert_eq!(event.agency.as_deref(), Some("EXERCISE"), "{format}");
        assert!(event.id.contains(&format!("{START_MS}-1")), "{}", event.id);
    }
}

#[test]
fn a_sanctions_hit_inject_is_a_screening_and_a_decision() {
    let steps = plan(
        &scenario("at_s = 5\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak Chong Il\"\nschema = \"person\"\ncountry = \"KP\"\ndecision = \"false_positive\"\nnote = \"EXERCISE\"\nmarking = { level = \"SECRET\", tlp = \"AMBER\", rel_to = [\"JPN\", \"KOR\"] }\n"),
        START_MS,
    )
    .unwrap();
    assert_eq!(steps.len(), 1);
    let StepAction::SanctionsHit {
        party,
        screen,
        decision,
        note,
        marking,
    } = &steps[0].action
    else {
        panic!("a sanctions hit: {:?}", steps[0].action);
    };
    assert_eq!(party.as_str(), "JPN");
    assert_eq!(
        screen,
        &serde_json::json!({"name": "Pak Chong Il", "schema": "person", "country": "KP"})
    );
    assert_eq!(*decision, HitDecision::FalsePositive);
    assert_eq!(note, "EXERCISE");
    assert_eq!(marking.as_ref().unwrap().rel_to, vec!["JPN", "KOR"]);
    // Defaults: confirmed, the node's engines' marking.
    let steps = plan(
        &scenario("at_s = 5\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\n"),
        START_MS,
    )
    .unwrap();
    let StepAction::SanctionsHit {
        screen,
        decision,
        marking,
        ..
    } = &steps[0].action
    else {
        panic!("a sanctions hit: {:?}", steps[0].action);
    };
    assert_eq!(screen, &serde_json::json!({"name": "Pak"}));
    assert_eq!(*decision, HitDecision::Confirmed);
    assert_eq!(marking, &None);
}

#[test]
fn bad_seismic_and_sanctions_fields_are_named() {
    check_error(
        "at_s = 1\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 229.0]\ndepth_km = 1\nmagnitude_mb = 5\n",
        "t.toml:2: inject 1: field `epicentre[1]`: 229: expected -180 to 180",
    );
    check_error(
        "at_s = 1\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 129.0]\nmagnitude_mb = 5\n",
        "t.toml:2: inject 1: missing field `depth_km`",
    );
    check_error(
        "at_s = 1\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 129.0]\ndepth_km = 1\nmagnitude_mb = 5\nformat = \"sac\"\n",
        "t.toml:2: inject 1: field `format`: unknown variant `sac`, expected `quakeml` or `ims1`",
    );
    check_error(
        "at_s = 1\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 129.0]\ndepth_km = 1\nmagnitude_mb = 5\nmagnitude_ms = 12\n",
        "t.toml:2: inject 1: field `magnitude_ms`: 12: expected -2 to 10",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \" \"\n",
        "t.toml:2: inject 1: field `name`: must be 1 to 512 bytes",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\nschema = \"ship\"\n",
        "t.toml:2: inject 1: field `schema`: unknown schema \"ship\"; one of person, organization, vessel, aircraft",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\ncountry = \"PRK\"\n",
        "t.toml:2: inject 1: field `country`: \"PRK\": expected an ISO 3166-1 alpha-2 code, e.g. KP",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\ndecision = \"maybe\"\n",
        "t.toml:2: inject 1: field `decision`: unknown variant `maybe`, expected `confirmed` or `false_positive`",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\nmarking = { level = \"U\", tlp = \"GREEN\", rel_to = [] }\n",
        "t.toml:2: inject 1: field `marking.rel_to`: must name at least one party or group",
    );
}

/// Two vessels meet at 31.0 N 124.5 E from 4 h to 6 h; the second is dark
/// from 1 h to 3.5 h and heard by KOR only; the first by JPN and KOR.
const VESSEL_STORY: &str = "at_s = 100\ntype = \"ais_story\"\nplay_s = 600\n\
[[inject.vessel]]\nmmsi = 352001234\nname = \"A LI\"\nimo = 8814881\nship_type = 80\nheard_by = [\"JPN\", \"KOR\"]\n\
track = [[0, 30.0, 123.5], [4, 31.0, 124.5], [6, 31.0, 124.5], [8, 30.5, 124.8]]\n\
[[inject.vessel]]\nmmsi = 445123000\nname = \"RYONGGANG 7\"\ncallsign = \"HMRG7\"\nheard_by = [\"KOR\"]\nreport_s = 300\n\
track = [[0, 32.5, 124.5], [4, 31.0015, 124.5005], [6, 31.0015, 124.5005], [8, 32.0, 124.6]]\ndark_h = [[1, 3.5]]\n";

/// One decoded position report: party, MMSI, hours from the story's
/// start, lat, lon.
type Fix = (String, u32, f64, f64, f64);

/// Every position report in the plan, decoded by the AIS crate's decoder,
/// and the `(mmsi, name)` the static reports carry.
fn decoded_story(inject: &str) -> (Vec<Fix>, Vec<(u32, String)>) {
    let steps = plan(&scenario(inject), START_MS).unwrap();
    let story_end_unix_ms = START_MS + 700_000;
    let mut positions = Vec::new();
    let mut names = Vec::new();
    for step in &steps {
        let StepAction::Nmea { party, lines } = &step.action else {
            panic!("AIS lines: {:?}", step.action);
        };
        assert!(
            (100_000.0..=700_000.0).contains(&step.at_ms),
            "{}",
            step.at_ms
        );
        let mut decoder = trilat_ais::Decoder::new();
        for line in lines {
            let Some(message) = decoder.decode_line(line.as_bytes()).unwrap() else {
                continue;
            };
            assert_eq!(
                message.meta().source.as_str(),
                format!("{party}-EXERCISE-RX")
            );
            let time_ms = message.meta().time_unix_ms.unwrap();
            let h = (time_ms - (story_end_unix_ms - 8 * 3_600_000)) as f64 / 3_600_000.0;
            if let Some(position) = message.position() {
                positions.push((
                    party.to_string(),
                    message.mmsi(),
                    h,
                    position.lat.unwrap(),
                    position.lon.unwrap(),
                ));
            }
            if let Some(statics) = message.static_data() {
                let name = statics.shipname.map(|n| n.as_str().to_string());
                names.push((message.mmsi(), name.unwrap_or_default()));
            }
        }
    }
    (positions, names)
}

#[test]
fn a_described_ais_story_is_real_aivdm_with_its_gap_its_meeting_and_its_receivers() {
    let (positions, names) = decoded_story(VESSEL_STORY);
    assert!(
        names.contains(&(352_001_234, "A LI".to_string())),
        "{names:?}"
    );
    assert!(
        names.contains(&(445_123_000, "RYONGGANG 7".to_string())),
        "{names:?}"
    );
    let of = |party: &str, mmsi: u32| -> Vec<(f64, f64, f64)> {
        positions
            .iter()
            .filter(|p| p.0 == party && p.1 == mmsi)
            .map(|p| (p.2, p.3, p.4))
            .collect()
    };
    // The tanker every 180 s over 8 h at both receivers; the dark vessel at KOR only.
    assert_eq!(of("JPN", 352_001_234).len(), 8 * 20 + 1);
    assert_eq!(of("KOR", 352_001_234).len(), 8 * 20 + 1);
    assert_eq!(of("JPN", 445_123_000).len(), 0);
    let dark = of("KOR", 445_123_000);
    // Every 300 s over 8 h, less the 2.5 h gap.
    assert_eq!(dark.len(), 8 * 12 + 1 - 30);
    assert!(
        dark.iter()
            .all(|(h, _, _)| !(1.0 - 1e-6..3.5 - 1e-6).contains(h)),
        "{dark:?}"
    );
    // The meeting: both within 200 m of 31.0 N 124.5 E from 4 h to 6 h.
    for mmsi in [352_001_234, 445_123_000] {
        let meeting: Vec<_> = of("KOR", mmsi)
            .into_iter()
            .filter(|(h, _, _)| (4.0..=6.0).contains(h))
            .collect();
        assert!(meeting.len() >= 8, "{mmsi}: {meeting:?}");
        for (h, lat, lon) in meeting {
            let dy_m = (lat - 31.0) * 111_000.0;
            let dx_m = (lon - 124.5) * 111_000.0 * 31f64.to_radians().cos();
            assert!(dy_m.hypot(dx_m) < 200.0, "{mmsi} at {h} h: {lat} {lon}");
        }
    }
    // On the first leg, half-way in time is half-way in space.
    let (_, lat, lon) = of("JPN", 352_001_234)
        .into_iter()
        .find(|(h, _, _)| (h - 2.0).abs() < 1e-6)
        .unwrap();
    assert!(
        (lat - 30.5).abs() < 1e-3 && (lon - 124.0).abs() < 1e-3,
        "{lat} {lon}"
    );
}

#[test]
fn bad_vessel_fields_are_named() {
    let vessel = |fields: &str| {
        format!("at_s = 1\ntype = \"ais_story\"\nplay_s = 60\n[[inject.vessel]]\n{fields}")
    };
    check_error(
        &vessel(
            "mmsi = 12\nname = \"X\"\nheard_by = [\"KOR\"]\ntrack = [[0, 30, 120], [1, 31, 121]]\n",
        ),
        "t.toml:2: inject 1: field `vessel[0].mmsi`: 12: expected 9 digits",
    );
    check_error(
        &vessel("mmsi = 445123000\nname = \"X\"\nheard_by = [\"KOR\"]\ntrack = [[0, 30, 120], [0, 31, 121]]\n"),
        "t.toml:2: inject 1: field `vessel[0].track[1][0]`: 0 h is not after the previous point's 0 h",
    );
    check_error(
        &vessel("mmsi = 445123000\nname = \"sea star\"\nheard_by = [\"KOR\"]\ntrack = [[0, 30, 120], [1, 31, 121]]\n"),
        "t.toml:2: inject 1: field `vessel[0].name`: \"sea star\": at most 20 of A-Z, 0-9, space and -./'&() (the AIS alphabet)",
    );
    check_error(
        &vessel(
            "mmsi = 445123000\nname = \"X\"\nheard_by = []\ntrack = [[0, 30, 120], [1, 31, 121]]\n",
        ),
        "t.toml:2: inject 1: field `vessel[0].heard_by`: must name at least one party",
    );
    check_error(
        &vessel("mmsi = 445123000\nname = \"X\"\nheard_by = [\"KOR\"]\ntrack = [[0, 30, 120], [1, 31, 121]]\ndark_h = [[2, 1]]\n"),
        "t.toml:2: inject 1: field `vessel[0].dark_h[0]`: [2, 1]: the gap must end after it starts",
    );
    check_error(
        "at_s = 1\ntype = \"ais_story\"\nplay_s = 60\n",
        "t.toml:2: inject 1: field `story`: missing: a built-in story (`sts-encounter`) or [[inject.vessel]] tables",
    );
    check_error(
        &format!("story = \"sts-encounter\"\n{}", vessel("mmsi = 445123000\nname = \"X\"\nheard_by = [\"KOR\"]\ntrack = [[0, 30, 120], [1, 31, 121]]\n")),
        "t.toml:2: inject 1: field `story`: give a built-in story or [[inject.vessel]] tables, not both",
    );
}
