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
        "t.toml: inject 1: field `epicentre[1]`: 229: expected -180 to 180",
    );
    check_error(
        "at_s = 1\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 129.0]\nmagnitude_mb = 5\n",
        "t.toml: inject 1: missing field `depth_km`",
    );
    check_error(
        "at_s = 1\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 129.0]\ndepth_km = 1\nmagnitude_mb = 5\nformat = \"sac\"\n",
        "t.toml: inject 1: field `format`: unknown variant `sac`, expected `quakeml` or `ims1`",
    );
    check_error(
        "at_s = 1\ntype = \"seismic\"\nparty = \"KOR\"\nepicentre = [41.3, 129.0]\ndepth_km = 1\nmagnitude_mb = 5\nmagnitude_ms = 12\n",
        "t.toml: inject 1: field `magnitude_ms`: 12: expected -2 to 10",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \" \"\n",
        "t.toml: inject 1: field `name`: must be 1 to 512 bytes",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\nschema = \"ship\"\n",
        "t.toml: inject 1: field `schema`: unknown schema \"ship\"; one of person, organization, vessel, aircraft",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\ncountry = \"PRK\"\n",
        "t.toml: inject 1: field `country`: \"PRK\": expected an ISO 3166-1 alpha-2 code, e.g. KP",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\ndecision = \"maybe\"\n",
        "t.toml: inject 1: field `decision`: unknown variant `maybe`, expected `confirmed` or `false_positive`",
    );
    check_error(
        "at_s = 1\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak\"\nmarking = { level = \"U\", tlp = \"GREEN\", rel_to = [] }\n",
        "t.toml: inject 1: field `marking.rel_to`: must name at least one party or group",
    );
}
