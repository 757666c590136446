//! Payloads of the report kinds the node publishes: a national designation, a reviewed name
//! screening hit and a reviewed identifier hit (a listed wallet, e-mail, IMO … seen). The node wraps them in signed, marked reports; this crate only
//! defines and validates the payloads.

use crate::ident::index::IdHit;
use crate::model::{Entity, PartialDate};
use crate::screener::{Hit, Query};
use serde::{Deserialize, Serialize};

/// The report kinds of this engine.
pub const REPORT_KINDS: &[&str] = &["sanctions.designation", "sanctions.hit", "sanctions.id-hit"];

/// Bound on names in a designation payload.
pub const PAYLOAD_NAMES_MAX: usize = 500;
/// Bound on the length of any free-text field.
pub const PAYLOAD_TEXT_MAX: usize = 10_000;

/// `sanctions.designation`: a partner designates an entity on its national list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignationPayload {
    /// The designated entity (source `national`).
    pub entity: Entity,
    /// ISO 3166-1 alpha-3 of the designating party (`JPN`, `KOR`, `USA`).
    pub designating_party: String,
    /// The legal authority (e.g. `Foreign Exchange and Foreign Trade Act art. 16`).
    pub authority: String,
    /// Why.
    pub reason: String,
    /// When the designation takes effect.
    pub designated_on: PartialDate,
}

/// What the analyst decided about a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitDecision {
    /// The screened party is the listed entity.
    Confirmed,
    /// The screened party is not the listed entity.
    FalsePositive,
}

/// `sanctions.hit`: a screening hit an analyst reviewed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitPayload {
    /// The query as screened.
    pub query: Query,
    /// The hit as the engine produced it (score, explanation, source record).
    pub hit: Hit,
    /// The analyst's decision.
    pub decision: HitDecision,
    /// Who reviewed it (analyst id within the publishing party).
    pub reviewed_by: String,
    /// Free-text note.
    #[serde(default)]
    pub note: String,
}

/// `sanctions.id-hit`: an identifier that equals a listed one (a wallet in a transaction, an
/// e-mail of an applicant), reviewed by an analyst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdHitPayload {
    /// The identifier as screened.
    pub query: String,
    /// The listed identifier and entity, as the screening answer gave them.
    pub hit: IdHit,
    /// The analyst's decision.
    pub decision: HitDecision,
    /// Who reviewed it.
    pub reviewed_by: String,
    /// Free-text note (where the identifier was seen).
    #[serde(default)]
    pub note: String,
}

/// Why a payload was refused.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct PayloadError {
    /// Class of failure.
    pub kind: PayloadErrorKind,
    /// Which field and what is wrong.
    pub detail: String,
}

/// Classes of payload failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadErrorKind {
    /// The kind is not one of [`REPORT_KINDS`].
    #[error("unknown report kind")]
    UnknownKind,
    /// The JSON does not have the payload's shape.
    #[error("malformed payload")]
    Malformed,
    /// A field has an invalid value.
    #[error("invalid field")]
    Invalid,
}

fn invalid(detail: impl Into<String>) -> PayloadError {
    PayloadError {
        kind: PayloadErrorKind::Invalid,
        detail: detail.into(),
    }
}

fn check_text(field: &str, text: &str, required: bool) -> Result<(), PayloadError> {
    if required && text.trim().is_empty() {
        return Err(invalid(format!("{field} is empty")));
    }
    if text.len() > PAYLOAD_TEXT_MAX {
        return Err(invalid(format!(
            "{field} longer than {PAYLOAD_TEXT_MAX} bytes"
        )));
    }
    Ok(())
}

/// Validates a payload of `kind` (one of [`REPORT_KINDS`]).
pub fn validate_payload(kind: &str, payload: &serde_json::Value) -> Result<(), PayloadError> {
    match kind {
        "sanctions.designation" => {
            let p: DesignationPayload =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError {
                    kind: PayloadErrorKind::Malformed,
                    detail: e.to_string(),
                })?;
            validate_designation(&p)
        }
        "sanctions.id-hit" => {
            let p: IdHitPayload =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError {
                    kind: PayloadErrorKind::Malformed,
                    detail: e.to_string(),
                })?;
            validate_id_hit(&p)
        }
        "sanctions.hit" => {
            let p: HitPayload =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError {
                    kind: PayloadErrorKind::Malformed,
                    detail: e.to_string(),
                })?;
            validate_hit(&p)
        }
        other => Err(PayloadError {
            kind: PayloadErrorKind::UnknownKind,
            detail: format!("{other:?} is not one of {REPORT_KINDS:?}"),
        }),
    }
}

/// Validates a designation payload.
pub fn validate_designation(p: &DesignationPayload) -> Result<(), PayloadError> {
    let party = &p.designating_party;
    if party.len() != 3 || !party.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "designating_party {party:?} is not an ISO 3166-1 alpha-3 code"
        )));
    }
    if p.entity.names.is_empty() || p.entity.names.iter().any(|n| n.text.trim().is_empty()) {
        return Err(invalid(
            "entity.names must hold at least one non-empty name",
        ));
    }
    if p.entity.names.len() > PAYLOAD_NAMES_MAX {
        return Err(invalid(format!("more than {PAYLOAD_NAMES_MAX} names")));
    }
    check_text("entity.record_id", &p.entity.record_id, true)?;
    check_text("authority", &p.authority, true)?;
    check_text("reason", &p.reason, true)?;
    for name in &p.entity.names {
        check_text("entity.names[].text", &name.text, true)?;
    }
    Ok(())
}

/// Validates a hit payload.
pub fn validate_hit(p: &HitPayload) -> Result<(), PayloadError> {
    if !(0.0..=1.0).contains(&p.hit.score) || !(0.0..=1.0).contains(&p.hit.name_score) {
        return Err(invalid(format!("hit.score {} outside 0..=1", p.hit.score)));
    }
    check_text("query.name", &p.query.name, p.query.identifiers.is_empty())?;
    check_text("hit.entity_id", &p.hit.entity_id, true)?;
    check_text("reviewed_by", &p.reviewed_by, true)?;
    check_text("note", &p.note, false)?;
    Ok(())
}

/// Validates an identifier hit payload.
pub fn validate_id_hit(p: &IdHitPayload) -> Result<(), PayloadError> {
    check_text("query", &p.query, true)?;
    if p.query.len() > crate::ident::VALUE_LEN_MAX {
        return Err(invalid(format!(
            "query longer than {} bytes",
            crate::ident::VALUE_LEN_MAX
        )));
    }
    check_text("hit.value", &p.hit.value, true)?;
    check_text("hit.entity_id", &p.hit.entity_id, true)?;
    check_text("reviewed_by", &p.reviewed_by, true)?;
    check_text("note", &p.note, false)?;
    // The payload must say what it claims: the query's lookup form is the listed value.
    let mut form = String::new();
    crate::ident::normalise(p.hit.scheme, &p.query, &mut form);
    if form != p.hit.value {
        return Err(invalid(format!(
            "query {:?} is not {:?} as {} (lookup form {form:?})",
            p.query,
            p.hit.value,
            p.hit.scheme.name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ListSource, Name, NameQuality, Schema};
    use serde_json::json;

    fn designation() -> DesignationPayload {
        let mut entity = Entity::new(
            ListSource::National,
            "JPN-2026-001",
            "report".into(),
            Schema::Organization,
        );
        entity
            .names
            .push(Name::new("Sample Maritime Co.", NameQuality::Primary));
        DesignationPayload {
            entity,
            designating_party: "JPN".into(),
            authority: "FEFTA art. 16".into(),
            reason: "ship-to-ship transfer".into(),
            designated_on: PartialDate {
                year: 2026,
                month: Some(3),
                day: Some(5),
            },
        }
    }

    #[test]
    fn designation_round_trip_and_checks() {
        let value = serde_json::to_value(designation()).unwrap();
        validate_payload("sanctions.designation", &value).unwrap();
        let mut bad = designation();
        bad.designating_party = "jp".into();
        let err = validate_payload("sanctions.designation", &serde_json::to_value(bad).unwrap())
            .unwrap_err();
        assert_eq!(err.kind, PayloadErrorKind::Invalid);
        let mut nameless = designation();
        nameless.entity.names.clear();
        assert!(validate_designation(&nameless).is_err());
        assert_eq!(
            validate_payload("sanctions.designation", &json!({"x": 1}))
                .unwrap_err()
                .kind,
            PayloadErrorKind::Malformed
        );
        assert_eq!(
            validate_payload("sanctions.other", &json!({}))
                .unwrap_err()
                .kind,
            PayloadErrorKind::UnknownKind
        );
    }
}
