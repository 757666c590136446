//! Runs the evaluations behind docs/bench/missile.md without building the whole `trilat`
//! binary: `cargo run --release -p trilat-missile --example missile_eval -- classes 10`.
//! Arguments: `classes N`, `salvos N`, `gaps N` (N scenarios of each kind through coverage
//! gaps), or `published YEAR`; reads `$TRILAT_SHARED_DATA`
//! (default `../shared/data`).
use trilat_missile::sensors::SensorRegistry;
use trilat_missile::sim::{self, RadarSettings};
use trilat_missile::zones::{GeoZones, NoZones, ZoneOracle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("classes");
    let n: i64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let shared = std::env::var("TRILAT_SHARED_DATA").unwrap_or_else(|_| "../shared/data".into());
    let topojson = std::fs::read(format!(
        "{shared}/zones/natural_earth_world_atlas/countries-10m.json"
    ))
    .ok();
    if topojson.is_none() {
        eprintln!("note: no zone file under {shared}; zone probabilities will be 0");
    }
    // Built once (seconds), shared by every run through its Arc.
    let zones = topojson
        .as_deref()
        .map(|bytes| GeoZones::from_natural_earth(bytes, None))
        .transpose()?;
    let make_zones = || -> Box<dyn ZoneOracle + Send + Sync> {
        match &zones {
            Some(z) => Box::new(z.clone()),
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
        "gaps" => {
            trilat_missile::gaps::gaps_report(&registry, &settings, 1, n as usize, &make_zones)?
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
        "stonesoup-input" => {
            let dir = args.get(2).cloned().unwrap_or_else(|| "/tmp/ss".into());
            stonesoup_input(&registry, &dir)?;
            return Ok(());
        }
        other => return Err(format!("unknown evaluation {other}").into()),
    };
    println!("{report}");
    eprintln!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Writes SENSORS.json, DETECTIONS.jsonl, TRUTH.json (as `trilat missile simulate` does) for an
/// MRBM (apogee 550 km, range 500 km, from Sunan), runs the engine on them, and writes its track
/// reports to trilat.jsonl (as `trilat missile assess --json --tracks` does), timing it.
fn stonesoup_input(registry: &SensorRegistry, dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    use trilat_missile::engine::{EngineEvent, EngineParams, MissileEngine};
    use trilat_missile::frames::Geodetic;
    std::fs::create_dir_all(dir)?;
    let spec = sim::FlightSpec::typical(
        Geodetic::new(sim::SITE_SUNAN.0, sim::SITE_SUNAN.1, 20.0),
        1.7e9,
        90.0,
        550.0,
        500.0,
    );
    let truth = sim::fly(&spec)?;
    let detections = sim::detect(
        registry,
        std::slice::from_ref(&truth),
        &RadarSettings::default(),
        1,
    )?;
    std::fs::write(format!("{dir}/SENSORS.json"), registry.to_json())?;
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(format!("{dir}/DETECTIONS.jsonl"))?);
    for d in &detections {
        serde_json::to_writer(&mut out, &d.to_record(registry))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let samples: Vec<[f64; 4]> = truth
        .samples
        .iter()
        .step_by(2)
        .map(|s| {
            let g = Geodetic::from_ecef(&s.state.fixed_rows::<3>(0).into_owned());
            [s.time_s, g.lat_deg, g.lon_deg, g.height_m / 1000.0]
        })
        .collect();
    std::fs::write(
        format!("{dir}/TRUTH.json"),
        serde_json::to_string(&serde_json::json!([{ "samples_unix_lat_lon_height_km": samples }]))?,
    )?;
    // Parse the written file (as assess would), then time the engine alone.
    let text = std::fs::read_to_string(format!("{dir}/DETECTIONS.jsonl"))?;
    let parsed = trilat_missile::sensors::parse_detections(&text, registry)?;
    let started = std::time::Instant::now();
    let mut engine =
        MissileEngine::new(registry.clone(), Box::new(NoZones), EngineParams::default());
    let mut events = Vec::new();
    for d in &parsed {
        events.extend(engine.feed(d)?);
    }
    events.extend(engine.finish(truth.impact_time_s + 600.0));
    let elapsed = started.elapsed().as_secs_f64();
    let mut out = std::io::BufWriter::new(std::fs::File::create(format!("{dir}/trilat.jsonl"))?);
    for e in &events {
        if let EngineEvent::Track(t) = e {
            serde_json::to_writer(&mut out, &serde_json::json!({ "track": t }))?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    println!(
        "trilat engine (tracking, fusion and assessments every 5 s): {} detections in {:.3} s = {:.0} detections/s",
        parsed.len(),
        elapsed,
        parsed.len() as f64 / elapsed
    );
    Ok(())
}
