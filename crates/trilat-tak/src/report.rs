//! Reports as CoT events: which kinds have a place on a TAK map, their CoT
//! types, uids and stale times.
//!
//! | kind | CoT type | uid | stale after sending |
//! |---|---|---|---|
//! | `missile.track` | `a-h-A-W-M-B` (hostile ballistic missile), with course and speed | `trilat.<owner>.missile.<track>` | 30 s ([`STALE_MS_MISSILE_TRACK`]) |
//! | `missile.assessment` | `u-d-c-e` at the predicted impact point, with its ellipse | `trilat.<owner>.impact.<track>` | 10 min after the predicted impact, at least 1 min ([`STALE_MS_AFTER_IMPACT`]) |
//! | `maritime.event`, `maritime.sanctioned-vessel` | `b-m-p-s-m` (spot marker) | `trilat.<owner>.<report>` | 6 h ([`STALE_MS_MARITIME_EVENT`]) |
//! | `seismic.event` | `b-m-p-s-m` with the epicentre's error ellipse | `trilat.<owner>.<report>` | 24 h ([`STALE_MS_SEISMIC_EVENT`]) |
//!
//! Other kinds have no CoT form ([`report_event`] answers `None`). A revoked
//! report, a lost track and a track merged into another become deletes
//! (`t-x-d-d`) of the uid they were drawn under.

use std::collections::{BTreeMap, VecDeque};

use trilat_core::{Report, Timestamp};
use trilat_geo::LatLon;

use crate::event::{CotEvent, Ellipse, Point, Source, Track, ERROR_UNKNOWN_M};

/// A missile track moves kilometres a second and is reported every few
/// seconds: a track not refreshed for 30 s is out of date.
pub const STALE_MS_MISSILE_TRACK: i64 = 30_000;
/// A predicted impact stays on the map until 10 min after the predicted time.
pub const STALE_MS_AFTER_IMPACT: i64 = 600_000;
/// An impact prediction is kept at least this long after it is sent.
pub const STALE_MS_IMPACT_MIN: i64 = 60_000;
/// A maritime event (a gap, an encounter, a sanctions match) matters for a watch.
pub const STALE_MS_MARITIME_EVENT: i64 = 6 * 3_600_000;
/// A seismic event matters for a day.
pub const STALE_MS_SEISMIC_EVENT: i64 = 24 * 3_600_000;
/// Tracks whose last position [`CourseMemory`] keeps at most.
pub const TRACKS_MAX: usize = 4_096;

/// CoT type of a hostile ballistic missile.
pub const TYPE_MISSILE: &str = "a-h-A-W-M-B";
/// CoT type of a drawn ellipse (ATAK's drawing tools).
pub const TYPE_ELLIPSE: &str = "u-d-c-e";
/// CoT type of a spot map marker.
pub const TYPE_SPOT: &str = "b-m-p-s-m";

/// A payload that does not read as its kind says.
#[derive(Debug, thiserror::Error)]
#[error("report {report} ({kind}): payload unreadable for CoT: {reason}")]
pub struct CotError {
    /// The report.
    pub report: String,
    /// Its kind.
    pub kind: String,
    /// Why.
    pub reason: String,
}

/// The last position of each missile track, so a track's course can be
/// drawn from two fixes (`missile.track` reports carry speed, not course).
/// Bounded by [`TRACKS_MAX`]; the oldest track is forgotten first.
#[derive(Debug, Default)]
pub struct CourseMemory {
    last: BTreeMap<String, (LatLon, i64)>,
    order: VecDeque<String>,
}

impl CourseMemory {
    /// Remembers `uid` at `at`, `t_ms`; the course from its previous fix
    /// when that fix is earlier and at least a metre away.
    pub fn course(&mut self, uid: &str, at: LatLon, t_ms: i64) -> Option<f64> {
        let previous = self.last.insert(uid.to_string(), (at, t_ms));
        if previous.is_none() {
            self.order.push_back(uid.to_string());
            if self.order.len() > TRACKS_MAX {
                let oldest = self.order.pop_front().expect("over the bound");
                self.last.remove(&oldest);
            }
        }
        assert!(self.last.len() <= TRACKS_MAX);
        let (before, before_ms) = previous?;
        let moved = trilat_geo::haversine_m(before, at) >= 1.0;
        (before_ms < t_ms && moved).then(|| trilat_geo::bearing_deg(before, at))
    }
}

/// The CoT event for `report` at `now`, or `None` for a kind TAK has no
/// place for. `courses` supplies missile tracks' courses.
pub fn report_event(
    report: &Report,
    now: Timestamp,
    courses: &mut CourseMemory,
) -> Result<Option<CotEvent>, CotError> {
    let err = |reason: String| CotError {
        report: report.id.to_string(),
        kind: report.kind.as_str().to_string(),
        reason,
    };
    let event = match report.kind.as_str() {
        "missile.track" => {
            let track: trilat_missile::engine::TrackReport =
                serde_json::from_value(report.payload.clone()).map_err(|e| err(e.to_string()))?;
            let mut event = missile_track(report, &track, now, courses);
            if track.state != "live" || track.merged_into.is_some() {
                event = event.delete_of(now);
            }
            event
        }
        "missile.assessment" => {
            let assessment: trilat_missile::assess::Assessment =
                serde_json::from_value(report.payload.clone()).map_err(|e| err(e.to_string()))?;
            impact(report, &assessment, now)
        }
        "maritime.event" | "maritime.sanctioned-vessel" => {
            let event: trilat_ais::track::Event =
                serde_json::from_value(report.payload.clone()).map_err(|e| err(e.to_string()))?;
            maritime_event(report, &event, now)
        }
        "seismic.event" => {
            let event: trilat_seismic::Event =
                serde_json::from_value(report.payload.clone()).map_err(|e| err(e.to_string()))?;
            match seismic_event(report, &event, now) {
                Some(cot) => cot,
                None => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    if report.revoked && event.link.is_none() {
        return Ok(Some(event.delete_of(now)));
    }
    Ok(Some(event))
}

/// The parts every report's event shares.
fn base(report: &Report, uid: String, cot_type: &str, now: Timestamp, stale_ms: i64) -> CotEvent {
    CotEvent {
        uid,
        cot_type: cot_type.to_string(),
        how: "m-f",
        time: now,
        start: report.observed_at.min(now),
        stale: now.add_ms(stale_ms),
        point: Point::surface(0.0, 0.0, ERROR_UNKNOWN_M),
        callsign: String::new(),
        remarks: String::new(),
        track: None,
        ellipse: None,
        link: None,
        source: Source {
            marking: report.marking.clone(),
            owner: report.owner.clone(),
            report: Some((report.id, report.version)),
        },
        exercise: report.exercise,
    }
}

fn missile_track(
    report: &Report,
    track: &trilat_missile::engine::TrackReport,
    now: Timestamp,
    courses: &mut CourseMemory,
) -> CotEvent {
    let uid = format!("trilat.{}.missile.{}", report.owner, track.track_id);
    let at = LatLon {
        lat: track.lat,
        lon: track.lon,
    };
    let course = courses.course(&uid, at, report.observed_at.unix_ms());
    let mut event = base(report, uid, TYPE_MISSILE, now, STALE_MS_MISSILE_TRACK);
    event.point = Point {
        lat: track.lat,
        lon: track.lon,
        hae_m: track.height_km * 1000.0,
        ce_m: ERROR_UNKNOWN_M,
        le_m: ERROR_UNKNOWN_M,
    };
    event.callsign = format!("Missile {} ({})", track.track_id, report.owner);
    event.remarks = format!(
        "ballistic missile track {}, {} phase, {:.0} km high, {:.0} m/s, sensors of {}",
        track.track_id,
        track.phase,
        track.height_km,
        track.speed_mps,
        track.parties.join(", ")
    );
    event.track = course.map(|course_deg| Track {
        course_deg,
        speed_mps: track.speed_mps,
    });
    event
}

fn impact(
    report: &Report,
    assessment: &trilat_missile::assess::Assessment,
    now: Timestamp,
) -> CotEvent {
    let uid = format!("trilat.{}.impact.{}", report.owner, assessment.track_id);
    let impact_at = Timestamp::parse(&assessment.impact_time).ok();
    let stale_ms = impact_at
        .map(|t| t.unix_ms() + STALE_MS_AFTER_IMPACT - now.unix_ms())
        .unwrap_or(STALE_MS_AFTER_IMPACT)
        .max(STALE_MS_IMPACT_MIN);
    let mut event = base(report, uid, TYPE_ELLIPSE, now, stale_ms);
    let ellipse = &assessment.impact_ellipse;
    event.point = Point::surface(
        assessment.impact_lat,
        assessment.impact_lon,
        ellipse.semi_major_km * 1000.0,
    );
    event.ellipse = Some(Ellipse {
        major_m: ellipse.semi_major_km * 1000.0,
        minor_m: ellipse.semi_minor_km * 1000.0,
        angle_deg: ellipse.bearing_deg,
    });
    event.callsign = format!("Impact {} ({})", assessment.track_id, report.owner);
    event.remarks = format!(
        "predicted impact of missile track {} at {}, {:?}, range {:.0} km, apogee {:.0} km; \
         ellipse {:.0} x {:.0} km at {:.0}° ({:.0}% confidence); P(JPN EEZ) {:.2}",
        assessment.track_id,
        assessment.impact_time,
        assessment.class,
        assessment.range_km,
        assessment.apogee_km,
        ellipse.semi_major_km,
        ellipse.semi_minor_km,
        ellipse.bearing_deg,
        ellipse.confidence * 100.0,
        assessment.p_impact_in_jpn_eez,
    );
    event
}

fn maritime_event(report: &Report, event: &trilat_ais::track::Event, now: Timestamp) -> CotEvent {
    let uid = format!("trilat.{}.{}", report.owner, report.id);
    let mut cot = base(report, uid, TYPE_SPOT, now, STALE_MS_MARITIME_EVENT);
    cot.point = Point::surface(event.lat, event.lon, ERROR_UNKNOWN_M);
    cot.callsign = format!("{} MMSI-{}", event.name(), event.mmsi);
    cot.remarks = format!(
        "maritime event {} of MMSI {} ({}), reported by {}",
        event.name(),
        event.mmsi,
        report.kind,
        report.owner
    );
    cot
}

fn seismic_event(
    report: &Report,
    event: &trilat_seismic::Event,
    now: Timestamp,
) -> Option<CotEvent> {
    let (lat, lon) = event.epicentre()?;
    let uid = format!("trilat.{}.{}", report.owner, report.id);
    let mut cot = base(report, uid, TYPE_SPOT, now, STALE_MS_SEISMIC_EVENT);
    use trilat_seismic::HorizontalUncertainty as H;
    let (ce_m, ellipse) = match event.origin.uncertainty {
        Some(H::Ellipse {
            semi_major_km,
            semi_minor_km,
            azimuth_deg,
            ..
        }) => (
            semi_major_km * 1000.0,
            Some(Ellipse {
                major_m: semi_major_km * 1000.0,
                minor_m: semi_minor_km * 1000.0,
                angle_deg: azimuth_deg,
            }),
        ),
        Some(H::Circle { radius_km, .. }) => (radius_km * 1000.0, None),
        Some(H::LatLon {
            lat_error_km,
            lon_error_km,
            ..
        }) => (lat_error_km.max(lon_error_km) * 1000.0, None),
        None => (ERROR_UNKNOWN_M, None),
    };
    cot.point = Point::surface(lat, lon, ce_m);
    cot.ellipse = ellipse;
    let magnitude = event
        .magnitudes
        .first()
        .map(|m| format!("{} {:.1}", m.raw_type, m.value))
        .unwrap_or_else(|| "magnitude unknown".into());
    cot.callsign = format!("Seismic {magnitude}");
    cot.remarks = format!(
        "seismic event {} ({}), {}, depth {}, {}",
        event.id,
        event.agency.as_deref().unwrap_or("agency unknown"),
        magnitude,
        event
            .origin
            .depth_km
            .map(|d| format!("{d:.1} km"))
            .unwrap_or_else(|| "unknown".into()),
        event.region.as_deref().unwrap_or("")
    );
    Some(cot)
}
