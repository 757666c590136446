//! The crate's typed error: what went wrong and where (line, record).

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not valid JSON, or a record lacks a field or has the wrong type.
    #[error("malformed record: {0}")]
    Malformed(String),
    /// A detection names a sensor that is not in the registry.
    #[error("unknown sensor {0:?}")]
    UnknownSensor(String),
    /// Two sensors share an id.
    #[error("duplicate sensor id {0:?}")]
    DuplicateSensor(String),
    /// A timestamp is not RFC 3339 UTC.
    #[error("bad time {0:?}: expected RFC 3339 in UTC, e.g. 2023-04-13T22:22:00Z")]
    BadTime(String),
    /// A detection is older than one already seen.
    #[error("time goes backwards: {this} is before the previous detection at {previous}")]
    NonMonotonicTime {
        /// The previous detection's time (RFC 3339).
        previous: String,
        /// This detection's time (RFC 3339).
        this: String,
    },
    /// A detection arrived later than the engine's reordering window allows: scans after it
    /// have already been fused (see `EngineParams::late_window_s`).
    #[error("late detection at {this}: only detections from {oldest} on are still fused in order (late window {window_s} s)")]
    LateDetection {
        /// This detection's time (RFC 3339).
        this: String,
        /// The oldest time still accepted: the window behind the newest detection, or the
        /// latest detection already fused if later (RFC 3339).
        oldest: String,
        /// The reordering window (s).
        window_s: f64,
    },
    /// A number is NaN or infinite.
    #[error("field {0} is not a finite number")]
    NotFinite(&'static str),
    /// A value is outside what any radar can measure or any sensor can be.
    #[error("impossible geometry: {0}")]
    ImpossibleGeometry(String),
    /// A bound was reached (`*_max`).
    #[error("limit reached: {what} (max {max})")]
    Limit {
        /// Which bound.
        what: &'static str,
        /// Its value.
        max: usize,
    },
    /// Simulation parameters that cannot be flown.
    #[error("cannot fly: {0}")]
    Unflyable(String),
}

/// An error with its location in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// 1-based line (or record) number in the input, when known.
    pub line: Option<usize>,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// An error without a location.
    pub fn new(kind: ErrorKind) -> Error {
        Error { line: None, kind }
    }

    /// An error at a 1-based line.
    pub fn at(line: usize, kind: ErrorKind) -> Error {
        Error {
            line: Some(line),
            kind,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
