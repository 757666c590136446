//! One task per peer drives a [`PeerLink`]: push local reports as they are
//! stored, pull the peer's change feed from a persisted cursor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use trilat_core::{Party, Report};
use trilat_sync::{should_send, Action, PeerLink, PullResult, SyncConfig};

use super::auth::sign_request;
use super::receive::receive;
use super::server::{PeerChangesPage, PushBody};
use crate::config::PeerConfig;
use crate::{now_ms, AppState, Metrics};

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

fn cursor_key(peer: &Party) -> String {
    format!("pull-cursor:{peer}")
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
            link.restore_cursor(cursor);
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
                    link.pull_done(now_ms(), res);
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
        let reports: Vec<Report> = seqs
            .iter()
            .filter_map(|seq| self.pending.get(seq))
            .map(|report| report.as_ref().clone())
            .collect();
        if reports.is_empty() {
            return Ok(());
        }
        let n_reports = reports.len() as u64;
        let body = serde_json::to_vec(&PushBody { reports }).map_err(|e| e.to_string())?;
        let res = self
            .signed(reqwest::Method::POST, "/peer/v1/push", body)
            .send()
            .await
            .map_err(|e| e.to_string())
            .and_then(|response| {
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("push answered {}", response.status()))
                }
            });
        match &res {
            Ok(()) => Metrics::bump(&self.state.metrics.reports_pushed, n_reports),
            Err(e) => {
                tracing::debug!(peer = %self.peer.party, error = %e, "push failed");
                Metrics::bump(&self.state.metrics.push_failures, 1);
            }
        }
        res
    }

    async fn pull(&self, cursor: Option<String>, limit: usize) -> Result<PullResult, String> {
        Metrics::bump(&self.state.metrics.pulls, 1);
        let res = self.pull_page(cursor, limit).await;
        if let Err(e) = &res {
            tracing::debug!(peer = %self.peer.party, error = %e, "pull failed");
            Metrics::bump(&self.state.metrics.pull_failures, 1);
        }
        res
    }

    async fn pull_page(&self, cursor: Option<String>, limit: usize) -> Result<PullResult, String> {
        let path_and_query = match &cursor {
            // Cursors are `c1.<hex>.<hex>`: URL-safe as they are.
            Some(cursor)
                if cursor
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.') =>
            {
                format!("/peer/v1/changes?cursor={cursor}&limit={limit}")
            }
            Some(_) => return Err("persisted cursor is not URL-safe".into()),
            None => format!("/peer/v1/changes?limit={limit}"),
        };
        let response = self
            .signed(reqwest::Method::GET, &path_and_query, Vec::new())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("pull answered {}", response.status()));
        }
        let page: PeerChangesPage = response.json().await.map_err(|e| e.to_string())?;
        let received = page.reports.len();
        receive(&self.state, &self.peer.party, page.reports)
            .await
            .map_err(|e| e.to_string())?;
        Ok(PullResult {
            next_cursor: page.next,
            received,
            more: page.more,
        })
    }
}
