//! Runs the pipeline benchmark's synthetic day once (decode + tracks +
//! events + fixture zones + World Port Index ports when the shared data is
//! present) and prints every event as one JSON line, then a summary on
//! stderr. Two uses: diff the event list before and after a change to the
//! tracker (`> before.jsonl`, `> after.jsonl`, `cmp`), and profile one day
//! under `valgrind --tool=callgrind`.
//!
//! `cargo run --release -p trilat-ais --example synthetic_day_events`;
//! `AIS_PIPELINE_VESSELS` and `AIS_PIPELINE_STEP_S` size the day (default
//! 300 vessels, 20 s, as the benchmark).

use std::io::Write;
use std::sync::Arc;
use trilat_ais::analyser::Analyser;
use trilat_ais::ports::PortIndex;
use trilat_ais::track::{Config, Tracker};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let vessels: u32 = env_or("AIS_PIPELINE_VESSELS", 300);
    let step_s: i64 = env_or("AIS_PIPELINE_STEP_S", 20);
    let text = trilat_ais::synth::synthetic_day(1, vessels, step_s, 1_767_225_600);
    let zones = Arc::new(trilat_geo::ZoneIndex::new(trilat_geo::fixture_zones()));
    let data_dir = std::env::var("TRILAT_SHARED_DATA").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
    });
    let wpi = format!("{data_dir}/ais/reference/nga_world_port_index_pub150.csv");
    let mut tracker = Tracker::new(Config::default()).with_zones(zones);
    match std::fs::read_to_string(&wpi) {
        Ok(t) => tracker = tracker.with_ports(Arc::new(PortIndex::parse_wpi_csv(&t)?)),
        Err(_) => eprintln!("note: {wpi} not found; port calls not exercised"),
    }
    let mut analyser = Analyser::new(tracker);
    let mut events = Vec::new();
    let t0 = std::time::Instant::now();
    for line in &text {
        let _ = analyser.feed_line(line.as_bytes(), None, &mut events);
    }
    analyser.finish(&mut events);
    let elapsed = t0.elapsed();
    let positions = analyser.tracker().stats().positions;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for e in &events {
        serde_json::to_writer(&mut out, e)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!(
        "{} lines, {positions} positions, {} vessels, {} events in {:.3} s (wall)",
        text.len(),
        analyser.tracker().vessel_count(),
        events.len(),
        elapsed.as_secs_f64()
    );
    Ok(())
}
