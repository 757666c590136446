//! Sanctions screening: the benchmark itself is `trilat_sanctions::bench`
//! (pure, clocks passed in); this runs it with the measurement module's
//! thread CPU clock and resident-memory probe.

use std::sync::Arc;

use trilat_sanctions::bench::BenchReport;
use trilat_sanctions::model::ListVersion;
use trilat_sanctions::unihan::HanReadings;
use trilat_sanctions::Screener;

/// Builds the index over `lists` and screens `n_queries` names, checking
/// `n_oracle` of them against an exhaustive scan.
pub fn run(
    lists: Vec<ListVersion>,
    readings: Option<Arc<HanReadings>>,
    n_queries: usize,
    n_oracle: usize,
) -> anyhow::Result<(Screener, BenchReport)> {
    let origin = std::time::Instant::now();
    let clocks = trilat_sanctions::bench::Clocks {
        wall_seconds: &|| origin.elapsed().as_secs_f64(),
        cpu_seconds: &|| crate::measure::thread_cpu().as_secs_f64(),
        rss_kib: &|| crate::measure::rss_kib().unwrap_or(0),
    };
    Ok(trilat_sanctions::bench::run(
        lists,
        readings,
        (n_queries, n_oracle),
        &clocks,
    )?)
}

/// Screens a batch of `n` identifiers (listed wallets and e-mails, near-misses of them)
/// `runs` times through the screener's identifier index, on the thread CPU clock.
pub fn run_ids(
    screener: &Screener,
    n: usize,
    runs: usize,
) -> trilat_sanctions::bench::IdBenchReport {
    let thread_cpu_s = || crate::measure::thread_cpu().as_secs_f64();
    trilat_sanctions::bench::ids(screener, n, runs, &thread_cpu_s)
}
