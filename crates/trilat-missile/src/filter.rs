//! The state estimator: an interacting multiple model (IMM) of two extended Kalman filters in
//! ECEF over one nine-element state `[r, v, a]` (position, velocity, non-gravitational
//! acceleration):
//!
//! - **powered**: `a` is thrust, a random walk with large jerk noise;
//! - **ballistic**: `a` is a small residual (drag mismatch) that decays to zero, gravity with
//!   J2, Coriolis, centrifugal and nominal drag carry the motion.
//!
//! [`ImmPredictor`] and [`RadarUpdater`] are the Stone Soup predictor and updater.
//!
//! **Model pruning.** A missile does not relight after burnout, so once the ballistic mode
//! probability has stayed at or above [`PRUNE_BALLISTIC_MU_MIN`] for
//! [`FilterParams::prune_after_updates`] consecutive updates, the powered mode is pruned: the
//! estimate becomes [`ImmEstimate::ballistic_only`] and from then on is predicted and updated
//! by the ballistic filter alone (one RK4 propagation and one EKF update per detection instead
//! of two, and no mixing). The track stays ballistic for the rest of its life; the powered
//! Gaussian is kept as it was at pruning time and is no longer read by the combination.

// Small dense matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

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

/// Ballistic mode probability at or above which an update counts towards pruning the powered
/// mode (the posterior is clamped to `1 - 1e-6`, so this is reachable).
pub const PRUNE_BALLISTIC_MU_MIN: f64 = 0.999;

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
    /// Mode probabilities (sum to 1; `[0, 1]` once [`Self::ballistic_only`]).
    pub mu: [f64; 2],
    /// Consecutive updates with `mu[BALLISTIC] ≥` [`PRUNE_BALLISTIC_MU_MIN`].
    pub ballistic_streak: u32,
    /// The powered mode has been pruned: only [`BALLISTIC`] is predicted and updated, and it
    /// alone is the estimate.
    pub ballistic_only: bool,
}

impl ImmEstimate {
    /// A new two-mode estimate (not pruned).
    pub fn new(time_s: f64, modes: [Gaussian; 2], mu: [f64; 2]) -> ImmEstimate {
        debug_assert!(
            (mu[0] + mu[1] - 1.0).abs() < 1e-9,
            "mode probabilities {mu:?}"
        );
        ImmEstimate {
            time_s,
            modes,
            mu,
            ballistic_streak: 0,
            ballistic_only: false,
        }
    }

    /// The moment-matched combination of the modes (the ballistic mode once pruned).
    pub fn combined(&self) -> Gaussian {
        if self.ballistic_only {
            return self.modes[BALLISTIC];
        }
        mix(&self.modes, self.mu)
    }

    /// Position and velocity of the combined estimate (the mean only, no covariance).
    pub fn position_velocity(&self) -> Vector6<f64> {
        self.combined_mean().fixed_rows::<6>(0).into_owned()
    }

    /// The mean of the combined estimate.
    pub fn combined_mean(&self) -> StateVector {
        if self.ballistic_only {
            return self.modes[BALLISTIC].x;
        }
        self.modes[0].x * self.mu[0] + self.modes[1].x * self.mu[1]
    }

    /// The diagonal of the combined covariance (variances of `[r, v, a]`), without the
    /// off-diagonal terms: what a coarse gate needs.
    pub fn combined_variances(&self) -> StateVector {
        if self.ballistic_only {
            return self.modes[BALLISTIC].p.diagonal();
        }
        let delta = self.modes[0].x - self.modes[1].x;
        let k = self.mu[0] * self.mu[1];
        StateVector::from_fn(|i, _| {
            self.mu[0] * self.modes[0].p[(i, i)]
                + self.mu[1] * self.modes[1].p[(i, i)]
                + k * delta[i] * delta[i]
        })
    }
}

/// The moment-matched mixture of two Gaussians with weights `w` (summing to 1):
/// `Σ wᵢ (Pᵢ + dᵢdᵢᵀ)` with `dᵢ = xᵢ - x̄` is `w₀P₀ + w₁P₁ + w₀w₁ ΔΔᵀ` with `Δ = x₀ - x₁`,
/// one outer product instead of two.
#[inline(always)]
fn mix(modes: &[Gaussian; 2], w: [f64; 2]) -> Gaussian {
    // Weights sum to 1, or to 0 when both mode predictions underflowed (then x = 0, P = 0).
    debug_assert!(w[0] >= 0.0 && w[1] >= 0.0, "weights {w:?}");
    debug_assert!(w[0] + w[1] <= 1.0 + 1e-9, "weights {w:?}");
    let x = modes[0].x * w[0] + modes[1].x * w[1];
    let delta = modes[0].x - modes[1].x;
    let k = w[0] * w[1];
    let mut p = Covariance::zeros();
    let (a, b) = (modes[0].p.as_slice(), modes[1].p.as_slice());
    for (j, column) in p.as_mut_slice().chunks_exact_mut(9).enumerate() {
        let kd = k * delta[j];
        for i in 0..9 {
            column[i] = w[0] * a[9 * j + i] + w[1] * b[9 * j + i] + kd * delta[i];
        }
    }
    Gaussian { x, p }
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
    /// Prune the powered mode after this many consecutive updates with the ballistic mode
    /// probability ≥ [`PRUNE_BALLISTIC_MU_MIN`]; `None` keeps both modes for ever. Pruning
    /// only happens when `rate_ballistic_to_powered` is 0 (no relight hypothesis to lose).
    pub prune_after_updates: Option<u32>,
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
            prune_after_updates: Some(10),
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
    /// The prior's [`ImmEstimate::ballistic_streak`].
    pub ballistic_streak: u32,
    /// Only the ballistic mode was predicted (see [`ImmEstimate::ballistic_only`]).
    pub ballistic_only: bool,
}

impl ImmPrediction {
    /// The prediction as an estimate at its time, no detection folded in (a coasting track's).
    pub fn as_estimate(&self) -> ImmEstimate {
        ImmEstimate {
            time_s: self.time_s,
            modes: self.modes,
            mu: self.c,
            ballistic_streak: self.ballistic_streak,
            ballistic_only: self.ballistic_only,
        }
    }

    /// The moment-matched combination of the predicted modes (the ballistic mode once pruned).
    pub fn combined(&self) -> Gaussian {
        if self.ballistic_only {
            return self.modes[BALLISTIC];
        }
        mix(&self.modes, self.c)
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

/// The transition Jacobian of one prediction step, Φ ≈ I + A dt + A² dt²/2 with
/// A = [[0 I 0] [G C I] [0 0 -1/τ]], kept as its 3×3 blocks:
///
/// ```text
/// Φ = [ I + h·G   dt·I + h·C   h·I  ]     h = dt²/2
///     [ dt·G      I + dt·C     dt·I ]     G = ∂a/∂r (symmetric), C = ∂a/∂v (Coriolis)
///     [ 0         0            d·I  ]     d = residual decay over dt
/// ```
///
/// Multiplying by Φ block-wise costs about a fifth of a dense 9×9 product, and `Φ P Φᵀ` is
/// the single most expensive step of the filter (see `docs/bench/missile.md`).
struct Transition {
    g: [[f64; 3]; 3],
    /// 2ω: C = [[0, 2ω, 0], [-2ω, 0, 0], [0, 0, 0]].
    two_omega: f64,
    dt: f64,
    h: f64,
    decay: f64,
}

/// A 9×9 matrix as rows (row-major), for the hand-written structured products.
type Rows = [[f64; 9]; 9];

impl Transition {
    #[inline(always)]
    fn new(r: &Vector3<f64>, dt: f64, decay: f64) -> Transition {
        let (g_r, _) = ballistic_jacobian(r);
        let mut g = [[0.0; 3]; 3];
        for (i, row) in g.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = g_r[(i, j)];
            }
        }
        Transition {
            g,
            two_omega: 2.0 * crate::dynamics::OMEGA_EARTH,
            dt,
            h: 0.5 * dt * dt,
            decay,
        }
    }

    /// `Φ · src`, with `src` and the result as rows. Written as whole-row operations (nine
    /// contiguous elements) so the compiler vectorises them.
    #[inline(always)]
    fn apply(&self, src: &Rows) -> Rows {
        let (g, dt, h, d, w2) = (&self.g, self.dt, self.h, self.decay, self.two_omega);
        let mut out = [[0.0; 9]; 9];
        // C · (velocity rows): row 0 gets 2ω·row 4, row 1 gets -2ω·row 3, row 2 nothing.
        let c_scale = [w2, -w2, 0.0];
        let c_src = [4, 3, 3];
        for axis in 0..3 {
            let (r0, r1, r2) = (&src[0], &src[1], &src[2]);
            let (vel, acc, cv) = (&src[3 + axis], &src[6 + axis], &src[c_src[axis]]);
            let (g0, g1, g2, c) = (g[axis][0], g[axis][1], g[axis][2], c_scale[axis]);
            let mut top = [0.0; 9];
            let mut mid = [0.0; 9];
            let mut low = [0.0; 9];
            for col in 0..9 {
                let gp = g0 * r0[col] + g1 * r1[col] + g2 * r2[col];
                let cp = c * cv[col];
                top[col] = src[axis][col] + h * (gp + cp + acc[col]) + dt * vel[col];
                mid[col] = vel[col] + dt * (gp + cp + acc[col]);
                low[col] = d * acc[col];
            }
            out[axis] = top;
            out[3 + axis] = mid;
            out[6 + axis] = low;
        }
        out
    }

    /// `Φ P Φᵀ` for a symmetric `P`, symmetrised.
    #[inline(always)]
    fn propagate_covariance(&self, p: &Covariance) -> Covariance {
        // P is symmetric, so its column-major storage is also its rows.
        let phi_p = self.apply(&p.data.0);
        let mut phi_p_t = [[0.0; 9]; 9];
        for (i, row) in phi_p.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                phi_p_t[j][i] = *v;
            }
        }
        // Φ (Φ P)ᵀ = Φ P Φᵀ.
        let rows = self.apply(&phi_p_t);
        let mut out = Covariance::zeros();
        for i in 0..9 {
            out[(i, i)] = rows[i][i];
            for j in (i + 1)..9 {
                let v = 0.5 * (rows[i][j] + rows[j][i]);
                out[(i, j)] = v;
                out[(j, i)] = v;
            }
        }
        out
    }
}

/// Adds the discrete process noise of a random-walk acceleration with jerk density `q_a` on
/// `[r, v, a]` plus white acceleration with density `q_v` on `[r, v]`, per axis.
#[inline(always)]
fn add_process_noise(p: &mut Covariance, dt: f64, q_a: f64, q_v: f64) {
    let (d2, d3, d4, d5) = (dt * dt, dt * dt * dt, dt.powi(4), dt.powi(5));
    let blocks = [
        [
            q_a * d5 / 20.0 + q_v * d3 / 3.0,
            q_a * d4 / 8.0 + q_v * d2 / 2.0,
            q_a * d3 / 6.0,
        ],
        [
            q_a * d4 / 8.0 + q_v * d2 / 2.0,
            q_a * d3 / 3.0 + q_v * dt,
            q_a * d2 / 2.0,
        ],
        [q_a * d3 / 6.0, q_a * d2 / 2.0, q_a * dt],
    ];
    for (i, row) in blocks.iter().enumerate() {
        for (j, b) in row.iter().enumerate() {
            for axis in 0..3 {
                p[(3 * i + axis, 3 * j + axis)] += b;
            }
        }
    }
}

impl ImmPredictor {
    /// Predicts one mode over `dt` (one step; the caller splits long intervals).
    #[inline(always)]
    fn predict_mode(&self, g: &mut Gaussian, mode: usize, dt: f64) {
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
        let r = rv.fixed_rows::<3>(0).into_owned();
        let (q_a, q_v) = if mode == POWERED {
            (prm.q_powered_jerk, prm.q_velocity)
        } else if crate::dynamics::height_approx_m(&r) > VACUUM_HEIGHT_M {
            // Above the atmosphere the ballistic model is near-exact: tiny noise keeps the
            // prediction tight across long coverage gaps, so clutter cannot enter the gate.
            (
                2.0 * (0.05 * prm.ballistic_residual_sigma).powi(2) / prm.ballistic_residual_tau_s,
                1e-4 * prm.q_velocity,
            )
        } else {
            (
                2.0 * prm.ballistic_residual_sigma.powi(2) / prm.ballistic_residual_tau_s,
                prm.q_velocity,
            )
        };
        let transition = Transition::new(&r, dt, decay);
        g.p = transition.propagate_covariance(&g.p);
        add_process_noise(&mut g.p, dt, q_a, q_v);
        g.x.fixed_rows_mut::<6>(0).copy_from(&rv_next);
        g.x.fixed_rows_mut::<3>(6).copy_from(&(a * decay));
        debug_assert!(g.p[(0, 0)] >= 0.0, "position variance {}", g.p[(0, 0)]);
        debug_assert!(g.p[(8, 8)] >= 0.0, "acceleration variance {}", g.p[(8, 8)]);
    }

    /// The mode transition matrix over `dt`.
    #[inline(always)]
    fn transition(&self, dt: f64) -> [[f64; 2]; 2] {
        let p_pb = 1.0 - (-self.params.rate_powered_to_ballistic * dt).exp();
        let p_bp = 1.0 - (-self.params.rate_ballistic_to_powered * dt).exp();
        [[1.0 - p_pb, p_pb], [p_bp, 1.0 - p_bp]]
    }
}

impl Predictor for ImmPredictor {
    fn predict(&self, estimate: &ImmEstimate, time_s: f64) -> ImmPrediction {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features `predict_avx2` is compiled for.
            return unsafe { self.predict_avx2(estimate, time_s) };
        }
        self.predict_any_cpu(estimate, time_s)
    }
}

impl ImmPredictor {
    /// [`Self::predict_any_cpu`] compiled for AVX2: the same arithmetic in the same order (no
    /// fused multiply-adds are introduced, Rust never contracts), four lanes wide.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn predict_avx2(&self, estimate: &ImmEstimate, time_s: f64) -> ImmPrediction {
        self.predict_any_cpu(estimate, time_s)
    }

    #[inline(always)]
    fn predict_any_cpu(&self, estimate: &ImmEstimate, time_s: f64) -> ImmPrediction {
        let dt = (time_s - estimate.time_s).max(0.0);
        if self.prunes(estimate) {
            return self.predict_ballistic_only(estimate, time_s, dt);
        }
        let pi = self.transition(dt);
        // Mixing.
        let mut c = [0.0; 2];
        for (j, c_j) in c.iter_mut().enumerate() {
            *c_j = (0..2)
                .map(|i| pi[i][j] * estimate.mu[i])
                .sum::<f64>()
                .max(1e-300);
        }
        let mut modes = [0, 1].map(|j| {
            let w = [
                pi[0][j] * estimate.mu[0] / c[j],
                pi[1][j] * estimate.mu[1] / c[j],
            ];
            // No switching into this mode (a ballistic missile does not relight): the mixed
            // Gaussian is the mode's own, and mixing would only add rounding.
            if w[1] == 0.0 {
                estimate.modes[0]
            } else if w[0] == 0.0 {
                estimate.modes[1]
            } else {
                mix(&estimate.modes, w)
            }
        });
        // Prediction, split into sub-steps no longer than `step_max_s`. Detections of several
        // sensors at one time give dt = 0, where Φ = I and Q = 0: nothing to do.
        if dt > 0.0 {
            let n_steps = ((dt / self.params.step_max_s).ceil() as usize).max(1);
            let h = dt / n_steps as f64;
            for (j, mode) in modes.iter_mut().enumerate() {
                for _ in 0..n_steps {
                    self.predict_mode(mode, j, h);
                }
            }
        }
        let total = c[0] + c[1];
        ImmPrediction {
            time_s,
            modes,
            c: [c[0] / total, c[1] / total],
            ballistic_streak: estimate.ballistic_streak,
            ballistic_only: false,
        }
    }

    /// Whether `estimate` is (or now becomes) pruned to the ballistic mode.
    #[inline(always)]
    fn prunes(&self, estimate: &ImmEstimate) -> bool {
        if estimate.ballistic_only {
            return true;
        }
        let Some(n_updates) = self.params.prune_after_updates else {
            return false;
        };
        self.params.rate_ballistic_to_powered == 0.0 && estimate.ballistic_streak >= n_updates
    }

    /// The prediction of a pruned estimate: the ballistic mode alone, no mixing.
    #[inline(always)]
    fn predict_ballistic_only(
        &self,
        estimate: &ImmEstimate,
        time_s: f64,
        dt: f64,
    ) -> ImmPrediction {
        let mut modes = estimate.modes;
        if dt > 0.0 {
            let n_steps = ((dt / self.params.step_max_s).ceil() as usize).max(1);
            let h = dt / n_steps as f64;
            for _ in 0..n_steps {
                self.predict_mode(&mut modes[BALLISTIC], BALLISTIC, h);
            }
        }
        debug_assert!(modes[BALLISTIC].p[(0, 0)] >= 0.0);
        ImmPrediction {
            time_s,
            modes,
            c: [0.0, 1.0],
            ballistic_streak: estimate.ballistic_streak,
            ballistic_only: true,
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

#[inline(always)]
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

/// `P Hᵀ` for a measurement Jacobian whose columns beyond the velocity are zero.
#[inline(always)]
fn p_ht<const M: usize>(p: &Covariance, h: &SMatrix<f64, M, 9>) -> SMatrix<f64, 9, M> {
    let mut out = SMatrix::<f64, 9, M>::zeros();
    for m in 0..M {
        for k in 0..6 {
            let h_mk = h[(m, k)];
            if h_mk == 0.0 {
                continue;
            }
            for i in 0..9 {
                out[(i, m)] += p[(i, k)] * h_mk;
            }
        }
    }
    out
}

/// Innovation covariance `H P Hᵀ + R` from `P Hᵀ`.
#[inline(always)]
fn innovation_covariance<const M: usize>(
    lin: &Linearised<M>,
    ph_t: &SMatrix<f64, 9, M>,
) -> SMatrix<f64, M, M> {
    let mut s = lin.r;
    for a in 0..M {
        for b in 0..M {
            let mut v = 0.0;
            for k in 0..6 {
                v += lin.h[(a, k)] * ph_t[(k, b)];
            }
            s[(a, b)] += v;
        }
    }
    s
}

/// The inverse of a small symmetric positive-definite matrix by its Cholesky factor, with
/// `ln det`; `None` when it is not positive definite. Hand-written for M ≤ 4: nalgebra's
/// generic solve does not specialise for these sizes, and the filter calls this on every
/// update (`docs/bench/missile.md`, "Why the code is shaped this way").
#[inline(always)]
fn spd_inverse<const M: usize>(s: &SMatrix<f64, M, M>) -> Option<(SMatrix<f64, M, M>, f64)> {
    let mut l = [[0.0; M]; M];
    let mut log_det = 0.0;
    for j in 0..M {
        let mut d = s[(j, j)];
        for k in 0..j {
            d -= l[j][k] * l[j][k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let l_jj = d.sqrt();
        l[j][j] = l_jj;
        log_det += 2.0 * l_jj.ln();
        for i in (j + 1)..M {
            let mut v = s[(i, j)];
            for k in 0..j {
                v -= l[i][k] * l[j][k];
            }
            l[i][j] = v / l_jj;
        }
    }
    // L⁻¹ (lower), then S⁻¹ = L⁻ᵀ L⁻¹.
    let mut l_inv = [[0.0; M]; M];
    for j in 0..M {
        l_inv[j][j] = 1.0 / l[j][j];
        for i in (j + 1)..M {
            let mut v = 0.0;
            for k in j..i {
                v -= l[i][k] * l_inv[k][j];
            }
            l_inv[i][j] = v / l[i][i];
        }
    }
    let mut inv = SMatrix::<f64, M, M>::zeros();
    for i in 0..M {
        for j in 0..=i {
            let mut v = 0.0;
            for k in i..M {
                v += l_inv[k][i] * l_inv[k][j];
            }
            inv[(i, j)] = v;
            inv[(j, i)] = v;
        }
    }
    Some((inv, log_det))
}

/// EKF update of one Gaussian in place; returns the log-likelihood and the Mahalanobis²
/// (`-∞` and `∞`, the Gaussian untouched, when the innovation covariance is singular).
#[inline(always)]
fn ekf_update<const M: usize>(g: &mut Gaussian, sensor: &Sensor, det: &Detection) -> (f64, f64) {
    let lin = linearise::<M>(&g.x, sensor, det);
    let mut ph_t = p_ht(&g.p, &lin.h);
    let s = innovation_covariance(&lin, &ph_t);
    let Some((s_inv, log_det)) = spd_inverse(&s) else {
        return (f64::NEG_INFINITY, f64::INFINITY);
    };
    let d2 = lin.innovation.dot(&(s_inv * lin.innovation));
    let log_like = -0.5 * (d2 + log_det + M as f64 * (2.0 * std::f64::consts::PI).ln());
    let mut k = ph_t * s_inv;
    let mut x = g.x + k * lin.innovation;
    let position_var = g.p[(0, 0)] + g.p[(1, 1)] + g.p[(2, 2)];
    if position_var > ITERATE_POSITION_VAR_M2 {
        // Iterated EKF: relinearise about the latest estimate.
        for _ in 0..ITERATIONS_MAX {
            let lin_i = linearise::<M>(&x, sensor, det);
            let ph_t_i = p_ht(&g.p, &lin_i.h);
            let s_i = innovation_covariance(&lin_i, &ph_t_i);
            let Some((s_inv_i, _)) = spd_inverse(&s_i) else {
                break;
            };
            let k_i = ph_t_i * s_inv_i;
            let x_next = g.x + k_i * (lin_i.innovation - lin_i.h * (g.x - x));
            let step = (x_next - x).fixed_rows::<3>(0).norm();
            x = x_next;
            k = k_i;
            ph_t = ph_t_i;
            if step < 1.0 {
                break;
            }
        }
    }
    g.x = x;
    // P - K S Kᵀ = P - K (P Hᵀ)ᵀ, column by column (K and P Hᵀ no longer read P).
    let p = g.p.as_mut_slice();
    for j in 0..9 {
        let column = &mut p[9 * j..9 * j + 9];
        for m in 0..M {
            let ph_jm = ph_t[(j, m)];
            let k_col = k.column(m);
            for i in 0..9 {
                column[i] -= k_col[i] * ph_jm;
            }
        }
    }
    symmetrise(&mut g.p);
    (log_like, d2)
}

/// Replaces `P` by `(P + Pᵀ)/2`, so rounding cannot make it drift from symmetric.
#[inline(always)]
fn symmetrise(p: &mut Covariance) {
    for j in 0..9 {
        for i in (j + 1)..9 {
            let v = 0.5 * (p[(i, j)] + p[(j, i)]);
            p[(i, j)] = v;
            p[(j, i)] = v;
        }
    }
}

/// Squared Mahalanobis distance of a detection from a mean and covariance, without the update
/// (the hypothesiser's gate; only the `[r, v]` block of `p` is read).
#[inline(always)]
fn innovation_distance2<const M: usize>(
    x: &StateVector,
    p: &Covariance,
    sensor: &Sensor,
    det: &Detection,
) -> f64 {
    let lin = linearise::<M>(x, sensor, det);
    let ph_t = p_ht(p, &lin.h);
    let s = innovation_covariance(&lin, &ph_t);
    match spd_inverse(&s) {
        Some((s_inv, _)) => lin.innovation.dot(&(s_inv * lin.innovation)),
        None => f64::INFINITY,
    }
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
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features `update_avx2` is compiled for.
            return unsafe { update_avx2(prediction, sensor, det) };
        }
        update_any_cpu(prediction, sensor, det)
    }

    fn distance2(
        &self,
        prediction: &ImmPrediction,
        sensor: &Sensor,
        det: &Detection,
    ) -> (f64, usize) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features `distance2_avx2` is compiled for.
            return unsafe { distance2_avx2(prediction, sensor, det) };
        }
        distance2_any_cpu(prediction, sensor, det)
    }
}

/// [`distance2_any_cpu`] compiled for AVX2 (same arithmetic, same order, wider lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn distance2_avx2(
    prediction: &ImmPrediction,
    sensor: &Sensor,
    det: &Detection,
) -> (f64, usize) {
    distance2_any_cpu(prediction, sensor, det)
}

/// Squared Mahalanobis distance of a detection from the combined prediction.
#[inline(always)]
fn distance2_any_cpu(prediction: &ImmPrediction, sensor: &Sensor, det: &Detection) -> (f64, usize) {
    let mixed;
    let combined = if prediction.ballistic_only {
        &prediction.modes[BALLISTIC]
    } else {
        mixed = mix(&prediction.modes, prediction.c);
        &mixed
    };
    if has_range_rate(sensor, det) {
        (
            innovation_distance2::<4>(&combined.x, &combined.p, sensor, det),
            4,
        )
    } else {
        (
            innovation_distance2::<3>(&combined.x, &combined.p, sensor, det),
            3,
        )
    }
}

/// [`update_any_cpu`] compiled for AVX2 (same arithmetic, same order, wider lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn update_avx2(
    prediction: &ImmPrediction,
    sensor: &Sensor,
    det: &Detection,
) -> (ImmEstimate, f64) {
    update_any_cpu(prediction, sensor, det)
}

/// The IMM update: one EKF update per mode, then the mode probabilities.
#[inline(always)]
fn update_any_cpu(
    prediction: &ImmPrediction,
    sensor: &Sensor,
    det: &Detection,
) -> (ImmEstimate, f64) {
    if prediction.ballistic_only {
        return update_ballistic_only(prediction, sensor, det);
    }
    let mut modes = prediction.modes;
    let mut log_like = [0.0; 2];
    for (j, mode) in modes.iter_mut().enumerate() {
        let (ll, _) = if has_range_rate(sensor, det) {
            ekf_update::<4>(mode, sensor, det)
        } else {
            ekf_update::<3>(mode, sensor, det)
        };
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
    let ballistic_streak = if mu[BALLISTIC] >= PRUNE_BALLISTIC_MU_MIN {
        prediction.ballistic_streak.saturating_add(1)
    } else {
        0
    };
    (
        ImmEstimate {
            time_s: prediction.time_s,
            modes,
            mu,
            ballistic_streak,
            ballistic_only: false,
        },
        likelihood,
    )
}

/// The update of a pruned prediction: one EKF update of the ballistic mode.
#[inline(always)]
fn update_ballistic_only(
    prediction: &ImmPrediction,
    sensor: &Sensor,
    det: &Detection,
) -> (ImmEstimate, f64) {
    debug_assert!(prediction.ballistic_only);
    debug_assert!(prediction.c[POWERED] == 0.0, "pruned c {:?}", prediction.c);
    let mut modes = prediction.modes;
    let (log_like, _) = if has_range_rate(sensor, det) {
        ekf_update::<4>(&mut modes[BALLISTIC], sensor, det)
    } else {
        ekf_update::<3>(&mut modes[BALLISTIC], sensor, det)
    };
    (
        ImmEstimate {
            time_s: prediction.time_s,
            modes,
            mu: [0.0, 1.0],
            ballistic_streak: prediction.ballistic_streak.saturating_add(1),
            ballistic_only: true,
        },
        log_like.exp().max(0.0),
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The dense transition matrix the structured product stands for (the code before the
    /// block-wise rewrite).
    fn phi_dense(r: &Vector3<f64>, dt: f64, decay: f64) -> Covariance {
        let (g_r, c_v) = ballistic_jacobian(r);
        let mut phi = Covariance::identity();
        for i in 0..3 {
            phi[(i, 3 + i)] = dt;
            phi[(i, 6 + i)] = 0.5 * dt * dt;
            phi[(3 + i, 6 + i)] = dt;
            phi[(6 + i, 6 + i)] = decay;
        }
        for i in 0..3 {
            for j in 0..3 {
                phi[(3 + i, j)] += g_r[(i, j)] * dt;
                phi[(3 + i, 3 + j)] += c_v[(i, j)] * dt;
                phi[(i, j)] += 0.5 * g_r[(i, j)] * dt * dt;
                phi[(i, 3 + j)] += 0.5 * c_v[(i, j)] * dt * dt;
            }
        }
        phi
    }

    fn covariance_from(seed: &[f64]) -> Covariance {
        let a = Covariance::from_fn(|i, j| seed[(i * 9 + j) % seed.len()]);
        a * a.transpose() + Covariance::identity()
    }

    proptest! {
        #[test]
        fn structured_phi_p_phi_t_matches_the_dense_product(
            seed in proptest::collection::vec(-100.0..100.0f64, 81),
            lat in -80.0..80.0f64,
            height_km in 0.0..3_000.0f64,
            dt in 0.0..4.0f64,
            decay in 0.0..=1.0f64,
        ) {
            let r = crate::frames::Geodetic::new(lat, 125.0, height_km * 1e3).to_ecef();
            let p = covariance_from(&seed);
            let phi = phi_dense(&r, dt, decay);
            let dense = phi * p * phi.transpose();
            let structured = Transition::new(&r, dt, decay).propagate_covariance(&p);
            let scale = dense.abs().max();
            prop_assert!((dense - structured).abs().max() <= 1e-12 * scale,
                "max difference {} at scale {scale}", (dense - structured).abs().max());
            prop_assert_eq!(structured, structured.transpose());
        }

        #[test]
        fn spd_inverse_matches_nalgebra(seed in proptest::collection::vec(-10.0..10.0f64, 16)) {
            let a = SMatrix::<f64, 4, 4>::from_fn(|i, j| seed[i * 4 + j]);
            let s = a * a.transpose() + SMatrix::<f64, 4, 4>::identity();
            let (inv, log_det) = spd_inverse(&s).expect("positive definite");
            let expect = s.try_inverse().expect("invertible");
            prop_assert!((inv - expect).abs().max() <= 1e-9 * expect.abs().max());
            prop_assert!((log_det - s.determinant().ln()).abs() <= 1e-9 * log_det.abs().max(1.0));
        }

        #[test]
        fn mixing_matches_the_moment_matching_definition(
            seed0 in proptest::collection::vec(-10.0..10.0f64, 81),
            seed1 in proptest::collection::vec(-10.0..10.0f64, 81),
            w0 in 0.0..=1.0f64,
        ) {
            let modes = [
                Gaussian { x: StateVector::from_fn(|i, _| seed0[i] * 100.0), p: covariance_from(&seed0) },
                Gaussian { x: StateVector::from_fn(|i, _| seed1[i] * 100.0), p: covariance_from(&seed1) },
            ];
            let w = [w0, 1.0 - w0];
            let mixed = mix(&modes, w);
            let x = modes[0].x * w[0] + modes[1].x * w[1];
            let mut p = Covariance::zeros();
            for (m, w_i) in modes.iter().zip(w) {
                let d = m.x - x;
                p += (m.p + d * d.transpose()) * w_i;
            }
            prop_assert!((mixed.x - x).abs().max() <= 1e-9 * x.abs().max().max(1.0));
            prop_assert!((mixed.p - p).abs().max() <= 1e-9 * p.abs().max());
        }
    }

    #[test]
    fn singular_innovation_covariance_is_refused() {
        let s = SMatrix::<f64, 3, 3>::zeros();
        assert!(spd_inverse(&s).is_none());
        let nan = SMatrix::<f64, 3, 3>::from_element(f64::NAN);
        assert!(spd_inverse(&nan).is_none());
    }
}
