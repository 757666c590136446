//! `trilat demo` lets a node's admin start a play of a shipped scenario
//! (`POST /api/v1/exercise/scenarios/{name}/start`): the play registers as
//! a run with all three nodes, plays to the end, and publishes each
//! party's share of its after-action report there; a second start while it
//! plays is refused; readers see no scenarios; the drill that restarts a
//! node is not offered.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{node, start_demo};

/// How long the play may take (at ×100, freedom-edge-day's 15 exercise
/// minutes last about 10 s, plus the settle time and the report).
const PLAY_S_MAX: u64 = 180;

/// `method path` at `node` with `token`; status and JSON answer.
fn call(node: &Value, token: &str, method: &str, path: &str) -> (u16, Value) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("{}{path}", node["url"].as_str().unwrap());
        let client = reqwest::Client::new();
        let request = match method {
            "POST" => client.post(url),
            _ => client.get(url),
        };
        let response = request.bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn admin(node: &Value) -> &str {
    node["admin_token"].as_str().unwrap()
}

/// Polls `condition` every half second until it holds, at most `limit_s`;
/// a failure shows the demo's stderr (`log`).
fn eventually(
    what: &str,
    limit_s: u64,
    log: &Path,
    mut condition: impl FnMut() -> Option<Value>,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(limit_s);
    loop {
        if let Some(found) = condition() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {limit_s} s; the demo's stderr:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn run_of(node: &Value, run_id: &str) -> Option<Value> {
    let (status, answer) = call(node, admin(node), "GET", "/api/v1/exercise/runs");
    assert_eq!(status, 200, "{answer}");
    answer["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == run_id)
        .cloned()
}

#[test]
fn an_admin_starts_a_shipped_scenario_on_a_demo_node_and_every_node_gets_its_report() {
    let work = tempfile::tempdir().unwrap();
    let (_demo, banner) = start_demo(work.path(), &[]);
    let log = work.path().join("demo.log");
    let usa = node(&banner, "USA");

    let (status, listed) = call(usa, admin(usa), "GET", "/api/v1/exercise/scenarios");
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["starter"], true, "{listed}");
    let names: Vec<&str> = listed["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    // degraded-network restarts a node: only `--cluster` runners can.
    assert_eq!(names, ["freedom-edge-day", "lofted-icbm-gap"], "{listed}");
    let reader = usa["reader_token"].as_str().unwrap();
    let start = "/api/v1/exercise/scenarios/freedom-edge-day/start";
    assert_eq!(call(usa, reader, "POST", start).0, 403);
    assert_eq!(
        call(usa, reader, "GET", "/api/v1/exercise/scenarios").0,
        403
    );

    let (status, started) = call(usa, admin(usa), "POST", &format!("{start}?speed=100"));
    assert_eq!(status, 202, "{started}");
    let run_id = started["run_id"].as_str().unwrap().to_string();
    assert!(run_id.starts_with("freedom-edge-day-"), "{started}");
    let (status, again) = call(usa, admin(usa), "POST", start);
    assert_eq!(status, 409, "{again}");

    for party in ["USA", "JPN", "KOR"] {
        let node = node(&banner, party);
        let run = eventually(&format!("{party} lists run {run_id}"), 60, &log, || {
            run_of(node, &run_id)
        });
        assert_eq!(run["scenario"], "freedom-edge-day", "{run}");
        assert!(!run["registered_by"].as_str().unwrap().is_empty(), "{run}");
    }
    let finished = eventually("the run finishes", PLAY_S_MAX, &log, || {
        run_of(usa, &run_id).filter(|r| r["state"] == "finished")
    });
    assert_eq!(
        finished["injects_done"], finished["injects_total"],
        "{finished}"
    );
    for party in ["USA", "JPN", "KOR"] {
        let node = node(&banner, party);
        eventually(&format!("{party} keeps the report"), 60, &log, || {
            let (status, answer) = call(node, admin(node), "GET", "/api/v1/exercise/reports");
            assert_eq!(status, 200, "{answer}");
            answer["reports"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["run_id"] == run_id)
                .cloned()
        });
    }
    // Once the play has ended, the scenario may be started again.
    eventually("freedom-edge-day is startable again", 30, &log, || {
        let (_, listed) = call(usa, admin(usa), "GET", "/api/v1/exercise/scenarios");
        let scenario = listed["scenarios"][0].clone();
        scenario.get("playing_run_id").is_none().then_some(scenario)
    });
    assert!(
        audit_details(usa)
            .iter()
            .any(|d| d == "exercise scenario freedom-edge-day start requested"),
        "the start is not in USA's audit log"
    );
}

/// Every entry's detail in `node`'s audit log, page by page.
fn audit_details(node: &Value) -> Vec<String> {
    let mut details = Vec::new();
    let mut after = 0;
    loop {
        let path = format!("/api/v1/audit?after={after}&limit=1000");
        let (status, page) = call(node, admin(node), "GET", &path);
        assert_eq!(status, 200, "{page}");
        let entries = page["entries"].as_array().unwrap();
        let Some(last) = entries.last() else {
            return details;
        };
        after = last["seq"].as_u64().expect("an entry has its seq");
        details.extend(
            entries
                .iter()
                .map(|e| e["event"]["detail"].as_str().unwrap().to_string()),
        );
    }
}
