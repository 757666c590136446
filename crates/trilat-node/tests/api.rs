//! The API in-process (`oneshot`, no socket): bad input, auth, OpenAPI.
//! The node is in memory, or on PostgreSQL and NATS in the second pass
//! (`common::in_process_node`).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt as _;
use trilat_core::NodeKey;
use trilat_node::config::{token_sha256, Limits, Role, TokenConfig};
use trilat_node::{app, AppState, Config};

use crate::common::{in_process_node, party, InProcessNode};

const ANALYST: &str = "analyst-token";
const READER: &str = "reader-token";

/// A JPN node with an analyst's and a reader's token, its files (if it
/// has any) in `dir`.
async fn state(dir: &std::path::Path) -> InProcessNode {
    let token = |token: &str, role| TokenConfig {
        sha256: token_sha256(token),
        party: party("JPN"),
        role,
        name: format!("{role:?}").to_lowercase(),
    };
    let config = Config {
        party: party("JPN"),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        key_file: dir.join("node.key"),
        policy: trilat_core::Policy::trilateral_default(),
        tls: Default::default(),
        peers: Vec::new(),
        parties: Vec::new(),
        tokens: vec![token(ANALYST, Role::Analyst), token(READER, Role::Reader)],
        limits: Limits {
            body_bytes_max: 64 * 1024,
            ..Limits::default()
        },
        taxii: None,
        engines: None,
        tak: Vec::new(),
        store: None,
        bus: None,
        bus_namespace: None,
        bus_tls: None,
    };
    config.validate().unwrap();
    in_process_node(dir, config, NodeKey::from_seed([5; 32])).await
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(bytes) => request
            .header("content-type", "application/json")
            .body(Body::from(bytes)),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn note(rel_to: Value) -> Value {
    json!({
        "kind": "note",
        "marking": {"level": "CONFIDENTIAL", "tlp": "AMBER", "rel_to": rel_to, "further_sharing": "none"},
        "payload": {"text": "a vessel of interest"},
    })
}

/// Sends `body` to create a report at `state`'s node; expects `status`
/// and the error `code`, and that the store did not change.
#[track_caller]
fn check(rt: &tokio::runtime::Runtime, state: &AppState, body: Vec<u8>, status: u16, code: &str) {
    let location = std::panic::Location::caller();
    rt.block_on(async {
        let (got, error) = call(state, "POST", "/api/v1/reports", Some(ANALYST), Some(body)).await;
        assert_eq!(got.as_u16(), status, "{location}: {error}");
        assert_eq!(error["error"]["code"], code, "{location}: {error}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
        assert!(
            state.store.changes(None, 10).unwrap().changes.is_empty(),
            "{location}: store changed"
        );
    });
}

#[test]
fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let node = rt.block_on(state(dir.path()));
    let json = |v: Value| serde_json::to_vec(&v).unwrap();
    check(&rt, &node, b"{not json".to_vec(), 400, "invalid_json");
    check(&rt, &node, vec![b' '; 100 * 1024], 413, "body_too_large");
    let mut unknown_kind = note(json!(["TRILAT"]));
    unknown_kind["kind"] = json!("missile.nonexistent");
    check(&rt, &node, json(unknown_kind), 400, "invalid_report");
    let mut wrong_types = note(json!(["TRILAT"]));
    wrong_types["payload"] = json!({"text": 42});
    check(&rt, &node, json(wrong_types), 400, "invalid_report");
    check(
        &rt,
        &node,
        json(json!({"kind": 1, "marking": {}, "payload": {}})),
        422,
        "invalid_json",
    );
    let mut bad_level = note(json!(["TRILAT"]));
    bad_level["marking"]["level"] = json!("COSMIC");
    check(&rt, &node, json(bad_level), 400, "invalid_report");
    check(
        &rt,
        &node,
        json(note(json!(["NOWHERE-GROUP"]))),
        400,
        "invalid_report",
    );
    let mut extra = note(json!(["TRILAT"]));
    extra["owner"] = json!("USA");
    check(&rt, &node, json(extra), 422, "invalid_json");
}

#[tokio::test]
async fn auth_roles_and_bad_queries() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let body = || Some(serde_json::to_vec(&note(json!(["TRILAT"]))).unwrap());
    let (status, error) = call(&state, "POST", "/api/v1/reports", None, body()).await;
    assert_eq!(
        (status.as_u16(), error["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = call(&state, "POST", "/api/v1/reports", Some("wrong"), body()).await;
    assert_eq!(status, 401);
    let (status, _) = call(&state, "POST", "/api/v1/reports", Some(READER), body()).await;
    assert_eq!(status, 403);
    let (status, _) = call(&state, "GET", "/api/v1/audit", Some(ANALYST), None).await;
    assert_eq!(status, 403);
    assert!(state.store.changes(None, 10).unwrap().changes.is_empty());

    for uri in [
        "/api/v1/reports?cursor=garbage",
        "/api/v1/changes?cursor=c1.0000000000000001.5",
        "/api/v1/reports?limit=100000",
        "/api/v1/reports?bbox=1,2,3",
        "/api/v1/reports?from=yesterday",
        "/api/v1/reports?surprise=1",
        "/api/v1/reports/JPN/not-a-uuid",
        "/api/v1/reports/jpn/0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b",
    ] {
        let (status, error) = call(&state, "GET", uri, Some(READER), None).await;
        assert_eq!(status, 400, "{uri}: {error}");
        assert!(error["error"]["code"].is_string(), "{uri}");
    }
    let (status, _) = call(&state, "GET", "/healthz", None, None).await;
    assert_eq!(status, 200);
    let (status, error) = call(&state, "GET", "/nowhere", None, None).await;
    assert_eq!(
        (status.as_u16(), error["error"]["code"].as_str()),
        (404, Some("no_route"))
    );
}

#[tokio::test]
async fn create_version_get_history_query() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let body = serde_json::to_vec(&note(json!(["TRILAT"]))).unwrap();
    let (status, created) =
        call(&state, "POST", "/api/v1/reports", Some(ANALYST), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let id = format!("JPN/{}", created["report"]["id"].as_str().unwrap());
    let mut next = note(json!(["USA", "JPN"]));
    next["payload"]["text"] = json!("updated");
    let (status, versioned) = call(
        &state,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        Some(ANALYST),
        Some(serde_json::to_vec(&next).unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{versioned}");
    assert_eq!(versioned["report"]["version"], 2);
    let (_, got) = call(
        &state,
        "GET",
        &format!("/api/v1/reports/{id}?history=true"),
        Some(READER),
        None,
    )
    .await;
    assert_eq!(got["report"]["payload"]["text"], "updated");
    assert_eq!(got["history"].as_array().unwrap().len(), 2);
    let (_, page) = call(
        &state,
        "GET",
        "/api/v1/reports?kind=note&owner=JPN",
        Some(READER),
        None,
    )
    .await;
    assert_eq!(page["reports"].as_array().unwrap().len(), 1);
    let (_, page) = call(
        &state,
        "GET",
        "/api/v1/reports?exercise=true",
        Some(READER),
        None,
    )
    .await;
    assert_eq!(page["reports"].as_array().unwrap().len(), 0);
    let (_, changes) = call(&state, "GET", "/api/v1/changes", Some(READER), None).await;
    assert_eq!(changes["changes"].as_array().unwrap().len(), 2);
    let (_, again) = call(
        &state,
        "GET",
        &format!(
            "/api/v1/changes?cursor={}",
            changes["next"].as_str().unwrap()
        ),
        Some(READER),
        None,
    )
    .await;
    assert_eq!(again["changes"].as_array().unwrap().len(), 0);
    assert_eq!(state.store.verify_audit().unwrap().first_broken, None);
}

#[tokio::test]
async fn openapi_lists_every_route_and_every_route_exists() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let (status, document) = call(&state, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let mut listed = Vec::new();
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            listed.push((method.to_uppercase(), path.clone()));
        }
    }
    let mut routes: Vec<(String, String)> = trilat_node::served_routes()
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    // The engines', the missile stream's, the TAXII server's and the console's are in.
    for (method, path) in [
        ("POST", "/api/v1/sanctions/screen"),
        ("POST", "/api/v1/missile/detections/stream"),
        ("GET", "/api/v1/ais/status"),
        ("GET", "/taxii2/{root}/collections/{id}/objects/"),
        ("GET", "/console/{path}"),
    ] {
        assert!(
            routes.contains(&(method.into(), path.into())),
            "{method} {path}"
        );
    }
    listed.sort();
    routes.sort();
    assert_eq!(listed, routes);
    for (method, path) in routes {
        let uri = path
            .replace("{id}", "0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b")
            .replace("{root}", "trilat")
            .replace(
                "{object_id}",
                "indicator--0a4b7c2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c",
            )
            .replace("{path}", "index.html");
        let (status, error) = call(&state, &method, &uri, None, None).await;
        assert_ne!(
            error["error"]["code"], "no_route",
            "{method} {path} is not routed"
        );
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
}

/// The statuses docs/api.md gives for a new version (`PUT`) and a
/// revocation, and the shape of `?history=true`.
#[tokio::test]
async fn version_and_revoke_answer_the_documented_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let body = |v: Value| Some(serde_json::to_vec(&v).unwrap());
    let (status, created) = call(
        &state,
        "POST",
        "/api/v1/reports",
        Some(ANALYST),
        body(note(json!(["TRILAT"]))),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let uri = format!(
        "/api/v1/reports/JPN/{}",
        created["report"]["id"].as_str().unwrap()
    );
    let revoke = format!("{uri}/revoke");
    let (status, versioned) = call(
        &state,
        "PUT",
        &uri,
        Some(ANALYST),
        body(note(json!(["USA", "JPN"]))),
    )
    .await;
    assert_eq!(status, 200, "{versioned}");
    assert_eq!(versioned["report"]["version"], 2);
    let mut other_kind = note(json!(["TRILAT"]));
    other_kind["kind"] = json!("sanctions.hit");
    let (status, error) = call(&state, "PUT", &uri, Some(ANALYST), body(other_kind)).await;
    assert_eq!(
        (status.as_u16(), &error["error"]["code"]),
        (400, &json!("invalid_report"))
    );
    let (status, error) = call(&state, "POST", &revoke, Some(READER), None).await;
    assert_eq!(
        (status.as_u16(), &error["error"]["code"]),
        (403, &json!("forbidden"))
    );
    let unknown = "/api/v1/reports/JPN/0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b";
    let (status, error) = call(&state, "PUT", unknown, Some(ANALYST), body(note(json!([])))).await;
    assert_eq!(
        (status.as_u16(), &error["error"]["code"]),
        (404, &json!("not_found"))
    );
    // The same id under another owner is another party's report: this
    // node writes only its own, whatever the store holds.
    let foreign = uri.replacen("/JPN/", "/USA/", 1);
    for (method, path) in [
        ("PUT", foreign.clone()),
        ("POST", format!("{foreign}/revoke")),
    ] {
        let (status, error) = call(
            &state,
            method,
            &path,
            Some(ANALYST),
            body(note(json!(["TRILAT"]))),
        )
        .await;
        assert_eq!(
            (status.as_u16(), &error["error"]["code"]),
            (403, &json!("forbidden")),
            "{method} {path}"
        );
    }
    let (status, _) = call(&state, "GET", &foreign, Some(READER), None).await;
    assert_eq!(status, 404, "USA's report under JPN's id does not exist");
    let (status, revoked) = call(&state, "POST", &revoke, Some(ANALYST), None).await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["report"]["revoked"], true);
    assert_eq!(revoked["report"]["version"], 3);
    // The revocation carries the current version's marking.
    assert_eq!(revoked["report"]["marking"], versioned["report"]["marking"]);
    let (status, error) = call(&state, "POST", &revoke, Some(ANALYST), None).await;
    assert_eq!(
        (status.as_u16(), &error["error"]["code"]),
        (409, &json!("already_revoked"))
    );
    let (status, error) = call(
        &state,
        "PUT",
        &uri,
        Some(ANALYST),
        body(note(json!(["TRILAT"]))),
    )
    .await;
    assert_eq!(
        (status.as_u16(), &error["error"]["code"]),
        (409, &json!("refused"))
    );
    let (status, read) = call(
        &state,
        "GET",
        &format!("{uri}?history=true"),
        Some(READER),
        None,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["report"]["version"], 3);
    let versions: Vec<&Value> = read["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["version"])
        .collect();
    assert_eq!(versions, [&json!(1), &json!(2), &json!(3)], "oldest first");
}
