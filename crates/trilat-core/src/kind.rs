//! Report kinds (`missile.assessment`, `maritime.incident`, `note` …) and the
//! registry of payload checks: each kind's payload is validated by the engine
//! that owns it; a node accepts only kinds registered with it.

use std::collections::BTreeMap;
use std::fmt;

/// Longest kind accepted.
pub const KIND_LEN_MAX: usize = 64;

/// A namespaced report kind: lowercase segments of `a-z0-9-` joined by dots.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Kind(String);

impl Kind {
    /// Validates a kind's syntax (not whether a node knows it).
    pub fn new(kind: &str) -> Result<Kind, String> {
        let well_formed = !kind.is_empty()
            && kind.len() <= KIND_LEN_MAX
            && kind.split('.').all(|segment| {
                segment
                    .as_bytes()
                    .first()
                    .is_some_and(u8::is_ascii_lowercase)
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if well_formed {
            Ok(Kind(kind.to_string()))
        } else {
            Err(format!("invalid kind {:?}: expected lowercase dot-separated segments such as missile.assessment", kind.chars().take(KIND_LEN_MAX + 8).collect::<String>()))
        }
    }

    /// The kind as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The namespace (`missile` for `missile.assessment`).
    pub fn namespace(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let kind = String::deserialize(d)?;
        Kind::new(&kind).map_err(serde::de::Error::custom)
    }
}

/// Validates one kind's payload; returns a message naming what is wrong.
pub type PayloadCheck = fn(kind: &str, payload: &serde_json::Value) -> Result<(), String>;

/// The kinds a node accepts, each with the check of the engine that owns it.
#[derive(Clone, Default)]
pub struct KindRegistry {
    checks: BTreeMap<String, PayloadCheck>,
}

impl fmt::Debug for KindRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.checks.keys()).finish()
    }
}

/// The payload of a `note`: free text for analysts.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NotePayload {
    text: String,
}

/// Longest note text.
pub const NOTE_TEXT_LEN_MAX: usize = 64 * 1024;

fn check_note(_kind: &str, payload: &serde_json::Value) -> Result<(), String> {
    let note: NotePayload =
        serde_json::from_value(payload.clone()).map_err(|e| format!("note payload: {e}"))?;
    if note.text.len() > NOTE_TEXT_LEN_MAX {
        return Err(format!(
            "note text is {} bytes, more than {NOTE_TEXT_LEN_MAX}",
            note.text.len()
        ));
    }
    Ok(())
}

impl KindRegistry {
    /// A registry that knows only core's own kind, `note` (`{"text": …}`).
    pub fn with_core_kinds() -> KindRegistry {
        let mut registry = KindRegistry::default();
        registry.register(&["note"], check_note);
        registry
    }

    /// Registers `kinds`, all checked by `check`. A later registration of the
    /// same kind replaces the earlier one.
    pub fn register(&mut self, kinds: &[&str], check: PayloadCheck) {
        for kind in kinds {
            debug_assert!(
                Kind::new(kind).is_ok(),
                "registered kind {kind:?} is malformed"
            );
            self.checks.insert((*kind).to_string(), check);
        }
    }

    /// Whether `kind` is known.
    pub fn knows(&self, kind: &Kind) -> bool {
        self.checks.contains_key(kind.as_str())
    }

    /// The known kinds, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.checks.keys().map(String::as_str)
    }

    /// Checks a payload against its kind's engine; unknown kinds are refused.
    pub fn check(&self, kind: &Kind, payload: &serde_json::Value) -> Result<(), String> {
        match self.checks.get(kind.as_str()) {
            Some(check) => check(kind.as_str(), payload),
            None => Err(format!(
                "unknown kind {kind:?}; this node accepts: {}",
                self.checks.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_syntax() {
        for ok in [
            "note",
            "missile.assessment",
            "maritime.sanctioned-vessel",
            "cyber.stix",
            "a.b2.c",
        ] {
            assert!(Kind::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Note", "missile.", ".x", "a..b", "1abc", "a b", "a.-b"] {
            assert!(Kind::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Kind::new("missile.track").unwrap().namespace(), "missile");
    }

    #[test]
    fn registry_checks_payloads() {
        let registry = KindRegistry::with_core_kinds();
        let note = Kind::new("note").unwrap();
        assert!(registry
            .check(&note, &serde_json::json!({"text": "x"}))
            .is_ok());
        assert!(registry
            .check(&note, &serde_json::json!({"text": 1}))
            .is_err());
        assert!(registry
            .check(&note, &serde_json::json!({"text": "x", "extra": 1}))
            .is_err());
        let unknown = Kind::new("missile.track").unwrap();
        assert!(registry
            .check(&unknown, &serde_json::json!({}))
            .unwrap_err()
            .contains("unknown kind"));
    }
}
