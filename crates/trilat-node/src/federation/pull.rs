//! The pull task of one peer: fetch the peer's change feed after the
//! persisted cursor, judge and store each page, then move and persist the
//! cursor. While the peer says there is `more`, the pages go through a
//! pipeline of three stages that overlap:
//!
//! 1. page N+2 is fetched (the peer's read, the transfer, JSON parsing);
//! 2. page N+1 is judged (owner signatures in batches on every core, the
//!    receive rule), see [`super::receive::JudgedPage`] for why judging
//!    ahead of page N's commit is safe;
//! 3. page N is stored (one SQLite transaction) on its own blocking thread.
//!
//! Pages are stored in order, one at a time. The persisted cursor moves
//! only after a page is stored, so a crash re-pulls at most the pages in
//! flight and idempotent receive absorbs them. If storing page N fails,
//! page N+1 (judged, not stored) is dropped and the link goes back to the
//! cursor before page N: nothing is lost, nothing stored twice.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use trilat_store::AuditAction;
use trilat_sync::{Action, PeerLink, PullResult};

use super::link::{cursor_key, PeerClient, LINK_SUSPENDED};
use super::receive::{judge, store, JudgedPage};
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

/// A page being stored while the next one is judged: the cursor it was
/// pulled after (where the link goes back to if storing fails), the cursor
/// it ends at (persisted once it is stored), and the store task.
struct Storing {
    cursor_before: Option<String>,
    next: String,
    task: JoinHandle<Result<(), PullError>>,
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
    let mut storing: Option<Storing> = None;
    loop {
        match link.next_action(now_ms()) {
            Action::Pull { cursor } => {
                Metrics::bump(&peer.state.metrics.pulls, 1);
                let fetched = match prefetch.take() {
                    Some(mut ahead) if ahead.cursor == cursor => (&mut ahead.fetch)
                        .await
                        .unwrap_or_else(|e| Err(PullError::Other(e.to_string()))),
                    _ => fetch(&peer, cursor.clone()).await,
                };
                let res = pull_page(&peer, fetched, cursor, &mut prefetch, &mut storing).await;
                let outcome = match &res {
                    Ok((page, _)) => Ok(page.more),
                    Err(failure) => Err(failure.error.message()),
                };
                peer.state
                    .peer_status
                    .pull_done(peer.party(), now_ms(), outcome);
                if let Err(e) = &res {
                    tracing::debug!(peer = %peer.party(), error = %e.error.message(), "pull failed");
                    Metrics::bump(&peer.state.metrics.pull_failures, 1);
                    prefetch = None;
                }
                let stored_now = match res {
                    Ok((page, stored_now)) => {
                        link.pull_done(now_ms(), Ok(page));
                        stored_now
                    }
                    Err(PullFailure { error, rewind_to }) => {
                        if let Some(cursor_before) = rewind_to {
                            rewind(&mut link, cursor_before);
                        }
                        match error {
                            PullError::Other(e) => link.pull_done(now_ms(), Err(e)),
                            PullError::BadCursor(e) => {
                                link.pull_done(now_ms(), Err(e.clone()));
                                reset_cursor(&peer, &mut link, &e).await;
                                continue;
                            }
                        }
                        false
                    }
                };
                if stored_now {
                    if let Some(cursor) = link.cursor() {
                        persist_cursor(&peer, cursor.to_string()).await;
                    }
                }
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

/// A failed pull, and where the link's cursor must go back to: set when a
/// page whose cursor the link had already passed failed to store.
struct PullFailure {
    error: PullError,
    rewind_to: Option<Option<String>>,
}

impl From<PullError> for PullFailure {
    fn from(error: PullError) -> PullFailure {
        PullFailure {
            error,
            rewind_to: None,
        }
    }
}

/// Puts the link's cursor back to where a page that failed to store was
/// pulled from, so the next pull fetches it again.
fn rewind(link: &mut PeerLink, cursor_before: Option<String>) {
    match &cursor_before {
        Some(cursor) => link.restore_cursor(cursor.clone()),
        None => link.reset_cursor(),
    }
    // Pair assertion with the pull that fetched the page: same cursor again.
    debug_assert_eq!(link.cursor(), cursor_before.as_deref());
}

/// One step of the pipeline for a fetched page (see the module docs):
/// judge it while the previous page is being stored, wait for that store
/// (persisting its cursor), then store this page, in the background if
/// more pages follow, or at once if it is the last. Returns the page's
/// outcome for the link and whether it is already stored.
async fn pull_page(
    peer: &Arc<PeerClient>,
    fetched: Result<PeerChangesPage, PullError>,
    cursor_before: Option<String>,
    prefetch: &mut Option<Prefetch>,
    storing: &mut Option<Storing>,
) -> Result<(PullResult, bool), PullFailure> {
    let judged = match fetched {
        Ok(page) => {
            if page.more {
                *prefetch = Some(fetch_ahead(peer, &page.next));
            }
            let received = page.reports.len();
            let judged = judge(&peer.state, peer.party(), page.reports, page.withdrawals)
                .await
                .map_err(|e| PullError::Other(e.to_string()));
            judged.map(|judged| (judged, page.next, page.more, received))
        }
        Err(e) => Err(e),
    };
    // Pages are stored in order: the previous one first, whatever happened
    // to this one.
    finish_storing(peer, storing).await?;
    let (judged, next, more, received) = judged?;
    let page = PullResult {
        next_cursor: next.clone(),
        received,
        more,
    };
    if !more || !pipelined() {
        store_judged(peer, judged).await?;
        return Ok((page, true));
    }
    let peer_bg = peer.clone();
    *storing = Some(Storing {
        cursor_before,
        next,
        task: tokio::spawn(async move { store_judged(&peer_bg, judged).await }),
    });
    Ok((page, false))
}

/// Whether pages are stored in the background while the next is judged
/// (the default) or each at once (`TRILAT_FED_PIPELINE=off`, kept to
/// compare the two in `trilat bench federation`; both store the same).
fn pipelined() -> bool {
    static PIPELINED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PIPELINED.get_or_init(|| std::env::var("TRILAT_FED_PIPELINE").as_deref() != Ok("off"))
}

/// Waits for the page being stored, if any, and persists its cursor. On
/// failure the link must go back to where that page was pulled from.
async fn finish_storing(
    peer: &PeerClient,
    storing: &mut Option<Storing>,
) -> Result<(), PullFailure> {
    let Some(mut in_flight) = storing.take() else {
        return Ok(());
    };
    let stored = (&mut in_flight.task)
        .await
        .unwrap_or_else(|e| Err(PullError::Other(format!("storing a page: {e}"))));
    match stored {
        Ok(()) => {
            persist_cursor(peer, std::mem::take(&mut in_flight.next)).await;
            Ok(())
        }
        Err(error) => Err(PullFailure {
            error,
            rewind_to: Some(in_flight.cursor_before.take()),
        }),
    }
}

/// Stores a judged page (the receive rule's verdicts).
async fn store_judged(peer: &PeerClient, judged: JudgedPage) -> Result<(), PullError> {
    store(&peer.state, judged)
        .await
        .map(|_| ())
        .map_err(|e| PullError::Other(e.to_string()))
}

async fn persist_cursor(peer: &PeerClient, cursor: String) {
    let store = peer.state.store.clone();
    let key = cursor_key(peer.party());
    match tokio::task::spawn_blocking(move || store.set_sync_state(&key, &cursor)).await {
        Ok(Ok(())) => {}
        // The page is stored; a stale persisted cursor costs a re-pull only.
        Ok(Err(e)) => tracing::warn!(peer = %peer.party(), %e, "persisting the pull cursor failed"),
        Err(e) => tracing::warn!(peer = %peer.party(), %e, "persisting the pull cursor failed"),
    }
}

/// Forgets the pull cursor, in the link and persisted, so the next pull
/// starts from the beginning of the peer's feed (idempotent receive makes
/// the re-pull safe). Audited first: if the entry cannot be written, the
/// cursor stays and the next pull (refused again) retries the reset.
async fn reset_cursor(peer: &PeerClient, link: &mut PeerLink, reason: &str) {
    let party = peer.party();
    let detail = format!("pull cursor for {party} reset, pulling from the start: {reason}");
    let mut event = audit_event("federation", AuditAction::Other, detail);
    event.counterparty = Some(party.clone());
    if let Err(e) = peer.state.audit(event).await {
        tracing::error!(peer = %party, %e, "pull cursor not reset: the audit log failed");
        return;
    }
    link.reset_cursor();
    tracing::warn!(peer = %party, reason, "pull cursor reset: pulling from the start");
    let store = peer.state.store.clone();
    let key = cursor_key(party);
    match tokio::task::spawn_blocking(move || store.set_sync_state(&key, "")).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(peer = %party, %e, "clearing the pull cursor failed"),
        Err(e) => tracing::error!(peer = %party, %e, "clearing the pull cursor failed"),
    }
}

/// Fetches one page of the peer's change feed after `cursor`.
async fn fetch(peer: &PeerClient, cursor: Option<String>) -> Result<PeerChangesPage, PullError> {
    if peer.state.suspended.contains(peer.party()) {
        return Err(PullError::Other(LINK_SUSPENDED.into()));
    }
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
        .map_err(|e| PullError::Other(super::tls::error_chain(&e)))?;
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
    // Sized up front when the peer says how long the body is (it does for
    // a page): no regrowing and copying of a megabyte page.
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .map_or(0, |len| (len as usize).min(bytes_max)),
    );
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
