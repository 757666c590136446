//! The node's shared state ([`AppState`]), the caller extractor ([`Caller`])
//! and the counters behind `/metrics`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tokio::sync::broadcast;
use trilat_core::{KindRegistry, NodeKey, Party, Policy, PublicKey, Report, Timestamp};
use trilat_store::{
    AuditAction, AuditEvent, ReportStore, AUDIT_ACTOR_LEN_MAX, AUDIT_DETAIL_LEN_MAX,
};

use crate::config::{token_sha256, Config, Role, TokenConfig};
use crate::federation::{Outbox, SuspendedLinks};
use crate::AppError;

/// Everything a handler, an engine or a federation task needs. Cheap to
/// clone: every field is an `Arc` (or as cheap).
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The party this node speaks for (`config.party`).
    pub party: Party,
    /// The node's signing key: signs its party's reports and its peer requests.
    pub key: Arc<NodeKey>,
    /// The report store (SQLite in production, in-memory in some tests).
    pub store: Arc<dyn ReportStore>,
    /// The sharing policy (`config.policy`).
    pub policy: Arc<Policy>,
    /// The kinds this node accepts: core's plus the engines'.
    pub kinds: Arc<KindRegistry>,
    /// Public keys of every party whose reports may be held, this node's included.
    pub keys: Arc<BTreeMap<Party, PublicKey>>,
    /// API tokens by the SHA-256 of the bearer token.
    pub tokens: Arc<HashMap<String, TokenConfig>>,
    /// Newly stored current versions, for the live stream (`/api/v1/stream`).
    pub live: broadcast::Sender<Arc<Report>>,
    /// Copies withdrawn by their owners (the copy held, the withdrawal), for
    /// the live stream's `withdrawn` events.
    pub withdrawn: broadcast::Sender<Arc<(Report, trilat_core::Withdrawal)>>,
    /// Local changes waiting to be pushed to each peer.
    pub outbox: Arc<Outbox>,
    /// Counters exported at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The domain engines' live state (screener, AIS analyser, missile
    /// tracker), set once by [`crate::engines::start`].
    pub engines: Arc<crate::engines::EngineSlot>,
    /// The TAXII server's config, collection index and status resources.
    pub taxii: Arc<crate::taxii::TaxiiState>,
    /// What the federation tasks last saw of each peer.
    pub peer_status: Arc<crate::peer_status::PeerStatusBoard>,
    /// The peers whose link an administrator has suspended.
    pub suspended: Arc<SuspendedLinks>,
    /// Exercise runs under way and their after-action reports.
    pub exercises: Arc<crate::exercise::Exercises>,
    /// The party's internal bus (`config.bus`), when the node runs as
    /// several processes: [`crate::bus`].
    pub bus: Option<Arc<crate::bus::Bus>>,
    /// The audit entries of concurrent requests, committed together.
    audit_commit: Arc<crate::audit_commit::AuditCommit>,
    /// This process's name as a lease holder (`PARTY-PID-RANDOM`): the
    /// leases it takes on peer links and engine partitions carry it.
    pub holder: Arc<str>,
    /// The background tasks started for this node (engine partitions,
    /// feeds), stopped with it.
    pub tasks: Arc<crate::node_tasks::NodeTasks>,
}

impl AppState {
    /// Builds the state of a node from its config, key and store. Registers
    /// core's kinds and the engines' ([`crate::engines::register_kinds`]).
    pub fn new(config: Config, key: NodeKey, store: Arc<dyn ReportStore>) -> AppState {
        let mut kinds = KindRegistry::with_core_kinds();
        crate::engines::register_kinds(&mut kinds);
        let mut keys = config.known_keys();
        keys.insert(config.party.clone(), key.public_key());
        let tokens = config
            .tokens
            .iter()
            .map(|token| (token.sha256.clone(), token.clone()))
            .collect();
        let (live, _) = broadcast::channel(config.limits.stream_buffer_max);
        let (withdrawn, _) = broadcast::channel(config.limits.stream_buffer_max);
        let config_taxii = config.taxii.clone();
        let holder = crate::lease_owner::holder_name(&config.party).into();
        let metrics = Arc::new(Metrics::default());
        let audit_commit = Arc::new(crate::audit_commit::AuditCommit::new(
            config.limits.audit_group_max,
            metrics.clone(),
        ));
        let peer_status = Arc::new(crate::peer_status::PeerStatusBoard::new(&config.peers));
        let bus = config.bus.as_ref().map(|url| {
            let namespace = config.bus_namespace.as_deref();
            Arc::new(crate::bus::Bus::new(
                url.as_str(),
                config.party.clone(),
                namespace,
            ))
        });
        AppState {
            party: config.party.clone(),
            policy: Arc::new(config.policy.clone()),
            config: Arc::new(config),
            key: Arc::new(key),
            store,
            kinds: Arc::new(kinds),
            keys: Arc::new(keys),
            tokens: Arc::new(tokens),
            live,
            withdrawn,
            outbox: Arc::new(Outbox::default()),
            metrics,
            engines: Arc::default(),
            taxii: Arc::new(crate::taxii::TaxiiState::new(config_taxii.as_ref())),
            peer_status,
            suspended: Arc::default(),
            exercises: Arc::default(),
            bus,
            audit_commit,
            holder,
            tasks: Arc::default(),
        }
    }

    /// The public key of `party`'s node, if known.
    pub fn key_of(&self, party: &Party) -> Option<PublicKey> {
        self.keys.get(party).copied()
    }

    /// Appends an audit entry. Fails closed: an entry that cannot be
    /// written is a 500 `internal` for the caller, who must then release
    /// nothing (the entry is written before the answer that it records).
    /// Actor and detail are clipped to the store's bounds (they may quote
    /// untrusted input), so only a store fault makes this fail.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), AppError> {
        self.audit_all(vec![event]).await
    }

    /// Appends several audit entries in one transaction, all or none (the
    /// parts of one release: [`crate::audit::release_events`]); fails
    /// closed as [`AppState::audit`] does. The entries of requests made at
    /// the same time share the transaction ([`crate::audit_commit`]), each
    /// request's together and in order.
    pub async fn audit_all(&self, mut events: Vec<AuditEvent>) -> Result<(), AppError> {
        if events.is_empty() {
            return Ok(());
        }
        for event in &mut events {
            clip(&mut event.actor, AUDIT_ACTOR_LEN_MAX);
            clip(&mut event.detail, AUDIT_DETAIL_LEN_MAX);
        }
        self.audit_commit
            .append(&self.store, events)
            .await
            .map_err(|e| AppError::internal(format!("audit append failed: {e}")))
    }
}

/// Now, as a report timestamp.
pub fn now() -> Timestamp {
    Timestamp::from_unix_ms(now_ms())
}

/// Now, in ms since the Unix epoch.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// An audit event at `now` with no report.
pub fn audit_event(actor: &str, action: AuditAction, detail: impl Into<String>) -> AuditEvent {
    AuditEvent {
        at: now(),
        actor: actor.to_string(),
        action,
        report_id: None,
        report_owner: None,
        counterparty: None,
        detail: detail.into(),
    }
}

/// The authenticated local user of a request (`Authorization: Bearer …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The party the user reads and writes as.
    pub party: Party,
    /// What the user may do.
    pub role: Role,
    /// The token's name.
    pub name: String,
}

impl Caller {
    /// `PARTY:name`, the actor in audit entries.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.party, self.name)
    }

    /// 403 unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this needs the {role:?} role; the token has {:?}",
                self.role
            )))
        }
    }
}

/// Longest bearer token accepted.
const TOKEN_LEN_MAX: usize = 256;

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, AppError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| AppError::unauthorized("missing Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty() && token.len() <= TOKEN_LEN_MAX)
            .ok_or_else(|| AppError::unauthorized("expected Authorization: Bearer <token>"))?;
        let config = state
            .tokens
            .get(&token_sha256(token))
            .ok_or_else(|| AppError::unauthorized("unknown token"))?;
        Ok(Caller {
            party: config.party.clone(),
            role: config.role,
            name: config.name.clone(),
        })
    }
}

/// Monotonic counters, rendered in the Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    /// Reports created, versioned or revoked here.
    pub reports_published: AtomicU64,
    /// Reports received from peers and stored.
    pub reports_received: AtomicU64,
    /// Reports received again (duplicates, older versions).
    pub reports_duplicate: AtomicU64,
    /// Reports refused on receive.
    pub reports_refused: AtomicU64,
    /// Reports pushed to peers.
    pub reports_pushed: AtomicU64,
    /// Push requests that failed.
    pub push_failures: AtomicU64,
    /// Pull requests made to peers.
    pub pulls: AtomicU64,
    /// Pull requests that failed.
    pub pull_failures: AtomicU64,
    /// Peer requests refused (signature, clock, replay).
    pub peer_requests_refused: AtomicU64,
    /// Reports delivered on live streams.
    pub stream_events: AtomicU64,
    /// Audit transactions committed by the group commit
    /// ([`AppState::audit_all`]).
    pub audit_commits: AtomicU64,
    /// Audit entries they wrote.
    pub audit_entries: AtomicU64,
}

impl Metrics {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let counters = [
            (
                "trilat_reports_published_total",
                "Reports created, versioned or revoked here.",
                &self.reports_published,
            ),
            (
                "trilat_reports_received_total",
                "Reports received from peers and stored.",
                &self.reports_received,
            ),
            (
                "trilat_reports_duplicate_total",
                "Reports received again (duplicates, older versions).",
                &self.reports_duplicate,
            ),
            (
                "trilat_reports_refused_total",
                "Reports refused on receive.",
                &self.reports_refused,
            ),
            (
                "trilat_reports_pushed_total",
                "Reports pushed to peers.",
                &self.reports_pushed,
            ),
            (
                "trilat_push_failures_total",
                "Push requests that failed.",
                &self.push_failures,
            ),
            (
                "trilat_pulls_total",
                "Pull requests made to peers.",
                &self.pulls,
            ),
            (
                "trilat_pull_failures_total",
                "Pull requests that failed.",
                &self.pull_failures,
            ),
            (
                "trilat_peer_requests_refused_total",
                "Peer requests refused (signature, clock, replay).",
                &self.peer_requests_refused,
            ),
            (
                "trilat_stream_events_total",
                "Reports delivered on live streams.",
                &self.stream_events,
            ),
            (
                "trilat_audit_commits_total",
                "Audit transactions committed (entries of concurrent requests grouped).",
                &self.audit_commits,
            ),
            (
                "trilat_audit_entries_total",
                "Audit entries written by those transactions.",
                &self.audit_entries,
            ),
        ];
        let mut text = String::new();
        for (name, help, counter) in counters {
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} counter");
            let _ = writeln!(text, "{name} {}", counter.load(Ordering::Relaxed));
        }
        text
    }
}

/// Shortens `text` to at most `len_max` bytes on a character boundary
/// (audit details quote untrusted input).
pub fn clip(text: &mut String, len_max: usize) {
    if text.len() > len_max {
        let mut end = len_max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}
