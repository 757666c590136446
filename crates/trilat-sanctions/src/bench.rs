//! The screening benchmark: index build time and memory, single-query latency and batch
//! throughput. Clocks are passed in so the crate stays free of OS calls; the CLI and the
//! `bench` example pass a thread CPU clock (scheduling delays on a shared machine excluded)
//! and a resident-memory probe.

use crate::model::ListVersion;
use crate::screener::{Query, Screener};
use crate::unihan::HanReadings;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Measured figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Entities loaded.
    pub entities: usize,
    /// Names indexed.
    pub names: usize,
    /// Index build, wall seconds.
    pub build_wall_s: f64,
    /// Index build, CPU seconds of the building thread.
    pub build_cpu_s: f64,
    /// Resident memory added by the index, KiB (0 when the probe is unavailable).
    pub build_rss_kib: u64,
    /// Queries run.
    pub queries: usize,
    /// Hits returned in total.
    pub hits: usize,
    /// Query CPU latency percentiles, µs.
    pub cpu_p50_us: f64,
    /// 99th percentile CPU latency, µs.
    pub cpu_p99_us: f64,
    /// Wall latency percentiles, µs (include waiting for a core).
    pub wall_p50_us: f64,
    /// 99th percentile wall latency, µs.
    pub wall_p99_us: f64,
    /// Queries per CPU-second on one thread.
    pub queries_per_cpu_s: f64,
    /// Queries per wall second on one thread.
    pub queries_per_wall_s: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// Builds the screener over `lists` and screens `queries_n` queries taken from the listed
/// names, perturbed the way real inputs differ (lower case, hyphens removed, words reversed).
pub fn run(
    lists: Vec<ListVersion>,
    readings: Option<Arc<HanReadings>>,
    queries_n: usize,
    cpu_seconds: &dyn Fn() -> f64,
    rss_kib: &dyn Fn() -> u64,
) -> crate::error::Result<(Screener, BenchReport)> {
    let rss_before = rss_kib();
    let wall = Instant::now();
    let cpu = cpu_seconds();
    let screener = Screener::new(lists, readings)?;
    let mut report = BenchReport {
        build_wall_s: wall.elapsed().as_secs_f64(),
        build_cpu_s: cpu_seconds() - cpu,
        build_rss_kib: rss_kib().saturating_sub(rss_before),
        entities: screener.entities().len(),
        names: screener.names_len(),
        ..BenchReport::default()
    };
    let names: Vec<&str> = screener
        .entities()
        .iter()
        .flat_map(|e| e.names.iter().map(|n| n.text.as_str()))
        .collect();
    let step = (names.len() / queries_n.max(1)).max(1);
    let queries: Vec<Query> = names
        .iter()
        .step_by(step)
        .take(queries_n)
        .enumerate()
        .map(|(i, name)| {
            let text = match i % 3 {
                0 => name.to_lowercase(),
                1 => name.replace('-', " "),
                _ => name.split_whitespace().rev().collect::<Vec<_>>().join(" "),
            };
            Query::name(&text)
        })
        .collect();
    let mut wall_us = Vec::with_capacity(queries.len());
    let mut cpu_us = Vec::with_capacity(queries.len());
    let batch_wall = Instant::now();
    let batch_cpu = cpu_seconds();
    for query in &queries {
        let w = Instant::now();
        let c = cpu_seconds();
        report.hits += screener.screen(query).len();
        cpu_us.push((cpu_seconds() - c) * 1e6);
        wall_us.push(w.elapsed().as_secs_f64() * 1e6);
    }
    let batch_cpu = cpu_seconds() - batch_cpu;
    let batch_wall = batch_wall.elapsed().as_secs_f64();
    wall_us.sort_by(f64::total_cmp);
    cpu_us.sort_by(f64::total_cmp);
    report.queries = queries.len();
    report.cpu_p50_us = percentile(&cpu_us, 0.5);
    report.cpu_p99_us = percentile(&cpu_us, 0.99);
    report.wall_p50_us = percentile(&wall_us, 0.5);
    report.wall_p99_us = percentile(&wall_us, 0.99);
    report.queries_per_cpu_s = queries.len() as f64 / batch_cpu.max(1e-9);
    report.queries_per_wall_s = queries.len() as f64 / batch_wall.max(1e-9);
    Ok((screener, report))
}
