//! `trilat exercise run` under the nodes' control, on the real binary
//! against three live nodes: a run paused at one node (`trilat exercise
//! pause`) stops injecting until it is resumed there, and `--publish` leaves
//! each node its own party's share of the after-action report.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use trilat_core::Party;
use trilat_node::client::NodeClient;
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::Limits;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");

/// A USA note everyone may see, then a JPN note 5 s in (exercise time, real
/// speed): the one the pause holds back.
const SCENARIO: &str = r#"
name = "control-drill"

[[inject]]
at_s = 0
type = "note"
party = "USA"
text = "EXERCISE: startex"
marking = { level = "UNCLASSIFIED", tlp = "GREEN", rel_to = ["TRILAT"] }

[[inject]]
at_s = 5
type = "note"
party = "JPN"
text = "EXERCISE: held back while paused"
marking = { level = "UNCLASSIFIED", tlp = "GREEN", rel_to = ["TRILAT"] }
"#;

async fn start(dir: &std::path::Path) -> Cluster {
    let parties = ["USA", "JPN", "KOR"].map(|p| Party::new(p).unwrap());
    Cluster::start(ClusterSpec {
        parties: parties.to_vec(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits::default(),
        engines: Default::default(),
    })
    .await
    .unwrap()
}

fn admin(cluster: &Cluster, party: &str) -> NodeClient {
    let node = cluster.node(party);
    NodeClient::new(&node.url, node.admin_token())
}

/// The exercise notes JPN's node published itself.
async fn jpn_notes(cluster: &Cluster) -> usize {
    let page = admin(cluster, "JPN")
        .get("/api/v1/reports?exercise=true&owner=JPN&limit=1000")
        .await
        .unwrap();
    page["reports"].as_array().unwrap().len()
}

/// The run registered at `party`'s node, once it is.
async fn registered_run(cluster: &Cluster, party: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = admin(cluster, party)
            .get("/api/v1/exercise/runs")
            .await
            .unwrap();
        if let Some(run) = answer["runs"].get(0) {
            return run.clone();
        }
        assert!(Instant::now() < deadline, "no run registered at {party}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn steer(cluster: &Cluster, verb: &str, run_id: &str) -> std::process::Output {
    let node = cluster.node("KOR");
    let args = [
        "exercise".to_string(),
        verb.to_string(),
        run_id.to_string(),
        "--node".into(),
        node.url.clone(),
        "--token".into(),
        node.admin_token().to_string(),
    ];
    tokio::task::spawn_blocking(move || Command::new(TRILAT).args(args).output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_paused_at_a_node_stops_injecting_until_resumed_there() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path()).await;
    let scenario = dir.path().join("control-drill.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let urls: Vec<&str> = cluster.nodes.iter().map(|n| n.url.as_str()).collect();
    let tokens: Vec<&str> = cluster.nodes.iter().map(|n| n.admin_token()).collect();
    let child = Command::new(TRILAT)
        .args(["exercise", "run", scenario.to_str().unwrap(), "--nodes"])
        .arg(urls.join(","))
        .arg("--tokens")
        .arg(tokens.join(","))
        .args(["--settle-s", "1", "--publish", "--out"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();

    // Paused at KOR's node: every node's registration holds the run.
    let run = registered_run(&cluster, "KOR").await;
    let run_id = run["run_id"].as_str().unwrap().to_string();
    assert_eq!(run["injects_total"], 2);
    let paused = steer(&cluster, "pause", &run_id).await;
    assert!(
        paused.status.success(),
        "{}",
        String::from_utf8_lossy(&paused.stderr)
    );
    assert!(String::from_utf8_lossy(&paused.stdout).contains("paused"));

    // Well past the second note's 5 s: nothing of it while paused.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(jpn_notes(&cluster).await, 0, "played while paused");
    let held = registered_run(&cluster, "USA").await;
    assert!(held["injects_done"].as_u64().unwrap() < 2, "{held}");
    assert_eq!(registered_run(&cluster, "KOR").await["state"], "paused");

    let resumed = steer(&cluster, "resume", &run_id).await;
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(started.elapsed() >= Duration::from_secs(8));
    assert_eq!(jpn_notes(&cluster).await, 1, "played once resumed");
    for party in ["USA", "JPN", "KOR"] {
        let run = registered_run(&cluster, party).await;
        assert_eq!(
            (run["state"].as_str(), run["injects_done"].as_u64()),
            (Some("finished"), Some(2)),
            "{party}"
        );
        let share = admin(&cluster, party)
            .get(&format!("/api/v1/exercise/reports/{run_id}"))
            .await
            .unwrap();
        assert_eq!(share["party"], party);
        assert_eq!(share["report"]["summary"].as_array().unwrap().len(), 1);
        assert_eq!(share["report"]["summary"][0]["party"], party);
        assert_eq!(
            share["report"]["summary"][0]["n_received"], 2,
            "{party}: both notes"
        );
        assert!(
            stdout.contains(&format!("published to {party}")),
            "{stdout}"
        );
    }
    // Steering a finished run is refused, and says so.
    let late = steer(&cluster, "pause", &run_id).await;
    assert!(!late.status.success());
    assert!(String::from_utf8_lossy(&late.stderr).contains("has finished"));
}
