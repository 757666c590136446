//! Lookup and build benchmarks: `cargo bench -p trilat-geo --bench lookup`.
//!
//! Points are uniform random in the North-East Asia box (115–150°E, 15–50°N), fixed seed.
//! The real-data part reads `../shared/data` (or `TRILAT_SHARED_DATA`) and is skipped,
//! saying so, when absent. One-off build figures are printed to stderr.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use geo::Rect;
use rand::{Rng, SeedableRng};
use trilat_geo::{fixture_zones, Geography, LatLon, MaritimeOptions, ZoneIndex};

const N_POINTS: usize = 100_000;

fn random_points() -> Vec<LatLon> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    (0..N_POINTS)
        .map(|_| LatLon::new(rng.gen_range(15.0..50.0), rng.gen_range(115.0..150.0)))
        .collect()
}

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    dir.join("zones/natural_earth_world_atlas")
        .is_dir()
        .then_some(dir)
}

fn bench_lookups(c: &mut Criterion, label: &str, index: &ZoneIndex, points: &[LatLon]) {
    let mut group = c.benchmark_group(format!("lookup/{label}"));
    group.throughput(Throughput::Elements(points.len() as u64));
    let mut out = Vec::with_capacity(16);
    group.bench_function("zones_containing", |b| {
        b.iter(|| {
            let mut n_hits = 0usize;
            for &p in points {
                out.clear();
                index.zones_containing(black_box(p), &mut out);
                n_hits += out.len();
            }
            n_hits
        })
    });
    let some = &points[..1_000];
    group.throughput(Throughput::Elements(some.len() as u64));
    group.bench_function("distance_to_coast_m", |b| {
        b.iter(|| {
            some.iter()
                .map(|&p| index.distance_to_coast_m(black_box(p)).unwrap_or(0.0))
                .sum::<f64>()
        })
    });
    group.bench_function("distance_to_coast_sphere_m", |b| {
        b.iter(|| {
            some.iter()
                .map(|&p| {
                    index
                        .distance_to_coast_sphere_m(black_box(p))
                        .unwrap_or(0.0)
                })
                .sum::<f64>()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let points = random_points();
    let started = Instant::now();
    let zones = fixture_zones();
    eprintln!(
        "fixture: computed {} zones in {:?}",
        zones.len(),
        started.elapsed()
    );
    c.bench_function("build/fixture_index", |b| {
        b.iter(|| ZoneIndex::new(black_box(zones.clone())))
    });
    let index = ZoneIndex::new(zones);
    eprintln!(
        "fixture index: grid {:?}, {} bytes",
        index.grid_dims(),
        index.memory_bytes()
    );
    bench_lookups(c, "fixture", &index, &points);

    let Some(dir) = shared_data() else {
        eprintln!("SKIP real-data geo benchmarks: ../shared/data absent (set TRILAT_SHARED_DATA)");
        return;
    };
    for (file, cell_min_deg) in [
        ("countries-10m.json", 1.0 / 64.0),
        ("countries-50m.json", 1.0 / 64.0),
    ] {
        let bytes = std::fs::read(dir.join("zones/natural_earth_world_atlas").join(file)).unwrap();
        let mut options = MaritimeOptions::north_east_asia(Rect::new((115.0, 15.0), (150.0, 50.0)));
        options.cell_min_deg = cell_min_deg;
        let started = Instant::now();
        let stopwatch = || started.elapsed();
        let geography = Geography::from_natural_earth_timed(&bytes, &options, &stopwatch).unwrap();
        let elapsed = started.elapsed();
        let report = geography.report();
        eprintln!(
            "{file}: built NE Asia (115–150E, 15–50N, cells {cell_min_deg:.4}°) in {elapsed:?}: parse {:?}, land+coast {:?}, maritime {:?}, index {:?}; {} coast segments, {} cells classified, {} leaves, {} zones, grid {:?}, index memory {:.1} MiB",
            report.parse.unwrap_or_default(),
            report.land_and_coast.unwrap_or_default(),
            report.maritime.unwrap_or_default(),
            report.index.unwrap_or_default(),
            report.n_coast_segments,
            report.maritime_stats.n_cells_classified,
            report.maritime_stats.n_leaves,
            report.n_zones,
            geography.index().grid_dims(),
            report.memory_bytes as f64 / (1024.0 * 1024.0),
        );
        let label = file.trim_end_matches(".json");
        bench_lookups(c, label, geography.index(), &points);
    }
}

criterion_group! {
    name = geo_benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = benches
}
criterion_main!(geo_benches);
