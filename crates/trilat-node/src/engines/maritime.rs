//! AIS in the node: NMEA over HTTP, UDP (receivers) and TCP (client of a
//! feed), decoded and analysed by `trilat-ais`; every event is published as
//! a `maritime.event` or `maritime.sanctioned-vessel` report. Vessels'
//! static data are screened against the loaded sanctions lists.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};
use trilat_ais::analyser::Analyser;
use trilat_ais::track::{
    Config as TrackerConfig, Detectors, Event, EventDetail, SanctionedVesselEvidence, Tracker,
    VesselScreener,
};
use trilat_core::Timestamp;
use trilat_sanctions::model::IdScheme;
use trilat_sanctions::screener::VesselQuery;
use trilat_sanctions::Screener;

use super::ais_partition::{Partitions, PARTITIONS_DEFAULT, PARTITIONS_MAX};
use super::{publish_finding, Finding};
use crate::{AppError, AppState, Caller, Role};

/// Longest NMEA line accepted from a socket (a sentence is at most 82
/// characters; tag blocks and receiver prefixes add some).
const LINE_BYTES_MAX: usize = 1024;
/// Most lines one HTTP request may carry.
const HTTP_LINES_MAX: usize = 100_000;
/// Most reconnection attempts' backoff for a TCP feed, in seconds.
const TCP_BACKOFF_S_MAX: u64 = 60;

/// `[engines.ais]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AisConfig {
    /// Listen for NMEA datagrams from AIS receivers, e.g. `0.0.0.0:10110`.
    #[serde(default)]
    pub udp_listen: Option<SocketAddr>,
    /// Connect to NMEA-over-TCP feeds (`host:port`), reconnecting with backoff.
    #[serde(default)]
    pub tcp_feeds: Vec<String>,
    /// ITU MID table (`MID,Allocated_to` CSV) for flag checks; default: the
    /// table shipped with Trilat (`trilat-ais/data/PROVENANCE.md`).
    #[serde(default)]
    pub mid_table: Option<PathBuf>,
    /// NGA World Port Index (Pub. 150 CSV) for port calls; default: the
    /// 2,951 WPI ports shipped with Trilat.
    #[serde(default)]
    pub ports: Option<PathBuf>,
    /// With several processes on a bus: how many partitions the vessels
    /// are split into by MMSI, each driven by one process at a time
    /// (default 16, at most 64; docs/scale.md, *Engine partitions*).
    /// Every process of the node must have the same number.
    #[serde(default)]
    pub partitions: Option<u16>,
}

impl AisConfig {
    /// The number of partitions.
    pub fn n_partitions(&self) -> u16 {
        self.partitions.unwrap_or(PARTITIONS_DEFAULT)
    }

    /// Checks what can be checked without reading files.
    pub fn check(&self) -> Result<(), String> {
        let n = self.n_partitions();
        if !(1..=PARTITIONS_MAX).contains(&n) {
            return Err(format!(
                "ais.partitions: {n}; expected 1 to {PARTITIONS_MAX}"
            ));
        }
        Ok(())
    }
}

/// The node's AIS analyser (decoder + tracker), shared by every feed.
pub struct MaritimeEngine {
    analyser: Mutex<Analyser>,
    /// What the analyser was built from, to build it again ([`Self::reset`]).
    config: AisConfig,
    screener: Option<Arc<Screener>>,
    /// The zones the tracker's zone events use.
    zones: Arc<trilat_geo::ZoneIndex>,
    /// With a bus: the partitions, whose input goes to their owners.
    partitions: OnceLock<Arc<Partitions>>,
}

/// Screens vessels through the sanctions engine: first the identifier index
/// that `screen-id` and the API read (a listed MMSI or ship IMO number is a
/// hit by itself), then the names.
struct ListScreener(Arc<Screener>);

impl ListScreener {
    /// The listed vessel whose MMSI or ship IMO number equals the AIS one.
    fn by_identifier(&self, mmsi: u32, imo: Option<u32>) -> Option<SanctionedVesselEvidence> {
        let screener = &self.0;
        let mut buf = String::new();
        let wanted = [
            (IdScheme::Mmsi, Some(format!("{mmsi:09}")), "mmsi"),
            (IdScheme::ImoShip, imo.map(|imo| format!("{imo:07}")), "imo"),
        ];
        for (scheme, value, matched_on) in wanted {
            let Some(value) = value else { continue };
            // IMO ship and company numbers share the index's family: keep the listed scheme.
            let found = screener
                .identifiers()
                .lookup(scheme, &value, &mut buf)
                .iter()
                .find(|r| {
                    let entity = &screener.entities()[r.entity_idx as usize];
                    entity.identifiers[r.id_idx as usize].scheme == scheme
                });
            if let Some(r) = found {
                let entity = &screener.entities()[r.entity_idx as usize];
                return Some(SanctionedVesselEvidence {
                    list_entry: format!("{} {}", entity.source.slug(), entity.record_id),
                    listed_name: entity.caption().to_string(),
                    listed_imo: listed_imo(entity),
                    matched_on: matched_on.into(),
                    score: 1.0,
                });
            }
        }
        None
    }
}

fn listed_imo(entity: &trilat_sanctions::model::Entity) -> Option<u32> {
    entity
        .identifiers
        .iter()
        .find(|id| id.scheme == IdScheme::ImoShip)
        .and_then(|id| id.value.trim_start_matches("IMO").parse().ok())
}

impl VesselScreener for ListScreener {
    fn screen_vessel(
        &self,
        mmsi: u32,
        imo: Option<u32>,
        name: &str,
        callsign: Option<&str>,
        _flag_mid: Option<u16>,
    ) -> Option<SanctionedVesselEvidence> {
        if let Some(evidence) = self.by_identifier(mmsi, imo) {
            return Some(evidence);
        }
        let query = VesselQuery {
            imo: imo.map(|imo| imo.to_string()),
            name: Some(name.to_string()),
            call_sign: callsign.map(str::to_string),
            mmsi: None,
            flag: None,
        };
        let hit = self
            .0
            .screen_vessel(&query, trilat_sanctions::THRESHOLD_DEFAULT)
            .into_iter()
            .next()?;
        let entity = self
            .0
            .entities()
            .iter()
            .find(|entity| entity.id == hit.entity_id);
        let by_identifier = hit
            .explanation
            .iter()
            .any(|c| c.how == trilat_sanctions::matcher::How::Identifier);
        Some(SanctionedVesselEvidence {
            list_entry: format!("{} {}", hit.source.slug(), hit.record_id),
            listed_name: hit.caption.clone(),
            listed_imo: entity.and_then(listed_imo),
            matched_on: if by_identifier {
                "imo".into()
            } else {
                "name".into()
            },
            score: hit.score,
        })
    }
}

/// A configured reference file parsed by `parse`, or the data shipped with
/// Trilat when none is configured. A configured file that cannot be read or
/// parsed is logged as an error naming it, and the shipped data is used.
fn configured_or_shipped<T, E: std::fmt::Display>(
    path: Option<&PathBuf>,
    what: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    shipped: impl Fn() -> Result<T, E>,
) -> Option<T> {
    if let Some(path) = path {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| parse(&text).map_err(|e| e.to_string()));
        match parsed {
            Ok(table) => return Some(table),
            Err(e) => tracing::error!(
                path = %path.display(),
                %e,
                "{what} not loaded; using the one shipped with Trilat"
            ),
        }
    }
    match shipped() {
        Ok(table) => Some(table),
        Err(e) => {
            tracing::error!(%e, "shipped {what} not loaded; its detectors are off");
            None
        }
    }
}

impl MaritimeEngine {
    /// The engine around a fresh [`analyser`].
    pub fn new(config: &AisConfig, screener: Option<Arc<Screener>>) -> MaritimeEngine {
        let zones = Arc::new(trilat_geo::ZoneIndex::new(trilat_geo::fixture_zones()));
        MaritimeEngine {
            analyser: Mutex::new(analyser(config, screener.clone(), zones.clone())),
            config: config.clone(),
            screener,
            zones,
            partitions: OnceLock::new(),
        }
    }

    /// Forgets every vessel and open event: the demo's replay starts its
    /// day of traffic again, with earlier tag-block times than the last run.
    pub fn reset(&self) {
        // With partitions, what looks across vessels is the cross-vessel
        // detection's (docs/scale.md, *Engine partitions*).
        let detectors = match self.partitions.get() {
            Some(partitions) => {
                partitions.reset_cross_vessel(self.analyser_running(Detectors::AcrossVessels));
                Detectors::PerVessel
            }
            None => Detectors::All,
        };
        let fresh = self.analyser_running(detectors);
        *self
            .analyser
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
    }

    /// A fresh analyser of this engine's configuration running `detectors`.
    fn analyser_running(&self, detectors: Detectors) -> Analyser {
        analyser_running(
            &self.config,
            self.screener.clone(),
            self.zones.clone(),
            detectors,
        )
    }

    /// The zones the tracker uses, and their source.
    pub(crate) fn zones(&self) -> (&trilat_geo::ZoneIndex, &str) {
        (&self.zones, "trilat-geo fixture (coarse hand-made coast)")
    }

    /// Runs `read` on the tracker (its lock held: keep `read` short).
    pub(crate) fn with_tracker<R>(&self, read: impl FnOnce(&Tracker) -> R) -> R {
        let analyser = self
            .analyser
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        read(analyser.tracker())
    }
}

/// An analyser over `zones` with the configured MID table and ports, and
/// the sanctions screener when lists are loaded.
pub(super) fn analyser(
    config: &AisConfig,
    screener: Option<Arc<Screener>>,
    zones: Arc<trilat_geo::ZoneIndex>,
) -> Analyser {
    analyser_running(config, screener, zones, Detectors::All)
}

/// [`analyser`] raising only the events of `detectors`.
fn analyser_running(
    config: &AisConfig,
    screener: Option<Arc<Screener>>,
    zones: Arc<trilat_geo::ZoneIndex>,
    detectors: Detectors,
) -> Analyser {
    let tracker_config = TrackerConfig {
        detectors,
        ..TrackerConfig::default()
    };
    let mut tracker = Tracker::new(tracker_config).with_zones(zones);
    use trilat_ais::{identity::MidTable, ports::PortIndex};
    let mids = configured_or_shipped(
        config.mid_table.as_ref(),
        "MID table",
        MidTable::parse_csv,
        MidTable::shipped,
    );
    if let Some(mids) = mids {
        tracker = tracker.with_mids(Arc::new(mids));
    }
    let ports = configured_or_shipped(
        config.ports.as_ref(),
        "World Port Index",
        PortIndex::parse_wpi_csv,
        PortIndex::shipped,
    );
    if let Some(ports) = ports {
        tracker = tracker.with_ports(Arc::new(ports));
    }
    if let Some(screener) = screener {
        tracker = tracker.with_screener(Box::new(ListScreener(screener)));
    }
    Analyser::new(tracker)
}

impl MaritimeEngine {
    /// Feeds lines; returns (lines, lines refused, events).
    pub(super) fn ingest<'a>(
        &self,
        lines: impl Iterator<Item = &'a [u8]>,
        now_ms: i64,
    ) -> (usize, usize, Vec<Event>) {
        let mut events = Vec::new();
        let (mut n_lines, mut n_refused) = (0, 0);
        let mut analyser = self
            .analyser
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for line in lines {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            n_lines += 1;
            if let Err(e) = analyser.feed_line(line, Some(now_ms), &mut events) {
                n_refused += 1;
                tracing::debug!(%e, "AIS line refused");
            }
        }
        (n_lines, n_refused, events)
    }
}

pub(super) fn finding_of(event: &Event) -> Result<Finding, AppError> {
    let kind = if matches!(event.detail, EventDetail::SanctionedVessel { .. }) {
        "maritime.sanctioned-vessel"
    } else {
        "maritime.event"
    };
    Ok(Finding {
        engine: "ais",
        kind,
        payload: serde_json::to_value(event).map_err(AppError::internal)?,
        observed_at: Timestamp::from_unix_ms(event.start_unix_ms),
        // A vessel's first static data may come before any position (NaN).
        position: (event.lat.is_finite() && event.lon.is_finite())
            .then_some((event.lat, event.lon)),
        marking: None,
    })
}

/// Publishes events; a refusal is logged and counted, never fatal to the feed.
async fn publish_events(state: &AppState, events: Vec<Event>) -> Vec<trilat_core::ReportId> {
    let mut published = Vec::with_capacity(events.len());
    for event in &events {
        match finding_of(event) {
            Ok(finding) => match publish_finding(state, finding).await {
                Ok(report) => published.push(report.id),
                Err(e) => tracing::warn!(%e, event = event.name(), "maritime event not published"),
            },
            Err(e) => tracing::warn!(%e, "maritime event not encoded"),
        }
    }
    published
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ais/nmea", post(ais_nmea_ingest))
        .route("/ais/status", get(ais_status))
}

/// Vessels listed by `GET /api/v1/ais/status` (the most recently heard).
const STATUS_VESSELS_MAX: usize = 1_000;

/// What `GET /api/v1/ais/status` answers: counts over every feed (HTTP,
/// UDP, TCP) since the node started, and the most recently heard vessels.
#[derive(Debug, Serialize)]
struct AisStatus {
    decode: trilat_ais::DecodeStats,
    track: trilat_ais::track::TrackStats,
    vessels_tracked: usize,
    vessels: Vec<trilat_ais::track::VesselSummary>,
}

async fn ais_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AisStatus>, AppError> {
    caller.require(Role::Analyst)?;
    // The tracker holds this node's own, unreleased feed data.
    if caller.party != state.party {
        return Err(AppError::forbidden(format!(
            "AIS status is {}'s own feed data",
            state.party
        )));
    }
    let engines = state.engines.get()?;
    // With partitions, this process's lines are decoded by its router; its
    // tracker decodes only what its partitions' owners hand it.
    let router_decode = engines.maritime.partitions.get().map(|p| p.decode_stats());
    let analyser = engines
        .maritime
        .analyser
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut vessels = analyser.tracker().summaries();
    vessels.sort_by_key(|v| std::cmp::Reverse(v.last_seen_unix_ms));
    vessels.truncate(STATUS_VESSELS_MAX);
    Ok(Json(AisStatus {
        decode: router_decode.unwrap_or_else(|| analyser.decode_stats().clone()),
        track: analyser.tracker().stats().clone(),
        vessels_tracked: analyser.tracker().vessel_count(),
        vessels,
    }))
}

/// What `POST /api/v1/ais/nmea` answers. With a bus, the lines go to
/// their partitions' owners (`lines_handed_off`) and their events are
/// published there, so `events` and `reports` stay empty.
#[derive(Debug, Default, Serialize)]
struct IngestResponse {
    lines: usize,
    lines_refused: usize,
    events: usize,
    reports: Vec<trilat_core::ReportId>,
    lines_handed_off: usize,
}

/// Takes lines received now: without a bus, feeds them to this process's
/// tracker and publishes the events; with one, hands each partition's
/// lines to its owner and returns once the bus has stored them.
async fn take_lines<'a>(
    state: &AppState,
    maritime: &MaritimeEngine,
    lines: impl Iterator<Item = &'a [u8]>,
) -> Result<IngestResponse, AppError> {
    let now_ms = crate::now_ms();
    let Some(partitions) = maritime.partitions.get() else {
        let (lines, lines_refused, events) = maritime.ingest(lines, now_ms);
        let n_events = events.len();
        let reports = publish_events(state, events).await;
        return Ok(IngestResponse {
            lines,
            lines_refused,
            events: n_events,
            reports,
            lines_handed_off: 0,
        });
    };
    let routed = partitions.route(lines);
    let (lines, lines_refused) = (routed.n_lines, routed.n_refused);
    let lines_handed_off = partitions.hand_off(routed, now_ms).await?;
    Ok(IngestResponse {
        lines,
        lines_refused,
        lines_handed_off,
        ..IngestResponse::default()
    })
}

async fn ais_nmea_ingest(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<IngestResponse>, AppError> {
    super::analyst_of_node(&state, &caller)?;
    let n_lines = body.lines().count();
    if n_lines > HTTP_LINES_MAX {
        return Err(AppError::bad_request(
            "too_many_lines",
            format!("{n_lines} lines; at most {HTTP_LINES_MAX} per request"),
        ));
    }
    if let Some((line_no, _)) = body
        .lines()
        .enumerate()
        .find(|(_, line)| line.len() > LINE_BYTES_MAX)
    {
        return Err(AppError::bad_request(
            "line_too_long",
            format!("line {} is longer than {LINE_BYTES_MAX} bytes", line_no + 1),
        ));
    }
    let engines = state.engines.get()?;
    let lines = body.lines().map(str::as_bytes);
    Ok(Json(take_lines(&state, &engines.maritime, lines).await?))
}

/// With a bus, starts the partitions (their leases and owners); then
/// opens the configured UDP listener and TCP feeds.
pub(super) fn start_feeds(
    state: &AppState,
    maritime: &MaritimeEngine,
    config: &AisConfig,
    holder: &str,
) {
    if let Some(bus) = &state.bus {
        let cross_vessel = maritime.analyser_running(Detectors::AcrossVessels);
        let partitions = Partitions::start(
            state,
            bus.clone(),
            (config.n_partitions(), cross_vessel),
            holder,
        );
        if maritime.partitions.set(partitions).is_err() {
            tracing::warn!("AIS partitions already started");
        }
        // Nothing is tracked yet: the partitions' tracker leaves what looks
        // across vessels to the cross-vessel detection from now on.
        maritime.reset();
    }
    if let Some(addr) = config.udp_listen {
        state.tasks.spawn(udp_listen(state.clone(), addr));
    }
    for feed in &config.tcp_feeds {
        state.tasks.spawn(tcp_feed(state.clone(), feed.clone()));
    }
}

async fn udp_listen(state: AppState, addr: SocketAddr) {
    let socket = match tokio::net::UdpSocket::bind(addr).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::error!(%addr, %e, "AIS UDP listener not started");
            return;
        }
    };
    tracing::info!(%addr, "AIS UDP listener");
    let mut datagram = vec![0u8; 64 * 1024];
    loop {
        let Ok((len, _from)) = socket.recv_from(&mut datagram).await else {
            continue;
        };
        let Ok(engines) = state.engines.get() else {
            continue;
        };
        let lines = datagram[..len]
            .split(|b| *b == b'\n')
            .filter(|line| line.len() <= LINE_BYTES_MAX);
        if let Err(e) = take_lines(&state, &engines.maritime, lines).await {
            tracing::warn!(%addr, %e, "AIS datagram not taken");
        }
    }
}

async fn tcp_feed(state: AppState, feed: String) {
    let mut backoff_s = 1;
    loop {
        match tokio::net::TcpStream::connect(&feed).await {
            Ok(stream) => {
                tracing::info!(%feed, "AIS TCP feed connected");
                backoff_s = 1;
                let mut reader = tokio::io::BufReader::new(stream);
                let mut line = Vec::with_capacity(LINE_BYTES_MAX);
                loop {
                    line.clear();
                    // Bound the line: a feed that never sends a newline cannot grow the buffer.
                    let read = (&mut reader)
                        .take(LINE_BYTES_MAX as u64 + 1)
                        .read_until(b'\n', &mut line)
                        .await;
                    match read {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line.len() > LINE_BYTES_MAX && line.last() != Some(&b'\n') => {
                            tracing::warn!(%feed, "AIS line longer than {LINE_BYTES_MAX} bytes; skipping to the next line");
                            if !skip_line(&mut reader, &mut line).await {
                                break;
                            }
                        }
                        Ok(_) => {
                            let Ok(engines) = state.engines.get() else {
                                continue;
                            };
                            let text = line.strip_suffix(b"\n").unwrap_or(&line);
                            let taken =
                                take_lines(&state, &engines.maritime, std::iter::once(text)).await;
                            if let Err(e) = taken {
                                tracing::warn!(%feed, %e, "AIS line not taken");
                            }
                        }
                    }
                }
                tracing::warn!(%feed, "AIS TCP feed closed; reconnecting");
            }
            Err(e) => tracing::warn!(%feed, %e, backoff_s, "AIS TCP feed unreachable"),
        }
        tokio::time::sleep(Duration::from_secs(backoff_s)).await;
        backoff_s = (backoff_s * 2).min(TCP_BACKOFF_S_MAX);
    }
}

/// Discards the rest of an over-long line, a bounded chunk at a time (a feed
/// that never sends a newline cannot grow memory). False when the feed ended.
async fn skip_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    chunk: &mut Vec<u8>,
) -> bool {
    loop {
        chunk.clear();
        match (&mut *reader)
            .take(LINE_BYTES_MAX as u64)
            .read_until(b'\n', chunk)
            .await
        {
            Ok(0) | Err(_) => return false,
            Ok(_) if chunk.last() == Some(&b'\n') => return true,
            Ok(_) => continue,
        }
    }
}

/// Feeds a batch of the demo's AIS lines, as if just received, and
/// publishes the events they complete.
pub(super) async fn demo_feed(state: &AppState, lines: &[String]) {
    let Ok(engines) = state.engines.get() else {
        return;
    };
    let lines = lines.iter().map(String::as_bytes);
    if let Err(e) = take_lines(state, &engines.maritime, lines).await {
        tracing::warn!(%e, "demo AIS lines not taken");
    }
}

/// Ends the demo's AIS scenario: closes what is still open (a gap, a stay)
/// and publishes it.
pub(super) async fn demo_finish(state: &AppState) {
    let Ok(engines) = state.engines.get() else {
        return;
    };
    let mut events = Vec::new();
    engines
        .maritime
        .analyser
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .finish(&mut events);
    match engines.maritime.partitions.get() {
        // Each event by the owner of its vessel's partition, if it is this
        // process; the cross-vessel findings by that detection's owner.
        Some(partitions) => {
            partitions.publish(state, events).await;
            partitions.finish_cross_vessel(state).await;
        }
        None => {
            publish_events(state, events).await;
        }
    }
}
