//! Helpers: a three-node cluster on loopback and a small HTTP client.
//! The cluster runs on SQLite, or on PostgreSQL and NATS when
//! `TRILAT_TEST_CLUSTER_BACKEND=postgres` (`trilat_node::cluster`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{json, Value};
use trilat_core::{Party, Report};
use trilat_node::cluster::{demo_policy, BackendNode, Cluster, ClusterBackend, ClusterSpec};
use trilat_node::config::Limits;
use trilat_node::AppState;

pub fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

/// USA, JPN, KOR with fast pulls, SQLite in a temp dir.
pub async fn cluster(dir: &std::path::Path) -> Cluster {
    cluster_with(dir, Default::default()).await
}

/// The same with an `[engines]` table (JSON for brevity) for some parties.
pub async fn cluster_with(
    dir: &std::path::Path,
    engines: std::collections::BTreeMap<Party, Value>,
) -> Cluster {
    let engines = engines
        .into_iter()
        .map(|(party, table)| {
            let table = toml::Value::try_from(table).unwrap();
            (party, table.as_table().unwrap().clone())
        })
        .collect();
    Cluster::start(spec(dir, &["USA", "JPN", "KOR"], engines))
        .await
        .unwrap()
}

/// A cluster of `parties` with fast pulls and the given `[engines]` tables.
pub fn spec(
    dir: &std::path::Path,
    parties: &[&str],
    engines: std::collections::BTreeMap<Party, toml::Table>,
) -> ClusterSpec {
    let limits = Limits {
        pull_interval_ms: 200,
        backoff_ms_min: 50,
        backoff_ms_max: 500,
        ..Limits::default()
    };
    ClusterSpec {
        parties: parties.iter().map(|code| party(code)).collect(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits,
        engines,
    }
}

/// A client of one node's API with one token.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub url: String,
    pub token: String,
}

impl Api {
    /// The ids of the current reports of `kind` this token sees (up to 1,000).
    pub async fn ids_of(&self, kind: &str) -> std::collections::BTreeSet<String> {
        let (status, page) = self
            .get(&format!("/api/v1/reports?kind={kind}&limit=1000"))
            .await;
        assert_eq!(status, 200, "{page}");
        page["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn new(url: &str, token: &str) -> Api {
        Api {
            client: reqwest::Client::new(),
            url: url.to_string(),
            token: token.to_string(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Posts a note; returns the stored report.
    pub async fn post_note(&self, text: &str, level: &str, tlp: &str, rel_to: &[&str]) -> Report {
        let (status, body) = self
            .post(
                "/api/v1/reports",
                &json!({
                    "kind": "note",
                    "marking": {"level": level, "tlp": tlp, "rel_to": rel_to, "further_sharing": "none"},
                    "payload": {"text": text},
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        serde_json::from_value(body["report"].clone()).unwrap()
    }

    /// The current version of a report as this token sees it, if visible.
    pub async fn report(&self, report: &trilat_core::ReportKey) -> Option<Report> {
        let (status, body) = self.get(&format!("/api/v1/reports/{report}")).await;
        match status {
            200 => Some(serde_json::from_value(body["report"].clone()).unwrap()),
            404 => None,
            other => panic!("GET report answered {other}: {body}"),
        }
    }

    /// Every current report visible to this token (all pages).
    pub async fn all_reports(&self) -> Vec<Report> {
        let mut reports = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/reports?limit=1000&include_revoked=true&cursor={c}"),
                None => "/api/v1/reports?limit=1000&include_revoked=true".to_string(),
            };
            let (status, body) = self.get(&path).await;
            assert_eq!(status, 200, "{body}");
            let page: Vec<Report> = serde_json::from_value(body["reports"].clone()).unwrap();
            reports.extend(page);
            match body["next"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return reports,
            }
        }
    }

    /// Subscribes to the live stream; returns the `(id, version)` seen so far.
    pub async fn subscribe(&self, exercise: bool) -> Arc<Mutex<Vec<Report>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let response = self
            .client
            .get(format!("{}/api/v1/stream?exercise={exercise}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let sink = seen.clone();
        tokio::spawn(async move {
            let mut stream = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let event: String = buffer.drain(..end + 2).collect();
                    let is_report = event.lines().any(|l| l == "event: report");
                    let data: String = event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    if is_report {
                        let report: Report = serde_json::from_str(&data).unwrap();
                        sink.lock().unwrap().push(report);
                    }
                }
            }
        });
        seen
    }
}

/// A free loopback address (bound, then let go) for a process to listen on.
pub fn free_tcp_addr() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Polls `condition` every 50 ms for up to 20 s.
pub async fn eventually<F, Fut>(what: &str, condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    within(Duration::from_secs(20), what, condition).await;
}

/// Polls `condition` every 50 ms for up to `deadline`.
pub async fn within<F, Fut>(deadline: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !condition().await {
        assert!(start.elapsed() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One JPN node with an analyst token and the given `[engines]` table (JSON
/// for brevity), on the test backend (`TRILAT_TEST_CLUSTER_BACKEND`: SQLite,
/// or PostgreSQL and NATS); returns once `ready_path` answers 200 (the
/// engines load in the background).
pub async fn engine_node_with(
    dir: &std::path::Path,
    engines: Value,
    ready_path: &'static str,
) -> (BackendNode, Api) {
    let (mut config, token, listener) = jpn_analyst_config(dir, Some(engines)).await;
    let addr = config.listen;
    let place = ClusterBackend::from_env()
        .unwrap()
        .place(&mut config)
        .unwrap();
    trilat_node::cluster::write_node_files(dir, &config, &trilat_core::NodeKey::generate())
        .unwrap();
    let state = trilat_node::open(config).unwrap();
    let node = place.serve_on(state, listener).await.unwrap();
    let api = Api::new(&format!("http://{addr}"), &token);
    let ready = api.clone();
    eventually(&format!("engines ready ({ready_path})"), move || {
        let api = ready.clone();
        async move { api.get(ready_path).await.0 == 200 }
    })
    .await;
    (node, api)
}

/// A JPN node's config ([`jpn_config`]) on a free loopback port, with one
/// analyst token: the config, the token and the bound listener to serve on.
pub async fn jpn_analyst_config(
    dir: &std::path::Path,
    engines: Option<Value>,
) -> (trilat_node::Config, String, tokio::net::TcpListener) {
    use trilat_node::config::{generate_token, token_sha256, Role, TokenConfig};
    let token = generate_token();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tokens = vec![TokenConfig {
        sha256: token_sha256(&token),
        party: party("JPN"),
        role: Role::Analyst,
        name: "analyst".into(),
    }];
    (jpn_config(dir, addr, tokens, engines), token, listener)
}

/// A validated config of one JPN node on `addr` with `tokens` and the given
/// `[engines]` table (JSON for brevity), its files under `dir`.
pub fn jpn_config(
    dir: &std::path::Path,
    addr: std::net::SocketAddr,
    tokens: Vec<trilat_node::config::TokenConfig>,
    engines: Option<Value>,
) -> trilat_node::Config {
    let engines = engines.map(|engines| {
        toml::Value::try_from(engines)
            .unwrap()
            .as_table()
            .unwrap()
            .clone()
    });
    let config = trilat_node::Config {
        party: party("JPN"),
        listen: addr,
        data_dir: dir.join("data"),
        key_file: dir.join("node.key"),
        policy: trilat_core::Policy::trilateral_default(),
        tls: Default::default(),
        peers: Vec::new(),
        parties: Vec::new(),
        tokens,
        limits: Limits::default(),
        taxii: None,
        engines,
        tak: Vec::new(),
        store: None,
        bus: None,
        bus_namespace: None,
        bus_tls: None,
    };
    config.validate().unwrap();
    config
}

/// A node whose API a test calls in process (`app(state)` with `oneshot`,
/// no socket): in memory on the first pass; on PostgreSQL and NATS with
/// `TRILAT_TEST_CLUSTER_BACKEND=postgres`, where it is also served (on a
/// loopback port nobody calls), so its bus follower and engines run as in
/// a process of a node on that setup. Derefs to its state.
pub struct InProcessNode {
    state: AppState,
    /// Dropped after `state`: the node stops, then its schema and streams go.
    _served: Option<BackendNode>,
}

impl std::ops::Deref for InProcessNode {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.state
    }
}

/// The node of `config` and `key` on the test backend
/// ([`InProcessNode`]); on PostgreSQL its key and config are written
/// under `dir`.
pub async fn in_process_node(
    dir: &std::path::Path,
    mut config: trilat_node::Config,
    key: trilat_core::NodeKey,
) -> InProcessNode {
    let backend = ClusterBackend::from_env().unwrap();
    if backend == ClusterBackend::Sqlite {
        let store = Arc::new(trilat_store::MemoryStore::new());
        return InProcessNode {
            state: AppState::new(config, key, store),
            _served: None,
        };
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    config.listen = listener.local_addr().unwrap();
    config.key_file = dir.join("node.key");
    let place = backend.place(&mut config).unwrap();
    config.validate().unwrap();
    trilat_node::cluster::write_node_files(dir, &config, &key).unwrap();
    let state = trilat_node::open(config).unwrap();
    let served = place.serve_on(state.clone(), listener).await.unwrap();
    InProcessNode {
        state,
        _served: Some(served),
    }
}

/// Whether the test backend puts nodes on the party bus (PostgreSQL and
/// NATS), where the engines hand input to their partitions' owners.
pub fn on_bus() -> bool {
    matches!(
        ClusterBackend::from_env().unwrap(),
        ClusterBackend::Postgres { .. }
    )
}
