//! The pull link: catch-up from one peer's change feed, as a pipeline of
//! pages, each **fetched → judged → stored**.
//!
//! The node asks [`PullLink::next_action`] what to do and performs it:
//! fetch the page after a cursor ([`PullAction::Fetch`]), judge a fetched
//! page ([`PullAction::Judge`], with [`crate::judge_page`]), store a judged
//! one ([`PullAction::Store`]); then reports each outcome
//! ([`PullLink::fetched`], [`PullLink::judged`], [`PullLink::stored`]).
//! The link holds the pages between stages (`F` fetched, `J` judged: the
//! caller's types), so a page the link drops is gone.
//!
//! While the peer says there is `more`, up to
//! [`SyncConfig::pull_pages_ahead`] pages are fetched and judged ahead of
//! the one being stored, so the transfer, the signature checks and the
//! store's commit overlap. Judging ahead of the previous page's commit is
//! safe: a verdict depends on what is held only for version order, and the
//! store applies version order again inside its write.
//!
//! Pages are stored one at a time, in feed order. The **cursor** (where
//! the next pull starts, persisted by the caller) moves only when a page is
//! stored, so a crash re-pulls at most the pages in flight, and idempotent
//! receive absorbs them. If any stage of a page fails, that page and every
//! page after it are dropped and the link backs off; the next fetch starts
//! again from the cursor: nothing is lost, nothing is skipped.

use std::collections::VecDeque;

use trilat_core::Party;

use crate::backoff::Backoff;
use crate::{SyncConfig, CURSOR_LEN_MAX};

/// Names one page of one pull link (increasing; never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageId(u64);

/// What the node should do next on a pull link.
#[derive(Debug, PartialEq, Eq)]
pub enum PullAction<F, J> {
    /// Fetch the peer's changes after `after` (`None`: from the start), at
    /// most [`SyncConfig::pull_page_max`]; then call [`PullLink::fetched`].
    Fetch {
        /// The page being fetched.
        page: PageId,
        /// The cursor the page starts after.
        after: Option<String>,
    },
    /// Judge the fetched page ([`crate::judge_page`]); then call
    /// [`PullLink::judged`].
    Judge {
        /// The page.
        page: PageId,
        /// Its content, as the caller handed it to [`PullLink::fetched`].
        fetched: F,
    },
    /// Store the judged page; then call [`PullLink::stored`] and, on
    /// success, persist [`PullLink::cursor`].
    Store {
        /// The page.
        page: PageId,
        /// Its verdicts, as the caller handed them to [`PullLink::judged`].
        judged: J,
    },
    /// The peer refused the cursor as not its own (its store was rebuilt):
    /// audit it, forget the persisted cursor and call
    /// [`PullLink::reset_cursor`]. Asked once per refusal; if the caller
    /// cannot reset, the next pull is refused again and asks again.
    ResetCursor {
        /// The peer's answer.
        reason: String,
    },
    /// Nothing to start before `until_ms`, or before an outcome is reported.
    Idle {
        /// When to ask again at the latest.
        until_ms: i64,
    },
}

/// What a fetched page is, as far as the link is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageHead {
    /// The peer's cursor after this page.
    pub next_cursor: String,
    /// How many reports the page carries.
    pub received: usize,
    /// Whether the peer has more changes after `next_cursor`.
    pub more: bool,
}

/// Why a fetch failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The peer refused the cursor as not its own: start over from the
    /// beginning of its feed.
    BadCursor(String),
    /// Anything else (network, timeout, a bad page): retry later.
    Failed(String),
}

impl FetchError {
    /// The error's message.
    pub fn message(&self) -> &str {
        match self {
            FetchError::BadCursor(m) | FetchError::Failed(m) => m,
        }
    }
}

/// Counters for metrics and tests; they only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PullStats {
    /// Pages fetched.
    pub pages_fetched: u64,
    /// Pages stored (each moved the cursor).
    pub pages_stored: u64,
    /// Fetches started while an earlier page was not yet stored.
    pub pages_ahead: u64,
    /// Failed fetches, judgements and store writes.
    pub failures: u64,
    /// Pages dropped because a page before them failed.
    pub pages_dropped: u64,
    /// Reports carried by stored pages.
    pub reports_stored: u64,
}

#[derive(Debug)]
enum Stage<F, J> {
    Fetching,
    Fetched(F),
    Judging,
    Judged(J),
    Storing,
}

#[derive(Debug)]
struct Page<F, J> {
    id: PageId,
    after: Option<String>,
    /// Known once fetched.
    head: Option<PageHead>,
    stage: Stage<F, J>,
}

/// The pull direction of one link. Survives a restart only through the
/// cursor, which the caller persists after each stored page and restores
/// with [`PullLink::restore_cursor`].
#[derive(Debug)]
pub struct PullLink<F, J> {
    peer: Party,
    config: SyncConfig,
    backoff: Backoff,
    /// Every page before it is stored.
    cursor: Option<String>,
    /// Pages not yet stored, in feed order; at most `1 + pull_pages_ahead`.
    pages: VecDeque<Page<F, J>>,
    next_page: u64,
    pull_due_ms: i64,
    reset_reason: Option<String>,
    stats: PullStats,
}

impl<F, J> PullLink<F, J> {
    /// A pull link from `peer`; the first pull starts at once, from the
    /// start of the peer's feed or from [`PullLink::restore_cursor`].
    /// `config` is clamped; `seed` drives backoff jitter.
    pub fn new(peer: Party, config: SyncConfig, seed: u64) -> PullLink<F, J> {
        let config = config.clamped();
        PullLink {
            peer,
            backoff: Backoff::new(config.backoff_ms_min, config.backoff_ms_max, seed),
            config,
            cursor: None,
            pages: VecDeque::new(),
            next_page: 0,
            pull_due_ms: i64::MIN,
            reset_reason: None,
            stats: PullStats::default(),
        }
    }

    /// The peer this link pulls from.
    pub fn peer(&self) -> &Party {
        &self.peer
    }

    /// The (clamped) config in force.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Counters for metrics.
    pub fn stats(&self) -> PullStats {
        self.stats
    }

    /// Consecutive failures (0 when the peer is reachable).
    pub fn failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// Where the next pull from scratch starts: every page before it is
    /// stored. Persist it after each [`PullLink::stored`] success.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Whether `page` is still in the pipeline (a caller running stages
    /// concurrently stops the work of a page the link has dropped).
    pub fn holds(&self, page: PageId) -> bool {
        self.pages.iter().any(|p| p.id == page)
    }

    /// Restores a persisted cursor after a restart. A cursor longer than
    /// [`CURSOR_LEN_MAX`] cannot have come from the peer and is ignored:
    /// pulling from the start is safe, only slower.
    pub fn restore_cursor(&mut self, cursor: String) {
        debug_assert!(self.pages.is_empty(), "restored before the first pull");
        if cursor.len() <= CURSOR_LEN_MAX {
            self.cursor = Some(cursor);
        }
    }

    /// Forgets the cursor, so the next pull starts from the beginning of
    /// the peer's feed (after [`PullAction::ResetCursor`]). Costs one full
    /// catch-up; idempotent receive makes it safe. Pages in the pipeline,
    /// pulled after the forgotten cursor, are dropped.
    pub fn reset_cursor(&mut self) {
        self.pages.clear();
        self.cursor = None;
        self.pull_due_ms = i64::MIN;
    }

    /// Asks for a pull as soon as the backoff allows.
    pub fn request_pull(&mut self) {
        self.pull_due_ms = i64::MIN;
    }

    /// What to do now. Call again after each action is started and after
    /// each outcome, until it answers [`PullAction::Idle`].
    pub fn next_action(&mut self, now_ms: i64) -> PullAction<F, J> {
        if let Some(action) = self.next_store().or_else(|| self.next_judge()) {
            return action;
        }
        if self.pages.is_empty() {
            if let Some(reason) = self.reset_reason.take() {
                return PullAction::ResetCursor { reason };
            }
        }
        if let Some(until_ms) = self.backoff.waiting_until(now_ms) {
            return PullAction::Idle { until_ms };
        }
        if let Some(action) = self.next_fetch(now_ms) {
            return action;
        }
        let until_ms = if self.pages.is_empty() {
            self.pull_due_ms
        } else {
            // Woken by an outcome; ask again after an interval at the latest.
            now_ms.saturating_add(self.interval_ms())
        };
        debug_assert!(until_ms > now_ms);
        PullAction::Idle { until_ms }
    }

    /// The oldest page, once judged (only the oldest is ever stored, so
    /// one store at a time, in order).
    fn next_store(&mut self) -> Option<PullAction<F, J>> {
        let oldest = self.pages.front_mut()?;
        if !matches!(oldest.stage, Stage::Judged(_)) {
            return None;
        }
        let Stage::Judged(judged) = std::mem::replace(&mut oldest.stage, Stage::Storing) else {
            unreachable!("matched above");
        };
        Some(PullAction::Store {
            page: oldest.id,
            judged,
        })
    }

    /// The first fetched page, while no page is being judged (judging uses
    /// every core already).
    fn next_judge(&mut self) -> Option<PullAction<F, J>> {
        if self.pages.iter().any(|p| matches!(p.stage, Stage::Judging)) {
            return None;
        }
        let page = self
            .pages
            .iter_mut()
            .find(|p| matches!(p.stage, Stage::Fetched(_)))?;
        let Stage::Fetched(fetched) = std::mem::replace(&mut page.stage, Stage::Judging) else {
            unreachable!("found above");
        };
        Some(PullAction::Judge {
            page: page.id,
            fetched,
        })
    }

    /// A fetch: the first page when a pull is due, or the page after the
    /// newest one while the peer says there is more and the pipeline has
    /// room. One fetch at a time.
    fn next_fetch(&mut self, now_ms: i64) -> Option<PullAction<F, J>> {
        let after = match self.pages.back() {
            None if now_ms >= self.pull_due_ms => self.cursor.clone(),
            None => return None,
            Some(newest) => match &newest.head {
                Some(head) if head.more && self.pages.len() <= self.config.pull_pages_ahead => {
                    Some(head.next_cursor.clone())
                }
                _ => return None,
            },
        };
        if !self.pages.is_empty() {
            self.stats.pages_ahead += 1;
        }
        let id = PageId(self.next_page);
        self.next_page += 1;
        self.pages.push_back(Page {
            id,
            after: after.clone(),
            head: None,
            stage: Stage::Fetching,
        });
        assert!(self.pages.len() <= 1 + self.config.pull_pages_ahead);
        Some(PullAction::Fetch { page: id, after })
    }

    /// The outcome of a [`PullAction::Fetch`]. An outcome for a page the
    /// link has dropped (a late answer) is ignored.
    pub fn fetched(
        &mut self,
        now_ms: i64,
        page: PageId,
        result: Result<(PageHead, F), FetchError>,
    ) {
        let Some(idx) = self.index_of(page) else {
            return;
        };
        if !matches!(self.pages[idx].stage, Stage::Fetching) {
            debug_assert!(false, "fetched twice");
            return;
        }
        match result {
            // A peer's over-long cursor could not be persisted: a failure.
            Ok((head, _)) if head.next_cursor.len() > CURSOR_LEN_MAX => self.fail(now_ms, idx),
            Ok((head, fetched)) => {
                self.stats.pages_fetched += 1;
                let entry = &mut self.pages[idx];
                entry.head = Some(head);
                entry.stage = Stage::Fetched(fetched);
            }
            Err(FetchError::BadCursor(reason)) => {
                if self.pages[idx].after == self.cursor {
                    self.reset_reason = Some(reason);
                }
                self.fail(now_ms, idx);
            }
            Err(FetchError::Failed(_)) => self.fail(now_ms, idx),
        }
    }

    /// The outcome of a [`PullAction::Judge`]: the verdicts to store, or
    /// why the page could not be judged (it is dropped, and the pages
    /// after it; the link backs off and pulls them again).
    pub fn judged(&mut self, now_ms: i64, page: PageId, result: Result<J, String>) {
        let Some(idx) = self.index_of(page) else {
            return;
        };
        if !matches!(self.pages[idx].stage, Stage::Judging) {
            debug_assert!(false, "judged without a judgement in flight");
            return;
        }
        match result {
            Ok(judged) => self.pages[idx].stage = Stage::Judged(judged),
            Err(_) => self.fail(now_ms, idx),
        }
    }

    /// The outcome of a [`PullAction::Store`]. On success the cursor moves
    /// past the page: persist [`PullLink::cursor`]. On failure the cursor
    /// stays, the page and those after it are dropped and the link backs
    /// off (a partly written page is absorbed by idempotent receive).
    pub fn stored(&mut self, now_ms: i64, page: PageId, result: Result<(), String>) {
        if self.index_of(page) != Some(0) || !matches!(self.pages[0].stage, Stage::Storing) {
            debug_assert!(false, "stored a page that was not being stored");
            return;
        }
        if result.is_err() {
            self.fail(now_ms, 0);
            return;
        }
        let stored = self.pages.pop_front().expect("index 0 exists");
        let head = stored.head.expect("a stored page was fetched");
        // Pair assertion with the fetch: the page started at the cursor.
        assert_eq!(stored.after, self.cursor, "pages are stored in order");
        self.cursor = Some(head.next_cursor);
        self.stats.pages_stored += 1;
        self.stats.reports_stored += head.received as u64;
        self.backoff.succeeded();
        if self.pages.is_empty() {
            self.pull_due_ms = if head.more {
                now_ms
            } else {
                now_ms.saturating_add(self.interval_ms())
            };
        }
    }

    fn index_of(&self, page: PageId) -> Option<usize> {
        self.pages.iter().position(|p| p.id == page)
    }

    /// A stage of the page at `idx` failed: it and every page after it go;
    /// the next pull starts from the stored cursor after the backoff.
    fn fail(&mut self, now_ms: i64, idx: usize) {
        assert!(idx < self.pages.len());
        self.stats.failures += 1;
        self.stats.pages_dropped += (self.pages.len() - idx - 1) as u64;
        self.pages.truncate(idx);
        self.backoff.failed(now_ms);
        self.pull_due_ms = self.backoff.retry_at_ms();
    }

    fn interval_ms(&self) -> i64 {
        i64::try_from(self.config.pull_interval_ms).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests;
