//! `cargo run --release -p trilat-sanctions --example bench_ids -- FILE…` — the same benchmark
//! as `trilat sanctions bench-ids` (batch identifier screening, identifiers per thread-CPU
//! second), without building the whole CLI. `TRILAT_BENCH_IDS=N` sets the batch size (default
//! 2,000,000), `TRILAT_BENCH_RUNS=N` the runs (default 5).

mod common;

/// CPU time of the calling thread (the `cpu-time` crate, as the name benchmark reads it).
fn cpu_seconds() -> f64 {
    cpu_time::ThreadTime::try_now().map_or(0.0, |t| t.as_duration().as_secs_f64())
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lists = common::load_lists(std::env::args().skip(1))?;
    let screener = trilat_sanctions::Screener::new(lists, None)?;
    let n = env_usize("TRILAT_BENCH_IDS", 2_000_000);
    let runs = env_usize("TRILAT_BENCH_RUNS", 5);
    let r = trilat_sanctions::bench::ids(&screener, n, runs, &cpu_seconds);
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(())
}
