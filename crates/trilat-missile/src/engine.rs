//! The incremental engine the node feeds: detections in, track reports, assessments and
//! warnings out. Bounded: at most [`crate::tracker::TRACKS_MAX`] tracks, [`SCAN_MAX`]
//! detections buffered per scan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assess::{assess, AssessParams, Assessment, Coverage};
use crate::error::{Error, ErrorKind, Result};
use crate::filter::BALLISTIC;
use crate::frames::Geodetic;
use crate::sensors::{format_time, Detection, DetectionRecord, SensorRegistry};
use crate::tracker::{DeleteReason, Track, TrackEvent, TrackStatus, Tracker, TrackerParams};
use crate::warning::{Warning, WarningLevel, WarningRules, WarningStatus};
use crate::zones::ZoneOracle;

/// Report kinds this engine produces.
pub const REPORT_KINDS: &[&str] = &["missile.track", "missile.assessment", "missile.warning"];
/// Most detections in one scan (one sensor, one time).
pub const SCAN_MAX: usize = 1_024;
/// Most detections held for reordering (late detections within `late_window_s`). Ten radars
/// at 10 Hz with a few objects each over a 2 s window are a few hundred; when full, the oldest
/// are fused at once (which can only make a later straggler late).
pub const REORDER_MAX: usize = 4_096;
/// Data time between two assessments of a coasting track (s): its prediction changes slowly,
/// and each assessment propagates 12 sigma points to the ground.
pub const COAST_ASSESS_INTERVAL_S: f64 = 60.0;

/// Engine tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineParams {
    /// Tracker tuning.
    pub tracker: TrackerParams,
    /// Assessment tuning.
    pub assess: AssessParams,
    /// Warning thresholds.
    pub rules: WarningRules,
    /// Data time between assessments of one track, after the first (s).
    pub assess_interval_s: f64,
    /// Data time between track reports of one track (s).
    pub track_report_interval_s: f64,
    /// How late (s of data time behind the newest detection) a detection may arrive and still be
    /// fused in time order; fusion lags the newest detection by this much. Older ones are
    /// refused with [`ErrorKind::LateDetection`] and counted.
    pub late_window_s: f64,
}

impl Default for EngineParams {
    fn default() -> EngineParams {
        EngineParams {
            tracker: TrackerParams::default(),
            assess: AssessParams::default(),
            rules: WarningRules::default(),
            assess_interval_s: 5.0,
            track_report_interval_s: 5.0,
            // Two scans of a 1 Hz radar: a partner's report relayed a second or two late is
            // still fused in order, at the cost of that much delay on every report.
            late_window_s: 2.0,
        }
    }
}

/// A track summary, as published in `missile.track` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackReport {
    /// Track id.
    pub track_id: u64,
    /// Data time (RFC 3339).
    pub time: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Height above the ellipsoid (km).
    pub height_km: f64,
    /// Speed relative to the ground (m/s).
    pub speed_mps: f64,
    /// "powered" or "ballistic" (the more probable IMM mode).
    pub phase: String,
    /// Probability of the ballistic mode.
    pub p_ballistic: f64,
    /// "live" or "lost".
    pub state: String,
    /// Parties whose sensors contributed.
    pub parties: Vec<String>,
    /// Detections folded in.
    pub n_detections: usize,
    /// When the track ended as a duplicate: the track it was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<u64>,
}

impl TrackReport {
    /// Parties whose sensors contributed (for combining report markings).
    pub fn parties_contributing(&self) -> &[String] {
        &self.parties
    }

    fn of(track: &Track, state: &str) -> TrackReport {
        let pv = track.estimate.position_velocity();
        let g = Geodetic::from_ecef(&pv.fixed_rows::<3>(0).into_owned());
        let p_ballistic = track.estimate.mu[BALLISTIC];
        TrackReport {
            track_id: track.id,
            time: format_time(track.estimate.time_s),
            lat: g.lat_deg,
            lon: g.lon_deg,
            height_km: g.height_m / 1000.0,
            speed_mps: pv.fixed_rows::<3>(3).norm(),
            phase: if p_ballistic >= 0.5 {
                "ballistic"
            } else {
                "powered"
            }
            .into(),
            p_ballistic,
            state: state.into(),
            parties: track.parties.iter().cloned().collect(),
            n_detections: track.n_updates,
            merged_into: None,
        }
    }
}

/// What the engine publishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum EngineEvent {
    /// `missile.track`.
    #[serde(rename = "missile.track")]
    Track(TrackReport),
    /// `missile.assessment`.
    #[serde(rename = "missile.assessment")]
    Assessment(Box<Assessment>),
    /// `missile.warning`.
    #[serde(rename = "missile.warning")]
    Warning(Warning),
}

impl EngineEvent {
    /// The report kind.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineEvent::Track(_) => REPORT_KINDS[0],
            EngineEvent::Assessment(_) => REPORT_KINDS[1],
            EngineEvent::Warning(_) => REPORT_KINDS[2],
        }
    }

    /// Parties whose sensors contributed: the node combines their markings.
    pub fn parties_contributing(&self) -> &[String] {
        match self {
            EngineEvent::Track(t) => &t.parties,
            EngineEvent::Assessment(a) => &a.parties,
            EngineEvent::Warning(w) => &w.parties,
        }
    }
}

#[derive(Debug, Clone)]
struct TrackBook {
    parties: Vec<String>,
    last_assessed_s: Option<f64>,
    last_reported_s: Option<f64>,
    assessment: Option<Assessment>,
    warning: Option<WarningLevel>,
}

/// The incremental missile-warning engine.
pub struct MissileEngine {
    registry: SensorRegistry,
    zones: Box<dyn ZoneOracle + Send + Sync>,
    params: EngineParams,
    tracker: Tracker,
    scan: Vec<Detection>,
    books: BTreeMap<u64, TrackBook>,
    /// Detections waiting for the late window to pass, in time order.
    reorder: Vec<Detection>,
    /// Newest detection time seen.
    newest_s: f64,
    /// Time of the latest detection released to fusion.
    last_time_s: f64,
    diagnostics: EngineDiagnostics,
}

/// Counts of what the engine did with out-of-order input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EngineDiagnostics {
    /// Detections that arrived out of time order within the late window, and were fused.
    pub late_fused: u64,
    /// Detections refused as later than the window ([`ErrorKind::LateDetection`]).
    pub late_refused: u64,
}

impl std::fmt::Debug for MissileEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MissileEngine")
            .field("sensors", &self.registry.len())
            .field("tracks", &self.tracker.tracks().len())
            .finish()
    }
}

impl MissileEngine {
    /// An engine over a sensor registry and zones.
    pub fn new(
        registry: SensorRegistry,
        zones: Box<dyn ZoneOracle + Send + Sync>,
        params: EngineParams,
    ) -> MissileEngine {
        MissileEngine {
            registry,
            zones,
            params,
            tracker: Tracker::new(params.tracker),
            scan: Vec::new(),
            books: BTreeMap::new(),
            reorder: Vec::new(),
            newest_s: f64::NEG_INFINITY,
            last_time_s: f64::NEG_INFINITY,
            diagnostics: EngineDiagnostics::default(),
        }
    }

    /// The sensor registry.
    pub fn registry(&self) -> &SensorRegistry {
        &self.registry
    }

    /// Current tracks.
    pub fn tracks(&self) -> &[Track] {
        self.tracker.tracks()
    }

    /// The latest assessment of every track seen, live or lost.
    pub fn assessments(&self) -> impl Iterator<Item = &Assessment> {
        self.books.values().filter_map(|b| b.assessment.as_ref())
    }

    /// Counts of late detections fused and refused.
    pub fn diagnostics(&self) -> EngineDiagnostics {
        self.diagnostics
    }

    /// Validates a wire record and feeds it.
    pub fn feed_record(&mut self, record: &DetectionRecord) -> Result<Vec<EngineEvent>> {
        let det = record.validate(&self.registry).map_err(Error::new)?;
        self.feed(&det)
    }

    /// Feeds one detection. Detections are held for `late_window_s` of data time and fused in
    /// time order (so a detection up to that late is used); detections of one sensor at one
    /// time form a scan and are processed together when the next scan starts (or at
    /// [`MissileEngine::flush`]).
    pub fn feed(&mut self, det: &Detection) -> Result<Vec<EngineEvent>> {
        if det.sensor_idx >= self.registry.len() {
            return Err(Error::new(ErrorKind::UnknownSensor(format!(
                "index {}",
                det.sensor_idx
            ))));
        }
        for (name, v) in [
            ("time", det.time_s),
            ("range_m", det.range_m),
            ("az_deg", det.az_deg),
            ("el_deg", det.el_deg),
        ] {
            if !v.is_finite() {
                return Err(Error::new(ErrorKind::NotFinite(name)));
            }
        }
        // Later than the window behind the newest detection, or older than what is fused.
        let oldest_s = self
            .last_time_s
            .max(self.newest_s - self.params.late_window_s);
        if det.time_s < oldest_s {
            self.diagnostics.late_refused += 1;
            return Err(Error::new(ErrorKind::LateDetection {
                this: format_time(det.time_s),
                oldest: format_time(oldest_s),
                window_s: self.params.late_window_s,
            }));
        }
        let in_scan = |d: &&Detection| d.sensor_idx == det.sensor_idx && d.time_s == det.time_s;
        if self.reorder.iter().filter(in_scan).count() + self.scan.iter().filter(in_scan).count()
            >= SCAN_MAX
        {
            return Err(Error::new(ErrorKind::Limit {
                what: "detections per scan",
                max: SCAN_MAX,
            }));
        }
        if det.time_s < self.newest_s {
            self.diagnostics.late_fused += 1;
        }
        self.newest_s = self.newest_s.max(det.time_s);
        // Insert after every detection of the same or an earlier time (stable within a scan).
        let at = self.reorder.partition_point(|d| d.time_s <= det.time_s);
        self.reorder.insert(at, *det);
        let mut events = Vec::new();
        let horizon = self.newest_s - self.params.late_window_s;
        while let Some(first) = self.reorder.first() {
            if first.time_s >= horizon && self.reorder.len() < REORDER_MAX {
                break;
            }
            let next = self.reorder.remove(0);
            self.fuse(&next, &mut events);
        }
        Ok(events)
    }

    /// Passes one detection, in time order, to the scan being gathered (`feed` has checked
    /// the scan's size).
    fn fuse(&mut self, det: &Detection, events: &mut Vec<EngineEvent>) {
        self.last_time_s = det.time_s;
        let same_scan = self
            .scan
            .first()
            .is_some_and(|s| s.sensor_idx == det.sensor_idx && s.time_s == det.time_s);
        if !same_scan {
            self.flush_into(events);
        }
        self.scan.push(*det);
    }

    /// Fuses every detection held for reordering and processes the buffered scan (the end of
    /// the data available now: a detection older than those is then late).
    pub fn flush(&mut self) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        for det in std::mem::take(&mut self.reorder) {
            self.fuse(&det, &mut events);
        }
        self.flush_into(&mut events);
        events
    }

    /// Processes the buffered scan, then treats `now_s` as the current time: tracks silent for
    /// longer than the coast limit are lost. Call at the end of data.
    pub fn finish(&mut self, now_s: f64) -> Vec<EngineEvent> {
        let mut events = self.flush();
        // Silent tracks are predicted to the end (or near their impact) and assessed so:
        // a missile that left coverage for good ends with its grown uncertainty.
        self.tracker.advance_coasts(now_s);
        self.assess_coasting(&mut events);
        let before = self.confirmed_tracks();
        let mut track_events = Vec::new();
        self.tracker.delete(now_s, &mut track_events);
        self.handle_lost(&track_events, &before, &mut events);
        events
    }

    /// Copies of the confirmed tracks (their last states, for tracks deleted next).
    fn confirmed_tracks(&self) -> BTreeMap<u64, Track> {
        self.tracker
            .tracks()
            .iter()
            .filter(|t| t.status == TrackStatus::Confirmed)
            .map(|t| (t.id, t.clone()))
            .collect()
    }

    fn flush_into(&mut self, events: &mut Vec<EngineEvent>) {
        if self.scan.is_empty() {
            return;
        }
        let scan = std::mem::take(&mut self.scan);
        // Keep the last states of tracks that may be deleted in this scan.
        let before = self.confirmed_tracks();
        let mut track_events = Vec::new();
        let updated = self
            .tracker
            .process_scan(&self.registry, &scan, &mut track_events);
        self.scan = scan;
        self.scan.clear();
        for id in updated {
            self.after_update(id, events);
        }
        self.handle_lost(&track_events, &before, events);
        self.assess_coasting(events);
    }

    /// Assesses coasting tracks from their predictions, every [`COAST_ASSESS_INTERVAL_S`]:
    /// the impact ellipse grows with the predicted covariance. Warnings are not raised from a
    /// prediction alone; they stand as last issued.
    fn assess_coasting(&mut self, events: &mut Vec<EngineEvent>) {
        for track in self.tracker.tracks() {
            let (Some(coast), Some(book)) = (track.coast, self.books.get_mut(&track.id)) else {
                continue;
            };
            if book
                .last_assessed_s
                .is_some_and(|t| coast.time_s - t < COAST_ASSESS_INTERVAL_S)
            {
                continue;
            }
            let mut predicted = track.clone();
            predicted.estimate = coast;
            let Some(mut a) = assess(
                &predicted,
                self.zones.as_ref(),
                &self.params.assess,
                book.assessment.as_ref(),
            ) else {
                continue;
            };
            book.last_assessed_s = Some(coast.time_s);
            a.coverage = Coverage::Coasting;
            a.coasting_since = Some(format_time(track.last_time_s()));
            book.assessment = Some(a.clone());
            events.push(EngineEvent::Assessment(Box::new(a)));
        }
    }

    fn handle_lost(
        &mut self,
        track_events: &[TrackEvent],
        before: &BTreeMap<u64, Track>,
        events: &mut Vec<EngineEvent>,
    ) {
        for ev in track_events {
            let TrackEvent::Deleted(id, reason) = ev else {
                continue;
            };
            let Some(book) = self.books.get_mut(id) else {
                continue;
            };
            if let DeleteReason::Duplicate(into) = *reason {
                // Merged into another track: its warning lives on there; this one is withdrawn.
                if let Some(track) = before.get(id) {
                    let mut report = TrackReport::of(track, "lost");
                    report.merged_into = Some(into);
                    events.push(EngineEvent::Track(report));
                }
                if let Some(level) = book.warning {
                    events.push(EngineEvent::Warning(Warning {
                        track_id: *id,
                        level,
                        status: WarningStatus::Cancelled,
                        issued_at: format_time(self.last_time_s),
                        reason: format!(
                            "duplicate of track {into}: warning withdrawn, track {into}'s stands"
                        ),
                        parties: book.parties.clone(),
                        merged_into: Some(into),
                    }));
                }
                continue;
            }
            if let Some(track) = before.get(id) {
                events.push(EngineEvent::Track(TrackReport::of(track, "lost")));
            }
            let coast_max_s = self.params.tracker.coast_max_s;
            if let Some(a) = book.assessment.as_mut() {
                a.track_live = false;
                let silent_before_impact = before.get(id).is_some_and(|t| {
                    t.coast.is_some() && t.last_time_s() < a.impact_time_s - coast_max_s
                });
                if silent_before_impact {
                    // Coasting until its prediction was too uncertain or its predicted impact
                    // passed, never re-acquired: it left every radar's coverage for good.
                    a.coverage = Coverage::Lost;
                    a.coasting_since = before.get(id).map(|t| format_time(t.last_time_s()));
                    events.push(EngineEvent::Assessment(Box::new(a.clone())));
                }
            }
            let Some(level) = book.warning else { continue };
            let parties = book.parties.clone();
            let (status, reason) = match &book.assessment {
                Some(a) if self.params.rules.is_firm(a) => (
                    WarningStatus::Final,
                    format!(
                        "track ended; impact estimate stands ({} at {:.2}°N {:.2}°E)",
                        a.impact_time, a.impact_lat, a.impact_lon
                    ),
                ),
                Some(a) => (
                    WarningStatus::Cancelled,
                    format!(
                        "track lost with an uncertain estimate (95 % semi-major axis {:.0} km): warning withdrawn",
                        a.impact_ellipse.semi_major_km
                    ),
                ),
                None => (
                    WarningStatus::Cancelled,
                    "track lost before a ballistic estimate: warning withdrawn".into(),
                ),
            };
            events.push(EngineEvent::Warning(Warning {
                track_id: *id,
                level,
                status,
                issued_at: format_time(self.last_time_s),
                reason,
                parties,
                merged_into: None,
            }));
        }
    }

    fn after_update(&mut self, id: u64, events: &mut Vec<EngineEvent>) {
        let Some(track) = self.tracker.track(id) else {
            return;
        };
        if track.status != TrackStatus::Confirmed {
            return;
        }
        let now = track.estimate.time_s;
        let parties: Vec<String> = track.parties.iter().cloned().collect();
        let book = self.books.entry(id).or_insert(TrackBook {
            parties: Vec::new(),
            last_assessed_s: None,
            last_reported_s: None,
            assessment: None,
            warning: None,
        });
        book.parties = parties;
        if book
            .last_reported_s
            .is_none_or(|t| now - t >= self.params.track_report_interval_s)
        {
            book.last_reported_s = Some(now);
            events.push(EngineEvent::Track(TrackReport::of(track, "live")));
        }
        if book.warning.is_none() {
            book.warning = Some(WarningLevel::Advisory);
            events.push(EngineEvent::Warning(Warning {
                track_id: id,
                level: WarningLevel::Advisory,
                status: WarningStatus::Issued,
                issued_at: format_time(now),
                reason: "ballistic missile launch detected; impact not yet estimated".into(),
                parties: track.parties.iter().cloned().collect(),
                merged_into: None,
            }));
        }
        if book
            .last_assessed_s
            .is_some_and(|t| now - t < self.params.assess_interval_s)
        {
            return;
        }
        let Some(a) = assess(
            track,
            self.zones.as_ref(),
            &self.params.assess,
            book.assessment.as_ref(),
        ) else {
            return;
        };
        book.last_assessed_s = Some(now);
        let (level, reason) = self.params.rules.level(&a);
        if book.warning != Some(level) {
            book.warning = Some(level);
            events.push(EngineEvent::Warning(Warning {
                track_id: id,
                level,
                status: WarningStatus::Updated,
                issued_at: a.assessed_at.clone(),
                reason,
                parties: a.parties.clone(),
                merged_into: None,
            }));
        }
        book.assessment = Some(a.clone());
        self.tracker.set_predicted_impact(id, a.impact_time_s);
        events.push(EngineEvent::Assessment(Box::new(a)));
    }
}

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not one of [`REPORT_KINDS`].
    #[error("unknown report kind {0:?}")]
    UnknownKind(String),
    /// Does not have the payload's shape.
    #[error("malformed {kind} payload: {detail}")]
    Malformed {
        /// Report kind.
        kind: String,
        /// What is wrong.
        detail: String,
    },
    /// Has the shape but a value is impossible.
    #[error("invalid {kind} payload: {detail}")]
    Invalid {
        /// Report kind.
        kind: String,
        /// What is wrong.
        detail: String,
    },
}

/// Validates a report payload of one of [`REPORT_KINDS`].
pub fn validate_payload(
    kind: &str,
    payload: &serde_json::Value,
) -> std::result::Result<(), PayloadError> {
    let malformed = |e: serde_json::Error| PayloadError::Malformed {
        kind: kind.into(),
        detail: e.to_string(),
    };
    let invalid = |detail: String| {
        Err(PayloadError::Invalid {
            kind: kind.into(),
            detail,
        })
    };
    let lat_lon_ok = |lat: f64, lon: f64| {
        lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
    };
    let time_ok = |t: &str| crate::sensors::parse_time(t).is_ok();
    match kind {
        "missile.track" => {
            let t: TrackReport = serde_json::from_value(payload.clone()).map_err(malformed)?;
            if !lat_lon_ok(t.lat, t.lon)
                || !t.height_km.is_finite()
                || !t.speed_mps.is_finite()
                || t.speed_mps < 0.0
            {
                return invalid("position or speed out of range".into());
            }
            if !(0.0..=1.0).contains(&t.p_ballistic) || !time_ok(&t.time) {
                return invalid("p_ballistic or time invalid".into());
            }
        }
        "missile.assessment" => {
            let a: Assessment = serde_json::from_value(payload.clone()).map_err(malformed)?;
            if !lat_lon_ok(a.launch_lat, a.launch_lon) || !lat_lon_ok(a.impact_lat, a.impact_lon) {
                return invalid("launch or impact position out of range".into());
            }
            let probabilities = [
                a.p_impact_in_jpn_eez,
                a.p_impact_in_jpn_territory,
                a.p_impact_on_land,
            ];
            if probabilities.iter().any(|p| !(0.0..=1.0).contains(p)) {
                return invalid("probability outside [0, 1]".into());
            }
            if a.trajectory.len() > crate::assess::TRAJECTORY_POINTS_MAX {
                return invalid(format!(
                    "trajectory of {} points (at most {})",
                    a.trajectory.len(),
                    crate::assess::TRAJECTORY_POINTS_MAX
                ));
            }
            if let Some(i) = a
                .trajectory
                .iter()
                .position(|[lat, lon, h]| !lat_lon_ok(*lat, *lon) || !h.is_finite())
            {
                return invalid(format!("trajectory point {i} out of range"));
            }
            let e = &a.impact_ellipse;
            if !(e.semi_minor_km >= 0.0
                && e.semi_major_km >= e.semi_minor_km
                && (0.0..=1.0).contains(&e.confidence))
            {
                return invalid("impact ellipse axes or confidence invalid".into());
            }
            if !(a.apogee_km.is_finite()
                && a.apogee_km >= 0.0
                && a.range_km.is_finite()
                && a.range_km >= 0.0
                && a.flight_time_s.is_finite())
            {
                return invalid("apogee, range or flight time invalid".into());
            }
            if ![&a.launch_time, &a.impact_time, &a.assessed_at]
                .iter()
                .all(|t| time_ok(t))
            {
                return invalid("time not RFC 3339".into());
            }
        }
        "missile.warning" => {
            let w: Warning = serde_json::from_value(payload.clone()).map_err(malformed)?;
            if !time_ok(&w.issued_at) {
                return invalid("issued_at not RFC 3339".into());
            }
        }
        other => return Err(PayloadError::UnknownKind(other.into())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Covariance, Gaussian, ImmEstimate, StateVector};
    use crate::sensors::SensorRegistry;
    use crate::tracker::Track;
    use crate::zones::NoZones;

    fn track(id: u64) -> Track {
        let mut x = StateVector::zeros();
        x[0] = 6.4e6;
        let g = Gaussian {
            x,
            p: Covariance::identity(),
        };
        Track {
            id,
            status: TrackStatus::Confirmed,
            estimate: ImmEstimate::new(1.7e9, [g, g], [0.0, 1.0]),
            first_time_s: 1.7e9 - 60.0,
            n_updates: 40,
            sensors: Default::default(),
            parties: ["JPN".to_string()].into_iter().collect(),
            history: Vec::new(),
            ballistic_since_s: None,
            predicted_impact_s: None,
            coast: None,
        }
    }

    #[test]
    fn a_duplicate_track_withdraws_its_warning_naming_the_track_that_stands() {
        let registry = SensorRegistry::new(crate::sim::default_sensors()).expect("valid");
        let mut engine = MissileEngine::new(registry, Box::new(NoZones), EngineParams::default());
        engine.last_time_s = 1.7e9;
        for id in [3, 5] {
            engine.books.insert(
                id,
                TrackBook {
                    parties: vec!["JPN".into()],
                    last_assessed_s: None,
                    last_reported_s: None,
                    assessment: None,
                    warning: Some(WarningLevel::Advisory),
                },
            );
        }
        let before: BTreeMap<u64, Track> = [(5, track(5))].into_iter().collect();
        let mut events = Vec::new();
        engine.handle_lost(
            &[TrackEvent::Deleted(5, DeleteReason::Duplicate(3))],
            &before,
            &mut events,
        );
        let warnings: Vec<&Warning> = events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::Warning(w) => Some(w),
                _ => None,
            })
            .collect();
        assert_eq!(warnings.len(), 1, "{events:?}");
        let w = warnings[0];
        assert_eq!(
            (w.track_id, w.status, w.merged_into),
            (5, WarningStatus::Cancelled, Some(3))
        );
        assert!(w.reason.contains("track 3"), "{}", w.reason);
        let json = serde_json::to_value(w).expect("serialises");
        assert_eq!(json["merged_into"], 3);
        validate_payload("missile.warning", &json).expect("valid payload");
        let report = events.iter().find_map(|e| match e {
            EngineEvent::Track(t) => Some(t),
            _ => None,
        });
        assert_eq!(
            report.map(|t| (t.track_id, t.merged_into)),
            Some((5, Some(3)))
        );
        // The track that stands keeps its warning: nothing was said about it.
        assert!(warnings.iter().all(|w| w.track_id != 3));
    }
}
