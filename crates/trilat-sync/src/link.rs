//! Per-peer link state: what to do next with one partner node.
//!
//! A [`PeerLink`] is a small state machine the node drives: it asks
//! [`PeerLink::next_action`] what to do, performs it over HTTP, and reports
//! the outcome with [`PeerLink::push_done`] / [`PeerLink::pull_done`]. The
//! link never sleeps, reads a clock or touches the network; time comes in as
//! milliseconds and randomness (backoff jitter) from a caller-given seed, so
//! the simulation in `tests/` replays it exactly.
//!
//! Two directions, one link:
//! * **push** (low latency): local changes, as change-feed sequence numbers,
//!   queued by [`PeerLink::offer`] and sent in batches. The queue is bounded;
//!   on overflow, or after [`SyncConfig::push_attempts_max`] failed attempts,
//!   it is dropped. Nothing is lost: the peer pulls from its own cursor.
//! * **pull** (catch-up): every [`SyncConfig::pull_interval_ms`], and at once
//!   while the peer says there is `more`, fetch the peer's changes after the
//!   cursor. The cursor moves only on a successful pull, after the caller
//!   has stored the page, so a crash re-pulls a page and idempotent receive
//!   absorbs it.

use std::collections::VecDeque;

use trilat_core::Party;

/// Longest cursor a peer may hand back; a longer one counts as a failed pull.
pub const CURSOR_LEN_MAX: usize = 256;
/// Hard ceiling on any configured backoff, whatever the config says: 1 hour.
pub const BACKOFF_MS_CEILING: u64 = 3_600_000;

/// Bounds and timings of a link. Every growing thing has a `*_max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Most sequence numbers in one push.
    pub push_batch_max: usize,
    /// Most sequence numbers waiting to be pushed; on overflow the queue is
    /// dropped and the peer catches up by pulling.
    pub push_queue_max: usize,
    /// Most changes a peer serves in one pull page (the node passes it to
    /// the peer as the page limit).
    pub pull_page_max: usize,
    /// First backoff after a failure.
    pub backoff_ms_min: u64,
    /// Largest backoff (the doubling stops here).
    pub backoff_ms_max: u64,
    /// Time between pulls when the peer has nothing more.
    pub pull_interval_ms: u64,
    /// Most attempts at one push batch; after that the batch and the queue
    /// are dropped and the peer's pull delivers them.
    pub push_attempts_max: u32,
}

impl Default for SyncConfig {
    fn default() -> SyncConfig {
        SyncConfig {
            push_batch_max: 256,
            push_queue_max: 16_384,
            pull_page_max: 1_000,
            backoff_ms_min: 100,
            backoff_ms_max: 30_000,
            pull_interval_ms: 5_000,
            push_attempts_max: 5,
        }
    }
}

/// A configuration value out of range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("sync config: {field} = {value}: {reason}")]
pub struct ConfigError {
    /// The offending field.
    pub field: &'static str,
    /// Its value.
    pub value: u64,
    /// What is required.
    pub reason: &'static str,
}

impl SyncConfig {
    /// Checks that every bound is usable: sizes and counts at least 1,
    /// `backoff_ms_min <= backoff_ms_max <= BACKOFF_MS_CEILING`.
    /// [`PeerLink::new`] clamps a config that fails this, so a node should
    /// call it when reading its config file and refuse to start instead.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("push_batch_max", self.push_batch_max as u64),
            ("push_queue_max", self.push_queue_max as u64),
            ("pull_page_max", self.pull_page_max as u64),
            ("backoff_ms_min", self.backoff_ms_min),
            ("pull_interval_ms", self.pull_interval_ms),
            ("push_attempts_max", u64::from(self.push_attempts_max)),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ConfigError {
                    field,
                    value,
                    reason: "must be at least 1",
                });
            }
        }
        if self.backoff_ms_max < self.backoff_ms_min {
            return Err(ConfigError {
                field: "backoff_ms_max",
                value: self.backoff_ms_max,
                reason: "must be at least backoff_ms_min",
            });
        }
        if self.backoff_ms_max > BACKOFF_MS_CEILING {
            return Err(ConfigError {
                field: "backoff_ms_max",
                value: self.backoff_ms_max,
                reason: "must be at most 3600000 (1 hour)",
            });
        }
        Ok(())
    }

    /// The nearest valid config (used by [`PeerLink::new`]).
    fn clamped(mut self) -> SyncConfig {
        self.push_batch_max = self.push_batch_max.max(1);
        self.push_queue_max = self.push_queue_max.max(1);
        self.pull_page_max = self.pull_page_max.max(1);
        self.backoff_ms_min = self.backoff_ms_min.clamp(1, BACKOFF_MS_CEILING);
        self.backoff_ms_max = self
            .backoff_ms_max
            .clamp(self.backoff_ms_min, BACKOFF_MS_CEILING);
        self.pull_interval_ms = self.pull_interval_ms.clamp(1, BACKOFF_MS_CEILING);
        self.push_attempts_max = self.push_attempts_max.max(1);
        debug_assert!(self.validate().is_ok());
        self
    }
}

/// What the node should do next on a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the reports at these change-feed sequence numbers (at most
    /// `push_batch_max`, oldest first) to the peer, each filtered by
    /// [`crate::should_send`]; then call [`PeerLink::push_done`].
    Push(Vec<u64>),
    /// Fetch the peer's changes after `cursor` (`None`: from the start), at
    /// most `pull_page_max`; judge and store them; then call
    /// [`PeerLink::pull_done`].
    Pull {
        /// Where the previous pull stopped.
        cursor: Option<String>,
    },
    /// Nothing to do before `until_ms` (or before an [`PeerLink::offer`] or
    /// a `*_done` call, whichever comes first).
    Idle {
        /// When to ask again.
        until_ms: i64,
    },
}

/// The outcome of a successful pull, as the node saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullResult {
    /// The peer's cursor after this page.
    pub next_cursor: String,
    /// How many reports the page carried.
    pub received: usize,
    /// Whether the peer has more changes after `next_cursor`.
    pub more: bool,
}

/// Counters for metrics (Prometheus) and tests; they only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Push batches acknowledged by the peer.
    pub push_batches_ok: u64,
    /// Push attempts that failed.
    pub push_failures: u64,
    /// Sequence numbers dropped from the push side (queue overflow or
    /// attempts exhausted); the peer's pull delivers them.
    pub push_seqs_dropped: u64,
    /// Times the push queue overflowed.
    pub push_queue_overflows: u64,
    /// Pulls that succeeded.
    pub pulls_ok: u64,
    /// Pulls that failed (including a peer's over-long cursor).
    pub pull_failures: u64,
    /// Reports carried by successful pulls.
    pub pulled_reports: u64,
}

/// The state of one link from this node to one peer: the push queue, the
/// pull cursor and the backoff. Lost on restart except the cursor, which
/// the node persists (`store.set_sync_state`) and restores.
#[derive(Clone, Debug)]
pub struct PeerLink {
    peer: Party,
    config: SyncConfig,
    /// SplitMix64 state for backoff jitter.
    jitter_state: u64,
    push_queue: VecDeque<u64>,
    push_in_flight: Option<Vec<u64>>,
    /// Failed attempts at the batch at the head of the queue.
    push_attempts: u32,
    pull_in_flight: bool,
    pull_due_ms: i64,
    cursor: Option<String>,
    /// Consecutive failed exchanges with the peer (push or pull): a peer that
    /// is down is down for both directions, so they share one backoff.
    failures: u32,
    retry_at_ms: i64,
    stats: LinkStats,
}

impl PeerLink {
    /// A fresh link to `peer`. The first action is a pull from the start
    /// (or from a cursor given by [`PeerLink::restore_cursor`]). `config` is
    /// clamped to the nearest valid one (see [`SyncConfig::validate`]);
    /// `seed` drives backoff jitter (give each link its own, e.g. a hash of
    /// the peer's code and the start time).
    pub fn new(peer: Party, config: SyncConfig, seed: u64) -> PeerLink {
        PeerLink {
            peer,
            config: config.clamped(),
            jitter_state: seed,
            push_queue: VecDeque::new(),
            push_in_flight: None,
            push_attempts: 0,
            pull_in_flight: false,
            pull_due_ms: i64::MIN,
            cursor: None,
            failures: 0,
            retry_at_ms: i64::MIN,
            stats: LinkStats::default(),
        }
    }

    /// The peer this link talks to.
    pub fn peer(&self) -> &Party {
        &self.peer
    }

    /// The (clamped) config in force.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Counters for metrics.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Sequence numbers waiting to be pushed (not counting one in flight).
    pub fn push_queue_len(&self) -> usize {
        self.push_queue.len()
    }

    /// Consecutive failed exchanges (0 when the peer is reachable).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Queues a local change for pushing. If the queue is full it is dropped
    /// whole (the peer's pull will deliver everything from its cursor), and
    /// `seq` starts a fresh queue.
    pub fn offer(&mut self, seq: u64) {
        if self.push_queue.len() >= self.config.push_queue_max {
            self.drop_push_queue();
            self.stats.push_queue_overflows += 1;
        }
        self.push_queue.push_back(seq);
        assert!(self.push_queue.len() <= self.config.push_queue_max);
    }

    /// Asks for a pull as soon as the backoff allows (for example when the
    /// peer signals it has news, or an operator asks for a resync).
    pub fn request_pull(&mut self) {
        self.pull_due_ms = i64::MIN;
    }

    /// What to do now. At most one push and one pull are in flight at a
    /// time; call again after each action is started and after each
    /// `*_done`, until it answers [`Action::Idle`].
    pub fn next_action(&mut self, now_ms: i64) -> Action {
        if now_ms < self.retry_at_ms {
            return Action::Idle {
                until_ms: self.retry_at_ms,
            };
        }
        if self.push_in_flight.is_none() && !self.push_queue.is_empty() {
            let n = self.push_queue.len().min(self.config.push_batch_max);
            let batch: Vec<u64> = self.push_queue.drain(..n).collect();
            assert!(!batch.is_empty() && batch.len() <= self.config.push_batch_max);
            self.push_in_flight = Some(batch.clone());
            return Action::Push(batch);
        }
        if !self.pull_in_flight && now_ms >= self.pull_due_ms {
            self.pull_in_flight = true;
            return Action::Pull {
                cursor: self.cursor.clone(),
            };
        }
        let until_ms = if self.pull_in_flight {
            // Woken by a `*_done` call; ask again after an interval at the latest.
            now_ms.saturating_add(self.interval_ms())
        } else {
            self.pull_due_ms
        };
        debug_assert!(until_ms > now_ms);
        Action::Idle { until_ms }
    }

    /// The outcome of the last [`Action::Push`]. On failure the batch goes
    /// back to the head of the queue and the link backs off; after
    /// `push_attempts_max` failures the batch and queue are dropped.
    pub fn push_done(&mut self, now_ms: i64, result: Result<(), String>) {
        let Some(batch) = self.push_in_flight.take() else {
            debug_assert!(false, "push_done without a push in flight");
            return;
        };
        match result {
            Ok(()) => {
                self.stats.push_batches_ok += 1;
                self.push_attempts = 0;
                self.succeeded();
            }
            Err(_) => {
                self.stats.push_failures += 1;
                self.push_attempts += 1;
                self.failed(now_ms);
                if self.push_attempts >= self.config.push_attempts_max {
                    self.stats.push_seqs_dropped += batch.len() as u64;
                    self.drop_push_queue();
                    return;
                }
                for seq in batch.into_iter().rev() {
                    self.push_queue.push_front(seq);
                }
                if self.push_queue.len() > self.config.push_queue_max {
                    self.drop_push_queue();
                    self.stats.push_queue_overflows += 1;
                }
            }
        }
    }

    /// The outcome of the last [`Action::Pull`]. Call it only after every
    /// report of the page has been judged and the stored ones are durable;
    /// then persist [`PeerLink::cursor`].
    pub fn pull_done(&mut self, now_ms: i64, result: Result<PullResult, String>) {
        debug_assert!(self.pull_in_flight, "pull_done without a pull in flight");
        self.pull_in_flight = false;
        let page = match result {
            Ok(page) if page.next_cursor.len() <= CURSOR_LEN_MAX => page,
            Ok(_) | Err(_) => {
                self.stats.pull_failures += 1;
                self.failed(now_ms);
                self.pull_due_ms = self.retry_at_ms;
                return;
            }
        };
        self.stats.pulls_ok += 1;
        self.stats.pulled_reports += page.received as u64;
        self.cursor = Some(page.next_cursor);
        self.succeeded();
        self.pull_due_ms = if page.more {
            now_ms
        } else {
            now_ms.saturating_add(self.interval_ms())
        };
    }

    /// Where the next pull starts; persist it after each successful pull.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Restores a persisted cursor after a restart. A cursor longer than
    /// [`CURSOR_LEN_MAX`] cannot have come from this link and is ignored:
    /// pulling from the start is safe, only slower.
    pub fn restore_cursor(&mut self, cursor: String) {
        if cursor.len() <= CURSOR_LEN_MAX {
            self.cursor = Some(cursor);
        }
    }

    /// Forgets the cursor, so the next pull starts from the beginning of
    /// the peer's feed. For when the peer refuses the cursor as not its own
    /// (its store was rebuilt): without this the link would retry a dead
    /// cursor forever. Costs one full catch-up; idempotent receive makes it
    /// safe. Persist the absence (delete the saved cursor) too.
    pub fn reset_cursor(&mut self) {
        self.cursor = None;
        self.pull_due_ms = i64::MIN;
    }

    fn interval_ms(&self) -> i64 {
        i64::try_from(self.config.pull_interval_ms).unwrap_or(i64::MAX)
    }

    fn drop_push_queue(&mut self) {
        self.stats.push_seqs_dropped += self.push_queue.len() as u64;
        self.push_queue.clear();
        self.push_attempts = 0;
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at_ms = i64::MIN;
    }

    fn failed(&mut self, now_ms: i64) {
        self.failures = self.failures.saturating_add(1);
        let delay_ms = self.backoff_ms();
        assert!(delay_ms >= 1 && delay_ms <= self.config.backoff_ms_max);
        self.retry_at_ms = now_ms.saturating_add(delay_ms as i64);
    }

    /// "Equal jitter" exponential backoff: the capped doubling `base`, then
    /// a uniform draw from `[base/2, base]`, so retries of many nodes spread
    /// out but never come sooner than half the nominal delay.
    fn backoff_ms(&mut self) -> u64 {
        let doublings = self.failures.saturating_sub(1).min(32);
        let base = self
            .config
            .backoff_ms_min
            .saturating_mul(1u64 << doublings)
            .min(self.config.backoff_ms_max);
        let half = base / 2;
        let jitter = self.next_random() % (base - half + 1);
        (half + jitter).max(1)
    }

    /// SplitMix64: tiny, well mixed and deterministic; jitter needs no more.
    fn next_random(&mut self) -> u64 {
        self.jitter_state = self.jitter_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.jitter_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests;
