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
//! schemas and the streams are dropped with the [`Cluster`]. `scripts/test`
//! runs the cluster tests a second time so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
        drop(self.cleanup.take());
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
        if let Err(e) = crate::bus::delete_namespace_streams(&self.nats, namespaces) {
            tracing::warn!(%e, "a test node's streams were not deleted");
        }
    }
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
        let id = format!("{:016x}", rand::random::<u64>());
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
        let cluster_id = format!("{:016x}", rand::random::<u64>());
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
