//! Missile warning: fuse radar detections from the partners' sensors into one track per
//! missile, assess launch, apogee and impact with honest uncertainty, and warn.
//!
//! The core is pure (no I/O): parsers take `&str`, the simulator and tracker take values.
//!
//! - [`frames`] and [`dynamics`]: WGS-84 geodetic/ECEF/ENU/radar frames; ballistic motion with
//!   J2 gravity, Coriolis, centrifugal and exponential-atmosphere drag; RK4.
//! - [`sensors`]: the sensor registry (SENSORS.json) and detections (DETECTIONS.jsonl).
//! - [`sim`]: flights shaped to an apogee and range, salvos, radar detections, the default
//!   (approximate) partner sensor set, the published-launch table, the demo scenario.
//! - [`filter`] and [`tracker`]: an IMM (powered / ballistic) EKF in ECEF and a tracker made of
//!   Stone Soup's parts: [`tracker::Initiator`], [`filter::Predictor`], [`filter::Updater`],
//!   [`tracker::Hypothesiser`], [`tracker::DataAssociator`], [`tracker::Deleter`].
//! - [`assess`]: per-track [`assess::Assessment`] (launch, apogee, range, impact ellipse,
//!   class, overflight, zone probabilities) against a [`zones::ZoneOracle`].
//! - [`warning`]: rules from assessment to warning level.
//! - [`engine`]: [`engine::MissileEngine`], the incremental, bounded engine the node feeds,
//!   its report payloads and [`engine::validate_payload`].
//! - [`eval`] and [`gaps`]: evaluations against simulated truth; [`gaps`] through deliberate
//!   coverage gaps, salvos and late reports.
//!
//! A simulated 1,000 km shot from Sunan, seen by the default partner radars, fused and
//! assessed (the zones left out: [`zones::NoZones`]):
//!
//! ```
//! use trilat_missile::engine::{EngineEvent, MissileEngine};
//! use trilat_missile::frames::Geodetic;
//! use trilat_missile::sensors::SensorRegistry;
//! use trilat_missile::sim::{self, FlightSpec, RadarSettings};
//! use trilat_missile::zones::NoZones;
//!
//! let registry = SensorRegistry::new(sim::default_sensors()).unwrap();
//! let launch = Geodetic::new(sim::SITE_SUNAN.0, sim::SITE_SUNAN.1, 30.0);
//! let spec = FlightSpec::typical(launch, 1.7e9, 90.0, 400.0, 1_000.0);
//! let truth = sim::fly(&spec).unwrap();
//! let settings = RadarSettings::default();
//! let detections = sim::detect(&registry, std::slice::from_ref(&truth), &settings, 7).unwrap();
//!
//! let mut engine = MissileEngine::new(registry, Box::new(NoZones), Default::default());
//! let mut events = Vec::new();
//! for detection in &detections {
//!     events.extend(engine.feed(detection).unwrap());
//! }
//! events.extend(engine.finish(truth.impact_time_s + 60.0));
//! let assessment = events.iter().rev().find_map(|e| match e {
//!     EngineEvent::Assessment(a) => Some(a),
//!     _ => None,
//! }).expect("the flight is assessed");
//! // The predicted impact lies within 50 km of the true one.
//! let predicted = trilat_geo::LatLon::new(assessment.impact_lat, assessment.impact_lon);
//! let actual = trilat_geo::LatLon::new(truth.impact.lat_deg, truth.impact.lon_deg);
//! let miss_km = trilat_geo::haversine_m(predicted, actual) / 1000.0;
//! assert!(miss_km < 50.0, "impact predicted {miss_km:.1} km from the truth");
//! ```
#![deny(missing_docs)]

pub mod assess;
pub mod dynamics;
pub mod engine;
pub mod error;
pub mod eval;
pub mod filter;
pub mod frames;
pub mod gaps;
pub mod sensors;
pub mod sim;
pub mod tracker;
pub mod warning;
pub mod zones;

pub use engine::{validate_payload, MissileEngine, PayloadError, REPORT_KINDS};
pub use error::{Error, ErrorKind, Result};
