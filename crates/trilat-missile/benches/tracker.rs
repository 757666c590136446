//! Benchmarks: IMM filter updates per second for one track, and the association + fusion
//! pipeline with ten simultaneous tracks and clutter. Run:
//! `cargo bench -p trilat-missile --bench tracker`.
//!
//! Time is the benchmark thread's **CPU time** (`CLOCK_THREAD_CPUTIME_ID`), not wall time: the
//! targets are per core, and on a shared machine wall time mostly measures the other processes.
//! Criterion's `thrpt` line is then updates (or detections) per CPU-second of one core.
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trilat_missile::filter::{
    FilterParams, ImmPredictor, Predictor, RadarUpdater, Updater, BALLISTIC, POWERED,
};
use trilat_missile::frames::Geodetic;
use trilat_missile::sensors::SensorRegistry;
use trilat_missile::sim::{self, FlightSpec, RadarSettings, SalvoSpec};
use trilat_missile::tracker::{Tracker, TrackerParams};

/// CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    cpu_time::ThreadTime::now().as_duration()
}

/// Criterion measurement by the thread's CPU clock.
struct ThreadCpuTime;

/// Borrowed for its duration formatter (criterion's own is not public).
static WALL_TIME: WallTime = WallTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, started: Duration) -> Duration {
        thread_cpu_time().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

fn filter_updates(c: &mut Criterion<ThreadCpuTime>) {
    let registry = SensorRegistry::new(sim::default_sensors()).expect("valid");
    let spec = FlightSpec::typical(
        Geodetic::new(sim::SITE_SUNAN.0, sim::SITE_SUNAN.1, 20.0),
        1.7e9,
        90.0,
        550.0,
        500.0,
    );
    let truth = sim::fly(&spec).expect("flyable");
    let detections = sim::detect(
        &registry,
        std::slice::from_ref(&truth),
        &RadarSettings {
            false_alarms_per_scan: 0.0,
            ..RadarSettings::default()
        },
        1,
    )
    .expect("detections");
    // The whole flight from the first confirmed track: boost (both modes), burnout, then
    // the pruned ballistic filter, in the proportions a real track sees them.
    let mut early = Tracker::new(TrackerParams::default());
    let mut early_events = Vec::new();
    let mut early_idx = 0;
    let early_start = loop {
        assert!(early_idx < detections.len(), "no track formed");
        early.process_scan(
            &registry,
            std::slice::from_ref(&detections[early_idx]),
            &mut early_events,
        );
        early_idx += 1;
        if let Some(track) = early.tracks().iter().find(|t| t.n_updates >= 5) {
            break track.estimate;
        }
    };
    assert!(
        !early_start.ballistic_only,
        "the early estimate still has both modes"
    );
    let whole_flight = &detections[early_idx..];
    let mut group = c.benchmark_group("filter_whole_flight");
    group.throughput(Throughput::Elements(whole_flight.len() as u64));
    group.bench_function(
        "imm_updates_per_cpu_second_single_track_whole_flight",
        |b| {
            let predictor = ImmPredictor::default();
            b.iter(|| {
                let mut est = early_start;
                for d in whole_flight {
                    let pred = predictor.predict(&est, d.time_s);
                    est = RadarUpdater.update(&pred, registry.get(d.sensor_idx), d).0;
                }
                est
            })
        },
    );
    group.finish();

    // Run the tracker once to get a converged track and the detections after its start.
    let mut tracker = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let half = detections.len() / 2;
    for d in &detections[..half] {
        tracker.process_scan(&registry, std::slice::from_ref(d), &mut events);
    }
    let start = tracker
        .tracks()
        .iter()
        .max_by_key(|t| t.n_updates)
        .expect("a track")
        .estimate;
    let rest = &detections[half..];
    // The second half of the flight is after burnout: the tracker has pruned the powered mode.
    assert!(start.ballistic_only, "the start estimate is pruned");
    // The same estimate with both modes (the powered one at the floor probability) and a
    // predictor that never prunes: the two-mode IMM of before pruning, in the same run.
    let mut start_two_modes = start;
    start_two_modes.ballistic_only = false;
    start_two_modes.ballistic_streak = 0;
    start_two_modes.modes[POWERED] = start_two_modes.modes[BALLISTIC];
    start_two_modes.mu = [1e-6, 1.0 - 1e-6];
    let never_prunes = ImmPredictor {
        params: FilterParams {
            prune_after_updates: None,
            ..FilterParams::default()
        },
    };
    let runs = [
        (
            "imm_updates_per_cpu_second_single_track",
            start,
            ImmPredictor::default(),
        ),
        (
            "imm_updates_per_cpu_second_single_track_two_modes",
            start_two_modes,
            never_prunes,
        ),
    ];
    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Elements(rest.len() as u64));
    for (id, start, predictor) in runs {
        group.bench_function(id, |b| {
            b.iter(|| {
                let mut est = start;
                for d in rest {
                    let pred = predictor.predict(&est, d.time_s);
                    est = RadarUpdater.update(&pred, registry.get(d.sensor_idx), d).0;
                }
                est
            })
        });
    }
    group.finish();
}

fn pipeline(c: &mut Criterion<ThreadCpuTime>) {
    let registry = SensorRegistry::new(sim::default_sensors()).expect("valid");
    let first = FlightSpec::typical(
        Geodetic::new(sim::SITE_SOHAE.0, sim::SITE_SOHAE.1, 20.0),
        1.7e9,
        80.0,
        150.0,
        500.0,
    );
    let flights = sim::fly_salvo(&SalvoSpec {
        first,
        n_missiles: 10,
        interval_s: 5.0,
        bearing_step_deg: 1.0,
        launcher_spacing_km: 3.0,
    })
    .expect("flyable");
    let settings = RadarSettings {
        false_alarms_per_scan: 0.5,
        ..RadarSettings::default()
    };
    let detections = sim::detect(&registry, &flights, &settings, 2).expect("detections");
    // Group into scans (one sensor, one time).
    let mut scans: Vec<Vec<trilat_missile::sensors::Detection>> = Vec::new();
    for d in &detections {
        match scans.last_mut() {
            Some(s) if s[0].sensor_idx == d.sensor_idx && s[0].time_s == d.time_s => s.push(*d),
            _ => scans.push(vec![*d]),
        }
    }
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Elements(detections.len() as u64));
    group.bench_function("detections_per_cpu_second_10_tracks_clutter", |b| {
        b.iter(|| {
            let mut tracker = Tracker::new(TrackerParams::default());
            let mut events = Vec::new();
            for scan in &scans {
                tracker.process_scan(&registry, scan, &mut events);
            }
            tracker.tracks().len()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = filter_updates, pipeline
}
criterion_main!(benches);
