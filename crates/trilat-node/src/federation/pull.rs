//! The pull task of one peer: fetch the peer's change feed after the
//! persisted cursor, judge and store each page, then move and persist the
//! cursor. While the peer says there is `more`, the next page is fetched
//! while the current one is judged and stored (signature checks and the
//! SQLite write overlap the peer's read, the transfer and JSON parsing);
//! the cursor still moves only after a page is stored, so a crash re-pulls
//! at most the pages in flight and idempotent receive absorbs them.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use trilat_store::AuditAction;
use trilat_sync::{Action, PeerLink, PullResult};

use super::link::{cursor_key, PeerClient};
use super::receive::receive;
use super::server::PeerChangesPage;
use crate::{audit_event, now_ms, Metrics};

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

/// A page being fetched ahead: the cursor it was asked after, and the fetch.
struct Prefetch {
    cursor: Option<String>,
    fetch: JoinHandle<Result<PeerChangesPage, PullError>>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // A prefetch nobody awaits any more (failure, cursor reset) stops.
        self.fetch.abort();
    }
}

/// Runs for the life of the node.
pub(super) async fn run(peer: Arc<PeerClient>, seed: u64) {
    let mut link = PeerLink::new(peer.party().clone(), peer.sync_config(), seed);
    restore_cursor(&peer, &mut link).await;
    let mut prefetch: Option<Prefetch> = None;
    loop {
        match link.next_action(now_ms()) {
            Action::Pull { cursor } => {
                Metrics::bump(&peer.state.metrics.pulls, 1);
                let fetched = match prefetch.take() {
                    Some(mut ahead) if ahead.cursor == cursor => (&mut ahead.fetch)
                        .await
                        .unwrap_or_else(|e| Err(PullError::Other(e.to_string()))),
                    _ => fetch(&peer, cursor).await,
                };
                let res = match fetched {
                    Ok(page) => {
                        if page.more {
                            prefetch = Some(fetch_ahead(&peer, &page.next));
                        }
                        store_page(&peer, page).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = &res {
                    tracing::debug!(peer = %peer.party(), error = %e.message(), "pull failed");
                    Metrics::bump(&peer.state.metrics.pull_failures, 1);
                    prefetch = None;
                }
                match res {
                    Ok(page) => link.pull_done(now_ms(), Ok(page)),
                    Err(PullError::Other(e)) => link.pull_done(now_ms(), Err(e)),
                    Err(PullError::BadCursor(e)) => {
                        link.pull_done(now_ms(), Err(e.clone()));
                        reset_cursor(&peer, &mut link, &e).await;
                        continue;
                    }
                }
                persist_cursor(&peer, &link).await;
            }
            Action::Idle { until_ms } => {
                let wait_ms = until_ms.saturating_sub(now_ms()).clamp(0, 60_000);
                tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
            }
            Action::Push(_) => {
                // Nothing is ever offered to this link.
                tracing::error!(peer = %peer.party(), "pull link asked for a push");
                debug_assert!(false, "pull link asked for a push");
                return;
            }
        }
    }
}

/// Starts fetching the page after `cursor` in its own task.
fn fetch_ahead(peer: &Arc<PeerClient>, cursor: &str) -> Prefetch {
    let cursor = Some(cursor.to_string());
    let peer_bg = peer.clone();
    let cursor_bg = cursor.clone();
    Prefetch {
        cursor,
        fetch: tokio::spawn(async move { fetch(&peer_bg, cursor_bg).await }),
    }
}

async fn restore_cursor(peer: &PeerClient, link: &mut PeerLink) {
    let store = peer.state.store.clone();
    let key = cursor_key(peer.party());
    let Ok(Ok(Some(cursor))) = tokio::task::spawn_blocking(move || store.sync_state(&key)).await
    else {
        return;
    };
    if cursor.is_empty() {
        // Reset earlier: pull from the start.
    } else if let Err(e) = trilat_store::Cursor::parse(&cursor) {
        reset_cursor(peer, link, &format!("persisted cursor is not usable: {e}")).await;
    } else {
        link.restore_cursor(cursor);
    }
}

async fn persist_cursor(peer: &PeerClient, link: &PeerLink) {
    let Some(cursor) = link.cursor() else {
        return;
    };
    let store = peer.state.store.clone();
    let key = cursor_key(peer.party());
    let cursor = cursor.to_string();
    match tokio::task::spawn_blocking(move || store.set_sync_state(&key, &cursor)).await {
        Ok(Ok(())) => {}
        // The page is stored; a stale persisted cursor costs a re-pull only.
        Ok(Err(e)) => tracing::warn!(peer = %peer.party(), %e, "persisting the pull cursor failed"),
        Err(e) => tracing::warn!(peer = %peer.party(), %e, "persisting the pull cursor failed"),
    }
}

/// Forgets the pull cursor, in the link and persisted, so the next pull
/// starts from the beginning of the peer's feed (idempotent receive makes
/// the re-pull safe). Logged and audited.
async fn reset_cursor(peer: &PeerClient, link: &mut PeerLink, reason: &str) {
    link.reset_cursor();
    let party = peer.party();
    tracing::warn!(peer = %party, reason, "pull cursor reset: pulling from the start");
    let store = peer.state.store.clone();
    let key = cursor_key(party);
    match tokio::task::spawn_blocking(move || store.set_sync_state(&key, "")).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(peer = %party, %e, "clearing the pull cursor failed"),
        Err(e) => tracing::error!(peer = %party, %e, "clearing the pull cursor failed"),
    }
    let mut detail = format!("pull cursor for {party} reset, pulling from the start: {reason}");
    crate::state::clip(&mut detail, 1024);
    let mut event = audit_event("federation", AuditAction::Other, detail);
    event.counterparty = Some(party.clone());
    peer.state.audit(event).await;
}

/// Judges and stores a fetched page (every report through the receive rule).
async fn store_page(peer: &PeerClient, page: PeerChangesPage) -> Result<PullResult, PullError> {
    let received = page.reports.len();
    receive(&peer.state, peer.party(), page.reports)
        .await
        .map_err(|e| PullError::Other(e.to_string()))?;
    Ok(PullResult {
        next_cursor: page.next,
        received,
        more: page.more,
    })
}

/// Fetches one page of the peer's change feed after `cursor`.
async fn fetch(peer: &PeerClient, cursor: Option<String>) -> Result<PeerChangesPage, PullError> {
    let limit = peer.state.config.limits.pull_page_max;
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
    let response = peer
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
    let body = read_bounded(response, peer.state.config.limits.body_bytes_max).await?;
    // Parsing a page of a thousand reports takes milliseconds: off the runtime.
    tokio::task::spawn_blocking(move || serde_json::from_slice::<PeerChangesPage>(&body))
        .await
        .map_err(|e| PullError::Other(e.to_string()))?
        .map_err(|e| PullError::Other(format!("pull page: {e}")))
}

/// The response body, refused once it passes `bytes_max` (a peer serves
/// pages under the same body limit, so a larger one is a fault).
async fn read_bounded(
    mut response: reqwest::Response,
    bytes_max: usize,
) -> Result<Vec<u8>, PullError> {
    let too_large = || PullError::Other(format!("pull page larger than {bytes_max} bytes"));
    if response
        .content_length()
        .is_some_and(|len| len > bytes_max as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| PullError::Other(e.to_string()))?
    {
        if body.len() + chunk.len() > bytes_max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
