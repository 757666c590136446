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
    assert_eq!(scenario.first_unsupported(), None);
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

#[test]
fn a_node_restart_is_still_refused() {
    let text = "name = \"t\"\n[[inject]]\nat_s = 0\ntype = \"node_restart\"\nparty = \"KOR\"\ndown_s = 60\n";
    let scenario = Scenario::parse("t.toml", text).unwrap();
    let (idx, why) = scenario.first_unsupported().unwrap();
    assert_eq!(idx, 0);
    assert!(
        why.starts_with("node_restart is not yet supported"),
        "{why}"
    );
    let err = plan(&scenario, START_MS).unwrap_err();
    assert_eq!(err.to_string(), format!("inject 1: {why}"));
}
