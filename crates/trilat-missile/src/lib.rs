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
//! ```no_run
//! use trilat_missile::{engine::MissileEngine, sim, zones::NoZones};
//! let (registry, _truth, detections) = sim::demo_scenario(1.7e9, 1).unwrap();
//! let mut engine = MissileEngine::new(registry, Box::new(NoZones), Default::default());
//! for d in &detections {
//!     for event in engine.feed(d).unwrap() { println!("{event:?}"); }
//! }
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
