//! Missile warning in the node: detections from any partner's radars arrive
//! over HTTP (`POST /api/v1/missile/detections`, DETECTIONS.jsonl lines);
//! `trilat-missile` fuses them into tracks and assessments; every track
//! report, assessment and warning is published as a report whose marking is
//! [`trilat_core::Policy::combine`] over the markings of the parties whose
//! sensors contributed, so a fused product never reaches a party that one of
//! its sources may not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::{KindRegistry, Marking, Timestamp};
use trilat_missile::engine::{EngineEvent, EngineParams};
use trilat_missile::sensors::{DetectionRecord, SensorRegistry};
use trilat_missile::zones::GeoZones;
use trilat_missile::MissileEngine as Fuser;

use super::{publish_finding, Finding};
use crate::{AppError, AppState, Caller, Role};

/// Most detections one HTTP request may carry.
const HTTP_DETECTIONS_MAX: usize = 100_000;

/// `[engines.missile]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissileConfig {
    /// SENSORS.json; default: the built-in approximate partner sensor set.
    #[serde(default)]
    pub sensors: Option<PathBuf>,
    /// Marking of each party's sensor data (default: the engines' marking);
    /// fused products combine the markings of their contributors.
    #[serde(default)]
    pub party_markings: BTreeMap<String, Marking>,
    /// In the demo, fly a simulated launch through this node's engine in
    /// real time (one node of the demo does; the others receive its reports).
    #[serde(default)]
    pub demo_launch: bool,
}

/// The node's missile fuser and its marking rules.
pub struct MissileEngine {
    fuser: Mutex<Fuser>,
    party_markings: BTreeMap<String, Marking>,
}

pub(super) fn register_kinds(registry: &mut KindRegistry) {
    registry.register(trilat_missile::REPORT_KINDS, |kind, payload| {
        trilat_missile::validate_payload(kind, payload).map_err(|e| e.to_string())
    });
}

impl MissileEngine {
    /// A fuser over the configured (or default) sensors and the fixture zones.
    pub fn new(config: &MissileConfig) -> Result<MissileEngine, String> {
        let registry = match &config.sensors {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("sensors {}: {e}", path.display()))?;
                SensorRegistry::from_json(&text)
                    .map_err(|e| format!("sensors {}: {e}", path.display()))?
            }
            None => SensorRegistry::new(trilat_missile::sim::default_sensors())
                .map_err(|e| e.to_string())?,
        };
        let zones = GeoZones::fixture();
        Ok(MissileEngine {
            fuser: Mutex::new(Fuser::new(
                registry,
                Box::new(zones),
                EngineParams::default(),
            )),
            party_markings: config.party_markings.clone(),
        })
    }

    /// Feeds detections; with `flush`, also processes the last scan (the end
    /// of a batch) instead of waiting for the next scan to start.
    fn feed(&self, records: &[DetectionRecord], flush: bool) -> Result<Vec<EngineEvent>, AppError> {
        let mut fuser = self
            .fuser
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut events = Vec::new();
        for (idx, record) in records.iter().enumerate() {
            let found = fuser.feed_record(record).map_err(|e| {
                AppError::bad_request("invalid_detection", format!("detection {}: {e}", idx + 1))
            })?;
            events.extend(found);
        }
        if flush {
            events.extend(fuser.flush());
        }
        Ok(events)
    }
}

/// The marking of a fused product: the combination of its contributors'.
fn fused_marking(
    state: &AppState,
    missile: &MissileEngine,
    default: &Marking,
    parties: &[String],
) -> Result<Marking, AppError> {
    let markings: Vec<&Marking> = parties
        .iter()
        .map(|party| missile.party_markings.get(party).unwrap_or(default))
        .collect();
    if markings.is_empty() {
        return Ok(default.clone());
    }
    state.policy.combine(markings).map_err(AppError::internal)
}

async fn publish_events(
    state: &AppState,
    events: Vec<EngineEvent>,
) -> Result<Vec<trilat_core::ReportId>, AppError> {
    let engines = state.engines.get()?;
    let mut published = Vec::with_capacity(events.len());
    for event in events {
        let marking = fused_marking(
            state,
            &engines.missile,
            &engines.marking,
            event.parties_contributing(),
        )?;
        let (payload, position, observed) = match &event {
            EngineEvent::Track(track) => (
                serde_json::to_value(track),
                Some((track.lat, track.lon)),
                track.time.clone(),
            ),
            EngineEvent::Assessment(assessment) => {
                (serde_json::to_value(assessment), None, String::new())
            }
            EngineEvent::Warning(warning) => (serde_json::to_value(warning), None, String::new()),
        };
        let observed_at = Timestamp::parse(&observed).unwrap_or_else(|_| crate::now());
        let finding = Finding {
            engine: "missile",
            kind: event.kind(),
            payload: payload.map_err(AppError::internal)?,
            observed_at,
            position,
            marking: Some(marking),
        };
        published.push(publish_finding(state, finding).await?.id);
    }
    Ok(published)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/missile/detections", post(missile_detections_ingest))
}

/// What `POST /api/v1/missile/detections` answers.
#[derive(Debug, Serialize)]
struct DetectionsResponse {
    detections: usize,
    reports: Vec<trilat_core::ReportId>,
}

async fn missile_detections_ingest(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<DetectionsResponse>, AppError> {
    caller.require(Role::Analyst)?;
    if caller.party != state.party {
        return Err(AppError::forbidden(format!(
            "this node publishes for {}, not {}",
            state.party, caller.party
        )));
    }
    let mut records = Vec::new();
    for (idx, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if records.len() == HTTP_DETECTIONS_MAX {
            return Err(AppError::bad_request(
                "too_many_detections",
                format!("at most {HTTP_DETECTIONS_MAX} detections per request"),
            ));
        }
        let record: DetectionRecord = serde_json::from_str(line).map_err(|e| {
            AppError::bad_request("invalid_detection", format!("line {}: {e}", idx + 1))
        })?;
        records.push(record);
    }
    let engines = state.engines.get()?;
    let events = engines.missile.feed(&records, true)?;
    let reports = publish_events(&state, events).await?;
    Ok(Json(DetectionsResponse {
        detections: records.len(),
        reports,
    }))
}

/// The demo launch: a simulated flight from a real DPRK site seen by the
/// three partners' (approximate) radars, fed in real time, so assessments
/// firm up and warnings appear on the live stream as the missile flies.
pub(super) async fn run_demo(state: &AppState) {
    let Ok(engines) = state.engines.get() else {
        return;
    };
    if !engines.config.missile.demo_launch {
        return;
    }
    let launch_s = crate::now_ms() as f64 / 1000.0 + 15.0;
    let (registry, _truth, detections) = match trilat_missile::sim::demo_scenario(launch_s, 1) {
        Ok(scenario) => scenario,
        Err(e) => {
            tracing::error!(%e, "demo launch not simulated");
            return;
        }
    };
    tracing::info!(party = %state.party, detections = detections.len(), "demo launch in 15 s (EXERCISE)");
    for detection in detections {
        let wait_s = detection.time_s - crate::now_ms() as f64 / 1000.0;
        if wait_s > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait_s)).await;
        }
        let sensor = registry.sensors()[detection.sensor_idx].spec.id.clone();
        let record = DetectionRecord {
            sensor,
            time: trilat_missile::sensors::format_time(detection.time_s),
            range_m: detection.range_m,
            az_deg: detection.az_deg,
            el_deg: detection.el_deg,
            range_rate_mps: detection.range_rate_mps,
        };
        match engines.missile.feed(std::slice::from_ref(&record), false) {
            Ok(events) => {
                if let Err(e) = publish_events(state, events).await {
                    tracing::warn!(%e, "demo launch report not published");
                }
            }
            Err(e) => tracing::warn!(%e, "demo detection refused"),
        }
    }
}
