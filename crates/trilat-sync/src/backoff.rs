//! Bounded exponential backoff with jitter, for one direction of a link.
//! Pure: time comes in as milliseconds, randomness from a caller-given seed.

/// The retry schedule after consecutive failures.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    ms_min: u64,
    ms_max: u64,
    /// SplitMix64 state for jitter.
    jitter_state: u64,
    failures: u32,
    retry_at_ms: i64,
}

impl Backoff {
    pub(crate) fn new(ms_min: u64, ms_max: u64, seed: u64) -> Backoff {
        assert!(ms_min >= 1 && ms_min <= ms_max, "a clamped config");
        Backoff {
            ms_min,
            ms_max,
            jitter_state: seed,
            failures: 0,
            retry_at_ms: i64::MIN,
        }
    }

    /// Consecutive failures (0 when the peer is reachable).
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// When the next attempt may start, if that is after `now_ms`.
    pub(crate) fn waiting_until(&self, now_ms: i64) -> Option<i64> {
        (now_ms < self.retry_at_ms).then_some(self.retry_at_ms)
    }

    pub(crate) fn retry_at_ms(&self) -> i64 {
        self.retry_at_ms
    }

    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at_ms = i64::MIN;
    }

    pub(crate) fn failed(&mut self, now_ms: i64) {
        self.failures = self.failures.saturating_add(1);
        let delay_ms = self.delay_ms();
        assert!(delay_ms >= 1 && delay_ms <= self.ms_max);
        self.retry_at_ms = now_ms.saturating_add(delay_ms as i64);
        assert!(self.retry_at_ms > now_ms);
    }

    /// "Equal jitter" exponential backoff: the capped doubling `base`, then
    /// a uniform draw from `[base/2, base]`, so retries of many nodes spread
    /// out but never come sooner than half the nominal delay.
    fn delay_ms(&mut self) -> u64 {
        let doublings = self.failures.saturating_sub(1).min(32);
        let base = self
            .ms_min
            .saturating_mul(1u64 << doublings)
            .min(self.ms_max);
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
