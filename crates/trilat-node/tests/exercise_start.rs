//! Starting a play from the console (`/api/v1/exercise/scenarios`), in
//! process with a starter that records what it was asked: only admins of
//! the node's party list and start; an unknown name is 404; a scenario
//! playing is 409; a start is audited; a node without a starter lists
//! nothing and answers a start with 404. The node is in memory, or on
//! PostgreSQL and NATS in the second pass (`common::in_process_node`).

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use tower::ServiceExt as _;
use trilat_core::NodeKey;
use trilat_node::config::{token_sha256, Role, TokenConfig};
use trilat_node::exercise::{ScenarioStarter, ShippedScenario, StartError};
use trilat_node::{app, AppState};

use crate::common::{in_process_node, jpn_config, party, InProcessNode};

const ADMIN: &str = "trl_start_admin";
const ANALYST: &str = "trl_start_analyst";
const READER: &str = "trl_start_reader";
/// A USA admin's token accepted by the JPN node.
const USA_ADMIN: &str = "trl_start_usa_admin";

async fn state(dir: &std::path::Path) -> InProcessNode {
    let token = |token: &str, code: &str, role| TokenConfig {
        sha256: token_sha256(token),
        party: party(code),
        role,
        name: format!("{code}-{role:?}").to_lowercase(),
    };
    let tokens = vec![
        token(ADMIN, "JPN", Role::Admin),
        token(ANALYST, "JPN", Role::Analyst),
        token(READER, "JPN", Role::Reader),
        token(USA_ADMIN, "USA", Role::Admin),
    ];
    let config = jpn_config(dir, "127.0.0.1:0".parse().unwrap(), tokens, None);
    in_process_node(dir, config, NodeKey::from_seed([9; 32])).await
}

async fn call(state: &AppState, method: &str, uri: &str, token: &str) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Offers one scenario, `drill`; a start marks it playing and is recorded.
#[derive(Default)]
struct TestStarter {
    started: Mutex<Vec<(String, Option<f64>)>>,
}

impl ScenarioStarter for TestStarter {
    fn scenarios(&self) -> Vec<ShippedScenario> {
        let started = self.started.lock().unwrap();
        vec![ShippedScenario {
            name: "drill".into(),
            description: "A short drill.".into(),
            n_injects: 2,
            duration_s: 30.0,
            speed: 10.0,
            playing_run_id: (!started.is_empty()).then(|| "drill-1".to_string()),
        }]
    }

    fn start(&self, name: &str, speed: Option<f64>) -> Result<String, StartError> {
        assert_eq!(name, "drill", "the route refuses names not listed");
        self.started.lock().unwrap().push((name.into(), speed));
        Ok("drill-1".into())
    }
}

fn audit_details(state: &AppState) -> Vec<String> {
    let audit = state.store.audit(0, 1000).unwrap();
    audit.into_iter().map(|e| e.event.detail).collect()
}

#[tokio::test]
async fn an_admin_starts_a_listed_scenario_once_and_the_start_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let starter = Arc::new(TestStarter::default());
    assert!(state.exercises.set_starter(starter.clone()).is_ok());
    assert!(state.exercises.set_starter(starter.clone()).is_err());

    let (status, listed) = call(&state, "GET", "/api/v1/exercise/scenarios", ADMIN).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["starter"], true);
    assert_eq!(listed["scenarios"][0]["name"], "drill");
    assert_eq!(listed["scenarios"][0]["n_injects"], 2);
    assert!(listed["scenarios"][0].get("playing_run_id").is_none());

    let start = "/api/v1/exercise/scenarios/drill/start?speed=50";
    for token in [ANALYST, READER, USA_ADMIN] {
        assert_eq!(call(&state, "POST", start, token).await.0, 403, "{token}");
        let (status, _) = call(&state, "GET", "/api/v1/exercise/scenarios", token).await;
        assert_eq!(status, 403, "{token}");
    }
    assert_eq!(call(&state, "POST", start, "trl_nobody").await.0, 401);
    assert!(starter.started.lock().unwrap().is_empty());
    assert!(!audit_details(&state)
        .iter()
        .any(|d| d.contains("start requested")));

    let (status, started) = call(&state, "POST", start, ADMIN).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["run_id"], "drill-1");
    assert_eq!(started["scenario"], "drill");
    assert_eq!(
        *starter.started.lock().unwrap(),
        vec![("drill".to_string(), Some(50.0))]
    );
    let details = audit_details(&state);
    assert!(
        details
            .iter()
            .any(|d| d == "exercise scenario drill start requested"),
        "{details:?}"
    );

    let (_, listed) = call(&state, "GET", "/api/v1/exercise/scenarios", ADMIN).await;
    assert_eq!(listed["scenarios"][0]["playing_run_id"], "drill-1");
    let (status, again) = call(&state, "POST", start, ADMIN).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "conflict");
    assert!(again["error"]["message"]
        .as_str()
        .unwrap()
        .contains("drill-1"));
    assert_eq!(starter.started.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_names_and_bad_speeds_are_refused_before_the_starter_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let starter = Arc::new(TestStarter::default());
    assert!(state.exercises.set_starter(starter.clone()).is_ok());
    let (status, answer) = call(
        &state,
        "POST",
        "/api/v1/exercise/scenarios/nope/start",
        ADMIN,
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], "unknown_scenario");
    for speed in ["0.5", "1001", "fast"] {
        let uri = format!("/api/v1/exercise/scenarios/drill/start?speed={speed}");
        let (status, answer) = call(&state, "POST", &uri, ADMIN).await;
        assert_eq!(status, 400, "{speed}: {answer}");
    }
    assert!(starter.started.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_node_without_a_starter_lists_none_and_answers_a_start_with_404() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let (status, listed) = call(&state, "GET", "/api/v1/exercise/scenarios", ADMIN).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["starter"], false);
    assert_eq!(listed["scenarios"], serde_json::json!([]));
    let (status, answer) = call(
        &state,
        "POST",
        "/api/v1/exercise/scenarios/freedom-edge-day/start",
        ADMIN,
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], "unknown_scenario");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("trilat demo"));
}
