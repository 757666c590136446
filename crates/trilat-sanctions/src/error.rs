//! Typed errors for fatal failures (a file that is not the format at all, a limit hit).

/// A fatal error: what went wrong and where.
#[derive(Debug, thiserror::Error)]
#[error("{kind} at {position}: {detail}")]
pub struct Error {
    /// What class of failure.
    pub kind: ErrorKind,
    /// Where (line, row, byte offset, field).
    pub position: String,
    /// Human-readable detail.
    pub detail: String,
}

/// Classes of fatal error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not in the expected format (broken XML, not a workbook …).
    #[error("malformed input")]
    Malformed,
    /// The format could not be recognised.
    #[error("unknown format")]
    UnknownFormat,
    /// A `*_max` bound was hit.
    #[error("limit exceeded")]
    LimitExceeded,
    /// The reading table or equivalence data is invalid.
    #[error("invalid table")]
    InvalidTable,
}

impl Error {
    /// Builds an error.
    pub fn new(kind: ErrorKind, position: impl Into<String>, detail: impl Into<String>) -> Error {
        Error {
            kind,
            position: position.into(),
            detail: detail.into(),
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;
