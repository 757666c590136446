//! Missile warning in the node: detections from any partner's radars arrive
//! over HTTP (`POST /api/v1/missile/detections`, DETECTIONS.jsonl lines);
//! `trilat-missile` fuses them into tracks and assessments; every track
//! report, assessment and warning is published as a report whose marking is
//! [`trilat_core::Policy::combine`] over the markings of the parties whose
//! sensors contributed, so a fused product never reaches a party that one of
//! its sources may not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::{KindRegistry, Marking, Timestamp};
use trilat_missile::engine::{EngineEvent, EngineParams};
use trilat_missile::sensors::{DetectionRecord, SensorRegistry};
use trilat_missile::zones::GeoZones;
use trilat_missile::MissileEngine as Fuser;

use super::missile_partition::{check_groups, SensorGroups};
use super::{publish_finding_in, Finding};
use crate::{AppError, AppState, Caller};

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
    /// Natural Earth TopoJSON (world-atlas `countries-10m.json` or `-50m`) from
    /// which land, territorial seas and EEZs are computed (approximate);
    /// default: the Natural Earth 1:10m countries shipped with Trilat. A
    /// named file that cannot be read stops the engine, naming the file.
    #[serde(default)]
    pub zones: Option<PathBuf>,
    /// Official EEZ polygons of Japan (GeoJSON, e.g. Marine Regions) that
    /// replace the computed one.
    #[serde(default)]
    pub official_jpn_eez: Option<PathBuf>,
    /// With several processes on a bus: the sensor groups, each fused by
    /// one process at a time (group name → sensor ids; every other sensor
    /// is in the group `default`; docs/scale.md, *Engine partitions*).
    #[serde(default)]
    pub sensor_groups: BTreeMap<String, Vec<String>>,
}

impl MissileConfig {
    /// Checks what can be checked without reading files.
    pub fn check(&self) -> Result<(), String> {
        check_groups(&self.sensor_groups)
    }
}

/// The zones the engine's assessments use (EEZ, territory, land, overflight)
/// and their source: the configured file, or the shipped Natural Earth data.
fn missile_zones(config: &MissileConfig) -> Result<(GeoZones, String), String> {
    let official = match &config.official_jpn_eez {
        Some(eez) => Some(
            std::fs::read_to_string(eez)
                .map_err(|e| format!("official_jpn_eez {}: {e}", eez.display()))?,
        ),
        None => None,
    };
    let Some(path) = &config.zones else {
        let zones = match &official {
            Some(text) => GeoZones::shipped_with_official_jpn_eez(text),
            None => GeoZones::shipped(),
        };
        let zones = zones.map_err(|e| format!("shipped zones: {e}"))?;
        return Ok((zones, trilat_geo::SHIPPED_COUNTRIES_SOURCE.to_string()));
    };
    let topojson = std::fs::read(path).map_err(|e| format!("zones {}: {e}", path.display()))?;
    let zones = GeoZones::from_natural_earth(&topojson, official.as_deref())
        .map_err(|e| format!("zones {}: {e}", path.display()))?;
    Ok((zones, format!("Natural Earth {}", file_name(path))))
}

/// A file's name without its directory (sources are named, paths are not shown).
fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The node's missile fuser and its marking rules.
pub struct MissileEngine {
    fuser: Mutex<Fuser>,
    party_markings: BTreeMap<String, Marking>,
    /// Detection streams open now on this node.
    streams_open: Arc<AtomicUsize>,
    /// The zones the assessments use, and where they came from (for
    /// `GET /api/v1/geo/zones`).
    zones: (GeoZones, String),
    /// With a bus: the sensor groups, whose detections go to their owners.
    groups: OnceLock<Arc<SensorGroups>>,
}

pub(super) fn register_kinds(registry: &mut KindRegistry) {
    registry.register(trilat_missile::REPORT_KINDS, |kind, payload| {
        trilat_missile::validate_payload(kind, payload).map_err(|e| e.to_string())
    });
}

impl MissileEngine {
    /// A fuser over the configured (or default) sensors and zones.
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
        let (zones, source) = missile_zones(config)?;
        Ok(MissileEngine {
            fuser: Mutex::new(Fuser::new(
                registry,
                Box::new(zones.clone()),
                EngineParams::default(),
            )),
            party_markings: config.party_markings.clone(),
            streams_open: Arc::default(),
            zones: (zones, source),
            groups: OnceLock::new(),
        })
    }

    /// The zones the assessments use, and their source.
    pub(crate) fn zones(&self) -> (&trilat_geo::ZoneIndex, &str) {
        (self.zones.0.index(), &self.zones.1)
    }

    /// Checks detections against the sensors without fusing them (a
    /// process handing them to their group's owner answers the sender's
    /// errors itself); errors name the detection (1-based) or `line_no`.
    fn check(&self, records: &[DetectionRecord], line_no: Option<usize>) -> Result<(), AppError> {
        let fuser = self
            .fuser
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (idx, record) in records.iter().enumerate() {
            if let Err(e) = record.validate(fuser.registry()) {
                let place = line_no
                    .map_or_else(|| format!("detection {}", idx + 1), |n| format!("line {n}"));
                return Err(AppError::bad_request(
                    "invalid_detection",
                    format!("{place}: {e}"),
                ));
            }
        }
        Ok(())
    }

    /// Feeds one detection of a stream; errors name the stream's line.
    fn feed_line(
        &self,
        record: &DetectionRecord,
        line_no: usize,
    ) -> Result<Vec<EngineEvent>, AppError> {
        let mut fuser = self
            .fuser
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        fuser
            .feed_record(record)
            .map_err(|e| AppError::bad_request("invalid_detection", format!("line {line_no}: {e}")))
    }

    /// Feeds detections; with `flush`, also processes the last scan (the end
    /// of a batch) instead of waiting for the next scan to start.
    pub(super) fn feed(
        &self,
        records: &[DetectionRecord],
        flush: bool,
    ) -> Result<Vec<EngineEvent>, AppError> {
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

/// Publishes the fuser's products into `store` (the node's, or a sensor
/// group owner's fenced store).
pub(super) async fn publish_events(
    state: &AppState,
    store: Arc<dyn trilat_store::ReportStore>,
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
        published.push(publish_finding_in(state, store.clone(), finding).await?.id);
    }
    Ok(published)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/missile/detections", post(missile_detections_ingest))
}

/// Routes that stay open as long as the sensor feed lasts (outside the
/// request timeout, like the live stream).
pub(super) fn stream_routes() -> Router<AppState> {
    Router::new().route(
        "/missile/detections/stream",
        post(missile_detections_stream),
    )
}

/// Longest line of a detection stream: a detection is about 150 bytes, so a
/// longer line is an error, and a stream without newlines cannot grow memory.
const STREAM_LINE_BYTES_MAX: usize = 4096;

/// What `POST /api/v1/missile/detections/stream` answers when the stream ends.
#[derive(Debug, Serialize)]
struct StreamResponse {
    detections: usize,
    reports: usize,
    /// With a bus: detections handed to their sensor group's owner, which
    /// publishes the products (`reports` stays 0).
    detections_handed_off: usize,
}

/// A sensor's live feed: one detection per line (the DETECTIONS.jsonl form),
/// in a chunked request body that lasts as long as the feed. Each detection
/// is fused as it arrives and products are published at once, so partners
/// see assessments while the missile flies. A bad line ends the stream with a
/// 400 naming the line; what was published before it stands.
async fn missile_detections_stream(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Body,
) -> Result<Json<StreamResponse>, AppError> {
    use futures::StreamExt as _;
    super::analyst_of_node(&state, &caller)?;
    let engines = state.engines.get()?;
    let _slot = StreamSlot::take(&engines.missile.streams_open)?;
    let mut chunks = body.into_data_stream();
    let mut pending: Vec<u8> = Vec::with_capacity(STREAM_LINE_BYTES_MAX);
    let mut line_no = 0usize;
    let mut answer = StreamResponse {
        detections: 0,
        reports: 0,
        detections_handed_off: 0,
    };
    let groups = engines.missile.groups.get();
    let mut groups_fed: Vec<String> = Vec::new();
    let mut ended = false;
    while !ended {
        match chunks.next().await {
            Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
            Some(Err(e)) => {
                return Err(AppError::bad_request(
                    "stream_error",
                    format!("after line {line_no}: {e}"),
                ))
            }
            None => {
                ended = true;
                if !pending.is_empty() && pending.last() != Some(&b'\n') {
                    pending.push(b'\n');
                }
            }
        }
        let mut events = Vec::new();
        let mut records = Vec::new();
        let mut consumed = 0;
        while let Some(len) = pending[consumed..].iter().position(|&b| b == b'\n') {
            line_no += 1;
            let line = &pending[consumed..consumed + len];
            consumed += len + 1;
            if let Some(record) = stream_record(line, line_no)? {
                match groups {
                    Some(_) => {
                        let one = std::slice::from_ref(&record);
                        engines.missile.check(one, Some(line_no))?;
                        records.push(record);
                    }
                    None => events.extend(engines.missile.feed_line(&record, line_no)?),
                }
                answer.detections += 1;
            }
        }
        pending.drain(..consumed);
        if pending.len() > STREAM_LINE_BYTES_MAX {
            return Err(AppError::bad_request(
                "line_too_long",
                format!(
                    "line {} is longer than {STREAM_LINE_BYTES_MAX} bytes",
                    line_no + 1
                ),
            ));
        }
        if let Some(groups) = groups {
            // To the groups' owners; at the end, each group fed is flushed.
            groups_fed.extend(groups.groups_of(&records));
            groups_fed.sort();
            groups_fed.dedup();
            answer.detections_handed_off += groups.hand_off(&records, ended, &groups_fed).await?;
            continue;
        }
        if ended {
            events.extend(engines.missile.feed(&[], true)?);
        }
        answer.reports += publish_events(&state, state.store.clone(), events)
            .await?
            .len();
    }
    Ok(Json(answer))
}

/// Most detection streams open at once (one per sensor feed is typical).
const STREAMS_OPEN_MAX: usize = 32;

/// One of the node's `STREAMS_OPEN_MAX` slots, released on drop.
struct StreamSlot(Arc<AtomicUsize>);

impl StreamSlot {
    fn take(open: &Arc<AtomicUsize>) -> Result<StreamSlot, AppError> {
        let taken = open.fetch_add(1, Ordering::AcqRel);
        if taken >= STREAMS_OPEN_MAX {
            open.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "too_many_streams",
                format!("{STREAMS_OPEN_MAX} detection streams are open; retry later"),
            ));
        }
        Ok(StreamSlot(open.clone()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One line of a detection stream; `None` for a blank line.
fn stream_record(line: &[u8], line_no: usize) -> Result<Option<DetectionRecord>, AppError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(line)
        .map(Some)
        .map_err(|e| AppError::bad_request("invalid_detection", format!("line {line_no}: {e}")))
}

/// What `POST /api/v1/missile/detections` answers.
#[derive(Debug, Serialize)]
struct DetectionsResponse {
    detections: usize,
    reports: Vec<trilat_core::ReportId>,
    /// With a bus: detections handed to their sensor group's owner, which
    /// publishes the products (`reports` stays empty).
    detections_handed_off: usize,
}

async fn missile_detections_ingest(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<DetectionsResponse>, AppError> {
    super::analyst_of_node(&state, &caller)?;
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
    if let Some(groups) = engines.missile.groups.get() {
        engines.missile.check(&records, None)?;
        let detections_handed_off = groups.hand_off(&records, true, &[]).await?;
        return Ok(Json(DetectionsResponse {
            detections: records.len(),
            reports: Vec::new(),
            detections_handed_off,
        }));
    }
    let events = engines.missile.feed(&records, true)?;
    let reports = publish_events(&state, state.store.clone(), events).await?;
    Ok(Json(DetectionsResponse {
        detections: records.len(),
        reports,
        detections_handed_off: 0,
    }))
}

/// With a bus, starts the sensor groups (their leases and owners).
pub(super) fn start_groups(
    state: &AppState,
    missile: &MissileEngine,
    config: &MissileConfig,
    holder: &str,
) {
    let Some(bus) = &state.bus else { return };
    let groups = SensorGroups::start(state, bus.clone(), &config.sensor_groups, holder);
    if missile.groups.set(groups).is_err() {
        tracing::warn!("missile sensor groups already started");
    }
}

/// Feeds one detection of the demo's flight (`None`: the flight is over,
/// process the last scan) and publishes what the fuser makes of it. Errors
/// are logged: the story goes on.
pub(super) async fn demo_feed(state: &AppState, record: Option<&DetectionRecord>) {
    let Ok(engines) = state.engines.get() else {
        return;
    };
    let fed = match record {
        Some(record) => engines.missile.feed(std::slice::from_ref(record), false),
        None => engines.missile.feed(&[], true),
    };
    match fed {
        Ok(events) => {
            if let Err(e) = publish_events(state, state.store.clone(), events).await {
                tracing::warn!(%e, "demo launch report not published");
            }
        }
        Err(e) => tracing::warn!(%e, "demo detection refused"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_missile::zones::ZoneOracle;

    fn config(zones: Option<&str>, official: Option<&str>) -> MissileConfig {
        MissileConfig {
            zones: zones.map(PathBuf::from),
            official_jpn_eez: official.map(PathBuf::from),
            ..MissileConfig::default()
        }
    }

    #[test]
    fn each_node_has_its_own_detection_stream_slots() {
        let (a, b) = (
            MissileEngine::new(&MissileConfig::default()).unwrap(),
            MissileEngine::new(&MissileConfig::default()).unwrap(),
        );
        let held: Vec<StreamSlot> = (0..STREAMS_OPEN_MAX)
            .map(|_| StreamSlot::take(&a.streams_open).unwrap())
            .collect();
        let full = StreamSlot::take(&a.streams_open).err().unwrap();
        assert_eq!(full.code, "too_many_streams");
        // Another node of the same process is not affected…
        drop(StreamSlot::take(&b.streams_open).unwrap());
        // …and a slot given back is free again.
        drop(held);
        assert_eq!(a.streams_open.load(Ordering::SeqCst), 0);
        drop(StreamSlot::take(&a.streams_open).unwrap());
    }

    #[test]
    fn zones_errors_name_the_file() {
        let err = missile_zones(&config(Some("/no/such/countries-10m.json"), None)).unwrap_err();
        assert!(err.contains("/no/such/countries-10m.json"), "{err}");
        let err = missile_zones(&config(None, Some("/x/eez.geojson"))).unwrap_err();
        assert!(err.contains("/x/eez.geojson"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, b"{\"type\": \"Topology\"").unwrap();
        let err = missile_zones(&config(bad.to_str(), None)).unwrap_err();
        assert!(err.contains("bad.json"), "{err}");
        // Nothing configured: the shipped zones, which know Japan's EEZ.
        let (zones, source) = missile_zones(&config(None, None)).unwrap();
        assert!(ZoneOracle::approximate(&zones));
        assert_eq!(source, trilat_geo::SHIPPED_COUNTRIES_SOURCE);
        assert_eq!(
            zones.classify(40.0, 136.5).eez,
            Some(trilat_missile::zones::JPN)
        );
    }

    #[test]
    fn zones_from_natural_earth_when_the_data_is_there() {
        let data = std::env::var("TRILAT_SHARED_DATA").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
        });
        let path =
            std::path::Path::new(&data).join("zones/natural_earth_world_atlas/countries-50m.json");
        if !path.exists() {
            eprintln!("skipping: {} is absent", path.display());
            return;
        }
        let (zones, _) = missile_zones(&config(path.to_str(), None)).unwrap();
        assert!(ZoneOracle::approximate(&zones));
        let jpn = trilat_missile::zones::JPN;
        // Tokyo is Japanese land; 300 km west of Akita is in Japan's
        // (approximate) EEZ, not its territory; Pyongyang is land, not Japan's.
        let tokyo = zones.classify(35.68, 139.76);
        assert!(tokyo.on_land && tokyo.territory == Some(jpn), "{tokyo:?}");
        let sea = zones.classify(40.0, 136.5);
        assert!(
            !sea.on_land && sea.eez == Some(jpn) && sea.territory.is_none(),
            "{sea:?}"
        );
        let pyongyang = zones.classify(39.03, 125.75);
        assert!(
            pyongyang.on_land && pyongyang.territory != Some(jpn),
            "{pyongyang:?}"
        );
    }
}
