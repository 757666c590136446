//! A fixed workload for `valgrind --tool=callgrind` (instruction counts do not depend on the
//! machine's load): the single-track IMM predict + update loop of the `tracker` benchmark, and
//! the ten-track association pipeline, each run a given number of passes.
//!
//! `cargo build --release -p trilat-missile --example filter_profile`, then
//! `valgrind --tool=callgrind <target>/release/examples/filter_profile filter 20` (or `pipeline 1`).
use trilat_missile::filter::{ImmPredictor, Predictor, RadarUpdater, Updater};
use trilat_missile::frames::Geodetic;
use trilat_missile::sensors::{Detection, SensorRegistry};
use trilat_missile::sim::{self, FlightSpec, RadarSettings, SalvoSpec};
use trilat_missile::tracker::{Tracker, TrackerParams};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("filter");
    let passes: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let registry = SensorRegistry::new(sim::default_sensors()).expect("valid");
    match what {
        "filter" => filter(&registry, passes),
        "pipeline" => pipeline(&registry, passes),
        other => eprintln!("unknown workload {other}: filter | pipeline"),
    }
}

fn filter(registry: &SensorRegistry, passes: usize) {
    let spec = FlightSpec::typical(
        Geodetic::new(sim::SITE_SUNAN.0, sim::SITE_SUNAN.1, 20.0),
        1.7e9,
        90.0,
        550.0,
        500.0,
    );
    let truth = sim::fly(&spec).expect("flyable");
    let settings = RadarSettings {
        false_alarms_per_scan: 0.0,
        ..RadarSettings::default()
    };
    let detections =
        sim::detect(registry, std::slice::from_ref(&truth), &settings, 1).expect("detections");
    let mut tracker = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let half = detections.len() / 2;
    for d in &detections[..half] {
        tracker.process_scan(registry, std::slice::from_ref(d), &mut events);
    }
    let start = tracker
        .tracks()
        .iter()
        .max_by_key(|t| t.n_updates)
        .expect("a track")
        .estimate;
    let rest = &detections[half..];
    let predictor = ImmPredictor::default();
    let mut checksum = 0.0;
    for _ in 0..passes {
        let mut est = start;
        for d in rest {
            let pred = predictor.predict(&est, d.time_s);
            est = RadarUpdater.update(&pred, registry.get(d.sensor_idx), d).0;
        }
        checksum += est.combined_mean()[0];
    }
    println!(
        "filter: {} updates per pass, {passes} passes, checksum {checksum}",
        rest.len()
    );
}

fn pipeline(registry: &SensorRegistry, passes: usize) {
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
    let detections = sim::detect(registry, &flights, &settings, 2).expect("detections");
    let mut scans: Vec<Vec<Detection>> = Vec::new();
    for d in &detections {
        match scans.last_mut() {
            Some(s) if s[0].sensor_idx == d.sensor_idx && s[0].time_s == d.time_s => s.push(*d),
            _ => scans.push(vec![*d]),
        }
    }
    let mut n_tracks = 0;
    for _ in 0..passes {
        let mut tracker = Tracker::new(TrackerParams::default());
        let mut events = Vec::new();
        for scan in &scans {
            tracker.process_scan(registry, scan, &mut events);
        }
        n_tracks += tracker.tracks().len();
    }
    println!(
        "pipeline: {} detections per pass, {passes} passes, {n_tracks} tracks",
        detections.len()
    );
}
