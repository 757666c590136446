//! Vessel tracks and maritime events: per-MMSI state with segmentation
//! (several ships on one MMSI), and detectors for gaps ("going dark"),
//! encounters (possible ship-to-ship transfers), loitering, identity
//! anomalies, zone entry/exit with hysteresis, port calls, and sanctioned
//! vessels. Pure: positions and static data in, [`Event`]s out.
//!
//! Memory is bounded: at most [`Config::vessels_max`] vessels, at most
//! [`SEGMENTS_PER_VESSEL_MAX`] segments each, a fixed ring of recent fixes per
//! segment, and bounded maps for pairs, coverage and IMO claims.

use crate::identity::{imo_is_valid, mmsi_kind, MidTable, MmsiKind, MID_DPRK};
use crate::message::{Position, StaticData};
use crate::ports::PortIndex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Multiply-rotate hasher (the FxHash scheme) for the per-position maps:
/// their keys are small integers, SipHash cost a third of the pipeline's time
/// on them, and every map is bounded, so collision floods cost time, not memory.
#[derive(Default, Clone, Copy)]
struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_i32(&mut self, v: i32) {
        self.write_u64(u64::from(v as u32));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<IntHasher>>;
use trilat_geo::{LatLon, ZoneId, ZoneIndex, ZoneKind};

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
const KNOT_MS: f64 = 1852.0 / 3600.0;
const HOUR_MS: f64 = 3_600_000.0;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gap_hours_min: 12.0,
            gap_shore_distance_m_min: 50.0 * 1852.0,
            encounter_distance_m_max: 500.0,
            encounter_hours_min: 2.0,
            encounter_speed_knots_max: 2.0,
            encounter_anchorage_distance_m_min: 10_000.0,
            encounter_break_minutes_max: 30.0,
            loitering_speed_knots_max: 2.0,
            loitering_hours_min: 4.0,
            loitering_shore_distance_m_min: 20.0 * 1852.0,
            jump_speed_knots_max: 25.0,
            zone_hysteresis_fixes: 2,
            port_radius_m: 5_000.0,
            port_call_hours_min: 2.0,
            vessels_max: 500_000,
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
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
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

/// Which identity rule a vessel broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    /// MMSI not in ship-station format (ITU-R M.585) or with an unallocated MID.
    InvalidMmsi,
    /// MMSI with DPRK's MID 445.
    DprkMid,
    /// The vessel name changed.
    NameChange,
    /// The IMO number changed.
    ImoChange,
    /// The call sign changed.
    CallsignChange,
    /// The IMO number fails its check digit.
    InvalidImo,
    /// One IMO number claimed by two MMSIs.
    ImoSharedByMmsis,
    /// A position no ship could reach from the last ones (new segment).
    ImpossibleJump,
}

/// Zone facts carried by zone events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneRef {
    /// Zone id (e.g. `JPN-eez`).
    pub id: String,
    /// Zone name.
    pub name: String,
    /// Zone kind.
    pub kind: ZoneKind,
    /// Owner (ISO-3), empty for user areas.
    pub owner: String,
    /// Sovereignty or boundary disputed.
    pub disputed: bool,
    /// Computed or simplified, not an official boundary.
    pub approximate: bool,
}

/// What a sanctions screener found about a vessel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SanctionedVesselEvidence {
    /// The list entry matched (e.g. `OFAC SDN 12345`, `UN KPe.123`).
    pub list_entry: String,
    /// The listed vessel's name.
    pub listed_name: String,
    /// The listed IMO number, when the list gives one.
    pub listed_imo: Option<u32>,
    /// How the match was made (`imo`, `name`, `callsign` …).
    pub matched_on: String,
    /// Match score in 0..=1.
    pub score: f64,
}

/// Screens vessels' static data against sanctions lists. The sanctions
/// engine implements it; the node plugs it in.
pub trait VesselScreener {
    /// Returns evidence when the identity matches a listed vessel.
    fn screen_vessel(
        &self,
        imo: Option<u32>,
        name: &str,
        callsign: Option<&str>,
        flag_mid: Option<u16>,
    ) -> Option<SanctionedVesselEvidence>;
}

/// What happened, with its own facts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum EventDetail {
    /// No transmission for at least the gap threshold ("going dark").
    Gap {
        /// Gap length.
        hours: f64,
        /// Distance between the last fix before and the first after.
        distance_m: f64,
        /// Distance from shore at each end, when geography is loaded.
        shore_distance_m_start: Option<f64>,
        /// See `shore_distance_m_start`.
        shore_distance_m_end: Option<f64>,
        /// Other vessels heard near the gap's start during the gap.
        covered: bool,
        /// Still dark at the end of the input.
        ongoing: bool,
    },
    /// Two vessels close, slow and far from port for a long time.
    Encounter {
        /// The other vessel.
        other_mmsi: u32,
        /// Duration.
        hours: f64,
        /// Median speed of both during the encounter.
        median_speed_knots: f64,
        /// Closest approach.
        distance_m_min: f64,
        /// Distance to the nearest known port or anchorage, when within 50 km.
        anchorage_distance_m: Option<f64>,
    },
    /// Slow for a long time far from shore.
    Loitering {
        /// Duration.
        hours: f64,
        /// Mean speed.
        mean_speed_knots: f64,
    },
    /// An identity rule broken.
    IdentityAnomaly {
        /// Which rule.
        anomaly: AnomalyKind,
        /// Human-readable facts (old → new values, MID, implied speed …).
        text: String,
    },
    /// Entered a zone.
    ZoneEntry {
        /// The zone.
        zone: ZoneRef,
    },
    /// Left a zone.
    ZoneExit {
        /// The zone.
        zone: ZoneRef,
    },
    /// Stayed at a port.
    PortCall {
        /// Port name.
        port: String,
        /// World Port Index number.
        wpi: u32,
        /// Country.
        country: String,
        /// Duration.
        hours: f64,
    },
    /// Static data matched a sanctions list.
    SanctionedVessel {
        /// What the screener found.
        evidence: SanctionedVesselEvidence,
    },
}

/// One maritime event with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The vessel.
    pub mmsi: u32,
    /// Track segment of that MMSI (0 for the first ship seen on it).
    pub segment: u32,
    /// Start, ms since the Unix epoch.
    pub start_unix_ms: i64,
    /// End (= start for instantaneous events).
    pub end_unix_ms: i64,
    /// Where (representative position).
    pub lat: f64,
    /// See `lat`.
    pub lon: f64,
    /// What happened.
    #[serde(flatten)]
    pub detail: EventDetail,
    /// The positions behind it.
    pub evidence: Vec<Fix>,
}

impl Event {
    /// Short name of the event type (`gap`, `encounter` …).
    pub fn name(&self) -> &'static str {
        match self.detail {
            EventDetail::Gap { .. } => "gap",
            EventDetail::Encounter { .. } => "encounter",
            EventDetail::Loitering { .. } => "loitering",
            EventDetail::IdentityAnomaly { .. } => "identity-anomaly",
            EventDetail::ZoneEntry { .. } => "zone-entry",
            EventDetail::ZoneExit { .. } => "zone-exit",
            EventDetail::PortCall { .. } => "port-call",
            EventDetail::SanctionedVessel { .. } => "sanctioned-vessel",
        }
    }
}

/// Analysis limits hit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackError {
    /// More live vessels than [`Config::vessels_max`], none stale to evict.
    #[error("more than {0} vessels tracked and none stale")]
    VesselsMax(usize),
}

/// Great-circle distance in metres (haversine, mean Earth radius): fast
/// enough for every position; accuracy (≈0.3 %) is ample for 500 m / 25 kn
/// thresholds.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().min(1.0).asin()
}

#[derive(Clone, Debug)]
struct Loiter {
    start: Fix,
    last: Fix,
    speed_sum: f64,
    n: u32,
}

#[derive(Clone, Debug)]
struct PortStay {
    port_idx: usize,
    arrived: Fix,
    last_in: Fix,
}

#[derive(Clone, Debug)]
struct Segment {
    id: u32,
    last: Fix,
    recent: [Fix; RECENT_FIXES],
    n_fixes: u64,
    loiter: Option<Loiter>,
    port: Option<PortStay>,
    zones_inside: Vec<ZoneId>,
    zone_streaks: Vec<(ZoneId, u8)>,
    zone_checked_at: Option<(f64, f64)>,
    cell: (i32, i32),
}

impl Segment {
    fn new(id: u32, fix: Fix) -> Segment {
        Segment {
            id,
            last: fix,
            recent: [fix; RECENT_FIXES],
            n_fixes: 0,
            loiter: None,
            port: None,
            zones_inside: Vec::new(),
            zone_streaks: Vec::new(),
            zone_checked_at: None,
            cell: encounter_cell(fix.lat, fix.lon),
        }
    }

    fn push(&mut self, fix: Fix) {
        self.recent[(self.n_fixes % RECENT_FIXES as u64) as usize] = fix;
        self.n_fixes += 1;
        self.last = fix;
    }
}

#[derive(Clone, Debug, Default)]
struct Identity {
    imo: Option<u32>,
    shiptype: Option<u8>,
    shipname: Option<String>,
    callsign: Option<String>,
    screened: Option<(Option<u32>, String, Option<String>)>,
}

#[derive(Clone, Debug)]
struct Vessel {
    segments: Vec<Segment>,
    next_segment: u32,
    identity: Identity,
    last_seen_ms: i64,
    /// True heading of the latest position that carried one.
    heading_deg: Option<u16>,
}

/// The tracked vessels: a dense table plus an MMSI index, so a position
/// hashes its MMSI once and every detector reaches the vessel by slot
/// (ten hash lookups a position cost a quarter of the tracker's time).
#[derive(Default)]
struct VesselTable {
    slots: Vec<Vessel>,
    mmsis: Vec<u32>,
    by_mmsi: HashMap<u32, usize>,
}

impl VesselTable {
    fn len(&self) -> usize {
        debug_assert_eq!(self.slots.len(), self.by_mmsi.len());
        self.slots.len()
    }

    fn slot(&self, mmsi: u32) -> Option<usize> {
        self.by_mmsi.get(&mmsi).copied()
    }

    fn get(&self, mmsi: &u32) -> Option<&Vessel> {
        self.slot(*mmsi).map(|i| &self.slots[i])
    }

    fn get_mut(&mut self, mmsi: &u32) -> Option<&mut Vessel> {
        self.slot(*mmsi).map(|i| &mut self.slots[i])
    }

    /// Adds a vessel not yet held; returns its slot.
    fn insert(&mut self, mmsi: u32, vessel: Vessel) -> usize {
        assert!(
            !self.by_mmsi.contains_key(&mmsi),
            "MMSI {mmsi} already held"
        );
        self.slots.push(vessel);
        self.mmsis.push(mmsi);
        self.by_mmsi.insert(mmsi, self.slots.len() - 1);
        self.slots.len() - 1
    }

    /// Removes a vessel; the last slot moves into its place.
    fn remove(&mut self, mmsi: &u32) -> Option<Vessel> {
        let idx = self.by_mmsi.remove(mmsi)?;
        let vessel = self.slots.swap_remove(idx);
        self.mmsis.swap_remove(idx);
        if let Some(&moved) = self.mmsis.get(idx) {
            self.by_mmsi.insert(moved, idx);
        }
        Some(vessel)
    }

    fn iter(&self) -> impl Iterator<Item = (&u32, &Vessel)> {
        self.mmsis.iter().zip(self.slots.iter())
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = (&u32, &mut Vessel)> {
        self.mmsis.iter().zip(self.slots.iter_mut())
    }
}

impl std::ops::Index<usize> for VesselTable {
    type Output = Vessel;
    fn index(&self, idx: usize) -> &Vessel {
        &self.slots[idx]
    }
}

impl std::ops::IndexMut<usize> for VesselTable {
    fn index_mut(&mut self, idx: usize) -> &mut Vessel {
        &mut self.slots[idx]
    }
}

#[derive(Clone, Debug)]
struct Pair {
    segments: (u32, u32),
    first: (Fix, Fix),
    last: (Fix, Fix),
    speeds: Vec<f32>,
    distance_m_min: f64,
}

/// Encounter grid cell: about 1.1 km of latitude.
fn encounter_cell(lat: f64, lon: f64) -> (i32, i32) {
    (floor_i32(lat * 100.0), floor_i32(lon * 100.0))
}

fn coverage_cell(lat: f64, lon: f64) -> (i32, i32) {
    (floor_i32(lat * 2.0), floor_i32(lon * 2.0))
}

/// `v.floor() as i32` without the libm call: the baseline x86-64 target has
/// no rounding instruction, and `floor` cost 8% of the tracker's time (two
/// cells a position). Same result for every finite `v` in `i32` range and
/// for NaN (0); cell coordinates are at most ±18,000.
fn floor_i32(v: f64) -> i32 {
    let t = v as i32;
    if f64::from(t) > v {
        t - 1
    } else {
        t
    }
}

/// An upper bound of [`haversine_m`] without trigonometry: the path along
/// the meridian, then along a parallel, is no shorter than the great circle,
/// and a parallel is no longer than the equator. When the bound is within a
/// threshold, the distance is too.
fn distance_m_bound(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let dlon = (lon2 - lon1).abs();
    let dlon = if dlon > 180.0 { 360.0 - dlon } else { dlon };
    // Mean Earth radius as in `haversine_m`, plus a margin for rounding.
    (lat2 - lat1).abs().to_radians() * 6_371_009.0 + dlon.to_radians() * 6_371_009.0
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
    coverage: HashMap<(i32, i32), [(u32, i64); 4]>,
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
                self.vessels.insert(
                    mmsi,
                    Vessel {
                        segments: Vec::new(),
                        next_segment: 0,
                        identity: Identity::default(),
                        last_seen_ms: time_unix_ms,
                        heading_deg: None,
                    },
                )
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
        self.watch_encounters(vidx, segment_id, seg_idx, fix);
        if self.now_ms.saturating_sub(self.last_sweep_ms) > 10 * 60_000 {
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
        let stale_before = self.now_ms - (2.0 * self.config.gap_hours_min * HOUR_MS) as i64;
        let stale: Vec<u32> = self
            .vessels
            .iter()
            .filter(|(_, v)| v.last_seen_ms < stale_before)
            .map(|(&m, _)| m)
            .take(1024)
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

    fn check_mmsi(&mut self, mmsi: u32, fix: &Fix, events: &mut Vec<Event>) {
        let (kind, mid) = mmsi_kind(mmsi);
        let unallocated = match (&self.mids, mid) {
            (Some(t), Some(m)) if !t.is_empty() => t.country(m).is_none(),
            _ => false,
        };
        if kind != MmsiKind::Ship || unallocated {
            let text = format!(
                "MMSI {mmsi:09}: {kind:?} format{}",
                if unallocated {
                    ", MID not allocated"
                } else {
                    ""
                }
            );
            let e = instant(
                *fix,
                0,
                EventDetail::IdentityAnomaly {
                    anomaly: AnomalyKind::InvalidMmsi,
                    text,
                },
            );
            self.emit(events, e);
        }
        if kind == MmsiKind::Ship && mid == Some(MID_DPRK) {
            let text =
                format!("MMSI {mmsi:09} carries MID 445 (Democratic People's Republic of Korea)");
            let e = instant(
                *fix,
                0,
                EventDetail::IdentityAnomaly {
                    anomaly: AnomalyKind::DprkMid,
                    text,
                },
            );
            self.emit(events, e);
        }
    }

    /// Records the reception in its coverage cell; returns whether another
    /// vessel was heard in this cell since this vessel's last fix (so a gap
    /// ending here happened where reception worked).
    fn coverage_seen(&mut self, vidx: usize, fix: Fix) -> bool {
        let cell = coverage_cell(fix.lat, fix.lon);
        let since = self.vessels[vidx]
            .segments
            .iter()
            .map(|s| s.last)
            .max_by_key(|f| f.time_unix_ms)
            .map(|f| (f.time_unix_ms, coverage_cell(f.lat, f.lon)));
        let heard_in = |slots: &[(u32, i64); 4], after: i64| {
            slots
                .iter()
                .any(|&(m, t)| m != fix.mmsi && m != 0 && t > after)
        };
        // The start cell is usually this cell: look it up once, and judge
        // this cell's slots before recording this fix in them.
        let covered_start = match since {
            Some((after, start_cell)) if start_cell != cell => self
                .coverage
                .get(&start_cell)
                .is_some_and(|s| heard_in(s, after)),
            _ => false,
        };
        let slots = if self.coverage.len() < COVERAGE_CELLS_MAX {
            Some(self.coverage.entry(cell).or_insert([(0, i64::MIN); 4]))
        } else {
            self.coverage.get_mut(&cell)
        };
        let Some(slots) = slots else {
            return covered_start;
        };
        let covered_here = since.is_some_and(|(after, _)| heard_in(slots, after));
        // Keep the latest fix of up to four distinct vessels.
        if let Some(slot) = slots.iter_mut().find(|(m, _)| *m == fix.mmsi) {
            slot.1 = slot.1.max(fix.time_unix_ms);
        } else if let Some(oldest) = slots.iter_mut().min_by_key(|(_, t)| *t) {
            *oldest = (fix.mmsi, fix.time_unix_ms);
        }
        covered_start || covered_here
    }

    /// The segment this fix belongs to: the most recent one it is reachable
    /// from at `jump_speed_knots_max`; else a new segment and an
    /// impossible-jump anomaly.
    fn assign_segment(&mut self, vidx: usize, fix: Fix, events: &mut Vec<Event>) -> usize {
        let mmsi = fix.mmsi;
        let speed_max_ms = self.config.jump_speed_knots_max * KNOT_MS;
        let vessel = &mut self.vessels[vidx];
        let mut best: Option<(usize, i64)> = None;
        for (i, s) in vessel.segments.iter().enumerate() {
            if best.is_some_and(|(_, t)| s.last.time_unix_ms <= t) {
                continue;
            }
            let dt_s = ((fix.time_unix_ms - s.last.time_unix_ms).abs() as f64) / 1000.0;
            // A 2 km allowance absorbs position noise and time-stamp jitter.
            let reach_m = speed_max_ms * dt_s + 2_000.0;
            // The trigonometry-free bound settles almost every fix.
            let reachable = distance_m_bound(s.last.lat, s.last.lon, fix.lat, fix.lon) <= reach_m
                || haversine_m(s.last.lat, s.last.lon, fix.lat, fix.lon) <= reach_m;
            if reachable {
                best = Some((i, s.last.time_unix_ms));
            }
        }
        if let Some((i, _)) = best {
            return i;
        }
        let previous = vessel
            .segments
            .iter()
            .map(|s| s.last)
            .max_by_key(|f| f.time_unix_ms);
        if vessel.segments.len() >= SEGMENTS_PER_VESSEL_MAX {
            let oldest = vessel
                .segments
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.last.time_unix_ms)
                .map_or(0, |(i, _)| i);
            let removed = vessel.segments.swap_remove(oldest);
            if let Some(cell) = self.grid.get_mut(&removed.cell) {
                cell.retain(|&k| k != (mmsi, removed.id));
            }
        }
        let id = vessel.next_segment;
        vessel.next_segment += 1;
        vessel.segments.push(Segment::new(id, fix));
        let idx = vessel.segments.len() - 1;
        if let Some(prev) = previous {
            let d = haversine_m(prev.lat, prev.lon, fix.lat, fix.lon);
            let hours =
                ((fix.time_unix_ms - prev.time_unix_ms).abs() as f64 / HOUR_MS).max(1.0 / 3600.0);
            let text = format!(
                "{:.1} km in {:.2} h = {:.0} knots implied; new segment {id}",
                d / 1000.0,
                hours,
                d / 1852.0 / hours
            );
            let mut e = instant(
                fix,
                id,
                EventDetail::IdentityAnomaly {
                    anomaly: AnomalyKind::ImpossibleJump,
                    text,
                },
            );
            e.evidence = vec![prev, fix];
            self.emit(events, e);
        }
        idx
    }

    fn shore_distance_m(&self, lat: f64, lon: f64) -> Option<f64> {
        self.zones
            .as_ref()?
            .distance_to_coast_m(LatLon { lat, lon })
    }

    fn detect_gap(
        &mut self,
        vidx: usize,
        seg_idx: usize,
        fix: Fix,
        covered: bool,
        events: &mut Vec<Event>,
    ) {
        let mmsi = fix.mmsi;
        let seg = &self.vessels[vidx].segments[seg_idx];
        if seg.n_fixes == 0 {
            return;
        }
        let last = seg.last;
        let hours = (fix.time_unix_ms - last.time_unix_ms) as f64 / HOUR_MS;
        if hours < self.config.gap_hours_min {
            return;
        }
        let start_shore = self.shore_distance_m(last.lat, last.lon);
        let end_shore = self.shore_distance_m(fix.lat, fix.lon);
        let far = |d: Option<f64>| d.is_none_or(|d| d >= self.config.gap_shore_distance_m_min);
        if !(far(start_shore) && far(end_shore) && covered) {
            return;
        }
        let detail = EventDetail::Gap {
            hours,
            distance_m: haversine_m(last.lat, last.lon, fix.lat, fix.lon),
            shore_distance_m_start: start_shore,
            shore_distance_m_end: end_shore,
            covered,
            ongoing: false,
        };
        let e = Event {
            mmsi,
            segment: seg.id,
            start_unix_ms: last.time_unix_ms,
            end_unix_ms: fix.time_unix_ms,
            lat: last.lat,
            lon: last.lon,
            detail,
            evidence: vec![last, fix],
        };
        self.emit(events, e);
    }

    fn detect_loitering(&mut self, vidx: usize, seg_idx: usize, fix: Fix, events: &mut Vec<Event>) {
        let mmsi = fix.mmsi;
        let Some(speed) = fix.speed_knots else { return };
        let slow = f64::from(speed) < self.config.loitering_speed_knots_max;
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        let seg_id = seg.id;
        if slow {
            let l = seg.loiter.get_or_insert(Loiter {
                start: fix,
                last: fix,
                speed_sum: 0.0,
                n: 0,
            });
            l.last = fix;
            l.speed_sum += f64::from(speed);
            l.n += 1;
            return;
        }
        if let Some(l) = seg.loiter.take() {
            self.close_loiter(mmsi, seg_id, l, events);
        }
    }

    fn close_loiter(&mut self, mmsi: u32, segment: u32, l: Loiter, events: &mut Vec<Event>) {
        let hours = (l.last.time_unix_ms - l.start.time_unix_ms) as f64 / HOUR_MS;
        if hours < self.config.loitering_hours_min {
            return;
        }
        let far = self
            .shore_distance_m(l.start.lat, l.start.lon)
            .is_none_or(|d| d >= self.config.loitering_shore_distance_m_min);
        let at_port = self
            .near_port_m(l.start.lat, l.start.lon)
            .is_some_and(|d| d < self.config.encounter_anchorage_distance_m_min);
        if !far || at_port {
            return;
        }
        let detail = EventDetail::Loitering {
            hours,
            mean_speed_knots: l.speed_sum / f64::from(l.n.max(1)),
        };
        let e = Event {
            mmsi,
            segment,
            start_unix_ms: l.start.time_unix_ms,
            end_unix_ms: l.last.time_unix_ms,
            lat: l.start.lat,
            lon: l.start.lon,
            detail,
            evidence: vec![l.start, l.last],
        };
        self.emit(events, e);
    }

    fn near_port_m(&self, lat: f64, lon: f64) -> Option<f64> {
        self.ports
            .as_ref()?
            .nearest_within(lat, lon, 50_000.0)
            .map(|(_, d)| d)
    }

    fn detect_port_call(&mut self, vidx: usize, seg_idx: usize, fix: Fix, events: &mut Vec<Event>) {
        let mmsi = fix.mmsi;
        let Some(ports) = self.ports.clone() else {
            return;
        };
        let seg = &self.vessels[vidx].segments[seg_idx];
        // Only slow vessels or ones already in port need the lookup.
        if seg.port.is_none() && fix.speed_knots.is_some_and(|s| s > 3.0) {
            return;
        }
        let near = ports
            .nearest_within(fix.lat, fix.lon, self.config.port_radius_m)
            .map(|(p, _)| {
                (
                    ports
                        .ports()
                        .iter()
                        .position(|q| std::ptr::eq(q, p))
                        .unwrap_or(0),
                    p,
                )
            });
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        let seg_id = seg.id;
        match (&mut seg.port, near) {
            (Some(stay), Some((idx, _))) if stay.port_idx == idx => stay.last_in = fix,
            (stay @ None, Some((idx, _))) => {
                *stay = Some(PortStay {
                    port_idx: idx,
                    arrived: fix,
                    last_in: fix,
                })
            }
            (stay, _) => {
                if let Some(s) = stay.take() {
                    self.close_port_stay(mmsi, seg_id, s, events);
                }
                if let Some((idx, _)) = near {
                    let seg = &mut self.vessels[vidx].segments[seg_idx];
                    seg.port = Some(PortStay {
                        port_idx: idx,
                        arrived: fix,
                        last_in: fix,
                    });
                }
            }
        }
    }

    fn close_port_stay(&mut self, mmsi: u32, segment: u32, s: PortStay, events: &mut Vec<Event>) {
        let hours = (s.last_in.time_unix_ms - s.arrived.time_unix_ms) as f64 / HOUR_MS;
        let Some(ports) = &self.ports else { return };
        if hours < self.config.port_call_hours_min {
            return;
        }
        let port = &ports.ports()[s.port_idx];
        let detail = EventDetail::PortCall {
            port: port.name.clone(),
            wpi: port.wpi,
            country: port.country.clone(),
            hours,
        };
        let e = Event {
            mmsi,
            segment,
            start_unix_ms: s.arrived.time_unix_ms,
            end_unix_ms: s.last_in.time_unix_ms,
            lat: port.lat,
            lon: port.lon,
            detail,
            evidence: vec![s.arrived, s.last_in],
        };
        self.emit(events, e);
    }

    fn detect_zones(&mut self, vidx: usize, seg_idx: usize, fix: Fix, events: &mut Vec<Event>) {
        let Some(zones) = self.zones.clone() else {
            return;
        };
        let hysteresis = self.config.zone_hysteresis_fixes.max(1);
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        // Re-check only after moving about 500 m: zones are kilometres wide.
        if let Some((la, lo)) = seg.zone_checked_at {
            if (la - fix.lat).abs() < 0.005 && (lo - fix.lon).abs() < 0.005 {
                return;
            }
        }
        seg.zone_checked_at = Some((fix.lat, fix.lon));
        let mut here = std::mem::take(&mut self.scratch_zones);
        here.clear();
        zones.zones_containing(
            LatLon {
                lat: fix.lat,
                lon: fix.lon,
            },
            &mut here,
        );
        here.retain(|&id| zones.zone(id).kind != ZoneKind::Land);
        here.truncate(ZONES_INSIDE_MAX);
        // Usually nothing changed: skip the bookkeeping and its allocations.
        if here.iter().all(|id| seg.zones_inside.contains(id))
            && seg.zones_inside.iter().all(|id| here.contains(id))
        {
            seg.zone_streaks.clear();
            self.scratch_zones = here;
            return;
        }
        let seg_id = seg.id;
        let mut changes: Vec<(ZoneId, bool)> = Vec::new();
        // A zone whose membership differs from the confirmed state gains a
        // streak; a zone that agrees loses it.
        let disagreeing: Vec<ZoneId> = here
            .iter()
            .filter(|id| !seg.zones_inside.contains(id))
            .chain(seg.zones_inside.iter().filter(|id| !here.contains(id)))
            .copied()
            .collect();
        seg.zone_streaks.retain(|(id, _)| disagreeing.contains(id));
        for id in disagreeing {
            let streak = match seg.zone_streaks.iter_mut().find(|(z, _)| *z == id) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seg.zone_streaks.push((id, 1));
                    1
                }
            };
            if streak >= hysteresis {
                seg.zone_streaks.retain(|(z, _)| *z != id);
                let entering = here.contains(&id);
                if entering {
                    if seg.zones_inside.len() < ZONES_INSIDE_MAX {
                        seg.zones_inside.push(id);
                    }
                } else {
                    seg.zones_inside.retain(|z| *z != id);
                }
                changes.push((id, entering));
            }
        }
        let evidence: Vec<Fix> = recent_fixes(seg, hysteresis as usize);
        self.scratch_zones = here;
        for (id, entering) in changes {
            let z = zones.zone(id);
            let zone = ZoneRef {
                id: z.id.clone(),
                name: z.name.clone(),
                kind: z.kind,
                owner: z.owner.clone(),
                disputed: z.disputed,
                approximate: z.approximate,
            };
            let detail = if entering {
                EventDetail::ZoneEntry { zone }
            } else {
                EventDetail::ZoneExit { zone }
            };
            let mut e = instant(fix, seg_id, detail);
            e.evidence = evidence.clone();
            self.emit(events, e);
        }
    }

    fn watch_encounters(&mut self, vidx: usize, segment_id: u32, seg_idx: usize, fix: Fix) {
        let mmsi = fix.mmsi;
        let cell = encounter_cell(fix.lat, fix.lon);
        let key = (mmsi, segment_id);
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        let old_cell = seg.cell;
        seg.cell = cell;
        if old_cell != cell || seg.n_fixes == 1 {
            if let Some(v) = self.grid.get_mut(&old_cell) {
                v.retain(|&k| k != key);
                if v.is_empty() {
                    self.grid.remove(&old_cell);
                }
            }
            self.grid.entry(cell).or_default().push(key);
        }
        // Encounters need slow vessels: skip the neighbour search when fast.
        if fix
            .speed_knots
            .is_some_and(|s| f64::from(s) > 2.0 * self.config.encounter_speed_knots_max)
        {
            return;
        }
        for dy in -1..=1 {
            for dx in -1..=1 {
                let Some(keys) = self.grid.get(&(cell.0 + dy, cell.1 + dx)) else {
                    continue;
                };
                for &(other, other_seg) in keys {
                    if other == mmsi {
                        continue;
                    }
                    let Some(o) = self
                        .vessels
                        .get(&other)
                        .and_then(|v| v.segments.iter().find(|s| s.id == other_seg))
                    else {
                        continue;
                    };
                    let of = o.last;
                    if (of.time_unix_ms - fix.time_unix_ms).abs() > 10 * 60_000 {
                        continue;
                    }
                    let d = haversine_m(fix.lat, fix.lon, of.lat, of.lon);
                    if d > self.config.encounter_distance_m_max {
                        continue;
                    }
                    let (a, b, fa, fb, sa, sb) = if mmsi < other {
                        (mmsi, other, fix, of, segment_id, other_seg)
                    } else {
                        (other, mmsi, of, fix, other_seg, segment_id)
                    };
                    if !self.pairs.contains_key(&(a, b)) && self.pairs.len() >= PAIRS_MAX {
                        continue;
                    }
                    let pair = self.pairs.entry((a, b)).or_insert_with(|| Pair {
                        segments: (sa, sb),
                        first: (fa, fb),
                        last: (fa, fb),
                        speeds: Vec::new(),
                        distance_m_min: d,
                    });
                    pair.last = (fa, fb);
                    pair.distance_m_min = pair.distance_m_min.min(d);
                    for s in [fa.speed_knots, fb.speed_knots].into_iter().flatten() {
                        if pair.speeds.len() < PAIR_SPEEDS_MAX {
                            pair.speeds.push(s);
                        } else {
                            // Keep a spread of samples: overwrite round-robin.
                            let i = (pair.last.0.time_unix_ms / 1000) as usize % PAIR_SPEEDS_MAX;
                            pair.speeds[i] = s;
                        }
                    }
                }
            }
        }
    }

    /// Closes pairs apart for longer than the break allowance (or all, at
    /// the end), raising encounters that qualify.
    fn close_pairs(&mut self, all: bool, events: &mut Vec<Event>) {
        let break_ms = (self.config.encounter_break_minutes_max * 60_000.0) as i64;
        let now = self.now_ms;
        let closing: Vec<(u32, u32)> = self
            .pairs
            .iter()
            .filter(|(_, p)| {
                all || now - p.last.0.time_unix_ms.max(p.last.1.time_unix_ms) > break_ms
            })
            .map(|(&k, _)| k)
            .collect();
        for key in closing {
            let Some(mut pair) = self.pairs.remove(&key) else {
                continue;
            };
            let start = pair.first.0.time_unix_ms.min(pair.first.1.time_unix_ms);
            let end = pair.last.0.time_unix_ms.max(pair.last.1.time_unix_ms);
            let hours = (end - start) as f64 / HOUR_MS;
            if hours < self.config.encounter_hours_min || pair.speeds.is_empty() {
                continue;
            }
            pair.speeds.sort_by(f32::total_cmp);
            let median = f64::from(pair.speeds[pair.speeds.len() / 2]);
            if median >= self.config.encounter_speed_knots_max {
                continue;
            }
            let anchorage = self.near_port_m(pair.first.0.lat, pair.first.0.lon);
            if anchorage.is_some_and(|d| d < self.config.encounter_anchorage_distance_m_min) {
                continue;
            }
            let detail = EventDetail::Encounter {
                other_mmsi: key.1,
                hours,
                median_speed_knots: median,
                distance_m_min: pair.distance_m_min,
                anchorage_distance_m: anchorage,
            };
            let e = Event {
                mmsi: key.0,
                segment: pair.segments.0,
                start_unix_ms: start,
                end_unix_ms: end,
                lat: pair.first.0.lat,
                lon: pair.first.0.lon,
                detail,
                evidence: vec![pair.first.0, pair.first.1, pair.last.0, pair.last.1],
            };
            self.emit(events, e);
        }
    }

    /// Static and voyage data: identity changes, IMO checks, screening.
    pub fn static_data(
        &mut self,
        mmsi: u32,
        data: &StaticData,
        time_unix_ms: i64,
        line: u64,
        events: &mut Vec<Event>,
    ) {
        self.stats.statics += 1;
        let Some(vessel) = self.vessels.get_mut(&mmsi) else {
            // Identity before any position: remember it on a position-less vessel.
            if self.vessels.len() >= self.config.vessels_max {
                return;
            }
            self.vessels.insert(
                mmsi,
                Vessel {
                    segments: Vec::new(),
                    next_segment: 0,
                    identity: Identity::default(),
                    last_seen_ms: time_unix_ms,
                    heading_deg: None,
                },
            );
            return self.static_data(mmsi, data, time_unix_ms, line, events);
        };
        let at = vessel
            .segments
            .iter()
            .map(|s| s.last)
            .max_by_key(|f| f.time_unix_ms)
            .unwrap_or(Fix {
                mmsi,
                time_unix_ms,
                lat: f64::NAN,
                lon: f64::NAN,
                speed_knots: None,
                course_deg: None,
                line,
            });
        let at = Fix {
            time_unix_ms,
            line,
            ..at
        };
        let seg = vessel.segments.iter().map(|s| s.id).max().unwrap_or(0);
        let id = &mut vessel.identity;
        let mut found: Vec<(AnomalyKind, String)> = Vec::new();
        if let Some(imo) = data.imo {
            if id.imo.is_some_and(|old| old != imo) {
                found.push((
                    AnomalyKind::ImoChange,
                    format!("IMO {} → {imo}", id.imo.unwrap_or(0)),
                ));
            }
            if id.imo != Some(imo) && !imo_is_valid(imo) {
                found.push((
                    AnomalyKind::InvalidImo,
                    format!("IMO {imo} fails its check digit"),
                ));
            }
            id.imo = Some(imo);
        }
        if let Some(name) = data.shipname {
            let name = name.as_str().to_string();
            if id.shipname.as_ref().is_some_and(|old| *old != name) {
                found.push((
                    AnomalyKind::NameChange,
                    format!("name {:?} → {name:?}", id.shipname.as_deref().unwrap_or("")),
                ));
            }
            id.shipname = Some(name);
        }
        if let Some(cs) = data.callsign {
            let cs = cs.as_str().to_string();
            if id.callsign.as_ref().is_some_and(|old| *old != cs) {
                found.push((
                    AnomalyKind::CallsignChange,
                    format!(
                        "call sign {:?} → {cs:?}",
                        id.callsign.as_deref().unwrap_or("")
                    ),
                ));
            }
            id.callsign = Some(cs);
        }
        if data.shiptype.is_some() {
            id.shiptype = data.shiptype;
        }
        let identity = (
            id.imo,
            id.shipname.clone().unwrap_or_default(),
            id.callsign.clone(),
        );
        let rescreen = id.screened.as_ref() != Some(&identity);
        if rescreen {
            id.screened = Some(identity.clone());
        }
        if let Some(imo) = data.imo {
            if self.imo_claims.len() < self.config.vessels_max || self.imo_claims.contains_key(&imo)
            {
                let claimant = *self.imo_claims.entry(imo).or_insert(mmsi);
                if claimant != mmsi {
                    found.push((
                        AnomalyKind::ImoSharedByMmsis,
                        format!("IMO {imo} also claimed by MMSI {claimant:09}"),
                    ));
                    self.imo_claims.insert(imo, mmsi);
                }
            }
        }
        for (anomaly, text) in found {
            let e = instant(at, seg, EventDetail::IdentityAnomaly { anomaly, text });
            self.emit(events, e);
        }
        if rescreen {
            let hit = self.screener.as_ref().and_then(|s| {
                s.screen_vessel(
                    identity.0,
                    &identity.1,
                    identity.2.as_deref(),
                    mmsi_kind(mmsi).1,
                )
            });
            if let Some(evidence) = hit {
                let e = instant(at, seg, EventDetail::SanctionedVessel { evidence });
                self.emit(events, e);
            }
        }
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
            let hours = (self.now_ms - last.time_unix_ms) as f64 / HOUR_MS;
            let shore = self.shore_distance_m(last.lat, last.lon);
            if hours >= self.config.gap_hours_min
                && shore.is_none_or(|d| d >= self.config.gap_shore_distance_m_min)
            {
                let covered = self
                    .coverage
                    .get(&coverage_cell(last.lat, last.lon))
                    .is_some_and(|s| {
                        s.iter()
                            .any(|&(m, t)| m != mmsi && m != 0 && t > last.time_unix_ms)
                    });
                if covered {
                    let detail = EventDetail::Gap {
                        hours,
                        distance_m: 0.0,
                        shore_distance_m_start: shore,
                        shore_distance_m_end: None,
                        covered,
                        ongoing: true,
                    };
                    let e = Event {
                        mmsi,
                        segment: seg,
                        start_unix_ms: last.time_unix_ms,
                        end_unix_ms: self.now_ms,
                        lat: last.lat,
                        lon: last.lon,
                        detail,
                        evidence: vec![last],
                    };
                    self.emit(events, e);
                }
            }
        }
    }
}

/// What `finish` closes per segment: MMSI, segment id, open stays, last fix.
type OpenSegment = (u32, u32, Option<Loiter>, Option<PortStay>, Fix);

fn recent_fixes(seg: &Segment, n: usize) -> Vec<Fix> {
    let n = n.min(RECENT_FIXES).min(seg.n_fixes as usize);
    (0..n)
        .rev()
        .map(|k| seg.recent[((seg.n_fixes - 1 - k as u64) % RECENT_FIXES as u64) as usize])
        .collect()
}

fn instant(fix: Fix, segment: u32, detail: EventDetail) -> Event {
    Event {
        mmsi: fix.mmsi,
        segment,
        start_unix_ms: fix.time_unix_ms,
        end_unix_ms: fix.time_unix_ms,
        lat: fix.lat,
        lon: fix.lon,
        detail,
        evidence: vec![fix],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The libm-free floor agrees with `f64::floor` on cell coordinates.
        #[test]
        fn floor_i32_is_floor(v in -20_000.0f64..20_000.0) {
            prop_assert_eq!(floor_i32(v), v.floor() as i32);
        }

        /// The bound used to skip haversine is never below it, anywhere.
        #[test]
        fn distance_bound_is_an_upper_bound(
            lat1 in -90.0f64..90.0, lon1 in -180.0f64..180.0,
            dlat in -0.5f64..0.5, dlon in -0.5f64..0.5,
        ) {
            let lat2 = (lat1 + dlat).clamp(-90.0, 90.0);
            let lon2 = ((lon1 + dlon + 180.0).rem_euclid(360.0)) - 180.0;
            let d = haversine_m(lat1, lon1, lat2, lon2);
            prop_assert!(distance_m_bound(lat1, lon1, lat2, lon2) >= d);
        }
    }

    #[test]
    fn vessel_table_keeps_slots_after_removal() {
        let vessel = |t| Vessel {
            segments: Vec::new(),
            next_segment: 0,
            identity: Identity::default(),
            last_seen_ms: t,
            heading_deg: None,
        };
        let mut table = VesselTable::default();
        for (mmsi, t) in [(11, 1), (22, 2), (33, 3)] {
            table.insert(mmsi, vessel(t));
        }
        assert_eq!(table.remove(&11).map(|v| v.last_seen_ms), Some(1));
        assert!(table.remove(&11).is_none());
        assert_eq!(table.len(), 2);
        assert_eq!(table.get(&33).map(|v| v.last_seen_ms), Some(3));
        assert_eq!(table.get(&22).map(|v| v.last_seen_ms), Some(2));
        let slot = table.slot(33).unwrap();
        assert_eq!(table[slot].last_seen_ms, 3);
        assert_eq!(table.remove(&33).map(|v| v.last_seen_ms), Some(3));
        let held: Vec<u32> = table.iter().map(|(&m, _)| m).collect();
        assert_eq!(held, vec![22]);
    }

    #[test]
    fn floor_i32_edges() {
        for v in [
            0.0,
            -0.0,
            -0.5,
            0.5,
            -1.0,
            1.0,
            -1e-12,
            3_599.999_999,
            -17_999.5,
        ] {
            assert_eq!(floor_i32(v), v.floor() as i32, "{v}");
        }
        assert_eq!(floor_i32(f64::NAN), 0);
    }
}
