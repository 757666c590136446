//! What a reader says about bad input: a typed error when it cannot go on,
//! diagnostics when it skipped something and went on.

use crate::event::Format;
use serde::{Deserialize, Serialize};

/// Why a file could not be read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not well-formed in its format (bad XML, bad JSON, a
    /// bulletin without its `DATA_TYPE` line).
    Malformed,
    /// A version of the format this crate does not read (QuakeML 1.0).
    UnsupportedVersion,
    /// None of QuakeML, IMS1.0 or GeoJSON.
    UnknownFormat,
    /// A bound was hit (input size, event count, nesting).
    LimitExceeded,
}

/// A file that could not be read: the format, the 1-based line, and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}, line {line}: {what}", format_name(*format))]
pub struct ParseError {
    /// The format being read (`None`: not recognised).
    pub format: Option<Format>,
    /// 1-based line of the fault (0: the whole input).
    pub line: usize,
    /// The kind of fault.
    pub kind: ErrorKind,
    /// What was wrong, in words.
    pub what: String,
}

fn format_name(format: Option<Format>) -> &'static str {
    match format {
        Some(Format::Quakeml) => "QuakeML",
        Some(Format::Ims1) => "IMS1.0",
        Some(Format::UsgsGeojson) => "GeoJSON",
        None => "input",
    }
}

impl ParseError {
    pub(crate) fn new(
        format: Option<Format>,
        line: usize,
        kind: ErrorKind,
        what: impl Into<String>,
    ) -> ParseError {
        ParseError {
            format,
            line,
            kind,
            what: what.into(),
        }
    }
}

/// Something a reader skipped or could not use, and went on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// 1-based line (0: not tied to a line).
    pub line: usize,
    /// What, in words.
    pub what: String,
}

/// What a reader returns: the events it could read and what it skipped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    /// The events, in file order.
    pub events: Vec<crate::event::Event>,
    /// What was skipped or doubtful.
    pub diagnostics: Vec<Diagnostic>,
}

/// Longest input a reader accepts, bytes (the largest real bulletins are a
/// few MB a day).
pub const INPUT_LEN_MAX: usize = 64 * 1024 * 1024;
/// Most events one input may hold.
pub const EVENTS_MAX: usize = 200_000;
/// Most magnitudes kept per event (the rest are reported and dropped).
pub const MAGNITUDES_PER_EVENT_MAX: usize = 64;

/// Refuses input longer than [`INPUT_LEN_MAX`].
pub(crate) fn check_len(format: Format, text: &str) -> Result<(), ParseError> {
    if text.len() > INPUT_LEN_MAX {
        return Err(ParseError::new(
            Some(format),
            0,
            ErrorKind::LimitExceeded,
            format!("input is {} bytes, more than {INPUT_LEN_MAX}", text.len()),
        ));
    }
    Ok(())
}
