//! The multi-target tracker, composed like Stone Soup's: an [`Initiator`] turns unassociated
//! detections into tentative tracks (two-point, then M hits within a window to confirm), a
//! [`Hypothesiser`] scores every gated (track, detection) pair, a [`DataAssociator`] picks a
//! global nearest-neighbour assignment per scan, the predictor/updater fold detections in, and a
//! [`Deleter`] drops tracks that are lost, unconfirmed or duplicated.
//!
//! A *scan* is the detections of one sensor at one time. Every track remembers which sensors,
//! and so which parties, contributed to it.

use std::collections::BTreeSet;

use nalgebra::{Matrix3, Vector3};

use crate::filter::{
    detection_position, detection_position_covariance, Covariance, Gaussian, ImmEstimate,
    ImmPrediction, ImmPredictor, Predictor, RadarUpdater, StateVector, Updater, BALLISTIC, POWERED,
};
use crate::sensors::{Detection, SensorRegistry};

/// Most tracks (tentative and confirmed) held at once.
pub const TRACKS_MAX: usize = 256;
/// Most unassociated detections kept for initiation.
pub const PENDING_MAX: usize = 4_096;
/// Detections within this multiple of the gate of a track are not used to initiate tracks.
pub const NEAR_GATE_FACTOR: f64 = 6.0;
/// Seconds of continuous ballistic evidence after which a track stays ballistic.
pub const BALLISTIC_ESTABLISHED_S: f64 = 10.0;
/// Most history points per track.
pub const HISTORY_MAX: usize = 4_096;
/// Data time between two advances of a silent ballistic track's prediction (s). Ten seconds
/// keeps the cost of a coverage gap to one propagation step per track every ten seconds (a
/// lofted missile's gap lasts up to an hour) while the pre-gate's extrapolation from the coasted
/// state stays short.
pub const COAST_STEP_S: f64 = 10.0;
/// Predicted one-sigma position uncertainty (m, root of the trace of the position covariance)
/// beyond which a coasting track is lost for good: its 95 % impact ellipse would then span
/// some 600 km (2.45 σ each way), wider than Honshu or the Sea of Japan between Korea and
/// Japan, so the prediction no longer says whose territory is threatened. (The filter's
/// vacuum noise is conservative: on simulated lofted ICBMs the predicted σ reaches 50 km some
/// 40 minutes into a gap while the actual error stays a few km; the 86-minute Hwasong-19's
/// gap of about 75 minutes stays below this bound.)
pub const COAST_POSITION_SIGMA_MAX_M: f64 = 250_000.0;
/// Unmodelled position error (m, one sigma per axis) of a track that lost lock while a new
/// track of the same missile formed: a thrust cut-off the powered model sees late, 30–60 m/s²
/// for a few seconds, moves the prediction by hundreds of metres (½ · 40 m/s² · 5² s² = 500 m).
pub const LOST_LOCK_POSITION_SIGMA_M: f64 = 1_000.0;
/// The same in velocity (m/s): 40 m/s² of thrust over the 8 s or so the IMM needs to switch.
pub const LOST_LOCK_VELOCITY_SIGMA_MPS: f64 = 300.0;
/// χ² gate on 6 degrees of freedom at 99.9 % (22.46): track-to-track association of a newly
/// confirmed track's position and velocity with a coasting track's prediction.
pub const TRACK_TO_TRACK_GATE6: f64 = 22.46;
/// χ² gate on 3 degrees of freedom at 99.9 % (16.27, from the χ² table): a detection without
/// range rate (range, azimuth, elevation).
pub const GATE3_CHI2_999: f64 = 16.27;
/// χ² gate on 4 degrees of freedom at 99.9 % (18.47): a detection with range rate.
pub const GATE4_CHI2_999: f64 = 18.47;

/// The Euclidean pre-gate, before any covariance is predicted: a detection further from the
/// track's constant-acceleration extrapolation than this many sigmas (of the track's position,
/// velocity and acceleration, and of the detection's angles) cannot be in a 99.9 % χ² gate
/// (whose radius is under 4.3 sigmas on 4 degrees of freedom).
const PRE_GATE_SIGMAS: f64 = 5.0;
/// Gravity is not in the pre-gate's extrapolation: it allows this much unmodelled
/// acceleration (m/s², about 1 g).
const PRE_GATE_ACCEL_SLACK_MPS2: f64 = 10.0;
/// A floor on the pre-gate's radius (m): the pre-gate only has to be generous (the χ² gate
/// decides), and 5 km is wider than any sensor's range error in `sim::default_sensors`.
const PRE_GATE_SLACK_M: f64 = 5_000.0;

/// Two detections closer in time than this (s) are not paired by the initiator: over a shorter
/// interval the measurement noise swamps the implied velocity.
const PAIR_GAP_MIN_S: f64 = 0.2;
/// Acceleration a new track's powered mode allows (m/s², one sigma, about 6 g): a boost's
/// thrust acceleration reaches 30–60 m/s² near burnout (as for [`LOST_LOCK_POSITION_SIGMA_M`]).
const INITIATION_ACCEL_SIGMA_MPS2: f64 = 60.0;
/// The same for the ballistic mode (m/s²): its acceleration state models only what gravity and
/// drag leave unexplained, so it starts near zero.
const INITIATION_BALLISTIC_ACCEL_SIGMA_MPS2: f64 = 1.0;
/// A new track's mode probabilities, powered then ballistic: two detections cannot tell a
/// boost from a coast, so neither is favoured.
const INITIATION_MODE_PROBABILITIES: [f64; 2] = [0.5, 0.5];
/// A new track has folded in its two initiating detections.
const INITIATION_UPDATES: usize = 2;

/// Probability of the ballistic mode at which a confirmed track counts as coasting (with the
/// powered mode seeing no thrust either): 0.9, so that a brief IMM swing at staging does not
/// declare burnout.
const BALLISTIC_PROBABILITY_MIN: f64 = 0.9;
/// The powered mode sees no thrust when its thrust estimate is under this many sigmas …
const THRUST_SIGMAS: f64 = 3.0;
/// … or under this floor (m/s², half a g), below which thrust is not told from noise …
const THRUST_FLOOR_MPS2: f64 = 5.0;
/// … provided the estimate is that certain at all (one sigma, m/s², 2 g).
const THRUST_SIGMA_MAX_MPS2: f64 = 20.0;

/// Two tracks updated within this time of each other (s: two scans of the 1 Hz radars of
/// `sim::default_sensors`) …
const DUPLICATE_TIME_APART_S_MAX: f64 = 2.0;
/// … whose positions agree within this (m: about three sigmas of the coarsest radar's
/// cross-range error at 1,000 km, 0.04° there being 700 m) …
const DUPLICATE_POSITION_M_MAX: f64 = 2_000.0;
/// … and velocities within this (m/s: the velocity error of a young track) are one missile.
const DUPLICATE_VELOCITY_MPS_MAX: f64 = 150.0;

/// Tracker tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerParams {
    /// Gate on the squared Mahalanobis distance for 3 measured components
    /// ([`GATE3_CHI2_999`]).
    pub gate3: f64,
    /// Gate for 4 components ([`GATE4_CHI2_999`]).
    pub gate4: f64,
    /// Fastest speed accepted when pairing two detections (m/s).
    pub speed_max_mps: f64,
    /// Longest gap between the two initiating detections (s).
    pub pair_gap_max_s: f64,
    /// Hits needed to confirm a tentative track.
    pub confirm_hits: usize,
    /// Window from initiation within which those hits must arrive (s).
    pub confirm_window_s: f64,
    /// Time without an update after which a confirmed track is lost (s).
    pub coast_max_s: f64,
    /// The same for a track in established ballistic flight, whose prediction stays good
    /// across coverage gaps (a lofted missile climbs out of every radar's range) (s).
    pub ballistic_coast_max_s: f64,
    /// History sampling interval (s).
    pub history_interval_s: f64,
}

impl Default for TrackerParams {
    fn default() -> TrackerParams {
        TrackerParams {
            gate3: GATE3_CHI2_999,
            gate4: GATE4_CHI2_999,
            speed_max_mps: 8_000.0,
            pair_gap_max_s: 12.0,
            confirm_hits: 6,
            confirm_window_s: 12.0,
            coast_max_s: 20.0,
            // A backstop only (coasting tracks end by predicted covariance and impact time):
            // longer than any ballistic flight; the lofted Hwasong-19 of 31 October 2024 flew
            // 86 minutes, so the former one hour dropped it in midcourse.
            ballistic_coast_max_s: 2.0 * 3_600.0,
            history_interval_s: 1.0,
        }
    }
}

/// Track status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackStatus {
    /// Initiated, not yet confirmed.
    Tentative,
    /// Confirmed by enough hits.
    Confirmed,
}

/// One history point of a track (filtered, not smoothed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryPoint {
    /// Time (Unix seconds).
    pub time_s: f64,
    /// Combined state.
    pub x: StateVector,
    /// Combined covariance.
    pub p: Covariance,
    /// Probability of the powered mode.
    pub mu_powered: f64,
}

/// A track: the estimate of one missile.
#[derive(Debug, Clone)]
pub struct Track {
    /// Track id, unique within a tracker.
    pub id: u64,
    /// Status.
    pub status: TrackStatus,
    /// Current estimate.
    pub estimate: ImmEstimate,
    /// Time of the first detection.
    pub first_time_s: f64,
    /// Number of detections folded in.
    pub n_updates: usize,
    /// Indices of contributing sensors.
    pub sensors: BTreeSet<usize>,
    /// Parties owning the contributing sensors.
    pub parties: BTreeSet<String>,
    /// History, one point per `history_interval_s`, bounded by [`HISTORY_MAX`].
    pub history: Vec<HistoryPoint>,
    /// When the ballistic mode became dominant (μ ≥ 0.9 and no significant thrust estimate).
    pub ballistic_since_s: Option<f64>,
    /// Predicted impact time, set by the engine from the latest assessment.
    pub predicted_impact_s: Option<f64>,
    /// While a ballistic track is silent for longer than `coast_max_s`: its prediction,
    /// advanced every [`COAST_STEP_S`] of data time (its covariance grows honestly); `None`
    /// while the track is being updated.
    pub coast: Option<ImmEstimate>,
}

impl Track {
    /// Parties whose sensors contributed (for combining report markings).
    pub fn parties_contributing(&self) -> &BTreeSet<String> {
        &self.parties
    }

    /// Time of the last update.
    pub fn last_time_s(&self) -> f64 {
        self.estimate.time_s
    }

    /// The estimate predictions start from: the coasted prediction of a silent ballistic
    /// track, else the last update.
    pub fn prior(&self) -> &ImmEstimate {
        self.coast.as_ref().unwrap_or(&self.estimate)
    }

    /// Since when the track has been coasting without data (its last update), if it is.
    pub fn coasting_since_s(&self) -> Option<f64> {
        self.coast.as_ref().map(|_| self.last_time_s())
    }

    fn record(&mut self, params: &TrackerParams) {
        let t = self.estimate.time_s;
        if self
            .history
            .last()
            .is_some_and(|h| t - h.time_s < params.history_interval_s)
            || self.history.len() >= HISTORY_MAX
        {
            return;
        }
        let g = self.estimate.combined();
        self.history.push(HistoryPoint {
            time_s: t,
            x: g.x,
            p: g.p,
            mu_powered: self.estimate.mu[POWERED],
        });
    }
}

/// A scored pairing of a track and a detection.
#[derive(Debug, Clone, Copy)]
pub struct Hypothesis {
    /// Index into the tracker's tracks.
    pub track_idx: usize,
    /// Index into the scan.
    pub detection_idx: usize,
    /// Squared Mahalanobis distance.
    pub distance2: f64,
    /// Inside the association gate (otherwise only near enough to block initiation).
    pub in_gate: bool,
    /// The χ² gate the distance was tested against (3 or 4 measured components).
    pub gate: f64,
    /// The prediction the update will use.
    pub prediction: ImmPrediction,
}

/// Stone Soup's hypothesiser: gated hypotheses for one scan.
pub trait Hypothesiser {
    /// Appends a hypothesis for every track/detection pair inside the gate.
    fn hypothesise(
        &mut self,
        tracks: &[Track],
        registry: &SensorRegistry,
        scan: &[Detection],
        out: &mut Vec<Hypothesis>,
    );
}

/// Stone Soup's data associator: choose at most one detection per track and vice versa.
pub trait DataAssociator {
    /// Reorders/filters `hypotheses` into the chosen assignment.
    fn associate(&mut self, hypotheses: &mut Vec<Hypothesis>);
}

/// Stone Soup's initiator: new tracks from unassociated detections.
pub trait Initiator {
    /// Offers an unassociated detection; returns a new tentative track's estimate when one forms.
    fn initiate(&mut self, registry: &SensorRegistry, detection: &Detection)
        -> Option<ImmEstimate>;
}

/// Stone Soup's deleter: which tracks to drop at a time.
pub trait Deleter {
    /// Indices of tracks to delete at `now_s`, with the reason.
    fn delete(&self, tracks: &[Track], now_s: f64, out: &mut Vec<(usize, DeleteReason)>);
}

/// Why a track was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteReason {
    /// No detection for longer than the coast limit.
    Lost,
    /// Tentative track not confirmed in its window.
    Unconfirmed,
    /// Duplicate of another track (its id): the other track lives on.
    Duplicate(u64),
}

/// Gating hypothesiser: a cheap Euclidean pre-gate, then the IMM prediction and a χ² gate.
///
/// The pre-gate compares squared distances between each detection's ECEF position (computed
/// once per scan into a reused buffer) and the track's constant-acceleration extrapolation,
/// against a radius from the track's variances (the diagonal only: no covariance is mixed);
/// only pairs inside it pay for the IMM prediction and the Mahalanobis test.
#[derive(Debug, Clone, Default)]
pub struct GatingHypothesiser {
    /// Predictor.
    pub predictor: ImmPredictor,
    /// Tuning.
    pub params: TrackerParams,
    positions: Vec<Vector3<f64>>,
}

impl GatingHypothesiser {
    /// A hypothesiser with the given predictor and tuning.
    pub fn new(predictor: ImmPredictor, params: TrackerParams) -> GatingHypothesiser {
        GatingHypothesiser {
            predictor,
            params,
            positions: Vec::new(),
        }
    }
}

impl Hypothesiser for GatingHypothesiser {
    fn hypothesise(
        &mut self,
        tracks: &[Track],
        registry: &SensorRegistry,
        scan: &[Detection],
        out: &mut Vec<Hypothesis>,
    ) {
        let Some(first) = scan.first() else { return };
        let sensor = registry.get(first.sensor_idx);
        self.positions.clear();
        self.positions
            .extend(scan.iter().map(|d| detection_position(sensor, d)));
        let angle_sigma_rad = sensor
            .spec
            .sigma_az_deg
            .max(sensor.spec.sigma_el_deg)
            .to_radians();
        for (track_idx, track) in tracks.iter().enumerate() {
            let prior = track.prior();
            let dt = first.time_s - prior.time_s;
            if dt < 0.0 {
                continue; // Older than the track: out-of-sequence, not associated.
            }
            let x = prior.combined_mean();
            let var = prior.combined_variances();
            let p = x.fixed_rows::<3>(0).into_owned();
            let v = x.fixed_rows::<3>(3).into_owned();
            let a = x.fixed_rows::<3>(6).into_owned();
            let extrapolated = p + v * dt + a * (0.5 * dt * dt);
            let sigma_p = (var[0] + var[1] + var[2]).sqrt();
            let sigma_v = (var[3] + var[4] + var[5]).sqrt();
            let sigma_a = (var[6] + var[7] + var[8]).sqrt();
            let sigma_a = sigma_a + PRE_GATE_ACCEL_SLACK_MPS2;
            let slack = PRE_GATE_SIGMAS * (sigma_p + sigma_v * dt + sigma_a * 0.5 * dt * dt)
                + PRE_GATE_SLACK_M;
            let mut prediction: Option<ImmPrediction> = None;
            for (detection_idx, (det, pos)) in scan.iter().zip(&self.positions).enumerate() {
                let radius = slack + PRE_GATE_SIGMAS * det.range_m * angle_sigma_rad;
                if (pos - extrapolated).norm_squared() > radius * radius {
                    continue;
                }
                let pred =
                    *prediction.get_or_insert_with(|| self.predictor.predict(prior, first.time_s));
                let (d2, m) = RadarUpdater.distance2(&pred, sensor, det);
                let gate = if m == 4 {
                    self.params.gate4
                } else {
                    self.params.gate3
                };
                // Detections a little outside the gate still belong to the track's neighbourhood:
                // they must not start a duplicate track.
                if d2 <= NEAR_GATE_FACTOR * gate {
                    out.push(Hypothesis {
                        track_idx,
                        detection_idx,
                        distance2: d2,
                        in_gate: d2 <= gate,
                        gate,
                        prediction: pred,
                    });
                }
            }
        }
    }
}

/// Global nearest neighbour as an optimal assignment: per scan, the gated sub-problem (tracks
/// and detections that appear in some in-gate hypothesis) is solved exactly for the least total
/// squared Mahalanobis distance, a track left without a detection costing its gate (the
/// standard "missed detection" column). Solved by the Hungarian method (Kuhn–Munkres, shortest
/// augmenting paths, O(n²m)) in buffers reused across scans.
#[derive(Debug, Clone, Default)]
pub struct GnnAssociator {
    scratch: AssignmentScratch,
}

/// Reused buffers of [`GnnAssociator`].
#[derive(Debug, Clone, Default)]
struct AssignmentScratch {
    tracks: Vec<usize>,
    detections: Vec<usize>,
    cost: Vec<f64>,
    row_to_col: Vec<usize>,
    u: Vec<f64>,
    v: Vec<f64>,
    col_row: Vec<usize>,
    way: Vec<usize>,
    min_slack: Vec<f64>,
    used: Vec<bool>,
}

/// Cost of a pairing outside every gate: larger than any sum of gated costs, finite so that the
/// potentials stay finite.
const COST_FORBIDDEN: f64 = 1.0e12;

impl DataAssociator for GnnAssociator {
    fn associate(&mut self, hypotheses: &mut Vec<Hypothesis>) {
        hypotheses.retain(|h| h.in_gate);
        if hypotheses.len() <= 1 {
            return;
        }
        let sc = &mut self.scratch;
        sc.tracks.clear();
        sc.detections.clear();
        for h in hypotheses.iter() {
            if !sc.tracks.contains(&h.track_idx) {
                sc.tracks.push(h.track_idx);
            }
            if !sc.detections.contains(&h.detection_idx) {
                sc.detections.push(h.detection_idx);
            }
        }
        let (n_rows, n_dets) = (sc.tracks.len(), sc.detections.len());
        if n_rows == hypotheses.len() && n_dets == hypotheses.len() {
            return; // No two hypotheses share a track or a detection: nothing to resolve.
        }
        // Columns: the detections, then one "missed" column per track.
        let n_cols = n_dets + n_rows;
        sc.cost.clear();
        sc.cost.resize(n_rows * n_cols, COST_FORBIDDEN);
        for h in hypotheses.iter() {
            let row = sc.tracks.iter().position(|&t| t == h.track_idx);
            let col = sc.detections.iter().position(|&d| d == h.detection_idx);
            let (Some(row), Some(col)) = (row, col) else {
                continue; // Not reached: every track and detection was collected above.
            };
            sc.cost[row * n_cols + col] = h.distance2;
            // A missed detection costs the track's gate (the largest if its detections differ in
            // measurement size, with and without range rate).
            let missed = &mut sc.cost[row * n_cols + n_dets + row];
            *missed = if *missed == COST_FORBIDDEN {
                h.gate
            } else {
                missed.max(h.gate)
            };
        }
        hungarian(sc, n_rows, n_cols);
        let AssignmentScratch {
            tracks,
            detections,
            row_to_col,
            ..
        } = &*sc;
        hypotheses.retain(|h| {
            let row = tracks.iter().position(|&t| t == h.track_idx);
            row.is_some_and(|row| {
                let col = row_to_col[row];
                col < n_dets && detections[col] == h.detection_idx
            })
        });
        debug_assert!(hypotheses.len() <= n_rows.min(n_dets));
    }
}

/// Minimum-cost assignment of every row to a distinct column (rows ≤ columns) of
/// `scratch.cost` (row-major, `n_cols` wide) into `scratch.row_to_col`: the Hungarian method
/// with potentials and shortest augmenting paths (Kuhn–Munkres; e-maxx formulation), O(n²m).
fn hungarian(sc: &mut AssignmentScratch, n_rows: usize, n_cols: usize) {
    assert!(n_rows <= n_cols, "{n_rows} rows > {n_cols} columns");
    assert_eq!(sc.cost.len(), n_rows * n_cols);
    // 1-based rows and columns; row 0 / column 0 are the virtual start.
    sc.u.clear();
    sc.u.resize(n_rows + 1, 0.0);
    sc.v.clear();
    sc.v.resize(n_cols + 1, 0.0);
    sc.col_row.clear();
    sc.col_row.resize(n_cols + 1, 0);
    sc.way.clear();
    sc.way.resize(n_cols + 1, 0);
    for row in 1..=n_rows {
        sc.col_row[0] = row;
        let mut col0 = 0;
        sc.min_slack.clear();
        sc.min_slack.resize(n_cols + 1, f64::INFINITY);
        sc.used.clear();
        sc.used.resize(n_cols + 1, false);
        loop {
            sc.used[col0] = true;
            let row0 = sc.col_row[col0];
            let mut delta = f64::INFINITY;
            let mut col1 = 0;
            for col in 1..=n_cols {
                if sc.used[col] {
                    continue;
                }
                let reduced = sc.cost[(row0 - 1) * n_cols + (col - 1)] - sc.u[row0] - sc.v[col];
                if reduced < sc.min_slack[col] {
                    sc.min_slack[col] = reduced;
                    sc.way[col] = col0;
                }
                if sc.min_slack[col] < delta {
                    delta = sc.min_slack[col];
                    col1 = col;
                }
            }
            assert!(col1 != 0, "a free column always exists (rows ≤ columns)");
            for col in 0..=n_cols {
                if sc.used[col] {
                    sc.u[sc.col_row[col]] += delta;
                    sc.v[col] -= delta;
                } else {
                    sc.min_slack[col] -= delta;
                }
            }
            col0 = col1;
            if sc.col_row[col0] == 0 {
                break;
            }
        }
        loop {
            let col1 = sc.way[col0];
            sc.col_row[col0] = sc.col_row[col1];
            col0 = col1;
            if col0 == 0 {
                break;
            }
        }
    }
    sc.row_to_col.clear();
    sc.row_to_col.resize(n_rows, usize::MAX);
    for col in 1..=n_cols {
        let row = sc.col_row[col];
        if row != 0 {
            sc.row_to_col[row - 1] = col - 1;
        }
    }
    debug_assert!(sc.row_to_col.iter().all(|&c| c < n_cols));
}

/// Two-point initiator: pairs an unassociated detection with an earlier one from the same
/// sensor whose implied speed is plausible.
#[derive(Debug, Clone, Default)]
pub struct TwoPointInitiator {
    /// Tuning.
    pub params: TrackerParams,
    pending: Vec<(Detection, Vector3<f64>)>,
}

impl TwoPointInitiator {
    /// An initiator with the given tuning.
    pub fn new(params: TrackerParams) -> TwoPointInitiator {
        TwoPointInitiator {
            params,
            pending: Vec::new(),
        }
    }

    /// Number of detections waiting for a partner.
    pub fn n_pending(&self) -> usize {
        self.pending.len()
    }
}

impl Initiator for TwoPointInitiator {
    fn initiate(&mut self, registry: &SensorRegistry, det: &Detection) -> Option<ImmEstimate> {
        let gap_max = self.params.pair_gap_max_s;
        self.pending
            .retain(|(d, _)| det.time_s - d.time_s <= gap_max);
        let sensor = registry.get(det.sensor_idx);
        let pos = detection_position(sensor, det);
        let mut best: Option<(usize, f64)> = None;
        for (idx, (old, old_pos)) in self.pending.iter().enumerate() {
            let dt = det.time_s - old.time_s;
            if old.sensor_idx != det.sensor_idx || dt < PAIR_GAP_MIN_S {
                continue;
            }
            let speed = (pos - old_pos).norm() / dt;
            // Prefer the most recent partner with a plausible speed.
            if speed <= self.params.speed_max_mps && best.is_none_or(|(_, t)| old.time_s > t) {
                best = Some((idx, old.time_s));
            }
        }
        let Some((idx, _)) = best else {
            if self.pending.len() >= PENDING_MAX {
                self.pending.remove(0);
            }
            self.pending.push((*det, pos));
            return None;
        };
        let (old, old_pos) = self.pending.remove(idx);
        let dt = det.time_s - old.time_s;
        let v = (pos - old_pos) / dt;
        let cov_new = detection_position_covariance(sensor, det);
        let cov_old = detection_position_covariance(sensor, &old);
        let mut p = Covariance::zeros();
        let accel_sigma = INITIATION_ACCEL_SIGMA_MPS2;
        let cov_v = (cov_new + cov_old) / (dt * dt)
            + Matrix3::identity() * (0.5 * accel_sigma * dt).powi(2);
        p.fixed_view_mut::<3, 3>(0, 0).copy_from(&cov_new);
        p.fixed_view_mut::<3, 3>(0, 3).copy_from(&(cov_new / dt));
        p.fixed_view_mut::<3, 3>(3, 0).copy_from(&(cov_new / dt));
        p.fixed_view_mut::<3, 3>(3, 3).copy_from(&cov_v);
        p.fixed_view_mut::<3, 3>(6, 6)
            .copy_from(&(Matrix3::identity() * accel_sigma.powi(2)));
        let mut x = StateVector::zeros();
        x.fixed_rows_mut::<3>(0).copy_from(&pos);
        x.fixed_rows_mut::<3>(3).copy_from(&v);
        let mut p_ballistic = p;
        p_ballistic
            .fixed_view_mut::<3, 3>(6, 6)
            .copy_from(&(Matrix3::identity() * INITIATION_BALLISTIC_ACCEL_SIGMA_MPS2.powi(2)));
        Some(ImmEstimate::new(
            det.time_s,
            [Gaussian { x, p }, Gaussian { x, p: p_ballistic }],
            INITIATION_MODE_PROBABILITIES,
        ))
    }
}

/// Kalman update of every mode of `prior` with a position–velocity "measurement" `z` of
/// covariance `r` (another track's independent estimate): track-to-track fusion.
fn fuse_position_velocity(
    prior: &ImmEstimate,
    z: &nalgebra::Vector6<f64>,
    r: &nalgebra::Matrix6<f64>,
) -> ImmEstimate {
    let mut out = *prior;
    for mode in &mut out.modes {
        let s = mode.p.fixed_view::<6, 6>(0, 0) + r;
        let Some(s_inv) = s.try_inverse() else {
            continue; // Singular: keep the prediction for this mode.
        };
        // K = P Hᵀ S⁻¹ with H = [I₆ 0]: the first six columns of P.
        let k = mode.p.fixed_view::<9, 6>(0, 0) * s_inv;
        let innovation = z - mode.x.fixed_rows::<6>(0);
        mode.x += k * innovation;
        let kh_p = k * mode.p.fixed_view::<6, 9>(0, 0);
        mode.p -= kh_p;
        mode.p = (mode.p + mode.p.transpose()) * 0.5;
    }
    out
}

/// Deletes lost, unconfirmed and duplicate tracks.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardDeleter {
    /// Tuning.
    pub params: TrackerParams,
}

impl Deleter for StandardDeleter {
    fn delete(&self, tracks: &[Track], now_s: f64, out: &mut Vec<(usize, DeleteReason)>) {
        for (idx, track) in tracks.iter().enumerate() {
            let silent = now_s - track.last_time_s();
            match track.status {
                TrackStatus::Tentative
                    if now_s - track.first_time_s > self.params.confirm_window_s =>
                {
                    out.push((idx, DeleteReason::Unconfirmed))
                }
                TrackStatus::Confirmed => {
                    let limit = if track.ballistic_since_s.is_some() {
                        self.params.ballistic_coast_max_s
                    } else {
                        self.params.coast_max_s
                    };
                    let impacted = track
                        .predicted_impact_s
                        .is_some_and(|t| now_s > t + self.params.coast_max_s);
                    // A coasting track is kept while its prediction can still be told from
                    // another missile's: deletion by predicted covariance, not by missed scans.
                    let diverged = track
                        .coast
                        .is_some_and(|c| position_sigma_m(&c) > COAST_POSITION_SIGMA_MAX_M);
                    if silent > limit || diverged || (impacted && silent > self.params.coast_max_s)
                    {
                        out.push((idx, DeleteReason::Lost));
                    }
                }
                _ => {}
            }
        }
        // Duplicates: two tracks updated recently that agree in position and velocity; keep the
        // one with more updates.
        for i in 0..tracks.len() {
            for j in (i + 1)..tracks.len() {
                let (a, b) = (&tracks[i], &tracks[j]);
                if (a.last_time_s() - b.last_time_s()).abs() > DUPLICATE_TIME_APART_S_MAX {
                    continue;
                }
                let (xa, xb) = (
                    a.estimate.position_velocity(),
                    b.estimate.position_velocity(),
                );
                let dp = (xa.fixed_rows::<3>(0) - xb.fixed_rows::<3>(0)).norm();
                let dv = (xa.fixed_rows::<3>(3) - xb.fixed_rows::<3>(3)).norm();
                if dp < DUPLICATE_POSITION_M_MAX && dv < DUPLICATE_VELOCITY_MPS_MAX {
                    // The first track of a missile keeps its id, launch estimate and history.
                    let (loser, winner) = if (a.first_time_s, a.id) <= (b.first_time_s, b.id) {
                        (j, a.id)
                    } else {
                        (i, b.id)
                    };
                    if !out.iter().any(|(k, _)| *k == loser) {
                        out.push((loser, DeleteReason::Duplicate(winner)));
                    }
                }
            }
        }
    }
}

/// What the tracker did with a scan.
#[derive(Debug, Clone, PartialEq)]
pub enum TrackEvent {
    /// A track was confirmed.
    Confirmed(u64),
    /// A track was deleted.
    Deleted(u64, DeleteReason),
    /// A newly confirmed track (`from`) was found, by track-to-track association, to be a
    /// coasting track (`into`) re-acquired: it was folded into it and removed.
    Merged {
        /// The new track's id (never published: it was tentative until now).
        from: u64,
        /// The coasting track that lives on, with its id, launch estimate and history.
        into: u64,
    },
}

/// Root of the trace of a combined estimate's position covariance (m).
pub fn position_sigma_m(estimate: &ImmEstimate) -> f64 {
    let p = estimate.combined().p;
    (p[(0, 0)] + p[(1, 1)] + p[(2, 2)]).max(0.0).sqrt()
}

/// The tracker: tracks plus the Stone Soup components.
#[derive(Debug, Clone)]
pub struct Tracker {
    /// Tuning.
    pub params: TrackerParams,
    hypothesiser: GatingHypothesiser,
    associator: GnnAssociator,
    initiator: TwoPointInitiator,
    deleter: StandardDeleter,
    tracks: Vec<Track>,
    next_id: u64,
    /// Initiations refused because [`TRACKS_MAX`] tracks were held.
    pub initiations_refused: u64,
    scratch: Vec<Hypothesis>,
    associated_scratch: Vec<bool>,
}

impl Tracker {
    /// A tracker with the given tuning.
    pub fn new(params: TrackerParams) -> Tracker {
        Tracker {
            params,
            hypothesiser: GatingHypothesiser::new(ImmPredictor::default(), params),
            associator: GnnAssociator::default(),
            initiator: TwoPointInitiator::new(params),
            deleter: StandardDeleter { params },
            tracks: Vec::new(),
            next_id: 1,
            initiations_refused: 0,
            scratch: Vec::new(),
            associated_scratch: Vec::new(),
        }
    }

    /// Current tracks.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Processes one scan (detections of one sensor at one time, all the same sensor and time).
    /// Appends what happened to `events` and returns the ids of tracks updated.
    pub fn process_scan(
        &mut self,
        registry: &SensorRegistry,
        scan: &[Detection],
        events: &mut Vec<TrackEvent>,
    ) -> Vec<u64> {
        let Some(first) = scan.first() else {
            return Vec::new();
        };
        assert!(
            scan.iter()
                .all(|d| d.sensor_idx == first.sensor_idx && d.time_s == first.time_s),
            "a scan is one sensor at one time"
        );
        let now = first.time_s;
        self.advance_coasts(now);
        let mut hypotheses = std::mem::take(&mut self.scratch);
        hypotheses.clear();
        self.hypothesiser
            .hypothesise(&self.tracks, registry, scan, &mut hypotheses);
        let mut associated = std::mem::take(&mut self.associated_scratch);
        associated.clear();
        associated.resize(scan.len(), false);
        for h in &hypotheses {
            associated[h.detection_idx] = true; // In or near a gate: never initiates.
        }
        self.associator.associate(&mut hypotheses);
        let sensor = registry.get(first.sensor_idx);
        let mut updated = Vec::with_capacity(hypotheses.len());
        let mut confirmed = Vec::new();
        for h in &hypotheses {
            associated[h.detection_idx] = true;
            let det = &scan[h.detection_idx];
            let (posterior, _) = RadarUpdater.update(&h.prediction, sensor, det);
            let params = self.params;
            let track = &mut self.tracks[h.track_idx];
            track.estimate = posterior;
            track.coast = None;
            track.n_updates += 1;
            track.sensors.insert(det.sensor_idx);
            if !track.parties.contains(&sensor.spec.party) {
                track.parties.insert(sensor.spec.party.clone());
            }
            if track.status == TrackStatus::Tentative && track.n_updates >= params.confirm_hits {
                track.status = TrackStatus::Confirmed;
                confirmed.push(track.id);
            }
            if track.status == TrackStatus::Confirmed {
                // Ballistic when the IMM says so and the powered mode sees no thrust either.
                let powered = &posterior.modes[POWERED];
                let thrust = powered.x.fixed_rows::<3>(6).norm();
                let thrust_sigma =
                    (powered.p[(6, 6)] + powered.p[(7, 7)] + powered.p[(8, 8)]).sqrt();
                // A pruned estimate's powered mode is frozen at pruning time: it is coasting.
                let coasting = posterior.ballistic_only
                    || (thrust < (THRUST_SIGMAS * thrust_sigma).max(THRUST_FLOOR_MPS2)
                        && thrust_sigma < THRUST_SIGMA_MAX_MPS2);
                let established = track
                    .ballistic_since_s
                    .is_some_and(|t| now - t >= BALLISTIC_ESTABLISHED_S);
                if posterior.mu[BALLISTIC] >= BALLISTIC_PROBABILITY_MIN && coasting {
                    track.ballistic_since_s.get_or_insert(now);
                } else if !established {
                    // Sticky once established: a missile does not relight after burnout.
                    track.ballistic_since_s = None;
                }
                track.record(&params);
            }
            updated.push(track.id);
        }
        self.scratch = hypotheses;
        for id in confirmed {
            match self.associate_with_coasting(id) {
                Some(into) => {
                    events.push(TrackEvent::Merged { from: id, into });
                    for u in updated.iter_mut().filter(|u| **u == id) {
                        *u = into;
                    }
                }
                None => events.push(TrackEvent::Confirmed(id)),
            }
        }
        updated.dedup();
        for (det, _) in scan.iter().zip(&associated).filter(|(_, a)| !**a) {
            let Some(estimate) = self.initiator.initiate(registry, det) else {
                continue;
            };
            if self.tracks.len() >= TRACKS_MAX {
                self.initiations_refused += 1;
                continue;
            }
            let mut parties = BTreeSet::new();
            parties.insert(sensor.spec.party.clone());
            self.tracks.push(Track {
                id: self.next_id,
                status: TrackStatus::Tentative,
                estimate,
                first_time_s: now,
                n_updates: INITIATION_UPDATES,
                sensors: [det.sensor_idx].into_iter().collect(),
                parties,
                history: Vec::new(),
                ballistic_since_s: None,
                predicted_impact_s: None,
                coast: None,
            });
            self.next_id += 1;
        }
        self.associated_scratch = associated;
        self.delete(now, events);
        updated
    }

    /// Runs the deleter at `now_s` (also called by `process_scan`).
    pub fn delete(&mut self, now_s: f64, events: &mut Vec<TrackEvent>) {
        let mut doomed = Vec::new();
        self.deleter.delete(&self.tracks, now_s, &mut doomed);
        if doomed.is_empty() {
            return;
        }
        doomed.sort_by_key(|d| std::cmp::Reverse(d.0));
        doomed.dedup_by_key(|d| d.0);
        for (idx, reason) in doomed {
            let track = self.tracks.remove(idx);
            if track.status == TrackStatus::Confirmed {
                events.push(TrackEvent::Deleted(track.id, reason));
            }
        }
    }

    /// Advances the prediction of every confirmed ballistic track silent for longer than
    /// `coast_max_s` to `now_s` (at most to `coast_max_s` before its predicted impact), at most
    /// once per [`COAST_STEP_S`]. `process_scan` calls it; call it at the end of data.
    pub fn advance_coasts(&mut self, now_s: f64) {
        let predictor = self.hypothesiser.predictor;
        for track in &mut self.tracks {
            let to_s = track
                .predicted_impact_s
                .map_or(now_s, |t| now_s.min(t - self.params.coast_max_s));
            if track.status != TrackStatus::Confirmed
                || track.ballistic_since_s.is_none()
                || to_s - track.last_time_s() <= self.params.coast_max_s
                || to_s - track.prior().time_s < COAST_STEP_S
            {
                continue;
            }
            track.coast = Some(predictor.predict(track.prior(), to_s).as_estimate());
        }
    }

    /// Track-to-track association of a newly confirmed track with the confirmed tracks not
    /// updated by this scan: the one whose prediction is nearest in position and velocity (squared
    /// Mahalanobis distance on both covariances summed, within [`TRACK_TO_TRACK_GATE6`])
    /// absorbs it — a fused estimate (the two are independent: disjoint detections), the
    /// detections, sensors and parties — and keeps its id, launch estimate and history.
    /// Returns the surviving track's id.
    fn associate_with_coasting(&mut self, id: u64) -> Option<u64> {
        let new_idx = self.tracks.iter().position(|t| t.id == id)?;
        let fresh = self.tracks[new_idx].estimate;
        let g_new = fresh.combined();
        let z = g_new.x.fixed_rows::<6>(0).into_owned();
        let r = g_new.p.fixed_view::<6, 6>(0, 0).into_owned();
        let predictor = self.hypothesiser.predictor;
        let mut best: Option<(f64, usize, ImmEstimate, bool)> = None;
        for (idx, track) in self.tracks.iter().enumerate() {
            // Candidates: confirmed tracks this scan did not update (coasting through a gap,
            // or dropped by their gate around burnout).
            if track.status != TrackStatus::Confirmed
                || idx == new_idx
                || track.last_time_s() >= fresh.time_s
            {
                continue;
            }
            let prior = predictor.predict(track.prior(), fresh.time_s).as_estimate();
            let mut s = prior.combined().p.fixed_view::<6, 6>(0, 0) + r;
            // A track that lost lock while the new one was forming (around burnout) is biased
            // beyond its covariance: allow for the unmodelled motion.
            let lost_lock = fresh.time_s - track.last_time_s() < self.params.confirm_window_s;
            if lost_lock {
                for k in 0..3 {
                    s[(k, k)] += LOST_LOCK_POSITION_SIGMA_M.powi(2);
                    s[(k + 3, k + 3)] += LOST_LOCK_VELOCITY_SIGMA_MPS.powi(2);
                }
            }
            let d = z - prior.combined().x.fixed_rows::<6>(0);
            let Some(s_inv) = s.try_inverse() else {
                continue;
            };
            let d2 = (d.transpose() * s_inv * d)[(0, 0)];
            if d2 <= TRACK_TO_TRACK_GATE6 && best.as_ref().is_none_or(|b| d2 < b.0) {
                best = Some((d2, idx, prior, lost_lock));
            }
        }
        let (_, old_idx, prior, lost_lock) = best?;
        let new = self.tracks.remove(new_idx);
        let old_idx = if old_idx > new_idx {
            old_idx - 1
        } else {
            old_idx
        };
        let params = self.params;
        let old = &mut self.tracks[old_idx];
        if lost_lock {
            // The old estimate is the biased one: the new track's carries on.
            old.estimate = new.estimate;
            old.ballistic_since_s = new.ballistic_since_s;
        } else {
            old.estimate = fuse_position_velocity(&prior, &z, &r);
        }
        old.coast = None;
        old.n_updates += new.n_updates;
        old.sensors.extend(new.sensors);
        old.parties.extend(new.parties);
        let last = old.history.last().map_or(f64::NEG_INFINITY, |h| h.time_s);
        for h in new.history.into_iter().filter(|h| h.time_s > last) {
            if old.history.len() < HISTORY_MAX {
                old.history.push(h);
            }
        }
        old.record(&params);
        Some(old.id)
    }

    /// Records a track's predicted impact time (the deleter ends it after that).
    pub fn set_predicted_impact(&mut self, id: u64, impact_time_s: f64) {
        if let Some(t) = self.tracks.iter_mut().find(|t| t.id == id) {
            t.predicted_impact_s = Some(impact_time_s);
        }
    }

    /// A track by id.
    pub fn track(&self, id: u64) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Least total cost over every injective row → column map, by enumeration (the oracle).
    fn brute_force(cost: &[f64], n_rows: usize, n_cols: usize) -> f64 {
        fn go(row: usize, used: &mut Vec<bool>, cost: &[f64], n_rows: usize, n_cols: usize) -> f64 {
            if row == n_rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for col in 0..n_cols {
                if !used[col] {
                    used[col] = true;
                    let rest = go(row + 1, used, cost, n_rows, n_cols);
                    best = best.min(cost[row * n_cols + col] + rest);
                    used[col] = false;
                }
            }
            best
        }
        go(0, &mut vec![false; n_cols], cost, n_rows, n_cols)
    }

    proptest! {
        #[test]
        fn hungarian_finds_the_least_total_cost(
            n_rows in 1usize..5,
            extra_cols in 0usize..3,
            values in proptest::collection::vec(0.0..50.0f64, 40),
        ) {
            let n_cols = n_rows + extra_cols;
            let mut sc = AssignmentScratch {
                cost: (0..n_rows * n_cols).map(|i| values[i % values.len()]).collect(),
                ..AssignmentScratch::default()
            };
            hungarian(&mut sc, n_rows, n_cols);
            let mut seen = vec![false; n_cols];
            let mut total = 0.0;
            for (row, &col) in sc.row_to_col.iter().enumerate() {
                prop_assert!(col < n_cols);
                prop_assert!(!seen[col], "column {col} used twice");
                seen[col] = true;
                total += sc.cost[row * n_cols + col];
            }
            let best = brute_force(&sc.cost, n_rows, n_cols);
            prop_assert!((total - best).abs() <= 1e-9 * best.max(1.0), "{total} vs {best}");
        }
    }

    fn hypothesis(track_idx: usize, detection_idx: usize, distance2: f64) -> Hypothesis {
        let g = Gaussian {
            x: StateVector::zeros(),
            p: Covariance::identity(),
        };
        Hypothesis {
            track_idx,
            detection_idx,
            distance2,
            in_gate: distance2 <= 16.27,
            gate: 16.27,
            prediction: ImmPrediction {
                time_s: 0.0,
                modes: [g, g],
                c: [0.5, 0.5],
                ballistic_streak: 0,
                ballistic_only: false,
            },
        }
    }

    #[track_caller]
    fn check(pairs: &[(usize, usize, f64)], expect: &[(usize, usize)]) {
        let mut hypotheses: Vec<Hypothesis> = pairs
            .iter()
            .map(|&(t, d, d2)| hypothesis(t, d, d2))
            .collect();
        GnnAssociator::default().associate(&mut hypotheses);
        let mut got: Vec<(usize, usize)> = hypotheses
            .iter()
            .map(|h| (h.track_idx, h.detection_idx))
            .collect();
        got.sort();
        assert_eq!(got, expect);
    }

    fn track_at(id: u64, first_time_s: f64, n_updates: usize, x: StateVector) -> Track {
        let g = Gaussian {
            x,
            p: Covariance::identity() * 100.0,
        };
        Track {
            id,
            status: TrackStatus::Confirmed,
            estimate: ImmEstimate::new(100.0, [g, g], [0.0, 1.0]),
            first_time_s,
            n_updates,
            sensors: BTreeSet::new(),
            parties: BTreeSet::new(),
            history: Vec::new(),
            ballistic_since_s: Some(50.0),
            predicted_impact_s: None,
            coast: None,
        }
    }

    #[test]
    fn a_duplicate_is_the_younger_track_and_names_the_one_that_stands() {
        let mut x = StateVector::zeros();
        x[0] = 6.4e6;
        x[3] = 3_000.0;
        let mut y = x;
        y[1] = 500.0; // 500 m apart, same velocity: one missile.
                      // The younger track has more updates: the older one still keeps its id.
        let tracks = [track_at(7, 10.0, 50, x), track_at(9, 40.0, 80, y)];
        let mut out = Vec::new();
        StandardDeleter::default().delete(&tracks, 100.0, &mut out);
        assert_eq!(out, [(1, DeleteReason::Duplicate(7))]);
        // Far apart: two missiles.
        y[1] = 50_000.0;
        let tracks = [track_at(7, 10.0, 50, x), track_at(9, 40.0, 80, y)];
        out.clear();
        StandardDeleter::default().delete(&tracks, 100.0, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn track_to_track_fusion_pulls_towards_the_sharper_estimate() {
        let mut x = StateVector::zeros();
        x[0] = 6.4e6;
        let g = Gaussian {
            x,
            p: Covariance::identity() * 1.0e6, // 1 km sigma: a long coast.
        };
        let prior = ImmEstimate::new(0.0, [g, g], [0.0, 1.0]);
        let mut z = nalgebra::Vector6::zeros();
        z[0] = 6.4e6 + 1_000.0;
        let r = nalgebra::Matrix6::identity() * 1.0e4; // 100 m sigma: fresh detections.
        let fused = fuse_position_velocity(&prior, &z, &r);
        let b = fused.modes[BALLISTIC];
        // Weights 1e6 / (1e6 + 1e4): 990 m of the 1,000 m innovation.
        assert!((b.x[0] - (6.4e6 + 990.1)).abs() < 0.5, "{}", b.x[0] - 6.4e6);
        assert!(
            (b.p[(0, 0)] - 1.0e10 / 1.01e6).abs() < 1.0,
            "{}",
            b.p[(0, 0)]
        );
        // Unobserved components (acceleration) keep their variance.
        assert_eq!(b.p[(6, 6)], 1.0e6);
    }

    #[test]
    fn association_is_globally_optimal_not_greedy() {
        // Greedy would give track 0 detection 0 (1.0) and leave track 1 with nothing in its gate
        // (total 1 + 16.27 missed); the optimum pairs 0-1 and 1-0 (2 + 2).
        check(&[(0, 0, 1.0), (0, 1, 2.0), (1, 0, 2.0)], &[(0, 1), (1, 0)]);
        // Independent pairs are kept as they are.
        check(&[(0, 0, 3.0), (1, 1, 4.0)], &[(0, 0), (1, 1)]);
        // Outside the gate: never associated.
        check(&[(0, 0, 40.0)], &[]);
        // Two tracks, one detection: the closer track takes it.
        check(&[(0, 0, 5.0), (1, 0, 1.0)], &[(1, 0)]);
        // A track leaves a detection rather than pay more than its gate for it.
        check(
            &[(0, 0, 1.0), (1, 0, 1.5), (1, 1, 16.0), (0, 1, 0.5)],
            &[(0, 1), (1, 0)],
        );
    }
}
