//! The pull task of one peer: the tokio driver of a
//! [`trilat_sync::PullLink`], which runs the page pipeline (fetched →
//! judged → stored) and decides what comes next, when to back off and
//! which pages to drop after a failure. The task performs each stage the
//! link asks for in a task of its own, so they overlap while the peer has
//! more (page N+2 fetched while N+1 is judged on every core and N is
//! stored in one SQLite transaction), and reports each outcome back. After
//! each stored page it persists the link's cursor, so a crash re-pulls at
//! most the pages in flight and idempotent receive absorbs them. It runs
//! only while this process owns the link (`owner.rs`); the page and the
//! cursor are written as owner, through the lease's fenced store.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinError, JoinHandle};
use trilat_store::{AuditAction, StoreError};
use trilat_sync::{FetchError, PageHead, PageId, PullAction, PullLink};

use super::link::{cursor_key, PeerClient, LINK_SUSPENDED};
use super::owner::{is_fenced, Owner, Ownership};
use super::receive::{judge, store_as, JudgedPage};
use super::server::{refuse_if_suspended, PeerChangesPage};
use crate::{audit_event, now_ms, AppError, Metrics};

/// This process's tenure on the link, as the pull task watches it.
type OwnedWatch = tokio::sync::watch::Receiver<Option<Arc<Owner>>>;

/// A page's verdicts, and whether the peer has more after it.
type Judged = (JudgedPage, bool);
type Link = PullLink<PeerChangesPage, Judged>;

/// The stages in flight: at most one of each (the link asks for no more).
#[derive(Default)]
struct Stages {
    fetching: Option<(PageId, JoinHandle<Result<PeerChangesPage, FetchError>>)>,
    judging: Option<(PageId, JoinHandle<Result<Judged, String>>)>,
    /// A stored page's result says whether the peer has more.
    storing: Option<(PageId, JoinHandle<Result<bool, AppError>>)>,
}

impl Stages {
    /// Stops the work of pages the link dropped after a failure.
    fn forget_dropped(&mut self, link: &Link) {
        if let Some((page, fetch)) = &self.fetching {
            if !link.holds(*page) {
                fetch.abort();
                self.fetching = None;
            }
        }
        if let Some((page, judging)) = &self.judging {
            if !link.holds(*page) {
                judging.abort();
                self.judging = None;
            }
        }
    }
}

/// Runs for the life of the node: stands by while another process owns
/// the link, drives it while this process does.
pub(super) async fn run(peer: Arc<PeerClient>, ownership: Arc<Ownership>, seed: u64) {
    let mut owned = ownership.subscribe();
    while let Some(owner) = super::owner::owned(&mut owned).await {
        let mut stages = Stages::default();
        drive(&peer, (&ownership, &owner, &mut owned), &mut stages, seed).await;
        // The tenure ended: what is in flight is dropped (a store already
        // running is refused by the fence).
        for task in [
            stages.fetching.map(|(_, task)| task.abort_handle()),
            stages.judging.map(|(_, task)| task.abort_handle()),
            stages.storing.map(|(_, task)| task.abort_handle()),
        ]
        .into_iter()
        .flatten()
        {
            task.abort();
        }
    }
}

/// Drives the link for one tenure of this process, from the cursor the
/// store holds (the previous owner's, whichever process that was).
async fn drive(
    peer: &Arc<PeerClient>,
    (ownership, owner, owned): (&Ownership, &Arc<Owner>, &mut OwnedWatch),
    stages: &mut Stages,
    seed: u64,
) {
    let mut link: Link = PullLink::new(peer.party().clone(), peer.sync_config(), seed);
    restore_cursor(peer, owner, &mut link).await;
    while ownership.holds(owner) {
        let until_ms = start_stages(peer, owner, &mut link, stages).await;
        let wait_ms = until_ms.saturating_sub(now_ms()).clamp(0, 60_000);
        tokio::select! {
            (page, res) = join(&mut stages.fetching), if stages.fetching.is_some() => {
                stages.fetching = None;
                let res = flatten(res, FetchError::Failed).map(|fetched| (head(&fetched), fetched));
                if let Err(e) = &res {
                    failed(peer, e.message());
                }
                link.fetched(now_ms(), page, res);
            }
            (page, res) = join(&mut stages.judging), if stages.judging.is_some() => {
                stages.judging = None;
                let res = flatten(res, |e| e);
                if let Err(e) = &res {
                    failed(peer, e);
                }
                link.judged(now_ms(), page, res);
            }
            (page, res) = join(&mut stages.storing), if stages.storing.is_some() => {
                stages.storing = None;
                let res = flatten(res, AppError::internal);
                match &res {
                    Ok(more) => peer.state.peer_status.pull_done(peer.party(), now_ms(), Ok(*more)),
                    Err(e) if is_fenced(e) => {
                        ownership.lose(&peer.state, owner, &e.message).await;
                    }
                    Err(e) => failed(peer, &e.to_string()),
                }
                let res = res.map(|_| ()).map_err(|e| e.to_string());
                link.stored(now_ms(), page, res.clone());
                if res.is_ok() {
                    if let Some(cursor) = link.cursor() {
                        persist_cursor(peer, (ownership, owner), cursor.to_string()).await;
                    }
                }
            }
            _ = owned.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
        }
        stages.forget_dropped(&link);
    }
}

/// Starts every stage the link asks for; returns when to ask again.
async fn start_stages(
    peer: &Arc<PeerClient>,
    owner: &Arc<Owner>,
    link: &mut Link,
    stages: &mut Stages,
) -> i64 {
    loop {
        match link.next_action(now_ms()) {
            PullAction::Fetch { page, after } => {
                Metrics::bump(&peer.state.metrics.pulls, 1);
                let peer_bg = peer.clone();
                let task = tokio::spawn(async move { fetch(&peer_bg, after).await });
                assert!(stages.fetching.replace((page, task)).is_none(), "one fetch");
            }
            PullAction::Judge { page, fetched } => {
                let peer_bg = peer.clone();
                let task = tokio::spawn(async move {
                    let more = fetched.more;
                    let (state, party) = (&peer_bg.state, peer_bg.party());
                    judge(state, party, fetched.reports, fetched.withdrawals)
                        .await
                        .map(|judged| (judged, more))
                        .map_err(|e| e.to_string())
                });
                assert!(
                    stages.judging.replace((page, task)).is_none(),
                    "one judgement"
                );
            }
            PullAction::Store {
                page,
                judged: (judged, more),
            } => {
                let (peer_bg, owner_bg) = (peer.clone(), owner.clone());
                let task = tokio::spawn(async move {
                    // A page fetched before an administrator suspended the
                    // link is not stored: a suspended link takes nothing in.
                    // The cursor stays, so the page is pulled after resume.
                    refuse_if_suspended(&peer_bg.state, peer_bg.party())?;
                    // As the link's owner: refused once the lease is gone.
                    store_as(&peer_bg.state, owner_bg.store.clone(), judged)
                        .await
                        .map(|_| more)
                });
                assert!(stages.storing.replace((page, task)).is_none(), "one store");
            }
            PullAction::ResetCursor { reason } => reset_cursor(peer, owner, link, &reason).await,
            PullAction::Idle { until_ms } => return until_ms,
        }
    }
}

/// What the link needs to know of a fetched page.
fn head(page: &PeerChangesPage) -> PageHead {
    PageHead {
        next_cursor: page.next.clone(),
        received: page.reports.len(),
        more: page.more,
    }
}

/// Records a failed stage of a pull (metrics, the health board, the log).
fn failed(peer: &PeerClient, error: &str) {
    tracing::debug!(peer = %peer.party(), error, "pull failed");
    Metrics::bump(&peer.state.metrics.pull_failures, 1);
    peer.state
        .peer_status
        .pull_done(peer.party(), now_ms(), Err(error));
}

async fn join<T>(slot: &mut Option<(PageId, JoinHandle<T>)>) -> (PageId, Result<T, JoinError>) {
    let (page, task) = slot.as_mut().expect("joined only when in flight");
    (*page, task.await)
}

/// A stage's result, with a task that panicked or was cancelled as a failure.
fn flatten<T, E>(
    res: Result<Result<T, E>, JoinError>,
    error: impl Fn(String) -> E,
) -> Result<T, E> {
    res.unwrap_or_else(|e| Err(error(format!("pull stage: {e}"))))
}

async fn restore_cursor(peer: &PeerClient, owner: &Owner, link: &mut Link) {
    let store = peer.state.store.clone();
    let key = cursor_key(peer.party());
    let Ok(Ok(Some(cursor))) = tokio::task::spawn_blocking(move || store.sync_state(&key)).await
    else {
        return;
    };
    if cursor.is_empty() {
        // Reset earlier: pull from the start.
    } else if let Err(e) = trilat_store::Cursor::parse(&cursor) {
        let reason = format!("persisted cursor is not usable: {e}");
        reset_cursor(peer, owner, link, &reason).await;
    } else {
        link.restore_cursor(cursor);
    }
}

/// Persists the cursor as the link's owner: refused once the lease is
/// gone, which ends the tenure.
async fn persist_cursor(
    peer: &PeerClient,
    (ownership, owner): (&Ownership, &Arc<Owner>),
    cursor: String,
) {
    let store = owner.store.clone();
    let key = cursor_key(peer.party());
    match tokio::task::spawn_blocking(move || store.set_sync_state(&key, &cursor)).await {
        Ok(Ok(())) => {}
        Ok(Err(StoreError::Fenced(reason))) => {
            ownership.lose(&peer.state, owner, &reason).await;
        }
        // The page is stored; a stale persisted cursor costs a re-pull only.
        Ok(Err(e)) => tracing::warn!(peer = %peer.party(), %e, "persisting the pull cursor failed"),
        Err(e) => tracing::warn!(peer = %peer.party(), %e, "persisting the pull cursor failed"),
    }
}

/// Forgets the pull cursor, in the link and persisted, so the next pull
/// starts from the beginning of the peer's feed (idempotent receive makes
/// the re-pull safe). Audited first: if the entry cannot be written, the
/// cursor stays and the next pull (refused again) retries the reset.
async fn reset_cursor(peer: &PeerClient, owner: &Owner, link: &mut Link, reason: &str) {
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
    let store = owner.store.clone();
    let key = cursor_key(party);
    match tokio::task::spawn_blocking(move || store.set_sync_state(&key, "")).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(peer = %party, %e, "clearing the pull cursor failed"),
        Err(e) => tracing::error!(peer = %party, %e, "clearing the pull cursor failed"),
    }
}

/// Fetches one page of the peer's change feed after `cursor`.
async fn fetch(peer: &PeerClient, cursor: Option<String>) -> Result<PeerChangesPage, FetchError> {
    if peer.state.suspended.contains(peer.party()) {
        return Err(FetchError::Failed(LINK_SUSPENDED.into()));
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
            return Err(FetchError::BadCursor(
                "persisted cursor is not URL-safe".into(),
            ))
        }
        None => format!("/peer/v1/changes?limit={limit}"),
    };
    let response = peer
        .signed(reqwest::Method::GET, &path_and_query, Vec::new())
        .send()
        .await
        .map_err(|e| FetchError::Failed(super::tls::error_chain(&e)))?;
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
                FetchError::BadCursor(message)
            } else {
                FetchError::Failed(message)
            },
        );
    }
    let body = read_bounded(response, peer.state.config.limits.body_bytes_max).await?;
    // Parsing a page of a thousand reports takes milliseconds: off the runtime.
    tokio::task::spawn_blocking(move || serde_json::from_slice::<PeerChangesPage>(&body))
        .await
        .map_err(|e| FetchError::Failed(e.to_string()))?
        .map_err(|e| FetchError::Failed(format!("pull page: {e}")))
}

/// The response body, refused once it passes `bytes_max` (a peer serves
/// pages under the same body limit, so a larger one is a fault).
async fn read_bounded(
    mut response: reqwest::Response,
    bytes_max: usize,
) -> Result<Vec<u8>, FetchError> {
    let too_large = || FetchError::Failed(format!("pull page larger than {bytes_max} bytes"));
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
        .map_err(|e| FetchError::Failed(e.to_string()))?
    {
        if body.len() + chunk.len() > bytes_max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
