//! The report payloads partners exchange, and their checks.
//!
//! Kinds (see [`REPORT_KINDS`]):
//! - `seismic.event`: one event as an agency reported it (an [`Event`]:
//!   origin, uncertainty, depth, magnitudes by scale and agency, type);
//! - `nuclear.assessment`: one event's assessment (an [`Assessment`]:
//!   distances, discriminant, yield range, relations, likelihood and
//!   reasons). Its `lat`, `lon` and `uncertainty_km` place it on a map;
//!   `likely_nuclear_test` is what a console raises a banner on.

use crate::assess::Assessment;
use crate::error::MAGNITUDES_PER_EVENT_MAX;
use crate::event::Event;
use serde_json::Value;

/// The report kinds this crate owns.
pub const REPORT_KINDS: &[&str] = &["seismic.event", "nuclear.assessment"];
/// Longest text field, bytes.
pub const TEXT_LEN_MAX: usize = 4096;
/// Most reasons or relations one assessment may carry.
pub const ITEMS_MAX: usize = 64;

/// Why a payload is not a valid report of its kind: the JSON path and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} payload, at {path}: {what}")]
pub struct PayloadError {
    /// Report kind.
    pub kind: String,
    /// JSON path of the offending field (`$.origin.lat`).
    pub path: String,
    /// What is wrong.
    pub what: String,
}

fn err(kind: &str, path: impl Into<String>, what: impl Into<String>) -> PayloadError {
    PayloadError {
        kind: kind.into(),
        path: path.into(),
        what: what.into(),
    }
}

/// Checks a payload of one of [`REPORT_KINDS`].
pub fn validate_payload(kind: &str, payload: &Value) -> Result<(), PayloadError> {
    match kind {
        "seismic.event" => {
            let event: Event = serde_json::from_value(payload.clone())
                .map_err(|e| err(kind, "$", e.to_string()))?;
            validate_event(kind, &event)
        }
        "nuclear.assessment" => {
            let a: Assessment = serde_json::from_value(payload.clone())
                .map_err(|e| err(kind, "$", e.to_string()))?;
            validate_assessment(kind, &a)
        }
        other => Err(err(
            other,
            "$",
            format!("not a seismic report kind (expected one of {REPORT_KINDS:?})"),
        )),
    }
}

fn check_position(
    kind: &str,
    path: &str,
    lat: Option<f64>,
    lon: Option<f64>,
) -> Result<(), PayloadError> {
    if lat.is_some() != lon.is_some() {
        return Err(err(
            kind,
            path,
            "give both latitude and longitude, or neither",
        ));
    }
    if lat.is_some_and(|v| !(v.is_finite() && (-90.0..=90.0).contains(&v))) {
        return Err(err(
            kind,
            format!("{path}.lat"),
            "latitude outside -90..=90",
        ));
    }
    if lon.is_some_and(|v| !(v.is_finite() && (-180.0..=180.0).contains(&v))) {
        return Err(err(
            kind,
            format!("{path}.lon"),
            "longitude outside -180..=180",
        ));
    }
    Ok(())
}

fn check_text(kind: &str, path: &str, text: Option<&str>) -> Result<(), PayloadError> {
    if text.is_some_and(|t| t.len() > TEXT_LEN_MAX) {
        return Err(err(kind, path, format!("longer than {TEXT_LEN_MAX} bytes")));
    }
    Ok(())
}

fn validate_event(kind: &str, e: &Event) -> Result<(), PayloadError> {
    check_position(kind, "$.origin", e.origin.lat, e.origin.lon)?;
    check_text(kind, "$.id", Some(&e.id))?;
    check_text(kind, "$.agency", e.agency.as_deref())?;
    check_text(kind, "$.region", e.region.as_deref())?;
    check_text(kind, "$.event_type", e.event_type.as_deref())?;
    if e.origin
        .depth_km
        .is_some_and(|d| !(d.is_finite() && (-10.0..=800.0).contains(&d)))
    {
        return Err(err(kind, "$.origin.depth_km", "depth outside -10..=800 km"));
    }
    if e.magnitudes.len() > MAGNITUDES_PER_EVENT_MAX {
        return Err(err(
            kind,
            "$.magnitudes",
            format!("more than {MAGNITUDES_PER_EVENT_MAX}"),
        ));
    }
    for (i, m) in e.magnitudes.iter().enumerate() {
        if !(m.value.is_finite() && (-3.0..=10.5).contains(&m.value)) {
            return Err(err(
                kind,
                format!("$.magnitudes[{i}].value"),
                "magnitude outside -3..=10.5",
            ));
        }
        check_text(
            kind,
            &format!("$.magnitudes[{i}].raw_type"),
            Some(&m.raw_type),
        )?;
    }
    Ok(())
}

fn validate_assessment(kind: &str, a: &Assessment) -> Result<(), PayloadError> {
    check_position(kind, "$", a.lat, a.lon)?;
    check_text(kind, "$.event_id", Some(&a.event_id))?;
    if a.reasons.len() > ITEMS_MAX
        || a.relations.len() > ITEMS_MAX
        || a.declared_tests.len() > ITEMS_MAX
    {
        return Err(err(
            kind,
            "$",
            format!("more than {ITEMS_MAX} reasons, relations or tests"),
        ));
    }
    for (i, r) in a.reasons.iter().enumerate() {
        check_text(kind, &format!("$.reasons[{i}].text"), Some(&r.text))?;
    }
    let sum: i32 = a.reasons.iter().map(|r| r.weight).sum();
    if sum != a.score {
        return Err(err(
            kind,
            "$.score",
            format!(
                "score {} is not the sum of the reasons' weights ({sum})",
                a.score
            ),
        ));
    }
    if a.likely_nuclear_test && a.explosion != crate::Likelihood::Likely {
        return Err(err(
            kind,
            "$.likely_nuclear_test",
            "a likely nuclear test must be a likely explosion",
        ));
    }
    if a.uncertainty_km
        .is_some_and(|u| !(u.is_finite() && u >= 0.0))
    {
        return Err(err(
            kind,
            "$.uncertainty_km",
            "must be a non-negative number",
        ));
    }
    Ok(())
}
