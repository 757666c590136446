//! Typed errors of the loaders: what went wrong and where in the input.

/// What went wrong while loading zone data.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is larger than the loader's `*_BYTES_MAX`.
    TooLarge,
    /// The input is not valid JSON, or not the expected JSON shape.
    Json,
    /// The JSON is valid but not a TopoJSON Topology / GeoJSON FeatureCollection.
    Format,
    /// A geometry refers to an arc that does not exist.
    ArcIndex,
    /// A coordinate is missing, not finite, or out of range.
    Coordinate,
    /// A ring has fewer than 4 positions or is otherwise unusable.
    Ring,
    /// A count exceeds a `*_MAX` bound of this crate.
    Limit,
    /// A named object or property was not found.
    Missing,
}

/// A loader error: the kind, where (JSON line/column, object, feature index…) and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} at {location}: {message}")]
pub struct Error {
    /// The kind of failure.
    pub kind: ErrorKind,
    /// Where in the input: e.g. `"line 3 column 17"`, `"object countries, geometry 12 (id 392)"`.
    pub location: String,
    /// What was wrong.
    pub message: String,
}

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error {
            kind,
            location: location.into(),
            message: message.into(),
        }
    }

    pub(crate) fn json(err: &serde_json::Error) -> Error {
        Error::new(
            ErrorKind::Json,
            format!("line {} column {}", err.line(), err.column()),
            err.to_string(),
        )
    }
}
