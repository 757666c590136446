//! The engine's one error type: where the problem is and what it is.

use std::fmt;

/// A rejected STIX input: where (bundle offset, object id, property) and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct Error {
    /// Where: `object 12 (indicator--…)`, `line 3 column 7`, `pattern byte 14` …
    pub location: Location,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// Where an error was found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// Index of the object in its bundle, when known.
    pub object_idx: Option<usize>,
    /// The object's `id`, when it could be read.
    pub object_id: Option<String>,
    /// The property (JSON path inside the object), when known.
    pub property: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(idx) = self.object_idx {
            parts.push(format!("object {idx}"));
        }
        if let Some(id) = &self.object_id {
            parts.push(id.clone());
        }
        if let Some(property) = &self.property {
            parts.push(format!("property {property}"));
        }
        if parts.is_empty() {
            f.write_str("input")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// What is wrong with a STIX input.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// Not JSON, or JSON of the wrong shape (serde's message names line and column).
    #[error("malformed JSON: {0}")]
    Json(String),
    /// A required property is absent.
    #[error("missing required property {0:?}")]
    MissingProperty(String),
    /// A property has a value the specification forbids.
    #[error("invalid value: {0}")]
    InvalidProperty(String),
    /// An identifier is not `<type>--<UUID>` or names the wrong type.
    #[error("invalid identifier: {0}")]
    Identifier(String),
    /// A timestamp is not RFC 3339 in UTC (`…Z`).
    #[error("invalid timestamp: {0}")]
    Timestamp(String),
    /// An indicator's pattern does not parse.
    #[error("invalid pattern: {0}")]
    Pattern(String),
    /// A new version breaks the versioning rules.
    #[error("versioning: {0}")]
    Versioning(String),
    /// A bound (`*_MAX`) was exceeded.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Markings cannot be mapped.
    #[error("marking: {0}")]
    Marking(String),
    /// A report payload is not a valid `cyber.stix` payload.
    #[error("payload: {0}")]
    Payload(String),
}

impl Error {
    /// An error at `location`.
    pub fn new(location: Location, kind: ErrorKind) -> Error {
        Error { location, kind }
    }

    /// An error with no location yet; callers add it with [`Error::at_object`].
    pub fn bare(kind: ErrorKind) -> Error {
        Error {
            location: Location::default(),
            kind,
        }
    }

    /// Sets the object index and id (keeping what is already known).
    pub fn at_object(mut self, object_idx: Option<usize>, object_id: Option<&str>) -> Error {
        if self.location.object_idx.is_none() {
            self.location.object_idx = object_idx;
        }
        if self.location.object_id.is_none() {
            self.location.object_id = object_id.map(|id| truncate(id, 120));
        }
        self
    }

    /// Sets the property.
    pub fn at_property(mut self, property: &str) -> Error {
        if self.location.property.is_none() {
            self.location.property = Some(truncate(property, 120));
        }
        self
    }
}

/// Shortens untrusted text before it goes into a message.
pub(crate) fn truncate(text: &str, chars_max: usize) -> String {
    if text.chars().count() <= chars_max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(chars_max).collect();
        short.push('…');
        short
    }
}

/// The error for an invalid property value.
pub(crate) fn invalid(property: &str, reason: impl Into<String>) -> Error {
    Error::bare(ErrorKind::InvalidProperty(reason.into())).at_property(property)
}
