//! The report payloads partners exchange, and their checks.
//!
//! Kinds ([`REPORT_KINDS`]):
//! - `econ.indicator`: one series' indicators ([`SeriesIndicators`]);
//! - `econ.scenario`: a stop or pool scenario ([`StopScenario`],
//!   [`PoolScenario`], told apart by `scenario`);
//! - `econ.figures`: a partner's own figures ([`FiguresPayload`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::figures::{Figure, FIGURES_MAX};
use crate::indicators::{Concentration, SeriesIndicators};
use crate::scenario::{PoolScenario, StopScenario};

/// The report kinds this crate owns.
pub const REPORT_KINDS: &[&str] = &["econ.indicator", "econ.scenario", "econ.figures"];
/// Most countries in one measure's shares, outcomes in a scenario.
pub const ITEMS_MAX: usize = 1_000;
/// Longest text field, bytes.
pub const TEXT_LEN_MAX: usize = 4096;

/// An `econ.figures` payload: the figures of one CSV file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiguresPayload {
    /// The file name as given.
    pub file: String,
    /// Its rows.
    pub figures: Vec<Figure>,
}

/// Why a payload is not a valid report of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} payload: {what}")]
pub struct PayloadError {
    /// Report kind.
    pub kind: String,
    /// What is wrong.
    pub what: String,
}

/// Checks a payload of one of [`REPORT_KINDS`].
pub fn validate_payload(kind: &str, payload: &Value) -> Result<(), PayloadError> {
    let err = |what: String| PayloadError {
        kind: kind.to_string(),
        what,
    };
    check_value(payload).map_err(err)?;
    match kind {
        "econ.indicator" => {
            let s: SeriesIndicators =
                serde_json::from_value(payload.clone()).map_err(|e| err(e.to_string()))?;
            for c in s.production.iter().chain(&s.reserves) {
                check_concentration(c).map_err(err)?;
            }
            Ok(())
        }
        "econ.scenario" => match payload.get("scenario").and_then(Value::as_str) {
            Some("stop") => serde_json::from_value::<StopScenario>(payload.clone())
                .map(drop)
                .map_err(|e| err(e.to_string())),
            Some("pool") => serde_json::from_value::<PoolScenario>(payload.clone())
                .map(drop)
                .map_err(|e| err(e.to_string())),
            other => Err(err(format!(
                "scenario {other:?}: expected \"stop\" or \"pool\""
            ))),
        },
        "econ.figures" => {
            let f: FiguresPayload =
                serde_json::from_value(payload.clone()).map_err(|e| err(e.to_string()))?;
            if f.figures.len() > FIGURES_MAX {
                return Err(err(format!(
                    "{} figures, at most {FIGURES_MAX}",
                    f.figures.len()
                )));
            }
            Ok(())
        }
        other => Err(err(format!(
            "not an econ report kind (expected one of {REPORT_KINDS:?}); got {other}"
        ))),
    }
}

/// Bounds every array and string, and refuses non-finite numbers.
fn check_value(v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) if s.len() > TEXT_LEN_MAX => Err(format!(
            "a text of {} bytes, at most {TEXT_LEN_MAX}",
            s.len()
        )),
        Value::Array(items) if items.len() > FIGURES_MAX.max(ITEMS_MAX) => {
            Err(format!("an array of {} items", items.len()))
        }
        Value::Array(items) => items.iter().try_for_each(check_value),
        Value::Object(map) => map.values().try_for_each(check_value),
        Value::Number(n) if n.as_f64().is_some_and(|f| !f.is_finite()) => {
            Err("a non-finite number".into())
        }
        _ => Ok(()),
    }
}

fn check_concentration(c: &Concentration) -> Result<(), String> {
    if c.shares.len() > ITEMS_MAX {
        return Err(format!("{} shares, at most {ITEMS_MAX}", c.shares.len()));
    }
    if c.world.is_nan() || c.world <= 0.0 {
        return Err(format!("{}: world {} is not positive", c.column, c.world));
    }
    if !(0.0..=10_000.0 + 1e-6).contains(&c.hhi) {
        return Err(format!("{}: HHI {} outside 0–10,000", c.column, c.hhi));
    }
    if let Some(s) = c.shares.iter().find(|s| !(0.0..=1.5).contains(&s.share)) {
        return Err(format!(
            "{}: share {} of {} outside 0–1.5",
            c.column, s.share, s.country
        ));
    }
    Ok(())
}
