//! Several nodes in one process on loopback: `trilat demo`, the integration
//! tests and the federation benchmark all start their nodes through here,
//! with real HTTP between them and a SQLite store each. Peers talk over
//! mutual TLS, as between partners: each node gets a certificate at start,
//! pinned in the others' `[[peers]]`.
//!
//! With `TRILAT_TEST_CLUSTER_BACKEND=postgres` ([`ClusterBackend`]) every
//! node runs as a node of the several-process setup instead (docs/scale.md):
//! its store in a PostgreSQL schema of its own (`TRILAT_TEST_POSTGRES`), its
//! bus on NATS JetStream (`TRILAT_TEST_NATS`) under a namespace of the
//! cluster's own, so clusters started in parallel share neither. The
//! schemas and the streams are dropped with the [`Cluster`], once its
//! nodes' tasks have stopped (a task still running could make a stream
//! again). What a killed test run left is removed by the next run
//! ([`ClusterBackend::sweep_stale`]). `scripts/test` runs the cluster tests
//! a second time so.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use trilat_core::{Agreement, Kind, Marking, NodeKey, Party, Policy, ReportDraft, Tlp};

use crate::config::{
    generate_token, token_sha256, Limits, PeerConfig, Role, TlsConfig, TokenConfig,
};
use crate::federation::tls;
use crate::{AppState, Config, Node, StartError};

/// One node of a [`Cluster`].
pub struct ClusterNode {
    /// The party it speaks for.
    pub party: Party,
    /// Its base URL, e.g. `http://127.0.0.1:7401`.
    pub url: String,
    /// The base URL of its peer listener (mutual TLS), e.g.
    /// `https://127.0.0.1:40123`.
    pub peer_url: String,
    /// The SHA-256 of its TLS certificate (what its peers pin).
    pub cert_sha256: String,
    /// Bearer tokens on this node by `(party, role)`: an admin of the node's
    /// own party, and a reader of every cluster party (to show the read rule).
    pub tokens: BTreeMap<(Party, Role), String>,
    /// The running node.
    pub node: Node,
}

impl ClusterNode {
    /// The admin token of the node's own party.
    pub fn admin_token(&self) -> &str {
        &self.tokens[&(self.party.clone(), Role::Admin)]
    }

    /// A reader token for `party` on this node.
    pub fn reader_token(&self, party: &Party) -> &str {
        &self.tokens[&(party.clone(), Role::Reader)]
    }

    /// An HTTP client that talks to `to`'s peer listener as this node does:
    /// presenting this node's certificate, accepting only `to`'s.
    pub fn peer_client_to(&self, to: &ClusterNode) -> Result<reqwest::Client, StartError> {
        let identity = tls::Identity::of_config(&self.node.state.config)?;
        let pin = tls::parse_pin(&to.cert_sha256).map_err(|reason| tls::TlsError {
            what: format!("{}'s cert_sha256", to.party),
            reason,
        })?;
        let timeout = std::time::Duration::from_secs(30);
        Ok(tls::peer_client(&identity, &to.party, pin, timeout)?)
    }
}

/// Nodes started together, each peered with all the others.
pub struct Cluster {
    /// The nodes, in the order of the parties given.
    pub nodes: Vec<ClusterNode>,
    /// The PostgreSQL schemas and NATS streams of the nodes, dropped with
    /// the cluster.
    cleanup: Option<Cleanup>,
}

/// Where the nodes of a [`Cluster`] keep their reports, and whether they
/// have a bus: what `TRILAT_TEST_CLUSTER_BACKEND` chooses
/// ([`ClusterBackend::from_env`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterBackend {
    /// An SQLite file under each node's directory, no bus (the default).
    Sqlite,
    /// Each node on PostgreSQL at `postgres`, in a schema of its own, and
    /// on the party bus at `nats` (NATS JetStream), the cluster's streams
    /// and subjects under a namespace of its own.
    Postgres {
        /// The server's URL (`TRILAT_TEST_POSTGRES`).
        postgres: String,
        /// The NATS server's URL (`TRILAT_TEST_NATS`).
        nats: String,
    },
}

/// How long [`Cluster::start`] waits for every node to drive its links.
pub const LINKS_DRIVEN_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(60);

/// The environment variable that chooses a [`ClusterBackend`]: `sqlite`
/// (or unset) or `postgres`.
pub const CLUSTER_BACKEND_VAR: &str = "TRILAT_TEST_CLUSTER_BACKEND";

impl ClusterBackend {
    /// The backend `TRILAT_TEST_CLUSTER_BACKEND` names: unset or `sqlite`,
    /// or `postgres`, which needs `TRILAT_TEST_POSTGRES` and
    /// `TRILAT_TEST_NATS` (the servers `scripts/test` starts). Anything
    /// else is an error saying what is missing.
    pub fn from_env() -> Result<ClusterBackend, StartError> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let invalid = |reason: String| {
            StartError::Config(crate::config::ConfigError {
                path: format!("${CLUSTER_BACKEND_VAR}"),
                field: CLUSTER_BACKEND_VAR.into(),
                reason,
            })
        };
        match var(CLUSTER_BACKEND_VAR).as_deref() {
            None | Some("sqlite") => Ok(ClusterBackend::Sqlite),
            Some("postgres") => match (var("TRILAT_TEST_POSTGRES"), var("TRILAT_TEST_NATS")) {
                (Some(postgres), Some(nats)) => Ok(ClusterBackend::Postgres { postgres, nats }),
                _ => Err(invalid(
                    "postgres needs the servers in TRILAT_TEST_POSTGRES and TRILAT_TEST_NATS \
                     (scripts/test starts both)"
                        .into(),
                )),
            },
            Some(other) => Err(invalid(format!(
                "{other:?} is not a cluster backend: \"sqlite\" or \"postgres\""
            ))),
        }
    }
}

/// A cluster's PostgreSQL schemas and NATS streams: one each per node,
/// dropped with the cluster (a stream reserves its `max_bytes` on the
/// server: left behind, they would fill its JetStream storage).
struct Cleanup {
    postgres: String,
    schemas: Vec<String>,
    nats: String,
    /// The bus namespaces: every stream of each is deleted.
    namespaces: Vec<String>,
}

/// The URL of the database at `url` with its `search_path` set to `schema`
/// (what a node's `store` says to use a schema of its own).
pub fn postgres_url_in_schema(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The nodes stop first, so nothing holds the tables; a node taken
        // out of the cluster and still running makes the drop wait for
        // its locks (10 s at most) or fail, leaving its schema.
        for node in &self.nodes {
            node.node.stop();
        }
        if self.cleanup.is_some() {
            wait_until_stopped(self.nodes.iter().map(|node| &node.node));
        }
        drop(self.cleanup.take());
    }
}

/// How long a dropped cluster or node waits for its tasks to finish
/// before its schemas and streams go.
pub const STOP_WAIT_MAX: Duration = Duration::from_secs(30);

/// Waits, at most [`STOP_WAIT_MAX`], until every task of the stopped
/// `nodes` has finished: an engine partition's owner still running would
/// make its input stream again after the clean-up deleted it. On a
/// current-thread runtime the caller is the one thread that would drop the
/// aborted tasks, so it cannot wait; those tasks never run again, and a
/// stream a request already sent makes after the deletion is removed by
/// the next sweep ([`ClusterBackend::sweep_stale`]).
fn wait_until_stopped<'a>(nodes: impl Iterator<Item = &'a Node> + Clone) {
    let wait = || {
        let start = Instant::now();
        while !nodes.clone().all(Node::is_stopped) {
            if start.elapsed() > STOP_WAIT_MAX {
                tracing::warn!("a test node's tasks did not stop; its streams are deleted anyway");
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Err(_) => wait(),
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
            // Never panic in a drop: block_in_place refuses some contexts
            // (a LocalSet) before it runs anything.
            let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tokio::task::block_in_place(wait)
            }));
            if waited.is_err() {
                tracing::warn!("a test node's tasks could not be waited for here");
            }
        }
        Ok(_) => {}
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.schemas {
            if let Err(e) = trilat_store::PostgresStore::drop_schema(&self.postgres, name) {
                tracing::warn!(%e, schema = %name, "a test node's schema was not dropped");
            }
        }
        let namespaces = std::mem::take(&mut self.namespaces);
        {
            let mut dropped = DROPPED_IDS.lock().unwrap_or_else(|e| e.into_inner());
            for id in namespaces.iter().filter_map(|ns| namespace_object_id(ns)) {
                if dropped.len() == DROPPED_IDS_MAX {
                    dropped.pop_front();
                }
                dropped.push_back(id.to_string());
            }
        }
        if let Err(e) = crate::bus::delete_namespace_streams(&self.nats, namespaces) {
            tracing::warn!(%e, "a test node's streams were not deleted");
        }
    }
}

/// The ids ([`object_id`]) of the clusters and nodes this process dropped,
/// the latest [`DROPPED_IDS_MAX`]: a stream of theirs found later was made
/// again by a request on its way at the drop, and is swept.
static DROPPED_IDS: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
/// Most ids [`DROPPED_IDS`] keeps.
const DROPPED_IDS_MAX: usize = 4096;

/// The id in the names of a test cluster's or placed node's schemas
/// (`cluster_<ID>_<party>`, `node_<ID>_<party>`) and bus namespace
/// (`c<ID>`, `n<ID>`): `p<PID>r<RANDOM>`, the process that made them (so a
/// later run can tell leftovers from the objects of a run still going)
/// and 8 random hex digits.
fn object_id() -> String {
    format!("p{}r{:08x}", std::process::id(), rand::random::<u32>())
}

/// The process that made the object of `id`, if [`object_id`] made it.
fn object_pid(id: &str) -> Option<u32> {
    let (pid, random) = id.strip_prefix('p')?.split_once('r')?;
    let random_ok = random.len() == 8 && random.bytes().all(|b| b.is_ascii_hexdigit());
    let pid_ok = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    if !(random_ok && pid_ok) {
        return None;
    }
    pid.parse().ok()
}

/// The id of a test schema's name, if it is one.
fn schema_object_id(schema: &str) -> Option<&str> {
    let rest = (schema.strip_prefix("cluster_")).or_else(|| schema.strip_prefix("node_"))?;
    Some(rest.split_once('_')?.0)
}

/// The id of a test bus namespace (`c<ID>` or `n<ID>`), if it is one.
fn namespace_object_id(namespace: &str) -> Option<&str> {
    // strip_prefix, not trim_start_matches: only the one letter.
    (namespace.strip_prefix('c')).or_else(|| namespace.strip_prefix('n'))
}

/// The id of a test stream's name (`<NAMESPACE>_TRILAT_…`), if it is one.
fn stream_object_id(stream: &str) -> Option<&str> {
    let (namespace, rest) = stream.split_once('_')?;
    rest.starts_with("TRILAT_").then_some(())?;
    namespace_object_id(namespace)
}

/// Whether the test object of `id` is a leftover: its process is gone, or
/// it is this process's and was dropped already. Anything else (a name of
/// another form, a process still running) is left alone.
fn is_stale(id: &str) -> bool {
    let Some(pid) = object_pid(id) else {
        return false;
    };
    if pid == std::process::id() {
        let dropped = DROPPED_IDS.lock().unwrap_or_else(|e| e.into_inner());
        return dropped.iter().any(|dropped| dropped == id);
    }
    !process_runs(pid)
}

/// Whether process `pid` runs on this machine; `true` where that cannot be
/// told (no `/proc`), so nothing of another process is swept there.
fn process_runs(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// Whether a start in this process swept the schemas already (once is
/// enough: a schema is never made again after its drop).
static SCHEMAS_SWEPT: std::sync::Once = std::sync::Once::new();

/// The names of the streams on the NATS server at `url` (on a thread and
/// runtime of its own, as [`crate::bus::delete_namespace_streams`]).
fn stream_names(url: &str) -> Result<Vec<String>, String> {
    let url = url.to_string();
    let listing = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            use futures::TryStreamExt as _;
            let listing = async {
                let client = async_nats::connect(url.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let js = async_nats::jetstream::new(client);
                js.stream_names()
                    .try_collect::<Vec<String>>()
                    .await
                    .map_err(|e| format!("listing the streams: {e}"))
            };
            tokio::time::timeout(Duration::from_secs(10), listing)
                .await
                .map_err(|_| "no answer within 10 s".to_string())?
        })
    });
    listing
        .join()
        .map_err(|_| "the listing thread panicked".to_string())?
}

/// One node a test starts itself (not in a [`Cluster`]), on a
/// [`ClusterBackend`]: on PostgreSQL and NATS its schema and bus namespace
/// are its own and dropped with it, after the node stopped. Derefs to the
/// [`Node`].
pub struct BackendNode {
    node: Node,
    /// Dropped after `node` (fields drop in order).
    _cleanup: Option<Cleanup>,
}

impl Drop for BackendNode {
    fn drop(&mut self) {
        self.node.stop();
        if self._cleanup.is_some() {
            wait_until_stopped(std::iter::once(&self.node));
        }
    }
}

impl std::ops::Deref for BackendNode {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.node
    }
}

/// Where a node started by [`ClusterBackend::place`] keeps its reports,
/// until it is served ([`NodePlace::serve_on`]).
pub struct NodePlace {
    cleanup: Option<Cleanup>,
}

impl ClusterBackend {
    /// Puts the node of `config` on this backend: SQLite leaves `config`
    /// as it is; PostgreSQL gives it a schema (created here) and a bus
    /// namespace of its own, as [`Cluster::start_on`] does for its nodes.
    pub fn place(&self, config: &mut Config) -> Result<NodePlace, StartError> {
        let ClusterBackend::Postgres { postgres, nats } = self else {
            return Ok(NodePlace { cleanup: None });
        };
        self.sweep_stale_logged();
        let id = object_id();
        let schema = format!("node_{id}_{}", config.party.as_str().to_lowercase());
        let mut cleanup = Cleanup {
            postgres: postgres.clone(),
            schemas: Vec::new(),
            nats: nats.clone(),
            namespaces: Vec::new(),
        };
        drop(trilat_store::PostgresStore::open_in_schema(
            postgres, &schema,
        )?);
        cleanup.schemas.push(schema.clone());
        let namespace = format!("n{id}");
        cleanup.namespaces.push(namespace.clone());
        config.store = Some(postgres_url_in_schema(postgres, &schema).into());
        config.bus = Some(nats.as_str().into());
        config.bus_namespace = Some(namespace);
        Ok(NodePlace {
            cleanup: Some(cleanup),
        })
    }
}

impl ClusterBackend {
    /// Removes the leftovers of test runs from the servers: the schemas
    /// and streams of clusters and placed nodes whose process is gone (a
    /// run killed before its drops ran), and streams of this process's
    /// dropped ones made again after the drop. What a run still going
    /// made is left alone (its process runs). Schemas are looked through
    /// once per process, streams every time. Returns how many objects
    /// went; nothing on SQLite.
    pub fn sweep_stale(&self) -> Result<usize, String> {
        self.sweep(true)
    }

    /// [`ClusterBackend::sweep_stale`], the schemas only if `schemas`.
    fn sweep(&self, schemas: bool) -> Result<usize, String> {
        let ClusterBackend::Postgres { postgres, nats } = self else {
            return Ok(0);
        };
        let mut n_removed = if schemas {
            sweep_stale_schemas(postgres)?
        } else {
            0
        };
        let stale: BTreeSet<String> = stream_names(nats)?
            .into_iter()
            .filter(|name| stream_object_id(name).is_some_and(is_stale))
            .filter_map(|name| name.split_once('_').map(|(ns, _)| ns.to_string()))
            .collect();
        if !stale.is_empty() {
            n_removed += stale.len();
            crate::bus::delete_namespace_streams(nats, stale.into_iter().collect())?;
        }
        Ok(n_removed)
    }

    /// [`ClusterBackend::sweep_stale`] at a start, a failure logged (a
    /// test runs on): the schemas once per process (only a start makes
    /// them), the streams every time.
    fn sweep_stale_logged(&self) {
        if *self == ClusterBackend::Sqlite {
            return;
        }
        let mut schemas = false;
        SCHEMAS_SWEPT.call_once(|| schemas = true);
        match self.sweep(schemas) {
            Ok(0) => {}
            Ok(n_removed) => tracing::info!(n_removed, "leftovers of earlier test runs removed"),
            Err(e) => tracing::warn!(%e, "the leftovers of earlier test runs were not looked for"),
        }
    }
}

/// Drops the test schemas at `postgres` that are leftovers ([`is_stale`]);
/// how many.
fn sweep_stale_schemas(postgres: &str) -> Result<usize, String> {
    let mut n_removed = 0;
    for prefix in ["cluster_", "node_"] {
        let names = trilat_store::PostgresStore::schema_names(postgres, prefix)
            .map_err(|e| e.to_string())?;
        for name in names {
            if schema_object_id(&name).is_some_and(is_stale) {
                trilat_store::PostgresStore::drop_schema(postgres, &name)
                    .map_err(|e| format!("schema {name}: {e}"))?;
                n_removed += 1;
            }
        }
    }
    Ok(n_removed)
}

impl NodePlace {
    /// Serves `state` (opened from the placed config) on `listener`.
    pub async fn serve_on(
        self,
        state: AppState,
        listener: tokio::net::TcpListener,
    ) -> Result<BackendNode, StartError> {
        let node = crate::serve_on(state, listener).await?;
        Ok(BackendNode {
            node,
            _cleanup: self.cleanup,
        })
    }
}

/// How to start a [`Cluster`].
pub struct ClusterSpec {
    /// One node per party.
    pub parties: Vec<Party>,
    /// Where each node keeps `PARTY/data/trilat.sqlite3`, its key and config.
    pub dir: PathBuf,
    /// Listen ports, one per party; `None`: ephemeral ports.
    pub ports: Option<Vec<u16>>,
    /// The shared policy.
    pub policy: Policy,
    /// The limits of every node.
    pub limits: Limits,
    /// Each party's `[engines]` table (see `engines::EnginesConfig`);
    /// a party without one runs the engines with their defaults.
    pub engines: BTreeMap<Party, toml::Table>,
}

/// The demo's policy: levels `UNCLASSIFIED < CONFIDENTIAL < SECRET`, group
/// `TRILAT`, a trilateral agreement up to CONFIDENTIAL for every kind,
/// bilateral agreements up to SECRET (the JPN–KOR one, like GSOMIA, for
/// `missile.*` and `note` only), every node accredited at SECRET.
pub fn demo_policy() -> Policy {
    let party = |code: &str| Party::new(code).expect("static party code");
    let pair = |a: &str, b: &str| BTreeSet::from([party(a), party(b)]);
    let mut policy = Policy::trilateral_default();
    policy.agreements = vec![
        Agreement {
            name: "TRILAT".into(),
            parties: BTreeSet::from([party("USA"), party("JPN"), party("KOR")]),
            level_max: "CONFIDENTIAL".into(),
            kinds: vec!["*".into()],
        },
        Agreement {
            name: "US-JAPAN".into(),
            parties: pair("USA", "JPN"),
            level_max: "SECRET".into(),
            kinds: vec!["*".into()],
        },
        Agreement {
            name: "US-ROK".into(),
            parties: pair("USA", "KOR"),
            level_max: "SECRET".into(),
            kinds: vec!["*".into()],
        },
        Agreement {
            name: "GSOMIA-JPN-KOR".into(),
            parties: pair("JPN", "KOR"),
            level_max: "SECRET".into(),
            kinds: vec!["missile.*".into(), "note".into()],
        },
    ];
    policy
}

impl Cluster {
    /// Binds one listener per party, writes each node's key and config
    /// under `spec.dir/PARTY/`, opens its store and serves it: SQLite,
    /// unless `TRILAT_TEST_CLUSTER_BACKEND` says otherwise
    /// ([`ClusterBackend::from_env`]).
    pub async fn start(spec: ClusterSpec) -> Result<Cluster, StartError> {
        Cluster::start_on(spec, ClusterBackend::from_env()?).await
    }

    /// [`Cluster::start`] on the given backend.
    pub async fn start_on(
        spec: ClusterSpec,
        backend: ClusterBackend,
    ) -> Result<Cluster, StartError> {
        backend.sweep_stale_logged();
        let cluster_id = object_id();
        let mut cleanup = match &backend {
            ClusterBackend::Sqlite => None,
            ClusterBackend::Postgres { postgres, nats } => Some(Cleanup {
                postgres: postgres.clone(),
                schemas: Vec::new(),
                nats: nats.clone(),
                namespaces: Vec::new(),
            }),
        };
        let mut listeners = Vec::new();
        for idx in 0..spec.parties.len() {
            let port = spec.ports.as_ref().map_or(0, |ports| ports[idx]);
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            listeners.push(listener);
        }
        // Peer listeners on ephemeral ports: the peers' URLs are in each
        // node's config.
        let mut peer_listeners = Vec::new();
        for _ in &spec.parties {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            peer_listeners.push(listener);
        }
        let keys: Vec<NodeKey> = spec.parties.iter().map(|_| NodeKey::generate()).collect();
        let local_addr = |listener: &tokio::net::TcpListener| {
            listener.local_addr().map_err(|source| StartError::Bind {
                addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                source,
            })
        };
        let mut addrs = Vec::new();
        for listener in &listeners {
            addrs.push(local_addr(listener)?);
        }
        let mut peer_addrs = Vec::new();
        for listener in &peer_listeners {
            peer_addrs.push(local_addr(listener)?);
        }
        let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}")).collect();
        let peer_urls: Vec<String> = peer_addrs.iter().map(|a| format!("https://{a}")).collect();
        let mut tls_configs = Vec::new();
        let mut pins = Vec::new();
        for party in &spec.parties {
            let node_dir = spec.dir.join(party.as_str());
            std::fs::create_dir_all(&node_dir).map_err(|e| StartError::Key {
                path: node_dir.display().to_string(),
                reason: e.to_string(),
            })?;
            let files = TlsConfig {
                cert_file: node_dir.join("node-tls.crt"),
                key_file: node_dir.join("node-tls.key"),
                ..TlsConfig::default()
            };
            pins.push(tls::write_identity(
                party,
                &files.cert_file,
                &files.key_file,
            )?);
            tls_configs.push(files);
        }
        let mut nodes = Vec::new();
        let listeners = listeners.into_iter().zip(peer_listeners);
        for ((idx, party), (listener, peer_listener)) in
            spec.parties.iter().enumerate().zip(listeners)
        {
            let peers = spec
                .parties
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != idx)
                .map(|(other, peer)| PeerConfig {
                    party: peer.clone(),
                    url: peer_urls[other].clone(),
                    public_key: keys[other].public_key(),
                    cert_sha256: Some(pins[other].clone()),
                })
                .collect();
            let mut tokens = BTreeMap::new();
            let mut token_configs = Vec::new();
            let mut add_token = |party: &Party, role: Role, name: &str| {
                let token = generate_token();
                token_configs.push(TokenConfig {
                    sha256: token_sha256(&token),
                    party: party.clone(),
                    role,
                    name: name.to_string(),
                });
                tokens.insert((party.clone(), role), token);
            };
            add_token(party, Role::Admin, "admin");
            for reader in &spec.parties {
                add_token(reader, Role::Reader, "reader");
            }
            let node_dir = spec.dir.join(party.as_str());
            let mut config = Config {
                party: party.clone(),
                listen: addrs[idx],
                data_dir: node_dir.join("data"),
                key_file: node_dir.join("node.key"),
                policy: spec.policy.clone(),
                tls: TlsConfig {
                    listen: Some(peer_addrs[idx]),
                    ..tls_configs[idx].clone()
                },
                peers,
                parties: Vec::new(),
                tokens: token_configs,
                limits: spec.limits.clone(),
                taxii: None,
                engines: spec.engines.get(party).cloned(),
                tak: Vec::new(),
                store: None,
                bus: None,
                bus_namespace: None,
                bus_tls: None,
            };
            if let (ClusterBackend::Postgres { postgres, nats }, Some(cleanup)) =
                (&backend, cleanup.as_mut())
            {
                let schema = format!("cluster_{cluster_id}_{}", party.as_str().to_lowercase());
                // Created (with its tables) here; the node opens it by its URL.
                drop(trilat_store::PostgresStore::open_in_schema(
                    postgres, &schema,
                )?);
                cleanup.schemas.push(schema.clone());
                config.store = Some(postgres_url_in_schema(postgres, &schema).into());
                config.bus = Some(nats.as_str().into());
                let namespace = format!("c{cluster_id}");
                cleanup.namespaces.push(namespace.clone());
                config.bus_namespace = Some(namespace);
            }
            config.validate()?;
            write_node_files(&node_dir, &config, &keys[idx])?;
            let state = crate::open(config)?;
            let node = crate::serve_with(state, listener, Some(peer_listener)).await?;
            nodes.push(ClusterNode {
                party: party.clone(),
                url: urls[idx].clone(),
                peer_url: peer_urls[idx].clone(),
                cert_sha256: pins[idx].clone(),
                tokens,
                node,
            });
        }
        let cluster = Cluster { nodes, cleanup };
        cluster.wait_until_links_driven().await;
        Ok(cluster)
    }

    /// Waits (at most [`LINKS_DRIVEN_WAIT_MAX`]) until every node drives
    /// each of its links, as its audit log says ("link to P: lease link:P
    /// taken by …", `federation/owner.rs`): what is published from then on
    /// is pushed, and does not wait for the peer's pull. The lease is quick
    /// on SQLite; on PostgreSQL it takes a connection pool per link, and a
    /// report published before it reaches the peer by pull only, later
    /// than one published after it (a test's barrier would then lie).
    async fn wait_until_links_driven(&self) {
        let deadline = std::time::Instant::now() + LINKS_DRIVEN_WAIT_MAX;
        for node in &self.nodes {
            let prefixes: Vec<String> = (node.node.state.config.peers.iter())
                .map(|peer| format!("link to {0}: lease link:{0} taken by ", peer.party))
                .collect();
            loop {
                let store = node.node.state.store.clone();
                let read = tokio::task::spawn_blocking(move || {
                    store.audit(0, trilat_store::QUERY_LIMIT_MAX)
                })
                .await;
                let driven = match read {
                    Ok(Ok(entries)) => prefixes.iter().all(|prefix| {
                        entries
                            .iter()
                            .any(|entry| entry.event.detail.starts_with(prefix.as_str()))
                    }),
                    _ => false,
                };
                if driven {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    tracing::warn!(party = %node.party, "the cluster's links are not all driven yet");
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }

    /// The node of `party`.
    ///
    /// # Panics
    /// If `party` is not in the cluster (a bug in the caller).
    pub fn node(&self, party: &str) -> &ClusterNode {
        self.nodes
            .iter()
            .find(|n| n.party.as_str() == party)
            .expect("party is in the cluster")
    }

    /// The state of the node of `party`.
    pub fn state(&self, party: &str) -> &AppState {
        &self.node(party).node.state
    }

    /// Takes the node of `party` out of the cluster (to stop it, as in a
    /// partition, and start it again from its files); `None` if it is not
    /// in the cluster.
    pub fn take(&mut self, party: &str) -> Option<ClusterNode> {
        let idx = self.nodes.iter().position(|n| n.party.as_str() == party)?;
        Some(self.nodes.remove(idx))
    }
}

/// Writes `node.key` (mode 0600 on Unix) and `trilat.toml` into `dir`.
pub fn write_node_files(dir: &Path, config: &Config, key: &NodeKey) -> Result<(), StartError> {
    let err = |path: &Path, e: std::io::Error| StartError::Key {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    write_secret(&config.key_file, &key.to_secret_base64())
        .map_err(|e| err(&config.key_file, e))?;
    let config_path = dir.join("trilat.toml");
    std::fs::write(&config_path, config.to_toml()).map_err(|e| err(&config_path, e))?;
    Ok(())
}

/// Writes a secret file readable by its owner only, an existing file too
/// (the mode given at open applies only when the file is created, and
/// `init --force` writes over files that may have been readable by others).
pub fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}

/// A real-world note of the demo, created now.
fn demo_note(owner: &str, level: &str, tlp: Tlp, rel_to: &[&str], text: &str) -> ReportDraft {
    ReportDraft::new(
        Party::new(owner).expect("static party code"),
        Kind::new("note").expect("static kind"),
        Marking::new(level, tlp, rel_to.iter().copied()),
        serde_json::json!({ "text": text }),
        crate::now(),
    )
}

/// A real-world note the demo publishes while its exercise story plays.
pub struct DemoNote {
    /// Seconds after the demo's start.
    pub after_s: u64,
    /// Owner party (the node that publishes it).
    pub owner: &'static str,
    /// Classification level.
    pub level: &'static str,
    /// TLP.
    pub tlp: Tlp,
    /// Releasability.
    pub rel_to: &'static [&'static str],
    /// The note.
    pub text: &'static str,
}

/// The notes published during the story, so the real-world view changes too.
pub const DEMO_LIVE_NOTES: [DemoNote; 2] = [
    DemoNote {
        after_s: 45,
        owner: "USA",
        level: "UNCLASSIFIED",
        tlp: Tlp::Green,
        rel_to: &["TRILAT"],
        text: "INDOPACOM: trilateral maritime coordination cell manned; partners report in on the usual channels.",
    },
    DemoNote {
        after_s: 180,
        owner: "JPN",
        level: "CONFIDENTIAL",
        tlp: Tlp::Amber,
        rel_to: &["TRILAT"],
        text: "JCG: patrol vessel on station south-west of Jeju; ready to verify reported ship-to-ship activity.",
    },
];

/// Publishes [`DEMO_LIVE_NOTES`] at their times after `start_ms` (each at
/// the node of its owner among `states`); failures are logged.
pub async fn demo_live_notes(states: Vec<AppState>, start_ms: i64) {
    for note in &DEMO_LIVE_NOTES {
        let at_ms = start_ms + i64::try_from(note.after_s * 1000).unwrap_or(i64::MAX);
        let wait_ms = at_ms - crate::now_ms();
        if wait_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(wait_ms as u64)).await;
        }
        let Some(state) = states.iter().find(|s| s.party.as_str() == note.owner) else {
            continue;
        };
        let draft = demo_note(note.owner, note.level, note.tlp, note.rel_to, note.text);
        if let Err(e) = crate::publish(state, draft).await {
            tracing::warn!(%e, "demo note not published");
        }
    }
}

/// The demo's scenario: a few reports at different markings from each node,
/// an exercise report, and a revocation. Returns how many were published.
pub async fn demo_scenario(cluster: &Cluster) -> Result<usize, crate::AppError> {
    use trilat_core::FurtherSharing;
    let note = demo_note;
    let mut n_published = 0;
    let mut publish = |party: &str, draft: ReportDraft| {
        n_published += 1;
        let state = cluster.state(party).clone();
        async move { crate::publish(&state, draft).await }
    };
    publish(
        "USA",
        note(
            "USA",
            "UNCLASSIFIED",
            Tlp::Green,
            &["TRILAT"],
            "Trilateral coordination call at 0900Z; all partners invited.",
        ),
    )
    .await?;
    publish(
        "USA",
        note(
            "USA",
            "SECRET",
            Tlp::Amber,
            &["USA", "JPN"],
            "US-Japan only: tanker loitering east of Shandong peninsula, AIS dark 14 h.",
        ),
    )
    .await?;
    let mut relayable = note(
        "JPN",
        "CONFIDENTIAL",
        Tlp::Green,
        &["TRILAT"],
        "JCG: suspected ship-to-ship transfer in the East China Sea; relay allowed within TRILAT.",
    );
    relayable.marking.further_sharing = FurtherSharing::WithinRelTo;
    publish("JPN", relayable).await?;
    publish(
        "JPN",
        note(
            "JPN",
            "SECRET",
            Tlp::Red,
            &["JPN", "KOR"],
            "GSOMIA: radar track correlation for the last launch, Japan and Korea only.",
        ),
    )
    .await?;
    let mut exercise = note(
        "KOR",
        "UNCLASSIFIED",
        Tlp::Green,
        &["TRILAT"],
        "EXERCISE EXERCISE EXERCISE: simulated launch warning drill.",
    );
    exercise.exercise = true;
    publish("KOR", exercise).await?;
    let withdrawn = publish(
        "KOR",
        note(
            "KOR",
            "CONFIDENTIAL",
            Tlp::Amber,
            &["TRILAT"],
            "Unconfirmed report, withdrawn after review.",
        ),
    )
    .await?;
    let kor = cluster.state("KOR").clone();
    crate::publish(&kor, withdrawn.revocation(crate::now())).await?;
    Ok(n_published + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names this module gives carry their id, and only those are
    /// read as such: an older name (16 hex digits) or another schema is
    /// never taken for a test's.
    #[test]
    fn test_object_names_give_their_id_and_process() {
        let id = object_id();
        assert_eq!(object_pid(&id), Some(std::process::id()));
        assert_eq!(
            schema_object_id(&format!("cluster_{id}_usa")),
            Some(id.as_str())
        );
        assert_eq!(
            schema_object_id(&format!("node_{id}_jpn")),
            Some(id.as_str())
        );
        assert_eq!(namespace_object_id(&format!("c{id}")), Some(id.as_str()));
        let input = format!("n{id}_TRILAT_JPN_INPUT_00000000000000ff");
        assert_eq!(stream_object_id(&input), Some(id.as_str()));
        assert_eq!(
            stream_object_id(&format!("c{id}_TRILAT_USA")),
            Some(id.as_str())
        );
        // An id beginning with the namespace's letter loses that letter only.
        assert_eq!(namespace_object_id("cc12"), Some("c12"));
        for other in [
            "p12r0000000",
            "p12r0000000g",
            "pr00000000",
            "p1x2r00000000",
            "0123456789abcdef",
        ] {
            assert_eq!(object_pid(other), None, "{other}");
        }
        assert_eq!(object_pid("p4242r0c0ffee"), None, "7 digits");
        assert_eq!(object_pid("p4242r00c0ffee"), Some(4242));
        for other in ["public", "cluster", "node_x", "trilat_usa"] {
            assert_eq!(
                schema_object_id(other).and_then(object_pid),
                None,
                "{other}"
            );
        }
        for other in ["TRILAT_USA", "c0123_OTHER", "KV_c1"] {
            assert_eq!(
                stream_object_id(other).and_then(object_pid),
                None,
                "{other}"
            );
        }
    }

    /// A process that ended leaves stale objects; this one's count only
    /// once dropped; a name of another form never does.
    #[test]
    fn leftovers_are_of_ended_processes_or_dropped_here() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let ended = child.id();
        child.wait().unwrap();
        assert!(is_stale(&format!("p{ended}r0000abcd")));
        let own = object_id();
        assert!(!is_stale(&own), "this process runs and did not drop it");
        DROPPED_IDS.lock().unwrap().push_back(own.clone());
        assert!(is_stale(&own));
        assert!(!is_stale("0123456789abcdef"));
    }
}
