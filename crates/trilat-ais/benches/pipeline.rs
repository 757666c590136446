//! Full pipeline benchmark: decode + tracks + events + zones (+ ports when
//! the shared data is present) on a synthetic day made by the own encoder.
//! Also prints heap bytes per tracked vessel (counting allocator).
//!
//! `cargo bench -p trilat-ais --bench pipeline`; `AIS_PIPELINE_VESSELS` and
//! `AIS_PIPELINE_STEP_S` size the day (default 300 vessels, 20 s).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use trilat_ais::analyser::Analyser;
use trilat_ais::ports::PortIndex;
use trilat_ais::track::{Config, Tracker};

struct Counting;
static HEAP_BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HEAP_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn thread_cpu_ns() -> u64 {
    cpu_time::ThreadTime::now().as_duration().as_nanos() as u64
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tracker(zones: &Arc<trilat_geo::ZoneIndex>, ports: &Option<Arc<PortIndex>>) -> Tracker {
    let t = Tracker::new(Config::default()).with_zones(zones.clone());
    match ports {
        Some(p) => t.with_ports(p.clone()),
        None => t,
    }
}

fn run_day(analyser: &mut Analyser, lines: &[&[u8]]) -> usize {
    let mut events = Vec::new();
    for line in lines {
        let _ = analyser.feed_line(line, None, &mut events);
    }
    analyser.finish(&mut events);
    events.len()
}

fn pipeline(c: &mut Criterion) {
    let vessels: u32 = env_or("AIS_PIPELINE_VESSELS", 300);
    let step_s: i64 = env_or("AIS_PIPELINE_STEP_S", 20);
    let text: Vec<String> = trilat_ais::synth::synthetic_day(1, vessels, step_s, 1_767_225_600);
    let lines: Vec<&[u8]> = text.iter().map(|l| l.as_bytes()).collect();
    let zones = Arc::new(trilat_geo::ZoneIndex::new(trilat_geo::fixture_zones()));
    let wpi = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ais/reference/nga_world_port_index_pub150.csv"
    );
    let ports = std::fs::read_to_string(
        std::env::var("TRILAT_SHARED_DATA").map_or(wpi.to_string(), |d| {
            format!("{d}/ais/reference/nga_world_port_index_pub150.csv")
        }),
    )
    .ok()
    .and_then(|t| PortIndex::parse_wpi_csv(&t).ok())
    .map(Arc::new);
    if ports.is_none() {
        eprintln!("note: World Port Index not found; port calls not exercised");
    }

    // Count positions and measure memory once.
    let before = HEAP_BYTES.load(Ordering::Relaxed);
    let mut analyser = Analyser::new(tracker(&zones, &ports));
    let n_events = run_day(&mut analyser, &lines);
    let after = HEAP_BYTES.load(Ordering::Relaxed);
    let positions = analyser.tracker().stats().positions;
    let n_vessels = analyser.tracker().vessel_count();
    eprintln!(
        "day: {} lines, {positions} positions, {n_vessels} vessels, {n_events} events; heap held after the day {} bytes = {} bytes per vessel (all maps included)",
        lines.len(),
        after - before,
        (after - before) / n_vessels.max(1) as isize
    );
    drop(analyser);

    let mut group = c.benchmark_group("ais_pipeline");
    group.throughput(Throughput::Elements(positions));
    group.sample_size(10);
    group.bench_function("synthetic_day_cpu_time", |b| {
        b.iter_custom(|iters| {
            let mut cpu = 0u64;
            for _ in 0..iters {
                let mut analyser = Analyser::new(tracker(&zones, &ports));
                let t0 = thread_cpu_ns();
                black_box(run_day(&mut analyser, &lines));
                cpu += thread_cpu_ns() - t0;
            }
            std::time::Duration::from_nanos(cpu)
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
