//! Vessel tracks and maritime events: per-MMSI state with segmentation
//! (several ships on one MMSI), and detectors for gaps ("going dark"),
//! encounters (possible ship-to-ship transfers), loitering, identity
//! anomalies, zone entry/exit with hysteresis, port calls, and sanctioned
//! vessels. Pure: positions and static data in, [`Event`]s out.
//!
//! Memory is bounded: at most [`Config::vessels_max`] vessels, at most
//! [`SEGMENTS_PER_VESSEL_MAX`] segments each, a fixed ring of recent fixes per
//! segment, and bounded maps for pairs, coverage and IMO claims.

mod coverage;
mod encounters;
mod events;
mod gaps;
mod grid;
mod identity_checks;
mod loitering;
mod port_calls;
mod segments;
mod vessels;
mod zones;

pub use events::{
    AnomalyKind, Event, EventDetail, SanctionedVesselEvidence, VesselScreener, ZoneRef,
};

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use trilat_geo::{ZoneId, ZoneIndex};

use crate::identity::{mmsi_kind, MidTable};
use crate::message::Position;
use crate::ports::PortIndex;
use encounters::Pair;
use loitering::Loiter;
use port_calls::PortStay;
use vessels::{HashMap, Vessel, VesselTable};

/// Segments kept per MMSI (ships sharing one MMSI); the oldest is dropped.
pub const SEGMENTS_PER_VESSEL_MAX: usize = 4;
/// Recent fixes kept per segment, as evidence for events.
pub const RECENT_FIXES: usize = 8;
/// Vessel pairs under watch for an encounter at once.
pub const PAIRS_MAX: usize = 100_000;
/// Speed samples kept per pair (for the median).
const PAIR_SPEEDS_MAX: usize = 64;
/// Coverage cells tracked.
pub const COVERAGE_CELLS_MAX: usize = 1_000_000;
/// Zones a vessel can be inside at once (others ignored).
const ZONES_INSIDE_MAX: usize = 16;
/// The international nautical mile, metres (the unit of GFW's shore distances and of knots).
const NAUTICAL_MILE_M: f64 = 1852.0;
/// One knot in metres per second.
const KNOT_MS: f64 = NAUTICAL_MILE_M / 3600.0;
/// One hour and one minute in milliseconds (the unit of fix times).
const HOUR_MS: f64 = 3_600_000.0;
const MINUTE_MS: i64 = 60_000;
/// How often, in data time, pairs apart for longer than the break allowance are closed (ms):
/// often enough that an encounter is raised within minutes of its end, rare enough that the
/// sweep over every open pair costs nothing per position.
const PAIR_SWEEP_INTERVAL_MS: i64 = 10 * MINUTE_MS;
/// A vessel silent for this many gap thresholds may be evicted when the table is full: by then
/// its gap event, if any, has been raised.
const STALE_GAP_FACTOR: f64 = 2.0;
/// Most vessels evicted at once: a full table frees room in batches instead of scanning every
/// vessel for each new one.
const EVICTION_BATCH_MAX: usize = 1024;

/// Detector thresholds. Defaults follow Global Fishing Watch's published
/// definitions where there is one (gaps, encounters, loitering).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// A gap is at least this long (GFW: 12 h).
    pub gap_hours_min: f64,
    /// Both ends of a gap at least this far from shore (GFW: 50 nm).
    pub gap_shore_distance_m_min: f64,
    /// Encounter: vessels within this distance (GFW: 500 m) …
    pub encounter_distance_m_max: f64,
    /// … for at least this long (GFW: 2 h) …
    pub encounter_hours_min: f64,
    /// … at a median speed below this (GFW: 2 knots) …
    pub encounter_speed_knots_max: f64,
    /// … at least this far from an anchorage or port (GFW: 10 km).
    pub encounter_anchorage_distance_m_min: f64,
    /// An encounter survives interruptions up to this long.
    pub encounter_break_minutes_max: f64,
    /// Loitering: mean speed below this (GFW: 2 knots) …
    pub loitering_speed_knots_max: f64,
    /// … for at least this long …
    pub loitering_hours_min: f64,
    /// … at least this far from shore (GFW: 20 nm).
    pub loitering_shore_distance_m_min: f64,
    /// Positions no ship could reach at this speed start a new segment.
    pub jump_speed_knots_max: f64,
    /// Consecutive fixes inside (outside) a zone before entry (exit) counts.
    pub zone_hysteresis_fixes: u8,
    /// A port call: within this distance of a port …
    pub port_radius_m: f64,
    /// … for at least this long.
    pub port_call_hours_min: f64,
    /// Most vessels tracked; stale ones are evicted first.
    pub vessels_max: usize,
    /// Which detectors raise events.
    pub detectors: Detectors,
}

/// Which detectors a tracker raises events of. Three findings need other
/// vessels than their own: an encounter (two vessels), a gap (called
/// "going dark" only where other vessels were heard meanwhile) and an IMO
/// number claimed by two MMSIs. When vessels are split among trackers (a
/// node's engine partitions, docs/scale.md), each partition's tracker runs
/// [`Detectors::PerVessel`] and one tracker fed every vessel runs
/// [`Detectors::AcrossVessels`], so each event is raised once, by the
/// tracker that sees what it needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detectors {
    /// Every detector (one tracker sees every vessel).
    #[default]
    All,
    /// The detectors that look at one vessel alone: the tracker may see
    /// only some vessels.
    PerVessel,
    /// The detectors that look across vessels: the tracker is fed every
    /// vessel.
    AcrossVessels,
}

impl Detectors {
    /// Whether events of this kind are raised.
    fn raises(self, detail: &EventDetail) -> bool {
        let across = matches!(
            detail,
            EventDetail::Encounter { .. }
                | EventDetail::Gap { .. }
                | EventDetail::IdentityAnomaly {
                    anomaly: AnomalyKind::ImoSharedByMmsis,
                    ..
                }
        );
        match self {
            Detectors::All => true,
            Detectors::PerVessel => !across,
            Detectors::AcrossVessels => across,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gap_hours_min: 12.0,
            gap_shore_distance_m_min: 50.0 * NAUTICAL_MILE_M,
            encounter_distance_m_max: 500.0,
            encounter_hours_min: 2.0,
            encounter_speed_knots_max: 2.0,
            encounter_anchorage_distance_m_min: 10_000.0,
            encounter_break_minutes_max: 30.0,
            loitering_speed_knots_max: 2.0,
            loitering_hours_min: 4.0,
            loitering_shore_distance_m_min: 20.0 * NAUTICAL_MILE_M,
            jump_speed_knots_max: 25.0,
            zone_hysteresis_fixes: 2,
            port_radius_m: 5_000.0,
            port_call_hours_min: 2.0,
            vessels_max: 500_000,
            detectors: Detectors::All,
        }
    }
}

/// One position of a vessel, as evidence.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// MMSI that sent it.
    pub mmsi: u32,
    /// Time, ms since the Unix epoch.
    pub time_unix_ms: i64,
    /// Latitude, degrees (NaN, JSON `null`, for a vessel without a position).
    #[serde(deserialize_with = "events::nan_if_null")]
    pub lat: f64,
    /// Longitude, degrees.
    #[serde(deserialize_with = "events::nan_if_null")]
    pub lon: f64,
    /// Speed over ground, knots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_knots: Option<f32>,
    /// Course over ground, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub course_deg: Option<f32>,
    /// Input line of the message (evidence pointer).
    pub line: u64,
}

/// Analysis limits hit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackError {
    /// More live vessels than [`Config::vessels_max`], none stale to evict.
    #[error("more than {0} vessels tracked and none stale")]
    VesselsMax(usize),
}

/// Counts of what the tracker has done.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrackStats {
    /// Positions used.
    pub positions: u64,
    /// Positions without a usable lat/lon or time, skipped.
    pub positions_skipped: u64,
    /// Static-data messages used.
    pub statics: u64,
    /// Vessels evicted to stay under `vessels_max`.
    pub vessels_evicted: u64,
    /// Events raised, all kinds.
    pub events: u64,
}

/// Per-vessel tracks and all detectors. Feed it positions and static data
/// in time order (per vessel); collect events; call [`Tracker::finish`] at
/// the end of a file to close what is still open.
pub struct Tracker {
    config: Config,
    zones: Option<Arc<ZoneIndex>>,
    ports: Option<Arc<PortIndex>>,
    mids: Option<Arc<MidTable>>,
    screener: Option<Box<dyn VesselScreener + Send + Sync>>,
    vessels: VesselTable,
    grid: HashMap<(i32, i32), Vec<(u32, u32)>>,
    pairs: HashMap<(u32, u32), Pair>,
    coverage: HashMap<(i32, i32), coverage::CoverageSlots>,
    imo_claims: HashMap<u32, u32>,
    scratch_zones: Vec<ZoneId>,
    now_ms: i64,
    last_sweep_ms: i64,
    stats: TrackStats,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("vessels", &self.vessels.len())
            .field("stats", &self.stats)
            .finish()
    }
}

/// A summary line per tracked vessel.
#[derive(Clone, Debug, Serialize)]
pub struct VesselSummary {
    /// MMSI.
    pub mmsi: u32,
    /// Segments (ships) seen on this MMSI, still held.
    pub segments: usize,
    /// Positions used.
    pub positions: u64,
    /// Latest name.
    pub shipname: Option<String>,
    /// Latest IMO.
    pub imo: Option<u32>,
    /// Latest call sign.
    pub callsign: Option<String>,
    /// Last position time.
    pub last_seen_unix_ms: i64,
    /// Last position.
    pub lat: f64,
    /// Last position.
    pub lon: f64,
    /// Speed over ground at the last position, knots.
    pub speed_knots: Option<f32>,
    /// Course over ground at the last position, degrees.
    pub course_deg: Option<f32>,
    /// Latest true heading reported, degrees.
    pub heading_deg: Option<u16>,
    /// Latest AIS ship type code (ITU-R M.1371, e.g. 80–89 tanker).
    pub shiptype: Option<u8>,
    /// Country of the MMSI's MID, from the MID table (when one is loaded).
    pub flag_country: Option<String>,
}

impl Tracker {
    /// A tracker with these thresholds and optional geography, ports and MID table.
    pub fn new(config: Config) -> Tracker {
        Tracker {
            config,
            zones: None,
            ports: None,
            mids: None,
            screener: None,
            vessels: VesselTable::default(),
            grid: HashMap::default(),
            pairs: HashMap::default(),
            coverage: HashMap::default(),
            imo_claims: HashMap::default(),
            scratch_zones: Vec::new(),
            now_ms: i64::MIN,
            last_sweep_ms: i64::MIN,
            stats: TrackStats::default(),
        }
    }

    /// Zones for entry/exit events and distance from shore.
    pub fn with_zones(mut self, zones: Arc<ZoneIndex>) -> Self {
        self.zones = Some(zones);
        self
    }

    /// Ports for port calls and as anchorages.
    pub fn with_ports(mut self, ports: Arc<PortIndex>) -> Self {
        self.ports = Some(ports);
        self
    }

    /// MID table for MMSI checks (unallocated MIDs).
    pub fn with_mids(mut self, mids: Arc<MidTable>) -> Self {
        self.mids = Some(mids);
        self
    }

    /// Sanctions screener for `sanctioned-vessel` events.
    pub fn with_screener(mut self, screener: Box<dyn VesselScreener + Send + Sync>) -> Self {
        self.screener = Some(screener);
        self
    }

    /// Counts so far.
    pub fn stats(&self) -> &TrackStats {
        &self.stats
    }

    /// Number of vessels held.
    pub fn vessel_count(&self) -> usize {
        self.vessels.len()
    }

    /// Per-vessel summary, sorted by MMSI.
    pub fn summaries(&self) -> Vec<VesselSummary> {
        let mut out: Vec<VesselSummary> = self
            .vessels
            .iter()
            .filter_map(|(&mmsi, v)| {
                let latest = v.segments.iter().max_by_key(|s| s.last.time_unix_ms)?;
                Some(VesselSummary {
                    mmsi,
                    segments: v.segments.len(),
                    positions: v.segments.iter().map(|s| s.n_fixes).sum(),
                    shipname: v.identity.shipname.clone(),
                    imo: v.identity.imo,
                    callsign: v.identity.callsign.clone(),
                    last_seen_unix_ms: latest.last.time_unix_ms,
                    lat: latest.last.lat,
                    lon: latest.last.lon,
                    speed_knots: latest.last.speed_knots,
                    course_deg: latest.last.course_deg,
                    heading_deg: v.heading_deg,
                    shiptype: v.identity.shiptype,
                    flag_country: self.flag_country(mmsi),
                })
            })
            .collect();
        out.sort_by_key(|s| s.mmsi);
        out
    }

    /// The recent fixes of `mmsi`'s latest segment (the ship last heard on
    /// it), oldest first: at most [`RECENT_FIXES`], the ring the detectors
    /// keep as evidence. Empty for an MMSI not held or never positioned.
    pub fn trail(&self, mmsi: u32) -> Vec<Fix> {
        let Some(latest) = self
            .vessels
            .get(&mmsi)
            .and_then(|v| v.segments.iter().max_by_key(|s| s.last.time_unix_ms))
        else {
            return Vec::new();
        };
        let n_held = latest.n_fixes.min(RECENT_FIXES as u64) as usize;
        let next = (latest.n_fixes % RECENT_FIXES as u64) as usize;
        // The ring's slot `next` holds the oldest fix once it is full.
        let start = if n_held == RECENT_FIXES { next } else { 0 };
        let trail: Vec<Fix> = (0..n_held)
            .map(|i| latest.recent[(start + i) % RECENT_FIXES])
            .collect();
        debug_assert!(trail.len() <= RECENT_FIXES);
        debug_assert!(trail.last().is_none_or(|fix| *fix == latest.last));
        trail
    }

    fn flag_country(&self, mmsi: u32) -> Option<String> {
        let (_, mid) = mmsi_kind(mmsi);
        Some(self.mids.as_ref()?.country(mid?)?.to_string())
    }

    fn emit(&mut self, events: &mut Vec<Event>, event: Event) {
        if !self.config.detectors.raises(&event.detail) {
            return;
        }
        self.stats.events += 1;
        events.push(event);
    }

    /// One position report at `time_unix_ms`.
    pub fn position(
        &mut self,
        mmsi: u32,
        pos: &Position,
        time_unix_ms: i64,
        line: u64,
        events: &mut Vec<Event>,
    ) -> Result<(), TrackError> {
        let Some((lat, lon)) = pos.lat_lon() else {
            self.stats.positions_skipped += 1;
            return Ok(());
        };
        self.stats.positions += 1;
        self.now_ms = self.now_ms.max(time_unix_ms);
        let fix = Fix {
            mmsi,
            time_unix_ms,
            lat,
            lon,
            speed_knots: pos.speed_knots,
            course_deg: pos.course_deg,
            line,
        };
        let vidx = match self.vessels.slot(mmsi) {
            Some(vidx) => vidx,
            None => {
                self.make_room()?;
                self.vessels.insert(mmsi, Vessel::new(time_unix_ms))
            }
        };
        if self.vessels[vidx].segments.is_empty() {
            self.check_mmsi(mmsi, &fix, events);
        }
        let covered = self.coverage_seen(vidx, fix);
        let seg_idx = self.assign_segment(vidx, fix, events);
        self.detect_gap(vidx, seg_idx, fix, covered, events);
        let vessel = &mut self.vessels[vidx];
        vessel.last_seen_ms = vessel.last_seen_ms.max(time_unix_ms);
        if pos.heading_deg.is_some() {
            vessel.heading_deg = pos.heading_deg;
        }
        vessel.segments[seg_idx].push(fix);
        let segment_id = vessel.segments[seg_idx].id;
        self.detect_loitering(vidx, seg_idx, fix, events);
        self.detect_port_call(vidx, seg_idx, fix, events);
        self.detect_zones(vidx, seg_idx, fix, events);
        if self.config.detectors != Detectors::PerVessel {
            self.watch_encounters(vidx, segment_id, seg_idx, fix);
        }
        if self.now_ms.saturating_sub(self.last_sweep_ms) > PAIR_SWEEP_INTERVAL_MS {
            self.last_sweep_ms = self.now_ms;
            self.close_pairs(false, events);
        }
        Ok(())
    }

    /// Evicts vessels silent for longer than twice the gap threshold when
    /// full; errors when none is that stale.
    fn make_room(&mut self) -> Result<(), TrackError> {
        if self.vessels.len() < self.config.vessels_max {
            return Ok(());
        }
        let stale_before =
            self.now_ms - (STALE_GAP_FACTOR * self.config.gap_hours_min * HOUR_MS) as i64;
        let stale: Vec<u32> = self
            .vessels
            .iter()
            .filter(|(_, v)| v.last_seen_ms < stale_before)
            .map(|(&m, _)| m)
            .take(EVICTION_BATCH_MAX)
            .collect();
        if stale.is_empty() {
            return Err(TrackError::VesselsMax(self.config.vessels_max));
        }
        for mmsi in stale {
            if let Some(v) = self.vessels.remove(&mmsi) {
                for s in &v.segments {
                    if let Some(cell) = self.grid.get_mut(&s.cell) {
                        cell.retain(|&(m, _)| m != mmsi);
                    }
                }
                self.stats.vessels_evicted += 1;
            }
        }
        Ok(())
    }

    /// Closes everything still open at the end of the input: encounters,
    /// loitering, port stays, and ongoing gaps (vessels silent for at least
    /// the gap threshold before the latest time seen).
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        self.close_pairs(true, events);
        let mut open: Vec<OpenSegment> = Vec::new();
        for (&mmsi, v) in self.vessels.iter_mut() {
            for s in v.segments.iter_mut() {
                open.push((mmsi, s.id, s.loiter.take(), s.port.take(), s.last));
            }
        }
        open.sort_by_key(|o| (o.0, o.1));
        for (mmsi, seg, loiter, port, last) in open {
            if let Some(l) = loiter {
                self.close_loiter(mmsi, seg, l, events);
            }
            if let Some(p) = port {
                self.close_port_stay(mmsi, seg, p, events);
            }
            self.close_ongoing_gap(mmsi, seg, last, events);
        }
    }
}

/// What `finish` closes per segment: MMSI, segment id, open stays, last fix.
type OpenSegment = (u32, u32, Option<Loiter>, Option<PortStay>, Fix);
