//! `cargo run --release -p trilat-sanctions --example bench_ids -- FILE…` — the same benchmark
//! as `trilat sanctions bench-ids` (batch identifier screening, identifiers per thread-CPU
//! second), without building the whole CLI. `TRILAT_BENCH_IDS=N` sets the batch size (default
//! 2,000,000), `TRILAT_BENCH_RUNS=N` the runs (default 5).

mod common;

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`, ns resolution).
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
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
