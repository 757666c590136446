//! `cargo run --release -p trilat-sanctions --example bench -- FILE…` — the same benchmark as
//! `trilat sanctions bench`, without building the whole CLI. Files: UN XML, OFAC sdn.csv (+
//! alt.csv), MOF and METI xlsx; formats are detected.

mod common;

/// CPU time of the calling thread, seconds; zero where the clock is unavailable. The clock of
/// `trilat_bench::measure::thread_cpu` (the `cpu-time` crate: `CLOCK_THREAD_CPUTIME_ID`), which
/// this crate cannot depend on (trilat-bench depends on it).
fn cpu_seconds() -> f64 {
    cpu_time::ThreadTime::try_now().map_or(0.0, |t| t.as_duration().as_secs_f64())
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lists = common::load_lists(std::env::args().skip(1))?;
    // TRILAT_BENCH_ORACLE=N also checks N queries against the exhaustive scan (slow: ~20 ms each).
    let oracle_n = std::env::var("TRILAT_BENCH_ORACLE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // TRILAT_BENCH_QUERIES=N screens fewer queries (for a profiler; the default is the mix).
    let queries_n = std::env::var("TRILAT_BENCH_QUERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let origin = std::time::Instant::now();
    let clocks = trilat_sanctions::bench::Clocks {
        wall_seconds: &|| origin.elapsed().as_secs_f64(),
        cpu_seconds: &cpu_seconds,
        rss_kib: &rss_kib,
    };
    let (_, report) = trilat_sanctions::bench::run(lists, None, (queries_n, oracle_n), &clocks)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
