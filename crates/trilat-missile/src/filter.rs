//! The state estimator: an interacting multiple model (IMM) of two extended Kalman filters in
//! ECEF over one nine-element state `[r, v, a]` (position, velocity, non-gravitational
//! acceleration):
//!
//! - **powered**: `a` is thrust, a random walk with large jerk noise;
//! - **ballistic**: `a` is a small residual (drag mismatch) that decays to zero, gravity with
//!   J2, Coriolis, centrifugal and nominal drag carry the motion.
//!
//! [`ImmPredictor`] and [`RadarUpdater`] are the Stone Soup predictor and updater.

use nalgebra::{SMatrix, SVector, Vector3, Vector6};

use crate::dynamics::{ballistic_accel, ballistic_jacobian, rk4_step};
use crate::frames::rae_to_enu;
use crate::sensors::{Detection, Sensor};

/// State vector `[r (m), v (m/s), a (m/s²)]` in ECEF.
pub type StateVector = SVector<f64, 9>;
/// State covariance.
pub type Covariance = SMatrix<f64, 9, 9>;

/// Index of the powered mode in [`ImmEstimate::modes`].
pub const POWERED: usize = 0;
/// Index of the ballistic mode.
pub const BALLISTIC: usize = 1;

/// Height above which the ballistic mode assumes no drag mismatch (m).
pub const VACUUM_HEIGHT_M: f64 = 120_000.0;

/// A Gaussian state estimate of one mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    /// Mean.
    pub x: StateVector,
    /// Covariance.
    pub p: Covariance,
}

/// The IMM estimate: one Gaussian per mode plus mode probabilities, at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImmEstimate {
    /// Time (Unix seconds).
    pub time_s: f64,
    /// Per-mode estimates, indexed by [`POWERED`] and [`BALLISTIC`].
    pub modes: [Gaussian; 2],
    /// Mode probabilities (sum to 1).
    pub mu: [f64; 2],
}

impl ImmEstimate {
    /// The moment-matched combination of the modes.
    pub fn combined(&self) -> Gaussian {
        let x = self.modes[0].x * self.mu[0] + self.modes[1].x * self.mu[1];
        let mut p = Covariance::zeros();
        for (m, mu) in self.modes.iter().zip(self.mu) {
            let d = m.x - x;
            p += (m.p + d * d.transpose()) * mu;
        }
        Gaussian { x, p }
    }

    /// Position and velocity of the combined estimate.
    pub fn position_velocity(&self) -> Vector6<f64> {
        self.combined().x.fixed_rows::<6>(0).into_owned()
    }
}

/// Filter tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterParams {
    /// Jerk noise spectral density of the powered mode (m²/s⁵).
    pub q_powered_jerk: f64,
    /// Acceleration noise spectral density of both modes on velocity (m²/s³).
    pub q_velocity: f64,
    /// Steady-state sigma of the ballistic residual acceleration (m/s²).
    pub ballistic_residual_sigma: f64,
    /// Correlation time of the ballistic residual (s).
    pub ballistic_residual_tau_s: f64,
    /// Nominal ballistic coefficient for drag (kg/m²).
    pub beta_nominal: f64,
    /// Rate of switching powered → ballistic (per second).
    pub rate_powered_to_ballistic: f64,
    /// Rate of switching ballistic → powered (per second).
    pub rate_ballistic_to_powered: f64,
    /// Longest RK4 sub-step in prediction (s).
    pub step_max_s: f64,
}

impl Default for FilterParams {
    fn default() -> FilterParams {
        FilterParams {
            q_powered_jerk: 30.0,
            q_velocity: 0.5,
            ballistic_residual_sigma: 2.0,
            ballistic_residual_tau_s: 2.0,
            beta_nominal: 10_000.0,
            rate_powered_to_ballistic: 0.01,
            // A missile does not relight after burnout (manoeuvring warheads are out of scope).
            rate_ballistic_to_powered: 0.0,
            step_max_s: 2.0,
        }
    }
}

/// A prediction: the mixed-and-predicted per-mode Gaussians and the predicted mode weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImmPrediction {
    /// Time predicted to.
    pub time_s: f64,
    /// Per-mode predicted Gaussians.
    pub modes: [Gaussian; 2],
    /// Predicted mode probabilities (before the measurement).
    pub c: [f64; 2],
}

impl ImmPrediction {
    /// The moment-matched combination of the predicted modes.
    pub fn combined(&self) -> Gaussian {
        ImmEstimate {
            time_s: self.time_s,
            modes: self.modes,
            mu: self.c,
        }
        .combined()
    }
}

/// The Stone Soup predictor role: state at a later time.
pub trait Predictor {
    /// Predicts an estimate to `time_s` (≥ its time).
    fn predict(&self, estimate: &ImmEstimate, time_s: f64) -> ImmPrediction;
}

/// The Stone Soup updater role: fold a detection into a prediction.
pub trait Updater {
    /// Updates a prediction with a detection; returns the posterior and the measurement's
    /// likelihood under the prediction.
    fn update(
        &self,
        prediction: &ImmPrediction,
        sensor: &Sensor,
        detection: &Detection,
    ) -> (ImmEstimate, f64);
    /// Squared Mahalanobis distance of a detection from a prediction, and the measurement size.
    fn distance2(
        &self,
        prediction: &ImmPrediction,
        sensor: &Sensor,
        detection: &Detection,
    ) -> (f64, usize);
}

/// The IMM predictor with the two motion models.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImmPredictor {
    /// Tuning.
    pub params: FilterParams,
}

/// Discrete process noise of a random-walk acceleration with jerk density `q` (3 axes).
fn q_jerk(dt: f64, q: f64) -> Covariance {
    let mut out = Covariance::zeros();
    let (d2, d3, d4, d5) = (dt * dt, dt * dt * dt, dt.powi(4), dt.powi(5));
    let blocks = [
        [d5 / 20.0, d4 / 8.0, d3 / 6.0],
        [d4 / 8.0, d3 / 3.0, d2 / 2.0],
        [d3 / 6.0, d2 / 2.0, dt],
    ];
    for (i, row) in blocks.iter().enumerate() {
        for (j, b) in row.iter().enumerate() {
            for axis in 0..3 {
                out[(3 * i + axis, 3 * j + axis)] = q * b;
            }
        }
    }
    out
}

/// Discrete process noise of white acceleration with density `q` on `[r, v]`.
fn q_velocity(dt: f64, q: f64) -> Covariance {
    let mut out = Covariance::zeros();
    for axis in 0..3 {
        out[(axis, axis)] = q * dt.powi(3) / 3.0;
        out[(axis, axis + 3)] = q * dt * dt / 2.0;
        out[(axis + 3, axis)] = q * dt * dt / 2.0;
        out[(axis + 3, axis + 3)] = q * dt;
    }
    out
}

impl ImmPredictor {
    /// Predicts one mode over `dt` (one step; the caller splits long intervals).
    fn predict_mode(&self, g: &Gaussian, mode: usize, dt: f64) -> Gaussian {
        let prm = &self.params;
        let rv = g.x.fixed_rows::<6>(0).into_owned();
        let a = g.x.fixed_rows::<3>(6).into_owned();
        let (beta, decay) = if mode == POWERED {
            (f64::INFINITY, 1.0)
        } else {
            (prm.beta_nominal, (-dt / prm.ballistic_residual_tau_s).exp())
        };
        // The residual acceleration is integrated as constant over the step.
        let rv_next = rk4_step(&rv, &a, beta, dt);
        let mut x = StateVector::zeros();
        x.fixed_rows_mut::<6>(0).copy_from(&rv_next);
        x.fixed_rows_mut::<3>(6).copy_from(&(a * decay));
        // Transition Jacobian Φ ≈ I + A dt + A² dt²/2 with A = [[0 I 0] [G C I] [0 0 -1/τ]].
        let r = rv.fixed_rows::<3>(0).into_owned();
        let (g_r, c_v) = ballistic_jacobian(&r);
        let mut phi = Covariance::identity();
        for i in 0..3 {
            phi[(i, 3 + i)] = dt;
            phi[(i, 6 + i)] = 0.5 * dt * dt;
            phi[(3 + i, 6 + i)] = dt;
            phi[(6 + i, 6 + i)] = decay;
        }
        let g_dt = g_r * dt;
        let c_dt = c_v * dt;
        for i in 0..3 {
            for j in 0..3 {
                phi[(3 + i, j)] += g_dt[(i, j)];
                phi[(3 + i, 3 + j)] += c_dt[(i, j)];
                phi[(i, j)] += 0.5 * g_dt[(i, j)] * dt;
                phi[(i, 3 + j)] += 0.5 * c_dt[(i, j)] * dt;
            }
        }
        let q = if mode == POWERED {
            q_jerk(dt, prm.q_powered_jerk) + q_velocity(dt, prm.q_velocity)
        } else if crate::dynamics::height_approx_m(&r) > VACUUM_HEIGHT_M {
            // Above the atmosphere the ballistic model is near-exact: tiny noise keeps the
            // prediction tight across long coverage gaps, so clutter cannot enter the gate.
            let q_a =
                2.0 * (0.05 * prm.ballistic_residual_sigma).powi(2) / prm.ballistic_residual_tau_s;
            q_jerk(dt, q_a) + q_velocity(dt, 1e-4 * prm.q_velocity)
        } else {
            let q_a = 2.0 * prm.ballistic_residual_sigma.powi(2) / prm.ballistic_residual_tau_s;
            q_jerk(dt, q_a) + q_velocity(dt, prm.q_velocity)
        };
        let mut p = phi * g.p * phi.transpose() + q;
        p = (p + p.transpose()) * 0.5;
        Gaussian { x, p }
    }

    /// The mode transition matrix over `dt`.
    fn transition(&self, dt: f64) -> [[f64; 2]; 2] {
        let p_pb = 1.0 - (-self.params.rate_powered_to_ballistic * dt).exp();
        let p_bp = 1.0 - (-self.params.rate_ballistic_to_powered * dt).exp();
        [[1.0 - p_pb, p_pb], [p_bp, 1.0 - p_bp]]
    }
}

impl Predictor for ImmPredictor {
    fn predict(&self, estimate: &ImmEstimate, time_s: f64) -> ImmPrediction {
        let dt = (time_s - estimate.time_s).max(0.0);
        let pi = self.transition(dt);
        // Mixing.
        let mut c = [0.0; 2];
        for (j, c_j) in c.iter_mut().enumerate() {
            *c_j = (0..2)
                .map(|i| pi[i][j] * estimate.mu[i])
                .sum::<f64>()
                .max(1e-300);
        }
        let mut modes = estimate.modes;
        for (j, mode) in modes.iter_mut().enumerate() {
            let w = [
                pi[0][j] * estimate.mu[0] / c[j],
                pi[1][j] * estimate.mu[1] / c[j],
            ];
            let x0 = estimate.modes[0].x * w[0] + estimate.modes[1].x * w[1];
            let mut p0 = Covariance::zeros();
            for (m, w_i) in estimate.modes.iter().zip(w) {
                let d = m.x - x0;
                p0 += (m.p + d * d.transpose()) * w_i;
            }
            *mode = Gaussian { x: x0, p: p0 };
        }
        // Prediction, split into sub-steps no longer than `step_max_s`.
        let n_steps = ((dt / self.params.step_max_s).ceil() as usize).max(1);
        let h = dt / n_steps as f64;
        for (j, mode) in modes.iter_mut().enumerate() {
            for _ in 0..n_steps {
                *mode = self.predict_mode(mode, j, h);
            }
        }
        let total = c[0] + c[1];
        ImmPrediction {
            time_s,
            modes,
            c: [c[0] / total, c[1] / total],
        }
    }
}

/// The radar measurement updater (range, azimuth, elevation, optional range rate).
#[derive(Debug, Clone, Copy, Default)]
pub struct RadarUpdater;

/// Measurement, predicted measurement, Jacobian and noise for `M` = 3 (no range rate) or 4.
struct Linearised<const M: usize> {
    innovation: SVector<f64, M>,
    h: SMatrix<f64, M, 9>,
    r: SMatrix<f64, M, M>,
}

fn linearise<const M: usize>(x: &StateVector, sensor: &Sensor, det: &Detection) -> Linearised<M> {
    debug_assert!(M == 3 || M == 4);
    let r_t = x.fixed_rows::<3>(0).into_owned();
    let v_t = x.fixed_rows::<3>(3).into_owned();
    let d = r_t - sensor.ecef;
    let enu = sensor.enu_rotation * d;
    let rho = enu.norm().max(1.0);
    let horiz2 = (enu.x * enu.x + enu.y * enu.y).max(1e-6);
    let horiz = horiz2.sqrt();
    let deg = 180.0 / std::f64::consts::PI;
    let az = enu.x.atan2(enu.y) * deg;
    let el = (enu.z / rho).clamp(-1.0, 1.0).asin() * deg;
    let d_range = enu / rho;
    let d_az = Vector3::new(enu.y / horiz2, -enu.x / horiz2, 0.0) * deg;
    let d_el = Vector3::new(-enu.x * enu.z, -enu.y * enu.z, horiz2) * (deg / (rho * rho * horiz));
    let rot = sensor.enu_rotation;
    let mut h = SMatrix::<f64, M, 9>::zeros();
    h.fixed_view_mut::<1, 3>(0, 0)
        .copy_from(&(d_range.transpose() * rot));
    h.fixed_view_mut::<1, 3>(1, 0)
        .copy_from(&(d_az.transpose() * rot));
    h.fixed_view_mut::<1, 3>(2, 0)
        .copy_from(&(d_el.transpose() * rot));
    let mut innovation = SVector::<f64, M>::zeros();
    innovation[0] = det.range_m - rho;
    innovation[1] = (det.az_deg - az + 540.0).rem_euclid(360.0) - 180.0;
    innovation[2] = det.el_deg - el;
    let spec = &sensor.spec;
    let mut r = SMatrix::<f64, M, M>::zeros();
    r[(0, 0)] = spec.sigma_range_m.powi(2);
    // Near the zenith azimuth is meaningless: inflate its noise rather than divide by ~0.
    let az_inflation = if horiz < 1e-3 * rho { 1e6 } else { 1.0 };
    r[(1, 1)] = spec.sigma_az_deg.powi(2) * az_inflation;
    r[(2, 2)] = spec.sigma_el_deg.powi(2);
    if M == 4 {
        let dist = d.norm().max(1.0);
        let rr = d.dot(&v_t) / dist;
        let d_rr_r = (v_t - d * (rr / dist)) / dist;
        let d_rr_v = d / dist;
        h.fixed_view_mut::<1, 3>(3, 0)
            .copy_from(&d_rr_r.transpose());
        h.fixed_view_mut::<1, 3>(3, 3)
            .copy_from(&d_rr_v.transpose());
        innovation[3] = det.range_rate_mps.unwrap_or(rr) - rr;
        r[(3, 3)] = spec.sigma_range_rate_mps.unwrap_or(10.0).powi(2);
    }
    Linearised { innovation, h, r }
}

/// EKF update of one Gaussian; returns the posterior, the log-likelihood and the Mahalanobis².
/// Position variance (m²) above which the update is iterated (after a long coast the prior is
/// wide and one linearisation of the angles is not enough).
const ITERATE_POSITION_VAR_M2: f64 = 1.0e6;
/// Most iterations of the iterated EKF.
const ITERATIONS_MAX: usize = 5;

fn ekf_update<const M: usize>(
    g: &Gaussian,
    sensor: &Sensor,
    det: &Detection,
) -> (Gaussian, f64, f64) {
    let lin = linearise::<M>(&g.x, sensor, det);
    let ph_t = g.p * lin.h.transpose();
    let s = lin.h * ph_t + lin.r;
    let Some(chol) = s.cholesky() else {
        return (*g, f64::NEG_INFINITY, f64::INFINITY);
    };
    let s_inv_y = chol.solve(&lin.innovation);
    let d2 = lin.innovation.dot(&s_inv_y);
    let log_det: f64 = (0..M).map(|i| chol.l()[(i, i)].ln()).sum::<f64>() * 2.0;
    let log_like = -0.5 * (d2 + log_det + M as f64 * (2.0 * std::f64::consts::PI).ln());
    let mut k = ph_t * chol.inverse();
    let mut x = g.x + k * lin.innovation;
    let mut s = s;
    let position_var = g.p[(0, 0)] + g.p[(1, 1)] + g.p[(2, 2)];
    if position_var > ITERATE_POSITION_VAR_M2 {
        // Iterated EKF: relinearise about the latest estimate.
        for _ in 0..ITERATIONS_MAX {
            let lin_i = linearise::<M>(&x, sensor, det);
            let ph_t_i = g.p * lin_i.h.transpose();
            let s_i = lin_i.h * ph_t_i + lin_i.r;
            let Some(chol_i) = s_i.cholesky() else { break };
            let k_i = ph_t_i * chol_i.inverse();
            let x_next = g.x + k_i * (lin_i.innovation - lin_i.h * (g.x - x));
            let step = (x_next - x).fixed_rows::<3>(0).norm();
            x = x_next;
            k = k_i;
            s = s_i;
            if step < 1.0 {
                break;
            }
        }
    }
    let mut p = g.p - k * s * k.transpose();
    p = (p + p.transpose()) * 0.5;
    (Gaussian { x, p }, log_like, d2)
}

fn has_range_rate(sensor: &Sensor, det: &Detection) -> bool {
    det.range_rate_mps.is_some() && sensor.spec.sigma_range_rate_mps.is_some()
}

impl Updater for RadarUpdater {
    fn update(
        &self,
        prediction: &ImmPrediction,
        sensor: &Sensor,
        det: &Detection,
    ) -> (ImmEstimate, f64) {
        let mut modes = prediction.modes;
        let mut log_like = [0.0; 2];
        for (j, mode) in modes.iter_mut().enumerate() {
            let (post, ll, _) = if has_range_rate(sensor, det) {
                ekf_update::<4>(mode, sensor, det)
            } else {
                ekf_update::<3>(mode, sensor, det)
            };
            *mode = post;
            log_like[j] = ll;
        }
        let ll_max = log_like[0].max(log_like[1]);
        let w = [
            prediction.c[0] * (log_like[0] - ll_max).exp(),
            prediction.c[1] * (log_like[1] - ll_max).exp(),
        ];
        let total = w[0] + w[1];
        // Keep both modes alive: a floor stops the IMM locking in.
        let mu = if total > 0.0 && total.is_finite() {
            let m0 = (w[0] / total).clamp(1e-6, 1.0 - 1e-6);
            [m0, 1.0 - m0]
        } else {
            prediction.c
        };
        let likelihood =
            (prediction.c[0] * log_like[0].exp() + prediction.c[1] * log_like[1].exp()).max(0.0);
        (
            ImmEstimate {
                time_s: prediction.time_s,
                modes,
                mu,
            },
            likelihood,
        )
    }

    fn distance2(
        &self,
        prediction: &ImmPrediction,
        sensor: &Sensor,
        det: &Detection,
    ) -> (f64, usize) {
        let combined = prediction.combined();
        let m = if has_range_rate(sensor, det) { 4 } else { 3 };
        let (_, _, d2) = if m == 4 {
            ekf_update::<4>(&combined, sensor, det)
        } else {
            ekf_update::<3>(&combined, sensor, det)
        };
        (d2, m)
    }
}

/// The ECEF position of a detection (for initiation and coarse gating).
pub fn detection_position(sensor: &Sensor, det: &Detection) -> Vector3<f64> {
    sensor.ecef + sensor.enu_rotation.transpose() * rae_to_enu(det.range_m, det.az_deg, det.el_deg)
}

/// Position covariance of a detection in ECEF (from range and angle noise).
pub fn detection_position_covariance(sensor: &Sensor, det: &Detection) -> nalgebra::Matrix3<f64> {
    let spec = &sensor.spec;
    let cross_az = det.range_m * spec.sigma_az_deg.to_radians() * det.el_deg.to_radians().cos();
    let cross_el = det.range_m * spec.sigma_el_deg.to_radians();
    // Axes of the measurement in ENU: radial, azimuthal, elevation directions.
    let radial = rae_to_enu(1.0, det.az_deg, det.el_deg);
    let az_dir = Vector3::new(
        det.az_deg.to_radians().cos(),
        -det.az_deg.to_radians().sin(),
        0.0,
    );
    let el_dir = radial.cross(&az_dir).normalize();
    let cov_enu = radial * radial.transpose() * spec.sigma_range_m.powi(2)
        + az_dir * az_dir.transpose() * cross_az.powi(2)
        + el_dir * el_dir.transpose() * cross_el.powi(2);
    sensor.enu_rotation.transpose() * cov_enu * sensor.enu_rotation
}

/// Propagates a mean `[r, v]` ballistically (for tests and assessments).
pub fn ballistic_rv(rv: &Vector6<f64>, beta: f64, dt: f64) -> Vector6<f64> {
    crate::dynamics::propagate(rv, &Vector3::zeros(), beta, dt, 1.0)
}

/// The ballistic acceleration at a state (re-exported for the tracker's coarse gate).
pub fn accel_at(rv: &Vector6<f64>, beta: f64) -> Vector3<f64> {
    ballistic_accel(
        &rv.fixed_rows::<3>(0).into_owned(),
        &rv.fixed_rows::<3>(3).into_owned(),
        beta,
    )
}
