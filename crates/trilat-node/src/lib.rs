//! The Trilat node: the only crate that speaks HTTP. It wires the report
//! store (`trilat-store`), the federation protocol (`trilat-sync`), the
//! engines and the TAXII server into one axum application.
//!
//! * [`Config`] — `trilat.toml`, validated on load.
//! * [`AppState`] — config, key, store, policy, kinds, tokens, the live
//!   stream's channel and the federation outbox, all behind `Arc`s.
//! * [`app`] — the router: the local API under `/api/v1` (tokens bound to a
//!   party and a role), `/taxii2/`, the engines' routes and the [`console`]
//!   (the web page at `/`). [`peer_app`] — the peer listener's: the peer
//!   endpoints under `/peer/v1` (mutual TLS with pinned certificates, and
//!   Ed25519-signed requests).
//! * [`publish`] — the one way a report is born here: sign as the node's
//!   party, validate, store with its audit entry, notify the live stream and
//!   the peers. The API and the engines both call it.
//! * [`federation`] — push on every local store, cursor-based pull for
//!   catch-up, and the receive path that applies the release rule again.
//! * [`serve`] / [`Node`] — bind, start federation and the engines, run.
//!
//! The release rule ([`trilat_core::Policy::release`]) is applied on every
//! read (API, stream, change feed), before every send and on every receive;
//! reads, releases and refusals are audited.
//!
//! A node in process, driven without a socket (as the API tests do): an
//! analyst's token writes a note, and the node signs and stores it with its
//! audit entry.
//!
//! ```
//! use std::sync::Arc;
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use tower::ServiceExt as _;
//! use trilat_core::{NodeKey, Party, Policy};
//! use trilat_node::config::{token_sha256, Role, TokenConfig};
//! use trilat_node::{app, AppState, Config};
//! use trilat_store::MemoryStore;
//!
//! let jpn = Party::new("JPN").unwrap();
//! let analyst = TokenConfig {
//!     sha256: token_sha256("analyst-secret"),
//!     party: jpn.clone(),
//!     role: Role::Analyst,
//!     name: "analyst-1".into(),
//! };
//! let config = Config {
//!     party: jpn,
//!     listen: "127.0.0.1:7400".parse().unwrap(),
//!     data_dir: "data".into(),
//!     key_file: "node.key".into(),
//!     policy: Policy::trilateral_default(),
//!     tls: Default::default(),
//!     peers: Vec::new(),
//!     parties: Vec::new(),
//!     tokens: vec![analyst],
//!     limits: Default::default(),
//!     taxii: None,
//!     engines: None,
//!     tak: Vec::new(),
//!     store: None,
//!     bus: None,
//!     bus_namespace: None,
//!     bus_tls: None,
//! };
//! config.validate().unwrap();
//! let state = AppState::new(config, NodeKey::generate(), Arc::new(MemoryStore::new()));
//!
//! let note = r#"{"kind": "note", "payload": {"text": "a vessel of interest"},
//!   "marking": {"level": "CONFIDENTIAL", "tlp": "AMBER", "rel_to": ["JPN", "USA"],
//!               "further_sharing": "none"}}"#;
//! let request = Request::post("/api/v1/reports")
//!     .header("authorization", "Bearer analyst-secret")
//!     .header("content-type", "application/json")
//!     .body(Body::from(note))
//!     .unwrap();
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! let response = runtime.block_on(app(state.clone()).oneshot(request)).unwrap();
//! assert_eq!(response.status(), StatusCode::CREATED);
//! let stored = state.store.changes(None, 10).unwrap().changes;
//! assert_eq!(stored.len(), 1);
//! assert_eq!(stored[0].report.owner, Party::new("JPN").unwrap());
//! ```
#![deny(missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;
use trilat_core::{NodeKey, Report, ReportDraft};
use trilat_store::{AuditAction, AuditEvent, PutOutcome};

mod api;
pub mod audit;
mod audit_commit;
pub mod bus;
pub mod client;
pub mod cluster;
pub mod config;
pub mod console;
mod console_api;
pub mod engines;
mod error;
pub mod exercise;
pub mod federation;
mod lease_owner;
pub mod node_tasks;
mod openapi;
mod openapi_domain;
mod openapi_exercise;
pub mod peer_status;
mod state;
pub mod tak;
pub mod taxii;

pub use api::ROUTES;
pub use config::{Config, ConfigError, ConnectionUrl, Role, StoreLocation};
pub use error::{AppError, JsonBody, QueryParams};
pub use state::{audit_event, now, now_ms, AppState, Caller, Metrics};

/// Every route the node serves, `(method, path)`: the API's and the peer
/// endpoints' ([`ROUTES`]), the engines' ([`engines::ROUTES`]), the
/// TAXII server's ([`taxii::ROUTES`]) and the console's page and files
/// ([`console::ROUTES`]). The OpenAPI document lists exactly these (a test
/// checks both ways, and that each is routed).
pub fn served_routes() -> Vec<(&'static str, &'static str)> {
    [
        ROUTES,
        engines::ROUTES,
        taxii::ROUTES,
        console::ROUTES,
        exercise::ROUTES,
    ]
    .concat()
}

/// The node's router: route table in [`api::router`], edge limits here.
///
/// Limits: request bodies above `limits.body_bytes_max` get 413; requests
/// beyond `limits.concurrency_max` in flight get 503; a request running
/// longer than `limits.request_timeout_ms` gets 503. The live stream is
/// exempt from the timeout and the concurrency limit (it is long-lived by
/// design; each subscriber's buffer is bounded instead).
pub fn app(state: AppState) -> Router {
    let limits = &state.config.limits;
    // Peers come in on the peer listener ([`peer_app`]); here only where
    // plain HTTP on loopback is allowed (tests), else a clear refusal.
    let peer_routes = if state.config.tls.allow_plain_http_loopback {
        federation::routes()
    } else {
        federation::tls::plain_http_refused_routes()
    };
    let bounded = api::router()
        .merge(console_api::routes())
        .merge(exercise::routes())
        .merge(peer_routes)
        .nest("/api/v1", engines::routes())
        .merge(taxii::routes())
        .merge(console::routes());
    Router::new()
        .merge(with_edge_limits(bounded, limits))
        .merge(api::stream_router())
        .nest("/api/v1", engines::stream_routes())
        .fallback(api::fallback)
        .layer(DefaultBodyLimit::max(limits.body_bytes_max))
        .layer(http_trace())
        .with_state(state)
}

/// The router of the peer listener (mutual TLS): the peer endpoints only,
/// with the edge limits of [`app`], and each request bound to the party
/// whose certificate its connection presented
/// ([`federation::tls::bind_party`]).
pub fn peer_app(state: AppState) -> Router {
    let limits = &state.config.limits;
    let peer_routes = federation::routes().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        federation::tls::bind_party,
    ));
    with_edge_limits(peer_routes, limits)
        .fallback(api::fallback)
        .layer(DefaultBodyLimit::max(limits.body_bytes_max))
        .layer(http_trace())
        .with_state(state)
}

/// The request trace. A 5xx answer is a warning: a node answers 503 while
/// its engines start or when it sheds load, and an internal error is
/// logged where it happens, with its detail, at error level
/// ([`AppError::internal`]).
fn http_trace() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    tower_http::trace::DefaultMakeSpan,
    tower_http::trace::DefaultOnRequest,
    tower_http::trace::DefaultOnResponse,
    tower_http::trace::DefaultOnBodyChunk,
    tower_http::trace::DefaultOnEos,
    tower_http::trace::DefaultOnFailure,
> {
    TraceLayer::new_for_http()
        .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN))
}

/// Load shedding, the concurrency limit and the request timeout of
/// `limits` around `router`.
fn with_edge_limits(router: Router<AppState>, limits: &config::Limits) -> Router<AppState> {
    let edge = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(edge_error))
        .load_shed()
        .concurrency_limit(limits.concurrency_max)
        .timeout(Duration::from_millis(limits.request_timeout_ms));
    router.layer(edge)
}

async fn edge_error(error: tower::BoxError) -> AppError {
    if error.is::<tower::timeout::error::Elapsed>() {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "request timed out",
        )
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "node is overloaded; retry later",
        )
    } else {
        AppError::internal(error)
    }
}

/// Publishes a report of this node's party: signs `draft` with the node key,
/// validates it against the policy and the kinds, stores it with its audit
/// entry (create, version or revoke), then offers it to the live stream and
/// to every peer. Engines call this; so does the API.
///
/// `draft.owner` must be the node's party (only the owner signs versions).
pub async fn publish(state: &AppState, draft: ReportDraft) -> Result<Report, AppError> {
    publish_as(state, draft, "node".into()).await
}

/// [`publish`] with the audit actor named (an API user, an engine).
pub async fn publish_as(
    state: &AppState,
    draft: ReportDraft,
    actor: String,
) -> Result<Report, AppError> {
    publish_in(state, state.store.clone(), draft, actor).await
}

/// [`publish_as`] into `store`: an owner's fenced store (docs/lease.md)
/// refuses the write once the lease is gone (`AppError` code `fenced`).
pub(crate) async fn publish_in(
    state: &AppState,
    store: Arc<dyn trilat_store::ReportStore>,
    draft: ReportDraft,
    actor: String,
) -> Result<Report, AppError> {
    if draft.owner != state.party {
        return Err(AppError::forbidden(format!(
            "this node signs for {}, not {}",
            state.party, draft.owner
        )));
    }
    let report = draft
        .sign(&state.key)
        .map_err(|e| AppError::bad_request("invalid_report", e.to_string()))?;
    report
        .validate(&state.policy, &state.kinds)
        .map_err(|e| AppError::bad_request("invalid_report", e.to_string()))?;
    let action = if report.revoked {
        AuditAction::Revoke
    } else if report.version == 1 {
        AuditAction::Create
    } else {
        AuditAction::Version
    };
    let audit = AuditEvent {
        at: now(),
        actor,
        action,
        report_id: Some(report.id),
        report_owner: Some(report.owner.clone()),
        counterparty: None,
        detail: format!("version {} {}", report.version, report.marking.banner()),
    };
    let stored = report.clone();
    let outcome = tokio::task::spawn_blocking(move || store.put(&stored, audit))
        .await
        .map_err(AppError::internal)??;
    if let PutOutcome::Stored { seq, current } = outcome {
        Metrics::bump(&state.metrics.reports_published, 1);
        let report = Arc::new(report.clone());
        if current {
            bus::announce_report(state, &report);
        }
        // With a bus, the follower offers it, as it does what the party's
        // other processes store: the link's owner pushes either.
        if state.bus.is_none() {
            state.outbox.offer(seq, report);
        }
    }
    Ok(report)
}

/// A running node: its address and the handle of its server task.
pub struct Node {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    /// The address of its peer listener (mutual TLS), if it has one.
    pub peer_addr: Option<SocketAddr>,
    /// The node's state (tests inspect the store through it).
    pub state: AppState,
    /// The server task; abort it to stop the node.
    pub server: tokio::task::JoinHandle<()>,
    /// The federation and engine tasks; aborted with [`Node::stop`].
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Node {
    /// Stops the server and every background task.
    pub fn stop(&self) {
        self.server.abort();
        for task in &self.tasks {
            task.abort();
        }
        self.state.tasks.abort_all();
    }

    /// Whether the server and every background task have finished (after
    /// [`Node::stop`], once the runtime dropped them).
    pub fn is_stopped(&self) -> bool {
        self.server.is_finished()
            && self.tasks.iter().all(|task| task.is_finished())
            && self.state.tasks.n_running() == 0
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Errors of starting a node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key file cannot be read or parsed.
    #[error("key file {path}: {reason}")]
    Key {
        /// The key file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The store cannot be opened.
    #[error("store: {0}")]
    Store(#[from] trilat_store::StoreError),
    /// The TLS identity or a peer's pin is unusable.
    #[error("tls: {0}")]
    Tls(#[from] federation::tls::TlsError),
    /// The party's bus cannot be started.
    #[error("bus: {0}")]
    Bus(String),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Reads a node key file (base64 secret).
pub fn read_key_file(path: &std::path::Path) -> Result<NodeKey, StartError> {
    let err = |reason: String| StartError::Key {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    NodeKey::from_secret_base64(&text).map_err(|e| err(e.to_string()))
}

/// Opens the store `config` names (SQLite in `config.data_dir` unless
/// `store` says otherwise) and reads the key file.
pub fn open(config: Config) -> Result<AppState, StartError> {
    let key = read_key_file(&config.key_file)?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| StartError::Key {
        path: config.data_dir.display().to_string(),
        reason: format!("cannot create data dir: {e}"),
    })?;
    let store: Arc<dyn trilat_store::ReportStore> = match config.store_location()? {
        config::StoreLocation::Sqlite(path) => Arc::new(trilat_store::SqliteStore::open(path)?),
        config::StoreLocation::Postgres(url) => Arc::new(trilat_store::PostgresStore::open(&url)?),
    };
    Ok(AppState::new(config, key, store))
}

/// Binds `addr` and serves the node: the router, federation and engines.
pub async fn serve(state: AppState, addr: SocketAddr) -> Result<Node, StartError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    serve_on(state, listener).await
}

/// Serves the node on a bound listener: the router, federation and engines;
/// binds the peer listener at `tls.listen` if the config has one.
pub async fn serve_on(
    state: AppState,
    listener: tokio::net::TcpListener,
) -> Result<Node, StartError> {
    let peer_listener = match state.config.tls.listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?,
        ),
        None => None,
    };
    serve_with(state, listener, peer_listener).await
}

/// Serves the node on bound listeners: the API's and, if given, the peer
/// listener (mutual TLS with the pinned peers), federation and engines.
pub async fn serve_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    peer_listener: Option<tokio::net::TcpListener>,
) -> Result<Node, StartError> {
    let bind_error = |source| StartError::Bind {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    };
    let addr = listener.local_addr().map_err(bind_error)?;
    let config = &state.config;
    let needs_identity = peer_listener.is_some()
        || config
            .peers
            .iter()
            .any(|peer| peer.url.starts_with("https://"));
    let identity = if needs_identity {
        Some(federation::tls::Identity::of_config(config)?)
    } else {
        None
    };
    let peer_server = match (peer_listener, &identity) {
        (Some(tcp), Some(identity)) => {
            let peer_addr = tcp.local_addr().map_err(bind_error)?;
            let pins = Arc::new(federation::tls::PinnedPeers::of_config(config));
            let tls = federation::tls::server_config(identity, pins.clone())?;
            let listener = federation::tls::PeerListener::new(tcp, tls, pins, state.clone())
                .map_err(bind_error)?;
            Some((peer_addr, listener))
        }
        _ => None,
    };
    let mut tasks = bus::start(&state).await?;
    // A link cut before a restart stays cut from its first step.
    federation::suspension::refresh(&state).await?;
    tasks.push(tokio::spawn(federation::suspension::follow(state.clone())));
    tasks.extend(federation::start(state.clone(), identity.as_ref())?);
    let router = app(state.clone());
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(%e, "server stopped");
        }
    });
    let mut peer_addr = None;
    if let Some((addr, listener)) = peer_server {
        peer_addr = Some(addr);
        let router = peer_app(state.clone())
            .into_make_service_with_connect_info::<federation::tls::PeerConn>();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(%e, "peer listener stopped");
            }
        }));
    }
    tasks.extend(tak::start(&state));
    let engines_state = state.clone();
    tasks.push(tokio::spawn(
        async move { engines::start(engines_state).await },
    ));
    Ok(Node {
        addr,
        peer_addr,
        state,
        server,
        tasks,
    })
}
