//! The screening benchmark: index build time and memory, single-query latency and batch
//! throughput. Clocks are passed in so the crate stays free of OS calls; the CLI and the
//! `bench` example pass a thread CPU clock (`CLOCK_THREAD_CPUTIME_ID`: scheduling delays on a
//! shared machine excluded) and a resident-memory probe.
//!
//! Query mix: both names of every pair of the evaluation set ([`crate::eval::build_pairs`],
//! default seed and size), deduplicated, sampled evenly down to the requested count, each with
//! its pair's schema. That is list primary names and aliases in Latin, katakana, Arabic and
//! other scripts (hits), and synthetic Korean names in Hangul, RR, McCune–Reischauer and DPRK
//! spelling that are not listed (mostly misses). The report counts queries per script and the
//! queries that returned at least one hit.

use crate::model::ListVersion;
use crate::screener::{Query, Screener};
use crate::unihan::HanReadings;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

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
    /// Queries that returned at least one hit.
    pub queries_with_hits: usize,
    /// Queries per written script (`latin`, `hangul`, `kana` …).
    pub queries_by_script: BTreeMap<String, usize>,
    /// Query CPU latency percentiles, µs.
    pub cpu_p50_us: f64,
    /// Slowest query, CPU µs.
    pub cpu_max_us: f64,
    /// 99th percentile CPU latency, µs.
    pub cpu_p99_us: f64,
    /// Wall latency percentiles, µs (include waiting for a core).
    pub wall_p50_us: f64,
    /// 99th percentile wall latency, µs.
    pub wall_p99_us: f64,
    /// Queries checked against the exhaustive scan ([`Screener::screen_exhaustive`]).
    pub oracle_queries: usize,
    /// Hits the exhaustive scan found for those queries (limit 1,000 each).
    pub oracle_hits: usize,
    /// Of those, hits the bounded retrieval did not return (0 unless the retrieval bound is wrong).
    pub oracle_missed: usize,
    /// Names scored in full per query (kept by the retrieval bound), mean.
    pub names_scored_mean: f64,
    /// Names scored in full by one query, most.
    pub names_scored_max: usize,
    /// Queries outside what the bound covers, screened by the exhaustive scan.
    pub queries_exhaustive: usize,
    /// Posting entries in the retrieval index.
    pub postings: usize,
    /// Queries per CPU-second on one thread, screened as a batch (no clock read per query).
    pub queries_per_cpu_s: f64,
    /// Queries per wall second on one thread, the same batch.
    pub queries_per_wall_s: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// Seed of the synthetic names in the query mix (the `eval` command's default).
pub const QUERY_SEED: u64 = 1718;
/// Synthetic Korean names in the query mix (the `eval` command's default).
pub const QUERY_SYNTHETIC_N: usize = 500;

/// The benchmark's queries: both names of every evaluation pair, deduplicated, sampled
/// evenly down to `queries_n`, with the pair's schema and the default threshold.
pub fn queries(lists: &[ListVersion], queries_n: usize) -> Vec<Query> {
    let pairs = crate::eval::build_pairs(lists, QUERY_SYNTHETIC_N, QUERY_SEED);
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    for pair in &pairs {
        for name in [&pair.name1, &pair.name2] {
            if seen.insert((name.clone(), pair.schema)) {
                let mut query = Query::name(name);
                query.schema = Some(pair.schema);
                all.push(query);
            }
        }
    }
    let step = (all.len() / queries_n.max(1)).max(1);
    let sampled: Vec<Query> = all.into_iter().step_by(step).take(queries_n).collect();
    debug_assert!(sampled.len() <= queries_n);
    sampled
}

/// The clocks a benchmark reads, lent by its caller (the engine reads none
/// of its own): a monotonic wall clock and the thread's CPU clock, both in
/// seconds from any origin, and the process's resident memory.
#[derive(Clone, Copy)]
pub struct Clocks<'a> {
    /// Monotonic wall time, seconds.
    pub wall_seconds: &'a dyn Fn() -> f64,
    /// The calling thread's CPU time, seconds.
    pub cpu_seconds: &'a dyn Fn() -> f64,
    /// Resident set size, KiB.
    pub rss_kib: &'a dyn Fn() -> u64,
}

/// Builds the screener over `lists` and screens `queries_n` queries of the evaluation mix
/// (see the module documentation) one at a time on the calling thread, twice: as one batch
/// (throughput: clocks read before and after the batch only) and each timed (latency); then
/// checks `oracle_n` of them (evenly spread) against the exhaustive scan.
pub fn run(
    lists: Vec<ListVersion>,
    readings: Option<Arc<HanReadings>>,
    (queries_n, oracle_n): (usize, usize),
    clocks: &Clocks<'_>,
) -> crate::error::Result<(Screener, BenchReport)> {
    let Clocks {
        wall_seconds,
        cpu_seconds,
        rss_kib,
    } = *clocks;
    let elapsed_s = |since: f64| wall_seconds() - since;
    let queries = queries(&lists, queries_n);
    let rss_before = rss_kib();
    let wall = wall_seconds();
    let cpu = cpu_seconds();
    let screener = Screener::new(lists, readings)?;
    let mut report = BenchReport {
        build_wall_s: elapsed_s(wall),
        build_cpu_s: cpu_seconds() - cpu,
        build_rss_kib: rss_kib().saturating_sub(rss_before),
        entities: screener.entities().len(),
        names: screener.names_len(),
        ..BenchReport::default()
    };
    for query in &queries {
        let script = format!("{:?}", crate::script::detect(&query.name)).to_lowercase();
        *report.queries_by_script.entry(script).or_default() += 1;
    }
    // Throughput: the queries screened as one batch, the clocks read before and after only (a
    // thread CPU clock read is a system call, ~0.9 µs on this kind of machine: two per query
    // would be part of what is measured).
    let batch_wall = wall_seconds();
    let batch_cpu = cpu_seconds();
    for query in &queries {
        let hits_n = screener.screen(query).len();
        report.hits += hits_n;
        report.queries_with_hits += usize::from(hits_n > 0);
    }
    let batch_cpu = cpu_seconds() - batch_cpu;
    let batch_wall = elapsed_s(batch_wall);
    // Latency: the same queries again, each timed.
    let mut wall_us = Vec::with_capacity(queries.len());
    let mut cpu_us = Vec::with_capacity(queries.len());
    for query in &queries {
        let w = wall_seconds();
        let c = cpu_seconds();
        let hits = screener.screen(query);
        cpu_us.push((cpu_seconds() - c) * 1e6);
        wall_us.push(elapsed_s(w) * 1e6);
        std::hint::black_box(hits);
    }
    wall_us.sort_by(f64::total_cmp);
    cpu_us.sort_by(f64::total_cmp);
    report.queries = queries.len();
    report.cpu_p50_us = percentile(&cpu_us, 0.5);
    report.cpu_p99_us = percentile(&cpu_us, 0.99);
    report.cpu_max_us = cpu_us.last().copied().unwrap_or(0.0);
    report.wall_p50_us = percentile(&wall_us, 0.5);
    report.wall_p99_us = percentile(&wall_us, 0.99);
    report.queries_per_cpu_s = queries.len() as f64 / batch_cpu.max(1e-9);
    report.queries_per_wall_s = queries.len() as f64 / batch_wall.max(1e-9);
    report.postings = screener.postings_len();
    let mut scored_total = 0usize;
    for query in &queries {
        match screener.candidates_len(query) {
            Some(n) => {
                scored_total += n;
                report.names_scored_max = report.names_scored_max.max(n);
            }
            None => report.queries_exhaustive += 1,
        }
    }
    report.names_scored_mean = scored_total as f64 / queries.len().max(1) as f64;
    let step = (queries.len() / oracle_n.max(1)).max(1);
    for query in queries.iter().step_by(step).take(oracle_n) {
        let missed = oracle_missed(&screener, query);
        report.oracle_queries += 1;
        report.oracle_hits += missed.1;
        report.oracle_missed += missed.0.len();
    }
    Ok((screener, report))
}

/// The hits of the exhaustive scan for `query` (limit 1,000) that bounded retrieval did not
/// return with the same score, and the number of exhaustive hits.
pub fn oracle_missed(screener: &Screener, query: &Query) -> (Vec<crate::screener::Hit>, usize) {
    let mut query = query.clone();
    query.limit = 1_000;
    let bounded = screener.screen(&query);
    let exhaustive = screener.screen_exhaustive(&query);
    let exhaustive_n = exhaustive.len();
    let missed = exhaustive
        .into_iter()
        .filter(|hit| {
            !bounded
                .iter()
                .any(|b| b.entity_id == hit.entity_id && b.score == hit.score)
        })
        .collect();
    (missed, exhaustive_n)
}

/// Figures of the identifier batch benchmark ([`ids`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdBenchReport {
    /// Identifiers indexed (every scheme).
    pub indexed: usize,
    /// Listed wallet addresses and e-mails the batch is drawn from.
    pub listed: usize,
    /// Identifiers in the batch (one per line).
    pub identifiers: usize,
    /// Of those, listed ones (hits).
    pub identifiers_matched: usize,
    /// Thread CPU seconds of each run over the whole batch.
    pub runs_cpu_s: Vec<f64>,
    /// Identifiers per CPU-second, median run.
    pub per_cpu_s_median: f64,
    /// Identifiers per CPU-second, best run.
    pub per_cpu_s_best: f64,
}

/// The batch of [`ids`]: the listed wallet addresses and e-mails, and as many near-misses as
/// needed to reach `n` lines (one character of a listed value changed, so that every line has
/// a real identifier's shape and length and almost all miss), one listed value in 50 lines.
pub fn id_batch(screener: &Screener, n: usize) -> (String, usize) {
    use crate::model::IdScheme;
    let listed: Vec<&str> = screener
        .entities()
        .iter()
        .flat_map(|e| &e.identifiers)
        .filter(|id| matches!(id.scheme, IdScheme::DigitalCurrency | IdScheme::Email))
        .map(|id| id.value.as_str())
        .collect();
    let mut text = String::with_capacity(n * 40);
    if listed.is_empty() {
        return (text, 0);
    }
    const ALPHABET: &[u8] = b"23456789abcdefghijkmnopqrstuvwxyz";
    for line_idx in 0..n {
        let value = listed[line_idx % listed.len()];
        if line_idx % 50 == 0 {
            text.push_str(value);
        } else {
            // Change one letter or digit (never the first, which carries the format) to one
            // that differs in any case, so the line is another identifier of the same shape.
            let bytes = value.as_bytes();
            let positions: Vec<usize> = (1..bytes.len())
                .filter(|&i| bytes[i].is_ascii_alphanumeric())
                .collect();
            let pos = positions
                .get((line_idx / listed.len()) % positions.len().max(1))
                .copied();
            let mut next = ALPHABET[(line_idx / 7) % ALPHABET.len()];
            for (i, &b) in bytes.iter().enumerate() {
                if Some(i) == pos {
                    if next.eq_ignore_ascii_case(&b) {
                        next = if b.eq_ignore_ascii_case(&b'x') {
                            b'y'
                        } else {
                            b'x'
                        };
                    }
                    text.push(next as char);
                } else {
                    text.push(b as char);
                }
            }
        }
        text.push('\n');
    }
    (text, listed.len())
}

/// Screens a batch of `n` identifiers ([`id_batch`]) `runs` times through
/// [`crate::ident::index::IdIndex::screen_batch`] on this thread, timing each run with
/// `thread_cpu_s`.
pub fn ids(
    screener: &Screener,
    n: usize,
    runs: usize,
    thread_cpu_s: &dyn Fn() -> f64,
) -> IdBenchReport {
    assert!(runs > 0, "at least one run");
    let (text, listed) = id_batch(screener, n);
    let mut report = IdBenchReport {
        indexed: screener.identifiers().len(),
        listed,
        ..IdBenchReport::default()
    };
    for _ in 0..runs {
        let mut sink_hits = 0usize;
        let started = thread_cpu_s();
        let counts = screener
            .identifiers()
            .screen_batch(&text, None, |_, _, _, refs| sink_hits += refs.len());
        let cpu_s = (thread_cpu_s() - started).max(1e-9);
        assert_eq!(counts.hits, sink_hits);
        report.identifiers = counts.identifiers;
        report.identifiers_matched = counts.identifiers_matched;
        report.runs_cpu_s.push(cpu_s);
    }
    let mut rates: Vec<f64> = report
        .runs_cpu_s
        .iter()
        .map(|s| report.identifiers as f64 / s)
        .collect();
    rates.sort_by(f64::total_cmp);
    report.per_cpu_s_median = rates[rates.len() / 2];
    report.per_cpu_s_best = rates[rates.len() - 1];
    report
}
