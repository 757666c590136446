//! The bounds and timings of the federation's links, shared by
//! [`crate::PushLink`] and [`crate::PullLink`].

/// Longest cursor a peer may hand back; a longer one counts as a failed pull.
pub const CURSOR_LEN_MAX: usize = 256;
/// Hard ceiling on any configured backoff, whatever the config says: 1 hour.
pub const BACKOFF_MS_CEILING: u64 = 3_600_000;
/// Most pull pages a link fetches and judges ahead of the one it stores.
pub const PULL_PAGES_AHEAD_MAX: usize = 4;

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
    /// Pull pages fetched and judged ahead of the page being stored: 2
    /// fetches page N+2 and judges N+1 while N is stored; 0 takes one page
    /// at a time. At most [`PULL_PAGES_AHEAD_MAX`].
    pub pull_pages_ahead: usize,
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
            pull_pages_ahead: 2,
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
    /// [`crate::PushLink::new`] and [`crate::PullLink::new`] clamp a config that
    /// fails this, so a node should
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
        if self.pull_pages_ahead > PULL_PAGES_AHEAD_MAX {
            return Err(ConfigError {
                field: "pull_pages_ahead",
                value: self.pull_pages_ahead as u64,
                reason: "must be at most 4",
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

    /// The nearest valid config (used by the links' constructors).
    pub(crate) fn clamped(mut self) -> SyncConfig {
        self.push_batch_max = self.push_batch_max.max(1);
        self.push_queue_max = self.push_queue_max.max(1);
        self.pull_page_max = self.pull_page_max.max(1);
        self.backoff_ms_min = self.backoff_ms_min.clamp(1, BACKOFF_MS_CEILING);
        self.backoff_ms_max = self
            .backoff_ms_max
            .clamp(self.backoff_ms_min, BACKOFF_MS_CEILING);
        self.pull_interval_ms = self.pull_interval_ms.clamp(1, BACKOFF_MS_CEILING);
        self.push_attempts_max = self.push_attempts_max.max(1);
        self.pull_pages_ahead = self.pull_pages_ahead.min(PULL_PAGES_AHEAD_MAX);
        debug_assert!(self.validate().is_ok());
        self
    }
}
