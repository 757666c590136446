//! Seismic events and nuclear-test assessment: pure, no I/O, no clock.
//!
//! Three readers fill one event model ([`Event`]: origin time, epicentre
//! with its uncertainty, depth with its error, magnitudes by scale and
//! agency, the reporting agency and the event type):
//!
//! - [`parse_quakeml`]: QuakeML 1.2 (FDSN event services, USGS ComCat, IRIS,
//!   GeoNet …);
//! - [`parse_ims1`]: the IMS1.0 short bulletin, the text format of the
//!   CTBTO International Data Centre's bulletins;
//! - [`parse_usgs_geojson`]: the USGS GeoJSON event feeds.
//!
//! [`read`] detects which. Each returns [`Parsed`] (the events and the
//! [`Diagnostic`]s of what it skipped) or a [`ParseError`] naming the line
//! and the fault when the input cannot be read at all.
//!
//! [`assess_all`] then weighs each event as a possible nuclear test: its
//! distance to the Punggye-ri test site and to the six declared tests
//! ([`sites`]), its depth, the mb–Ms discriminant ([`discriminant`]), a
//! yield from mb over published relations ([`yields`]), its relation to
//! earlier tests (a collapse minutes after a test is not a new test), and
//! an explosion [`Likelihood`] with the [`Reason`]s that add up to it.
//! [`report`] holds the `seismic.event` and `nuclear.assessment` report
//! payloads and their checks.
//!
//! ```
//! use trilat_seismic::{assess_all, read, Likelihood, Params};
//!
//! // The 2017-09-03 test as the USGS summary feed would carry it.
//! let feed = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"us2000aert",
//!   "properties":{"mag":6.3,"magType":"mb","time":1504409401940,"net":"us","type":"nuclear explosion",
//!   "place":"North Korea"},"geometry":{"type":"Point","coordinates":[129.036,41.343,0]}}]}"#;
//! let parsed = read(feed).unwrap();
//! let assessed = assess_all(&parsed.events, &Params::default());
//! assert_eq!(assessed[0].explosion, Likelihood::Likely);
//! assert!(assessed[0].likely_nuclear_test);
//! assert!(assessed[0].site_distance_km.unwrap() < 10.0);
//! let y = assessed[0].yield_estimate.as_ref().unwrap();
//! assert!(y.low_kt < 250.0 && 250.0 < y.high_kt);
//! ```
#![deny(missing_docs)]

pub mod assess;
pub mod discriminant;
mod error;
mod event;
mod geojson;
mod ims;
mod quakeml;
pub mod report;
pub mod sites;
mod timefmt;
pub mod yields;

pub use assess::{assess, assess_all, Assessment, Likelihood, Params, Reason, Relation};
pub use error::{Diagnostic, ErrorKind, ParseError, Parsed, EVENTS_MAX, INPUT_LEN_MAX};
pub use event::{Event, Format, HorizontalUncertainty, Magnitude, MagnitudeScale, Origin};
pub use geojson::parse_usgs_geojson;
pub use ims::parse_ims1;
pub use quakeml::{parse_quakeml, BED_1_2};
pub use timefmt::format_utc;

/// Which format a text is in, from its first bytes: `<` QuakeML, `{`
/// GeoJSON, a `DATA_TYPE BULLETIN IMS1.0` line IMS1.0.
pub fn detect(text: &str) -> Option<Format> {
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with('<') {
        return Some(Format::Quakeml);
    }
    if start.starts_with('{') {
        return Some(Format::UsgsGeojson);
    }
    let ims = text.lines().take(1000).any(|l| {
        let u = l.trim().to_ascii_uppercase();
        u.starts_with("DATA_TYPE") && u.contains("IMS1.0")
    });
    ims.then_some(Format::Ims1)
}

/// Reads a text in any of the three formats (see [`detect`]).
pub fn read(text: &str) -> Result<Parsed, ParseError> {
    match detect(text) {
        Some(Format::Quakeml) => parse_quakeml(text.trim_start_matches('\u{feff}')),
        Some(Format::UsgsGeojson) => parse_usgs_geojson(text.trim_start_matches('\u{feff}')),
        Some(Format::Ims1) => parse_ims1(text),
        None => Err(ParseError {
            format: None,
            line: 1,
            kind: ErrorKind::UnknownFormat,
            what: "not QuakeML (starts with `<`), GeoJSON (starts with `{`) or an IMS1.0 bulletin (a `DATA_TYPE BULLETIN IMS1.0:short` line)".into(),
        }),
    }
}
