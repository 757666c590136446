//! The flight and radar simulator: powered ascent and ballistic coast over the rotating WGS-84
//! Earth, shaped to reach a requested apogee and range (lofted, minimum-energy or depressed),
//! salvos, and the detections given radars would make (range and horizon limits, noise,
//! missed detections, false alarms). Deterministic for a seed.

use nalgebra::{Vector3, Vector6};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::assess::MissileClass;
use crate::dynamics::{ballistic_accel, height_approx_m, rk4_step};
use crate::error::{Error, ErrorKind, Result};
use crate::frames::{great_circle_m, Geodetic};
use crate::sensors::{Detection, SensorRegistry, SensorSpec};

/// Truth sampling interval (s).
pub const TRUTH_STEP_S: f64 = 0.5;
/// Longest simulated flight (s).
pub const FLIGHT_S_MAX: f64 = 3.0 * 3600.0;
/// Most missiles in one scenario.
pub const MISSILES_MAX: usize = 64;
/// Most detections one scenario may produce.
pub const SIM_DETECTIONS_MAX: usize = 5_000_000;

/// The shape of a trajectory for a given range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Steep, high apogee, short range (how North Korea tests its long-range missiles).
    Lofted,
    /// Minimum-energy: the apogee that needs least speed for the range (about a quarter of it).
    MinimumEnergy,
    /// Flat and low: short flight time, low apogee.
    Depressed,
}

impl Profile {
    /// The apogee (km) this profile gives for a range (km), on a flat-Earth rule of thumb.
    pub fn apogee_for_range_km(self, range_km: f64) -> f64 {
        match self {
            Profile::MinimumEnergy => 0.25 * range_km,
            Profile::Lofted => (1.2 * range_km).max(0.25 * range_km + 100.0),
            Profile::Depressed => 0.12 * range_km,
        }
    }
}

/// What to fly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlightSpec {
    /// Launch point.
    pub launch: Geodetic,
    /// Launch time (Unix seconds).
    pub launch_time_s: f64,
    /// Initial bearing (degrees clockwise from north).
    pub bearing_deg: f64,
    /// Requested apogee (km).
    pub apogee_km: f64,
    /// Requested ground range (km, great circle).
    pub range_km: f64,
    /// Burn time (s).
    pub burn_time_s: f64,
    /// Ballistic coefficient m/(Cd·A) (kg/m²).
    pub beta_kg_m2: f64,
}

impl FlightSpec {
    /// A spec with class-typical burn time and ballistic coefficient for the requested shape.
    pub fn typical(
        launch: Geodetic,
        launch_time_s: f64,
        bearing_deg: f64,
        apogee_km: f64,
        range_km: f64,
    ) -> FlightSpec {
        let class = MissileClass::from_apogee_range(apogee_km, range_km);
        FlightSpec {
            launch,
            launch_time_s,
            bearing_deg,
            apogee_km,
            range_km,
            burn_time_s: class.typical_burn_time_s(),
            beta_kg_m2: class.typical_beta_kg_m2(),
        }
    }
}

/// One sample of a true trajectory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthSample {
    /// Time (Unix seconds).
    pub time_s: f64,
    /// ECEF position and velocity.
    pub state: Vector6<f64>,
}

/// A flown trajectory and its summary figures.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// The spec it was flown from.
    pub spec: FlightSpec,
    /// Samples every [`TRUTH_STEP_S`] from launch to impact (the last one at impact).
    pub samples: Vec<TruthSample>,
    /// Burnout time (Unix seconds).
    pub burnout_time_s: f64,
    /// Achieved apogee (km).
    pub apogee_km: f64,
    /// Achieved range (km).
    pub range_km: f64,
    /// Impact point.
    pub impact: Geodetic,
    /// Impact time (Unix seconds).
    pub impact_time_s: f64,
}

impl Trajectory {
    /// Flight time (s).
    pub fn flight_time_s(&self) -> f64 {
        self.impact_time_s - self.spec.launch_time_s
    }

    /// State at a time by cubic Hermite interpolation between samples; `None` outside the flight.
    pub fn state_at(&self, time_s: f64) -> Option<Vector6<f64>> {
        let first = self.samples.first()?;
        let last = self.samples.last()?;
        if time_s < first.time_s || time_s > last.time_s {
            return None;
        }
        let idx = (((time_s - first.time_s) / TRUTH_STEP_S) as usize)
            .min(self.samples.len().saturating_sub(2));
        let (a, b) = (
            &self.samples[idx],
            &self.samples[(idx + 1).min(self.samples.len() - 1)],
        );
        let h = b.time_s - a.time_s;
        if h <= 0.0 {
            return Some(a.state);
        }
        let s = ((time_s - a.time_s) / h).clamp(0.0, 1.0);
        let (p0, v0) = (a.state.fixed_rows::<3>(0), a.state.fixed_rows::<3>(3));
        let (p1, v1) = (b.state.fixed_rows::<3>(0), b.state.fixed_rows::<3>(3));
        let (h00, h10, h01, h11) = (
            2.0 * s.powi(3) - 3.0 * s * s + 1.0,
            s.powi(3) - 2.0 * s * s + s,
            -2.0 * s.powi(3) + 3.0 * s * s,
            s.powi(3) - s * s,
        );
        let p = p0 * h00 + v0 * (h10 * h) + p1 * h01 + v1 * (h11 * h);
        let (d00, d10, d01, d11) = (
            6.0 * s * s - 6.0 * s,
            3.0 * s * s - 4.0 * s + 1.0,
            -6.0 * s * s + 6.0 * s,
            3.0 * s * s - 2.0 * s,
        );
        let v = p0 * (d00 / h) + v0 * d10 + p1 * (d01 / h) + v1 * d11;
        Some(Vector6::new(p.x, p.y, p.z, v.x, v.y, v.z))
    }
}

/// Fraction of the lift-off mass burnt by burnout (thrust acceleration grows as mass falls).
const BURN_MASS_FRACTION: f64 = 0.7;
/// Powered-phase integration step (s).
const POWERED_STEP_S: f64 = 0.25;

/// Thrust direction guidance: vertical rise, a linear pitch-over to `el_burnout` by mid-burn, then held,
/// in the vertical plane of the launch bearing.
fn thrust_direction(
    r: &Vector3<f64>,
    heading_ecef: &Vector3<f64>,
    t: f64,
    burn: f64,
    el_burnout: f64,
) -> Vector3<f64> {
    let up = r.normalize();
    let horizontal = (heading_ecef - up * heading_ecef.dot(&up)).normalize();
    let t_vertical = 0.05 * burn;
    let t_pitched = 0.5 * burn;
    let el = if t < t_vertical {
        std::f64::consts::FRAC_PI_2
    } else {
        let s = ((t - t_vertical) / (t_pitched - t_vertical)).clamp(0.0, 1.0);
        std::f64::consts::FRAC_PI_2 + (el_burnout - std::f64::consts::FRAC_PI_2) * s
    };
    up * el.sin() + horizontal * el.cos()
}

/// Flies a trajectory with thrust scale `a0` (m/s² at lift-off) and burnout pitch `el_burnout`
/// (radians). Records samples when `record` is set.
fn fly_raw(
    spec: &FlightSpec,
    a0: f64,
    el_burnout: f64,
    record: bool,
) -> std::result::Result<Trajectory, Shortfall> {
    let r0 = spec.launch.to_ecef();
    let enu = crate::frames::ecef_to_enu_rotation(spec.launch.lat_deg, spec.launch.lon_deg);
    let b = spec.bearing_deg.to_radians();
    let heading = enu.transpose() * Vector3::new(b.sin(), b.cos(), 0.0);
    let mut s = Vector6::new(r0.x, r0.y, r0.z, 0.0, 0.0, 0.0);
    let mut samples = Vec::new();
    let mut t = 0.0;
    let h0 = height_approx_m(&r0);
    let mut h_max: f64 = h0;
    let burn = spec.burn_time_s;
    let mut next_sample = 0.0;
    let push = |samples: &mut Vec<TruthSample>, t: f64, s: &Vector6<f64>| {
        samples.push(TruthSample {
            time_s: spec.launch_time_s + t,
            state: *s,
        })
    };
    while t < FLIGHT_S_MAX {
        let powered = t < burn;
        let step = if powered {
            POWERED_STEP_S.min(burn - t)
        } else {
            TRUTH_STEP_S
        };
        let step = if step <= 1e-9 { TRUTH_STEP_S } else { step };
        if record && t >= next_sample - 1e-9 {
            push(&mut samples, t, &s);
            next_sample += TRUTH_STEP_S;
        }
        let thrust = if powered {
            let r = s.fixed_rows::<3>(0).into_owned();
            let tm = t + 0.5 * step;
            let mag = a0 / (1.0 - BURN_MASS_FRACTION * tm / burn);
            thrust_direction(&r, &heading, tm, burn, el_burnout) * mag
        } else {
            Vector3::zeros()
        };
        let next = rk4_step(&s, &thrust, spec.beta_kg_m2, step);
        let h_next = height_approx_m(&next.fixed_rows::<3>(0).into_owned());
        if powered && t > 1.0 && h_next < h0 - 1.0 {
            return Err(Shortfall::FellBack);
        }
        if !powered && h_next < 0.0 {
            // Bisect the crossing of height 0 for the impact.
            let (mut lo, mut hi) = (0.0, step);
            for _ in 0..30 {
                let mid = 0.5 * (lo + hi);
                if height_approx_m(
                    &rk4_step(&s, &thrust, spec.beta_kg_m2, mid)
                        .fixed_rows::<3>(0)
                        .into_owned(),
                ) < 0.0
                {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            let end = rk4_step(&s, &thrust, spec.beta_kg_m2, hi);
            let impact = Geodetic::from_ecef(&end.fixed_rows::<3>(0).into_owned());
            if record {
                push(&mut samples, t + hi, &end);
            }
            let range_m = great_circle_m(
                spec.launch.lat_deg,
                spec.launch.lon_deg,
                impact.lat_deg,
                impact.lon_deg,
            );
            return Ok(Trajectory {
                spec: spec.clone(),
                samples,
                burnout_time_s: spec.launch_time_s + burn,
                apogee_km: h_max / 1000.0,
                range_km: range_m / 1000.0,
                impact,
                impact_time_s: spec.launch_time_s + t + hi,
            });
        }
        h_max = h_max.max(h_next);
        s = next;
        t += step;
    }
    Err(Shortfall::NoImpact)
}

/// Why a trial flight did not produce a trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shortfall {
    /// Fell back to the ground during the burn: more thrust needed.
    FellBack,
    /// Did not come down within the flight-time bound: less thrust needed.
    NoImpact,
}

/// Newton steps of the shooting solver before it gives up (a bound, so that an unreachable
/// shape ends in an error).
const SHOOTING_ITERATIONS_MAX: usize = 80;
/// The solver's tolerance on both residuals: the log of the apogee ratio and the relative range
/// error (0.2 %, well inside the spread of published apogees and ranges).
const SHOOTING_TOLERANCE: f64 = 0.002;

/// Flies `spec`, solving for the thrust level and pitch program that reach its apogee and range
/// (damped Newton on both, finite-difference Jacobian). Errors if they cannot be reached to
/// within 0.2 % (for example a range beyond orbital speed or an apogee below the atmosphere's
/// reach for that range).
pub fn fly(spec: &FlightSpec) -> Result<Trajectory> {
    let unflyable = |why: String| Error::new(ErrorKind::Unflyable(why));
    let finite = [
        spec.apogee_km,
        spec.range_km,
        spec.bearing_deg,
        spec.burn_time_s,
        spec.beta_kg_m2,
    ];
    if finite.iter().any(|x| !x.is_finite())
        || spec.apogee_km < 5.0
        || spec.range_km < 5.0
        || spec.burn_time_s < 5.0
    {
        return Err(unflyable(format!(
            "apogee {} km, range {} km, burn {} s",
            spec.apogee_km, spec.range_km, spec.burn_time_s
        )));
    }
    if spec.range_km > 15_000.0 || spec.apogee_km > 8_000.0 {
        return Err(unflyable(format!(
            "apogee {} km, range {} km is beyond a ballistic missile",
            spec.apogee_km, spec.range_km
        )));
    }
    let (h, r) = (spec.apogee_km * 1000.0, spec.range_km * 1000.0);
    // Flat-Earth first guess: burnout flight-path angle tan γ = 4H/R, speed from the apogee.
    let gamma = (4.0 * h / r).atan();
    // Speed whose vertical part reaches the apogee over a spherical Earth.
    let re = crate::frames::EARTH_RADIUS_MEAN_M;
    let v_up = (2.0 * crate::dynamics::GM * (1.0 / re - 1.0 / (re + h))).sqrt();
    let v_b = (v_up / gamma.sin().max(0.2)).min(7_500.0);
    let mean_factor = -(1.0 - BURN_MASS_FRACTION).ln() / BURN_MASS_FRACTION;
    let mut x = [
        ((v_b + 9.8 * spec.burn_time_s * gamma.sin()) / (spec.burn_time_s * mean_factor)).ln(),
        gamma.clamp(0.05, 1.55),
    ];
    let eval = |x: &[f64; 2]| -> std::result::Result<[f64; 2], Shortfall> {
        let t = fly_raw(spec, x[0].exp(), x[1], false)?;
        // Signed distance along the requested bearing: a near-vertical shot drifts west under
        // the Coriolis force, so the plain distance is not monotonic in the pitch.
        let brg = crate::frames::bearing_deg(
            spec.launch.lat_deg,
            spec.launch.lon_deg,
            t.impact.lat_deg,
            t.impact.lon_deg,
        );
        let signed_km = t.range_km * (brg - spec.bearing_deg).to_radians().cos().signum();
        Ok([
            (t.apogee_km / spec.apogee_km).ln(),
            signed_km / spec.range_km - 1.0,
        ])
    };
    let mut residual = None;
    for _ in 0..SHOOTING_ITERATIONS_MAX {
        let res = eval(&x);
        residual = Some(res);
        let f = match res {
            Ok(f) => f,
            Err(Shortfall::FellBack) => {
                x[0] += 0.1;
                continue;
            }
            Err(Shortfall::NoImpact) => {
                x[0] -= 0.05;
                continue;
            }
        };
        if f[0].abs() < SHOOTING_TOLERANCE && f[1].abs() < SHOOTING_TOLERANCE {
            return fly_raw(spec, x[0].exp(), x[1], true)
                .map_err(|_| unflyable("final flight failed".into()));
        }
        let d = [1e-4, 1e-4];
        let f0 =
            eval(&[x[0] + d[0], x[1]]).map_err(|_| unflyable("derivative flight failed".into()))?;
        let f1 =
            eval(&[x[0], x[1] + d[1]]).map_err(|_| unflyable("derivative flight failed".into()))?;
        let j = [
            [(f0[0] - f[0]) / d[0], (f1[0] - f[0]) / d[1]],
            [(f0[1] - f[1]) / d[0], (f1[1] - f[1]) / d[1]],
        ];
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        if det.abs() < 1e-12 {
            return Err(unflyable("singular shooting problem".into()));
        }
        let mut dx = [
            (j[1][1] * f[0] - j[0][1] * f[1]) / det,
            (-j[1][0] * f[0] + j[0][0] * f[1]) / det,
        ];
        // Damp: at most 0.3 in log-thrust and 0.15 rad in pitch per iteration.
        let scale = (dx[0].abs() / 0.3).max(dx[1].abs() / 0.15).max(1.0);
        dx = [dx[0] / scale, dx[1] / scale];
        x = [x[0] - dx[0], (x[1] - dx[1]).clamp(0.02, 1.565)];
    }
    // The last step's residuals (log apogee ratio, relative range error) say how close the
    // solver came: what a debug print of every step used to show.
    Err(unflyable(format!(
        "no thrust/pitch program reaches apogee {} km and range {} km \
         (after {SHOOTING_ITERATIONS_MAX} steps, thrust {:.3}, pitch {:.4} rad: {residual:?})",
        spec.apogee_km,
        spec.range_km,
        x[0].exp(),
        x[1]
    )))
}

/// Detection-generation settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RadarSettings {
    /// Probability of detecting a covered target in a scan.
    pub p_detection: f64,
    /// Mean number of false alarms per sensor scan.
    pub false_alarms_per_scan: f64,
    /// Whether sensors with a range-rate sigma report range rate.
    pub range_rate: bool,
}

impl Default for RadarSettings {
    fn default() -> RadarSettings {
        RadarSettings {
            p_detection: 0.9,
            false_alarms_per_scan: 0.05,
            range_rate: true,
        }
    }
}

/// A standard normal sample (Box–Muller).
pub fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Poisson sample (Knuth; for the small means used here).
fn poisson(rng: &mut StdRng, mean: f64) -> usize {
    let l = (-mean.min(30.0)).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.gen::<f64>();
        if p <= l || k >= 200 {
            return k;
        }
        k += 1;
    }
}

/// Generates the detections the registry's radars make of the trajectories, in time order
/// (ties in sensor order), with noise, missed detections and false alarms.
pub fn detect(
    registry: &SensorRegistry,
    flights: &[Trajectory],
    settings: &RadarSettings,
    seed: u64,
) -> Result<Vec<Detection>> {
    if flights.is_empty() {
        return Ok(Vec::new());
    }
    let start = flights
        .iter()
        .map(|f| f.spec.launch_time_s)
        .fold(f64::INFINITY, f64::min);
    let end = flights
        .iter()
        .map(|f| f.impact_time_s)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (sensor_idx, sensor) in registry.sensors().iter().enumerate() {
        let spec = &sensor.spec;
        let period = 1.0 / spec.update_rate_hz;
        let phase: f64 = rng.gen::<f64>() * period;
        let n_scans = ((end - start) / period).ceil() as usize + 1;
        for scan_idx in 0..n_scans {
            let t = start + phase + scan_idx as f64 * period;
            for flight in flights {
                let Some(state) = flight.state_at(t) else {
                    continue;
                };
                let r = state.fixed_rows::<3>(0).into_owned();
                if !sensor.covers(&r) || rng.gen::<f64>() >= settings.p_detection {
                    continue;
                }
                let [range, az, el, rr] =
                    sensor.measure(&r, &state.fixed_rows::<3>(3).into_owned());
                out.push(Detection {
                    sensor_idx,
                    time_s: t,
                    range_m: range + spec.sigma_range_m * normal(&mut rng),
                    az_deg: (az + spec.sigma_az_deg * normal(&mut rng)).rem_euclid(360.0),
                    el_deg: (el + spec.sigma_el_deg * normal(&mut rng)).clamp(-90.0, 90.0),
                    range_rate_mps: match (settings.range_rate, spec.sigma_range_rate_mps) {
                        (true, Some(sigma)) => Some(rr + sigma * normal(&mut rng)),
                        _ => None,
                    },
                });
            }
            for _ in 0..poisson(&mut rng, settings.false_alarms_per_scan) {
                out.push(Detection {
                    sensor_idx,
                    time_s: t,
                    range_m: rng.gen_range(50_000.0..spec.max_range_km * 1000.0),
                    az_deg: rng.gen_range(0.0..360.0),
                    el_deg: rng.gen_range(spec.min_elevation_deg..60.0),
                    range_rate_mps: match (settings.range_rate, spec.sigma_range_rate_mps) {
                        (true, Some(_)) => Some(rng.gen_range(-3000.0..3000.0)),
                        _ => None,
                    },
                });
            }
            if out.len() > SIM_DETECTIONS_MAX {
                return Err(Error::new(ErrorKind::Limit {
                    what: "simulated detections",
                    max: SIM_DETECTIONS_MAX,
                }));
            }
        }
    }
    out.sort_by(|a, b| {
        a.time_s
            .total_cmp(&b.time_s)
            .then(a.sensor_idx.cmp(&b.sensor_idx))
    });
    Ok(out)
}

/// A salvo: several missiles of the same type from one site, a few seconds to minutes apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalvoSpec {
    /// The first missile's flight.
    pub first: FlightSpec,
    /// Number of missiles (1 to [`MISSILES_MAX`]).
    pub n_missiles: usize,
    /// Time between launches (s).
    pub interval_s: f64,
    /// Bearing change between successive missiles (degrees).
    pub bearing_step_deg: f64,
    /// Distance between launchers (km), along the east.
    pub launcher_spacing_km: f64,
}

/// Flies every missile of a salvo.
pub fn fly_salvo(salvo: &SalvoSpec) -> Result<Vec<Trajectory>> {
    if salvo.n_missiles == 0 || salvo.n_missiles > MISSILES_MAX {
        return Err(Error::new(ErrorKind::Limit {
            what: "missiles per salvo",
            max: MISSILES_MAX,
        }));
    }
    (0..salvo.n_missiles)
        .map(|i| {
            let mut spec = salvo.first.clone();
            let (lat, lon) = crate::frames::destination(
                spec.launch.lat_deg,
                spec.launch.lon_deg,
                90.0,
                i as f64 * salvo.launcher_spacing_km * 1000.0,
            );
            spec.launch = Geodetic::new(lat, lon, spec.launch.height_m);
            spec.launch_time_s += i as f64 * salvo.interval_s;
            spec.bearing_deg += i as f64 * salvo.bearing_step_deg;
            fly(&spec)
        })
        .collect()
}

/// The default sensor set: public, approximate locations of the three partners' missile-defence
/// radars. **Approximate**: sites are rounded, ship stations invented for the exercise, and
/// performance figures are plausible, not official.
pub fn default_sensors() -> Vec<SensorSpec> {
    let s = |id: &str,
             party: &str,
             lat: f64,
             lon: f64,
             h: f64,
             kind: &str,
             sr: f64,
             sa: f64,
             rr: Option<f64>,
             max_km: f64,
             rate: f64| {
        SensorSpec {
            id: id.into(),
            party: party.into(),
            lat,
            lon,
            height_m: h,
            kind: kind.into(),
            sigma_range_m: sr,
            sigma_az_deg: sa,
            sigma_el_deg: sa,
            sigma_range_rate_mps: rr,
            max_range_km: max_km,
            min_elevation_deg: 1.0,
            update_rate_hz: rate,
        }
    };
    vec![
        s(
            "usa-tpy2-shariki",
            "USA",
            40.89,
            140.34,
            60.0,
            "AN/TPY-2 (approx. site, Shariki)",
            15.0,
            0.02,
            Some(1.0),
            2_000.0,
            1.0,
        ),
        s(
            "usa-tpy2-kyogamisaki",
            "USA",
            35.77,
            135.22,
            150.0,
            "AN/TPY-2 (approx. site, Kyogamisaki)",
            15.0,
            0.02,
            Some(1.0),
            2_000.0,
            1.0,
        ),
        s(
            "usa-tpy2-seongju",
            "USA",
            35.96,
            128.13,
            680.0,
            "AN/TPY-2 THAAD (approx. site, Seongju)",
            15.0,
            0.02,
            Some(1.0),
            1_000.0,
            1.0,
        ),
        s(
            "kor-greenpine-central",
            "KOR",
            36.9,
            127.4,
            300.0,
            "EL/M-2080 Green Pine (approx. site)",
            40.0,
            0.04,
            None,
            900.0,
            1.0,
        ),
        s(
            "kor-greenpine-south",
            "KOR",
            35.4,
            127.6,
            400.0,
            "EL/M-2080 Green Pine (approx. site)",
            40.0,
            0.04,
            None,
            900.0,
            1.0,
        ),
        s(
            "kor-aegis-eastsea",
            "KOR",
            37.6,
            130.2,
            30.0,
            "SPY-1D Aegis destroyer (invented station)",
            30.0,
            0.05,
            Some(2.0),
            1_000.0,
            1.0,
        ),
        s(
            "jpn-fps5-sado",
            "JPN",
            38.08,
            138.25,
            300.0,
            "J/FPS-5 (approx. site, Sado)",
            30.0,
            0.04,
            None,
            1_500.0,
            1.0,
        ),
        s(
            "jpn-fps5-shimokoshiki",
            "JPN",
            31.7,
            129.75,
            300.0,
            "J/FPS-5 (approx. site, Shimokoshiki)",
            30.0,
            0.04,
            None,
            1_500.0,
            1.0,
        ),
        s(
            "jpn-aegis-seaofjapan",
            "JPN",
            39.0,
            134.5,
            30.0,
            "SPY-1D Aegis destroyer (invented station)",
            30.0,
            0.05,
            Some(2.0),
            1_000.0,
            1.0,
        ),
        s(
            "usa-aegis-seaofjapan",
            "USA",
            41.0,
            136.0,
            30.0,
            "SPY-1D Aegis destroyer (invented station)",
            30.0,
            0.05,
            Some(2.0),
            1_000.0,
            1.0,
        ),
    ]
}

/// Coordinates of DPRK launch sites used by the demo and tests (from the public facility list).
pub const SITE_SUNAN: (f64, f64) = (39.2237, 125.6701);
/// Sohae Satellite Launching Station.
pub const SITE_SOHAE: (f64, f64) = (39.6596, 124.7057);

/// The node demo's exercise: a Hwasong-15-like lofted ICBM from Sunan (Pyongyang airport) on a
/// bearing of 80°, apogee 4,500 km, range 950 km, falling in the Sea of Japan inside Japan's
/// EEZ, seen by US, Japanese and Korean radars. Returns the registry, the truth and the
/// detections in time order.
pub fn demo_scenario(
    launch_time_s: f64,
    seed: u64,
) -> Result<(SensorRegistry, Vec<Trajectory>, Vec<Detection>)> {
    let registry = SensorRegistry::new(default_sensors())?;
    let spec = FlightSpec::typical(
        Geodetic::new(SITE_SUNAN.0, SITE_SUNAN.1, 30.0),
        launch_time_s,
        80.0,
        4_500.0,
        950.0,
    );
    let flights = vec![fly(&spec)?];
    let detections = detect(&registry, &flights, &RadarSettings::default(), seed)?;
    Ok((registry, flights, detections))
}

/// One launch from the published table (`nk_missile_tests_1984_2026.csv`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedLaunch {
    /// Date (YYYY-MM-DD).
    pub date: String,
    /// UTC time "HH:MM", when known.
    pub time_utc: Option<String>,
    /// Missile name.
    pub missile: String,
    /// Type label in the table (SRBM, MRBM, IRBM, ICBM, SLBM, …).
    pub missile_type: String,
    /// Launch facility name.
    pub facility: String,
    /// Launch site latitude.
    pub lat: f64,
    /// Launch site longitude.
    pub lon: f64,
    /// Published apogee (km).
    pub apogee_km: f64,
    /// Published distance (km).
    pub distance_km: f64,
    /// Published bearing (degrees).
    pub bearing_deg: f64,
}

/// Parses the published-launch CSV, keeping launches from `year_min` on with numeric apogee,
/// distance, bearing and site coordinates. Rows with other values are skipped, not errors;
/// a malformed CSV is an error with its record number.
pub fn parse_published_launches(csv_text: &str, year_min: i32) -> Result<Vec<PublishedLaunch>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::at(1, ErrorKind::Malformed(e.to_string())))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::at(1, ErrorKind::Malformed(format!("missing column {name}"))))
    };
    let c = [
        col("date")?,
        col("time")?,
        col("missile_name")?,
        col("missile_type")?,
        col("facility_name")?,
        col("facility_lat")?,
        col("facility_lon")?,
        col("apogee_km")?,
        col("distance_km")?,
        col("bearing_deg")?,
    ];
    let mut out = Vec::new();
    for (idx, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::at(idx + 2, ErrorKind::Malformed(e.to_string())))?;
        let get = |i: usize| record.get(c[i]).unwrap_or("").trim();
        let year: i32 = get(0).get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let num = |i: usize| get(i).parse::<f64>().ok().filter(|x| x.is_finite());
        let (Some(lat), Some(lon), Some(apogee_km), Some(distance_km), Some(bearing_deg)) =
            (num(5), num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        if year < year_min || apogee_km <= 0.0 || distance_km <= 0.0 {
            continue;
        }
        let time = get(1);
        out.push(PublishedLaunch {
            date: get(0).to_string(),
            time_utc: time
                .split_whitespace()
                .next()
                .filter(|t| t.contains(':'))
                .map(str::to_string),
            missile: get(2).to_string(),
            missile_type: get(3).to_string(),
            facility: get(4).to_string(),
            lat,
            lon,
            apogee_km,
            distance_km,
            bearing_deg,
        });
    }
    Ok(out)
}

impl PublishedLaunch {
    /// Launch time (Unix seconds), noon UTC when the time is unknown.
    pub fn launch_time_s(&self) -> f64 {
        let time = self.time_utc.clone().unwrap_or_else(|| "12:00".into());
        crate::sensors::parse_time(&format!("{}T{}:00Z", self.date, time)).unwrap_or(0.0)
    }

    /// The flight spec that reproduces this launch.
    pub fn flight_spec(&self) -> FlightSpec {
        let mut spec = FlightSpec::typical(
            Geodetic::new(self.lat, self.lon, 20.0),
            self.launch_time_s(),
            self.bearing_deg,
            self.apogee_km,
            self.distance_km,
        );
        let class = match self.missile_type.as_str() {
            "SRBM" => Some(MissileClass::Srbm),
            "MRBM" => Some(MissileClass::Mrbm),
            "IRBM" => Some(MissileClass::Irbm),
            "ICBM" => Some(MissileClass::Icbm),
            _ => None,
        };
        if let Some(class) = class {
            spec.burn_time_s = class.typical_burn_time_s();
            spec.beta_kg_m2 = class.typical_beta_kg_m2();
        }
        spec
    }
}

/// The state of a missile at a time, used by the tracker tests.
pub fn truth_accel(state: &Vector6<f64>, beta: f64) -> Vector3<f64> {
    ballistic_accel(
        &state.fixed_rows::<3>(0).into_owned(),
        &state.fixed_rows::<3>(3).into_owned(),
        beta,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_fly(apogee_km: f64, range_km: f64) {
        let spec = FlightSpec::typical(
            Geodetic::new(SITE_SOHAE.0, SITE_SOHAE.1, 20.0),
            1.7e9,
            80.0,
            apogee_km,
            range_km,
        );
        let t = fly(&spec).expect("flyable");
        assert!(
            (t.apogee_km / apogee_km - 1.0).abs() < 0.005,
            "apogee {} vs {apogee_km}",
            t.apogee_km
        );
        assert!(
            (t.range_km / range_km - 1.0).abs() < 0.005,
            "range {} vs {range_km}",
            t.range_km
        );
        assert!(t.impact.height_m.abs() < 200.0, "{:?}", t.impact);
        assert!(t.flight_time_s() > spec.burn_time_s);
        // Interpolated truth matches the samples at the nodes and is continuous between.
        let mid = t.samples[10].time_s + 0.25;
        let s = t.state_at(mid).expect("inside");
        assert!((s - t.samples[10].state).fixed_rows::<3>(0).norm() < 2_000.0);
    }

    #[test]
    fn flies_the_requested_shapes() {
        check_fly(4_500.0, 950.0); // lofted ICBM (Hwasong-15, 2017-11-28)
        check_fly(550.0, 500.0); // Pukguksong-2
        check_fly(60.0, 600.0); // depressed SRBM
        check_fly(260.0, 1_000.0); // ER-Scud
    }

    #[test]
    fn unflyable_specs_are_errors() {
        let mut spec = FlightSpec::typical(
            Geodetic::new(SITE_SOHAE.0, SITE_SOHAE.1, 20.0),
            0.0,
            80.0,
            100.0,
            100.0,
        );
        spec.apogee_km = f64::NAN;
        assert!(matches!(
            fly(&spec).unwrap_err().kind,
            ErrorKind::Unflyable(_)
        ));
        spec.apogee_km = 9_000.0;
        assert!(fly(&spec).is_err());
    }

    #[test]
    fn radars_see_only_inside_their_coverage() {
        let registry = SensorRegistry::new(default_sensors()).expect("valid");
        let (_, flights, detections) = demo_scenario(1.7e9, 7).expect("demo");
        assert!(detections.len() > 1_000, "{}", detections.len());
        assert!(detections.windows(2).all(|w| w[0].time_s <= w[1].time_s));
        let parties: std::collections::BTreeSet<&str> = detections
            .iter()
            .map(|d| registry.get(d.sensor_idx).spec.party.as_str())
            .collect();
        assert_eq!(
            parties.into_iter().collect::<Vec<_>>(),
            ["JPN", "KOR", "USA"]
        );
        for d in &detections {
            let spec = &registry.get(d.sensor_idx).spec;
            assert!(d.range_m <= spec.max_range_km * 1000.0 + 500.0);
            assert!(d.time_s >= flights[0].spec.launch_time_s);
        }
    }
}
