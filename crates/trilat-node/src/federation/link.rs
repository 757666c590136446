//! One task per peer drives a [`PeerLink`]: push local reports as they are
//! stored, pull the peer's change feed from a persisted cursor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use trilat_core::{Party, Report};
use trilat_store::AuditAction;
use trilat_sync::{should_send, Action, PeerLink, PullResult, SyncConfig};

use super::auth::sign_request;
use super::receive::receive;
use super::server::PeerChangesPage;
use crate::config::PeerConfig;
use crate::{audit_event, now_ms, AppState, Metrics};

/// Longest a peer request may take before it counts as failed.
const PEER_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts one link task per configured peer; returns their handles.
pub fn start(state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let client = reqwest::Client::builder()
        .timeout(PEER_REQUEST_TIMEOUT)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new());
    let mut tasks = Vec::new();
    for (idx, peer) in state.config.peers.iter().enumerate() {
        let (sender, receiver) = mpsc::channel(state.config.limits.push_queue_max);
        state.outbox.register(peer.party.clone(), sender);
        let link = Link {
            state: state.clone(),
            peer: peer.clone(),
            client: client.clone(),
            pending: HashMap::new(),
        };
        let seed = rand::random::<u64>() ^ idx as u64;
        tasks.push(tokio::spawn(link.run(receiver, seed)));
    }
    tasks
}

struct Link {
    state: AppState,
    peer: PeerConfig,
    client: reqwest::Client,
    /// Reports offered for push by sequence, until pushed or dropped.
    pending: HashMap<u64, Arc<Report>>,
}

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

/// Why a pull failed.
enum PullError {
    /// The peer refused the cursor (`400 bad_cursor`, e.g. its store was
    /// rebuilt), or the persisted cursor cannot be sent: start over.
    BadCursor(String),
    /// Anything else: back off and retry from the same cursor.
    Other(String),
}

impl PullError {
    fn message(&self) -> &str {
        match self {
            PullError::BadCursor(m) | PullError::Other(m) => m,
        }
    }
}

impl Link {
    fn sync_config(&self) -> SyncConfig {
        let limits = &self.state.config.limits;
        SyncConfig {
            push_batch_max: limits.push_batch_max,
            push_queue_max: limits.push_queue_max,
            pull_page_max: limits.pull_page_max,
            backoff_ms_min: limits.backoff_ms_min,
            backoff_ms_max: limits.backoff_ms_max,
            pull_interval_ms: limits.pull_interval_ms,
            ..SyncConfig::default()
        }
    }

    async fn run(mut self, mut offers: mpsc::Receiver<(u64, Arc<Report>)>, seed: u64) {
        let mut link = PeerLink::new(self.peer.party.clone(), self.sync_config(), seed);
        let store = self.state.store.clone();
        let key = cursor_key(&self.peer.party);
        if let Ok(Ok(Some(cursor))) =
            tokio::task::spawn_blocking(move || store.sync_state(&key)).await
        {
            if cursor.is_empty() {
                // Reset earlier: pull from the start.
            } else if let Err(e) = trilat_store::Cursor::parse(&cursor) {
                self.reset_cursor(&mut link, &format!("persisted cursor is not usable: {e}"))
                    .await;
            } else {
                link.restore_cursor(cursor);
            }
        }
        let pending_max =
            self.state.config.limits.push_queue_max + self.state.config.limits.push_batch_max;
        loop {
            match link.next_action(now_ms()) {
                Action::Push(seqs) => {
                    let res = self.push(&seqs).await;
                    if res.is_ok() {
                        for seq in &seqs {
                            self.pending.remove(seq);
                        }
                    }
                    link.push_done(now_ms(), res);
                }
                Action::Pull { cursor } => {
                    let res = self.pull(cursor, link.config().pull_page_max).await;
                    match res {
                        Ok(page) => link.pull_done(now_ms(), Ok(page)),
                        Err(PullError::Other(e)) => link.pull_done(now_ms(), Err(e)),
                        Err(PullError::BadCursor(e)) => {
                            link.pull_done(now_ms(), Err(e.clone()));
                            self.reset_cursor(&mut link, &e).await;
                            continue;
                        }
                    }
                    if let Some(cursor) = link.cursor() {
                        let store = self.state.store.clone();
                        let key = cursor_key(&self.peer.party);
                        let cursor = cursor.to_string();
                        let _ = tokio::task::spawn_blocking(move || {
                            store.set_sync_state(&key, &cursor)
                        })
                        .await;
                    }
                }
                Action::Idle { until_ms } => {
                    let wait = Duration::from_millis(
                        until_ms.saturating_sub(now_ms()).clamp(0, 60_000) as u64,
                    );
                    tokio::select! {
                        offer = offers.recv() => {
                            let Some((seq, report)) = offer else { return };
                            self.accept(&mut link, seq, report, pending_max);
                            while let Ok((seq, report)) = offers.try_recv() {
                                self.accept(&mut link, seq, report, pending_max);
                            }
                        }
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    /// Forgets the pull cursor, in the link and persisted, so the next pull
    /// starts from the beginning of the peer's feed (idempotent receive
    /// makes the re-pull safe). Logged and audited.
    async fn reset_cursor(&self, link: &mut PeerLink, reason: &str) {
        link.reset_cursor();
        let peer = &self.peer.party;
        tracing::warn!(peer = %peer, reason, "pull cursor reset: pulling from the start");
        let store = self.state.store.clone();
        let key = cursor_key(peer);
        match tokio::task::spawn_blocking(move || store.set_sync_state(&key, "")).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(peer = %peer, %e, "clearing the pull cursor failed"),
            Err(e) => tracing::error!(peer = %peer, %e, "clearing the pull cursor failed"),
        }
        let mut detail = format!("pull cursor for {peer} reset, pulling from the start: {reason}");
        crate::state::clip(&mut detail, 1024);
        let mut event = audit_event("federation", AuditAction::Other, detail);
        event.counterparty = Some(peer.clone());
        self.state.audit(event).await;
    }

    fn accept(&mut self, link: &mut PeerLink, seq: u64, report: Arc<Report>, pending_max: usize) {
        if report.owner != self.state.party {
            return;
        }
        if !should_send(
            &report,
            &self.state.party,
            &self.peer.party,
            &self.state.policy,
        ) {
            return;
        }
        if self.pending.len() >= pending_max {
            // The link drops its queue on overflow too; the peer pulls instead.
            self.pending.clear();
        }
        self.pending.insert(seq, report);
        link.offer(seq);
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.peer.url.trim_end_matches('/'))
    }

    fn signed(
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

    async fn push(&self, seqs: &[u64]) -> Result<(), String> {
        let reports: Vec<&Report> = seqs
            .iter()
            .filter_map(|seq| self.pending.get(seq))
            .map(|report| report.as_ref())
            .collect();
        if reports.is_empty() {
            return Ok(());
        }
        let budget = body_budget(self.state.config.limits.body_bytes_max);
        let bodies = push_bodies(&reports, budget)?;
        let mut res = Ok(());
        for body in bodies {
            res = self.push_body(body).await;
            if res.is_err() {
                // The whole batch is retried; the peer absorbs what it has.
                break;
            }
        }
        match &res {
            Ok(()) => Metrics::bump(&self.state.metrics.reports_pushed, reports.len() as u64),
            Err(e) => {
                tracing::debug!(peer = %self.peer.party, error = %e, "push failed");
                Metrics::bump(&self.state.metrics.push_failures, 1);
            }
        }
        res
    }

    async fn push_body(&self, body: Vec<u8>) -> Result<(), String> {
        let response = self
            .signed(reqwest::Method::POST, "/peer/v1/push", body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("push answered {}", response.status()))
        }
    }

    async fn pull(&self, cursor: Option<String>, limit: usize) -> Result<PullResult, PullError> {
        Metrics::bump(&self.state.metrics.pulls, 1);
        let res = self.pull_page(cursor, limit).await;
        if let Err(e) = &res {
            tracing::debug!(peer = %self.peer.party, error = %e.message(), "pull failed");
            Metrics::bump(&self.state.metrics.pull_failures, 1);
        }
        res
    }

    async fn pull_page(
        &self,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<PullResult, PullError> {
        let path_and_query = match &cursor {
            // Cursors are `c1.<hex>.<hex>`: URL-safe as they are.
            Some(cursor)
                if cursor
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.') =>
            {
                format!("/peer/v1/changes?cursor={cursor}&limit={limit}")
            }
            Some(_) => {
                return Err(PullError::BadCursor(
                    "persisted cursor is not URL-safe".into(),
                ))
            }
            None => format!("/peer/v1/changes?limit={limit}"),
        };
        let response = self
            .signed(reqwest::Method::GET, &path_and_query, Vec::new())
            .send()
            .await
            .map_err(|e| PullError::Other(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let code = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|body| body["error"]["code"].as_str().map(str::to_string));
            let mut message = format!("pull answered {status}: {text}");
            crate::state::clip(&mut message, 512);
            return Err(
                if status.is_client_error() && code.as_deref() == Some("bad_cursor") {
                    PullError::BadCursor(message)
                } else {
                    PullError::Other(message)
                },
            );
        }
        let page: PeerChangesPage = response
            .json()
            .await
            .map_err(|e| PullError::Other(e.to_string()))?;
        let received = page.reports.len();
        receive(&self.state, &self.peer.party, page.reports)
            .await
            .map_err(|e| PullError::Other(e.to_string()))?;
        Ok(PullResult {
            next_cursor: page.next,
            received,
            more: page.more,
        })
    }
}
