//! `trilat missile …`: simulate flights and radar detections, assess detections, evaluate the
//! engine against simulated truth and published launches. Glue only: the engine is
//! `trilat_missile`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use trilat_missile::assess::Assessment;
use trilat_missile::engine::{EngineEvent, EngineParams, MissileEngine};
use trilat_missile::frames::Geodetic;
use trilat_missile::sensors::{format_time, parse_detections, SensorRegistry};
use trilat_missile::sim::{self, FlightSpec, Profile, RadarSettings, SalvoSpec, Trajectory};
use trilat_missile::zones::{GeoZones, ZoneOracle};

/// The `trilat missile` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Simulate missile flights and the detections the partners' radars make of them.
    #[command(after_help = SIMULATE_HELP)]
    Simulate(SimulateArgs),
    /// Assess detections: tracks, launch, apogee, impact, EEZ probability, warnings.
    #[command(after_help = ASSESS_HELP)]
    Assess(AssessArgs),
    /// Evaluate the engine against simulated truth or the published-launch table.
    #[command(after_help = EVAL_HELP)]
    Eval(EvalArgs),
}

const SIMULATE_HELP: &str = "Examples:
  # A lofted MRBM-class shot from Sunan (950 km) seen by US, Japanese and Korean radars
  trilat missile simulate --out-dir /tmp/demo
  # The lofted ICBM of the engine's demo scenario (apogee 4,500 km)
  trilat missile simulate --apogee-km 4500 --out-dir /tmp/icbm
  # A salvo of four SRBMs from Sohae, 30 s apart, bearing 70°, apogee 60 km, range 400 km
  trilat missile simulate --site 39.66,124.71 --bearing 70 --apogee-km 60 --range-km 400 \\
      --n-missiles 4 --interval-s 30 --out-dir /tmp/salvo
  # A minimum-energy shot to 1,300 km (apogee from the profile)
  trilat missile simulate --range-km 1300 --profile minimum-energy --out-dir /tmp/mrbm

Writes SENSORS.json, DETECTIONS.jsonl and TRUTH.json (the true trajectories, separately).
The default sensors are public, approximate radar sites of the three partners; they are not
official positions or performance figures.";

const ASSESS_HELP: &str = "Examples:
  trilat missile assess --sensors /tmp/demo/SENSORS.json /tmp/demo/DETECTIONS.jsonl
  trilat missile assess --sensors S.json D.jsonl --json --timeline > timeline.jsonl
  trilat missile assess --sensors S.json D.jsonl --zones countries-50m.json

Zones come from the shared geography (trilat-geo, the same zones the AIS engine and the node
use): land from Natural Earth (world-atlas TopoJSON), territorial sea (12 nm), EEZ (12-200 nm,
median lines, known disputes) computed from its coast for 115-150E 15-50N, all approximate;
building them takes a few seconds. By default the Natural Earth 1:10m countries shipped inside
trilat are used; --zones names another world-atlas file (e.g. countries-10m.json), and a file
that cannot be read is an error; --official-eez replaces Japan's computed EEZ with your
polygons (GeoJSON).
Exit status: 0 on success, 1 on bad input (the message names the line).";

const EVAL_HELP: &str = "Examples:
  # Many simulated flights of each class: median errors, the launch/range spread
  # (90th percentile, worst) and the impact-error curve
  trilat missile eval classes --flights-per-class 10
  # Every launch since 2017 with known apogee, distance and bearing
  trilat missile eval published --since 2017
  # Salvos: are they split into the right number of tracks?
  trilat missile eval salvos --n-salvos 5";

/// Arguments of `trilat missile simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Output directory for SENSORS.json, DETECTIONS.jsonl and TRUTH.json.
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
    /// Sensors to use (SENSORS.json); default: the built-in approximate partner set.
    #[arg(long)]
    pub sensors: Option<PathBuf>,
    /// Launch site "lat,lon" (degrees); default Sunan, Pyongyang.
    #[arg(long, value_parser = parse_lat_lon)]
    pub site: Option<(f64, f64)>,
    /// Launch time (RFC 3339 UTC).
    #[arg(long, default_value = "2026-01-01T00:00:00Z")]
    pub launch_time: String,
    /// Bearing (degrees from north).
    #[arg(long, default_value_t = 80.0)]
    pub bearing: f64,
    /// Apogee (km); default from the profile.
    #[arg(long)]
    pub apogee_km: Option<f64>,
    /// Ground range (km).
    #[arg(long, default_value_t = 950.0)]
    pub range_km: f64,
    /// Trajectory shape when no apogee is given.
    #[arg(long, value_enum, default_value = "lofted")]
    pub profile: ProfileArg,
    /// Number of missiles in the salvo.
    #[arg(long, default_value_t = 1)]
    pub n_missiles: usize,
    /// Seconds between launches in the salvo.
    #[arg(long, default_value_t = 30.0)]
    pub interval_s: f64,
    /// Probability of detection per scan.
    #[arg(long, default_value_t = 0.9)]
    pub pd: f64,
    /// Mean false alarms per sensor scan.
    #[arg(long, default_value_t = 0.05)]
    pub false_alarms: f64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Trajectory shapes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProfileArg {
    /// High apogee, short range.
    Lofted,
    /// Least energy for the range.
    MinimumEnergy,
    /// Flat and low.
    Depressed,
}

/// Arguments of `trilat missile assess`.
#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    /// The sensor registry (SENSORS.json).
    #[arg(long)]
    pub sensors: PathBuf,
    /// The detections (DETECTIONS.jsonl), in time order.
    pub detections: PathBuf,
    /// Print JSON (one assessment per line) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Print every assessment in data order, not only the final one per missile.
    #[arg(long)]
    pub timeline: bool,
    /// Countries as Natural Earth TopoJSON (world-atlas countries-10m.json); default: the
    /// Natural Earth 1:10m countries shipped with trilat.
    #[arg(long)]
    pub zones: Option<PathBuf>,
    /// Official EEZ polygons for Japan (GeoJSON), replacing the computed EEZ.
    #[arg(long)]
    pub official_eez: Option<PathBuf>,
    /// Also print warnings.
    #[arg(long)]
    pub warnings: bool,
    /// Also print track reports (every 5 s of data per track).
    #[arg(long)]
    pub tracks: bool,
}

/// Arguments of `trilat missile eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// What to evaluate.
    #[arg(value_enum)]
    pub what: EvalWhat,
    /// Flights per class (classes).
    #[arg(long, default_value_t = 10)]
    pub flights_per_class: usize,
    /// Number of salvos (salvos).
    #[arg(long, default_value_t = 5)]
    pub n_salvos: usize,
    /// First year of published launches (published).
    #[arg(long, default_value_t = 2017)]
    pub since: i32,
    /// Published-launch CSV; default: the shared data file.
    #[arg(long)]
    pub launches: Option<PathBuf>,
    /// Countries as Natural Earth TopoJSON (world-atlas countries-10m.json); default: the
    /// Natural Earth 1:10m countries shipped with trilat.
    #[arg(long)]
    pub zones: Option<PathBuf>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Evaluations.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EvalWhat {
    /// Simulated flights of each class.
    Classes,
    /// Salvos of several missiles.
    Salvos,
    /// The published launches since a year.
    Published,
}

fn parse_lat_lon(text: &str) -> Result<(f64, f64), String> {
    let (a, b) = text.split_once(',').ok_or("expected lat,lon")?;
    let lat: f64 = a
        .trim()
        .parse()
        .map_err(|_| format!("bad latitude {a:?}"))?;
    let lon: f64 = b
        .trim()
        .parse()
        .map_err(|_| format!("bad longitude {b:?}"))?;
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        return Err(format!("{lat},{lon} is not a position"));
    }
    Ok((lat, lon))
}

fn shared_data() -> PathBuf {
    std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

const LAUNCHES_FILE: &str = "missiles/nk_missile_tests_1984_2026.csv";

/// The zones assessments use: the named world-atlas file, or the Natural Earth data shipped
/// with trilat. A named file that cannot be read or parsed is an error naming it, never
/// "no zones" (which would report a confident 0 % for every zone).
fn load_zones(explicit: Option<&Path>, official_eez: Option<&Path>) -> anyhow::Result<GeoZones> {
    let official = official_eez
        .map(|eez| {
            std::fs::read_to_string(eez).with_context(|| format!("reading {}", eez.display()))
        })
        .transpose()?;
    let Some(path) = explicit else {
        let zones = match &official {
            Some(text) => GeoZones::shipped_with_official_jpn_eez(text),
            None => GeoZones::shipped(),
        };
        return zones.context("zones from the shipped Natural Earth data");
    };
    let topojson =
        std::fs::read(path).with_context(|| format!("reading zones {}", path.display()))?;
    GeoZones::from_natural_earth(&topojson, official.as_deref())
        .with_context(|| format!("zones from {}", path.display()))
}

/// Runs one `trilat missile` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Simulate(args) => simulate(args),
        Command::Assess(args) => assess_cmd(args),
        Command::Eval(args) => eval(args),
    }
}

fn truth_json(flights: &[Trajectory]) -> serde_json::Value {
    let items: Vec<serde_json::Value> = flights
        .iter()
        .enumerate()
        .map(|(idx, t)| {
            let samples: Vec<[f64; 4]> = t
                .samples
                .iter()
                .step_by(10)
                .map(|s| {
                    let g = Geodetic::from_ecef(&s.state.fixed_rows::<3>(0).into_owned());
                    [s.time_s, g.lat_deg, g.lon_deg, g.height_m / 1000.0]
                })
                .collect();
            serde_json::json!({
                "missile": idx + 1,
                "launch_time": format_time(t.spec.launch_time_s),
                "launch_lat": t.spec.launch.lat_deg,
                "launch_lon": t.spec.launch.lon_deg,
                "bearing_deg": t.spec.bearing_deg,
                "burnout_time": format_time(t.burnout_time_s),
                "apogee_km": t.apogee_km,
                "range_km": t.range_km,
                "flight_time_s": t.flight_time_s(),
                "impact_time": format_time(t.impact_time_s),
                "impact_lat": t.impact.lat_deg,
                "impact_lon": t.impact.lon_deg,
                "beta_kg_m2": t.spec.beta_kg_m2,
                "samples_unix_lat_lon_height_km": samples,
            })
        })
        .collect();
    serde_json::Value::Array(items)
}

fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let registry = match &args.sensors {
        Some(p) => SensorRegistry::from_json(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("sensors in {}", p.display()))?,
        None => SensorRegistry::new(sim::default_sensors())?,
    };
    let launch_time_s = trilat_missile::sensors::parse_time(&args.launch_time)
        .map_err(|e| anyhow::anyhow!("--launch-time: {e}"))?;
    let (lat, lon) = args.site.unwrap_or(sim::SITE_SUNAN);
    let profile = match args.profile {
        ProfileArg::Lofted => Profile::Lofted,
        ProfileArg::MinimumEnergy => Profile::MinimumEnergy,
        ProfileArg::Depressed => Profile::Depressed,
    };
    let apogee_km = args
        .apogee_km
        .unwrap_or_else(|| profile.apogee_for_range_km(args.range_km));
    if !(0.0..=1.0).contains(&args.pd) || args.false_alarms < 0.0 {
        bail!("--pd must be in [0, 1] and --false-alarms ≥ 0");
    }
    let first = FlightSpec::typical(
        Geodetic::new(lat, lon, 20.0),
        launch_time_s,
        args.bearing,
        apogee_km,
        args.range_km,
    );
    let salvo = SalvoSpec {
        first,
        n_missiles: args.n_missiles,
        interval_s: args.interval_s,
        bearing_step_deg: 2.0,
        launcher_spacing_km: 3.0,
    };
    let flights = sim::fly_salvo(&salvo)?;
    let settings = RadarSettings {
        p_detection: args.pd,
        false_alarms_per_scan: args.false_alarms,
        range_rate: true,
    };
    let detections = sim::detect(&registry, &flights, &settings, args.seed)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    std::fs::write(args.out_dir.join("SENSORS.json"), registry.to_json())?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(
        args.out_dir.join("DETECTIONS.jsonl"),
    )?);
    for d in &detections {
        serde_json::to_writer(&mut out, &d.to_record(&registry))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    std::fs::write(
        args.out_dir.join("TRUTH.json"),
        serde_json::to_string_pretty(&truth_json(&flights))?,
    )?;
    for (idx, t) in flights.iter().enumerate() {
        eprintln!(
            "missile {}: launch {} at {:.3}°N {:.3}°E, apogee {:.0} km, range {:.0} km, flight {:.0} s, impact {:.3}°N {:.3}°E",
            idx + 1,
            format_time(t.spec.launch_time_s),
            t.spec.launch.lat_deg,
            t.spec.launch.lon_deg,
            t.apogee_km,
            t.range_km,
            t.flight_time_s(),
            t.impact.lat_deg,
            t.impact.lon_deg
        );
    }
    eprintln!(
        "{} detections from {} sensors written to {}",
        detections.len(),
        registry.len(),
        args.out_dir.display()
    );
    Ok(())
}

fn print_assessment_row(a: &Assessment) {
    println!(
        "track {:>3}  assessed {}  launch {} {:.3}°N {:.3}°E  apogee {:.0} km  range {:.0} km  flight {:.0} s  impact {} {:.3}°N {:.3}°E  95% ellipse {:.1}×{:.1} km @{:.0}°  {}  P(JPN EEZ) {:.2}  P(JPN terr.) {:.2}  overflown [{}]  parties [{}]",
        a.track_id,
        a.assessed_at,
        a.launch_time,
        a.launch_lat,
        a.launch_lon,
        a.apogee_km,
        a.range_km,
        a.flight_time_s,
        a.impact_time,
        a.impact_lat,
        a.impact_lon,
        a.impact_ellipse.semi_major_km,
        a.impact_ellipse.semi_minor_km,
        a.impact_ellipse.bearing_deg,
        a.class.as_str(),
        a.p_impact_in_jpn_eez,
        a.p_impact_in_jpn_territory,
        a.overflown.join(","),
        a.parties.join(",")
    );
}

fn assess_cmd(args: AssessArgs) -> anyhow::Result<()> {
    let sensors_text = std::fs::read_to_string(&args.sensors)
        .with_context(|| format!("reading {}", args.sensors.display()))?;
    let registry = SensorRegistry::from_json(&sensors_text)
        .with_context(|| format!("{}", args.sensors.display()))?;
    let det_text = std::fs::read_to_string(&args.detections)
        .with_context(|| format!("reading {}", args.detections.display()))?;
    let detections = parse_detections(&det_text, &registry)
        .with_context(|| format!("{}", args.detections.display()))?;
    let zones = load_zones(args.zones.as_deref(), args.official_eez.as_deref())?;
    let mut engine = MissileEngine::new(registry, Box::new(zones), EngineParams::default());
    let bar = indicatif::ProgressBar::new(detections.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} detections {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let emit = |events: Vec<EngineEvent>, out: &mut dyn Write| -> anyhow::Result<()> {
        for e in events {
            match &e {
                EngineEvent::Assessment(a) if args.timeline => {
                    if args.json {
                        serde_json::to_writer(&mut *out, a.as_ref())?;
                        writeln!(out)?;
                    } else {
                        print_assessment_row(a);
                    }
                }
                EngineEvent::Track(t) if args.tracks => {
                    if args.json {
                        serde_json::to_writer(&mut *out, &serde_json::json!({"track": t}))?;
                        writeln!(out)?;
                    } else {
                        println!(
                            "TRACK {} {} {:.3}°N {:.3}°E {:.1} km {} {}",
                            t.track_id, t.time, t.lat, t.lon, t.height_km, t.phase, t.state
                        );
                    }
                }
                EngineEvent::Warning(w) if args.warnings => {
                    if args.json {
                        serde_json::to_writer(&mut *out, &serde_json::json!({"warning": w}))?;
                        writeln!(out)?;
                    } else {
                        println!(
                            "WARNING track {} {:?} {:?} at {}: {}",
                            w.track_id, w.level, w.status, w.issued_at, w.reason
                        );
                    }
                }
                _ => {}
            }
        }
        Ok(())
    };
    for (idx, d) in detections.iter().enumerate() {
        let events = engine
            .feed(d)
            .with_context(|| format!("{}: detection {}", args.detections.display(), idx + 1))?;
        emit(events, &mut out)?;
        bar.inc(1);
    }
    let end = detections.last().map_or(0.0, |d| d.time_s) + 3_600.0;
    let events = engine.finish(end);
    emit(events, &mut out)?;
    bar.finish_and_clear();
    if !args.timeline {
        let finals: Vec<&Assessment> = engine.assessments().collect();
        if finals.is_empty() {
            eprintln!("no missile assessed (no confirmed track reached ballistic flight)");
        }
        for a in finals {
            if args.json {
                serde_json::to_writer(&mut out, a)?;
                writeln!(out)?;
            } else {
                print_assessment_row(a);
            }
        }
    }
    Ok(())
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let registry = SensorRegistry::new(sim::default_sensors())?;
    let zones = load_zones(args.zones.as_deref(), None)?;
    let make_zones = || -> Box<dyn ZoneOracle + Send + Sync> { Box::new(zones.clone()) };
    let settings = RadarSettings::default();
    let report = match args.what {
        EvalWhat::Classes => {
            let bar = indicatif::ProgressBar::new(4 * args.flights_per_class as u64);
            let report = trilat_missile::eval::classes_report(
                &registry,
                &settings,
                args.seed,
                args.flights_per_class,
                &make_zones,
                &mut || bar.inc(1),
            )?;
            bar.finish_and_clear();
            report
        }
        EvalWhat::Salvos => trilat_missile::eval::salvos_report(
            &registry,
            &settings,
            args.seed,
            args.n_salvos,
            &make_zones,
        )?,
        EvalWhat::Published => {
            let path = args
                .launches
                .clone()
                .unwrap_or_else(|| shared_data().join(LAUNCHES_FILE));
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "reading {} (set TRILAT_SHARED_DATA or --launches)",
                    path.display()
                )
            })?;
            let bar = indicatif::ProgressBar::new(200);
            let report = trilat_missile::eval::published_report(
                &registry,
                &settings,
                args.seed,
                &text,
                args.since,
                &make_zones,
                &mut || bar.inc(1),
            )?;
            bar.finish_and_clear();
            report
        }
    };
    println!("{report}");
    Ok(())
}
