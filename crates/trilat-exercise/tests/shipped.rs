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
    assert_eq!(scenario.first_unsupported(), None);
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
fn the_degraded_network_drill_is_refused_until_a_link_can_be_cut() {
    let scenario = shipped("degraded-network");
    let (inject_idx, why) = scenario.first_unsupported().unwrap();
    assert_eq!(inject_idx, 1);
    assert!(why.starts_with("link_outage is not yet supported"), "{why}");
    let err = plan(&scenario, 1_800_000_000_000).unwrap_err();
    assert_eq!(err.inject_idx, 1);
    assert_eq!(err.to_string(), format!("inject 2: {why}"));
}
