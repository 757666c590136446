//! Evaluation through coverage gaps: simulated flights whose detections are removed over a
//! deliberate window (every radar silent), salvos from one site minutes apart, and radars that
//! report late. Scores whether each missile stayed one track from launch to impact, the launch
//! error of tracks re-acquired after a gap, and the impact error over flight time.

use serde::Serialize;

use crate::assess::{Assessment, Coverage};
use crate::engine::{EngineDiagnostics, EngineEvent, EngineParams, MissileEngine};
use crate::error::{ErrorKind, Result};
use crate::filter::detection_position;
use crate::frames::{great_circle_m, Geodetic};
use crate::sensors::{Detection, SensorRegistry};
use crate::sim::{detect, fly, FlightSpec, RadarSettings, Trajectory};
use crate::warning::{Warning, WarningStatus};
use crate::zones::ZoneOracle;

/// Seconds after burnout before a deliberate gap opens: the ballistic phase must be
/// established (the assessment waits 10 s of ballistic evidence; 60 s leaves margin). A gap
/// during boost cannot be coasted: the burnout state is unknown.
pub const GAP_AFTER_BURNOUT_S: f64 = 60.0;

/// A detection this close to a missile's true position is that missile's (the simulated
/// radars' noise is at most a few km at 2,000 km; false alarms are spread over the whole
/// coverage).
const MISSILE_DETECTION_RADIUS_M: f64 = 50_000.0;

/// Where the Hwasong-19 of 31 October 2024 and the Hwasong-12 of 4 October 2022 were launched
/// from, approximately (near Pyongyang; Mupyong-ni, Jagang province).
const SITE_PYONGYANG: (f64, f64) = (39.02, 125.75);
const SITE_MUPYONG: (f64, f64) = (40.61, 126.43);

/// One scenario: flights, and which detections are withheld or delayed.
#[derive(Debug, Clone)]
pub struct GapScenario {
    /// Label (kind of flight).
    pub label: &'static str,
    /// The true flights (two or more for a salvo).
    pub flights: Vec<Trajectory>,
    /// Every radar silent over this window (Unix seconds, start inclusive, end exclusive).
    pub gap: (f64, f64),
    /// Delay (s) of one radar's reports (arrival after later detections of other radars).
    pub late_s: Option<f64>,
}

/// What became of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct GapOutcome {
    /// Label.
    pub label: &'static str,
    /// Missiles flown.
    pub n_missiles: usize,
    /// Tracks that produced an assessment.
    pub n_tracks: usize,
    /// Warnings first issued (one per missile when all is well).
    pub n_warnings_issued: usize,
    /// Every missile kept as exactly one track (and no extra tracks).
    pub one_track_per_missile: bool,
    /// Per matched track: final launch-point error (km).
    pub launch_km: Vec<f64>,
    /// Per matched track: re-acquired (assessed before the gap and tracked after it).
    pub reacquired: Vec<bool>,
    /// Per missile: final impact error (km).
    pub impact_km: Vec<f64>,
    /// (fraction of flight, impact error km, coverage) of every assessment of matched tracks.
    pub impact_curve: Vec<(f64, f64, Coverage)>,
    /// Late detections fused and refused.
    pub diagnostics: EngineDiagnostics,
}

/// A flight spec from a site.
fn spec(site: (f64, f64), bearing: f64, apogee_km: f64, range_km: f64) -> FlightSpec {
    FlightSpec::typical(
        Geodetic::new(site.0, site.1, 20.0),
        1.7e9,
        bearing,
        apogee_km,
        range_km,
    )
}

/// A gap from [`GAP_AFTER_BURNOUT_S`] after burnout lasting `fraction` of the flight.
fn gap_after_burnout(flight: &Trajectory, fraction: f64) -> (f64, f64) {
    let start = flight.burnout_time_s + GAP_AFTER_BURNOUT_S;
    (start, start + fraction * flight.flight_time_s())
}

/// `n` scenarios of each kind, deterministic for a seed: a lofted ICBM like the Hwasong-19
/// (apogee 7,000–8,000 km, range 900–1,100 km, about 86 minutes), an IRBM over Japan like the
/// Hwasong-12 of 4 October 2022 (apogee 900–1,000 km, range 4,400–4,700 km), a salvo of two
/// lofted IRBMs from one site 2–5 minutes apart on azimuths 1° apart, and an IRBM one of whose
/// radars reports late. Each with a deliberate gap of 20–50 % of the flight.
pub fn gap_scenarios(seed: u64, n: usize) -> Result<Vec<GapScenario>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for _ in 0..n {
        let icbm = fly(&spec(
            SITE_PYONGYANG,
            rng.gen_range(75.0..95.0),
            rng.gen_range(7_000.0..8_000.0),
            rng.gen_range(900.0..1_100.0),
        ))?;
        let gap = gap_after_burnout(&icbm, rng.gen_range(0.2..0.5));
        out.push(GapScenario {
            label: "lofted ICBM (Hwasong-19-like)",
            flights: vec![icbm],
            gap,
            late_s: None,
        });
        let irbm_spec = spec(
            SITE_MUPYONG,
            rng.gen_range(80.0..95.0),
            rng.gen_range(900.0..1_000.0),
            rng.gen_range(4_400.0..4_700.0),
        );
        let irbm = fly(&irbm_spec)?;
        let gap = gap_after_burnout(&irbm, rng.gen_range(0.2..0.5));
        out.push(GapScenario {
            label: "IRBM over Japan (Hwasong-12-like)",
            flights: vec![irbm.clone()],
            gap,
            late_s: None,
        });
        let first = spec(
            crate::sim::SITE_SUNAN,
            rng.gen_range(80.0..90.0),
            rng.gen_range(2_000.0..3_000.0),
            rng.gen_range(800.0..1_000.0),
        );
        let interval = rng.gen_range(120.0..300.0);
        let mut second = first.clone();
        second.launch_time_s += interval;
        second.bearing_deg += 1.0;
        let salvo = vec![fly(&first)?, fly(&second)?];
        let gap = gap_after_burnout(&salvo[1], rng.gen_range(0.2..0.4));
        out.push(GapScenario {
            label: "salvo of two lofted IRBMs, one site, minutes apart",
            flights: salvo,
            gap,
            late_s: None,
        });
        let gap = gap_after_burnout(&irbm, rng.gen_range(0.2..0.5));
        out.push(GapScenario {
            label: "IRBM with a radar reporting 1.5 s late",
            flights: vec![irbm],
            gap,
            late_s: Some(1.5),
        });
    }
    Ok(out)
}

/// The detections of a scenario in the order they reach the engine: the gap removed, and the
/// busiest radar's reports delayed by `late_s` when set.
pub fn arrivals(
    registry: &SensorRegistry,
    scenario: &GapScenario,
    settings: &RadarSettings,
    seed: u64,
) -> Result<Vec<Detection>> {
    let mut dets = detect(registry, &scenario.flights, settings, seed)?;
    let (g0, g1) = scenario.gap;
    // In the gap the radars lose the missiles, not their clutter: false alarms (far from
    // every missile) go on, and with them the scans that advance the engine's time.
    let of_a_missile = |d: &Detection| {
        let pos = detection_position(registry.get(d.sensor_idx), d);
        scenario.flights.iter().any(|f| {
            f.state_at(d.time_s)
                .is_some_and(|x| (x.fixed_rows::<3>(0) - pos).norm() < MISSILE_DETECTION_RADIUS_M)
        })
    };
    dets.retain(|d| d.time_s < g0 || d.time_s >= g1 || !of_a_missile(d));
    if let Some(late) = scenario.late_s {
        let mut counts = vec![0usize; registry.len()];
        for d in &dets {
            counts[d.sensor_idx] += 1;
        }
        let busiest = (0..counts.len()).max_by_key(|&i| counts[i]).unwrap_or(0);
        let arrival = |d: &Detection| d.time_s + if d.sensor_idx == busiest { late } else { 0.0 };
        dets.sort_by(|a, b| arrival(a).total_cmp(&arrival(b)));
    }
    Ok(dets)
}

/// Runs one scenario through a fresh engine and scores it.
pub fn run_gap_scenario(
    registry: &SensorRegistry,
    scenario: &GapScenario,
    settings: &RadarSettings,
    seed: u64,
    zones: Box<dyn ZoneOracle + Send + Sync>,
) -> Result<(GapOutcome, Vec<EngineEvent>)> {
    let detections = arrivals(registry, scenario, settings, seed)?;
    let mut engine = MissileEngine::new(registry.clone(), zones, EngineParams::default());
    let mut events = Vec::new();
    for d in &detections {
        match engine.feed(d) {
            Ok(e) => events.extend(e),
            // Counted by the engine; a late detection beyond the window is not an error here.
            Err(e) if matches!(e.kind, ErrorKind::LateDetection { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let end = detections.iter().map(|d| d.time_s).fold(0.0, f64::max);
    events.extend(engine.finish(end + 3_600.0));
    let outcome = score(scenario, &events, engine.diagnostics());
    Ok((outcome, events))
}

/// Matches tracks to missiles by final impact point and time, and scores.
fn score(scenario: &GapScenario, events: &[EngineEvent], diag: EngineDiagnostics) -> GapOutcome {
    let assessments: Vec<&Assessment> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Assessment(a) => Some(&**a),
            _ => None,
        })
        .collect();
    let mut ids: Vec<u64> = assessments.iter().map(|a| a.track_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let impact_km = |a: &Assessment, t: &Trajectory| {
        great_circle_m(
            a.impact_lat,
            a.impact_lon,
            t.impact.lat_deg,
            t.impact.lon_deg,
        ) / 1000.0
    };
    // Each track to the missile its last tracked assessment is nearest (km + s).
    let mut per_missile: Vec<Vec<u64>> = vec![Vec::new(); scenario.flights.len()];
    let mut finals = Vec::new();
    for &id in &ids {
        let series: Vec<&&Assessment> = assessments.iter().filter(|a| a.track_id == id).collect();
        let last = series
            .iter()
            .rev()
            .find(|a| a.coverage == Coverage::Tracked)
            .or(series.last())
            .copied();
        let Some(last) = last else { continue };
        let nearest = scenario
            .flights
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| {
                let cost = |t: &Trajectory| {
                    impact_km(last, t) + (last.impact_time_s - t.impact_time_s).abs()
                };
                cost(a).total_cmp(&cost(b))
            });
        if let Some((idx, _)) = nearest {
            per_missile[idx].push(id);
            finals.push((idx, *last, series));
        }
    }
    let mut launch = Vec::new();
    let mut reacquired = Vec::new();
    let mut impact = Vec::new();
    let mut curve = Vec::new();
    for (idx, last, series) in &finals {
        let t = &scenario.flights[*idx];
        launch.push(
            great_circle_m(
                last.launch_lat,
                last.launch_lon,
                t.spec.launch.lat_deg,
                t.spec.launch.lon_deg,
            ) / 1000.0,
        );
        impact.push(impact_km(last, t));
        let at = |a: &Assessment| crate::sensors::parse_time(&a.assessed_at).unwrap_or(0.0);
        reacquired.push(
            series.iter().any(|a| at(a) < scenario.gap.0)
                && series
                    .iter()
                    .any(|a| at(a) >= scenario.gap.1 && a.coverage == Coverage::Tracked),
        );
        for a in series {
            let at = crate::sensors::parse_time(&a.assessed_at).unwrap_or(t.spec.launch_time_s);
            let fraction = (at - t.spec.launch_time_s) / t.flight_time_s();
            curve.push((fraction, impact_km(a, t), a.coverage));
        }
    }
    let n_warnings_issued = events
        .iter()
        .filter(|e| {
            matches!(e, EngineEvent::Warning(Warning { status, .. }) if *status == WarningStatus::Issued)
        })
        .count();
    GapOutcome {
        label: scenario.label,
        n_missiles: scenario.flights.len(),
        n_tracks: ids.len(),
        n_warnings_issued,
        one_track_per_missile: per_missile.iter().all(|ids| ids.len() == 1),
        launch_km: launch,
        reacquired,
        impact_km: impact,
        impact_curve: curve,
        diagnostics: diag,
    }
}

/// Markdown report over `n` scenarios of each kind: the fraction kept as one track per
/// missile, the launch error of the re-acquired tracks, the impact error over flight time.
pub fn gaps_report(
    registry: &SensorRegistry,
    settings: &RadarSettings,
    seed: u64,
    n: usize,
    make_zones: &dyn Fn() -> Box<dyn ZoneOracle + Send + Sync>,
) -> Result<String> {
    use std::fmt::Write as _;
    let scenarios = gap_scenarios(seed, n)?;
    let mut outcomes = Vec::new();
    for (idx, s) in scenarios.iter().enumerate() {
        outcomes.push(run_gap_scenario(registry, s, settings, seed + idx as u64, make_zones())?.0);
    }
    let mut out = String::new();
    let q = |v: &[f64], q: f64| crate::eval::quantile(v, q).unwrap_or(f64::NAN);
    let _ = writeln!(out, "| scenario | runs | kept one track per missile | tracks / missiles | warnings issued / missiles | tracks re-acquired after the gap | their launch error km median / p90 / max | final impact error km median / max | late detections fused / refused |\n|---|---|---|---|---|---|---|---|---|");
    let mut labels: Vec<&str> = Vec::new();
    for o in &outcomes {
        if !labels.contains(&o.label) {
            labels.push(o.label);
        }
    }
    for label in labels {
        let sel: Vec<&GapOutcome> = outcomes.iter().filter(|o| o.label == label).collect();
        let kept = sel.iter().filter(|o| o.one_track_per_missile).count();
        let launch: Vec<f64> = sel
            .iter()
            .flat_map(|o| o.launch_km.iter().zip(&o.reacquired))
            .filter(|(_, r)| **r)
            .map(|(km, _)| *km)
            .collect();
        let impact: Vec<f64> = sel.iter().flat_map(|o| o.impact_km.clone()).collect();
        let sum = |f: &dyn Fn(&GapOutcome) -> usize| sel.iter().map(|o| f(o)).sum::<usize>();
        let _ = writeln!(
            out,
            "| {label} | {} | {kept}/{} | {}/{} | {}/{} | {} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} | {} / {} |",
            sel.len(),
            sel.len(),
            sum(&|o| o.n_tracks),
            sum(&|o| o.n_missiles),
            sum(&|o| o.n_warnings_issued),
            sum(&|o| o.n_missiles),
            launch.len(),
            q(&launch, 0.5),
            q(&launch, 0.9),
            q(&launch, 1.0),
            q(&impact, 0.5),
            q(&impact, 1.0),
            sel.iter().map(|o| o.diagnostics.late_fused).sum::<u64>(),
            sel.iter().map(|o| o.diagnostics.late_refused).sum::<u64>(),
        );
    }
    let _ = writeln!(out, "\nImpact error over flight time (every assessment of every matched track; `coasting` rows are predictions through the gap):\n\n| flight fraction | tracked: assessments, median km, p90 km | coasting: assessments, median km, p90 km |\n|---|---|---|");
    let curve: Vec<(f64, f64, Coverage)> = outcomes
        .iter()
        .flat_map(|o| o.impact_curve.clone())
        .collect();
    for bin in 0..10 {
        let (lo, hi) = (bin as f64 / 10.0, (bin + 1) as f64 / 10.0);
        let cell = |coverage: Coverage| {
            let errs: Vec<f64> = curve
                .iter()
                .filter(|(f, _, c)| *f >= lo && *f < hi && *c == coverage)
                .map(|(_, e, _)| *e)
                .collect();
            if errs.is_empty() {
                "–".to_string()
            } else {
                format!("{}, {:.2}, {:.2}", errs.len(), q(&errs, 0.5), q(&errs, 0.9))
            }
        };
        let _ = writeln!(
            out,
            "| {lo:.1}–{hi:.1} | {} | {} |",
            cell(Coverage::Tracked),
            cell(Coverage::Coasting)
        );
    }
    Ok(out)
}
