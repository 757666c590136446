//! The demo's exercise story at a node, fast-forwarded: the launch is
//! assessed, the seismic event at Punggye-ri is assessed a likely test,
//! `POST /api/v1/demo/replay` (admin only) flies it again under a new
//! track, and a node that runs no demo has no such route. The node runs on
//! the test backend (`TRILAT_TEST_CLUSTER_BACKEND`: SQLite, or PostgreSQL
//! and NATS).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use trilat_node::cluster::{BackendNode, ClusterBackend};
use trilat_node::config::Role;

use crate::common::{eventually, jpn_config, party, Api};

/// A JPN node with the given `[engines]` table and an admin, an analyst
/// and a reader token.
async fn node_with(dir: &std::path::Path, engines: Value) -> (BackendNode, [Api; 3]) {
    use trilat_node::config::{generate_token, token_sha256, TokenConfig};
    let roles = [Role::Admin, Role::Analyst, Role::Reader];
    let tokens = roles.map(|_| generate_token());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let configs = roles
        .iter()
        .zip(&tokens)
        .map(|(role, token)| TokenConfig {
            sha256: token_sha256(token),
            party: party("JPN"),
            role: *role,
            name: format!("{role:?}").to_lowercase(),
        })
        .collect();
    let mut config = jpn_config(dir, addr, configs, Some(engines));
    let place = ClusterBackend::from_env()
        .unwrap()
        .place(&mut config)
        .unwrap();
    trilat_node::cluster::write_node_files(dir, &config, &trilat_core::NodeKey::generate())
        .unwrap();
    let state = trilat_node::open(config).unwrap();
    let node = place.serve_on(state, listener).await.unwrap();
    let url = format!("http://{addr}");
    (node, tokens.map(|token| Api::new(&url, &token)))
}

/// The exercise reports of `kind` at the node.
async fn exercise_reports(api: &Api, kind: &str) -> Vec<Value> {
    let (status, page) = api
        .get(&format!(
            "/api/v1/reports?kind={kind}&exercise=true&limit=1000"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page["reports"].as_array().unwrap().clone()
}

fn track_ids(reports: &[Value]) -> BTreeSet<u64> {
    reports
        .iter()
        .filter_map(|r| r["payload"]["track_id"].as_u64())
        .collect()
}

#[tokio::test]
async fn the_demo_story_plays_and_replays_under_a_new_track() {
    let dir = tempfile::tempdir().unwrap();
    // Speed 100: the launch 50 ms after the start, the AIS day over 1 s.
    let engines = json!({
        "demo": true,
        "exercise": true,
        "missile": {"demo_launch": true},
        "seismic": {"demo_event": true},
        "demo_pacing": {"speed": 100.0, "launch_after_s": 5.0, "maritime_after_s": 0.0, "maritime_play_s": 100.0, "seismic_after_s": 10.0},
    });
    let (_node, [admin, analyst, reader]) = node_with(dir.path(), engines).await;
    let api = admin.clone();
    eventually("a first missile assessment", move || {
        let api = api.clone();
        async move {
            !exercise_reports(&api, "missile.assessment")
                .await
                .is_empty()
        }
    })
    .await;
    // On a bus too: the two vessels' partitions are processed apart, but
    // the cross-vessel detection gets both vessels' lines in the order they
    // came (docs/scale.md, *Engine partitions*).
    let api = admin.clone();
    eventually("the maritime story's encounter", move || {
        let api = api.clone();
        async move {
            let events = exercise_reports(&api, "maritime.event").await;
            events.iter().any(|r| r["payload"]["event"] == "encounter")
        }
    })
    .await;
    let api = admin.clone();
    eventually("the seismic event assessed a likely test", move || {
        let api = api.clone();
        async move {
            exercise_reports(&api, "nuclear.assessment")
                .await
                .iter()
                .any(|r| r["payload"]["likely_nuclear_test"] == true)
        }
    })
    .await;
    let events = exercise_reports(&admin, "seismic.event").await;
    assert_eq!(events.len(), 1, "one event per run");
    let region = events[0]["payload"]["region"].as_str().unwrap();
    assert!(region.starts_with("EXERCISE EXERCISE EXERCISE"), "{region}");
    let first = exercise_reports(&admin, "missile.assessment").await;
    let first_tracks = track_ids(&first);
    assert!(!first_tracks.is_empty());
    // Real-world queries never see the exercise.
    let (_, real) = admin
        .get("/api/v1/reports?kind=missile.assessment&exercise=false")
        .await;
    assert_eq!(real["reports"].as_array().map(Vec::len), Some(0), "{real}");

    for (who, api) in [("reader", &reader), ("analyst", &analyst)] {
        let (status, body) = api.post("/api/v1/demo/replay", &json!({})).await;
        assert_eq!(status, 403, "{who}: {body}");
    }
    let (status, schedule) = admin.post("/api/v1/demo/replay", &json!({})).await;
    assert_eq!(status, 202, "{schedule}");
    assert!(schedule["launch_at"].is_string(), "{schedule}");
    assert!(schedule["maritime_from"].is_string(), "{schedule}");
    assert!(schedule["seismic_at"].is_string(), "{schedule}");

    let api = admin.clone();
    let before = first_tracks.clone();
    eventually("an assessment of the replayed launch", move || {
        let (api, before) = (api.clone(), before.clone());
        async move {
            let now = track_ids(&exercise_reports(&api, "missile.assessment").await);
            now.iter().any(|id| !before.contains(id))
        }
    })
    .await;
    let replayed = exercise_reports(&admin, "missile.assessment").await;
    let first_ids: BTreeSet<&str> = first.iter().filter_map(|r| r["id"].as_str()).collect();
    let new: Vec<&Value> = replayed
        .iter()
        .filter(|r| !first_tracks.contains(&r["payload"]["track_id"].as_u64().unwrap()))
        .collect();
    assert!(new
        .iter()
        .all(|r| !first_ids.contains(r["id"].as_str().unwrap())));
}

#[tokio::test]
async fn a_node_without_the_demo_has_no_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, [admin, _, reader]) = node_with(dir.path(), json!({})).await;
    let api = admin.clone();
    eventually("engines started", move || {
        let api = api.clone();
        async move { api.post("/api/v1/demo/replay", &json!({})).await.0 != 503 }
    })
    .await;
    let (status, body) = admin.post("/api/v1/demo/replay", &json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "no_route", "{body}");
    let (status, _) = reader.post("/api/v1/demo/replay", &json!({})).await;
    assert_eq!(status, 403);
}
