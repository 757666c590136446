//! The shipped scenarios, played on request from the console of a
//! `trilat demo` node (`POST /api/v1/exercise/scenarios/{name}/start`).
//!
//! Only a process holding every party's node and admin token can play a
//! scenario (each inject goes in at its party's node, with its token): the
//! demo does, so it gives its nodes a [`DemoStarter`]. A play is `trilat
//! exercise run SCENARIO --nodes … --engines-exercise --publish` run as a
//! task of the demo: it registers with every node (the console's runs list
//! shows it, an admin pauses it there) and publishes each party's share of
//! its after-action report at the end.
//!
//! The scenarios are built into the binary, so the demo offers them away
//! from the repository. Offered are those that play against running nodes:
//! a `node_restart` inject needs nodes the runner started itself
//! (`--cluster`), so `degraded-network` is not offered.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use trilat_exercise::{plan, Scenario};
use trilat_node::exercise::{ScenarioStarter, ShippedScenario, StartError};

use super::RunArgs;

/// The scenarios shipped in `scenarios/`, as `(file name, text)`.
const SHIPPED: &[(&str, &str)] = &[
    (
        "freedom-edge-day.toml",
        include_str!("../../../../../scenarios/freedom-edge-day.toml"),
    ),
    (
        "lofted-icbm-gap.toml",
        include_str!("../../../../../scenarios/lofted-icbm-gap.toml"),
    ),
    (
        "degraded-network.toml",
        include_str!("../../../../../scenarios/degraded-network.toml"),
    ),
];

/// A play should last about this long on the wall clock at the default
/// speed (for someone watching the console).
const PLAY_S_TARGET: f64 = 120.0;
/// The slowest default speed: faster than real time, as in CI.
const SPEED_DEFAULT_MIN: f64 = 10.0;
/// Seconds the runner waits after the last inject before the report.
const SETTLE_S: u64 = 5;

/// One scenario the starter offers.
struct Offered {
    file: &'static str,
    text: &'static str,
    shipped: ShippedScenario,
}

/// Plays the shipped scenarios against the demo's three nodes.
pub struct DemoStarter {
    offered: Vec<Offered>,
    /// `(url, admin token)` of each node.
    nodes: Vec<(String, String)>,
    /// Where plays write their scenario file, run record and report.
    dir: PathBuf,
    /// Run id of each scenario now playing, by name.
    playing: Arc<Mutex<BTreeMap<String, String>>>,
    runtime: tokio::runtime::Handle,
}

impl DemoStarter {
    /// A starter for `nodes` (`(url, admin token)` of every party's node),
    /// writing under `dir`; call from within the demo's runtime.
    pub fn new(nodes: Vec<(String, String)>, dir: PathBuf) -> anyhow::Result<DemoStarter> {
        assert!(!nodes.is_empty(), "the demo has nodes");
        let mut offered = Vec::new();
        for &(file, text) in SHIPPED {
            let scenario = Scenario::parse(file, text)?;
            if let Some((idx, why)) = scenario.first_needing_own_nodes() {
                tracing::info!(file, inject = idx + 1, why, "shipped scenario not offered");
                continue;
            }
            offered.push(Offered {
                file,
                text,
                shipped: shipped(&scenario)?,
            });
        }
        assert!(
            !offered.is_empty(),
            "some shipped scenario plays on --nodes"
        );
        Ok(DemoStarter {
            offered,
            nodes,
            dir,
            playing: Arc::default(),
            runtime: tokio::runtime::Handle::current(),
        })
    }

    fn run_args(&self, offered: &Offered, speed: f64, run_id: String) -> anyhow::Result<RunArgs> {
        let scenarios = self.dir.join("scenarios");
        std::fs::create_dir_all(&scenarios)?;
        let scenario = scenarios.join(offered.file);
        std::fs::write(&scenario, offered.text)?;
        Ok(RunArgs {
            scenario,
            nodes: self.nodes.iter().map(|n| n.0.clone()).collect(),
            tokens: self.nodes.iter().map(|n| n.1.clone()).collect(),
            cluster: false,
            cluster_dir: None,
            speed,
            out: self.dir.join("runs"),
            engines_exercise: true,
            sanctions_store: None,
            settle_s: SETTLE_S,
            publish: true,
            run_id: Some(run_id),
            unattended: true,
        })
    }
}

/// What the console shows of a scenario; its default speed plays it in
/// about [`PLAY_S_TARGET`].
fn shipped(scenario: &Scenario) -> anyhow::Result<ShippedScenario> {
    let steps = plan(scenario, 0)?;
    let duration_s = steps.iter().map(|s| s.at_ms).fold(0.0, f64::max) / 1000.0;
    let speed = (duration_s / PLAY_S_TARGET)
        .ceil()
        .clamp(SPEED_DEFAULT_MIN, trilat_node::exercise::start::SPEED_MAX);
    Ok(ShippedScenario {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        n_injects: scenario.injects.len(),
        duration_s,
        speed,
        playing_run_id: None,
    })
}

impl ScenarioStarter for DemoStarter {
    fn scenarios(&self) -> Vec<ShippedScenario> {
        let playing = self.playing.lock().unwrap_or_else(|p| p.into_inner());
        self.offered
            .iter()
            .map(|o| ShippedScenario {
                playing_run_id: playing.get(&o.shipped.name).cloned(),
                ..o.shipped.clone()
            })
            .collect()
    }

    fn start(&self, name: &str, speed: Option<f64>) -> Result<String, StartError> {
        let offered = self
            .offered
            .iter()
            .find(|o| o.shipped.name == name)
            .ok_or(StartError::Unknown)?;
        let mut playing = self.playing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(run_id) = playing.get(name) {
            return Err(StartError::Playing {
                run_id: run_id.clone(),
            });
        }
        let run_id = format!("{name}-{}", trilat_node::now_ms());
        let args = self
            .run_args(
                offered,
                speed.unwrap_or(offered.shipped.speed),
                run_id.clone(),
            )
            .map_err(|e| StartError::Failed(format!("{e:#}")))?;
        playing.insert(name.to_string(), run_id.clone());
        let still_playing = Playing {
            playing: self.playing.clone(),
            name: name.to_string(),
        };
        let run_id_played = run_id.clone();
        self.runtime.spawn(async move {
            let _still_playing = still_playing;
            match super::play::run_scenario(args).await {
                Ok(()) => eprintln!("exercise run {run_id_played} played; its report is in each node's Exercises view"),
                Err(e) => eprintln!("exercise run {run_id_played} stopped: {e:#}"),
            }
        });
        Ok(run_id)
    }
}

/// A scenario marked playing until this is dropped: when its play ends, or
/// when the play's task panics (a closed stdout, say), so the scenario can
/// always be started again.
struct Playing {
    playing: Arc<Mutex<BTreeMap<String, String>>>,
    name: String,
}

impl Drop for Playing {
    fn drop(&mut self) {
        let mut playing = self.playing.lock().unwrap_or_else(|p| p.into_inner());
        let removed = playing.remove(&self.name);
        debug_assert!(removed.is_some(), "{} was marked playing", self.name);
    }
}
