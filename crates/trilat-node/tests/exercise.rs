//! The exercise routes (`trilat_node::exercise`), in process: who may
//! register, steer, publish and read; the bounds on runs and reports; a
//! share that names what the node's party may not see is refused; bad
//! input gets a clear 4xx.

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};
use tower::ServiceExt as _;
use trilat_core::NodeKey;
use trilat_exercise::{share_for, AfterAction};
use trilat_node::config::{token_sha256, Limits, Role, TokenConfig};
use trilat_node::exercise::{REPORTS_MAX, RUNS_LIVE_MAX};
use trilat_node::{app, AppState, Config};

use crate::common::{in_process_node, party, InProcessNode};

const ADMIN: &str = "trl_exercise_admin";
const ANALYST: &str = "trl_exercise_analyst";
const READER: &str = "trl_exercise_reader";
/// A USA admin's token accepted by the JPN node (a visiting officer).
const USA_ADMIN: &str = "trl_exercise_usa_admin";

/// A JPN node in process, its data dir in `dir`: in memory, or on
/// PostgreSQL and NATS in the second pass (`common::in_process_node`).
async fn state(dir: &std::path::Path, body_bytes_max: usize) -> InProcessNode {
    let token = |token: &str, code: &str, role| TokenConfig {
        sha256: token_sha256(token),
        party: party(code),
        role,
        name: format!("{role:?}").to_lowercase(),
    };
    let config = Config {
        party: party("JPN"),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        store: None,
        bus: None,
        bus_namespace: None,
        bus_tls: None,
        key_file: "unused".into(),
        policy: trilat_core::Policy::trilateral_default(),
        tls: Default::default(),
        peers: Vec::new(),
        parties: Vec::new(),
        tokens: vec![
            token(ADMIN, "JPN", Role::Admin),
            token(ANALYST, "JPN", Role::Analyst),
            token(READER, "JPN", Role::Reader),
            token(USA_ADMIN, "USA", Role::Admin),
        ],
        limits: Limits {
            body_bytes_max,
            ..Limits::default()
        },
        taxii: None,
        engines: None,
        tak: Vec::new(),
    };
    config.validate().unwrap();
    in_process_node(dir, config, NodeKey::from_seed([7; 32])).await
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(body).unwrap())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 26)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const USA_NOTE: &str = "0190a0b0-0000-7000-8000-000000000001";
const JPN_NOTE: &str = "0190a0b0-0000-7000-8000-000000000002";
const USA_SECRET: &str = "0190a0b0-0000-7000-8000-000000000003";

fn delivery(code: &str, status: &str) -> Value {
    match status {
        "owner" => {
            json!({"party": code, "status": "owner", "at": "2026-12-07T10:00:01Z", "latency_ms": 100})
        }
        "received" => {
            json!({"party": code, "status": "received", "at": "2026-12-07T10:00:02Z", "latency_ms": 900, "from": "USA"})
        }
        "withheld" => {
            json!({"party": code, "status": "withheld", "reason": "KOR is not in rel_to"})
        }
        _ => json!({"party": code, "status": "missing"}),
    }
}

fn product(id: &str, owner: &str, deliveries: Vec<Value>) -> Value {
    json!({"id": id, "owner": owner, "kind": "note", "banner": "UNCLASSIFIED//REL TO USA, JPN",
           "created_at": "2026-12-07T10:00:01Z", "deliveries": deliveries})
}

fn outcome(code: &str) -> Value {
    json!({"party": code, "first_at": null, "latency_ms": null, "n_received": 1, "n_withheld": 0, "n_missing": 0, "n_acknowledged": 0})
}

fn summary(code: &str) -> Value {
    json!({"party": code, "n_received": 1, "n_withheld": 0, "n_missing": 0, "latency_ms_p50": 900, "latency_ms_p90": 900,
           "latency_ms_max": 900, "latencies_ms": [900], "n_acknowledged": 0, "acknowledge_ms_max": null})
}

/// A whole report of a run over USA, JPN and KOR: a USA note JPN received
/// and KOR was refused, a JPN note everyone had, and a USA SECRET note
/// only USA holds (withheld from both).
fn whole_report(run_id: &str) -> AfterAction {
    let inject = |idx: usize, products: Vec<Value>| {
        json!({"inject_idx": idx, "label": format!("inject {idx}"), "type_name": "note", "at_s": idx as f64,
               "played_at": "2026-12-07T10:00:00Z", "parties": [outcome("USA"), outcome("JPN"), outcome("KOR")],
               "products": products, "n_products_unlisted": 0})
    };
    serde_json::from_value(json!({
        "run_id": run_id, "scenario": "drill", "speed": 10.0, "started_at": "2026-12-07T10:00:00Z",
        "parties": ["USA", "JPN", "KOR"],
        "injects": [
            inject(0, vec![product(USA_NOTE, "USA", vec![delivery("USA", "owner"), delivery("JPN", "received"), delivery("KOR", "withheld")])]),
            inject(1, vec![product(JPN_NOTE, "JPN", vec![delivery("USA", "received"), delivery("JPN", "owner"), delivery("KOR", "missing")])]),
            inject(2, vec![product(USA_SECRET, "USA", vec![delivery("USA", "owner"), delivery("JPN", "withheld"), delivery("KOR", "withheld")])]),
        ],
        "summary": [summary("USA"), summary("JPN"), summary("KOR")],
        "findings": [
            {"inject_idx": 1, "kind": "gap", "message": "inject 1: KOR may see 1 product(s) its node does not have"},
            {"inject_idx": 0, "kind": "duplicate", "message": "JPN received it 2 times"}
        ]
    }))
    .unwrap()
}

fn jpn_share(run_id: &str) -> Value {
    serde_json::to_value(share_for(&whole_report(run_id), &party("JPN"))).unwrap()
}

#[test]
fn jpns_share_holds_only_what_jpn_may_see() {
    let share = share_for(&whole_report("drill-1"), &party("JPN"));
    let ids: Vec<String> = share
        .report
        .injects
        .iter()
        .flat_map(|i| &i.products)
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(
        ids,
        [USA_NOTE, JPN_NOTE],
        "the USA SECRET note is not named"
    );
    assert_eq!(share.n_injects_not_shown, 1);
    let usa_note = &share.report.injects[0].products[0];
    let parties: Vec<&str> = usa_note
        .deliveries
        .iter()
        .map(|d| d.party.as_str())
        .collect();
    assert_eq!(parties, ["USA", "JPN"], "KOR's refusal is USA's to know");
    let jpn_note = &share.report.injects[1].products[0];
    assert_eq!(jpn_note.deliveries.len(), 3, "JPN owns it: every delivery");
    assert_eq!(share.report.summary.len(), 1);
    assert_eq!(
        share.report.findings.len(),
        1,
        "only the finding naming JPN"
    );
    assert!(share.report.findings[0].message.starts_with("JPN"));
    assert_eq!(trilat_exercise::check_share(&share), Ok(()));
}

#[tokio::test]
async fn reports_are_for_the_nodes_own_analysts_and_admins() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), 4 << 20).await;
    let path = "/api/v1/exercise/reports/drill-1";
    let share = jpn_share("drill-1");
    for (token, status) in [(READER, 403), (ANALYST, 403), (USA_ADMIN, 403)] {
        let (got, body) = call(&state, "PUT", path, token, Some(&share)).await;
        assert_eq!(got, status, "{token}: {body}");
    }
    let (status, header) = call(&state, "PUT", path, ADMIN, Some(&share)).await;
    assert_eq!(status, 201, "{header}");
    assert_eq!(header["n_products"], 2);
    let (status, _) = call(&state, "PUT", path, ADMIN, Some(&share)).await;
    assert_eq!(status, 200, "published again: replaced");

    for token in [READER, USA_ADMIN] {
        assert_eq!(
            call(&state, "GET", "/api/v1/exercise/reports", token, None)
                .await
                .0,
            403
        );
        assert_eq!(call(&state, "GET", path, token, None).await.0, 403);
    }
    let (status, list) = call(&state, "GET", "/api/v1/exercise/reports", ANALYST, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["reports"].as_array().unwrap().len(), 1);
    let (status, got) = call(&state, "GET", path, ANALYST, None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["report"], share["report"]);
    assert_eq!(got["party"], "JPN");

    // Kept on disk: a node started again on the same data dir lists it.
    let again = self::state(dir.path(), 4 << 20).await;
    let (_, list) = call(&again, "GET", "/api/v1/exercise/reports", ADMIN, None).await;
    assert_eq!(list["reports"][0]["run_id"], "drill-1");

    let audit = state.store.audit(0, 100).unwrap();
    let details: Vec<&str> = audit.iter().map(|e| e.event.detail.as_str()).collect();
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("after-action report of exercise run drill-1 published")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("after-action report of exercise run drill-1 read")),
        "{details:?}"
    );
}

#[tokio::test]
async fn a_share_naming_what_jpn_may_not_see_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), 4 << 20).await;
    let path = "/api/v1/exercise/reports/drill-2";
    let check = |body: Value, status: u16, code: &'static str, says: &'static str| {
        let state = state.clone();
        async move {
            let (got, answer) = call(&state, "PUT", path, ADMIN, Some(&body)).await;
            assert_eq!(got, status, "{answer}");
            assert_eq!(answer["error"]["code"], code, "{answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{message:?} lacks {says:?}");
        }
    };
    let whole =
        json!({"party": "JPN", "n_injects_not_shown": 0, "report": whole_report("drill-2")});
    check(
        whole,
        422,
        "invalid_report",
        "the summary of USA is not JPN's",
    )
    .await;
    let mut smuggled = jpn_share("drill-2");
    smuggled["report"]["injects"][0]["products"]
        .as_array_mut()
        .unwrap()
        .push(product(
            USA_SECRET,
            "USA",
            vec![delivery("USA", "owner"), delivery("JPN", "withheld")],
        ));
    check(smuggled, 422, "invalid_report", USA_SECRET).await;
    let usa = serde_json::to_value(share_for(&whole_report("drill-2"), &party("USA"))).unwrap();
    check(usa, 422, "invalid_report", "USA's share").await;
    let mut leaky = jpn_share("drill-2");
    leaky["report"]["injects"][0]["products"][0]["deliveries"]
        .as_array_mut()
        .unwrap()
        .push(delivery("KOR", "withheld"));
    check(leaky, 422, "invalid_report", "names KOR's copy").await;
    check(jpn_share("drill-3"), 422, "invalid_report", "not drill-2").await;
    check(
        json!({"party": "JPN"}),
        422,
        "invalid_json",
        "missing field",
    )
    .await;
    let (status, answer) = call(
        &state,
        "PUT",
        "/api/v1/exercise/reports/..%2Fetc",
        ADMIN,
        Some(&jpn_share("../etc")),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("invalid_run_id")),
        "{answer}"
    );
    let (status, _) = call(
        &state,
        "GET",
        "/api/v1/exercise/reports/drill-9",
        ADMIN,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        call(&state, "GET", "/api/v1/exercise/reports", ADMIN, None)
            .await
            .1["reports"],
        json!([])
    );
}

#[tokio::test]
async fn at_most_reports_max_are_kept_and_the_oldest_goes_first() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), 4 << 20).await;
    for n in 0..=REPORTS_MAX {
        let run = format!("drill-{n}");
        let (status, body) = call(
            &state,
            "PUT",
            &format!("/api/v1/exercise/reports/{run}"),
            ADMIN,
            Some(&jpn_share(&run)),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, list) = call(&state, "GET", "/api/v1/exercise/reports", ADMIN, None).await;
    let runs: Vec<&str> = list["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(runs.len(), REPORTS_MAX);
    assert_eq!(runs[0], format!("drill-{REPORTS_MAX}"), "newest first");
    assert!(!runs.contains(&"drill-0"));
    assert_eq!(
        call(
            &state,
            "GET",
            "/api/v1/exercise/reports/drill-0",
            ADMIN,
            None
        )
        .await
        .0,
        404
    );
    let n_files = std::fs::read_dir(dir.path().join("exercises"))
        .unwrap()
        .count();
    assert_eq!(n_files, REPORTS_MAX);

    // Above the body limit: 413, nothing kept.
    let small = self::state(&dir.path().join("small"), 1024).await;
    let (status, answer) = call(
        &small,
        "PUT",
        "/api/v1/exercise/reports/drill-big",
        ADMIN,
        Some(&jpn_share("drill-big")),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        call(&small, "GET", "/api/v1/exercise/reports", ADMIN, None)
            .await
            .1["reports"],
        json!([])
    );
}

#[tokio::test]
async fn a_run_is_registered_paused_resumed_and_finished_by_admins_only() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), 4 << 20).await;
    let register = json!({"run_id": "drill-100", "scenario": "drill", "injects_total": 3});
    for token in [READER, ANALYST, USA_ADMIN] {
        assert_eq!(
            call(
                &state,
                "POST",
                "/api/v1/exercise/runs",
                token,
                Some(&register)
            )
            .await
            .0,
            403,
            "{token}"
        );
    }
    let (status, run) = call(
        &state,
        "POST",
        "/api/v1/exercise/runs",
        ADMIN,
        Some(&register),
    )
    .await;
    assert_eq!(
        (status, run["state"].as_str()),
        (201, Some("running")),
        "{run}"
    );
    assert_eq!(
        call(
            &state,
            "POST",
            "/api/v1/exercise/runs",
            ADMIN,
            Some(&register)
        )
        .await
        .0,
        409,
        "same id again"
    );
    for bad in [
        json!({"run_id": "a b", "scenario": "drill", "injects_total": 3}),
        json!({"run_id": "drill-101", "scenario": "drill", "injects_total": 0}),
        json!({"run_id": "drill-101", "scenario": "drill"}),
        json!({"run_id": "drill-101", "scenario": "drill", "injects_total": 3, "extra": 1}),
    ] {
        let (status, answer) =
            call(&state, "POST", "/api/v1/exercise/runs", ADMIN, Some(&bad)).await;
        assert!(status == 400 || status == 422, "{bad}: {status} {answer}");
        assert!(answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }

    let runs = |token| {
        let state = state.clone();
        async move { call(&state, "GET", "/api/v1/exercise/runs", token, None).await }
    };
    assert_eq!(runs(READER).await.0, 403);
    assert_eq!(runs(ANALYST).await.1["runs"][0]["injects_total"], 3);
    let progress = "/api/v1/exercise/runs/drill-100/progress";
    assert_eq!(
        call(
            &state,
            "POST",
            "/api/v1/exercise/runs/drill-100/pause",
            ANALYST,
            None
        )
        .await
        .0,
        403
    );
    let (status, run) = call(
        &state,
        "POST",
        "/api/v1/exercise/runs/drill-100/pause",
        ADMIN,
        None,
    )
    .await;
    assert_eq!(
        (status, run["state"].as_str()),
        (200, Some("paused")),
        "{run}"
    );
    let (_, run) = call(
        &state,
        "POST",
        progress,
        ADMIN,
        Some(&json!({"injects_done": 1})),
    )
    .await;
    assert_eq!(run["state"], "paused", "the runner reads the state back");
    assert_eq!(run["injects_done"], 1);
    assert_eq!(run["steered_by"], "JPN:admin");
    let (_, run) = call(
        &state,
        "POST",
        "/api/v1/exercise/runs/drill-100/resume",
        ADMIN,
        None,
    )
    .await;
    assert_eq!(run["state"], "running");
    let (status, answer) = call(
        &state,
        "POST",
        progress,
        ADMIN,
        Some(&json!({"injects_done": 4})),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("3 injects"));
    let (_, run) = call(
        &state,
        "POST",
        progress,
        ADMIN,
        Some(&json!({"injects_done": 3, "finished": true})),
    )
    .await;
    assert_eq!(run["state"], "finished");
    assert_eq!(
        call(
            &state,
            "POST",
            "/api/v1/exercise/runs/drill-100/pause",
            ADMIN,
            None
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            &state,
            "POST",
            "/api/v1/exercise/runs/drill-999/pause",
            ADMIN,
            None
        )
        .await
        .0,
        404
    );

    // Bounded: unfinished runs fill the places; a finished one gives its place.
    for n in 1..RUNS_LIVE_MAX {
        let body = json!({"run_id": format!("drill-{}", 100 + n), "scenario": "drill", "injects_total": 1});
        assert_eq!(
            call(&state, "POST", "/api/v1/exercise/runs", ADMIN, Some(&body))
                .await
                .0,
            201
        );
    }
    let one_more = json!({"run_id": "drill-900", "scenario": "drill", "injects_total": 1});
    assert_eq!(
        call(
            &state,
            "POST",
            "/api/v1/exercise/runs",
            ADMIN,
            Some(&one_more)
        )
        .await
        .0,
        201,
        "replaces the finished run"
    );
    let another = json!({"run_id": "drill-901", "scenario": "drill", "injects_total": 1});
    let (status, answer) = call(
        &state,
        "POST",
        "/api/v1/exercise/runs",
        ADMIN,
        Some(&another),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        runs(ADMIN).await.1["runs"].as_array().unwrap().len(),
        RUNS_LIVE_MAX
    );

    let audit = state.store.audit(0, 1000).unwrap();
    let details: Vec<&str> = audit.iter().map(|e| e.event.detail.as_str()).collect();
    for expected in [
        "exercise run drill-100 registered: scenario drill, 3 injects",
        "exercise run drill-100 paused",
        "exercise run drill-100 resumed",
    ] {
        assert!(
            details.contains(&expected),
            "{expected:?} not in {details:?}"
        );
    }
}
