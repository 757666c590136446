//! The events the detectors raise, their facts and evidence, and the
//! sanctions-screener interface that the `sanctioned-vessel` event needs.

use serde::{Deserialize, Serialize};
use trilat_geo::ZoneKind;

use super::Fix;

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
    /// Returns evidence when the identity matches a listed vessel (by
    /// MMSI, IMO, name or call sign).
    fn screen_vessel(
        &self,
        mmsi: u32,
        imo: Option<u32>,
        name: &str,
        callsign: Option<&str>,
        flag_mid: Option<u16>,
    ) -> Option<SanctionedVesselEvidence>;
}

/// `null` (how serde_json writes NaN) back to NaN, so that an event read
/// back equals the event written.
pub(crate) fn nan_if_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
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
        /// What the screener found. Serialised as `listing`: the event's own
        /// `evidence` (its fixes) shares the JSON object.
        #[serde(rename = "listing")]
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
    /// Where (representative position); NaN (JSON `null`) for static-data
    /// events of a vessel not yet heard with a position.
    #[serde(deserialize_with = "nan_if_null")]
    pub lat: f64,
    /// See `lat`.
    #[serde(deserialize_with = "nan_if_null")]
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

/// An event at one fix (start = end), with that fix as its evidence.
pub(super) fn instant(fix: Fix, segment: u32, detail: EventDetail) -> Event {
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
