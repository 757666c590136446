//! The play plan: steps in time order; a coverage gap silences every radar;
//! a salvo's detections go to the fusing party; AIS lines to each feed's
//! party.

use trilat_exercise::{plan, Scenario, StepAction};

const START_MS: i64 = 1_800_000_000_000;

fn launch(extra: &str) -> Scenario {
    let text = format!(
        "name = \"t\"\n[[inject]]\nat_s = 10\ntype = \"missile_launch\"\nparty = \"JPN\"\nsite = [39.2237, 125.6701]\nbearing_deg = 75\napogee_km = 200\nrange_km = 900\nburn_s = 30\n{extra}"
    );
    Scenario::parse("t.toml", &text).unwrap()
}

/// Data times (Unix s) of every detection in the plan.
fn detection_times_s(scenario: &Scenario) -> Vec<f64> {
    let steps = plan(scenario, START_MS).unwrap();
    assert!(steps.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    let mut times = Vec::new();
    for step in &steps {
        let StepAction::Detections { party, records } = &step.action else {
            panic!("only detections: {:?}", step.action);
        };
        assert_eq!(party.as_str(), "JPN");
        for record in records {
            let time_s = trilat_missile::sensors::parse_time(&record.time).unwrap();
            // The step is due when its detections were made, on the exercise clock.
            let made_at_ms = (time_s * 1000.0 - START_MS as f64).round();
            assert!(
                made_at_ms >= step.at_ms - 1.0,
                "{made_at_ms} {}",
                step.at_ms
            );
            assert!(
                made_at_ms < step.at_ms + 1_001.0,
                "{made_at_ms} {}",
                step.at_ms
            );
            times.push(time_s);
        }
    }
    times
}

#[test]
fn a_coverage_gap_silences_every_radar() {
    let launch_s = (START_MS + 10_000) as f64 / 1000.0;
    let all = detection_times_s(&launch(""));
    let gapped = detection_times_s(&launch("gap_s = [100, 200]\n"));
    let in_gap = |t: &&f64| (100.0..200.0).contains(&(**t - launch_s));
    assert!(
        all.iter().filter(in_gap).count() > 10,
        "the radars see it then"
    );
    assert_eq!(gapped.iter().filter(in_gap).count(), 0);
    assert_eq!(
        gapped.len(),
        all.len() - all.iter().filter(in_gap).count(),
        "the same detections outside the gap"
    );
    assert!(all.iter().all(|t| *t >= launch_s));
}

#[test]
fn a_salvo_flies_more_missiles() {
    let one = detection_times_s(&launch("")).len();
    let three = detection_times_s(&launch("missiles = 3\ninterval_s = 20\n")).len();
    assert!(three > 2 * one, "{three} detections of three, {one} of one");
}

#[test]
fn an_ais_story_feeds_each_partner_its_own_lines_within_the_play() {
    let text = "name = \"t\"\n[[inject]]\nat_s = 60\ntype = \"ais_story\"\nstory = \"sts-encounter\"\nplay_s = 120\n";
    let steps = plan(&Scenario::parse("t.toml", text).unwrap(), START_MS).unwrap();
    let mut parties = std::collections::BTreeSet::new();
    for step in &steps {
        let StepAction::Nmea { party, lines } = &step.action else {
            panic!("only AIS: {:?}", step.action);
        };
        assert!(
            (60_000.0..=180_000.0).contains(&step.at_ms),
            "{}",
            step.at_ms
        );
        assert!(!lines.is_empty());
        parties.insert(party.as_str().to_string());
    }
    assert_eq!(parties, ["JPN", "KOR"].map(String::from).into());
}

#[test]
fn a_launch_no_radar_sees_is_refused() {
    let err = plan(&launch("gap_s = [0, 100000]\n"), START_MS).unwrap_err();
    assert_eq!(err.inject_idx, 0);
    assert_eq!(
        err.to_string(),
        "inject 1: no radar detects this launch (the gap covers the whole flight, or it flies outside every radar's coverage)"
    );
}

#[test]
fn a_link_outage_cuts_both_ends_then_restores_both() {
    let text = "name = \"t\"\n[[inject]]\nat_s = 0\ntype = \"note\"\nparty = \"USA\"\ntext = \"EXERCISE: a\"\nmarking = { level = \"UNCLASSIFIED\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n\n[[inject]]\nat_s = 30\ntype = \"link_outage\"\nbetween = [\"USA\", \"JPN\"]\nduration_s = 90\n\n[[inject]]\nat_s = 60\ntype = \"note\"\nparty = \"USA\"\ntext = \"EXERCISE: b\"\nmarking = { level = \"UNCLASSIFIED\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n";
    let scenario = Scenario::parse("t.toml", text).unwrap();
    assert_eq!(scenario.first_needing_own_nodes(), None);
    let steps = plan(&scenario, START_MS).unwrap();
    let played: Vec<(f64, usize, String)> = steps
        .iter()
        .map(|s| {
            let what = match &s.action {
                StepAction::Link {
                    party,
                    peer,
                    suspend,
                } => format!(
                    "{} {party}->{peer}",
                    if *suspend { "suspend" } else { "resume" }
                ),
                StepAction::Publish { party, .. } => format!("publish {party}"),
                other => panic!("unexpected step {other:?}"),
            };
            (s.at_ms, s.inject_idx, what)
        })
        .collect();
    let expected = [
        (0.0, 0, "publish USA"),
        (30_000.0, 1, "suspend USA->JPN"),
        (30_000.0, 1, "suspend JPN->USA"),
        (60_000.0, 2, "publish USA"),
        (120_000.0, 1, "resume USA->JPN"),
        (120_000.0, 1, "resume JPN->USA"),
    ];
    let expected: Vec<(f64, usize, String)> = expected
        .iter()
        .map(|(at, idx, what)| (*at, *idx, what.to_string()))
        .collect();
    assert_eq!(played, expected);
    // Each step goes to the node whose end it cuts.
    for step in &steps {
        if let StepAction::Link { party, .. } = &step.action {
            assert_eq!(step.action.party(), party);
        }
    }
}

const NOTE_AT_5_JPN: &str = "[[inject]]\nat_s = 5\ntype = \"note\"\nparty = \"JPN\"\ntext = \"EXERCISE\"\nmarking = { level = \"UNCLASSIFIED\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n";

#[test]
fn a_node_restart_stops_the_node_then_starts_it_and_needs_the_runners_own_nodes() {
    let text = format!("name = \"t\"\n[[inject]]\nat_s = 0\nlabel = \"KOR crashes\"\ntype = \"node_restart\"\nparty = \"KOR\"\ndown_s = 60\n{NOTE_AT_5_JPN}");
    let scenario = Scenario::parse("t.toml", &text).unwrap();
    let (idx, why) = scenario.first_needing_own_nodes().unwrap();
    assert_eq!(idx, 0);
    assert!(why.starts_with("node_restart needs --cluster"), "{why}");
    let steps = plan(&scenario, START_MS).unwrap();
    let played: Vec<(f64, usize, String)> = steps
        .iter()
        .map(|s| {
            let what = match &s.action {
                StepAction::Node { party, up } => {
                    format!("{} {party}", if *up { "start" } else { "stop" })
                }
                StepAction::Publish { party, .. } => format!("publish {party}"),
                other => panic!("unexpected step {other:?}"),
            };
            (s.at_ms, s.inject_idx, what)
        })
        .collect();
    let expected = [
        (0.0, 0, "stop KOR"),
        (5_000.0, 1, "publish JPN"),
        (60_000.0, 0, "start KOR"),
    ];
    let expected: Vec<(f64, usize, String)> = expected
        .iter()
        .map(|(at, idx, what)| (*at, *idx, what.to_string()))
        .collect();
    assert_eq!(played, expected);
}

#[test]
fn a_request_to_a_node_while_it_is_down_is_refused_naming_both_injects() {
    let text = format!("name = \"t\"\n[[inject]]\nat_s = 0\ntype = \"node_restart\"\nparty = \"JPN\"\ndown_s = 60\n{NOTE_AT_5_JPN}");
    let scenario = Scenario::parse("t.toml", &text).unwrap();
    let err = plan(&scenario, START_MS).unwrap_err();
    assert_eq!(err.inject_idx, 1);
    assert_eq!(
        err.to_string(),
        "inject 2: a request to JPN's node at T+5.0 s, while inject 1 has it down (T+0 to T+60 s); move one of them"
    );
}

#[test]
fn a_node_restart_during_an_outage_of_its_link_is_refused() {
    let text = "name = \"t\"\n[[inject]]\nat_s = 0\ntype = \"link_outage\"\nbetween = [\"JPN\", \"KOR\"]\nduration_s = 30\n[[inject]]\nat_s = 10\ntype = \"node_restart\"\nparty = \"KOR\"\ndown_s = 60\n";
    let err = Scenario::parse("t.toml", text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.toml:7: inject 2: field `at_s`: inject 2 (node_restart of KOR, T+10 to T+70 s) overlaps inject 1 (link_outage, T+0 to T+30 s): a node is restarted only while all its links are up and it is not already down"
    );
    // A restart of a node the outage does not touch is fine.
    let other = text.replace("party = \"KOR\"", "party = \"USA\"");
    Scenario::parse("t.toml", &other).unwrap();
    // As is one after the link is restored.
    let after = text.replace("at_s = 10", "at_s = 30");
    Scenario::parse("t.toml", &after).unwrap();
    // And down_s is at least a second.
    let zero = text.replace("down_s = 60", "down_s = 0");
    let err = Scenario::parse("t.toml", &zero).unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.toml:7: inject 2: field `down_s`: 0: expected 1 to 604800"
    );
}
