//! The assessment of one track: launch time and point, apogee, range, flight time, predicted
//! impact with a 95 % ellipse, class by energy, overflown parties, and the probabilities that
//! impact falls in Japan's EEZ, in Japanese territory, or on land.

use nalgebra::{Matrix2, Matrix6, Vector2, Vector3, Vector6};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::dynamics::{height_approx_m, rk4_step, to_apogee, GM};
use crate::frames::{
    bearing_deg, destination, ecef_to_enu_rotation, great_circle_m, Geodetic, EARTH_RADIUS_MEAN_M,
};
use crate::sensors::format_time;
use crate::tracker::{Track, TrackStatus};
use crate::zones::{PartyCode, ZoneOracle, JPN};

/// χ² with 2 degrees of freedom at 95 %.
pub const CHI2_2DOF_95: f64 = 5.991;
/// Monte Carlo samples of the impact distribution for zone probabilities.
pub const ZONE_SAMPLES: usize = 400;
/// Points at most in an assessment's [`Assessment::trajectory`]: enough for a smooth arc on a
/// map, few enough that a report stays small (64 points ≈ 3 KB of JSON).
pub const TRAJECTORY_POINTS_MAX: usize = 64;

/// Missile class by energy (equivalent minimum-energy range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissileClass {
    /// Short range: under 1,000 km.
    #[serde(rename = "SRBM")]
    Srbm,
    /// Medium range: 1,000–3,000 km.
    #[serde(rename = "MRBM")]
    Mrbm,
    /// Intermediate range: 3,000–5,500 km.
    #[serde(rename = "IRBM")]
    Irbm,
    /// Intercontinental: 5,500 km and more.
    #[serde(rename = "ICBM")]
    Icbm,
}

impl MissileClass {
    /// Class of an equivalent minimum-energy range (km).
    pub fn from_range_km(range_km: f64) -> MissileClass {
        match range_km {
            r if r < 1_000.0 => MissileClass::Srbm,
            r if r < 3_000.0 => MissileClass::Mrbm,
            r if r < 5_500.0 => MissileClass::Irbm,
            _ => MissileClass::Icbm,
        }
    }

    /// Class from a ground-relative speed (m/s) at radius `r` (m): the specific energy
    /// `v²/2 − μ/r` is carried to the surface and turned into the range of a minimum-energy
    /// trajectory on a sphere: `sin(Φ/2) = ν/(2−ν)`, `ν = v_s² R/μ`.
    pub fn from_energy(speed_mps: f64, radius_m: f64) -> (MissileClass, f64) {
        let energy = 0.5 * speed_mps * speed_mps - GM / radius_m;
        let range_km = equivalent_range_km(energy);
        (MissileClass::from_range_km(range_km), range_km)
    }

    /// Class of a trajectory with a given apogee and range (for simulation defaults).
    pub fn from_apogee_range(apogee_km: f64, range_km: f64) -> MissileClass {
        let r = EARTH_RADIUS_MEAN_M;
        // Energy of a vertical shot to the apogee, or of the minimum-energy shot to the range.
        let e_apogee = -GM / (r + apogee_km * 1000.0);
        let phi = range_km * 1000.0 / r;
        let s = (phi / 2.0).sin();
        let nu = 2.0 * s / (1.0 + s);
        let e_range = GM / r * (nu / 2.0 - 1.0);
        MissileClass::from_range_km(equivalent_range_km(e_apogee.max(e_range)))
    }

    /// Typical burn time (s) for the simulator.
    pub fn typical_burn_time_s(self) -> f64 {
        match self {
            MissileClass::Srbm => 45.0,
            MissileClass::Mrbm => 80.0,
            MissileClass::Irbm => 130.0,
            MissileClass::Icbm => 280.0,
        }
    }

    /// Typical ballistic coefficient (kg/m²) for the simulator.
    pub fn typical_beta_kg_m2(self) -> f64 {
        match self {
            MissileClass::Srbm => 6_000.0,
            MissileClass::Mrbm => 8_000.0,
            MissileClass::Irbm => 10_000.0,
            MissileClass::Icbm => 15_000.0,
        }
    }

    /// The label.
    pub fn as_str(self) -> &'static str {
        match self {
            MissileClass::Srbm => "SRBM",
            MissileClass::Mrbm => "MRBM",
            MissileClass::Irbm => "IRBM",
            MissileClass::Icbm => "ICBM",
        }
    }
}

fn equivalent_range_km(energy: f64) -> f64 {
    let r = EARTH_RADIUS_MEAN_M;
    let v2 = 2.0 * (energy + GM / r);
    if v2 <= 0.0 {
        return 0.0;
    }
    let nu = v2 * r / GM;
    if nu >= 1.0 {
        return std::f64::consts::PI * r / 1000.0; // Orbital: half the world.
    }
    let s = (nu / (2.0 - nu)).min(1.0);
    2.0 * s.asin() * r / 1000.0
}

/// The 95 % impact ellipse.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImpactEllipse {
    /// Semi-major axis (km).
    pub semi_major_km: f64,
    /// Semi-minor axis (km).
    pub semi_minor_km: f64,
    /// Bearing of the major axis (degrees clockwise from north, [0, 180)).
    pub bearing_deg: f64,
    /// Probability mass inside (0.95).
    pub confidence: f64,
}

/// The assessment of one missile, as published in `missile.assessment` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Track id.
    pub track_id: u64,
    /// Data time the assessment was made at (RFC 3339).
    pub assessed_at: String,
    /// Estimated launch time (RFC 3339).
    pub launch_time: String,
    /// Estimated launch latitude.
    pub launch_lat: f64,
    /// Estimated launch longitude.
    pub launch_lon: f64,
    /// How the launch point was found: "boost-extrapolation" or "ballistic-backprop".
    pub launch_method: String,
    /// Apogee (km).
    pub apogee_km: f64,
    /// Ground range launch → impact (km).
    pub range_km: f64,
    /// Flight time launch → impact (s).
    pub flight_time_s: f64,
    /// Predicted impact time (RFC 3339).
    pub impact_time: String,
    /// Predicted impact latitude.
    pub impact_lat: f64,
    /// Predicted impact longitude.
    pub impact_lon: f64,
    /// 95 % impact ellipse.
    pub impact_ellipse: ImpactEllipse,
    /// Class guessed from energy.
    pub class: MissileClass,
    /// Equivalent minimum-energy range (km) that gave the class.
    pub energy_range_km: f64,
    /// Parties whose territory (land or territorial sea) the path overflies.
    pub overflown: Vec<String>,
    /// P(impact inside Japan's EEZ).
    pub p_impact_in_jpn_eez: f64,
    /// P(impact inside Japanese territory: land or territorial sea).
    pub p_impact_in_jpn_territory: f64,
    /// P(impact on land, any country).
    pub p_impact_on_land: f64,
    /// Whether the zones used are approximate.
    pub zones_approximate: bool,
    /// Parties whose sensors contributed.
    pub parties: Vec<String>,
    /// Number of detections folded into the track.
    pub n_detections: usize,
    /// Whether the track is still held (false: lost; the estimate is the last one).
    pub track_live: bool,
    /// Impact time as Unix seconds (for consumers doing arithmetic).
    pub impact_time_s: f64,
    /// Launch time as Unix seconds.
    pub launch_time_s: f64,
    /// Whether radars still see the missile: `tracked`, `coasting` (no detection for a while:
    /// the estimate is the track's prediction, its ellipse grown with the predicted
    /// covariance) or `lost` (left every radar's coverage for good).
    #[serde(default)]
    pub coverage: Coverage,
    /// Data time of the last detection of a coasting or lost track (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coasting_since: Option<String>,
    /// The flight path from the launch point through the track so far and the ballistic
    /// prediction to the impact point, as at most [`TRAJECTORY_POINTS_MAX`] samples of
    /// `[lat_deg, lon_deg, height_km]`, in flight order (empty in payloads made before it).
    #[serde(default)]
    pub trajectory: Vec<[f64; 3]>,
}

/// Whether the partners' radars still see a missile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Detections are being folded in.
    #[default]
    Tracked,
    /// Silent for a while (a coverage gap): the estimate is predicted.
    Coasting,
    /// Silent until its prediction became too uncertain or its predicted impact passed.
    Lost,
}

impl Assessment {
    /// Parties whose sensors contributed (for combining report markings).
    pub fn parties_contributing(&self) -> &[String] {
        &self.parties
    }
}

/// Assessment tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssessParams {
    /// Ballistic coefficient for impact prediction (kg/m²).
    pub beta_kg_m2: f64,
    /// Seconds the ballistic mode must have dominated before assessing.
    pub ballistic_settle_s: f64,
}

impl Default for AssessParams {
    fn default() -> AssessParams {
        AssessParams {
            beta_kg_m2: 10_000.0,
            ballistic_settle_s: 10.0,
        }
    }
}

/// Integration step for impact prediction: long in vacuum, short in the dense atmosphere.
fn adaptive_step(s: &Vector6<f64>) -> f64 {
    let r = s.fixed_rows::<3>(0).into_owned();
    let h = height_approx_m(&r);
    let v_radial = (r.normalize().dot(&s.fixed_rows::<3>(3).into_owned()))
        .abs()
        .max(200.0);
    (0.02 * h / v_radial).clamp(0.05, 5.0) * if h > 150_000.0 { 1.0 } else { 0.5 }
}

/// Propagates a ballistic `[r, v]` forward to height 0; returns (dt, state at impact) and calls
/// `on_step` with each intermediate state (for the overflight check).
pub fn propagate_to_impact(
    rv: &Vector6<f64>,
    beta: f64,
    mut on_step: impl FnMut(&Vector6<f64>),
) -> Option<(f64, Vector6<f64>)> {
    let zero = Vector3::zeros();
    let mut s = *rv;
    let mut t = 0.0;
    let h_of = |s: &Vector6<f64>| height_approx_m(&s.fixed_rows::<3>(0).into_owned());
    if h_of(&s) <= 0.0 {
        return Some((0.0, s));
    }
    for _ in 0..20_000 {
        let step = adaptive_step(&s);
        let next = rk4_step(&s, &zero, beta, step);
        if h_of(&next) <= 0.0 {
            let (mut lo, mut hi) = (0.0, step);
            for _ in 0..25 {
                let mid = 0.5 * (lo + hi);
                if h_of(&rk4_step(&s, &zero, beta, mid)) <= 0.0 {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return Some((t + hi, rk4_step(&s, &zero, beta, hi)));
        }
        s = next;
        t += step;
        on_step(&s);
        if t > 4.0 * 3600.0 {
            return None;
        }
    }
    None
}

/// Least squares of `y ≈ c · basis(x)` for three basis functions; `None` if ill-conditioned.
fn fit3(points: &[(f64, f64)], basis: impl Fn(f64) -> [f64; 3]) -> Option<Vector3<f64>> {
    let mut ata = nalgebra::Matrix3::zeros();
    let mut aty = Vector3::zeros();
    for &(x, y) in points {
        let b = Vector3::from(basis(x));
        ata += b * b.transpose();
        aty += b * y;
    }
    ata.try_inverse().map(|inv| inv * aty)
}

/// Least squares of `y ≈ c · basis(x)` for two basis functions; `None` if ill-conditioned.
fn fit2(points: &[(f64, f64)], basis: impl Fn(f64) -> [f64; 2]) -> Option<Vector2<f64>> {
    let mut ata = Matrix2::zeros();
    let mut aty = Vector2::zeros();
    for &(x, y) in points {
        let b = Vector2::from(basis(x));
        ata += b * b.transpose();
        aty += b * y;
    }
    ata.try_inverse().map(|inv| inv * aty)
}

/// Most boost history points used for the launch fit.
const LAUNCH_FIT_POINTS_MAX: usize = 60;

/// Launch point and time from the boost-phase history: a vertical launch that pitches over
/// gradually has its horizontal offset grow like h² + h³ with height h, and its time like
/// √h (constant acceleration from rest) plus a correction in h. Both fits are extrapolated to
/// h = 0. When the track starts after burnout, the first state is propagated ballistically back
/// to the ground instead.
fn estimate_launch(track: &Track, beta: f64) -> Option<(f64, f64, f64, &'static str)> {
    let first = track.history.first()?;
    let boost: Vec<_> = track
        .history
        .iter()
        .take_while(|h| h.mu_powered > 0.5 || h.x.fixed_rows::<3>(6).norm() > 5.0)
        .take(LAUNCH_FIT_POINTS_MAX)
        .collect();
    if boost.len() >= 6 {
        let r0 = boost[0].x.fixed_rows::<3>(0).into_owned();
        let g0 = Geodetic::from_ecef(&r0);
        let rot = ecef_to_enu_rotation(g0.lat_deg, g0.lon_deg);
        let mut east = Vec::with_capacity(boost.len());
        let mut north = Vec::with_capacity(boost.len());
        let mut times = Vec::with_capacity(boost.len());
        for h in &boost {
            let r = h.x.fixed_rows::<3>(0).into_owned();
            let height = Geodetic::from_ecef(&r).height_m.max(0.0);
            let enu = rot * (r - r0);
            east.push((height, enu.x));
            north.push((height, enu.y));
            times.push((height, h.time_s - boost[0].time_s));
        }
        let scale = 1.0e5; // Heights in units of 100 km keep the normal equations well conditioned.
        let shape = |h: f64| [1.0, (h / scale).powi(2), (h / scale).powi(3)];
        // Time since launch ∝ √h (constant acceleration from rest): robust to extrapolate.
        let clock = |h: f64| [1.0, (h / scale).sqrt()];
        if let (Some(ce), Some(cn), Some(ct)) =
            (fit3(&east, shape), fit3(&north, shape), fit2(&times, clock))
        {
            let (e0, n0) = (ce[0], cn[0]);
            let offset = (e0 * e0 + n0 * n0).sqrt();
            let heading = e0.atan2(n0).to_degrees().rem_euclid(360.0);
            let (lat, lon) = destination(g0.lat_deg, g0.lon_deg, heading, offset);
            let launch_time = boost[0].time_s + ct[0];
            if lat.is_finite()
                && lon.is_finite()
                && launch_time.is_finite()
                && launch_time <= boost[0].time_s
            {
                return Some((lat, lon, launch_time, "boost-extrapolation"));
            }
        }
    }
    let rv = first.x.fixed_rows::<6>(0).into_owned();
    let back = crate::dynamics::to_height(&rv, beta, 0.0, -1.0, 1.0)?;
    let g = Geodetic::from_ecef(&back.state.fixed_rows::<3>(0).into_owned());
    Some((
        g.lat_deg,
        g.lon_deg,
        first.time_s + back.dt_s,
        "ballistic-backprop",
    ))
}

/// Sigma points (2n, equal weights, no centre) of a 6-D Gaussian.
fn sigma_points(mean: &Vector6<f64>, cov: &Matrix6<f64>) -> Option<Vec<Vector6<f64>>> {
    let chol = (cov * 6.0).cholesky()?;
    let l = chol.l();
    let mut out = Vec::with_capacity(12);
    for i in 0..6 {
        let col = l.column(i).into_owned();
        out.push(mean + col);
        out.push(mean - col);
    }
    Some(out)
}

/// Assesses a confirmed track whose ballistic phase is established; `None` before that, or if
/// the state cannot be propagated to an impact.
pub fn assess(
    track: &Track,
    zones: &dyn ZoneOracle,
    params: &AssessParams,
    previous: Option<&Assessment>,
) -> Option<Assessment> {
    if track.status != TrackStatus::Confirmed {
        return None;
    }
    let since = track.ballistic_since_s?;
    let now = track.estimate.time_s;
    if now - since < params.ballistic_settle_s {
        return None;
    }
    let g = track.estimate.modes[crate::filter::BALLISTIC];
    let rv = g.x.fixed_rows::<6>(0).into_owned();
    let p_rv: Matrix6<f64> = g.p.fixed_view::<6, 6>(0, 0).into_owned();
    let beta = params.beta_kg_m2;
    let mut path = Vec::new();
    let mut n_step = 0usize;
    let (dt_impact, impact_state) = propagate_to_impact(&rv, beta, |s| {
        n_step += 1;
        if n_step % 8 == 0 {
            path.push(*s);
        }
    })?;
    let impact = Geodetic::from_ecef(&impact_state.fixed_rows::<3>(0).into_owned());
    // Impact ellipse from sigma points, in the ENU plane at the impact point.
    let rot = ecef_to_enu_rotation(impact.lat_deg, impact.lon_deg);
    let impact_r = impact_state.fixed_rows::<3>(0).into_owned();
    let mut offsets = Vec::with_capacity(12);
    for sp in sigma_points(&rv, &p_rv)? {
        let (_, s) = propagate_to_impact(&sp, beta, |_| {})?;
        let d = rot * (s.fixed_rows::<3>(0).into_owned() - impact_r);
        offsets.push(Vector2::new(d.x, d.y));
    }
    let mean_off = offsets.iter().fold(Vector2::zeros(), |a, b| a + b) / offsets.len() as f64;
    let mut cov = Matrix2::zeros();
    for o in &offsets {
        let d = o - mean_off;
        cov += d * d.transpose() / offsets.len() as f64;
    }
    let ellipse = ellipse_of(&cov);
    // Zone probabilities by sampling the impact distribution.
    let mut rng = StdRng::seed_from_u64(track.id ^ now.to_bits());
    let chol = (cov + Matrix2::identity() * 1.0).cholesky()?;
    let (mut n_eez, mut n_terr, mut n_land) = (0usize, 0usize, 0usize);
    for _ in 0..ZONE_SAMPLES {
        let z = Vector2::new(crate::sim::normal(&mut rng), crate::sim::normal(&mut rng));
        let off = chol.l() * z;
        let dist = off.norm();
        let brg = off.x.atan2(off.y).to_degrees();
        let (lat, lon) = destination(impact.lat_deg, impact.lon_deg, brg, dist);
        let call = zones.classify(lat, lon);
        n_eez += usize::from(call.eez == Some(JPN));
        n_terr += usize::from(call.territory == Some(JPN));
        n_land += usize::from(call.on_land);
    }
    let (launch_lat, launch_lon, launch_time_s, launch_method) = estimate_launch(track, beta)?;
    // Past the apogee the filtered history holds it (within the radar noise); before it, the
    // ballistic prediction does.
    let climbing = rv.fixed_rows::<3>(0).dot(&rv.fixed_rows::<3>(3)) > 0.0;
    let history_max_m = track
        .history
        .iter()
        .map(|h| height_approx_m(&h.x.fixed_rows::<3>(0).into_owned()))
        .fold(f64::NEG_INFINITY, f64::max);
    let climbed_in_history = track
        .history
        .first()
        .is_some_and(|h| h.x.fixed_rows::<3>(0).dot(&h.x.fixed_rows::<3>(3)) > 0.0);
    let predicted_m = to_apogee(&rv, beta, 2.0)
        .map(|a| height_approx_m(&a.state.fixed_rows::<3>(0).into_owned()));
    // Backwards through the atmosphere the drag model is least sure: when the climb was seen,
    // the history bounds the apogee from below (the top may fall in a coverage gap).
    let apogee_km = match (
        climbing || !climbed_in_history || !history_max_m.is_finite(),
        predicted_m,
    ) {
        (true, Some(p)) => p / 1000.0,
        (false, Some(p)) => p.max(history_max_m) / 1000.0,
        (false, None) => history_max_m / 1000.0,
        (true, None) => return None,
    };
    // Below the atmosphere's edge on the way down, propagating back through the drag model
    // is worse than the estimate made above it: keep that one.
    let descending_in_air = !climbing
        && height_approx_m(&rv.fixed_rows::<3>(0).into_owned()) < crate::filter::VACUUM_HEIGHT_M;
    let apogee_km = match previous {
        Some(p) if descending_in_air => p.apogee_km,
        _ => apogee_km,
    };
    let impact_time_s = now + dt_impact;
    let r = rv.fixed_rows::<3>(0).norm();
    let (class, energy_range_km) = MissileClass::from_energy(rv.fixed_rows::<3>(3).norm(), r);
    let overflown = overflown_parties(track, &path, zones);
    let trajectory = trajectory_points(
        (launch_lat, launch_lon),
        track
            .history
            .iter()
            .map(|h| h.x.fixed_rows::<3>(0).into_owned()),
        path.iter().map(|s| s.fixed_rows::<3>(0).into_owned()),
        (impact.lat_deg, impact.lon_deg),
    );
    Some(Assessment {
        track_id: track.id,
        assessed_at: format_time(now),
        launch_time: format_time(launch_time_s),
        launch_lat,
        launch_lon,
        launch_method: launch_method.into(),
        apogee_km,
        range_km: great_circle_m(launch_lat, launch_lon, impact.lat_deg, impact.lon_deg) / 1000.0,
        flight_time_s: impact_time_s - launch_time_s,
        impact_time: format_time(impact_time_s),
        impact_lat: impact.lat_deg,
        impact_lon: impact.lon_deg,
        impact_ellipse: ellipse,
        class,
        energy_range_km,
        overflown,
        p_impact_in_jpn_eez: n_eez as f64 / ZONE_SAMPLES as f64,
        p_impact_in_jpn_territory: n_terr as f64 / ZONE_SAMPLES as f64,
        p_impact_on_land: n_land as f64 / ZONE_SAMPLES as f64,
        zones_approximate: zones.approximate(),
        parties: track.parties.iter().cloned().collect(),
        n_detections: track.n_updates,
        track_live: true,
        coverage: Coverage::Tracked,
        coasting_since: None,
        impact_time_s,
        launch_time_s,
        trajectory,
    })
}

/// The flight path as map points: launch (on the ground), the positions seen and predicted
/// (ECEF, m), impact (on the ground); evenly thinned to [`TRAJECTORY_POINTS_MAX`], keeping the
/// first and last.
fn trajectory_points(
    launch: (f64, f64),
    seen: impl Iterator<Item = Vector3<f64>>,
    predicted: impl Iterator<Item = Vector3<f64>>,
    impact: (f64, f64),
) -> Vec<[f64; 3]> {
    let mut all = vec![[launch.0, launch.1, 0.0]];
    for r in seen.chain(predicted) {
        let g = Geodetic::from_ecef(&r);
        all.push([g.lat_deg, g.lon_deg, (g.height_m / 1000.0).max(0.0)]);
    }
    all.push([impact.0, impact.1, 0.0]);
    let n = all.len();
    assert!(n >= 2);
    if n <= TRAJECTORY_POINTS_MAX {
        return all;
    }
    let out: Vec<[f64; 3]> = (0..TRAJECTORY_POINTS_MAX)
        .map(|i| all[i * (n - 1) / (TRAJECTORY_POINTS_MAX - 1)])
        .collect();
    assert_eq!(out.len(), TRAJECTORY_POINTS_MAX);
    assert_eq!(out.last(), all.last());
    out
}

/// The 95 % ellipse of a 2-D ENU covariance (m²).
pub fn ellipse_of(cov: &Matrix2<f64>) -> ImpactEllipse {
    let eig = cov.symmetric_eigen();
    let (i_major, i_minor) = if eig.eigenvalues[0] >= eig.eigenvalues[1] {
        (0, 1)
    } else {
        (1, 0)
    };
    let major = eig.eigenvectors.column(i_major);
    let bearing = major[0].atan2(major[1]).to_degrees().rem_euclid(180.0);
    ImpactEllipse {
        semi_major_km: (eig.eigenvalues[i_major].max(0.0) * CHI2_2DOF_95).sqrt() / 1000.0,
        semi_minor_km: (eig.eigenvalues[i_minor].max(0.0) * CHI2_2DOF_95).sqrt() / 1000.0,
        bearing_deg: bearing,
        confidence: 0.95,
    }
}

/// Parties (other than the DPRK) whose territory the tracked and predicted path overflies.
fn overflown_parties(
    track: &Track,
    predicted: &[Vector6<f64>],
    zones: &dyn ZoneOracle,
) -> Vec<String> {
    let mut out: Vec<PartyCode> = Vec::new();
    let points = track
        .history
        .iter()
        .map(|h| h.x.fixed_rows::<3>(0).into_owned())
        .chain(predicted.iter().map(|s| s.fixed_rows::<3>(0).into_owned()));
    for r in points {
        let g = Geodetic::from_ecef(&r);
        if g.height_m < 1_000.0 {
            continue; // Not overflight: launch or impact area.
        }
        if let Some(owner) = zones.classify(g.lat_deg, g.lon_deg).territory {
            if owner.as_str() != "PRK" && !out.contains(&owner) {
                out.push(owner);
            }
        }
    }
    out.sort();
    out.into_iter().map(|p| p.as_str().to_string()).collect()
}

/// Bearing from the launch to the impact of an assessment (degrees).
pub fn assessed_bearing_deg(a: &Assessment) -> f64 {
    bearing_deg(a.launch_lat, a.launch_lon, a.impact_lat, a.impact_lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_class(apogee_km: f64, range_km: f64, expect: MissileClass) {
        assert_eq!(
            MissileClass::from_apogee_range(apogee_km, range_km),
            expect,
            "{apogee_km} km / {range_km} km"
        );
    }

    #[test]
    fn classes_by_energy() {
        check_class(60.0, 600.0, MissileClass::Srbm);
        check_class(550.0, 500.0, MissileClass::Mrbm);
        check_class(2_100.0, 800.0, MissileClass::Irbm); // Hwasong-12 lofted
        check_class(4_500.0, 950.0, MissileClass::Icbm); // Hwasong-15 lofted
        check_class(6_000.0, 1_000.0, MissileClass::Icbm); // Hwasong-17/18 lofted
        check_class(300.0, 1_200.0, MissileClass::Mrbm);
    }

    #[test]
    fn ellipse_axes_and_bearing() {
        // σ_east = 2 km, σ_north = 1 km: major axis east (bearing 90°), 2·√5.991 km.
        let e = ellipse_of(&Matrix2::new(4e6, 0.0, 0.0, 1e6));
        assert!((e.semi_major_km - 2.0 * CHI2_2DOF_95.sqrt()).abs() < 1e-9);
        assert!((e.semi_minor_km - CHI2_2DOF_95.sqrt()).abs() < 1e-9);
        assert!((e.bearing_deg - 90.0).abs() < 1e-6);
    }
}
