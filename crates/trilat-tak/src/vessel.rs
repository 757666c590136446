//! Vessels of the AIS picture as CoT events: uid `MMSI-<n>`, type
//! `a-<affiliation>-S-X-<kind>`.
//!
//! Affiliation follows what TAK users of AIS gateways expect: every vessel
//! is **unknown** (`u`, yellow) by default, since AIS says who a ship claims
//! to be, not whose side it is on; a vessel matched to a sanctions list is
//! **suspect** (`s`, red). A flag is not an affiliation (flags of
//! convenience), so it only goes into the remarks.
//!
//! The kind letter comes from the AIS ship type (ITU-R M.1371): fishing
//! (30) `F`, sailing and pleasure craft (36, 37) `R`, law enforcement (55)
//! `L`, anything else a merchant ship `M`.

use trilat_ais::track::VesselSummary;
use trilat_core::{Marking, Party, Timestamp};

use crate::event::{CotEvent, Point, Source, Track, ERROR_UNKNOWN_M};

/// AIS class A reports every 2–10 s under way and every 3 min at anchor;
/// class B every 30 s to 3 min. A vessel not heard for 15 min is stale.
pub const STALE_MS_VESSEL: i64 = 15 * 60_000;
/// AIS positions without the accuracy flag are good to about 100 m.
pub const VESSEL_CE_M: f64 = 100.0;
/// One knot in m/s.
const MPS_PER_KNOT: f64 = 1852.0 / 3600.0;

/// How a TAK user should read a vessel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Affiliation {
    /// Nothing known about intent (the default for AIS).
    Unknown,
    /// Matched to a sanctions list.
    Suspect,
}

impl Affiliation {
    fn letter(self) -> char {
        match self {
            Affiliation::Unknown => 'u',
            Affiliation::Suspect => 's',
        }
    }
}

/// The CoT type of a vessel.
pub fn vessel_type(affiliation: Affiliation, shiptype: Option<u8>) -> String {
    let kind = match shiptype {
        Some(30) => 'F',
        Some(36 | 37) => 'R',
        Some(55) => 'L',
        _ => 'M',
    };
    format!("a-{}-S-X-{kind}", affiliation.letter())
}

/// The CoT event of one vessel, heard last at `vessel.last_seen_unix_ms`,
/// owned (as feed data) by `owner` under `marking`.
pub fn vessel_event(
    vessel: &VesselSummary,
    affiliation: Affiliation,
    owner: &Party,
    marking: &Marking,
    exercise: bool,
    now: Timestamp,
) -> CotEvent {
    let heard = Timestamp::from_unix_ms(vessel.last_seen_unix_ms).min(now);
    let name = vessel
        .shipname
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty());
    let callsign = name.map_or_else(|| format!("MMSI-{}", vessel.mmsi), str::to_string);
    let track = match (vessel.course_deg, vessel.speed_knots) {
        (Some(course), Some(speed)) => Some(Track {
            course_deg: f64::from(course),
            speed_mps: f64::from(speed) * MPS_PER_KNOT,
        }),
        _ => None,
    };
    let mut remarks = format!("MMSI {}", vessel.mmsi);
    for (label, value) in [
        ("IMO", vessel.imo.map(|imo| imo.to_string())),
        ("call sign", vessel.callsign.clone()),
        ("flag (MID)", vessel.flag_country.clone()),
        ("AIS type", vessel.shiptype.map(|t| t.to_string())),
    ] {
        if let Some(value) = value {
            remarks.push_str(&format!(", {label} {value}"));
        }
    }
    if affiliation == Affiliation::Suspect {
        remarks.push_str(", matched to a sanctions list");
    }
    CotEvent {
        uid: format!("MMSI-{}", vessel.mmsi),
        cot_type: vessel_type(affiliation, vessel.shiptype),
        how: "m-g",
        time: now,
        start: heard,
        stale: heard.max(now).add_ms(STALE_MS_VESSEL),
        point: Point {
            lat: vessel.lat,
            lon: vessel.lon,
            hae_m: 0.0,
            ce_m: VESSEL_CE_M,
            le_m: ERROR_UNKNOWN_M,
        },
        callsign,
        remarks,
        track,
        ellipse: None,
        link: None,
        source: Source {
            marking: marking.clone(),
            owner: owner.clone(),
            report: None,
        },
        exercise,
    }
}
