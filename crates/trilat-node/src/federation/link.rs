//! The link tasks. Each peer gets two tasks, so neither direction waits on
//! the other, and a third that holds the link's lease (see [`super::owner`]:
//! with several processes on one store, only the lease's holder drives
//! the link):
//!
//! * a **push** task ([`super::push`]) driving a [`trilat_sync::PushLink`],
//!   asleep on the peer's offer channel, woken by every local report
//!   [`super::Outbox::offer`]s, which sends what has queued up in one batch
//!   at once;
//! * a **pull** task ([`super::pull`]) driving a [`trilat_sync::PullLink`],
//!   which fetches the peer's change feed from a persisted cursor on its own
//!   schedule and, while the peer says there is `more`, fetches and judges
//!   pages ahead of the one being stored.
//!
//! The state machines decide; the tasks perform the I/O they ask for and
//! report the outcomes. This file holds what both tasks share: the peer's
//! HTTP client, signed requests, the link config and the body budget.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use trilat_core::{Party, Report};
use trilat_sync::SyncConfig;

use super::auth::sign_request;
use super::tls::{Identity, TlsError};
use crate::config::PeerConfig;
use crate::{now_ms, AppState};

/// Longest a peer request may take before it counts as failed.
const PEER_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts a push task and a pull task per configured peer; returns their
/// handles. `identity` is this node's TLS identity, which every `https://`
/// peer needs (config validation allows `http://` peers only on loopback,
/// for tests).
pub fn start(
    state: AppState,
    identity: Option<&Identity>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, TlsError> {
    let mut tasks = Vec::new();
    let holder = state.holder.to_string();
    for (idx, peer) in state.config.peers.iter().enumerate() {
        let client = client_for(peer, identity)?;
        let (sender, receiver) = mpsc::channel(state.config.limits.push_queue_max);
        state.outbox.register(peer.party.clone(), sender);
        let peer_client = Arc::new(PeerClient {
            state: state.clone(),
            peer: peer.clone(),
            client,
        });
        let seed = rand::random::<u64>() ^ idx as u64;
        let ownership = super::owner::link_ownership(&peer.party, holder.clone());
        tasks.push(tokio::spawn(crate::lease_owner::run(
            state.clone(),
            ownership.clone(),
        )));
        tasks.push(tokio::spawn(super::push::run(
            peer_client.clone(),
            receiver,
            ownership.clone(),
            seed,
        )));
        tasks.push(tokio::spawn(super::pull::run(
            peer_client,
            ownership,
            seed.rotate_left(32),
        )));
    }
    Ok(tasks)
}

/// The HTTP client of one peer: mutual TLS with its pinned certificate, or
/// plain HTTP where the config allows it (loopback tests).
fn client_for(peer: &PeerConfig, identity: Option<&Identity>) -> Result<reqwest::Client, TlsError> {
    let what = || format!("peer {} ({})", peer.party, peer.url);
    if !peer.url.starts_with("https://") {
        return reqwest::Client::builder()
            .timeout(PEER_REQUEST_TIMEOUT)
            .build()
            .map_err(|e| TlsError {
                what: what(),
                reason: e.to_string(),
            });
    }
    let pin = peer
        .cert_sha256
        .as_deref()
        .ok_or_else(|| "no cert_sha256".to_string())
        .and_then(super::tls::parse_pin)
        .map_err(|reason| TlsError {
            what: what(),
            reason,
        })?;
    let identity = identity.ok_or_else(|| TlsError {
        what: what(),
        reason: "this node has no TLS identity ([tls] cert_file, key_file)".into(),
    })?;
    super::tls::peer_client(identity, &peer.party, pin, PEER_REQUEST_TIMEOUT)
}

/// What both tasks of one peer share: the node, the peer and the peer's
/// HTTP client (its own connection pool: each peer has its own pinned
/// certificate).
pub(super) struct PeerClient {
    pub(super) state: AppState,
    pub(super) peer: PeerConfig,
    pub(super) client: reqwest::Client,
}

impl PeerClient {
    /// The link config from the node's limits.
    pub(super) fn sync_config(&self) -> SyncConfig {
        let limits = &self.state.config.limits;
        SyncConfig {
            push_batch_max: limits.push_batch_max,
            push_queue_max: limits.push_queue_max,
            pull_page_max: limits.pull_page_max,
            backoff_ms_min: limits.backoff_ms_min,
            backoff_ms_max: limits.backoff_ms_max,
            pull_interval_ms: limits.pull_interval_ms,
            push_attempts_max: limits.push_attempts_max,
            pull_pages_ahead: pull_pages_ahead(),
        }
    }

    /// The peer's party.
    pub(super) fn party(&self) -> &Party {
        &self.peer.party
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.peer.url.trim_end_matches('/'))
    }

    /// A request to the peer signed with this node's key.
    pub(super) fn signed(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> reqwest::RequestBuilder {
        let headers = sign_request(
            &self.state.key,
            &self.state.party,
            method.as_str(),
            path_and_query,
            &body,
            now_ms(),
        );
        let mut request = self.client.request(method, self.url(path_and_query));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        request
    }
}

/// Pull pages fetched and judged ahead of the one being stored: 2, or 0
/// with `TRILAT_FED_PIPELINE=off` (kept to compare the two in `trilat bench
/// federation`; both store the same).
fn pull_pages_ahead() -> usize {
    match std::env::var("TRILAT_FED_PIPELINE").as_deref() {
        Ok("off") => 0,
        _ => SyncConfig::default().pull_pages_ahead,
    }
}

/// The error a link task records while an administrator has suspended
/// the link ([`super::SuspendedLinks`]).
pub(super) const LINK_SUSPENDED: &str = "link suspended by an administrator";

/// Sequence number and report of one local change offered for push.
pub(super) type Offer = (u64, Arc<Report>);

/// The `sync_state` key of the persisted pull cursor for `peer`. An empty
/// value means "no cursor": pull from the start of the peer's feed.
pub fn cursor_key(peer: &Party) -> String {
    format!("pull-cursor:{peer}")
}

/// Bytes kept free under the body limit for the JSON envelope, headers and
/// any difference between this node's and the peer's serialization.
pub const BODY_MARGIN_BYTES: usize = 64 * 1024;

/// The largest push body or pull page this node builds when requests are
/// limited to `body_bytes_max`: an eighth or [`BODY_MARGIN_BYTES`] below it,
/// whichever is less, and never below 1 KiB.
pub fn body_budget(body_bytes_max: usize) -> usize {
    body_bytes_max
        .saturating_sub((body_bytes_max / 8).min(BODY_MARGIN_BYTES))
        .max(1024)
}

/// Splits a push batch into request bodies (`{"reports":[...]}`, the
/// serialization of [`super::PushBody`]) of at most `budget` bytes each,
/// in order. A single report larger than `budget` gets a body of its own
/// (the peer may refuse it with 413; its pull then brings it).
pub fn push_bodies(reports: &[&Report], budget: usize) -> Result<Vec<Vec<u8>>, String> {
    const HEAD: &[u8] = b"{\"reports\":[";
    const TAIL: &[u8] = b"]}";
    let mut bodies = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    for report in reports {
        let json = serde_json::to_vec(report).map_err(|e| e.to_string())?;
        let separator = usize::from(!body.is_empty());
        if !body.is_empty() && body.len() + separator + json.len() + TAIL.len() > budget {
            body.extend_from_slice(TAIL);
            bodies.push(std::mem::take(&mut body));
        }
        if body.is_empty() {
            body.extend_from_slice(HEAD);
        } else {
            body.push(b',');
        }
        body.extend_from_slice(&json);
    }
    if !body.is_empty() {
        body.extend_from_slice(TAIL);
        bodies.push(body);
    }
    Ok(bodies)
}
