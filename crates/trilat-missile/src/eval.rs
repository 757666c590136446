//! Evaluation against simulated truth: run the engine over simulated detections, match each
//! true missile to its assessed track, and measure launch, apogee, range, flight-time and
//! impact errors, plus the impact-error curve over flight time.

use serde::Serialize;

use crate::assess::Assessment;
use crate::engine::{EngineEvent, EngineParams, MissileEngine};
use crate::error::Result;
use crate::frames::great_circle_m;
use crate::sensors::{Detection, SensorRegistry};
use crate::sim::{detect, RadarSettings, Trajectory};
use crate::zones::ZoneOracle;

/// Errors of the final assessment of one missile.
#[derive(Debug, Clone, Serialize)]
pub struct FlightErrors {
    /// Launch point error (km).
    pub launch_km: f64,
    /// Launch time error (s, estimate − truth).
    pub launch_time_s: f64,
    /// Relative apogee error (estimate/truth − 1).
    pub apogee_rel: f64,
    /// Relative range error.
    pub range_rel: f64,
    /// Flight time error (s).
    pub flight_time_s: f64,
    /// Impact point error (km) of the final assessment.
    pub impact_km: f64,
    /// Impact error (km) of the first assessment after the ballistic phase was established.
    pub impact_first_km: f64,
    /// Estimated apogee (km), range (km), flight time (s).
    pub estimate: (f64, f64, f64),
    /// (seconds after launch, impact error km) of every assessment.
    pub impact_curve: Vec<(f64, f64)>,
    /// Final assessment's P(impact in JPN EEZ).
    pub p_eez: f64,
}

/// The outcome of one simulated scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioOutcome {
    /// Number of true missiles.
    pub n_missiles: usize,
    /// Number of tracks that produced an assessment.
    pub n_assessed_tracks: usize,
    /// Per missile (in truth order): errors, or `None` when no track matched it.
    pub flights: Vec<Option<FlightErrors>>,
    /// Number of detections.
    pub n_detections: usize,
}

/// Runs the engine over detections and returns every assessment in data order.
pub fn assess_all(
    registry: &SensorRegistry,
    zones: Box<dyn ZoneOracle + Send + Sync>,
    detections: &[Detection],
    params: EngineParams,
) -> Result<Vec<Assessment>> {
    let mut engine = MissileEngine::new(registry.clone(), zones, params);
    let mut out = Vec::new();
    let take = |events: Vec<EngineEvent>, out: &mut Vec<Assessment>| {
        out.extend(events.into_iter().filter_map(|e| match e {
            EngineEvent::Assessment(a) => Some(*a),
            _ => None,
        }))
    };
    for d in detections {
        let events = engine.feed(d)?;
        take(events, &mut out);
    }
    let end = detections.last().map_or(0.0, |d| d.time_s) + 3_600.0;
    take(engine.finish(end), &mut out);
    Ok(out)
}

/// Simulates detections of `flights`, runs the engine, and scores each missile.
pub fn run_scenario(
    registry: &SensorRegistry,
    flights: &[Trajectory],
    settings: &RadarSettings,
    seed: u64,
    zones: Box<dyn ZoneOracle + Send + Sync>,
) -> Result<ScenarioOutcome> {
    let detections = detect(registry, flights, settings, seed)?;
    let timeline = assess_all(registry, zones, &detections, EngineParams::default())?;
    let mut track_ids: Vec<u64> = timeline.iter().map(|a| a.track_id).collect();
    track_ids.sort_unstable();
    track_ids.dedup();
    // Match truths and tracks one-to-one, closest pairs first, by the final estimate's impact
    // point (km) and impact time (s): salvo members differ in both.
    let mut pairs: Vec<(f64, usize, u64)> = Vec::new();
    for (truth_idx, truth) in flights.iter().enumerate() {
        for &id in &track_ids {
            let Some(last) = timeline.iter().rev().find(|a| a.track_id == id) else {
                continue;
            };
            let km = great_circle_m(
                last.impact_lat,
                last.impact_lon,
                truth.impact.lat_deg,
                truth.impact.lon_deg,
            ) / 1000.0;
            pairs.push((
                km + (last.impact_time_s - truth.impact_time_s).abs(),
                truth_idx,
                id,
            ));
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut matched: Vec<Option<u64>> = vec![None; flights.len()];
    let mut used = Vec::new();
    for (_, truth_idx, id) in pairs {
        if matched[truth_idx].is_none() && !used.contains(&id) {
            matched[truth_idx] = Some(id);
            used.push(id);
        }
    }
    let mut out = Vec::new();
    for (truth, id) in flights.iter().zip(matched) {
        let Some(id) = id else {
            out.push(None);
            continue;
        };
        let series: Vec<&Assessment> = timeline.iter().filter(|a| a.track_id == id).collect();
        let last = series[series.len() - 1];
        let impact_err = |a: &Assessment| {
            great_circle_m(
                a.impact_lat,
                a.impact_lon,
                truth.impact.lat_deg,
                truth.impact.lon_deg,
            ) / 1000.0
        };
        out.push(Some(FlightErrors {
            launch_km: great_circle_m(
                last.launch_lat,
                last.launch_lon,
                truth.spec.launch.lat_deg,
                truth.spec.launch.lon_deg,
            ) / 1000.0,
            launch_time_s: last.launch_time_s - truth.spec.launch_time_s,
            apogee_rel: last.apogee_km / truth.apogee_km - 1.0,
            range_rel: last.range_km / truth.range_km - 1.0,
            flight_time_s: last.flight_time_s - truth.flight_time_s(),
            impact_km: impact_err(last),
            impact_first_km: impact_err(series[0]),
            estimate: (last.apogee_km, last.range_km, last.flight_time_s),
            impact_curve: series
                .iter()
                .map(|a| {
                    (
                        crate::sensors::parse_time(&a.assessed_at).unwrap_or(0.0)
                            - truth.spec.launch_time_s,
                        impact_err(a),
                    )
                })
                .collect(),
            p_eez: last.p_impact_in_jpn_eez,
        }));
    }
    Ok(ScenarioOutcome {
        n_missiles: flights.len(),
        n_assessed_tracks: track_ids.len(),
        flights: out,
        n_detections: detections.len(),
    })
}

/// Median of a slice (NaN-free), `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Random flights of each class from DPRK sites toward the Sea of Japan: SRBM (range
/// 300–800 km, depressed to minimum-energy), MRBM (1,000–1,300 km), lofted IRBM and lofted ICBM
/// (apogee 2–3 and 4–6 times the range). Labelled by class. Deterministic for a seed.
pub fn class_specs(seed: u64, flights_per_class: usize) -> Vec<(String, crate::sim::FlightSpec)> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let sites = [
        crate::sim::SITE_SUNAN,
        crate::sim::SITE_SOHAE,
        (40.0, 128.3),
        (39.9, 127.6),
    ];
    // (label, range band km, apogee/range band)
    type ClassBand = (&'static str, (f64, f64), (f64, f64));
    let classes: [ClassBand; 4] = [
        ("SRBM", (300.0, 800.0), (0.12, 0.3)),
        ("MRBM", (1_000.0, 1_300.0), (0.25, 0.5)),
        ("IRBM (lofted)", (700.0, 1_000.0), (2.0, 3.0)),
        ("ICBM (lofted)", (900.0, 1_100.0), (4.0, 6.0)),
    ];
    let mut out = Vec::new();
    for (label, (r0, r1), (k0, k1)) in classes {
        for _ in 0..flights_per_class {
            let range = rng.gen_range(r0..r1);
            let apogee = range * rng.gen_range(k0..k1);
            let site = sites[rng.gen_range(0..sites.len())];
            let bearing = rng.gen_range(60.0..100.0);
            let launch = crate::frames::Geodetic::new(site.0, site.1, 20.0);
            out.push((
                label.to_string(),
                crate::sim::FlightSpec::typical(launch, 1.7e9, bearing, apogee, range),
            ));
        }
    }
    out
}
