//! The scenarios shipped in `scenarios/`: each parses, and each plays or is
//! refused with the reason (never skipped in part).

use std::path::PathBuf;

use trilat_exercise::{plan, Scenario};

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

fn shipped(name: &str) -> Scenario {
    let path = scenarios_dir().join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    Scenario::parse(&path.display().to_string(), &text).unwrap()
}

#[test]
fn every_shipped_scenario_parses() {
    let mut n_files = 0;
    for entry in std::fs::read_dir(scenarios_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario = Scenario::parse(&path.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(!scenario.injects.is_empty(), "{}", path.display());
            n_files += 1;
        }
    }
    assert!(n_files >= 3, "{n_files} scenarios shipped");
}

#[test]
fn the_freedom_edge_day_plays_every_inject() {
    let scenario = shipped("freedom-edge-day");
    assert_eq!(scenario.first_needing_own_nodes(), None);
    let steps = plan(&scenario, 1_800_000_000_000).unwrap();
    for inject_idx in 0..scenario.injects.len() {
        assert!(
            steps.iter().any(|s| s.inject_idx == inject_idx),
            "inject {} has no step",
            inject_idx + 1
        );
    }
}

#[test]
fn the_degraded_network_drill_cuts_the_jpn_kor_link_and_restores_it() {
    use trilat_exercise::StepAction;
    let scenario = shipped("degraded-network");
    let (restart_idx, _) = scenario.first_needing_own_nodes().unwrap();
    assert_eq!(
        scenario.injects[restart_idx].action.type_name(),
        "node_restart"
    );
    let steps = plan(&scenario, 1_800_000_000_000).unwrap();
    let links: Vec<(f64, bool)> = steps
        .iter()
        .filter_map(|s| match &s.action {
            StepAction::Link { suspend, .. } => Some((s.at_ms, *suspend)),
            _ => None,
        })
        .collect();
    assert_eq!(
        links,
        [
            (30_000.0, true),
            (30_000.0, true),
            (270_000.0, false),
            (270_000.0, false)
        ]
    );
    // Korea's note of T+120 s is published while the link is cut.
    assert!(steps
        .iter()
        .any(|s| s.at_ms == 120_000.0 && matches!(s.action, StepAction::Publish { .. })));
    // The US node is stopped at T+300 s and started at T+360 s; Japan's
    // note falls in between.
    let usa_node: Vec<(f64, bool)> = steps
        .iter()
        .filter_map(|s| match &s.action {
            StepAction::Node { party, up } if party.as_str() == "USA" => Some((s.at_ms, *up)),
            _ => None,
        })
        .collect();
    assert_eq!(usa_node, [(300_000.0, false), (360_000.0, true)]);
    assert!(steps.iter().any(|s| s.at_ms == 320_000.0
        && matches!(&s.action, StepAction::Publish { party, .. } if party.as_str() == "JPN")));
}
