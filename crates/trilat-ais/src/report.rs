//! The `maritime.*` report payloads partners exchange, and their validation.
//!
//! Kinds (see [`REPORT_KINDS`]):
//! - `maritime.incident`: a coast guard's structured incident report
//!   ([`Incident`]), modelled on ReCAAP ISC incident reports.
//! - `maritime.event`: one detector event ([`crate::track::Event`]: gap,
//!   encounter, loitering, identity anomaly, zone entry/exit, port call),
//!   the `event` field naming which.
//! - `maritime.sanctioned-vessel`: a vessel whose static data matched a
//!   sanctions list (an [`crate::track::Event`] whose `event` is
//!   `sanctioned-vessel`), kept as its own kind so agreements can treat
//!   sanctions hits differently from routine events.

use crate::track::{Event, EventDetail};
use serde::{Deserialize, Serialize};

/// The report kinds this crate owns.
pub const REPORT_KINDS: &[&str] = &[
    "maritime.incident",
    "maritime.event",
    "maritime.sanctioned-vessel",
];
/// Most vessels one incident may name.
pub const INCIDENT_VESSELS_MAX: usize = 64;
/// Most attachments one incident may reference.
pub const INCIDENT_ATTACHMENTS_MAX: usize = 64;
/// Longest narrative, in bytes.
pub const NARRATIVE_LEN_MAX: usize = 20_000;
/// Most evidence fixes one event may carry.
pub const EVENT_EVIDENCE_MAX: usize = 64;

/// Incident categories (ReCAAP and coast-guard practice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentCategory {
    /// Collision or allision.
    Collision,
    /// Illegal, unreported or unregulated fishing.
    IllegalFishing,
    /// Ship-to-ship transfer (sanctions evasion).
    ShipToShipTransfer,
    /// Harassment or dangerous manoeuvres.
    Harassment,
    /// Water-cannon use.
    WaterCannon,
    /// Piracy (on the high seas).
    Piracy,
    /// Armed robbery against ships (in a state's waters).
    ArmedRobbery,
    /// Search and rescue.
    SearchAndRescue,
    /// Smuggling.
    Smuggling,
    /// Pollution.
    Pollution,
    /// Anything else (say what in the narrative).
    Other,
}

/// A vessel named in an incident: at least one of MMSI, IMO, name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentVessel {
    /// MMSI (9 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmsi: Option<u32>,
    /// IMO number (7 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imo: Option<u32>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Flag state (ISO 3166-1 alpha-3), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Role in the incident (`victim`, `suspect`, `responder` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// A file attached to an incident, by hash (the file travels separately).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// SHA-256 of the file, 64 lowercase hex digits.
    pub sha256: String,
    /// Media type (`image/jpeg` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A coast guard's incident report (`maritime.incident`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// What happened.
    pub category: IncidentCategory,
    /// When (RFC 3339 UTC, e.g. `2026-03-01T04:30:00Z`).
    pub time: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// The vessels involved (at least one).
    pub vessels: Vec<IncidentVessel>,
    /// What the reporting officer saw and did.
    pub narrative: String,
    /// Photos, logs, recordings by hash.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// Why a payload is not a valid report of its kind: the JSON path and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} payload, at {path}: {what}")]
pub struct PayloadError {
    /// Report kind.
    pub kind: String,
    /// JSON path of the offending field (`$.vessels[2].mmsi`).
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

/// Validates a payload of one of [`REPORT_KINDS`].
pub fn validate_payload(kind: &str, payload: &serde_json::Value) -> Result<(), PayloadError> {
    match kind {
        "maritime.incident" => {
            let incident: Incident = serde_json::from_value(payload.clone())
                .map_err(|e| err(kind, "$", e.to_string()))?;
            validate_incident(&incident)
        }
        "maritime.event" | "maritime.sanctioned-vessel" => {
            let event: Event = serde_json::from_value(payload.clone())
                .map_err(|e| err(kind, "$", e.to_string()))?;
            let sanctioned = matches!(event.detail, EventDetail::SanctionedVessel { .. });
            if sanctioned != (kind == "maritime.sanctioned-vessel") {
                return Err(err(
                    kind,
                    "$.event",
                    format!("event {:?} does not belong to this kind", event.name()),
                ));
            }
            validate_event(kind, &event)
        }
        other => Err(err(
            other,
            "$",
            format!("not a maritime report kind (expected one of {REPORT_KINDS:?})"),
        )),
    }
}

fn check_position(kind: &str, lat: f64, lon: f64) -> Result<(), PayloadError> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(err(kind, "$.lat", "latitude outside -90..=90"));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(err(kind, "$.lon", "longitude outside -180..=180"));
    }
    Ok(())
}

fn validate_event(kind: &str, event: &Event) -> Result<(), PayloadError> {
    if event.mmsi == 0 || event.mmsi > 999_999_999 {
        return Err(err(
            kind,
            "$.mmsi",
            "MMSI must have at most 9 digits and not be 0",
        ));
    }
    if event.end_unix_ms < event.start_unix_ms {
        return Err(err(kind, "$.end_unix_ms", "ends before it starts"));
    }
    if event.evidence.len() > EVENT_EVIDENCE_MAX {
        return Err(err(
            kind,
            "$.evidence",
            format!("more than {EVENT_EVIDENCE_MAX} fixes"),
        ));
    }
    // Static-data events may have no position yet (NaN serialises as null).
    if event.lat.is_finite() || event.lon.is_finite() {
        check_position(kind, event.lat, event.lon)?;
    }
    Ok(())
}

fn validate_incident(incident: &Incident) -> Result<(), PayloadError> {
    let kind = "maritime.incident";
    if !is_rfc3339_utc(&incident.time) {
        return Err(err(
            kind,
            "$.time",
            "expected RFC 3339 UTC time like 2026-03-01T04:30:00Z",
        ));
    }
    check_position(kind, incident.lat, incident.lon)?;
    if incident.vessels.is_empty() {
        return Err(err(kind, "$.vessels", "name at least one vessel"));
    }
    if incident.vessels.len() > INCIDENT_VESSELS_MAX {
        return Err(err(
            kind,
            "$.vessels",
            format!("more than {INCIDENT_VESSELS_MAX} vessels"),
        ));
    }
    for (i, v) in incident.vessels.iter().enumerate() {
        let path = |f: &str| format!("$.vessels[{i}]{f}");
        if v.mmsi.is_none()
            && v.imo.is_none()
            && v.name.as_deref().is_none_or(|n| n.trim().is_empty())
        {
            return Err(err(kind, path(""), "give an MMSI, an IMO number or a name"));
        }
        if v.mmsi
            .is_some_and(|m| !(1_000_000..=999_999_999).contains(&m))
        {
            return Err(err(kind, path(".mmsi"), "MMSI must have 9 digits"));
        }
        if v.imo.is_some_and(|n| !crate::identity::imo_is_valid(n)) {
            return Err(err(kind, path(".imo"), "IMO number fails its check digit"));
        }
        if v.flag
            .as_deref()
            .is_some_and(|f| f.len() != 3 || !f.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(err(
                kind,
                path(".flag"),
                "flag must be an ISO 3166-1 alpha-3 code",
            ));
        }
    }
    if incident.narrative.trim().is_empty() || incident.narrative.len() > NARRATIVE_LEN_MAX {
        return Err(err(
            kind,
            "$.narrative",
            format!("narrative must be 1..={NARRATIVE_LEN_MAX} bytes"),
        ));
    }
    if incident.attachments.len() > INCIDENT_ATTACHMENTS_MAX {
        return Err(err(
            kind,
            "$.attachments",
            format!("more than {INCIDENT_ATTACHMENTS_MAX} attachments"),
        ));
    }
    for (i, a) in incident.attachments.iter().enumerate() {
        if a.sha256.len() != 64
            || !a
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(err(
                kind,
                format!("$.attachments[{i}].sha256"),
                "expected 64 lowercase hex digits",
            ));
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` with fields in range.
fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || !s.ends_with('Z')
    {
        return false;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    let ok = |r, lo, hi| n(r).is_some_and(|v| (lo..=hi).contains(&v));
    let frac_ok = b.len() == 20
        || (b[19] == b'.' && b[20..b.len() - 1].iter().all(u8::is_ascii_digit) && b.len() > 21);
    ok(0..4, 1900, 9999)
        && ok(5..7, 1, 12)
        && ok(8..10, 1, 31)
        && ok(11..13, 0, 23)
        && ok(14..16, 0, 59)
        && ok(17..19, 0, 60)
        && frac_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn incident() -> serde_json::Value {
        json!({
            "category": "ship-to-ship-transfer",
            "time": "2026-03-01T04:30:00Z",
            "lat": 31.2, "lon": 123.9,
            "vessels": [{"mmsi": 352001234, "name": "A LI", "role": "suspect"}, {"imo": 9134270}],
            "narrative": "Patrol aircraft observed hoses rigged between the two tankers.",
            "attachments": [{"sha256": "a".repeat(64), "media_type": "image/jpeg"}]
        })
    }

    #[track_caller]
    fn check(kind: &str, payload: serde_json::Value, expect: Result<(), &str>) {
        let res = validate_payload(kind, &payload);
        match (res, expect) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(path)) => assert_eq!(e.path, path, "{e}"),
            (res, expect) => panic!("got {res:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn incidents() {
        check("maritime.incident", incident(), Ok(()));
        let with = |ptr: &str, v: serde_json::Value| {
            let mut p = incident();
            *p.pointer_mut(ptr).unwrap() = v;
            p
        };
        check(
            "maritime.incident",
            with("/time", json!("yesterday")),
            Err("$.time"),
        );
        check("maritime.incident", with("/lat", json!(91.0)), Err("$.lat"));
        check(
            "maritime.incident",
            with("/vessels", json!([])),
            Err("$.vessels"),
        );
        check(
            "maritime.incident",
            with("/vessels/0/mmsi", json!(12)),
            Err("$.vessels[0].mmsi"),
        );
        check(
            "maritime.incident",
            with("/vessels/1/imo", json!(8814881)),
            Err("$.vessels[1].imo"),
        );
        check(
            "maritime.incident",
            with("/vessels/1", json!({"role": "victim"})),
            Err("$.vessels[1]"),
        );
        check(
            "maritime.incident",
            with("/narrative", json!(" ")),
            Err("$.narrative"),
        );
        check(
            "maritime.incident",
            with("/attachments/0/sha256", json!("xyz")),
            Err("$.attachments[0].sha256"),
        );
        check(
            "maritime.incident",
            with("/category", json!("alien-landing")),
            Err("$"),
        );
        check("maritime.weather", incident(), Err("$"));
    }

    #[test]
    fn events() {
        let event = json!({
            "mmsi": 445112233, "segment": 0, "start_unix_ms": 1, "end_unix_ms": 2, "lat": 38.0, "lon": 125.0,
            "event": "loitering", "hours": 5.0, "mean_speed_knots": 0.5, "evidence": []
        });
        check("maritime.event", event.clone(), Ok(()));
        check("maritime.sanctioned-vessel", event.clone(), Err("$.event"));
        let mut bad = event;
        bad["end_unix_ms"] = json!(0);
        check("maritime.event", bad, Err("$.end_unix_ms"));
    }
}
