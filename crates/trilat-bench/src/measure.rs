//! The one place Trilat's benchmarks measure with: CPU clocks, resident
//! memory, percentiles, and the conditions a figure depends on.
//!
//! CPU time comes from the `cpu-time` crate (`clock_gettime` with the
//! thread or process CPU clock on Unix), so no harness reads a clock with
//! `unsafe` of its own. CPU time is what the figures quote where the
//! machine is shared: waiting for a core does not count.

use std::fmt;
use std::time::Duration;

/// CPU time the calling thread has used; zero where the clock is
/// unavailable (the figure then reads as zero, never as a guess).
pub fn thread_cpu() -> Duration {
    cpu_time::ThreadTime::try_now().map_or(Duration::ZERO, |t| t.as_duration())
}

/// CPU time the whole process has used (every thread: server and client
/// together in the in-process benches); zero where unavailable.
pub fn process_cpu() -> Duration {
    cpu_time::ProcessTime::try_now().map_or(Duration::ZERO, |t| t.as_duration())
}

/// Resident memory of this process, KiB (`VmRSS` in `/proc/self/status`);
/// `None` where there is no such file.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The `p` quantile (0 ≤ p ≤ 1) of `sorted` (ascending), nearest rank
/// with the index rounded: p50 of 200 samples is the 101st. `None` for no
/// samples.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    assert!((0.0..=1.0).contains(&p), "percentile {p} outside 0..=1");
    let last_idx = sorted.len().checked_sub(1)?;
    let idx = (last_idx as f64 * p).round() as usize;
    Some(sorted[idx.min(last_idx)])
}

/// p50, p99 and max of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latencies {
    /// Samples measured.
    pub n_samples: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest sample.
    pub max: Duration,
}

impl Latencies {
    /// Sorts `samples` and summarises them; `None` for no samples.
    pub fn of(samples: &mut [Duration]) -> Option<Latencies> {
        samples.sort_unstable();
        Some(Latencies {
            n_samples: samples.len(),
            p50: percentile(samples, 0.50)?,
            p99: percentile(samples, 0.99)?,
            max: *samples.last()?,
        })
    }
}

/// `N samples: p50 … ms, p99 … ms, max … ms`, the line every bench prints.
impl fmt::Display for Latencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "{} samples: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.n_samples,
            ms(self.p50),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// What a figure depends on besides the code: build profile, cores, load.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    /// `debug` or `release` (of this crate, compiled with the harness).
    pub profile: &'static str,
    /// Cores available to this process.
    pub cores: usize,
    /// Load average over 1, 5 and 15 minutes (`/proc/loadavg`), or `unknown`.
    pub load_average: String,
}

impl Conditions {
    /// The conditions now.
    pub fn now() -> Conditions {
        let profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .map(|text| {
                text.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|_| "unknown".into());
        Conditions {
            profile,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_average,
        }
    }
}

impl fmt::Display for Conditions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "build: {}; cores: {}; load average at start (1, 5, 15 min): {}",
            self.profile, self.cores, self.load_average
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(samples: &[u32], p: f64, expect: Option<u32>) {
        assert_eq!(percentile(samples, p), expect, "p{p} of {samples:?}");
    }

    #[test]
    fn percentiles_are_nearest_rank_rounded() {
        check(&[], 0.5, None);
        check(&[7], 0.0, Some(7));
        check(&[7], 0.99, Some(7));
        check(&[1, 2, 3, 4], 0.5, Some(3)); // index 1.5 rounds to 2
        check(&[1, 2, 3, 4], 0.0, Some(1));
        check(&[1, 2, 3, 4], 1.0, Some(4));
        let hundred: Vec<u32> = (1..=100).collect();
        check(&hundred, 0.5, Some(51)); // index 49.5 rounds to 50
        check(&hundred, 0.99, Some(99)); // index 98.01 rounds to 98
    }

    #[test]
    fn latencies_sort_their_samples() {
        let mut samples: Vec<Duration> = [5, 1, 3].map(Duration::from_millis).to_vec();
        let summary = Latencies::of(&mut samples).expect("three samples");
        assert_eq!(summary.n_samples, 3);
        assert_eq!(summary.p50, Duration::from_millis(3));
        assert_eq!(summary.max, Duration::from_millis(5));
        assert_eq!(
            summary.to_string(),
            "3 samples: p50 3.00 ms, p99 5.00 ms, max 5.00 ms"
        );
        assert_eq!(Latencies::of(&mut []), None);
    }

    #[test]
    fn cpu_clocks_advance_with_work() {
        let thread_before = thread_cpu();
        let process_before = process_cpu();
        // Spin until the thread clock moves (its resolution is ns on Linux).
        let mut spins = 0u64;
        while thread_cpu() == thread_before && spins < 100_000_000 {
            spins = std::hint::black_box(spins + 1);
        }
        assert!(
            thread_cpu() > thread_before,
            "thread CPU clock did not move"
        );
        assert!(
            process_cpu() > process_before,
            "process CPU clock did not move"
        );
        assert!(
            process_cpu() >= thread_cpu(),
            "the process includes this thread"
        );
    }

    #[test]
    fn conditions_name_the_profile() {
        let conditions = Conditions::now();
        assert!(conditions.cores >= 1);
        let expect = if cfg!(debug_assertions) {
            "build: debug; cores: "
        } else {
            "build: release; cores: "
        };
        assert!(conditions.to_string().starts_with(expect), "{conditions}");
    }
}
