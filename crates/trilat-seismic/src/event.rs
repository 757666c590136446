//! The one event model every reader fills: an origin (time, epicentre with
//! its uncertainty, depth with its error), the magnitudes by type and
//! agency, who reported it and what kind of event the agency says it is.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Which format an event was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// QuakeML 1.2 (the `bed/1.2` namespace).
    Quakeml,
    /// The IMS1.0 bulletin (short form), the CTBTO IDC's text format.
    Ims1,
    /// A USGS GeoJSON event feed (`FeatureCollection`) or one `Feature`.
    UsgsGeojson,
}

/// One seismic event as reported by one agency (its preferred origin).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The source's identifier (QuakeML `publicID`, IMS event id, USGS id).
    pub id: String,
    /// The format it was read from.
    pub format: Format,
    /// Who reported the event (the preferred origin's agency or author,
    /// else the event's, else the feed's network), when the source says.
    pub agency: Option<String>,
    /// The preferred origin.
    pub origin: Origin,
    /// Every magnitude the source gives, in its order.
    pub magnitudes: Vec<Magnitude>,
    /// The event type as the source states it, in QuakeML 1.2's words
    /// (`earthquake`, `nuclear explosion`, `quarry blast` …).
    pub event_type: Option<String>,
    /// `known` or `suspected`, when the source says.
    pub event_type_certainty: Option<String>,
    /// The region name (Flinn–Engdahl or the source's place text).
    pub region: Option<String>,
}

/// Where and when: one origin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// Origin time, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Origin-time error, seconds.
    pub time_error_s: Option<f64>,
    /// Epicentre latitude, degrees north; `None` when the source gives
    /// only a time (IMS1.0 allows it).
    pub lat: Option<f64>,
    /// Epicentre longitude, degrees east.
    pub lon: Option<f64>,
    /// The epicentre's uncertainty, when given.
    pub uncertainty: Option<HorizontalUncertainty>,
    /// Hypocentre depth below the surface, km.
    pub depth_km: Option<f64>,
    /// Depth error, km.
    pub depth_error_km: Option<f64>,
    /// True when the depth was fixed by the analyst or the program
    /// (IMS1.0 `f`/`d` flag, QuakeML `operator assigned`): it is then not
    /// a measurement.
    pub depth_fixed: bool,
}

/// How well the epicentre is known.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HorizontalUncertainty {
    /// An error ellipse.
    Ellipse {
        /// Semi-major axis, km.
        semi_major_km: f64,
        /// Semi-minor axis, km.
        semi_minor_km: f64,
        /// Azimuth of the major axis, degrees clockwise from north.
        azimuth_deg: f64,
        /// Confidence level, percent (IMS1.0: 90).
        confidence_pct: Option<f64>,
    },
    /// A circle (QuakeML `horizontalUncertainty`).
    Circle {
        /// Radius, km.
        radius_km: f64,
        /// Confidence level, percent.
        confidence_pct: Option<f64>,
    },
    /// Separate latitude and longitude errors (QuakeML's per-coordinate
    /// `uncertainty`), converted to km.
    LatLon {
        /// North–south error, km.
        lat_error_km: f64,
        /// East–west error, km.
        lon_error_km: f64,
        /// Confidence level, percent.
        confidence_pct: Option<f64>,
    },
}

impl HorizontalUncertainty {
    /// The largest horizontal extent, km: what an epicentre may be off by
    /// in the worst direction.
    pub fn radius_max_km(&self) -> f64 {
        match *self {
            HorizontalUncertainty::Ellipse { semi_major_km, .. } => semi_major_km,
            HorizontalUncertainty::Circle { radius_km, .. } => radius_km,
            HorizontalUncertainty::LatLon {
                lat_error_km,
                lon_error_km,
                ..
            } => lat_error_km.max(lon_error_km),
        }
    }
}

/// The magnitude scales the assessment distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MagnitudeScale {
    /// Short-period body-wave magnitude (teleseismic P).
    #[serde(rename = "mb")]
    Mb,
    /// Regional Lg-wave body-wave magnitude (mb(Lg), mN).
    #[serde(rename = "mbLg")]
    MbLg,
    /// Surface-wave magnitude.
    #[serde(rename = "Ms")]
    Ms,
    /// Local magnitude.
    #[serde(rename = "ML")]
    Ml,
    /// Moment magnitude.
    #[serde(rename = "Mw")]
    Mw,
    /// Duration or coda magnitude.
    #[serde(rename = "Md")]
    Md,
    /// Any other scale (broadband mB, energy Me …): see `raw_type`.
    #[serde(rename = "other")]
    Other,
}

impl MagnitudeScale {
    /// The scale a source's magnitude-type string names. Case matters only
    /// where seismology makes it matter: `mB` (broadband body wave) is not
    /// `mb`.
    pub fn from_type(raw: &str) -> MagnitudeScale {
        let trimmed = raw.trim();
        if trimmed == "mB" || trimmed.eq_ignore_ascii_case("mb_bb") || trimmed == "mBc" {
            return MagnitudeScale::Other;
        }
        let t = trimmed.to_ascii_lowercase();
        let t = t.as_str();
        if t.starts_with("mw") {
            MagnitudeScale::Mw
        } else if matches!(t, "mblg" | "mb_lg" | "mb(lg)" | "mn" | "mlg") {
            MagnitudeScale::MbLg
        } else if t == "mb" || t.starts_with("mb(") || t.starts_with("mb ") || t == "mbtmp" {
            MagnitudeScale::Mb
        } else if t.starts_with("ms") {
            MagnitudeScale::Ms
        } else if t.starts_with("ml") {
            MagnitudeScale::Ml
        } else if t == "md" || t == "mc" || t == "mdl" {
            MagnitudeScale::Md
        } else {
            MagnitudeScale::Other
        }
    }
}

/// One magnitude of an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Magnitude {
    /// The scale.
    pub scale: MagnitudeScale,
    /// The type string as the source wrote it (`mb`, `Mww`, `ML` …).
    pub raw_type: String,
    /// The value.
    pub value: f64,
    /// Its standard error, when given.
    pub error: Option<f64>,
    /// Who computed it, when the source says.
    pub agency: Option<String>,
    /// How many stations it rests on, when given.
    pub station_count: Option<u32>,
}

impl Event {
    /// The first magnitude of `scale`, if any (sources list the preferred
    /// one first or only one of each).
    pub fn magnitude(&self, scale: MagnitudeScale) -> Option<&Magnitude> {
        self.magnitudes.iter().find(|m| m.scale == scale)
    }

    /// The epicentre, when the source gives one.
    pub fn epicentre(&self) -> Option<(f64, f64)> {
        Some((self.origin.lat?, self.origin.lon?))
    }
}
