//! The runner under the nodes' control, and the report published to them:
//!
//! - [`Control`]: a run registers with every node it plays against
//!   (`POST /api/v1/exercise/runs`), then reports its progress and reads
//!   back the control state every [`POLL_MS`]. While any node holds the run
//!   paused (an admin pressed Pause in the console, or `trilat exercise
//!   pause`), the runner's exercise clock is paused; it resumes when none
//!   does. The clock stays the runner's own (`ExerciseClock` is pure): the
//!   nodes only hold a state.
//! - [`publish`]: each node gets only its party's share of the report
//!   (`trilat_exercise::share_for`), never the whole.
//! - [`steer`]: `trilat exercise pause|resume RUN --node URL`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::json;
use trilat_exercise::{share_for, AfterAction, ExerciseClock, Step};
use trilat_node::client::{ClientError, NodeClient};

use super::NodeHandle;

/// How often the runner reports its progress and reads the control state.
pub const POLL_MS: u64 = 300;

/// A run registered with its nodes.
pub(super) struct Control {
    run_id: String,
    nodes: Vec<(String, NodeClient)>,
    /// Steps still to play, per inject.
    steps_left: Mutex<Vec<usize>>,
    injects_done: Arc<AtomicUsize>,
    poller: tokio::task::JoinHandle<()>,
}

impl Control {
    /// Registers the run with every node (a node without the exercise
    /// routes is told about and left out) and starts following their
    /// control state into `clock`.
    pub(super) async fn register(
        nodes: &[NodeHandle],
        run_id: &str,
        scenario: &str,
        n_injects: usize,
        steps: &[Step],
        clock: Arc<Mutex<ExerciseClock>>,
    ) -> anyhow::Result<Control> {
        let body = json!({ "run_id": run_id, "scenario": scenario, "injects_total": n_injects });
        let mut controlled = Vec::with_capacity(nodes.len());
        for node in nodes {
            match node.client.post("/api/v1/exercise/runs", &body).await {
                Ok(_) => controlled.push((node.url.clone(), node.client.clone())),
                Err(ClientError::Api { code, .. }) if code == "no_route" => eprintln!(
                    "{}: this node has no exercise routes; it cannot pause the run",
                    node.url
                ),
                Err(e) => {
                    return Err(e).with_context(|| format!("registering run {run_id}"));
                }
            }
        }
        let mut steps_left = vec![0; n_injects];
        for step in steps {
            steps_left[step.inject_idx] += 1;
        }
        let injects_done = Arc::new(AtomicUsize::new(0));
        let poller = tokio::spawn(follow(
            run_id.to_string(),
            controlled.clone(),
            injects_done.clone(),
            clock,
        ));
        Ok(Control {
            run_id: run_id.to_string(),
            nodes: controlled,
            steps_left: Mutex::new(steps_left),
            injects_done,
            poller,
        })
    }

    /// One step of `inject_idx` was played; its inject is done with its
    /// last step.
    pub(super) fn step_done(&self, inject_idx: usize) {
        let mut left = self.steps_left.lock().unwrap_or_else(|p| p.into_inner());
        assert!(left[inject_idx] > 0, "more steps played than planned");
        left[inject_idx] -= 1;
        if left[inject_idx] == 0 {
            self.injects_done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Tells the nodes the run has finished (best effort: a failure is
    /// only reported).
    pub(super) async fn finish(self) {
        self.poller.abort();
        let body = json!({
            "injects_done": self.injects_done.load(Ordering::Relaxed),
            "finished": true,
        });
        let path = format!("/api/v1/exercise/runs/{}/progress", self.run_id);
        for (url, client) in &self.nodes {
            if let Err(e) = client.post(&path, &body).await {
                eprintln!("{url}: could not mark run {} finished: {e}", self.run_id);
            }
        }
    }
}

/// Every [`POLL_MS`]: the progress to each node, its state back; the
/// clock paused while any node holds the run paused, resumed when none
/// does (only on a change, so `p`/`r` on stdin still work in between).
async fn follow(
    run_id: String,
    nodes: Vec<(String, NodeClient)>,
    injects_done: Arc<AtomicUsize>,
    clock: Arc<Mutex<ExerciseClock>>,
) {
    let path = format!("/api/v1/exercise/runs/{run_id}/progress");
    let mut paused_by_node = false;
    let mut failing = vec![false; nodes.len()];
    loop {
        let body = json!({ "injects_done": injects_done.load(Ordering::Relaxed) });
        let mut any_paused = false;
        for (idx, (url, client)) in nodes.iter().enumerate() {
            match client.post(&path, &body).await {
                Ok(run) => {
                    failing[idx] = false;
                    any_paused |= run["state"] == "paused";
                }
                Err(e) => {
                    if !failing[idx] {
                        eprintln!("{url}: control state not read ({e}); playing on");
                    }
                    failing[idx] = true;
                }
            }
        }
        if any_paused != paused_by_node {
            paused_by_node = any_paused;
            let mut clock = clock.lock().unwrap_or_else(|p| p.into_inner());
            let now_ms = trilat_node::now_ms();
            if any_paused {
                clock.pause(now_ms);
            } else {
                clock.resume(now_ms);
            }
        }
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
}

/// Publishes to each node its party's share of `report`.
pub(super) async fn publish(report: &AfterAction, nodes: &[NodeHandle]) -> anyhow::Result<()> {
    let path = format!("/api/v1/exercise/reports/{}", report.run_id);
    for node in nodes {
        let share = share_for(report, &node.party);
        let header = node
            .client
            .put(&path, &serde_json::to_value(&share)?)
            .await
            .with_context(|| format!("publishing the report to {}", node.url))?;
        println!(
            "published to {} ({}): {} injects, {} products, {} bytes ({} injects not shown there)",
            node.party,
            node.url,
            header["n_injects"],
            header["n_products"],
            header["bytes"],
            share.n_injects_not_shown
        );
    }
    Ok(())
}

/// `trilat exercise pause|resume`: sets a run's control state at a node.
pub(super) async fn steer(args: super::SteerArgs, pause: bool) -> anyhow::Result<()> {
    let client = NodeClient::new(&args.node, &args.token);
    let verb = if pause { "pause" } else { "resume" };
    let run = client
        .post(
            &format!("/api/v1/exercise/runs/{}/{verb}", args.run),
            &json!({}),
        )
        .await?;
    let state = run["state"].as_str().unwrap_or("?");
    if (state == "paused") != pause {
        bail!("run {} is {state} at {}", args.run, args.node);
    }
    println!(
        "run {} {state} at {}: {}/{} injects played",
        args.run, args.node, run["injects_done"], run["injects_total"]
    );
    Ok(())
}
