//! Runs the evaluations behind docs/bench/missile.md without building the whole `trilat`
//! binary: `cargo run --release -p trilat-missile --example missile_eval -- classes 10`.
//! Arguments: `classes N`, `salvos N`, or `published YEAR`; reads `$TRILAT_SHARED_DATA`
//! (default `../shared/data`).
use trilat_missile::sensors::SensorRegistry;
use trilat_missile::sim::{self, RadarSettings};
use trilat_missile::zones::{CoastZones, NoZones, ZoneOracle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("classes");
    let n: i64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let shared = std::env::var("TRILAT_SHARED_DATA").unwrap_or_else(|_| "../shared/data".into());
    let zones_text = std::fs::read_to_string(format!(
        "{shared}/zones/natural_earth_world_atlas/ne_10m_countries_NE-Asia.geojson"
    ))
    .ok();
    if zones_text.is_none() {
        eprintln!("note: no zone file under {shared}; zone probabilities will be 0");
    }
    let zones = zones_text
        .as_deref()
        .map(CoastZones::from_countries_geojson)
        .transpose()?;
    let zones = zones.map(std::sync::Arc::new);
    let make_zones = || -> Box<dyn ZoneOracle + Send + Sync> {
        match &zones {
            Some(z) => Box::new(SharedZones(z.clone())),
            None => Box::new(NoZones),
        }
    };
    let registry = SensorRegistry::new(sim::default_sensors())?;
    let settings = RadarSettings::default();
    let started = std::time::Instant::now();
    let report = match what {
        "classes" => trilat_missile::eval::classes_report(
            &registry,
            &settings,
            1,
            n as usize,
            &make_zones,
            &mut || {},
        )?,
        "salvos" => {
            trilat_missile::eval::salvos_report(&registry, &settings, 1, n as usize, &make_zones)?
        }
        "published" => {
            let csv = std::fs::read_to_string(format!(
                "{shared}/missiles/nk_missile_tests_1984_2026.csv"
            ))?;
            trilat_missile::eval::published_report(
                &registry,
                &settings,
                1,
                &csv,
                n as i32,
                &make_zones,
                &mut || {},
            )?
        }
        other => return Err(format!("unknown evaluation {other}").into()),
    };
    println!("{report}");
    eprintln!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Zones shared between runs (building the coast index once).
struct SharedZones(std::sync::Arc<CoastZones>);

impl ZoneOracle for SharedZones {
    fn classify(&self, lat: f64, lon: f64) -> trilat_missile::zones::ZoneCall {
        self.0.classify(lat, lon)
    }
    fn approximate(&self) -> bool {
        self.0.approximate()
    }
}
