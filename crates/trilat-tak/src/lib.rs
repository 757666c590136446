//! Trilat's picture for tactical and GIS tools: Cursor-on-Target (CoT)
//! events for TAK (ATAK, WinTAK, TAK Server, FreeTAKServer, OpenTAKServer),
//! and GeoJSON and KML of reports.
//!
//! - [`report_event`] turns a report into the CoT event TAK draws (missile
//!   tracks, predicted impacts with their ellipse, maritime and seismic
//!   events), with stale times per kind ([`report`]);
//! - [`vessel_event`] does the same for a vessel of the AIS picture
//!   (uid `MMSI-<n>`, [`vessel`] explains the affiliation);
//! - [`CotEvent::to_xml`] writes one `<event>`, the marking in its
//!   `<__trilat>` detail and as the banner opening its remarks;
//! - [`release_report`] and [`release_feed`] decide what may go to a TAK
//!   destination ([`Destination`]: a party and the level it is accredited
//!   for), over core's release rule;
//! - [`export::geojson`] and [`export::kml`] write a set of reports for GIS tools.
//!
//! ```
//! use trilat_core::{Marking, Party, Timestamp, Tlp};
//! use trilat_tak::{vessel_event, Affiliation};
//!
//! let vessel = trilat_ais::track::VesselSummary {
//!     mmsi: 440123456, segments: 1, positions: 3, shipname: Some("EXAMPLE".into()),
//!     imo: None, callsign: None, last_seen_unix_ms: 1_800_000_000_000,
//!     lat: 35.0, lon: 129.5, speed_knots: Some(12.0), course_deg: Some(45.0),
//!     heading_deg: None, shiptype: Some(70), flag_country: None,
//! };
//! let owner = Party::new("KOR").unwrap();
//! let marking = Marking::new("UNCLASSIFIED", Tlp::Green, ["KOR"]);
//! let now = Timestamp::from_unix_ms(1_800_000_001_000);
//! let xml = vessel_event(&vessel, Affiliation::Unknown, &owner, &marking, false, now).to_xml();
//! assert!(xml.contains(r#"uid="MMSI-440123456" type="a-u-S-X-M""#));
//! ```
//!
//! **Invariant:** pure: no sockets, no clock (time is a parameter), no
//! decision of its own about releasability beyond core's rule and the
//! destination's level.
#![deny(missing_docs)]

pub mod event;
pub mod export;
pub mod release;
pub mod report;
pub mod vessel;

pub use event::{CotEvent, Ellipse, Point, Source, Track, ERROR_UNKNOWN_M};
pub use release::{release_feed, release_report, Destination, TakRefusal};
pub use report::{report_event, CotError, CourseMemory};
pub use vessel::{vessel_event, Affiliation};
