//! Evaluation against simulated truth: run the engine over simulated detections, match each
//! true missile to its assessed track, and measure launch, apogee, range, flight-time and
//! impact errors, plus the impact-error curve over flight time.

/// Appends a line to a `String` report (writing to a `String` cannot fail).
macro_rules! line {
    ($($arg:tt)*) => {{
        let _ = writeln!($($arg)*);
    }};
}

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

/// Markdown report of many simulated flights of each class: median errors and the impact-error
/// curve over flight time. `make_zones` builds the zone oracle per flight; `progress` is called
/// once per flight.
pub fn classes_report(
    registry: &SensorRegistry,
    settings: &RadarSettings,
    seed: u64,
    flights_per_class: usize,
    make_zones: &dyn Fn() -> Box<dyn ZoneOracle + Send + Sync>,
    progress: &mut dyn FnMut(),
) -> Result<String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut notes = String::new();
    let args_seed = seed;

    let specs = crate::eval::class_specs(args_seed, flights_per_class);

    let mut rows: Vec<(String, crate::eval::FlightErrors)> = Vec::new();
    let mut missed = 0;
    let mut curve: Vec<(f64, f64)> = Vec::new();
    for (idx, (label, spec)) in specs.iter().enumerate() {
        progress();
        let flight = match crate::sim::fly(spec) {
            Ok(f) => f,
            Err(e) => {
                line!(
                    notes,
                    "skip {label} {:.0}/{:.0} km: {e}",
                    spec.apogee_km,
                    spec.range_km
                );
                continue;
            }
        };
        let outcome = run_scenario(
            registry,
            std::slice::from_ref(&flight),
            settings,
            args_seed + idx as u64,
            make_zones(),
        )?;
        match outcome.flights.into_iter().next().flatten() {
            Some(e) => {
                curve.extend(
                    e.impact_curve
                        .iter()
                        .map(|(t, err)| (t / flight.flight_time_s(), *err)),
                );
                rows.push((label.clone(), e));
            }
            None => missed += 1,
        }
    }

    line!(out, "| class | flights | median launch error km | median apogee error % | median range error % | median flight-time error s | median impact error km (final) | median impact error km (first ballistic assessment) |");
    line!(out, "|---|---|---|---|---|---|---|---|");
    for label in ["SRBM", "MRBM", "IRBM (lofted)", "ICBM (lofted)"] {
        let sel: Vec<_> = rows
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, e)| e)
            .collect();
        let m = |f: &dyn Fn(&crate::eval::FlightErrors) -> f64| {
            median(&sel.iter().map(|e| f(e)).collect::<Vec<_>>()).unwrap_or(f64::NAN)
        };
        line!(
            out,
            "| {label} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} |",
            sel.len(),
            m(&|e| e.launch_km),
            m(&|e| 100.0 * e.apogee_rel.abs()),
            m(&|e| 100.0 * e.range_rel.abs()),
            m(&|e| e.flight_time_s.abs()),
            m(&|e| e.impact_km),
            m(&|e| e.impact_first_km)
        );
    }
    tail_table(&mut out, &rows);
    line!(out, "\nmissiles with no assessed track: {missed}\n");
    line!(out, "Impact-error curve (all classes; time as a fraction of the flight):\n\n| flight fraction | assessments | median impact error km | 90th percentile km |\n|---|---|---|---|");
    for bin in 0..10 {
        let (lo, hi) = (bin as f64 / 10.0, (bin + 1) as f64 / 10.0);
        let mut errs: Vec<f64> = curve
            .iter()
            .filter(|(f, _)| *f >= lo && *f < hi)
            .map(|(_, e)| *e)
            .collect();
        errs.sort_by(f64::total_cmp);
        if errs.is_empty() {
            continue;
        }
        let p90 = errs[((errs.len() as f64 * 0.9) as usize).min(errs.len() - 1)];
        line!(
            out,
            "| {lo:.1}–{hi:.1} | {} | {:.2} | {:.2} |",
            errs.len(),
            median(&errs).unwrap_or(f64::NAN),
            p90
        );
    }

    out.push_str(&notes);
    Ok(out)
}

/// The `q`-quantile (0 ≤ q ≤ 1) of finite values by the nearest-rank rule, `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    debug_assert!((0.0..=1.0).contains(&q), "quantile {q}");
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = (q * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

/// Launch-point error above which a flight is listed in the tail (the target's median bound).
const TAIL_LAUNCH_KM_MIN: f64 = 5.0;

/// The per-class spread of the launch and range errors (median, 90th percentile, worst) and
/// the flights whose launch error exceeds [`TAIL_LAUNCH_KM_MIN`].
fn tail_table(out: &mut String, rows: &[(String, FlightErrors)]) {
    use std::fmt::Write as _;
    line!(out, "\nSpread per class (median as above; 90th percentile and max by nearest rank):\n\n| class | flights | launch error km median / p90 / max | range error % median / p90 / max | flights with launch error > {TAIL_LAUNCH_KM_MIN} km |\n|---|---|---|---|---|");
    for label in ["SRBM", "MRBM", "IRBM (lofted)", "ICBM (lofted)"] {
        let sel: Vec<&FlightErrors> = rows
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, e)| e)
            .collect();
        let launch: Vec<f64> = sel.iter().map(|e| e.launch_km).collect();
        let range: Vec<f64> = sel.iter().map(|e| 100.0 * e.range_rel.abs()).collect();
        let q = |v: &[f64], q: f64| quantile(v, q).unwrap_or(f64::NAN);
        line!(
            out,
            "| {label} | {} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {} |",
            sel.len(),
            median(&launch).unwrap_or(f64::NAN),
            q(&launch, 0.9),
            q(&launch, 1.0),
            median(&range).unwrap_or(f64::NAN),
            q(&range, 0.9),
            q(&range, 1.0),
            launch.iter().filter(|&&km| km > TAIL_LAUNCH_KM_MIN).count()
        );
    }
}

/// Markdown report of salvos: tracks assessed versus missiles flown.
pub fn salvos_report(
    registry: &SensorRegistry,
    settings: &RadarSettings,
    seed: u64,
    n_salvos: usize,
    make_zones: &dyn Fn() -> Box<dyn ZoneOracle + Send + Sync>,
) -> Result<String> {
    use std::fmt::Write as _;
    let mut out = String::new();

    line!(
        out,
        "| salvo | missiles | interval s | tracks assessed | matched |\n|---|---|---|---|---|"
    );
    for idx in 0..n_salvos {
        let n = 2 + idx % 4;
        let interval = [10.0, 20.0, 30.0, 60.0][idx % 4];
        let first = crate::sim::FlightSpec::typical(
            crate::frames::Geodetic::new(crate::sim::SITE_SOHAE.0, crate::sim::SITE_SOHAE.1, 20.0),
            1.7e9,
            80.0,
            100.0,
            450.0 + 50.0 * idx as f64,
        );
        let flights = crate::sim::fly_salvo(&crate::sim::SalvoSpec {
            first,
            n_missiles: n,
            interval_s: interval,
            bearing_step_deg: 2.0,
            launcher_spacing_km: 3.0,
        })?;
        let outcome = run_scenario(
            registry,
            &flights,
            settings,
            seed + idx as u64,
            make_zones(),
        )?;
        let matched = outcome.flights.iter().filter(|f| f.is_some()).count();
        line!(
            out,
            "| {} | {n} | {interval} | {} | {matched} |",
            idx + 1,
            outcome.n_assessed_tracks
        );
    }

    Ok(out)
}

/// Markdown report of the published launches since `since`: each flown from its published
/// site, bearing, apogee and range, assessed from simulated detections, and compared.
pub fn published_report(
    registry: &SensorRegistry,
    settings: &RadarSettings,
    seed: u64,
    csv_text: &str,
    since: i32,
    make_zones: &dyn Fn() -> Box<dyn ZoneOracle + Send + Sync>,
    progress: &mut dyn FnMut(),
) -> Result<String> {
    use std::fmt::Write as _;
    let mut out = String::new();

    let launches = crate::sim::parse_published_launches(csv_text, since)?;
    line!(out, "| date | missile | type | site | published apogee / range km | estimated apogee / range km | apogee err % | range err % | flown flight time s | estimated flight time s | P(JPN EEZ) | class |");
    line!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|");

    let (mut apo_errs, mut range_errs, mut n_skip) = (Vec::new(), Vec::new(), 0);
    for (idx, l) in launches.iter().enumerate() {
        progress();
        let flight = match crate::sim::fly(&l.flight_spec()) {
            Ok(f) => f,
            Err(e) => {
                line!(
                    out,
                    "| {} | {} | {} | {} | {:.0} / {:.0} | not flown: {} | | | | | | |",
                    l.date,
                    l.missile,
                    l.missile_type,
                    l.facility,
                    l.apogee_km,
                    l.distance_km,
                    e
                );
                n_skip += 1;
                continue;
            }
        };
        let detections = crate::sim::detect(
            registry,
            std::slice::from_ref(&flight),
            settings,
            seed + idx as u64,
        )?;
        let timeline = crate::eval::assess_all(
            registry,
            make_zones(),
            &detections,
            crate::engine::EngineParams::default(),
        )?;
        // The final assessment of the track with the most detections.
        let best = timeline.iter().rev().max_by_key(|a| a.n_detections);
        match best {
            Some(a) => {
                let ae = 100.0 * (a.apogee_km / l.apogee_km - 1.0);
                let re = 100.0 * (a.range_km / l.distance_km - 1.0);
                apo_errs.push(ae.abs());
                range_errs.push(re.abs());
                line!(
                out,
                            "| {} | {} | {} | {} | {:.0} / {:.0} | {:.0} / {:.0} | {:+.1} | {:+.1} | {:.0} | {:.0} | {:.2} | {} |",
                            l.date,
                            l.missile,
                            l.missile_type,
                            l.facility,
                            l.apogee_km,
                            l.distance_km,
                            a.apogee_km,
                            a.range_km,
                            ae,
                            re,
                            flight.flight_time_s(),
                            a.flight_time_s,
                            a.p_impact_in_jpn_eez,
                            a.class.as_str()
                        );
            }
            None => line!(
                out,
                "| {} | {} | {} | {} | {:.0} / {:.0} | no assessment | | | {:.0} | | | |",
                l.date,
                l.missile,
                l.missile_type,
                l.facility,
                l.apogee_km,
                l.distance_km,
                flight.flight_time_s()
            ),
        }
    }

    line!(
                out,
                "\n{} launches; {} flown and assessed; {} not flyable by the ballistic simulator; median |apogee error| {:.2} %, median |range error| {:.2} %",
                launches.len(),
                apo_errs.len(),
                n_skip,
                median(&apo_errs).unwrap_or(f64::NAN),
                median(&range_errs).unwrap_or(f64::NAN)
            );

    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{median, quantile};

    #[track_caller]
    fn check(values: &[f64], q: f64, expect: Option<f64>) {
        assert_eq!(quantile(values, q), expect, "{values:?} q={q}");
    }

    #[test]
    fn quantile_is_nearest_rank() {
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        check(&ten, 0.9, Some(9.0));
        check(&ten, 1.0, Some(10.0));
        check(&ten, 0.0, Some(1.0));
        check(&ten, 0.5, Some(5.0));
        check(&[3.0, f64::NAN, 1.0], 1.0, Some(3.0));
        check(&[], 0.9, None);
        // The median averages the two middle values; the nearest rank takes the lower.
        assert_eq!(median(&ten), Some(5.5));
    }
}
