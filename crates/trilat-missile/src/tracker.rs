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

/// Tracker tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerParams {
    /// Gate on the squared Mahalanobis distance for 3 measured components (99.9 %: 16.27).
    pub gate3: f64,
    /// Gate for 4 components (99.9 %: 18.47).
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
            gate3: 16.27,
            gate4: 18.47,
            speed_max_mps: 8_000.0,
            pair_gap_max_s: 12.0,
            confirm_hits: 6,
            confirm_window_s: 12.0,
            coast_max_s: 20.0,
            ballistic_coast_max_s: 3_600.0,
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
    /// The prediction the update will use.
    pub prediction: ImmPrediction,
}

/// Stone Soup's hypothesiser: gated hypotheses for one scan.
pub trait Hypothesiser {
    /// Appends a hypothesis for every track/detection pair inside the gate.
    fn hypothesise(
        &self,
        tracks: &[Track],
        registry: &SensorRegistry,
        scan: &[Detection],
        out: &mut Vec<Hypothesis>,
    );
}

/// Stone Soup's data associator: choose at most one detection per track and vice versa.
pub trait DataAssociator {
    /// Reorders/filters `hypotheses` into the chosen assignment.
    fn associate(&self, hypotheses: &mut Vec<Hypothesis>);
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
    /// Duplicate of another track.
    Duplicate,
}

/// Gating hypothesiser: a cheap Euclidean pre-gate, then the IMM prediction and a χ² gate.
#[derive(Debug, Clone, Copy, Default)]
pub struct GatingHypothesiser {
    /// Predictor.
    pub predictor: ImmPredictor,
    /// Tuning.
    pub params: TrackerParams,
}

impl Hypothesiser for GatingHypothesiser {
    fn hypothesise(
        &self,
        tracks: &[Track],
        registry: &SensorRegistry,
        scan: &[Detection],
        out: &mut Vec<Hypothesis>,
    ) {
        let Some(first) = scan.first() else { return };
        let sensor = registry.get(first.sensor_idx);
        let positions: Vec<Vector3<f64>> =
            scan.iter().map(|d| detection_position(sensor, d)).collect();
        for (track_idx, track) in tracks.iter().enumerate() {
            let dt = first.time_s - track.last_time_s();
            if dt < 0.0 {
                continue; // Older than the track: out-of-sequence, not associated.
            }
            let g = track.estimate.combined();
            let p = g.x.fixed_rows::<3>(0).into_owned();
            let v = g.x.fixed_rows::<3>(3).into_owned();
            let a = g.x.fixed_rows::<3>(6).into_owned();
            let extrapolated = p + v * dt + a * (0.5 * dt * dt);
            let sigma_p = (g.p[(0, 0)] + g.p[(1, 1)] + g.p[(2, 2)]).sqrt();
            let sigma_v = (g.p[(3, 3)] + g.p[(4, 4)] + g.p[(5, 5)]).sqrt();
            let sigma_a = (g.p[(6, 6)] + g.p[(7, 7)] + g.p[(8, 8)]).sqrt();
            // Gravity over dt is not in the extrapolation: allow 10 m/s² of it.
            let slack = 5.0 * (sigma_p + sigma_v * dt + (sigma_a + 10.0) * 0.5 * dt * dt) + 5_000.0;
            let mut prediction: Option<ImmPrediction> = None;
            for (detection_idx, (det, pos)) in scan.iter().zip(&positions).enumerate() {
                let radius = slack
                    + 5.0
                        * det.range_m
                        * sensor
                            .spec
                            .sigma_az_deg
                            .max(sensor.spec.sigma_el_deg)
                            .to_radians();
                if (pos - extrapolated).norm() > radius {
                    continue;
                }
                let pred = *prediction
                    .get_or_insert_with(|| self.predictor.predict(&track.estimate, first.time_s));
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
                        prediction: pred,
                    });
                }
            }
        }
    }
}

/// Global nearest neighbour by a greedy pass over hypotheses sorted by distance (exact when
/// gates do not overlap, which is the usual case; a conflict goes to the closer pair).
#[derive(Debug, Clone, Copy, Default)]
pub struct GnnAssociator;

impl DataAssociator for GnnAssociator {
    fn associate(&self, hypotheses: &mut Vec<Hypothesis>) {
        // Confirmed-first ordering is the caller's (tracks are ordered); here: closest first.
        hypotheses.retain(|h| h.in_gate);
        hypotheses.sort_by(|a, b| a.distance2.total_cmp(&b.distance2));
        let mut used_tracks = BTreeSet::new();
        let mut used_dets = BTreeSet::new();
        hypotheses.retain(|h| {
            if used_tracks.contains(&h.track_idx) || used_dets.contains(&h.detection_idx) {
                return false;
            }
            used_tracks.insert(h.track_idx);
            used_dets.insert(h.detection_idx);
            true
        });
    }
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
            if old.sensor_idx != det.sensor_idx || dt < 0.2 {
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
        let accel_sigma = 60.0_f64;
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
            .copy_from(&(Matrix3::identity() * 1.0));
        Some(ImmEstimate {
            time_s: det.time_s,
            modes: [Gaussian { x, p }, Gaussian { x, p: p_ballistic }],
            mu: [0.5, 0.5],
        })
    }
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
                    if silent > limit || (impacted && silent > self.params.coast_max_s) {
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
                if (a.last_time_s() - b.last_time_s()).abs() > 2.0 {
                    continue;
                }
                let (xa, xb) = (
                    a.estimate.position_velocity(),
                    b.estimate.position_velocity(),
                );
                let dp = (xa.fixed_rows::<3>(0) - xb.fixed_rows::<3>(0)).norm();
                let dv = (xa.fixed_rows::<3>(3) - xb.fixed_rows::<3>(3)).norm();
                if dp < 2_000.0 && dv < 150.0 {
                    let loser = if a.n_updates >= b.n_updates { j } else { i };
                    if !out.iter().any(|(k, _)| *k == loser) {
                        out.push((loser, DeleteReason::Duplicate));
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
}

impl Tracker {
    /// A tracker with the given tuning.
    pub fn new(params: TrackerParams) -> Tracker {
        Tracker {
            params,
            hypothesiser: GatingHypothesiser {
                predictor: ImmPredictor::default(),
                params,
            },
            associator: GnnAssociator,
            initiator: TwoPointInitiator::new(params),
            deleter: StandardDeleter { params },
            tracks: Vec::new(),
            next_id: 1,
            initiations_refused: 0,
            scratch: Vec::new(),
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
        let mut hypotheses = std::mem::take(&mut self.scratch);
        hypotheses.clear();
        self.hypothesiser
            .hypothesise(&self.tracks, registry, scan, &mut hypotheses);
        let mut associated = vec![false; scan.len()];
        for h in &hypotheses {
            associated[h.detection_idx] = true; // In or near a gate: never initiates.
        }
        self.associator.associate(&mut hypotheses);
        let sensor = registry.get(first.sensor_idx);
        let mut updated = Vec::with_capacity(hypotheses.len());
        for h in &hypotheses {
            associated[h.detection_idx] = true;
            let det = &scan[h.detection_idx];
            let (posterior, _) = RadarUpdater.update(&h.prediction, sensor, det);
            let params = self.params;
            let track = &mut self.tracks[h.track_idx];
            track.estimate = posterior;
            track.n_updates += 1;
            track.sensors.insert(det.sensor_idx);
            if !track.parties.contains(&sensor.spec.party) {
                track.parties.insert(sensor.spec.party.clone());
            }
            if track.status == TrackStatus::Tentative && track.n_updates >= params.confirm_hits {
                track.status = TrackStatus::Confirmed;
                events.push(TrackEvent::Confirmed(track.id));
            }
            if track.status == TrackStatus::Confirmed {
                // Ballistic when the IMM says so and the powered mode sees no thrust either.
                let powered = &posterior.modes[POWERED];
                let thrust = powered.x.fixed_rows::<3>(6).norm();
                let thrust_sigma =
                    (powered.p[(6, 6)] + powered.p[(7, 7)] + powered.p[(8, 8)]).sqrt();
                let coasting = thrust < (3.0 * thrust_sigma).max(5.0) && thrust_sigma < 20.0;
                let established = track
                    .ballistic_since_s
                    .is_some_and(|t| now - t >= BALLISTIC_ESTABLISHED_S);
                if posterior.mu[BALLISTIC] >= 0.9 && coasting {
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
                n_updates: 2,
                sensors: [det.sensor_idx].into_iter().collect(),
                parties,
                history: Vec::new(),
                ballistic_since_s: None,
                predicted_impact_s: None,
            });
            self.next_id += 1;
        }
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
