//! Ballistic dynamics in the rotating Earth-fixed frame: WGS-84 gravity with J2, Coriolis
//! and centrifugal terms, exponential-atmosphere drag with a ballistic coefficient, and a
//! fourth-order Runge–Kutta integrator.

use nalgebra::{Matrix3, Vector3, Vector6};

use crate::frames::{WGS84_A, WGS84_F};

/// Earth's gravitational parameter, WGS-84 (m³/s²).
pub const GM: f64 = 3.986_004_418e14;
/// Second zonal harmonic of the WGS-84 gravity field.
pub const J2: f64 = 1.082_626_68e-3;
/// Earth's rotation rate, WGS-84 (rad/s).
pub const OMEGA_EARTH: f64 = 7.292_115e-5;
/// Sea-level air density of the exponential atmosphere (kg/m³).
pub const RHO_SEA_LEVEL: f64 = 1.225;
/// Scale height of the exponential atmosphere (m).
pub const SCALE_HEIGHT_M: f64 = 7_200.0;
/// Height above which drag is neglected (m): density there is below 1e-8 of sea level.
pub const DRAG_CEILING_M: f64 = 130_000.0;

/// Approximate height above the ellipsoid, cheap enough for the integrator's inner loop
/// (within a few tens of metres of the geodetic height below 2,000 km).
#[inline(always)]
pub fn height_approx_m(r: &Vector3<f64>) -> f64 {
    let rn = r.norm();
    let s2 = if rn > 0.0 { (r.z / rn).powi(2) } else { 0.0 };
    rn - WGS84_A * (1.0 - WGS84_F * s2)
}

/// Air density of the exponential atmosphere at a height (kg/m³).
#[inline(always)]
pub fn air_density(height_m: f64) -> f64 {
    if height_m > DRAG_CEILING_M {
        0.0
    } else {
        RHO_SEA_LEVEL * (-height_m.max(0.0) / SCALE_HEIGHT_M).exp()
    }
}

/// Gravitational acceleration with J2 in ECEF (m/s²), without the rotation terms.
#[inline(always)]
pub fn gravity_j2(r: &Vector3<f64>) -> Vector3<f64> {
    let r2 = r.norm_squared();
    let rn = r2.sqrt();
    let mu_r3 = GM / (r2 * rn);
    let k = 1.5 * J2 * (WGS84_A * WGS84_A) / r2;
    let z2 = r.z * r.z / r2;
    Vector3::new(
        -mu_r3 * r.x * (1.0 + k * (1.0 - 5.0 * z2)),
        -mu_r3 * r.y * (1.0 + k * (1.0 - 5.0 * z2)),
        -mu_r3 * r.z * (1.0 + k * (3.0 - 5.0 * z2)),
    )
}

/// Total acceleration of an unpowered body in the rotating frame (m/s²): gravity with J2,
/// Coriolis, centrifugal and drag. `beta_kg_m2` is the ballistic coefficient m/(Cd·A);
/// `f64::INFINITY` turns drag off.
#[inline(always)]
pub fn ballistic_accel(r: &Vector3<f64>, v: &Vector3<f64>, beta_kg_m2: f64) -> Vector3<f64> {
    let w = OMEGA_EARTH;
    // -2 ω×v and -ω×(ω×r) with ω = (0, 0, w).
    let coriolis = Vector3::new(2.0 * w * v.y, -2.0 * w * v.x, 0.0);
    let centrifugal = Vector3::new(w * w * r.x, w * w * r.y, 0.0);
    let mut a = gravity_j2(r) + coriolis + centrifugal;
    if beta_kg_m2.is_finite() {
        let rho = air_density(height_approx_m(r));
        if rho > 0.0 {
            a -= v * (rho * v.norm() / (2.0 * beta_kg_m2));
        }
    }
    a
}

/// Jacobian blocks of the ballistic acceleration: ∂a/∂r (gravity gradient of the point mass
/// plus the centrifugal term; J2 and drag are below the filter's process noise) and ∂a/∂v
/// (Coriolis).
#[inline(always)]
pub fn ballistic_jacobian(r: &Vector3<f64>) -> (Matrix3<f64>, Matrix3<f64>) {
    let rn = r.norm();
    let u = r / rn;
    let mu_r3 = GM / (rn * rn * rn);
    let mut da_dr = (u * u.transpose() * 3.0 - Matrix3::identity()) * mu_r3;
    let w2 = OMEGA_EARTH * OMEGA_EARTH;
    da_dr[(0, 0)] += w2;
    da_dr[(1, 1)] += w2;
    let w = OMEGA_EARTH;
    let da_dv = Matrix3::new(0.0, 2.0 * w, 0.0, -2.0 * w, 0.0, 0.0, 0.0, 0.0, 0.0);
    (da_dr, da_dv)
}

/// One RK4 step of `[r, v]` over `dt` seconds (negative `dt` integrates backwards) under the
/// ballistic acceleration plus a constant extra acceleration `a_extra` (thrust).
#[inline(always)]
pub fn rk4_step(state: &Vector6<f64>, a_extra: &Vector3<f64>, beta: f64, dt: f64) -> Vector6<f64> {
    let f = |s: &Vector6<f64>| -> Vector6<f64> {
        let r = s.fixed_rows::<3>(0).into_owned();
        let v = s.fixed_rows::<3>(3).into_owned();
        let a = ballistic_accel(&r, &v, beta) + a_extra;
        Vector6::new(v.x, v.y, v.z, a.x, a.y, a.z)
    };
    let k1 = f(state);
    let k2 = f(&(state + k1 * (dt / 2.0)));
    let k3 = f(&(state + k2 * (dt / 2.0)));
    let k4 = f(&(state + k3 * dt));
    state + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (dt / 6.0)
}

/// Propagates `[r, v]` by `dt` seconds in RK4 steps of at most `step_max` seconds.
pub fn propagate(
    state: &Vector6<f64>,
    a_extra: &Vector3<f64>,
    beta: f64,
    dt: f64,
    step_max: f64,
) -> Vector6<f64> {
    assert!(step_max > 0.0);
    let n_steps = ((dt.abs() / step_max).ceil() as usize).max(1);
    let h = dt / n_steps as f64;
    let mut s = *state;
    for _ in 0..n_steps {
        s = rk4_step(&s, a_extra, beta, h);
    }
    s
}

/// The result of propagating a ballistic state to an event.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    /// Time from the start state to the event (s; negative when integrated backwards).
    pub dt_s: f64,
    /// State `[r, v]` at the event.
    pub state: Vector6<f64>,
}

/// Upper bound on integration steps when searching for an event (a 3-hour flight at 1 s).
pub const EVENT_STEPS_MAX: usize = 12_000;

/// Propagates a ballistic state forwards (`direction` = 1) or backwards (-1) until it reaches
/// height `height_m`, while descending (forwards) or ascending (backwards). The crossing is
/// refined by bisection. Returns `None` if it is not reached within [`EVENT_STEPS_MAX`] steps.
pub fn to_height(
    state: &Vector6<f64>,
    beta: f64,
    height_m: f64,
    direction: f64,
    step_s: f64,
) -> Option<Event> {
    assert!(direction == 1.0 || direction == -1.0);
    let zero = Vector3::zeros();
    let h_of = |s: &Vector6<f64>| height_approx_m(&s.fixed_rows::<3>(0).into_owned());
    let mut s = *state;
    let mut t = 0.0;
    if h_of(&s) < height_m {
        return Some(Event {
            dt_s: 0.0,
            state: s,
        });
    }
    for _ in 0..EVENT_STEPS_MAX {
        let next = rk4_step(&s, &zero, beta, direction * step_s);
        if h_of(&next) < height_m {
            // Bisect on the step length.
            let (mut lo, mut hi) = (0.0, step_s);
            for _ in 0..30 {
                let mid = 0.5 * (lo + hi);
                if h_of(&rk4_step(&s, &zero, beta, direction * mid)) < height_m {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            let end = rk4_step(&s, &zero, beta, direction * hi);
            return Some(Event {
                dt_s: t + direction * hi,
                state: end,
            });
        }
        s = next;
        t += direction * step_s;
    }
    None
}

/// Propagates a ballistic state to its apogee (the maximum of the approximate height), forwards
/// if still climbing, backwards otherwise. Returns `None` if not found within the step bound.
pub fn to_apogee(state: &Vector6<f64>, beta: f64, step_s: f64) -> Option<Event> {
    let zero = Vector3::zeros();
    let h_of = |s: &Vector6<f64>| height_approx_m(&s.fixed_rows::<3>(0).into_owned());
    let climbing = {
        let r = state.fixed_rows::<3>(0).into_owned();
        let v = state.fixed_rows::<3>(3).into_owned();
        r.dot(&v) > 0.0
    };
    let direction = if climbing { 1.0 } else { -1.0 };
    let mut s = *state;
    let mut t = 0.0;
    let mut h = h_of(&s);
    for _ in 0..EVENT_STEPS_MAX {
        let next = rk4_step(&s, &zero, beta, direction * step_s);
        let h_next = h_of(&next);
        if h_next < h {
            // The maximum is within one step either side of `s`: golden-section on [-step, step].
            let (mut lo, mut hi) = (-step_s, step_s);
            for _ in 0..40 {
                let m1 = lo + (hi - lo) * 0.382;
                let m2 = lo + (hi - lo) * 0.618;
                if h_of(&rk4_step(&s, &zero, beta, direction * m1))
                    < h_of(&rk4_step(&s, &zero, beta, direction * m2))
                {
                    lo = m1;
                } else {
                    hi = m2;
                }
            }
            let dt = 0.5 * (lo + hi);
            let end = rk4_step(&s, &zero, beta, direction * dt);
            return Some(Event {
                dt_s: t + direction * dt,
                state: end,
            });
        }
        s = next;
        h = h_next;
        t += direction * step_s;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::Geodetic;

    #[test]
    fn surface_gravity_is_about_9_8() {
        let r = Geodetic::new(45.0, 10.0, 0.0).to_ecef();
        let g = ballistic_accel(&r, &Vector3::zeros(), f64::INFINITY).norm();
        // Normal gravity at 45° latitude is 9.806 m/s².
        assert!((g - 9.806).abs() < 0.01, "{g}");
        let eq = Geodetic::new(0.0, 0.0, 0.0).to_ecef();
        let g_eq = ballistic_accel(&eq, &Vector3::zeros(), f64::INFINITY).norm();
        assert!((g_eq - 9.780).abs() < 0.01, "{g_eq}");
    }

    #[test]
    fn energy_is_conserved_without_drag_in_the_inertial_sense() {
        // Jacobi integral in the rotating frame: v²/2 - U - ω²(x²+y²)/2 is conserved for the
        // point-mass part; with J2 it is conserved too (time-invariant potential in ECEF).
        let r0 = Geodetic::new(40.0, 125.0, 200_000.0).to_ecef();
        let v0 = Vector3::new(1000.0, 2000.0, 3000.0);
        let jacobi = |s: &Vector6<f64>| {
            let r = s.fixed_rows::<3>(0).into_owned();
            let v = s.fixed_rows::<3>(3).into_owned();
            let rn = r.norm();
            let z2 = (r.z / rn).powi(2);
            let u = GM / rn * (1.0 - J2 * (WGS84_A / rn).powi(2) * (1.5 * z2 - 0.5));
            0.5 * v.norm_squared() - u - 0.5 * OMEGA_EARTH.powi(2) * (r.x * r.x + r.y * r.y)
        };
        let s0 = Vector6::new(r0.x, r0.y, r0.z, v0.x, v0.y, v0.z);
        let s1 = propagate(&s0, &Vector3::zeros(), f64::INFINITY, 600.0, 1.0);
        let (j0, j1) = (jacobi(&s0), jacobi(&s1));
        assert!(
            (j0 - j1).abs() < 1e-3 * j0.abs().max(1.0) * 1e-3,
            "{j0} {j1}"
        );
    }

    #[test]
    fn drag_slows_a_low_body() {
        let r = Geodetic::new(40.0, 125.0, 10_000.0).to_ecef();
        let v = Vector3::new(0.0, 0.0, 2000.0);
        let with = ballistic_accel(&r, &v, 1000.0);
        let without = ballistic_accel(&r, &v, f64::INFINITY);
        assert!((with - without).dot(&v) < 0.0);
    }

    #[test]
    fn apogee_and_impact_of_a_vertical_shot() {
        // Straight up at 1 km/s from 1 km: apogee ≈ 1 km + v²/2g ≈ 52 km without drag.
        let g = Geodetic::new(0.0, 0.0, 1000.0);
        let r = g.to_ecef();
        let v = r.normalize() * 1000.0;
        let s = Vector6::new(r.x, r.y, r.z, v.x, v.y, v.z);
        let apo = to_apogee(&s, f64::INFINITY, 1.0).expect("apogee");
        let h = height_approx_m(&apo.state.fixed_rows::<3>(0).into_owned());
        assert!((h - 52_200.0).abs() < 500.0, "{h}");
        assert!((apo.dt_s - 102.0).abs() < 2.0, "{}", apo.dt_s);
        let hit = to_height(&apo.state, f64::INFINITY, 0.0, 1.0, 1.0).expect("impact");
        assert!((hit.dt_s - 103.0).abs() < 3.0, "{}", hit.dt_s);
        let back = to_height(&apo.state, f64::INFINITY, 1000.0, -1.0, 1.0).expect("launch");
        assert!((back.dt_s + apo.dt_s).abs() < 0.1, "{}", back.dt_s);
    }
}
